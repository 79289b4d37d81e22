from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from govreq.audit.chain import ChainVerification, verify_events
from govreq.audit.checkpoints import (
    Checkpoint,
    checkpoint_problems,
    document_chunks,
    made_at_text,
    signature_problem,
)
from govreq.audit.models import AuditCheckpoint, AuditEvent
from govreq.core.canonical import sha256_hex
from govreq.core.signing import key_id, trusted_public_keys

# How many problems a verification names before it only counts the rest.
PROBLEMS_NAMED = 20


def audit_chain_verify() -> ChainVerification:
    """Verify the whole chain, streaming rows so memory does not grow with the log."""
    rows = AuditEvent.objects.order_by("seq").iterator(chunk_size=2000)
    return verify_events(rows)


def audit_chain_head() -> tuple[int, str]:
    head = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    return (head[0], head[1]) if head else (0, "0" * 64)


def audit_checkpoints() -> Iterator[Checkpoint]:
    """Every stored checkpoint, oldest first, streamed."""
    rows = (
        AuditCheckpoint.objects.order_by("seq")
        .values_list("seq", "hash", "made_at", "key_id", "public_key", "signature")
        .iterator(chunk_size=2000)
    )
    for seq, hash_, made_at, kid, public_key, signature in rows:
        yield Checkpoint(
            seq=seq,
            hash=hash_,
            made_at=made_at_text(made_at),
            key_id=kid,
            public_key=public_key,
            signature=signature,
        )


def audit_checkpoint_keys() -> list[tuple[str, str]]:
    """The (key id, public key) pairs to check checkpoints with: the platform's trusted keys
    (current, and earlier ones after a rotation) and every key that signed a stored one."""
    keys = set(AuditCheckpoint.objects.values_list("key_id", "public_key").distinct())
    keys |= {(key_id(public), public) for public in trusted_public_keys()}
    return sorted(keys)


def audit_checkpoints_document() -> Iterator[str]:
    """The published document (``/transparency/audit-checkpoints.json``, ``govreq audit
    checkpoints --export``), streamed: every checkpoint and the public keys."""
    return document_chunks(checkpoints=audit_checkpoints(), public_keys=audit_checkpoint_keys())


def audit_checkpoints_version() -> str:
    """Changes whenever the published document would: a checkpoint added, a key trusted. Its
    ETag, computed in two small queries instead of the whole document."""
    newest = AuditCheckpoint.objects.order_by("-seq").values_list("seq", "hash").first()
    count = AuditCheckpoint.objects.count()
    keys = ",".join(kid for kid, _public in audit_checkpoint_keys())
    return sha256_hex(f"{count}|{newest}|{keys}".encode())[:32]


def _event_hashes(seqs: list[int]) -> dict[int, str]:
    return dict(AuditEvent.objects.filter(seq__in=seqs).values_list("seq", "hash"))


@dataclass(kw_only=True)
class CheckpointVerification:
    checked: int = 0
    newest_seq: int = 0
    problems: list[str] = field(default_factory=list)
    more_problems: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, problem: str) -> None:
        if len(self.problems) < PROBLEMS_NAMED:
            self.problems.append(problem)
        else:
            self.more_problems += 1


def _counted(
    checkpoints: Iterable[Checkpoint], result: CheckpointVerification
) -> Iterator[Checkpoint]:
    for checkpoint in checkpoints:
        result.checked += 1
        result.newest_seq = max(result.newest_seq, checkpoint.seq)
        yield checkpoint


def audit_checkpoints_verify(
    checkpoints: Iterable[Checkpoint], *, trusted: set[str]
) -> CheckpointVerification:
    """Check checkpoints (the stored ones, or an outside copy) against the log: each signed by
    a trusted key, and the event it signed still there with the hash it signed."""
    result = CheckpointVerification()
    head_seq, _head_hash = audit_chain_head()
    for problem in checkpoint_problems(
        _counted(checkpoints, result), trusted=trusted, hashes_at=_event_hashes, head_seq=head_seq
    ):
        result.add(problem)
    return result


def audit_checkpoints_missing(
    checkpoints: Iterable[Checkpoint], *, trusted: set[str], batch: int = 500
) -> Iterator[int]:
    """The seqs of authentic (outside) checkpoints that are no longer stored: someone deleted
    them. A forged one is reported as such, not here."""
    pending: list[int] = []
    for checkpoint in checkpoints:
        if signature_problem(checkpoint, trusted=trusted):
            continue
        pending.append(checkpoint.seq)
        if len(pending) >= batch:
            yield from _not_stored(pending)
            pending = []
    if pending:
        yield from _not_stored(pending)


def _not_stored(seqs: list[int]) -> list[int]:
    stored = set(AuditCheckpoint.objects.filter(seq__in=seqs).values_list("seq", flat=True))
    return [seq for seq in seqs if seq not in stored]
