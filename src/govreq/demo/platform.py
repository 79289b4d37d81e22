"""The demo platform: a small sample social network in its own SQLite file, so that the demo
(and the tests, and the production benchmark) collect real packages from real rows.

Tables: ``accounts`` (who the subscriber is), ``logins`` (time, IP address, user agent),
``posts``, ``messages`` (direct messages between accounts) and ``checkins`` (location). It is
read by govreq only through the ``sql`` data source and the shipped configuration
``platform-source.toml``, exactly as a real platform's database would be. Times are ISO 8601
text in UTC, which the ``sql`` source compares as text.
"""

from __future__ import annotations

import contextlib
import random
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from pathlib import Path

DATABASE_NAME = "demo-platform.sqlite3"
SOURCE_CONFIG = "platform-source.toml"
DATA_SOURCE_FILE = "data-source.toml"
PLATFORM_HOST = "social.example"
# The demo platform's records span these years.
HISTORY_START = datetime(2018, 1, 1, tzinfo=UTC)
HISTORY_END = datetime(2022, 1, 1, tzinfo=UTC)

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    email TEXT UNIQUE,
    phone TEXT UNIQUE,
    language TEXT NOT NULL DEFAULT 'en',
    country TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS logins (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    logged_in_at TEXT NOT NULL,
    ip_address TEXT NOT NULL,
    user_agent TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS logins_by_account ON logins (account_id, logged_in_at);
CREATE INDEX IF NOT EXISTS logins_by_address ON logins (ip_address);
CREATE TABLE IF NOT EXISTS posts (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    posted_at TEXT NOT NULL,
    url TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS posts_by_account ON posts (account_id, posted_at);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    sender_id INTEGER NOT NULL REFERENCES accounts (id),
    recipient_id INTEGER NOT NULL REFERENCES accounts (id),
    sent_at TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_sender ON messages (sender_id, sent_at);
CREATE INDEX IF NOT EXISTS messages_by_recipient ON messages (recipient_id, sent_at);
CREATE TABLE IF NOT EXISTS checkins (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    checked_in_at TEXT NOT NULL,
    place TEXT NOT NULL,
    latitude REAL NOT NULL,
    longitude REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS checkins_by_account ON checkins (account_id, checked_in_at);
"""

AGENTS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 14_0 like Mac OS X) SocialApp/8.1",
    "Mozilla/5.0 (Linux; Android 11; Pixel 5) SocialApp/8.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/90.0 Safari/537.36",
)
PLACES = (
    ("Mong Kok", 22.3193, 114.1694),
    ("Central", 22.2819, 114.1582),
    ("Mission District", 37.7599, -122.4148),
    ("Camden", 51.5390, -0.1426),
    ("Kreuzberg", 52.4986, 13.4033),
    ("Bondi", -33.8915, 151.2767),
)
WORDS = (
    "meet",
    "tomorrow",
    "photos",
    "market",
    "train",
    "coffee",
    "late",
    "call",
    "ok",
    "thanks",
    "weekend",
    "price",
    "delivery",
    "address",
    "soon",
    "news",
    "game",
    "tonight",
)


@dataclass(frozen=True, kw_only=True)
class DemoAccount:
    """An account of the demo platform, with the identifiers a request may name."""

    username: str
    email: str | None = None
    phone: str | None = None
    account_id: int | None = None
    country: str = "US"
    language: str = "en"
    ip_address: str | None = None  # a login from this address
    post_url: str | None = None  # a post at this URL


def database_path(data_dir: Path) -> Path:
    return data_dir / DATABASE_NAME


def connect(path: Path) -> sqlite3.Connection:
    """A writable connection for building the demo platform (govreq itself reads it read-only)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path)
    connection.executescript(SCHEMA)
    return connection


def write_source_config(data_dir: Path, config_path: Path) -> bool:
    """Write the data-source file for the demo platform unless one exists; True if written."""
    if config_path.exists():
        return False
    template = files("govreq.demo").joinpath(SOURCE_CONFIG).read_text(encoding="utf-8")
    relative = database_path(data_dir)
    with contextlib.suppress(ValueError):  # elsewhere: keep the absolute path
        relative = relative.relative_to(config_path.parent)
    config_path.parent.mkdir(parents=True, exist_ok=True)
    config_path.write_text(
        template.replace("{database}", str(relative).replace("\\", "/")), encoding="utf-8"
    )
    return True


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _moment(rng: random.Random, start: datetime, end: datetime) -> datetime:
    return start + timedelta(seconds=rng.randrange(int((end - start).total_seconds())))


def _sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randrange(3, 12))).capitalize() + "."


def account_add(
    connection: sqlite3.Connection,
    account: DemoAccount,
    *,
    rng: random.Random,
    records: int = 40,
    start: datetime = HISTORY_START,
    end: datetime = HISTORY_END,
) -> int:
    """Add an account with about ``records`` records of each kind (logins, posts, messages,
    check-ins) between ``start`` and ``end``; returns its id. An account that exists already
    (same username) is returned as it is."""
    row = connection.execute(
        "SELECT id FROM accounts WHERE username = ?", (account.username,)
    ).fetchone()
    if row is not None:
        return int(row[0])
    created = _moment(rng, start - timedelta(days=900), start)
    cursor = connection.execute(
        "INSERT INTO accounts (id, username, display_name, email, phone, language, country, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            account.account_id,
            account.username,
            account.username.replace("_", " ").title(),
            account.email,
            account.phone,
            account.language,
            account.country,
            _stamp(created),
        ),
    )
    account_id = int(cursor.lastrowid or 0)
    peers = [
        int(r[0])
        for r in connection.execute(
            "SELECT id FROM accounts WHERE id != ? ORDER BY id LIMIT 20", (account_id,)
        )
    ] or [account_id]
    logins = [
        (
            account_id,
            _stamp(_moment(rng, start, end)),
            f"198.51.100.{rng.randrange(1, 254)}",
            rng.choice(AGENTS),
        )
        for _ in range(records)
    ]
    if account.ip_address:
        logins.append((account_id, _stamp(_moment(rng, start, end)), account.ip_address, AGENTS[0]))
    connection.executemany(
        "INSERT INTO logins (account_id, logged_in_at, ip_address, user_agent) VALUES (?, ?, ?, ?)",
        logins,
    )
    posts = [
        (
            account_id,
            _stamp(_moment(rng, start, end)),
            f"https://{PLATFORM_HOST}/p/{account_id}-{n}",
            _sentence(rng),
        )
        for n in range(records // 2)
    ]
    if account.post_url:
        posts.append(
            (account_id, _stamp(_moment(rng, start, end)), account.post_url, _sentence(rng))
        )
    connection.executemany(
        "INSERT INTO posts (account_id, posted_at, url, body) VALUES (?, ?, ?, ?)", posts
    )
    connection.executemany(
        "INSERT INTO messages (sender_id, recipient_id, sent_at, body) VALUES (?, ?, ?, ?)",
        [
            (account_id, rng.choice(peers), _stamp(_moment(rng, start, end)), _sentence(rng))
            for _ in range(records // 2)
        ],
    )
    connection.executemany(
        "INSERT INTO checkins (account_id, checked_in_at, place, latitude, longitude) "
        "VALUES (?, ?, ?, ?, ?)",
        [
            (account_id, _stamp(_moment(rng, start, end)), place, lat, lon)
            for place, lat, lon in (rng.choice(PLACES) for _ in range(records // 4))
        ],
    )
    return account_id


def account_for_target(target_type: str, value: str, *, country: str, index: int) -> DemoAccount:
    """A demo account that a normalised target names (as intake stores it)."""
    language = "zh-Hant" if country in ("HK", "TW", "MO") else "en"
    username = f"demo_{index:04d}"
    if target_type == "USERNAME":
        return DemoAccount(
            username=value, country=country, language=language, email=f"{value}@mail.example"
        )
    if target_type == "EMAIL":
        return DemoAccount(username=username, email=value, country=country, language=language)
    if target_type == "PHONE":
        return DemoAccount(
            username=username,
            phone=value,
            country=country,
            language=language,
            email=f"{username}@mail.example",
        )
    if target_type == "USER_ID":
        return DemoAccount(
            username=username,
            account_id=int(value),
            country=country,
            language=language,
            email=f"{username}@mail.example",
        )
    if target_type == "IP_ADDRESS":
        return DemoAccount(
            username=username,
            ip_address=value,
            country=country,
            language=language,
            email=f"{username}@mail.example",
        )
    return DemoAccount(
        username=username,
        post_url=value,
        country=country,
        language=language,
        email=f"{username}@mail.example",
    )


_EXISTS = {
    "USERNAME": "SELECT id FROM accounts WHERE username = ?",
    "USER_ID": "SELECT id FROM accounts WHERE CAST(id AS TEXT) = ?",
    "EMAIL": "SELECT id FROM accounts WHERE email = ?",
    "PHONE": "SELECT id FROM accounts WHERE phone = ?",
    "IP_ADDRESS": "SELECT account_id FROM logins WHERE ip_address = ?",
    "URL": "SELECT account_id FROM posts WHERE url = ?",
}


def account_ensure(
    connection: sqlite3.Connection,
    target_type: str,
    value: str,
    *,
    country: str,
    rng: random.Random,
    records: int = 40,
    start: datetime = HISTORY_START,
    end: datetime = HISTORY_END,
) -> int:
    """The account a target names, added (with its records) if the platform has none yet."""
    row = connection.execute(_EXISTS[target_type], (value,)).fetchone()
    if row is not None:
        return int(row[0])
    index = connection.execute("SELECT COUNT(*) FROM accounts").fetchone()[0] + 1
    return account_add(
        connection,
        account_for_target(target_type, value, country=country, index=index),
        rng=rng,
        records=records,
        start=start,
        end=end,
    )
