"""The scope check: does a collected package hold exactly what the decision approved, and
nothing more? Pure: no ORM, no clock, no I/O.

Anything outside the scope that slips into a package would be an unlawful disclosure, so this
runs on the manifest (whose counts and time spans were computed from the very records written)
after every collection and again right before release, and refuses:

- a target the decision did not approve;
- an account no approved target resolved to (a source that returned another account's records);
- a data category the decision did not approve;
- a record time before the approved range starts or at or after it ends;
- records without a time in a category that has times, when the decision limits the time range.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# Categories whose records have no time of their own (who the subscriber is).
UNDATED_CATEGORIES = frozenset({"BASIC_SUBSCRIBER"})


@dataclass(frozen=True, kw_only=True)
class ApprovedScope:
    """What the decision allows: targets (by id), categories, and a half-open time range."""

    target_ids: frozenset[int]
    categories: frozenset[str]
    since: datetime
    until: datetime
    range_limited: bool  # False when neither request nor decision named a range


@dataclass(frozen=True, kw_only=True)
class Violation:
    kind: str  # TARGET, ACCOUNT, CATEGORY, TIME, UNDATED
    file: str  # the package file concerned, or "" for a target
    message: str


def _parse(moment: str | None) -> datetime | None:
    return datetime.fromisoformat(moment) if moment else None


def scope_violations(scope: ApprovedScope, manifest: Mapping[str, Any]) -> list[Violation]:
    """Every way the manifest's package exceeds ``scope``; an empty list means within scope."""
    violations: list[Violation] = []
    allowed_accounts: set[str] = set()
    for entry in manifest.get("accounts", []):
        target = entry.get("target")
        if target is None:
            continue
        if int(target["id"]) not in scope.target_ids:
            violations.append(
                Violation(
                    kind="TARGET",
                    file="",
                    message=f"target {target['type']} {target['value']} was not approved",
                )
            )
        elif entry.get("account"):
            allowed_accounts.add(str(entry["account"]))
    files: Iterable[Mapping[str, Any]] = manifest.get("files", [])
    for file in files:
        name = str(file["name"])
        account, category = str(file["account"]), str(file["category"])
        if account not in allowed_accounts:
            violations.append(
                Violation(
                    kind="ACCOUNT",
                    file=name,
                    message=f"{name}: account {account} is not an approved target's account",
                )
            )
        if category not in scope.categories:
            violations.append(
                Violation(
                    kind="CATEGORY",
                    file=name,
                    message=f"{name}: {category} was not approved "
                    f"(approved: {', '.join(sorted(scope.categories))})",
                )
            )
        first, last = _parse(file.get("first_at")), _parse(file.get("last_at"))
        if first is not None and first < scope.since:
            violations.append(
                Violation(
                    kind="TIME",
                    file=name,
                    message=f"{name}: a record of {first.isoformat()} is before the approved "
                    f"range starts ({scope.since.isoformat()})",
                )
            )
        if last is not None and last >= scope.until:
            violations.append(
                Violation(
                    kind="TIME",
                    file=name,
                    message=f"{name}: a record of {last.isoformat()} is after the approved "
                    f"range ends ({scope.until.isoformat()})",
                )
            )
        if (
            scope.range_limited
            and int(file.get("undated", 0))
            and category not in UNDATED_CATEGORIES
        ):
            violations.append(
                Violation(
                    kind="UNDATED",
                    file=name,
                    message=f"{name}: {file['undated']} {category} record(s) without a time, "
                    "which the approved range cannot be checked against",
                )
            )
    return violations
