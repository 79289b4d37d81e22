"""The demo's documents are read: the Hong Kong warrants in Chinese, every one agreeing with its
request, except the one request whose typed case number is not its document's."""

from __future__ import annotations

from govreq.demo.loader import MISMATCH_OFFICER, demo_load
from govreq.intake.models import Document, DocumentText, LegalRequest
from govreq.review.services import latest_findings


def test_the_demo_mismatching_case_number_warns_and_no_matching_one_does(db):
    assert demo_load() > 0
    assert DocumentText.objects.count() == Document.objects.count() > 0
    assert not DocumentText.objects.exclude(method="PDF").exists()
    hong_kong = DocumentText.objects.filter(document__request__jurisdiction_id="HK")
    assert hong_kong.exists()
    assert all("案件編號" in t.text and "簽發機關" in t.text for t in hong_kong)

    warned: dict[str, str] = {}
    compared = 0
    for request in LegalRequest.objects.filter(documents__isnull=False).distinct():
        (finding,) = [f for f in latest_findings(request) if f.code == "DOCUMENT_MISMATCH"]
        compared += 1
        if finding.outcome != "PASS":
            warned[request.reference] = finding.message
            assert finding.outcome == "WARN"
            assert [m["field"] for m in finding.details["mismatches"]] == ["agency_case_number"]
    mismatching = LegalRequest.objects.get(officer__email=MISMATCH_OFFICER, status="RECEIVED")
    assert list(warned) == [mismatching.reference]
    assert mismatching.agency_case_number in warned[mismatching.reference]
    assert mismatching.agency_case_number.endswith("-4417")
    assert "4471" in warned[mismatching.reference]
    assert compared > 40
