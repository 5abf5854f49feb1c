"""Webhooks end to end with the unchanged polar-sdk==1.0.2: endpoints managed with the SDK's
`webhooks` calls, every change of rule 25 delivered to a loopback receiver that verifies each
request with the SDK's `validate_event` and loads it as the SDK's typed payload, a receiver that
is down, failing or hanging, and the SSRF guard (DESIGN.md rules 24-28)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Role, WebhookDelivery, WebhookEvent, utcnow
from app.services import members, organizations, seats, webhooks
from app.services.activity import Actor
from app.services.webhook_delivery import deliver_due
from tests.api.conftest import mint_token
from tests.factories import make_endpoint, member
from tests.support.receiver import Receiver, free_port

pytestmark = pytest.mark.sdk

PAYLOAD_CLASS = {
    "customer.created": "WebhookCustomerCreatedPayload",
    "customer.updated": "WebhookCustomerUpdatedPayload",
    "customer_seat.assigned": "WebhookCustomerSeatAssignedPayload",
    "customer_seat.claimed": "WebhookCustomerSeatClaimedPayload",
    "customer_seat.revoked": "WebhookCustomerSeatRevokedPayload",
    "member.created": "WebhookMemberCreatedPayload",
    "member.updated": "WebhookMemberUpdatedPayload",
    "member.deleted": "WebhookMemberDeletedPayload",
}


@pytest.fixture
def receiver(polar_sdk_1, tmp_path):
    with Receiver(polar_sdk_1.python, tmp_path / "receiver") as r:
        yield r


def config(app, **overrides) -> dict:
    """The app's settings with a short timeout, as a test deployment would set them."""
    return {**app.config, "WEBHOOK_TIMEOUT_SECONDS": 1, **overrides}


def test_endpoints_are_managed_with_the_sdk(polar_sdk_1, app, live_server, org, team, token,
                                            receiver):
    out = polar_sdk_1.run(
        """
        from polar.base import PolarClientError
        from polar.v2026_10 import Polar, errors
        polar = Polar(INPUT["token"], base_url=INPUT["base_url"])
        wh = polar.webhooks
        ep = wh.create_webhook_endpoint(url=INPUT["url"], format="raw", name="Main",
                                        events=["member.created", "customer_seat.assigned"])
        OUT["create"] = [ep.url, ep.format, ep.events, ep.enabled, ep.api_version,
                         ep.uses_standard_webhook_signature, ep.organization_id, ep.name]
        OUT["secret"] = ep.secret
        page = wh.list_webhook_endpoints(limit=10)
        OUT["list"] = [page.pagination.total_count, [e.id for e in page.items],
                       [e.secret for e in page.items]]
        OUT["iter"] = [e.id for e in wh.iter_list_webhook_endpoints(organization_id=INPUT["org_id"])]
        OUT["get"] = [wh.get_webhook_endpoint(ep.id).name, wh.get_webhook_endpoint(ep.id).secret]
        up = wh.update_webhook_endpoint(ep.id, name="Team changes", events=INPUT["all_types"])
        OUT["update"] = [up.name, sorted(up.events), up.url]
        off = wh.update_webhook_endpoint(ep.id, enabled=False)
        on = wh.update_webhook_endpoint(ep.id, enabled=True)
        OUT["toggle"] = [off.enabled, on.enabled]
        new = wh.reset_webhook_endpoint_secret(ep.id)
        OUT["new_secret"] = new.secret
        OUT["id"] = ep.id
        e = failure(lambda: wh.create_webhook_endpoint(url=INPUT["url"], format="discord",
                                                       events=["member.created"]),
                    errors.HTTPValidationError)
        OUT["discord"] = [e.status_code, e.error.detail[0].loc, e.error.detail[0].msg]
        e = failure(lambda: wh.create_webhook_endpoint(url=INPUT["url"], format="raw",
                                                       events=["order.created"]),
                    errors.HTTPValidationError)
        OUT["unknown_type"] = e.error.detail[0].loc
        e = failure(lambda: wh.create_webhook_endpoint(url="http://169.254.169.254/latest/meta-data",
                                                       format="raw", events=["member.created"]),
                    errors.HTTPValidationError)
        OUT["metadata"] = [e.error.detail[0].loc, e.error.detail[0].msg]
        e = failure(lambda: wh.get_webhook_endpoint("00000000-0000-4000-8000-000000000000"),
                    errors.ResourceNotFound)
        OUT["unknown"] = [e.status_code, e.error.error]
        e = failure(lambda: wh.list_webhook_endpoints(request_access_token=INPUT["members_token"]),
                    PolarClientError)
        OUT["scope"] = e.status_code
        e = failure(lambda: wh.create_webhook_endpoint(url=INPUT["url"], format="raw", events=[],
                                                       request_access_token=INPUT["read_token"]),
                    PolarClientError)
        OUT["read_only"] = e.status_code
        OUT["read_list"] = wh.list_webhook_endpoints(
            request_access_token=INPUT["read_token"]).pagination.total_count
        report()
        """,
        token=token, base_url=live_server.url, url=receiver.url, org_id=str(org.id),
        all_types=sorted(PAYLOAD_CLASS), members_token=mint_token(org, ["members:read"]),
        read_token=mint_token(org, ["webhooks:read"]),
    )
    assert out["create"] == [receiver.url, "raw", ["member.created", "customer_seat.assigned"],
                             True, "2026-10", True, str(org.id), "Main"]
    assert out["secret"].startswith("whsec_") and len(out["secret"]) > 40
    assert out["list"] == [1, [out["id"]], [""]]  # the secret is shown once, never listed
    assert out["iter"] == [out["id"]]
    assert out["get"] == ["Main", ""]
    assert out["update"] == ["Team changes", sorted(PAYLOAD_CLASS), receiver.url]
    assert out["toggle"] == [False, True]
    assert out["new_secret"].startswith("whsec_") and out["new_secret"] != out["secret"]
    assert out["discord"][:2] == [422, ["body", "format"]] and "'raw'" in out["discord"][2]
    assert out["unknown_type"][:2] == ["body", "events"]
    assert out["metadata"][0] == ["body", "url"] and "metadata" in out["metadata"][1]
    assert out["unknown"] == [404, "ResourceNotFound"]
    assert out["scope"] == 403 and out["read_only"] == 403 and out["read_list"] == 1
    endpoint_id = out["id"]

    # A change is announced, delivered, verified with the NEW secret, listed and redelivered.
    receiver.secret(out["new_secret"])
    members.add_member(db.session, Actor.operator(), team, email="new.hire@example.com")
    db.session.commit()
    assert deliver_due(db.session, config(app)) == 1
    [got] = receiver.records()
    assert got["valid"] and got["type"] == "member.created"
    assert got["data"]["email"] == "new.hire@example.com"

    receiver.mode("500")
    members.update_member(db.session, Actor.operator(), team, member(team, "dev@example.com").id,
                          name="Dev Renamed")
    db.session.commit()
    assert deliver_due(db.session, config(app)) == 1

    out = polar_sdk_1.run(
        """
        from polar.v2026_10 import Polar
        polar = Polar(INPUT["token"], base_url=INPUT["base_url"])
        wh = polar.webhooks
        every = wh.list_webhook_deliveries(limit=10)
        OUT["all"] = [[d.succeeded, d.http_code, d.webhook_event.type] for d in every.items]
        failed = wh.list_webhook_deliveries(succeeded=False, endpoint_id=INPUT["id"])
        OUT["failed"] = [d.webhook_event.id for d in failed.items]
        OUT["5xx"] = len(wh.list_webhook_deliveries(http_code_class="5xx").items)
        OUT["2xx"] = len(wh.list_webhook_deliveries(http_code_class="2xx").items)
        OUT["typed"] = len(list(wh.iter_list_webhook_deliveries(event_type=["member.created"])))
        OUT["query"] = len(wh.list_webhook_deliveries(query="Dev Renamed").items)
        OUT["future"] = wh.list_webhook_deliveries(start_timestamp="2999-01-01T00:00:00Z").pagination.total_count
        OUT["payload"] = every.items[0].webhook_event.payload
        OUT["redeliver"] = wh.redeliver_webhook_event(OUT["failed"][0])
        report()
        """,
        token=token, base_url=live_server.url, id=endpoint_id,
    )
    assert out["all"] == [[False, 500, "member.updated"], [True, 202, "member.created"]]
    assert out["5xx"] == 1 and out["2xx"] == 1 and out["typed"] == 1 and out["query"] == 1
    assert out["future"] == 0
    assert '"Dev Renamed"' in out["payload"]
    assert out["redeliver"]["id"] == out["failed"][0]

    receiver.mode("ok")
    assert deliver_due(db.session, config(app)) == 1
    again = receiver.records()[-1]
    assert again["valid"] and again["type"] == "member.updated"
    assert again["webhook_id"] == receiver.records()[1]["webhook_id"]  # the same id every time

    polar_sdk_1.run(
        """
        from polar.v2026_10 import Polar, errors
        polar = Polar(INPUT["token"], base_url=INPUT["base_url"])
        OUT["delete"] = polar.webhooks.delete_webhook_endpoint(INPUT["id"])
        failure(lambda: polar.webhooks.get_webhook_endpoint(INPUT["id"]), errors.ResourceNotFound)
        report()
        """, token=token, base_url=live_server.url, id=endpoint_id)
    assert db.session.scalar(select(func.count(WebhookEvent.id))) == 0  # gone with it


def every_change(org):
    """One change of each kind rule 25 announces, through the services as the portal, the API
    and the CLI make them; returns the (type, id) of every event it must cause, in order."""
    operator = Actor.operator()
    team = organizations.create_team(db.session, org, name="Initech", owner_email="bill@initech.example",
                                     external_id="initech")
    owner = member(team, "bill@initech.example")
    organizations.update_customer(db.session, operator, team, name="Initech Corp")
    organizations.set_seat_count(db.session, team, 5)
    peter, _ = members.add_member(db.session, operator, team, email="peter@initech.example",
                                  name="Péter Gibbons ✓")
    members.update_member(db.session, operator, team, peter.id, role=Role.BILLING_MANAGER)
    subscription = team_subscription(team)
    invited = seats.assign_seat(db.session, operator, subscription, email="milton@initech.example",
                                base_url="http://portal.test")
    token = invited.invitation_token
    given = seats.assign_seat(db.session, operator, subscription, email="samir@initech.example",
                              base_url="http://portal.test")
    peter_seat = seats.assign_seat(db.session, operator, subscription, member=peter,
                                   base_url="http://portal.test")
    db.session.commit()
    claimed, milton = seats.claim_seat(db.session, token)
    seats.revoke_seat(db.session, operator, given)
    members.remove_member(db.session, operator, team, peter.id)
    db.session.commit()

    expected = [
        ("customer.created", team.id), ("member.created", owner.id),
        ("customer.updated", team.id), ("member.created", peter.id),
        ("member.updated", peter.id),
        ("member.created", milton.id), ("customer_seat.assigned", invited.id),
        ("member.created", given.member_id), ("customer_seat.assigned", given.id),
        ("customer_seat.assigned", peter_seat.id),
        ("customer_seat.claimed", claimed.id), ("customer_seat.revoked", given.id),
        ("customer_seat.revoked", peter_seat.id), ("member.deleted", peter.id),
    ]
    return expected, team, owner, peter, invited, claimed, peter_seat


def test_every_change_arrives_as_the_sdks_typed_payload(app, org, receiver):
    """Rule 25: each type, from the change that causes it, with the right member or seat."""
    endpoint, secret = make_endpoint(org, receiver.url)
    receiver.secret(secret)
    expected, team, owner, peter, invited, claimed, peter_seat = every_change(org)
    assert deliver_due(db.session, config(app)) == len(expected)
    records = receiver.records()
    assert all(r["valid"] for r in records), [r.get("error") for r in records]
    assert sorted((r["type"], r["data"]["id"]) for r in records) == sorted(
        (t, str(i)) for t, i in expected)
    for record in records:
        assert record["payload_class"] == PAYLOAD_CLASS[record["type"]]
    by = {(r["type"], r["data"]["id"]): r["data"] for r in records}
    assert by[("customer.updated", str(team.id))]["name"] == "Initech Corp"
    assert by[("customer.created", str(team.id))]["type"] == "team"
    assert by[("member.updated", str(peter.id))]["role"] == "billing_manager"
    assert by[("member.created", str(peter.id))]["name"] == "Péter Gibbons ✓"
    assert by[("customer_seat.assigned", str(invited.id))]["status"] == "pending"
    assert by[("customer_seat.claimed", str(claimed.id))]["member"]["email"] == "milton@initech.example"
    assert by[("customer_seat.revoked", str(peter_seat.id))]["member_id"] == str(peter.id)
    assert by[("customer_seat.revoked", str(peter_seat.id))]["status"] == "revoked"
    assert by[("member.deleted", str(peter.id))]["email"] == "peter@initech.example"
    assert len({r["webhook_id"] for r in records}) == len(expected)


def team_subscription(team):
    from app.models import Subscription

    return db.session.scalars(select(Subscription).where(Subscription.customer_id == team.id)).one()


def test_a_receiver_that_is_down_misses_nothing(app, org, team, polar_sdk_1, tmp_path):
    """Refused, 500, and a hang past the timeout: each attempt recorded, retried later and later;
    once the receiver is back every event arrives, duplicates only under the same webhook-id."""
    port = free_port()
    receiver = Receiver(polar_sdk_1.python, tmp_path / "down", port=port)
    endpoint, secret = make_endpoint(org, receiver.url, ["member.created", "member.updated"])
    receiver.secret(secret)
    for n in range(3):
        members.add_member(db.session, Actor.operator(), team, email=f"p{n}@example.com")
    db.session.commit()
    ids = set(db.session.scalars(select(WebhookEvent.webhook_id)))
    cfg, now = config(app), utcnow()

    def next_waits():
        db.session.expire_all()
        return sorted((e.next_attempt_at - now).total_seconds()
                      for e in db.session.scalars(select(WebhookEvent)))

    assert deliver_due(db.session, cfg, now) == 3  # nobody listens: connection refused
    waits = [next_waits()]
    assert deliver_due(db.session, cfg, now) == 0  # nothing is due again yet
    refused = db.session.scalars(select(WebhookDelivery)).all()
    assert {d.http_code for d in refused} == {None}
    assert all("Could not connect" in d.response and not d.succeeded for d in refused)

    with receiver:
        receiver.mode("500")
        now += timedelta(minutes=1)
        assert deliver_due(db.session, cfg, now) == 3
        waits.append(next_waits())
        receiver.mode("hang:3")
        now += timedelta(minutes=5)
        assert deliver_due(db.session, cfg, now) == 3
        waits.append(next_waits())
        hung = db.session.scalars(select(WebhookDelivery).where(
            WebhookDelivery.http_code.is_(None), WebhookDelivery.response.like("No answer%"))).all()
        assert len(hung) == 3
        receiver.mode("ok")
        now += timedelta(hours=1)
        assert deliver_due(db.session, cfg, now) == 3
        assert deliver_due(db.session, cfg, now + timedelta(days=10)) == 0  # all done

    # Growing delays: seconds, then a minute or two, then more (with jitter).
    assert max(waits[0]) < min(waits[1]) and max(waits[1]) < min(waits[2])
    assert max(waits[0]) < 10 and min(waits[2]) >= 100
    counts = dict(db.session.execute(select(WebhookDelivery.event_id, func.count())
                                     .group_by(WebhookDelivery.event_id)).all())
    assert sorted(counts.values()) == [4, 4, 4]
    records = receiver.records()
    assert all(r["valid"] for r in records)
    assert {r["webhook_id"] for r in records} == ids
    ok = [r for r in records if r["mode"] == "ok"]
    assert sorted(r["webhook_id"] for r in ok) == sorted(ids)
    events = db.session.scalars(select(WebhookEvent)).all()
    assert all(e.succeeded and e.next_attempt_at is None and e.attempts == 4 for e in events)


def test_ssrf_refused_when_saved_and_before_each_delivery(app, api, org, team, receiver):
    """Rule 24: private, loopback (production), metadata and redirecting URLs."""
    production = {"PORTAL_ENV": "production"}
    app.config.update(production)
    try:
        for url, why in [
            ("http://example.com/hooks", "https"),
            ("https://127.0.0.1/hooks", "loopback"),
            ("https://localhost:8443/hooks", "loopback"),
            ("https://[::1]/hooks", "loopback"),
            ("https://[::ffff:10.1.2.3]/hooks", "private"),
            ("https://10.0.0.8/hooks", "private"),
            ("https://192.168.1.20/hooks", "private"),
            ("https://169.254.169.254/latest/meta-data/", "metadata"),
            ("https://metadata.google.internal/computeMetadata/v1/", "metadata"),
            ("https://224.0.0.1/hooks", "multicast"),
        ]:
            answer = api.post("/v1/webhooks/endpoints",
                              json={"url": url, "format": "raw", "events": ["member.created"]})
            assert answer.status_code == 422, url
            detail = answer.get_json()["detail"][0]
            assert detail["loc"] == ["body", "url"] and why in detail["msg"], (url, detail)
    finally:
        app.config["PORTAL_ENV"] = "development"
    # Outside production loopback http is fine, the metadata address never.
    assert api.post("/v1/webhooks/endpoints", json={"url": "http://169.254.169.254/", "format": "raw",
                                                    "events": []}).status_code == 422

    # Saved outside production (names are not looked up then); by delivery time in production
    # the name resolves to loopback, as a DNS rebinding would make it: looked up and checked
    # again, nothing is sent.
    endpoint, secret = make_endpoint(org, f"https://localhost:{receiver.port}/hooks")
    receiver.secret(secret)
    members.add_member(db.session, Actor.operator(), team, email="a@example.com")
    db.session.commit()
    assert deliver_due(db.session, config(app, **production)) == 1
    refused = db.session.scalars(select(WebhookDelivery)).one()
    assert not refused.succeeded and refused.http_code is None
    assert refused.response.startswith("Not sent: The URL points to a loopback address")
    assert receiver.records() == []

    # A redirect is never followed, wherever it points.
    receiver.mode(f"redirect:http://127.0.0.1:{receiver.port}/landed")
    webhooks.update_endpoint(db.session, org, app.config, endpoint.id, url=receiver.url)
    webhooks.redeliver(db.session, org, db.session.scalars(select(WebhookEvent)).one().id)
    db.session.commit()
    assert deliver_due(db.session, config(app)) == 1
    db.session.expire_all()
    latest = db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.created_at.desc())).first()
    assert latest.http_code == 302 and not latest.succeeded and "not followed" in latest.response
    assert [r["path"] for r in receiver.records()] == ["/hooks"]


def test_a_delivery_process_killed_mid_batch_loses_nothing(app, org, team, receiver):
    """SIGKILL while sending: what was not recorded is sent again by the next run, under the
    same webhook-id; nothing is lost."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    endpoint, secret = make_endpoint(org, receiver.url, ["member.created"])
    receiver.secret(secret)
    receiver.mode("slow:0.3")
    for n in range(8):
        members.add_member(db.session, Actor.operator(), team, email=f"k{n}@example.com")
    db.session.commit()
    ids = set(db.session.scalars(select(WebhookEvent.webhook_id)))
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "SECRET_KEY": app.config["SECRET_KEY"], "PORTAL_ENV": "development"}
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "webhooks", "deliver"]
    first = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    while len(receiver.records()) < 3 and first.poll() is None:
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    db.session.expire_all()
    assert db.session.scalar(select(func.count(WebhookEvent.id))
                             .where(WebhookEvent.next_attempt_at.is_not(None))) > 0
    receiver.mode("ok")
    second = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stderr
    records = receiver.records()
    assert all(r["valid"] for r in records)
    assert {r["webhook_id"] for r in records} == ids
    db.session.expire_all()
    assert all(e.succeeded for e in db.session.scalars(select(WebhookEvent)))
