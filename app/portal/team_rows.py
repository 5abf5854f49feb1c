"""What each row of the team table shows, worked out in Python once per row.

The row's markup stays in templates/portal/team.html (block `member_row`); this computes the
values it prints (dates as text, the avatar's letters and tone, the links of its menu, what the
viewer may do), so the block is plain output with no macro or function calls: a page of 25 rows
used to make ~500 template calls (issue 14; benchmarks/README.md, "Team page rendering").
What the viewer may do is still decided by the service (`members.allowed_actions`)."""
from __future__ import annotations

from typing import NamedTuple

from ..icons import icon
from ..services import members
from ..web import avatar_tone, initials, row_url_parts

SHOWN_GROUPS = 3  # chips shown before "+N more" (as _people.html's group_chips)


class RowIcons(NamedTuple):
    """The icons of a row, drawn once per process (app/icons.py caches them)."""
    more: str
    edit: str
    crown: str
    remove: str


ROW_ICONS = RowIcons(icon("more", "icon-lg"), icon("edit"), icon("crown"), icon("user-minus"))


class MemberRow(NamedTuple):
    member: object  # the Member (the edit form of the row reads it)
    id: str
    label: str  # name, or the email when there is no name
    email: str | None  # shown below the name; None when the name is the email
    initials: str
    tone: int
    you: bool
    role: str
    role_label: str
    active: bool  # accepted (rule 22): "Active", else "Invited"
    status_title: str
    seat: str | None  # "claimed", "pending" or None
    chips: list  # the first SHOWN_GROUPS group names
    more_count: int
    more_names: str  # the other names, comma separated
    added_iso: str
    added_title: str
    added: str
    acts: frozenset
    edit_url: str | None
    owner_url: str | None
    remove_url: str | None


def member_rows(viewer, items, seat_status: dict, last_sign_in: dict | None,
                member_groups: dict | None) -> list[MemberRow]:
    """One MemberRow per member of `items`, in order."""
    last_sign_in, member_groups = last_sign_in or {}, member_groups or {}
    edit, owner, remove = (row_url_parts(e) for e in ("portal.edit_member", "portal.confirm_owner",
                                                   "portal.confirm_remove"))
    allowed, viewer_id = members.allowed_actions, viewer.id
    rows = []
    for m in items:
        mid, name, email, accepted = m.id, m.name, m.email, m.accepted_at
        sid = str(mid)
        label = name or email
        if accepted:
            last = last_sign_in.get(mid)
            title = (f"Last signed in {last.strftime('%-d %b %Y')}" if last
                     else f"Active since {accepted.strftime('%-d %b %Y')}")
        else:
            title = "Has not signed in yet"
        names = [group.name for group in member_groups.get(mid, ())]
        more = names[SHOWN_GROUPS:]
        acts = allowed(viewer, m)
        created = m.created_at
        role = m.role
        rows.append(MemberRow(
            m, sid, label, email if name else None, initials(label), avatar_tone(label),
            mid == viewer_id, role.value, role.label, bool(accepted), title, seat_status.get(mid),
            names[:SHOWN_GROUPS], len(more), ", ".join(more),
            created.isoformat(), created.strftime("%-d %B %Y, %H:%M UTC"),
            created.strftime("%-d %b %Y"), acts,
            f"{edit[0]}{sid}{edit[1]}" if "edit_name" in acts else None,
            f"{owner[0]}{sid}{owner[1]}" if "make_owner" in acts else None,
            f"{remove[0]}{sid}{remove[1]}" if "remove" in acts else None,
        ))
    return rows
