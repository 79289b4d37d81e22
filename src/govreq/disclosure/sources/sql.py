"""The ``sql`` data source: any SQLite or PostgreSQL database, read through configured SQL.

The queries are data, not code: one per target type to resolve accounts, one per data category
to collect records, and one for the account holder's contact. Parameters are named (``:value``,
``:account``, ``:since``, ``:until``) and always passed separately from the SQL, never pasted
into it. The connection is read-only (SQLite ``mode=ro``; PostgreSQL
``default_transaction_read_only``), and PostgreSQL results stream through a server-side cursor,
so memory does not grow with the number of records.

Configuration (inside the data-source file, see ``govreq.disclosure.sources``)::

    [sql]
    database = "sqlite:///demo-platform.sqlite3"   # relative to the file; or postgresql://...

    [sql.resolve]                                  # first column: the account id
    EMAIL = "SELECT id FROM accounts WHERE email = :value"

    [sql.contact]                                  # columns: address, language
    query = "SELECT email, language FROM accounts WHERE id = :account"

    [sql.categories.IP_LOGS]                       # must select an account_id column
    query = '''SELECT account_id, logged_in_at, ip_address FROM logins
               WHERE account_id = :account AND logged_in_at >= :since AND logged_in_at < :until'''
    time = "logged_in_at"                          # the record's time (omit for none)

Times: ``:since`` and ``:until`` are passed as ISO 8601 text in UTC
(``2020-07-01T00:00:00+00:00``) to SQLite, where such columns are text, and as timestamps to
PostgreSQL. A time column read back as text is parsed as ISO 8601 (naive means UTC).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from operator import itemgetter
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from govreq.disclosure.sources import (
    Contact,
    DataSourceError,
    Record,
    Resolution,
    Scalar,
    TargetRef,
)

_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_PARAMETERS = {"value", "account", "since", "until"}


_PLAIN = frozenset({str, int, float, bool, type(None)})


def _scalar(value: Any) -> Scalar:
    if type(value) in _PLAIN:
        return value  # type: ignore[no-any-return]
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return str(value)


def _as_time(value: Any, column: str) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)  # accepts a trailing Z since Python 3.11
        except ValueError:
            raise DataSourceError(f"the time column {column!r} holds {value!r}") from None
    else:
        raise DataSourceError(f"the time column {column!r} holds {value!r}")
    if moment.tzinfo is UTC:
        return moment
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _single(at: int) -> Any:
    """Like itemgetter for one index, but always a tuple."""
    return lambda row: (row[at],)


class SqlDataSource:
    """Reads the platform's records with configured, parameterised SQL (read-only)."""

    name = "sql"

    def __init__(self, options: Mapping[str, Any], *, base_dir: Path) -> None:
        database = options.get("database")
        if not isinstance(database, str) or not database:
            raise DataSourceError('[sql] needs database = "sqlite:///FILE" or "postgresql://..."')
        self._database = database
        self._base_dir = base_dir
        self._resolve = self._queries(options.get("resolve", {}), "[sql.resolve]")
        contact = options.get("contact", {})
        self._contact = contact.get("query", "") if isinstance(contact, dict) else ""
        categories = options.get("categories", {})
        if not isinstance(categories, dict) or not categories:
            raise DataSourceError("[sql.categories] needs one query per data category")
        self._categories: dict[str, tuple[str, str]] = {}
        for category, spec in categories.items():
            if not isinstance(spec, dict) or not isinstance(spec.get("query"), str):
                raise DataSourceError(f"[sql.categories.{category}] needs query = '...'")
            self._check_parameters(spec["query"], f"[sql.categories.{category}]")
            self._categories[category] = (spec["query"], str(spec.get("time", "")))
        self._connection: Any = None

    def _queries(self, table: Any, where: str) -> dict[str, str]:
        if not isinstance(table, dict):
            raise DataSourceError(f"{where} must be a table of queries")
        for query in table.values():
            self._check_parameters(query, where)
        return {str(k): str(v) for k, v in table.items()}

    @staticmethod
    def _check_parameters(query: Any, where: str) -> None:
        if not isinstance(query, str):
            raise DataSourceError(f"{where}: every query is a string")
        unknown = set(_NAMED.findall(query)) - _PARAMETERS
        if unknown:
            raise DataSourceError(
                f"{where}: unknown parameter(s) {', '.join(sorted(unknown))} "
                f"(use {', '.join(':' + p for p in sorted(_PARAMETERS))})"
            )

    # --- connection ------------------------------------------------------------------------

    @property
    def _is_sqlite(self) -> bool:
        return self._database.startswith("sqlite:")

    def _connect(self) -> Any:
        if self._connection is not None:
            return self._connection
        connection: Any
        try:
            if self._is_sqlite:
                raw = unquote(urlsplit(self._database).path)
                # sqlite:///relative.db and sqlite:////absolute.db, as in SQLAlchemy
                path = Path(raw[1:]) if raw.startswith("/") else Path(raw)
                if not path.is_absolute():
                    path = self._base_dir / path
                if not path.exists():
                    raise DataSourceError(f"the database {path} does not exist")
                connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            else:
                import psycopg  # only for PostgreSQL sources: not needed by SQLite ones

                connection = psycopg.connect(
                    self._database, options="-c default_transaction_read_only=on", autocommit=False
                )
        except (sqlite3.Error, OSError) as error:
            raise DataSourceError(f"cannot open the data source database: {error}") from None
        except Exception as error:  # psycopg.Error, without importing psycopg for SQLite
            raise DataSourceError(f"cannot connect to the data source database: {error}") from None
        self._connection = connection
        return connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _execute(self, query: str, params: dict[str, Any], *, stream: bool = False) -> Any:
        connection = self._connect()
        try:
            if self._is_sqlite:
                cursor = connection.execute(query, params)
            else:
                sql = _NAMED.sub(lambda m: f"%({m.group(1)})s", query.replace("%", "%%"))
                # A named cursor is a server-side cursor: rows arrive in batches.
                cursor = connection.cursor(name="govreq_collect") if stream else connection.cursor()
                if stream:
                    cursor.itersize = 2000
                cursor.execute(sql, params)
        except sqlite3.Error as error:
            raise DataSourceError(f"the data source query failed: {error}") from None
        except Exception as error:
            connection.rollback()
            raise DataSourceError(f"the data source query failed: {error}") from None
        return cursor

    def _bound(self, moment: datetime) -> Any:
        moment = moment.astimezone(UTC)
        return moment.isoformat() if self._is_sqlite else moment

    # --- the protocol ----------------------------------------------------------------------

    def resolve(self, target: TargetRef) -> Resolution:
        query = self._resolve.get(target.type)
        if query is None:
            return Resolution(
                account=None, note=f"this source cannot look up {target.type}", looked_up=False
            )
        cursor = self._execute(query, {"value": target.value})
        rows = {str(row[0]) for row in cursor.fetchmany(2) if row[0] is not None}
        cursor.close()
        if not rows:
            return Resolution(account=None, note="no such account")
        if len(rows) > 1:
            return Resolution(account=None, note="several accounts match", several=True)
        return Resolution(account=rows.pop())

    def collect(
        self, account: str, categories: frozenset[str], since: datetime, until: datetime
    ) -> Iterator[Record]:
        params = {"account": account, "since": self._bound(since), "until": self._bound(until)}
        for category in sorted(categories):
            if category not in self._categories:
                raise DataSourceError(f"this source has no query for {category}")
            query, time_column = self._categories[category]
            cursor = self._execute(query, params, stream=True)
            try:
                columns = [d[0] for d in cursor.description]
                if "account_id" not in columns:
                    raise DataSourceError(f"the {category} query must select an account_id column")
                if time_column and time_column not in columns:
                    raise DataSourceError(f"the {category} query has no column {time_column!r}")
                owner_at = columns.index("account_id")
                time_at = columns.index(time_column) if time_column else -1
                kept = [at for at in range(len(columns)) if at != owner_at]
                names = [columns[at] for at in kept]
                pick: Any = itemgetter(*kept) if len(kept) > 1 else _single(kept[0])
                plain = _PLAIN.__contains__
                for row in cursor:
                    values = pick(row)
                    if not all(map(plain, map(type, values))):
                        values = tuple(map(_scalar, values))
                    moment = row[time_at] if time_at >= 0 else None
                    yield Record(
                        str(row[owner_at]),
                        category,
                        _as_time(moment, time_column) if moment is not None else None,
                        dict(zip(names, values, strict=True)),
                    )
            finally:
                cursor.close()
        if not self._is_sqlite:
            self._connect().rollback()  # end the read-only transaction

    def contact(self, account: str) -> Contact | None:
        if not self._contact:
            return None
        cursor = self._execute(self._contact, {"account": account})
        row = cursor.fetchone()
        cursor.close()
        if row is None or not row[0]:
            return None
        return Contact(
            address=str(row[0]), language=str(row[1]) if len(row) > 1 and row[1] else "en"
        )
