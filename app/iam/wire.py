"""The JSON bodies of /client/v4 (wire-contract §6.4), and the parsing of its queries and bodies.

Ids go out as 32 lowercase hex characters, timestamps as ISO 8601 UTC (`…Z`)."""
from __future__ import annotations

import json
import math

from flask import request

from ..api.errors import ApiError
from ..api.routing import _safe_text
from ..models import Member, UserGroup, UserGroupMember
from ..wire import iso
from .envelope import BAD_HEADERS, BAD_JSON, INVALID_INPUT, IamError

PER_PAGE_DEFAULT = 20
PER_PAGE_MAX = 500


def group(row: UserGroup) -> dict:
    return {"id": row.id.hex, "name": row.name, "created_on": iso(row.created_at),
            "modified_on": iso(row.modified_at or row.created_at), "policies": row.policies or []}


def member(row: Member) -> dict:
    return {"id": row.id.hex, "email": row.email, "status": row.status}


def member_detail(row: UserGroupMember) -> dict:
    person = row.member
    first, _, last = (person.name or "").strip().partition(" ")
    return {**member(person), "created_at": iso(row.created_at),
            "user": {"id": person.id.hex, "email": person.email, "first_name": first or None,
                     "last_name": last.strip() or None}}


# --- requests ------------------------------------------------------------------------------------

def _bad(message: str) -> IamError:
    return IamError(400, INVALID_INPUT, message)


def _checked(data, where: str):
    """No NUL, control or text-direction characters anywhere (the /v1 rule, app/text.py)."""
    try:
        _safe_text(data, [where])
    except ApiError as exc:
        item = exc.detail[0]
        raise _bad(f"{'.'.join(str(p) for p in item['loc'])}: {item['msg']}") from None
    return data


def _number(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)  # the SDK types page and per_page as floats and sends "2.0"
    except ValueError:
        value = float("nan")
    # `inf`, `1e400` and `nan` parse as floats too, and none of them is a whole number
    if not math.isfinite(value) or value != int(value) or not low <= value <= high:
        raise _bad(f"{name} must be a whole number from {low} to {high}.")
    return int(value)


def paging() -> tuple[int, int]:
    return (_number("page", 1, 1, 1_000_000),
            _number("per_page", PER_PAGE_DEFAULT, 1, PER_PAGE_MAX))


def descending() -> bool:
    direction = request.args.get("direction", "asc") or "asc"
    if direction not in ("asc", "desc"):
        raise _bad("direction must be asc or desc.")
    return direction == "desc"


def text_arg(name: str) -> str | None:
    value = request.args.get(name)
    return None if value is None else _checked(value, f"query.{name}")


def body():
    """The JSON body: application/json only (as /v1), valid JSON, safe text."""
    raw = request.get_data(cache=True)
    if not request.is_json:
        raise IamError(415, BAD_HEADERS, "Send the body as JSON, with the header "
                                         "Content-Type: application/json.")
    try:
        return _checked(json.loads(raw), "body")
    except (ValueError, UnicodeDecodeError):
        raise IamError(400, BAD_JSON, "Malformed JSON in request body.") from None
    except RecursionError:  # thousands of nested arrays fit in 1 MB
        raise IamError(400, BAD_JSON, "The JSON body is nested too deeply.") from None


def group_body() -> dict:
    data = body()
    if not isinstance(data, dict):
        raise _bad("The body must be a JSON object, e.g. {\"name\": \"Engineering\"}.")
    return data


def member_ids() -> list[str]:
    """A bare array of {"id": "<member id>"} (Cloudflare's members create and update)."""
    data = body()
    if not isinstance(data, list):
        raise _bad('The body must be a JSON array of members, e.g. [{"id": "<member id>"}].')
    ids = []
    for n, item in enumerate(data):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
            raise _bad(f'Member {n + 1} must be an object with an "id" string.')
        ids.append(item["id"])
    return ids
