"""The SDK examples of docs/api.md run as written, each with its SDK (the Python ones in its
virtualenv, the TypeScript ones with node and the npm-installed SDK), against a live server:
documentation that vendors copy must not rot."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ActivityEvent, Member, Seat, Subscription, UserGroup, WebhookEvent
from app.services import members, seats, webhooks
from app.services.activity import Actor
from app.services.webhook_delivery import deliver_due
from tests.factories import make_endpoint, member
from tests.support.receiver import free_port

pytestmark = pytest.mark.sdk

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
EXAMPLE = re.compile(r"<!-- example: (?P<sdk>[\w.=@/-]+) -->\n```(?:python|ts)\n(?P<code>.*?)```", re.S)


def examples() -> dict[str, str]:
    return {m["sdk"]: m["code"] for m in EXAMPLE.finditer(DOC.read_text())}


def test_the_doc_has_one_example_per_sdk():
    assert set(examples()) == {"polar-sdk==1.0.2", "polar-sdk==0.32.0", "@polar-sh/sdk@1.0.1",
                               "@polar-sh/sdk@0.48.1", "cloudflare==5.9.0"}


def _env(live_server, token) -> dict:
    return {"PORTAL_URL": live_server.url, "PORTAL_TOKEN": token, "PORTAL_CUSTOMER": "cus_core"}


def test_polar_sdk_1_example(polar_sdk_1, live_server, team, token):
    out = polar_sdk_1.run_code(examples()["polar-sdk==1.0.2"], _env(live_server, token))
    assert "billing_manager alex@example.com" in out
    assert "refused: Input should be 'member' or 'billing_manager'" in out
    assert "pending 4" in out
    assert f"iframe src: {live_server.url}/acme/portal/enter?token=" in out
    assert "signed in as alex@example.com" in out and "5 members" in out
    db.session.expire_all()
    assert db.session.scalar(select(Seat).where(Seat.email == "new.hire@example.com"))


def test_polar_sdk_0_32_example(polar_sdk_0, live_server, team, token):
    out = polar_sdk_0.run_code(examples()["polar-sdk==0.32.0"], _env(live_server, token))
    assert "owner owner@example.com" in out and "member dev@example.com" in out
    assert "added ops@example.com" in out
    assert "refused: Cannot add a member as owner" in out
    db.session.expire_all()
    assert db.session.scalar(select(Member).where(Member.email == "ops@example.com"))


def test_ts_sdk_1_example(ts_sdk_1, live_server, team, token):
    out = ts_sdk_1.run_code(examples()["@polar-sh/sdk@1.0.1"], _env(live_server, token))
    assert "billing_manager alex@example.com" in out and "owner owner@example.com" in out
    assert "refused: The owner cannot be removed" in out
    assert "pending 4" in out
    assert f"iframe src: {live_server.url}/acme/portal/enter?token=" in out
    assert "signed in as alex@example.com" in out and "5 members" in out
    db.session.expire_all()
    assert db.session.scalar(select(Seat).where(Seat.email == "new.hire@example.com"))
    assert db.session.scalar(select(Member).where(Member.email == "owner@example.com")).deleted_at is None


def test_ts_sdk_0_48_example(ts_sdk_0_48, live_server, team, token):
    out = ts_sdk_0_48.run_code(examples()["@polar-sh/sdk@0.48.1"], _env(live_server, token))
    assert "owner owner@example.com" in out and "member dev@example.com" in out
    assert "added ops@example.com" in out
    assert "refused: Cannot add a member as owner" in out
    assert "3 of 3 seats free" in out
    db.session.expire_all()
    assert db.session.scalar(select(Member).where(Member.email == "ops@example.com"))


def test_cloudflare_user_groups_example(cloudflare_sdk, live_server, team, token):
    env = {**_env(live_server, token), "PORTAL_ACCOUNT": team.id.hex}
    out = cloudflare_sdk.run_code(examples()["cloudflare==5.9.0"], env).splitlines()
    assert out[:2] == ["in Engineering: billing@example.com pending",
                       "in Engineering: dev@example.com pending"]
    assert out[2] == "groups: ['Platform']"
    assert out[3] == "refused: A group named 'PLATFORM' already exists in this team."
    assert out[4].startswith("member: dev@example.com since 20") and out[4].endswith("first name Dev")
    assert out[5:] == ["deleted: True"]
    db.session.expire_all()
    assert db.session.scalar(select(UserGroup.id)) is None
    assert [e.action for e in db.session.scalars(select(ActivityEvent).where(
        ActivityEvent.subject_type == "user_group").order_by(ActivityEvent.created_at))] == [
        "group.created", "group.members_added", "group.renamed", "group.members_replaced",
        "group.deleted"]


RECEIVER = re.compile(r"<!-- receiver: (?P<sdk>\S+) -->\n```(?:python|ts)\n(?P<code>.*?)```", re.S)


def receiver_example(sdk: str) -> str:
    [code] = [m["code"] for m in RECEIVER.finditer(DOC.read_text()) if m["sdk"] == sdk]
    return code


@pytest.mark.parametrize("sdk", ["polar-sdk==1.0.2", "@polar-sh/sdk@1.0.1"])
def test_webhook_receiver_example(request, sdk, app, org, team, tmp_path):
    """The Webhooks section's receivers (Python and Node), run as written with the SDK, verify and
    read what the portal sends, and handle a redelivered event once."""
    port = free_port()
    _endpoint, secret = make_endpoint(org, f"http://127.0.0.1:{port}/hooks")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "NODE_"))}
    env.update(PORT=str(port), POLAR_WEBHOOK_SECRET=secret)
    if sdk.startswith("polar-sdk"):
        script = tmp_path / "receiver.py"
        command, cwd = [str(request.getfixturevalue("polar_sdk_1").python), str(script)], None
    else:
        runner = request.getfixturevalue("ts_sdk_1")
        script = runner.tmp_dir / "receiver.mjs"
        command, cwd = [runner.node, str(script)], runner.tmp_dir
    script.write_text(receiver_example(sdk))
    process = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        while True:  # until it listens
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, process.stderr.read()
                time.sleep(0.05)
        operator = Actor.operator()
        sub = db.session.scalars(select(Subscription).where(Subscription.customer_id == team.id)).one()
        seat = seats.assign_seat(db.session, operator, sub, email="new.hire@example.com",
                                 base_url="http://portal.test")
        db.session.commit()
        seats.claim_seat(db.session, seat.invitation_token)
        members.remove_member(db.session, operator, team, member(team, "dev@example.com").id)
        db.session.commit()
        assert deliver_due(db.session, app.config) == 4
        first = db.session.scalars(select(WebhookEvent).order_by(WebhookEvent.created_at)).first()
        webhooks.redeliver(db.session, org, first.id)  # the same webhook-id again
        db.session.commit()
        assert deliver_due(db.session, app.config) == 1
    finally:
        process.terminate()
        out, err = process.communicate(timeout=10)
    assert out.splitlines() == [
        "grant access to new.hire@example.com as member",
        "ignored customer_seat.assigned",
        "seat claimed by new.hire@example.com",
        "withdraw access from dev@example.com",
    ], err
