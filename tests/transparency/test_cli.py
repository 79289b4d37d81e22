"""govreq report show | export | publish | verify."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from govreq.transparency.readers import read_google, read_meta, read_own_csv, read_own_json
from tests.transparency.history import HOLD_REASON


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_show_prints_a_table_and_one_jurisdiction_in_full(history):
    table = run("report", "show", "2020-H2")
    assert table.startswith("Transparency report 2020-H2: DRAFT computed now")
    lines = table.splitlines()
    hong_kong = next(line for line in lines if line.startswith("Hong Kong [hold]"))
    assert hong_kong.split()[3:7] == ["5", "10", "2", "40%"]
    assert HOLD_REASON in table
    assert "United States: 0-249 requests, 0-249 accounts" in table
    detail = run("report", "show", "2020-H2", "--jurisdiction", "hk")
    assert "Hong Kong (HK)" in detail
    assert "Withdrawn by the agency" in detail and "received under the hold 5" in detail
    with pytest.raises(CommandError, match="names no jurisdiction 'FR'"):
        run("report", "show", "2020-H2", "--jurisdiction", "FR")
    with pytest.raises(CommandError, match="is not a period"):
        run("report", "show", "2020-H5")


def test_export_every_format_of_a_published_version(history, tmp_path):
    with pytest.raises(CommandError, match=r"has not been published \(use --draft") as caught:
        run("report", "export", "2020-H2", "--format", "csv", "--out", str(tmp_path / "x"))
    assert caught.value.returncode == 3
    run("report", "publish", "2020-H2", "--as", "pat@platform.example")
    paths = {}
    for fmt in ("csv", "json", "meta", "google"):
        paths[fmt] = tmp_path / f"2020_H2.{fmt}"
        out = run("report", "export", "2020-H2", "--format", fmt, "--out", str(paths[fmt]))
        assert out.startswith(f"Wrote the 2020-H2 report (version 1, {fmt}) to ")
    hk = {r["category"]: r for r in read_own_csv(paths["csv"]) if r["jurisdiction"] == "HK"}
    assert hk["requests"]["requests"] == 5
    header, _rows = read_own_json(paths["json"])
    assert header["version"] == 1
    assert read_meta(paths["meta"]).row("HK").total.requests == 5
    assert {r.requests for r in read_google(paths["google"]) if r.code == "HK"} == {4, 1}
    draft = run("report", "export", "2020-H2", "--format", "csv", "--draft", "--out", "-")
    assert draft.startswith("period,period_start,period_end,version,")


def test_show_published_and_json(history):
    run("report", "publish", "2020-H2", "--as", "pat@platform.example")
    assert ", version 1, published " in run("report", "show", "2020-H2", "--published")
    import json

    entry = json.loads(run("report", "show", "2020-H2", "--json", "--jurisdiction", "US"))
    assert entry["national_security"]["requests"] == "0-249"
