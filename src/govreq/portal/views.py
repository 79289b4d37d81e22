"""The agency portal: sign in with an e-mailed code, submit requests, follow them.

Views stay thin: reads go through the agency-scoped selectors (another agency's request is a 404,
exactly like a missing one), writes through the intake, review, agencies and portal services.
"""

from __future__ import annotations

import io
import uuid
from typing import Any

import pydantic
import segno
from django.contrib import messages
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
    QueryDict,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext, gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from govreq.agencies.models import Officer
from govreq.agencies.services import access_request_submit
from govreq.core.actors import Actor
from govreq.core.errors import Conflict, NotFound, ValidationFailed, pydantic_errors
from govreq.core.keyset import keyset_page
from govreq.disclosure.models import Production
from govreq.disclosure.selectors import (
    agency_decision,
    production_for_agency,
    productions_released,
)
from govreq.intake import selectors
from govreq.intake.models import OPEN_STATUSES, Channel, LegalRequest, RequestStatus, StatusChange
from govreq.intake.schemas import RequestSubmission
from govreq.intake.validation import NormalisedTarget, submission_errors
from govreq.lifecycle.disclosing import Gone, package_download, preservation_extend
from govreq.lifecycle.notifying import gag_extension_file
from govreq.lifecycle.receiving import request_withdraw
from govreq.lifecycle.reviewing import clarification_answer
from govreq.notices.selectors import gag_extension_open, gag_extensions_of
from govreq.portal import second_factor, services, staging
from govreq.portal.auth import (
    current_officer,
    officer_required,
    pending_officer,
    safe_next,
    second_factor_pending,
    sign_in,
    sign_out,
)
from govreq.portal.forms import (
    AccessRequestForm,
    AnswerForm,
    AuthenticatorCodeForm,
    CodeForm,
    GagExtensionForm,
    RequestForm,
    SignInForm,
    WithdrawForm,
    domain_message,
    form_initial,
    request_form_data,
)
from govreq.portal.targets import parse_target_lines
from govreq.review.models import Clarification

SESSION_PENDING_SIGN_IN = "govreq_portal_pending_sign_in"
REQUESTS_PER_PAGE = 25


def _client_ip(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR") or "unknown")


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


# --- Signing in ----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def sign_in_view(request: HttpRequest) -> HttpResponse:
    """Ask for a sign-in code. Answers the same for every address, known or not."""
    next_path = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if current_officer(request) is not None:
        return HttpResponseRedirect(next_path or reverse("portal:requests"))
    form = SignInForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        email = services.normalise_email(form.cleaned_data["email"])
        try:
            services.login_code_request(
                email=email,
                client_ip=_client_ip(request),
                language=get_language() or "en",
                now=timezone.now(),
            )
        except services.RateLimited:
            form.add_error(
                None,
                gettext("Too many sign-in codes were asked for. Wait an hour and try again."),
            )
            status = 429
        else:
            request.session[SESSION_PENDING_SIGN_IN] = {"email": email, "next": next_path or ""}
            return redirect("portal:verify")
    context = {"form": form, "next": next_path or ""}
    return render(request, "portal/sign_in.html", context, status=status)


@require_http_methods(["GET", "POST"])
def verify_view(request: HttpRequest) -> HttpResponse:
    """Enter the e-mailed code; success starts the officer's session."""
    pending = request.session.get(SESSION_PENDING_SIGN_IN) or {}
    if request.method == "GET":
        form = CodeForm(initial={"email": pending.get("email", "")})
        return render(request, "portal/verify.html", {"form": form, "pending": pending})
    form = CodeForm(request.POST)
    status = 200
    if form.is_valid():
        try:
            officer = services.login_code_verify(
                email=form.cleaned_data["email"],
                code=form.cleaned_data["code"],
                client_ip=_client_ip(request),
                now=timezone.now(),
            )
        except services.RateLimited:
            form.add_error(None, gettext("Too many attempts. Wait an hour and try again."))
            status = 429
        except services.SignInFailed:
            form.add_error(
                "code",
                gettext(
                    "This code is not valid. A code works once, for 10 minutes, and stops "
                    "working after 5 wrong tries; ask for a new one if needed."
                ),
            )
        else:
            next_path = safe_next(request, pending.get("next"))
            request.session.pop(SESSION_PENDING_SIGN_IN, None)
            if second_factor.officer_totp_required(officer):
                second_factor_pending(request, officer, next_path)
                if second_factor.officer_has_authenticator(officer):
                    return redirect("portal:authenticator")
                return redirect("portal:authenticator-set-up")
            sign_in(request, officer)
            return HttpResponseRedirect(next_path or reverse("portal:requests"))
    return render(request, "portal/verify.html", {"form": form, "pending": pending}, status=status)


@require_http_methods(["GET", "POST"])
def authenticator_view(request: HttpRequest) -> HttpResponse:
    """After the e-mailed code, for an agency that requires it: the authenticator's code."""
    pending = pending_officer(request)
    if pending is None:
        return redirect("portal:sign-in")
    officer, next_path = pending
    if not second_factor.officer_has_authenticator(officer):
        return redirect("portal:authenticator-set-up")
    form = AuthenticatorCodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            second_factor.officer_second_factor_verify(
                officer=officer,
                code=form.cleaned_data["code"],
                client_ip=_client_ip(request),
                now=timezone.now(),
            )
        except services.RateLimited:
            form.add_error(None, gettext("Too many attempts. Wait 15 minutes and try again."))
            status = 429
        except services.SignInFailed:
            form.add_error(
                "code",
                gettext(
                    "This code is not valid. Enter the code your app shows now; each code "
                    "works once."
                ),
            )
        else:
            sign_in(request, officer, second_factor=True)
            return HttpResponseRedirect(safe_next(request, next_path) or reverse("portal:requests"))
    return render(request, "portal/authenticator.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
def authenticator_set_up_view(request: HttpRequest) -> HttpResponse:
    """First sign-in since the agency required an authenticator: set one up, confirm it with
    its first code (which completes the sign-in), see the recovery codes once."""
    pending = pending_officer(request)
    if pending is None:
        return redirect("portal:sign-in")
    officer, next_path = pending
    if second_factor.officer_has_authenticator(officer):
        return redirect("portal:authenticator")
    form = AuthenticatorCodeForm(request.POST or None)
    status = 200
    enrolment = second_factor.officer_totp_enrolment(officer)
    if request.method == "POST" and form.is_valid() and enrolment is not None:
        try:
            codes = second_factor.officer_totp_confirm(
                officer=officer,
                code=form.cleaned_data["code"],
                client_ip=_client_ip(request),
                now=timezone.now(),
            )
        except services.RateLimited:
            form.add_error(None, gettext("Too many attempts. Wait 15 minutes and try again."))
            status = 429
        except services.SignInFailed:
            form.add_error(
                "code", gettext("This code is not valid. Check your device's clock and try again.")
            )
        else:
            sign_in(request, officer, second_factor=True)
            next_url = safe_next(request, next_path) or reverse("portal:requests")
            return render(request, "portal/recovery_codes.html", {"codes": codes, "next": next_url})
    if request.method == "GET" or enrolment is None:
        enrolment = second_factor.officer_totp_enrol_start(officer=officer, now=timezone.now())
    buffer = io.BytesIO()
    segno.make(enrolment.uri, error="m").save(
        buffer, kind="svg", scale=5, xmldecl=False, svgns=True
    )
    context = {
        "form": form,
        "secret": enrolment.secret_base32,
        "qr_svg": buffer.getvalue().decode(),
    }
    return render(request, "portal/authenticator_set_up.html", context, status=status)


@require_POST
def sign_out_view(request: HttpRequest) -> HttpResponse:
    sign_out(request)
    messages.success(request, gettext("You are signed out."))
    return redirect("portal:sign-in")


@require_http_methods(["GET", "POST"])
def request_access_view(request: HttpRequest) -> HttpResponse:
    """An officer of an agency the platform does not know yet asks for access."""
    form = AccessRequestForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        now = timezone.now()
        if not services.access_request_allowed(client_ip=_client_ip(request), now=now):
            form.add_error(
                None, gettext("Too many requests from your network. Try again in an hour.")
            )
            status = 429
        else:
            data = form.cleaned_data
            try:
                access_request_submit(
                    name=data["name"],
                    email=data["email"],
                    badge_number=data["badge_number"],
                    agency_name=data["agency_name"],
                    jurisdiction_code=data["jurisdiction"],
                    agency_kind=data["agency_kind"],
                    note=data["note"],
                    now=now,
                )
            except ValidationFailed as refusal:
                for error in refusal.errors:
                    field = error.field if error.field in form.fields else None
                    form.add_error(field, domain_message(error.message))
            else:
                return redirect("portal:request-access-sent")
    return render(request, "portal/request_access.html", {"form": form}, status=status)


@require_GET
def request_access_sent_view(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/request_access_sent.html")


# --- Following requests --------------------------------------------------------------------------


def _agency_request(officer: Officer, request_id: uuid.UUID | str) -> LegalRequest:
    try:
        return selectors.request_get_for_agency(agency=officer.agency, public_id=request_id)
    except NotFound:
        raise Http404("no such request") from None


@require_GET
@officer_required
def request_list_view(request: HttpRequest, officer: Officer) -> HttpResponse:
    try:
        page = keyset_page(
            selectors.request_list_keyset(agency=officer.agency),
            cursor=request.GET.get("cursor"),
            page_size=REQUESTS_PER_PAGE,
            # Bound to the agency: another agency's cursor is refused (and could show nothing
            # of it anyway: the list is the officer's agency's).
            binding={"list": "portal.requests", "agency": officer.agency_id},
        )
    except ValidationFailed as refused:
        return HttpResponseBadRequest(refused.message)
    return render(request, "portal/request_list.html", {"officer": officer, "page": page})


def _history(legal_request: LegalRequest) -> list[dict[str, Any]]:
    """The status history as the agency sees it: staff are "the platform", and their internal
    reasons stay inside the platform."""
    entries = []
    change: StatusChange
    for change in legal_request.status_changes.all():
        by_agency = change.actor_kind == "OFFICER"
        entries.append(
            {
                "occurred_at": change.occurred_at,
                "from_status": change.from_status,
                "to_status": change.to_status,
                "by": change.actor_label if by_agency else gettext("the platform"),
                "reason": _officer_reason(change.reason) if by_agency else "",
            }
        )
    return entries


# What the system records, in English, when an officer's own step moves the request.
OFFICER_STEPS = {
    "Agency answered": gettext_lazy("Agency answered"),
    "Package downloaded by the agency": gettext_lazy("Package downloaded by the agency"),
}


def _officer_reason(reason: str) -> str:
    """The recorded reason in the officer's language: the system's own words translated, a hold
    named as such (with its public reason), the officer's own words (a withdrawal) as written."""
    if reason in OFFICER_STEPS:
        return str(OFFICER_STEPS[reason])
    if reason.startswith("Hold #") and ": " in reason:
        return gettext("Paused by a hold on requests from this jurisdiction: %(reason)s") % {
            "reason": reason.split(": ", 1)[1]
        }
    return reason


def _clarification_context(
    legal_request: LegalRequest, clarification: Clarification, form: AnswerForm | None = None
) -> dict[str, Any]:
    return {
        "legal_request": legal_request,
        "clarification": clarification,
        "answer_form": form or AnswerForm(auto_id=f"id_answer_{clarification.pk}_%s"),
        "is_open": legal_request.status in OPEN_STATUSES,
    }


def _detail_page(
    request: HttpRequest,
    officer: Officer,
    legal_request: LegalRequest,
    *,
    answer_forms: dict[int, AnswerForm] | None = None,
    withdraw_form: WithdrawForm | None = None,
    gag_extension_form: GagExtensionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    answer_forms = answer_forms or {}
    context = {
        "officer": officer,
        "legal_request": legal_request,
        "history": _history(legal_request),
        "clarifications": [
            _clarification_context(legal_request, clarification, answer_forms.get(clarification.pk))
            for clarification in legal_request.clarifications.order_by("asked_at", "id")
        ],
        "is_open": legal_request.status in OPEN_STATUSES
        and legal_request.status not in (RequestStatus.DELIVERED, RequestStatus.PRODUCED),
        "withdraw_form": withdraw_form or WithdrawForm(),
        "decision": agency_decision(legal_request),
        "preservation": Production.objects.filter(
            request=legal_request, purpose="PRESERVATION", status="READY"
        ).first(),
        "productions": [
            {
                "production": production,
                "downloadable": production.purged_at is None
                and production.expires_at is not None
                and production.expires_at > timezone.now(),
            }
            for production in productions_released(legal_request)
        ],
        "gag_extension_open": gag_extension_open(legal_request, timezone.now()),
        "gag_extension_form": gag_extension_form or GagExtensionForm(),
        "gag_extensions": list(gag_extensions_of(legal_request)),
    }
    return render(request, "portal/request_detail.html", context, status=status)


@require_GET
@officer_required
def request_detail_view(
    request: HttpRequest, officer: Officer, request_id: uuid.UUID
) -> HttpResponse:
    return _detail_page(request, officer, _agency_request(officer, request_id))


@require_POST
@officer_required
def answer_view(
    request: HttpRequest, officer: Officer, request_id: uuid.UUID, clarification_id: int
) -> HttpResponse:
    """Answer the platform's question; with htmx, only that question's fragment is replaced."""
    legal_request = _agency_request(officer, request_id)
    clarification = legal_request.clarifications.filter(pk=clarification_id).first()
    if clarification is None:
        raise Http404("no such question")
    form = AnswerForm(request.POST, auto_id=f"id_answer_{clarification.pk}_%s")
    if form.is_valid():
        try:
            clarification_answer(
                actor=Actor.for_officer(officer),
                request=legal_request,
                clarification_id=clarification.pk,
                answer=form.cleaned_data["answer"],
                now=timezone.now(),
            )
        except NotFound:
            raise Http404("no such question") from None
        except ValidationFailed as refusal:
            for error in refusal.errors:
                form.add_error("answer", domain_message(error.message))
        except Conflict:
            if not _is_htmx(request):
                messages.error(request, gettext("This question was already answered."))
                return redirect("portal:request-detail", request_id=legal_request.public_id)
            form.add_error(None, gettext("This question was already answered."))
        else:
            legal_request = _agency_request(officer, request_id)
            if _is_htmx(request):
                clarification.refresh_from_db()
                context = _clarification_context(legal_request, clarification)
                context["swap_status"] = True
                return render(request, "portal/_clarification.html", context)
            messages.success(request, gettext("Thank you. Your answer was sent to the platform."))
            return redirect("portal:request-detail", request_id=legal_request.public_id)
    if _is_htmx(request):
        clarification.refresh_from_db()
        context = _clarification_context(legal_request, clarification, form)
        return render(request, "portal/_clarification.html", context)
    return _detail_page(
        request, officer, legal_request, answer_forms={clarification.pk: form}, status=400
    )


@require_GET
@officer_required
def package_view(
    request: HttpRequest, officer: Officer, request_id: uuid.UUID, production_id: uuid.UUID
) -> HttpResponseBase:
    """Download a released package (the first download is the delivery receipt)."""
    legal_request = _agency_request(officer, request_id)
    try:
        download = package_download(
            actor=Actor.for_officer(officer),
            production=production_for_agency(legal_request, str(production_id)),
            channel=Channel.PORTAL,
            client_address=request.META.get("REMOTE_ADDR", ""),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
            now=timezone.now(),
        )
    except NotFound:
        raise Http404("no such package") from None
    except Gone:
        messages.error(
            request,
            gettext("The package has expired and its files were deleted; its manifest remains."),
        )
        return _detail_page(request, officer, legal_request, status=410)
    except Conflict:
        messages.error(
            request, gettext("The package cannot be downloaded while a hold is in force.")
        )
        return redirect("portal:request-detail", request_id=legal_request.public_id)
    response = StreamingHttpResponse(download.chunks, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{download.file_name}"'
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@officer_required
def extend_view(request: HttpRequest, officer: Officer, request_id: uuid.UUID) -> HttpResponse:
    """Extend the agency's preservation once, by 90 days."""
    legal_request = _agency_request(officer, request_id)
    try:
        snapshot = preservation_extend(
            actor=Actor.for_officer(officer), request=legal_request, now=timezone.now()
        )
    except Conflict as refused:
        messages.error(request, domain_message(refused.message))
    else:
        messages.success(
            request,
            gettext("The preservation now lasts until %(until)s UTC.")
            % {"until": f"{snapshot.expires_at:%Y-%m-%d %H:%M}"},
        )
    return redirect("portal:request-detail", request_id=legal_request.public_id)


def _gag_extension_refusal(refusal: Conflict) -> str:
    """A refused extension, in the officer's language."""
    known = {
        "gag_ended": gettext(
            "The non-disclosure order has ended: it can no longer be extended by a new order."
        ),
        "no_gag_order": gettext("This request has no non-disclosure order to extend."),
        "duplicate_document": gettext("This document is already attached to the request."),
    }
    return known.get(refusal.code) or domain_message(refusal.message)


@require_POST
@officer_required
def gag_extension_view(
    request: HttpRequest, officer: Officer, request_id: uuid.UUID
) -> HttpResponse:
    """File a new non-disclosure order to extend the one in force; the platform reviews it, and
    the account holders are not told meanwhile."""
    legal_request = _agency_request(officer, request_id)
    form = GagExtensionForm(request.POST, request.FILES)
    if not form.is_valid():
        return _detail_page(request, officer, legal_request, gag_extension_form=form, status=400)
    document = form.cleaned_data["document"]
    try:
        gag_extension_file(
            actor=Actor.for_officer(officer),
            request=legal_request,
            upload=document,
            original_name=document.name or "order",
            new_expires_on=form.cleaned_data["new_expires_on"],
            legal_basis=form.cleaned_data["legal_basis"],
            now=timezone.now(),
        )
    except NotFound:
        raise Http404("no such request") from None
    except ValidationFailed as refusal:
        for error in refusal.errors:
            if error.field == "new_expires_on":
                form.add_error(
                    "new_expires_on",
                    gettext("must be after the current expiry, %(date)s")
                    % {"date": legal_request.gag_expires_on},
                )
            else:
                form.add_error("document", domain_message(error.message))
        return _detail_page(request, officer, legal_request, gag_extension_form=form, status=400)
    except Conflict as refusal:
        # Shown above the page: after the order ended, the form is no longer offered.
        messages.error(request, _gag_extension_refusal(refusal))
        return _detail_page(request, officer, legal_request, gag_extension_form=form, status=409)
    messages.success(
        request, gettext("The new order was filed. The platform will review it and answer here.")
    )
    return redirect("portal:request-detail", request_id=legal_request.public_id)


@require_POST
@officer_required
def withdraw_view(request: HttpRequest, officer: Officer, request_id: uuid.UUID) -> HttpResponse:
    legal_request = _agency_request(officer, request_id)
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, officer, legal_request, withdraw_form=form, status=400)
    try:
        request_withdraw(
            actor=Actor.for_officer(officer),
            request=legal_request,
            reason=form.cleaned_data["reason"],
            now=timezone.now(),
        )
    except Conflict:
        messages.error(request, gettext("This request can no longer be withdrawn."))
    else:
        messages.success(request, gettext("The request was withdrawn."))
    return redirect("portal:request-detail", request_id=legal_request.public_id)


# --- Submitting a request: form -> review -> send -> sent ----------------------------------------


def _form_page(
    request: HttpRequest,
    officer: Officer,
    form: RequestForm,
    draft: staging.Draft | None,
    *,
    status: int = 200,
) -> HttpResponse:
    context = {
        "officer": officer,
        "form": form,
        "draft": draft,
        "staged_documents": draft["documents"] if draft else [],
    }
    return render(request, "portal/request_form.html", context, status=status)


def _check_submission(
    form: RequestForm, officer: Officer
) -> tuple[RequestSubmission, list[int]] | None:
    """The submission the valid form describes, checked by the schema and the intake rules
    exactly as the API checks it; None after putting every problem next to its field."""
    lines = parse_target_lines(form.cleaned_data["targets"])
    line_numbers = [line.line for line in lines]
    try:
        submission = RequestSubmission.model_validate(form.submission_body(lines))
    except pydantic.ValidationError as invalid:
        form.add_field_errors(pydantic_errors(invalid.errors()).errors, target_lines=line_numbers)
        return None
    errors, _ = submission_errors(
        submission, now=timezone.now(), region=officer.agency.jurisdiction_id
    )
    if errors:
        form.add_field_errors(errors, target_lines=line_numbers)
        return None
    return submission, line_numbers


@require_http_methods(["GET", "POST"])
@officer_required
def request_new_view(request: HttpRequest, officer: Officer) -> HttpResponse:
    """The request form. Files that pass the document checks stay staged while it is corrected."""
    draft = staging.draft_get(request.session)
    if request.method == "GET":
        if draft is not None and request.GET.get("change"):
            form = RequestForm(
                initial=form_initial(draft["data"]), staged_documents=draft["documents"]
            )
            return _form_page(request, officer, form, draft)
        return _form_page(request, officer, RequestForm(), None)

    if draft is None or request.POST.get("draft") != draft["id"]:
        staging.staging_sweep()
        draft = staging.draft_new(request.session)
    form = RequestForm(request.POST, request.FILES, staged_documents=draft["documents"])
    valid = form.is_valid()
    draft["data"] = request_form_data(request.POST)
    draft["payload"] = None
    staging.unstage(draft, list(form.cleaned_data.get("remove_documents") or []))
    for upload in form.cleaned_data.get("documents") or []:
        problem = staging.document_problem(upload)
        if problem is not None:
            form.add_error(
                "documents",
                gettext("%(name)s: %(message)s") % {"name": upload.name, "message": problem},
            )
        else:
            staging.stage_upload(draft, upload)
    form.staged_documents = draft["documents"]
    checked = _check_submission(form, officer) if valid and not form.errors else None
    if checked is not None:
        submission, line_numbers = checked
        draft["payload"] = submission.model_dump(mode="json")
        draft["target_lines"] = line_numbers
    staging.draft_save(request.session, draft)
    if checked is None:
        return _form_page(request, officer, form, draft)
    return redirect("portal:review")


def _normalised_targets(submission: RequestSubmission, officer: Officer) -> list[NormalisedTarget]:
    _, targets = submission_errors(
        submission, now=timezone.now(), region=officer.agency.jurisdiction_id
    )
    return targets


def _facts(submission: RequestSubmission) -> dict[str, Any]:
    """The submission laid out like a stored request, for the shared facts template."""
    gag, emergency, data_range = submission.gag_order, submission.emergency, submission.data_range
    return {
        "kind": submission.kind,
        "legal_basis": submission.legal_basis.strip(),
        "issuing_authority": submission.issuing_authority.strip(),
        "agency_case_number": submission.agency_case_number.strip(),
        "offence_category": submission.offence_category,
        "narrative": submission.narrative.strip(),
        "data_categories": sorted(str(category) for category in submission.data_categories),
        "data_from": data_range.start if data_range else None,
        "data_to": data_range.end if data_range else None,
        "deadline_at": submission.deadline_at,
        "gag_order": gag is not None,
        "gag_legal_basis": gag.legal_basis.strip() if gag else "",
        "gag_expires_on": gag.expires_on if gag else None,
        "emergency_danger": emergency.danger.strip() if emergency else "",
        "emergency_why_now": emergency.why_now.strip() if emergency else "",
    }


@require_GET
@officer_required
def request_review_view(request: HttpRequest, officer: Officer) -> HttpResponse:
    """Exactly what will be sent, with "change" and "send"."""
    draft = staging.draft_get(request.session)
    if draft is None or draft["payload"] is None:
        return redirect("portal:new")
    submission = RequestSubmission.model_validate(draft["payload"])
    context = {
        "officer": officer,
        "draft": draft,
        "facts": _facts(submission),
        "targets": _normalised_targets(submission, officer),
        "documents": draft["documents"],
    }
    return render(request, "portal/request_review.html", context)


@require_POST
@officer_required
def request_send_view(request: HttpRequest, officer: Officer) -> HttpResponse:
    posted = request.POST.get("draft", "")
    sent = request.session.get(staging.SESSION_SENT) or {}
    if posted and sent.get("draft") == posted:
        # "Send" pressed twice: show the request the first press created.
        return redirect("portal:sent", request_id=sent["request"])
    draft = staging.draft_get(request.session)
    if draft is None or draft["id"] != posted or draft["payload"] is None:
        messages.error(request, gettext("There is nothing to send. Fill in the form first."))
        return redirect("portal:new")
    submission = RequestSubmission.model_validate(draft["payload"])
    try:
        legal_request = services.request_send(
            officer=officer,
            submission=submission,
            documents=draft["documents"],
            draft_id=draft["id"],
            now=timezone.now(),
        )
    except ValidationFailed as refusal:
        data = QueryDict(mutable=True)
        for name, values in draft["data"].items():
            data.setlist(name, values)
        form = RequestForm(data, staged_documents=draft["documents"])
        form.is_valid()
        form.add_field_errors(refusal.errors, target_lines=draft["target_lines"])
        draft["payload"] = None
        staging.draft_save(request.session, draft)
        return _form_page(request, officer, form, draft)
    except Conflict as refusal:
        messages.error(request, domain_message(refusal.message))
        return redirect(reverse("portal:new") + "?change=1")
    staging.draft_discard(request.session)
    request.session[staging.SESSION_SENT] = {
        "draft": draft["id"],
        "request": str(legal_request.public_id),
    }
    return redirect("portal:sent", request_id=legal_request.public_id)


@require_GET
@officer_required
def request_sent_view(
    request: HttpRequest, officer: Officer, request_id: uuid.UUID
) -> HttpResponse:
    legal_request = _agency_request(officer, request_id)
    return render(
        request, "portal/request_sent.html", {"officer": officer, "legal_request": legal_request}
    )
