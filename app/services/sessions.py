"""Portal sessions: a signed-in member, stored as a row behind a hashed token.

Ending the row (sign-out, removal) ends the session at once, whatever cookie a browser holds."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from ..errors import InvalidToken
from ..models import Customer, Member, PortalSession, utcnow
from ..security import hash_token, new_token

MEMBER_TOKEN_PREFIX = "polar_mst_"


def mark_accepted(member: Member, when=None) -> bool:
    """Rule 22: the member is `accepted` from their first proven sign-in, claim or hand-off.

    Set once: a later sign-in keeps the first date. Returns whether it was set now."""
    if member.accepted_at is not None:
        return False
    member.accepted_at = when or utcnow()
    return True


def start_session(
    session: Session,
    member: Member,
    *,
    kind: str = "browser",
    hours: float = 12,
    return_url: str | None = None,
) -> tuple[PortalSession, str]:
    """Create a session for a live member; returns the row and the raw token (shown once).

    Every kind but `api` follows a proof of the email (a sign-in link or code, a claim, an embed
    hand-off), so it accepts the member (rule 22); a session the vendor minted does not."""
    if kind != "api":
        mark_accepted(member)
    token = new_token(MEMBER_TOKEN_PREFIX)
    row = PortalSession(
        member=member,
        member_id=member.id,
        token_hash=hash_token(token),
        kind=kind,
        expires_at=utcnow() + timedelta(hours=hours),
        return_url=return_url,
    )
    session.add(row)
    session.flush()
    return row, token


# Built once, run with bound values: every request runs this lookup, and building the statement
# costs SQLAlchemy more than SQLite takes to run it (benchmarks/README.md, step 4).
_LIVE_SESSION = (
    select(PortalSession)
    .join(Member, PortalSession.member_id == Member.id)
    .join(Customer, Member.customer_id == Customer.id)
    .where(
        PortalSession.token_hash == bindparam("token_hash"),
        PortalSession.ended_at.is_(None),
        PortalSession.expires_at > bindparam("now"),
        Member.deleted_at.is_(None),
        Customer.deleted_at.is_(None),
    )
)


def load_session(session: Session, token: str | None) -> PortalSession | None:
    """The live session for a raw token, or None (unknown, ended, expired, member removed):
    asked of the database on every request, so an ended session stops at the next one."""
    if not token:
        return None
    return session.scalar(_LIVE_SESSION, {"token_hash": hash_token(token), "now": utcnow()})


def end_session(session: Session, row: PortalSession) -> None:
    row.ended_at = utcnow()
    session.flush()


def end_member_sessions(session: Session, member: Member) -> int:
    """End every live session of a member (used when they are removed). Returns how many."""
    result = session.execute(
        update(PortalSession)
        .where(PortalSession.member_id == member.id, PortalSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
    return result.rowcount or 0


HANDOFF_MINUTES = 5
API_SESSION_HOURS = 1


def start_api_session(
    session: Session, member: Member, *, return_url: str | None = None, hours: float = API_SESSION_HOURS
) -> tuple[PortalSession, str, str]:
    """A member session minted by the vendor's API (`polar_mst_…`, one hour), plus a one-time
    hand-off token for the portal URL that a browser exchanges for its own cookie session.

    Returns (row, api_token, handoff_token); only hashes are stored."""
    row, token = start_session(session, member, kind="api", hours=hours, return_url=return_url)
    handoff = new_token()
    row.handoff_token_hash = hash_token(handoff)
    session.flush()
    return row, token, handoff


def portal_entry_url(base_url: str, org_slug: str, handoff_token: str) -> str:
    """The `customer_portal_url` given to vendors: opens the portal signed in, once."""
    return f"{base_url}/{org_slug}/portal/enter?token={handoff_token}"


def exchange_handoff(
    session: Session, organization, handoff_token: str | None
) -> tuple[PortalSession, str]:
    """Turn a one-time hand-off token into a browser session (row, raw token) for the same member.

    Rules: the token works once, within HANDOFF_MINUTES of being minted, for a live member of
    this organization; the new session ends with the API session it came from."""
    row = session.scalar(
        select(PortalSession)
        .where(PortalSession.handoff_token_hash == hash_token(handoff_token or ""))
        .with_for_update()
    )
    if row is None or row.member.customer.organization_id != organization.id:
        raise InvalidToken("This portal link is not valid.", reason="unknown")
    if row.handoff_used_at is not None:
        raise InvalidToken("This portal link was already used. Open the portal again from the app.",
                           reason="used")
    now = utcnow()
    live = load_session_row(session, row)
    if live is None or row.created_at + timedelta(minutes=HANDOFF_MINUTES) <= now:
        raise InvalidToken("This portal link has expired. Open the portal again from the app.",
                           reason="expired")
    row.handoff_used_at = now
    browser, token = start_session(session, row.member, kind="embed", return_url=row.return_url)
    browser.expires_at = row.expires_at
    session.flush()
    return browser, token


def load_session_row(session: Session, row: PortalSession) -> PortalSession | None:
    """The row itself if it is still live (not ended, not expired, member and customer live)."""
    member = row.member
    if (row.ended_at is None and row.expires_at > utcnow() and member.deleted_at is None
            and member.customer.deleted_at is None):
        return row
    return None
