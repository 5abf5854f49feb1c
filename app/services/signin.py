"""Magic-link sign-in (DESIGN.md rules 15 and 16)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from .. import text
from ..errors import InvalidToken, PortalError, RateLimited
from ..models import Customer, Member, Organization, SignInToken, utcnow
from ..security import hash_token, new_code, new_token, same_hash
from . import mail

TOKEN_MINUTES = 15
MAX_CODE_ATTEMPTS = 5


@dataclass(frozen=True)
class SignInPolicy:
    token_minutes: int = TOKEN_MINUTES
    max_per_email: int = 5
    window_minutes: int = 15


@dataclass(frozen=True)
class SignInRequest:
    """What a request produced. `emailed` is False for unknown emails; callers must not show it."""

    token: str
    code: str
    emailed: bool


def normalize_email(raw: str) -> str:
    """Check an email's syntax and return it trimmed and lower-cased (for comparisons)."""
    if text.unsafe(raw):
        raise PortalError(f"Enter a valid email address ({text.MESSAGE})", field="email", status=422)
    try:
        return validate_email((raw or "").strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise PortalError(f"Enter a valid email address ({exc}).", field="email", status=422) from None


def _code_hash(token_hash: str, code: str) -> str:
    # The code is short, so it is bound to its own link: a hash table of codes is useless.
    return hash_token(f"{token_hash}:{code.strip().upper()}")


def live_members_for_email(session: Session, organization: Organization, email: str) -> list[Member]:
    """Live members of this organization's customers with this email (any case)."""
    return list(
        session.scalars(
            select(Member)
            .join(Customer, Member.customer_id == Customer.id)
            .where(
                Customer.organization_id == organization.id,
                Customer.deleted_at.is_(None),
                Member.deleted_at.is_(None),
                func.lower(Member.email) == email.lower(),
            )
            .order_by(Customer.name, Member.created_at)
        )
    )


def request_sign_in(
    session: Session,
    organization: Organization,
    raw_email: str,
    *,
    base_url: str,
    policy: SignInPolicy = SignInPolicy(),
) -> SignInRequest:
    """Start a sign-in for an email.

    Rules: the link and code expire after `token_minutes` and are single use; a new request
    invalidates older ones; requests per email are limited; the caller's answer is the same
    whether or not the email belongs to anyone (a token row is written either way, the email
    only goes to a known address)."""
    email = normalize_email(raw_email)
    now = utcnow()
    _serialize_requests(session, organization, email)
    # Old rows only count toward the rate limit while they are in its window.
    session.execute(
        delete(SignInToken).where(
            SignInToken.organization_id == organization.id,
            SignInToken.email == email,
            SignInToken.created_at < now - timedelta(days=1),
        )
    )
    window_start = now - timedelta(minutes=policy.window_minutes)
    recent = session.scalars(
        select(SignInToken.created_at)
        .where(
            SignInToken.organization_id == organization.id,
            SignInToken.email == email,
            SignInToken.created_at > window_start,
        )
        .order_by(SignInToken.created_at)
    ).all()
    if len(recent) >= policy.max_per_email:
        retry_after = int((recent[0] + timedelta(minutes=policy.window_minutes) - now).total_seconds())
        wait = max(1, retry_after // 60 + 1)
        raise RateLimited(
            "Too many sign-in links were requested for this email. "
            f"Try again in {text.counted(wait, 'minute')}.",
            retry_after=retry_after,
        )

    token, code = issue_link(session, organization, email, minutes=policy.token_minutes)
    members = live_members_for_email(session, organization, email)
    if members:
        mail.queue_email(
            session,
            to=members[0].email,
            kind="signin",
            subject=f"Sign in to {organization.name}",
            template="signin",
            organization=organization,
            link=link_url(base_url, organization, token),
            code=code,
            minutes=policy.token_minutes,
        )
    session.flush()
    return SignInRequest(token=token, code=code, emailed=bool(members))


def _serialize_requests(session: Session, organization: Organization, email: str) -> None:
    """Requests for one email wait for each other, so parallel ones cannot all count the same
    rows and pass the per-email limit together: a transaction-scoped advisory lock on
    PostgreSQL; on SQLite the DELETE that follows starts the (single) write transaction."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(
            func.hashtextextended(f"signin:{organization.id}:{email}", 0))))


def link_url(base_url: str, organization: Organization, token: str) -> str:
    return f"{base_url}/{organization.slug}/login/verify?token={token}"


def issue_link(
    session: Session, organization: Organization, email: str, *, minutes: int = TOKEN_MINUTES
) -> tuple[str, str]:
    """Write a new link and code for a normalised email, invalidating older unused ones.

    Returns the raw token and code; only their hashes are stored."""
    now = utcnow()
    session.execute(
        update(SignInToken)
        .where(
            SignInToken.organization_id == organization.id,
            SignInToken.email == email,
            SignInToken.used_at.is_(None),
        )
        .values(used_at=now)
    )
    token, code = new_token(), new_code()
    token_hash = hash_token(token)
    session.add(
        SignInToken(
            organization_id=organization.id,
            email=email,
            token_hash=token_hash,
            code_hash=_code_hash(token_hash, code),
            expires_at=now + timedelta(minutes=minutes),
        )
    )
    session.flush()
    return token, code


def _usable(row: SignInToken | None) -> SignInToken:
    if row is None:
        raise InvalidToken("This sign-in link is not valid. Request a new one.", reason="unknown")
    if row.used_at is not None:
        raise InvalidToken(
            "This sign-in link was already used or replaced by a newer one. Request a new one.",
            reason="used",
        )
    if row.expires_at <= utcnow():
        raise InvalidToken("This sign-in link has expired. Request a new one.", reason="expired")
    return row


def verify_link(session: Session, organization: Organization, token: str) -> str:
    """Consume a magic link and return the email it proves (single use)."""
    row = session.scalar(
        select(SignInToken)
        .where(
            SignInToken.organization_id == organization.id,
            SignInToken.token_hash == hash_token(token or ""),
        )
        .with_for_update()
    )
    row = _usable(row)
    row.used_at = utcnow()
    session.flush()
    return row.email


def peek_link(session: Session, organization: Organization, token: str) -> str:
    """Check a magic link without consuming it (the GET that mail scanners may open)."""
    row = session.scalar(
        select(SignInToken).where(
            SignInToken.organization_id == organization.id,
            SignInToken.token_hash == hash_token(token or ""),
        )
    )
    return _usable(row).email


def verify_code(session: Session, organization: Organization, raw_email: str, code: str) -> str:
    """Consume the short code of the newest link for this email; a few wrong tries kill it.

    Each try first takes one of the MAX_CODE_ATTEMPTS in a single conditional UPDATE, so parallel
    tries cannot read the same count and check more codes than allowed (on SQLite, where
    FOR UPDATE does nothing, as on PostgreSQL)."""
    email = normalize_email(raw_email)
    row = session.scalar(
        select(SignInToken)
        .where(
            SignInToken.organization_id == organization.id,
            SignInToken.email == email,
            SignInToken.used_at.is_(None),
        )
        .order_by(SignInToken.created_at.desc())
        .limit(1)
    )
    if row is None or row.expires_at <= utcnow():
        if row is None and _locked_by_wrong_codes(session, organization, email):
            raise InvalidToken("Too many wrong codes. Request a new one.", reason="used")
        raise InvalidToken("That code has expired. Request a new one.", reason="expired")
    attempt = session.scalar(
        update(SignInToken)
        .where(SignInToken.id == row.id, SignInToken.used_at.is_(None),
               SignInToken.code_attempts < MAX_CODE_ATTEMPTS)
        .values(code_attempts=SignInToken.code_attempts + 1)
        .returning(SignInToken.code_attempts)
        .execution_options(synchronize_session=False)
    )
    if attempt is None:  # used meanwhile, or every attempt already taken
        raise InvalidToken("Too many wrong codes. Request a new one.", reason="used")
    if not same_hash(row.code_hash, _code_hash(row.token_hash, code or "")):
        if attempt >= MAX_CODE_ATTEMPTS:
            _use(session, row.id)
            raise InvalidToken("Too many wrong codes. Request a new one.", reason="used")
        raise InvalidToken("That code is not right. Check the email and try again.", reason="wrong")
    if not _use(session, row.id):
        raise InvalidToken("That code was already used. Request a new one.", reason="used")
    return row.email


def _locked_by_wrong_codes(session: Session, organization: Organization, email: str) -> bool:
    """Whether this email's newest link, still unexpired, was ended by its last wrong code (so
    the next try is told that again, not that the code has expired)."""
    newest = session.execute(
        select(SignInToken.code_attempts, SignInToken.expires_at)
        .where(SignInToken.organization_id == organization.id, SignInToken.email == email)
        .order_by(SignInToken.created_at.desc())
        .limit(1)
    ).first()
    return (newest is not None and newest.code_attempts >= MAX_CODE_ATTEMPTS
            and newest.expires_at > utcnow())


def _use(session: Session, token_id) -> bool:
    """Mark a sign-in row used, unless it already is; True if this call did it."""
    done = session.execute(
        update(SignInToken)
        .where(SignInToken.id == token_id, SignInToken.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.expire_all()
    return done.rowcount == 1


def choose_member(
    session: Session, organization: Organization, proven_email: str, member_id=None
) -> Member:
    """Pick the team to enter once the email is proven (rule 16).

    With one membership it is chosen for the person; with several, `member_id` must name one
    of them; the choice is never offered before the email is proven."""
    members = live_members_for_email(session, organization, proven_email)
    if not members:
        raise PortalError(
            "This email has no active membership here. Ask your team's owner to add you.",
            status=403,
        )
    if member_id is None:
        if len(members) == 1:
            return members[0]
        raise PortalError("Choose which team to open.", field="member_id", status=422)
    for member in members:
        if str(member.id) == str(member_id):
            return member
    raise PortalError("Choose one of the teams listed.", field="member_id", status=422)
