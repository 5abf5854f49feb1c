"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, and can refuse
recipients, hold a message mid-DATA, or answer slowly; and a server that accepts connections and
never says a word (SilentSmtp)."""
from __future__ import annotations

import asyncio
import email
import email.policy
import re
from email.utils import getaddresses
import socket
import threading
import time

from aiosmtpd.controller import Controller


class _Handler:
    def __init__(self, sink: SmtpSink):
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.sink.rcpt_replies.get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.sink.delay:
            await asyncio.sleep(self.sink.delay)
        while self.sink.holding.is_set():
            self.sink.held.set()
            await asyncio.sleep(0.01)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.sink.lock:
            self.sink.messages.append(message)
            self.sink.envelopes.append(list(envelope.rcpt_tos))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpSink:
    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[list[str]] = []  # the RCPT TO addresses of each message
        self.rcpt_replies: dict[str, str] = {}  # address -> reply, e.g. "550 5.1.1 No such user"
        self.delay = 0.0  # seconds to wait before answering each DATA
        self.holding = threading.Event()  # while set, DATA waits (see hold/release)
        self.held = threading.Event()  # set once a DATA is waiting
        self.lock = threading.Lock()
        self.port = _free_port()
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self):
        self.controller.start()

    def stop(self):
        self.controller.stop()

    def clear(self):
        with self.lock:
            self.messages.clear()
            self.envelopes.clear()
        self.rcpt_replies.clear()
        self.delay = 0.0
        self.release()

    def hold(self):
        """From now on, a message's DATA gets no answer until `release()`."""
        self.held.clear()
        self.holding.set()

    def wait_held(self, timeout: float = 10.0) -> None:
        assert self.held.wait(timeout), f"no message reached DATA within {timeout}s"

    def release(self):
        self.holding.clear()

    def count(self) -> int:
        with self.lock:
            return len(self.messages)

    def wait_count(self, count: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while self.count() < count and time.monotonic() < deadline:
            time.sleep(0.02)
        assert self.count() >= count, f"{self.count()} messages arrived within {timeout}s, not {count}"

    def to(self, address: str) -> list:
        with self.lock:
            # The address itself, not a part of it ("n@example.com" is not "ben@example.com").
            wanted = address.lower()
            return [m for m in self.messages
                    if wanted in (a.lower() for _name, a in getaddresses([str(m["To"])]))]

    def wait_for(self, address: str, count: int = 1, timeout: float = 5.0):
        """The newest message to `address`, waiting until `count` have arrived."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.to(address)
            if len(found) >= count:
                return found[-1]
            time.sleep(0.02)
        raise AssertionError(f"no email #{count} to {address} within {timeout}s; got {len(self.to(address))}")


class SilentSmtp:
    """An SMTP server that accepts connections and never answers (not even the greeting), until
    `close()`; then its clients see the connection end at once."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.connections: list[socket.socket] = []
        self.connected = threading.Event()
        self._closed = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def _accept(self):
        while not self._closed:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections.append(conn)
            self.connected.set()

    def wait_for_connection(self, timeout: float = 10.0) -> None:
        assert self.connected.wait(timeout), f"nobody connected within {timeout}s"

    def open_unanswered(self) -> int:
        """Connections the client still holds open, waiting for the server to speak."""
        count = 0
        for conn in list(self.connections):
            try:
                if conn.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b"":
                    continue  # the client hung up (timed out, say)
            except BlockingIOError:
                pass  # open, nothing sent: the client is waiting for the greeting
            count += 1
        return count

    def close(self):
        self._closed = True
        for conn in self.connections:
            conn.close()
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() above
        except OSError:
            pass
        self.listener.close()
        self.thread.join(5)


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_of(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def first_link(message, contains: str = "http") -> str:
    for url in re.findall(r"https?://\S+", text_of(message)):
        if contains in url:
            return url
    raise AssertionError(f"no link containing {contains!r} in the email "
                         f"{message['Subject']!r}: {text_of(message)[:400]!r}")


def code_of(message) -> str:
    match = re.search(r"code[^:]*: ([A-Z0-9]{6,10})", text_of(message))
    assert match, "no code in the email"
    return match.group(1)
