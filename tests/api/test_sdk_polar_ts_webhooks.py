"""The receiver's half in Node: every delivery the portal sends is verified and parsed by the
unchanged TypeScript SDKs' own `validateEvent`, `webhooks.validateEvent` of @polar-sh/sdk@1.0.1
(`@polar-sh/sdk/2026-10`) and `validateEvent` of @polar-sh/sdk@0.48.1 (`@polar-sh/sdk/webhooks`,
which checks only Polar's original signature and parses each payload strictly with its schemas).
A tampered body is refused by both."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.extensions import db
from app.services.webhook_delivery import deliver_due
from tests.api.test_webhooks_sdk import config, every_change
from tests.factories import make_endpoint

pytestmark = pytest.mark.sdk

SCRIPTS = {
    "1.0.1": """
        import { webhooks } from "@polar-sh/sdk/2026-10";
        const check = (body, headers) => webhooks.validateEvent(body, headers, INPUT.secret);
        const refusal = webhooks.PolarWebhookVerificationError;
    """,
    "0.48.1": """
        import { validateEvent, WebhookVerificationError } from "@polar-sh/sdk/webhooks";
        const check = async (body, headers) => validateEvent(body, headers, INPUT.secret);
        const refusal = WebhookVerificationError;
    """,
}
CHECK_ALL = """
    OUT.events = [];
    for (const d of INPUT.deliveries) {
        const event = await check(d.body, d.headers);
        OUT.events.push([event.type, event.data.id, event.data.status ?? null, event.data.email ?? null]);
    }
    const d = INPUT.deliveries[0];
    try {
        await check(d.body.replace("Initech", "Evil"), d.headers);
        OUT.tampered = "accepted";
    } catch (error) {
        OUT.tampered = error instanceof refusal ? "refused" : String(error);
    }
    report();
"""


class Recorder(BaseHTTPRequestHandler):
    deliveries: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        headers = {k.lower(): v for k, v in self.headers.items() if k.lower().startswith("webhook-")}
        self.deliveries.append({"body": body, "headers": headers})
        self.send_response(202)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def deliveries(app, org):
    """The real deliveries of one change of each kind, as the receiver got them, and the secret."""
    Recorder.deliveries = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        _endpoint, secret = make_endpoint(org, f"http://127.0.0.1:{server.server_port}/hooks")
        expected = every_change(org)[0]
        assert deliver_due(db.session, config(app)) == len(expected)
    finally:
        server.shutdown()
    assert len(Recorder.deliveries) == len(expected)
    return list(Recorder.deliveries), secret, expected


@pytest.mark.parametrize("version", ["1.0.1", "0.48.1"])
def test_every_delivery_is_verified_and_parsed_by_the_typescript_sdk(request, deliveries, version):
    runner = request.getfixturevalue("ts_sdk_1" if version == "1.0.1" else "ts_sdk_0_48")
    recorded, secret, expected = deliveries
    out = runner.run(SCRIPTS[version] + CHECK_ALL, deliveries=recorded, secret=secret)
    assert sorted((t, i) for t, i, _, _ in out["events"]) == sorted((t, str(i)) for t, i in expected)
    assert {status for t, _, status, _ in out["events"] if t == "customer_seat.revoked"} == {"revoked"}
    assert [email for t, _, _, email in out["events"] if t == "member.deleted"] == ["peter@initech.example"]
    assert out["tampered"] == "refused"
    assert json.loads(recorded[0]["body"])["api_version"] == "2026-10"
