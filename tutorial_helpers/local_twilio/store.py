"""SQLite persistence behind the models.

Every resource is one row holding its JSON; a model call's changes are written
in one transaction that commits before the API answers, so a 2xx survives a
SIGKILL (WAL mode: a committed transaction is in the log file, which the OS
keeps even when the process dies).

The outbox holds the callbacks a unit of work made due (assignment and event
callbacks), written in that unit's transaction and deleted once delivered or
finally failed: a callback due when the process died is sent after the restart.
"""

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS resources (
    sid TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    seq INTEGER NOT NULL,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    sid TEXT PRIMARY KEY,
    workspace_sid TEXT NOT NULL,
    seq INTEGER NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_workspace ON events (workspace_sid, seq);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    data TEXT NOT NULL
);
"""


class Store:
    def __init__(self, data_dir: Path):
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / "taskrouter.sqlite3"
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode loses nothing on a process kill, only on power loss.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()
        # Readers get a connection per thread: WAL lets them read while a write is under way.
        self._readers = threading.local()
        self._closed = False

    def load(self) -> Iterator[tuple[str, int, dict]]:
        """Every stored row, oldest first, as (kind, seq, data)."""
        rows = self._db.execute("SELECT kind, seq, data FROM resources ORDER BY seq").fetchall()
        for kind, seq, data in rows:
            yield kind, seq, json.loads(data)

    def last_event_seq(self) -> int:
        return self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0]

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def _reader(self) -> sqlite3.Connection:
        db = getattr(self._readers, "db", None)
        if db is None:
            db = self._readers.db = sqlite3.connect(self.path, check_same_thread=False)
        return db

    def events(self, workspace_sid: str, event_type: str | None = None) -> list[dict]:
        """A workspace's events, newest first. Events live only here, never in memory:
        they are most of the state and are only ever listed or fetched."""
        query = "SELECT seq, data FROM events WHERE workspace_sid = ?"
        args: tuple = (workspace_sid,)
        if event_type is not None:
            query += " AND json_extract(data, '$.event_type') = ?"
            args += (event_type,)
        rows = self._reader().execute(query + " ORDER BY seq DESC", args).fetchall()
        return [self._event_row(seq, data) for seq, data in rows]

    def event(self, sid: str) -> dict | None:
        row = self._reader().execute("SELECT seq, data FROM events WHERE sid = ?", (sid,)).fetchone()
        return self._event_row(*row) if row else None

    @staticmethod
    def _event_row(seq: int, data: str) -> dict:
        row = json.loads(data)
        row["_kind"], row["_seq"] = "event", seq
        return row

    def write(
        self,
        upserts: Iterable[tuple[str, str, int, dict]],
        deletes: Iterable[str],
        meta: dict[str, str] | None = None,
        events: Iterable[tuple[str, str, int, dict]] = (),
        dropped_workspaces: Iterable[str] = (),
        outbox: Iterable[tuple[str, dict]] = (),
    ) -> list[int]:
        """Apply one unit of work atomically: all of it or none of it. Returns the outbox ids, in order."""
        with self._lock:
            cur = self._db.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                cur.executemany(
                    "INSERT INTO events (sid, workspace_sid, seq, data) VALUES (?, ?, ?, ?)",
                    [(sid, ws, seq, json.dumps(data)) for sid, ws, seq, data in events],
                )
                cur.executemany("DELETE FROM events WHERE workspace_sid = ?", [(ws,) for ws in dropped_workspaces])
                cur.executemany(
                    "INSERT OR REPLACE INTO resources (sid, kind, seq, data) VALUES (?, ?, ?, ?)",
                    [(sid, kind, seq, json.dumps(data)) for sid, kind, seq, data in upserts],
                )
                cur.executemany("DELETE FROM resources WHERE sid = ?", [(s,) for s in deletes])
                for key, value in (meta or {}).items():
                    cur.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
                ids = []
                for kind, data in outbox:
                    cur.execute("INSERT INTO outbox (kind, data) VALUES (?, ?)", (kind, json.dumps(data)))
                    ids.append(cur.lastrowid)
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
        return ids

    def outbox(self) -> list[tuple[int, str, dict]]:
        """The callbacks still due, oldest first: (id, kind, data)."""
        rows = self._db.execute("SELECT id, kind, data FROM outbox ORDER BY id").fetchall()
        return [(oid, kind, json.loads(data)) for oid, kind, data in rows]

    def outbox_done(self, outbox_id: int | None) -> None:
        """The callback was delivered, or finally failed: it is no longer due."""
        if outbox_id is None:
            return
        with self._lock:
            if not self._closed:
                self._db.execute("DELETE FROM outbox WHERE id = ?", (outbox_id,))

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._db.close()
