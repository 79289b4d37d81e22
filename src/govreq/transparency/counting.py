"""The counting rules of govreq's transparency reports, written once (docs/transparency.md).

How a report is computed: one SQL query classifies every request received in the period by what
was true at the *cut-off* (the end of the period, or now for a period still running) and counts
the requests in each class, grouped by jurisdiction; the pure functions below then turn those
few thousand classes into the report's numbers. The database does the work per request
(correlated index look-ups of its decision, its status where the decision does not settle it,
and its number of targets, then a GROUP BY); Python only folds the groups, so memory depends on
the number of classes, not on the number of requests.

The rules:

* A request counts in the period in which it was **received** (``received_at``, UTC).
* Its outcome is read **as of the cut-off**: its status is the one its status history shows at
  that instant (a request keyed in after the cut-off for an earlier receipt date is RECEIVED),
  and its decision is the one that was current then. The history is append-only, so a report for
  a closed period computes to the same numbers whenever it is computed.
* **Some data produced** means **delivered**: a FULL or PARTIAL decision whose request had
  reached DELIVERED by the cut-off (the agency downloaded the released package, or a delivery
  by other means was recorded with its evidence). An approved request that was not delivered by
  then is pending, whether its package awaits download or a hold stopped it. Deliveries by other
  means are also counted apart, and so are requests the agency withdrew after approval.
* **Outcomes**: FULL, PARTIAL (as above), REJECTED (with each reason cited), NO_DATA (closed on
  a NO_DATA decision), WITHDRAWN, and PENDING (any other status at the cut-off, including
  ON_HOLD). They add up to the number of requests.
* **Requests** are legal process plus emergency requests. **Preservation requests** are counted
  separately and never as "data produced".
* **Accounts specified**: the distinct normalised targets of each request, summed over requests.
* **National-security process** (offence category NATIONAL_SECURITY) from a jurisdiction whose
  law allows only bands (the US: 50 U.S.C. 1874) is taken out of every exact number of that
  jurisdiction and of the total, and reported as a band such as ``0-249``.
* **Holds**: every hold in force at some time in the period, whenever it was recorded (one
  recorded later says so), with its public reason; voided holds (placed by mistake) count
  nowhere; requests that were ON_HOLD at any time before the cut-off.
* **User notices** (counting rules 3): what happened to notices *during* the period, and where
  they stood at its end, whatever period their request was received in: notices **given** (sent
  in the period), found **not possible** in the period, and **delayed** at the cut-off by the
  reason in force then. And, of the accounts disclosed by the requests this report counts as
  data produced, how many had been told by the cut-off. A second aggregate, over the notices
  (far fewer than the requests), counts them all; it reads each notice's request through the
  same expression as the main query, so "data produced" means the same in both.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property, lru_cache
from typing import Any, NamedTuple

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.core.signals import setting_changed
from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    F,
    Func,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce
from django.db.models.lookups import IsNull
from django.dispatch import receiver

from govreq.core.errors import ValidationFailed
from govreq.disclosure.models import OtherDelivery
from govreq.holds.models import JurisdictionHold
from govreq.intake.models import (
    DataCategory,
    LegalRequest,
    OffenceCategory,
    RequestKind,
    RequestStatus,
    StatusChange,
)
from govreq.jurisdictions.models import Jurisdiction
from govreq.notices.models import DelayReason, NoticeEvent, NoticeStatus, UserNotice
from govreq.review.models import Decision, DecisionOutcome, RejectionReason
from govreq.transparency.periods import Period

REPORT_FORMAT = "govreq-transparency-report/1"
# 2: "data produced" counts deliveries, not approvals; 3: user notices (the entries of a body of
# rules 2 have no "user_notices"; every reader takes that as "not counted then").
COUNTING_RULES_VERSION = 3

S = RequestStatus
K = RequestKind
KINDS: tuple[str, ...] = tuple(K.values)
REASONS: tuple[str, ...] = tuple(RejectionReason.values)
OUTCOMES = ("FULL", "PARTIAL", "REJECTED", "NO_DATA", "WITHDRAWN", "PENDING")
PRODUCED_OUTCOMES = frozenset({"FULL", "PARTIAL"})
NOTICE_DELAY_REASONS: tuple[str, ...] = tuple(DelayReason.values)
CONTENT_KEYS = (
    "sought_content",
    "sought_non_content_only",
    "disclosed_content",
    "disclosed_non_content_only",
)
CONTENT_CATEGORIES = frozenset({DataCategory.CONTENT.value})
# US law (50 U.S.C. 1874(a)(2)): all national-security process together, in bands of 250.
DEFAULT_NATIONAL_SECURITY_BANDS = "US:250"


# --- Pure rules ----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RequestClass:
    """What the counting rules look at in a request, as of the cut-off (in whichever
    jurisdiction: a report counts each jurisdiction's requests in a tally of its own)."""

    kind: str
    gag_order: bool
    national_security: bool
    content_sought: bool  # the request asked for stored content
    status: str
    decision: str  # the outcome of the decision current at the cut-off, or ""
    rejection_reasons: tuple[str, ...] = ()
    approved_categories: frozenset[str] = frozenset()
    held: bool = False  # ON_HOLD at any time before the cut-off
    # How far a FULL or PARTIAL decision had got by the cut-off: "", APPROVED or DELIVERED.
    progress: str = ""

    @property
    def delivered(self) -> bool:
        return self.progress == S.DELIVERED

    @cached_property
    def outcome(self) -> str:
        """Its reported outcome (``outcome_of``)."""
        return outcome_of(self.status, self.decision, delivered=self.delivered)


def outcome_of(status: str, decision: str, *, delivered: bool = False) -> str:
    """The reported outcome of a request whose status, current decision and delivery (by the
    cut-off) are these: FULL or PARTIAL only once delivered."""
    if status == S.WITHDRAWN:
        return "WITHDRAWN"
    if status == S.REJECTED:
        return "REJECTED"
    if decision in PRODUCED_OUTCOMES and delivered:
        return decision
    if decision in PRODUCED_OUTCOMES:
        return "PENDING"  # approved (or awaiting approval) but nothing delivered yet
    if status == S.CLOSED:
        # Only a NO_DATA decision closes a request without a delivery (lifecycle.workflow).
        return "NO_DATA"
    return "PENDING"


def content_disclosed(request: RequestClass) -> bool:
    """Whether the data produced included stored content (FULL: what was asked; PARTIAL: what
    was approved)."""
    if request.outcome == "PARTIAL":
        return bool(request.approved_categories & CONTENT_CATEGORIES)
    return request.content_sought


def percent(part: int, whole: int) -> int | None:
    """Whole percent, rounded half up (62 of 262 is 24%); None when there is nothing to divide."""
    if whole <= 0:
        return None
    return (200 * part + whole) // (2 * whole)


def band(count: int, width: int) -> str:
    """The band a count falls in: ``band(17, 250) == "0-249"``."""
    low = (count // width) * width
    return f"{low}-{low + width - 1}"


@dataclass
class Counts:
    requests: int = 0
    accounts: int = 0
    data_produced: int = 0

    def add(self, requests: int, accounts: int, produced: int) -> None:
        self.requests += requests
        self.accounts += accounts
        self.data_produced += produced

    def as_dict(self, *, produces: bool = True) -> dict[str, int | None]:
        return {
            "requests": self.requests,
            "accounts": self.accounts,
            "data_produced": self.data_produced if produces else None,
            "data_produced_percent": percent(self.data_produced, self.requests)
            if produces
            else None,
        }


@dataclass
class Tally:
    """Running totals for one jurisdiction (or all of them)."""

    legal_process: Counts = field(default_factory=Counts)
    emergency: Counts = field(default_factory=Counts)
    preservation: Counts = field(default_factory=Counts)
    by_kind: dict[str, Counts] = field(default_factory=lambda: {k: Counts() for k in KINDS})
    outcomes: Counter[str] = field(default_factory=Counter)
    rejection_reasons: Counter[str] = field(default_factory=Counter)
    pending_on_hold: int = 0
    sought_content: int = 0
    disclosed_content: int = 0
    gag_order: int = 0
    held: int = 0
    national_security_requests: int = 0
    national_security_accounts: int = 0
    withdrawn_after_approval: int = 0
    delivered_by_other_means: int = 0
    # User notices: given and found not possible in the period, delayed at the cut-off (by
    # reason), and of the accounts disclosed by this report's data-produced requests, those told.
    notices_given: int = 0
    notices_not_possible: int = 0
    notices_delayed: Counter[str] = field(default_factory=Counter)
    delivered_accounts: int = 0
    delivered_accounts_told: int = 0

    def add(self, request: RequestClass, *, requests: int, accounts: int, banded: bool) -> None:
        """Count ``requests`` requests of one class (with ``accounts`` targets between them)."""
        if banded and request.national_security:
            self.national_security_requests += requests
            self.national_security_accounts += accounts
            return
        if request.kind == K.PRESERVATION:
            self.preservation.add(requests, accounts, 0)
            self.by_kind[K.PRESERVATION].add(requests, accounts, 0)
            return
        outcome = request.outcome
        produced = requests if outcome in PRODUCED_OUTCOMES else 0
        if outcome == "WITHDRAWN" and request.progress == S.APPROVED:
            self.withdrawn_after_approval += requests
        group = self.emergency if request.kind == K.EMERGENCY else self.legal_process
        group.add(requests, accounts, produced)
        self.by_kind[request.kind].add(requests, accounts, produced)
        self.outcomes[outcome] += requests
        if outcome == "PENDING" and request.status == S.ON_HOLD:
            self.pending_on_hold += requests
        if outcome == "REJECTED":
            for reason in request.rejection_reasons:
                self.rejection_reasons[reason] += requests
        if request.content_sought:
            self.sought_content += requests
        if produced and content_disclosed(request):
            self.disclosed_content += requests
        if request.gag_order:
            self.gag_order += requests
        if request.held:
            self.held += requests

    def merge(self, other: Tally) -> None:
        for mine, theirs in (
            (self.legal_process, other.legal_process),
            (self.emergency, other.emergency),
            (self.preservation, other.preservation),
            *((self.by_kind[k], other.by_kind[k]) for k in KINDS),
        ):
            mine.add(theirs.requests, theirs.accounts, theirs.data_produced)
        self.outcomes.update(other.outcomes)
        self.rejection_reasons.update(other.rejection_reasons)
        self.pending_on_hold += other.pending_on_hold
        self.sought_content += other.sought_content
        self.disclosed_content += other.disclosed_content
        self.gag_order += other.gag_order
        self.held += other.held
        self.national_security_requests += other.national_security_requests
        self.national_security_accounts += other.national_security_accounts
        self.withdrawn_after_approval += other.withdrawn_after_approval
        self.delivered_by_other_means += other.delivered_by_other_means
        self.notices_given += other.notices_given
        self.notices_not_possible += other.notices_not_possible
        self.notices_delayed.update(other.notices_delayed)
        self.delivered_accounts += other.delivered_accounts
        self.delivered_accounts_told += other.delivered_accounts_told

    @property
    def requests(self) -> Counts:
        total = Counts()
        for part in (self.legal_process, self.emergency):
            total.add(part.requests, part.accounts, part.data_produced)
        return total

    def as_dict(self, *, band_width: int | None) -> dict[str, Any]:
        total = self.requests
        produced = total.data_produced
        return {
            **total.as_dict(),
            "legal_process": self.legal_process.as_dict(),
            "emergency": self.emergency.as_dict(),
            "preservation": {
                "requests": self.preservation.requests,
                "accounts": self.preservation.accounts,
            },
            "by_kind": {
                kind: self.by_kind[kind].as_dict(produces=kind != K.PRESERVATION) for kind in KINDS
            },
            "outcomes": {outcome: self.outcomes[outcome] for outcome in OUTCOMES},
            "pending_on_hold": self.pending_on_hold,
            "withdrawn_after_approval": self.withdrawn_after_approval,
            "delivered_by_other_means": self.delivered_by_other_means,
            "rejection_reasons": {reason: self.rejection_reasons[reason] for reason in REASONS},
            "content": {
                "sought_content": self.sought_content,
                "sought_non_content_only": total.requests - self.sought_content,
                "disclosed_content": self.disclosed_content,
                "disclosed_non_content_only": produced - self.disclosed_content,
            },
            "gag_order": {
                "requests": self.gag_order,
                "percent": percent(self.gag_order, total.requests),
            },
            "held_requests": self.held,
            "user_notices": {
                "given": self.notices_given,
                "not_possible": self.notices_not_possible,
                "delayed": sum(self.notices_delayed[r] for r in NOTICE_DELAY_REASONS),
                "delayed_by_reason": {r: self.notices_delayed[r] for r in NOTICE_DELAY_REASONS},
                "delivered_accounts": self.delivered_accounts,
                "delivered_accounts_told": self.delivered_accounts_told,
                "delivered_accounts_told_percent": percent(
                    self.delivered_accounts_told, self.delivered_accounts
                ),
            },
            "national_security": None
            if band_width is None
            else {
                "band_width": band_width,
                "requests": band(self.national_security_requests, band_width),
                "accounts": band(self.national_security_accounts, band_width),
            },
        }


# --- Configuration -------------------------------------------------------------------------------


def national_security_bands() -> dict[str, int]:
    """Jurisdictions whose national-security process is published only in bands, and the band
    width: ``GOVREQ_REPORT_NATIONAL_SECURITY_BANDS="US:250"`` (the default; empty for none)."""
    raw = getattr(settings, "REPORT_NATIONAL_SECURITY_BANDS", None)
    if raw is None:
        raw = os.environ.get(
            "GOVREQ_REPORT_NATIONAL_SECURITY_BANDS", DEFAULT_NATIONAL_SECURITY_BANDS
        )
    bands: dict[str, int] = {}
    for item in str(raw).split(","):
        if not item.strip():
            continue
        code, _, width = item.partition(":")
        if not (len(code.strip()) == 2 and width.strip().isdigit() and int(width) > 0):
            raise ValidationFailed.single(
                "GOVREQ_REPORT_NATIONAL_SECURITY_BANDS", f"{item!r} is not CODE:WIDTH (US:250)"
            )
        bands[code.strip().upper()] = int(width)
    return bands


# --- The query -----------------------------------------------------------------------------------

_SEPARATOR = "|"


def _joined(*parts: Any) -> Func:
    """``a || b || c`` as text, for parts that are never NULL: one flat expression. Django's
    ``Concat`` nests a pair per part and wraps each in COALESCE, which took longer to build and
    compile than the report's queries take to run at 100,000 requests (and SQLite's parser
    refuses it beyond 14 parts)."""
    return Func(*parts, template="(%(expressions)s)", arg_joiner=" || ", output_field=TextField())


def _state_at(*, cutoff: datetime, request: str = "pk") -> Any:
    """A request's state as of ``cutoff``: "STATUS|OUTCOME|reasons|approved categories|progress"
    ("" for a preservation request), for a query whose rows are requests (``request="pk"``), or
    user notices (``request="request"``: the notice's request, never a preservation request,
    which discloses nothing)."""

    def status_of(request: Any) -> Subquery:
        return Subquery(
            StatusChange.objects.filter(request=request, occurred_at__lt=cutoff)
            .order_by("-occurred_at", "-id")
            .values("to_status")[:1]
        )

    sep = Value(_SEPARATOR)
    # How far a disclosure got by the cut-off: DELIVERED if it ever was, else APPROVED if it
    # ever was, else nothing. The greater of the two codes is the further (a test holds it to
    # that), so one index look-up takes the maximum, with no sort per request.
    progress = Coalesce(
        Subquery(
            StatusChange.objects.filter(
                request=OuterRef("request"),
                to_status__in=[S.APPROVED, S.DELIVERED],
                occurred_at__lt=cutoff,
            )
            .order_by()
            .values("request")
            .annotate(furthest=Max("to_status"))
            .values("furthest")
        ),
        Value(""),
    )
    # One look-up per request gives "STATUS|OUTCOME|reasons|approved categories" as of the
    # cut-off. At most one decision is current at any instant (the highest id wins should the
    # data say otherwise). A REJECTED or NO_DATA decision ends the request in the same
    # transaction (review.services.decision_make), so its status is known without a second
    # look-up; a FULL or PARTIAL one needs the status (approved yet? delivered? on hold?), and
    # so does a request with no decision. Preservation requests need neither: they have no
    # reported outcome.
    decided = (
        Decision.objects.filter(request=OuterRef(request), decided_at__lt=cutoff)
        .filter(Q(superseded_at__isnull=True) | Q(superseded_at__gte=cutoff))
        .order_by("-id")
        .annotate(
            key=Case(
                When(
                    outcome=DecisionOutcome.REJECTED,
                    then=_joined(
                        Value(f"{S.REJECTED}{_SEPARATOR}{DecisionOutcome.REJECTED}{_SEPARATOR}"),
                        Cast("rejection_reasons", TextField()),
                        sep,
                    ),
                ),
                When(
                    outcome=DecisionOutcome.NO_DATA,
                    then=Value(f"{S.CLOSED}{_SEPARATOR}{DecisionOutcome.NO_DATA}{_SEPARATOR * 2}"),
                ),
                default=_joined(
                    Coalesce(status_of(OuterRef("request")), Value(S.RECEIVED.value)),
                    sep,
                    "outcome",
                    Value(_SEPARATOR * 2),
                    Cast("approved_categories", TextField()),
                    sep,
                    progress,
                ),
                output_field=TextField(),
            )
        )
        .values("key")[:1]
    )
    state = Coalesce(
        Subquery(decided),
        _joined(
            Coalesce(status_of(OuterRef(request)), Value(S.RECEIVED.value)),
            Value(_SEPARATOR * 3),
        ),
    )
    if request != "pk":
        return state
    return Case(When(kind=K.PRESERVATION, then=Value("")), default=state, output_field=TextField())


# The columns of a request's class (``request_class``).
_CLASS_FIELDS = (
    "kind",
    "gag_order",
    "content_sought",
    "state_at",
    "held",
    "national_security",
)
# The classifying query's rows: a jurisdiction, a class, the holds (in scope), and how many
# requests of these there were with how many accounts between them.
_CLASSIFIED = ("jurisdiction_id", *_CLASS_FIELDS, "holds", "requests", "accounts")
_TOTALS = {"requests": "COUNT(*)", "accounts": "SUM(target_count)", "n": "COUNT(*)"}  # by name


def _classified(
    *,
    received_from: datetime,
    received_before: datetime,
    cutoff: datetime,
    held_jurisdictions: Iterable[str],
    banded_jurisdictions: Iterable[str],
    scopes: Mapping[int, Q] | None = None,
    keep: bool = False,
) -> list[tuple[Any, ...]]:
    """The requests received in [``received_from``, ``received_before``) grouped by class as of
    ``cutoff``, and by the holds in ``scopes`` (a hold's id: the requests it covered) whose
    scope they are in: rows of ``_CLASSIFIED`` (holds: their ids, each followed by a comma).
    ``keep``: keep the query compiled (``_compiled_for``).

    Each request's class is worked out once and the classes grouped outside it (``_grouped``):
    grouped on the class expressions themselves, both databases took a quarter longer
    (scripts/bench_report.py)."""
    return _grouped(
        _compiled_for(
            _classifying_sql,
            received_from,
            received_before,
            cutoff,
            tuple(sorted(set(held_jurisdictions))),
            tuple(sorted(set(banded_jurisdictions))),
            tuple(sorted((scopes or {}).items())),
            keep=keep,
        ),
        _CLASSIFIED[:-2],
        totals=_CLASSIFIED[-2:],
    )


# The SQL of each of a report's three queries is a pure function of the arguments of the
# function that builds it (``_classifying_sql``, ``_other_means_sql``, ``_notices_sql``; the
# alias: of the connection it runs on, whose settings are fixed for the process but in tests,
# see ``_forget_compiled``). Building and compiling their expressions took a fifth of a report
# at 100,000 requests. A closed period's report is computed again and again (its draft after
# each new audit event, the back-test, publishing), so its queries are kept compiled; a running
# period's cut-off is now, never asked for again, so its queries are compiled afresh and not
# kept (they would only push the others out).
_COMPILED_QUERIES = 64
_Compiled = tuple[str, tuple[Any, ...]] | None


def _compiled_for(build: Any, *args: Any, keep: bool) -> _Compiled:
    """``build(alias, *args)``, an ``lru_cache``d builder: kept compiled if ``keep``."""
    function = build if keep else build.__wrapped__
    compiled: _Compiled = function(connection.alias, *args)
    return compiled


def compiled_queries_clear() -> None:
    """Forget every kept query: the next report compiles its queries afresh."""
    for build in (_classifying_sql, _other_means_sql, _notices_sql):
        build.cache_clear()


@receiver(setting_changed)
def _forget_compiled(*, setting: str, **kwargs: Any) -> None:
    """A changed database or time setting (tests) compiles the queries afresh: SQLite's
    parameters are moments in the connection's zone."""
    if setting in {"DATABASES", "USE_TZ", "TIME_ZONE"}:
        compiled_queries_clear()


@lru_cache(maxsize=_COMPILED_QUERIES)
def _classifying_sql(
    alias: str,
    received_from: datetime,
    received_before: datetime,
    cutoff: datetime,
    held_jurisdictions: tuple[str, ...],
    banded_jurisdictions: tuple[str, ...],
    scopes: tuple[tuple[int, Q], ...],
) -> tuple[str, tuple[Any, ...]] | None:
    """The classifying query's SQL and parameters (None: it selects nothing)."""
    each = _annotated(
        LegalRequest.objects.filter(
            received_at__gte=received_from, received_at__lt=received_before
        ),
        cutoff=cutoff,
        held_jurisdictions=held_jurisdictions,
        banded_jurisdictions=banded_jurisdictions,
    )
    in_scope = [
        Case(When(scope, then=Value(f"{hold},")), default=Value(""), output_field=TextField())
        for hold, scope in scopes
    ]
    # Never NULL: each part is '' by default.
    each = each.annotate(holds=_joined(*in_scope) if in_scope else Value(""))
    return _compiled(each.values("target_count", *_CLASSIFIED[:-2]))


def _compiled(query: QuerySet[Any]) -> tuple[str, tuple[Any, ...]] | None:
    """The SQL and parameters of ``query``; None when it can select nothing."""
    try:
        sql, params = query.query.sql_with_params()
    except EmptyResultSet:
        return None
    return sql, tuple(params)


def _fetched(query: tuple[str, tuple[Any, ...]] | None) -> list[tuple[Any, ...]]:
    """The rows of a query ``_compiled`` (none for None)."""
    if query is None:
        return []
    with connection.cursor() as cursor:
        cursor.execute(*query)
        return cursor.fetchall()


def _grouped(
    each: tuple[str, tuple[Any, ...]] | None,
    fields: Sequence[str],
    *,
    totals: Sequence[str],
) -> list[tuple[Any, ...]]:
    """The rows of ``each`` (the SQL and parameters of a ``values()`` query, one row per request
    or notice; None for none) grouped by ``fields``: rows of the fields and then the
    ``totals`` (names of aggregates in ``_TOTALS``) of each group. Each row is worked out
    once, in a materialised common table expression, and grouped outside it: grouped on the
    expressions themselves, SQLite ran every row's correlated look-ups twice (once for the
    group key and once for the row), and Django compiled every expression twice."""
    if each is None:
        return []
    sql, params = each
    columns = ", ".join(connection.ops.quote_name(name) for name in fields)
    aggregates = ", ".join(_TOTALS[name] for name in totals)
    grouped = (
        f"WITH each_row AS MATERIALIZED ({sql}) "  # noqa: S608 (the ORM's SQL; quoted names)
        f"SELECT {columns}, {aggregates} FROM each_row GROUP BY {columns}"
    )
    return _fetched((grouped, params))


def request_classes(
    requests: QuerySet[LegalRequest],
    *,
    cutoff: datetime,
    held_jurisdictions: Iterable[str],
    chunk: int = 2000,
) -> Iterator[tuple[int, RequestClass, int]]:
    """Each request's class as of ``cutoff`` with its number of accounts, by the same rules and
    the same query as the report, one request at a time in primary-key order (a keyset walk:
    memory bounded by ``chunk``). The back-test replays these."""
    bands = national_security_bands()
    annotated = _annotated(
        requests,
        cutoff=cutoff,
        held_jurisdictions=held_jurisdictions,
        banded_jurisdictions=bands,
    ).values("pk", "target_count", *_CLASS_FIELDS)
    last = 0
    while True:
        rows = list(annotated.filter(pk__gt=last).order_by("pk")[:chunk])
        if not rows:
            return
        for row in rows:
            yield row["pk"], request_class(row), row["target_count"] or 0
        last = rows[-1]["pk"]


def _annotated(
    requests: QuerySet[LegalRequest],
    *,
    cutoff: datetime,
    held_jurisdictions: Iterable[str],
    banded_jurisdictions: Iterable[str],
) -> QuerySet[LegalRequest]:
    state_at = _state_at(cutoff=cutoff)
    # data_categories is a JSON list of codes: '"CONTENT"' occurs in its text exactly when the
    # list holds CONTENT, on every backend.
    content_sought = Case(
        When(categories_text__contains=f'"{DataCategory.CONTENT.value}"', then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )
    held_in = sorted(set(held_jurisdictions))
    # A scalar look-up rather than EXISTS, which PostgreSQL may turn into a hash of every
    # ON_HOLD change in the table; and only for the jurisdictions that had a hold.
    first_hold = Subquery(
        StatusChange.objects.filter(
            request=OuterRef("pk"), to_status=S.ON_HOLD, occurred_at__lt=cutoff
        ).values("pk")[:1]
    )
    held: Any = (
        Case(
            When(
                jurisdiction_id__in=held_in,
                then=Case(
                    When(IsNull(first_hold, False), then=Value(True)),
                    default=Value(False),
                    output_field=BooleanField(),
                ),
            ),
            default=Value(False),
            output_field=BooleanField(),
        )
        if held_in
        else Value(False, output_field=BooleanField())
    )
    banded_in = sorted(set(banded_jurisdictions))
    national_security: Any = (
        Case(
            When(
                jurisdiction_id__in=banded_in,
                offence_category=OffenceCategory.NATIONAL_SECURITY,
                then=Value(True),
            ),
            default=Value(False),
            output_field=BooleanField(),
        )
        if banded_in
        else Value(False, output_field=BooleanField())
    )
    return (
        requests.order_by()
        .annotate(categories_text=Cast("data_categories", TextField()))
        .annotate(
            state_at=state_at,
            content_sought=content_sought,
            held=held,
            national_security=national_security,
        )
    )


def _json_list(text: str) -> list[str]:
    return [str(item) for item in json.loads(text)] if text else []


@lru_cache(maxsize=4096)
def _parsed_state(state_at: str | None) -> tuple[str, str, tuple[str, ...], frozenset[str], str]:
    """status, outcome, rejection reasons, approved categories, progress: parsed once per
    distinct state (a report's requests share a few dozen)."""
    status, outcome, reasons, approved, progress = _state_parts(state_at)
    return (
        status,
        outcome,
        tuple(_json_list(reasons)) if outcome == DecisionOutcome.REJECTED else (),
        frozenset(_json_list(approved)),
        progress,
    )


def _state_parts(state_at: str | None) -> tuple[str, str, str, str, str]:
    """status, outcome, rejection reasons (JSON), approved categories (JSON), progress."""
    status, _, rest = (state_at or "").partition(_SEPARATOR)
    outcome, _, rest = rest.partition(_SEPARATOR)
    reasons, _, rest = rest.partition(_SEPARATOR)
    approved, _, progress = rest.partition(_SEPARATOR)
    return status, outcome, reasons, approved, progress


def request_class(row: Mapping[str, Any]) -> RequestClass:
    """A row of the classifying query (``_CLASS_FIELDS``, by name) as a RequestClass."""
    return _class_of(tuple(row[name] for name in _CLASS_FIELDS))


def _class_of(columns: Sequence[Any]) -> RequestClass:
    """The columns of a class (``_CLASS_FIELDS``, in order) as a RequestClass."""
    kind, gag_order, content_sought, state_at, held, national_security = columns
    status, outcome, reasons, approved, progress = _parsed_state(state_at)
    return RequestClass(
        kind=kind,
        gag_order=bool(gag_order),
        national_security=bool(national_security),
        content_sought=bool(content_sought),
        status=status,
        decision=outcome,
        rejection_reasons=reasons,
        approved_categories=approved,
        held=bool(held),
        progress=progress,
    )


def _tallies(
    *,
    received_from: datetime,
    received_before: datetime,
    cutoff: datetime,
    held_jurisdictions: Iterable[str],
    bands: dict[str, int],
    scopes: Mapping[int, Q] | None = None,
    keep: bool = False,
) -> tuple[dict[str, Tally], dict[int, Tally]]:
    """The tallies of the requests received in [``received_from``, ``received_before``) by
    jurisdiction, and by hold for the holds in ``scopes`` (of the requests in each one's
    scope), from one classification of the requests."""
    tallies: dict[str, Tally] = {}
    by_hold: dict[int, Tally] = {hold: Tally() for hold in scopes or {}}
    rows = _classified(
        received_from=received_from,
        received_before=received_before,
        cutoff=cutoff,
        held_jurisdictions=held_jurisdictions,
        banded_jurisdictions=bands,
        scopes=scopes,
        keep=keep,
    )
    # A few thousand groups at most: fetched at once (a server-side cursor would make
    # PostgreSQL plan for the first rows, not for the whole aggregate). The jurisdictions
    # share their classes (a few hundred at 100,000 requests): each is made once.
    classes: dict[tuple[Any, ...], RequestClass] = {}
    width = len(_CLASS_FIELDS)
    for row in rows:  # _CLASSIFIED
        code, key, holds, requests = row[0], row[1 : width + 1], row[width + 1], row[width + 2]
        accounts = row[width + 3] or 0
        classed = classes.get(key) or classes.setdefault(key, _class_of(key))
        tally = tallies.get(code)
        if tally is None:
            tally = tallies[code] = Tally()
        banded = code in bands
        tally.add(classed, requests=requests, accounts=accounts, banded=banded)
        for hold in filter(None, holds.split(",")):
            by_hold[int(hold)].add(classed, requests=requests, accounts=accounts, banded=banded)
    # Deliveries made outside govreq, by jurisdiction.
    counted_elsewhere = _compiled_for(
        _other_means_sql,
        received_from,
        received_before,
        cutoff,
        tuple(sorted(bands)),
        keep=keep,
    )
    for code, n in _fetched(counted_elsewhere):
        tally = tallies.setdefault(code, Tally())
        tally.delivered_by_other_means += n
    return tallies, by_hold


@lru_cache(maxsize=_COMPILED_QUERIES)
def _other_means_sql(
    alias: str,
    received_from: datetime,
    received_before: datetime,
    cutoff: datetime,
    banded_jurisdictions: tuple[str, ...],
) -> tuple[str, tuple[Any, ...]] | None:
    """The deliveries by other means recorded by ``cutoff`` of the requests received in
    [``received_from``, ``received_before``), counted by jurisdiction: (code, n) rows.

    Deliveries made outside govreq are few: counted from their own table, like everything else
    leaving out banded national-security process. It is the only table the query scans; each
    delivery's request is read by primary key (a join, or a list of the period's requests, made
    SQLite read every request of the period or of the table)."""
    requests = LegalRequest.objects.filter(
        received_at__gte=received_from, received_at__lt=received_before
    )
    request = LegalRequest.objects.filter(pk=OuterRef("request_id"))
    other_means = OtherDelivery.objects.filter(
        Exists(requests.exclude(kind=K.PRESERVATION).filter(pk=OuterRef("request_id"))),
        recorded_at__lt=cutoff,
    )
    other_means = _without_banded(other_means, request, banded_jurisdictions)
    return _compiled(
        other_means.order_by()
        .annotate(jurisdiction=Subquery(request.values("jurisdiction_id")[:1]))
        .values("jurisdiction")
        .annotate(n=Count("pk"))
    )


def _without_banded(
    rows: QuerySet[Any], request: QuerySet[LegalRequest], bands: Iterable[str]
) -> QuerySet[Any]:
    """``rows`` (each tied to its request by ``request``, filtered on ``OuterRef``) without
    those of banded national-security process."""
    if not bands:
        return rows
    return rows.exclude(
        Exists(
            request.filter(
                jurisdiction_id__in=sorted(bands),
                offence_category=OffenceCategory.NATIONAL_SECURITY,
            )
        )
    )


_NOTICE_FIELDS = ("jurisdiction", "notice_state", "given", "impossible", "told", "request_state")


def _count_notices(
    tallies: dict[str, Tally],
    *,
    period: Period,
    cutoff: datetime,
    bands: dict[str, int],
    keep: bool = False,
) -> None:
    """Add the user notices to the tallies, from one aggregate over the notices (rule 13):

    - given: sent in the period; not possible: found so in the period (its history says when);
    - delayed at the cut-off, by the reason in force then (the notice's history, as a request's
      status is read from its own);
    - for notices of requests received in the period: whether their request counts as data
      produced (its state as of the cut-off, by the main query's own expression and
      ``outcome_of``), and whether they were sent by the cut-off.

    Notices of banded national-security process are left out, as everything else of it is.
    The notices are the only table the query scans: their requests are read by primary key
    (a join would let a planner without statistics drive the query from the requests).
    """
    each = _compiled_for(_notices_sql, period.start, cutoff, tuple(sorted(bands)), keep=keep)
    for row in _grouped(each, _NOTICE_FIELDS, totals=("n",)):
        code, notice_state, given, impossible, told, request_state, n = row
        status, _, reason = (notice_state or "").partition(_SEPARATOR)
        delayed = status == NoticeStatus.DELAYED
        request_status, decision, _, _, progress = _state_parts(request_state)
        delivered = (
            outcome_of(request_status, decision, delivered=progress == S.DELIVERED)
            in PRODUCED_OUTCOMES
        )
        if not (given or impossible or delayed or delivered):
            continue  # nothing of these notices counts in this period
        tally = tallies.setdefault(code, Tally())
        if given:
            tally.notices_given += n
        if impossible:
            tally.notices_not_possible += n
        if delayed:
            tally.notices_delayed[reason] += n
        if delivered:
            tally.delivered_accounts += n
            if told:
                tally.delivered_accounts_told += n


@lru_cache(maxsize=_COMPILED_QUERIES)
def _notices_sql(
    alias: str,
    period_start: datetime,
    cutoff: datetime,
    banded_jurisdictions: tuple[str, ...],
) -> tuple[str, tuple[Any, ...]] | None:
    """The SQL and parameters of ``_count_notices``'s query, one row per notice."""
    request = LegalRequest.objects.filter(pk=OuterRef("request_id"))
    in_report = Exists(request.filter(received_at__gte=period_start, received_at__lt=cutoff))
    notice_state = Subquery(
        NoticeEvent.objects.filter(notice=OuterRef("pk"), occurred_at__lt=cutoff)
        .order_by("-occurred_at", "-id")
        .annotate(key=_joined("to_status", Value(_SEPARATOR), "delay_reason"))
        .values("key")[:1]
    )
    impossible_in_period = Exists(
        NoticeEvent.objects.filter(
            notice=OuterRef("pk"),
            to_status=NoticeStatus.NOT_POSSIBLE,
            occurred_at__gte=period_start,
            occurred_at__lt=cutoff,
        )
    )

    def flag(condition: Any) -> Case:
        return Case(
            When(condition, then=Value(True)), default=Value(False), output_field=BooleanField()
        )

    notices = UserNotice.objects.filter(created_at__lt=cutoff).filter(
        # A notice sent before the period has nothing left to count in it, unless its request
        # was received in it (it is among the accounts told): then it was opened in the period
        # too, since a notice is opened when the package is collected, after the receipt.
        Q(sent_at__isnull=True) | Q(sent_at__gte=period_start) | Q(created_at__gte=period_start)
    )
    notices = _without_banded(notices, request, banded_jurisdictions)
    rows = (
        notices.order_by()
        .annotate(
            jurisdiction=Subquery(request.values("jurisdiction_id")[:1]),
            notice_state=notice_state,
            given=flag(Q(sent_at__gte=period_start, sent_at__lt=cutoff)),
            impossible=flag(impossible_in_period),
            told=flag(Q(sent_at__lt=cutoff)),
            request_state=Case(
                When(in_report, then=_state_at(cutoff=cutoff, request="request")),
                default=Value(""),
                output_field=TextField(),
            ),
        )
        .values(*_NOTICE_FIELDS)
    )
    return _compiled(rows)


def _holds_in_period(period: Period, cutoff: datetime) -> list[JurisdictionHold]:
    """Holds in force at some time in the period, whenever they were recorded (a hold placed on
    6 July with effect from 30 June belongs to the first half-year), except voided ones."""
    return list(
        JurisdictionHold.objects.filter(effective_from__lt=period.end, voided_at__isnull=True)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gt=period.start))
        # Lifted before it started: it never held anything.
        .exclude(lifted_at__lte=F("effective_from"))
        .order_by("jurisdiction_id", "effective_from", "id")
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment is not None else None


class _HoldWindow(NamedTuple):
    effective_to: datetime | None  # as known at the cut-off
    lifted: bool  # by the cut-off
    scope: Q  # the requests it covered in the period


def _hold_window(hold: JurisdictionHold, *, period: Period, cutoff: datetime) -> _HoldWindow:
    """The hold as known at the cut-off, and the requests it covered in the period: those
    received while it was in force, within its scope."""
    # A lift after the cut-off was not known at the cut-off: the hold was still open-ended then.
    lifted = hold.lifted_at is not None and hold.lifted_at < cutoff
    effective_to = hold.effective_to if hold.lifted_at is None or lifted else None
    scope = Q(
        jurisdiction_id=hold.jurisdiction_id,
        received_at__gte=max(period.start, hold.effective_from),
        received_at__lt=min(period.end, effective_to) if effective_to else period.end,
    )
    if hold.scope_kinds:
        scope &= Q(kind__in=hold.scope_kinds)
    if hold.scope_offences:
        scope &= Q(offence_category__in=hold.scope_offences)
    if hold.scope_agencies:
        scope &= Q(agency_id__in=[int(a) for a in hold.scope_agencies])
    if hold.scope_legal_basis:
        scope &= Q(legal_basis__icontains=hold.scope_legal_basis)
    return _HoldWindow(effective_to=effective_to, lifted=lifted, scope=scope)


def _hold_entry(
    hold: JurisdictionHold, tally: Tally, *, period: Period, cutoff: datetime
) -> dict[str, Any]:
    """The report's entry for a hold; ``tally``: the requests it covered (``_hold_window``)."""
    window = _hold_window(hold, period=period, cutoff=cutoff)
    return {
        "id": hold.pk,
        "jurisdiction": hold.jurisdiction_id,
        "effective_from": _iso(hold.effective_from),
        "effective_to": _iso(window.effective_to),
        "lifted": window.lifted,
        # Recorded after the period (a hold placed later with effect from a moment within it):
        # it could not have held anything at the time.
        "recorded_at": _iso(hold.created_at),
        "recorded_after_period": hold.created_at >= period.end,
        "received_from_start": hold.received_from_start,
        "reason": hold.reason,
        # Only when the hold has one: a report recomputed for a hold without it keeps the bytes
        # (and the digest) it was published with, so no correction lists a change that isn't.
        **({"reason_zh_hant": hold.reason_zh_hant} if hold.reason_zh_hant else {}),
        "scope": {
            "kinds": sorted(hold.scope_kinds),
            "offences": sorted(hold.scope_offences),
            "agencies": sorted(int(a) for a in hold.scope_agencies),
            "legal_basis": hold.scope_legal_basis,
        },
        "exceptions": {
            "emergency": hold.allow_emergency,
            "offences": sorted(hold.allow_offences),
        },
        # Requests received while the hold was in force during the period, and what became of
        # them by the cut-off: data is produced only through the hold's exceptions.
        "requests_received": tally.requests.requests,
        "held_requests": tally.held,
        "data_produced": tally.requests.data_produced,
        "pending_on_hold": tally.pending_on_hold,
    }


def report_compute(*, period: Period, now: datetime) -> dict[str, Any]:
    """The report body for ``period``: every number, per jurisdiction and in total.

    The cut-off is the end of the period, or ``now`` for a period that has not ended. The body
    is plain JSON (no floats), deterministic for a given history, and is what a published
    version freezes and signs.
    """
    with _tuned_for_reporting():
        return _report_compute(period=period, cutoff=min(period.end, now))


@contextmanager
def _tuned_for_reporting() -> Iterator[None]:
    """On PostgreSQL, no JIT for the report's queries: the planner prices the correlated
    look-ups far above their real cost, and compiling them takes longer than running them."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
        yield


def _report_compute(*, period: Period, cutoff: datetime) -> dict[str, Any]:
    complete = cutoff >= period.end
    bands = national_security_bands()
    holds = _holds_in_period(period, cutoff)
    held_jurisdictions = {hold.jurisdiction_id for hold in holds}
    # A hold's requests (received by the cut-off) are among the period's: one classification
    # counts both.
    scopes = {hold.pk: _hold_window(hold, period=period, cutoff=cutoff).scope for hold in holds}
    tallies, by_hold = _tallies(
        received_from=period.start,
        received_before=min(period.end, cutoff),
        cutoff=cutoff,
        held_jurisdictions=held_jurisdictions,
        bands=bands,
        scopes=scopes,
        keep=complete,
    )
    _count_notices(tallies, period=period, cutoff=cutoff, bands=bands, keep=complete)
    hold_entries: dict[str, list[dict[str, Any]]] = {}
    for hold in holds:
        hold_entries.setdefault(hold.jurisdiction_id, []).append(
            _hold_entry(hold, by_hold[hold.pk], period=period, cutoff=cutoff)
        )
    codes = sorted(set(tallies) | set(hold_entries))
    names = dict(Jurisdiction.objects.filter(code__in=codes).values_list("code", "name"))
    total = Tally()
    jurisdictions = []
    for code in codes:
        tally = tallies.get(code, Tally())
        total.merge(tally)
        jurisdictions.append(
            {
                "code": code,
                "name": names.get(code, code),
                **tally.as_dict(band_width=bands.get(code)),
                "holds": hold_entries.get(code, []),
            }
        )
    # The total must not be finer than the coarsest band it contains.
    banded_total = max(bands.values()) if bands else None
    return {
        "format": REPORT_FORMAT,
        "counting_rules": COUNTING_RULES_VERSION,
        "period": period.label,
        "period_start": _iso(period.start),
        "period_end": _iso(period.end),
        "as_of": _iso(cutoff),
        "complete": complete,
        "national_security_bands": dict(sorted(bands.items())),
        # govreq accepts demands for stored data only; real-time interception is out of scope.
        "real_time_access_requests": 0,
        "total": {
            "code": "ALL",
            "name": "All jurisdictions",
            **total.as_dict(band_width=banded_total),
            "holds": [],
        },
        "jurisdictions": jurisdictions,
    }
