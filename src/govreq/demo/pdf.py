"""A minimal, valid one-page PDF with a few lines of text, for demo and test documents.

ASCII lines are set in Helvetica. A line with other characters (the Hong Kong warrants are in
Traditional Chinese) is set in a Type 0 font of the Adobe-CNS1 collection, which every PDF viewer
maps to an installed Traditional Chinese font (Noto Sans CJK TC here), with the text written in
UTF-16 (the predefined ``UniCNS-UTF16-H`` encoding) and a ``ToUnicode`` map, so the text layer
gives back exactly the characters written: no font file is embedded or downloaded.
"""

from __future__ import annotations

_CJK_FONT = (
    b"<< /Type /Font /Subtype /Type0 /BaseFont /MSung-Light /Encoding /UniCNS-UTF16-H "
    b"/DescendantFonts [7 0 R] /ToUnicode 8 0 R >>"
)
_CJK_DESCENDANT = (
    b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /MSung-Light "
    b"/CIDSystemInfo << /Registry (Adobe) /Ordering (CNS1) /Supplement 4 >> "
    b"/FontDescriptor 9 0 R /DW 1000 >>"
)
_CJK_DESCRIPTOR = (
    b"<< /Type /FontDescriptor /FontName /MSung-Light /Flags 6 "
    b"/FontBBox [-160 -249 1015 1071] /ItalicAngle 0 /Ascent 880 /Descent -120 "
    b"/CapHeight 880 /StemV 93 >>"
)


def _to_unicode(codes: set[str]) -> bytes:
    """A ToUnicode CMap mapping each UTF-16 code unit sequence used to itself."""
    lines = [
        "/CIDInit /ProcSet findresource begin",
        "12 dict begin",
        "begincmap",
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        "/CMapName /Adobe-Identity-UCS def",
        "/CMapType 2 def",
        "2 begincodespacerange",
        "<0000> <D7FF>",
        "<D800DC00> <DBFFDFFF>",
        "endcodespacerange",
    ]
    chars = sorted(codes)
    for start in range(0, len(chars), 100):
        chunk = chars[start : start + 100]
        lines.append(f"{len(chunk)} beginbfchar")
        lines += [f"<{c}> <{c}>" for c in chunk]
        lines.append("endbfchar")
    lines += ["endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"]
    return "\n".join(lines).encode("ascii")


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def tiny_pdf(lines: list[str]) -> bytes:
    content_lines = ["BT", "72 760 Td", "14 TL"]
    codes: set[str] = set()
    for line in lines:
        if line.isascii():
            content_lines.append(f"/F1 11 Tf ({_escape(line)}) Tj T*")
            continue
        units = [ch.encode("utf-16-be").hex().upper() for ch in line]
        codes.update(units)
        content_lines.append(f"/F2 11 Tf <{''.join(units)}> Tj T*")
    content_lines.append("ET")
    stream = "\n".join(content_lines).encode("ascii")
    to_unicode = _to_unicode(codes)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R /F2 6 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        _CJK_FONT,
        _CJK_DESCENDANT,
        b"<< /Length "
        + str(len(to_unicode)).encode()
        + b" >>\nstream\n"
        + to_unicode
        + b"\nendstream",
        _CJK_DESCRIPTOR,
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)
