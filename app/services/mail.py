"""The email outbox: mail is a row written in the same transaction as the change that causes it.
No request talks to an SMTP server: `flask worker` (app.worker) delivers what is due, and
`flask mail deliver` does the same once, for cron. For the single-process demo, a background
thread also tries new mail right after commit (MAIL_DELIVER_ON_COMMIT, on by default).

Each attempt claims one row: `FOR UPDATE SKIP LOCKED` on PostgreSQL, then a guarded UPDATE to
`sending` with an expiring claim (`locked_until`), so several workers on several hosts share the
queue and a worker killed mid-send loses nothing (the claim expires and another takes it).
A failure is retried later with exponential backoff and jitter (`next_attempt_at`); a mail that
can never go out (cannot be built, refused with a permanent 5xx) is marked `failed` with its reason
after MAIL_PERMANENT_ATTEMPTS tries, and any mail after MAIL_MAX_ATTEMPTS. Due rows are taken by
`next_attempt_at`, each at most once per run, so failing rows move behind newer ones."""
from __future__ import annotations

import atexit
import logging
import random
import re
import smtplib
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import unquote, urlsplit

from flask import current_app, has_app_context, render_template
from sqlalchemy import and_, event, func, or_, select, update
from sqlalchemy.orm import Session

from ..models import EmailStatus, Organization, OutboxEmail, utcnow

log = logging.getLogger("portal.mail")

REDACTED = "[delivered; the body held a one-time link and was removed after delivery]"
REDACTED_FAILED = "[not delivered; the body held a one-time link and was removed]"
SECRET_KINDS = {"signin", "invitation"}
NOT_CONFIGURED = "RuntimeError: SMTP_URL is not set; the mail stays queued"

# C0 and C1 controls, DEL, and the Unicode line and paragraph separators: none belongs in a header.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def clean_header(value: str | None) -> str:
    """A header value on one line: control characters (CR, LF, TAB, NUL…) become one space."""
    return " ".join(_CONTROL.sub(" ", value or "").split())


def queue_email(
    session: Session,
    *,
    to: str,
    kind: str,
    subject: str,
    template: str,
    organization: Organization | None = None,
    **context,
) -> OutboxEmail:
    """Render `emails/<template>.txt` and `.html` and add the mail to the outbox."""
    context.setdefault("organization", organization)
    email = OutboxEmail(
        organization_id=organization.id if organization else None,
        to_address=clean_header(to),
        kind=kind,
        subject=clean_header(subject)[:400],
        text_body=render_template(f"emails/{template}.txt", **context),
        html_body=render_template(f"emails/{template}.html", **context),
        next_attempt_at=utcnow(),
    )
    session.add(email)
    session.flush()
    return email


# --- SMTP ----------------------------------------------------------------------------------------

class MailConfigError(ValueError):
    """Mail cannot be delivered at all with this configuration (one line for the operator)."""


class SmtpSettings:
    def __init__(self, url: str, timeout: float = 10):
        parts = urlsplit(url)
        if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
            raise MailConfigError(
                f"SMTP_URL must look like smtp://host:port, got {parts.scheme}://…")
        self.ssl = parts.scheme == "smtps"
        self.starttls = "starttls=1" in (parts.query or "") or "starttls=true" in (parts.query or "")
        self.host = parts.hostname
        try:
            self.port = parts.port or (465 if self.ssl else 25)
        except ValueError:
            raise MailConfigError("SMTP_URL has a port that is not a number") from None
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = timeout


def smtp_settings(config: Mapping) -> SmtpSettings | None:
    """The SMTP server to use, or None when SMTP_URL is unset. Raises MailConfigError."""
    url = config.get("SMTP_URL")
    return SmtpSettings(url, config.get("SMTP_TIMEOUT", 10)) if url else None


@dataclass(frozen=True)
class _Claimed:
    """What one attempt needs, copied out of the row so no transaction stays open while sending."""

    id: object
    to_address: str
    subject: str
    text_body: str
    html_body: str
    kind: str
    attempts: int

    @property
    def domain(self) -> str:
        return self.to_address.rpartition("@")[2] or "?"


def build_message(email, mail_from: str) -> EmailMessage:
    """The message to send; raises here (not halfway through SMTP) if it cannot be built."""
    msg = EmailMessage()
    msg["Subject"] = clean_header(email.subject)
    msg["From"] = clean_header(mail_from)
    msg["To"] = clean_header(email.to_address)
    msg["Message-ID"] = make_msgid(domain="team-portal")
    msg.set_content(email.text_body)
    msg.add_alternative(email.html_body, subtype="html")
    msg.as_bytes()  # everything that serializing can refuse, refused now
    return msg


def _send(settings: SmtpSettings, message: EmailMessage) -> None:
    cls = smtplib.SMTP_SSL if settings.ssl else smtplib.SMTP
    with cls(settings.host, settings.port, timeout=settings.timeout) as smtp:
        if settings.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.username:
            smtp.login(settings.username, settings.password or "")
        smtp.send_message(message)


class _Unbuildable(Exception):
    pass


def _is_permanent(exc: BaseException) -> bool:
    """A refusal that will not change by waiting: an unbuildable mail or a 5xx for this mail.
    Authentication failures are the operator's to fix, so they are retried like a 4xx."""
    if isinstance(exc, _Unbuildable):
        return True
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return False
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return 500 <= exc.smtp_code < 600
    return False


def _reason(exc: BaseException) -> str:
    if isinstance(exc, _Unbuildable):
        exc = exc.__cause__ or exc
        return f"cannot be built: {type(exc).__name__}: {exc}"[:2000]
    return f"{type(exc).__name__}: {exc}"[:2000]


def _short(exc: BaseException) -> str:
    """For the log: the kind of error and its SMTP code, never an address, body or token."""
    if isinstance(exc, _Unbuildable):
        return f"unbuildable {type(exc.__cause__ or exc).__name__}"
    code = getattr(exc, "smtp_code", None)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code = ",".join(str(c) for c, _ in exc.recipients.values())
    return type(exc).__name__ + (f" {code}" if code else "")


# --- delivery --------------------------------------------------------------------------------

@dataclass
class Tally:
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    held: int = 0  # not tried: no SMTP_URL in production

    @property
    def attempted(self) -> int:
        return self.sent + self.failed + self.retrying


def retry_delay(attempts: int, config: Mapping, rng: random.Random | None = None) -> float:
    """Seconds before attempt `attempts + 1`: base × 2^(attempts-1), capped, plus 0-25 % jitter
    so that mail failing together does not come back together. Grows with every attempt."""
    base = float(config.get("MAIL_RETRY_SECONDS", 60))
    cap = float(config.get("MAIL_RETRY_MAX_SECONDS", 6 * 3600))
    delay = min(cap, base * 2 ** max(0, attempts - 1))
    return delay * (1 + 0.25 * (rng or random).random())


def _claimable(now: datetime):
    return or_(
        and_(OutboxEmail.status == EmailStatus.QUEUED, OutboxEmail.next_attempt_at <= now),
        # A claim that outlived its worker (killed mid-send) is free again.
        and_(OutboxEmail.status == EmailStatus.SENDING, OutboxEmail.locked_until <= now),
    )


def _claim(session: Session, now: datetime, lease: float, ids, skip: list) -> _Claimed | None:
    """Take the next due mail for this worker alone, or None when nothing (free) is due."""
    columns = (OutboxEmail.id, OutboxEmail.to_address, OutboxEmail.subject, OutboxEmail.text_body,
               OutboxEmail.html_body, OutboxEmail.kind, OutboxEmail.attempts)
    while True:
        query = select(*columns).where(_claimable(now))
        if ids is not None:
            query = query.where(OutboxEmail.id.in_(ids))
        if skip:
            query = query.where(OutboxEmail.id.not_in(skip))
        # SKIP LOCKED: rows another worker is claiming right now are left to it (PostgreSQL;
        # SQLite has one writer, and the guarded UPDATE below settles any race).
        row = session.execute(query.order_by(OutboxEmail.next_attempt_at).limit(1)
                              .with_for_update(skip_locked=True)).first()
        if row is None:
            session.rollback()
            return None
        won = session.execute(
            update(OutboxEmail)
            .where(OutboxEmail.id == row.id, _claimable(now))
            .values(status=EmailStatus.SENDING, attempts=OutboxEmail.attempts + 1,
                    locked_until=max(now, utcnow()) + timedelta(seconds=lease))
            .execution_options(synchronize_session=False)
        ).rowcount
        session.commit()
        skip.append(row.id)
        if won:
            return _Claimed(*row[:-1], attempts=row.attempts + 1)


def _finish(session: Session, claimed: _Claimed, **values) -> bool:
    """Record the attempt's outcome, unless the claim expired and another worker took the mail."""
    done = session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.id == claimed.id, OutboxEmail.status == EmailStatus.SENDING,
               OutboxEmail.attempts == claimed.attempts)
        .values(locked_until=None, **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    return bool(done)


def _hold_unconfigured(session: Session, now: datetime, config: Mapping, ids, limit: int) -> int:
    """Production without SMTP_URL: mail never goes to the log; it waits, with the reason, and
    the wait does not count as an attempt (fixing the configuration delivers it all)."""
    query = select(OutboxEmail.id).where(OutboxEmail.status == EmailStatus.QUEUED,
                                         OutboxEmail.next_attempt_at <= now)
    if ids is not None:
        query = query.where(OutboxEmail.id.in_(ids))
    due = session.scalars(query.order_by(OutboxEmail.next_attempt_at).limit(limit)).all()
    if due:
        later = now + timedelta(seconds=float(config.get("MAIL_RETRY_SECONDS", 60)))
        session.execute(update(OutboxEmail).where(OutboxEmail.id.in_(due))
                        .values(last_error=NOT_CONFIGURED, next_attempt_at=later)
                        .execution_options(synchronize_session=False))
    session.commit()
    if due:
        log.warning("SMTP_URL is not set; %d emails stay queued", len(due))
    return len(due)


def waiting(session: Session) -> int:
    """How many emails are queued or being sent."""
    return session.scalar(select(func.count()).select_from(OutboxEmail).where(
        OutboxEmail.status.in_([EmailStatus.QUEUED, EmailStatus.SENDING]))) or 0


def deliver(
    session: Session,
    config: Mapping,
    now: datetime | None = None,
    *,
    ids: Iterable | None = None,
    limit: int | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> Tally:
    """Attempt every mail due at `now` (or just `ids`), each at most once, at most `limit`
    (MAIL_BATCH) of them. Commits per attempt. Raises MailConfigError for a bad SMTP_URL."""
    settings = smtp_settings(config)
    now = now or utcnow()
    ids = list(ids) if ids is not None else None
    limit = limit or int(config.get("MAIL_BATCH", 100))
    if settings is None and config.get("PORTAL_ENV") == "production":
        return Tally(held=_hold_unconfigured(session, now, config, ids, limit))
    mail_from = config.get("MAIL_FROM", "Team Portal <portal@localhost>")
    lease = float(config.get("MAIL_CLAIM_SECONDS", 300))
    tally, skip = Tally(), []
    while tally.attempted < limit and not should_stop():
        claimed = _claim(session, now, lease, ids, skip)
        if claimed is None:
            break
        status = _attempt(session, config, claimed, settings, mail_from, now)
        setattr(tally, status, getattr(tally, status) + 1)
    return tally


def _attempt(session, config, claimed: _Claimed, settings, mail_from, now) -> str:
    """One attempt at one claimed mail: 'sent', 'retrying' or 'failed'. Logs one line."""
    started = time.monotonic()
    error: BaseException | None = None
    max_attempts = int(config.get("MAIL_MAX_ATTEMPTS", 12))
    try:
        if claimed.attempts > max_attempts:  # its last claims ended with their worker
            raise RuntimeError("the delivery was interrupted every time")
        try:
            message = build_message(claimed, mail_from)
        except Exception as exc:  # noqa: BLE001 - whatever breaks building, it breaks every time
            raise _Unbuildable() from exc
        if settings is None:
            log.info("SMTP_URL is not set; mail written to the log instead of sent.\n"
                     "To: %s\nSubject: %s\n\n%s",
                     clean_header(claimed.to_address), clean_header(claimed.subject),
                     claimed.text_body)
        else:
            _send(settings, message)
    except Exception as exc:  # noqa: BLE001 - one bad mail must not hold back the queue
        error = exc
    secret = claimed.kind in SECRET_KINDS
    if error is None:
        status = "sent"
        values = dict(status=EmailStatus.SENT, sent_at=utcnow(), last_error=None)
        if secret:
            values.update(text_body=REDACTED, html_body=REDACTED)
    else:
        permanent = _is_permanent(error)
        give_up = claimed.attempts >= (int(config.get("MAIL_PERMANENT_ATTEMPTS", 3))
                                       if permanent else max_attempts)
        if give_up:
            status = "failed"
            values = dict(status=EmailStatus.FAILED,
                          last_error=f"Gave up after {claimed.attempts} attempts: {_reason(error)}")
            if secret:
                values.update(text_body=REDACTED_FAILED, html_body=REDACTED_FAILED)
        else:
            status = "retrying"
            delay = retry_delay(claimed.attempts, config)
            values = dict(status=EmailStatus.QUEUED, last_error=_reason(error),
                          next_attempt_at=max(now, utcnow()) + timedelta(seconds=delay))
    recorded = _finish(session, claimed, **values)
    log.info("mail %s kind=%s to=@%s attempt=%d status=%s %.3fs%s%s",
             claimed.id, claimed.kind, claimed.domain, claimed.attempts, status,
             time.monotonic() - started, f" error={_short(error)}" if error else "",
             "" if recorded else " (claim expired; another worker has it)")
    return status


def deliver_due(session: Session, app_config: Mapping, now: datetime) -> int:
    """The worker's mail job (app.worker.JOBS): attempts what is due, returns how many."""
    from ..worker import stop_requested

    return deliver(session, app_config, now, should_stop=stop_requested).attempted


# --- right after commit, in a background thread (MAIL_DELIVER_ON_COMMIT) -------------------------

@event.listens_for(Session, "after_flush")
def _remember_new_mail(session: Session, flush_context) -> None:
    new_ids = [obj.id for obj in session.new if isinstance(obj, OutboxEmail)]
    if new_ids:
        session.info.setdefault("outbox_ids", []).extend(new_ids)


@event.listens_for(Session, "after_rollback")
def _forget_mail(session: Session) -> None:
    session.info.pop("outbox_ids", None)


_background: set[threading.Thread] = set()


def join_background_delivery(timeout: float = 10) -> None:
    """Wait for background deliveries to finish (tests, shutdown)."""
    for thread in list(_background):
        thread.join(timeout)


# A CLI command that queued mail should not cut its delivery off halfway when it exits; a mail
# still unsent then stays claimed until MAIL_CLAIM_SECONDS, and the worker sends it after that.
atexit.register(join_background_delivery, 5)


def _deliver_ids(bind, ids: list, config: dict) -> None:
    try:
        with Session(bind) as delivery:
            deliver(delivery, config, ids=ids)
    except Exception as exc:  # noqa: BLE001 - the change is committed; the mail stays queued
        log.warning("Delivery after commit did not run (%s); the worker will send the mail",
                    type(exc).__name__)
    finally:
        _background.discard(threading.current_thread())


@event.listens_for(Session, "after_commit")
def _deliver_after_commit(session: Session) -> None:
    """Never in the request: a thread tries the mail once, so the answer does not wait on SMTP
    and takes as long whether or not a mail was queued (rule 15)."""
    ids = session.info.pop("outbox_ids", None)
    if not ids or not has_app_context() or not current_app.config.get("MAIL_DELIVER_ON_COMMIT", True):
        return
    thread = threading.Thread(target=_deliver_ids,
                              args=(session.get_bind(), ids, dict(current_app.config)),
                              name="outbox-delivery", daemon=True)
    _background.add(thread)
    thread.start()
