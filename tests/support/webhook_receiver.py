"""A vendor's webhook receiver, run by the python of polar-sdk==1.0.2's virtualenv (see
tests/support/receiver.py): every request is checked with the SDK's unchanged `validate_event`
and recorded as one JSON line in $RECEIVER_DIR/records.jsonl.

How it answers is read from $RECEIVER_DIR/mode at each request: `ok` (202), `500`, `hang:<s>`
(answers 202 after <s> seconds, past the portal's timeout), `slow:<s>` (202 after <s> seconds),
`redirect:<url>` (302 to <url>). The secret is read from $RECEIVER_DIR/secret at each request.
Prints `PORT <n>` once listening on 127.0.0.1."""
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from polar.v2026_10.webhooks import PolarWebhookError, validate_event

DIR = Path(os.environ["RECEIVER_DIR"])
LOCK = threading.Lock()


def _read(name: str, default: str = "") -> str:
    try:
        return (DIR / name).read_text().strip()
    except FileNotFoundError:
        return default


def _plain(value):
    """The typed payload's `data` as plain JSON (adaptix dataclasses with slots)."""
    if hasattr(value, "__slots__") and hasattr(value, "__dataclass_fields__"):
        return {k: _plain(getattr(value, k)) for k in value.__dataclass_fields__}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        mode = _read("mode", "ok")
        record = {"path": self.path, "webhook_id": self.headers.get("webhook-id"), "mode": mode,
                  "host": self.headers.get("Host")}
        try:
            payload = validate_event(body, dict(self.headers), _read("secret"))
        except PolarWebhookError as exc:
            record.update(valid=False, error=f"{exc.__class__.__name__}: {exc}")
        else:
            record.update(valid=True, payload_class=type(payload).__name__, type=payload.type,
                          data_class=type(payload.data).__name__, data=_plain(payload.data))
        with LOCK, open(DIR / "records.jsonl", "a") as out:
            out.write(json.dumps(record) + "\n")
        status, headers = 202, {}
        if mode == "500":
            status = 500
        elif mode.startswith(("hang:", "slow:")):
            time.sleep(float(mode.split(":", 1)[1]))
        elif mode.startswith("redirect:"):
            status, headers = 302, {"Location": mode.split(":", 1)[1]}
        if not record["valid"]:
            status = 400
        answer = json.dumps({"received": record["valid"]}).encode()
        try:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the portal gave up waiting (the `hang` mode)

    do_GET = do_POST


def _warm_up():
    """adaptix builds its loaders on first use, which takes longer than the portal's test timeout:
    load one payload before listening, as a long-running receiver would have."""
    from polar.v2026_10.webhooks import _load_payload

    _load_payload({"type": "member.created", "timestamp": "2026-01-01T00:00:00Z",
                   "api_version": "2026-10",
                   "data": {"id": "m", "created_at": "2026-01-01T00:00:00Z", "modified_at": None,
                            "customer_id": "c", "email": "a@example.com", "name": None,
                            "external_id": None, "role": "member"}})


def main():
    _warm_up()
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("RECEIVER_PORT") or 0)), Handler)
    server.daemon_threads = True
    print(f"PORT {server.server_port}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        sys.exit(0)


if __name__ == "__main__":
    main()
