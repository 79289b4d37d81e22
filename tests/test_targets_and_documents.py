"""Pure rules: normalising account identifiers and sniffing document bytes."""

from __future__ import annotations

import contextlib
import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govreq.intake.documents import claimed_media_type, safe_file_name, sniff_media_type
from govreq.intake.targets import TargetInvalid, normalise_target


@pytest.mark.parametrize(
    ("kind", "raw", "region", "expected"),
    [
        ("EMAIL", " Someone@Example.COM ", None, "someone@example.com"),
        ("PHONE", "+852 9123 4567", None, "+85291234567"),
        ("PHONE", "9123 4567", "HK", "+85291234567"),
        ("PHONE", "(415) 555-2671", "US", "+14155552671"),
        ("IP_ADDRESS", "2001:0DB8:0:0:0:0:0:1", None, "2001:db8::1"),
        ("IP_ADDRESS", "::ffff:192.0.2.1", None, "192.0.2.1"),
        ("IP_ADDRESS", " 192.0.2.10 ", None, "192.0.2.10"),
        ("USERNAME", "@SomeOne", None, "someone"),
        ("USER_ID", " 100004 ", None, "100004"),
        ("URL", "HTTPS://Example.COM/Path?q=1#frag", None, "https://example.com/Path?q=1"),
        ("URL", "http://example.com", None, "http://example.com/"),
    ],
)
def test_normalise(kind, raw, region, expected):
    assert normalise_target(kind, raw, region=region) == expected


@pytest.mark.parametrize(
    ("kind", "raw"),
    [
        ("EMAIL", "no-at-sign"),
        ("EMAIL", "two@@example.com"),
        ("PHONE", "+852 12"),
        ("PHONE", "ring ring"),
        ("PHONE", "91234567"),  # a national number with no region to read it in
        ("IP_ADDRESS", "256.0.0.1"),
        ("IP_ADDRESS", "192.168.1.1/24"),
        ("USERNAME", "two words"),
        ("URL", "javascript:alert(1)"),
        ("URL", "ftp://example.com/"),
        ("USER_ID", "   "),
        ("USER_ID", "x" * 501),
    ],
)
def test_malformed_identifiers_are_refused(kind, raw):
    with pytest.raises(TargetInvalid):
        normalise_target(kind, raw)


@given(st.ip_addresses())
def test_ip_normalisation_is_canonical_and_idempotent(address):
    once = normalise_target("IP_ADDRESS", str(address))
    assert normalise_target("IP_ADDRESS", once) == once
    assert ipaddress.ip_address(once) in (address, getattr(address, "ipv4_mapped", None))


@given(st.emails())
def test_email_normalisation_is_idempotent(email):
    try:
        once = normalise_target("EMAIL", email)
    except TargetInvalid:
        return  # hypothesis emails are RFC-valid; Django's validator is stricter on a few
    assert normalise_target("EMAIL", once) == once
    assert once == once.lower()


@given(st.text(max_size=60))
def test_normalisation_never_crashes(raw):
    for kind in ("EMAIL", "PHONE", "IP_ADDRESS", "USERNAME", "USER_ID", "URL"):
        with contextlib.suppress(TargetInvalid):
            normalise_target(kind, raw, region="HK")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"%PDF-1.7\n...", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n....", "image/png"),
        (b"\xff\xd8\xff\xdb....", "image/jpeg"),
        (b"MM\x00*....", "image/tiff"),
        ("令狀 warrant\r\n\tpage 1\x0c".encode(), "text/plain"),
        (b"\xef\xbb\xbfBOM text", "text/plain"),
        (b"<html>\x00", None),
        (b"\xff\xfe\x00\x00", None),
        (b"GIF89a", "text/plain"),  # printable ASCII is text, whatever its name says
        (b"\x7fELF\x02\x01", None),
    ],
)
def test_sniff(content, expected):
    assert sniff_media_type(content[:16], lambda: content) == expected


def test_claimed_type():
    assert claimed_media_type("application/octet-stream") is None
    assert claimed_media_type("") is None
    assert claimed_media_type("text/plain; charset=utf-8") == "text/plain"
    assert claimed_media_type("image/jpg") == "image/jpeg"


def test_safe_file_name():
    assert safe_file_name("C:\\Users\\x\\warrant.pdf") == "warrant.pdf"
    assert safe_file_name("../../\x00") == "document"
    assert len(safe_file_name("a" * 400 + ".pdf")) == 255
