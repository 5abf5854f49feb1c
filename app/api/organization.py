"""The organization's portal settings (our own API): which origins may frame the portal, and
the brand (display name, accent colour, logo, product URL) the portal and its emails wear."""
from __future__ import annotations

from flask import g
from pydantic import BaseModel, Field, StrictBool

from ..extensions import db
from ..services import branding, organizations
from ..web import brand_logo
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
    accent_color: str | None = Field(description="#rrggbb, or null for the portal's default.")
    logo_url: str | None = Field(description="Where the logo is shown from (an uploaded logo is "
                                             "served by the portal), or null.")
    product_url: str | None = Field(description="Where members open the product, or null.")


class PortalSettingsUpdate(BaseModel):
    embed_origins: list[str] | None = Field(None, max_length=organizations.MAX_EMBED_ORIGINS)
    signin_in_frame: StrictBool | None = None  # `0`, `"yes"`… are refused, not read as booleans
    name: str | None = Field(None, max_length=256, description="The display name.")
    accent_color: str | None = Field(
        None, max_length=32, description="#rrggbb with at least 4.5:1 contrast on white (a colour "
                                         "that fails is refused with a darker one to try); \"\" resets it.")
    logo_url: str | None = Field(None, max_length=2048, description="An https URL; \"\" removes the logo.")
    product_url: str | None = Field(None, max_length=2048, description="An https URL; \"\" removes it.")


def settings_out() -> PortalSettings:
    o = g.organization
    return PortalSettings(organization_id=str(o.id), slug=o.slug, name=o.name,
                          embed_origins=list(o.embed_origins or []),
                          signin_in_frame=bool((o.features or {}).get("signin_in_frame")),
                          accent_color=o.accent_color, logo_url=brand_logo(o, absolute=True),
                          product_url=o.product_url)


@operation(bp, "GET", "/portal-settings", "portal_settings:get", tag=TAG,
           summary="Get the portal settings", auth=org("organizations:read", "organizations:write"),
           response=PortalSettings)
def get_portal_settings():
    """Scopes: `organizations:read` `organizations:write`."""
    return settings_out()


@operation(bp, "PATCH", "/portal-settings", "portal_settings:update", tag=TAG,
           summary="Set the embedding origins and the brand", auth=org("organizations:write"),
           body=PortalSettingsUpdate, response=PortalSettings)
def update_portal_settings(body: PortalSettingsUpdate):
    """`embed_origins` replaces the list; each entry must be a bare origin such as
    `https://app.example.com`. `name`, `accent_color`, `logo_url` and `product_url` set the brand
    (an empty string clears the last three). Fields left out stay as they are. Scope:
    `organizations:write`."""
    if body.embed_origins is not None:
        organizations.set_embed_origins(db.session, g.organization, body.embed_origins)
    if body.signin_in_frame is not None:
        organizations.allow_signin_in_frame(db.session, g.organization, body.signin_in_frame)
    brand = {key: getattr(body, key) or None for key in ("name", "accent_color", "logo_url", "product_url")
             if getattr(body, key) is not None}
    if "name" in brand:
        brand["name"] = body.name  # an empty name is refused, not a reset
    if brand:
        branding.set_brand(db.session, g.organization, **brand)
    return settings_out()
