"""Formula-safe CSV cells (core.csvcells): what is neutralised, what is left alone, and that
reading back gives exactly what was written."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govreq.core.csvcells import safe_cell, unsafe_cell


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ('=HYPERLINK("http://evil.example","x")', '\'=HYPERLINK("http://evil.example","x")'),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-1 agency", "'-1 agency"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\tX", "'\tX"),
        ("\rX", "'\rX"),
        ("'quoted", "''quoted"),
        ("'=already", "''=already"),
        ("plain text", "plain text"),
        ("a=b", "a=b"),
        ("0-249", "0-249"),
        ("", ""),
        # A string that is nothing but a number is a number to a spreadsheet, not a formula.
        ("-1", "-1"),
        ("+3.5", "+3.5"),
        ("-2e3", "-2e3"),
        ("-.5", "-.5"),
    ],
)
def test_text_cells(text, written):
    assert safe_cell(text) == written
    assert unsafe_cell(written) == text


@pytest.mark.parametrize("number", [-1, 0, 7, -2.5, Decimal("-3.25"), None, True])
def test_numbers_and_none_are_not_text(number):
    assert safe_cell(number) is number


@given(st.text())
def test_reading_back_is_exact(text):
    written = safe_cell(text)
    assert unsafe_cell(written) == text
    assert not written.startswith(("=", "@", "\t", "\r"))
    if written.startswith(("-", "+")):
        float(written)  # only a plain number keeps its sign in front
