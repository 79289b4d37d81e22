"""The automated legitimacy checks. Each is a pure function of the facts and the policy.

No ORM, no clock, no I/O: ``review.facts`` gathers everything a check may look at into a frozen
``RequestFacts``; each check returns one ``Finding`` with a stable code, an outcome and a message
written for the reviewer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.utils.translation import gettext_noop as _

from govreq.policy.document import PolicyDocument
from govreq.review import document_match as match
from govreq.review.wording import (
    AGENCY_STATUSES,
    CATEGORIES,
    CHANNELS,
    FIELDS,
    KINDS,
    OFFENCES,
    TARGET_TYPES,
    Say,
    as_typed,
    coded,
    english,
    english_phrase,
    phrases,
    place,
    words,
)

PASS, INFO, WARN, BLOCK = "PASS", "INFO", "WARN", "BLOCK"
SEVERITY = {PASS: 0, INFO: 1, WARN: 2, BLOCK: 3}
ALL_CATEGORIES = frozenset({"BASIC_SUBSCRIBER", "IP_LOGS", "TRANSACTIONAL", "CONTENT", "LOCATION"})
KINDS_WITHOUT_DOCUMENT = frozenset({"EMERGENCY", "PRESERVATION"})
_PROCESS_ORDER = ("SUBPOENA", "COURT_ORDER", "SEARCH_WARRANT", "MLAT")


@dataclass(frozen=True, kw_only=True)
class HoldFact:
    id: int
    jurisdiction: str
    effective_from: date
    reason: str
    excepted: bool  # the request may proceed under the hold's exception (with HR approval)
    reason_zh_hant: str = ""


@dataclass(frozen=True, kw_only=True)
class DuplicateFact:
    reference: str
    public_id: str
    received_on: date
    overlapping: tuple[str, ...]  # "TYPE:value" of the shared targets


@dataclass(frozen=True, kw_only=True)
class CallBackFact:
    """A call-back staff made to the agency on a verified number (oldest first)."""

    outcome: str  # CONFIRMED, NOT_CONFIRMED, NO_ANSWER
    called_on: date
    phone: str
    directory: str


@dataclass(frozen=True, kw_only=True)
class RequesterFact:
    """Who sent the request and how, against the officer's own past (for REQUESTER_RISK)."""

    officer_created_on: date
    # The officer's newest API token (not revoked before receipt) when the request came through
    # the API: the token a request used is not recorded, and a fresh one is the same warning.
    token_created_on: date | None
    channel: str  # API, PORTAL, STAFF
    # The officer's requests received before this one, counted by channel.
    earlier_by_channel: Mapping[str, int] = field(default_factory=dict)
    agency_flags: int = 0  # fraud flags on the agency within the policy's window
    agency_latest_flag_on: date | None = None
    officer_flags: int = 0  # fraud flags on this officer, ever


@dataclass(frozen=True, kw_only=True)
class DocumentTextFact:
    """One attached document and the text read from it (``read`` False: not read yet)."""

    name: str
    read: bool
    method: str = ""
    text: str = ""
    note: str = ""
    failed: bool = False


@dataclass(frozen=True, kw_only=True)
class RequestFacts:
    jurisdiction: str
    agency_name: str
    agency_status: str
    kind: str
    offence_category: str
    legal_basis: str
    narrative: str
    data_categories: frozenset[str]
    data_from: date | None
    data_to: date | None
    received_on: date
    target_count: int
    document_count: int
    gag_order: bool
    gag_legal_basis: str
    gag_expires_on: date | None
    emergency_danger: str
    emergency_why_now: str
    holds: tuple[HoldFact, ...] = ()
    duplicates: tuple[DuplicateFact, ...] = ()
    call_backs: tuple[CallBackFact, ...] = ()
    requester: RequesterFact | None = None
    # What the request says, for DOCUMENT_MISMATCH, and what its documents say.
    agency_case_number: str = ""
    issuing_authority: str = ""
    targets: tuple[tuple[str, str], ...] = ()  # (type, normalised value)
    documents: tuple[DocumentTextFact, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Finding:
    code: str
    outcome: str
    message: str  # in English: the record, the API, the CLI
    details: dict[str, Any] = field(default_factory=dict)
    # The same, as sentences a reader's language can be put in (``review.wording``).
    said: tuple[Say, ...] = field(default=(), compare=False)


def finding(code: str, outcome: str, *said: Say, details: dict[str, Any] | None = None) -> Finding:
    return Finding(
        code=code, outcome=outcome, message=english(said), said=said, details=details or {}
    )


Check = Callable[[RequestFacts, PolicyDocument], Finding]


def jurisdiction_hold(facts: RequestFacts, policy: PolicyDocument) -> Finding:
    code = "JURISDICTION_HOLD"
    holding = [h for h in facts.holds if not h.excepted]
    if holding:
        hold = holding[0]
        return finding(
            code,
            BLOCK,
            Say(
                _("Hold #%(id)s on %(place)s (in force since %(since)s) covers this request:"),
                {
                    "id": hold.id,
                    "place": place(hold.jurisdiction),
                    "since": f"{hold.effective_from:%Y-%m-%d}",
                },
            ),
            as_typed(hold.reason, zh_hant=hold.reason_zh_hant),
            Say(_("No decision, approval or disclosure is possible while it is in force.")),
            details={"holds": [h.id for h in holding]},
        )
    excepting = [h for h in facts.holds if h.excepted]
    if excepting:
        hold = excepting[0]
        return finding(
            code,
            WARN,
            Say(
                _(
                    "Hold #%(id)s on %(place)s is in force, but lets this request proceed under "
                    "its exception; disclosure also needs a human-rights officer's approval."
                ),
                {"id": hold.id, "place": place(hold.jurisdiction)},
            ),
            details={"excepted_by": [h.id for h in excepting], "human_rights_approval": True},
        )
    return finding(code, PASS, Say(_("No hold covers this request.")))


def agency_not_verified(facts: RequestFacts, policy: PolicyDocument) -> Finding:
    code = "AGENCY_NOT_VERIFIED"
    if facts.agency_status != "VERIFIED":
        return finding(
            code,
            BLOCK,
            Say(
                _("%(agency)s is %(status)s, not verified."),
                {
                    "agency": facts.agency_name,
                    "status": coded(AGENCY_STATUSES, facts.agency_status),
                },
            ),
            Say(
                _(
                    "Verify it independently (a call-back to a number from an official "
                    "directory, never one given in the request) before disclosing anything."
                )
            ),
        )
    return finding(code, PASS, Say(_("%(agency)s is verified."), {"agency": facts.agency_name}))


def no_legal_document(facts: RequestFacts, policy: PolicyDocument) -> Finding:
    code = "NO_LEGAL_DOCUMENT"
    if facts.kind in KINDS_WITHOUT_DOCUMENT:
        return finding(
            code,
            INFO,
            Say(_("%(kind)s needs no attached legal document."), {"kind": _kind(facts.kind)}),
        )
    if facts.document_count == 0:
        return finding(
            code,
            BLOCK,
            Say(
                _("No legal document is attached; ask the agency to attach %(kind)s, signed."),
                {"kind": _kind(facts.kind)},
            ),
        )
    return finding(
        code,
        PASS,
        Say(_("%(n)s legal document(s) attached."), {"n": facts.document_count}),
    )


def compellable(facts: RequestFacts, policy: PolicyDocument) -> tuple[frozenset[str], str]:
    """What this kind of process can compel in this jurisdiction, and the table it came from."""
    table_name = facts.jurisdiction if facts.jurisdiction in policy.process else "default"
    table = policy.process[table_name]
    allowed = frozenset(str(c) for c in table.get(facts.kind, []))  # type: ignore[call-overload]
    agreement = policy.cross_border_agreements.get(facts.jurisdiction)
    if agreement is not None and facts.kind in {str(k) for k in agreement.kinds}:
        allowed |= {str(c) for c in agreement.adds}
    return allowed, table_name


def process_insufficient(facts: RequestFacts, policy: PolicyDocument) -> Finding:
    code = "PROCESS_INSUFFICIENT"
    allowed, table_name = compellable(facts, policy)
    excess = sorted(facts.data_categories - allowed)
    where = {"kind": _kind(facts.kind), "place": place(facts.jurisdiction)}
    if not excess:
        return finding(
            code,
            PASS,
            Say(_("Under %(place)s law, %(kind)s can compel everything asked for."), where),
        )
    # Name the weakest process that would reach the excess, so the letter to the agency can say.
    needed = ""
    for kind in _PROCESS_ORDER:
        reach, _unused = compellable(_with_kind(facts, kind), policy)
        if set(excess) <= reach:
            needed = kind
            break
    said = [
        Say(
            _(
                "Under %(place)s law, %(kind)s can compel only %(allowed)s; it cannot compel "
                "%(excess)s."
            ),
            {**where, "allowed": _categories(sorted(allowed)), "excess": _categories(excess)},
        )
    ]
    if needed:
        said.append(
            Say(
                _("%(excess)s needs %(kind)s."),
                {"excess": _categories(excess), "kind": _kind(needed)},
            )
        )
    agreement = policy.cross_border_agreements.get(facts.jurisdiction)
    if facts.jurisdiction != "US" and agreement is None and {"CONTENT", "LOCATION"} & set(excess):
        said.append(Say(_("Outside the US, content and location are reached through MLAT.")))
    return finding(
        code,
        BLOCK,
        *said,
        details={"excess": excess, "allowed": sorted(allowed), "table": table_name},
    )


def overbroad(facts: RequestFacts, policy: PolicyDocument) -> Finding:
    code = "OVERBROAD"
    limits = policy.thresholds
    problems: list[Say] = []
    if facts.target_count > limits.max_accounts:
        problems.append(
            Say(
                _(
                    "it names %(n)s accounts (more than %(max)s); ask which accounts the facts "
                    "tie to the offence"
                ),
                {"n": facts.target_count, "max": limits.max_accounts},
            )
        )
    if facts.data_from and facts.data_to:
        days = (facts.data_to - facts.data_from).days + 1
        if days > limits.max_range_days:
            problems.append(
                Say(
                    _(
                        "it covers %(n)s days of data (more than %(max)s); ask for the period "
                        "the investigation needs"
                    ),
                    {"n": days, "max": limits.max_range_days},
                )
            )
    if facts.data_categories >= ALL_CATEGORIES:
        problems.append(Say(_("it asks for every category of data; ask which ones are needed")))
    if problems:
        return finding(
            code,
            WARN,
            Say(_("The request may be overbroad: %(problems)s."), {"problems": phrases(problems)}),
            details={"problems": len(problems)},
        )
    return finding(code, PASS, Say(_("The request is narrowly drawn.")))


def emergency_unsupported(facts: RequestFacts, policy: PolicyDocument) -> Finding:
    code = "EMERGENCY_UNSUPPORTED"
    if facts.kind != "EMERGENCY":
        return finding(code, PASS, Say(_("Not an emergency request.")))
    missing: list[Say] = []
    danger = facts.emergency_danger.strip()
    if not _substantial(danger) or not _mentions(danger, policy.emergency_danger_keywords):
        missing.append(Say(_("a danger of death or serious physical injury")))
    if not _substantial(facts.emergency_why_now):
        missing.append(Say(_("why disclosure cannot wait for legal process")))
    if missing:
        return finding(
            code,
            BLOCK,
            Say(
                _(
                    "An emergency disclosure needs a good-faith belief in an imminent danger; "
                    "the request does not describe %(missing)s."
                ),
                {"missing": phrases(missing)},
            ),
            Say(
                _(
                    "Ask the agency, and check the request really comes from the agency (fake "
                    "emergency requests from hijacked police mailboxes are common)."
                )
            ),
        )
    return finding(
        code, PASS, Say(_("The request describes a danger to life or limb and why it cannot wait."))
    )


def call_back(facts: RequestFacts, policy: PolicyDocument) -> Finding:
    """Is this really that agency? For an emergency, only a call-back to a number from the
    agency's verified contacts answers it. The latest call-back that reached someone decides."""
    code = "CALL_BACK"
    reached = [c for c in facts.call_backs if c.outcome != "NO_ANSWER"]
    latest = reached[-1] if reached else None
    required = facts.kind in policy.trust.callback_required_kinds
    if latest is not None:
        called = {
            "phone": latest.phone,
            "directory": latest.directory,
            "day": f"{latest.called_on:%Y-%m-%d}",
        }
        if latest.outcome == "NOT_CONFIRMED":
            return finding(
                code,
                BLOCK,
                Say(
                    _(
                        "The agency did not confirm this request when called back on %(phone)s "
                        "(%(directory)s) on %(day)s: treat it as a possible fake request."
                    ),
                    called,
                ),
                Say(_("Nothing may be disclosed.")),
                details={"phone": latest.phone},
            )
        return finding(
            code,
            PASS,
            Say(_("Confirmed by a call-back to %(phone)s (%(directory)s) on %(day)s."), called),
            details={"phone": latest.phone},
        )
    if not required:
        return finding(code, PASS, Say(_("No call-back is needed for this kind.")))
    if facts.call_backs:
        return finding(
            code,
            WARN,
            Say(
                _(
                    "No answer on %(phone)s yet: call the agency again on a verified number; "
                    "nothing can be approved until it confirms the request."
                ),
                {"phone": facts.call_backs[-1].phone},
            ),
        )
    return finding(
        code,
        WARN,
        Say(
            _(
                "Call the agency back on a number from its verified contacts (never one from the "
                "request or its e-mail) and record whether it confirms sending this request; "
                "nothing can be approved before it does."
            )
        ),
    )


def requester_risk(facts: RequestFacts, policy: PolicyDocument) -> Finding:
    """Is the requester who they seem? The signals of a fake request: a new officer account or
    API token, an officer whose first request is an emergency, urgency words, a channel the
    officer does not usually use, fraud flags on the agency or on the officer.

    One check that lists every signal, not one check each: no signal alone says much (a real
    new officer can have a real emergency), their number does, so the outcome depends on all of
    them together. One or more is a WARN; ``trust.signals_to_block`` or more, or any fraud flag
    on this officer, is a BLOCK that only a CONFIRMED call-back clears (to a WARN that says so):
    the call-back to a verified number answers "is this really that agency?" directly.
    """
    code = "REQUESTER_RISK"
    trust = policy.trust
    signals: dict[str, list[Say]] = {}
    requester = facts.requester
    if requester is not None:
        new: list[Say] = []
        officer_days = (facts.received_on - requester.officer_created_on).days
        if officer_days < trust.new_officer_days:
            new.append(
                Say(_("officer account created %(n)s days before the request"), {"n": officer_days})
            )
        if requester.token_created_on is not None:
            token_days = (facts.received_on - requester.token_created_on).days
            if token_days < trust.new_officer_days:
                new.append(
                    Say(_("API token created %(n)s days before the request"), {"n": token_days})
                )
        if new:
            signals["NEW_CREDENTIALS"] = new
        earlier = sum(requester.earlier_by_channel.values())
        if facts.kind == "EMERGENCY" and earlier == 0:
            signals["FIRST_REQUEST_EMERGENCY"] = [Say(_("first request is an emergency"))]
        usual = _usual_channel(requester.earlier_by_channel, trust.usual_channel_min_requests)
        if usual is not None and requester.channel != usual:
            signals["UNUSUAL_CHANNEL"] = [
                Say(
                    _(
                        "sent through %(channel)s, while %(n)s of the officer's %(earlier)s "
                        "earlier requests came through %(usual)s"
                    ),
                    {
                        "channel": coded(CHANNELS, requester.channel),
                        "n": requester.earlier_by_channel[usual],
                        "earlier": earlier,
                        "usual": coded(CHANNELS, usual),
                    },
                )
            ]
        if requester.agency_flags:
            latest = requester.agency_latest_flag_on
            counted = {"n": requester.agency_flags, "days": trust.fraud_flag_window_days}
            signals["AGENCY_FRAUD_FLAGS"] = [
                Say(
                    _(
                        "%(n)s fraud flag(s) on the agency in the last %(days)s days "
                        "(latest %(day)s)"
                    ),
                    {**counted, "day": f"{latest:%Y-%m-%d}"},
                )
                if latest
                else Say(_("%(n)s fraud flag(s) on the agency in the last %(days)s days"), counted)
            ]
        if requester.officer_flags:
            signals["OFFICER_FRAUD_FLAGS"] = [
                Say(_("%(n)s fraud flag(s) on this officer"), {"n": requester.officer_flags})
            ]
    found = urgency_words(
        "\n".join((facts.narrative, facts.emergency_danger, facts.emergency_why_now)),
        trust.urgency_keywords,
    )
    if found:
        signals["URGENCY_WORDS"] = [
            Say(_("urgency words: %(words)s"), {"words": ", ".join(repr(w) for w in found)})
        ]
    if not signals:
        return finding(code, PASS, Say(_("No risk signal on the requester.")))
    reasons = {"reasons": phrases(s for said in signals.values() for s in said)}
    details: dict[str, Any] = {"signals": sorted(signals), "urgency_words": found}
    blocking = len(signals) >= trust.signals_to_block or "OFFICER_FRAUD_FLAGS" in signals
    if not blocking:
        return finding(
            code,
            WARN,
            Say(_("Risk signals on the requester: %(reasons)s."), reasons),
            Say(_("Make sure it is really the agency.")),
            details=details,
        )
    reached = [c for c in facts.call_backs if c.outcome != "NO_ANSWER"]
    if reached and reached[-1].outcome == "CONFIRMED":
        confirmed = reached[-1]
        details["cleared_by_call_back"] = confirmed.called_on.isoformat()
        return finding(
            code,
            WARN,
            Say(_("Risk signals on the requester: %(reasons)s."), reasons),
            Say(
                _("Cleared by the call-back to %(phone)s on %(day)s, which confirmed the request."),
                {"phone": confirmed.phone, "day": f"{confirmed.called_on:%Y-%m-%d}"},
            ),
            details=details,
        )
    return finding(
        code,
        BLOCK,
        Say(_("Risk signals on the requester: %(reasons)s."), reasons),
        Say(
            _(
                "This is the pattern of a fake request: call the agency back on a number from "
                "its verified contacts; only a confirmed call-back clears this."
            )
        ),
        details=details,
    )


def urgency_words(text: str, keywords: list[str]) -> list[str]:
    """The keywords found in ``text``, in the policy's order: English (ASCII) ones as whole
    words, case-insensitively, any spacing between the words of a phrase; Chinese ones as
    substrings (Chinese has no spaces between words)."""
    lowered = text.casefold()
    found: list[str] = []
    for keyword in keywords:
        needle = keyword.casefold().strip()
        if not needle:
            continue
        if needle.isascii():
            pattern = r"\s+".join(re.escape(part) for part in needle.split())
            if re.search(rf"(?<![\w-]){pattern}(?![\w-])", lowered):
                found.append(keyword)
        elif needle in lowered:
            found.append(keyword)
    return found


def _usual_channel(by_channel: Mapping[str, int], minimum: int) -> str | None:
    """The channel most of the officer's earlier requests came through, once there are at
    least ``minimum`` of them (fewer say nothing about a habit)."""
    total = sum(by_channel.values())
    if total < minimum:
        return None
    channel, count = max(by_channel.items(), key=lambda item: (item[1], item[0]))
    return channel if count * 2 > total else None


def gag_order_review(facts: RequestFacts, policy: PolicyDocument) -> Finding:
    code = "GAG_ORDER_REVIEW"
    if not facts.gag_order:
        return finding(code, PASS, Say(_("No non-disclosure order: notify the user.")))
    problems: list[Say] = []
    if facts.gag_expires_on is None:
        problems.append(Say(_("it has no expiry")))
    elif (facts.gag_expires_on - facts.received_on).days > policy.thresholds.max_gag_days:
        problems.append(
            Say(
                _("it runs %(n)s days, more than %(max)s"),
                {
                    "n": (facts.gag_expires_on - facts.received_on).days,
                    "max": policy.thresholds.max_gag_days,
                },
            )
        )
    if not facts.gag_legal_basis.strip():
        problems.append(Say(_("it states no legal basis")))
    if problems:
        return finding(
            code,
            WARN,
            Say(
                _("Review the non-disclosure order before accepting it: %(problems)s."),
                {"problems": phrases(problems)},
            ),
            Say(_("Consider asking for it to be narrowed or challenging it.")),
        )
    return finding(
        code,
        INFO,
        Say(
            _("Non-disclosure order until %(day)s: notify the user after it."),
            {"day": f"{facts.gag_expires_on}"},
        ),
    )


def human_rights_risk(facts: RequestFacts, policy: PolicyDocument) -> Finding:
    code = "HUMAN_RIGHTS_RISK"
    rules = policy.human_rights
    reasons: list[Say] = []
    if facts.offence_category in {str(o) for o in rules.offences}:
        reasons.append(
            Say(
                _("the offence category is %(offence)s"),
                {"offence": coded(OFFENCES, facts.offence_category)},
            )
        )
    matched = sorted(
        {
            keyword
            for keywords in rules.keywords.values()
            for keyword in keywords
            if _mentions(facts.narrative, [keyword])
        }
    )
    if matched:
        reasons.append(
            Say(
                _("the narrative mentions %(words)s"),
                {"words": ", ".join(repr(m) for m in matched[:8])},
            )
        )
    if facts.jurisdiction in rules.high_risk_jurisdictions:
        reasons.append(
            Say(_("%(place)s is marked high-risk"), {"place": place(facts.jurisdiction)})
        )
    if reasons:
        return finding(
            code,
            WARN,
            Say(_("Human-rights risk: %(reasons)s."), {"reasons": phrases(reasons)}),
            Say(_("Escalate to the human-rights officer; no disclosure without their approval.")),
            details={"escalation_required": True, "keywords": matched},
        )
    return finding(code, PASS, Say(_("No human-rights risk indicator found.")))


def duplicate(facts: RequestFacts, policy: PolicyDocument) -> Finding:
    code = "DUPLICATE"
    if facts.duplicates:
        listed = [
            Say(
                _("%(reference)s (%(day)s: %(accounts)s)"),
                {
                    "reference": d.reference,
                    "day": f"{d.received_on:%Y-%m-%d}",
                    "accounts": phrases(_account(o) for o in d.overlapping[:3]),
                },
            )
            for d in facts.duplicates[:5]
        ]
        return finding(
            code,
            WARN,
            Say(
                _("The agency asked about the same accounts within %(days)s days: %(listed)s."),
                {"days": policy.thresholds.duplicate_window_days, "listed": phrases(listed)},
            ),
            details={
                "requests": [
                    {"reference": d.reference, "id": d.public_id} for d in facts.duplicates
                ]
            },
        )
    return finding(code, PASS, Say(_("No recent request names the same accounts.")))


def _account(typed_value: str) -> Say:
    """``TYPE:value`` (as ``DuplicateFact.overlapping`` holds it) as words: "username @x"."""
    target_type, _sep, value = typed_value.partition(":")
    return Say(_("%(type)s %(value)s"), {"type": coded(TARGET_TYPES, target_type), "value": value})


def document_mismatch(facts: RequestFacts, policy: PolicyDocument) -> Finding:
    """Does the signed document say what the typed request says? The case number, the issuing
    authority, every account named, the document's dates against the receipt, and the kind of
    process, compared with the text read from the documents (English and Chinese). Each
    difference is named with its evidence; a WARN, since a document read by a machine can
    miss what a person sees."""
    code = "DOCUMENT_MISMATCH"
    if not facts.documents:
        return finding(code, PASS, Say(_("No document to compare the request with.")))
    unread = [d.name for d in facts.documents if not d.read]
    readable = [d for d in facts.documents if d.read and d.text.strip()]
    if not readable:
        if unread:
            return finding(
                code,
                INFO,
                Say(
                    _(
                        "The text of %(names)s has not been read yet; the request will be "
                        "compared with it once it is."
                    ),
                    {"names": ", ".join(unread)},
                ),
                details={"unread": unread},
            )
        notes = [
            Say(_("%(name)s: %(note)s"), {"name": d.name, "note": d.note})
            if d.note
            else Say(_("%(name)s: no text"), {"name": d.name})
            for d in facts.documents
        ]
        return finding(
            code,
            INFO,
            Say(
                _(
                    "No readable text in the attached document(s), so the request could not be "
                    "compared with them (%(notes)s)."
                ),
                {"notes": phrases(notes)},
            ),
            Say(_("Compare them by eye.")),
            details={"unreadable": [d.name for d in facts.documents]},
        )
    text = "\n".join(d.text for d in readable)
    mismatches: list[dict[str, str]] = []
    evidence_said: list[Say] = []

    def differs(field_name: str, typed: str, evidence: Say, *, show_typed: bool = True) -> None:
        mismatches.append(
            {"field": field_name, "typed": typed, "evidence": english_phrase(evidence)}
        )
        named = {"field": coded(FIELDS, field_name.split(".")[0]), "evidence": phrases([evidence])}
        evidence_said.append(
            Say(_("%(field)s %(typed)s: %(evidence)s"), {**named, "typed": repr(typed)})
            if show_typed
            else Say(_("%(field)s: %(evidence)s"), named)
        )

    if facts.agency_case_number.strip() and not match.case_number_found(
        facts.agency_case_number, text
    ):
        written = match.case_numbers_in(text)
        differs(
            "agency_case_number",
            facts.agency_case_number,
            Say(
                _("the document gives case number %(written)s"),
                {"written": ", ".join(repr(w) for w in written)},
            )
            if written
            else Say(_("the document does not give this case number")),
        )
    if facts.issuing_authority.strip() and not match.authority_found(facts.issuing_authority, text):
        differs(
            "issuing_authority", facts.issuing_authority, Say(_("the document does not name it"))
        )
    for target_type, value in facts.targets:
        if not match.target_found(target_type, value, text, region=facts.jurisdiction):
            differs(
                f"targets.{target_type}", value, Say(_("the document does not name this account"))
            )
    # A day's slack each way: the receipt's date is in UTC, the document's in its own zone.
    received = {"day": f"{facts.received_on:%Y-%m-%d}"}
    for found in match.labelled_dates(text):
        if found.label == "issued" and found.on > facts.received_on + timedelta(days=1):
            differs(
                "issued_on",
                f"received {facts.received_on:%Y-%m-%d}",
                Say(
                    _("the document is dated after it was received on %(day)s: %(evidence)s"),
                    {**received, "evidence": repr(found.evidence)},
                ),
                show_typed=False,
            )
        elif found.label == "expires" and found.on < facts.received_on - timedelta(days=1):
            differs(
                "expires_on",
                f"received {facts.received_on:%Y-%m-%d}",
                Say(
                    _("the document had expired when it was received on %(day)s: %(evidence)s"),
                    {**received, "evidence": repr(found.evidence)},
                ),
                show_typed=False,
            )
    if match.kind_named(facts.kind, text) is False:
        differs(
            "kind",
            KINDS.get(facts.kind, facts.kind),
            Say(_("the document does not call itself %(kind)s"), {"kind": _kind(facts.kind)}),
            show_typed=False,
        )
    pending = [Say(_("(%(names)s not read yet)"), {"names": ", ".join(unread)})] if unread else []
    if mismatches:
        return finding(
            code,
            WARN,
            Say(
                _("The document does not say what the request says: %(listed)s."),
                {"listed": phrases(evidence_said)},
            ),
            *pending,
            Say(
                _(
                    "A fake or altered request often disagrees with its own document; compare "
                    "them before relying on either."
                )
            ),
            details={"mismatches": mismatches, "unread": unread},
        )
    return finding(
        code,
        PASS,
        Say(_("The document agrees with the request.")),
        *pending,
        details={"unread": unread} if unread else {},
    )


def _categories(codes: list[str]) -> dict[str, Any]:
    return words(CATEGORIES.get(c, c.replace("_", " ").lower()) for c in codes)


CHECKS: tuple[Check, ...] = (
    jurisdiction_hold,
    agency_not_verified,
    no_legal_document,
    process_insufficient,
    overbroad,
    emergency_unsupported,
    call_back,
    requester_risk,
    gag_order_review,
    human_rights_risk,
    duplicate,
    document_mismatch,
)


def run_checks(facts: RequestFacts, policy: PolicyDocument) -> list[Finding]:
    return [check(facts, policy) for check in CHECKS]


def worst(findings: list[Finding]) -> str:
    return max((f.outcome for f in findings), key=SEVERITY.__getitem__, default=PASS)


def needs_human_rights_approval(findings: list[Finding]) -> bool:
    return any(
        f.details.get("escalation_required") or f.details.get("human_rights_approval")
        for f in findings
        if f.outcome != PASS
    )


def _substantial(text: str) -> bool:
    """More than a token phrase: 20 characters, or 8 in Chinese/Japanese, which packs a sentence
    into far fewer characters."""
    stripped = text.strip()
    cjk = any("\u3000" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" for ch in stripped)
    return len(stripped) >= (8 if cjk else 20)


def _mentions(text: str, words: list[str]) -> bool:
    lowered = text.casefold()
    for word in words:
        needle = word.casefold()
        if needle.isascii():
            # Whole words (plural allowed): "press" must not match "pressure".
            if re.search(rf"(?<![\w-]){re.escape(needle)}(?:s|es)?(?![\w-])", lowered):
                return True
        elif needle in lowered:  # CJK text has no spaces between words
            return True
    return False


def _kind(kind: str) -> dict[str, Any]:
    return coded(KINDS, kind)


def _with_kind(facts: RequestFacts, kind: str) -> RequestFacts:
    from dataclasses import replace

    return replace(facts, kind=kind)
