"""The worker's loop and its job interface (app.worker): every job gets its own session, the
app's config and an aware UTC `now`; an idle pass waits WORKER_POLL_SECONDS; a failing pass is
logged and tried again; `--once` runs one pass; a stop request ends the loop with 0."""
from __future__ import annotations

import logging

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app import worker


@pytest.fixture
def quick(app):
    app.config["WORKER_POLL_SECONDS"] = 0.01
    return app


def test_once_runs_each_job_once_with_a_session_the_config_and_now(quick):
    calls = []

    def job_a(session, app_config, now):
        calls.append(("a", isinstance(session, Session), app_config is quick.config, now.utcoffset()))
        return 2

    def job_b(session, app_config, now):
        calls.append(("b", isinstance(session, Session), app_config is quick.config, now.utcoffset()))
        return 0

    assert worker.run(quick, once=True, jobs=[job_a, job_b]) == 0
    assert [c[0] for c in calls] == ["a", "b"]
    assert all(c[1] and c[2] and c[3].total_seconds() == 0 for c in calls)


def test_the_mail_outbox_is_the_first_job():
    from app.services import mail

    assert worker.JOBS[0] is mail.deliver_due


def test_the_loop_runs_until_a_stop_is_requested_and_exits_0(quick):
    passes = []

    def job(session, app_config, now):
        passes.append(now)
        if len(passes) == 3:
            worker.request_stop()  # what SIGTERM does
        return 0

    assert worker.run(quick, jobs=[job]) == 0
    assert len(passes) == 3 and passes == sorted(passes)


def test_a_failing_pass_is_logged_and_tried_again(quick, caplog):
    caplog.set_level(logging.INFO, logger="portal.worker")
    quick.config["WORKER_POLL_SECONDS"] = 0  # the pause after a failure is at least 0.5 s
    calls = []

    def job(session, app_config, now):
        calls.append(now)
        if len(calls) == 1:
            raise OperationalError("SELECT 1", {}, Exception("connection refused"))
        worker.request_stop()
        return 1

    assert worker.run(quick, jobs=[job]) == 0
    assert len(calls) == 2
    logged = [r.getMessage() for r in caplog.records if r.name == "portal.worker"]
    assert any("worker pass failed (OperationalError: connection refused); trying again" in m
               for m in logged)
    assert "stopped" in logged[-1]


def test_once_with_a_failing_pass_exits_1(quick):
    def job(session, app_config, now):
        raise OperationalError("SELECT 1", {}, Exception("no such table: outbox_emails"))

    assert worker.run(quick, once=True, jobs=[job]) == 1
