"""The email outbox: written with its change, delivered outside the transaction (a thread right
after commit, or the worker), retried with growing delays, and poisoned mail failed with its reason."""
from __future__ import annotations

import logging
import socket
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.models import EmailStatus, Organization, OutboxEmail, utcnow
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


def delivered_after_commit(session) -> list[OutboxEmail]:
    """Commit, wait for the thread that delivers after commit, and read the outbox again."""
    session.commit()
    mail.join_background_delivery()
    return outbox(session)


def run_job(app, session, now=None) -> int:
    """One run of the worker's mail job, as `flask worker` calls it."""
    return mail.deliver_due(session, app.config, now or utcnow())


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
        [row] = delivered_after_commit(session)
        message = mailbox.wait_for("maya@example.com")
        assert message["Subject"] == "Sign in to Acme Analytics"
        assert session.scalar(select(Organization).where(Organization.slug == "umbrella"))
        assert row.status is EmailStatus.SENT and row.attempts == 1 and row.sent_at is not None

    def test_mail_queued_in_a_failed_request_is_not_sent_later(self, session, org, mailbox):
        queue(session, org, to="gone@example.com")
        session.flush()
        session.rollback()
        organizations.create_organization(session, "umbrella", "Umbrella")
        assert delivered_after_commit(session) == []
        assert mailbox.to("gone@example.com") == []


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
        [row] = delivered_after_commit(session)
        assert result.token in text_of(mailbox.wait_for("olivia@example.com"))
        assert result.token not in row.text_body and result.token not in row.html_body


class TestDeliveryOnCommit:
    def test_commit_returns_before_the_thread_has_talked_to_the_server(self, app, session, org,
                                                                       mailbox):
        mailbox.hold()  # the server takes the message and does not answer until released
        queue(session, org)
        session.commit()
        mailbox.wait_held()  # the thread is in the middle of sending, the commit long returned
        [row] = outbox(session)
        assert row.status is EmailStatus.SENDING and row.attempts == 1
        mailbox.release()
        [row] = delivered_after_commit(session)
        assert row.status is EmailStatus.SENT
        assert len(mailbox.to("maya@example.com")) == 1

    def test_switched_off_nothing_is_sent_until_the_worker_runs(self, app, session, org, mailbox):
        app.config["MAIL_DELIVER_ON_COMMIT"] = False
        queue(session, org)
        [row] = delivered_after_commit(session)
        assert row.status is EmailStatus.QUEUED and row.attempts == 0
        assert mailbox.to("maya@example.com") == []
        assert run_job(app, session) == 1
        assert mailbox.wait_for("maya@example.com")
        assert outbox(session)[0].status is EmailStatus.SENT

    def test_a_rollback_forgets_the_mail_of_that_transaction(self, app, session, org, mailbox):
        queue(session, org, to="gone@example.com")
        session.rollback()
        queue(session, org)
        [row] = delivered_after_commit(session)
        assert row.to_address == "maya@example.com" and row.status is EmailStatus.SENT
        assert mailbox.to("gone@example.com") == []


class TestSmtpDown:
    def test_failed_delivery_stays_queued_with_error_and_a_later_attempt(self, app, session, org,
                                                                         mailbox):
        app.config["SMTP_URL"] = closed_port_url()
        queue(session, org)
        organizations.create_organization(session, "umbrella", "Umbrella")
        before = utcnow()
        [row] = delivered_after_commit(session)  # the change is kept though the mail is not out
        assert row.status is EmailStatus.QUEUED
        assert row.attempts == 1
        assert row.last_error and "Connection" in row.last_error
        assert row.next_attempt_at > before + timedelta(seconds=59)  # MAIL_RETRY_SECONDS: 60
        assert row.sent_at is None and row.locked_until is None
        assert "token=abc" in row.text_body  # the body is kept for the retry
        assert session.scalar(select(Organization).where(Organization.slug == "umbrella"))
        assert mailbox.to("maya@example.com") == []

    def test_mail_deliver_retries_and_delivers_once_the_server_is_up(self, app, session, org, mailbox):
        app.config.update(MAIL_DELIVER_ON_COMMIT=False, MAIL_RETRY_SECONDS=0)
        up = app.config["SMTP_URL"]
        app.config["SMTP_URL"] = closed_port_url()
        queue(session, org)
        queue(session, org, to="ben@example.com")
        session.commit()

        result = run_cli(app, "mail", "deliver")
        assert result.exit_code == 0, result.output  # it ran; the server was down
        assert "Sent 0, failed 0, retrying later 2." in result.stdout
        assert "Traceback" not in result.output
        assert [r.attempts for r in outbox(session)] == [1, 1]

        app.config["SMTP_URL"] = up
        result = run_cli(app, "mail", "deliver")
        assert result.exit_code == 0, result.output
        assert "Sent 2, failed 0, retrying later 0." in result.stdout
        assert mailbox.wait_for("maya@example.com") and mailbox.wait_for("ben@example.com")
        rows = outbox(session)
        assert {r.status for r in rows} == {EmailStatus.SENT}
        assert [r.attempts for r in rows] == [2, 2]
        assert all(r.last_error is None for r in rows)

        # Delivered mail is not sent again.
        result = run_cli(app, "mail", "deliver")
        assert "Sent 0, failed 0, retrying later 0." in result.stdout
        assert len(mailbox.to("maya@example.com")) == 1

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


class TestRetries:
    def test_a_temporary_refusal_is_retried_later_with_a_growing_delay(self, app, session, org,
                                                                       mailbox):
        app.config.update(MAIL_DELIVER_ON_COMMIT=False, MAIL_RETRY_SECONDS=10)
        mailbox.rcpt_replies["maya@example.com"] = "451 4.7.1 Greylisted, try again later"
        queue(session, org)
        session.commit()
        now = utcnow()
        delays = []
        for attempt in (1, 2, 3):
            assert run_job(app, session, now) == 1
            [row] = outbox(session)
            assert row.status is EmailStatus.QUEUED and row.attempts == attempt
            assert "451" in row.last_error
            delays.append((row.next_attempt_at - now).total_seconds())
            # Not due again before its time, even if the worker comes back at once.
            assert run_job(app, session, now) == 0
            now = row.next_attempt_at
        assert 10 <= delays[0] <= 12.5 + 1  # base, plus up to 25 % jitter
        assert delays[0] < delays[1] < delays[2]
        assert delays[2] >= 40  # doubled twice

        del mailbox.rcpt_replies["maya@example.com"]
        assert run_job(app, session, now) == 1
        assert mailbox.wait_for("maya@example.com")
        assert outbox(session)[0].status is EmailStatus.SENT

    def test_after_too_many_attempts_a_mail_is_failed_and_stops_coming_back(self, app, session,
                                                                            org, mailbox):
        app.config.update(MAIL_DELIVER_ON_COMMIT=False, MAIL_RETRY_SECONDS=0, MAIL_MAX_ATTEMPTS=3)
        app.config["SMTP_URL"] = closed_port_url()
        queue(session, org)
        session.commit()
        for _ in range(3):
            assert run_job(app, session) == 1
        [row] = outbox(session)
        assert row.status is EmailStatus.FAILED and row.attempts == 3
        assert row.last_error.startswith("Gave up after 3 attempts: ConnectionRefusedError")
        assert "token=abc" not in row.text_body  # a one-time link that never went out is dropped
        assert run_job(app, session) == 0

    def test_failing_rows_do_not_starve_newer_mail(self, app, session, org, mailbox):
        app.config.update(MAIL_DELIVER_ON_COMMIT=False, MAIL_RETRY_SECONDS=0, MAIL_BATCH=3)
        for n in range(5):
            queue(session, org, to=f"bounce{n}@example.com")
            mailbox.rcpt_replies[f"bounce{n}@example.com"] = "451 4.3.0 Mailbox busy"
        session.commit()
        queue(session, org, to="newer@example.com")
        session.commit()
        # Each run attempts each row at most once and at most MAIL_BATCH rows; a failure goes
        # behind the rows that are due, so the newer mail is reached although the old ones fail.
        assert run_job(app, session) == 3
        assert run_job(app, session) == 3
        assert mailbox.wait_for("newer@example.com")


class TestPoisonedMail:
    def test_an_unbuildable_mail_is_failed_with_its_reason_and_the_next_goes_out(
            self, app, session, org, mailbox):
        app.config.update(MAIL_DELIVER_ON_COMMIT=False, MAIL_RETRY_SECONDS=0)
        bad = queue(session, org, to="maya@[broken")  # the email package cannot write this To
        queue(session, org, to="ben@example.com")
        session.commit()
        result = run_cli(app, "mail", "deliver")
        assert result.exit_code == 0 and "Traceback" not in result.output
        assert "Sent 1, failed 0, retrying later 1." in result.stdout
        assert mailbox.wait_for("ben@example.com")
        for _ in range(2):  # MAIL_PERMANENT_ATTEMPTS: 3
            assert run_cli(app, "mail", "deliver").exit_code == 0
        session.expire_all()
        row = session.get(OutboxEmail, bad.id)
        assert row.status is EmailStatus.FAILED and row.attempts == 3
        assert row.last_error.startswith("Gave up after 3 attempts: cannot be built:")
        result = run_cli(app, "mail", "deliver")
        assert "Sent 0, failed 0, retrying later 0." in result.stdout

    def test_a_permanent_5xx_is_failed_with_the_servers_answer(self, app, session, org, mailbox):
        app.config.update(MAIL_DELIVER_ON_COMMIT=False, MAIL_RETRY_SECONDS=0,
                          MAIL_PERMANENT_ATTEMPTS=1)
        mailbox.rcpt_replies["nobody@example.com"] = "550 5.1.1 No such user here"
        queue(session, org, to="nobody@example.com")
        queue(session, org, to="ben@example.com")
        session.commit()
        result = run_cli(app, "mail", "deliver")
        assert result.exit_code == 0
        assert "Sent 1, failed 1, retrying later 0." in result.stdout
        rows = {r.to_address: r for r in outbox(session)}
        assert rows["nobody@example.com"].status is EmailStatus.FAILED
        assert "550" in rows["nobody@example.com"].last_error
        assert "No such user here" in rows["nobody@example.com"].last_error
        assert rows["ben@example.com"].status is EmailStatus.SENT

    def test_an_old_row_with_a_line_break_in_its_subject_is_delivered_clean(self, app, session,
                                                                            org, mailbox):
        app.config["MAIL_DELIVER_ON_COMMIT"] = False
        row = queue(session, org)
        row.subject = "Line one\r\nBcc: victim@example.com"  # as written before headers were cleaned
        session.commit()
        assert run_cli(app, "mail", "deliver").exit_code == 0
        message = mailbox.wait_for("maya@example.com")
        assert message["Subject"] == "Line one Bcc: victim@example.com"
        assert message["Bcc"] is None
        assert mailbox.envelopes == [["maya@example.com"]]


class TestHeaders:
    @pytest.mark.parametrize("raw, clean", [
        ("Olivia\r\nBcc: x@example.com", "Olivia Bcc: x@example.com"),
        ("a\tb\x00c\x7fd\u2028e\x85f", "a b c d e f"),
        ("  plain  name ", "plain name"),
    ])
    def test_control_characters_become_one_space(self, raw, clean):
        assert mail.clean_header(raw) == clean


class TestWithoutSmtp:
    def test_mail_goes_to_the_log(self, app, session, org, mailbox, caplog):
        caplog.set_level(logging.INFO, logger="portal.mail")
        app.config["SMTP_URL"] = None
        queue(session, org, link="http://portal.test/acme/login/verify?token=logged", code="LOGG2345")
        [row] = delivered_after_commit(session)
        logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "portal.mail")
        assert "To: maya@example.com" in logged
        assert "Subject: Sign in to Acme Analytics" in logged
        assert "http://portal.test/acme/login/verify?token=logged" in logged
        assert "LOGG2345" in logged
        assert mailbox.to("maya@example.com") == []
        assert row.status is EmailStatus.SENT

    def test_in_production_one_time_links_never_reach_the_log(self, app, session, org, caplog):
        caplog.set_level(logging.INFO, logger="portal.mail")
        app.config.update(SMTP_URL=None, PORTAL_ENV="production")
        queue(session, org, link="http://portal.test/acme/login/verify?token=secret", code="SECR2345")
        [row] = delivered_after_commit(session)
        logged = "\n".join(r.getMessage() for r in caplog.records)
        assert "token=secret" not in logged and "SECR2345" not in logged
        # It waits for SMTP_URL; waiting is no attempt, so fixing the setting delivers it all.
        assert row.status is EmailStatus.QUEUED and row.attempts == 0
        assert row.last_error == "RuntimeError: SMTP_URL is not set; the mail stays queued"
        result = run_cli(app, "mail", "deliver")
        assert result.exit_code != 0 and "Traceback" not in result.output


class TestAttemptLog:
    def test_one_line_per_attempt_without_address_body_or_token(self, app, session, org, mailbox,
                                                                caplog):
        caplog.set_level(logging.INFO, logger="portal.mail")
        app.config["MAIL_DELIVER_ON_COMMIT"] = False
        email = queue(session, org, link="http://portal.test/acme/login/verify?token=tok-secret",
                      code="CODE2345")
        session.commit()
        run_job(app, session)
        [line] = [r.getMessage() for r in caplog.records if r.name == "portal.mail"]
        assert line.startswith(f"mail {email.id} kind=signin to=@example.com attempt=1 status=sent ")
        assert "maya" not in line and "tok-secret" not in line and "CODE2345" not in line


@pytest.mark.postgres
def test_a_mail_being_sent_by_another_process_is_skipped_not_sent_twice(pg_app, mailbox):
    from app.extensions import db

    pg_app.config["MAIL_DELIVER_ON_COMMIT"] = False
    org = make_org("acme", "Acme Analytics")
    email_id = queue(db.session, org).id
    db.session.commit()

    with db.engine.connect() as other:  # another host's worker, claiming the row right now
        other.execute(select(OutboxEmail.id).where(OutboxEmail.id == email_id).with_for_update())
        answer = {}
        worker = threading.Thread(target=lambda: answer.update(r=run_cli(pg_app, "mail", "deliver")))
        worker.start()
        worker.join(10)
        waited = worker.is_alive()
        sent_meanwhile = len(mailbox.to("maya@example.com"))
        other.rollback()
        worker.join(30)
    assert not waited, "mail deliver waited for a row another process is claiming"
    assert sent_meanwhile == 0
    assert "Sent 0, failed 0, retrying later 0." in answer["r"].stdout

    result = run_cli(pg_app, "mail", "deliver")
    assert "Sent 1, failed 0, retrying later 0." in result.stdout
    assert len(mailbox.to("maya@example.com")) == 1


@pytest.mark.postgres
def test_a_claim_whose_worker_died_expires_and_the_mail_goes_out(pg_app, mailbox):
    from app.extensions import db

    pg_app.config.update(MAIL_DELIVER_ON_COMMIT=False)
    org = make_org("acme", "Acme Analytics")
    email = queue(db.session, org)
    email.status, email.attempts = EmailStatus.SENDING, 1  # a worker claimed it, then was killed
    email.locked_until = utcnow() + timedelta(minutes=5)
    db.session.commit()
    assert run_job(pg_app, db.session) == 0  # still claimed: left alone
    assert run_job(pg_app, db.session, utcnow() + timedelta(minutes=6)) == 1
    assert mailbox.wait_for("maya@example.com")
    [row] = outbox(db.session)
    assert row.status is EmailStatus.SENT and row.attempts == 2
