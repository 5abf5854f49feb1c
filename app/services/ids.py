"""Ids from the outside world (URLs, forms, JSON) are parsed once, here."""
from __future__ import annotations

import uuid

from ..errors import NotFound


def parse_id(value, not_found: str) -> uuid.UUID:
    """The UUID in `value`; anything that is not one names nothing, so it is simply not found."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound(not_found) from None
