"""The browser can reach a page of ours and htmx is loaded."""
import pytest

from tests.factories import make_org

pytestmark = pytest.mark.browser


def test_login_page_renders_with_htmx(app, live_server, page):
    make_org("acme", "Acme Analytics")
    page.goto(f"{live_server.url}/acme/login")
    assert page.get_by_role("heading", name="Sign in to Acme Analytics").is_visible()
    assert page.evaluate("typeof htmx") == "object"
