"""Rate limits that hold across processes and hosts: every counter lives in Flask-Limiter's storage
(Redis in production, see RATELIMIT_STORAGE_URI), so each gunicorn worker and host counts the
same requests.

- `client_limit`: one bucket per client address shared by every unauthenticated route that sends
  mail or checks a secret (sign-in, code, link, claim, new claim link; page and API), so a
  client cannot spend SIGNIN_CLIENT_LIMIT once per route.
- `spend`: a named quota for things that are not routes (invitation emails per team and per
  address), raising RateLimited with the seconds to wait.
"""
from __future__ import annotations

import math
import time

from flask import current_app, has_app_context
from limits import parse

from . import text
from .errors import RateLimited
from .extensions import limiter


def _client_limit_value() -> str:
    return current_app.config["SIGNIN_CLIENT_LIMIT"]


# One decorator object, one scope: the same counter whichever of these routes is posted to.
client_limit = limiter.shared_limit(_client_limit_value, scope="signin-client", methods=["POST"])


def wait_words(seconds: int) -> str:
    if seconds < 120:
        return text.counted(seconds, "second")
    if seconds < 2 * 3600:
        return f"{math.ceil(seconds / 60)} minutes"
    return f"{math.ceil(seconds / 3600)} hours"


def spend(name: str, limit: str, *keys, message: str) -> None:
    """Count one use of the quota `name` for `keys`; over `limit` raise RateLimited(message),
    where `{wait}` in the message becomes the time to wait in words."""
    if not has_app_context() or not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    item = parse(limit)
    identifiers = [name, *(str(k) for k in keys)]
    strategy = limiter.limiter
    if strategy.hit(item, *identifiers):
        return
    reset_at = strategy.get_window_stats(item, *identifiers).reset_time
    retry_after = max(1, math.ceil(reset_at - time.time()))
    raise RateLimited(message.format(wait=wait_words(retry_after)), retry_after=retry_after)
