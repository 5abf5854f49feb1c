"""Text hygiene in one place: which characters no text field accepts, search patterns, and the
size of a JSON value.

NUL cannot be stored or even compared by PostgreSQL (a 500 before this); other control
characters (BEL, ESC, …) and the bidirectional overrides and isolates (U+202A–U+202E,
U+2066–U+2069) let a name spoof the team list or an email subject. Every form (app/forms.py), the
API's request parsing (app/api/routing.py), the searches and the services' name checks use this."""
from __future__ import annotations

import json
import re

BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u061c\u200e\u200f"
# C0 controls but tab/newline/carriage return, DEL, C1 controls, line/paragraph separators, bidi.
_UNSAFE = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029{BIDI_CONTROLS}]")
# A one-line value (a name, an email, a code, a search) refuses tab and newlines as well.
_UNSAFE_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{BIDI_CONTROLS}]")

def counted(n: int, word: str) -> str:
    """'1 seat', '2 seats': a count and its noun (every noun we count takes an s)."""
    return f"{n} {word}" + ("" if n == 1 else "s")


MESSAGE = "Remove the control or text-direction characters; they cannot be used here."


def unsafe(value: str | None, *, single_line: bool = True) -> bool:
    """Whether `value` holds a character that no text field accepts."""
    if not isinstance(value, str) or not value:
        return False
    return bool((_UNSAFE_LINE if single_line else _UNSAFE).search(value))


def without_unsafe(value: str, *, single_line: bool = True) -> str:
    return (_UNSAFE_LINE if single_line else _UNSAFE).sub("", value)


def like_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with `%`, `_` and `\\` as plain characters
    (use it with `escape="\\\\"`)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def json_size(value) -> int | None:
    """The bytes of `value` as compact UTF-8 JSON, or None when it is not plain JSON values
    (the size limit of seat metadata and of group policies)."""
    try:
        return len(json.dumps(value, separators=(",", ":")).encode("utf-8"))
    except (TypeError, ValueError):
        return None
