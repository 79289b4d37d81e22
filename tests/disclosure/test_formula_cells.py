"""A production's CSV files are formula-safe; its JSON files hold the values exactly, and the
package's reader gives the CSV rows back equal to the JSON records."""

from __future__ import annotations

import contextlib
import io
import json
import zipfile
from datetime import UTC, datetime

import pytest
from django.utils import timezone

from govreq.core.actors import Actor
from govreq.disclosure.models import Production
from govreq.disclosure.packages import CSV_CELLS, PackageBuilder
from govreq.disclosure.sealing import new_package_key, unseal
from govreq.disclosure.sources import Record
from govreq.disclosure.verify import read_csv_member
from govreq.lifecycle import disclosing
from tests.review_helpers import approve, make_staff, submit

VALUES = [
    '=HYPERLINK("http://evil.example","x")',
    "@SUM(A1)",
    "-1 agency",
    "'quoted",
    "plain",
    "-1",
]


def test_csv_members_are_formula_safe_and_read_back_as_the_json():
    key = new_package_key()
    sealed: dict[str, io.BytesIO] = {}

    @contextlib.contextmanager
    def open_member(name):
        sink = sealed[name] = io.BytesIO()
        yield sink

    builder = PackageBuilder(prefix="p", key=key, open_member=open_member)
    builder.account("-acct", target=None)
    when = datetime(2020, 7, 1, tzinfo=UTC)
    for number, value in enumerate(VALUES):
        builder.add(
            Record(
                account="-acct",
                category="MESSAGES",
                occurred_at=when,
                fields={"text": value, "count": -number, "ratio": -0.5, "=sum": "ok"},
            )
        )
    files = builder.finish()
    plain = {
        name: b"".join(unseal(io.BytesIO(sink.getvalue()), key)) for name, sink in sealed.items()
    }
    csv_bytes = plain["p/account-01/MESSAGES.csv"]
    json_doc = json.loads(plain["p/account-01/MESSAGES.json"])

    text = csv_bytes.decode()
    assert "'=HYPERLINK" in text and "'@SUM" in text and "'-1 agency" in text
    assert "''quoted" in text and ",-1," in text and ",-0.5" in text
    for line in text.splitlines():
        assert not line.startswith("-acct")  # the account id is text too

    rows = read_csv_member(csv_bytes, manifest={"csv_cells": CSV_CELLS})
    assert text.splitlines()[0].endswith(",'=sum")  # a column name is text too
    assert rows[0] == ["account", "category", "occurred_at", "text", "count", "ratio", "=sum"]
    assert [row[3] for row in rows[1:]] == VALUES == [r[1] for r in json_doc["records"]]
    assert [row[0] for row in rows[1:]] == ["-acct"] * len(VALUES)
    assert [int(row[4]) for row in rows[1:]] == [r[2] for r in json_doc["records"]]
    # The manifest's hashes are of the files as written.
    entry = next(f for f in files if f["name"] == "account-01/MESSAGES.csv")
    assert entry["size"] == len(csv_bytes)


@pytest.mark.django_db
def test_a_production_manifest_and_readme_say_how_csv_cells_are_written(
    chan, platform, django_capture_on_commit_callbacks
):
    staff = make_staff()
    with django_capture_on_commit_callbacks(execute=True):
        request = approve(submit(chan), staff)
    production = Production.objects.get(request=request)
    assert production.status == "READY", production.error
    assert production.manifest["csv_cells"] == CSV_CELLS
    production = disclosing.production_release(
        actor=staff.actor("rita"), production=production, now=timezone.now()
    )
    download = disclosing.package_download(
        actor=Actor.for_officer(chan),
        production=production,
        channel="API",
        client_address="192.0.2.1",
        user_agent="pytest",
        now=timezone.now(),
    )
    with zipfile.ZipFile(io.BytesIO(b"".join(download.chunks))) as archive:
        readme = archive.read("README.txt").decode()
        manifest = json.loads(archive.read("manifest.json"))
        for entry in manifest["files"]:
            if entry["format"] != "csv":
                continue
            rows = read_csv_member(archive.read(entry["name"]), manifest=manifest)
            records = json.loads(archive.read(entry["name"][:-4] + ".json"))["records"]
            assert [row[2:] for row in rows[1:]] == [
                ["" if value is None else str(value) for value in record] for record in records
            ]
    assert "formula-safe/1" in readme and "apostrophe" in readme
