"""Data sources: how govreq asks the platform's own systems for an account's records.

govreq holds no user data. A data source is a small plug-in with two operations: ``resolve`` a
target (its type and normalised value) to zero or one account, and ``collect`` the records of
one account for a set of data categories and a time range, as a stream. It may also give an
account's ``contact`` (address and language) for user notice. Sources are found through the
entry-point group ``govreq.data_sources`` and chosen by a configuration file (TOML) named by
``GOVREQ_DATA_SOURCE_CONFIG`` (default ``GOVREQ_DATA_DIR/data-source.toml``)::

    source = "sql"       # the entry point's name
    [sql]                # the source's own settings (see govreq.disclosure.sources.sql)
    ...

docs/data-sources.md explains how a platform writes its own.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, NamedTuple, Protocol, runtime_checkable

ENTRY_POINT_GROUP = "govreq.data_sources"
CONFIG_FILE_NAME = "data-source.toml"

# A field of a record: what a CSV cell and a JSON value can hold.
Scalar = str | int | float | bool | None


class DataSourceError(Exception):
    """The data source is not configured, unreachable, or failed; the production can be retried."""


@dataclass(frozen=True, kw_only=True)
class TargetRef:
    """An account identifier named in a request, normalised as intake stores it."""

    type: str  # intake.models.TargetType: USERNAME, USER_ID, EMAIL, PHONE, IP_ADDRESS, URL
    value: str


@dataclass(frozen=True, kw_only=True)
class Resolution:
    """What a target resolved to: one account, or none (and why, for the record)."""

    account: str | None
    note: str = ""  # e.g. "no such account", "several accounts match"
    several: bool = False  # more than one account matches (so none is taken)
    looked_up: bool = True  # False: this source cannot look up this kind of target


class Record(NamedTuple):
    """One record of one account in one data category (a tuple: sources make millions).

    ``account`` and ``category`` say what the record *is*, not what was asked for: govreq files
    each record under them and its scope check refuses a package holding anything outside the
    decision, so a source that returns too much is caught before release. ``occurred_at`` is the
    record's time (aware, UTC) or None for records without one (subscriber details)."""

    account: str
    category: str
    occurred_at: datetime | None
    fields: Mapping[str, Scalar]


@dataclass(frozen=True, kw_only=True)
class Contact:
    """Where an account's holder can be told of a request, and in which language."""

    address: str
    language: str = "en"


@runtime_checkable
class DataSource(Protocol):
    """The interface a platform implements. Implementations must be read-only."""

    name: str

    def resolve(self, target: TargetRef) -> Resolution:
        """The account a target names, if any."""
        ...

    def collect(
        self, account: str, categories: frozenset[str], since: datetime, until: datetime
    ) -> Iterator[Record]:
        """The account's records in ``categories`` with ``since <= occurred_at < until`` (and
        records without a time), streamed: memory must not grow with the number of records."""
        ...

    def contact(self, account: str) -> Contact | None:
        """The account holder's contact address, or None when there is none."""
        ...


def _load_class(name: str) -> Any:
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if entry.name == name:
            return entry.load()
    known = sorted(entry.name for entry in entry_points(group=ENTRY_POINT_GROUP))
    raise DataSourceError(
        f"no data source named {name!r} in the entry-point group {ENTRY_POINT_GROUP} "
        f"(installed: {', '.join(known) or 'none'})"
    )


def data_source_from_file(path: Path) -> DataSource:
    """Build the data source a configuration file describes."""
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataSourceError(
            f"no data source is configured: {path} does not exist (set "
            "GOVREQ_DATA_SOURCE_CONFIG, or run `govreq demo load` for the demo platform)"
        ) from None
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise DataSourceError(f"{path}: {error}") from None
    name = config.get("source")
    if not isinstance(name, str) or not name:
        raise DataSourceError(f'{path}: say which source to use (source = "sql")')
    factory = _load_class(name)
    options = config.get(name, {})
    if not isinstance(options, dict):
        raise DataSourceError(f"{path}: [{name}] must be a table of the source's settings")
    source = factory(options, base_dir=path.parent)
    if not isinstance(source, DataSource):
        raise DataSourceError(f"{name} does not implement govreq's DataSource protocol")
    return source
