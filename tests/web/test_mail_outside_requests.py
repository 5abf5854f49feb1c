"""No request talks to an SMTP server (DESIGN.md rule 29): with a server that accepts connections
and never answers, a seat assignment, a sign-in and a code request answer while the server still
holds the delivery's unanswered connection, and known and unknown emails answer alike (rule 15).
A member's name with a line break cannot break the mail that names them."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import EmailStatus, OutboxEmail, Role
from app.services import mail
from tests.factories import make_org, make_team, member
from tests.support.smtp import SilentSmtp
from tests.support.web import csrf_token, sign_in_client

CODE_REQUEST = "/v1/customer-portal/customer-session/request"


@pytest.fixture
def org(app):
    return make_org("acme", "Acme Analytics")


@pytest.fixture
def team(org):
    return make_team(org, name="Globex", owner="olivia@example.com", seats=3,
                     members={"maya@example.com": Role.MEMBER})


@pytest.fixture
def silent(app):
    """SMTP_URL points at a server that never answers; a blocking send would wait 60 s here."""
    server = SilentSmtp()
    app.config.update(SMTP_URL=server.url, SMTP_TIMEOUT=60)
    yield server
    server.close()  # the delivery thread sees the connection end and gives up at once
    mail.join_background_delivery()


def outbox(session) -> list[OutboxEmail]:
    session.expire_all()
    return list(session.scalars(select(OutboxEmail)))


def answered_while_the_server_holds_the_delivery(server: SilentSmtp) -> None:
    """The answer is in hand; the delivery is still waiting for the server's greeting."""
    server.wait_for_connection()
    assert server.open_unanswered() >= 1


def released(server: SilentSmtp, session) -> OutboxEmail:
    server.close()
    mail.join_background_delivery()
    [row] = outbox(session)
    return row


def test_assigning_a_seat_answers_before_the_smtp_server_does(app, client, session, team, sub,
                                                              silent):
    sign_in_client(client, member(team, "olivia@example.com"))
    token = csrf_token(client, "/acme/seats")
    response = client.post(f"/acme/seats/subscriptions/{sub.id}/assign",
                           data={"email": "new@example.com", "csrf_token": token})
    assert response.status_code == 303
    answered_while_the_server_holds_the_delivery(silent)
    row = released(silent, session)
    assert row.kind == "invitation" and row.status is EmailStatus.QUEUED and row.attempts == 1
    assert "SMTPServerDisconnected" in row.last_error  # kept for the worker to retry


class TestCodeRequest:
    def request(self, app, org, email):
        return app.test_client().post(CODE_REQUEST, json={"email": email,
                                                          "organization_id": str(org.id)})

    def test_a_known_email_answers_before_the_smtp_server_does(self, app, session, org, team,
                                                               silent):
        response = self.request(app, org, "maya@example.com")
        assert response.status_code == 202
        answered_while_the_server_holds_the_delivery(silent)
        row = released(silent, session)
        assert row.kind == "signin" and row.attempts == 1 and row.status is EmailStatus.QUEUED

    def test_known_and_unknown_emails_get_the_same_answer_and_neither_waits(
            self, app, session, org, team, silent):
        known = self.request(app, org, "maya@example.com")
        answered_while_the_server_holds_the_delivery(silent)
        unknown = self.request(app, org, "nobody@example.com")
        # Both answered while the known email's delivery is still stuck at the server.
        assert silent.open_unanswered() >= 1
        assert (known.status_code, known.data) == (unknown.status_code, unknown.data) == (202, b"")
        assert sorted(known.headers.keys()) == sorted(unknown.headers.keys())
        assert [r.to_address for r in outbox(session)] == ["maya@example.com"]


class TestSignInForm:
    def ask(self, client, email):
        token = csrf_token(client, "/acme/login")
        return client.post("/acme/login", data={"email": email, "csrf_token": token})

    def test_known_and_unknown_emails_answer_alike_while_the_server_is_silent(
            self, app, client, session, org, team, silent):
        known = self.ask(client, "maya@example.com")
        answered_while_the_server_holds_the_delivery(silent)
        unknown = self.ask(app.test_client(), "nobody@example.com")
        assert silent.open_unanswered() >= 1
        assert known.status_code == unknown.status_code == 303
        assert known.headers["Location"] == unknown.headers["Location"]
        row = released(silent, session)
        assert row.to_address == "maya@example.com" and row.status is EmailStatus.QUEUED


def test_an_inviter_whose_name_holds_a_line_break_sends_a_clean_invitation(
        app, client, session, team, sub, mailbox):
    """Such a name used to make every invitation naming them fail forever."""
    owner = member(team, "olivia@example.com")
    owner.name = "Olivia\r\nBcc: victim@example.com"
    session.commit()
    sign_in_client(client, owner)
    token = csrf_token(client, "/acme/seats")
    response = client.post(f"/acme/seats/subscriptions/{sub.id}/assign",
                           data={"email": "new@example.com", "csrf_token": token})
    assert response.status_code == 303
    message = mailbox.wait_for("new@example.com")
    subject = message["Subject"]  # unfolded by the parser; one line
    assert "\r" not in subject and "\n" not in subject
    assert subject.strip() == ("Olivia Bcc: victim@example.com (olivia@example.com) invited you "
                               "to Team plan")
    assert message["Bcc"] is None
    assert mailbox.envelopes == [["new@example.com"]]
    mail.join_background_delivery()
    [row] = outbox(session)
    assert row.status is EmailStatus.SENT and "\n" not in row.subject
