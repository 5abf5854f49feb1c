"""The operator CLI (`flask --app wsgi …`): ids and tokens alone on the last stdout line, clear
errors with a non-zero exit code for bad input, never a traceback, `--help` for every command."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.models import (
    Customer,
    CustomerType,
    EmailStatus,
    Member,
    Organization,
    OrganizationToken,
    OutboxEmail,
    Role,
    Seat,
    SeatStatus,
    Subscription,
    UserGroup,
    UserGroupMember,
)
from app.security import hash_token
from app.services import mail, organizations
from tests.factories import make_org, make_team
from tests.support.web import csrf_token

ROOT = Path(__file__).resolve().parents[2]
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def invoke(*args):
        return runner.invoke(args=[str(a) for a in args])

    return invoke


def last_line(result) -> str:
    lines = result.stdout.strip().splitlines()
    assert lines, f"nothing on stdout: {result.output!r}"
    return lines[-1]


def assert_ok(result) -> None:
    assert result.exit_code == 0, result.output
    assert result.exception is None, result.exception


def assert_clear_error(result, message: str) -> None:
    """Non-zero exit, one readable "Error:" line on stderr, no traceback."""
    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert f"Error: {message}" in result.stderr, result.stderr


def fresh(session, model, **where):
    session.expire_all()
    return session.scalars(select(model).filter_by(**where)).all()


class TestOrgCreate:
    def test_prints_the_id_alone_on_the_last_line(self, cli, session):
        result = cli("org", "create", "acme", "--name", "Acme Analytics")
        assert_ok(result)
        org_id = last_line(result)
        assert UUID_RE.match(org_id)
        [org] = fresh(session, Organization, slug="acme")
        assert str(org.id) == org_id and org.name == "Acme Analytics"
        assert "http://portal.test/acme/login" in result.stdout

    def test_says_what_to_do_next(self, cli):
        result = cli("org", "create", "acme", "--name", "Acme")
        assert_ok(result)
        assert "Next: flask --app wsgi team create acme --name NAME --owner-email EMAIL" in result.stdout
        assert "flask --app wsgi token create acme" in result.stdout

    def test_duplicate_slug_is_a_clear_error(self, cli, session):
        assert_ok(cli("org", "create", "acme", "--name", "Acme"))
        result = cli("org", "create", "acme", "--name", "Other")
        assert_clear_error(result, "An organization with the slug 'acme' already exists.")
        assert len(fresh(session, Organization)) == 1

    @pytest.mark.parametrize("slug", ["Acme", "a b", "acme-", "v1", "static", "x" * 65])
    def test_unusable_slug_is_a_clear_error(self, cli, session, slug):
        result = cli("org", "create", slug, "--name", "Acme")
        assert_clear_error(result, f"{slug!r} is not a usable slug")
        assert fresh(session, Organization) == []

    def test_too_long_name_is_a_clear_error(self, cli, session):
        result = cli("org", "create", "acme", "--name", "N" * 300)
        assert_clear_error(result, "The organization needs a name of at most 256 characters.")
        assert fresh(session, Organization) == []

    def test_blank_name_is_a_clear_error_that_says_only_what_is_missing(self, cli, session):
        result = cli("org", "create", "acme", "--name", "   ")
        assert_clear_error(result, "The organization needs a name.")
        assert "256" not in result.output
        assert fresh(session, Organization) == []

    def test_missing_name_is_a_usage_error(self, cli):
        result = cli("org", "create", "acme")
        assert result.exit_code == 2
        assert "Missing option '--name'" in result.stderr


class TestOrgList:
    def test_lists_each_organization_with_its_sign_in_page(self, app, cli):
        make_org("acme", "Acme Analytics")
        make_org("initech", "Initech")
        result = cli("org", "list")
        assert_ok(result)
        lines = result.stdout.strip().splitlines()
        assert [line.split()[0] for line in lines] == ["acme", "initech"]
        assert lines[0].endswith(f"{app.config['BASE_URL']}/acme/login")

    def test_none_yet_says_how_to_create_one(self, cli):
        result = cli("org", "list")
        assert_ok(result)
        assert "No organizations yet" in result.stdout and "org create" in result.stdout


class TestOrgAllowEmbed:
    def test_adds_an_origin_and_keeps_the_others(self, cli, session):
        org = make_org("acme")
        assert_ok(cli("org", "allow-embed", "acme", "https://app.example.com"))
        result = cli("org", "allow-embed", "acme", "http://localhost:3000/")
        assert_ok(result)
        assert "https://app.example.com http://localhost:3000" in result.stdout
        assert fresh(session, Organization, id=org.id)[0].embed_origins == [
            "https://app.example.com", "http://localhost:3000"]

    def test_remove_takes_one_out(self, cli, session):
        make_org("acme")
        cli("org", "allow-embed", "acme", "https://a.example", "https://b.example")
        assert_ok(cli("org", "allow-embed", "acme", "--remove", "https://A.example/"))
        assert fresh(session, Organization, slug="acme")[0].embed_origins == ["https://b.example"]

    def test_removing_an_origin_not_allowed_is_a_clear_error(self, cli, session):
        make_org("acme")
        cli("org", "allow-embed", "acme", "https://a.example")
        result = cli("org", "allow-embed", "acme", "--remove", "https://typo.example")
        assert_clear_error(result, "https://typo.example is not an allowed origin.")
        assert fresh(session, Organization, slug="acme")[0].embed_origins == ["https://a.example"]

    def test_replace_and_none(self, cli, session):
        make_org("acme")
        cli("org", "allow-embed", "acme", "https://a.example", "https://b.example")
        assert_ok(cli("org", "allow-embed", "acme", "--replace", "https://c.example"))
        assert fresh(session, Organization, slug="acme")[0].embed_origins == ["https://c.example"]
        result = cli("org", "allow-embed", "acme", "--none")
        assert_ok(result)
        assert "Allowed to frame the portal: nobody" in result.stdout
        assert fresh(session, Organization, slug="acme")[0].embed_origins == []

    def test_an_origin_that_would_let_anyone_frame_the_portal_is_refused(self, cli, app, session):
        make_org("acme")
        cli("org", "allow-embed", "acme", "https://a.example")
        result = cli("org", "allow-embed", "acme", "https://b.example *")
        assert_clear_error(result, "'https://b.example *' is not an origin")
        assert fresh(session, Organization, slug="acme")[0].embed_origins == ["https://a.example"]
        csp = app.test_client().get("/acme/login").headers["Content-Security-Policy"]
        assert "*" not in csp

    def test_conflicting_flags_are_refused(self, cli):
        make_org("acme")
        result = cli("org", "allow-embed", "acme", "--remove", "--replace", "https://a.example")
        assert result.exit_code == 2
        assert "Use only one of --remove, --replace and --none." in result.stderr


class TestTokenCreate:
    @pytest.fixture
    def org(self, app):
        return make_org("acme", "Acme")

    def test_all_scopes_by_default_shown_once_and_stored_as_a_hash(self, cli, session, org):
        result = cli("token", "create", "acme")
        assert_ok(result)
        raw = last_line(result)
        assert raw.startswith("polar_oat_") and len(raw) > 40
        [row] = fresh(session, OrganizationToken)
        assert row.token_hash == hash_token(raw)
        assert sorted(row.scopes) == sorted(organizations.SCOPES)
        assert raw not in str([row.token_hash, row.name, row.scopes])
        assert "cannot be shown again" in result.stderr

    def test_chosen_scopes(self, cli, session, org):
        result = cli("token", "create", "acme", "--scope", "members:read", "--scope", "customer_seats:write")
        assert_ok(result)
        [row] = fresh(session, OrganizationToken)
        assert row.scopes == ["members:read", "customer_seats:write"]
        assert row.token_hash == hash_token(last_line(result))

    def test_each_token_is_new(self, cli, org):
        assert last_line(cli("token", "create", "acme")) != last_line(cli("token", "create", "acme"))

    def test_unknown_scope_is_a_clear_error(self, cli, session, org):
        result = cli("token", "create", "acme", "--scope", "members:delete")
        assert_clear_error(result, "Unknown scope 'members:delete'")
        assert fresh(session, OrganizationToken) == []

    def test_unknown_organization_is_a_clear_error(self, cli):
        assert_clear_error(cli("token", "create", "nope"), "No organization called 'nope'.")


class TestTokenListAndRevoke:
    @pytest.fixture
    def org(self, app):
        return make_org("acme", "Acme")

    def test_list_shows_tokens_without_their_secret(self, cli, org):
        raw = last_line(cli("token", "create", "acme", "--name", "ci", "--scope", "members:read"))
        result = cli("token", "list", "acme")
        assert_ok(result)
        assert "active" in result.stdout and "ci" in result.stdout and "members:read" in result.stdout
        assert raw not in result.stdout

    def test_list_of_an_organization_without_tokens_says_how_to_make_one(self, cli, org):
        assert "token create acme" in cli("token", "list", "acme").stdout

    def test_revoke_stops_the_token_at_once(self, cli, app, session, org):
        raw = last_line(cli("token", "create", "acme"))
        [row] = fresh(session, OrganizationToken)
        headers = {"Authorization": f"Bearer {raw}"}
        assert app.test_client().get("/v1/portal-settings", headers=headers).status_code == 200
        result = cli("token", "revoke", "acme", row.id)
        assert_ok(result)
        assert last_line(result) == str(row.id)
        assert app.test_client().get("/v1/portal-settings", headers=headers).status_code == 401
        assert "revoked" in cli("token", "list", "acme").stdout
        assert_ok(cli("token", "revoke", "acme", row.id))  # twice: no change, no error

    def test_revoking_twice_says_it_was_already_revoked(self, cli, session, org):
        cli("token", "create", "acme")
        [row] = fresh(session, OrganizationToken)
        assert "is revoked; requests with it now get 401" in cli("token", "revoke", "acme", row.id).stdout
        again = cli("token", "revoke", "acme", row.id)
        assert_ok(again)
        assert f"Token {row.id} was already revoked on " in again.stdout
        assert last_line(again) == str(row.id)

    def test_another_organizations_token_cannot_be_revoked(self, cli, session, org):
        make_org("globex", "Globex")
        cli("token", "create", "globex")
        [row] = fresh(session, OrganizationToken)
        assert_clear_error(cli("token", "revoke", "acme", row.id), "Token not found.")
        assert fresh(session, OrganizationToken)[0].revoked_at is None

    def test_a_bad_id_is_a_clear_error(self, cli, org):
        assert_clear_error(cli("token", "revoke", "acme", "not-an-id"), "Token not found.")


class TestTeamCreate:
    @pytest.fixture
    def org(self, app):
        return make_org("acme", "Acme")

    def test_creates_a_team_with_its_owner_and_prints_the_customer_id(self, cli, session, org):
        result = cli("team", "create", "acme", "--name", "Globex", "--owner-email",
                     "Olivia@Globex.example", "--owner-name", "Olivia", "--external-id", "globex")
        assert_ok(result)
        customer_id = last_line(result)
        assert UUID_RE.match(customer_id)
        [team] = fresh(session, Customer)
        assert str(team.id) == customer_id
        assert team.type is CustomerType.TEAM and team.external_id == "globex"
        [owner] = fresh(session, Member, customer_id=team.id)
        assert owner.role is Role.OWNER and owner.email == "Olivia@Globex.example"

    def test_says_where_the_owner_signs_in_and_how_to_give_seats(self, cli, org):
        result = cli("team", "create", "acme", "--name", "Globex", "--owner-email", "olivia@globex.example")
        assert_ok(result)
        customer_id = last_line(result)
        assert "olivia@globex.example signs in at http://portal.test/acme/login" in result.stdout
        assert f"flask --app wsgi seats set {customer_id} --seats N" in result.stdout

    def test_bad_email_is_a_clear_error(self, cli, session, org):
        result = cli("team", "create", "acme", "--name", "Globex", "--owner-email", "olivia-at-globex")
        assert_clear_error(result, "Enter a valid email address")
        assert fresh(session, Customer) == []

    def test_duplicate_external_id_is_a_clear_error(self, cli, session, org):
        assert_ok(cli("team", "create", "acme", "--name", "Globex", "--owner-email", "a@x.example",
                      "--external-id", "globex"))
        result = cli("team", "create", "acme", "--name", "Globex 2", "--owner-email", "b@x.example",
                     "--external-id", "globex")
        assert_clear_error(result, "A customer with the external id 'globex' already exists.")
        assert len(fresh(session, Customer)) == 1

    def test_unknown_organization_is_a_clear_error(self, cli):
        result = cli("team", "create", "nope", "--name", "Globex", "--owner-email", "a@x.example")
        assert_clear_error(result, "No organization called 'nope'.")

    def test_empty_name_is_a_clear_error(self, cli, org):
        result = cli("team", "create", "acme", "--name", "  ", "--owner-email", "a@x.example")
        assert_clear_error(result, "A team needs a name")


class TestTeamList:
    def test_prints_id_type_members_external_id_and_name(self, cli, session):
        org = make_org("acme")
        globex = make_team(org, name="Globex", external_id="globex",
                           members={"maya@example.com": Role.MEMBER})
        make_team(make_org("other"), name="Not ours")
        result = cli("team", "list", "acme")
        assert_ok(result)
        header, row, *rest = result.stdout.strip().splitlines()
        assert rest == [] and header.split()[:2] == ["ID", "TYPE"]
        assert row.split() == [str(globex.id), "team", "2", "globex", "Globex"]

    def test_an_organization_without_customers_says_how_to_add_one(self, cli):
        make_org("acme")
        result = cli("team", "list", "acme")
        assert_ok(result)
        assert "No customers yet" in result.stdout and "team create acme" in result.stdout

    def test_an_unknown_organization_is_a_clear_error(self, cli):
        assert_clear_error(cli("team", "list", "nope"), "No organization")


class TestSeatsSet:
    @pytest.fixture
    def team(self, app):
        return make_team(make_org("acme", "Acme"), owner="olivia@example.com")

    def test_creates_then_updates_the_subscription_and_prints_its_id(self, cli, session, team):
        result = cli("seats", "set", team.id, "--seats", "10", "--product", "Acme Pro")
        assert_ok(result)
        sub_id = last_line(result)
        [sub] = fresh(session, Subscription)
        assert str(sub.id) == sub_id and sub.seats == 10 and sub.product_name == "Acme Pro"

        result = cli("seats", "set", team.id, "--seats", "12")
        assert_ok(result)
        assert last_line(result) == sub_id
        [sub] = fresh(session, Subscription)
        assert sub.seats == 12 and sub.product_name == "Acme Pro"

    def test_refuses_to_go_below_the_seats_in_use(self, cli, session, team):
        sub_id = last_line(cli("seats", "set", team.id, "--seats", "3"))
        for email, status in (("a@example.com", SeatStatus.PENDING),
                              ("b@example.com", SeatStatus.CLAIMED),
                              ("c@example.com", SeatStatus.REVOKED)):
            session.add(Seat(subscription_id=uuid.UUID(sub_id), email=email, status=status))
        session.commit()
        result = cli("seats", "set", team.id, "--seats", "1")
        assert_clear_error(result, "2 seats are in use")
        assert fresh(session, Subscription)[0].seats == 3
        assert_ok(cli("seats", "set", team.id, "--seats", "2"))

    def test_bad_uuid_is_a_clear_error(self, cli, session):
        result = cli("seats", "set", "not-a-uuid", "--seats", "3")
        assert_clear_error(result, "'not-a-uuid' is not a valid id (expected a UUID).")

    def test_unknown_customer_is_a_clear_error(self, cli, app):
        missing = uuid.uuid4()
        assert_clear_error(cli("seats", "set", missing, "--seats", "3"), f"No customer with id {missing}.")

    @pytest.mark.parametrize("command", [["seats", "set", "{id}", "--seats", "3"],
                                         ["team", "fill", "{id}", "--count", "1"]], ids=" ".join)
    def test_an_unknown_customer_says_where_to_find_the_ids(self, cli, app, command):
        missing = uuid.uuid4()
        assert_clear_error(cli(*[part.format(id=missing) for part in command]),
                           f"No customer with id {missing}. List them with: flask --app wsgi team list ORG_SLUG")

    @pytest.mark.parametrize("seats", ["-1", "1001", "ten"])
    def test_out_of_range_seats_is_a_usage_error(self, cli, session, team, seats):
        result = cli("seats", "set", team.id, "--seats", seats)
        assert result.exit_code == 2
        assert "Invalid value for '--seats'" in result.stderr
        assert "Traceback" not in result.output
        assert fresh(session, Subscription) == []


@pytest.mark.parametrize("command", [["seats", "set", "{id}", "--seats", "ten"],
                                     ["team", "fill", "{id}", "--count", "ten"],
                                     ["webhooks", "deliveries", "acme", "--limit", "ten"],
                                     ["demo", "--no-serve", "--port", "ten"]], ids=" ".join)
def test_a_count_that_is_not_a_number_says_so_plainly(cli, command):
    """Not click's "'ten' is not a valid integer range": the reader gave no range."""
    result = cli(*[part.format(id=uuid.uuid4()) for part in command])
    assert result.exit_code == 2
    assert "'ten' is not a valid integer." in result.stderr
    assert "range" not in result.stderr.splitlines()[-1]

class TestMailDeliver:
    def test_delivers_queued_mail(self, app, cli, session, mailbox):
        app.config["MAIL_DELIVER_ON_COMMIT"] = False
        org = make_org("acme", "Acme")
        mail.queue_email(session, to="maya@example.com", kind="signin", subject="Sign in to Acme",
                         template="signin", organization=org, link="http://x/y", code="ABCD2345",
                         minutes=15)
        session.commit()
        assert mailbox.to("maya@example.com") == []
        result = cli("mail", "deliver")
        assert_ok(result)
        assert last_line(result) == "Sent 1, failed 0, retrying later 0."
        assert mailbox.wait_for("maya@example.com")
        assert fresh(session, OutboxEmail)[0].status is EmailStatus.SENT

    def test_nothing_to_deliver(self, cli):
        result = cli("mail", "deliver")
        assert_ok(result)
        assert last_line(result) == "Sent 0, failed 0, retrying later 0."


class TestDemo:
    def test_runs_twice_safely_and_prints_two_working_links(self, app, cli, session):
        first = cli("demo", "--no-serve")
        assert_ok(first)
        counts = {m: session.scalar(select(func.count()).select_from(m))
                  for m in (Organization, Customer, Member, Subscription, Seat)}
        assert counts[Organization] == 1 and counts[Customer] >= 1 and counts[Subscription] >= 1
        assert counts[Member] >= 4

        second = cli("demo", "--no-serve")
        assert_ok(second)
        session.expire_all()
        assert {m: session.scalar(select(func.count()).select_from(m)) for m in counts} == counts

        links = re.findall(r"http://127\.0\.0\.1:5000/acme/login/verify\?token=\S+", second.stdout)
        assert len(links) == 3
        assert set(links).isdisjoint(re.findall(r"\S+token=\S+", first.stdout))
        for email in ("olivia@globex.example", "ben@globex.example", "maya@globex.example"):
            assert email in second.stdout

        # Clicking a printed link signs the owner in.
        client = app.test_client()
        path = links[0].removeprefix("http://127.0.0.1:5000")
        assert client.get(path).status_code == 200
        response = client.post("/acme/login/verify", follow_redirects=True, data={
            "token": path.split("token=")[1], "csrf_token": csrf_token(client, path)})
        assert response.request.path == "/acme/team"
        assert "Olivia" in response.get_data(as_text=True)

    def test_the_demo_seats_tell_one_story(self, app, cli, session):
        """The seats page shows when each invitation was sent: none after its seat was revoked
        or its link expired (Ben's seat read 'Revoked 1 day ago, sent 3 minutes ago')."""
        from app.models import Seat

        assert_ok(cli("demo", "--no-serve"))
        seen = session.execute(select(Seat.email, Seat.invitation_sent_at, Seat.revoked_at,
                                      Seat.invitation_expires_at)).all()
        revoked = [row for row in seen if row.revoked_at is not None]
        assert [row.email for row in revoked] == ["ben@globex.example"]
        for row in seen:
            if row.invitation_sent_at is None:
                continue
            if row.revoked_at is not None:
                assert row.invitation_sent_at < row.revoked_at, row.email
            if row.invitation_expires_at is not None:
                assert row.invitation_sent_at < row.invitation_expires_at, row.email

    def test_the_demo_team_has_user_groups_to_show(self, app, cli, session):
        assert_ok(cli("demo", "--no-serve"))
        rows = session.execute(
            select(UserGroup.name, func.count(UserGroupMember.member_id))
            .join(UserGroupMember, UserGroupMember.group_id == UserGroup.id)
            .group_by(UserGroup.name)).all()
        assert dict(rows) == {"Engineering": 3, "Finance": 1}
        assert_ok(cli("demo", "--no-serve"))  # a second run adds no second set
        assert session.scalar(select(func.count()).select_from(UserGroup)) == 2

    def test_every_run_prints_a_working_claim_link_for_the_invitee(self, app, cli):
        claim = re.compile(r"http://127\.0\.0\.1:5000(/acme/claim\?token=\S+)")
        first = claim.findall(cli("demo", "--no-serve").stdout)
        second = claim.findall(cli("demo", "--no-serve").stdout)
        assert len(set(first)) == 1, "the first run's emailed link is the one it prints"
        assert len(second) == 1 and second[0] not in first
        client = app.test_client()
        assert client.get(first[0]).status_code == 410, "the earlier link is replaced"
        page = client.get(second[0])
        assert page.status_code == 200 and "tom@globex.example" in page.get_data(as_text=True)
        response = client.post("/acme/claim", follow_redirects=True, data={
            "token": second[0].split("token=")[1], "csrf_token": csrf_token(client, second[0])})
        assert response.status_code == 200
        assert "tom@globex.example" in response.get_data(as_text=True)
        assert "Claim the seat" not in cli("demo", "--no-serve").stdout, "a claimed seat has no link"

    def test_the_first_runs_emailed_invitation_is_the_link_it_prints(self, app, cli, mailbox):
        """The invitation email (printed in the terminal without SMTP_URL) and the printed claim
        link are one link: the email's used to be replaced at once, a 410 to whoever opened it."""
        printed = re.findall(r"http://127\.0\.0\.1:5000(/acme/claim\?token=\S+)",
                             cli("demo", "--no-serve").stdout)
        body = mailbox.wait_for("tom@globex.example").get_body(("plain",)).get_content()
        emailed = re.findall(r"http://127\.0\.0\.1:5000(/acme/claim\?token=\S+)", body)
        assert emailed == printed
        assert app.test_client().get(emailed[0]).status_code == 200

    def test_the_docs_name_only_people_the_demo_team_has(self):
        """docs/api.md tells readers which members the demo team has; they must exist there."""
        from app.demo import TEAM

        docs = (ROOT / "docs" / "api.md").read_text() + (ROOT / "README.md").read_text()
        named = set()
        for paragraph in re.findall(r"demo team.*?(?:\n\n|$)", docs, re.S):
            named |= set(re.findall(r"`([\w.+-]+@[\w.-]+)`", paragraph))
        assert named, "the docs no longer say who is in the demo team"
        assert named <= {email for _name, email, _role in TEAM}

    def test_links_of_the_first_run_stop_working_after_the_second(self, app, cli):
        first = re.findall(r"http://127\.0\.0\.1:5000(\S+token=\S+)", cli("demo", "--no-serve").stdout)
        cli("demo", "--no-serve")
        assert app.test_client().get(first[0]).status_code == 410


    def test_refuses_to_seed_a_production_database(self, app, cli, session):
        """PORTAL_ENV=production (an env file loaded on a server): no demo data, no dev server."""
        app.config["PORTAL_ENV"] = "production"
        result = cli("demo", "--no-serve")
        assert_clear_error(result, "The demo is for development")
        assert "token=" not in result.stdout
        assert fresh(session, Organization) == []

    def test_an_existing_organization_with_the_demo_slug_is_a_clear_error(self, cli, session):
        assert_ok(cli("org", "create", "acme", "--name", "Our own Acme"))
        result = cli("demo", "--no-serve")
        assert_clear_error(result, "This database already has an organization 'acme' without the demo team.")
        assert "token=" not in result.stdout


COMMANDS = [
    ["org"], ["org", "create"], ["token"], ["token", "create"], ["team"], ["team", "create"],
    ["org", "list"], ["org", "allow-embed"], ["team", "list"], ["seats"], ["seats", "set"], ["mail"], ["mail", "deliver"], ["demo"], ["db", "upgrade"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help(cli, command):
    result = cli(*command, "--help")
    assert_ok(result)
    assert result.stdout.startswith("Usage: ")
    assert "--help" in result.stdout


def test_help_lists_the_operator_commands(cli):
    result = cli("--help")
    for name in ("org", "token", "team", "seats", "mail", "demo", "db"):
        assert re.search(rf"^\s+{name}\s", result.stdout, re.M), name


def test_the_real_entry_point(tmp_path):
    """`flask --app wsgi …` in a fresh process and a fresh SQLite database, as an operator runs it."""
    env = {**os.environ, "INSTANCE_PATH": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/cli.db",
           "PYTHONPATH": str(ROOT)}
    env.pop("SMTP_URL", None)
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]

    def run(*args):
        return subprocess.run([*flask, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=60)

    assert run("db", "upgrade").returncode == 0
    created = run("org", "create", "acme", "--name", "Acme")
    assert created.returncode == 0, created.stderr
    assert UUID_RE.match(created.stdout.strip().splitlines()[-1])
    duplicate = run("org", "create", "acme", "--name", "Acme")
    assert duplicate.returncode == 1
    assert duplicate.stderr.strip() == "Error: An organization with the slug 'acme' already exists."
    assert "Traceback" not in duplicate.stderr


@pytest.mark.postgres
def test_a_value_the_database_refuses_is_not_blamed_on_the_schema(pg_app):
    """PostgreSQL enforces column lengths; what it refuses is reported as such."""
    from app.extensions import db

    runner = pg_app.test_cli_runner()
    assert_ok(runner.invoke(args=["org", "create", "acme", "--name", "Acme"]))
    result = runner.invoke(args=["token", "create", "acme", "--name", "N" * 300])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "Error: The database refused this: value too long" in result.stderr
    assert "schema" not in result.stderr
    assert fresh(db.session, OrganizationToken) == []


def _fresh_process(tmp_path, database_url):
    env = {**os.environ, "INSTANCE_PATH": str(tmp_path), "DATABASE_URL": database_url,
           "PYTHONPATH": str(ROOT)}
    env.pop("SMTP_URL", None)

    def run(*args):
        return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=60)

    return run


@pytest.mark.parametrize("command", [["webhooks", "deliver"], ["webhooks", "deliver", "--once"],
                                     ["org", "list"]], ids=" ".join)
def test_a_database_without_the_schema_says_to_run_db_upgrade(tmp_path, command):
    run = _fresh_process(tmp_path, f"sqlite:///{tmp_path}/empty.db")
    result = run(*command)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "Error: Database error: OperationalError. Is the schema up to date? "
        "Run: flask --app wsgi db upgrade")


def test_worker_once_on_a_database_without_the_schema_ends_with_what_to_do(tmp_path):
    run = _fresh_process(tmp_path, f"sqlite:///{tmp_path}/empty.db")
    result = run("worker", "--once")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr, result.stderr
    assert "no such table" in result.stderr  # the log line names the cause
    assert result.stderr.strip().splitlines()[-1] == (
        "Error: The delivery pass failed (the reason is in the log line above). "
        "Is the schema up to date? Run: flask --app wsgi db upgrade")


@pytest.mark.parametrize("command", [["org", "list"], ["webhooks", "deliver"], ["mail", "deliver"],
                                     ["worker", "--once"]],
                         ids=" ".join)
def test_a_database_that_cannot_be_reached_is_not_blamed_on_the_schema(tmp_path, command):
    run = _fresh_process(tmp_path, f"sqlite:///{tmp_path}/no-such-dir/portal.db")
    result = run(*command)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: Cannot reach the database (") and last.endswith("Check DATABASE_URL.")
    assert "db upgrade" not in result.stderr


@pytest.mark.parametrize("port", ["0", "-1", "65536", "99999"])
def test_the_demo_refuses_a_port_it_cannot_listen_on(cli, port):
    """99999 used to print links to :99999 and then serve on another port (99999 - 65536)."""
    result = cli("demo", "--no-serve", "--port", port)
    assert result.exit_code == 2
    assert "Invalid value for '--port'" in result.stderr
    assert "token=" not in result.stdout


@pytest.mark.parametrize("command, text", [
    (["worker"], "webhook events"),
    (["webhooks", "deliveries"], "How many attempts to show"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else v)
def test_help_says_what_the_command_and_each_option_do(cli, command, text):
    result = cli(*command, "--help")
    assert_ok(result)
    assert text in " ".join(result.stdout.split())


def test_the_readme_counts_the_optional_tools_it_lists():
    """'`.ci/run` installs all N' matches the list of optional tools above it."""
    readme = (ROOT / "README.md").read_text()
    listed = readme.split("unless these are available:", 1)[1].split("With `CI=true`", 1)[0]
    bullets = re.findall(r"^- ", listed, re.M)
    words = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
    claimed = re.search(r"`\.ci/run` installs all (\w+)", readme).group(1)
    assert words[claimed] == len(bullets), (claimed, len(bullets))
    assert "\n\n" not in listed.strip(), "the list is one list"
