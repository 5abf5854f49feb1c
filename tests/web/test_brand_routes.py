"""The brand on every page and email: stylesheet, logo, header, CSP, CLI and API."""
import re

import pytest

from app.extensions import db
from app.models import Role
from app.services import branding, organizations
from tests.factories import make_org, make_team
from tests.support.smtp import first_link  # noqa: F401 - the mailbox fixture's helpers
from tests.support.web import post_form

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def org(app):
    org = make_org("acme", "Acme")
    make_team(org, name="Globex", owner="olivia@example.com", members={"maya@example.com": Role.MEMBER})
    return org


def brand(org, **values):
    branding.set_brand(db.session, org, **values)
    db.session.commit()


def test_without_a_brand_pages_use_the_default_look(client, org):
    html = client.get("/acme/login").get_data(as_text=True)
    assert "brand.css" not in html and "brand-logo" not in html


def test_the_accent_is_a_cacheable_stylesheet_for_both_schemes(client, org):
    brand(org, accent_color="#e11d48")
    html = client.get("/acme/login").get_data(as_text=True)
    href = re.search(r'<link rel="stylesheet" href="(/acme/brand\.css\?v=[0-9a-f]{12})">', html).group(1)
    css = client.get(href)
    assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")
    assert "public" in css.headers["Cache-Control"]
    body = css.get_data(as_text=True)
    assert ":root { --accent: #e11d48;" in body and "prefers-color-scheme: dark" in body
    assert ':root[data-theme="dark"]' in body
    brand(org, accent_color="#0f62fe")
    assert href not in client.get("/acme/login").get_data(as_text=True), "a new colour, a new URL"


def test_an_uploaded_logo_is_served_with_its_type_and_shown_in_the_header(client, org):
    brand(org, logo_image=PNG)
    html = client.get("/acme/login").get_data(as_text=True)
    src = re.search(r'<img class="brand-logo" src="([^"]+)" alt=""', html).group(1)
    logo = client.get(src)
    assert logo.status_code == 200 and logo.data == PNG
    assert logo.headers["Content-Type"] == "image/png" and logo.headers["X-Content-Type-Options"] == "nosniff"


def test_a_logo_url_is_allowed_by_the_pages_csp_and_nothing_else_is(client, org):
    brand(org, logo_url="https://cdn.acme.example/logo.png")
    response = client.get("/acme/login")
    assert '<img class="brand-logo" src="https://cdn.acme.example/logo.png"' in response.get_data(as_text=True)
    assert "img-src 'self' data: https://cdn.acme.example;" in response.headers["Content-Security-Policy"]
    assert "img-src 'self' data:;" in client.get("/healthz").headers["Content-Security-Policy"]


def test_no_uploaded_logo_is_a_404(client, org):
    assert client.get("/acme/brand/logo").status_code == 404


def test_emails_wear_the_brand(client, org, mailbox):
    brand(org, name="Acme Analytics", accent_color="#e11d48", logo_image=PNG)
    post_form(client, "/acme/login", {"email": "olivia@example.com"})
    message = mailbox.wait_for("olivia@example.com")
    html = message.get_body(("html",)).get_content()
    assert "Acme Analytics" in html and "background: #e11d48;" in html
    assert re.search(r'<img src="http://portal\.test/acme/brand/logo\?v=[0-9a-f]{12}"', html)


class TestCli:
    def test_sets_the_brand_and_says_what_it_is(self, app, org, tmp_path):
        logo = tmp_path / "logo.png"
        logo.write_bytes(PNG)
        runner = app.test_cli_runner()
        result = runner.invoke(args=["org", "brand", "acme", "--name", "Acme Analytics", "--accent", "#0F62FE",
                                     "--logo", str(logo), "--product-url", "https://app.acme.example"])
        assert result.exit_code == 0, result.output
        assert result.stdout.strip() == ("Acme Analytics: accent #0f62fe, logo uploaded image/png, "
                                         "product https://app.acme.example")

    def test_a_low_contrast_accent_is_a_clear_error(self, app, org):
        result = app.test_cli_runner().invoke(args=["org", "brand", "acme", "--accent", "#ffcc00"])
        assert result.exit_code == 1 and "Try #8f7200" in result.stderr and "Traceback" not in result.output

    def test_an_svg_logo_is_refused(self, app, org, tmp_path):
        svg = tmp_path / "logo.svg"
        svg.write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
        result = app.test_cli_runner().invoke(args=["org", "brand", "acme", "--logo", str(svg)])
        assert result.exit_code == 1 and "SVG is not accepted" in result.stderr


    def test_a_too_large_logo_says_its_real_size(self, app, org, tmp_path):
        """The CLI reads at most 256 KB + 1 byte; the message must not say a 700 KB file is 256 KB."""
        big = tmp_path / "big.png"
        big.write_bytes(PNG + b"\x00" * (700 * 1024))
        result = app.test_cli_runner().invoke(args=["org", "brand", "acme", "--logo", str(big)])
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert "Error: The logo is 700 KB; at most 256 KB." in result.stderr

class TestApi:
    @pytest.fixture
    def api(self, app, org):
        _row, token = organizations.create_token(db.session, org, ["organizations:read", "organizations:write"])
        db.session.commit()
        client = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        return client

    def test_patch_sets_and_clears_the_brand(self, api):
        response = api.patch("/v1/portal-settings", json={
            "name": "Acme Analytics", "accent_color": "#7c3aed", "logo_url": "https://cdn.acme.example/l.png",
            "product_url": "https://app.acme.example"})
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert (body["name"], body["accent_color"], body["logo_url"], body["product_url"]) == (
            "Acme Analytics", "#7c3aed", "https://cdn.acme.example/l.png", "https://app.acme.example")
        cleared = api.patch("/v1/portal-settings", json={"accent_color": "", "logo_url": ""}).get_json()
        assert cleared["accent_color"] is None and cleared["logo_url"] is None
        assert cleared["name"] == "Acme Analytics" and cleared["product_url"] == "https://app.acme.example"

    def test_a_failing_accent_is_a_422_in_polars_shape(self, api):
        response = api.patch("/v1/portal-settings", json={"accent_color": "#ffff00"})
        assert response.status_code == 422
        assert "against white" in str(response.get_json())
        assert api.get("/v1/portal-settings").get_json()["accent_color"] is None
