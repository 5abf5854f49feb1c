"""The email outbox: written with its change, delivered after commit, kept and retried on failure."""
from __future__ import annotations

import logging
import socket
import threading

import pytest
from sqlalchemy import select

from app.models import EmailStatus, Organization, OutboxEmail
from app.services import mail, organizations, signin
from tests.factories import make_org, make_team
from tests.support.smtp import first_link, html_of, text_of
from tests.support.web import post_form


def closed_port_url() -> str:
    """An SMTP URL on loopback where nothing listens (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"smtp://127.0.0.1:{port}"


@pytest.fixture
def org(app):
    return make_org("acme", "Acme Analytics")


def queue(session, org, to="maya@example.com", **kw):
    kw.setdefault("link", "http://portal.test/acme/login/verify?token=abc")
    kw.setdefault("code", "ABCD2345")
    kw.setdefault("minutes", 15)
    return mail.queue_email(session, to=to, kind="signin", subject=f"Sign in to {org.name}",
                            template="signin", organization=org, **kw)


def outbox(session) -> list[OutboxEmail]:
    session.expire_all()
    return list(session.scalars(select(OutboxEmail).order_by(OutboxEmail.created_at)))


def run_cli(app, *args):
    """`flask --app wsgi <args>`; Click keeps stdout and stderr apart."""
    return app.test_cli_runner().invoke(args=list(args))


class TestSameTransaction:
    def test_mail_is_rolled_back_with_its_change(self, session, org, mailbox):
        organizations.create_organization(session, "umbrella", "Umbrella")
        queue(session, org)
        assert len(outbox(session)) == 1  # written in this transaction
        session.rollback()
        assert session.scalar(select(Organization).where(Organization.slug == "umbrella")) is None
        assert outbox(session) == []
        assert mailbox.to("maya@example.com") == []

    def test_mail_is_committed_with_its_change_and_then_delivered(self, session, org, mailbox):
        organizations.create_organization(session, "umbrella", "Umbrella")
        email = queue(session, org)
        # Nothing leaves before the change is committed.
        assert mailbox.to("maya@example.com") == []
        assert email.status is EmailStatus.QUEUED
        session.commit()
        message = mailbox.wait_for("maya@example.com")
        assert message["Subject"] == "Sign in to Acme Analytics"
        assert session.scalar(select(Organization).where(Organization.slug == "umbrella"))
        [row] = outbox(session)
        assert row.status is EmailStatus.SENT and row.attempts == 1 and row.sent_at is not None

    def test_mail_queued_in_a_failed_request_is_not_sent_later(self, session, org, mailbox):
        queue(session, org, to="gone@example.com")
        session.flush()
        session.rollback()
        organizations.create_organization(session, "umbrella", "Umbrella")
        session.commit()
        assert mailbox.to("gone@example.com") == []
        assert outbox(session) == []


class TestDelivery:
    def test_delivered_over_smtp_with_text_and_html_parts(self, app, session, org, mailbox):
        queue(session, org, link="http://portal.test/acme/login/verify?token=tok-123", code="QWER2345")
        session.commit()
        message = mailbox.wait_for("maya@example.com")
        assert message.get_content_type() == "multipart/alternative"
        assert message["From"] == app.config["MAIL_FROM"]
        assert "http://portal.test/acme/login/verify?token=tok-123" in text_of(message)
        assert "QWER2345" in text_of(message)
        html = html_of(message)
        assert 'href="http://portal.test/acme/login/verify?token=tok-123"' in html
        assert "<strong" in html and "QWER2345" in html

    def test_links_in_sign_in_mail_are_built_from_base_url(self, app, session, org, mailbox):
        make_team(org, owner="olivia@example.com")
        app.config["BASE_URL"] = "https://team.acme.example"
        client = app.test_client()
        post_form(client, "/acme/login", {"email": "olivia@example.com"})
        message = mailbox.wait_for("olivia@example.com")
        link = first_link(message)
        assert link.startswith("https://team.acme.example/acme/login/verify?token=")
        assert f'href="{link}"' in html_of(message)

    def test_sign_in_body_is_removed_once_delivered(self, session, org, mailbox):
        make_team(org, owner="olivia@example.com")
        result = signin.request_sign_in(session, org, "olivia@example.com", base_url="http://x")
        session.commit()
        assert result.token in text_of(mailbox.wait_for("olivia@example.com"))
        [row] = outbox(session)
        assert result.token not in row.text_body and result.token not in row.html_body


class TestBackgroundDelivery:
    def test_commit_does_not_wait_for_the_server_and_the_mail_arrives(self, session, org, mailbox):
        queue(session, org)
        mail.deliver_in_background(session)
        session.commit()
        mail.join_background_delivery()
        assert mailbox.wait_for("maya@example.com")
        [row] = outbox(session)
        assert row.status is EmailStatus.SENT and row.attempts == 1

    def test_a_rollback_forgets_the_request_for_background_delivery(self, app, session, org, mailbox):
        queue(session, org, to="gone@example.com")
        mail.deliver_in_background(session)
        session.rollback()
        app.config["SMTP_URL"] = closed_port_url()
        queue(session, org)
        session.commit()  # delivered (and failed) right here, not in a thread
        assert outbox(session)[0].attempts == 1


class TestSmtpDown:
    def test_failed_delivery_stays_queued_with_error_and_attempts(self, app, session, org, mailbox):
        app.config["SMTP_URL"] = closed_port_url()
        queue(session, org)
        organizations.create_organization(session, "umbrella", "Umbrella")
        session.commit()  # the change is kept even though the mail could not go out
        [row] = outbox(session)
        assert row.status is EmailStatus.QUEUED
        assert row.attempts == 1
        assert row.last_error and "Connection" in row.last_error
        assert row.sent_at is None
        assert "token=abc" in row.text_body  # the body is kept for the retry
        assert session.scalar(select(Organization).where(Organization.slug == "umbrella"))
        assert mailbox.to("maya@example.com") == []

    def test_mail_deliver_retries_and_delivers_once_the_server_is_up(self, app, session, org, mailbox):
        up = app.config["SMTP_URL"]
        app.config["SMTP_URL"] = closed_port_url()
        queue(session, org)
        queue(session, org, to="ben@example.com")
        session.commit()

        result = run_cli(app, "mail", "deliver")
        assert result.exit_code != 0
        assert "Delivered 0, failed 2." in result.stdout
        assert "Traceback" not in result.output
        assert [r.attempts for r in outbox(session)] == [2, 2]

        app.config["SMTP_URL"] = up
        result = run_cli(app, "mail", "deliver")
        assert result.exit_code == 0, result.output
        assert "Delivered 2, failed 0." in result.stdout
        assert mailbox.wait_for("maya@example.com") and mailbox.wait_for("ben@example.com")
        rows = outbox(session)
        assert {r.status for r in rows} == {EmailStatus.SENT}
        assert [r.attempts for r in rows] == [3, 3]
        assert all(r.last_error is None for r in rows)

        # Delivered mail is not sent again.
        result = run_cli(app, "mail", "deliver")
        assert "Delivered 0, failed 0." in result.stdout
        assert len(mailbox.to("maya@example.com")) == 1

    def test_a_mail_that_cannot_be_built_does_not_block_the_others(self, app, session, org, mailbox):
        app.config["MAIL_DELIVER_ON_COMMIT"] = False
        bad = queue(session, org, to="maya@example.com")
        bad.subject = "Line one\nLine two"  # headers cannot hold line breaks
        queue(session, org, to="ben@example.com")
        session.commit()
        result = run_cli(app, "mail", "deliver")
        assert "Traceback" not in result.output
        assert "Delivered 1, failed 1." in result.stdout
        assert mailbox.wait_for("ben@example.com")
        rows = {r.to_address: r for r in outbox(session)}
        assert rows["maya@example.com"].status is EmailStatus.QUEUED
        assert rows["maya@example.com"].last_error
        assert rows["ben@example.com"].status is EmailStatus.SENT

    def test_a_bad_smtp_url_is_a_clear_error_not_a_traceback(self, app, session, org):
        app.config["MAIL_DELIVER_ON_COMMIT"] = False
        queue(session, org)
        session.commit()
        app.config["SMTP_URL"] = "mailer.internal:25"
        result = run_cli(app, "mail", "deliver")
        assert result.exit_code != 0
        assert "Traceback" not in result.output
        assert "SMTP_URL must look like smtp://host:port" in result.output
        assert outbox(session)[0].status is EmailStatus.QUEUED


class TestWithoutSmtp:
    def test_mail_goes_to_the_log(self, app, session, org, mailbox, caplog):
        caplog.set_level(logging.INFO, logger="portal.mail")
        app.config["SMTP_URL"] = None
        queue(session, org, link="http://portal.test/acme/login/verify?token=logged", code="LOGG2345")
        session.commit()
        logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "portal.mail")
        assert "To: maya@example.com" in logged
        assert "Subject: Sign in to Acme Analytics" in logged
        assert "http://portal.test/acme/login/verify?token=logged" in logged
        assert "LOGG2345" in logged
        assert mailbox.to("maya@example.com") == []
        [row] = outbox(session)
        assert row.status is EmailStatus.SENT

    def test_in_production_one_time_links_never_reach_the_log(self, app, session, org, caplog):
        caplog.set_level(logging.INFO, logger="portal.mail")
        app.config.update(SMTP_URL=None, PORTAL_ENV="production")
        queue(session, org, link="http://portal.test/acme/login/verify?token=secret", code="SECR2345")
        session.commit()
        logged = "\n".join(r.getMessage() for r in caplog.records)
        assert "token=secret" not in logged and "SECR2345" not in logged
        [row] = outbox(session)
        assert row.status is EmailStatus.QUEUED and row.attempts == 1
        assert row.last_error == "RuntimeError: SMTP_URL is not set; the mail stays queued"


@pytest.mark.postgres
def test_a_mail_being_sent_by_another_process_is_skipped_not_sent_twice(pg_app, mailbox):
    from app.extensions import db

    pg_app.config["MAIL_DELIVER_ON_COMMIT"] = False
    org = make_org("acme", "Acme Analytics")
    email_id = queue(db.session, org).id
    db.session.commit()

    with db.engine.connect() as other:  # another host's `mail deliver`, holding the row
        other.execute(select(OutboxEmail.id).where(OutboxEmail.id == email_id).with_for_update())
        answer = {}
        worker = threading.Thread(target=lambda: answer.update(r=run_cli(pg_app, "mail", "deliver")))
        worker.start()
        worker.join(10)
        waited = worker.is_alive()
        sent_meanwhile = len(mailbox.to("maya@example.com"))
        other.rollback()
        worker.join(30)
    assert not waited, "mail deliver waited for a row another process is sending"
    assert sent_meanwhile == 0
    assert "Delivered 0, failed 0." in answer["r"].stdout

    result = run_cli(pg_app, "mail", "deliver")
    assert "Delivered 1, failed 0." in result.stdout
    assert len(mailbox.to("maya@example.com")) == 1
