"""The seats page: status codes, fragments, HX-* headers, CSRF, 403 for plain members and 404
for another team's ids. Mail goes through the outbox to the real SMTP sink."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.errors import InvalidInvitation
from app.models import ActivityEvent, Role, Seat, SeatStatus, Subscription, utcnow
from app.services import organizations, seats
from app.services.activity import Actor
from tests.factories import make_individual, make_org, make_team, member
from tests.support.smtp import first_link
from tests.support.web import HX, csrf_token, sign_in_client

PAGE = "/acme/seats"


@pytest.fixture
def org(app):
    return make_org("acme", "Acme Analytics")


@pytest.fixture
def team(org):
    return make_team(org, name="Globex", owner="olivia@example.com", seats=2, members={
        "ben@example.com": Role.BILLING_MANAGER,
        "maya@example.com": Role.MEMBER,
    })


@pytest.fixture
def other_team(org):
    return make_team(org, name="Initech", owner="zed@other.example", seats=2)


def signed_in(client, team, email):
    sign_in_client(client, member(team, email))
    return client


@pytest.fixture
def owner(client, team):
    return signed_in(client, team, "olivia@example.com")


def post(client, url, data=None, *, htmx=False):
    token = csrf_token(client, PAGE if "acme" in url else url)
    headers = {**HX, "X-CSRFToken": token} if htmx else {}
    return client.post(url, data={**(data or {}), "csrf_token": token}, headers=headers)


def give(session, team, sub, email):
    """A seat assigned through the service, as another tab of the owner would."""
    seat = seats.assign_seat(session, Actor(member=member(team, "olivia@example.com")), sub,
                             email=email, base_url="http://portal.test")
    token = seat.invitation_token
    session.commit()
    return seat, token


def fresh(session, seat_id):
    session.rollback()
    return session.get(Seat, seat_id)


def text(response) -> str:
    return " ".join(response.get_data(as_text=True).split())


class TestSeatsPage:
    def test_owner_sees_counter_assign_form_and_seats(self, owner, session, team, sub):
        give(session, team, sub, "new@example.com")
        response = owner.get(PAGE)
        body = text(response)
        assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
        assert "1 of 2 seats used · 1 pending" in body
        assert f'id="assign-{sub.id}"' in body and "Assign seat" in body
        assert "new@example.com" in body and "Expires in 7 days" in body
        assert "Sent just now" in body and ">Pending<" in body

    def test_billing_manager_may_use_it(self, client, team):
        assert signed_in(client, team, "ben@example.com").get(PAGE).status_code == 200

    def test_plain_member_gets_403(self, client, team):
        response = signed_in(client, team, "maya@example.com").get(PAGE)
        assert response.status_code == 403 and "owner and billing managers" in text(response)

    def test_individual_customer_is_told_it_needs_a_team_plan(self, client, org):
        solo = make_individual(org)
        response = signed_in(client, solo, "solo@example.com").get(PAGE)
        assert response.status_code == 403 and "team" in text(response).lower()

    def test_signed_out_visitor_is_sent_to_sign_in(self, client, team):
        response = client.get(PAGE)
        assert response.status_code == 303 and "/acme/login" in response.headers["Location"]

    def test_manager_sees_the_seats_link_in_the_navigation(self, owner, team):
        assert 'href="/acme/seats" aria-current="page">Seats</a>' in text(owner.get(PAGE))

    def test_expired_claimed_and_revoked_seats_say_so(self, owner, session, team, sub, org):
        organizations.set_seat_count(session, team, 5)
        expired, _ = give(session, team, sub, "late@example.com")
        expired.invitation_expires_at = utcnow() - timedelta(days=1)
        _, token = give(session, team, sub, "in@example.com")
        seats.claim_seat(session, token)
        gone, _ = give(session, team, sub, "gone@example.com")
        seats.revoke_seat(session, Actor(member=member(team, "olivia@example.com")), gone)
        session.commit()
        body = text(owner.get(PAGE))
        assert "Expired</span> <span class=\"muted\">1 day ago" in body
        assert ">Claimed<" in body and "Claimed just now" in body
        assert ">Revoked<" in body and "Revoked just now" in body
        assert "2 of 5 seats used · 1 pending" in body

    def test_a_team_without_subscription_is_told_so(self, client, org):
        bare = make_team(org, name="Bare", owner="b@bare.example")
        body = text(signed_in(client, bare, "b@bare.example").get(PAGE))
        assert "no seat subscription yet" in body


class TestAssign:
    def url(self, sub):
        return f"/acme/seats/subscriptions/{sub.id}/assign"

    def test_without_javascript_redirects_back_with_a_message(self, owner, session, team, sub, mailbox):
        response = post(owner, self.url(sub), {"email": "new@example.com"})
        assert response.status_code == 303 and response.headers["Location"].endswith(PAGE)
        assert "Invitation sent to new@example.com." in text(owner.get(PAGE))
        seat = session.scalars(select(Seat)).one()
        assert seat.status is SeatStatus.PENDING and seat.email == "new@example.com"
        link = first_link(mailbox.wait_for("new@example.com"), "/claim")
        assert link.startswith("http://portal.test/acme/claim?token=")

    def test_htmx_gets_the_table_and_a_seats_changed_event(self, owner, session, team, sub):
        response = post(owner, self.url(sub), {"email": "new@example.com"}, htmx=True)
        body = text(response)
        assert response.status_code == 200
        assert response.headers["HX-Trigger"] == "seats-changed"
        assert body.startswith(f'<div id="seat-table-{sub.id}"') and "new@example.com" in body
        assert "<html" not in body and "Invitation sent to new@example.com." in body  # toast, OOB
        assert 'hx-swap-oob="beforeend"' in body
        # A fresh, empty assign form travels out of band.
        assert f'<div id="assign-{sub.id}" class="assign" hx-swap-oob="outerHTML"' in body
        assert 'value="new@example.com"' not in body

    def test_bad_email_is_422_with_the_form_retargeted(self, owner, session, team, sub):
        response = post(owner, self.url(sub), {"email": "not-an-email"}, htmx=True)
        body = text(response)
        assert response.status_code == 422 and "HX-Trigger" not in response.headers
        assert response.headers["HX-Retarget"] == f"#assign-{sub.id}"
        assert response.headers["HX-Reswap"] == "outerHTML"
        assert body.startswith(f'<div id="assign-{sub.id}"') and "Enter a valid email address." in body
        assert 'value="not-an-email"' in body and 'aria-invalid="true"' in body
        assert session.scalar(select(func.count(Seat.id))) == 0

    def test_bad_email_without_javascript_re_renders_the_page(self, owner, team, sub):
        response = post(owner, self.url(sub), {"email": ""})
        assert response.status_code == 422 and "Enter the email address" in text(response)
        assert "<html" in response.get_data(as_text=True)

    def test_duplicate_email_is_an_inline_error(self, owner, session, team, sub):
        give(session, team, sub, "dup@example.com")
        response = post(owner, self.url(sub), {"email": "DUP@example.com"}, htmx=True)
        assert response.status_code == 422 and "already has a seat" in text(response)

    def test_full_subscription_refuses_and_the_form_is_disabled(self, owner, session, team, sub):
        give(session, team, sub, "a@example.com")
        give(session, team, sub, "b@example.com")
        body = text(owner.get(PAGE))
        assert "disabled aria-describedby" in body and "All 2 seats are in use" in body
        response = post(owner, self.url(sub), {"email": "c@example.com"}, htmx=True)
        assert response.status_code == 422 and "No seat is free" in text(response)
        assert session.scalar(select(func.count(Seat.id))) == 2

    def test_plain_member_gets_403(self, client, session, team, sub):
        response = post(signed_in(client, team, "maya@example.com"), self.url(sub),
                        {"email": "x@example.com"})
        assert response.status_code == 403
        assert session.scalar(select(func.count(Seat.id))) == 0

    def test_another_teams_subscription_is_404(self, owner, session, other_team):
        theirs = session.scalars(select(Subscription).where(Subscription.customer_id == other_team.id)).one()
        assert post(owner, self.url(theirs), {"email": "x@example.com"}).status_code == 404
        assert owner.get(f"/acme/seats/subscriptions/{theirs.id}/counter", headers=HX).status_code == 404
        assert owner.get("/acme/seats/subscriptions/nonsense/counter", headers=HX).status_code == 404

    def test_without_csrf_token_nothing_happens(self, owner, session, team, sub):
        response = owner.post(self.url(sub), data={"email": "x@example.com"})
        assert response.status_code == 400 and "form has expired" in text(response)
        assert session.scalar(select(func.count(Seat.id))) == 0

    def test_activity_records_the_assignment(self, owner, session, team, sub):
        post(owner, self.url(sub), {"email": "new@example.com"})
        event = session.scalars(select(ActivityEvent).where(ActivityEvent.action == "seat.assigned")).one()
        assert event.actor_label == "Olivia" and event.subject_label == "new@example.com"


class TestFragments:
    def test_counter_listens_for_seats_changed(self, owner, session, team, sub):
        give(session, team, sub, "a@example.com")
        response = owner.get(f"/acme/seats/subscriptions/{sub.id}/counter", headers=HX)
        body = text(response)
        assert body.startswith(f'<div id="seat-counter-{sub.id}"')
        assert '<meter class="visually-hidden" min="0" max="2" value="1"' in body
        assert 'hx-trigger="seats-changed from:body"' in body and "1 of 2 seats used · 1 pending" in body

    def test_a_full_assign_form_refreshes_itself_on_seats_changed(self, owner, session, team, sub):
        """Only when disabled: an enabled form may hold what someone is typing."""
        url = f"/acme/seats/subscriptions/{sub.id}/assign"
        body = text(owner.get(url, headers=HX))
        assert "disabled" not in body.split("<fieldset")[1].split(">")[0]
        assert "seats-changed" not in body
        give(session, team, sub, "a@example.com")
        give(session, team, sub, "b@example.com")
        body = text(owner.get(url, headers=HX))
        assert 'hx-trigger="seats-changed from:body"' in body and "All 2 seats are in use" in body
        assert 'class="assign-row" disabled' in body

    def test_without_htmx_a_fragment_url_shows_the_whole_page(self, owner, sub):
        response = owner.get(f"/acme/seats/subscriptions/{sub.id}/counter")
        assert response.status_code == 200 and "<html" in response.get_data(as_text=True)

    def test_plain_member_cannot_read_fragments(self, client, session, team, sub):
        seat, _ = give(session, team, sub, "a@example.com")
        maya = signed_in(client, team, "maya@example.com")
        assert maya.get(f"/acme/seats/subscriptions/{sub.id}/counter", headers=HX).status_code == 403
        assert maya.get(f"/acme/seats/{seat.id}/row", headers=HX).status_code == 403


class TestResend:
    def test_htmx_swaps_the_row_and_the_old_link_dies(self, app, owner, session, team, sub, mailbox):
        app.config["RESEND_COOLDOWN_SECONDS"] = 0
        seat, old = give(session, team, sub, "a@example.com")
        response = post(owner, f"/acme/seats/{seat.id}/resend", htmx=True)
        body = text(response)
        assert response.status_code == 200 and body.startswith(f'<tr id="seat-{seat.id}"')
        assert "New invitation link sent to a@example.com" in body
        message = mailbox.wait_for("a@example.com", count=2)
        assert "Reminder" in message["Subject"]
        with pytest.raises(InvalidInvitation) as dead:
            seats.claim_info(session, old)
        assert dead.value.reason == "replaced"
        new = first_link(message, "/claim").split("token=")[1]
        assert seats.claim_info(session, new).id == seat.id

    def test_row_shows_the_cooldown_and_refreshes_when_it_ends(self, app, owner, session, team, sub):
        app.config["RESEND_COOLDOWN_SECONDS"] = 45
        seat, _ = give(session, team, sub, "a@example.com")
        body = text(owner.get(f"/acme/seats/{seat.id}/row", headers=HX))
        match = re.search(r'disabled aria-describedby="wait-[^"]+">.*?Resend in (\d+) s<', body)
        assert match and 40 <= int(match.group(1)) <= 45
        assert 'hx-trigger="load delay:' in body

    def test_during_the_cooldown_htmx_gets_a_toast_and_no_swap(self, app, owner, session, team, sub):
        app.config["RESEND_COOLDOWN_SECONDS"] = 60
        seat, _ = give(session, team, sub, "a@example.com")
        response = post(owner, f"/acme/seats/{seat.id}/resend", htmx=True)
        assert response.status_code == 429 and response.headers["HX-Reswap"] == "none"
        assert "You can resend it in" in text(response)

    def test_without_javascript_redirects_back(self, app, owner, session, team, sub):
        app.config["RESEND_COOLDOWN_SECONDS"] = 0
        seat, _ = give(session, team, sub, "a@example.com")
        response = post(owner, f"/acme/seats/{seat.id}/resend")
        assert response.status_code == 303 and response.headers["Location"].endswith(PAGE)

    def test_during_the_cooldown_without_javascript_the_seats_page_says_when(self, app, owner, session,
                                                                          team, sub):
        app.config["RESEND_COOLDOWN_SECONDS"] = 60
        seat, _ = give(session, team, sub, "a@example.com")
        link = seat.invitation_token_hash
        response = post(owner, f"/acme/seats/{seat.id}/resend")
        assert response.status_code == 303 and response.headers["Location"].endswith(PAGE)
        page = text(owner.get(PAGE))
        assert "An invitation was just sent to a@example.com. You can resend it in" in page
        session.expire_all()
        assert session.get(type(seat), seat.id).invitation_token_hash == link  # the link still works

    def test_a_claimed_seat_cannot_be_resent(self, app, owner, session, team, sub):
        app.config["RESEND_COOLDOWN_SECONDS"] = 0
        seat, token = give(session, team, sub, "a@example.com")
        seats.claim_seat(session, token)
        session.commit()
        response = post(owner, f"/acme/seats/{seat.id}/resend", htmx=True)
        assert response.status_code == 400 and "Only a pending invitation" in text(response)


class TestRevoke:
    def test_htmx_swaps_the_row_and_updates_the_counter(self, owner, session, team, sub):
        seat, token = give(session, team, sub, "a@example.com")
        response = post(owner, f"/acme/seats/{seat.id}/revoke", htmx=True)
        body = text(response)
        assert response.status_code == 200 and response.headers["HX-Trigger"] == "seats-changed"
        assert body.startswith(f'<tr id="seat-{seat.id}" class="seat seat-revoked"')
        assert "Seat of a@example.com revoked" in body
        assert fresh(session, seat.id).status is SeatStatus.REVOKED
        counter = text(owner.get(f"/acme/seats/subscriptions/{sub.id}/counter", headers=HX))
        assert "0 of 2 seats used · 0 pending" in counter

    def test_revoking_twice_is_harmless(self, owner, session, team, sub):
        seat, _ = give(session, team, sub, "a@example.com")
        post(owner, f"/acme/seats/{seat.id}/revoke", htmx=True)
        again = post(owner, f"/acme/seats/{seat.id}/revoke", htmx=True)
        assert again.status_code == 200 and "already revoked" in text(again)
        assert "HX-Trigger" not in again.headers

    def test_rows_ask_for_confirmation_with_htmx(self, owner, session, team, sub):
        seat, _ = give(session, team, sub, "a@example.com")
        row = text(owner.get(f"/acme/seats/{seat.id}/row", headers=HX))
        assert "hx-confirm" not in row, "no native confirm()"
        path = f"/acme/seats/{seat.id}/revoke"
        assert re.search(rf'href="{path}"\s+hx-get="{path}" hx-target="#dialog-slot"', row)
        dialog = text(owner.get(path, headers=HX))
        assert dialog.startswith('<dialog class="confirm-dialog" aria-labelledby="confirm-title" data-open>')
        assert "Revoke the seat of a@example.com?" in dialog and "<html" not in dialog
        assert f'hx-post="{path}"' in dialog and f'hx-target="#seat-{seat.id}"' in dialog
        assert fresh(session, seat.id).status is SeatStatus.PENDING  # asking changes nothing

    def test_without_javascript_a_confirmation_page_comes_first(self, owner, session, team, sub):
        seat, _ = give(session, team, sub, "a@example.com")
        page = owner.get(f"/acme/seats/{seat.id}/revoke")
        assert page.status_code == 200 and "Revoke the seat of a@example.com?" in text(page)
        assert "<html" in text(page)
        assert fresh(session, seat.id).status is SeatStatus.PENDING  # the GET changes nothing
        response = post(owner, f"/acme/seats/{seat.id}/revoke")
        assert response.status_code == 303
        assert fresh(session, seat.id).status is SeatStatus.REVOKED

    def test_plain_member_gets_403(self, client, session, team, sub):
        seat, _ = give(session, team, sub, "a@example.com")
        maya = signed_in(client, team, "maya@example.com")
        assert post(maya, f"/acme/seats/{seat.id}/revoke").status_code == 403
        assert post(maya, f"/acme/seats/{seat.id}/resend").status_code == 403
        assert fresh(session, seat.id).status is SeatStatus.PENDING

    def test_another_teams_seat_is_404(self, client, session, team, sub, other_team):
        seat, _ = give(session, team, sub, "a@example.com")
        zed = signed_in(client, other_team, "zed@other.example")
        for url in (f"/acme/seats/{seat.id}/revoke", f"/acme/seats/{seat.id}/resend"):
            assert post(zed, url).status_code == 404
        assert zed.get(f"/acme/seats/{seat.id}/row", headers=HX).status_code == 404
        assert zed.get(f"/acme/seats/{seat.id}/revoke").status_code == 404
        assert fresh(session, seat.id).status is SeatStatus.PENDING

    def test_without_csrf_token_nothing_happens(self, owner, session, team, sub):
        seat, _ = give(session, team, sub, "a@example.com")
        assert owner.post(f"/acme/seats/{seat.id}/revoke", headers=HX).status_code == 400
        assert fresh(session, seat.id).status is SeatStatus.PENDING


class TestDemo:
    def test_the_demo_shows_seats_in_every_state(self, app, client, session, mailbox):
        from app.demo import seed
        from app.models import Customer

        seed(session)
        session.commit()
        globex = session.scalars(select(Customer).where(Customer.external_id == "globex")).one()
        body = text(signed_in(client, globex, "olivia@globex.example").get(PAGE))
        assert "6 of 10 seats used · 2 pending" in body
        for state in (">Claimed<", ">Pending<", ">Revoked<", "Expired</span>", "Expires in 7 days"):
            assert state in body
        # Only the still-valid invitation was emailed.
        assert mailbox.wait_for("tom@globex.example") and mailbox.to("contractor@globex.example") == []
