"""Readers for published transparency data: Meta's and Google's real CSV files, and govreq's own
exports. Each layout has one reader, which reads the platforms' files and govreq's exports in
that layout alike; govreq's tests parse both with it.

They survive what the real files do: a byte-order mark, CR-only line endings, headers that gain
and lose columns between years, numbers with thousands separators ("65,839"), percentages as
"24%" or blank, non-ASCII country names. They do not correct the data: a percentage that
contradicts its own counts is reported in ``problems``, as published.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from govreq.core.csvcells import unsafe_row
from govreq.transparency.counting import percent
from govreq.transparency.exports import OWN_COLUMNS


class ReaderError(ValueError):
    """The file is not in the layout the reader expects (names what is missing or wrong)."""


Source = bytes | str | Path


def read_text(source: Source) -> str:
    """The text of a file, its byte-order mark removed (a ``str`` is taken as the text)."""
    if isinstance(source, Path):
        source = source.read_bytes()
    if isinstance(source, bytes):
        try:
            return source.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise ReaderError(f"not UTF-8 text: {error}") from None
    return source.removeprefix("\ufeff")


def csv_rows(text: str) -> list[list[str]]:
    """CSV rows whatever the line endings (LF, CRLF or CR alone); blank lines dropped. A cell
    neutralised against formulas (a leading apostrophe, core.csvcells) is read back as it was
    before: govreq's exports write every text cell that way, and a spreadsheet's own escape is
    the same apostrophe."""
    # newline="" lets the csv module see \r, \n and \r\n alike as line ends.
    rows = csv.reader(io.StringIO(text, newline=""))
    return [unsafe_row(row) for row in rows if any(cell.strip() for cell in row)]


def parse_count(value: str | None) -> int | None:
    """``"65,839"`` -> 65839; blank -> None."""
    text = (value or "").strip().replace(",", "").replace("\u00a0", "").replace(" ", "")
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise ReaderError(f"{value!r} is not a count") from None


def parse_percent(value: str | None) -> int | None:
    """``"24%"``, ``"24"`` or ``"23.6"`` -> whole percent; blank -> None."""
    text = (value or "").strip().removesuffix("%").strip()
    if not text:
        return None
    try:
        return int(Decimal(text).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    except InvalidOperation:
        raise ReaderError(f"{value!r} is not a percentage") from None


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


def _columns(header: list[str], required: tuple[str, ...], layout: str) -> dict[str, int]:
    positions = {_key(name): index for index, name in enumerate(header)}
    missing = [name for name in required if _key(name) not in positions]
    if missing:
        raise ReaderError(f"not a {layout} file: no column {', '.join(map(repr, missing))}")
    return positions


def _cell(row: list[str], positions: dict[str, int], name: str) -> str:
    index = positions.get(_key(name))
    return row[index] if index is not None and index < len(row) else ""


# --- Country names -------------------------------------------------------------------------------

# Names the platforms use that ISO 3166-1 (govreq's jurisdictions) spells differently.
COUNTRY_ALIASES = {
    "aland islands": "AX",
    "antigua": "AG",
    "bosnia & herzegovina": "BA",
    "british virgin islands": "VG",
    "brunei": "BN",
    "cape verde": "CV",
    "côte d\u2019ivoire": "CI",  # Google writes a typographic apostrophe
    "curacao": "CW",
    "czech republic": "CZ",
    "democratic republic of the congo": "CD",
    "falkland islands": "FK",
    "falkland islands (islas malvinas)": "FK",
    "federated states of micronesia": "FM",
    "isle of man": "IM",
    "ivory coast": "CI",
    "kosovo": "XK",
    "macau": "MO",
    "macedonia": "MK",
    "micronesia": "FM",
    "netherlands antilles": "AN",
    "palestine": "PS",
    "republic of the congo": "CG",
    "reunion": "RE",
    "russia": "RU",
    "saint barthelemy": "BL",
    "saint helena": "SH",
    "saint martin": "MF",
    "sint maarten": "SX",
    "st. lucia": "LC",
    "swaziland": "SZ",
    "the bahamas": "BS",
    "the gambia": "GM",
    "trinidad & tobago": "TT",
    "turkey": "TR",
    "turks & caicos islands": "TC",
    "us virgin islands": "VI",
    "vatican city": "VA",
}


@cache
def _country_codes() -> dict[str, str]:
    table = resources.files("govreq.jurisdictions").joinpath("iso3166.json").read_text("utf-8")
    codes = {_key(item["name"]): item["code"] for item in json.loads(table)}
    codes.update(COUNTRY_ALIASES)
    return codes


def country_code(name: str) -> str:
    """The ISO 3166-1 code of a country name as the platforms write it ("" if unknown)."""
    return _country_codes().get(_key(name), "")


# --- Meta ----------------------------------------------------------------------------------------

META_PERIOD_IN_NAME = re.compile(r"(\d{4})[_-]?H([12])", re.IGNORECASE)
META_REQUIRED = (
    "Country",
    "Preservation Requests",
    "Preservation Accounts Preserved",
    "Total Requests",
    "Number of Requests Where Some Data Produced",
    "Total Requests Accounts",
    "Total Requests Percentage",
    "Legal Process Request Total",
    "Legal Number of Requests Where Some Data Produced",
    "Legal Process Request Total Accounts",
    "Legal Process Request Total Percentage",
    "Emergency Request Total",
    "ER Number of Requests Where Some Data Produced",
    "Emergency Request Total Accounts",
    "Emergency Request Total Percentage",
)
META_PROCESS_TYPES = (
    "Search Warrant",
    "Subpoena",
    "Court Order (Other)",
    "MLAT Search Warrant",
    "MLAT Order",
    "Court Order (18 USC 2703(d))",
    "Pen Register/Trap and Trace",
    "Title III",
    "FISA Content Requests",
    "FISA Non-Content Requests",
    "NSLs",
)


@dataclass(frozen=True, kw_only=True)
class MetaCounts:
    requests: int | None
    produced: int | None
    accounts: int | None
    percent: int | None


@dataclass(frozen=True, kw_only=True)
class MetaRow:
    country: str
    code: str  # ISO 3166-1, "" when the name is not known
    preservation_requests: int | None
    preservation_accounts: int | None
    total: MetaCounts
    legal_process: MetaCounts
    emergency: MetaCounts
    # Per process type (the columns present): requests, accounts, percent; produced is None.
    process: dict[str, MetaCounts] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class MetaFile:
    period: str | None  # "2020-H2", from the file name
    rows: list[MetaRow]
    problems: list[str]

    def row(self, code: str) -> MetaRow:
        return next(row for row in self.rows if row.code == code)


def _meta_problems(period: str | None, row: MetaRow) -> list[str]:
    found = []
    where = f"{row.country} {period or ''}".strip()
    for label, counts in (
        ("total", row.total),
        ("legal process", row.legal_process),
        ("emergency", row.emergency),
    ):
        if counts.requests is None or counts.produced is None:
            continue
        if counts.produced > counts.requests:
            found.append(
                f"{where}: {label}: {counts.produced} requests produced data but only "
                f"{counts.requests} were received"
            )
        elif counts.percent is not None:
            expected = percent(counts.produced, counts.requests)
            if (expected is None and counts.percent != 0) or (
                expected is not None and abs(expected - counts.percent) > 1
            ):
                found.append(
                    f"{where}: {label}: the percentage says {counts.percent}% but "
                    f"{counts.produced} of {counts.requests} requests produced data"
                )
    return found


def read_meta(source: Source, *, name: str = "") -> MetaFile:
    """A Meta government-requests CSV: one row per country. ``name`` (the file name) gives the
    half-year when it contains one, as Meta's do (``...-2020_H2.csv``)."""
    if isinstance(source, Path) and not name:
        name = source.name
    rows = csv_rows(read_text(source))
    if not rows:
        raise ReaderError("not a Meta file: it is empty")
    positions = _columns(rows[0], META_REQUIRED, "Meta government-requests")
    match = META_PERIOD_IN_NAME.search(name)
    period = f"{match.group(1)}-H{match.group(2)}" if match else None

    def counts(row: list[str], requests: str, produced: str | None, prefix: str) -> MetaCounts:
        return MetaCounts(
            requests=parse_count(_cell(row, positions, requests)),
            produced=parse_count(_cell(row, positions, produced)) if produced else None,
            accounts=parse_count(_cell(row, positions, f"{prefix} Accounts")),
            percent=parse_percent(_cell(row, positions, f"{prefix} Percentage")),
        )

    parsed: list[MetaRow] = []
    problems: list[str] = []
    for line, row in enumerate(rows[1:], start=2):
        country = _cell(row, positions, "Country").strip()
        if not country:
            continue
        try:
            meta_row = MetaRow(
                country=country,
                code=country_code(country),
                preservation_requests=parse_count(_cell(row, positions, "Preservation Requests")),
                preservation_accounts=parse_count(
                    _cell(row, positions, "Preservation Accounts Preserved")
                ),
                total=counts(
                    row,
                    "Total Requests",
                    "Number of Requests Where Some Data Produced",
                    "Total Requests",
                ),
                legal_process=counts(
                    row,
                    "Legal Process Request Total",
                    "Legal Number of Requests Where Some Data Produced",
                    "Legal Process Request Total",
                ),
                emergency=counts(
                    row,
                    "Emergency Request Total",
                    "ER Number of Requests Where Some Data Produced",
                    "Emergency Request Total",
                ),
                process={
                    kind: counts(row, kind, None, kind)
                    for kind in META_PROCESS_TYPES
                    if _key(kind) in positions
                },
            )
        except ReaderError as error:
            raise ReaderError(f"line {line} ({country}): {error}") from None
        parsed.append(meta_row)
        problems.extend(_meta_problems(period, meta_row))
    return MetaFile(period=period, rows=parsed, problems=problems)


# --- Google --------------------------------------------------------------------------------------

GOOGLE_REQUIRED = (
    "Period Ending",
    "Country/Region",
    "CLDR Territory Code",
    "Legal Process",
    "User Data Requests",
    "Percentage disclosed",
    "Accounts",
)


@dataclass(frozen=True, kw_only=True)
class GoogleRow:
    period_ending: date
    country: str
    code: str
    legal_process: str  # as written ("CLOUD ACT - OPOs"); compare with process_key()
    requests: int | None  # blank in a few rows ("Requests for data of local subsidiary")
    percent: int | None  # blank for preservation requests
    accounts: int | None

    @property
    def process_key(self) -> str:
        return _key(self.legal_process)


def read_google(source: Source) -> list[GoogleRow]:
    """Google's global user-data-requests CSV: one row per half-year, country and process."""
    rows = csv_rows(read_text(source))
    if not rows:
        raise ReaderError("not a Google user-data-requests file: it is empty")
    positions = _columns(rows[0], GOOGLE_REQUIRED, "Google user-data-requests")
    parsed: list[GoogleRow] = []
    for line, row in enumerate(rows[1:], start=2):
        try:
            ending = date.fromisoformat(_cell(row, positions, "Period Ending").strip())
            parsed.append(
                GoogleRow(
                    period_ending=ending,
                    country=_cell(row, positions, "Country/Region").strip(),
                    code=_cell(row, positions, "CLDR Territory Code").strip().upper(),
                    legal_process=_cell(row, positions, "Legal Process").strip(),
                    requests=parse_count(_cell(row, positions, "User Data Requests")),
                    percent=parse_percent(_cell(row, positions, "Percentage disclosed")),
                    accounts=parse_count(_cell(row, positions, "Accounts")),
                )
            )
        except (ReaderError, ValueError) as error:
            raise ReaderError(f"line {line}: {error}") from None
    return parsed


# --- govreq's own exports ------------------------------------------------------------------------

_OWN_COUNTS = ("version", "requests", "accounts", "data_produced")
_OWN_PERCENTS = ("data_produced_percent", "share_percent")


def _own_row(values: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for column in OWN_COLUMNS:
        value = values.get(column)
        if column in _OWN_COUNTS:
            row[column] = value if isinstance(value, int) or value is None else parse_count(value)
        elif column in _OWN_PERCENTS:
            row[column] = value if isinstance(value, int) or value is None else parse_percent(value)
        else:
            row[column] = value if value not in ("", None) else None
    return row


def read_own_csv(source: Source) -> list[dict[str, Any]]:
    """govreq's own CSV export: one dict per row, counts as int (blank: None)."""
    rows = csv_rows(read_text(source))
    if not rows:
        raise ReaderError("not a govreq export: it is empty")
    positions = _columns(rows[0], OWN_COLUMNS, "govreq transparency export")
    return [
        _own_row({column: _cell(row, positions, column) for column in OWN_COLUMNS})
        for row in rows[1:]
    ]


def read_own_json(source: Source) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """govreq's own JSON export: its header fields, and its rows."""
    try:
        document = json.loads(read_text(source))
    except json.JSONDecodeError as error:
        raise ReaderError(f"not JSON: {error}") from None
    if not isinstance(document, dict) or "rows" not in document:
        raise ReaderError("not a govreq export: no rows")
    rows = [_own_row(row) for row in document.pop("rows")]
    return document, rows
