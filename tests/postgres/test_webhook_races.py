"""Two delivery processes over one queue on PostgreSQL (rule 29): `FOR UPDATE SKIP LOCKED` hands
each event to one of them, so 200 queued events reach the receiver exactly once each."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from flask import current_app
from sqlalchemy import func, select

from app.extensions import db
from app.models import WebhookDelivery, WebhookEvent
from app.services import members
from app.services.activity import Actor
from tests.api.conftest import _sdk
from tests.factories import make_endpoint, make_org, make_team
from tests.support.receiver import Receiver

pytestmark = [pytest.mark.postgres, pytest.mark.sdk]
ROOT = Path(__file__).resolve().parents[2]


def test_two_delivery_processes_send_each_event_exactly_once(pg_app, tmp_path, tmp_path_factory):
    sdk = _sdk("polar-sdk==1.0.2", tmp_path_factory)
    org = make_org("acme", "Acme")
    team = make_team(org, name="Globex", owner="olivia@example.com")
    with Receiver(sdk.python, tmp_path / "receiver") as receiver:
        receiver.mode("slow:0.01")  # both processes are still at work when the other one asks
        endpoint, secret = make_endpoint(org, receiver.url, ["member.created"])
        receiver.secret(secret)
        for n in range(200):
            members.add_member(db.session, Actor.operator(), team, email=f"m{n:03}@example.com")
        db.session.commit()
        env = {**os.environ, "DATABASE_URL": current_app.config["SQLALCHEMY_DATABASE_URI"],
               "SECRET_KEY": current_app.config["SECRET_KEY"], "PORTAL_ENV": "development",
               "WEBHOOK_BATCH": "20", "WEBHOOK_TIMEOUT_SECONDS": "10"}
        command = [sys.executable, "-m", "flask", "--app", "wsgi", "webhooks", "deliver"]
        workers = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outputs = [w.communicate(timeout=300) for w in workers]
        records = receiver.records()
    assert [w.returncode for w in workers] == [0, 0], outputs
    handled = [int(re.search(r"Handled (\d+)", out).group(1)) for out, _err in outputs]
    assert sum(handled) == 200, outputs
    assert len(records) == 200 and all(r["valid"] for r in records)
    assert len({r["webhook_id"] for r in records}) == 200
    db.session.expire_all()
    per_event = db.session.execute(select(WebhookDelivery.event_id, func.count())
                                   .group_by(WebhookDelivery.event_id)).all()
    assert len(per_event) == 200 and {count for _id, count in per_event} == {1}
    assert db.session.scalar(select(func.count(WebhookEvent.id))
                             .where(WebhookEvent.succeeded.is_(True))) == 200
