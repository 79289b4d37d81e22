"""Reading a back-test's question: the hypothetical hold and the window (shared by the CLI, the
console and any other caller, so they refuse the same things with the same words)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Unpack

from govreq.accounts.models import StaffRole
from govreq.accounts.permissions import require_role
from govreq.backtest.engine import Backtest, Window
from govreq.core.actors import Actor
from govreq.core.errors import FieldError, ValidationFailed
from govreq.core.moments import MomentError, parse_moment
from govreq.holds.rules import HoldTerms
from govreq.holds.selectors import spec_from_terms
from govreq.intake.models import OffenceCategory, RequestKind
from govreq.jurisdictions.models import Jurisdiction

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def window_parse(text: str, *, field: str = "window") -> Window:
    """``2020-01-01..2021-06-30``: whole UTC days, both ends included (the reporting periods are
    UTC half-years); either end may also be a moment with its zone (``2020-06-30 23:00
    Asia/Hong_Kong``), then the end is exclusive."""
    start_text, separator, end_text = text.partition("..")
    if not separator or not start_text.strip() or not end_text.strip():
        raise ValidationFailed.single(field, "write it as START..END, e.g. 2020-01-01..2021-06-30")
    start = _end_of_window(start_text.strip(), field=field, end=False)
    end = _end_of_window(end_text.strip(), field=field, end=True)
    return Window(start=start, end=end)


def _end_of_window(text: str, *, field: str, end: bool) -> datetime:
    if _DAY.match(text):
        try:
            day = date.fromisoformat(text)
        except ValueError as error:
            raise ValidationFailed.single(field, f"{text!r} is not a date: {error}") from None
        moment = datetime.combine(day, time(0), tzinfo=UTC)
        return moment + timedelta(days=1) if end else moment
    try:
        return parse_moment(text)
    except MomentError as error:
        raise ValidationFailed.single(field, str(error)) from None


BACKTESTERS = (StaffRole.POLICY_ADMIN, StaffRole.HUMAN_RIGHTS_OFFICER, StaffRole.AUDITOR)


def backtest_prepare(
    *,
    actor: Actor,
    window: Window,
    now: datetime,
    placed_at: datetime | None = None,
    **terms: Unpack[HoldTerms],
) -> Backtest:
    """A back-test of the hold these terms describe, placed at ``placed_at`` (by default at its
    effective moment: "had we held from then"), over the requests received in ``window``. For
    policy admins, human-rights officers and auditors: it names accounts whose data left."""
    require_role(actor, *BACKTESTERS)
    errors: list[FieldError] = []
    code = terms["jurisdiction_code"].strip().upper()
    if not Jurisdiction.objects.filter(code=code).exists():
        errors.append(FieldError(field="jurisdiction", message=f"no jurisdiction {code!r}"))
    effective_to = terms.get("effective_to")
    if effective_to is not None and effective_to <= terms["effective_from"]:
        errors.append(FieldError(field="effective_to", message="must be after effective_from"))
    for index, kind in enumerate(terms.get("scope_kinds") or []):
        if kind not in RequestKind.values:
            errors.append(FieldError(field=f"scope_kinds[{index}]", message="unknown kind"))
    for index, offence in enumerate(terms.get("scope_offences") or []):
        if offence not in OffenceCategory.values:
            errors.append(
                FieldError(field=f"scope_offences[{index}]", message="unknown offence category")
            )
    if window.start > now:
        errors.append(FieldError(field="window", message="starts in the future"))
    if errors:
        raise ValidationFailed(errors)
    spec = spec_from_terms(terms)
    return Backtest(
        hold=spec,
        placed_at=placed_at or spec.effective_from,
        window=window,
        now=now,
    )
