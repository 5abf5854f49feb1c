"""The portal inside a vendor's dashboard: a host page on another site frames an API-minted URL."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app import config
from app.extensions import db
from app.models import PortalSession, Role
from app.services import organizations, sessions
from tests.factories import make_org, make_team, member

pytestmark = pytest.mark.browser

HOST_PAGE = """<!doctype html><html><body>
<h1>Vendor dashboard</h1>
<iframe id="portal" src="{src}" style="width: 900px; height: 300px; border: 0"></iframe>
<script>
  window.portalMessages = [];
  window.addEventListener("message", function (e) {{
    window.portalMessages.push({{origin: e.origin, data: e.data}});
    if (e.data && e.data.type === "resize") {{
      document.getElementById("portal").style.height = e.data.height + "px";
    }}
  }});
</script></body></html>"""


class HostSite:
    """A vendor's page served from http://localhost:PORT (another site than 127.0.0.1)."""

    def __init__(self):
        self.src = "about:blank"
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = HOST_PAGE.format(src=site.src).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://localhost:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture
def host():
    site = HostSite()
    yield site
    site.close()


@pytest.fixture
def embedded_app(app, live_server):
    """The cookies the portal picks by default for its address, http://127.0.0.1:PORT: Secure;
    SameSite=None; Partitioned, as in production (browsers keep Secure cookies on loopback)."""
    app.config.update(config.cookie_settings(config.secure_context(live_server.url)))
    assert app.config["SESSION_COOKIE_SAMESITE"] == "None"
    return app


@pytest.fixture
def org(embedded_app, host):
    org = make_org("acme", "Acme Analytics")
    organizations.set_embed_origins(db.session, org, [host.origin])
    db.session.commit()
    return org


@pytest.fixture
def team(org):
    return make_team(org, name="Globex", owner="olivia@example.com",
                     members={"maya@example.com": Role.MEMBER})


def open_framed(page, host, url):
    """The host page with the portal URL in its iframe, once the team page shows in the frame."""
    host.src = url
    page.goto(host.origin)
    frame = frame_of(page)
    frame.get_by_role("heading", name="Globex").wait_for()
    return frame


def mint_portal_url(live_server, org, team, email="olivia@example.com", return_url=None):
    owner = member(team, email)
    _row, _token, handoff = sessions.start_api_session(db.session, owner, return_url=return_url)
    db.session.commit()
    return sessions.portal_entry_url(live_server.url, org.slug, handoff)


def frame_of(page):
    page.wait_for_function("document.getElementById('portal').contentWindow !== null")
    return page.frame_locator("#portal")


def test_allowed_host_frames_the_signed_in_portal(live_server, host, page, org, team):
    frame = open_framed(page, host, mint_portal_url(live_server, org, team,
                                                    return_url=f"{host.origin}/settings"))

    portal = next(f for f in page.frames if f.url.startswith(live_server.url))
    assert "token" not in portal.url, "the hand-off token must leave the frame's URL"
    assert portal.url.endswith("/acme/team")
    # UI.md: inside a frame, a slim "← Back to {product}" link instead of the header.
    back = frame.get_by_role("link", name=f"Back to {org.name}", exact=True)
    assert back.get_attribute("href") == f"{host.origin}/settings"
    assert frame.get_by_role("button", name="Sign out").count() == 0  # no outer chrome

    page.wait_for_function("window.portalMessages.some(m => m.data.type === 'resize')")
    messages = page.evaluate("window.portalMessages")
    resize = [m for m in messages if m["data"]["type"] == "resize"]
    assert resize and all(m["origin"] == live_server.url for m in messages)
    assert resize[-1]["data"]["height"] > 100
    cookies = page.context.cookies(live_server.url)
    assert [c for c in cookies if c["name"] == "portal_session"], "the frame keeps its own cookie"


def test_the_hand_off_token_works_once(live_server, host, page, org, team, new_page):
    url = mint_portal_url(live_server, org, team)
    open_framed(page, host, url)

    again = new_page()
    response = again.goto(url)
    assert response.status == 410
    assert again.get_by_role("heading", name="This link was already used").is_visible()
    assert db.session.query(PortalSession).filter_by(kind="embed").count() == 1


def test_host_not_on_the_allowlist_cannot_frame_the_portal(live_server, host, page, org, team):
    organizations.set_embed_origins(db.session, org, ["https://dashboard.example.com"])
    db.session.commit()
    url = mint_portal_url(live_server, org, team)
    host.src = url
    blocked = []
    page.on("console", lambda msg: blocked.append(msg.text) if "frame-ancestors" in msg.text else None)
    page.goto(host.origin)
    page.wait_for_timeout(1500)
    portal = [f for f in page.frames if f.url.startswith(live_server.url)]
    rendered = [f for f in portal if "Globex" in (f.content() if f.url != "about:blank" else "")]
    assert rendered == []
    assert blocked, "Chromium reports the frame-ancestors refusal"


def test_session_end_inside_the_frame_tells_the_host(live_server, host, page, org, team):
    frame = open_framed(page, host, mint_portal_url(live_server, org, team))

    for row in db.session.query(PortalSession).filter_by(kind="embed"):
        sessions.end_session(db.session, row)
    db.session.commit()
    portal = next(f for f in page.frames if f.url.startswith(live_server.url))
    portal.goto(f"{live_server.url}/acme/team")
    frame.get_by_role("heading", name="Your session has ended").wait_for()
    assert frame.get_by_label("Email address").count() == 0, "no sign-in form trapped in the frame"
    page.wait_for_function("window.portalMessages.some(m => m.data.type === 'session.expired')")


def test_member_added_inside_the_frame_is_announced_to_the_host(live_server, host, page, org, team):
    frame = open_framed(page, host, mint_portal_url(live_server, org, team))
    before = page.evaluate("document.getElementById('portal').getBoundingClientRect().height")

    frame.get_by_label("Email", exact=True).fill("newbie@example.com")
    frame.get_by_role("button", name="Add member").click()
    frame.get_by_role("cell", name="newbie@example.com", exact=True).wait_for()

    page.wait_for_function("window.portalMessages.some(m => m.data.type === 'member.added')")
    added = [m for m in page.evaluate("window.portalMessages") if m["data"]["type"] == "member.added"]
    assert added[0]["origin"] == live_server.url and added[0]["data"]["source"] == "team-portal"
    assert member(team, "newbie@example.com").role is Role.MEMBER
    page.wait_for_function(f"document.getElementById('portal').getBoundingClientRect().height > {before}")


def test_with_several_allowed_origins_the_frame_knows_which_one_frames_it(
        live_server, host, page, org, team):
    """Messages are addressed to the framing page alone: Chromium names it in ancestorOrigins,
    and the server remembered it from the hand-off for browsers that do not."""
    organizations.set_embed_origins(db.session, org, ["https://other.example", host.origin])
    db.session.commit()
    frame = open_framed(page, host, mint_portal_url(live_server, org, team))
    portal = next(f for f in page.frames if f.url.startswith(live_server.url))
    assert portal.evaluate("location.ancestorOrigins[0]") == host.origin
    assert portal.evaluate("document.body.dataset.parentOrigin") == host.origin
    frame.get_by_label("Email", exact=True).fill("newbie@example.com")
    frame.get_by_role("button", name="Add member").click()
    page.wait_for_function("window.portalMessages.some(m => m.data.type === 'member.added')")
    added = next(m for m in page.evaluate("window.portalMessages") if m["data"]["type"] == "member.added")
    assert added["data"]["member_id"] == str(member(team, "newbie@example.com").id)


def test_a_toast_inside_the_frame_shows_where_the_person_is_working(live_server, host, page, org, team):
    """The frame is as tall as its page, so a toast fixed to its bottom would be far out of view:
    it is drawn next to the control that caused it, and the host is asked to show it."""
    frame = open_framed(page, host, mint_portal_url(live_server, org, team))
    portal = next(f for f in page.frames if f.url.startswith(live_server.url))
    frame.get_by_label("Email", exact=True).fill("newbie@example.com")
    frame.get_by_role("button", name="Add member").click()
    toast = frame.locator("#toasts .toast", has_text="Added newbie@example.com.")
    toast.wait_for()
    page.wait_for_function("window.portalMessages.some(m => m.data.type === 'scroll-into-view')")
    asked = next(m for m in page.evaluate("window.portalMessages") if m["data"]["type"] == "scroll-into-view")
    button_top = portal.evaluate(
        "document.querySelector('#add-member button[type=submit]').getBoundingClientRect().top + scrollY")
    toast_top = portal.evaluate("document.getElementById('toasts').getBoundingClientRect().top + scrollY")
    frame_height = page.evaluate("document.getElementById('portal').getBoundingClientRect().height")
    assert abs(toast_top - asked["data"]["top"]) < 2
    assert 0 <= button_top - toast_top < 300, (toast_top, button_top)  # just above the button
    assert frame_height - toast_top > 100, "not at the very bottom of the tall frame"


def test_a_broken_portal_link_says_what_to_do_next(live_server, page, org, team):
    """A hand-off link that is not valid (cut short when pasted, say) used to repeat its
    heading ("This link is not valid. This portal link is not valid.") and stop there."""
    response = page.goto(f"{live_server.url}/acme/portal/enter?token=not-a-real-token")
    assert response.status == 410
    card = page.locator("main")
    assert page.get_by_role("heading", name="This link is not valid").is_visible()
    text = card.inner_text()
    assert "Open the portal again from Acme Analytics" in text, f"the page leaves the person stuck: {text!r}"
