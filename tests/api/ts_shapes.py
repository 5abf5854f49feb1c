"""Does a JSON answer fit the TypeScript SDK's declared response type?

@polar-sh/sdk@1.0.1 parses nothing at run time (it returns `response.json()` as the declared
type), so a missing key or a wrong type would only surface in the vendor's own code. This reads
the SDK's own declarations (`interface Member { id: string; … }`, `type MemberRole = "owner" | …`
in its `models-*.d.mts` for the 2026-10 API) and checks a value against one of them: every
required key present, primitives of the declared type, literals and nested models checked too.
Only the forms these declarations use are understood; anything else (`unknown`, generics other
than Record) is accepted as is.
"""
from __future__ import annotations

import re
from functools import cache
from pathlib import Path

FIELD = re.compile(r"^  (?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<optional>\?)?: (?P<type>.+);$")


@cache
def _declarations(sdk_folder: Path) -> tuple[dict, dict]:
    dist = sdk_folder / "node_modules" / "@polar-sh" / "sdk" / "dist"
    index = (dist / "2026-10" / "index.d.mts").read_text()
    models = re.search(r'from "\.\./(models-[\w-]+)\.mjs"', index)
    text = (dist / f"{models[1]}.d.mts").read_text()
    interfaces: dict[str, dict[str, tuple[bool, str]]] = {}
    for match in re.finditer(r"^interface (\w+) \{\n(.*?)^\}", text, re.S | re.M):
        fields = {}
        for line in match[2].splitlines():
            if m := FIELD.match(line):
                fields[m["name"]] = (bool(m["optional"]), m["type"])
        interfaces[match[1]] = fields
    aliases = {m[1]: m[2] for m in re.finditer(r"^type (\w+) = (.+);$", text, re.M)}
    return interfaces, aliases


def _alternatives(expression: str) -> list[str]:
    """Split `A | B<x | y> | C` at its top level."""
    parts, depth, current = [], 0, ""
    for char in expression:
        depth += char in "<({["
        depth -= char in ">)}]"
        if char == "|" and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    parts.append(current.strip())
    return parts


class Shapes:
    def __init__(self, sdk_folder: Path):
        self.interfaces, self.aliases = _declarations(sdk_folder)

    def problems(self, value, type_name: str, where: str = "$") -> list[str]:
        """What in `value` does not fit `type_name` (empty when it fits)."""
        assert type_name in self.interfaces or type_name in self.aliases, type_name
        return self._check(value, type_name, where)

    def _check(self, value, expression: str, where: str) -> list[str]:
        options = _alternatives(expression)
        tries = []
        for option in options:
            issues = self._one(value, option, where)
            if not issues:
                return []
            tries.append((len(issues), option, issues))
        if len(options) == 1:
            return tries[0][2]
        _count, closest, issues = min(tries)
        if all(o.startswith('"') or o in ("string", "number", "boolean", "null") for o in options):
            return [f"{where}: {value!r} is none of {expression}"]
        return [f"{where}: fits none of {expression}; as {closest}:", *issues]

    def _one(self, value, option: str, where: str) -> list[str]:
        if option in ("unknown", "any"):
            return []
        if option == "null":
            return [] if value is None else [f"{where}: expected null"]
        if option == "string":
            return [] if isinstance(value, str) else [f"{where}: expected a string, got {value!r}"]
        if option == "number":
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            return [] if ok else [f"{where}: expected a number, got {value!r}"]
        if option == "boolean":
            return [] if isinstance(value, bool) else [f"{where}: expected a boolean, got {value!r}"]
        if option.startswith('"'):
            return [] if value == option.strip('"') else [f"{where}: expected {option}, got {value!r}"]
        if option.endswith("[]"):
            if not isinstance(value, list):
                return [f"{where}: expected an array"]
            item = option[:-2].strip("()")
            return [p for i, v in enumerate(value) for p in self._check(v, item, f"{where}[{i}]")]
        if option.startswith("Record<"):
            return [] if isinstance(value, dict) else [f"{where}: expected an object"]
        if option in self.aliases:
            return self._check(value, self.aliases[option], where)
        if option in self.interfaces:
            if not isinstance(value, dict):
                return [f"{where}: expected {option} (an object), got {value!r}"]
            issues = []
            for name, (optional, field_type) in self.interfaces[option].items():
                if name not in value:
                    if not optional:
                        issues.append(f"{where}.{name}: missing (required by {option})")
                    continue
                issues += self._check(value[name], field_type, f"{where}.{name}")
            return issues
        return []  # a form these checks do not model
