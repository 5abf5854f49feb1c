"""Vendors and their customers: a class per service function, a test per rule."""
import pytest
from sqlalchemy import select

from app.errors import NotFound, PortalError, RuleViolation
from app.models import ActivityEvent, CustomerType, Member, Role, Seat, SeatStatus, Subscription
from app.security import hash_token
from app.services import organizations
from app.services.activity import Actor
from tests.factories import make_org, make_team


class TestCreateOrganization:
    def test_creates_with_seats_on_and_no_embedding(self, session, app):
        org = organizations.create_organization(session, "acme", "  Acme  ")
        assert (org.slug, org.name, org.embed_origins, org.features) == ("acme", "Acme", [], {"seats": True})

    @pytest.mark.parametrize("slug", ["Acme", "-acme", "acme-", "a_b", "", "x" * 65, "v1", "static"])
    def test_slug_must_be_a_usable_url_part(self, session, app, slug):
        with pytest.raises(PortalError) as exc:
            organizations.create_organization(session, slug, "Acme")
        assert exc.value.field == "slug"

    def test_slug_is_unique(self, session, app):
        organizations.create_organization(session, "acme", "Acme")
        with pytest.raises(PortalError) as exc:
            organizations.create_organization(session, "acme", "Other")
        assert "already exists" in exc.value.message

    @pytest.mark.parametrize("name", ["", "   ", "x" * 257])
    def test_name_is_required_and_short(self, session, app, name):
        with pytest.raises(PortalError) as exc:
            organizations.create_organization(session, "acme", name)
        assert exc.value.field == "name"


class TestGetOrganization:
    def test_unknown_slug_is_not_found(self, session, app):
        with pytest.raises(NotFound):
            organizations.get_organization(session, "nope")


class TestCreateToken:
    def test_all_scopes_by_default_and_only_a_hash_stored(self, session, app):
        row, raw = organizations.create_token(session, make_org())
        assert raw.startswith("polar_oat_") and row.token_hash == hash_token(raw)
        assert row.scopes == list(organizations.SCOPES)

    def test_duplicate_scopes_collapse(self, session, app):
        row, _ = organizations.create_token(session, make_org(), ["members:read", "members:read"])
        assert row.scopes == ["members:read"]

    def test_unknown_scope_is_refused(self, session, app):
        with pytest.raises(PortalError) as exc:
            organizations.create_token(session, make_org(), ["members:delete"])
        assert exc.value.field == "scope"


class TestRevokeToken:
    def test_revoked_at_once_and_twice_is_a_no_op(self, session, app):
        org = make_org()
        row, _ = organizations.create_token(session, org)
        first = organizations.revoke_token(session, org, row.id).revoked_at
        assert first is not None
        assert organizations.revoke_token(session, org, str(row.id)).revoked_at == first

    def test_another_organizations_token_is_not_found(self, session, app):
        row, _ = organizations.create_token(session, make_org())
        with pytest.raises(NotFound):
            organizations.revoke_token(session, make_org(), row.id)
        assert row.revoked_at is None


class TestCreateTeam:
    def test_a_team_customer_with_exactly_one_owner(self, session, app):
        team = organizations.create_team(session, make_org(), name="Globex",
                                         owner_email="Olivia@Example.com", owner_name="Olivia")
        assert team.type is CustomerType.TEAM
        [owner] = session.scalars(select(Member).where(Member.customer_id == team.id)).all()
        assert (owner.email, owner.role) == ("Olivia@Example.com", Role.OWNER)
        assert session.scalar(select(ActivityEvent.action)) == "team.created"

    def test_external_id_is_unique_in_the_organization(self, session, app):
        org = make_org()
        organizations.create_team(session, org, name="A", owner_email="a@example.com", external_id="x")
        with pytest.raises(RuleViolation) as exc:
            organizations.create_team(session, org, name="B", owner_email="b@example.com", external_id="x")
        assert exc.value.field == "external_id"
        organizations.create_team(session, make_org(), name="C", owner_email="c@example.com", external_id="x")

    @pytest.mark.parametrize("name", ["", "x" * 257])
    def test_name_is_required_and_short(self, session, app, name):
        with pytest.raises(RuleViolation):
            organizations.create_team(session, make_org(), name=name, owner_email="a@example.com")

    def test_owner_email_must_be_an_email(self, session, app):
        with pytest.raises(PortalError) as exc:
            organizations.create_team(session, make_org(), name="A", owner_email="nope")
        assert exc.value.field == "email"


class TestGetCustomer:
    def test_another_organizations_customer_is_not_found(self, session, app):
        team = make_team(make_org())
        with pytest.raises(NotFound):
            organizations.get_customer(session, make_org(), team.id)

    def test_a_malformed_id_is_not_found(self, session, app):
        with pytest.raises(NotFound):
            organizations.get_customer(session, make_org(), "not-a-uuid")


class TestSetSeatCount:
    def test_creates_then_updates_one_subscription(self, session, app):
        team = make_team(make_org())
        first = organizations.set_seat_count(session, team, 3, product_name="Pro")
        second = organizations.set_seat_count(session, team, 5)
        assert first.id == second.id and (second.seats, second.product_name) == (5, "Pro")
        assert session.scalar(select(Subscription.id).where(Subscription.customer_id == team.id))

    @pytest.mark.parametrize("seats", [-1, 1001, True, 2.5])
    def test_whole_number_from_0_to_1000(self, session, app, seats):
        with pytest.raises(RuleViolation) as exc:
            organizations.set_seat_count(session, make_team(make_org()), seats)
        assert exc.value.field == "seats"

    def test_cannot_go_below_seats_in_use(self, session, app):
        team = make_team(make_org(), seats=3)
        sub = session.scalar(select(Subscription).where(Subscription.customer_id == team.id))
        session.add_all([Seat(subscription_id=sub.id, email=f"{i}@example.com", status=status)
                         for i, status in enumerate([SeatStatus.PENDING, SeatStatus.CLAIMED,
                                                     SeatStatus.REVOKED])])
        session.flush()
        with pytest.raises(RuleViolation) as exc:
            organizations.set_seat_count(session, team, 1)
        assert "2 seats are in use" in exc.value.message
        assert organizations.set_seat_count(session, team, 2).seats == 2


class TestUpdateCustomer:
    def test_rename_and_metadata_are_logged(self, session, app):
        team = make_team(make_org(), name="Globex")
        organizations.update_customer(session, Actor.operator(), team, name="  Globex Inc ",
                                      metadata={"plan": "pro"})
        assert (team.name, team.customer_metadata) == ("Globex Inc", {"plan": "pro"})
        event = session.scalar(select(ActivityEvent).where(ActivityEvent.action == "customer.updated"))
        assert event.before == {"name": "Globex", "metadata": {}}
        assert event.after == {"name": "Globex Inc", "metadata": {"plan": "pro"}}

    def test_blank_name_keeps_the_name_and_no_change_logs_nothing(self, session, app):
        team = make_team(make_org(), name="Globex")
        organizations.update_customer(session, Actor.operator(), team, name="   ")
        assert team.name == "Globex"
        assert session.scalar(select(ActivityEvent).where(ActivityEvent.action == "customer.updated")) is None

    def test_name_is_at_most_256_characters(self, session, app):
        team = make_team(make_org(), name="Globex")
        with pytest.raises(RuleViolation) as exc:
            organizations.update_customer(session, Actor.operator(), team, name="x" * 257)
        assert exc.value.field == "name" and team.name == "Globex"
