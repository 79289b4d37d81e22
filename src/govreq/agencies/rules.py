"""Pure rules about agencies: e-mail domains."""

from __future__ import annotations

from govreq.core.domains import canonical_domain


def normalise_domain(raw: str) -> str | None:
    """The canonical (lower-case ASCII, punycode) domain, or None if it is not a plausible
    domain name (``core.domains``)."""
    return canonical_domain(raw)


def email_domain_allowed(email: str, domains: list[str], *, allow_subdomains: bool) -> bool:
    """Whether ``email`` is at one of ``domains`` (or a subdomain of one, if allowed); the
    address's domain is compared in its canonical form, so Unicode and punycode are one."""
    _, _, host = email.rpartition("@")
    host = canonical_domain(host) or host.lower()
    for domain in domains:
        if host == domain:
            return True
        if allow_subdomains and host.endswith("." + domain):
            return True
    return False
