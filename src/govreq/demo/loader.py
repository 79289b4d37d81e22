"""The demo data set: agencies, officers and about a hundred requests of every kind, 2019-2021.

Loaded through the same services as real data (with the clock set to each event's historical
time), so the audit chain and status history are exactly what real use would produce. Loading is
idempotent: a second run finds the demo agencies and does nothing.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import phonenumbers
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from govreq.accounts.services import staff_add
from govreq.agencies.models import Agency, AgencyContact, Officer
from govreq.agencies.services import agency_add, officer_add
from govreq.agencies.trust import agency_contact_add
from govreq.core.actors import Actor
from govreq.demo import platform as demo_platform
from govreq.demo.pdf import tiny_pdf
from govreq.disclosure.models import Production
from govreq.intake.models import Channel, LegalRequest, RequestStatus
from govreq.intake.schemas import RequestSubmission
from govreq.lifecycle.disclosing import (
    package_download,
    production_collect_now,
    production_release,
    productions_purge_expired,
)
from govreq.lifecycle.document_reading import document_read_now
from govreq.lifecycle.holding import hold_change_confirm, hold_propose
from govreq.lifecycle.receiving import document_attach, request_submit, request_withdraw
from govreq.lifecycle.rechecking import agency_verify
from govreq.lifecycle.reviewing import (
    approval_give,
    call_back,
    clarification_ask,
    decision_make,
    request_escalate,
    request_start_review,
)
from govreq.lifecycle.trusting import follow_up_link, follow_up_miss
from govreq.review.models import Decision, DecisionOutcome, FollowUpObligation
from govreq.review.services import latest_findings
from govreq.transparency.services import report_publish

SEED = 20200630
SYSTEM = Actor.system("demo")
WORKER = Actor.system("worker")


@dataclass(frozen=True, kw_only=True)
class DemoAgency:
    name: str
    jurisdiction: str
    kind: str
    domain: str
    officers: tuple[tuple[str, str, str], ...]  # (email local part, name, badge)
    verified: bool = True


AGENCIES = (
    DemoAgency(
        name="Hong Kong Police Force",
        jurisdiction="HK",
        kind="POLICE",
        domain="police.gov.hk",
        officers=(
            ("sp.chan", "Chan Tai-man", "HKP-40213"),
            ("insp.wong", "Wong Ka-yan", "HKP-51877"),
        ),
    ),
    DemoAgency(
        name="Federal Bureau of Investigation",
        jurisdiction="US",
        kind="POLICE",
        domain="fbi.gov",
        officers=(
            ("j.rivera", "Julia Rivera", "FBI-1187"),
            ("m.oconnor", "Michael O'Connor", "FBI-2290"),
        ),
    ),
    DemoAgency(
        name="Metropolitan Police Service",
        jurisdiction="GB",
        kind="POLICE",
        domain="met.police.uk",
        officers=(("dc.patel", "Priya Patel", "MPS-77821"),),
    ),
    DemoAgency(
        name="Bundeskriminalamt",
        jurisdiction="DE",
        kind="POLICE",
        domain="bka.bund.de",
        officers=(("k.schmidt", "Katrin Schmidt", "BKA-3301"),),
    ),
    DemoAgency(
        name="Australian Federal Police",
        jurisdiction="AU",
        kind="POLICE",
        domain="afp.gov.au",
        officers=(("l.nguyen", "Linh Nguyen", "AFP-8812"),),
    ),
    DemoAgency(
        name="Delhi Police",
        jurisdiction="IN",
        kind="POLICE",
        domain="delhipolice.gov.in",
        officers=(("acp.sharma", "Rohit Sharma", "DP-19022"),),
    ),
    DemoAgency(
        name="Polícia Federal",
        jurisdiction="BR",
        kind="POLICE",
        domain="pf.gov.br",
        officers=(("a.souza", "Ana Souza", "PF-44120"),),
    ),
    DemoAgency(
        name="Department of Justice of Hong Kong",
        jurisdiction="HK",
        kind="PROSECUTOR",
        domain="doj.gov.hk",
        officers=(("pp.lee", "Lee Wing-sze", "DOJ-0912"),),
        verified=False,
    ),
)

# (kind, offence, categories, legal basis, narrative)
SCENARIOS = {
    "HK": [
        (
            "COURT_ORDER",
            "FRAUD",
            ["BASIC_SUBSCRIBER", "IP_LOGS"],
            "Cap. 455 Organized and Serious Crimes Ordinance, s.4",
            "Investment scam advertised through the account; victims transferred HK$2.3 million.",
        ),
        (
            "SEARCH_WARRANT",
            "HUMAN_TRAFFICKING",
            ["BASIC_SUBSCRIBER", "IP_LOGS"],
            "Warrant under s.50(7) Police Force Ordinance, Cap. 232",
            "The account recruits domestic workers with false job offers; two victims identified.",
        ),
        (
            "COURT_ORDER",
            "PUBLIC_ORDER",
            ["BASIC_SUBSCRIBER", "IP_LOGS", "CONTENT"],
            "Public Order Ordinance, Cap. 245, s.17A",
            "The account organised an unauthorised assembly and protest in Mong Kok.",
        ),
        (
            "OTHER",
            "NATIONAL_SECURITY",
            ["BASIC_SUBSCRIBER", "IP_LOGS", "CONTENT", "LOCATION"],
            "Implementation Rules for Article 43, Schedule 7",
            "The account published statements advocating secession; identify the administrator.",
        ),
        (
            "SUBPOENA",
            "CYBERCRIME",
            ["BASIC_SUBSCRIBER"],
            "Cap. 200 Crimes Ordinance, s.161",
            "Access to a computer with dishonest intent: phishing pages shared by the account.",
        ),
    ],
    "US": [
        (
            "SUBPOENA",
            "FRAUD",
            ["BASIC_SUBSCRIBER"],
            "18 U.S.C. 2703(c)(2)",
            "Wire fraud: the account sold non-existent concert tickets to at least 40 buyers.",
        ),
        (
            "COURT_ORDER",
            "CYBERCRIME",
            ["BASIC_SUBSCRIBER", "IP_LOGS", "TRANSACTIONAL"],
            "18 U.S.C. 2703(d)",
            "Ransomware negotiation conducted through the account.",
        ),
        (
            "SEARCH_WARRANT",
            "CHILD_SAFETY",
            ["BASIC_SUBSCRIBER", "CONTENT"],
            "Fed. R. Crim. P. 41; 18 U.S.C. 2703(a)",
            "The account exchanged child sexual abuse material, reported via NCMEC CyberTipline.",
        ),
        (
            "SUBPOENA",
            "FRAUD",
            ["BASIC_SUBSCRIBER", "CONTENT"],
            "18 U.S.C. 2703(c)(2)",
            "Romance scam; the agency also asks for messages with the victim.",
        ),
        (
            "PRESERVATION",
            "VIOLENT_CRIME",
            ["BASIC_SUBSCRIBER", "IP_LOGS", "CONTENT"],
            "18 U.S.C. 2703(f)",
            "Preserve records while a warrant for a homicide investigation is sought.",
        ),
    ],
    "GB": [
        (
            "COURT_ORDER",
            "VIOLENT_CRIME",
            ["BASIC_SUBSCRIBER", "IP_LOGS"],
            "Investigatory Powers Act 2016, Part 3",
            "Threats to kill sent to a witness.",
        ),
        (
            "SEARCH_WARRANT",
            "TERRORISM",
            ["BASIC_SUBSCRIBER", "CONTENT"],
            "Crime (Overseas Production Orders) Act 2019; US-UK Data Access Agreement",
            "Attack planning discussed in the account's messages.",
        ),
    ],
    "DE": [
        (
            "COURT_ORDER",
            "CYBERCRIME",
            ["BASIC_SUBSCRIBER", "IP_LOGS"],
            "§ 100j StPO",
            "Botnet command server advertised by the account.",
        ),
        (
            "MLAT",
            "FRAUD",
            ["BASIC_SUBSCRIBER", "CONTENT"],
            "Treaty on Mutual Legal Assistance in Criminal Matters (DE-US, 2003)",
            "Invoice fraud against a hospital; content needed to identify co-conspirators.",
        ),
    ],
    "AU": [
        (
            "SEARCH_WARRANT",
            "CHILD_SAFETY",
            ["BASIC_SUBSCRIBER", "CONTENT"],
            "Telecommunications (Interception and Access) Act 1979; AUS-US CLOUD Act agreement",
            "Grooming of a 13-year-old through direct messages.",
        ),
    ],
    "IN": [
        (
            "OTHER",
            "DEFAMATION",
            ["BASIC_SUBSCRIBER", "IP_LOGS"],
            "Section 91 CrPC",
            "The account posted a satirical cartoon of a minister; identify the author.",
        ),
        (
            "COURT_ORDER",
            "FRAUD",
            ["BASIC_SUBSCRIBER"],
            "Section 91 CrPC",
            "Loan-app extortion: the account threatens borrowers.",
        ),
    ],
    "BR": [
        (
            "COURT_ORDER",
            "VIOLENT_CRIME",
            ["BASIC_SUBSCRIBER", "IP_LOGS"],
            "Marco Civil da Internet, art. 22",
            "Armed robbery coordinated through the account.",
        ),
    ],
}

EMERGENCIES = {
    "HK": (
        "A 16-year-old posted a suicide note and a photo of the Tsing Ma bridge an hour ago.",
        "She may act tonight; her location is unknown and her phone is off.",
    ),
    "US": (
        "Live-streamed threat to shoot students at a named high school tomorrow morning.",
        "The school opens at 07:30; a court order cannot be obtained before then.",
    ),
    "GB": (
        "Kidnapping: the victim's captors are sending ransom demands from the account.",
        "The victim's life is at risk within hours.",
    ),
}


# The human-rights officer's assessment that goes with each of the demo's HR approvals.
HR_ASSESSMENT = {
    "risk_found": "The indicators flagged were reviewed against the narrative and the order.",
    "standards_applied": "UN Guiding Principles on Business and Human Rights; GNI Principles.",
    "conclusion": "RISK_MITIGATED",
    "conditions": "Disclose only the named account, nothing beyond the danger described.",
}


def _target(jurisdiction: str, rng: random.Random) -> dict[str, str]:
    choice = rng.random()
    if choice < 0.35:
        return {"type": "USERNAME", "value": f"@user{rng.randrange(10_000, 99_999)}"}
    if choice < 0.55:
        return {"type": "EMAIL", "value": f"Person{rng.randrange(100, 999)}@Example.com"}
    if choice < 0.75:
        if jurisdiction in PHONE_FORMATS:
            return {"type": "PHONE", "value": _phone(jurisdiction, rng)}
        return {"type": "USER_ID", "value": str(rng.randrange(10**9, 10**10))}
    if choice < 0.9:
        return {"type": "IP_ADDRESS", "value": f"203.0.113.{rng.randrange(1, 254)}"}
    return {"type": "URL", "value": f"https://example.com/p/{rng.randrange(10**6, 10**7)}"}


PHONE_FORMATS = {"HK": "+852 9{}", "US": "+1 415 {}", "GB": "+44 7{}"}
PHONE_DIGITS = {"HK": 7, "US": 7, "GB": 9}


def _phone(jurisdiction: str, rng: random.Random) -> str:
    """A random number that is valid for the jurisdiction's numbering plan."""
    digits = PHONE_DIGITS[jurisdiction]
    while True:
        candidate = PHONE_FORMATS[jurisdiction].format(
            rng.randrange(10 ** (digits - 1), 10**digits)
        )
        if phonenumbers.is_valid_number(phonenumbers.parse(candidate, None)):
            return candidate


def _when(rng: random.Random, start: date, end: date) -> datetime:
    span = (end - start).days
    day = start + timedelta(days=rng.randrange(span))
    return datetime(
        day.year, day.month, day.day, rng.randrange(1, 23), rng.randrange(60), tzinfo=UTC
    )


def demo_is_loaded() -> bool:
    return Agency.objects.filter(domains__domain="police.gov.hk").exists()


@transaction.atomic
def demo_load() -> int:
    """Load the demo data set unless it is there already; return the number of requests added.

    The demo platform (``demo.platform``) is built beside it in the data directory, and
    configured as the data source unless one is configured already."""
    if demo_is_loaded():
        return 0
    demo_platform.write_source_config(Path(settings.DATA_DIR), Path(settings.DATA_SOURCE_CONFIG))
    rng = random.Random(SEED)
    setup_at = datetime(2019, 1, 2, 9, 0, tzinfo=UTC)
    officers: dict[str, list[Officer]] = {}
    for spec in AGENCIES:
        agency = agency_add(
            actor=SYSTEM,
            name=spec.name,
            jurisdiction_code=spec.jurisdiction,
            kind=spec.kind,
            domains=[spec.domain],
            now=setup_at,
        )
        if spec.verified:
            agency = agency_verify(
                actor=SYSTEM,
                agency=agency,
                method="Call-back to the switchboard number in the government directory (demo)",
                now=setup_at,
            )
            for local, name, badge in spec.officers:
                officers.setdefault(spec.jurisdiction, []).append(
                    officer_add(
                        actor=SYSTEM,
                        agency=agency,
                        email=f"{local}@{spec.domain}",
                        name=name,
                        badge_number=badge,
                        now=setup_at,
                    )
                )

    staff = {
        email: staff_add(
            actor=SYSTEM, email=email, name=name, roles=roles, password=DEMO_PASSWORD, now=setup_at
        )
        for email, name, roles in STAFF
    }
    _verified_contacts(staff, setup_at)

    plan: list[tuple[datetime, str, Scenario | None]] = []
    for jurisdiction, scenario_list in SCENARIOS.items():
        per_scenario = 3 if jurisdiction in ("HK", "US") else 2
        for listed in scenario_list:
            for _ in range(per_scenario):
                plan.append(
                    (_when(rng, date(2019, 1, 7), date(2021, 12, 20)), jurisdiction, listed)
                )
    for jurisdiction in EMERGENCIES:
        plan.append((_when(rng, date(2019, 3, 1), date(2021, 11, 30)), jurisdiction, None))
    # The narrow path Google kept open in H2 2020: two trafficking warrants and one emergency.
    plan.append((datetime(2020, 8, 20, 3, 10, tzinfo=UTC), "HK", TRAFFICKING_WARRANT))
    plan.append((datetime(2020, 11, 3, 6, 40, tzinfo=UTC), "HK", TRAFFICKING_WARRANT))
    plan.append((datetime(2020, 9, 15, 14, 5, tzinfo=UTC), "HK", None))
    story = _hong_kong_story()
    plan.extend((received_at, "HK", scenario) for received_at, scenario in story)
    plan.sort(key=lambda item: item[0])
    told = {received_at for received_at, _ in story}
    # The story's own requests draw from their own generator, so the rest of the demo is the
    # same whatever the story holds.
    story_rng = random.Random(f"{SEED}:hong-kong")

    hold_placed = False
    for received_at, jurisdiction, scenario in plan:
        _purge(received_at)
        if not hold_placed and received_at >= HK_HOLD_AT:
            _place_hk_hold(staff)
            hold_placed = True
        draw = story_rng if received_at in told and jurisdiction == "HK" else rng
        officer = draw.choice(officers[jurisdiction])
        request = _submit(officer, received_at, jurisdiction, scenario, draw)
        _review(request, received_at, staff, draw, certain=draw is story_rng)
    _link_follow_ups(staff)
    _purge(datetime(2022, 1, 15, tzinfo=UTC))
    _publish_reports(staff)
    return len(plan) + _recent(officers, staff) + _mismatching_case_number(officers)


# What Hong Kong's police asked for while the platform still answered, and then under the hold.
HK_ORDINARY: tuple[Scenario, ...] = (
    SCENARIOS["HK"][0],  # investment scam: court order
    SCENARIOS["HK"][4],  # phishing: subpoena
)
HK_UNDER_HOLD: tuple[Scenario, ...] = (
    SCENARIOS["HK"][0],
    SCENARIOS["HK"][2],  # unauthorised assembly
    SCENARIOS["HK"][3],  # national security
    SCENARIOS["HK"][4],
)
# Received under the old rules, a few days before the law took effect, delivered on 1-3 July:
# the hold covers requests received from its start, so these were finished (a back-test of a
# hold on every open request from 23:00 HKT shows them as deliveries it would have stopped).
HK_DELIVERED_IN_JULY = (
    datetime(2020, 6, 27, 3, 0, tzinfo=UTC),
    datetime(2020, 6, 28, 1, 0, tzinfo=UTC),
    datetime(2020, 6, 29, 6, 0, tzinfo=UTC),
)
HK_H2_2020_HELD = 36


def _hong_kong_story() -> list[tuple[datetime, Scenario | None]]:
    """Hong Kong as the platforms published it: a busy first half of 2020 answered as usual;
    from 23:00 HKT on 30 June nearly everything held, data produced only through the narrow
    exceptions (the trafficking warrants and the emergency of the main plan: 4 of 43 in H2 2020,
    like Google's 3 of 43); a trickle of requests, all held, in 2021."""
    story: list[tuple[datetime, Scenario | None]] = []
    first_half = datetime(2020, 1, 9, 2, 0, tzinfo=UTC)
    for index in range(10):
        story.append(
            (first_half + timedelta(hours=index * 390), HK_ORDINARY[index % len(HK_ORDINARY)])
        )
    story.extend((at, HK_ORDINARY[index % 2]) for index, at in enumerate(HK_DELIVERED_IN_JULY))
    second_half = datetime(2020, 7, 2, 2, 30, tzinfo=UTC)
    for index in range(HK_H2_2020_HELD):
        story.append(
            (second_half + timedelta(hours=index * 107), HK_UNDER_HOLD[index % len(HK_UNDER_HOLD)])
        )
    for index in range(6):
        at = datetime(2021, 1, 20, 4, 0, tzinfo=UTC) + timedelta(days=index * 27)
        story.append((at, HK_UNDER_HOLD[index % len(HK_UNDER_HOLD)]))
    return story


def _link_follow_ups(staff: dict[str, Any]) -> None:
    """Each emergency disclosure obliged the agency to send legal process within 30 days. The
    reviewer linked the agency's next legal process when it arrived; where none came in time the
    worker flagged the miss when it was due (quietly: it is history), and a late one is linked
    when it came."""
    reviewer = Actor.for_user(staff["reviewer@platform.example"])
    for obligation in FollowUpObligation.objects.select_related("emergency").order_by("pk"):
        emergency = obligation.emergency
        follow_up = (
            LegalRequest.objects.filter(
                agency=emergency.agency, received_at__gt=emergency.received_at
            )
            .exclude(kind__in=["EMERGENCY", "PRESERVATION"])
            .order_by("received_at")
            .first()
        )
        if follow_up is None or follow_up.received_at > obligation.due_at:
            follow_up_miss(
                actor=Actor.system("worker"),
                obligation=obligation,
                now=obligation.due_at + timedelta(minutes=1),
                tell=False,
            )
        if follow_up is not None:
            follow_up_link(
                actor=reviewer,
                emergency=emergency,
                follow_up=follow_up,
                now=follow_up.received_at + timedelta(hours=1),
            )


def _recent(officers: dict[str, list[Officer]], staff: dict[str, Any]) -> int:
    """This week, on today's clock: a disclosure the agency has downloaded (its package can still
    be downloaded and verified) and one whose package awaits download."""
    now = timezone.now()
    reviewer = Actor.for_user(staff["reviewer@platform.example"])
    approvers = [Actor.for_user(staff[f"approver{n}@platform.example"]) for n in ("", "2")]
    officer = next(o for o in officers["US"] if o.email == "j.rivera@fbi.gov")
    rng = random.Random(f"{SEED}:recent")
    for days_ago, downloaded in ((6, True), (2, False)):
        received_at = now - timedelta(days=days_ago)
        request = _submit(officer, received_at, "US", RECENT_COURT_ORDER, rng)
        at = received_at + timedelta(hours=3)
        request_start_review(actor=reviewer, request=request, now=at)
        _platform_accounts(request, recent=True)
        decision_make(
            actor=reviewer,
            request=request,
            outcome="FULL",
            rationale="Valid process, narrowly drawn, no human-rights concern.",
            now=at + timedelta(hours=2),
        )
        for index, approver in enumerate(approvers):
            approval_give(actor=approver, request=request, now=at + timedelta(hours=3 + index))
        production = _collect(request, at + timedelta(hours=5))
        production = production_release(
            actor=reviewer, production=production, now=at + timedelta(hours=6)
        )
        if downloaded:
            download = package_download(
                actor=Actor.for_officer(officer),
                production=production,
                channel="PORTAL",
                client_address="192.0.2.80",
                user_agent="demo",
                now=at + timedelta(days=1),
            )
            for _ in download.chunks:
                pass
    return 2


def _mismatching_case_number(officers: dict[str, list[Officer]]) -> int:
    """Yesterday, a court order whose typed case number is not the one its signed document
    gives (two digits swapped): DOCUMENT_MISMATCH warns the reviewer, naming both."""
    officer = next(o for o in officers["GB"] if o.email == MISMATCH_OFFICER)
    received_at = timezone.now() - timedelta(days=1)
    _submit(
        officer,
        received_at,
        "GB",
        MISMATCH_COURT_ORDER,
        random.Random(f"{SEED}:mismatch"),
        case_number=f"GB-{received_at:%Y}-4417",
        document_case_number=f"GB-{received_at:%Y}-4471",
    )
    return 1


MISMATCH_OFFICER = "dc.patel@met.police.uk"
MISMATCH_COURT_ORDER: Scenario = (
    "COURT_ORDER",
    "FRAUD",
    ["BASIC_SUBSCRIBER", "IP_LOGS"],
    "Crime (Overseas Production Orders) Act 2019, s.1",
    "Romance fraud: the account took GBP 40,000 from three victims in six weeks.",
)


RECENT_COURT_ORDER: Scenario = (
    "COURT_ORDER",
    "CYBERCRIME",
    ["BASIC_SUBSCRIBER", "IP_LOGS"],
    "18 U.S.C. 2703(d)",
    "Ransomware negotiation conducted through the account.",
)


def _publish_reports(staff: dict[str, Any]) -> None:
    """Publish every ended half-year, so the public transparency pages show the Hong Kong pause."""
    published_at = datetime(2022, 1, 15, 10, 0, tzinfo=UTC)
    for year in (2019, 2020, 2021):
        for half in ("H1", "H2"):
            report_publish(
                actor=Actor.for_user(staff["policy@platform.example"]),
                period=f"{year}-{half}",
                now=published_at,
                note="Half-yearly transparency report",
            )


Scenario = tuple[str, str, list[str], str, str]
TRAFFICKING_WARRANT: Scenario = (
    "SEARCH_WARRANT",
    "HUMAN_TRAFFICKING",
    ["BASIC_SUBSCRIBER", "IP_LOGS"],
    "Warrant under s.50(7) Police Force Ordinance, Cap. 232",
    "A trafficking ring advertises 'jobs' to domestic workers through the account; victims "
    "were moved across the border last week.",
)
DEMO_PASSWORD = "govreq-demo-2020"  # noqa: S105 - demo accounts, refused in production mode
STAFF = (
    ("intake@platform.example", "Ivy Intake", ["INTAKE"]),
    ("reviewer@platform.example", "Rita Reviewer", ["REVIEWER"]),
    ("reviewer2@platform.example", "Raj Reviewer", ["REVIEWER"]),
    ("approver@platform.example", "Alex Approver", ["APPROVER"]),
    ("approver2@platform.example", "Ana Approver", ["APPROVER"]),
    ("hro@platform.example", "Hana Rights", ["HUMAN_RIGHTS_OFFICER"]),
    ("policy@platform.example", "Pat Policy", ["POLICY_ADMIN"]),
    ("policy2@platform.example", "Paul Policy", ["POLICY_ADMIN"]),
    ("auditor@platform.example", "Aud Auditor", ["AUDITOR"]),
)
# The National Security Law took effect at 23:00 Hong Kong time on 30 June 2020.
HK_HOLD_AT = datetime(2020, 6, 30, 15, 0, tzinfo=UTC)
HK_HOLD_REASON = (
    "Hong Kong National Security Law in force: all Hong Kong requests received from its entry "
    "into force paused pending formal human-rights due diligence."
)
HK_HOLD_REASON_ZH_HANT = (
    "《香港國家安全法》生效：自其生效起收到的所有香港請求暫停處理，以待正式的人權盡職審查。"
)
HK_HOLD_NOTES = (
    "30 June 2020: the National Security Law took effect at 23:00 HKT. Its offences "
    "(secession, subversion, terrorism, collusion) are broadly drawn and Article 43's "
    "Implementation Rules (Schedule 7) let police demand data without a court. Paused all Hong "
    "Kong requests received from that moment pending formal human-rights due diligence and "
    "consultation with "
    "international human-rights experts. Narrow exceptions: emergencies (danger to life) and "
    "human-trafficking cases, each with the human-rights officer's approval."
)


def _place_hk_hold(staff: dict[str, Any]) -> None:
    # Four eyes: one policy admin proposes the pause, a second confirms it at once.
    change = hold_propose(
        actor=Actor.for_user(staff["policy@platform.example"]),
        jurisdiction_code="HK",
        effective_from=HK_HOLD_AT,
        reason=HK_HOLD_REASON,
        reason_zh_hant=HK_HOLD_REASON_ZH_HANT,
        review_notes=HK_HOLD_NOTES,
        allow_emergency=True,
        allow_offences=["HUMAN_TRAFFICKING"],
        # Requests received under the old law are finished; everything received from the
        # moment the law took effect waits.
        received_from_start=True,
        now=HK_HOLD_AT,
    )
    hold_change_confirm(
        actor=Actor.for_user(staff["policy2@platform.example"]), change=change, now=HK_HOLD_AT
    )


def _submit(
    officer: Officer,
    received_at: datetime,
    jurisdiction: str,
    scenario: Scenario | None,
    rng: random.Random,
    *,
    case_number: str | None = None,
    document_case_number: str | None = None,
) -> LegalRequest:
    """Submit a request as the officer, with its signed document (which gives
    ``document_case_number`` instead of the typed case number when one is given)."""
    if scenario is None:
        danger, why_now = EMERGENCIES[jurisdiction]
        payload: dict[str, object] = {
            "kind": "EMERGENCY",
            "offence_category": "VIOLENT_CRIME",
            "narrative": danger,
            "data_categories": ["BASIC_SUBSCRIBER", "IP_LOGS", "LOCATION"],
            "emergency": {"danger": danger, "why_now": why_now},
            "deadline_at": (received_at + timedelta(hours=4)).isoformat(),
        }
    else:
        kind, offence, categories, basis, narrative = scenario
        payload = {
            "kind": kind,
            "offence_category": offence,
            "legal_basis": basis,
            "issuing_authority": "Magistrate" if kind != "SUBPOENA" else officer.agency.name,
            "agency_case_number": f"{jurisdiction}-{received_at:%Y}-{rng.randrange(1000, 9999)}",
            "narrative": narrative,
            "data_categories": categories,
            "data_range": {
                "start": (received_at - timedelta(days=rng.choice([30, 90, 180, 400])))
                .date()
                .isoformat(),
                "end": (received_at - timedelta(days=1)).date().isoformat(),
            },
            "deadline_at": (received_at + timedelta(days=rng.choice([14, 30]))).isoformat(),
        }
        if case_number is not None:
            payload["agency_case_number"] = case_number
        if rng.random() < 0.3:
            payload["gag_order"] = {
                "legal_basis": "18 U.S.C. 2705(b)" if jurisdiction == "US" else "Court order",
                "expires_on": (received_at + timedelta(days=rng.choice([90, 180, 730])))
                .date()
                .isoformat(),
            }
    payload["targets"] = [_target(jurisdiction, rng) for _ in range(rng.choice([1, 1, 2, 3]))]
    actor = Actor.for_officer(officer)
    request = request_submit(
        actor=actor,
        officer=officer,
        submission=RequestSubmission.model_validate(payload),
        channel=Channel.API,
        now=received_at,
    ).request
    if payload["kind"] not in ("EMERGENCY", "PRESERVATION"):
        pdf = tiny_pdf(_document_lines(officer, payload, received_at, document_case_number))
        document = document_attach(
            actor=actor,
            request=request,
            upload=io.BytesIO(pdf),
            original_name=f"{request.reference}-legal-process.pdf",
            claimed_type="application/pdf",
            now=received_at + timedelta(minutes=5),
        )
        # The worker reads it a minute later (its queued task then finds it read).
        document_read_now(
            actor=Actor.system("worker"), document=document, now=received_at + timedelta(minutes=6)
        )
    request.refresh_from_db()
    return request


KIND_TITLES = {
    "SUBPOENA": ("Subpoena", "傳票"),
    "COURT_ORDER": ("Court Order", "法庭命令"),
    "SEARCH_WARRANT": ("Search Warrant", "搜查令"),
    "MLAT": ("Request for Mutual Legal Assistance (MLAT)", "刑事司法協助請求書"),
    "OTHER": ("Legal Process", "法律文件"),
}
HK_AUTHORITIES = {"Magistrate": "裁判官", "Hong Kong Police Force": "香港警務處"}


def _document_lines(
    officer: Officer, payload: dict[str, Any], received_at: datetime, case_number: str | None
) -> list[str]:
    """The signed document's text, as the agency wrote it: Hong Kong's in Chinese. Issued two
    days before it was sent; the accounts as the agency typed them."""
    kind = str(payload["kind"])
    english, chinese = KIND_TITLES[kind]
    issued = (received_at - timedelta(days=2)).date()
    case = case_number or str(payload["agency_case_number"])
    authority = str(payload["issuing_authority"])
    accounts = [str(target["value"]) for target in payload["targets"]]  # type: ignore[attr-defined]
    if officer.agency.jurisdiction_id == "HK":
        return [
            "香港特別行政區",
            chinese,
            f"法律依據：{payload['legal_basis']}",
            f"簽發機關：{HK_AUTHORITIES.get(authority, authority)}",
            f"案件編號：{case}",
            f"簽發日期：{issued.year}年{issued.month}月{issued.day}日",
            "涉及帳戶：",
            *accounts,
        ]
    return [
        officer.agency.name,
        english,
        f"Legal basis: {payload['legal_basis']}",
        f"Issued by: {authority}",
        f"Case No.: {case}",
        f"Issued on {issued:%d %B %Y}",
        "Accounts:",
        *accounts,
    ]


REJECT_FOR = {
    "PROCESS_INSUFFICIENT": "INVALID_PROCESS",
    "NO_LEGAL_DOCUMENT": "INVALID_PROCESS",
    "AGENCY_NOT_VERIFIED": "INVALID_PROCESS",
    "EMERGENCY_UNSUPPORTED": "INVALID_PROCESS",
    "HUMAN_RIGHTS_RISK": "HUMAN_RIGHTS",
    "OVERBROAD": "OVERBROAD",
}


# Demo switchboards: invented numbers (555 exchanges), from each government's directory.
DEMO_PHONES = {
    "HK": "+852 5550 0001",
    "US": "+1 202 555 0100",
    "GB": "+44 20 5550 0101",
    "DE": "+49 611 5550 0102",
    "AU": "+61 2 5550 0103",
    "IN": "+91 11 5550 0104",
    "BR": "+55 61 5550 0105",
}


def _verified_contacts(staff: dict[str, Any], at: datetime) -> None:
    """Each verified agency's switchboard, found in its government's directory by intake staff:
    the only numbers a call-back may use."""
    intake = Actor.for_user(staff["intake@platform.example"])
    for agency in Agency.objects.filter(status="VERIFIED").order_by("pk"):
        agency_contact_add(
            actor=intake,
            agency=agency,
            kind="SWITCHBOARD",
            phone=DEMO_PHONES[agency.jurisdiction_id],
            directory=f"Government telephone directory, {agency.jurisdiction.name} (demo)",
            now=at,
        )


def _call_back(request: LegalRequest, reviewer: Actor, at: datetime) -> None:
    """The second-level check of an emergency: the agency confirms it on its switchboard."""
    call_back(
        actor=reviewer,
        request=request,
        contact_id=AgencyContact.objects.filter(agency=request.agency).values_list("pk", flat=True)[
            0
        ],
        called_at=at,
        outcome="CONFIRMED",
        person_reached="Duty officer, command and control centre",
        notes="Confirmed the request and the officer's identity.",
        now=at,
    )


def _review(
    request: LegalRequest,
    received_at: datetime,
    staff: dict[str, Any],
    rng: random.Random,
    *,
    certain: bool = False,
) -> None:
    """Take the request through review as staff would have, on the historical clock;
    ``certain`` requests (the Hong Kong story's) are neither withdrawn nor without data."""
    if request.status == RequestStatus.ON_HOLD:
        return  # arrived under the Hong Kong hold: it waits there
    reviewer = Actor.for_user(
        staff[rng.choice(["reviewer@platform.example", "reviewer2@platform.example"])]
    )
    approvers = [
        Actor.for_user(staff["approver@platform.example"]),
        Actor.for_user(staff["approver2@platform.example"]),
    ]
    hro = Actor.for_user(staff["hro@platform.example"])
    at = received_at + timedelta(hours=2 if request.kind == "EMERGENCY" else 20)
    roll = rng.random()
    story = request.needs_human_rights_approval or request.kind == "EMERGENCY"
    if roll < 0.08 and not story and not certain:
        request_withdraw(
            actor=Actor.for_officer(request.officer),
            request=request,
            reason="Matter resolved without the data",
            now=received_at + timedelta(days=2),
        )
        return
    if received_at > OPEN_SINCE:
        _leave_open(request, at, reviewer, approvers[0], roll)
        return
    request_start_review(actor=reviewer, request=request, now=at)
    findings = latest_findings(request)
    blocks = [f.code for f in findings if f.outcome == "BLOCK"]
    hr_risk = any(f.code == "HUMAN_RIGHTS_RISK" and f.outcome != "PASS" for f in findings)
    at += timedelta(hours=3 if request.kind == "EMERGENCY" else 30)
    if blocks or (hr_risk and request.jurisdiction_id in ("HK", "IN")):
        if hr_risk:
            request_escalate(
                actor=reviewer, request=request, reason="Human-rights risk indicators", now=at
            )
            at += timedelta(days=1)
        reasons = sorted(
            {REJECT_FOR.get(code, "OTHER") for code in blocks}
            | ({"HUMAN_RIGHTS"} if hr_risk else set())
        )
        decision_make(
            actor=reviewer,
            request=request,
            outcome="REJECTED",
            rationale="Rejected after review: " + ", ".join(blocks or ["HUMAN_RIGHTS_RISK"]),
            rejection_reasons=reasons,
            letter="We cannot produce data in response to this request as it stands.",
            now=at,
        )
        return
    if request.needs_human_rights_approval:
        request_escalate(
            actor=reviewer,
            request=request,
            reason="Proceeds under the hold's exception: human-rights officer review",
            now=at,
        )
        at += timedelta(hours=2 if request.kind == "EMERGENCY" else 24)
    if rng.random() < 0.1 and request.kind not in ("EMERGENCY", "PRESERVATION") and not certain:
        # The platform has no account for these identifiers (none is added for them).
        decision_make(
            actor=reviewer,
            request=request,
            outcome="NO_DATA",
            rationale="No account matches the identifiers given.",
            now=at,
        )
        return
    _platform_accounts(request)
    if request.kind == "PRESERVATION":
        decision_make(
            actor=reviewer,
            request=request,
            outcome="PRESERVE",
            rationale="Valid preservation request: records frozen while the warrant is sought.",
            now=at,
        )
        _collect(request, at + timedelta(minutes=20))
        return
    if _narrowed(request):
        _decide_partial(request, reviewer, at)
        for approver in approvers:
            at += timedelta(hours=8)
            approval_give(actor=approver, request=request, now=at)
        _deliver(request, reviewer, at, fast=False)
        return
    decision_make(
        actor=reviewer,
        request=request,
        outcome="FULL",
        rationale="Valid process, narrowly drawn, no human-rights concern."
        if not request.needs_human_rights_approval
        else "Exception to the hold: danger to life / trafficking victims; narrowly drawn.",
        now=at,
    )
    if request.kind == "EMERGENCY":
        at += timedelta(minutes=20)
        _call_back(request, reviewer, at)
    for approver in ([hro] if request.needs_human_rights_approval else []) + approvers:
        at += timedelta(hours=1 if request.kind == "EMERGENCY" else 8)
        assessment = HR_ASSESSMENT if approver is hro else None
        approval_give(actor=approver, request=request, assessment=assessment, now=at)
    _deliver(request, reviewer, at, fast=request.kind == "EMERGENCY")


def _platform_accounts(request: LegalRequest, *, recent: bool = False) -> None:
    """The demo platform gets an account for each identifier the request names (as a real
    platform would have, when the request is about a real account); ``recent`` accounts have
    records over the past year, the others over the demo's years."""
    rng = random.Random(f"{SEED}:{request.reference}")  # apart from the story's own draws
    path = demo_platform.database_path(Path(settings.DATA_DIR))
    start, end = demo_platform.HISTORY_START, demo_platform.HISTORY_END
    if recent:
        start, end = timezone.now() - timedelta(days=365), timezone.now()
    connection = demo_platform.connect(path)
    try:
        for target in request.targets.order_by("pk"):
            demo_platform.account_ensure(
                connection,
                target.type,
                target.value,
                country=request.jurisdiction_id,
                rng=rng,
                start=start,
                end=end,
            )
        connection.commit()
    finally:
        connection.close()


def _collect(request: LegalRequest, at: datetime) -> Production:
    """The worker's part: collect the request's production from the demo platform."""
    production = Production.objects.get(request=request, status="PENDING")
    return production_collect_now(actor=WORKER, production=production, now=at).production


def _deliver(request: LegalRequest, reviewer: Actor, at: datetime, *, fast: bool) -> None:
    """Collect, release and let the agency download the package, on the historical clock; the
    worker purges it at its expiry (``_purge``)."""
    production = _collect(request, at + timedelta(minutes=10 if fast else 40))
    at += timedelta(hours=1 if fast else 6)
    production = production_release(actor=reviewer, production=production, now=at)
    at += timedelta(hours=1 if fast else 30)
    download = package_download(
        actor=Actor.for_officer(request.officer),
        production=production,
        channel="API",
        client_address="192.0.2.80",
        user_agent="demo",
        now=at,
    )
    for _ in download.chunks:
        pass


def _purge(now: datetime) -> None:
    """What the worker does as time passes: packages past their download period are purged."""
    productions_purge_expired(actor=WORKER, now=now)


def _narrowed(request: LegalRequest) -> bool:
    """The story's one partial disclosure: the first US court order naming several accounts."""
    return (
        request.jurisdiction_id == "US"
        and request.kind == "COURT_ORDER"
        and request.targets.count() > 1
        and not Decision.objects.filter(outcome=DecisionOutcome.PARTIAL).exists()
    )


def _decide_partial(request: LegalRequest, reviewer: Actor, at: datetime) -> None:
    first = request.targets.order_by("pk").first()
    assert first is not None and request.data_from is not None and request.data_to is not None
    decision_make(
        actor=reviewer,
        request=request,
        outcome="PARTIAL",
        rationale="Only the first account is tied to the offence by the affidavit; subscriber "
        "details and the last 30 days of IP logs are enough for its purpose.",
        approved_target_ids=[first.pk],
        approved_categories=["BASIC_SUBSCRIBER", "IP_LOGS"],
        approved_from=max(request.data_from, request.data_to - timedelta(days=29)),
        approved_to=request.data_to,
        now=at,
    )


OPEN_SINCE = datetime(2021, 5, 1, tzinfo=UTC)


def _leave_open(
    request: LegalRequest, at: datetime, reviewer: Actor, approver: Actor, roll: float
) -> None:
    """Recent requests stay open at every stage, so the queue has work in it."""
    if roll < 0.25:
        return  # RECEIVED
    request_start_review(actor=reviewer, request=request, now=at)
    if roll < 0.45:
        return  # IN_REVIEW
    at += timedelta(hours=5)
    if roll < 0.6 or request.check_outcome == "BLOCK":
        clarification_ask(
            actor=reviewer,
            request=request,
            question=(
                "Please narrow the request to the accounts and dates the investigation needs, "
                "and attach the signed order."
            ),
            now=at,
        )
        return  # NEEDS_CLARIFICATION
    if request.needs_human_rights_approval:
        request_escalate(actor=reviewer, request=request, reason="Human-rights review", now=at)
        return  # ESCALATED
    preservation = request.kind == "PRESERVATION"
    decision_make(
        actor=reviewer,
        request=request,
        outcome="PRESERVE" if preservation else "FULL",
        rationale="Valid preservation request: records frozen while the warrant is sought."
        if preservation
        else "Valid process, narrowly drawn, no human-rights concern.",
        now=at,
    )
    if roll > 0.8 and not preservation:
        _platform_accounts(request)
        if request.kind == "EMERGENCY":
            _call_back(request, reviewer, at + timedelta(hours=2))
        approval_give(actor=approver, request=request, now=at + timedelta(hours=3))
