"""Helpers for route tests: real CSRF tokens, signed-in clients."""
from __future__ import annotations

import re

from flask.testing import FlaskClient

from app.extensions import db
from app.services import sessions

HX = {"HX-Request": "true"}  # what htmx sends with every request

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|"X-CSRFToken": "([^"]+)"')


def csrf_token(client: FlaskClient, page: str) -> str:
    html = client.get(page).get_data(as_text=True)
    match = CSRF_RE.search(html)
    assert match, f"no CSRF token on {page}"
    return match.group(1) or match.group(2)


def post_form(client: FlaskClient, url: str, data: dict | None = None, *, page: str | None = None,
              headers: dict | None = None):
    """POST like a browser would: with the CSRF token from `page` (default: the same URL)."""
    data = dict(data or {})
    data["csrf_token"] = csrf_token(client, page or url)
    return client.post(url, data=data, headers=headers or {})


def sign_in_client(client: FlaskClient, member) -> str:
    """Give `client` a live session for `member` (as the sign-in flow would)."""
    _row, token = sessions.start_session(db.session, member)
    db.session.commit()
    with client.session_transaction() as s:
        s["_user_id"] = token
        s["_fresh"] = True
    return token
