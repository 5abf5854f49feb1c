"""The brand: accent colours checked for contrast, logos checked by their bytes, https URLs."""
import pytest

from app.errors import RuleViolation
from app.services import branding
from tests.factories import make_org

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
WEBP = b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 32


class TestAccent:
    def test_a_colour_is_normalized(self):
        assert branding.check_accent("0F62FE") == "#0f62fe"
        assert branding.check_accent("#036") == "#003366"

    @pytest.mark.parametrize("raw", ["blue", "#12345", "#ggg000", "", "#0f62fe; color: red"])
    def test_what_is_not_a_colour_is_refused(self, raw):
        with pytest.raises(RuleViolation, match="is not a colour"):
            branding.check_accent(raw)

    def test_a_colour_below_4_5_to_1_is_refused_with_a_darker_one_that_passes(self):
        with pytest.raises(RuleViolation) as refused:
            branding.check_accent("#ffcc00")
        message = refused.value.message
        assert "1.5:1 against white" in message and "at least 4.5:1" in message
        suggestion = message.split("Try ")[1].split(",")[0]
        assert branding.contrast(branding.check_accent(suggestion), "#ffffff") >= 4.5

    @pytest.mark.parametrize("accent", ["#2f5bea", "#0f62fe", "#e11d48", "#000000", "#7c3aed", "#0c875e"])
    def test_every_pair_that_carries_text_reaches_aa_in_both_schemes(self, accent):
        colours = branding.palette(accent)
        light, dark = colours["light"], colours["dark"]
        assert branding.contrast(light["--accent"], "#ffffff") >= 4.5
        assert branding.contrast(light["--on-accent"], light["--accent"]) >= 4.5
        assert branding.contrast(light["--accent-text"], light["--accent-soft"]) >= 4.5
        assert branding.contrast(dark["--accent"], branding.DARK_SURFACE) >= 4.5
        assert branding.contrast(dark["--on-accent"], dark["--accent"]) >= 4.5
        assert branding.contrast(dark["--accent-text"], dark["--accent-soft"]) >= 4.5


class TestLogo:
    @pytest.mark.parametrize("data, kind", [(PNG, "image/png"), (b"\xff\xd8\xff\xe0" + b"\0" * 20, "image/jpeg"),
                                            (b"GIF89a" + b"\0" * 20, "image/gif"), (WEBP, "image/webp")])
    def test_the_type_comes_from_the_bytes(self, data, kind):
        assert branding.logo_type(data) == kind

    @pytest.mark.parametrize("data", [b"<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>",
                                      b"RIFF\0\0\0\0WAVEfmt ", b"hello", b""])
    def test_svg_and_anything_else_is_refused(self, data):
        with pytest.raises(RuleViolation, match="PNG, JPEG, GIF or WebP"):
            branding.logo_type(data)

    def test_a_logo_over_256_kb_is_refused(self):
        with pytest.raises(RuleViolation, match="at most 256 KB"):
            branding.logo_type(PNG + b"\0" * (256 * 1024))


class TestSetBrand:
    def test_sets_and_clears_every_part(self, app, session):
        org = make_org("acme", "Acme")
        branding.set_brand(session, org, name=" Acme Analytics ", accent_color="#0F62FE",
                           logo_url="https://cdn.acme.example/logo.png",
                           product_url="https://app.acme.example")
        assert (org.name, org.accent_color, org.logo_url, org.product_url) == (
            "Acme Analytics", "#0f62fe", "https://cdn.acme.example/logo.png", "https://app.acme.example")
        branding.set_brand(session, org, logo_image=PNG)
        assert org.logo_type == "image/png" and org.logo_url is None, "an upload replaces the URL"
        branding.set_brand(session, org, accent_color=None, logo_image=None, product_url=None)
        assert (org.accent_color, org.logo_type, org.logo_image, org.product_url) == (None, None, None, None)

    @pytest.mark.parametrize("field, value, message", [
        ("logo_url", "http://cdn.example/logo.png", "is not an https URL"),
        ("logo_url", "javascript:alert(1)", "is not an https URL"),
        ("product_url", "https://user:pw@app.example", "is not an https URL"),
        ("name", "   ", "1 to 256 characters"),
        ("accent_color", "#ffff00", "against white"),
    ])
    def test_a_bad_value_changes_nothing(self, app, session, field, value, message):
        org = make_org("acme", "Acme")
        good = {"name": "New name", "accent_color": "#0f62fe", "product_url": "https://app.example"}
        with pytest.raises(RuleViolation, match=message):
            branding.set_brand(session, org, **{**good, field: value})
        assert (org.name, org.accent_color, org.product_url) == ("Acme", None, None)
