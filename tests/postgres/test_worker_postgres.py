"""Workers sharing one queue on PostgreSQL (DESIGN.md rule 29), as real `flask worker` processes:
two in parallel deliver each of 50 emails exactly once; a worker killed with SIGKILL in the middle
of a batch loses nothing once another runs (its claim expires; at least once)."""
from __future__ import annotations

from collections import Counter

import pytest

from app.extensions import db
from app.models import EmailStatus
from app.services import mail
from tests.factories import make_org
from tests.support.worker import Worker, count_by_status, wait_until_sent

pytestmark = pytest.mark.postgres

COUNT = 50


@pytest.fixture
def org(pg_app):
    pg_app.config["MAIL_DELIVER_ON_COMMIT"] = False  # only the workers deliver here
    return make_org("acme", "Acme Analytics")


def queue_many(org, count=COUNT) -> set[str]:
    addresses = {f"person{n:02d}@example.com" for n in range(count)}
    for to in sorted(addresses):
        mail.queue_email(db.session, to=to, kind="notice", subject=f"Hello from {org.name}",
                         template="signin", organization=org, minutes=15, code="CODE2345",
                         link="http://portal.test/x")
    db.session.commit()
    return addresses


def received(mailbox) -> Counter:
    with mailbox.lock:
        return Counter(to for envelope in mailbox.envelopes for to in envelope)


def test_two_workers_deliver_each_email_exactly_once(pg_app, pg_database, org, mailbox):
    mailbox.delay = 0.02  # each message takes a moment, so both workers are busy at once
    workers = [Worker(pg_database, mailbox.url).started() for _ in range(2)]
    try:
        addresses = queue_many(org)
        mailbox.wait_count(COUNT, timeout=90)
        wait_until_sent(COUNT)
        codes = [w.stop() for w in workers]
    finally:
        for w in workers:
            w.kill()
    assert codes == [0, 0]
    got = received(mailbox)
    assert set(got) == addresses  # none lost
    assert max(got.values()) == 1, [a for a, n in got.items() if n > 1]  # none twice
    assert count_by_status(EmailStatus.SENT) == COUNT
    shares = [len(w.attempts()) for w in workers]
    assert sum(shares) == COUNT and min(shares) > 0, shares  # the queue was shared


def test_a_worker_killed_mid_batch_loses_nothing_after_a_restart(pg_app, pg_database, org,
                                                                  mailbox):
    settings = {"MAIL_CLAIM_SECONDS": 1}  # a dead worker's claim expires after a second
    addresses = queue_many(org)
    mailbox.delay = 0.01
    first = Worker(pg_database, mailbox.url, **settings).started()
    try:
        mailbox.wait_count(10, timeout=60)
        mailbox.hold()
        mailbox.wait_held()  # the worker is in the middle of sending one message
        first.kill()  # SIGKILL: no chance to record anything
    finally:
        first.kill()
        mailbox.release()
    assert count_by_status(EmailStatus.SENDING) == 1  # claimed by the dead worker
    assert count_by_status(EmailStatus.SENT) < COUNT

    second = Worker(pg_database, mailbox.url, **settings).started()
    try:
        wait_until_sent(COUNT)
        assert second.stop() == 0
    finally:
        second.kill()
    got = received(mailbox)
    assert set(got) == addresses  # every email arrived
    # At least once: only the message whose sending was cut off may have arrived twice.
    assert sum(got.values()) - COUNT <= 1
    assert count_by_status(EmailStatus.SENDING) == 0 and count_by_status(EmailStatus.QUEUED) == 0


def test_two_workers_share_email_and_webhooks_each_delivered_once(pg_app, pg_database, org, mailbox):
    """The one worker delivers both queues: two of them over 200 webhook events and 50 emails
    send each exactly once (SDK verification of the same deliveries: tests/api)."""
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from app.services import members
    from app.services.activity import Actor
    from tests.factories import make_endpoint, make_team

    ids: list[str] = []
    lock = threading.Lock()

    class Recorder(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            with lock:
                ids.append(self.headers["webhook-id"])
            time.sleep(0.005)  # both workers are at work at once
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    team = make_team(org, name="Globex", owner="olivia@example.com")
    make_endpoint(org, f"http://127.0.0.1:{server.server_port}/hooks", ["member.created"])
    for n in range(200):
        members.add_member(db.session, Actor.operator(), team, email=f"m{n:03}@example.com")
    db.session.commit()
    addresses = queue_many(org)
    workers = [Worker(pg_database, mailbox.url, WEBHOOK_BATCH=20).started() for _ in range(2)]
    try:
        mailbox.wait_count(COUNT, timeout=90)
        deadline = time.monotonic() + 90
        while len(ids) < 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        codes = [w.stop() for w in workers]
    finally:
        for w in workers:
            w.kill()
        server.shutdown()
    assert codes == [0, 0]
    assert len(ids) == 200 and len(set(ids)) == 200  # every event once, none lost
    got = received(mailbox)
    assert set(got) == addresses and max(got.values()) == 1
