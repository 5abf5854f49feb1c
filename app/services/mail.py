"""The email outbox: mail is a row written in the same transaction as the change that causes it,
and delivered over SMTP after commit. A failed delivery stays queued with its error and is retried."""
from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import unquote, urlsplit

from flask import current_app, has_app_context, render_template
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from ..models import EmailStatus, Organization, OutboxEmail, utcnow

log = logging.getLogger("portal.mail")

REDACTED = "[delivered; the body held a one-time link and was removed after delivery]"
SECRET_KINDS = {"signin", "invitation"}


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
        to_address=to,
        kind=kind,
        subject=subject,
        text_body=render_template(f"emails/{template}.txt", **context),
        html_body=render_template(f"emails/{template}.html", **context),
    )
    session.add(email)
    session.flush()
    return email


class SmtpSettings:
    def __init__(self, url: str, timeout: int = 10):
        parts = urlsplit(url)
        if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
            raise ValueError(f"SMTP_URL must look like smtp://host:port, got {parts.scheme}://…")
        self.ssl = parts.scheme == "smtps"
        self.starttls = "starttls=1" in (parts.query or "") or "starttls=true" in (parts.query or "")
        self.host = parts.hostname
        self.port = parts.port or (465 if self.ssl else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = timeout


def _message(email: OutboxEmail, mail_from: str) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = email.subject
    msg["From"] = mail_from
    msg["To"] = email.to_address
    msg["Message-ID"] = make_msgid(domain="team-portal")
    msg.set_content(email.text_body)
    msg.add_alternative(email.html_body, subtype="html")
    return msg


def _send(settings: SmtpSettings, message: EmailMessage) -> None:
    cls = smtplib.SMTP_SSL if settings.ssl else smtplib.SMTP
    with cls(settings.host, settings.port, timeout=settings.timeout) as smtp:
        if settings.starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.username:
            smtp.login(settings.username, settings.password or "")
        smtp.send_message(message)


def deliver_queued(
    session: Session,
    *,
    smtp_url: str | None,
    mail_from: str,
    timeout: int = 10,
    ids: list | None = None,
    limit: int = 500,
    log_without_smtp: bool = True,
) -> tuple[int, int]:
    """Try to deliver queued mail (all of it, or just `ids`). Returns (sent, failed).

    Commits after each message so one bad address does not hold back the rest. Each message is
    locked while it is sent (skipping ones another process is sending), so the delivery after
    commit and `flask mail deliver` on several hosts do not send one mail twice."""
    query = select(OutboxEmail.id).where(OutboxEmail.status == EmailStatus.QUEUED)
    if ids is not None:
        query = query.where(OutboxEmail.id.in_(ids))
    email_ids = session.scalars(query.order_by(OutboxEmail.created_at).limit(limit)).all()
    settings = SmtpSettings(smtp_url, timeout) if smtp_url else None
    sent = failed = 0
    for email_id in email_ids:
        email = session.scalar(
            select(OutboxEmail)
            .where(OutboxEmail.id == email_id, OutboxEmail.status == EmailStatus.QUEUED)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
        if email is None:  # sent meanwhile, or being sent by another process right now
            session.rollback()
            continue
        email.attempts += 1
        try:
            if settings is None and not log_without_smtp:
                # Mail holds one-time links: in production it never goes to the log.
                raise RuntimeError("SMTP_URL is not set; the mail stays queued")
            if settings is None:
                log.info(
                    "SMTP_URL is not set; mail written to the log instead of sent.\n"
                    "To: %s\nSubject: %s\n\n%s",
                    email.to_address,
                    email.subject,
                    email.text_body,
                )
            else:
                _send(settings, _message(email, mail_from))
        except Exception as exc:  # noqa: BLE001 - one bad mail must not hold back the queue
            email.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            failed += 1
            log.warning("Could not deliver mail %s (attempt %d): %s", email.id, email.attempts, exc)
        else:
            email.status = EmailStatus.SENT
            email.sent_at = utcnow()
            email.last_error = None
            if email.kind in SECRET_KINDS:
                email.text_body = email.html_body = REDACTED
            sent += 1
        session.commit()
    return sent, failed


# Deliver what a transaction queued as soon as it commits, outside that transaction.

@event.listens_for(Session, "after_flush")
def _remember_new_mail(session: Session, flush_context) -> None:
    new_ids = [obj.id for obj in session.new if isinstance(obj, OutboxEmail)]
    if new_ids:
        session.info.setdefault("outbox_ids", []).extend(new_ids)


@event.listens_for(Session, "after_rollback")
def _forget_mail(session: Session) -> None:
    session.info.pop("outbox_ids", None)
    session.info.pop("outbox_background", None)


def deliver_in_background(session: Session) -> None:
    """Send what this transaction queues from a thread after commit, not in the request.

    For answers whose timing must not tell whether a mail went out (sign-in: rule 15)."""
    session.info["outbox_background"] = True


_background: set[threading.Thread] = set()


def join_background_delivery(timeout: float = 10) -> None:
    """Wait for background deliveries to finish (tests, shutdown)."""
    for thread in list(_background):
        thread.join(timeout)


def _deliver_ids(bind, ids: list, settings: dict) -> None:
    try:
        with Session(bind) as delivery:
            deliver_queued(delivery, ids=ids, **settings)
    except Exception:  # the change is committed; the mail stays queued for `flask mail deliver`
        log.exception("Delivery after commit failed; mail stays queued")
    finally:
        _background.discard(threading.current_thread())


def delivery_settings(config) -> dict:
    """How to deliver, from the app's config: SMTP, or (outside production) the log."""
    return {"smtp_url": config.get("SMTP_URL"), "mail_from": config["MAIL_FROM"],
            "timeout": config.get("SMTP_TIMEOUT", 10),
            "log_without_smtp": config.get("PORTAL_ENV") != "production"}


@event.listens_for(Session, "after_commit")
def _deliver_after_commit(session: Session) -> None:
    ids = session.info.pop("outbox_ids", None)
    background = session.info.pop("outbox_background", False)
    if not ids or not has_app_context() or not current_app.config.get("MAIL_DELIVER_ON_COMMIT", True):
        return
    settings = delivery_settings(current_app.config)
    if not background:
        _deliver_ids(session.get_bind(), ids, settings)
        return
    thread = threading.Thread(target=_deliver_ids, args=(session.get_bind(), ids, settings),
                              name="outbox-delivery", daemon=True)
    _background.add(thread)
    thread.start()
