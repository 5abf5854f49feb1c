"""Bearer tokens: organization access tokens (`polar_oat_…`, with scopes) for the vendor's API,
member session tokens (`polar_mst_…`) for /v1/customer-portal. Only hashes are stored.

401 without a token or with an unknown, revoked or expired one; 403 when an organization token
lacks every scope the operation accepts. Objects of other organizations are simply not found (404),
which the lookups guarantee by always filtering on `g.organization`.
"""
from __future__ import annotations

from typing import NamedTuple

from flask import g, request
from sqlalchemy import bindparam, select

from ..extensions import db
from ..models import Organization, OrganizationToken, PortalSession
from ..security import hash_token
from ..services import sessions as session_service
from ..services.access import Actor
from ..services.organizations import ORG_TOKEN_PREFIX
from .errors import ApiError

MEMBER_TOKEN_PREFIX = session_service.MEMBER_TOKEN_PREFIX
API_SESSION_KIND = "api"


class ApiToken(NamedTuple):
    """The calling organization token, as the actor of what it does (services/access.Actor reads
    its id, name and organization_id): read with its organization in the request's one lookup,
    without an ORM instance of its own."""

    id: object
    organization_id: object
    name: str | None
    scopes: list | None


_TOKENS = OrganizationToken.__table__
# Built once, run with bound values: every API call runs this lookup (see services/sessions.py).
# It asks the database on every request: a revoked token fails on the next one.
_LIVE_ORG_TOKEN = (
    select(Organization, _TOKENS.c.id, _TOKENS.c.organization_id, _TOKENS.c.name,
           _TOKENS.c.scopes)
    .join(_TOKENS, _TOKENS.c.organization_id == Organization.id)
    .where(_TOKENS.c.token_hash == bindparam("token_hash"), _TOKENS.c.revoked_at.is_(None))
)


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _unauthorized(detail: str) -> ApiError:
    return ApiError(401, "Unauthorized", detail, headers={"WWW-Authenticate": "Bearer"})


class Auth:
    scheme: str

    def authenticate(self) -> None:
        raise NotImplementedError


class OrgAuth(Auth):
    """An organization access token holding at least one of `scopes`."""

    scheme = "organization_token"

    def __init__(self, *scopes: str):
        self.scopes = scopes

    def authenticate(self) -> None:
        token = bearer_token()
        if not token or not token.startswith(ORG_TOKEN_PREFIX):
            raise _unauthorized("An organization access token (polar_oat_…) is required.")
        row = db.session.execute(_LIVE_ORG_TOKEN, {"token_hash": hash_token(token)}).first()
        if row is None:
            raise _unauthorized("This access token is not valid or was revoked.")
        organization, api_token = row[0], ApiToken(*row[1:])
        if self.scopes and not set(self.scopes) & set(api_token.scopes or []):
            raise ApiError(403, "NotPermitted",
                           f"This token lacks the scope: {' or '.join(self.scopes)}.")
        ctx_g = g._get_current_object()
        ctx_g.api_token = api_token
        ctx_g.organization = organization
        ctx_g.actor = Actor(token=api_token)


class MemberAuth(Auth):
    """A member session minted by the API (`customer_sessions.create`, sign-in code, seat claim)."""

    scheme = "member_session"

    def authenticate(self) -> None:
        token = bearer_token()
        if not token or not token.startswith(MEMBER_TOKEN_PREFIX):
            raise _unauthorized("A member session token (polar_mst_…) is required.")
        row: PortalSession | None = session_service.load_session(db.session, token)
        if row is None or row.kind != API_SESSION_KIND:
            raise _unauthorized("This session token is not valid or has expired.")
        g.portal_session = row
        g.member = row.member
        g.organization = row.member.customer.organization
        g.actor = Actor(member=row.member)


def org(*scopes: str) -> OrgAuth:
    return OrgAuth(*scopes)


def member() -> MemberAuth:
    return MemberAuth()
