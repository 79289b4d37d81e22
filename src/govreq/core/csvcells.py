"""Safe CSV cells (OWASP "CSV injection"): a text cell that a spreadsheet would read as a formula
is written with a leading apostrophe, and read back without it.

A text cell is neutralised when it begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return, or with the apostrophe itself (so that reading back is exact: a cell that really begins
with an apostrophe gains a second one). Numbers are not text: an ``int``, ``float`` or
``Decimal`` is written as it is, and so is a string that is nothing but a number ("-1", "+3.5",
"-2e3"), which a spreadsheet reads as that number and never as a formula. "-1 agency" is text,
and is neutralised.

``safe_cell`` and ``unsafe_cell`` are inverses: ``unsafe_cell(safe_cell(text)) == text`` for
every string, and a reader applies ``unsafe_cell`` to every cell of a file written with
``safe_cell``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

QUOTE = "'"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NEUTRALISED_STARTS = (*FORMULA_STARTS, QUOTE)
# A plain number (no spaces, no trailing text): left as it is.
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def safe_cell(value: Any) -> Any:
    """The value to write in a CSV cell: a string that a spreadsheet could run is prefixed with
    an apostrophe; anything else (numbers, None, plain text) is returned unchanged."""
    if not isinstance(value, str) or not value.startswith(_NEUTRALISED_STARTS):
        return value
    if _NUMBER.fullmatch(value):
        return value
    return QUOTE + value


def unsafe_cell(value: str) -> str:
    """The text a cell written by ``safe_cell`` stood for (one leading apostrophe removed)."""
    return value[1:] if value.startswith(QUOTE) else value


def safe_row(row: Iterable[Any]) -> list[Any]:
    return [safe_cell(value) for value in row]


def unsafe_row(row: Iterable[str]) -> list[str]:
    return [unsafe_cell(value) for value in row]
