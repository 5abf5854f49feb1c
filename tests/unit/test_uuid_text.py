"""services/ids.UuidText reads a UUID column as the text str(uuid.UUID) gives, whatever form the
database stored it in."""
from __future__ import annotations

import uuid

from sqlalchemy.dialects import postgresql, sqlite

from app.services.ids import UuidText


def test_sqlite_hex_digits_become_the_canonical_text():
    process = UuidText().result_processor(sqlite.dialect(), None)
    for value in (uuid.uuid4() for _ in range(20)):
        assert process(value.hex) == str(value)
        assert process(value.hex.upper()) == str(value)
        assert process(str(value)) == str(value)
    assert process(None) is None


def test_a_native_uuid_is_its_text():
    process = UuidText().result_processor(postgresql.psycopg.dialect(), None)
    value = uuid.uuid4()
    assert process(value) == str(value)
