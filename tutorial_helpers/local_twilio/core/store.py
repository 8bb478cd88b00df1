"""SQLite persistence behind the models.

Every resource is one row holding its JSON; a model call's changes are written
in one transaction that commits before the API answers, so a 2xx survives a
SIGKILL (WAL mode: a committed transaction is in the log file, which the OS
keeps even when the process dies).

The accounts a facilitator created are rows of `accounts`: their sid, name, date and the SHA-256 of their
token, never the token itself (see local_twilio/accounts/). They are written in a unit of work like the rest,
so deleting an account and its workspaces is one transaction.

The outbox holds the callbacks a unit of work made due (TaskRouter's assignment
and event callbacks, the voice side's status callbacks), written in that unit's
transaction and deleted once delivered or finally failed: a callback due when
the process died is sent after the restart.

Events are stored compactly (event_log.py, EventCodec): an event row holds its sid as 16 bytes, a few columns, and a
short JSON list: references to `blobs` (content-addressed, shared values: the workspace's fields, a task's
fields, a worker's state, the key order), the values that vary, and nothing that can be rebuilt (defaults
such as `source`, the resource path, the date text). Decoding gives back the same dict, key order included,
so the wire bodies are byte-identical.

The statistics (taskrouter/statistics/) count events with SQL, so a few values an event's data holds are also
columns (`FIGURE_COLUMNS`): the task's queue, workflow and channel, the worker, a worker's previous activity
(blob ids of the sid text: shared, so a few bytes each) and two waits in whole seconds. They are derived from
the event when it is written (`figure_columns`), indexed with (ws, type, ms), and never decoded. The events
list filters with them too (`event_page`), with two more: 28-bit keys of the task's and the reservation's sids,
so a page of a long history decodes that page, not the history.

Events older than the retention period are pruned in batches
(`prune_events`), and so are the blobs no remaining event refers to.
"""

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .event_log import (
    _FIGURE_OF_KEY,
    CACHE_LIMIT,
    FIGURE_COLUMNS,
    KEY_COLUMNS,
    EventCodec,
    EventLogRow,
    EventSelection,
    _dumps,
    _hash,
    _inserted_id,
    _sid_key,
    figure_columns,
    sid_key,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS resources (
    sid TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    seq INTEGER NOT NULL,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS event_log (
    seq INTEGER PRIMARY KEY,
    sid BLOB NOT NULL,
    ws INTEGER NOT NULL,
    type INTEGER NOT NULL,
    ms INTEGER,
    data TEXT NOT NULL,
    task_queue INTEGER,
    workflow INTEGER,
    worker INTEGER,
    channel INTEGER,
    activity INTEGER,
    wait INTEGER,
    queue_wait INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS event_log_by_sid ON event_log (sid);
CREATE INDEX IF NOT EXISTS event_log_by_workspace ON event_log (ws, seq);
CREATE TABLE IF NOT EXISTS blobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hash INTEGER NOT NULL,
    value TEXT NOT NULL,
    used_until INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS blobs_by_hash ON blobs (hash);
CREATE INDEX IF NOT EXISTS blobs_by_use ON blobs (used_until);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS accounts (
    sid TEXT PRIMARY KEY,
    friendly_name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    date_created TEXT NOT NULL,
    token_sha256 TEXT NOT NULL
);
"""



# Blobs are stamped with the hour after their newest use: one that is stamped before the prune's cutoff has
# no event left that refers to it. Stamping by the hour keeps it to one UPDATE per blob per hour.
STAMP_MS = 3_600_000
PRUNE_BATCH = 500  # rows deleted per transaction: a big prune never holds the store lock long

class Store:
    def __init__(self, data_dir: Path):
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / "taskrouter.sqlite3"
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        # A new store gives freed pages back to the file (prune_events); an existing one keeps its setting.
        # (Only before the first table, and before WAL mode writes the header.)
        self._db.execute("PRAGMA auto_vacuum=INCREMENTAL")
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode loses nothing on a process kill, only on power loss.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()
        self.codec = EventCodec()
        # The writer's cache: blob text -> [id, used_until]; changes made in a transaction are kept apart
        # until it commits (a rollback takes the rows back).
        self._blob_ids: dict[str, list[int]] = {}
        self._pending: dict[str, list[int]] | None = None
        self._migrate_figure_columns()
        self._migrate_events()
        # Readers get a connection per thread: WAL lets them read while a write is under way.
        self._readers = threading.local()
        self._closed = False

    def load(self) -> Iterator[tuple[str, int, dict]]:
        """Every stored row, oldest first, as (kind, seq, data)."""
        rows = self._db.execute("SELECT kind, seq, data FROM resources ORDER BY seq").fetchall()
        for kind, seq, data in rows:
            yield kind, seq, json.loads(data)

    def last_event_seq(self) -> int:
        return self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM event_log").fetchone()[0]

    def _migrate_events(self) -> None:
        """A data dir from before the compact encoding: its events table is re-encoded into event_log."""
        old = self._db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'").fetchone()
        if not old:
            return
        with self._interning() as cur:
            rows = cur.execute("SELECT seq, data FROM events ORDER BY seq").fetchall()
            self._insert_events(cur, [(seq, json.loads(data)) for seq, data in rows])
            cur.execute("DROP TABLE events")

    def _migrate_figure_columns(self) -> None:
        """A data dir from before the statistics: the figure columns are added and filled from the stored
        events (decoded in batches), then indexed. Indexing after filling keeps the migration one pass."""
        have = {row[1] for row in self._db.execute("PRAGMA table_info(event_log)")}
        missing = [c for c in FIGURE_COLUMNS if c not in have]
        if missing:
            with self._interning() as cur:
                for column in missing:
                    cur.execute(f"ALTER TABLE event_log ADD COLUMN {column} INTEGER")
                intern = lambda text, ms: self._intern(cur, text, ms)  # noqa: E731
                last = 0
                while True:
                    rows = cur.execute("SELECT seq, sid, ws, type, ms, data FROM event_log WHERE seq > ? "
                                       "ORDER BY seq LIMIT 1000", (last,)).fetchall()
                    if not rows:
                        break
                    sets = ", ".join(f"{c} = ?" for c in FIGURE_COLUMNS)
                    cur.executemany(f"UPDATE event_log SET {sets} WHERE seq = ?", [
                        (*figure_columns(event, intern), event["_seq"])
                        for event in self.codec.decode(cur.connection, rows)])
                    last = rows[-1][0]
        self._db.execute("CREATE INDEX IF NOT EXISTS event_log_by_type ON event_log (ws, type, ms)")
        # One task's events (the notebooks' task view asks for them): without it, a scan of the workspace.
        self._db.execute("CREATE INDEX IF NOT EXISTS event_log_by_task ON event_log (task_key)")

    @contextmanager
    def _interning(self) -> Iterator[sqlite3.Cursor]:
        """One write transaction that may intern blobs: the ids it makes join the cache only if it commits."""
        with self._lock:
            cur = self._db.cursor()
            cur.execute("BEGIN IMMEDIATE")
            self._pending = {}
            try:
                yield cur
                cur.execute("COMMIT")
                if len(self._blob_ids) + len(self._pending) > CACHE_LIMIT:
                    self._blob_ids.clear()
                self._blob_ids.update(self._pending)
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            finally:
                self._pending = None

    def _intern(self, cur: sqlite3.Cursor, text: str, ms: int) -> int:
        """The id of the blob holding `text` (made if need be), stamped as used until after `ms`."""
        assert self._pending is not None
        until = (ms // STAMP_MS + 1) * STAMP_MS
        known = self._pending.get(text) or self._blob_ids.get(text)
        if known is None:
            digest = _hash(text)
            for blob_id, value, used in cur.execute("SELECT id, value, used_until FROM blobs WHERE hash = ?",
                                                    (digest,)).fetchall():
                if value == text:
                    known = [blob_id, used]
                    break
            else:
                cur.execute("INSERT INTO blobs (hash, value, used_until) VALUES (?, ?, ?)", (digest, text, until))
                known = [_inserted_id(cur), until]
        if known[1] < until:
            cur.execute("UPDATE blobs SET used_until = MAX(used_until, ?) WHERE id = ?", (until, known[0]))
            known = [known[0], until]
        self._pending[text] = known
        return known[0]

    def _insert_events(self, cur: sqlite3.Cursor, events: Iterable[tuple[int, dict]]) -> None:
        intern = lambda text, ms: self._intern(cur, text, ms)  # noqa: E731
        columns = ", ".join(FIGURE_COLUMNS)
        marks = ", ".join("?" * len(FIGURE_COLUMNS))
        cur.executemany(f"INSERT INTO event_log (seq, sid, ws, type, ms, data, {columns}) "
                        f"VALUES (?, ?, ?, ?, ?, ?, {marks})",
                        [(seq, *self.codec.encode(row, intern)) for seq, row in events])

    def _blob_id(self, db: sqlite3.Connection, value: Any) -> int | None:
        text = _dumps(value)
        for blob_id, stored in db.execute("SELECT id, value FROM blobs WHERE hash = ?", (_hash(text),)):
            if stored == text:
                return blob_id
        return None

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def _reader(self) -> sqlite3.Connection:
        db = getattr(self._readers, "db", None)
        if db is None:
            db = self._readers.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        return db

    def events(self, workspace_sid: str, event_type: str | None = None) -> list[dict]:
        """A workspace's events, newest first. Events live only here, never in memory:
        they are most of the state and are only ever listed or fetched."""
        db = self._reader()
        db.execute("BEGIN")  # one snapshot: a prune meanwhile cannot take away a blob these rows refer to
        try:
            ws = self._blob_id(db, workspace_sid)
            kind = self._blob_id(db, event_type) if event_type is not None else None
            if ws is None or (event_type is not None and kind is None):
                return []
            query = "SELECT seq, sid, ws, type, ms, data FROM event_log WHERE ws = ?"
            args: tuple[int, ...] = (ws,)
            if kind is not None:
                query, args = query + " AND type = ?", (ws, kind)
            rows = db.execute(query + " ORDER BY seq DESC", args).fetchall()
            return self.codec.decode(db, rows)
        finally:
            db.execute("COMMIT")

    def event_page(self, workspace_sid: str, *, types: Iterable[str] = (), since: float | None = None,
                   until: float | None = None, sid: str | None = None,
                   related: dict[str, str] | None = None) -> "EventSelection":
        """A workspace's events that pass these filters, newest first, decoded only when read.

        `types`, the dates (seconds, compared as the event's ms / 1000, inclusive) and `sid` are exact in SQL.
        `related` ({"task_sid": "WT…", "worker_sid": …}) keeps the events whose data holds that sid: SQL
        narrows them with figure columns (exact) and sid keys; with a key `exact` is False and the caller tests
        the decoded rows (two sids may share a key)."""
        db = self._reader()
        db.execute("BEGIN")
        try:
            ws = self._blob_id(db, workspace_sid)
            if ws is None:
                return EventSelection.empty(self)
            filters: list[str] = ["ws = ?"]
            args: list[Any] = [ws]
            types = list(types)
            if types:
                kinds = [blob for name in types if (blob := self._blob_id(db, name)) is not None]
                if not kinds:
                    return EventSelection.empty(self)
                filters.append(f"type IN ({','.join('?' * len(kinds))})")
                args += kinds
            if since is not None:
                filters.append("ms / 1000.0 >= ?")
                args.append(since)
            if until is not None:
                filters.append("ms / 1000.0 <= ?")
                args.append(until)
            if sid is not None:
                filters.append("sid = ?")
                args.append(_sid_key(sid))
            exact = True
            for key, value in (related or {}).items():
                if key in KEY_COLUMNS:
                    column, match = KEY_COLUMNS[key], sid_key(value)
                else:
                    column, match = _FIGURE_OF_KEY[key], self._blob_id(db, value)
                if match is None:
                    return EventSelection.empty(self)  # no event ever held it
                filters.append(f"{column} = ?")
                args.append(match)
                exact = exact and key not in KEY_COLUMNS  # a figure column holds the exact sid
            return EventSelection(self, " AND ".join(filters), args, exact=exact)
        finally:
            db.execute("COMMIT")

    def event_seqs(self, where: str, args: list[Any], limit: int = -1, offset: int = 0) -> list[int]:
        return [seq for (seq,) in self._reader().execute(
            f"SELECT seq FROM event_log WHERE {where} ORDER BY seq DESC LIMIT ? OFFSET ?", (*args, limit, offset))]


    def events_by_seq(self, seqs: list[int]) -> list[dict]:
        """These events, decoded, in this order (one that was pruned meanwhile is left out)."""
        if not seqs:
            return []
        db = self._reader()
        db.execute("BEGIN")
        try:
            found: dict[int, EventLogRow] = {}
            for at in range(0, len(seqs), 500):
                chunk = seqs[at:at + 500]
                found.update((row[0], row) for row in db.execute(
                    f"SELECT seq, sid, ws, type, ms, data FROM event_log WHERE seq IN ({','.join('?' * len(chunk))})",
                    chunk))
            return self.codec.decode(db, [found[seq] for seq in seqs if seq in found])
        finally:
            db.execute("COMMIT")

    def event_figures(self, workspace_sid: str, types: Iterable[str], start_ms: int, end_ms: int,
                      where: dict[str, str], thresholds: Iterable[int] = ()) -> list[dict[str, Any]]:
        """Per event type (and previous activity) in [start_ms, end_ms]: the count, and the sum, min and max of
        `wait` and `queue_wait`; `below` counts the waits under each threshold. `where` keeps only the events
        whose figure column (task_queue, workflow, worker, channel) holds that sid. One indexed query."""
        db = self._reader()
        db.execute("BEGIN")
        try:
            ws = self._blob_id(db, workspace_sid)
            kinds = {blob: name for name in types if (blob := self._blob_id(db, name)) is not None}
            if ws is None or not kinds:
                return []
            filters, args = [], []
            for column, sid in where.items():
                assert column in FIGURE_COLUMNS
                blob = self._blob_id(db, sid)
                if blob is None:
                    return []  # no event ever named it
                filters.append(f" AND {column} = ?")
                args.append(blob)
            thresholds = list(thresholds)
            below = "".join(f", SUM(wait < {int(t)})" for t in thresholds)
            query = (f"SELECT type, activity, COUNT(*), SUM(wait), MIN(wait), MAX(wait), SUM(queue_wait), "
                     f"MIN(queue_wait), MAX(queue_wait){below} FROM event_log "
                     f"WHERE ws = ? AND type IN ({','.join('?' * len(kinds))}) AND ms BETWEEN ? AND ?"
                     f"{''.join(filters)} GROUP BY type, activity")
            rows = db.execute(query, (ws, *kinds, start_ms, end_ms, *args)).fetchall()
            ids = sorted({r[1] for r in rows if r[1]})
            named = {i: json.loads(t) for i, t in db.execute(
                f"SELECT id, value FROM blobs WHERE id IN ({','.join('?' * len(ids))})", ids)} if ids else {}
            names = ("count", "wait_sum", "wait_min", "wait_max", "queue_wait_sum", "queue_wait_min",
                     "queue_wait_max")
            return [{"type": kinds[r[0]], "activity": named.get(r[1]),
                     **dict(zip(names, r[2:9], strict=True)),
                     "below": dict(zip(thresholds, (v or 0 for v in r[9:]), strict=True))} for r in rows]
        finally:
            db.execute("COMMIT")

    def event(self, sid: str) -> dict | None:
        db = self._reader()
        db.execute("BEGIN")
        try:
            row = db.execute("SELECT seq, sid, ws, type, ms, data FROM event_log WHERE sid = ?",
                             (_sid_key(sid),)).fetchone()
            return self.codec.decode(db, [row])[0] if row else None
        finally:
            db.execute("COMMIT")

    def prune_events(self, before_ms: int, batch: int = PRUNE_BATCH) -> int:
        """Delete events dated before `before_ms` (oldest first, `batch` rows per transaction), then the blobs
        no remaining event refers to. Returns how many events went."""
        removed = 0
        while True:
            with self._lock:
                if self._closed:
                    return removed
                rows = self._db.execute("SELECT seq, ms FROM event_log ORDER BY seq LIMIT ?", (batch,)).fetchall()
                # Oldest first, stopping at the first young one: the ones after it are younger still.
                old = []
                for seq, ms in rows:
                    if ms is None or ms >= before_ms:
                        break
                    old.append((seq,))
                if old:
                    self._db.execute("BEGIN IMMEDIATE")
                    self._db.executemany("DELETE FROM event_log WHERE seq = ?", old)
                    self._db.execute("COMMIT")
                    removed += len(old)
            if len(old) < batch:
                break
        while True:
            with self._lock:
                if self._closed:
                    return removed
                cur = self._db.execute("DELETE FROM blobs WHERE id IN (SELECT id FROM blobs WHERE used_until < ? "
                                       "LIMIT ?)", (before_ms, batch))
                if cur.rowcount:
                    self._blob_ids = {t: k for t, k in self._blob_ids.items() if k[1] >= before_ms}
                if cur.rowcount < batch:
                    break
        # Free pages (pruned events, purged tasks) go back to the file system, a batch at a time.
        while True:
            with self._lock:
                if self._closed or not self._db.execute("PRAGMA freelist_count").fetchone()[0]:
                    break
                if self._db.execute("PRAGMA auto_vacuum").fetchone()[0] != 2:
                    break
                self._db.execute(f"PRAGMA incremental_vacuum({batch})").fetchall()
        return removed

    def write(
        self,
        upserts: Iterable[tuple[str, str, int, dict]],
        deletes: Iterable[str],
        meta: dict[str, str] | None = None,
        events: Iterable[tuple[str, str, int, dict]] = (),
        dropped_workspaces: Iterable[str] = (),
        outbox: Iterable[tuple[str, dict]] = (),
        accounts: Iterable[tuple[str, dict | None]] = (),
    ) -> list[int]:
        """Apply one unit of work atomically: all of it or none of it. Returns the outbox ids, in order."""
        with self._interning() as cur:
            self._insert_events(cur, [(seq, data) for _sid, _ws, seq, data in events])
            for ws in dropped_workspaces:
                ws_id = self._blob_id(self._db, ws)
                if ws_id is not None:
                    cur.execute("DELETE FROM event_log WHERE ws = ?", (ws_id,))
            cur.executemany(
                "INSERT OR REPLACE INTO resources (sid, kind, seq, data) VALUES (?, ?, ?, ?)",
                [(sid, kind, seq, json.dumps(data)) for sid, kind, seq, data in upserts],
            )
            cur.executemany("DELETE FROM resources WHERE sid = ?", [(s,) for s in deletes])
            for key, value in (meta or {}).items():
                cur.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
            for sid, account in accounts:  # (sid, row) stores an account, (sid, None) deletes it
                if account is None:
                    cur.execute("DELETE FROM accounts WHERE sid = ?", (sid,))
                else:
                    cur.execute("INSERT INTO accounts (sid, friendly_name, date_created, token_sha256) "
                                "VALUES (?, ?, ?, ?)",
                                (sid, account["friendly_name"], account["date_created"], account["token_sha256"]))
            ids = []
            for kind, data in outbox:
                cur.execute("INSERT INTO outbox (kind, data) VALUES (?, ?)", (kind, json.dumps(data)))
                ids.append(_inserted_id(cur))
        return ids

    def accounts(self) -> list[dict]:
        """The stored accounts, oldest first: sid, friendly_name, date_created, token_sha256."""
        # rowid grows with each insert (a deleted last row's number may come back, still after every other row).
        rows = self._db.execute("SELECT sid, friendly_name, date_created, token_sha256 FROM accounts "
                                "ORDER BY rowid").fetchall()
        return [dict(zip(("sid", "friendly_name", "date_created", "token_sha256"), row, strict=True))
                for row in rows]

    def outbox(self, kinds: tuple[str, ...]) -> list[tuple[int, str, dict]]:
        """The callbacks of these kinds still due, oldest first: (id, kind, data). Each service reads its own."""
        marks = ", ".join("?" * len(kinds))
        rows = self._db.execute(f"SELECT id, kind, data FROM outbox WHERE kind IN ({marks}) ORDER BY id",
                                kinds).fetchall()
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
