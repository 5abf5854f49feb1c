"""The webhooks service (DESIGN.md rules 24-28): a class per function, a test per rule."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from flask import current_app
from sqlalchemy import func, select

from app.errors import NotFound, RuleViolation
from app.extensions import db
from app.models import Role, WebhookEndpoint, WebhookEvent
from app.services import members, organizations, seats, webhooks
from app.services.activity import Actor
from app.services.webhook_delivery import RETRY_DELAYS, deliver_due, next_delay
from tests.api.conftest import Api, as_member, mint_token
from tests.factories import make_endpoint, make_org, make_team, member
from tests.support.web import post_form, sign_in_client

URL = "http://127.0.0.1:9/hooks"  # nothing is sent in these tests


@pytest.fixture
def org(app):
    return make_org("acme", "Acme")


@pytest.fixture
def team(org):
    return make_team(org, name="Globex", owner="olivia@globex.example", seats=3,
                     members={"bob@globex.example": Role.MEMBER})


def events(type_=None) -> list[WebhookEvent]:
    db.session.expire_all()
    stmt = select(WebhookEvent).order_by(WebhookEvent.created_at, WebhookEvent.id)
    if type_:
        stmt = stmt.where(WebhookEvent.type == type_)
    return list(db.session.scalars(stmt))


def data(event: WebhookEvent) -> dict:
    return json.loads(event.payload)["data"]


class TestCreateEndpoint:
    def test_secret_is_standard_webhooks_and_stored_encrypted(self, org):
        endpoint, secret = make_endpoint(org, URL)
        assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32
        assert secret not in endpoint.secret_encrypted and secret[6:] not in endpoint.secret_encrypted
        assert webhooks.decrypt_secret(current_app.config, endpoint.secret_encrypted) == secret

    def test_another_key_cannot_read_it_and_says_what_to_do(self, org):
        endpoint, _secret = make_endpoint(org, URL)
        other = {**current_app.config, "SECRET_KEY": "another-secret-key-entirely"}
        with pytest.raises(RuleViolation, match="Reset the secret"):
            webhooks.decrypt_secret(other, endpoint.secret_encrypted)

    def test_webhook_secret_key_wins_over_secret_key(self, org):
        config = {**current_app.config, "WEBHOOK_SECRET_KEY": "a-separate-key-for-webhooks"}
        endpoint, secret = webhooks.create_endpoint(db.session, org, config, url=URL, events=[])
        with pytest.raises(RuleViolation):
            webhooks.decrypt_secret(current_app.config, endpoint.secret_encrypted)
        rotated = {**config, "SECRET_KEY": "cookies-key-rotated-alone"}
        assert webhooks.decrypt_secret(rotated, endpoint.secret_encrypted) == secret

    @pytest.mark.parametrize("fmt", ["discord", "slack"])
    def test_only_the_raw_format(self, org, fmt):
        with pytest.raises(RuleViolation, match="Use format 'raw'") as err:
            webhooks.create_endpoint(db.session, org, current_app.config, url=URL, events=[],
                                     format=fmt)
        assert err.value.field == "format"

    def test_only_the_types_the_portal_sends(self, org):
        with pytest.raises(RuleViolation, match="order.created") as err:
            webhooks.create_endpoint(db.session, org, current_app.config, url=URL,
                                     events=["member.created", "order.created"])
        assert err.value.field == "events"

    def test_duplicate_types_are_kept_once(self, org):
        endpoint, _ = webhooks.create_endpoint(db.session, org, current_app.config, url=URL,
                                               events=["member.created", "member.created"])
        assert endpoint.events == ["member.created"]


class TestCheckUrl:
    @pytest.mark.parametrize("url", [
        "https://127.0.0.1/", "https://localhost/", "https://[::1]/", "https://10.1.2.3/",
        "https://172.16.0.1/", "https://192.168.0.1/", "https://100.64.0.1/",
        "https://169.254.169.254/", "https://[fe80::1]/", "https://[fd00:ec2::254]/",
        "https://239.1.1.1/", "https://0.0.0.0/", "https://[::ffff:127.0.0.1]/",
        "http://93.184.215.14/", "ftp://93.184.215.14/", "https://user:pw@93.184.215.14/",
        "https://no-such-host.invalid/",
    ])
    def test_production_refuses(self, url):
        with pytest.raises(RuleViolation) as err:
            webhooks.check_url(url, production=True, resolve=True)
        assert err.value.field == "url"

    def test_production_accepts_a_public_https_address(self):
        assert webhooks.check_url("https://93.184.215.14/hooks", production=True,
                                  resolve=True) == ["93.184.215.14"]

    def test_names_are_resolved_and_every_address_checked(self):
        with pytest.raises(RuleViolation, match="loopback"):
            webhooks.check_url("https://localhost:8443/hooks", production=True, resolve=True)

    def test_outside_production_loopback_http_is_allowed_metadata_never(self):
        assert webhooks.check_url("http://127.0.0.1:8000/h", production=False,
                                  resolve=True) == ["127.0.0.1"]
        assert webhooks.check_url("http://localhost:8000/h", production=False, resolve=False) == []
        for url in ("http://169.254.169.254/latest", "http://metadata.google.internal/",
                    "http://[fd00:ec2::254]/"):
            with pytest.raises(RuleViolation, match="metadata"):
                webhooks.check_url(url, production=False, resolve=False)


class TestSign:
    def test_standard_webhooks_signature(self):
        secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
        expected = base64.b64encode(hmac.new(b"k" * 32, b"msg_1.1700000000.{}",
                                             hashlib.sha256).digest()).decode()
        original = base64.b64encode(hmac.new(secret.encode(), b"msg_1.1700000000.{}",
                                             hashlib.sha256).digest()).decode()
        assert webhooks.sign(secret, "msg_1", 1700000000, "{}") == f"v1,{expected} v1,{original}"


class TestAnnounce:
    def test_one_event_per_enabled_endpoint_subscribed_to_the_type(self, org, team):
        everything, _ = make_endpoint(org, URL)
        make_endpoint(org, URL, ["customer_seat.claimed"])
        disabled, _ = make_endpoint(org, URL)
        webhooks.update_endpoint(db.session, org, current_app.config, disabled.id, enabled=False)
        make_endpoint(make_org("globex-vendor"), URL)
        db.session.commit()
        members.add_member(db.session, Actor.operator(), team, email="kim@globex.example")
        db.session.commit()
        [event] = events()
        assert event.endpoint_id == everything.id and event.type == "member.created"
        assert data(event)["email"] == "kim@globex.example"
        assert event.webhook_id.startswith("msg_") and event.next_attempt_at is not None

    def test_a_rolled_back_change_announces_nothing(self, org, team):
        make_endpoint(org, URL)
        members.add_member(db.session, Actor.operator(), team, email="kim@globex.example")
        db.session.rollback()
        assert events() == []

    def test_a_refused_request_announces_nothing(self, org, team, client):
        make_endpoint(org, URL)
        api = Api(client, mint_token(org))
        owner = member(team, "olivia@globex.example")
        assert api.delete(f"/v1/customers/{team.id}/members/{owner.id}").status_code == 422
        assert events() == []

    def test_the_payload_data_is_the_api_body(self, org, team, client):
        make_endpoint(org, URL)
        api = Api(client, mint_token(org))
        created = api.post(f"/v1/customers/{team.id}/members",
                           json={"email": "kim@globex.example", "name": "Kim"}).get_json()
        [event] = events("member.created")
        assert data(event) == created
        body = json.loads(event.payload)
        assert body["type"] == "member.created" and body["api_version"] == "2026-10"
        assert body["timestamp"].endswith("Z")

    def test_announced_whoever_makes_the_change(self, org, team, app, client):
        make_endpoint(org, URL)
        owner = member(team, "olivia@globex.example")
        # the portal page
        sign_in_client(client, owner)
        post_form(client, "/acme/team/members", {"email": "page@globex.example", "role": "member"},
                  page="/acme/team")
        # the customer-portal API
        as_member(app.test_client(), owner).post("/v1/customer-portal/members",
                                                 json={"email": "portal@globex.example"})
        # the organization API
        Api(app.test_client(), mint_token(org)).post(
            f"/v1/customers/{team.id}/members", json={"email": "api@globex.example"})
        # the CLI
        result = app.test_cli_runner().invoke(args=["team", "create", "acme", "--name", "Initech",
                                                    "--owner-email", "bill@initech.example"])
        assert result.exit_code == 0, result.output
        created = {data(e)["email"] for e in events("member.created")}
        assert created == {"page@globex.example", "portal@globex.example", "api@globex.example",
                           "bill@initech.example"}
        assert [data(e)["name"] for e in events("customer.created")] == ["Initech"]

    def test_a_transfer_announces_both_members(self, org, team):
        make_endpoint(org, URL)
        bob = member(team, "bob@globex.example")
        members.transfer_ownership(db.session, Actor.operator(), team, bob.id)
        db.session.commit()
        roles = {data(e)["email"]: data(e)["role"] for e in events("member.updated")}
        assert roles == {"olivia@globex.example": "billing_manager", "bob@globex.example": "owner"}

    def test_removal_revokes_each_seat_with_its_own_event(self, org, team):
        from app.models import Subscription

        organizations.set_seat_count(db.session, team, 5)
        sub = db.session.scalars(select(Subscription).where(Subscription.customer_id == team.id)).one()
        bob = member(team, "bob@globex.example")
        seat = seats.assign_seat(db.session, Actor.operator(), sub, member=bob,
                                 base_url="http://portal.test")
        db.session.commit()
        make_endpoint(org, URL, ["customer_seat.revoked", "member.deleted"])
        members.remove_member(db.session, Actor.operator(), team, bob.id)
        db.session.commit()
        revoked = events("customer_seat.revoked")
        assert [data(e)["id"] for e in revoked] == [str(seat.id)]
        assert data(revoked[0])["status"] == "revoked" and data(revoked[0])["revoked_at"]
        assert [data(e)["id"] for e in events("member.deleted")] == [str(bob.id)]

    def test_a_change_that_changes_nothing_announces_nothing(self, org, team):
        make_endpoint(org, URL)
        members.add_member(db.session, Actor.operator(), team, email="BOB@globex.example")
        organizations.update_customer(db.session, Actor.operator(), team, name=team.name)
        db.session.commit()
        assert events() == []


class TestRetries:
    def test_delays_grow_from_seconds_to_hours_over_about_three_days(self):
        assert list(RETRY_DELAYS) == sorted(RETRY_DELAYS) and RETRY_DELAYS[0] < 60
        assert 70 * 3600 <= sum(RETRY_DELAYS) <= 80 * 3600
        config = {}
        assert next_delay(config, len(RETRY_DELAYS) + 1) is None
        for n, base in enumerate(RETRY_DELAYS, start=1):
            assert 0.9 * base <= next_delay(config, n) <= 1.1 * base

    def test_the_endpoint_is_disabled_after_failing_for_the_whole_schedule(self, org, team, app):
        from datetime import timedelta

        from app.models import utcnow

        endpoint, _ = make_endpoint(org, "http://127.0.0.1:9/refused")
        members.add_member(db.session, Actor.operator(), team, email="kim@globex.example")
        db.session.commit()
        config = {**app.config, "WEBHOOK_RETRY_DELAYS": (60, 120), "WEBHOOK_TIMEOUT_SECONDS": 1}
        now = utcnow()
        for step in (0, 2, 5):
            assert deliver_due(db.session, config, now + timedelta(minutes=step)) == 1
        db.session.expire_all()
        endpoint = db.session.get(WebhookEndpoint, endpoint.id)
        event = db.session.scalars(select(WebhookEvent)).one()
        assert event.attempts == 3 and event.next_attempt_at is None and event.succeeded is False
        assert not endpoint.enabled and "every delivery failed since" in endpoint.disabled_reason
        # A disabled endpoint gets no new events, and redelivery says why it cannot.
        members.add_member(db.session, Actor.operator(), team, email="lee@globex.example")
        assert db.session.scalar(select(func.count(WebhookEvent.id))) == 1
        with pytest.raises(RuleViolation, match="disabled"):
            webhooks.redeliver(db.session, org, event.id)
        webhooks.update_endpoint(db.session, org, config, endpoint.id, enabled=True)
        assert endpoint.disabled_reason is None
        assert webhooks.redeliver(db.session, org, event.id).round_attempts == 0


class TestLookups:
    def test_another_organizations_endpoint_and_event_are_not_found(self, org, team):
        endpoint, _ = make_endpoint(org, URL)
        members.add_member(db.session, Actor.operator(), team, email="kim@globex.example")
        other = make_org("globex-vendor")
        with pytest.raises(NotFound):
            webhooks.get_endpoint(db.session, other, endpoint.id)
        with pytest.raises(NotFound):
            webhooks.redeliver(db.session, other, events()[0].id)
        with pytest.raises(NotFound):
            webhooks.get_endpoint(db.session, org, "not-a-uuid")


class TestSettings:
    def test_retry_delays_and_timeout_come_from_the_environment(self, monkeypatch, tmp_path):
        from app import config

        monkeypatch.setenv("WEBHOOK_RETRY_DELAYS", "1,2.5,10")
        monkeypatch.setenv("WEBHOOK_TIMEOUT_SECONDS", "3")
        settings = config.from_env(str(tmp_path))
        assert settings["WEBHOOK_RETRY_DELAYS"] == (1.0, 2.5, 10.0)
        assert settings["WEBHOOK_TIMEOUT_SECONDS"] == 3
        monkeypatch.setenv("WEBHOOK_RETRY_DELAYS", "soon")
        with pytest.raises(config.ConfigError, match="WEBHOOK_RETRY_DELAYS must be seconds"):
            config.from_env(str(tmp_path))
