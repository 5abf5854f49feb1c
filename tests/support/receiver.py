"""Start and steer the SDK-verifying webhook receiver (tests/support/webhook_receiver.py) in a
subprocess of polar-sdk==1.0.2's virtualenv, on a free loopback port."""
from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).with_name("webhook_receiver.py")


def free_port() -> int:
    """A loopback port with nothing listening on it (connections are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Receiver:
    def __init__(self, python: Path, directory: Path, port: int = 0):
        self.python, self.dir, self.port = python, directory, port
        self.dir.mkdir(parents=True, exist_ok=True)
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> Receiver:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
        env.update(RECEIVER_DIR=str(self.dir), RECEIVER_PORT=str(self.port))
        self.process = subprocess.Popen([str(self.python), str(SCRIPT)], env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        assert line.startswith("PORT "), f"receiver did not start: {line!r} {self.process.stderr.read()}"
        self.port = int(line.split()[1])
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None

    def secret(self, value: str) -> None:
        (self.dir / "secret").write_text(value)

    def mode(self, value: str) -> None:
        (self.dir / "mode").write_text(value)

    def records(self) -> list[dict]:
        path = self.dir / "records.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
