"""Signed checkpoints of the audit chain's head: what a signature vouches for, the published
document that outside parties keep, and checking checkpoints against the log.

A checkpoint says "at ``made_at`` the chain's event #``seq`` had hash ``hash``", signed with the
platform's Ed25519 key (``core.signing``). Because each event's hash covers every event before
it, a checkpoint pins the whole chain up to ``seq``: deleting the newest events (truncation) or
re-hashing the chain from any point at or before ``seq`` no longer matches it. What each check
can and cannot detect is written down in docs/audit.md.

This module is pure (no database): the selectors and services feed it rows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from govreq.core.canonical import canonical_json
from govreq.core.errors import DomainError
from govreq.core.signing import key_id, payload_signature_valid

FORMAT = "govreq-audit-checkpoints/1"
STATEMENT_TAG = "govreq-audit-checkpoint"
STATEMENT_HELP = (
    "Each signature is Ed25519 (by public_key, base64 of the raw key) over the canonical JSON "
    '(keys sorted, no spaces, UTF-8) of {"govreq-audit-checkpoint": 1, "seq": seq, "hash": hash, '
    '"made_at": made_at, "key_id": key_id}. key_id is the first 16 hex digits of the SHA-256 of '
    "the raw public key. hash is the audit chain's hash of event #seq."
)
_HEX64 = re.compile(r"[0-9a-f]{64}")


class CheckpointsInvalid(DomainError):
    """A checkpoints document that cannot be read (not the format, a field missing or wrong)."""

    code = "checkpoints_invalid"
    http_status = 422


class AuditChainBroken(DomainError):
    """The log no longer matches what was verified or signed before: nothing new is signed."""

    code = "audit_chain_broken"
    http_status = 409


def made_at_text(moment: datetime) -> str:
    """The signed text of a moment: UTC, ISO 8601 with microseconds."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def statement_payload(*, seq: int, hash: str, made_at: str, key_id: str) -> bytes:
    """The bytes a checkpoint's signature covers (see STATEMENT_HELP)."""
    return canonical_json(
        {STATEMENT_TAG: 1, "seq": seq, "hash": hash, "made_at": made_at, "key_id": key_id}
    )


@dataclass(frozen=True, kw_only=True)
class Checkpoint:
    """One checkpoint as published (and as read back from a copy)."""

    seq: int
    hash: str
    made_at: str
    key_id: str
    public_key: str
    signature: str

    def payload(self) -> bytes:
        return statement_payload(
            seq=self.seq, hash=self.hash, made_at=self.made_at, key_id=self.key_id
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def signature_problem(checkpoint: Checkpoint, *, trusted: set[str]) -> str:
    """Why ``checkpoint`` cannot be trusted ("" when it can): signed by a key the verifier
    trusts (never by the key the checkpoint itself names), under the key id of that key."""
    name = f"checkpoint #{checkpoint.seq} (made at {checkpoint.made_at})"
    if checkpoint.public_key not in trusted:
        return (
            f"{name} is signed by key {checkpoint.key_id}, which is not a trusted key of this "
            "platform (forged, or signed with a key you did not pin)"
        )
    try:
        named = key_id(checkpoint.public_key)
    except ValueError:
        named = ""
    if named != checkpoint.key_id:
        return f"{name} names key id {checkpoint.key_id}, which is not its public key's"
    if not payload_signature_valid(
        public_key=checkpoint.public_key,
        signature=checkpoint.signature,
        payload=checkpoint.payload(),
    ):
        return f"{name}: the signature does not match (the checkpoint was forged or altered)"
    return ""


def event_problem(checkpoint: Checkpoint, *, stored_hash: str | None, head_seq: int) -> str:
    """Why the log disagrees with an authentic checkpoint ("" when it matches it)."""
    name = f"checkpoint #{checkpoint.seq} (made at {checkpoint.made_at})"
    if stored_hash is None and checkpoint.seq > head_seq:
        return (
            f"{name} signed event #{checkpoint.seq}, but the log now ends at event #{head_seq}: "
            f"the newest events were deleted (truncated)"
        )
    if stored_hash is None:
        return f"{name} signed event #{checkpoint.seq}, which is no longer in the log (deleted)"
    if stored_hash != checkpoint.hash:
        return (
            f"{name}: event #{checkpoint.seq} no longer has the hash it signed "
            f"({checkpoint.hash[:16]}..., now {stored_hash[:16]}...): the log was rewritten or "
            f"re-hashed at or before event #{checkpoint.seq}"
        )
    return ""


def checkpoint_problems(
    checkpoints: Iterable[Checkpoint],
    *,
    trusted: set[str],
    hashes_at: Callable[[list[int]], dict[int, str]],
    head_seq: int,
    batch: int = 500,
) -> Iterator[str]:
    """Every problem with ``checkpoints`` against the log: a bad signature, or an authentic
    checkpoint whose event is gone or has another hash. ``hashes_at(seqs)`` returns the stored
    hash of each of those events that exists (one query per ``batch`` checkpoints)."""
    pending: list[Checkpoint] = []

    def flush() -> Iterator[str]:
        stored = hashes_at([c.seq for c in pending])
        for item in pending:
            problem = event_problem(item, stored_hash=stored.get(item.seq), head_seq=head_seq)
            if problem:
                yield problem
        pending.clear()

    for checkpoint in checkpoints:
        problem = signature_problem(checkpoint, trusted=trusted)
        if problem:
            yield problem
            continue  # a forged checkpoint says nothing about the log
        pending.append(checkpoint)
        if len(pending) >= batch:
            yield from flush()
    if pending:
        yield from flush()


def document_chunks(
    *,
    checkpoints: Iterable[Checkpoint],
    public_keys: Iterable[tuple[str, str]],
) -> Iterator[str]:
    """The published JSON document, in pieces (one per checkpoint), so that it is streamed in
    bounded memory however many checkpoints there are. The same checkpoints and keys give the
    same bytes, so copies taken at different times differ only by the checkpoints added."""
    head = {
        "format": FORMAT,
        "statement": STATEMENT_HELP,
        "public_keys": [
            {"key_id": kid, "public_key": public} for kid, public in sorted(set(public_keys))
        ],
    }
    yield json.dumps(head, indent=None)[:-1] + ', "checkpoints": ['
    separator = "\n"
    for checkpoint in checkpoints:
        yield separator + json.dumps(checkpoint.as_dict(), sort_keys=True)
        separator = ",\n"
    yield "\n]}\n"


def _field(item: dict[str, Any], name: str, kind: type, where: str) -> Any:
    value = item.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise CheckpointsInvalid(f"{where}: {name} is missing or not a {kind.__name__}")
    return value


def document_parse(raw: bytes, *, source: str) -> list[Checkpoint]:
    """The checkpoints of a published document (a copy kept by an outside party)."""
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise CheckpointsInvalid(f"{source} is not JSON: {error}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise CheckpointsInvalid(f"{source} is not a {FORMAT} document")
    items = document.get("checkpoints")
    if not isinstance(items, list):
        raise CheckpointsInvalid(f"{source}: checkpoints is missing or not a list")
    checkpoints = []
    for index, item in enumerate(items):
        where = f"{source}: checkpoints[{index}]"
        if not isinstance(item, dict):
            raise CheckpointsInvalid(f"{where} is not an object")
        checkpoint = Checkpoint(
            seq=_field(item, "seq", int, where),
            hash=_field(item, "hash", str, where),
            made_at=_field(item, "made_at", str, where),
            key_id=_field(item, "key_id", str, where),
            public_key=_field(item, "public_key", str, where),
            signature=_field(item, "signature", str, where),
        )
        if checkpoint.seq < 1 or not _HEX64.fullmatch(checkpoint.hash):
            raise CheckpointsInvalid(f"{where}: seq must be >= 1 and hash 64 hex digits")
        checkpoints.append(checkpoint)
    return checkpoints
