"""Who calls /client/v4 and which account they name (DESIGN.md rule 17).

`Authorization: Bearer` with either
- an organization access token (`polar_oat_…`) holding `user_groups:read` (reads) or
  `user_groups:write` (reads and writes): any team customer of that organization, or
- a member session token (`polar_mst_…`, as /v1/customer-portal takes it): their own team only;
  the groups service lets owners and billing managers through and refuses plain members (403).
The token checks are /v1's (app/api/auth.py). An account that is not the caller's is not found
(404), never forbidden. Ids are 32 hex characters (Cloudflare's form) or dashed UUIDs."""
from __future__ import annotations

import re
import uuid

from flask import g, request

from ..errors import NotFound
from ..extensions import db
from ..models import Customer
from ..services import organizations
from ..api import auth as api_auth
from .envelope import AUTH, BAD_ID, IamError

READ_SCOPES = ("user_groups:read", "user_groups:write")
WRITE_SCOPES = ("user_groups:write",)
ID_RE = re.compile(r"^(?:[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$",
                   re.IGNORECASE)


def parse_id(value: str) -> uuid.UUID:
    """A path id, or 404 saying the identifier is not one (Cloudflare's 7003)."""
    if not isinstance(value, str) or not ID_RE.match(value):
        raise IamError(404, BAD_ID, f"Could not route to {request.path}, perhaps your object "
                                    "identifier is invalid?")
    return uuid.UUID(value)


def hex_id(value: uuid.UUID) -> str:
    return value.hex


def authenticate(*, write: bool) -> None:
    """Sets g.actor (and g.organization, g.member for a member session), or raises 401/403."""
    token = api_auth.bearer_token()
    if token is None:
        if request.headers.get("X-Auth-Key") or request.headers.get("X-Auth-User-Service-Key"):
            message = ("API keys are not accepted here: send Authorization: Bearer with an "
                       "organization access token or a member session token.")
        else:
            message = "Authentication error: send Authorization: Bearer <token>."
        raise IamError(401, AUTH, message, {"WWW-Authenticate": "Bearer"})
    if token.startswith(api_auth.MEMBER_TOKEN_PREFIX):
        api_auth.member().authenticate()
    elif token.startswith(organizations.ORG_TOKEN_PREFIX):
        api_auth.org(*(WRITE_SCOPES if write else READ_SCOPES)).authenticate()
    else:
        raise IamError(401, AUTH, "Authentication error: this token is not valid.",
                       {"WWW-Authenticate": "Bearer"})


def account(account_id: str) -> Customer:
    """The team customer named by `account_id`, if the caller may see it at all."""
    cid = parse_id(account_id)
    member = g.get("member")
    if member is not None:
        if member.customer_id != cid:
            raise NotFound("Account not found.")
        return member.customer
    try:
        return organizations.get_customer(db.session, g.organization, cid)
    except NotFound:
        raise NotFound("Account not found.") from None
