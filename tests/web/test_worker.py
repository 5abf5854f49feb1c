"""`flask --app wsgi worker` as operators run it, in a real subprocess: `--once` delivers what is
due and exits 0; the loop picks up mail queued while it runs; SIGTERM and SIGINT finish the
attempt in hand and exit 0; one log line per attempt, without an address, body or token."""
from __future__ import annotations

import signal

import pytest
from sqlalchemy import select

from app.models import EmailStatus, OutboxEmail
from app.services import mail
from tests.factories import make_org
from tests.support.worker import Worker, run_once


@pytest.fixture
def org(app):
    app.config["MAIL_DELIVER_ON_COMMIT"] = False  # only the worker delivers here
    return make_org("acme", "Acme Analytics")


@pytest.fixture
def database(app):
    return app.config["SQLALCHEMY_DATABASE_URI"]


def queue(session, org, to, token="tok-secret-123"):
    email = mail.queue_email(session, to=to, kind="signin", subject=f"Sign in to {org.name}",
                             template="signin", organization=org, minutes=15, code="CODE2345",
                             link=f"http://portal.test/acme/login/verify?token={token}")
    session.commit()
    return email


def rows(session) -> dict[str, OutboxEmail]:
    session.rollback()
    session.expire_all()
    return {r.to_address: r for r in session.scalars(select(OutboxEmail))}


class TestOnce:
    def test_delivers_what_is_due_and_exits_0(self, session, org, database, mailbox):
        queue(session, org, "maya@example.com")
        queue(session, org, "ben@example.org")
        queue(session, org, "nobody@example.net")
        mailbox.rcpt_replies["nobody@example.net"] = "550 5.1.1 No such user"
        result = run_once(database, mailbox.url, MAIL_PERMANENT_ATTEMPTS=1)
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
        assert mailbox.wait_for("maya@example.com") and mailbox.wait_for("ben@example.org")
        found = rows(session)
        assert found["maya@example.com"].status is EmailStatus.SENT
        assert found["nobody@example.net"].status is EmailStatus.FAILED
        attempts = [line for line in result.stderr.splitlines() if "portal.mail" in line and ": mail " in line]
        assert len(attempts) == 3
        assert any("to=@example.net attempt=1 status=failed" in a and "SMTPRecipientsRefused 550" in a
                   for a in attempts)
        for secret in ("maya", "nobody", "tok-secret-123", "CODE2345"):
            assert secret not in result.stderr

        again = run_once(database, mailbox.url)
        assert again.returncode == 0
        assert ": mail " not in again.stderr  # nothing was due
        assert len(mailbox.to("maya@example.com")) == 1

    def test_a_malformed_smtp_url_is_one_clear_line_and_a_failure(self, session, org, database,
                                                                  mailbox):
        queue(session, org, "maya@example.com")
        result = run_once(database, "mailer.internal:25")
        assert result.returncode != 0
        assert "SMTP_URL must look like smtp://host:port" in result.stderr
        assert "Traceback" not in result.stderr
        assert rows(session)["maya@example.com"].status is EmailStatus.QUEUED


class TestLoop:
    @pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
    def test_a_stop_signal_finishes_the_attempt_in_hand_and_exits_0(self, session, org, database,
                                                                    mailbox, signum):
        worker = Worker(database, mailbox.url).started()
        try:
            mailbox.hold()  # the next message gets no answer until released
            queue(session, org, "maya@example.com")  # queued while the worker runs: polling finds it
            queue(session, org, "ben@example.com")
            mailbox.wait_held()
            worker.signal(signum)
            worker.wait_for_line("finishing the attempt in hand")
            mailbox.release()
            assert worker.wait() == 0
        finally:
            mailbox.release()
            worker.kill()
        assert "stopped" in worker.lines[-1]
        found = rows(session)
        first, second = sorted(found.values(), key=lambda r: r.attempts, reverse=True)
        assert first.status is EmailStatus.SENT and first.attempts == 1  # its outcome was recorded
        assert second.status is EmailStatus.QUEUED and second.attempts == 0  # not started
        assert len(worker.attempts()) == 1


class TestWebhooks:
    def test_the_worker_delivers_webhook_events_too(self, app, session, org, database, mailbox):
        """One worker for everything: a member added queues `member.created`, and
        `worker --once` posts it, signed, to the endpoint (SDK verification: tests/api)."""
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        from app.models import Role, WebhookEvent
        from app.services import members, webhooks
        from app.services.activity import Actor
        from tests.factories import make_team

        received = []

        class Receiver(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((dict(self.headers), json.loads(body)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            team = make_team(org, name="Globex", owner="olivia@example.com",
                             members={"ben@example.com": Role.BILLING_MANAGER})
            webhooks.create_endpoint(session, org, app.config, events=["member.created"],
                                     url=f"http://127.0.0.1:{server.server_port}/hooks")
            session.commit()
            members.add_member(session, Actor.operator(), team, email="kim@example.com", name="Kim")
            session.commit()
            result = run_once(database, mailbox.url)
            assert result.returncode == 0, result.stderr
        finally:
            server.shutdown()
        [(headers, body)] = received
        assert body["type"] == "member.created" and body["data"]["email"] == "kim@example.com"
        assert headers["webhook-id"] and headers["webhook-signature"].startswith("v1,")
        session.expire_all()
        assert session.scalars(select(WebhookEvent)).one().succeeded is True
        assert "webhook event=" in result.stderr and "secret" not in result.stderr.lower()
