"""Plain words for the console: every stored code a person would otherwise read (statuses,
kinds, categories, outcomes, approval kinds, check names, audit actions) as its label in the
viewer's language. The models' own labels are English only and shared with the API; these are
the console's, marked for translation (the portal keeps its own the same way).

``tests/console/test_plain_words.py`` fails when a model gains a choice with no label here."""

from __future__ import annotations

import re
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from govreq.review import wording

LABELS: dict[str, dict[str, Promise]] = {
    # intake.RequestKind
    "kind": {
        "SUBPOENA": _("Subpoena"),
        "COURT_ORDER": _("Court order"),
        "SEARCH_WARRANT": _("Search warrant"),
        "EMERGENCY": _("Emergency disclosure request"),
        "PRESERVATION": _("Preservation request"),
        "MLAT": _("MLAT / letters rogatory"),
        "OTHER": _("Other"),
    },
    # intake.OffenceCategory
    "offence": {
        "CHILD_SAFETY": _("Child safety"),
        "TERRORISM": _("Terrorism"),
        "VIOLENT_CRIME": _("Violent crime"),
        "HUMAN_TRAFFICKING": _("Human trafficking"),
        "FRAUD": _("Fraud"),
        "CYBERCRIME": _("Cybercrime"),
        "NATIONAL_SECURITY": _("National security"),
        "PUBLIC_ORDER": _("Public order"),
        "DEFAMATION": _("Defamation"),
        "OTHER": _("Other"),
    },
    # intake.DataCategory
    "category": {
        "BASIC_SUBSCRIBER": _("Basic subscriber information"),
        "IP_LOGS": _("IP address logs"),
        "TRANSACTIONAL": _("Transactional (non-content) records"),
        "CONTENT": _("Stored content"),
        "LOCATION": _("Location history"),
    },
    # intake.RequestStatus
    "status": {
        "RECEIVED": _("Received"),
        "IN_REVIEW": _("In review"),
        "NEEDS_CLARIFICATION": _("Needs clarification"),
        "ESCALATED": _("Escalated to human-rights review"),
        "DECIDED": _("Decided, awaiting approval"),
        "APPROVED": _("Approved"),
        "PRODUCED": _("Produced, awaiting download"),
        "DELIVERED": _("Delivered"),
        "PRESERVED": _("Preserved"),
        "CLOSED": _("Closed"),
        "ON_HOLD": _("On hold"),
        "WITHDRAWN": _("Withdrawn"),
        "REJECTED": _("Rejected"),
    },
    # intake.Channel
    "channel": {
        "API": _("API"),
        "PORTAL": _("Agency portal"),
        "STAFF": _("Keyed in by staff"),
    },
    # intake.TargetType
    "target": {
        "USERNAME": _("Username"),
        "USER_ID": _("User id"),
        "EMAIL": _("E-mail address"),
        "PHONE": _("Phone number"),
        "IP_ADDRESS": _("IP address"),
        "URL": _("URL"),
    },
    # intake.TargetMatch
    "target_match": {
        "ONE": _("Matches one account"),
        "NONE": _("No such account"),
        "SEVERAL": _("Several accounts match: none will be disclosed"),
        "UNKNOWN": _("The data source cannot look this up"),
    },
    # review.CheckOutcome
    "outcome": {
        "PASS": _("Pass"),
        "INFO": _("Information"),
        "WARN": _("Warning"),
        "BLOCK": _("Blocks disclosure"),
    },
    # review.CheckTrigger
    "trigger": {
        "INTAKE": _("Request received"),
        "DOCUMENT_ADDED": _("Document added"),
        "HOLD_PLACED": _("Hold placed"),
        "HOLD_LIFTED": _("Hold lifted"),
        "POLICY_CHANGED": _("Policy changed"),
        "CLARIFICATION_ANSWERED": _("Clarification answered"),
        "MANUAL": _("Run by staff"),
        "DECISION": _("Before a decision or approval"),
        "AGENCY_CHANGED": _("Agency verified or suspended"),
        "CALL_BACK": _("Call-back recorded"),
        # On main since this branch began (the extracted document text): labelled ahead.
        "DOCUMENT_READ": _("Document text read"),
    },
    # review.DecisionOutcome
    "decision": {
        "FULL": _("Disclose in full"),
        "PARTIAL": _("Disclose in part"),
        "REJECTED": _("Reject"),
        "NO_DATA": _("No data found"),
        "PRESERVE": _("Preserve (disclose nothing)"),
    },
    # review.RejectionReason
    "rejection": {
        "INVALID_PROCESS": _("Invalid or insufficient legal process"),
        "OVERBROAD": _("Overbroad"),
        "JURISDICTION_HOLD": _("Jurisdiction hold"),
        "HUMAN_RIGHTS": _("Human-rights concerns"),
        "NO_SUCH_ACCOUNT": _("No such account"),
        "OTHER": _("Other"),
    },
    # review.ApprovalKind
    "approval": {
        "STANDARD": _("Approval"),
        "HUMAN_RIGHTS": _("Human-rights officer's approval"),
    },
    # review.CallBackOutcome
    "call_back": {
        "CONFIRMED": _("Confirmed: the agency sent this request"),
        "NOT_CONFIRMED": _("Not confirmed: the agency knows nothing of it"),
        "NO_ANSWER": _("No answer"),
    },
    # review.AssessmentConclusion
    "assessment": {
        "NO_SIGNIFICANT_RISK": _("No significant human-rights risk"),
        "RISK_MITIGATED": _("Risk acceptable under the conditions stated"),
    },
    # agencies.AgencyKind
    "agency_kind": {
        "POLICE": _("Police"),
        "PROSECUTOR": _("Prosecutor"),
        "COURT": _("Court"),
        "REGULATOR": _("Regulator"),
        "INTELLIGENCE": _("Intelligence service"),
        "OTHER": _("Other"),
    },
    # agencies.AgencyStatus
    "agency_status": {
        "PENDING": _("Pending verification"),
        "VERIFIED": _("Verified"),
        "SUSPENDED": _("Suspended"),
    },
    # agencies.OfficerStatus
    "officer_status": {
        "ACTIVE": _("Active"),
        "SUSPENDED": _("Suspended"),
    },
    # agencies.AccessRequestStatus
    "access": {
        "PENDING": _("Pending"),
        "APPROVED": _("Approved"),
        "REFUSED": _("Refused"),
    },
    # agencies.ContactKind
    "contact": {
        "SWITCHBOARD": _("Switchboard"),
        "DUTY_OFFICE": _("Duty office (24 hours)"),
        "LIAISON": _("Liaison unit"),
    },
    # agencies.FraudFlagKind
    "fraud": {
        "CALLBACK_NOT_CONFIRMED": _("The agency did not confirm the request"),
        "FOLLOW_UP_MISSED": _("No legal process followed an emergency disclosure"),
        "LOOKALIKE": _("Look-alike of a verified agency"),
        "OTHER": _("Other"),
    },
    # disclosure.ProductionPurpose
    "purpose": {
        "DISCLOSURE": _("Disclosure to the agency"),
        "PRESERVATION": _("Preservation snapshot"),
    },
    # disclosure.ProductionStatus
    "production": {
        "PENDING": _("Waiting to be collected"),
        "COLLECTING": _("Being collected"),
        "FAILED": _("Collection failed (can be retried)"),
        "OUT_OF_SCOPE": _("Refused: outside the approved scope"),
        "READY": _("Collected and within scope"),
        "RELEASED": _("Released, awaiting download"),
        "DELIVERED": _("Delivered"),
        "PURGED": _("Package purged (manifest kept)"),
    },
    # holds.ReReviewResolution
    "re_review": {
        "CONFIRMED": _("Approval confirmed"),
        "RETURNED": _("Returned to review"),
        "VOIDED": _("Hold voided"),
    },
    # holds.HoldChangeKind
    "hold_change": {
        "PLACE": _("Place a hold"),
        "LIFT": _("Lift a hold"),
        "VOID": _("Void a hold"),
    },
    # holds.HoldChangeState
    "hold_change_state": {
        "PENDING": _("Waiting for a second policy admin"),
        "CONFIRMED": _("Confirmed"),
        "CANCELLED": _("Cancelled"),
    },
    # notices.NoticeStatus
    "notice": {
        "DUE": _("Due"),
        "DELAYED": _("Delayed"),
        "SENT": _("Sent"),
        "NOT_POSSIBLE": _("Not possible (no contact address)"),
    },
    # notices.DelayReason
    "delay": {
        "GAG_ORDER": _("Non-disclosure order in force"),
        "EMERGENCY": _("Emergency disclosure"),
        "CHILD_SAFETY": _("Child-safety case"),
        "AGENCY_REQUEST": _("Asked by the agency, accepted by a reviewer"),
    },
    # notices.ExtensionStatus
    "extension": {
        "PENDING": _("Waiting for review"),
        "ACCEPTED": _("Accepted"),
        "REFUSED": _("Refused"),
    },
    # accounts.StaffRole
    "role": {
        "INTAKE": _("Intake"),
        "REVIEWER": _("Reviewer"),
        "APPROVER": _("Approver"),
        "HUMAN_RIGHTS_OFFICER": _("Human-rights officer"),
        "POLICY_ADMIN": _("Policy administrator"),
        "AUDITOR": _("Auditor"),
    },
}


def label(value: Any, group: str) -> str:
    """The label of ``value`` in ``group``; a code no group knows is shown as it is (it is
    data, not a choice: e.g. a free-text reason)."""
    if value is None or value == "":
        return ""
    return str(LABELS.get(group, {}).get(str(value), value))


def label_choices(group: str, choices: Any) -> list[tuple[str, Promise]]:
    """A form field's choices in the model's order, with the console's labels."""
    return [(code, LABELS[group][code]) for code in choices.values]


# Each check named as a statement whose answer is yes when it passes: "Agency verified: yes"
# (the check's code names the problem, which read as a contradiction next to "PASS").
CHECK_NAMES: dict[str, Promise] = {
    "JURISDICTION_HOLD": _("Free of any jurisdiction hold"),
    "AGENCY_NOT_VERIFIED": _("Agency verified"),
    "NO_LEGAL_DOCUMENT": _("Legal document attached"),
    "PROCESS_INSUFFICIENT": _("Legal process strong enough for the data asked"),
    "OVERBROAD": _("Narrowly drawn"),
    "EMERGENCY_UNSUPPORTED": _("Emergency justified (or not an emergency)"),
    "CALL_BACK": _("Confirmed by a call-back (where one is needed)"),
    "REQUESTER_RISK": _("Free of risk signals on the requester"),
    "GAG_ORDER_REVIEW": _("User can be told (no non-disclosure order in the way)"),
    "HUMAN_RIGHTS_RISK": _("Free of human-rights risk indicators"),
    "DUPLICATE": _("Not a repeat of a recent request"),
    "DOCUMENT_MISMATCH": _("Legal document agrees with the request"),
}

# What a reviewer does about a check that did not pass.
CHECK_ADVICE: dict[str, Promise] = {
    "JURISDICTION_HOLD": _(
        "Wait for the hold to end, or reject the request because of the hold; "
        "an excepted request needs the human-rights officer's approval."
    ),
    "AGENCY_NOT_VERIFIED": _(
        "Verify the agency on its page from an official directory before any disclosure."
    ),
    "NO_LEGAL_DOCUMENT": _("Ask the agency for the legal document."),
    "PROCESS_INSUFFICIENT": _(
        "Disclose only the data this kind of process allows, or ask the agency for stronger "
        "process."
    ),
    "OVERBROAD": _(
        "Narrow the accounts, categories or dates in the decision, or ask the agency to."
    ),
    "EMERGENCY_UNSUPPORTED": _(
        "Ask the agency what the danger is and why it cannot wait for ordinary process."
    ),
    "CALL_BACK": _(
        "Call the agency on a verified number (not one from the request) and record the answer."
    ),
    "REQUESTER_RISK": _("Weigh the risk signals; escalate to human-rights review if they matter."),
    "GAG_ORDER_REVIEW": _("Check the order's legal basis and end date: the user notice waits."),
    "HUMAN_RIGHTS_RISK": _(
        "Escalate: the human-rights officer assesses the risk before any disclosure."
    ),
    "DUPLICATE": _("Compare with the earlier requests linked below before deciding."),
    "DOCUMENT_MISMATCH": _(
        "Read the document beside the request: ask the agency about each difference before "
        "any disclosure (a fake or altered request often disagrees with its own attachment)."
    ),
}

YES, NO = _("yes"), _("no")


def check_name(code: str) -> str:
    return str(CHECK_NAMES.get(code, code))


def check_answer(outcome: str) -> str:
    return str(YES if outcome == "PASS" else NO)


def check_advice(code: str) -> str:
    return str(CHECK_ADVICE.get(code, ""))


def finding_message(result: Any) -> str:
    """What a check found, in the viewer's language: its stored sentences
    (``review.wording``), translated from the review layer's catalogue; the English message
    for a result stored before the sentences were kept."""
    said = getattr(result, "said", None)
    if not said:
        return str(result.message)
    return wording.said_text(said, language=get_language() or "en", translate=gettext)


# Audit events as sentences: "<who> <did what> <to what>". Every action the code records.
AUDIT_VERBS: dict[str, Promise] = {
    "access.approved": _("approved the access request"),
    "access.refused": _("refused the access request"),
    "access.requested": _("asked for portal access"),
    "agency.added": _("added the agency"),
    "agency.contact_added": _("added a verified number to"),
    "agency.contact_retired": _("retired a verified number of"),
    "agency.domain_added": _("added a mail domain to"),
    "agency.fraud_flagged": _("flagged possible fraud by"),
    "agency.officer_totp_required": _("changed the officers' second factor for"),
    "agency.reverified": _("verified again"),
    "agency.suspended": _("suspended"),
    "agency.verified": _("verified"),
    "approval.given": _("approved the disclosure of"),
    "audit.exported": _("exported the audit trail"),
    "auth.second_factor_enrolled": _("enrolled an authenticator"),
    "auth.sign_in_failed": _("failed to sign in to the console"),
    "auth.signed_in": _("signed in to the console"),
    "auth.signed_out": _("signed out of the console"),
    "checks.ran": _("ran the checks on"),
    "clarification.answered": _("answered the question on"),
    "clarification.asked": _("asked the agency a question on"),
    "decision.made": _("decided"),
    "delivery.other_means": _("recorded a delivery by other means of"),
    "document.attached": _("attached a document to"),
    "document.downloaded": _("downloaded a document of"),
    "document.viewed": _("read a document of"),
    "document.read": _("extracted the text of a document of"),
    "gag.extension_accepted": _("decided on a new non-disclosure order of"),
    "gag.extension_filed": _("filed a new non-disclosure order on"),
    "hold.change_confirmed": _("confirmed a hold change"),
    "hold.change_proposed": _("proposed a hold change"),
    "hold.lifted": _("lifted"),
    "hold.placed": _("placed"),
    "hold.re_review_flagged": _("flagged for re-review"),
    "hold.re_review_resolved": _("recorded the re-review of"),
    "hold.started": _("put in force"),
    "hold.voided": _("voided"),
    "notice.delay_ended": _("ended the delay of the user notice on"),
    "notice.delayed": _("delayed the user notice on"),
    "notice.sent": _("sent the user notice on"),
    "officer.added": _("added the officer"),
    "officer.authenticator_reset": _("reset the authenticator of"),
    "officer.suspended": _("suspended the officer"),
    "package.downloaded": _("downloaded the package of"),
    "policy.changed": _("changed the review policy"),
    "portal.second_factor_enrolled": _("enrolled an authenticator on the portal"),
    "portal.sign_in_code_accepted": _("used a portal sign-in code"),
    "portal.sign_in_code_sent": _("was sent a portal sign-in code"),
    "portal.sign_in_failed": _("failed to sign in to the portal"),
    "portal.signed_in": _("signed in to the portal"),
    "portal.sign_in_unlocked": _("lifted a portal sign-in lockout"),
    "portal.signed_out": _("signed out of the portal"),
    "preservation.extended": _("extended the preservation of"),
    "production.collected": _("collected the data for"),
    "production.failed": _("failed to collect the data for"),
    "production.opened": _("opened the package of"),
    "production.purged": _("purged the package of"),
    "production.released": _("released the package of"),
    "report.published": _("published a transparency report"),
    "request.assigned": _("assigned"),
    "request.called_back": _("recorded a call-back on"),
    "request.deadline_alert": _("sent a deadline reminder on"),
    "request.follow_up_due": _("noted the legal process owed for"),
    "request.follow_up_received": _("linked the legal process that followed"),
    "request.received": _("received"),
    "request.status_changed": _("changed the status of"),
    "request.targets_matched": _("looked up the named accounts of"),
    "staff.added": _("added the staff member"),
    "staff.language_set": _("chose the language of their e-mails"),
    "staff.time_zone_set": _("chose a time zone"),
    "synthetic.generated": _("generated demo history"),
    "task.retried": _("retried a background task"),
    "token.issued": _("issued an API token"),
    "token.revoked": _("revoked an API token"),
}

ACTOR_KINDS: dict[str, Promise] = {
    "SYSTEM": _("The system"),
    "USER": _("A staff member"),
    "OFFICER": _("An officer"),
}


def audit_verb(action: str) -> str:
    return str(AUDIT_VERBS.get(action, _("recorded an event on")))


# The fixed reasons the system writes on a status change (stored in English, the record's
# language), shown in the viewer's language; a reason a person typed is shown as typed.
HISTORY_REASONS: dict[str, Promise] = {
    "Review started": _("Review started"),
    "Clarification requested": _("Clarification requested"),
    "Agency answered": _("Agency answered"),
    "All required approvals given": _("All required approvals given"),
    "Snapshot sealed": _("Snapshot sealed"),
    "Package released to the agency": _("Package released to the agency"),
    "Package downloaded by the agency": _("Package downloaded by the agency"),
    "Delivered; the download period ended": _("Delivered; the download period ended"),
    "The package expired undelivered": _("The package expired undelivered"),
    "Closed after delivery": _("Closed after delivery"),
    "Preservation period ended; the snapshot was deleted": _(
        "Preservation period ended; the snapshot was deleted"
    ),
}


def history_reason(text: str) -> str:
    if text in HISTORY_REASONS:
        return str(HISTORY_REASONS[text])
    if text.startswith("Decision: "):
        code = text.removeprefix("Decision: ")
        return str(_("Decision: %(outcome)s") % {"outcome": label(code, "decision")})
    return text


# The confidence reasons the agencies layer writes (in English, shared with the API), shown in
# the viewer's language: each pattern with its translation; anything else is shown as written.
FLAG_WORDS: dict[str, Promise] = {
    "a call-back did not confirm a request": _("a call-back did not confirm a request"),
    "no legal process followed an emergency disclosure in time": _(
        "no legal process followed an emergency disclosure in time"
    ),
    "a domain imitated a verified agency": _("a domain imitated a verified agency"),
    "a fraud flag": _("a fraud flag"),
}
CONFIDENCE_REASONS: tuple[tuple[str, Promise], ...] = (
    (r"Verified on (?P<day>[\d-]+): (?P<method>.+)", _("Verified on %(day)s: %(method)s")),
    (r"Verified on (?P<day>[\d-]+)", _("Verified on %(day)s")),
    (
        r"Re-verification overdue since (?P<day>[\d-]+) \(every (?P<n>\d+) days\)",
        _("Re-verification overdue since %(day)s (every %(n)s days)"),
    ),
    (r"Suspended", _("Suspended")),
    (r"Not verified yet", _("Not verified yet")),
    (
        r"(?P<n>\d+) verified contact number\(s\) for call-backs",
        _("%(n)s verified contact number(s) for call-backs"),
    ),
    (
        r"No verified contact number: no call-back possible",
        _("No verified contact number: no call-back possible"),
    ),
    (r"(?P<n>\d+) request\(s\) answered so far", _("%(n)s request(s) answered so far")),
    (r"The agency's confidence: (?P<n>\d+)", _("The agency's confidence: %(n)s")),
    (
        r"Officer account created (?P<n>\d+) day\(s\) ago \(under (?P<m>\d+)\)",
        _("Officer account created %(n)s day(s) ago (under %(m)s)"),
    ),
    (
        r"Fraud flag on (?P<day>[\d-]+): (?P<what>.+?)(?P<about> \(.+\))?",
        _("Fraud flag on %(day)s: %(what)s%(about)s"),
    ),
)


def confidence_reason(text: str) -> str:
    for pattern, words in CONFIDENCE_REASONS:
        match = re.fullmatch(pattern, text)
        if match:
            parts = {k: v or "" for k, v in match.groupdict().items()}
            if "what" in parts:
                parts["what"] = str(FLAG_WORDS.get(parts["what"], parts["what"]))
            return str(words) % parts
    return text


# Words the core layer writes for the console (govreq.core.durations: time left on a deadline),
# listed here so the console's catalogue carries their translations.
CORE_WORDS = (
    _("%(days)d d %(hours)d h"),
    _("%(hours)d h %(minutes)d min"),
    _("%(minutes)d min"),
    _("overdue by %(span)s"),
    _("in %(span)s"),
)


# Why the rules refuse something now, by the refusal's code (the services' own messages are
# written for the API and the log, in English).
REFUSALS: dict[str, Promise] = {
    "on_hold": _("A hold is in force: no decision, approval or disclosure until it ends."),
    "re_review_required": _("Approved after a hold took effect: the re-review comes first."),
    "four_eyes": _("Another person must approve: nobody approves their own decision."),
    "no_decision": _("There is no decision to act on."),
    "callback_required": _("The agency has not confirmed this emergency on a verified number."),
    "blocked_by_checks": _("A check blocks disclosure: see the checks and what to do."),
    "escalation_required": _(
        "The human-rights risk needs an escalation first: only an escalated request may "
        "be disclosed."
    ),
    "illegal_transition": _("Not possible in the request's present state."),
    "request_closed": _("The request is closed."),
    "already_decided": _("This was decided already."),
    "hold_change_pending": _("A change to this hold is already waiting for confirmation."),
    "data_source_unavailable": _(
        "The platform's records cannot be reached: the data source is not configured or is "
        "not answering. Try again later or ask an administrator."
    ),
    "delivery_required": _(
        "Nothing has been delivered yet: release the package for the agency to download, or "
        "record a delivery by other means with its evidence."
    ),
    "out_of_scope": _(
        "The package holds data outside the approved decision: it cannot be released."
    ),
    "notice_pending": _(
        "Account holders have not been told yet: notices go out before disclosure (the worker "
        "sends them within a minute)."
    ),
    "nothing_to_release": _(
        "No approved account was found on the platform, so there is nothing to release: send "
        "the request back to review and decide that no data was found."
    ),
    "nothing_to_collect": _("Only an approved request (or one decided to preserve) is collected."),
    "production_exists": _("The records for this decision are already collected."),
    "already_extended": _("A preservation is extended only once."),
    "extension_not_later": _(
        "The non-disclosure order in force already runs beyond this extension: refuse it instead."
    ),
    "gag_ended": _("The non-disclosure order has ended: an extension had to come before it ended."),
    "no_gag_order": _("The request has no non-disclosure order."),
    "duplicate_document": _("This document is already attached to the request."),
    "already_answered": _("This question was already answered."),
    "agency_suspended": _("The agency is suspended."),
    "agency_not_verified": _("The agency is not verified: verify it first."),
    "nothing_to_approve": _("There is no disclosure decision awaiting approval."),
}


def refusal(code: str) -> str:
    return str(REFUSALS.get(code, REFUSALS["illegal_transition"]))


# Codes the services use for more than one refusal ("four_eyes": your own decision, your own
# verified number, an approval given already; "callback_required" for any kind the policy
# names): their own message says which.
SEVERAL_MEANINGS = frozenset({"four_eyes", "callback_required"})


def refused(error: Any) -> str:
    """Why a service refused, in the viewer's language: the sentence for its code; for a code
    without one, the service's own message (written in English, for the API and the log)."""
    code = getattr(error, "code", "")
    if code in REFUSALS and code not in SEVERAL_MEANINGS:
        return str(REFUSALS[code])
    return str(_("Refused: %(message)s") % {"message": error.message})
