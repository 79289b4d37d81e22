"""Building a production's package from a stream of records, and reading it back.

Every (account, category) becomes two files, CSV and JSON (docs/disclosure.md gives their
layout: a CSV header row; a JSON ``columns`` list and each record an array in that order), each
written straight into a sealed member (``sealing``) while its SHA-256, size, record count and
time span are computed from the very bytes and records written. Nothing is held in memory but a
batch per open member, and nothing unencrypted touches the disk. The agency downloads a ZIP
assembled on the fly from the members, with the signed manifest (``manifest.json``,
``manifest.sig``) inside it; ``verify`` checks such a ZIP offline.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any, cast

from govreq.core.csvcells import safe_row
from govreq.disclosure.sealing import SealWriter, unseal
from govreq.disclosure.sources import DataSourceError, Record

MANIFEST_FORMAT = "govreq-production-manifest/1"
MANIFEST_NAME = "manifest.json"
SIGNATURE_NAME = "manifest.sig"
README_NAME = "README.txt"
FIXED_COLUMNS = ("account", "category", "occurred_at")
# How the CSV members write text cells (recorded in the manifest): a text cell a spreadsheet
# would run as a formula gains a leading apostrophe (core.csvcells); the JSON members hold every
# value exactly as the source gave it.
CSV_CELLS = "formula-safe/1"
_SAFE = re.compile(r"[^A-Z0-9_]")


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


class _HashingSeal:
    """A sealed member that also hashes and counts the plaintext written to it."""

    def __init__(self, sink: IO[bytes], key: bytes) -> None:
        self.writer = SealWriter(sink, key)
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.digest.update(data)
        self.size += len(data)
        self.writer.write(data)

    def close(self) -> None:
        self.writer.close()


class _Member:
    """The open CSV and JSON members of one (account, category). Rows are formatted into a text
    buffer and sealed a batch at a time, so hashing and encryption work on large chunks."""

    BATCH = 512  # records per sealed write

    def __init__(
        self,
        *,
        account_index: int,
        account: str,
        category: str,
        csv_seal: _HashingSeal,
        json_seal: _HashingSeal,
        closers: list[Callable[[], None]],
    ) -> None:
        self.account_index = account_index
        self.account = account
        self.category = category
        self.csv_seal = csv_seal
        self.json_seal = json_seal
        self.closers = closers
        self.columns: list[str] | None = None
        self.records = 0
        self.undated = 0
        self.first_at: datetime | None = None
        self.last_at: datetime | None = None
        self._csv_text = io.StringIO()
        self._csv = csv.writer(self._csv_text, lineterminator="\r\n")
        self._json: list[str] = []

    def add(self, record: Record) -> None:
        fields = record.fields
        columns = self.columns
        if columns is None:
            columns = self.columns = list(fields)
            self._csv.writerow(safe_row([*FIXED_COLUMNS, *columns]))
            head = json.dumps(
                {
                    "account": self.account,
                    "category": self.category,
                    "columns": ["occurred_at", *columns],
                },
                ensure_ascii=False,
            )
            self._json.append(head[:-1] + ', "records": [\n')
        elif len(fields) != len(columns):
            raise self._mismatch(fields)
        moment = record.occurred_at
        if moment is None:
            self.undated += 1
            when = ""
        else:
            if self.first_at is None or moment < self.first_at:
                self.first_at = moment
            if self.last_at is None or moment > self.last_at:
                self.last_at = moment
            when = moment.isoformat()
        try:
            values = [fields[name] for name in columns]
        except KeyError:
            raise self._mismatch(fields) from None
        self._csv.writerow(safe_row([record.account, record.category, when, *values]))
        body = _JSON([when or None, *values])
        self._json.append(body if self.records == 0 else ",\n" + body)
        self.records += 1
        if self.records % self.BATCH == 0:
            self._flush()

    def _mismatch(self, fields: Any) -> DataSourceError:
        return DataSourceError(
            f"{self.category} records of one account must all have the same fields "
            f"({', '.join(self.columns or [])}), not {', '.join(fields)}"
        )

    def _flush(self) -> None:
        self.csv_seal.write(self._csv_text.getvalue().encode("utf-8"))
        self._csv_text.seek(0)
        self._csv_text.truncate()
        self.json_seal.write("".join(self._json).encode("utf-8"))
        self._json.clear()

    def finish(self) -> None:
        self._json.append("\n]}\n")
        self._flush()
        self.csv_seal.close()
        self.json_seal.close()
        for close in self.closers:
            close()


# One encoder for every record (json.dumps would build one per call for these options).
_JSON = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode


@dataclass(frozen=True, kw_only=True)
class AccountEntry:
    index: int
    account: str
    target: dict[str, Any] | None  # the approved target it was resolved from; None if stray
    note: str = ""


class PackageBuilder:
    """Write records into sealed members named ``{prefix}/{n}``; ``finish()`` returns the
    manifest's file entries.

    ``open_member(name)`` returns a context manager that yields a writable binary file and
    commits it on exit (``store.member_writer``)."""

    def __init__(self, *, prefix: str, key: bytes, open_member: Callable[[str], Any]) -> None:
        self._prefix = prefix
        self._key = key
        self._open_member = open_member
        self._members: dict[tuple[str, str], _Member] = {}
        self._finished: list[_Member] = []
        self.accounts: list[AccountEntry] = []
        self._index_of: dict[str, int] = {}
        self._last: _Member | None = None

    def account(self, account: str, *, target: dict[str, Any] | None, note: str = "") -> int:
        """Record a target's account (in target order); returns the account's number in the
        package (two targets naming one account share it)."""
        index = self._index_of.get(account)
        if index is None:
            index = len(self._index_of) + 1
            self._index_of[account] = index
        self.accounts.append(AccountEntry(index=index, account=account, target=target, note=note))
        return index

    def missing(self, *, target: dict[str, Any], note: str) -> None:
        """A target that resolved to no account: recorded, with nothing collected."""
        self.accounts.append(AccountEntry(index=0, account="", target=target, note=note))

    def _open(self, name: str) -> tuple[_HashingSeal, Callable[[], None]]:
        manager = self._open_member(f"{self._prefix}/{name}")
        sink = manager.__enter__()
        return _HashingSeal(sink, self._key), lambda: manager.__exit__(None, None, None)

    def add(self, record: Record) -> None:
        member = self._last
        if (
            member is None
            or member.account != record.account
            or (member.category != record.category)
        ):
            member = self._member(record)
            self._last = member
        member.add(record)

    def _member(self, record: Record) -> _Member:
        key = (record.account, record.category)
        member = self._members.get(key)
        if member is None:
            if not _SAFE.sub("", record.category) or _SAFE.search(record.category):
                raise DataSourceError(f"{record.category!r} is not a data category code")
            index = self._index_of.get(record.account) or self.account(
                record.account, target=None, note="not resolved from any approved target"
            )
            stem = member_stem(index, record.category)
            csv_seal, close_csv = self._open(f"{stem}.csv")
            json_seal, close_json = self._open(f"{stem}.json")
            member = _Member(
                account_index=index,
                account=record.account,
                category=record.category,
                csv_seal=csv_seal,
                json_seal=json_seal,
                closers=[close_csv, close_json],
            )
            self._members[key] = member
        return member

    def abort(self) -> None:
        """Close what is open after a failure (the caller deletes the members)."""
        for member in self._members.values():
            for close in member.closers:
                try:
                    close()
                except Exception:  # noqa: S112 - best effort while failing
                    continue
        self._members.clear()
        self._last = None

    def finish(self) -> list[dict[str, Any]]:
        files: list[dict[str, Any]] = []
        for member in sorted(self._members.values(), key=lambda m: (m.account_index, m.category)):
            member.finish()
            stem = member_stem(member.account_index, member.category)
            for fmt, seal_ in (("csv", member.csv_seal), ("json", member.json_seal)):
                files.append(
                    {
                        "name": f"{stem}.{fmt}",
                        "account_index": member.account_index,
                        "account": member.account,
                        "category": member.category,
                        "format": fmt,
                        "sha256": seal_.digest.hexdigest(),
                        "size": seal_.size,
                        "records": member.records,
                        "undated": member.undated,
                        "first_at": _iso(member.first_at),
                        "last_at": _iso(member.last_at),
                    }
                )
        self._members.clear()
        self._last = None
        return files


def member_stem(account_index: int, category: str) -> str:
    """The name of an (account, category)'s files in the package, without the extension. The
    account's position stands in for its id, which the source chose and may not be path-safe."""
    return f"account-{account_index:02d}/{category}"


# --- the ZIP the agency downloads ----------------------------------------------------------------


class _Sink:
    """A write-only stream for zipfile that hands out what was written since the last drain."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._position = 0

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        return None

    def drain(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def package_zip(
    *,
    manifest_bytes: bytes,
    signature: str,
    readme: str,
    members: Iterable[tuple[str, Callable[[], Iterator[bytes]]]],
) -> Iterator[bytes]:
    """The ZIP, streamed: the manifest and its signature first, then every file (its plaintext
    chunks come from ``members``: (name, opener) pairs). Files are stored, not compressed, so a
    package of any size streams at the speed of decryption."""
    sink = _Sink()
    with zipfile.ZipFile(
        cast(IO[bytes], sink), mode="w", compression=zipfile.ZIP_STORED
    ) as archive:
        archive.writestr(MANIFEST_NAME, manifest_bytes)
        archive.writestr(SIGNATURE_NAME, signature + "\n")
        archive.writestr(README_NAME, readme)
        yield sink.drain()
        for name, opener in members:
            with archive.open(name, mode="w", force_zip64=True) as entry:
                for chunk in opener():
                    entry.write(chunk)
                    if data := sink.drain():
                        yield data
            if data := sink.drain():
                yield data
    yield sink.drain()


def unsealed(opener: Callable[[], IO[bytes]], key: bytes) -> Callable[[], Iterator[bytes]]:
    """An opener of a sealed member's plaintext, for ``package_zip``."""

    def chunks() -> Iterator[bytes]:
        with opener() as handle:
            yield from unseal(handle, key)

    return chunks
