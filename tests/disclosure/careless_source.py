"""A data-source plug-in with the bugs a platform's own source may have, installed for the tests
through the entry-point group like any third-party source (see conftest's ``careless_source``).

It reads the demo platform through the ``sql`` source and then, for every account it collects,
also returns: another account's IP log (a query that forgot its ``WHERE account_id``), a stored
message (CONTENT) though only non-content categories were asked for, and an IP log from before the
approved time range (a query that ignored ``:since``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from govreq.disclosure.sources import Contact, Record, Resolution, TargetRef
from govreq.disclosure.sources.sql import SqlDataSource


class CarelessSource:
    name = "careless"

    def __init__(self, options: Mapping[str, Any], *, base_dir: Path) -> None:
        self._sql = SqlDataSource(options, base_dir=base_dir)
        self._bugs = set(options.get("bugs", ["account", "category", "time"]))

    def resolve(self, target: TargetRef) -> Resolution:
        return self._sql.resolve(target)

    def collect(
        self, account: str, categories: frozenset[str], since: datetime, until: datetime
    ) -> Iterator[Record]:
        yield from self._sql.collect(account, categories, since, until)
        if "account" in self._bugs:
            yield Record(
                account="999999",
                category="IP_LOGS",
                occurred_at=since + timedelta(days=1),
                fields={"logged_in_at": "", "ip_address": "198.51.100.99", "user_agent": "x"},
            )
        if "category" in self._bugs:
            yield Record(
                account=account,
                category="CONTENT",
                occurred_at=since + timedelta(days=1),
                fields={"body": "a private message"},
            )
        if "time" in self._bugs:
            yield Record(
                account=account,
                category="LOCATION",
                occurred_at=since - timedelta(days=3),
                fields={"place": "Mong Kok"},
            )

    def contact(self, account: str) -> Contact | None:
        return self._sql.contact(account)

    def close(self) -> None:
        self._sql.close()
