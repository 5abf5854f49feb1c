"""Ids from the outside world (URLs, forms, JSON) are parsed once, here."""
from __future__ import annotations

import uuid

from sqlalchemy import Uuid

from ..errors import NotFound


def parse_id(value, not_found: str) -> uuid.UUID:
    """The UUID in `value`; anything that is not one names nothing, so it is simply not found."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound(not_found) from None


class UuidText(Uuid):
    """Reads a UUID column as its text, `str(uuid)`'s 8-4-4-4-12 lowercase hex, for answers that
    send it as text: where the database stores 32 hex digits (SQLite), without building a
    uuid.UUID per value only to turn it back into text. Use with `type_coerce(column, UuidText())`."""

    cache_ok = True

    def __init__(self):
        super().__init__(as_uuid=False)

    def result_processor(self, dialect, coltype):
        if dialect.supports_native_uuid and self.native_uuid:
            return super().result_processor(dialect, coltype)  # the driver's UUID, as text

        def process(value):
            if value is None:
                return None
            if len(value) != 32:  # already hyphenated: as str(uuid) writes it
                return str(uuid.UUID(value))
            value = value.lower()
            return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"

        return process
