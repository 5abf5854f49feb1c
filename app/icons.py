"""One small inline SVG icon set (stroke icons on a 24 px grid), always next to text, so hidden
from assistive technology.

A Python function rather than a Jinja macro: a team page draws ~100 icons (four per row), and a
macro call costs Jinja a frame, argument binding and escaping each time; here each (name, class)
is built once per process."""
from __future__ import annotations

from functools import lru_cache

from markupsafe import Markup, escape

ICONS = {
    "search": '<circle cx="11" cy="11" r="7"/><path d="m20 20-3.5-3.5"/>',
    "plus": '<path d="M12 5v14M5 12h14"/>',
    "more": '<circle cx="5" cy="12" r="1.3"/><circle cx="12" cy="12" r="1.3"/><circle cx="19" cy="12" r="1.3"/>',
    "check": '<circle cx="12" cy="12" r="9"/><path d="m8 12 3 3 5-6"/>',
    "alert": '<circle cx="12" cy="12" r="9"/><path d="M12 7v6M12 16.5v.5"/>',
    "info": '<circle cx="12" cy="12" r="9"/><path d="M12 11v6M12 7.5v.5"/>',
    "x": '<path d="M6 6l12 12M18 6 6 18"/>',
    "edit": '<path d="M4 20h4L19 9l-4-4L4 16v4z"/><path d="m13.5 6.5 4 4"/>',
    "crown": '<path d="M3 8l4.5 4L12 5l4.5 7L21 8l-2 11H5L3 8z"/>',
    "trash": '<path d="M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13"/>',
    "mail": '<rect x="3" y="5" width="18" height="14" rx="2"/><path d="m3 7 9 6 9-6"/>',
    "refresh": '<path d="M20 11a8 8 0 1 0-2.3 5.7"/><path d="M20 5v6h-6"/>',
    "user-plus": '<circle cx="9" cy="8" r="4"/><path d="M2 21c0-4 3-6 7-6s7 2 7 6M19 8v6M16 11h6"/>',
    "user-minus": '<circle cx="9" cy="8" r="4"/><path d="M2 21c0-4 3-6 7-6s7 2 7 6M16 11h6"/>',
    "users": '<circle cx="9" cy="8" r="4"/><path d="M2 21c0-4 3-6 7-6s7 2 7 6M16 4a4 4 0 0 1 0 8M18 15c2.5.6 4 2.5 4 6"/>',
    "seat": '<rect x="4" y="4" width="16" height="16" rx="3"/><path d="M8 12h8M12 8v8"/>',
    "menu": '<path d="M4 7h16M4 12h16M4 17h16"/>',
    "clock": '<circle cx="12" cy="12" r="9"/><path d="M12 7v5l3 2"/>',
    "back": '<path d="M15 18l-6-6 6-6"/>',
    "ban": '<circle cx="12" cy="12" r="9"/><path d="m6 6 12 12"/>',
    "shield": '<path d="M12 3l8 3v6c0 5-3.5 8-8 9-4.5-1-8-4-8-9V6l8-3z"/>',
}


@lru_cache(maxsize=256)
def icon(name: str, class_: str = "") -> Markup:
    """`<svg class="icon …">` for one of ICONS (an unknown name draws an empty icon)."""
    return Markup('<svg class="icon {}" viewBox="0 0 24 24" aria-hidden="true" focusable="false">'
                  '{}</svg>').format(escape(class_), Markup(ICONS.get(name, "")))
