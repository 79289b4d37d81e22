"""Country names follow the reader's language; every ISO 3166-1 code has a Chinese name."""

from __future__ import annotations

import json
from pathlib import Path

from django.utils import translation

import govreq.jurisdictions
from govreq.jurisdictions.names import country_name

HERE = Path(govreq.jurisdictions.__file__).parent


def test_every_code_has_a_traditional_chinese_name():
    codes = {row["code"] for row in json.loads((HERE / "iso3166.json").read_text("utf-8"))}
    chinese = json.loads((HERE / "names_zh_hant.json").read_text("utf-8"))
    assert set(chinese) == codes
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in name) for name in chinese.values())


def test_names_in_the_active_language():
    with translation.override("zh-hant"):
        assert country_name("HK") == "香港"
        assert country_name("GB") == "英國"
    with translation.override("en"):
        assert country_name("HK") == "Hong Kong"
    assert country_name("XX", fallback="Nowhere") == "Nowhere"
