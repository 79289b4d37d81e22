from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from govreq.accounts.services import time_zones
from govreq.agencies.models import AgencyKind
from govreq.console.labels import label, label_choices
from govreq.core.moments import MomentError, parse_moment
from govreq.intake.models import OffenceCategory, RequestKind, RequestStatus
from govreq.review.models import AssessmentConclusion, DecisionOutcome, RejectionReason


class SignInForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"))
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput)


class SecondFactorForm(forms.Form):
    code = forms.CharField(
        label=_("Code from your authenticator, or a recovery code"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class QueueFilterForm(forms.Form):
    status = forms.MultipleChoiceField(
        label=_("Status"),
        choices=label_choices("status", RequestStatus),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )
    jurisdiction = forms.CharField(label=_("Jurisdiction"), max_length=2, required=False)
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[("", "—"), *label_choices("kind", RequestKind)], required=False
    )
    due_before = forms.DateField(
        label=_("Answer due before"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    mine = forms.BooleanField(label=_("Assigned to me"), required=False)
    order = forms.ChoiceField(
        label=_("Order"),
        choices=[
            ("urgency", _("Most urgent first")),
            ("confidence", _("Least trusted agency first")),
        ],
        required=False,
    )


class PreferencesForm(forms.Form):
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        help_text=_("Every time in the console is shown in this zone."),
        choices=lambda: [(zone, zone) for zone in time_zones()],
    )
    language = forms.ChoiceField(
        label=_("Language of e-mails"),
        help_text=_("The reminders and alerts govreq sends you are written in this language."),
        choices=settings.LANGUAGES,
        required=False,
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


def second_factor_field() -> forms.CharField:
    return forms.CharField(
        label=_("Authenticator code (re-authentication)"),
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class HoldChangeReasonForm(ReasonForm):
    """Lifting or voiding a hold: why, and a fresh second factor."""

    code = second_factor_field()


class HoldChangeConfirmForm(forms.Form):
    code = second_factor_field()


class ReReviewForm(forms.Form):
    resolution = forms.ChoiceField(
        label=_("Outcome of the re-review"),
        choices=[
            ("CONFIRMED", _("The approval stands")),
            ("RETURNED", _("Return to review (the decision lapses)")),
        ],
    )
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class QuestionForm(forms.Form):
    question = forms.CharField(
        label=_("Question or push-back to the agency"), widget=forms.Textarea(attrs={"rows": 3})
    )


class DecisionForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=label_choices("decision", DecisionOutcome)
    )
    rationale = forms.CharField(label=_("Rationale"), widget=forms.Textarea(attrs={"rows": 3}))
    rejection_reasons = forms.MultipleChoiceField(
        label=_("Rejection reasons"),
        choices=label_choices("rejection", RejectionReason),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    approved_target_ids = forms.MultipleChoiceField(
        label=_("Partial: targets to disclose"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    approved_categories = forms.MultipleChoiceField(
        label=_("Partial: data to disclose"), required=False, widget=forms.CheckboxSelectMultiple
    )
    approved_from = forms.DateField(
        label=_("Partial: first day to disclose (optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    approved_to = forms.DateField(
        label=_("Partial: last day to disclose (optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    letter = forms.CharField(
        label=_("Letter to the agency (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(
        self,
        *args: object,
        targets: list[tuple[str, str]],
        categories: list[str],
        preservation: bool = False,
        refused: frozenset[str] = frozenset(),
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["approved_target_ids"].choices = targets  # type: ignore[attr-defined]
        self.fields["approved_categories"].choices = [(c, label(c, "category")) for c in categories]  # type: ignore[attr-defined]
        # A preservation request is preserved or rejected; only it can be preserved.
        allowed = (
            {DecisionOutcome.PRESERVE, DecisionOutcome.REJECTED}
            if preservation
            else set(DecisionOutcome) - {DecisionOutcome.PRESERVE}
        ) - refused
        self.fields["outcome"].choices = [  # type: ignore[attr-defined]
            (value, text)
            for value, text in label_choices("decision", DecisionOutcome)
            if value in allowed
        ]


# The fields each outcome needs beyond the rationale and the letter (the form shows only those).
OUTCOME_FIELDS: dict[str, tuple[str, ...]] = {
    DecisionOutcome.REJECTED: ("rejection_reasons",),
    DecisionOutcome.PARTIAL: (
        "approved_target_ids",
        "approved_categories",
        "approved_from",
        "approved_to",
    ),
}
OUTCOME_SPECIFIC = frozenset(name for names in OUTCOME_FIELDS.values() for name in names)


class ApprovalForm(forms.Form):
    note = forms.CharField(label=_("Note (optional)"), required=False)
    kind = forms.ChoiceField(
        label=_("Approve as"),
        choices=[
            ("", _("Whatever my roles allow")),
            ("STANDARD", _("Approver")),
            ("HUMAN_RIGHTS", _("Human-rights officer")),
        ],
        required=False,
    )
    code = forms.CharField(
        label=_("Authenticator code (re-authentication)"),
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    # The human-rights officer's assessment (required for their approval: the service says so).
    risk_found = forms.CharField(
        label=_("Risk found"),
        help_text=_("What could this disclosure do to the person or to others?"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    standards_applied = forms.CharField(
        label=_("Standards applied"),
        help_text=_("For example: UN Guiding Principles, GNI Principles, ICCPR article 17."),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    conclusion = forms.ChoiceField(
        label=_("Conclusion"),
        choices=[("", "—"), *label_choices("assessment", AssessmentConclusion)],
        required=False,
    )
    conditions = forms.CharField(
        label=_("Conditions"),
        help_text=_("Required when the risk is acceptable only under conditions."),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    ASSESSMENT = ("risk_found", "standards_applied", "conclusion", "conditions")


class HoldForm(forms.Form):
    jurisdiction = forms.CharField(label=_("Jurisdiction (ISO code)"), max_length=2)
    effective_from = forms.DateTimeField(
        label=_("In force from (may lie in the past)"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    effective_to = forms.DateTimeField(
        label=_("Until (optional, exclusive)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    time_zone = forms.ChoiceField(
        label=_("The times above are in"),
        help_text=_(
            "A law takes effect at a moment in its own zone: Hong Kong's National Security Law "
            "at 23:00 on 30 June 2020, Asia/Hong_Kong."
        ),
        choices=lambda: [(zone, zone) for zone in time_zones()],
        required=False,  # then your own zone
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].initial = str(timezone.get_current_timezone())

    def clean(self) -> dict[str, Any]:
        """Read the wall-clock times in the chosen zone (the browser sends them without one)."""
        super().clean()
        data = self.cleaned_data
        zone = data.get("time_zone") or str(timezone.get_current_timezone())
        for name in ("effective_from", "effective_to"):
            moment = data.get(name)
            if moment is not None:
                wall = timezone.make_naive(moment, timezone.get_current_timezone())
                try:  # the one parser: a time the clocks skip or repeat is refused
                    data[name] = parse_moment(f"{wall:%Y-%m-%d %H:%M} {zone}")
                except MomentError as error:
                    self.add_error(name, str(error))
        return data

    reason = forms.CharField(
        label=_("Public reason"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Shown in the transparency report."),
    )
    reason_zh_hant = forms.CharField(
        label=_("Public reason in Traditional Chinese"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "lang": "zh-Hant"}),
        help_text=_("Shown to readers of the Chinese pages; the English reason where empty."),
    )
    review_notes = forms.CharField(
        label=_("Human-rights due-diligence notes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    scope_kinds = forms.MultipleChoiceField(
        label=_("Only these kinds (none = all)"),
        choices=label_choices("kind", RequestKind),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    scope_offences = forms.MultipleChoiceField(
        label=_("Only these offences (none = all)"),
        choices=label_choices("offence", OffenceCategory),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    scope_legal_basis = forms.CharField(
        label=_("Only requests citing (text)"), required=False, max_length=200
    )
    allow_emergency = forms.BooleanField(
        label=_("Let emergencies proceed (with the human-rights officer's approval)"),
        required=False,
    )
    allow_offences = forms.MultipleChoiceField(
        label=_("Let these offence categories proceed (with the human-rights officer's approval)"),
        choices=label_choices("offence", OffenceCategory),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    received_from_start = forms.BooleanField(
        label=_("Only requests received from its start (not every open request)"),
        required=False,
    )
    code = second_factor_field()


class VerifyAgencyForm(forms.Form):
    method = forms.CharField(
        label=_("How was the agency verified?"),
        help_text=_(
            "For example: call-back to the switchboard number in the national government "
            "directory. Never use contact details taken from the request itself."
        ),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class AccessDecisionForm(forms.Form):
    agency = forms.TypedChoiceField(label=_("Agency"), coerce=int, required=False, empty_value=None)
    new_agency_domain = forms.CharField(
        label=_("Official e-mail domain (for a new agency)"), required=False
    )
    new_agency_kind = forms.ChoiceField(
        label=_("Kind (for a new agency)"),
        choices=label_choices("agency_kind", AgencyKind),
        required=False,
    )
    method = forms.CharField(
        label=_("How were the agency and the officer verified?"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class AuditFilterForm(forms.Form):
    action = forms.CharField(label=_("Action starts with"), required=False, max_length=64)
    object_id = forms.CharField(label=_("Object id"), required=False, max_length=64)
    actor = forms.CharField(label=_("Actor contains"), required=False, max_length=254)
    since = forms.DateField(
        label=_("From (date)"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To (date, included)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("since") and data.get("until") and data["until"] < data["since"]:
            self.add_error("until", _("The end date comes before the start date."))
        return data


class ReleaseForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("I have read the scope check and the manifest: release this package to the agency")
    )


class OtherDeliveryForm(forms.Form):
    reason = forms.CharField(
        label=_("How and when it was delivered"), widget=forms.Textarea(attrs={"rows": 2})
    )
    evidence = forms.FileField(label=_("Evidence (a receipt, a letter, a court's order)"))


class NoticeDelayForm(forms.Form):
    reason = forms.CharField(
        label=_("Why the agency's request to wait is accepted"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    until = forms.DateField(
        label=_("Wait until the end of (optional)"),
        help_text=_("In your time zone. Empty: until a reviewer ends the delay."),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        # A day this far off is a typo; the service refuses more than ten years anyway.
        validators=[MaxValueValidator(date(9000, 1, 1))],
    )


class GagExtensionDecisionForm(forms.Form):
    note = forms.CharField(
        label=_("Note (required to refuse)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class CallBackForm(forms.Form):
    """A call-back to the agency: only on one of its verified numbers."""

    contact = forms.TypedChoiceField(
        label=_("Number called (from the agency's verified contacts)"), coerce=int
    )
    called_at = forms.DateTimeField(
        label=_("Called at (your time zone)"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[
            ("CONFIRMED", _("Confirmed: the agency sent this request")),
            ("NOT_CONFIRMED", _("Not confirmed: the agency knows nothing of it")),
            ("NO_ANSWER", _("No answer")),
        ],
    )
    person_reached = forms.CharField(label=_("Who answered"), required=False, max_length=200)
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, contacts: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["contact"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = contacts


class FollowUpForm(forms.Form):
    follow_up = forms.CharField(
        label=_("Reference of the legal process that followed (GR-...)"), max_length=32
    )


class ContactForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[
            ("SWITCHBOARD", _("Switchboard")),
            ("DUTY_OFFICE", _("Duty office (24 hours)")),
            ("LIAISON", _("Liaison unit")),
        ],
    )
    phone = forms.CharField(label=_("Number (international form, +852...)"), max_length=40)
    directory = forms.CharField(
        label=_("Official directory it comes from"),
        help_text=_("Never a number from a request or its e-mail."),
        max_length=300,
    )
    directory_url = forms.URLField(label=_("Directory address (optional)"), required=False)
