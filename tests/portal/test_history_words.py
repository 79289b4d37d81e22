"""The request's history on the portal in the officer's language: the system's own words are
translated, a hold is named as such, the officer's own words stay as written."""

from __future__ import annotations

from django.utils import translation

from govreq.portal.views import _officer_reason


def test_history_lines_in_chinese():
    with translation.override("zh-hant"):
        assert _officer_reason("Agency answered") == "機構已回覆"
        assert _officer_reason("Package downloaded by the agency") == "機構已下載資料包"
        held = _officer_reason("Hold #1: National Security Law in force")
        assert held.startswith("因暫停") and held.endswith("National Security Law in force")
        assert _officer_reason("Matter resolved without the data") == (
            "Matter resolved without the data"
        )
    with translation.override("en"):
        assert _officer_reason("Agency answered") == "Agency answered"
