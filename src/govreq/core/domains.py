"""One spelling for every domain name and e-mail address: ASCII, with internationalised labels
in punycode (IDNA 2008 with the UTS 46 mapping, non-transitional, as browsers use).

Why ASCII rather than Unicode: it is what DNS and mail servers use; after the UTS 46 mapping
(case, full-width forms, Unicode normalisation) each domain has exactly one such spelling, so two
stored values are equal exactly when they name the same domain (``bücher.example`` and
``xn--bcher-kva.example`` are one identifier); Django's e-mail validation and the lower-case
check constraints accept it as it is; and a look-alike letter is stored visibly as ``xn--``
rather than as the letter it imitates. ``display_domain`` gives the Unicode form for people.
"""

from __future__ import annotations

import re

import idna

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def canonical_domain(raw: str) -> str | None:
    """The lower-case ASCII form of a domain name (``@`` and a final dot dropped), or None if it
    is not a plausible one: at least two labels, letters, digits and inner hyphens only once
    encoded, not all-numeric at the end."""
    candidate = raw.strip().removeprefix("@").rstrip(".")
    if not candidate:
        return None
    try:
        encoded = idna.encode(candidate, uts46=True, transitional=False).decode("ascii")
    except (UnicodeError, ValueError):
        return None
    encoded = encoded.lower()
    labels = encoded.split(".")
    if len(labels) < 2 or len(encoded) > 253:
        return None
    if not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        return None
    return encoded


def canonical_email(raw: str) -> str | None:
    """``local@domain`` lower-cased with the domain in its canonical ASCII form, or None if the
    domain is not one (the local part is left to the caller's validation)."""
    local, at, host = raw.strip().rpartition("@")
    if not at or not local:
        return None
    domain = canonical_domain(host)
    if domain is None:
        return None
    return f"{local.lower()}@{domain}"


def display_domain(domain: str) -> str:
    """The Unicode form of a canonical domain, for showing to a person (unchanged if it has no
    internationalised label or cannot be decoded)."""
    if "xn--" not in domain:
        return domain
    try:
        return idna.decode(domain)
    except (UnicodeError, ValueError):
        return domain
