"""The console's back-test page: a policy admin asks "what would this hold have done?".

Read-only (a GET, so a result can be bookmarked and shared with counsel); the same question as
``govreq backtest``, answered by the same engine (``backtest``)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, time, timedelta
from itertools import islice
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from govreq.accounts.models import StaffRole
from govreq.backtest.engine import HEADLINE, AffectedRequest, Backtest, Window
from govreq.backtest.inputs import backtest_prepare
from govreq.backtest.output import write_csv
from govreq.console.auth import staff_page
from govreq.console.forms import HoldForm
from govreq.core.actors import Actor
from govreq.core.errors import ValidationFailed
from govreq.core.moments import MomentError, parse_moment
from govreq.intake.models import LegalRequest

SHOWN = 500
NUMBER_LABELS = {
    "requests": _("Requests"),
    "data_produced": _("With data produced (delivered)"),
    "data_produced_percent": _("Share with data produced (%)"),
    "held_requests": _("Put on hold"),
    "pending_on_hold": _("Still on hold at the end of the period"),
}


class BacktestForm(HoldForm):
    """A hold's terms (as when proposing one), when it would have been placed, and the window of
    receipt to replay."""

    placed_at = forms.DateTimeField(
        label=_("Placed at (optional: by default at its start)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_(
            "A later moment replays a hold placed late: approvals since its start are "
            "flagged for re-review instead of stopped."
        ),
    )
    window_start = forms.DateField(
        label=_("Requests received from (UTC day)"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    window_end = forms.DateField(
        label=_("to (UTC day, included)"), widget=forms.DateInput(attrs={"type": "date"})
    )
    field_order = [
        "jurisdiction",
        "effective_from",
        "effective_to",
        "placed_at",
        "time_zone",
        "received_from_start",
        "window_start",
        "window_end",
        "scope_kinds",
        "scope_offences",
        "scope_legal_basis",
        "allow_emergency",
        "allow_offences",
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("reason", "review_notes", "code"):
            self.fields.pop(name, None)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        placed = data.get("placed_at")
        if placed is not None:  # read in the chosen zone, as the hold's own times are
            zone = data.get("time_zone") or str(timezone.get_current_timezone())
            wall = timezone.make_naive(placed, timezone.get_current_timezone())
            try:
                data["placed_at"] = parse_moment(f"{wall:%Y-%m-%d %H:%M} {zone}")
            except MomentError as error:
                self.add_error("placed_at", str(error))
        return data


@staff_page(StaffRole.POLICY_ADMIN, StaffRole.HUMAN_RIGHTS_OFFICER, StaffRole.AUDITOR)
def backtest_page(request: HttpRequest) -> HttpResponse:
    form = BacktestForm(request.GET or None)
    context: dict[str, Any] = {"form": form, "shown": SHOWN}
    if request.GET and form.is_valid():
        try:
            backtest = _prepare(getattr(request, "actor"), form.cleaned_data)  # noqa: B009
        except ValidationFailed as invalid:
            for error in invalid.errors:
                name = error.field if error.field in form.fields else None
                form.add_error(name, error.message)
        else:
            if request.GET.get("format") == "csv":
                return _csv(backtest)
            rows = backtest.run()
            context["rows"] = _with_links(list(islice(rows, SHOWN)))
            context["more"] = sum(1 for _ in rows)  # the rest, counted (totals need them all)
            context["backtest"] = backtest
            context["headlines"] = [
                {
                    "headline": headline,
                    "numbers": [
                        (
                            NUMBER_LABELS[key],
                            None if headline.published is None else headline.published[key],
                            headline.recorded[key],
                            headline.alternative[key],
                        )
                        for key in HEADLINE
                    ],
                }
                for headline in backtest.headlines
            ]
            query = request.GET.copy()
            query["format"] = "csv"
            context["csv_query"] = query.urlencode()
    return render(request, "console/backtest.html", context)


def _prepare(actor: Actor, data: dict[str, Any]) -> Backtest:
    start = datetime.combine(data["window_start"], time(0), tzinfo=UTC)
    end = datetime.combine(data["window_end"], time(0), tzinfo=UTC) + timedelta(days=1)
    return backtest_prepare(
        actor=actor,
        window=Window(start=start, end=end),
        now=timezone.now(),
        placed_at=data.get("placed_at"),
        jurisdiction_code=data["jurisdiction"],
        effective_from=data["effective_from"],
        effective_to=data.get("effective_to"),
        received_from_start=data["received_from_start"],
        reason="back-test",
        scope_kinds=data["scope_kinds"],
        scope_offences=data["scope_offences"],
        scope_legal_basis=data["scope_legal_basis"],
        allow_emergency=data["allow_emergency"],
        allow_offences=data["allow_offences"],
    )


def _with_links(rows: list[AffectedRequest]) -> list[tuple[AffectedRequest, str | None]]:
    """Each row with its request's public id, for a link to the case (one query)."""
    ids = dict(
        LegalRequest.objects.filter(reference__in=[r.reference for r in rows]).values_list(
            "reference", "public_id"
        )
    )
    return [(row, str(ids[row.reference]) if row.reference in ids else None) for row in rows]


def _csv(backtest: Backtest) -> HttpResponse:
    out = io.StringIO()
    write_csv(backtest.run(), out)
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="backtest.csv"'
    return response
