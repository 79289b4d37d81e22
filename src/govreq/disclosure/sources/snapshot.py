"""A preservation snapshot as a data source: a follow-up request that names the preservation
is collected from the sealed snapshot, not from live data (which may have changed or gone)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime

from django.conf import settings

from govreq.disclosure import store
from govreq.disclosure.models import Production, ProductionStatus
from govreq.disclosure.sealing import unseal, unwrap_key
from govreq.disclosure.sources import (
    Contact,
    DataSourceError,
    Record,
    Resolution,
    TargetRef,
)


class _ChunkStream(io.RawIOBase):
    """A readable stream over an iterator of byte chunks."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


class SnapshotSource:
    """Reads the records a preservation snapshot sealed."""

    def __init__(self, snapshot: Production) -> None:
        if snapshot.status != ProductionStatus.READY or snapshot.manifest is None:
            raise DataSourceError(
                f"the preservation snapshot of {snapshot.request.reference} is "
                f"{ProductionStatus(snapshot.status).label.lower()}, not sealed"
            )
        self.name = f"snapshot:{snapshot.request.reference}"
        self._snapshot = snapshot
        self._key = unwrap_key(
            snapshot.wrapped_key, secret=settings.SECRET_KEY, binding=str(snapshot.public_id)
        )
        manifest = snapshot.manifest
        self._accounts = {
            (a["target"]["type"], a["target"]["value"]): a["account"]
            for a in manifest["accounts"]
            if a.get("target") and a.get("account")
        }
        self._files = {
            (f["account"], f["category"]): f["name"]
            for f in manifest["files"]
            if f["format"] == "json"
        }

    def resolve(self, target: TargetRef) -> Resolution:
        account = self._accounts.get((target.type, target.value))
        if account is None:
            return Resolution(account=None, note="not in the preservation snapshot")
        return Resolution(account=account)

    def collect(
        self, account: str, categories: frozenset[str], since: datetime, until: datetime
    ) -> Iterator[Record]:
        prefix = str(self._snapshot.public_id)
        for category in sorted(categories):
            name = self._files.get((account, category))
            if name is None:
                continue
            handle = store.member_open(f"{prefix}/{name}")
            with handle:
                lines = io.TextIOWrapper(
                    io.BufferedReader(_ChunkStream(unseal(handle, self._key))), encoding="utf-8"
                )
                columns: list[str] = []
                for line in lines:
                    text = line.rstrip("\n").rstrip(",")
                    if text.startswith('{"account"'):  # the opening line names the columns
                        columns = json.loads(text[: text.rindex(', "records"')] + "}")["columns"]
                        continue
                    if not text.startswith("["):
                        continue  # the closing "]}"
                    stamp, *values = json.loads(text)
                    moment = datetime.fromisoformat(stamp).astimezone(UTC) if stamp else None
                    if moment is not None and not since <= moment < until:
                        continue
                    yield Record(
                        account=account,
                        category=category,
                        occurred_at=moment,
                        fields=dict(zip(columns[1:], values, strict=True)),
                    )

    def contact(self, account: str) -> Contact | None:
        return None
