"""Pydantic models of the webhooks API, as polar-sdk 1.0.2 sends and loads them
(shared/reference/wire-contract.md §8; the SDK's WebhookEndpoint, WebhookEvent, WebhookDelivery).
Rules (URL guard, formats, which event types) are the webhooks service's."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field, StrictBool, field_validator

from .. import wire
from ..services.webhooks import URL_MAX
from .pagination import PageQuery

EventType = Literal[
    "customer.created", "customer.updated",
    "customer_seat.assigned", "customer_seat.claimed", "customer_seat.revoked",
    "member.created", "member.updated", "member.deleted",
]
Format = Literal["raw", "discord", "slack"]
ApiVersion = Literal["2026-04", "2026-10"]


def _url_field(default=...):
    return Field(default, max_length=URL_MAX, json_schema_extra={"format": "uri"},
                 description="https:// and public in production; http on loopback is accepted "
                             "outside production.")


class WebhookEndpoint(BaseModel):
    created_at: datetime
    modified_at: datetime | None
    id: uuid.UUID
    url: str
    name: str | None
    api_version: str
    format: Format
    secret: str = Field(description="The signing secret (`whsec_…`), only in the answers to "
                                    "create and reset; `\"\"` everywhere else.")
    organization_id: uuid.UUID
    events: list[EventType]
    enabled: bool
    uses_standard_webhook_signature: bool
    disabled_reason: str | None = Field(description="Why the endpoint was disabled, if it was.")

    @classmethod
    def from_row(cls, e, secret: str = "") -> WebhookEndpoint:
        return cls.model_validate({
            "created_at": wire.iso(e.created_at), "modified_at": wire.iso(e.modified_at),
            "id": e.id, "url": e.url, "name": e.name, "api_version": e.api_version,
            "format": e.format, "secret": secret, "organization_id": e.organization_id,
            "events": list(e.events or []), "enabled": e.enabled,
            "uses_standard_webhook_signature": True, "disabled_reason": e.disabled_reason,
        })


class WebhookEndpointCreate(BaseModel):
    url: str = _url_field()
    name: str | None = Field(None, max_length=256)
    api_version: ApiVersion | None = None
    format: Format = Field(description="Only `raw` is sent; `discord` and `slack` are refused.")
    events: list[EventType] = Field(max_length=50)
    organization_id: uuid.UUID | None = Field(None, description="The token's organization, if "
                                              "given.")


class WebhookEndpointUpdate(BaseModel):
    url: str | None = _url_field(None)
    name: str | None = Field(None, max_length=256)
    api_version: ApiVersion | None = None
    format: Format | None = None
    events: list[EventType] | None = Field(None, max_length=50)
    enabled: StrictBool | None = Field(None, description="`true` again after the endpoint was "
                                 "disabled clears the reason.")


class EndpointListQuery(PageQuery):
    organization_id: list[uuid.UUID] | None = None


class WebhookEvent(BaseModel):
    created_at: datetime
    modified_at: datetime | None
    id: uuid.UUID
    last_http_code: int | None
    succeeded: bool | None
    skipped: bool
    api_version: str
    payload: str | None
    type: EventType
    is_archived: bool

    @classmethod
    def from_row(cls, ev) -> WebhookEvent:
        return cls.model_validate({
            "created_at": wire.iso(ev.created_at), "modified_at": wire.iso(ev.modified_at),
            "id": ev.id, "last_http_code": ev.last_http_code,
            "succeeded": ev.succeeded if ev.attempts else None, "skipped": ev.skipped,
            "api_version": ev.api_version, "payload": ev.payload, "type": ev.type,
            "is_archived": False,
        })


class WebhookDelivery(BaseModel):
    created_at: datetime
    modified_at: datetime | None
    id: uuid.UUID
    succeeded: bool
    http_code: int | None
    response: str | None = Field(description="The first KB of the answer, or why there was none.")
    duration_ms: int
    webhook_event: WebhookEvent

    @classmethod
    def from_row(cls, d) -> WebhookDelivery:
        return cls.model_validate({
            "created_at": wire.iso(d.created_at), "modified_at": wire.iso(d.modified_at),
            "id": d.id, "succeeded": d.succeeded, "http_code": d.http_code,
            "response": d.response, "duration_ms": d.duration_ms,
            "webhook_event": WebhookEvent.from_row(d.event).model_dump(mode="json"),
        })


class DeliveryListQuery(PageQuery):
    endpoint_id: list[uuid.UUID] | None = None
    start_timestamp: datetime | None = Field(None, description="Deliveries at or after this time.")
    end_timestamp: datetime | None = Field(None, description="Deliveries at or before this time.")
    succeeded: bool | None = None
    query: str | None = Field(None, max_length=256,
                              description="Text in the event's payload or in the answer.")
    http_code_class: Literal["2xx", "3xx", "4xx", "5xx"] | None = None
    event_type: list[EventType] | None = None

    @field_validator("start_timestamp", "end_timestamp")
    @classmethod
    def _in_utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return value
        try:
            return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        except OverflowError:
            raise ValueError("The timestamp is out of range.") from None
