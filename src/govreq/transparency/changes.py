"""What changed between two versions of a report: a list a reader can follow. Pure."""

from __future__ import annotations

from typing import Any

# Fields that describe the report rather than count anything.
_ENVELOPE = frozenset({"format", "period", "period_start", "period_end"})


def _flatten(value: Any, path: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for key in sorted(value):
            _flatten(value[key], f"{path}.{key}" if path else str(key), out)
    elif isinstance(value, list) and all(isinstance(item, dict) and "id" in item for item in value):
        for item in value:
            _flatten(item, f"{path}[{item['id']}]", out)
    else:
        out[path] = value


def _by_jurisdiction(body: dict[str, Any]) -> dict[str, Any]:
    entries = {entry["code"]: entry for entry in body.get("jurisdictions", [])}
    entries["ALL"] = body.get("total", {})
    return entries


def body_changes(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """Every value that differs, as ``{"jurisdiction", "field", "old", "new"}`` (``jurisdiction``
    is ``""`` for report-wide fields), in a stable order."""
    changes: list[dict[str, Any]] = []
    old_top: dict[str, Any] = {}
    new_top: dict[str, Any] = {}
    for body, flat in ((old, old_top), (new, new_top)):
        top = {k: v for k, v in body.items() if k not in _ENVELOPE | {"jurisdictions", "total"}}
        _flatten(top, "", flat)
    for path in sorted(set(old_top) | set(new_top)):
        if old_top.get(path) != new_top.get(path):
            changes.append(
                {
                    "jurisdiction": "",
                    "field": path,
                    "old": old_top.get(path),
                    "new": new_top.get(path),
                }
            )
    old_entries, new_entries = _by_jurisdiction(old), _by_jurisdiction(new)
    for code in sorted(set(old_entries) | set(new_entries), key=lambda c: (c != "ALL", c)):
        old_flat: dict[str, Any] = {}
        new_flat: dict[str, Any] = {}
        _flatten({k: v for k, v in old_entries.get(code, {}).items() if k != "code"}, "", old_flat)
        _flatten({k: v for k, v in new_entries.get(code, {}).items() if k != "code"}, "", new_flat)
        for path in sorted(set(old_flat) | set(new_flat)):
            before, after = old_flat.get(path), new_flat.get(path)
            if before != after:
                changes.append({"jurisdiction": code, "field": path, "old": before, "new": after})
    return changes
