"""Country and territory names in the reader's language.

English names are the ISO 3166-1 short names (``iso3166.json``); the Traditional Chinese names
(``names_zh_hant.json``) were generated once from the iso-codes project's zh_TW catalogue
(pycountry, a development dependency only) and are kept here, so the server needs no extra
package. Taiwan is 台灣."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from django.utils.translation import get_language

HERE = Path(__file__).parent


@cache
def _names(table: str) -> dict[str, str]:
    raw = json.loads((HERE / table).read_text("utf-8"))
    if isinstance(raw, list):
        return {row["code"]: row["name"] for row in raw}
    return dict(raw)


def country_name(code: str, *, fallback: str = "", language: str | None = None) -> str:
    """The name of the jurisdiction ``code`` in ``language`` (default: the active language);
    ``fallback`` (or the code) for a code no table knows."""
    language = (language or get_language() or "en").lower()
    code = (code or "").upper()
    if language.startswith("zh"):
        name = _names("names_zh_hant.json").get(code)
        if name:
            return name
    return _names("iso3166.json").get(code) or fallback or code
