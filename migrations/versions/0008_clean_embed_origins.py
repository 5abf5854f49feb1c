"""Embed origins that the origin rule now refuses are dropped from every organization.

Before this revision an origin such as 'https://a.example *' or 'https://*.example.com' was
accepted and went into the portal's `frame-ancestors` as it was, letting any site (or any
subdomain) frame the portal. services/organizations.normalize_origin refuses those now; this
revision applies that same rule to what is already stored: each origin is kept in its normal
form (duplicates collapse) or dropped with a log line naming the organization, so that an
operator can add back what was meant with `flask org allow-embed`. Downgrading changes nothing:
what was dropped was never a valid origin.

Revision ID: 0008
Revises: 0007
"""
import logging

import sqlalchemy as sa
from alembic import op

from app.errors import RuleViolation
from app.services.organizations import normalize_origin

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")
organizations = sa.table("organizations", sa.column("id", sa.Uuid), sa.column("slug", sa.String),
                         sa.column("embed_origins", sa.JSON))


def _valid(origins) -> tuple[list[str], list[str]]:
    kept, dropped = [], []
    for origin in origins or []:
        try:
            kept.append(normalize_origin(str(origin)))
        except RuleViolation:
            dropped.append(origin)
    return list(dict.fromkeys(kept)), dropped


def upgrade():
    bind = op.get_bind()
    for org_id, slug, origins in bind.execute(sa.select(organizations)).all():
        kept, dropped = _valid(origins)
        if kept == (origins or []):
            continue
        bind.execute(organizations.update().where(organizations.c.id == org_id)
                     .values(embed_origins=kept))
        if dropped:
            log.warning("organization %s: embed origins %s are not origins and no longer allow "
                        "framing; add what was meant with `flask org allow-embed %s ORIGIN`",
                        slug, ", ".join(repr(o) for o in dropped), slug)


def downgrade():
    pass
