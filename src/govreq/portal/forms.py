"""Portal forms. Labels, help texts and the messages written here are translated; choice labels
of the domain's models (English) are translated through the mappings below."""

from __future__ import annotations

import functools
import re
import zoneinfo
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from govreq.agencies.models import AgencyKind
from govreq.core.errors import FieldError
from govreq.core.moments import MomentError, parse_moment
from govreq.intake.models import (
    DataCategory,
    OffenceCategory,
    RequestKind,
    RequestStatus,
    TargetType,
)
from govreq.intake.schemas import MAX_TARGETS
from govreq.jurisdictions.models import Jurisdiction
from govreq.jurisdictions.names import country_name
from govreq.notices.models import ExtensionStatus
from govreq.portal.staging import MAX_DOCUMENTS, StagedDocument
from govreq.portal.targets import TargetLine
from govreq.review.models import DecisionOutcome

KIND_LABELS: dict[str, Promise] = {
    RequestKind.SUBPOENA: _("Subpoena"),
    RequestKind.COURT_ORDER: _("Court order"),
    RequestKind.SEARCH_WARRANT: _("Search warrant"),
    RequestKind.EMERGENCY: _("Emergency disclosure request"),
    RequestKind.PRESERVATION: _("Preservation request"),
    RequestKind.MLAT: _("MLAT / letters rogatory"),
    RequestKind.OTHER: pgettext_lazy("request kind", "Other"),
}
OFFENCE_LABELS: dict[str, Promise] = {
    OffenceCategory.CHILD_SAFETY: _("Child safety"),
    OffenceCategory.TERRORISM: _("Terrorism"),
    OffenceCategory.VIOLENT_CRIME: _("Violent crime"),
    OffenceCategory.HUMAN_TRAFFICKING: _("Human trafficking"),
    OffenceCategory.FRAUD: _("Fraud"),
    OffenceCategory.CYBERCRIME: _("Cybercrime"),
    OffenceCategory.NATIONAL_SECURITY: _("National security"),
    OffenceCategory.PUBLIC_ORDER: _("Public order"),
    OffenceCategory.DEFAMATION: _("Defamation"),
    OffenceCategory.OTHER: pgettext_lazy("offence category", "Other"),
}
DATA_CATEGORY_LABELS: dict[str, Promise] = {
    DataCategory.BASIC_SUBSCRIBER: _("Basic subscriber information"),
    DataCategory.IP_LOGS: _("IP address logs"),
    DataCategory.TRANSACTIONAL: _("Transactional (non-content) records"),
    DataCategory.CONTENT: _("Stored content"),
    DataCategory.LOCATION: _("Location history"),
}
STATUS_LABELS: dict[str, Promise] = {
    RequestStatus.RECEIVED: _("Received"),
    RequestStatus.IN_REVIEW: _("In review"),
    RequestStatus.NEEDS_CLARIFICATION: _("Needs clarification"),
    RequestStatus.ESCALATED: _("Escalated to human-rights review"),
    RequestStatus.DECIDED: _("Decided, awaiting approval"),
    RequestStatus.APPROVED: _("Approved"),
    RequestStatus.PRODUCED: _("Ready to download"),
    RequestStatus.DELIVERED: _("Delivered"),
    RequestStatus.PRESERVED: _("Preserved"),
    RequestStatus.CLOSED: _("Closed"),
    RequestStatus.ON_HOLD: _("On hold"),
    RequestStatus.WITHDRAWN: _("Withdrawn"),
    RequestStatus.REJECTED: _("Rejected"),
}
OUTCOME_LABELS: dict[str, Promise] = {
    DecisionOutcome.FULL: _("Data disclosed in full"),
    DecisionOutcome.PARTIAL: _("Data disclosed in part"),
    DecisionOutcome.REJECTED: _("Rejected"),
    DecisionOutcome.NO_DATA: _("No data found"),
    DecisionOutcome.PRESERVE: _("Records preserved (nothing disclosed)"),
}
TARGET_TYPE_LABELS: dict[str, Promise] = {
    TargetType.USERNAME: _("Username"),
    TargetType.USER_ID: _("User id"),
    TargetType.EMAIL: _("E-mail address"),
    TargetType.PHONE: _("Phone number"),
    TargetType.IP_ADDRESS: _("IP address"),
    TargetType.URL: _("URL"),
}
EXTENSION_STATUS_LABELS: dict[str, Promise] = {
    ExtensionStatus.PENDING: _("Waiting for the platform's review"),
    ExtensionStatus.ACCEPTED: _("Accepted"),
    ExtensionStatus.REFUSED: _("Refused"),
}
AGENCY_KIND_LABELS: dict[str, Promise] = {
    AgencyKind.POLICE: _("Police"),
    AgencyKind.PROSECUTOR: _("Prosecutor"),
    AgencyKind.COURT: _("Court"),
    AgencyKind.REGULATOR: _("Regulator"),
    AgencyKind.INTELLIGENCE: _("Intelligence service"),
    AgencyKind.OTHER: pgettext_lazy("agency kind", "Other"),
}

# Fixed messages of the intake rules and the portal's services, so they read in the officer's
# language; anything not listed is shown as the service wrote it.
_DOMAIN_MESSAGES: dict[str, Promise] = {
    "must not be blank": _("must not be blank"),
    "must not be empty": _("must not be empty"),
    "cite the law the request is issued under": _("cite the law the request is issued under"),
    "lists a category twice": _("lists a category twice"),
    "is before data_range.start": _("is before the start date"),
    "lies in the future": _("lies in the future"),
    "lies in the past": _("lies in the past"),
    "needs a time zone (e.g. ...Z or +08:00)": _("needs a time zone"),
    "a non-disclosure order must state when it expires": _(
        "a non-disclosure order must state when it expires"
    ),
    "has already passed": _("has already passed"),
    "is only for requests of kind EMERGENCY": _("is only for emergency disclosure requests"),
    "name at least one account": _("name at least one account"),
    "the officer is suspended": _("your account is suspended"),
    "the agency is suspended": _("your agency is suspended"),
    "is empty": _("is empty"),
    "is no longer staged": _("is no longer attached; attach it again"),
    "is not a PDF, PNG, JPEG, TIFF or plain-text (UTF-8) document": _(
        "is not a PDF, PNG, JPEG, TIFF or plain-text (UTF-8) document"
    ),
    "this document is already attached to the request": _("is attached twice"),
    "String should have at least 1 character": _("must not be empty"),
    "String should have at most 500 characters": _("is longer than 500 characters"),
    "is longer than 500 characters": _("is longer than 500 characters"),
}
# Target messages quote the value: "'nope' is not an e-mail address".
_TARGET_MESSAGES: tuple[tuple[re.Pattern[str], Promise], ...] = tuple(
    (re.compile(r"^'(?P<value>.*)' " + re.escape(tail) + "$", re.DOTALL), label)
    for tail, label in (
        ("is not an e-mail address", _("“%(value)s” is not an e-mail address")),
        ("is not a phone number", _("“%(value)s” is not a phone number")),
        (
            "is not a phone number (give it in international form, +CC...)",
            _("“%(value)s” is not a phone number (give it in international form, +CC…)"),
        ),
        ("is not a valid phone number", _("“%(value)s” is not a valid phone number")),
        ("is not an IPv4 or IPv6 address", _("“%(value)s” is not an IPv4 or IPv6 address")),
        ("is not a URL", _("“%(value)s” is not a URL")),
        ("is not an http(s) URL", _("“%(value)s” is not an http(s) URL")),
        ("is not a URL (it contains spaces)", _("“%(value)s” is not a URL (it contains spaces)")),
        (
            "is not a username (no spaces allowed)",
            _("“%(value)s” is not a username (no spaces allowed)"),
        ),
        (
            "is not a user id (no spaces allowed)",
            _("“%(value)s” is not a user id (no spaces allowed)"),
        ),
    )
)


def domain_message(message: str) -> str:
    """A service's English field message in the current language, when the portal knows it."""
    known = _DOMAIN_MESSAGES.get(message)
    if known is not None:
        return str(known)
    for pattern, label in _TARGET_MESSAGES:
        match = pattern.match(message)
        if match:
            return str(label) % {"value": match.group("value")}
    return message


def _choices(labels: dict[str, Promise]) -> list[tuple[str, Promise]]:
    return list(labels.items())


class SignInForm(forms.Form):
    email = forms.EmailField(
        label=_("Official e-mail address"),
        max_length=254,
        help_text=_("The address at your agency's official domain that the platform knows."),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )


class CodeForm(forms.Form):
    email = forms.EmailField(
        label=_("Official e-mail address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    code = forms.CharField(
        label=_("Sign-in code"),
        max_length=20,
        help_text=_("The 8-digit code from the e-mail. It works once, for 10 minutes."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class AuthenticatorCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Authenticator code"),
        max_length=20,
        help_text=_(
            "The 6-digit code your authenticator app shows now, or one of your recovery codes."
        ),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


@functools.cache
def _jurisdiction_choices() -> list[tuple[str, str]]:
    return [
        (code, f"{name} ({code})")
        for code, name in Jurisdiction.objects.values_list("code", "name")
    ]


def jurisdiction_choices() -> list[tuple[str, str]]:
    """Every country and territory, named in the reader's language, in that order."""
    named = [
        (code, f"{country_name(code, fallback=label.rsplit(' (', 1)[0])} ({code})")
        for code, label in _jurisdiction_choices()
    ]
    return [("", "—"), *sorted(named, key=lambda choice: choice[1])]


class AccessRequestForm(forms.Form):
    name = forms.CharField(label=_("Your full name"), max_length=200)
    email = forms.EmailField(
        label=_("Official e-mail address"),
        max_length=254,
        help_text=_("Your address at your agency's official domain."),
    )
    badge_number = forms.CharField(label=_("Badge or staff number"), max_length=64, required=False)
    agency_name = forms.CharField(label=_("Agency"), max_length=200)
    jurisdiction = forms.ChoiceField(label=_("Country or territory"), choices=jurisdiction_choices)
    agency_kind = forms.ChoiceField(
        label=_("Kind of agency"), choices=[("", "—"), *_choices(AGENCY_KIND_LABELS)]
    )
    note = forms.CharField(
        label=_("Anything we should know"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("Your answer"), max_length=20000, widget=forms.Textarea(attrs={"rows": 4})
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Why are you withdrawing the request?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class GagExtensionForm(forms.Form):
    """A new non-disclosure order that extends the one in force."""

    document = forms.FileField(
        label=_("The new order"),
        help_text=_("The signed order: PDF, PNG, JPEG, TIFF or plain text, at most 25 MB."),
    )
    new_expires_on = forms.DateField(
        label=_("The new order expires on"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    legal_basis = forms.CharField(
        label=_("Legal basis of the non-disclosure order"), max_length=2000, required=False
    )


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name; cleans to a list (empty when none were chosen)."""

    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


@functools.cache
def _time_zones() -> list[tuple[str, str]]:
    zones = sorted(zoneinfo.available_timezones() | {"UTC"})
    return [(zone, zone.replace("_", " ")) for zone in zones if "/" in zone or zone == "UTC"]


def time_zone_choices() -> list[tuple[str, str]]:
    return _time_zones()


# The form fields that hold several values, for refilling the form from the draft.
MULTI_VALUE_FIELDS = ("data_categories",)


class RequestForm(forms.Form):
    """Every field of the API's RequestSubmission, plus documents; targets one per line."""

    kind = forms.ChoiceField(
        label=_("Kind of legal process"), choices=[("", "—"), *_choices(KIND_LABELS)]
    )
    legal_basis = forms.CharField(
        label=_("Legal basis"),
        max_length=2000,
        required=False,
        help_text=_(
            "The law the request is issued under, e.g. “18 U.S.C. 2703(d)”. "
            "Required except for emergency requests."
        ),
    )
    issuing_authority = forms.CharField(
        label=_("Issuing authority"),
        max_length=300,
        required=False,
        help_text=_("The court, judge or official who issued or signed the process."),
    )
    agency_case_number = forms.CharField(
        label=_("Your case number"), max_length=100, required=False
    )
    offence_category = forms.ChoiceField(
        label=_("Offence"), choices=[("", "—"), *_choices(OFFENCE_LABELS)]
    )
    narrative = forms.CharField(
        label=_("Facts of the case"),
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("What happened, and how the accounts are connected to it."),
    )
    data_categories = forms.MultipleChoiceField(
        label=_("Data requested"),
        choices=_choices(DATA_CATEGORY_LABELS),
        widget=forms.CheckboxSelectMultiple,
    )
    data_start = forms.DateField(
        label=_("Data from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    data_end = forms.DateField(
        label=_("Data until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Leave both dates empty to ask for no particular period."),
    )
    deadline_at = forms.DateTimeField(
        label=_("Deadline"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    deadline_tz = forms.ChoiceField(
        label=_("Time zone of the deadline"), choices=time_zone_choices, initial="UTC"
    )
    targets = forms.CharField(
        label=_("Accounts"),
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false", "class": "mono"}),
        help_text=_(
            "One account per line. Write the type first to be explicit: “EMAIL: a@example.com”, "
            "“PHONE: +852 9123 4567”, “IP_ADDRESS: 192.0.2.1”, “URL: https://…”, "
            "“USERNAME: name”, “USER_ID: 123”. Without a type, an address with @ is an e-mail, "
            "+digits a phone number, an IP address an IP address, http(s):// a URL, anything "
            "else a username."
        ),
    )
    gag_order = forms.BooleanField(
        label=_("A non-disclosure order forbids telling the user"), required=False
    )
    gag_legal_basis = forms.CharField(
        label=_("Legal basis of the non-disclosure order"), max_length=2000, required=False
    )
    gag_expires_on = forms.DateField(
        label=_("The non-disclosure order expires on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    emergency_danger = forms.CharField(
        label=_("The danger of death or serious physical injury"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    emergency_why_now = forms.CharField(
        label=_("Why disclosure cannot wait for legal process"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    documents = MultipleFileField(
        label=_("Legal documents"),
        required=False,
        help_text=_(
            "The signed legal process and anything supporting it: PDF, PNG, JPEG, TIFF or plain "
            "text, at most 25 MB each. Without one, a request cannot be reviewed (emergency and "
            "preservation requests excepted)."
        ),
    )
    remove_documents = forms.MultipleChoiceField(
        label=_("Remove"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(
        self, *args: Any, staged_documents: Sequence[StagedDocument] = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.staged_documents = list(staged_documents)
        self.fields["remove_documents"].choices = [  # type: ignore[attr-defined]
            (document["file"], document["name"]) for document in self.staged_documents
        ]

    def clean_documents(self) -> list[UploadedFile]:
        uploads: list[UploadedFile] = self.cleaned_data.get("documents") or []
        if len(uploads) + len(self.staged_documents) > MAX_DOCUMENTS:
            raise forms.ValidationError(
                gettext("Attach at most %(count)d documents.") % {"count": MAX_DOCUMENTS}
            )
        return uploads

    def clean_targets(self) -> str:
        text: str = self.cleaned_data["targets"]
        lines = [line for line in text.splitlines() if line.strip()]
        if not lines:
            raise forms.ValidationError(gettext("Name at least one account."))
        if len(lines) > MAX_TARGETS:
            raise forms.ValidationError(
                gettext("At most %(count)d accounts per request.") % {"count": MAX_TARGETS}
            )
        return text

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("data_start"), cleaned.get("data_end")
        if (start is None) != (end is None) and not self.has_error("data_start"):
            missing = "data_end" if end is None else "data_start"
            if not self.has_error(missing):
                self.add_error(missing, gettext("Give both dates, or neither."))
        if not cleaned.get("gag_order") and (
            cleaned.get("gag_legal_basis") or cleaned.get("gag_expires_on")
        ):
            self.add_error(
                "gag_order",
                gettext(
                    "You described a non-disclosure order: tick this box to include it, "
                    "or clear its details."
                ),
            )
        deadline = cleaned.get("deadline_at")
        zone = cleaned.get("deadline_tz")
        if isinstance(deadline, datetime) and zone:
            # The field read the time in the server's zone; it means the chosen zone's wall time.
            wall_time = timezone.make_naive(deadline) if timezone.is_aware(deadline) else deadline
            try:  # the one parser every interface uses (core.moments)
                cleaned["deadline_at"] = parse_moment(f"{wall_time:%Y-%m-%d %H:%M} {zone}")
            except MomentError:
                self.add_error(
                    "deadline_at",
                    gettext(
                        "This time does not exist in that zone, or happens twice there, because "
                        "the clocks change: choose another."
                    ),
                )
        return cleaned

    def submission_body(self, target_lines: list[TargetLine]) -> dict[str, Any]:
        """The RequestSubmission body this form describes (validated by the schema next)."""
        cleaned = self.cleaned_data
        body: dict[str, Any] = {
            "kind": cleaned["kind"],
            "legal_basis": cleaned["legal_basis"],
            "issuing_authority": cleaned["issuing_authority"],
            "agency_case_number": cleaned["agency_case_number"],
            "offence_category": cleaned["offence_category"],
            "narrative": cleaned["narrative"],
            "data_categories": list(cleaned["data_categories"]),
            "data_range": None,
            "deadline_at": cleaned.get("deadline_at"),
            "gag_order": None,
            "emergency": None,
            "targets": [{"type": line.type.value, "value": line.value} for line in target_lines],
        }
        if cleaned.get("data_start") and cleaned.get("data_end"):
            body["data_range"] = {"start": cleaned["data_start"], "end": cleaned["data_end"]}
        if cleaned.get("gag_order"):
            body["gag_order"] = {
                "legal_basis": cleaned["gag_legal_basis"],
                "expires_on": cleaned.get("gag_expires_on"),
            }
        if cleaned.get("emergency_danger") or cleaned.get("emergency_why_now"):
            body["emergency"] = {
                "danger": cleaned["emergency_danger"],
                "why_now": cleaned["emergency_why_now"],
            }
        return body

    def add_field_errors(
        self, errors: Sequence[FieldError], *, target_lines: Sequence[int]
    ) -> None:
        """Show each schema or service error next to the form field it concerns."""
        for error in errors:
            field, line = field_for_path(error.field, target_lines=target_lines)
            message = domain_message(error.message)
            if field == "targets" and line:
                message = gettext("Line %(line)s: %(message)s") % {"line": line, "message": message}
            elif field == "documents":
                name = self._document_name(error.field)
                if name:
                    message = gettext("%(name)s: %(message)s") % {"name": name, "message": message}
            self.add_error(field, message)

    def _document_name(self, path: str) -> str | None:
        match = re.match(r"^documents\[(\d+)\]", path)
        if match and int(match.group(1)) < len(self.staged_documents):
            return self.staged_documents[int(match.group(1))]["name"]
        return None


# Error paths of the submission schema and intake rules -> the form field showing them.
_FIELD_FOR_PATH = {
    "kind": "kind",
    "legal_basis": "legal_basis",
    "issuing_authority": "issuing_authority",
    "agency_case_number": "agency_case_number",
    "offence_category": "offence_category",
    "narrative": "narrative",
    "data_categories": "data_categories",
    "data_range": "data_start",
    "data_range.start": "data_start",
    "data_range.end": "data_end",
    "deadline_at": "deadline_at",
    "gag_order": "gag_order",
    "gag_order.legal_basis": "gag_legal_basis",
    "gag_order.expires_on": "gag_expires_on",
    "emergency": "emergency_danger",
    "emergency.danger": "emergency_danger",
    "emergency.why_now": "emergency_why_now",
    "targets": "targets",
    "documents": "documents",
    "file": "documents",
}


def field_for_path(path: str, *, target_lines: Sequence[int]) -> tuple[str | None, str]:
    """The form field showing an error at ``path`` (None: the whole form) and, for a target,
    the number of the line it was written on ("" otherwise)."""
    target = re.match(r"^targets\[(\d+)\]", path)
    if target:
        index = int(target.group(1))
        line = target_lines[index] if index < len(target_lines) else index + 1
        return "targets", str(line)
    if path.startswith("documents["):
        return "documents", ""
    key = re.sub(r"\[\d+\]", "", path)
    while key:
        if key in _FIELD_FOR_PATH:
            return _FIELD_FOR_PATH[key], ""
        key = key.rpartition(".")[0]
    return None, ""


def form_initial(data: dict[str, list[str]]) -> dict[str, Any]:
    """The form's initial values from the data it was last submitted with."""
    return {
        name: (values if name in MULTI_VALUE_FIELDS else (values[-1] if values else ""))
        for name, values in data.items()
    }


def request_form_data(post: Any) -> dict[str, list[str]]:
    """What the officer typed (not the CSRF token or the draft controls), to refill the form."""
    skip = {"csrfmiddlewaretoken", "draft", "remove_documents"}
    return {name: post.getlist(name) for name in post if name not in skip}
