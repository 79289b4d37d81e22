"""The review policy as data: thresholds, what each legal process can compel, keyword lists.

A policy admin edits it; every edit is a new, immutable, audited version. The checks read it
through the frozen ``Policy`` value object and never through the ORM.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from govreq.intake.models import DataCategory, OffenceCategory, RequestKind

ALL_CATEGORIES = [c.value for c in DataCategory]
NON_CONTENT = ["BASIC_SUBSCRIBER", "IP_LOGS", "TRANSACTIONAL"]


class Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_accounts: int = Field(default=25, ge=1, le=1000)
    max_range_days: int = Field(default=365, ge=1, le=36500)
    max_gag_days: int = Field(default=365, ge=1, le=36500)
    duplicate_window_days: int = Field(default=30, ge=1, le=3650)


class CrossBorderAgreement(BaseModel):
    """A recorded agreement letting a foreign agency reach more directly (CLOUD Act partners)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    kinds: list[RequestKind] = Field(min_length=1)
    adds: list[DataCategory] = Field(min_length=1)


class HumanRights(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    offences: list[OffenceCategory]
    keywords: dict[str, list[str]] = Field(
        description="Keywords by language tag; matched case-insensitively, English on words."
    )
    high_risk_jurisdictions: list[str] = []

    @field_validator("high_risk_jurisdictions")
    @classmethod
    def _codes(cls, value: list[str]) -> list[str]:
        codes = [code.strip().upper() for code in value]
        for code in codes:
            if len(code) != 2 or not code.isalpha():
                raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 code")
        return sorted(set(codes))


LETTER_OUTCOMES = ("FULL", "PARTIAL", "REJECTED", "NO_DATA", "PRESERVE")
LETTER_FIELDS = (
    "reference",
    "agency",
    "case_number",
    "received",
    "produced",
    "not_produced",
    "reasons",
)


class LetterText(BaseModel):
    """One letter in English and Traditional Chinese. Placeholders in braces: {reference},
    {agency}, {case_number}, {received}, {produced}, {not_produced}, {reasons}."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    en: str = Field(min_length=1)
    zh_hant: str = Field(min_length=1, alias="zh-Hant")

    @model_validator(mode="after")
    def _placeholders(self) -> LetterText:
        for text in (self.en, self.zh_hant):
            try:
                text.format_map(dict.fromkeys(LETTER_FIELDS, ""))
            except (KeyError, ValueError, IndexError) as error:
                raise ValueError(
                    f"unknown or broken placeholder {error} (use {', '.join(LETTER_FIELDS)})"
                ) from None
        return self


class Letters(BaseModel):
    """The letters to agencies: one per outcome, plus a paragraph per rejection reason."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    outcomes: dict[str, LetterText]
    rejection_reasons: dict[str, LetterText] = {}

    @field_validator("outcomes")
    @classmethod
    def _every_outcome(cls, value: dict[str, LetterText]) -> dict[str, LetterText]:
        missing = set(LETTER_OUTCOMES) - set(value)
        if missing:
            raise ValueError(f"a letter is needed for {', '.join(sorted(missing))}")
        return value


# The default letters (English and Traditional Chinese) are data, shipped beside this module.
DEFAULT_LETTERS: dict[str, object] = json.loads(
    (Path(__file__).parent / "letters.json").read_text(encoding="utf-8")
)


NOTICE_FIELDS = (
    "platform",
    "agency",
    "jurisdiction",
    "legal_process",
    "account",
    "disclosed",
    "received",
    "help",
)


class NoticeText(BaseModel):
    """The notice to an account holder, in English and Traditional Chinese: what was asked, by
    which agency, under which process, what was disclosed and where to get help; never the
    agency officer's own details. Placeholders: {platform}, {agency}, {jurisdiction},
    {legal_process}, {account}, {disclosed}, {received}, {help}."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    platform_en: str = Field(min_length=1, max_length=100)
    platform_zh_hant: str = Field(min_length=1, max_length=100, alias="platform_zh-Hant")
    subject_en: str = Field(min_length=1)
    subject_zh_hant: str = Field(min_length=1, alias="subject_zh-Hant")
    en: str = Field(min_length=1)
    zh_hant: str = Field(min_length=1, alias="zh-Hant")

    @model_validator(mode="after")
    def _placeholders(self) -> NoticeText:
        for text in (self.subject_en, self.subject_zh_hant, self.en, self.zh_hant):
            try:
                text.format_map(dict.fromkeys(NOTICE_FIELDS, ""))
            except (KeyError, ValueError, IndexError) as error:
                raise ValueError(
                    f"unknown or broken placeholder {error} (use {', '.join(NOTICE_FIELDS)})"
                ) from None
        return self


class UserNoticePolicy(BaseModel):
    """User notice (RDR P12): tell account holders by default, before disclosure."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # BEFORE_DISCLOSURE: a package is released only once its account holders were told (or the
    # notice is delayed, or impossible); AT_RELEASE: the notices go out as it is released.
    timing: str = Field(default="BEFORE_DISCLOSURE", pattern="^(BEFORE_DISCLOSURE|AT_RELEASE)$")
    # DISCLOSED: the holders of the accounts whose data was disclosed are told. NAMED: also every
    # other account the request named that the platform has, once the request is decided
    # (rejected, no data, or disclosed in part); they are told nothing was disclosed about them.
    # Preservation requests are never told by this rule (nothing is decided about disclosure).
    accounts: str = Field(default="DISCLOSED", pattern="^(DISCLOSED|NAMED)$")
    emergency_delay_days: int = Field(default=90, ge=0, le=3650)
    help: str = "https://www.eff.org/issues/know-your-rights"
    text: NoticeText


class Trust(BaseModel):
    """Trust in the requester: the second-level check of emergencies, the risk signals on an
    officer, the follow-up process an emergency disclosure obliges, and re-verification."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Emergencies need a CONFIRMED call-back to a verified agency contact before approval.
    callback_required_kinds: list[RequestKind] = [RequestKind.EMERGENCY]
    # An officer account or API token younger than this is a risk signal.
    new_officer_days: int = Field(default=7, ge=0, le=3650)
    # Words that press for speed, in English and Traditional Chinese (matched case-insensitively;
    # Chinese as substrings). Urgency alone is normal in an emergency; with other signals it is
    # the pattern of the fake emergency.
    urgency_keywords: list[str] = Field(
        default=[
            "urgent",
            "urgently",
            "immediately",
            "asap",
            "right now",
            "within the hour",
            "without delay",
            "time-sensitive",
            "time sensitive",
            "life or death",
            "緊急",
            "立即",
            "馬上",
            "即時",
            "刻不容緩",
            "火速",
        ]
    )
    # How many risk signals make a WARN, and how many a BLOCK that only a confirmed call-back
    # clears.
    signals_to_block: int = Field(default=3, ge=1, le=10)
    # Fraud flags on the agency (any officer) in this many days count as a signal.
    fraud_flag_window_days: int = Field(default=365, ge=1, le=3650)
    # An officer has a usual channel (API, portal, keyed in by staff) once this many earlier
    # requests came in and more than half of them through one channel; a request through
    # another is a signal. Fewer requests say nothing about a habit.
    usual_channel_min_requests: int = Field(default=3, ge=1, le=1000)
    # An emergency disclosure obliges formal legal process within this many days.
    follow_up_days: int = Field(default=30, ge=1, le=365)
    # Agencies are verified again this often; the worker flags the overdue ones.
    reverify_days: int = Field(default=365, ge=30, le=3650)


class Deadlines(BaseModel):
    """Response targets (SLAs) and when staff are reminded. Keys are request kinds or
    ``default``. For the kinds in ``fixed_kinds`` the policy's target holds (an earlier deadline
    set by the agency still wins); for the others the agency's own deadline, when it gave one,
    replaces the policy's. A request's target is set when it is received, by the policy then in
    force."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    respond_within_hours: dict[str, int] = {"EMERGENCY": 4, "default": 30 * 24}
    fixed_kinds: list[RequestKind] = [RequestKind.EMERGENCY]
    remind_before_hours: dict[str, int] = {"EMERGENCY": 1, "default": 48}
    # An emergency nobody is assigned to after this long alerts every reviewer.
    emergency_unassigned_minutes: int = Field(default=15, ge=1, le=24 * 60)

    @field_validator("respond_within_hours", "remind_before_hours")
    @classmethod
    def _kinds_and_hours(cls, value: dict[str, int]) -> dict[str, int]:
        if "default" not in value:
            raise ValueError("needs a 'default' entry")
        for key, hours in value.items():
            if key != "default" and key not in RequestKind.values:
                raise ValueError(f"{key!r} is not a request kind (or 'default')")
            if not 0 < hours <= 24 * 3650:
                raise ValueError(f"{key}: {hours} is not between 1 and 87600 hours")
        return value

    def respond_within(self, kind: str) -> int:
        return self.respond_within_hours.get(kind, self.respond_within_hours["default"])

    def remind_before(self, kind: str) -> int:
        return self.remind_before_hours.get(kind, self.remind_before_hours["default"])


class PolicyDocument(BaseModel):
    """The whole policy. ``process`` maps a jurisdiction code (or ``default``) to, per kind of
    legal process, the data categories that process can compel there."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    thresholds: Thresholds = Thresholds()
    process: dict[str, dict[RequestKind, list[DataCategory]]]
    cross_border_agreements: dict[str, CrossBorderAgreement] = {}
    human_rights: HumanRights
    emergency_danger_keywords: list[str] = Field(min_length=1)
    # Letters to agencies (editable policy data; a reviewer adjusts them per case).
    letters: Letters = Letters.model_validate(DEFAULT_LETTERS)
    deadlines: Deadlines = Deadlines()
    trust: Trust = Trust()
    user_notice: UserNoticePolicy = UserNoticePolicy.model_validate(
        json.loads((Path(__file__).parent / "user_notice.json").read_text(encoding="utf-8"))
    )

    @model_validator(mode="after")
    def _has_default(self) -> PolicyDocument:
        if "default" not in self.process:
            raise ValueError("process must have a 'default' table")
        for jurisdiction, table in self.process.items():
            missing = set(RequestKind) - set(table)
            if missing:
                raise ValueError(
                    f"process.{jurisdiction} lacks {', '.join(sorted(k.value for k in missing))}"
                )
        return self


DEFAULT_POLICY: dict[str, object] = {
    "thresholds": {
        "max_accounts": 25,
        "max_range_days": 365,
        "max_gag_days": 365,
        "duplicate_window_days": 30,
    },
    "process": {
        # 18 U.S.C. 2703: subpoena -> BSI; 2703(d) order adds non-content; warrant reaches all.
        "US": {
            "SUBPOENA": ["BASIC_SUBSCRIBER"],
            "COURT_ORDER": NON_CONTENT,
            "SEARCH_WARRANT": ALL_CATEGORIES,
            "EMERGENCY": ALL_CATEGORIES,
            "PRESERVATION": ALL_CATEGORIES,
            "MLAT": ALL_CATEGORIES,
            "OTHER": ["BASIC_SUBSCRIBER"],
        },
        # Outside the US: content and location only through MLAT (or a recorded agreement).
        "default": {
            "SUBPOENA": ["BASIC_SUBSCRIBER"],
            "COURT_ORDER": NON_CONTENT,
            "SEARCH_WARRANT": NON_CONTENT,
            "EMERGENCY": ALL_CATEGORIES,
            "PRESERVATION": ALL_CATEGORIES,
            "MLAT": ALL_CATEGORIES,
            "OTHER": ["BASIC_SUBSCRIBER"],
        },
    },
    "cross_border_agreements": {
        "GB": {
            "name": "US-UK Data Access Agreement (CLOUD Act)",
            "kinds": ["SEARCH_WARRANT", "COURT_ORDER"],
            "adds": ["CONTENT", "LOCATION"],
        },
        "AU": {
            "name": "US-Australia CLOUD Act Agreement",
            "kinds": ["SEARCH_WARRANT", "COURT_ORDER"],
            "adds": ["CONTENT", "LOCATION"],
        },
    },
    "human_rights": {
        "offences": ["NATIONAL_SECURITY", "PUBLIC_ORDER", "DEFAMATION"],
        "keywords": {
            # Unambiguous words or phrases only: "march" (the month), "media" ("social media"),
            # "assembly" and "strike" alone would flag ordinary narratives.
            "en": [
                "protest",
                "protester",
                "demonstration",
                "demonstrator",
                "rally",
                "unlawful assembly",
                "unauthorised assembly",
                "unauthorized assembly",
                "protest march",
                "activist",
                "dissident",
                "opposition",
                "journalist",
                "reporter",
                "press",
                "newspaper",
                "editor",
                "blogger",
                "news media",
                "independent media",
                "election",
                "candidate",
                "vote",
                "political",
                "politician",
                "criticism",
                "criticised",
                "criticized",
                "satire",
                "satirical",
                "cartoon",
                "religion",
                "religious",
                "church",
                "mosque",
                "temple",
                "falun gong",
                "uyghur",
                "tibet",
                "independence",
                "secession",
                "subversion",
                "sedition",
                "seditious",
                "democracy",
                "pro-democracy",
                "human rights",
                "trade union",
                "general strike",
                "hunger strike",
                "lgbt",
                "liberate hong kong",
                "revolution of our times",
                "umbrella movement",
            ],
            "zh-Hant": [
                "示威",
                "抗議",
                "遊行",
                "集會",
                "記者",
                "新聞",
                "傳媒",
                "編輯",
                "宗教",
                "教會",
                "法輪功",
                "民主",
                "獨立",
                "港獨",
                "分裂國家",
                "顛覆",
                "煽動",
                "光復香港",
                "時代革命",
                "反送中",
                "選舉",
                "政治",
                "維權",
                "人權",
                "罷工",
                "工會",
            ],
            "zh-Hans": [
                "示威",
                "抗议",
                "游行",
                "集会",
                "记者",
                "新闻",
                "传媒",
                "宗教",
                "法轮功",
                "民主",
                "独立",
                "分裂国家",
                "颠覆",
                "煽动",
                "选举",
                "政治",
                "维权",
                "人权",
            ],
        },
        "high_risk_jurisdictions": [],
    },
    "emergency_danger_keywords": [
        "death",
        "die",
        "dying",
        "kill",
        "killed",
        "murder",
        "suicide",
        "suicidal",
        "self-harm",
        "injury",
        "injured",
        "harm",
        "shoot",
        "shooting",
        "gun",
        "weapon",
        "bomb",
        "explosive",
        "attack",
        "kidnap",
        "kidnapped",
        "kidnapping",
        "abduct",
        "abducted",
        "abduction",
        "hostage",
        "missing child",
        "life",
        "overdose",
        "threat to life",
        "serious physical",
        "生命",
        "自殺",
        "綁架",
        "炸彈",
        "死亡",
        "受傷",
        "自杀",
        "绑架",
        "炸弹",
        "受伤",
    ],
}
