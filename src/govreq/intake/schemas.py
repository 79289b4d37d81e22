"""The request submission schema, shared by the REST API, the CLI and the portal."""

from __future__ import annotations

from datetime import date

from ninja import Schema
from pydantic import ConfigDict, Field

from govreq.core.moments import Moment
from govreq.intake.models import DataCategory, OffenceCategory, RequestKind, TargetType

MAX_TARGETS = 1000


class TargetIn(Schema):
    model_config = ConfigDict(extra="forbid")

    type: TargetType
    value: str = Field(min_length=1, max_length=500)


class DateRangeIn(Schema):
    model_config = ConfigDict(extra="forbid")

    start: date
    end: date


class GagOrderIn(Schema):
    """A non-disclosure order: its presence means the user may not be told (until it expires)."""

    model_config = ConfigDict(extra="forbid")

    legal_basis: str = Field(default="", max_length=2000)
    expires_on: date | None = None


class EmergencyIn(Schema):
    model_config = ConfigDict(extra="forbid")

    danger: str = Field(
        default="", max_length=5000, description="The danger of death or serious physical injury."
    )
    why_now: str = Field(
        default="", max_length=5000, description="Why disclosure cannot wait for legal process."
    )


class RequestSubmission(Schema):
    """A request for user data as an agency submits it."""

    model_config = ConfigDict(extra="forbid")

    kind: RequestKind
    legal_basis: str = Field(
        default="",
        max_length=2000,
        description='The law the request is issued under, e.g. "18 U.S.C. 2703(d)".',
    )
    issuing_authority: str = Field(default="", max_length=300)
    agency_case_number: str = Field(default="", max_length=100)
    offence_category: OffenceCategory
    narrative: str = Field(min_length=1, max_length=20000)
    data_categories: list[DataCategory] = Field(min_length=1, max_length=5)
    data_range: DateRangeIn | None = None
    deadline_at: Moment | None = None
    gag_order: GagOrderIn | None = None
    emergency: EmergencyIn | None = None
    targets: list[TargetIn] = Field(min_length=1, max_length=MAX_TARGETS)
    preservation_reference: str | None = Field(
        default=None,
        max_length=20,
        description="The reference (GR-...) of your agency's earlier preservation request that "
        "this legal process follows: its sealed snapshot is the source of what is produced.",
    )
