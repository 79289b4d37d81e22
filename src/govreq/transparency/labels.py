"""The public words for the report's codes, marked for translation (English, 繁體中文)."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

KINDS: dict[str, Promise] = {
    "SUBPOENA": _("Subpoena"),
    "COURT_ORDER": _("Court order"),
    "SEARCH_WARRANT": _("Search warrant"),
    "EMERGENCY": _("Emergency disclosure request"),
    "PRESERVATION": _("Preservation request"),
    "MLAT": _("MLAT / letters rogatory"),
    "OTHER": _("Other legal process"),
}
OUTCOMES: dict[str, Promise] = {
    "FULL": _("Data produced in full"),
    "PARTIAL": _("Data produced in part"),
    "REJECTED": _("Rejected"),
    "NO_DATA": _("No data found"),
    "WITHDRAWN": _("Withdrawn by the agency"),
    "PENDING": _("Pending at the end of the period"),
}
REJECTION_REASONS: dict[str, Promise] = {
    "INVALID_PROCESS": _("Invalid or insufficient legal process"),
    "OVERBROAD": _("Overbroad"),
    "JURISDICTION_HOLD": _("Jurisdiction hold"),
    "HUMAN_RIGHTS": _("Human-rights concerns"),
    "NO_SUCH_ACCOUNT": _("No such account"),
    "OTHER": _("Other reason"),
}
CONTENT: dict[str, Promise] = {
    "sought_content": _("Requests seeking content"),
    "sought_non_content_only": _("Requests seeking non-content data only"),
    "disclosed_content": _("Data produced included content"),
    "disclosed_non_content_only": _("Data produced was non-content only"),
}
NOTICE_DELAYS: dict[str, Promise] = {
    "GAG_ORDER": _("because a gag order was in force"),
    "EMERGENCY": _("after an emergency disclosure, for the time our policy sets"),
    "CHILD_SAFETY": _("in a child-safety case"),
    "AGENCY_REQUEST": _("at the agency's request, accepted by a reviewer"),
}
OFFENCES: dict[str, Promise] = {
    "CHILD_SAFETY": _("child safety"),
    "TERRORISM": _("terrorism"),
    "VIOLENT_CRIME": _("violent crime"),
    "HUMAN_TRAFFICKING": _("human trafficking"),
    "FRAUD": _("fraud"),
    "CYBERCRIME": _("cybercrime"),
    "NATIONAL_SECURITY": _("national security"),
    "PUBLIC_ORDER": _("public order"),
    "DEFAMATION": _("defamation"),
    "OTHER": _("other offences"),
}


def period_name(label: str) -> str:
    """A report period in the reader's words: "2020-H2" stays "2020-H2" in English (the label
    the exports and URLs use) and reads 2020年下半年 in Chinese."""
    year, _, part = str(label).partition("-")
    if part == "H1":
        return pgettext("period", "%(year)s-H1") % {"year": year}
    if part == "H2":
        return pgettext("period", "%(year)s-H2") % {"year": year}
    return pgettext("period", "%(year)s") % {"year": year} if not part else str(label)
