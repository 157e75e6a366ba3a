"""SQLite persistence for `--db FILE`: the in-memory state is written through, so a restarted
sandbox finds its campaigns (with their timestamps, hence their progress), messages, lists and
templates again. Only the Store calls this, always from the server's event loop thread.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

_SCHEMA = """
CREATE TABLE IF NOT EXISTS campaigns (id TEXT PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS deleted (id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id TEXT NOT NULL, phone TEXT NOT NULL, contact_list TEXT NOT NULL,
    sent_at REAL NOT NULL, channel TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS resources (kind TEXT, name TEXT, value TEXT NOT NULL, PRIMARY KEY (kind, name));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_TABLES = ("campaigns", "deleted", "messages", "resources", "meta")

MessageRow = tuple[str, str, str, float, str]  # campaign id, phone, contact list, sent at, channel


@dataclass
class Snapshot:
    """Everything a database holds, in insertion order."""

    campaigns: list[dict[str, Any]] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    messages: list[MessageRow] = field(default_factory=list)
    resources: list[tuple[str, str, Any]] = field(default_factory=list)


class Database:
    """A write-through copy of the sandbox state in one SQLite file."""

    def __init__(self, path: str) -> None:
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)
        self._depth = 0

    def close(self) -> None:
        """Close the file."""
        self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes into one transaction (nested uses join the outer one)."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._conn.execute("BEGIN")
        self._depth = 1
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        else:
            self._conn.execute("COMMIT")
        finally:
            self._depth = 0

    def initialized(self) -> bool:
        """True once a seed has been written (so a restart must load, not re-seed)."""
        return self._conn.execute("SELECT 1 FROM meta WHERE key = 'initialized'").fetchone() is not None

    def wipe(self) -> None:
        """Delete everything (a reset); the caller seeds again and marks it initialized."""
        with self.transaction():
            for table in _TABLES:
                self._conn.execute(f"DELETE FROM {table}")

    def mark_initialized(self) -> None:
        """Record that the seed has been applied."""
        self._conn.execute("INSERT OR REPLACE INTO meta VALUES ('initialized', '1')")

    def save_campaigns(self, records: Iterable[tuple[str, dict[str, Any]]]) -> None:
        """Insert or replace campaigns given as (id, record)."""
        self._conn.executemany(
            "INSERT INTO campaigns VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET record = excluded.record",
            ((cid, json.dumps(record, separators=(",", ":"))) for cid, record in records),
        )

    def delete_campaign(self, campaign_id: str) -> None:
        """Remove a campaign and remember that it was deleted."""
        with self.transaction():
            self._conn.execute("DELETE FROM campaigns WHERE id = ?", (campaign_id,))
            self._conn.execute("INSERT OR IGNORE INTO deleted VALUES (?)", (campaign_id,))

    def add_messages(self, rows: Iterable[MessageRow]) -> None:
        """Append sent messages."""
        self._conn.executemany(
            "INSERT INTO messages (campaign_id, phone, contact_list, sent_at, channel) VALUES (?, ?, ?, ?, ?)",
            rows,
        )

    def put_resource(self, kind: str, name: str, value: Any) -> None:
        """Insert or replace a contact list, DNC list or template."""
        self._conn.execute(
            "INSERT INTO resources VALUES (?, ?, ?) ON CONFLICT (kind, name) DO UPDATE SET value = excluded.value",
            (kind, name, json.dumps(value)),
        )

    def delete_resource(self, kind: str, name: str) -> None:
        """Remove a contact list, DNC list or template."""
        self._conn.execute("DELETE FROM resources WHERE kind = ? AND name = ?", (kind, name))

    def load(self) -> Snapshot:
        """Read the whole state back."""
        c = self._conn
        return Snapshot(
            campaigns=[json.loads(r) for (r,) in c.execute("SELECT record FROM campaigns ORDER BY rowid")],
            deleted=[i for (i,) in c.execute("SELECT id FROM deleted")],
            messages=list(
                c.execute(
                    "SELECT campaign_id, phone, contact_list, sent_at, channel FROM messages ORDER BY seq"
                )
            ),
            resources=[
                (k, n, json.loads(v)) for k, n, v in c.execute("SELECT kind, name, value FROM resources")
            ],
        )
