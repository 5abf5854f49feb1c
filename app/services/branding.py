"""The organization's brand: display name, accent colour, logo and product URL.

The accent is the vendor's, so it is checked, not trusted: a colour that would put text or
buttons below WCAG AA (4.5:1) is refused with a darker colour that passes as a suggestion, and the
dark scheme gets a lighter variant computed from it. Logos are an https URL or a small uploaded
PNG, JPEG, GIF or WebP (never SVG, which can carry script)."""
from __future__ import annotations

import hashlib
import re
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from ..errors import RuleViolation
from ..models import Organization

UNSET = object()
COLOR_RE = re.compile(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
MIN_CONTRAST = 4.5
LOGO_MAX_BYTES = 256 * 1024
NAME_MAX = 256
LIGHT_SURFACE, LIGHT_SOFT_MIX = "#ffffff", 0.9
DARK_SURFACE, DARK_TEXT = "#121826", "#0b0f17"
LOGO_TYPES = (  # (magic bytes at offset, offset, content type)
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"WEBP", 8, "image/webp"),
)
LOOPBACK = {"localhost", "127.0.0.1", "::1"}


# --- colour arithmetic (WCAG 2.x relative luminance) ------------------------------------------

def parse_color(raw: str) -> str:
    """'#0F62FE', '0f62fe' or '#abc' → '#0f62fe'."""
    match = COLOR_RE.match((raw or "").strip())
    if not match:
        raise RuleViolation(f"{raw!r} is not a colour: use #rrggbb, e.g. #0f62fe.", field="accent_color")
    hexa = match.group(1).lower()
    if len(hexa) == 3:
        hexa = "".join(c * 2 for c in hexa)
    return f"#{hexa}"


def _rgb(color: str) -> tuple[int, int, int]:
    return tuple(int(color[i:i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def _hex(rgb) -> str:
    return "#" + "".join(f"{max(0, min(255, round(c))):02x}" for c in rgb)


def luminance(color: str) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in _rgb(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def mix(color: str, other: str, amount: float) -> str:
    """`amount` of the way from `color` to `other`."""
    return _hex(c + (o - c) * amount for c, o in zip(_rgb(color), _rgb(other), strict=True))


def _toward(color: str, target: str, against: str) -> str:
    """The colour closest to `color`, moving toward `target`, that reaches 4.5:1 on `against`."""
    for step in range(0, 101):
        candidate = mix(color, target, step / 100)
        if contrast(candidate, against) >= MIN_CONTRAST:
            return candidate
    return target


def palette(accent: str) -> dict[str, dict[str, str]]:
    """The CSS custom properties for an accent, in the light and the dark scheme; every pair
    that carries text reaches 4.5:1 (accent on the surface, text on the accent, accent text on
    its soft tint)."""
    soft = mix(accent, LIGHT_SURFACE, LIGHT_SOFT_MIX)
    dark = _toward(accent, "#ffffff", DARK_SURFACE)
    dark_soft = mix(dark, DARK_SURFACE, 0.82)
    return {
        "light": {"--accent": accent, "--focus-ring": accent, "--on-accent": "#ffffff",
                  "--accent-soft": soft, "--accent-text": _toward(accent, "#000000", soft)},
        "dark": {"--accent": dark, "--focus-ring": dark, "--on-accent": DARK_TEXT,
                 "--accent-soft": dark_soft, "--accent-text": _toward(dark, "#ffffff", dark_soft)},
    }


def stylesheet(organization: Organization) -> str:
    """The organization's colours as a small stylesheet (the CSP allows no inline styles)."""
    if not organization.accent_color:
        return ""
    colours = palette(organization.accent_color)

    def block(selector: str, values: dict) -> str:
        return selector + " { " + " ".join(f"{k}: {v};" for k, v in values.items()) + " }\n"

    return (block(":root", colours["light"])
            + "@media (prefers-color-scheme: dark) {\n  "
            + block(':root:not([data-theme="light"])', colours["dark"]) + "}\n"
            + block(':root[data-theme="dark"]', colours["dark"]))


def brand_version(organization: Organization) -> str:
    """Changes whenever the brand does, so its stylesheet and logo URLs can be cached."""
    seed = "|".join(str(v) for v in (organization.accent_color, organization.logo_url,
                                     organization.logo_type, organization.modified_at))
    return hashlib.sha256(seed.encode()).hexdigest()[:12]


# --- setting the brand ------------------------------------------------------------------------

def check_accent(raw: str) -> str:
    """A usable accent colour, or a refusal that names a darker colour that would pass."""
    color = parse_color(raw)
    ratio = contrast(color, LIGHT_SURFACE)
    if ratio < MIN_CONTRAST:
        raise RuleViolation(
            f"The accent colour {color} has a contrast of {ratio:.1f}:1 against white; buttons and "
            f"links need at least {MIN_CONTRAST}:1. Try {_toward(color, '#000000', LIGHT_SURFACE)}, "
            "a darker shade of it.", field="accent_color")
    return color


def check_url(raw: str, *, field: str) -> str:
    """An https URL (http only on this machine's loopback, for local development)."""
    value = (raw or "").strip()
    parts = urlsplit(value)
    host = (parts.hostname or "").lower()
    if len(value) > 2048 or not host or parts.username or parts.password or not (
            parts.scheme == "https" or (parts.scheme == "http" and host in LOOPBACK)):
        raise RuleViolation(f"{raw!r} is not an https URL, e.g. https://app.example.com.", field=field)
    return value


def logo_type(data: bytes) -> str:
    """The content type of an uploaded logo, from its first bytes (never from its name)."""
    if len(data) > LOGO_MAX_BYTES:
        raise RuleViolation(f"The logo is {len(data) // 1024} KB; at most {LOGO_MAX_BYTES // 1024} KB.",
                            field="logo")
    for magic, offset, kind in LOGO_TYPES:
        if data[offset:offset + len(magic)] == magic and (kind != "image/webp" or data[:4] == b"RIFF"):
            return kind
    raise RuleViolation("The logo must be a PNG, JPEG, GIF or WebP image (SVG is not accepted).",
                        field="logo")


def set_brand(session: Session, organization: Organization, *, name=UNSET, accent_color=UNSET,
              logo_url=UNSET, logo_image=UNSET, product_url=UNSET) -> Organization:
    """Change any part of the brand; `None` clears a part. Every value is checked before
    anything changes. An uploaded logo replaces a logo URL and the other way round."""
    changes: dict = {}
    if name is not UNSET:
        cleaned = (name or "").strip()
        if not 1 <= len(cleaned) <= NAME_MAX:
            raise RuleViolation(f"The display name must be 1 to {NAME_MAX} characters.", field="name")
        changes["name"] = cleaned
    if accent_color is not UNSET:
        changes["accent_color"] = check_accent(accent_color) if accent_color else None
    if product_url is not UNSET:
        changes["product_url"] = check_url(product_url, field="product_url") if product_url else None
    if logo_url is not UNSET:
        changes.update(logo_url=check_url(logo_url, field="logo_url") if logo_url else None,
                       logo_image=None, logo_type=None)
    if logo_image is not UNSET:
        kind = logo_type(logo_image) if logo_image else None
        changes.update(logo_image=logo_image or None, logo_type=kind, logo_url=None)
    for key, value in changes.items():
        setattr(organization, key, value)
    session.flush()
    return organization


def logo_src(organization: Organization, uploaded_url: str) -> str | None:
    """Where the logo is shown from: its https URL, or the portal's own copy of the upload."""
    if organization.logo_type:
        return uploaded_url
    return organization.logo_url
