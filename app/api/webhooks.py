"""Webhook endpoints, deliveries and redelivery (organization token), exactly as polar-sdk 1.0.2's
`polar.webhooks` calls them. Every rule is the webhooks service's."""
from __future__ import annotations

from flask import current_app, g

from ..errors import RuleViolation
from ..extensions import db
from ..services import webhooks as service
from . import bp
from .auth import org
from .pagination import ListResource, listing
from .routing import operation
from .schemas import IdPath
from .webhook_schemas import (
    DeliveryListQuery,
    EndpointListQuery,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEndpointCreate,
    WebhookEndpointUpdate,
    WebhookEvent,
)

READ = org("webhooks:read", "webhooks:write")
WRITE = org("webhooks:write")
TAG = "webhooks"


@operation(bp, "GET", "/webhooks/endpoints", "webhooks:list_webhook_endpoints", tag=TAG,
           summary="List webhook endpoints", auth=READ, query=EndpointListQuery,
           response=ListResource[WebhookEndpoint])
def list_webhook_endpoints(query: EndpointListQuery):
    """The organization's endpoints, oldest first; secrets are never listed.
    Scopes: `webhooks:read` `webhooks:write`."""
    if query.organization_id and g.organization.id not in query.organization_id:
        return listing([], 0, query.limit)
    page = service.list_endpoints(db.session, g.organization, page=query.page, limit=query.limit)
    return listing([WebhookEndpoint.from_row(e) for e in page.items], page.total, query.limit)


@operation(bp, "POST", "/webhooks/endpoints", "webhooks:create_webhook_endpoint", tag=TAG,
           summary="Create a webhook endpoint", auth=WRITE, body=WebhookEndpointCreate,
           response=WebhookEndpoint, status=201)
def create_webhook_endpoint(body: WebhookEndpointCreate):
    """Register a URL for the given event types. The answer holds the signing secret
    (`whsec_…`) this once. Scope: `webhooks:write`."""
    if body.organization_id is not None and body.organization_id != g.organization.id:
        raise RuleViolation("organization_id must be the token's organization.",
                            field="organization_id")
    endpoint, secret = service.create_endpoint(
        db.session, g.organization, current_app.config, url=body.url, events=body.events,
        format=body.format, name=body.name, api_version=body.api_version)
    return WebhookEndpoint.from_row(endpoint, secret), 201


@operation(bp, "GET", "/webhooks/endpoints/<id>", "webhooks:get_webhook_endpoint", tag=TAG,
           summary="Get a webhook endpoint", auth=READ, path=IdPath, response=WebhookEndpoint)
def get_webhook_endpoint(path: IdPath):
    """Scopes: `webhooks:read` `webhooks:write`."""
    return WebhookEndpoint.from_row(service.get_endpoint(db.session, g.organization, path.id))


@operation(bp, "PATCH", "/webhooks/endpoints/<id>", "webhooks:update_webhook_endpoint", tag=TAG,
           summary="Update a webhook endpoint", auth=WRITE, path=IdPath,
           body=WebhookEndpointUpdate, response=WebhookEndpoint)
def update_webhook_endpoint(path: IdPath, body: WebhookEndpointUpdate):
    """Fields left out (or null) stay as they are; `"name": null` clears the name.
    Scope: `webhooks:write`."""
    changes = {k: getattr(body, k) for k in ("url", "format", "events", "enabled", "api_version")}
    if "name" in body.model_fields_set:
        changes["name"] = body.name
    endpoint = service.update_endpoint(db.session, g.organization, current_app.config, path.id,
                                       **changes)
    return WebhookEndpoint.from_row(endpoint)


@operation(bp, "DELETE", "/webhooks/endpoints/<id>", "webhooks:delete_webhook_endpoint", tag=TAG,
           summary="Delete a webhook endpoint", auth=WRITE, path=IdPath, status=204)
def delete_webhook_endpoint(path: IdPath):
    """Deletes its queued events and its deliveries too. Scope: `webhooks:write`."""
    service.delete_endpoint(db.session, g.organization, path.id)


@operation(bp, "PATCH", "/webhooks/endpoints/<id>/secret", "webhooks:reset_webhook_endpoint_secret",
           tag=TAG, summary="Regenerate a webhook endpoint's secret", auth=WRITE, path=IdPath,
           response=WebhookEndpoint)
def reset_webhook_endpoint_secret(path: IdPath):
    """The old secret stops at once; the answer holds the new one this once.
    Scope: `webhooks:write`."""
    endpoint, secret = service.reset_secret(db.session, g.organization, current_app.config, path.id)
    return WebhookEndpoint.from_row(endpoint, secret)


@operation(bp, "GET", "/webhooks/deliveries", "webhooks:list_webhook_deliveries", tag=TAG,
           summary="List webhook deliveries", auth=READ, query=DeliveryListQuery,
           response=ListResource[WebhookDelivery])
def list_webhook_deliveries(query: DeliveryListQuery):
    """Every attempt to deliver an event, newest first, each with its event.
    Scopes: `webhooks:read` `webhooks:write`."""
    page = service.list_deliveries(
        db.session, g.organization, endpoint_ids=query.endpoint_id, start=query.start_timestamp,
        end=query.end_timestamp, succeeded=query.succeeded, query=query.query,
        http_code_class=query.http_code_class, event_types=query.event_type, page=query.page,
        limit=query.limit)
    return listing([WebhookDelivery.from_row(d) for d in page.items], page.total, query.limit)


@operation(bp, "POST", "/webhooks/events/<id>/redeliver", "webhooks:redeliver_webhook_event",
           tag=TAG, summary="Redeliver a webhook event", auth=WRITE, path=IdPath,
           response=WebhookEvent, status=202)
def redeliver_webhook_event(path: IdPath):
    """Queue the event again now, with the same `webhook-id`. Scope: `webhooks:write`."""
    return WebhookEvent.from_row(service.redeliver(db.session, g.organization, path.id)), 202
