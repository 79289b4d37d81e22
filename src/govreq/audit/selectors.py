from __future__ import annotations

from govreq.audit.chain import ChainVerification, verify_events
from govreq.audit.models import AuditEvent


def audit_chain_verify() -> ChainVerification:
    """Verify the whole chain, streaming rows so memory does not grow with the log."""
    rows = AuditEvent.objects.order_by("seq").iterator(chunk_size=2000)
    return verify_events(rows)


def audit_chain_head() -> tuple[int, str]:
    head = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    return (head[0], head[1]) if head else (0, "0" * 64)
