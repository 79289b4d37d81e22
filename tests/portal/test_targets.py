"""The accounts box: one target per line, explicit types win over detection."""

from __future__ import annotations

import pytest

from govreq.intake.models import TargetType as T
from govreq.portal.targets import TargetLine, detect_target_type, parse_target_lines


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("+852 9123 4567", T.PHONE),
        ("+1 (415) 555-0100", T.PHONE),
        ("192.0.2.1", T.IP_ADDRESS),
        ("2001:0db8::1", T.IP_ADDRESS),
        ("someone@example.com", T.EMAIL),
        ("https://example.com/profile/1", T.URL),
        ("HTTP://example.com", T.URL),
        ("@Scammer_HK", T.USERNAME),
        ("scammer_hk", T.USERNAME),
        ("12345678", T.USERNAME),
        ("httpbin", T.USERNAME),
        ("+852", T.PHONE),
    ],
)
def test_detects_the_type_of_a_bare_value(value: str, expected: T) -> None:
    assert detect_target_type(value) == expected


def test_explicit_types_win_and_lines_keep_their_numbers() -> None:
    text = (
        "EMAIL: a@example.com\n"
        "\n"
        "phone:+852 9123 4567\n"
        "  USER_ID : 42  \n"
        "ip: 192.0.2.1\n"
        "user id: 7\n"
        "E-mail: b@example.com\n"
        "https://example.com/x\n"
        "2001:db8::1\n"
        "USERNAME: has@sign\n"
        "URL:\n"
    )
    assert parse_target_lines(text) == [
        TargetLine(line=1, type=T.EMAIL, value="a@example.com"),
        TargetLine(line=3, type=T.PHONE, value="+852 9123 4567"),
        TargetLine(line=4, type=T.USER_ID, value="42"),
        TargetLine(line=5, type=T.IP_ADDRESS, value="192.0.2.1"),
        TargetLine(line=6, type=T.USER_ID, value="7"),
        TargetLine(line=7, type=T.EMAIL, value="b@example.com"),
        TargetLine(line=8, type=T.URL, value="https://example.com/x"),
        TargetLine(line=9, type=T.IP_ADDRESS, value="2001:db8::1"),
        TargetLine(line=10, type=T.USERNAME, value="has@sign"),
        TargetLine(line=11, type=T.URL, value=""),
    ]


def test_a_colon_that_names_no_type_is_part_of_the_value() -> None:
    assert parse_target_lines("mailto:x@example.com\nfoo: bar") == [
        TargetLine(line=1, type=T.EMAIL, value="mailto:x@example.com"),
        TargetLine(line=2, type=T.USERNAME, value="foo: bar"),
    ]


def test_blank_text_has_no_targets() -> None:
    assert parse_target_lines("\n  \n\t") == []
