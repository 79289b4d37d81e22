"""Pure rules about agencies: e-mail domains."""

from __future__ import annotations

import re

_DOMAIN_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def normalise_domain(raw: str) -> str | None:
    """The lower-case, IDNA-encoded domain, or None if it is not a plausible domain name."""
    candidate = raw.strip().rstrip(".").lower()
    if candidate.startswith("@"):
        candidate = candidate[1:]
    try:
        candidate = candidate.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    labels = candidate.split(".")
    if len(labels) < 2 or len(candidate) > 253:
        return None
    if not all(_DOMAIN_LABEL.match(label) for label in labels):
        return None
    if labels[-1].isdigit():
        return None
    return candidate


def email_domain_allowed(email: str, domains: list[str], *, allow_subdomains: bool) -> bool:
    """Whether ``email`` is at one of ``domains`` (or a subdomain of one, if allowed)."""
    _, _, host = email.rpartition("@")
    host = host.lower()
    for domain in domains:
        if host == domain:
            return True
        if allow_subdomains and host.endswith("." + domain):
            return True
    return False
