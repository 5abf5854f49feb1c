"""`flask --app wsgi worker`: delivers queued email (and, with the webhooks job, webhook events)
outside every request, until stopped. `--once` runs every job once and exits (tests, cron).

Each pass runs the delivery jobs in JOBS, in order. A delivery job is a plain function

    def deliver_due(session: Session, app_config: Mapping, now: datetime) -> int

that attempts what is due at `now` (a timezone-aware UTC datetime), commits per attempt on the
`session` it is given (a fresh one for each call, closed afterwards), and returns how many
attempts it made. It must:

- claim its rows so that several workers on several hosts can run at once: `SELECT … FOR UPDATE
  SKIP LOCKED` on PostgreSQL, then mark the row claimed with an expiry, so that a worker killed
  mid-attempt loses nothing (see `app.services.mail` for the pattern);
- do a bounded amount of work per call (a per-run limit), and check `stop_requested()` between
  attempts, so that SIGTERM ends the worker after the attempt in hand;
- log one line per attempt (id, kind, where to at most a domain, status, duration), never a body,
  token or secret.

When a pass attempted nothing, the worker waits WORKER_POLL_SECONDS (default 1) before the next;
after a pass that did work it goes on at once. A job that raises (the database is down, say) is
logged and tried again on the next pass, after a growing pause.

The jobs: the email outbox, then the webhook events. To add one, append it to JOBS.
"""
from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable, Mapping
from datetime import datetime

from flask import Flask
from sqlalchemy.orm import Session

from .extensions import db
from .models import utcnow
from .services import mail, webhook_delivery

log = logging.getLogger("portal.worker")

DeliveryJob = Callable[[Session, Mapping, datetime], int]

JOBS: list[DeliveryJob] = [mail.deliver_due, webhook_delivery.deliver_due]

_stop = threading.Event()


def stop_requested() -> bool:
    """True once the worker was asked to stop: a job ends after the attempt in hand."""
    return _stop.is_set()


def request_stop() -> None:
    _stop.set()


def _job_name(job: DeliveryJob) -> str:
    return f"{job.__module__.rpartition('.')[2]}.{job.__name__}"


def run_pass(app: Flask, jobs: list[DeliveryJob]) -> int:
    """Run each job once; returns the attempts made. A job's exception propagates."""
    processed = 0
    for job in jobs:
        if stop_requested():
            break
        with Session(db.engine) as session:
            processed += job(session, app.config, utcnow())
    return processed


def _check(app: Flask) -> None:
    """Refuse to start on a configuration no job can work with (raises MailConfigError)."""
    settings = mail.smtp_settings(app.config)
    if settings is None and app.config.get("PORTAL_ENV") == "production":
        log.warning("SMTP_URL is not set: queued email stays queued until it is.")


def run(app: Flask, *, once: bool = False, jobs: list[DeliveryJob] | None = None) -> int:
    """The delivery loop. Returns the process exit code: 0 when stopped or done."""
    jobs = list(JOBS if jobs is None else jobs)
    poll = float(app.config.get("WORKER_POLL_SECONDS", 1))
    _check(app)
    _stop.clear()
    previous = _install_signal_handlers()
    log.info("worker %d started: jobs %s, polling every %gs%s", os.getpid(),
             ", ".join(_job_name(j) for j in jobs), poll, " (once)" if once else "")
    failures = 0
    code = 0
    try:
        while not stop_requested():
            try:
                processed = run_pass(app, jobs)
                failures = 0
            except mail.MailConfigError:
                raise
            except Exception as exc:  # noqa: BLE001 - the worker outlives a database outage
                failures += 1
                reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
                pause = min(60.0, max(poll, 0.5) * 2 ** min(failures, 6))
                log.error("worker pass failed (%s: %s)%s", type(exc).__name__,
                          reason[0][:200] if reason else "",
                          "" if once else f"; trying again in {pause:g}s")
                if once:
                    code = 1
                    break
                _stop.wait(pause)
                continue
            if once:
                break
            if processed == 0:
                _stop.wait(poll)
    finally:
        _restore_signal_handlers(previous)
    log.info("worker %d stopped", os.getpid())
    return code


def _install_signal_handlers() -> dict:
    if threading.current_thread() is not threading.main_thread():
        return {}

    def handle(signum, frame):
        if stop_requested():  # asked twice: do not wait for the attempt in hand
            raise SystemExit(1)
        log.info("worker %d got %s: finishing the attempt in hand, then stopping",
                 os.getpid(), signal.Signals(signum).name)
        request_stop()

    return {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}


def _restore_signal_handlers(previous: dict) -> None:
    for sig, handler in previous.items():
        signal.signal(sig, handler)
