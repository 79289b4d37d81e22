"""Letters to agencies, composed from the policy's templates. Pure: no ORM, no clock.

A reviewer may write the letter; when they leave it empty, the decision's letter is composed
from the policy's templates for its outcome (and a paragraph per rejection reason), in English,
and also in Traditional Chinese for agencies whose official language it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from govreq.policy.document import Letters

# Agencies in these jurisdictions get the letter in Traditional Chinese first, then English.
TRADITIONAL_CHINESE = frozenset({"HK", "MO", "TW"})
# The portal's wording of the data categories (portal/locale), for the letters.
CATEGORY_NAMES = {
    "en": {
        "BASIC_SUBSCRIBER": "basic subscriber information",
        "IP_LOGS": "IP address logs",
        "TRANSACTIONAL": "transactional (non-content) records",
        "CONTENT": "stored content",
        "LOCATION": "location history",
    },
    "zh-Hant": {
        "BASIC_SUBSCRIBER": "基本用戶資料",
        "IP_LOGS": "IP 位址紀錄",
        "TRANSACTIONAL": "交易（非內容）紀錄",
        "CONTENT": "已儲存的內容",
        "LOCATION": "位置紀錄",
    },
}
_AND = {"en": ", ", "zh-Hant": "、"}
_NOTHING = {"en": "nothing", "zh-Hant": "無"}


@dataclass(frozen=True, kw_only=True)
class LetterFacts:
    reference: str
    agency: str
    jurisdiction: str
    case_number: str
    received: date
    outcome: str
    rejection_reasons: Sequence[str] = ()
    produced_accounts: Sequence[str] = ()
    produced_categories: Sequence[str] = ()
    not_produced_accounts: Sequence[str] = ()
    not_produced_categories: Sequence[str] = ()


def _listing(language: str, accounts: Sequence[str], categories: Sequence[str]) -> str:
    names = [CATEGORY_NAMES[language].get(c, c) for c in categories]
    parts = [p for p in (_AND[language].join(accounts), _AND[language].join(names)) if p]
    if not parts:
        return _NOTHING[language]
    return " (".join(parts) + (")" if len(parts) == 2 else "")


def _one(letters: Letters, facts: LetterFacts, language: str) -> str:
    template = letters.outcomes[facts.outcome]
    reasons = " ".join(
        getattr(letters.rejection_reasons[r], "en" if language == "en" else "zh_hant")
        for r in facts.rejection_reasons
        if r in letters.rejection_reasons
    )
    text = template.en if language == "en" else template.zh_hant
    return text.format_map(
        {
            "reference": facts.reference,
            "agency": facts.agency,
            "case_number": facts.case_number or "-",
            "received": facts.received.isoformat(),
            "produced": _listing(language, facts.produced_accounts, facts.produced_categories),
            "not_produced": _listing(
                language, facts.not_produced_accounts, facts.not_produced_categories
            ),
            "reasons": reasons,
        }
    ).strip()


def letter_compose(letters: Letters, facts: LetterFacts) -> str:
    """The letter for a decision, in the agency's languages."""
    english = _one(letters, facts, "en")
    if facts.jurisdiction in TRADITIONAL_CHINESE:
        return f"{_one(letters, facts, 'zh-Hant')}\n\n{english}"
    return english
