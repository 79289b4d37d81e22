"""Domain errors. Services raise these; the API maps them to 4xx, the CLI to one stderr line."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, kw_only=True)
class FieldError:
    """One problem with one input field, named by its path (``targets[2].value``)."""

    field: str
    message: str


class DomainError(Exception):
    """Base class: a refused operation with a stable machine-readable code."""

    code = "domain_error"
    http_status = 400

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message}


class ValidationFailed(DomainError):
    """The input is invalid; ``errors`` names every offending field."""

    code = "validation_error"
    http_status = 422

    def __init__(self, errors: list[FieldError], *, code: str | None = None) -> None:
        self.errors = errors
        summary = "; ".join(f"{error.field}: {error.message}" for error in errors)
        super().__init__(summary or "invalid input", code=code)

    @classmethod
    def single(cls, field: str, message: str) -> ValidationFailed:
        return cls([FieldError(field=field, message=message)])

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "message": self.message,
            "errors": [{"field": e.field, "message": e.message} for e in self.errors],
        }


class NotFound(DomainError):
    """The object does not exist *or the caller may not see it* (never distinguish the two)."""

    code = "not_found"
    http_status = 404


class PermissionDenied(DomainError):
    code = "permission_denied"
    http_status = 403


class Conflict(DomainError):
    """The operation is valid in general but not in the object's current state."""

    code = "conflict"
    http_status = 409


def field_path(loc: Sequence[Any]) -> str:
    """``("body", "payload", "targets", 3, "value")`` -> ``"targets[3].value"``.

    Drops the source ninja puts first ("body", "query", ...) and the body parameter's name.
    """
    parts = list(loc)
    if parts and parts[0] in {"body", "query", "path", "header", "form", "file"}:
        source = parts.pop(0)
        if source == "body" and parts and parts[0] == "payload":
            parts.pop(0)
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "body"


def pydantic_errors(errors: Sequence[Any]) -> ValidationFailed:
    """A ValidationFailed naming each field of a pydantic error list."""
    return ValidationFailed(
        [
            FieldError(field=field_path(error.get("loc", ())), message=error.get("msg", "invalid"))
            for error in errors
        ]
    )
