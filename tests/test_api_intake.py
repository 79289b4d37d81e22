from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from govreq.accounts.models import ApiToken
from govreq.api.tokens import api_token_revoke
from govreq.audit.models import AuditEvent
from govreq.demo.pdf import tiny_pdf
from govreq.intake.models import Document, LegalRequest, StatusChange, Target
from tests.conftest import SYSTEM, field_errors, valid_submission

pytestmark = pytest.mark.django_db

PDF = tiny_pdf(["Warrant"])


def counts() -> tuple[int, ...]:
    return (
        LegalRequest.objects.count(),
        Target.objects.count(),
        StatusChange.objects.count(),
        Document.objects.count(),
        AuditEvent.objects.count(),
    )


def test_submit_creates_request_with_normalised_targets(api_as, chan_token, chan):
    response = api_as(chan_token).post("/requests", valid_submission())
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["reference"].startswith(f"GR-{timezone.now().year}-")
    assert body["status"] == "RECEIVED"
    assert body["jurisdiction"] == "HK"
    assert body["officer"] == "chan@police.gov.hk"
    assert {(t["type"], t["value"]) for t in body["targets"]} == {
        ("USERNAME", "scammer_hk"),
        ("EMAIL", "victim.finder@example.com"),
        ("PHONE", "+85291234567"),
        ("IP_ADDRESS", "2001:db8::1"),
    }
    assert body["history"][0]["to_status"] == "RECEIVED"
    stored = LegalRequest.objects.get(public_id=body["id"])
    assert stored.agency == chan.agency
    assert AuditEvent.objects.filter(action="request.received", object_id=body["id"]).count() == 1


def test_references_are_sequential_per_year(api_as, chan_token):
    client = api_as(chan_token)
    first = client.post("/requests", valid_submission()).json()["reference"]
    second = client.post("/requests", valid_submission()).json()["reference"]
    assert int(second.rsplit("-", 1)[1]) == int(first.rsplit("-", 1)[1]) + 1


def _days(n: int) -> str:
    return (timezone.now().date() + timedelta(days=n)).isoformat()


BAD_INPUTS = [
    ("unknown kind", {"kind": "FISHING_EXPEDITION"}, "kind"),
    ("unknown category", {"data_categories": ["EVERYTHING"]}, "data_categories[0]"),
    ("no categories", {"data_categories": []}, "data_categories"),
    ("unknown offence", {"offence_category": "JAYWALKING"}, "offence_category"),
    ("no targets", {"targets": []}, "targets"),
    (
        "too many targets",
        {"targets": [{"type": "USER_ID", "value": str(i)} for i in range(1001)]},
        "targets",
    ),
    ("bad email", {"targets": [{"type": "EMAIL", "value": "not-an-email"}]}, "targets[0].value"),
    ("bad phone", {"targets": [{"type": "PHONE", "value": "call me maybe"}]}, "targets[0].value"),
    ("short phone", {"targets": [{"type": "PHONE", "value": "+852 12"}]}, "targets[0].value"),
    ("bad ip", {"targets": [{"type": "IP_ADDRESS", "value": "300.1.2.3"}]}, "targets[0].value"),
    ("unknown target type", {"targets": [{"type": "SSN", "value": "x"}]}, "targets[0].type"),
    (
        "range ends before it starts",
        {"data_range": {"start": _days(-10), "end": _days(-20)}},
        "data_range.end",
    ),
    (
        "range in the future",
        {"data_range": {"start": _days(-10), "end": _days(5)}},
        "data_range.end",
    ),
    (
        "deadline in the past",
        {"deadline_at": (timezone.now() - timedelta(hours=1)).isoformat()},
        "deadline_at",
    ),
    ("gag without expiry", {"gag_order": {"legal_basis": "Court order"}}, "gag_order.expires_on"),
    ("gag expired", {"gag_order": {"expires_on": _days(-1)}}, "gag_order.expires_on"),
    ("blank narrative", {"narrative": "   "}, "narrative"),
    ("no legal basis", {"legal_basis": ""}, "legal_basis"),
    ("unknown field", {"surveillance": True}, "surveillance"),
    (
        "emergency details on a court order",
        {"emergency": {"danger": "x", "why_now": "y"}},
        "emergency",
    ),
]


@pytest.mark.parametrize(("case", "overrides", "field"), BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_is_422_naming_the_field_and_writes_nothing(
    api_as, chan_token, case, overrides, field
):
    before = counts()
    response = api_as(chan_token).post("/requests", valid_submission(**overrides))
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == "validation_error"
    assert field in field_errors(response), body
    assert counts() == before


def test_several_problems_are_reported_together(api_as, chan_token):
    response = api_as(chan_token).post(
        "/requests",
        valid_submission(
            targets=[
                {"type": "EMAIL", "value": "nope"},
                {"type": "IP_ADDRESS", "value": "1.2.3.4.5"},
            ],
            deadline_at=(timezone.now() - timedelta(days=1)).isoformat(),
        ),
    )
    assert response.status_code == 422
    assert {"targets[0].value", "targets[1].value", "deadline_at"} <= set(field_errors(response))


def test_malformed_json_is_400_naming_the_body(api_as, chan_token):
    client = api_as(chan_token)
    response = client.client.post(
        "/api/v1/requests",
        data="{not json",
        content_type="application/json",
        headers=client.headers,
    )
    assert response.status_code == 400
    assert "body" in field_errors(response)


def test_body_over_one_megabyte_is_413(api_as, chan_token):
    before = counts()
    response = api_as(chan_token).post("/requests", valid_submission(narrative="x" * 1_100_000))
    assert response.status_code == 413
    assert "body" in field_errors(response)
    assert counts() == before


def test_duplicate_targets_are_stored_once(api_as, chan_token):
    body = valid_submission(
        targets=[
            {"type": "EMAIL", "value": "A@example.com"},
            {"type": "EMAIL", "value": "a@EXAMPLE.com "},
        ]
    )
    response = api_as(chan_token).post("/requests", body)
    assert response.status_code == 201
    assert len(response.json()["targets"]) == 1


# --- idempotency ---------------------------------------------------------------------------


def test_same_idempotency_key_and_body_returns_the_original(api_as, chan_token):
    client = api_as(chan_token)
    body = valid_submission()
    first = client.post("/requests", body, **{"Idempotency-Key": "abc-123"})
    before = counts()
    second = client.post("/requests", body, **{"Idempotency-Key": "abc-123"})
    assert first.status_code == 201
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert counts() == before
    assert LegalRequest.objects.count() == 1


def test_same_idempotency_key_with_other_body_is_409(api_as, chan_token):
    client = api_as(chan_token)
    client.post("/requests", valid_submission(), **{"Idempotency-Key": "abc-123"})
    before = counts()
    response = client.post(
        "/requests", valid_submission(narrative="Different"), **{"Idempotency-Key": "abc-123"}
    )
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_reused"
    assert counts() == before


def test_idempotency_keys_are_per_officer(api_as, chan_token, rivera_token):
    api_as(chan_token).post("/requests", valid_submission(), **{"Idempotency-Key": "k"})
    response = api_as(rivera_token).post(
        "/requests",
        valid_submission(targets=[{"type": "USERNAME", "value": "x"}]),
        **{"Idempotency-Key": "k"},
    )
    assert response.status_code == 201
    assert LegalRequest.objects.count() == 2


# --- authentication and isolation ------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "Bearer nope", "Bearer grq_abc_def", "Basic xyz"])
def test_missing_or_bad_token_is_401(api_as, chan, header):
    client = api_as(None)
    headers = {"Authorization": header} if header else {}
    response = client.client.post(
        "/api/v1/requests", data="{}", content_type="application/json", headers=headers
    )
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
    assert "Authorization" in field_errors(response)


def test_revoked_token_is_401(api_as, chan_token, now):
    token = ApiToken.objects.get(prefix=chan_token.split("_")[1])
    api_token_revoke(actor=SYSTEM, token=token, now=now)
    response = api_as(chan_token).get("/requests")
    assert response.status_code == 401


def test_token_with_right_prefix_but_wrong_secret_is_401(api_as, chan_token):
    forged = chan_token[:-4] + ("AAAA" if not chan_token.endswith("AAAA") else "BBBB")
    assert api_as(forged).get("/requests").status_code == 401


def test_tokens_are_stored_hashed(chan_token):
    token = ApiToken.objects.get()
    assert chan_token not in (token.token_hash, token.prefix)
    assert len(token.token_hash) == 64


def test_staff_token_cannot_use_agency_endpoints(api_as, rita_token):
    response = api_as(rita_token).post("/requests", valid_submission())
    assert response.status_code == 403
    assert LegalRequest.objects.count() == 0


def test_other_agencys_request_is_404_like_a_missing_one(api_as, chan_token, rivera_token):
    created = api_as(chan_token).post("/requests", valid_submission()).json()
    fbi = api_as(rivera_token)
    other = fbi.get(f"/requests/{created['id']}")
    missing = fbi.get("/requests/00000000-0000-0000-0000-000000000000")
    assert other.status_code == missing.status_code == 404
    assert other.json() == missing.json() | {"message": other.json()["message"]}
    assert other.json()["code"] == missing.json()["code"] == "request_not_found"
    withdraw = fbi.post(f"/requests/{created['id']}/withdraw", {"reason": "mine now"})
    assert withdraw.status_code == 404
    upload = fbi.upload(f"/requests/{created['id']}/documents", "w.pdf", PDF, "application/pdf")
    assert upload.status_code == 404
    assert LegalRequest.objects.get(public_id=created["id"]).status == "RECEIVED"
    assert fbi.get("/requests").json()["items"] == []


def test_garbage_id_is_404(api_as, chan_token):
    assert api_as(chan_token).get("/requests/not-a-uuid").status_code == 404


# --- listing ---------------------------------------------------------------------------------


def test_list_is_paginated_and_scoped(api_as, chan_token, rivera_token):
    chan = api_as(chan_token)
    for _ in range(3):
        chan.post("/requests", valid_submission())
    api_as(rivera_token).post(
        "/requests", valid_submission(targets=[{"type": "USERNAME", "value": "x"}])
    )
    page1 = chan.get("/requests", page_size=2).json()
    assert page1["count"] is None  # the whole history: not counted
    assert chan.get("/requests", page_size=2, page=1).json()["count"] == 3
    assert len(page1["items"]) == 2
    assert page1["next_page"] == 2
    page2 = chan.get("/requests", page_size=2, page=2).json()
    assert len(page2["items"]) == 1
    assert page2["next_page"] is None
    refs = {i["reference"] for i in page1["items"] + page2["items"]}
    assert len(refs) == 3
    assert chan.get("/requests", page_size=1000).status_code == 422


def test_list_filters_by_status(api_as, chan_token):
    chan = api_as(chan_token)
    first = chan.post("/requests", valid_submission()).json()
    chan.post("/requests", valid_submission())
    chan.post(f"/requests/{first['id']}/withdraw", {"reason": "solved"})
    withdrawn = chan.get("/requests", status="WITHDRAWN").json()
    assert [i["id"] for i in withdrawn["items"]] == [first["id"]]


# --- withdraw --------------------------------------------------------------------------------


def test_withdraw_then_withdraw_again_is_409(api_as, chan_token):
    chan = api_as(chan_token)
    created = chan.post("/requests", valid_submission()).json()
    response = chan.post(f"/requests/{created['id']}/withdraw", {"reason": "Suspect arrested"})
    assert response.status_code == 200
    assert response.json()["status"] == "WITHDRAWN"
    assert response.json()["history"][-1]["reason"] == "Suspect arrested"
    again = chan.post(f"/requests/{created['id']}/withdraw", {"reason": "again"})
    assert again.status_code == 409
    assert again.json()["code"] == "illegal_transition"


# --- documents -------------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
TIFF = b"II*\x00" + b"\x00" * 64


@pytest.mark.parametrize(
    ("name", "content", "claimed", "expected"),
    [
        ("warrant.pdf", PDF, "application/pdf", "application/pdf"),
        ("scan.png", PNG, "image/png", "image/png"),
        ("scan.jpg", JPEG, "image/jpeg", "image/jpeg"),
        ("scan.tif", TIFF, "image/tiff", "image/tiff"),
        ("letter.txt", "Subpoena — 傳票\n".encode(), "text/plain; charset=utf-8", "text/plain"),
        ("unnamed", PDF, "application/octet-stream", "application/pdf"),
    ],
)
def test_upload_allowed_documents(api_as, chan_token, settings, name, content, claimed, expected):
    chan = api_as(chan_token)
    created = chan.post("/requests", valid_submission()).json()
    response = chan.upload(f"/requests/{created['id']}/documents", name, content, claimed)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["media_type"] == expected
    assert body["size_bytes"] == len(content)
    stored = settings.DOCUMENTS_DIR / body["sha256"][:2] / body["sha256"]
    assert stored.read_bytes() == content
    detail = chan.get(f"/requests/{created['id']}").json()
    assert [d["sha256"] for d in detail["documents"]] == [body["sha256"]]


@pytest.mark.parametrize(
    ("name", "content", "claimed"),
    [
        ("warrant.pdf", b"MZ\x90\x00 this is an executable", "application/pdf"),
        ("warrant.pdf", PNG, "application/pdf"),
        ("page.html", b"<html><script>alert(1)</script></html>\x00", "text/html"),
        ("empty.pdf", b"", "application/pdf"),
        ("binary.txt", b"abc\x00\x01\x02", "text/plain"),
    ],
)
def test_upload_rejects_wrong_or_unknown_bytes(api_as, chan_token, name, content, claimed):
    chan = api_as(chan_token)
    created = chan.post("/requests", valid_submission()).json()
    before = counts()
    response = chan.upload(f"/requests/{created['id']}/documents", name, content, claimed)
    assert response.status_code in (400, 422), response.content
    assert "file" in field_errors(response)
    assert counts() == before


def test_upload_over_25_megabytes_is_refused(api_as, chan_token):
    chan = api_as(chan_token)
    created = chan.post("/requests", valid_submission()).json()
    before = counts()
    big = b"%PDF-1.4\n" + b"0" * (25 * 1024 * 1024)
    response = chan.upload(
        f"/requests/{created['id']}/documents", "big.pdf", big, "application/pdf"
    )
    assert response.status_code in (413, 422)
    assert ("file" in field_errors(response)) or ("body" in field_errors(response))
    assert counts() == before


def test_same_document_twice_is_409(api_as, chan_token):
    chan = api_as(chan_token)
    created = chan.post("/requests", valid_submission()).json()
    path = f"/requests/{created['id']}/documents"
    assert chan.upload(path, "w.pdf", PDF, "application/pdf").status_code == 201
    assert chan.upload(path, "w2.pdf", PDF, "application/pdf").status_code == 409


def test_upload_to_withdrawn_request_is_409(api_as, chan_token):
    chan = api_as(chan_token)
    created = chan.post("/requests", valid_submission()).json()
    chan.post(f"/requests/{created['id']}/withdraw", {"reason": "done"})
    response = chan.upload(f"/requests/{created['id']}/documents", "w.pdf", PDF, "application/pdf")
    assert response.status_code == 409


def test_document_file_name_is_sanitised(api_as, chan_token):
    chan = api_as(chan_token)
    created = chan.post("/requests", valid_submission()).json()
    response = chan.upload(
        f"/requests/{created['id']}/documents", '../../etc/"pass<wd>.pdf', PDF, "application/pdf"
    )
    assert response.json()["original_name"] == "passwd.pdf"


# --- OpenAPI ---------------------------------------------------------------------------------


def test_openapi_document_is_public_and_describes_the_api(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert "/api/v1/requests" in spec["paths"]
    assert "/api/v1/requests/{request_id}/documents" in spec["paths"]


def test_interactive_docs_require_staff_sign_in(client, db):
    response = client.get("/api/v1/docs")
    assert response.status_code == 302
    assert response["Location"].startswith("/console/sign-in")


def test_unknown_query_parameter_is_422(api_as, chan_token):
    response = api_as(chan_token).get("/requests", stauts="WITHDRAWN")
    assert response.status_code == 422
    assert "stauts" in field_errors(response)


def test_agencies_do_not_see_staff_reasons(api_as, chan_token, chan):
    from govreq.accounts.services import staff_add
    from govreq.core.actors import Actor
    from govreq.lifecycle.reviewing import request_escalate, request_start_review

    created = api_as(chan_token).post("/requests", valid_submission()).json()
    request = LegalRequest.objects.get(public_id=created["id"])
    rita = staff_add(
        actor=SYSTEM, email="r@platform.example", name="R", roles=["REVIEWER"], now=timezone.now()
    )
    request_start_review(actor=Actor.for_user(rita), request=request, now=timezone.now())
    request_escalate(
        actor=Actor.for_user(rita),
        request=request,
        reason="Internal: possible political motive",
        now=timezone.now(),
    )
    history = api_as(chan_token).get(f"/requests/{created['id']}").json()["history"]
    assert [h["to_status"] for h in history] == ["RECEIVED", "IN_REVIEW", "ESCALATED"]
    assert all("political" not in h["reason"] for h in history)
