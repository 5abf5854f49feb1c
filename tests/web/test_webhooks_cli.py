"""`flask --app wsgi webhooks list|create|deliveries|deliver` and the webhook token scopes."""
from __future__ import annotations

import pytest

from app.models import OrganizationToken, WebhookDelivery, WebhookEndpoint
from app.services import members, webhooks
from app.services.activity import Actor
from tests.factories import make_org, make_team
from tests.web.test_cli import assert_clear_error, assert_ok, fresh, last_line


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=[str(a) for a in args])


@pytest.fixture
def org(app):
    return make_org("acme", "Acme")


class TestWebhooksCreate:
    def test_prints_the_secret_once_alone_on_the_last_line(self, cli, session, org, app):
        result = cli("webhooks", "create", "acme", "--url", "http://127.0.0.1:9/hooks",
                     "--event", "member.created", "--event", "customer_seat.claimed")
        assert_ok(result)
        secret = last_line(result)
        assert secret.startswith("whsec_") and "cannot be shown again" in result.stderr
        [endpoint] = fresh(session, WebhookEndpoint)
        assert endpoint.events == ["member.created", "customer_seat.claimed"]
        assert webhooks.decrypt_secret(app.config, endpoint.secret_encrypted) == secret
        assert secret not in endpoint.secret_encrypted

    def test_every_type_by_default(self, cli, session, org):
        assert_ok(cli("webhooks", "create", "acme", "--url", "http://127.0.0.1:9/hooks"))
        [endpoint] = fresh(session, WebhookEndpoint)
        assert endpoint.events == list(webhooks.EVENT_TYPES)

    @pytest.mark.parametrize("args, message", [
        (["--url", "http://169.254.169.254/latest"], "The URL points to a link-local or cloud metadata address"),
        (["--url", "ftp://example.com/"], "The URL must start with https://"),
        (["--url", "http://127.0.0.1:9/", "--event", "order.paid"], "Unknown or unsupported event"),
    ])
    def test_bad_input_is_a_clear_error(self, cli, session, org, args, message):
        assert_clear_error(cli("webhooks", "create", "acme", *args), message)
        assert fresh(session, WebhookEndpoint) == []

    def test_outside_production_the_error_does_not_ask_for_https_only(self, cli, org):
        """http:// is accepted outside production, so the refusal says so."""
        assert_clear_error(cli("webhooks", "create", "acme", "--url", "ftp://example.com/"),
                           "The URL must start with https:// (or http:// outside production) and name a host.")

    def test_unknown_organization(self, cli):
        assert_clear_error(cli("webhooks", "create", "nope", "--url", "http://127.0.0.1:9/"),
                           "No organization called 'nope'.")


class TestWebhooksListDeliveriesAndDeliver:
    def test_list_deliver_and_deliveries(self, cli, session, org, app):
        assert "No webhook endpoints" in cli("webhooks", "list", "acme").stdout
        assert_ok(cli("webhooks", "create", "acme", "--url", "http://127.0.0.1:9/refused"))
        [endpoint] = fresh(session, WebhookEndpoint)
        listed = cli("webhooks", "list", "acme")
        assert f"{endpoint.id}  enabled  http://127.0.0.1:9/refused" in listed.stdout
        assert "whsec_" not in listed.output
        team = make_team(org, name="Globex", owner="olivia@example.com")
        members.add_member(session, Actor.operator(), team, email="kim@example.com")
        session.commit()
        app.config["WEBHOOK_TIMEOUT_SECONDS"] = 1
        delivered = cli("webhooks", "deliver", "--once")
        assert_ok(delivered)
        assert "Handled 3 webhook events." in delivered.stdout  # team, its owner, kim
        assert len(fresh(session, WebhookDelivery)) == 3
        shown = cli("webhooks", "deliveries", "acme", "--failed")
        assert_ok(shown)
        assert shown.stdout.count("failed error") == 3 and "Could not connect" in shown.stdout
        assert "member.created" in shown.stdout and "customer.created" in shown.stdout
        assert "Handled 0 webhook events." in cli("webhooks", "deliver").stdout  # not due yet

    def test_deliveries_of_an_unknown_endpoint(self, cli, org):
        assert_clear_error(cli("webhooks", "deliveries", "acme", "--endpoint", "nope"),
                           "Webhook endpoint not found.")


class TestTokenScopes:
    def test_webhook_scopes_are_accepted(self, cli, session, org):
        result = cli("token", "create", "acme", "--scope", "webhooks:read", "--scope", "webhooks:write")
        assert_ok(result)
        [row] = fresh(session, OrganizationToken)
        assert row.scopes == ["webhooks:read", "webhooks:write"]
