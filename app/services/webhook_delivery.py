"""Sending webhook events (DESIGN.md rules 24, 26-29): one signed POST per due event, every
attempt recorded, retries with growing delays over about 3 days, then the endpoint is disabled.

`deliver_due(session, config, now) -> int` is the worker's job: it takes one due event at a time
with `SELECT … FOR UPDATE SKIP LOCKED` (PostgreSQL), so several workers on several hosts share
the queue and an event is sent by one of them; it commits after each attempt (it is a job, not a
request service). A worker that dies mid-attempt leaves the event due (its transaction rolls
back), so it is sent again with the same `webhook-id`: delivery is at least once.
"""
from __future__ import annotations

import ipaddress
import logging
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import wire
from ..errors import RuleViolation
from ..models import WebhookDelivery, WebhookEndpoint, WebhookEvent, utcnow
from . import webhooks

log = logging.getLogger("portal.webhooks")

# Seconds to wait after the 1st, 2nd, … failed attempt: seconds, then minutes, then hours; about
# 3 days in all (75 h), each with up to ±10 % jitter so that a recovering receiver is not hit by
# every retry at once. WEBHOOK_RETRY_DELAYS replaces it (tests use short ones).
RETRY_DELAYS = (5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800,
                43200, 43200, 43200, 43200, 43200)
RESPONSE_KEPT = 1024
USER_AGENT = "TeamPortal-Webhooks/1.0 (+Standard Webhooks)"


@dataclass
class Outcome:
    succeeded: bool
    http_code: int | None
    response: str | None
    duration_ms: int


def retry_delays(config: Mapping) -> tuple[float, ...]:
    return tuple(float(d) for d in (config.get("WEBHOOK_RETRY_DELAYS") or RETRY_DELAYS))


def next_delay(config: Mapping, failures: int) -> float | None:
    """Seconds before the next attempt after `failures` failed ones, or None: give up."""
    delays = retry_delays(config)
    if failures > len(delays):
        return None
    base = delays[failures - 1]
    return base * random.uniform(0.9, 1.1)


def _pinned(url: str, address: str) -> tuple[str, str, dict]:
    """The URL with its host replaced by the checked address (so the name cannot resolve to
    another address between the check and the connection), its Host header and TLS name."""
    parts = urlsplit(url)
    ip = ipaddress.ip_address(address)
    host = f"[{ip}]" if ip.version == 6 else str(ip)
    netloc = host + (f":{parts.port}" if parts.port else "")
    target = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    extensions = {}
    if parts.scheme.lower() == "https":
        extensions["sni_hostname"] = parts.hostname
    return target, parts.netloc.rsplit("@", 1)[-1], extensions


def _post(client: httpx.Client, url: str, address: str | None, headers: dict, body: bytes,
          timeout: float) -> Outcome:
    started = time.monotonic()

    def done(ok: bool, code: int | None, text: str | None) -> Outcome:
        return Outcome(ok, code, text, int((time.monotonic() - started) * 1000))

    target, host_header, extensions = (url, None, {}) if address is None else _pinned(url, address)
    if host_header:
        headers = {**headers, "Host": host_header}
    try:
        with client.stream("POST", target, content=body, headers=headers,
                           extensions=extensions) as response:
            kept = b""
            for chunk in response.iter_raw():
                kept += chunk
                if len(kept) >= RESPONSE_KEPT or time.monotonic() - started > timeout:
                    break
            text = kept[:RESPONSE_KEPT].decode("utf-8", errors="replace")
            code = response.status_code
            if 300 <= code < 400:
                location = response.headers.get("location", "")[:300]
                text = f"Redirect to {location!r} not followed." + (f"\n{text}" if text else "")
            return done(200 <= code < 300, code, text)
    except httpx.TimeoutException:
        return done(False, None, f"No answer within {timeout:g} seconds.")
    except httpx.ConnectError as exc:
        return done(False, None, f"Could not connect: {exc}"[:RESPONSE_KEPT])
    except httpx.HTTPError as exc:
        return done(False, None, f"{exc.__class__.__name__}: {exc}"[:RESPONSE_KEPT])


def _attempt(client: httpx.Client, config: Mapping, event: WebhookEvent, timeout: float) -> Outcome:
    endpoint = event.endpoint
    production = config.get("PORTAL_ENV") == "production"
    try:
        secret = webhooks.decrypt_secret(config, endpoint.secret_encrypted)
        # Checked again now, resolving the name: the address it had when saved proves nothing.
        addresses = webhooks.check_url(endpoint.url, production=production, resolve=True)
    except RuleViolation as exc:
        return Outcome(False, None, f"Not sent: {exc.message}", 0)
    timestamp = int(time.time())  # the receiver checks it against its own clock
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Accept-Encoding": "identity",  # the first KB of the answer is kept as it is
        "webhook-id": event.webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": webhooks.sign(secret, event.webhook_id, timestamp, event.payload),
    }
    return _post(client, endpoint.url, addresses[0] if addresses else None, headers,
                 event.payload.encode(), timeout)


def _record(session: Session, config: Mapping, event: WebhookEvent, outcome: Outcome,
            now: datetime) -> None:
    endpoint: WebhookEndpoint = event.endpoint
    session.add(WebhookDelivery(organization_id=event.organization_id, event_id=event.id,
                                created_at=now, succeeded=outcome.succeeded,
                                http_code=outcome.http_code, response=outcome.response,
                                duration_ms=outcome.duration_ms))
    event.attempts += 1
    event.round_attempts += 1
    event.succeeded = outcome.succeeded
    event.last_http_code = outcome.http_code
    if outcome.succeeded:
        event.next_attempt_at = None
        if endpoint.failing_since is not None:
            endpoint.failing_since = None
        return
    if endpoint.failing_since is None:
        endpoint.failing_since = now
    delay = next_delay(config, event.round_attempts)
    if delay is not None:
        event.next_attempt_at = now + timedelta(seconds=delay)
        return
    event.next_attempt_at = None  # its ~3 days of retries are over
    # Failing for as long as a whole retry schedule, with no success since: stop trying.
    if now - endpoint.failing_since >= timedelta(seconds=0.9 * sum(retry_delays(config))):
        last = f"HTTP {outcome.http_code}" if outcome.http_code else (outcome.response or "")[:200]
        endpoint.enabled = False
        endpoint.disabled_reason = (
            f"Disabled on {wire.iso(now)}: every delivery failed since "
            f"{wire.iso(endpoint.failing_since)} (last: {last}). Fix the receiver, then enable "
            "the endpoint and redeliver the events it missed.")[:512]
        log.warning("webhook endpoint %s disabled after failing since %s", endpoint.id,
                    wire.iso(endpoint.failing_since))


def _next_due(session: Session, now: datetime, tried: list) -> WebhookEvent | None:
    stmt = select(WebhookEvent).where(WebhookEvent.next_attempt_at <= now)
    if tried:
        stmt = stmt.where(WebhookEvent.id.not_in(tried))
    return session.scalar(
        stmt.order_by(WebhookEvent.next_attempt_at, WebhookEvent.id).limit(1)
        .with_for_update(skip_locked=True, of=WebhookEvent)
    )


def deliver_due(session: Session, config: Mapping, now: datetime | None = None) -> int:
    """Send every event due at `now` (at most WEBHOOK_BATCH), oldest first; return how many were
    handled (sent, failed or skipped because their endpoint is disabled). 0 means nothing was due.

    Each event is locked, sent, recorded and committed on its own, so a slow receiver holds one
    row, never the queue; an event is tried at most once per call. A worker asked to stop
    (SIGTERM) ends after the event in hand. This is the worker's webhook job (app.worker.JOBS)."""
    from ..worker import stop_requested

    now = now or utcnow()
    timeout = float(config.get("WEBHOOK_TIMEOUT_SECONDS") or 10)
    batch = int(config.get("WEBHOOK_BATCH") or 100)
    handled, tried = 0, []
    with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
        while handled < batch and not stop_requested():
            event = _next_due(session, now, tried)
            if event is None:
                session.rollback()
                break
            tried.append(event.id)
            handled += 1
            try:
                if not event.endpoint.enabled:
                    event.skipped, event.next_attempt_at = True, None
                else:
                    outcome = _attempt(client, config, event, timeout)
                    _record(session, config, event, outcome, now)
                    log.info("webhook event=%s endpoint=%s type=%s attempt=%d status=%s "
                             "duration_ms=%d", event.id, event.endpoint_id, event.type,
                             event.attempts, outcome.http_code or "error", outcome.duration_ms)
                session.commit()
            except Exception:  # noqa: BLE001 - one broken event must not stop the others
                session.rollback()
                log.exception("webhook event %s could not be processed; it stays queued", tried[-1])
    return handled
