"""Back-tests over the staff API (/api/v1/staff/backtests): the same read-only replay as
``govreq backtest`` and the console's page."""

from __future__ import annotations

from itertools import islice
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema
from pydantic import Field

from govreq.api.auth import caller_staff
from govreq.api.holds import HoldScopeIn
from govreq.api.schemas import ERRORS
from govreq.backtest.engine import Window
from govreq.backtest.inputs import backtest_prepare
from govreq.core.moments import Moment

router = Router()
MAX_ROWS = 5000


class BacktestIn(HoldScopeIn):
    placed_at: Moment | None = Field(
        default=None,
        description="When the hold would have been placed (default: at effective_from). A "
        "later moment replays a retroactive hold: approvals since its start are flagged.",
    )
    window_start: Moment = Field(description="Requests received from this moment ...")
    window_end: Moment = Field(description="... to this one (excluded).")
    max_rows: int = Field(default=500, ge=0, le=MAX_ROWS)


class StepOut(Schema):
    at: str
    to_status: str


class AffectedOut(Schema):
    reference: str
    received_at: str
    kind: str
    status_recorded: str
    held_at: str | None
    excepted: bool
    flagged_at: str | None
    stopped_steps: list[StepOut]
    stopped_delivery_at: str | None
    accounts: list[str]
    check_change: str


class HeadlineOut(Schema):
    period: str
    jurisdiction: str
    published_version: int | None
    published: dict[str, int | None] | None
    recorded: dict[str, int | None]
    alternative: dict[str, int | None]


class BacktestOut(Schema):
    backtest: dict[str, Any]
    requests: list[AffectedOut]
    truncated: bool = Field(description="More requests were affected than max_rows.")
    totals: dict[str, int]
    headlines: list[HeadlineOut]


@router.post(
    "",
    response={200: BacktestOut, **ERRORS},
    summary="Back-test a hold over the recorded history (read-only)",
)
def run_backtest(request: HttpRequest, body: BacktestIn) -> dict[str, Any]:
    backtest = backtest_prepare(
        actor=caller_staff(request),
        window=Window(start=body.window_start, end=body.window_end),
        now=timezone.now(),
        placed_at=body.placed_at,
        jurisdiction_code=body.jurisdiction,
        effective_from=body.effective_from,
        effective_to=body.effective_to,
        received_from_start=body.received_from_start,
        reason="back-test",
        scope_kinds=[str(kind) for kind in body.scope_kinds],
        scope_offences=[str(offence) for offence in body.scope_offences],
        scope_agencies=body.scope_agencies,
        scope_legal_basis=body.scope_legal_basis,
        allow_emergency=body.allow_emergency,
        allow_offences=[str(offence) for offence in body.allow_offences],
    )
    rows = backtest.run()
    shown = [row.as_dict() for row in islice(rows, body.max_rows)]
    truncated = any(True for _ in rows)  # the rest still runs: the totals need every request
    for _ in rows:
        pass
    return {
        "backtest": backtest.describe(),
        "requests": shown,
        "truncated": truncated,
        "totals": backtest.totals.as_dict(),
        "headlines": [headline.as_dict() for headline in backtest.headlines],
    }
