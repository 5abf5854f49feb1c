"""Screenshots of every page at 390 and 1280 px, light and dark, for a reviewer to look at.

    .venv/bin/python scripts/screenshots.py [OUT_DIR]     (default: screenshots/)
    SHOTS_ONLY=team,seats .venv/bin/python scripts/screenshots.py    (some pages only)

Runs the demo (`flask --app wsgi demo`) on a fresh SQLite database on a free loopback port, signs
in as the owner and as a plain member with the links it prints, and drives the system Chromium
(CHROMIUM_PATH, or /usr/bin/chromium) through Playwright. Prints each file it writes."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
WIDTHS = (390, 1280)
SCHEMES = ("light", "dark")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_demo(tmp: str, port: int) -> tuple[subprocess.Popen, dict[str, str]]:
    env = {**os.environ, "INSTANCE_PATH": tmp, "DATABASE_URL": f"sqlite:///{tmp}/demo.db",
           "PORTAL_ENV": "development"}
    for name in ("SMTP_URL", "BASE_URL"):
        env.pop(name, None)
    proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "demo", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        out.append(line)
        if line.startswith("Serving the portal"):
            break
    text = "".join(out)
    links = {}
    for who, email in (("owner", "olivia"), ("billing", "ben"), ("member", "maya")):
        match = re.search(rf"\({email}@globex\.example\):\s+(\S+)", text)
        if match:
            links[who] = match.group(1)
    claim = re.search(r"Claim the seat offered to \S+ \(works once, for 7 days\):\s+(\S+)", text)
    if claim:
        links["claim"] = claim.group(1)
    if "owner" not in links:
        proc.kill()
        raise SystemExit("The demo printed no sign-in link:\n" + text[-2000:])
    for _ in range(50):  # wait until it answers
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    return proc, links


def sign_in(browser, link: str) -> list[dict]:
    """Open a printed sign-in link, press its button, and return the session cookies."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(link)
    page.get_by_role("button", name=re.compile("Sign in", re.I)).click()
    page.wait_for_load_state()
    cookies = context.cookies()
    context.close()
    return cookies


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "screenshots")
    out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        proc, links = start_demo(tmp, port)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
                    headless=True, args=FLAGS)
                owner = sign_in(browser, links["owner"])
                member = sign_in(browser, links["member"])
                pages = [
                    ("login", None, "/acme/login"),
                    ("claim", None, links.get("claim", "").removeprefix(base)),
                    ("not-found", None, "/acme/no-such-page"),
                    ("team", owner, "/acme/team"),
                    ("team-search", owner, "/acme/team?q=globex&role=member"),
                    ("seats", owner, "/acme/seats"),
                    ("activity", owner, "/acme/activity"),
                    ("me-owner", owner, "/acme/me"),
                    ("me-member", member, "/acme/me"),
                ]
                only = os.environ.get("SHOTS_ONLY")  # e.g. SHOTS_ONLY=team,seats
                if only:
                    pages = [p for p in pages if p[0] in only.split(",")]
                for scheme in SCHEMES:
                    for width in WIDTHS:
                        context = browser.new_context(viewport={"width": width, "height": 900},
                                                      color_scheme=scheme)
                        for name, cookies, path in pages:
                            if not path:
                                continue
                            context.clear_cookies()
                            if cookies:
                                context.add_cookies(cookies)
                            page = context.new_page()
                            page.goto(base + path)
                            page.wait_for_load_state("networkidle")
                            file = out / f"{name}-{width}-{scheme}.png"
                            page.screenshot(path=str(file), full_page=True)
                            scroll = page.evaluate("document.documentElement.scrollWidth")
                            note = f"  (scrolls sideways: {scroll} px wide)" if scroll > width else ""
                            print(f"{file}{note}")
                            page.close()
                        context.close()
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
