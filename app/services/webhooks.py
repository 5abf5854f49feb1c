"""Webhooks (DESIGN.md rules 24-28): endpoints, the events a change announces, signing, the URL
guard, listing deliveries and redelivering. Sending is app/services/webhook_delivery.py.

This module sits at the bottom of the services: it imports only the models, the errors and
app/wire.py (the same JSON bodies the API answers with), so every other service may import it.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import uuid
from collections.abc import Mapping
from datetime import datetime
from urllib.parse import urlsplit

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from .. import wire
from ..errors import NotFound, RuleViolation
from ..models import Organization, WebhookDelivery, WebhookEndpoint, WebhookEvent, utcnow
from .ids import parse_id
from .paging import Page

# The changes the portal announces (rule 25), by Polar's names, and what `data` holds for each.
EVENT_TYPES = (
    "customer.created", "customer.updated",
    "customer_seat.assigned", "customer_seat.claimed", "customer_seat.revoked",
    "member.created", "member.updated", "member.deleted",
)
_BODIES = {"customer": wire.customer_body, "customer_seat": wire.seat_body,
           "member": wire.member_body}
FORMATS = ("raw",)
API_VERSIONS = ("2026-04", "2026-10")
DEFAULT_API_VERSION = "2026-10"
SECRET_PREFIX = "whsec_"
URL_MAX = 2048
MAX_ENDPOINTS = 50

# Cloud metadata services answer on these whatever the network (AWS, GCP, Azure, Alibaba, …).
METADATA_HOSTS = {"metadata", "metadata.google.internal", "metadata.goog", "instance-data",
                  "instance-data.ec2.internal"}
METADATA_ADDRESSES = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254"),
                      ipaddress.ip_address("100.100.100.200"), ipaddress.ip_address("169.254.170.2")}


# --- secrets: shown once, stored encrypted so that the worker can sign --------------------------

def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def cipher(config: Mapping) -> Fernet:
    """Fernet keyed from WEBHOOK_SECRET_KEY, or else SECRET_KEY (HKDF-SHA256, its own label, so
    the key that encrypts secrets is never the one that signs cookies)."""
    material = (config.get("WEBHOOK_SECRET_KEY") or config["SECRET_KEY"]).encode()
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"team-portal webhook endpoint secrets").derive(material)
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_secret(config: Mapping, secret: str) -> str:
    return cipher(config).encrypt(secret.encode()).decode()


def decrypt_secret(config: Mapping, stored: str) -> str:
    """The endpoint's secret; RuleViolation when the key changed since it was stored."""
    try:
        return cipher(config).decrypt(stored.encode()).decode()
    except InvalidToken:
        raise RuleViolation("The signing secret cannot be decrypted: SECRET_KEY or "
                            "WEBHOOK_SECRET_KEY changed since it was set. Reset the secret.") from None


def sign(secret: str, webhook_id: str, timestamp: int, body: str) -> str:
    """`webhook-signature` as Standard Webhooks defines it (rule 26): v1,<base64 HMAC-SHA256>
    of "{id}.{timestamp}.{body}", keyed with the base64-decoded part of `whsec_…`; then, space
    separated as the standard allows, the same keyed with the secret's own UTF-8 bytes, Polar's
    original scheme, which is all that older SDKs (@polar-sh/sdk 0.48) check. Receivers accept
    a delivery when any signature matches."""
    content = f"{webhook_id}.{timestamp}.{body}".encode()
    keys = (base64.b64decode(secret.removeprefix(SECRET_PREFIX)), secret.encode())
    return " ".join("v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
                    for key in keys)


# --- the URL guard (rule 24) --------------------------------------------------------------------

def _address_problem(address, production: bool) -> str | None:
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in METADATA_ADDRESSES or address.is_link_local:
        return "a link-local or cloud metadata address"
    if not production:
        return None
    if address.is_loopback:
        return "a loopback address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_unspecified or address.is_reserved or address.is_private or not address.is_global:
        return "a private or reserved address"
    return None


def check_url(url: str, *, production: bool, resolve: bool) -> list[str]:
    """Refuse a URL the portal must not call; return the addresses it may connect to.

    Everywhere: an http(s) URL with a host and no user name or password, never a cloud metadata
    or link-local address. In production also https only, and every address the name resolves
    to must be public (no loopback, private, link-local, multicast or reserved). With `resolve`
    the name is looked up (saving in production, and before each delivery); otherwise only a
    literal address is checked."""
    def refuse(message: str):
        raise RuleViolation(message, field="url")

    if not isinstance(url, str) or not url.strip():
        refuse("Enter the URL that should receive the events.")
    if len(url) > URL_MAX:
        refuse(f"The URL can be at most {URL_MAX} characters.")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        refuse("This is not a valid URL.")
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        refuse("The URL must start with https:// (or http:// outside production) and name a host.")
    if production and scheme != "https":
        refuse("In production webhook URLs must use https://.")
    if parts.username is not None or parts.password is not None:
        refuse("The URL must not contain a user name or password.")
    host = parts.hostname.rstrip(".").lower()
    if host in METADATA_HOSTS:
        refuse(f"{host} is a cloud metadata service; webhooks cannot be sent there.")
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    elif resolve:
        try:
            infos = socket.getaddrinfo(host, port or (443 if scheme == "https" else 80),
                                       type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError, OSError):
            refuse(f"The host {host} cannot be resolved.")
        addresses = list(dict.fromkeys(ipaddress.ip_address(i[4][0].split("%")[0]) for i in infos))
    else:
        return []
    for address in addresses:
        problem = _address_problem(address, production)
        if problem:
            refuse(f"The URL points to {problem} ({address}); webhooks are only sent to public "
                   "addresses.")
    return [str(a) for a in sorted(addresses, key=lambda a: a.version)]


def _production(config: Mapping) -> bool:
    return config.get("PORTAL_ENV") == "production"


# --- endpoints ----------------------------------------------------------------------------------

def _check_format(value: str) -> str:
    if value not in FORMATS:
        raise RuleViolation(f"The {value!r} format is not supported: Team Portal sends the raw JSON "
                            "payload signed as Standard Webhooks. Use format 'raw'.", field="format")
    return value


def _check_events(values) -> list[str]:
    unknown = [v for v in values if v not in EVENT_TYPES]
    if unknown:
        raise RuleViolation(f"Unknown or unsupported event type {unknown[0]!r}; choose from "
                            f"{', '.join(EVENT_TYPES)}.", field="events")
    return list(dict.fromkeys(values))


def _check_name(name: str | None) -> str | None:
    name = (name or "").strip() or None
    if name and len(name) > 256:
        raise RuleViolation("A name can be at most 256 characters.", field="name")
    return name


def list_endpoints(session: Session, organization: Organization, *, page: int = 1,
                   limit: int = 10) -> Page:
    where = WebhookEndpoint.organization_id == organization.id
    total = session.scalar(select(func.count(WebhookEndpoint.id)).where(where)) or 0
    items = list(session.scalars(select(WebhookEndpoint).where(where)
                                 .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
                                 .offset((page - 1) * limit).limit(limit)))
    return Page(items=items, total=total, page=page, limit=limit)


def get_endpoint(session: Session, organization: Organization, endpoint_id) -> WebhookEndpoint:
    eid = parse_id(endpoint_id, "Webhook endpoint not found.")
    endpoint = session.get(WebhookEndpoint, eid)
    if endpoint is None or endpoint.organization_id != organization.id:
        raise NotFound("Webhook endpoint not found.")
    return endpoint


def create_endpoint(session: Session, organization: Organization, config: Mapping, *, url: str,
                    events, format: str = "raw", name: str | None = None,
                    api_version: str | None = None) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; returns it with its secret, which is never shown again (rule 24).

    Rules: the URL passes the guard (https and public in production); format `raw` only; the
    event types are Polar's that the portal sends; at most MAX_ENDPOINTS per organization."""
    _check_format(format)
    events = _check_events(events)
    name = _check_name(name)
    check_url(url, production=_production(config), resolve=_production(config))
    api_version = api_version or DEFAULT_API_VERSION
    if api_version not in API_VERSIONS:
        raise RuleViolation(f"api_version must be one of {', '.join(API_VERSIONS)}.",
                            field="api_version")
    count = session.scalar(select(func.count(WebhookEndpoint.id))
                           .where(WebhookEndpoint.organization_id == organization.id)) or 0
    if count >= MAX_ENDPOINTS:
        raise RuleViolation(f"An organization can have at most {MAX_ENDPOINTS} webhook endpoints.",
                            field="url")
    secret = new_secret()
    endpoint = WebhookEndpoint(organization_id=organization.id, organization=organization,
                               url=url.strip(), name=name, format=format, api_version=api_version,
                               events=events, enabled=True,
                               secret_encrypted=encrypt_secret(config, secret))
    session.add(endpoint)
    session.flush()
    return endpoint, secret


_KEEP = object()


def update_endpoint(session: Session, organization: Organization, config: Mapping, endpoint_id, *,
                    url=None, name=_KEEP, format=None, events=None, enabled=None,
                    api_version=None) -> WebhookEndpoint:
    """Change what is given (None leaves a field as it is; `name=None` clears it). Enabling a
    disabled endpoint clears the reason it was disabled; events announced meanwhile are not sent
    (they can be redelivered)."""
    endpoint = get_endpoint(session, organization, endpoint_id)
    if url is not None:
        check_url(url, production=_production(config), resolve=_production(config))
        endpoint.url = url.strip()
    if name is not _KEEP:
        endpoint.name = _check_name(name)
    if format is not None:
        endpoint.format = _check_format(format)
    if events is not None:
        endpoint.events = _check_events(events)
    if api_version is not None:
        if api_version not in API_VERSIONS:
            raise RuleViolation(f"api_version must be one of {', '.join(API_VERSIONS)}.",
                                field="api_version")
        endpoint.api_version = api_version
    if enabled is not None and enabled != endpoint.enabled:
        endpoint.enabled = enabled
        if enabled:
            endpoint.disabled_reason = endpoint.failing_since = None
        else:
            endpoint.disabled_reason = "Disabled by the organization."
    session.flush()
    return endpoint


def reset_secret(session: Session, organization: Organization, config: Mapping,
                 endpoint_id) -> tuple[WebhookEndpoint, str]:
    """A new secret at once: deliveries from now on are signed with it; shown this once."""
    endpoint = get_endpoint(session, organization, endpoint_id)
    secret = new_secret()
    endpoint.secret_encrypted = encrypt_secret(config, secret)
    session.flush()
    return endpoint, secret


def delete_endpoint(session: Session, organization: Organization, endpoint_id) -> None:
    """Delete the endpoint with its events and deliveries."""
    endpoint = get_endpoint(session, organization, endpoint_id)
    session.delete(endpoint)
    session.flush()


# --- announcing (rule 25) -----------------------------------------------------------------------

def announce(session: Session, organization: Organization, type: str, obj) -> int:
    """Write one event for `obj` (a Member, Seat or Customer, flushed) to every enabled endpoint of
    the organization that subscribed to `type`, in the caller's transaction: a change that is
    rolled back announces nothing. Returns how many events were written."""
    if type not in EVENT_TYPES:
        raise ValueError(f"not an event the portal announces: {type}")
    organization_id = organization.id if isinstance(organization, Organization) else organization
    endpoints = [e for e in session.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.organization_id == organization_id,
                                      WebhookEndpoint.enabled.is_(True))
    ) if type in (e.events or [])]
    if not endpoints:
        return 0
    now = utcnow()
    data = _BODIES[type.split(".", 1)[0]](obj)
    for endpoint in endpoints:
        event_id = uuid.uuid4()
        body = json.dumps({"type": type, "timestamp": wire.iso(now),
                           "api_version": endpoint.api_version, "data": data},
                          separators=(",", ":"))  # ASCII: safe to store and sign
        session.add(WebhookEvent(id=event_id, organization_id=organization_id,
                                 endpoint_id=endpoint.id, type=type,
                                 api_version=endpoint.api_version, payload=body,
                                 webhook_id=f"msg_{event_id.hex}", next_attempt_at=now))
    session.flush()
    return len(endpoints)


# --- deliveries and redelivery (rule 28) --------------------------------------------------------

CODE_CLASSES = {"2xx": 200, "3xx": 300, "4xx": 400, "5xx": 500}


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def list_deliveries(session: Session, organization: Organization, *, endpoint_ids=None,
                    start: datetime | None = None, end: datetime | None = None,
                    succeeded: bool | None = None, query: str | None = None,
                    http_code_class: str | None = None, event_types=None, page: int = 1,
                    limit: int = 10) -> Page:
    """Every attempt, newest first, filtered as the SDK's `list_webhook_deliveries` asks."""
    where = [WebhookDelivery.organization_id == organization.id]
    if endpoint_ids:
        where.append(WebhookEvent.endpoint_id.in_(list(endpoint_ids)))
    if start is not None:
        where.append(WebhookDelivery.created_at >= start)
    if end is not None:
        where.append(WebhookDelivery.created_at <= end)
    if succeeded is not None:
        where.append(WebhookDelivery.succeeded.is_(succeeded))
    if query:
        pattern = _like(query.lower())
        where.append(or_(func.lower(WebhookEvent.payload).like(pattern, escape="\\"),
                         func.lower(WebhookDelivery.response).like(pattern, escape="\\")))
    if http_code_class:
        low = CODE_CLASSES[http_code_class]
        where.append(WebhookDelivery.http_code.between(low, low + 99))
    if event_types:
        where.append(WebhookEvent.type.in_(list(event_types)))
    base = select(WebhookDelivery).join(WebhookDelivery.event).where(*where)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    items = list(session.scalars(base.order_by(WebhookDelivery.created_at.desc(),
                                               WebhookDelivery.id.desc())
                                 .offset((page - 1) * limit).limit(limit)))
    return Page(items=items, total=total, page=page, limit=limit)


def get_event(session: Session, organization: Organization, event_id) -> WebhookEvent:
    eid = parse_id(event_id, "Webhook event not found.")
    event = session.get(WebhookEvent, eid)
    if event is None or event.organization_id != organization.id:
        raise NotFound("Webhook event not found.")
    return event


def redeliver(session: Session, organization: Organization, event_id, now: datetime | None = None
              ) -> WebhookEvent:
    """Queue the event again, at once, with the same `webhook-id` and a fresh retry schedule.

    Rules: the event belongs to the organization; its endpoint is enabled (a disabled endpoint
    says why and must be enabled first)."""
    event = get_event(session, organization, event_id)
    endpoint = event.endpoint
    if not endpoint.enabled:
        raise RuleViolation("The endpoint of this event is disabled"
                            + (f" ({endpoint.disabled_reason})" if endpoint.disabled_reason else "")
                            + ". Enable it first.", field="id")
    event.next_attempt_at = now or utcnow()
    event.round_attempts = 0
    event.skipped = False
    session.flush()
    return event
