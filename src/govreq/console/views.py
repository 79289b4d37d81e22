"""The staff console: sign-in, queue, case page, holds, agencies, audit.

Views translate forms to services and back. Roles, holds and four-eyes are enforced by the
services; the views only decide which buttons to show.
"""

from __future__ import annotations

import csv
import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from datetime import time as dtime
from typing import Any

from django import forms as django_forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Max, Q
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST
from django_tasks_db.models import DBTaskResult

from govreq.accounts.models import StaffRole, User
from govreq.accounts.services import staff_language_set, staff_time_zone_set
from govreq.agencies import selectors as agency_selectors
from govreq.agencies import services as agency_services
from govreq.agencies.models import AccessRequest, AccessRequestStatus, Agency, AgencyContact
from govreq.agencies.second_factor import agency_officer_totp_set
from govreq.audit.models import AuditEvent
from govreq.audit.selectors import audit_chain_verify
from govreq.audit.services import audit_record_standalone
from govreq.console import labels as words
from govreq.console import otp, throttle, zones
from govreq.console.auth import (
    PENDING_USER,
    SECOND_FACTOR,
    mark_reauth,
    reauth_fresh,
    safe_next,
    staff_page,
)
from govreq.console.forms import (
    OUTCOME_FIELDS,
    AccessDecisionForm,
    ApprovalForm,
    AuditFilterForm,
    CallBackForm,
    ContactForm,
    DecisionForm,
    FollowUpForm,
    GagExtensionDecisionForm,
    HoldChangeConfirmForm,
    HoldChangeReasonForm,
    HoldForm,
    NoticeDelayForm,
    OtherDeliveryForm,
    PreferencesForm,
    QuestionForm,
    QueueFilterForm,
    ReasonForm,
    ReleaseForm,
    ReReviewForm,
    SecondFactorForm,
    SignInForm,
    VerifyAgencyForm,
)
from govreq.core.actors import Actor
from govreq.core.durations import time_left_words
from govreq.core.errors import DomainError, NotFound, ValidationFailed
from govreq.core.keyset import Key, KeysetList, keyset_page
from govreq.disclosure.models import Production
from govreq.disclosure.selectors import (
    manifest_summary,
    production_for_decision,
    productions_of,
)
from govreq.holds import selectors as hold_selectors
from govreq.holds.models import HoldChange, HoldChangeState
from govreq.intake import selectors as intake_selectors
from govreq.intake.documents import download_content_type, download_name
from govreq.intake.models import (
    FINAL_STATUSES,
    OPEN_STATUSES,
    Document,
    LegalRequest,
    RequestStatus,
)
from govreq.intake.services import document_open
from govreq.lifecycle import (
    disclosing,
    guards,
    holding,
    matching,
    notifying,
    rechecking,
    reviewing,
    trusting,
)
from govreq.notices.models import (
    DelayReason,
    ExtensionStatus,
    GagExtension,
    NoticeStatus,
    UserNotice,
)
from govreq.notices.selectors import gag_extensions_of, notices_of
from govreq.review import services as review
from govreq.review.confidence import agency_confidence_now, officer_confidence_now
from govreq.review.deadlines import clock_at
from govreq.review.models import DISCLOSING_OUTCOMES, CallBack, Decision, FollowUpObligation
from govreq.review.selectors import (
    Inbox,
    inbox_counts,
    inbox_filter,
    inboxes_for,
    queue_counts,
    request_queue,
    request_queue_keyset,
    review_record,
)
from govreq.transparency.services import reports_correct_for_hold
from govreq.worker.models import JobRun
from govreq.worker.runner import task_retry

S = RequestStatus
PAGE_SIZE = 25


def _now() -> datetime:
    return timezone.now()


def _actor(request: HttpRequest) -> Actor:
    """The staff actor set by @staff_page."""
    actor: Actor = getattr(request, "actor")  # noqa: B009 - set dynamically by the decorator
    return actor


def _legal(request_id: str) -> LegalRequest:
    try:
        return intake_selectors.request_get(public_id=request_id)
    except NotFound:
        raise Http404 from None


def _hold(hold_id: int) -> Any:
    try:
        return hold_selectors.hold_get(hold_id)
    except NotFound:
        raise Http404 from None


# --- sign-in -------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    form = SignInForm(request.POST or None)
    client = request.META.get("REMOTE_ADDR", "")
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].strip().lower()
        if throttle.sign_in_blocked(account=email, client=client, now=_now()):
            form.add_error(None, _("Too many attempts. Wait 15 minutes and try again."))
            return render(
                request,
                "console/sign_in.html",
                {"form": form, "next": safe_next(request, "")},
                status=429,
            )
        user = authenticate(request, username=email, password=form.cleaned_data["password"])
        if user is not None and user.is_active:
            request.session.cycle_key()
            request.session[PENDING_USER] = user.pk
            target = "console:verify" if otp.has_second_factor(user) else "console:enrol"  # type: ignore[arg-type]
            return redirect(
                f"{reverse(target)}?next={safe_next(request, reverse('console:queue'))}"
            )
        audit_record_standalone(
            actor=Actor.system("console"),
            action="auth.sign_in_failed",
            object_type="user",
            object_id=email,
            data={"step": "password", "ip": client},
            now=_now(),
        )
        throttle.sign_in_failed(account=email, client=client, now=_now())
        form.add_error(None, _("The e-mail address or password is not right."))
    if request.session.pop("govreq_idle_logout", False):
        messages.info(request, _("You were signed out after a period of inactivity."))
    return render(request, "console/sign_in.html", {"form": form, "next": safe_next(request, "")})


def _pending_user(request: HttpRequest) -> User | None:
    pk = request.session.get(PENDING_USER)
    return User.objects.filter(pk=pk, is_active=True).first() if pk else None


def _complete_sign_in(request: HttpRequest, user: User) -> HttpResponse:
    request.session.pop(PENDING_USER, None)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    request.session[SECOND_FACTOR] = True
    mark_reauth(request)
    if not user.language:  # e-mails in the language of their first sign-in, until they choose
        staff_language_set(
            actor=Actor.for_user(user),
            language=translation.get_language() or settings.LANGUAGE_CODE,
            now=_now(),
        )
    audit_record_standalone(
        actor=Actor.for_user(user),
        action="auth.signed_in",
        object_type="user",
        object_id=user.pk,
        data={"ip": request.META.get("REMOTE_ADDR", "")},
        now=_now(),
    )
    return redirect(safe_next(request, reverse("console:queue")))


@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    user = _pending_user(request)
    if user is None:
        return redirect("console:sign-in")
    form = SecondFactorForm(request.POST or None)
    client = request.META.get("REMOTE_ADDR", "")
    if request.method == "POST" and form.is_valid():
        if throttle.sign_in_blocked(account=user.email, client=client, now=_now()):
            form.add_error("code", _("Too many attempts. Wait 15 minutes and try again."))
            return render(
                request,
                "console/verify.html",
                {"form": form, "next": safe_next(request, "")},
                status=429,
            )
        if otp.second_factor_verify(user=user, code=form.cleaned_data["code"], now=_now()):
            throttle.sign_in_succeeded(account=user.email)
            return _complete_sign_in(request, user)
        audit_record_standalone(
            actor=Actor.for_user(user),
            action="auth.sign_in_failed",
            object_type="user",
            object_id=user.pk,
            data={"step": "second_factor", "ip": client},
            now=_now(),
        )
        throttle.sign_in_failed(account=user.email, client=client, now=_now())
        form.add_error("code", _("That code is not valid."))
    return render(request, "console/verify.html", {"form": form, "next": safe_next(request, "")})


@require_http_methods(["GET", "POST"])
def enrol(request: HttpRequest) -> HttpResponse:
    """First sign-in: set up an authenticator before anything else."""
    import io

    import segno

    user = _pending_user(request)
    if user is None or otp.has_second_factor(user):
        return redirect("console:sign-in")
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = otp.totp_confirm(user=user, code=form.cleaned_data["code"], now=_now())
        if codes:
            response = _complete_sign_in(request, user)
            return render(
                request,
                "console/recovery_codes.html",
                {"codes": codes, "next": response["Location"]},
            )
        form.add_error("code", _("That code is not valid; check your device's clock."))
        secret_uri = request.session.get("govreq_enrol_uri", "")
        secret = request.session.get("govreq_enrol_secret", "")
    else:
        enrolment = otp.totp_enrol_start(user=user, now=_now())
        secret_uri, secret = enrolment.uri, enrolment.secret_base32
        request.session["govreq_enrol_uri"] = secret_uri
        request.session["govreq_enrol_secret"] = secret
    buffer = io.BytesIO()
    segno.make(secret_uri, error="m").save(buffer, kind="svg", scale=5, xmldecl=False, svgns=True)
    return render(
        request,
        "console/enrol.html",
        {
            "form": form,
            "secret": secret,
            "qr_svg": buffer.getvalue().decode(),
            "next": safe_next(request, ""),
        },
    )


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        audit_record_standalone(
            actor=Actor.for_user(request.user),  # type: ignore[arg-type]
            action="auth.signed_out",
            object_type="user",
            object_id=request.user.pk,
            now=_now(),
        )
    logout(request)
    return redirect("console:sign-in")


# --- queue ---------------------------------------------------------------------------------------


def _list_binding(request: HttpRequest, name: str) -> dict[str, Any]:
    """What a list's cursor is bound to: the list, its filters (every query parameter but the
    cursor) and the signed-in staff member (whose inboxes differ)."""
    filters = {key: sorted(request.GET.getlist(key)) for key in request.GET if key != "cursor"}
    return {"list": name, "filters": filters, "staff": request.user.pk}


INBOX_LABELS = {
    Inbox.APPROVAL: gettext_lazy("Awaiting my approval"),
    Inbox.HUMAN_RIGHTS: gettext_lazy("Awaiting human-rights review"),
    Inbox.MINE: gettext_lazy("My assigned cases"),
    Inbox.OVERDUE: gettext_lazy("Overdue"),
}


@staff_page()
def queue(request: HttpRequest) -> HttpResponse:
    now = _now()
    roles = request.roles  # type: ignore[attr-defined]
    inboxes = inboxes_for(roles)
    counts = inbox_counts(user=request.user, roles=roles, now=now)  # type: ignore[arg-type]
    inbox = next((i for i in inboxes if i.value == request.GET.get("inbox")), None)
    form = QueueFilterForm(request.GET or None)
    filters: dict[str, Any] = {
        "inbox": inbox_filter(inbox, user=request.user, roles=roles, now=now)  # type: ignore[arg-type]
        if inbox is not None
        else None
    }
    if form.is_valid():
        data = form.cleaned_data
        deadline = data.get("due_before")
        filters = {
            "statuses": data.get("status") or None,
            "jurisdiction": data.get("jurisdiction") or None,
            "kind": data.get("kind") or None,
            "due_before": datetime.combine(
                deadline, dtime.min, tzinfo=timezone.get_current_timezone()
            )
            if deadline
            else None,
            "assigned_to": request.user if data.get("mine") else None,
            "inbox": filters["inbox"],
            "order": data.get("order") or "urgency",
        }
    try:
        page = keyset_page(
            request_queue_keyset(**filters),
            cursor=request.GET.get("cursor"),
            page_size=PAGE_SIZE,
            binding=_list_binding(request, "console.queue"),
        )
    except ValidationFailed as refused:
        return HttpResponseBadRequest(refused.message)
    statuses = filters.get("statuses") or []
    # Open requests are few: counting them is cheap; a closed status is the whole history.
    total = (
        request_queue(**filters).count()
        if set(statuses) <= {str(s) for s in OPEN_STATUSES}
        else None
    )
    clocks = [(r, clock_at(status=r["status"], respond_by=r["respond_by"], now=now)) for r in page]
    rows = [(r, clock, time_left_words(clock.left)) for r, clock in clocks]
    return render(
        request,
        "console/queue.html",
        {
            "form": form,
            "page": page,
            "total": total,
            "rows": rows,
            "counts": sorted(queue_counts().items()),
            "inboxes": [(i.value, INBOX_LABELS[i], counts[i]) for i in inboxes],
            "inbox": inbox.value if inbox else "",
            "now": now,
        },
    )


@staff_page()
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    """The signed-in staff member's own settings: the time zone every page shows times in."""
    user = request.user
    form = PreferencesForm(
        request.POST or None,
        initial={"time_zone": user.time_zone, "language": user.language or "en"},  # type: ignore[union-attr]
    )
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                staff_time_zone_set(
                    actor=_actor(request), zone=form.cleaned_data["time_zone"], now=_now()
                )
                if form.cleaned_data["language"]:
                    staff_language_set(
                        actor=_actor(request), language=form.cleaned_data["language"], now=_now()
                    )
        except ValidationFailed as refused:
            form.add_error(refused.errors[0].field if refused.errors else None, refused.message)
        else:
            request.session[zones.CHOSEN] = True
            messages.success(request, _("Saved."))
            return redirect("console:preferences")
    return render(
        request, "console/preferences.html", {"form": form}, status=422 if form.errors else 200
    )


@staff_page()
@require_POST
def time_zone_detect(request: HttpRequest) -> JsonResponse:
    """The browser's zone, posted once by console/zone.js, for someone who never chose one (a
    zone chosen in the preferences is never overwritten). Recorded like a choice."""
    user = request.user
    form = PreferencesForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"changed": False, "errors": form.errors.get_json_data()}, status=422)
    if zones.zone_chosen(request, user):  # type: ignore[arg-type]
        return JsonResponse({"changed": False})
    staff_time_zone_set(actor=_actor(request), zone=form.cleaned_data["time_zone"], now=_now())
    request.session[zones.CHOSEN] = True
    return JsonResponse({"changed": True})


# --- case page -----------------------------------------------------------------------------------


def _available(request: HttpRequest, legal: LegalRequest, record: Any) -> dict[str, bool]:
    """Which actions to offer: what the roles allow in this state. The services decide."""
    roles = request.roles  # type: ignore[attr-defined]
    status = legal.status
    held = status == S.ON_HOLD or any(not h.excepted for h in record.holds)
    current = next((d for d in record.decisions if d.superseded_at is None), None)
    reviewer = StaffRole.REVIEWER in roles
    approver = bool(roles & {StaffRole.APPROVER, StaffRole.HUMAN_RIGHTS_OFFICER})
    decided_by_me = current is not None and current.decided_by_id == request.user.pk
    already = current is not None and any(
        a.approver_id == request.user.pk for a in current.approvals.all()
    )
    production = production_for_decision(current) if current is not None else None
    # A re-review flag open: nothing is released, delivered or closed until it is resolved.
    flagged = any(f.resolved_at is None for f in record.re_reviews)
    return {
        "re_review": reviewer and flagged,
        # A held request may still be rejected because of the hold (JURISDICTION_HOLD).
        "reject_for_hold": reviewer
        and status == S.ON_HOLD
        and legal.status_before_hold
        in (S.RECEIVED, S.IN_REVIEW, S.NEEDS_CLARIFICATION, S.ESCALATED, S.DECIDED),
        "start_review": status == S.RECEIVED
        and bool(roles & {StaffRole.REVIEWER, StaffRole.INTAKE}),
        "assign_me": reviewer
        and status not in FINAL_STATUSES
        and legal.assigned_to_id != request.user.pk,
        "clarify": reviewer and status == S.IN_REVIEW,
        "escalate": reviewer and status == S.IN_REVIEW,
        "decide": reviewer and not held and status in (S.IN_REVIEW, S.ESCALATED),
        "approve": approver
        and not held
        and status == S.DECIDED
        and current is not None
        and current.outcome in DISCLOSING_OUTCOMES
        and not decided_by_me
        and not already,
        "return_to_review": bool(
            roles & {StaffRole.REVIEWER, StaffRole.APPROVER, StaffRole.HUMAN_RIGHTS_OFFICER}
        )
        and status in (S.ESCALATED, S.DECIDED, S.APPROVED),
        "close": reviewer and not held and not flagged and status in (S.DELIVERED, S.PRESERVED),
        "collect": reviewer
        and (
            (status == S.APPROVED and (production is None or production.status == "FAILED"))
            or (
                status == S.DECIDED
                and current is not None
                and current.outcome == "PRESERVE"
                and (production is None or production.status == "FAILED")
            )
        ),
        "release": reviewer
        and not held
        and not flagged
        and status == S.APPROVED
        and production is not None
        and production.status == "READY"
        and production.purpose == "DISCLOSURE",
        "deliver_other": reviewer and not held and not flagged and status == S.APPROVED,
        "rerun_checks": bool(
            roles & {StaffRole.INTAKE, StaffRole.REVIEWER, StaffRole.HUMAN_RIGHTS_OFFICER}
        )
        and status not in FINAL_STATUSES,
        "match_targets": reviewer and status not in FINAL_STATUSES,
    }


def _trust(legal: LegalRequest) -> dict[str, Any]:
    """Is this really that agency? Shown beside the request."""
    now = _now()
    return {
        "agency": agency_confidence_now(legal.agency, now=now),
        "officer": officer_confidence_now(legal.officer, now=now),
        "contacts": list(
            AgencyContact.objects.filter(agency=legal.agency, retired_at__isnull=True)
            .select_related("verified_by")
            .order_by("kind", "pk")
        ),
        "call_backs": list(
            CallBack.objects.filter(request=legal)
            .select_related("contact", "called_by")
            .order_by("called_at", "pk")
        ),
        "follow_up": FollowUpObligation.objects.filter(emergency=legal)
        .select_related("fulfilled_by")
        .first(),
        "callback_required": legal.kind == "EMERGENCY",
        "agency_history": _history(LegalRequest.objects.filter(agency_id=legal.agency_id), legal),
        "officer_history": _history(
            LegalRequest.objects.filter(officer_id=legal.officer_id), legal
        ),
    }


def _history(requests: Any, legal: LegalRequest) -> dict[str, Any]:
    """Earlier requests from the same agency (or officer): how many, how they ended, the last
    few with links."""
    earlier = requests.exclude(pk=legal.pk)
    counts = dict(earlier.values_list("status").annotate(n=Count("id")).order_by())
    return {
        "total": sum(counts.values()),
        "counts": sorted(counts.items(), key=lambda item: -item[1]),
        "recent": list(
            earlier.order_by("-received_at").only("public_id", "reference", "status", "kind")[:5]
        ),
    }


def _disclosure_refused(legal: LegalRequest) -> str:
    """Why the rules refuse a disclosing outcome now ("" when they allow it): the same service
    checks the decision itself runs (blocking checks, a human-rights risk not escalated)."""
    for rule in (review.refuse_if_blocked, review.refuse_unless_escalated):
        try:
            rule(legal)
        except DomainError as refused:
            return words.refusal(refused.code)
    return ""


def _decision_form(legal: LegalRequest, data: Any = None, **kwargs: Any) -> DecisionForm:
    refused: frozenset[str] = (
        frozenset(str(o) for o in DISCLOSING_OUTCOMES)
        if _disclosure_refused(legal)
        else frozenset()
    )
    if legal.kind == "PRESERVATION" and refused:
        refused |= {"PRESERVE"}
    form = DecisionForm(
        data,
        targets=[
            (str(t.pk), f"{words.label(t.type, 'target')}: {t.value}") for t in legal.targets.all()
        ],
        categories=list(legal.data_categories),
        preservation=legal.kind == "PRESERVATION",
        refused=refused,
        **kwargs,
    )
    # Choosing an outcome swaps in the fields it needs (htmx), keeping what they held.
    form.fields["outcome"].widget.attrs.update(
        {
            "hx-get": reverse("console:decision-fields", args=[legal.public_id]),
            "hx-target": "#decision-fields",
            "hx-include": "#decision-fields",
            "hx-trigger": "change",
            "data-testid": "decision-outcome-select",
        }
    )
    return form


def _outcome_fields(form: DecisionForm, outcome: str) -> list[Any]:
    """The bound fields the chosen outcome needs beyond the rationale and the letter."""
    return [form[name] for name in OUTCOME_FIELDS.get(outcome, ())]


ACTION_NAMES = {
    "decide": gettext_lazy("Decide"),
    "approve": gettext_lazy("Approve"),
    "release": gettext_lazy("Release to the agency"),
    "close": gettext_lazy("Close"),
}


def _not_offered(
    request: HttpRequest, legal: LegalRequest, record: Any, actions: dict[str, bool]
) -> list[tuple[str, str]]:
    """The main actions not offered now, each with the reason, from the same rules the services
    apply (roles, state, holds, four eyes, checks)."""
    roles = request.roles  # type: ignore[attr-defined]
    if legal.status in FINAL_STATUSES:
        return []
    held = ""
    try:
        guards.refuse_if_held(legal, _now())
    except DomainError as refused:
        held = words.refusal(refused.code)
    current = next((d for d in record.decisions if d.superseded_at is None), None)
    status = words.label(legal.status, "status")
    wrong_state = _("Not possible while the request is: %(status)s.") % {"status": status}
    reasons: list[tuple[str, str]] = []
    if not actions["decide"]:
        if StaffRole.REVIEWER not in roles:
            why = _("Only a reviewer decides.")
        elif held:
            why = held
        else:
            why = wrong_state
        reasons.append((str(ACTION_NAMES["decide"]), why))
    elif _disclosure_refused(legal):
        reasons.append((_("Disclose"), _disclosure_refused(legal)))
    if not actions["approve"] and legal.status in (S.DECIDED, S.ON_HOLD):
        if not roles & {StaffRole.APPROVER, StaffRole.HUMAN_RIGHTS_OFFICER}:
            why = _("Only an approver or the human-rights officer approves.")
        elif held:
            why = held
        elif current is None or current.outcome not in DISCLOSING_OUTCOMES:
            why = _("Only a decision to disclose needs approval.")
        elif current.decided_by_id == request.user.pk:
            why = words.refusal("four_eyes")
        else:
            why = _("You have approved this decision already.")
        reasons.append((str(ACTION_NAMES["approve"]), why))
    return reasons


CHECK_GROUP_ORDER = ("BLOCK", "WARN", "INFO", "PASS")


def _check_groups(results: list[Any]) -> list[tuple[str, list[Any]]]:
    """The checks grouped by outcome, what blocks first, what passed last."""
    order = {o: i for i, o in enumerate(CHECK_GROUP_ORDER)}
    groups: dict[str, list[Any]] = {}
    for result in results:
        groups.setdefault(result.outcome, []).append(result)
    return sorted(groups.items(), key=lambda item: order.get(item[0], len(order)))


def _case_context(request: HttpRequest, legal: LegalRequest, **forms: Any) -> dict[str, Any]:
    record = review_record(legal, now=_now())
    targets = list(legal.targets.all())
    duplicates: list[dict[str, str]] = next(
        (r.details.get("requests", []) for r in record.results if r.code == "DUPLICATE"), []
    )
    context: dict[str, Any] = {
        "legal": legal,
        "record": record,
        "check_groups": _check_groups(record.results),
        "targets": targets,
        "document_texts": intake_selectors.documents_with_text(legal),
        "duplicates": duplicates,
        "held_by": [h for h in record.holds if not h.excepted],
        "excepted_by": [h for h in record.holds if h.excepted],
        "actions": _available(request, legal, record),
        "inline_images": sorted(INLINE_TYPES - {"application/pdf"}),
        "hr_officer": StaffRole.HUMAN_RIGHTS_OFFICER in request.roles,  # type: ignore[attr-defined]
        "can_audit": bool(request.roles & {StaffRole.AUDITOR, StaffRole.POLICY_ADMIN}),  # type: ignore[attr-defined]
        "current": next((d for d in record.decisions if d.superseded_at is None), None),
        "needs_reauth": not reauth_fresh(request),
        "reason_form": forms.get("reason_form") or ReasonForm(),
        "re_review_form": ReReviewForm(),
        "question_form": forms.get("question_form") or QuestionForm(),
        "decision_form": forms.get("decision_form") or _decision_form(legal),
        "approval_form": forms.get("approval_form") or ApprovalForm(),
        "call_back_form": forms.get("call_back_form") or _call_back_form(legal),
        "follow_up_form": forms.get("follow_up_form") or FollowUpForm(),
        "trust": _trust(legal),
        "release_form": forms.get("release_form") or ReleaseForm(),
        "other_delivery_form": forms.get("other_delivery_form") or OtherDeliveryForm(),
        "productions": [
            (production, manifest_summary(production))
            for production in productions_of(legal).prefetch_related("downloads__officer")
        ],
    }
    trust = context["trust"]
    context["history_panels"] = [
        (_("The agency's earlier requests"), trust["agency_history"], "agency-history"),
        (_("The officer's earlier requests"), trust["officer_history"], "officer-history"),
    ]
    clock = clock_at(status=legal.status, respond_by=legal.respond_by, now=_now())
    context["clock"], context["clock_words"] = clock, time_left_words(clock.left)
    current = context["current"]
    if isinstance(current, Decision):
        context["missing"] = review.approvals_missing(current)
    form = context["decision_form"]
    offered = form.fields["outcome"].choices  # type: ignore[attr-defined]
    chosen = (form.data.get("outcome") if form.is_bound else None) or next(iter(offered), ("",))[0]
    context["outcome_fields"] = _outcome_fields(form, chosen)
    context["not_offered"] = _not_offered(request, legal, record, context["actions"])
    context["disclosure_refused"] = _disclosure_refused(legal)
    context.update(_notice_panel(request, legal, forms.get("notice_forms") or {}))
    return context


# The words the notices area records in a notice's history, and the languages it is sent in.
NOTICE_WORDS = {
    "due": gettext_lazy("due at once"),
    "sent": gettext_lazy("sent to the account holder"),
}
NOTICE_LANGUAGES = {"en": gettext_lazy("English"), "zh-Hant": gettext_lazy("Traditional Chinese")}


def _notice_panel(
    request: HttpRequest, legal: LegalRequest, kept: dict[str, django_forms.Form]
) -> dict[str, Any]:
    """The user-notice panel: each notice with its history, the gag extensions filed, and the
    forms a reviewer may use on them (forms refused a moment ago come back as filled in)."""
    reviewer = StaffRole.REVIEWER in request.roles  # type: ignore[attr-defined]

    def label(choices: type[NoticeStatus] | type[DelayReason], code: str) -> str:
        if code in choices.values:
            return words.label(code, "notice" if choices is NoticeStatus else "delay")
        return str(NOTICE_WORDS.get(code, code))

    notices = []
    for notice in notices_of(legal):
        delay, end = f"delay-{notice.pk}", f"end-{notice.pk}"
        notices.append(
            {
                "notice": notice,
                "events": [
                    {
                        "event": event,
                        "from": label(NoticeStatus, event.from_status),
                        "to": label(NoticeStatus, event.to_status),
                        "reason": label(DelayReason, event.reason),
                    }
                    for event in notice.events.all()
                ],
                "language": NOTICE_LANGUAGES.get(notice.language, notice.language),
                "can_delay": reviewer and notice.status == NoticeStatus.DUE,
                "can_end": reviewer
                and notice.status == NoticeStatus.DELAYED
                and notice.delay_reason != DelayReason.GAG_ORDER,
                "delay_form": kept.get(delay) or NoticeDelayForm(prefix=delay),
                "end_form": kept.get(end) or ReasonForm(prefix=end),
            }
        )
    extensions = [
        {
            "extension": extension,
            "can_decide": reviewer and extension.status == ExtensionStatus.PENDING,
            "form": kept.get(f"gag-{extension.pk}")
            or GagExtensionDecisionForm(prefix=f"gag-{extension.pk}"),
        }
        for extension in gag_extensions_of(legal)
    ]
    return {"notices": notices, "gag_extensions": extensions}


@staff_page()
def case(request: HttpRequest, request_id: str) -> HttpResponse:
    legal = _legal(request_id)
    return render(request, "console/case.html", _case_context(request, legal))


@staff_page(StaffRole.REVIEWER)
def decision_fields(request: HttpRequest, request_id: str) -> HttpResponse:
    """The decision form's fields for the outcome just chosen (htmx swaps them in), keeping
    what was already ticked or typed in them."""
    legal = _legal(request_id)
    outcome = request.GET.get("outcome", "")
    form = _decision_form(legal)
    if outcome not in dict(form.fields["outcome"].choices):  # type: ignore[attr-defined]
        return HttpResponse(
            _("Outcome: choose one of the outcomes offered."), status=422, content_type="text/plain"
        )
    initial = {
        name: request.GET.getlist(name)
        if isinstance(form.fields[name], django_forms.MultipleChoiceField)
        else request.GET.get(name)
        for name in OUTCOME_FIELDS.get(outcome, ())
        if name in request.GET
    }
    form = _decision_form(legal, initial=initial)
    return render(
        request, "console/_decision_fields.html", {"fields": _outcome_fields(form, outcome)}
    )


# One small function per case action, each calling one service. It returns None when done, or
# the message and the forms to show again when the form itself was not filled in right; the
# services refuse everything else (roles, holds, four eyes) with a DomainError.
Refusal = tuple[str, dict[str, Any]] | None
CaseAction = Callable[[HttpRequest, LegalRequest, Actor, datetime], Refusal]


def _start_review(
    request: HttpRequest, legal: LegalRequest, actor: Actor, now: datetime
) -> Refusal:
    reviewing.request_start_review(actor=actor, request=legal, now=now)
    return None


def _assign_me(request: HttpRequest, legal: LegalRequest, actor: Actor, now: datetime) -> Refusal:
    review.request_assign(actor=actor, request=legal, assignee=request.user, now=now)  # type: ignore[arg-type]
    return None


def _rerun_checks(
    request: HttpRequest, legal: LegalRequest, actor: Actor, now: datetime
) -> Refusal:
    review.checks_run_manually(actor=actor, request=legal, now=now)
    return None


def _match_targets(
    request: HttpRequest, legal: LegalRequest, actor: Actor, now: datetime
) -> Refusal:
    matching.targets_match(actor=actor, request=legal, now=now)
    return None


def _with_reason(service: Callable[..., LegalRequest]) -> CaseAction:
    """An action that only needs a reason: escalate, return to review, close."""

    def act(request: HttpRequest, legal: LegalRequest, actor: Actor, now: datetime) -> Refusal:
        reason_form = ReasonForm(request.POST)
        if not reason_form.is_valid():
            return _("Give a reason."), {"reason_form": reason_form}
        service(actor=actor, request=legal, reason=reason_form.cleaned_data["reason"], now=now)
        return None

    return act


def _clarify(request: HttpRequest, legal: LegalRequest, actor: Actor, now: datetime) -> Refusal:
    question_form = QuestionForm(request.POST)
    if not question_form.is_valid():
        return _("Write the question."), {"question_form": question_form}
    reviewing.clarification_ask(
        actor=actor, request=legal, question=question_form.cleaned_data["question"], now=now
    )
    return None


def _decide(request: HttpRequest, legal: LegalRequest, actor: Actor, now: datetime) -> Refusal:
    decision_form = _decision_form(legal, request.POST)
    if not decision_form.is_valid():
        return _("Correct the decision form."), {"decision_form": decision_form}
    data = decision_form.cleaned_data
    with _keeping_form("decision_form", decision_form):
        _decision_make(actor, legal, data, now)
    return None


def _decision_make(actor: Actor, legal: LegalRequest, data: dict[str, Any], now: datetime) -> None:
    reviewing.decision_make(
        actor=actor,
        request=legal,
        outcome=data["outcome"],
        rationale=data["rationale"],
        rejection_reasons=data["rejection_reasons"],
        approved_target_ids=[int(t) for t in data["approved_target_ids"]],
        approved_categories=data["approved_categories"],
        approved_from=data["approved_from"],
        approved_to=data["approved_to"],
        letter=data["letter"],
        now=now,
    )
    return None


def _approve(request: HttpRequest, legal: LegalRequest, actor: Actor, now: datetime) -> Refusal:
    approval_form = ApprovalForm(request.POST)
    approval_form.is_valid()
    if not reauth_fresh(request):
        code = approval_form.cleaned_data.get("code", "")
        if not code or not otp.second_factor_verify(user=request.user, code=code, now=now):  # type: ignore[arg-type]
            approval_form.add_error("code", _("Confirm with a current authenticator code."))
            return _("Re-authenticate to approve a disclosure."), {"approval_form": approval_form}
        mark_reauth(request)
    data = approval_form.cleaned_data
    assessment = {name: data.get(name) or "" for name in ApprovalForm.ASSESSMENT}
    with _keeping_form("approval_form", approval_form):
        reviewing.approval_give(
            actor=actor,
            request=legal,
            kind=data.get("kind") or None,
            note=data.get("note", ""),
            # Filled in only by the human-rights officer; the service requires it of them.
            assessment=assessment if any(assessment.values()) else None,
            now=now,
        )
    return None


def _collect(request: HttpRequest, legal: LegalRequest, actor: Actor, now: datetime) -> Refusal:
    disclosing.production_collect(actor=actor, request=legal, now=now)
    return None


def _release(request: HttpRequest, legal: LegalRequest, actor: Actor, now: datetime) -> Refusal:
    release_form = ReleaseForm(request.POST)
    if not release_form.is_valid():
        return _("Confirm that you have read the scope check and the manifest."), {
            "release_form": release_form
        }
    production = (
        Production.objects.filter(
            request=legal, public_id=request.POST.get("production", "")
        ).first()
        if _is_uuid(request.POST.get("production", ""))
        else None
    )
    if production is None:
        raise Http404
    disclosing.production_release(actor=actor, production=production, now=now)
    return None


def _deliver_other(
    request: HttpRequest, legal: LegalRequest, actor: Actor, now: datetime
) -> Refusal:
    form = OtherDeliveryForm(request.POST, request.FILES)
    if not form.is_valid():
        return _("Say how it was delivered and attach the evidence."), {"other_delivery_form": form}
    evidence = form.cleaned_data["evidence"]
    disclosing.delivery_record_other_means(
        actor=actor,
        request=legal,
        reason=form.cleaned_data["reason"],
        evidence=evidence,
        evidence_name=evidence.name or "evidence",
        now=now,
    )
    return None


class _RefusedAsFilledIn(DomainError):
    """A service's refusal, with the form as the user filled it in, to show it again."""

    def __init__(self, refused: DomainError, forms: dict[str, Any]) -> None:
        super().__init__(refused.message, code=refused.code)
        self.http_status = refused.http_status
        self.forms = forms


@contextmanager
def _keeping_form(name: str, form: django_forms.Form) -> Iterator[None]:
    """A service's refusal shows its error and the form as filled in (next to the field the
    refusal names, if any): nothing typed is lost."""
    try:
        yield
    except DomainError as refused:
        if isinstance(refused, ValidationFailed):
            for error in refused.errors:
                field = error.field.removeprefix("assessment.")
                if field not in form.fields:
                    continue
                if field == error.field:
                    form.add_error(field, error.message)
                elif field == "conditions":
                    form.add_error(field, _("A risk accepted under conditions needs them."))
                else:
                    form.add_error(field, _("Required for the human-rights approval."))
        raise _RefusedAsFilledIn(refused, {name: form}) from refused


@contextmanager
def _keeping_notice_form(form: django_forms.Form) -> Iterator[None]:
    """A refused user-notice action shows the service's error, next to its field when it names
    one, and keeps what was typed."""
    try:
        yield
    except DomainError as refused:
        if isinstance(refused, ValidationFailed):
            for error in refused.errors:
                if error.field in form.fields:
                    form.add_error(error.field, error.message)
        raise _RefusedAsFilledIn(refused, {"notice_forms": {form.prefix: form}}) from refused


def _notice_of(request: HttpRequest, legal: LegalRequest) -> UserNotice:
    notice_id = request.POST.get("notice", "")
    notice = (
        UserNotice.objects.filter(request=legal, pk=int(notice_id)).first()
        if notice_id.isdigit()
        else None
    )
    if notice is None:
        raise Http404
    return notice


def _notice_delay(
    request: HttpRequest, legal: LegalRequest, actor: Actor, now: datetime
) -> Refusal:
    notice = _notice_of(request, legal)
    form = NoticeDelayForm(request.POST, prefix=f"delay-{notice.pk}")
    if not form.is_valid():
        return _("Say why the notice waits."), {"notice_forms": {form.prefix: form}}
    until = form.cleaned_data["until"]
    with _keeping_notice_form(form):
        notifying.notice_delay(
            actor=actor,
            notice=notice,
            reason=form.cleaned_data["reason"],
            # The end of that day in the viewer's zone (the page is shown in it).
            until=datetime.combine(until, dtime.min, tzinfo=timezone.get_current_timezone())
            + timedelta(days=1)
            if until
            else None,
            now=now,
        )
    return None


def _notice_delay_end(
    request: HttpRequest, legal: LegalRequest, actor: Actor, now: datetime
) -> Refusal:
    notice = _notice_of(request, legal)
    form = ReasonForm(request.POST, prefix=f"end-{notice.pk}")
    if not form.is_valid():
        return _("Say why the delay ends."), {"notice_forms": {form.prefix: form}}
    with _keeping_notice_form(form):
        notifying.notice_delay_end(
            actor=actor, notice=notice, reason=form.cleaned_data["reason"], now=now
        )
    return None


def _gag_extension_decide(accept: bool) -> CaseAction:
    """Accept or refuse a new non-disclosure order the agency filed (a note is needed to
    refuse; the service says so)."""

    def act(request: HttpRequest, legal: LegalRequest, actor: Actor, now: datetime) -> Refusal:
        extension_id = request.POST.get("extension", "")
        extension = (
            GagExtension.objects.filter(request=legal, pk=int(extension_id)).first()
            if extension_id.isdigit()
            else None
        )
        if extension is None:
            raise Http404
        form = GagExtensionDecisionForm(request.POST, prefix=f"gag-{extension.pk}")
        form.is_valid()
        with _keeping_notice_form(form):
            notifying.gag_extension_decide(
                actor=actor,
                extension=extension,
                accept=accept,
                note=form.cleaned_data.get("note", ""),
                now=now,
            )
        return None

    return act


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _call_back_form(legal: LegalRequest, data: Any = None) -> CallBackForm:
    contacts = [
        (c.pk, f"{c.phone} — {c.get_kind_display()}, {c.directory}")
        for c in AgencyContact.objects.filter(agency=legal.agency, retired_at__isnull=True)
    ]
    return CallBackForm(data, contacts=contacts, initial={"called_at": timezone.localtime(_now())})


def _call_back(request: HttpRequest, legal: LegalRequest, actor: Actor, now: datetime) -> Refusal:
    form = _call_back_form(legal, request.POST)
    if not form.is_valid():
        return _("Say which verified number you called, when, and what the agency said."), {
            "call_back_form": form
        }
    data = form.cleaned_data
    try:
        reviewing.call_back(
            actor=actor,
            request=legal,
            contact_id=data["contact"],
            called_at=data["called_at"],
            outcome=data["outcome"],
            person_reached=data["person_reached"],
            notes=data["notes"],
            now=now,
        )
    except ValidationFailed as invalid:
        for error in invalid.errors:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        return _("The call-back was not recorded."), {"call_back_form": form}
    return None


def _follow_up(request: HttpRequest, legal: LegalRequest, actor: Actor, now: datetime) -> Refusal:
    form = FollowUpForm(request.POST)
    if not form.is_valid():
        return _("Give the follow-up request's reference."), {"follow_up_form": form}
    follow_up = intake_selectors.request_get_by_reference(form.cleaned_data["follow_up"])
    trusting.follow_up_link(actor=actor, emergency=legal, follow_up=follow_up, now=now)
    return None


CASE_ACTIONS: dict[str, CaseAction] = {
    "call_back": _call_back,
    "follow_up": _follow_up,
    "start_review": _start_review,
    "assign_me": _assign_me,
    "rerun_checks": _rerun_checks,
    "match_targets": _match_targets,
    "escalate": _with_reason(reviewing.request_escalate),
    "return_to_review": _with_reason(reviewing.request_return_to_review),
    "close": _with_reason(reviewing.request_close),
    "clarify": _clarify,
    "decide": _decide,
    "approve": _approve,
    "collect": _collect,
    "release": _release,
    "deliver_other": _deliver_other,
    "notice_delay": _notice_delay,
    "notice_delay_end": _notice_delay_end,
    "gag_extension_accept": _gag_extension_decide(accept=True),
    "gag_extension_refuse": _gag_extension_decide(accept=False),
}


@staff_page()
@require_POST
def case_action(request: HttpRequest, request_id: str, action: str) -> HttpResponse:
    act = CASE_ACTIONS.get(action)
    if act is None:
        raise Http404
    legal = _legal(request_id)
    try:
        refusal = act(request, legal, _actor(request), _now())
    except DomainError as refused:
        legal = _legal(request_id)
        messages.error(request, words.refused(refused))
        kept = refused.forms if isinstance(refused, _RefusedAsFilledIn) else {}
        return render(
            request,
            "console/case.html",
            _case_context(request, legal, **kept),
            status=refused.http_status,
        )
    if refusal is not None:
        error, forms = refusal
        messages.error(request, error)
        return render(
            request, "console/case.html", _case_context(request, legal, **forms), status=422
        )
    messages.success(request, _("Done."))
    return redirect("console:case", request_id=legal.public_id)


@staff_page()
def document_download(request: HttpRequest, document_id: int) -> FileResponse:
    document = Document.objects.select_related("request").filter(pk=document_id).first()
    if document is None:
        raise Http404
    audit_record_standalone(
        actor=_actor(request),
        action="document.downloaded",
        object_type="legal_request",
        object_id=document.request.public_id,
        data={"document": document.pk, "sha256": document.sha256},
        now=_now(),
    )
    # Named for the type it was accepted as (a .svg accepted as text downloads as .svg.txt).
    response = FileResponse(
        document_open(document),
        as_attachment=True,
        filename=download_name(document.original_name, document.media_type),
        content_type=download_content_type(document.media_type),
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# What the case page shows inline: a PDF drawn by PDF.js, an image as an image.
INLINE_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp"})


@staff_page()
def document_view(request: HttpRequest, document_id: int) -> FileResponse:
    """A legal document shown in the case page (a PDF drawn by the vendored PDF.js, an image as
    an image), audited like a download. Other types are only downloaded."""
    document = Document.objects.select_related("request").filter(pk=document_id).first()
    if document is None or document.media_type not in INLINE_TYPES:
        raise Http404
    audit_record_standalone(
        actor=_actor(request),
        action="document.viewed",
        object_type="legal_request",
        object_id=document.request.public_id,
        data={"document": document.pk, "sha256": document.sha256},
        now=_now(),
    )
    response = FileResponse(
        document_open(document),
        as_attachment=False,
        filename=download_name(document.original_name, document.media_type),
        content_type=download_content_type(document.media_type),
    )
    response["X-Content-Type-Options"] = "nosniff"
    # Read by the case page's script or <img>, never framed; opened on its own, it runs nothing.
    response["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'; sandbox"
    return response


# --- holds ---------------------------------------------------------------------------------------


@staff_page()
def holds(request: HttpRequest) -> HttpResponse:
    page = Paginator(hold_selectors.hold_list(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "console/holds.html",
        {"page": page, "now": _now(), "pending": hold_selectors.hold_changes_pending()[:100]},
    )


def _second_factor_fresh(request: HttpRequest, form: django_forms.Form, now: datetime) -> bool:
    """Hold changes, like approvals, need a second factor from the last few minutes: a fresh
    sign-in, or the authenticator code typed into the form."""
    if reauth_fresh(request):
        return True
    code = form.cleaned_data.get("code", "") if form.is_valid() else ""
    if code and otp.second_factor_verify(user=request.user, code=code, now=now):  # type: ignore[arg-type]
        mark_reauth(request)
        return True
    form.add_error("code", _("Confirm with a current authenticator code."))
    return False


@staff_page(StaffRole.POLICY_ADMIN)
@require_http_methods(["GET", "POST"])
def hold_new(request: HttpRequest) -> HttpResponse:
    form = HoldForm(request.POST or None)
    preview = None
    now = _now()
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        terms: dict[str, Any] = {
            "jurisdiction_code": data["jurisdiction"],
            "effective_from": data["effective_from"],
            "effective_to": data["effective_to"],
            "received_from_start": data["received_from_start"],
            "scope_kinds": data["scope_kinds"],
            "scope_offences": data["scope_offences"],
            "scope_legal_basis": data["scope_legal_basis"],
            "allow_emergency": data["allow_emergency"],
            "allow_offences": data["allow_offences"],
            "reason": data["reason"] or "-",
            "reason_zh_hant": data["reason_zh_hant"],
        }
        try:
            if "confirm" in request.POST and _second_factor_fresh(request, form, now):
                terms["reason"] = data["reason"]
                change = holding.hold_propose(
                    actor=_actor(request), review_notes=data["review_notes"], now=now, **terms
                )
                messages.success(
                    request,
                    _("Hold proposed. It takes effect when another policy admin confirms it."),
                )
                return redirect("console:hold-change", change_id=change.pk)
            preview = hold_selectors.hold_preview(now=now, **terms)
        except ValidationFailed as invalid:
            for error in invalid.errors:
                field = "jurisdiction" if error.field == "jurisdiction" else error.field
                form.add_error(field if field in form.fields else None, error.message)
    return render(
        request,
        "console/hold_new.html",
        {"form": form, "preview": preview, "needs_reauth": not reauth_fresh(request)},
    )


@staff_page()
def hold_detail(request: HttpRequest, hold_id: int) -> HttpResponse:
    hold = _hold(hold_id)
    on_hold, flags = hold_selectors.hold_requests(hold)
    return render(
        request,
        "console/hold.html",
        {
            "hold": hold,
            "on_hold": on_hold,
            "flags": flags,
            "pending": hold.changes.filter(state=HoldChangeState.PENDING).first(),
            "form": HoldChangeReasonForm(),
            "needs_reauth": not reauth_fresh(request),
            "now": _now(),
        },
    )


def _propose_on_hold(request: HttpRequest, hold_id: int, kind: str) -> HttpResponse:
    hold = _hold(hold_id)
    form = HoldChangeReasonForm(request.POST)
    now = _now()
    if not form.is_valid():
        messages.error(request, _("Give a reason."))
        return redirect("console:hold", hold_id=hold.pk)
    if not _second_factor_fresh(request, form, now):
        messages.error(request, _("Confirm with a current authenticator code."))
        return redirect("console:hold", hold_id=hold.pk)
    propose = holding.hold_lift_propose if kind == "lift" else holding.hold_void_propose
    try:
        change = propose(
            actor=_actor(request), hold=hold, reason=form.cleaned_data["reason"], now=now
        )
    except DomainError as refused:
        messages.error(request, words.refused(refused))
        return redirect("console:hold", hold_id=hold.pk)
    messages.success(request, _("Proposed. It happens when another policy admin confirms it."))
    return redirect("console:hold-change", change_id=change.pk)


@staff_page(StaffRole.POLICY_ADMIN)
@require_POST
def hold_lift(request: HttpRequest, hold_id: int) -> HttpResponse:
    return _propose_on_hold(request, hold_id, "lift")


@staff_page(StaffRole.POLICY_ADMIN)
@require_POST
def hold_void(request: HttpRequest, hold_id: int) -> HttpResponse:
    return _propose_on_hold(request, hold_id, "void")


def _hold_change(change_id: int) -> HoldChange:
    try:
        return hold_selectors.hold_change_get(change_id)
    except NotFound:
        raise Http404 from None


@staff_page()
def hold_change(request: HttpRequest, change_id: int) -> HttpResponse:
    change = _hold_change(change_id)
    return render(
        request,
        "console/hold_change.html",
        {
            "change": change,
            "starts": datetime.fromisoformat(change.terms["effective_from"])
            if change.terms.get("effective_from")
            else None,
            "mine": change.proposed_by_id == request.user.pk,
            "form": HoldChangeConfirmForm(),
            "needs_reauth": not reauth_fresh(request),
        },
    )


@staff_page(StaffRole.POLICY_ADMIN)
@require_POST
def hold_change_decide(request: HttpRequest, change_id: int) -> HttpResponse:
    change = _hold_change(change_id)
    now = _now()
    try:
        if "cancel" in request.POST:
            holding.hold_change_cancel(actor=_actor(request), change=change, now=now)
            messages.success(request, _("The proposed change was cancelled."))
        else:
            form = HoldChangeConfirmForm(request.POST)
            if not _second_factor_fresh(request, form, now):
                messages.error(request, _("Confirm with a current authenticator code."))
                return redirect("console:hold-change", change_id=change.pk)
            result = holding.hold_change_confirm(actor=_actor(request), change=change, now=now)
            if not isinstance(result, holding.HoldLifted):
                for report in reports_correct_for_hold(
                    actor=_actor(request), hold=result.hold, now=now
                ):
                    messages.info(
                        request,
                        _("The published %(period)s report was corrected: version %(v)d.")
                        % {"period": report.period, "v": report.version},
                    )
            if isinstance(result, holding.HoldPlaced):
                messages.success(
                    request,
                    _("Hold placed: %(n)d open request(s) put on hold.")
                    % {"n": len(result.put_on_hold)},
                )
            else:
                messages.success(
                    request,
                    _("Done: %(n)d request(s) returned to where they were.")
                    % {"n": len(result.released)},
                )
            return redirect("console:hold", hold_id=result.hold.pk)
    except DomainError as refused:
        messages.error(request, words.refused(refused))
    return redirect("console:hold-change", change_id=change.pk)


@staff_page(StaffRole.REVIEWER)
@require_POST
def re_review_resolve(request: HttpRequest, flag_id: int) -> HttpResponse:
    try:
        flag = hold_selectors.re_review_get(flag_id)
    except NotFound:
        raise Http404 from None
    form = ReReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose an outcome and give a reason."))
    else:
        try:
            holding.re_review_resolve(
                actor=_actor(request),
                flag=flag,
                resolution=form.cleaned_data["resolution"],
                reason=form.cleaned_data["reason"],
                now=_now(),
            )
        except DomainError as refused:
            messages.error(request, words.refused(refused))
        else:
            messages.success(request, _("Re-review recorded."))
    return redirect("console:case", request_id=flag.request.public_id)


# --- agencies ------------------------------------------------------------------------------------


@staff_page()
def agencies(request: HttpRequest) -> HttpResponse:
    rows = (
        Agency.objects.select_related("jurisdiction")
        .annotate(
            officer_count=Count("officers", distinct=True),
            request_count=Count("legal_requests", distinct=True),
        )
        .order_by("jurisdiction_id", "name")
    )
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    pending = AccessRequest.objects.filter(status=AccessRequestStatus.PENDING).count()
    return render(request, "console/agencies.html", {"page": page, "pending_access": pending})


@staff_page()
def agency_detail(request: HttpRequest, agency_id: int) -> HttpResponse:
    agency = (
        Agency.objects.select_related("jurisdiction", "verified_by").filter(pk=agency_id).first()
    )
    if agency is None:
        raise Http404
    officers = agency.officers.annotate(
        request_count=Count("legal_requests"), last_request_at=Max("legal_requests__received_at")
    ).order_by("email")
    return render(
        request,
        "console/agency.html",
        {
            "agency": agency,
            "officers": officers,
            "domains": agency.domains.all(),
            "verify_form": VerifyAgencyForm(),
            "reason_form": ReasonForm(),
            "contact_form": ContactForm(),
            "confidence": agency_confidence_now(agency, now=_now()),
            "contacts": AgencyContact.objects.filter(agency=agency, retired_at__isnull=True)
            .select_related("verified_by")
            .order_by("kind", "pk"),
            "flags": agency.fraud_flags.select_related("officer")[:100],
            "can_manage": bool(request.roles & {StaffRole.INTAKE, StaffRole.POLICY_ADMIN}),  # type: ignore[attr-defined]
        },
    )


@staff_page(StaffRole.INTAKE, StaffRole.POLICY_ADMIN)
@require_POST
def agency_contact_add(request: HttpRequest, agency_id: int) -> HttpResponse:
    agency = Agency.objects.filter(pk=agency_id).first()
    if agency is None:
        raise Http404
    form = ContactForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the number and the official directory it comes from."))
        return redirect("console:agency", agency_id=agency.pk)
    try:
        trusting.agency_contact_verify(
            actor=_actor(request), agency=agency, now=_now(), **form.cleaned_data
        )
    except DomainError as refused:
        messages.error(request, words.refused(refused))
    else:
        messages.success(request, _("Verified number recorded."))
    return redirect("console:agency", agency_id=agency.pk)


@staff_page(StaffRole.INTAKE, StaffRole.POLICY_ADMIN)
@require_POST
def agency_reverify(request: HttpRequest, agency_id: int) -> HttpResponse:
    agency = Agency.objects.filter(pk=agency_id).first()
    if agency is None:
        raise Http404
    form = VerifyAgencyForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say how the agency was verified again."))
        return redirect("console:agency", agency_id=agency.pk)
    try:
        trusting.agency_verify_again(
            actor=_actor(request), agency=agency, method=form.cleaned_data["method"], now=_now()
        )
    except DomainError as refused:
        messages.error(request, words.refused(refused))
    else:
        messages.success(request, _("Verification renewed."))
    return redirect("console:agency", agency_id=agency.pk)


@staff_page(StaffRole.INTAKE, StaffRole.POLICY_ADMIN)
@require_POST
def agency_verify(request: HttpRequest, agency_id: int) -> HttpResponse:
    agency = Agency.objects.filter(pk=agency_id).first()
    if agency is None:
        raise Http404
    form = VerifyAgencyForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationFailed.single("method", _("Say how the agency was verified."))
        rechecking.agency_verify(
            actor=_actor(request),
            agency=agency,
            method=form.cleaned_data["method"],
            now=_now(),  # type: ignore[attr-defined]
        )
        messages.success(request, _("Agency verified."))
    except DomainError as refused:
        messages.error(request, words.refused(refused))
    return redirect("console:agency", agency_id=agency.pk)


@staff_page(StaffRole.INTAKE, StaffRole.POLICY_ADMIN)
@require_POST
def agency_suspend(request: HttpRequest, agency_id: int) -> HttpResponse:
    agency = Agency.objects.filter(pk=agency_id).first()
    if agency is None:
        raise Http404
    form = ReasonForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationFailed.single("reason", _("Give a reason."))
        rechecking.agency_suspend(
            actor=_actor(request),
            agency=agency,
            reason=form.cleaned_data["reason"],
            now=_now(),  # type: ignore[attr-defined]
        )
        messages.success(request, _("Agency suspended."))
    except DomainError as refused:
        messages.error(request, words.refused(refused))
    return redirect("console:agency", agency_id=agency.pk)


@staff_page(StaffRole.INTAKE, StaffRole.POLICY_ADMIN)
@require_POST
def agency_officer_totp(request: HttpRequest, agency_id: int) -> HttpResponse:
    """Require (or stop requiring) an authenticator app of the agency's officers."""
    agency = Agency.objects.filter(pk=agency_id).first()
    if agency is None:
        raise Http404
    required = request.POST.get("required") == "1"
    try:
        agency_officer_totp_set(actor=_actor(request), agency=agency, required=required, now=_now())
        if required:
            messages.success(request, _("Officers now need an authenticator app to sign in."))
        else:
            messages.success(request, _("Officers no longer need an authenticator app."))
    except DomainError as refused:
        messages.error(request, words.refused(refused))
    return redirect("console:agency", agency_id=agency.pk)


@staff_page(StaffRole.INTAKE, StaffRole.POLICY_ADMIN)
@require_http_methods(["GET", "POST"])
def access_requests(request: HttpRequest) -> HttpResponse:
    pending = list(
        AccessRequest.objects.filter(status=AccessRequestStatus.PENDING)
        .select_related("jurisdiction")
        .order_by("created_at")[:100]
    )
    agencies_by_jurisdiction: dict[str, list[Agency]] = {}
    for agency in Agency.objects.filter(
        jurisdiction_id__in={a.jurisdiction_id for a in pending}
    ).order_by("name"):
        agencies_by_jurisdiction.setdefault(agency.jurisdiction_id, []).append(agency)
    # What each address imitates, compared with the agencies verified now (not only on arrival).
    verified = agency_selectors.verified_domains()
    lookalikes = {
        access.pk: agency_selectors.access_request_lookalikes(access, verified=verified)
        for access in pending
    }
    forms = {}
    for access in pending:
        form = AccessDecisionForm(prefix=f"a{access.pk}")
        form.fields["agency"].choices = [("", _("— a new agency —"))] + [  # type: ignore[attr-defined]
            (a.pk, f"{a.name} ({a.status})")
            for a in agencies_by_jurisdiction.get(access.jurisdiction_id, [])
        ]
        # The official domain is not pre-filled from the requester's address: staff type the
        # one listed where they verified the agency (a look-alike would otherwise be one click).
        form.initial["new_agency_kind"] = access.agency_kind
        forms[access.pk] = form
    if request.method == "POST":
        chosen = next((a for a in pending if str(a.pk) == request.POST.get("access")), None)
        if chosen is None:
            raise Http404
        access = chosen
        form = AccessDecisionForm(request.POST, prefix=f"a{access.pk}")
        form.fields["agency"].choices = forms[access.pk].fields["agency"].choices  # type: ignore[attr-defined]
        actor: Actor = _actor(request)
        try:
            if "refuse" in request.POST:
                agency_services.access_request_refuse(
                    actor=actor,
                    access=access,
                    reason=request.POST.get(f"a{access.pk}-method", ""),
                    now=_now(),
                )
                messages.success(request, _("Access refused."))
                return redirect("console:access-requests")
            if not form.is_valid():
                raise ValidationFailed.single("method", _("Say how they were verified."))
            data = form.cleaned_data
            rechecking.access_request_grant(
                actor=actor,
                access=access,
                agency=Agency.objects.filter(pk=data["agency"]).first() if data["agency"] else None,
                new_agency_kind=data["new_agency_kind"],
                new_agency_domain=data["new_agency_domain"],
                method=data["method"],
                lookalike_override=request.POST.get(f"a{access.pk}-lookalike_override", ""),
                now=_now(),
            )
            messages.success(request, _("Access granted; the officer can now sign in."))
            return redirect("console:access-requests")
        except ValidationFailed as refused:
            if refused.code == agency_services.LOOKALIKE_OVERRIDE_REQUIRED:
                # The sentences naming the imitated agency, without the field paths.
                messages.error(request, " ".join(f"{e.message}." for e in refused.errors))
            else:
                messages.error(request, words.refused(refused))
            forms[access.pk] = form
        except DomainError as refused:
            messages.error(request, words.refused(refused))
            forms[access.pk] = form
    return render(
        request,
        "console/access_requests.html",
        {"pending": [(a, forms[a.pk], lookalikes[a.pk]) for a in pending]},
    )


# --- audit ---------------------------------------------------------------------------------------


AUDIT_CSV_LIMIT = 50_000


def _audit_filtered(form: AuditFilterForm) -> Any:
    events = AuditEvent.objects.order_by("-seq")
    if not form.is_valid():
        return events
    data = form.cleaned_data
    if data["action"]:
        events = events.filter(action__startswith=data["action"])
    if data["object_id"]:
        events = events.filter(object_id=data["object_id"])
    if data["actor"]:
        events = events.filter(Q(actor_label__icontains=data["actor"]) | Q(actor_id=data["actor"]))
    # Dates are days in the viewer's zone: "to 2026-12-04" includes the whole of that day.
    zone = timezone.get_current_timezone()
    if data.get("since"):
        events = events.filter(occurred_at__gte=datetime.combine(data["since"], dtime.min, zone))
    if data.get("until"):
        day_after = datetime.combine(data["until"] + timedelta(days=1), dtime.min, zone)
        events = events.filter(occurred_at__lt=day_after)
    return events


def _audit_describe(events: list[AuditEvent]) -> None:
    """Each event as a sentence: who, did what (in words), to what (named and linked)."""
    ids: dict[str, set[str]] = {}
    for event in events:
        ids.setdefault(event.object_type, set()).add(event.object_id)
    requests = {
        str(r.public_id): r.reference
        for r in LegalRequest.objects.filter(
            public_id__in=[i for i in ids.get("legal_request", ()) if _is_uuid(i)]
        ).only("public_id", "reference")
    }
    agency_names = dict(
        Agency.objects.filter(
            pk__in=[int(i) for i in ids.get("agency", ()) if i.isdigit()]
        ).values_list("pk", "name")
    )
    for event in events:
        kind, key = event.object_type, event.object_id
        name, link = "", ""
        if kind == "legal_request" and key in requests:
            name = _("request %(reference)s") % {"reference": requests[key]}
            link = reverse("console:case", args=[key])
        elif kind == "agency" and key.isdigit() and int(key) in agency_names:
            name = _("agency %(name)s") % {"name": agency_names[int(key)]}
            link = reverse("console:agency", args=[int(key)])
        elif kind == "hold" and key.isdigit():
            name = _("hold #%(id)s") % {"id": key}
            link = reverse("console:hold", args=[int(key)])
        elif kind == "hold_change" and key.isdigit():
            name = _("hold change #%(id)s") % {"id": key}
            link = reverse("console:hold-change", args=[int(key)])
        elif kind == "access_request":
            name, link = _("an access request"), reverse("console:access-requests")
        event.who = event.actor_label or str(words.ACTOR_KINDS.get(event.actor_kind, ""))  # type: ignore[attr-defined]
        event.verb = words.audit_verb(event.action)  # type: ignore[attr-defined]
        event.object_name, event.object_link = name, link  # type: ignore[attr-defined]
        event.sentence = " ".join(p for p in (event.who, event.verb, name) if p)  # type: ignore[attr-defined]


def _audit_csv(request: HttpRequest, form: AuditFilterForm, events: Any) -> HttpResponse:
    """The filtered events as CSV (newest first), each with its sentence and its hash. The
    export itself is recorded: who took a copy of the trail, with which filter."""
    rows = list(events[:AUDIT_CSV_LIMIT])
    _audit_describe(rows)
    audit_record_standalone(
        actor=_actor(request),
        action="audit.exported",
        object_type="audit",
        object_id="csv",
        data={
            "filter": {k: str(v) for k, v in (form.cleaned_data or {}).items() if v},
            "events": len(rows),
        }
        if form.is_valid()
        else {"events": len(rows)},
        now=_now(),
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="govreq-audit.csv"'
    response.write("\ufeff")  # so spreadsheet programs read the UTF-8 (Chinese) right
    writer = csv.writer(response)
    writer.writerow(
        [
            _("Sequence"),
            _("When"),
            _("Event"),
            _("Actor"),
            _("Action"),
            _("Object type"),
            _("Object id"),
            _("Data"),
            _("Hash"),
        ]
    )
    zone = timezone.get_current_timezone()
    for e in rows:
        writer.writerow(
            [
                e.seq,
                timezone.localtime(e.occurred_at, zone).isoformat(),
                e.sentence,  # type: ignore[attr-defined]
                e.who,  # type: ignore[attr-defined]
                e.action,
                e.object_type,
                e.object_id,
                json.dumps(e.data, ensure_ascii=False, sort_keys=True),
                e.hash,
            ]
        )
    return response


@staff_page(StaffRole.AUDITOR, StaffRole.POLICY_ADMIN)
def audit(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    events = _audit_filtered(form)
    if request.GET.get("format") == "csv":
        return _audit_csv(request, form, events)
    try:
        page = keyset_page(
            KeysetList(segments=[events.order_by()], keys=[Key(name="seq", descending=True)]),
            cursor=request.GET.get("cursor"),
            page_size=50,
            binding=_list_binding(request, "console.audit"),
        )
    except ValidationFailed as refused:
        return HttpResponseBadRequest(refused.message)
    _audit_describe(page.items)
    query = request.GET.copy()
    query.pop("cursor", None)
    query["format"] = "csv"
    return render(
        request,
        "console/audit.html",
        # Verifying walks the whole chain: on demand, not on every page view.
        {
            "form": form,
            "page": page,
            "csv_query": query.urlencode(),
            "chain": audit_chain_verify() if request.GET.get("verify") else None,
        },
        status=422 if form.errors else 200,
    )


# --- background tasks ------------------------------------------------------------------------


@staff_page()
def tasks(request: HttpRequest) -> HttpResponse:
    """What the worker could not do (failed tasks, with a retry button), what waits, and the
    periodic jobs' recent runs."""
    failed = list(DBTaskResult.objects.filter(status="FAILED").order_by("-finished_at")[:100])
    waiting = DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).count()
    runs = JobRun.objects.order_by("-started_at")[:30]
    return render(
        request,
        "console/tasks.html",
        {
            "failed": [
                {
                    "task": task,
                    "name": task.task_path.rsplit(".", 1)[-1].replace("_", " "),
                    "attempts": len(task.worker_ids),
                    "error": (task.traceback.strip().splitlines() or [""])[-1],
                }
                for task in failed
            ],
            "waiting": waiting,
            "runs": runs,
            "can_retry": bool(request.roles & {StaffRole.REVIEWER, StaffRole.POLICY_ADMIN}),  # type: ignore[attr-defined]
        },
    )


@staff_page(StaffRole.REVIEWER, StaffRole.POLICY_ADMIN)
@require_POST
def task_retry_view(request: HttpRequest, task_id: uuid.UUID) -> HttpResponse:
    if task_retry(str(task_id)):
        audit_record_standalone(
            actor=_actor(request),
            action="task.retried",
            object_type="task",
            object_id=str(task_id),
            now=_now(),
        )
        messages.success(request, _("The task will run again."))
    else:
        messages.error(request, _("That task is not failed (it may have been retried already)."))
    return redirect("console:tasks")
