"""The organization's portal settings (our own API): which origins may frame the portal."""
from __future__ import annotations

from flask import g
from pydantic import BaseModel, Field, StrictBool

from ..extensions import db
from ..services import organizations
from . import bp
from .auth import org
from .routing import operation

TAG = "portal settings"


class PortalSettings(BaseModel):
    organization_id: str
    slug: str
    name: str
    embed_origins: list[str] = Field(
        description="Origins (scheme://host[:port]) allowed to frame the portal; empty: none may."
    )
    signin_in_frame: bool = Field(
        description="Whether an ended session inside the frame shows the sign-in form; otherwise "
                    "the frame shows a short message and posts `session.expired` to the host."
    )


class PortalSettingsUpdate(BaseModel):
    embed_origins: list[str] | None = Field(None, max_length=organizations.MAX_EMBED_ORIGINS)
    signin_in_frame: StrictBool | None = None  # `0.0` or `"yes"` is not a boolean


def settings_out() -> PortalSettings:
    o = g.organization
    return PortalSettings(organization_id=str(o.id), slug=o.slug, name=o.name,
                          embed_origins=list(o.embed_origins or []),
                          signin_in_frame=bool((o.features or {}).get("signin_in_frame")))


@operation(bp, "GET", "/portal-settings", "portal_settings:get", tag=TAG,
           summary="Get the portal settings", auth=org("organizations:read", "organizations:write"),
           response=PortalSettings)
def get_portal_settings():
    """Scopes: `organizations:read` `organizations:write`."""
    return settings_out()


@operation(bp, "PATCH", "/portal-settings", "portal_settings:update", tag=TAG,
           summary="Set the origins allowed to embed the portal", auth=org("organizations:write"),
           body=PortalSettingsUpdate, response=PortalSettings)
def update_portal_settings(body: PortalSettingsUpdate):
    """`embed_origins` replaces the list; each entry must be a bare origin such as
    `https://app.example.com`. Fields left out stay as they are. Scope: `organizations:write`."""
    if body.embed_origins is not None:
        organizations.set_embed_origins(db.session, g.organization, body.embed_origins)
    if body.signin_in_frame is not None:
        organizations.allow_signin_in_frame(db.session, g.organization, body.signin_in_frame)
    return settings_out()
