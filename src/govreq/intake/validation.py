"""Business rules on a submission that the schema alone cannot express. Pure: no ORM, no clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from govreq.core.errors import FieldError
from govreq.intake.models import RequestKind
from govreq.intake.schemas import MAX_TARGETS, RequestSubmission
from govreq.intake.targets import TargetInvalid, normalise_target


@dataclass(frozen=True, kw_only=True)
class NormalisedTarget:
    type: str
    value: str
    raw_value: str


def submission_errors(
    submission: RequestSubmission, *, now: datetime, region: str
) -> tuple[list[FieldError], list[NormalisedTarget]]:
    """Every problem with the submission, and its targets normalised and de-duplicated."""
    errors: list[FieldError] = []
    today = now.date()
    errors += [
        FieldError(field=path, message="contains a NUL character")
        for path in _nul_paths(submission.model_dump(mode="json"), "")
    ]

    if not submission.narrative.strip():
        errors.append(FieldError(field="narrative", message="must not be blank"))
    if submission.kind != RequestKind.EMERGENCY and not submission.legal_basis.strip():
        errors.append(
            FieldError(field="legal_basis", message="cite the law the request is issued under")
        )
    if len(set(submission.data_categories)) != len(submission.data_categories):
        errors.append(FieldError(field="data_categories", message="lists a category twice"))

    if submission.data_range is not None:
        start, end = submission.data_range.start, submission.data_range.end
        if end < start:
            errors.append(FieldError(field="data_range.end", message="is before data_range.start"))
        if start > today:
            errors.append(FieldError(field="data_range.start", message="lies in the future"))
        if end > today:
            errors.append(FieldError(field="data_range.end", message="lies in the future"))

    if submission.deadline_at is not None:
        if submission.deadline_at.tzinfo is None:
            errors.append(
                FieldError(field="deadline_at", message="needs a time zone (e.g. ...Z or +08:00)")
            )
        elif submission.deadline_at <= now:
            errors.append(FieldError(field="deadline_at", message="lies in the past"))
        elif submission.deadline_at.year >= 3000:
            errors.append(FieldError(field="deadline_at", message="lies too far in the future"))

    if submission.gag_order is not None:
        if submission.gag_order.expires_on is None:
            errors.append(
                FieldError(
                    field="gag_order.expires_on",
                    message="a non-disclosure order must state when it expires",
                )
            )
        elif submission.gag_order.expires_on <= today:
            errors.append(FieldError(field="gag_order.expires_on", message="has already passed"))

    if submission.emergency is not None and submission.kind != RequestKind.EMERGENCY:
        errors.append(
            FieldError(field="emergency", message="is only for requests of kind EMERGENCY")
        )

    targets: list[NormalisedTarget] = []
    if not submission.targets:
        errors.append(FieldError(field="targets", message="name at least one account"))
    elif len(submission.targets) > MAX_TARGETS:
        errors.append(
            FieldError(field="targets", message=f"at most {MAX_TARGETS} accounts per request")
        )
    else:
        seen: set[tuple[str, str]] = set()
        for index, target in enumerate(submission.targets):
            try:
                value = normalise_target(target.type, target.value, region=region)
            except TargetInvalid as problem:
                errors.append(FieldError(field=f"targets[{index}].value", message=str(problem)))
                continue
            key = (str(target.type), value)
            if key not in seen:
                seen.add(key)
                targets.append(
                    NormalisedTarget(type=key[0], value=value, raw_value=target.value.strip())
                )
    return errors, targets


def _nul_paths(value: object, path: str) -> list[str]:
    """Where a NUL character hides in the submission (PostgreSQL cannot store it in text)."""
    if isinstance(value, str):
        return [path] if "\x00" in value else []
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _nul_paths(v, f"{path}.{k}" if path else k)]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _nul_paths(v, f"{path}[{i}]")]
    return []
