"""A realistic synthetic history of N requests, written fast, for benchmarks and load tests.

The mix of countries, kinds and outcomes follows Meta's published numbers for 2019-2021
(``synthetic_mix``); Hong Kong requests after 30 June 2020 arrive ON_HOLD except emergencies and
trafficking warrants, which go through the hold's exception path with the human-rights officer's
approval (Google's published H2 2020 pattern). Every request gets a coherent history: status
changes in time order, a decision (sometimes one that lapsed and was taken again), numbered
approvals by distinct approvers, and open requests in the last month.

The rows are written straight into the same tables the services write (COPY on PostgreSQL,
executemany on SQLite), in one transaction per batch, bypassing per-request services and audit
events: a million requests take minutes. The agencies, officers, staff and the Hong Kong hold are
created through the services, and one ``synthetic.generated`` audit event records the run.
"""

from __future__ import annotations

import itertools
import json
import random
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import Max

from govreq.accounts.models import User
from govreq.accounts.services import staff_add
from govreq.agencies.models import Agency, AgencyDomain, Officer
from govreq.agencies.services import agency_add, officer_add
from govreq.audit.services import audit_record_standalone
from govreq.core.actors import Actor
from govreq.core.errors import Conflict, ValidationFailed
from govreq.demo.loader import HK_HOLD_AT, HK_HOLD_NOTES, HK_HOLD_REASON, HK_HOLD_REASON_ZH_HANT
from govreq.demo.synthetic_mix import ROWS, US_PROCESS_TOTALS
from govreq.holds.models import JurisdictionHold
from govreq.intake.models import LegalRequest, StatusChange, Target
from govreq.lifecycle.holding import hold_change_confirm, hold_propose
from govreq.lifecycle.rechecking import agency_verify
from govreq.review.models import Approval, Decision
from govreq.transparency.periods import Period, parse_period

# Everything after this is cut off: requests whose review would run past it stay open.
HISTORY_END = datetime(2022, 1, 1, tzinfo=UTC)
SETUP_AT = datetime(2018, 12, 31, 9, 0, tzinfo=UTC)
REFERENCE_PREFIX = "SYN-"
MAX_REQUESTS = 20_000_000

SYSTEM = Actor.system("synthetic")
STAFF = {
    "reviewer": ("synthetic-reviewer@platform.example", ["REVIEWER"]),
    "approver1": ("synthetic-approver1@platform.example", ["APPROVER"]),
    "approver2": ("synthetic-approver2@platform.example", ["APPROVER"]),
    "hro": ("synthetic-hro@platform.example", ["HUMAN_RIGHTS_OFFICER"]),
    "policy": ("synthetic-policy@platform.example", ["POLICY_ADMIN"]),
    "policy2": ("synthetic-policy2@platform.example", ["POLICY_ADMIN"]),
}

# Non-US legal process: the kinds other platforms' reports show (court orders dominate).
OTHER_PROCESS = (("COURT_ORDER", 45), ("OTHER", 30), ("SEARCH_WARRANT", 15), ("MLAT", 5))
OTHER_PROCESS_SUBPOENA = 5
OFFENCES = (
    ("FRAUD", 25),
    ("VIOLENT_CRIME", 20),
    ("CYBERCRIME", 15),
    ("CHILD_SAFETY", 10),
    ("OTHER", 12),
    ("TERRORISM", 5),
    ("PUBLIC_ORDER", 4),
    ("HUMAN_TRAFFICKING", 3),
    ("NATIONAL_SECURITY", 3),
    ("DEFAMATION", 3),
)
CATEGORIES = {
    "SUBPOENA": (["BASIC_SUBSCRIBER"], ["BASIC_SUBSCRIBER", "IP_LOGS"]),
    "COURT_ORDER": (
        ["BASIC_SUBSCRIBER", "IP_LOGS"],
        ["BASIC_SUBSCRIBER", "IP_LOGS", "TRANSACTIONAL"],
    ),
    "SEARCH_WARRANT": (["BASIC_SUBSCRIBER", "CONTENT"], ["BASIC_SUBSCRIBER", "CONTENT", "IP_LOGS"]),
    "MLAT": (["BASIC_SUBSCRIBER", "CONTENT"], ["BASIC_SUBSCRIBER", "IP_LOGS"]),
    "OTHER": (["BASIC_SUBSCRIBER", "IP_LOGS"], ["BASIC_SUBSCRIBER"]),
    "EMERGENCY": (["BASIC_SUBSCRIBER", "IP_LOGS", "LOCATION"], ["BASIC_SUBSCRIBER", "LOCATION"]),
    "PRESERVATION": (["BASIC_SUBSCRIBER", "CONTENT", "IP_LOGS"], ["BASIC_SUBSCRIBER", "IP_LOGS"]),
}
NOT_PRODUCED = (("REJECTED", 45), ("NO_DATA", 35), ("WITHDRAWN", 20))
REASONS = (
    ("INVALID_PROCESS", 35),
    ("OVERBROAD", 30),
    ("NO_SUCH_ACCOUNT", 15),
    ("HUMAN_RIGHTS", 10),
    ("OTHER", 10),
)


@dataclass(frozen=True, kw_only=True)
class Cell:
    """One half-year, country and category of the published mix."""

    period: Period
    code: str
    category: str  # LEGAL, EMERGENCY or PRESERVATION
    requests: int
    produced_share: float
    accounts_per_request: float


def mix_cells(*, jurisdictions: frozenset[str] = frozenset()) -> list[Cell]:
    """The mix, or the part of it from the given jurisdictions."""
    cells = []
    for half, code, legal, legal_yes, legal_acc, er, er_yes, er_acc, pres, pres_acc in ROWS:
        if jurisdictions and code not in jurisdictions:
            continue
        period = parse_period(half)
        for category, count, produced, accounts in (
            ("LEGAL", legal, legal_yes, legal_acc),
            ("EMERGENCY", er, er_yes, er_acc),
            ("PRESERVATION", pres, 0, pres_acc),
        ):
            if count > 0:
                cells.append(
                    Cell(
                        period=period,
                        code=code,
                        category=category,
                        requests=count,
                        produced_share=min(1.0, produced / count),
                        accounts_per_request=max(1.0, accounts / count),
                    )
                )
    return cells


def _weighted(pairs: Sequence[tuple[Any, int]]) -> tuple[list[Any], list[int]]:
    values = [value for value, _ in pairs]
    return values, list(itertools.accumulate(weight for _, weight in pairs))


US_KINDS = _weighted(
    (
        ("SEARCH_WARRANT", US_PROCESS_TOTALS[0]),
        ("SUBPOENA", US_PROCESS_TOTALS[1]),
        ("COURT_ORDER", US_PROCESS_TOTALS[2] + US_PROCESS_TOTALS[3]),
        ("OTHER", US_PROCESS_TOTALS[4] + US_PROCESS_TOTALS[5]),
    )
)
OTHER_KINDS = _weighted((*OTHER_PROCESS, ("SUBPOENA", OTHER_PROCESS_SUBPOENA)))
OFFENCE_CHOICES = _weighted(OFFENCES)
NOT_PRODUCED_CHOICES = _weighted(NOT_PRODUCED)
REASON_CHOICES = _weighted(REASONS)


def _pick(rng: random.Random, choices: tuple[list[Any], list[int]]) -> Any:
    return rng.choices(choices[0], cum_weights=choices[1])[0]


# --- One request's history -----------------------------------------------------------------------


@dataclass
class PlannedDecision:
    outcome: str
    decided_at: datetime
    reasons: list[str] = field(default_factory=list)
    partial: bool = False
    requires_hr: bool = False
    superseded_at: datetime | None = None
    approvals: list[tuple[str, int, str, datetime]] = field(default_factory=list)


@dataclass
class PlannedHistory:
    events: list[tuple[datetime, str]]  # (occurred_at, to_status), in order
    decisions: list[PlannedDecision]

    def cut(self, at: datetime, *, then_on_hold: bool) -> None:
        """Forget everything from ``at`` on (and put the request ON_HOLD then, if asked)."""
        if all(when < at for when, _ in self.events):
            return
        self.events = [(when, status) for when, status in self.events if when < at]
        self.decisions = [d for d in self.decisions if d.decided_at < at]
        for decision in self.decisions:
            decision.approvals = [a for a in decision.approvals if a[3] < at]
            if decision.superseded_at is not None and decision.superseded_at >= at:
                decision.superseded_at = None
        if then_on_hold and self.events[-1][1] not in ("CLOSED", "WITHDRAWN", "REJECTED"):
            self.events.append((at, "ON_HOLD"))


def _later(rng: random.Random, at: datetime, fast: bool, low: float, high: float) -> datetime:
    """``at`` plus a random delay: ``low``..``high`` hours, or minutes when ``fast``."""
    unit = 60 if fast else 3600
    return at + timedelta(seconds=rng.uniform(low * unit, high * unit))


def plan_history(
    rng: random.Random,
    *,
    kind: str,
    received_at: datetime,
    outcome: str,
    partial_possible: bool,
    exception: bool,
    arrives_on_hold: bool,
) -> PlannedHistory:
    """The status history, decisions and approvals of one request that ends in ``outcome``
    (FULL, PARTIAL, REJECTED, NO_DATA or WITHDRAWN) if nothing cuts it short."""
    events: list[tuple[datetime, str]] = [(received_at, "RECEIVED")]
    history = PlannedHistory(events=events, decisions=[])
    if arrives_on_hold:
        events.append((received_at, "ON_HOLD"))
        return history
    fast = kind == "EMERGENCY"
    at = _later(rng, received_at, fast, 0.1, 60)
    events.append((at, "IN_REVIEW"))
    if exception:
        at = _later(rng, at, fast, 0.2, 24)
        events.append((at, "ESCALATED"))
    if outcome == "WITHDRAWN":
        events.append((_later(rng, at, fast, 24, 400), "WITHDRAWN"))
        return history
    if rng.random() < 0.03:
        # A decision that lapsed: taken, approved once, then sent back to review.
        at = _later(rng, at, fast, 12, 200)
        lapsed = PlannedDecision(outcome="FULL", decided_at=at)
        events.append((at, "DECIDED"))
        at = _later(rng, at, fast, 1, 48)
        lapsed.approvals.append(("STANDARD", 1, "approver1", at))
        at = _later(rng, at, fast, 1, 72)
        lapsed.superseded_at = at
        events.append((at, "IN_REVIEW"))
        history.decisions.append(lapsed)
    at = _later(rng, at, fast, 12, 500)
    if outcome == "REJECTED":
        reasons = {_pick(rng, REASON_CHOICES)}
        if rng.random() < 0.15:
            reasons.add(_pick(rng, REASON_CHOICES))
        history.decisions.append(
            PlannedDecision(outcome="REJECTED", decided_at=at, reasons=sorted(reasons))
        )
        events.append((at, "REJECTED"))
        return history
    if outcome == "NO_DATA":
        history.decisions.append(PlannedDecision(outcome="NO_DATA", decided_at=at))
        events.append((at, "DECIDED"))
        events.append((at, "CLOSED"))
        return history
    partial = partial_possible and rng.random() < 0.2
    decision = PlannedDecision(
        outcome="PARTIAL" if partial else "FULL",
        decided_at=at,
        partial=partial,
        requires_hr=exception,
    )
    history.decisions.append(decision)
    events.append((at, "DECIDED"))
    approvers = [("HUMAN_RIGHTS", 1, "hro")] if exception else []
    approvers += [("STANDARD", 1, "approver1"), ("STANDARD", 2, "approver2")]
    for approval_kind, slot, who in approvers:
        at = _later(rng, at, fast, 1, 72)
        decision.approvals.append((approval_kind, slot, who, at))
    events.append((at, "APPROVED"))
    # Collected and released, downloaded by the agency (the delivery), closed at the package's
    # expiry two weeks later.
    at = _later(rng, at, fast, 0.5, 24)
    events.append((at, "PRODUCED"))
    at = _later(rng, at, fast, 0.5, 72)
    events.append((at, "DELIVERED"))
    events.append((at + timedelta(days=14), "CLOSED"))
    return history


# --- Writing rows --------------------------------------------------------------------------------


def _column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    column = getattr(field, "column", None)
    if not isinstance(column, str):
        raise TypeError(f"{model.__name__}.{name} is not a concrete column")
    return column


class BulkWriter:
    """Insert rows of one model fast: COPY on PostgreSQL, executemany elsewhere."""

    def __init__(self) -> None:
        self.postgres = connection.vendor == "postgresql"
        self._json: dict[tuple[Any, ...], str] = {}
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                # A bigger page cache for this connection: the indexes stay in memory while
                # millions of rows go in.
                cursor.execute("PRAGMA cache_size = -262144")

    def when(self, value: datetime | None) -> Any:
        """A UTC datetime as the backend stores it."""
        if value is None or self.postgres:
            return value
        # What Django's SQLite backend stores, naive UTC in str() format: the ISO form without
        # its "+00:00" (every datetime here is built in UTC).
        return value.isoformat(" ")[:-6]

    def day(self, value: date | None) -> Any:
        return value if value is None or self.postgres else value.isoformat()

    def json(self, value: list[str]) -> str:
        """JSON text of a short list of codes (a handful of distinct lists: cached)."""
        key = tuple(value)
        text = self._json.get(key)
        if text is None:
            text = self._json[key] = json.dumps(value)
        return text

    def uuid(self, value: uuid.UUID) -> Any:
        return value if self.postgres else value.hex

    def write(
        self, model: type[models.Model], fields: list[str], rows: list[tuple[Any, ...]]
    ) -> None:
        if not rows:
            return
        table = connection.ops.quote_name(model._meta.db_table)
        columns = ", ".join(connection.ops.quote_name(_column(model, name)) for name in fields)
        with connection.cursor() as cursor:
            if self.postgres:
                raw = cursor.cursor  # the psycopg cursor, for COPY
                with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:  # type: ignore[union-attr]
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(fields))
                cursor.executemany(
                    f"INSERT INTO {table} ({columns}) VALUES ({marks})",  # noqa: S608 - names from models
                    rows,
                )


REQUEST_FIELDS = [
    "id",
    "public_id",
    "reference",
    "agency",
    "officer",
    "channel",
    "jurisdiction",
    "received_at",
    "created_at",
    "updated_at",
    "kind",
    "legal_basis",
    "issuing_authority",
    "agency_case_number",
    "offence_category",
    "narrative",
    "data_categories",
    "deadline_at",
    "respond_by",
    "gag_order",
    "gag_legal_basis",
    "gag_expires_on",
    "emergency_danger",
    "emergency_why_now",
    "status",
    "status_before_hold",
    "check_outcome",
    "needs_human_rights_approval",
    "target_count",
]
TARGET_FIELDS = ["id", "request", "type", "value", "raw_value"]
STATUS_FIELDS = [
    "id",
    "request",
    "from_status",
    "to_status",
    "actor_kind",
    "actor_id",
    "actor_label",
    "reason",
    "occurred_at",
]
DECISION_FIELDS = [
    "id",
    "request",
    "outcome",
    "rejection_reasons",
    "approved_target_ids",
    "approved_categories",
    "rationale",
    "letter",
    "requires_human_rights_approval",
    "decided_by",
    "decided_at",
    "superseded_at",
]
APPROVAL_FIELDS = ["id", "decision", "kind", "slot", "approver", "note", "approved_at"]
WRITTEN_MODELS: list[type[models.Model]] = [LegalRequest, Target, StatusChange, Decision, Approval]


def _next_ids() -> dict[type[models.Model], int]:
    ids: dict[type[models.Model], int] = {}
    for model in WRITTEN_MODELS:
        ids[model] = (model._default_manager.aggregate(top=Max("pk"))["top"] or 0) + 1
    return ids


@dataclass(frozen=True, kw_only=True)
class SyntheticResult:
    requests: int
    targets: int
    status_changes: int
    decisions: int
    approvals: int


@dataclass
class _Batch:
    requests: list[tuple[Any, ...]] = field(default_factory=list)
    targets: list[tuple[Any, ...]] = field(default_factory=list)
    status_changes: list[tuple[Any, ...]] = field(default_factory=list)
    decisions: list[tuple[Any, ...]] = field(default_factory=list)
    approvals: list[tuple[Any, ...]] = field(default_factory=list)


@dataclass
class _Context:
    rng: random.Random
    writer: BulkWriter
    ids: dict[type[models.Model], int]
    agencies: dict[str, tuple[int, int]]  # code -> (agency id, officer id)
    staff: dict[str, User]
    # staff key -> (actor kind, id, label) for the status history
    labels: dict[str, tuple[str, str, str]] = field(default_factory=dict)

    def next_id(self, model: type[models.Model]) -> int:
        value = self.ids[model]
        self.ids[model] = value + 1
        return value


def _setup() -> tuple[dict[str, tuple[int, int]], dict[str, User]]:
    """Agencies, officers, staff and the Hong Kong hold, through the services."""
    staff: dict[str, User] = {}
    for key, (email, roles) in STAFF.items():
        user = User.objects.filter(email=email).first()
        if user is None:
            user = staff_add(
                actor=SYSTEM, email=email, name=f"Synthetic {key}", roles=roles, now=SETUP_AT
            )
        staff[key] = user
    agencies: dict[str, tuple[int, int]] = {}
    for code in sorted({row[1] for row in ROWS}):
        domain = f"synthetic-{code.lower()}.example"
        existing = AgencyDomain.objects.filter(domain=domain).select_related("agency").first()
        if existing is not None:
            agency: Agency = existing.agency
        else:
            agency = agency_add(
                actor=SYSTEM,
                name=f"Synthetic police ({code})",
                jurisdiction_code=code,
                kind="POLICE",
                domains=[domain],
                # synthetic-hk.example and synthetic-hu.example are one letter apart.
                lookalike_override="synthetic data set: one made-up agency per jurisdiction",
                now=SETUP_AT,
            )
            agency = agency_verify(
                actor=SYSTEM, agency=agency, method="synthetic data set", now=SETUP_AT
            )
        officer = Officer.objects.filter(agency=agency).order_by("pk").first()
        if officer is None:
            officer = officer_add(
                actor=SYSTEM,
                agency=agency,
                email=f"officer@{domain}",
                name=f"Synthetic officer ({code})",
                now=SETUP_AT,
            )
        agencies[code] = (agency.pk, officer.pk)
    hk_hold = JurisdictionHold.objects.filter(
        jurisdiction_id="HK", effective_from__lte=HK_HOLD_AT, effective_to__isnull=True
    )
    if not hk_hold.exists():
        change = hold_propose(
            actor=Actor.for_user(staff["policy"]),
            jurisdiction_code="HK",
            effective_from=HK_HOLD_AT,
            reason=HK_HOLD_REASON,
            reason_zh_hant=HK_HOLD_REASON_ZH_HANT,
            review_notes=HK_HOLD_NOTES,
            allow_emergency=True,
            allow_offences=["HUMAN_TRAFFICKING"],
            now=HK_HOLD_AT,
        )
        hold_change_confirm(actor=Actor.for_user(staff["policy2"]), change=change, now=HK_HOLD_AT)
    return agencies, staff


def _add_request(context: _Context, batch: _Batch, cell: Cell, received_at: datetime) -> None:
    rng, writer = context.rng, context.writer
    if cell.category == "EMERGENCY":
        kind = "EMERGENCY"
        offence = "CHILD_SAFETY" if rng.random() < 0.2 else "VIOLENT_CRIME"
    elif cell.category == "PRESERVATION":
        kind = "PRESERVATION"
        offence = _pick(rng, OFFENCE_CHOICES)
    else:
        kind = _pick(rng, US_KINDS if cell.code == "US" else OTHER_KINDS)
        offence = _pick(rng, OFFENCE_CHOICES)
    held_jurisdiction = cell.code == "HK" and received_at >= HK_HOLD_AT
    if held_jurisdiction and kind != "EMERGENCY" and kind != "PRESERVATION" and rng.random() < 0.05:
        kind, offence = "SEARCH_WARRANT", "HUMAN_TRAFFICKING"
    exception = held_jurisdiction and (kind == "EMERGENCY" or offence == "HUMAN_TRAFFICKING")
    arrives_on_hold = held_jurisdiction and not exception
    # Preservation requests are honoured nine times in ten (never "data produced" in reports).
    honoured = 0.9 if kind == "PRESERVATION" else cell.produced_share
    if exception or rng.random() < honoured:
        outcome = "FULL"
    else:
        outcome = _pick(rng, NOT_PRODUCED_CHOICES)
        if kind == "PRESERVATION" and outcome != "WITHDRAWN":
            outcome = "REJECTED"
    extra = cell.accounts_per_request - 1
    target_count = 1 + min(49, int(rng.expovariate(1 / extra))) if extra > 0.01 else 1
    categories = CATEGORIES[kind][0 if rng.random() < 0.7 else 1]
    history = plan_history(
        rng,
        kind=kind,
        received_at=received_at,
        outcome=outcome,
        partial_possible=target_count > 1 or len(categories) > 1,
        exception=exception,
        arrives_on_hold=arrives_on_hold,
    )
    if cell.code == "HK" and received_at < HK_HOLD_AT:
        history.cut(HK_HOLD_AT, then_on_hold=True)  # still open when the hold came
    history.cut(HISTORY_END, then_on_hold=False)

    request_id = context.next_id(LegalRequest)
    agency_id, officer_id = context.agencies[cell.code]
    officer_actor = ("OFFICER", str(officer_id), f"officer@synthetic-{cell.code.lower()}.example")
    gag = kind not in ("EMERGENCY", "PRESERVATION") and rng.random() < (
        0.3 if cell.code == "US" else 0.1
    )
    final_status = history.events[-1][1]
    before_hold = history.events[-2][1] if final_status == "ON_HOLD" else ""
    target_ids = []
    for index in range(target_count):
        target_id = context.next_id(Target)
        target_ids.append(target_id)
        value = f"@syn{request_id}x{index}"
        batch.targets.append((target_id, request_id, "USERNAME", value, value))
    batch.requests.append(
        (
            request_id,
            writer.uuid(uuid.UUID(int=rng.getrandbits(128), version=4)),
            f"{REFERENCE_PREFIX}{received_at.year}-{request_id:08d}",
            agency_id,
            officer_id,
            "API",
            cell.code,
            writer.when(received_at),
            writer.when(received_at),
            writer.when(history.events[-1][0]),
            kind,
            "" if kind == "EMERGENCY" else "Synthetic legal basis",
            "",
            f"SYN-{request_id}",
            offence,
            "Synthetic request generated for benchmarks.",
            writer.json(categories),
            writer.when(received_at + timedelta(hours=4 if kind == "EMERGENCY" else 24 * 30)),
            writer.when(received_at + timedelta(hours=4 if kind == "EMERGENCY" else 24 * 30)),
            gag,
            "Court order" if gag else "",
            writer.day((received_at + timedelta(days=180)).date()) if gag else None,
            "Danger to life (synthetic)." if kind == "EMERGENCY" else "",
            "It cannot wait (synthetic)." if kind == "EMERGENCY" else "",
            final_status,
            before_hold,
            "BLOCK" if arrives_on_hold else ("WARN" if exception else "PASS"),
            exception,
            target_count,
        )
    )
    previous = ""
    for occurred_at, status in history.events:
        actor = officer_actor if status in ("RECEIVED", "WITHDRAWN") else context.labels["reviewer"]
        if status == "ON_HOLD":
            actor = context.labels["policy"]
        batch.status_changes.append(
            (
                context.next_id(StatusChange),
                request_id,
                previous,
                status,
                actor[0],
                actor[1],
                actor[2],
                "",
                writer.when(occurred_at),
            )
        )
        previous = status
    for decision in history.decisions:
        decision_id = context.next_id(Decision)
        batch.decisions.append(
            (
                decision_id,
                request_id,
                decision.outcome,
                writer.json(decision.reasons),
                f"[{target_ids[0]}]" if decision.partial else "[]",
                writer.json(["BASIC_SUBSCRIBER"] if decision.partial else []),
                "Synthetic decision.",
                "",
                decision.requires_hr,
                context.staff["reviewer"].pk,
                writer.when(decision.decided_at),
                writer.when(decision.superseded_at),
            )
        )
        for approval_kind, slot, who, approved_at in decision.approvals:
            batch.approvals.append(
                (
                    context.next_id(Approval),
                    decision_id,
                    approval_kind,
                    slot,
                    context.staff[who].pk,
                    "",
                    writer.when(approved_at),
                )
            )


def _write(writer: BulkWriter, batch: _Batch) -> None:
    writer.write(LegalRequest, REQUEST_FIELDS, batch.requests)
    writer.write(Target, TARGET_FIELDS, batch.targets)
    writer.write(StatusChange, STATUS_FIELDS, batch.status_changes)
    writer.write(Decision, DECISION_FIELDS, batch.decisions)
    writer.write(Approval, APPROVAL_FIELDS, batch.approvals)


def synthetic_generate(
    *,
    count: int,
    seed: int,
    now: datetime,
    append: bool = False,
    batch_size: int = 20_000,
    jurisdictions: frozenset[str] = frozenset(),
    progress: Callable[[int, int], None] | None = None,
) -> SyntheticResult:
    """Add ``count`` synthetic requests with their histories (from the given jurisdictions of
    the mix only, if any are given). Refused in production, and on a database that already
    holds requests unless ``append``."""
    if settings.PRODUCTION:
        raise Conflict("synthetic data is refused in production mode", code="production")
    if not 1 <= count <= MAX_REQUESTS:
        raise ValidationFailed.single("count", f"must be 1 to {MAX_REQUESTS:,}")
    cells = mix_cells(jurisdictions=jurisdictions)
    if not cells:
        known = ", ".join(sorted({row[1] for row in ROWS}))
        raise ValidationFailed.single("jurisdictions", f"the mix has only {known}")
    if not append and LegalRequest.objects.exists():
        raise Conflict(
            "the database already holds requests; use --append to add synthetic ones anyway",
            code="data_exists",
        )
    with transaction.atomic():
        agencies, staff = _setup()
    context = _Context(
        rng=random.Random(seed),
        writer=BulkWriter(),
        ids=_next_ids(),
        agencies=agencies,
        staff=staff,
    )
    for key in ("reviewer", "policy"):
        user = staff[key]
        context.labels[key] = ("USER", str(user.pk), user.email)
    written = {"targets": 0, "status_changes": 0, "decisions": 0, "approvals": 0}
    done = 0
    # Requests are generated half-year by half-year, in the order they were received, so ids
    # grow with time as in a real database (and each request's history follows it).
    halves = sorted({cell.period for cell in cells})
    per_half = Counter(
        context.rng.choices(
            range(len(halves)),
            weights=[sum(c.requests for c in cells if c.period == half) for half in halves],
            k=count,
        )
    )
    for index, half in enumerate(halves):
        half_cells = [cell for cell in cells if cell.period == half]
        cumulative = list(itertools.accumulate(cell.requests for cell in half_cells))
        span = (half.end - half.start).total_seconds()
        moments = sorted(context.rng.random() for _ in range(per_half[index]))
        for first in range(0, len(moments), batch_size):
            chunk = moments[first : first + batch_size]
            batch = _Batch()
            chosen = context.rng.choices(half_cells, cum_weights=cumulative, k=len(chunk))
            for cell, moment in zip(chosen, chunk, strict=True):
                received_at = half.start + timedelta(seconds=moment * span)
                _add_request(context, batch, cell, received_at)
            with transaction.atomic():
                _write(context.writer, batch)
            done += len(chunk)
            for name in written:
                written[name] += len(getattr(batch, name))
            if progress is not None:
                progress(done, count)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), WRITTEN_MODELS):
                cursor.execute(statement)
    # A bulk load leaves the planner without statistics for the new rows until autovacuum gets
    # to them: PostgreSQL then chose a 244 ms plan for the queue's first page at 1M requests
    # instead of a 2.5 ms one. Gather them now (SQLite: for its query planner's sqlite_stat1).
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    result = SyntheticResult(requests=count, **written)
    audit_record_standalone(
        actor=SYSTEM,
        action="synthetic.generated",
        object_type="synthetic_history",
        object_id=seed,
        data={"seed": seed, **result.__dict__},
        now=now,
    )
    return result
