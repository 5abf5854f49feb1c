"""`flask --app wsgi worker` as a real subprocess, on the test's database and SMTP sink."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import func, select

from app.extensions import db
from app.models import EmailStatus, OutboxEmail

ROOT = Path(__file__).resolve().parents[2]


def worker_env(database_url: str, smtp_url: str, **settings) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "FLASK_"))}
    env.update({
        "PORTAL_ENV": "development",
        "DATABASE_URL": database_url,
        "SMTP_URL": smtp_url,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "WORKER_POLL_SECONDS": "0.1",
        "MAIL_DELIVER_ON_COMMIT": "0",
        "PYTHONUNBUFFERED": "1",
    })
    env.update({k: str(v) for k, v in settings.items()})
    return env


def flask_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "wsgi", *args]


def run_once(database_url: str, smtp_url: str, **settings) -> subprocess.CompletedProcess:
    """`flask --app wsgi worker --once`, to the end."""
    return subprocess.run(flask_command("worker", "--once"), cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env=worker_env(database_url, smtp_url, **settings))


class Worker:
    """A `flask worker` running until stopped; its log lines are collected as they come."""

    def __init__(self, database_url: str, smtp_url: str, **settings):
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            flask_command("worker"), cwd=ROOT, env=worker_env(database_url, smtp_url, **settings),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for_line(self, text: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if text in line:
                    return line
            if self.proc.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.02)
        raise AssertionError(f"the worker never logged {text!r}; it logged:\n{self.output}")

    def started(self) -> Worker:
        self.wait_for_line("started")
        return self

    def attempts(self) -> list[str]:
        return [line for line in self.lines if " portal.mail" in line and ": mail " in line]

    def signal(self, signum: int = signal.SIGTERM) -> None:
        self.proc.send_signal(signum)

    def wait(self, timeout: float = 60.0) -> int:
        code = self.proc.wait(timeout)
        self._reader.join(5)
        return code

    def stop(self) -> int:
        """SIGTERM, and its exit code."""
        if self.proc.poll() is None:
            self.signal(signal.SIGTERM)
        return self.wait()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(30)


def count_by_status(status: EmailStatus) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(OutboxEmail)
                             .where(OutboxEmail.status == status))


def wait_until_sent(count: int, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if count_by_status(EmailStatus.SENT) >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"{count_by_status(EmailStatus.SENT)} of {count} emails sent in {timeout}s")
