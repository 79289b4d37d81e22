"""Reading the portal's accounts box: one account per line, ``TYPE: value`` or just the value.

Pure: no ORM, no clock. Values are checked and normalised later by ``intake.targets``, exactly as
for the API; this module only decides each line's type.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from govreq.intake.models import TargetType

# Prefixes an officer may write before a value, besides the type names themselves.
_ALIASES: dict[str, TargetType] = {
    "IP": TargetType.IP_ADDRESS,
    "E_MAIL": TargetType.EMAIL,
    "MAIL": TargetType.EMAIL,
    "TEL": TargetType.PHONE,
    "ID": TargetType.USER_ID,
    "USERID": TargetType.USER_ID,
}
_PREFIX = re.compile(r"^\s*([A-Za-z][A-Za-z _-]{0,15}?)\s*:\s*(.*)$", re.DOTALL)
_INTERNATIONAL_PHONE = re.compile(r"^\+[0-9 ().\-/]*[0-9][0-9 ().\-/]*$")


@dataclass(frozen=True, kw_only=True)
class TargetLine:
    """One account named in the box; ``line`` is 1-based, counting blank lines, as displayed."""

    line: int
    type: TargetType
    value: str


def explicit_type(prefix: str) -> TargetType | None:
    """The target type a ``TYPE:`` prefix names, or None if it names none."""
    key = re.sub(r"[\s-]+", "_", prefix.strip()).upper()
    if key in TargetType.values:
        return TargetType(key)
    return _ALIASES.get(key)


def detect_target_type(value: str) -> TargetType:
    """The most likely type of a bare value.

    A valid IP address is IP_ADDRESS; http(s):// is a URL; an "@" after the first character is
    an e-mail address (a leading "@" alone marks a username); "+" followed by digits is a phone
    number; anything else is a username.
    """
    text = value.strip()
    try:
        ipaddress.ip_address(text)
    except ValueError:
        pass
    else:
        return TargetType.IP_ADDRESS
    if text.lower().startswith(("http://", "https://")):
        return TargetType.URL
    if "@" in text[1:]:
        return TargetType.EMAIL
    if _INTERNATIONAL_PHONE.match(text):
        return TargetType.PHONE
    return TargetType.USERNAME


def parse_target_lines(text: str) -> list[TargetLine]:
    """Every non-blank line as a typed target, in order; an explicit prefix wins over detection."""
    targets: list[TargetLine] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        match = _PREFIX.match(line)
        named = explicit_type(match.group(1)) if match else None
        if match and named is not None:
            targets.append(TargetLine(line=number, type=named, value=match.group(2).strip()))
        else:
            targets.append(TargetLine(line=number, type=detect_target_type(line), value=line))
    return targets


def format_target_lines(targets: list[dict[str, str]]) -> str:
    """The box's text for a list of ``{"type", "value"}`` (for refilling the form)."""
    return "\n".join(f"{target['type']}: {target['value']}" for target in targets)
