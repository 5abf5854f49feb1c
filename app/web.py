"""Helpers shared by the HTML blueprints: page-or-fragment rendering and redirects for htmx."""
from __future__ import annotations

import uuid
from datetime import datetime, UTC

from flask import (Response, current_app, flash, g, make_response, redirect, render_template,
                   request, url_for)
from jinja2_fragments.flask import render_blocks

from .icons import icon
from .services import branding

ROW_ID = "__row_id__"  # cannot occur in a URL of ours otherwise: slugs have no "_"


def is_htmx() -> bool:
    """An htmx request that wants a fragment (history restores get the full page)."""
    return request.headers.get("HX-Request") == "true" and not request.headers.get(
        "HX-History-Restore-Request"
    )


def render(template: str, block: str | None = None, *, status: int = 200, **context) -> Response:
    """The whole page, or only `block` of it for htmx; `Vary: HX-Request` either way.

    Flash messages travel with fragments as an out-of-band toast region."""
    if block and is_htmx():
        return fragments(template, [block], status=status, **context)
    response = make_response(render_template(template, **context), status)
    response.headers.add("Vary", "HX-Request")
    return response


def fragments(template: str | None = None, blocks: list[str] = (), *, status: int = 200,
              trigger: str | None = None, **context) -> Response:
    """An htmx answer: named blocks of `template` (none: only the toasts), the flash messages
    as out-of-band toasts, and optionally an `HX-Trigger` event for the rest of the page."""
    body = render_blocks(template, list(blocks), **context) if blocks else ""
    response = make_response(body + render_template("_toasts.html", oob=True), status)
    if trigger:
        response.headers["HX-Trigger"] = trigger
    response.headers.add("Vary", "HX-Request")
    return response


def redirect_to(location: str, message: str | None = None, category: str = "success") -> Response:
    """303 for browsers, `HX-Redirect` for htmx (so a page is never swapped into a fragment)."""
    if message:
        flash(message, category)
    if request.headers.get("HX-Request") == "true":
        response = make_response("", 204)
        response.headers["HX-Redirect"] = location
    else:
        response = redirect(location, code=303)
    response.headers.add("Vary", "HX-Request")
    return response


def readable(value) -> str:
    """A logged value as a person reads it: dates without microseconds, yes/no, plain text."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
        return moment.astimezone(UTC).strftime("%-d %b %Y %H:%M UTC")
    return str(value)


def initials(name: str | None) -> str:
    """Up to two letters for an avatar: of the first and last word of a name, or of an email."""
    words = [w for w in (name or "").replace("@", " ").replace(".", " ").split() if w[:1].isalnum()]
    if not words:
        return "?"
    letters = words[0][0] + (words[-1][0] if len(words) > 1 and "@" not in (name or "") else "")
    return letters.upper()


def avatar_tone(value: str | None) -> int:
    """One of eight avatar colours, the same for the same person on every page."""
    return sum((value or "").lower().encode()) % 8


# Macros every template may call without importing them: htmx renders single blocks of a page,
# and a block alone does not run the imports at the top of its template.
MACROS = {"_macros.html": ("field",),
          "portal/_people.html": ("person", "seat_badge", "status_pill", "when", "group_chips")}


def install_macros(app) -> None:
    for template, names in MACROS.items():
        module = app.jinja_env.get_template(template).module
        app.jinja_env.globals.update({name: getattr(module, name) for name in names})
    app.jinja_env.globals.update(brand_logo=brand_logo, brand_version=branding.brand_version,
                                 icon=icon, row_url=row_url)


def row_url(endpoint: str, member_id) -> str:
    """`url_for(endpoint, member_id=member_id)` for the rows of a table, built by Werkzeug once
    per endpoint and request (with a placeholder id) instead of once per link: a team page has up
    to 100 rows with three links each. Ids are UUIDs, which need no quoting; anything else goes
    through url_for itself."""
    if not isinstance(member_id, uuid.UUID):
        return url_for(endpoint, member_id=member_id)
    head, tail = row_url_parts(endpoint)
    return f"{head}{member_id}{tail}"


def row_url_parts(endpoint: str) -> tuple[str, str]:
    """`url_for(endpoint, member_id=…)` split around the id, once per endpoint and request: a
    row's URL is head + the member's UUID + tail."""
    built = g.setdefault("row_urls", {})
    parts = built.get(endpoint)
    if parts is None:
        head, _, tail = url_for(endpoint, member_id=ROW_ID).partition(ROW_ID)
        parts = built[endpoint] = (head, tail)
    return parts


def brand_logo(organization, absolute: bool = False) -> str | None:
    """Where pages (or, `absolute`, emails) show the organization's logo from; None: no logo."""
    path = f"/{organization.slug}/brand/logo?v={branding.brand_version(organization)}"
    base = current_app.config["BASE_URL"] if absolute else ""
    return branding.logo_src(organization, base + path)
