"""How an event is stored: compactly, and given back byte for byte (the Events list, the statistics).

An event row holds its sid as 16 bytes, a few columns, and a short JSON list: references to `blobs`
(content-addressed, shared values: the workspace's fields, a task's fields, a worker's state, the key
order), the values that vary, and nothing that can be rebuilt (defaults such as `source`, the resource path,
the date text). `EventCodec` writes and reads that; decoding gives back the same dict, key order included.

`figure_columns` derives the columns the statistics count with SQL (the task's queue, workflow and channel,
the worker, a previous activity, two waits) and `sid_key` the 28-bit keys the Events list narrows with.
`EventSelection` is one Events-list query, read a page at a time. The SQLite file itself is store.py's.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .store import Store

CACHE_LIMIT = 50_000  # blobs remembered in memory, per cache (cleared when full)

# Event fields whose values are shared by many events: each group's values are one blob.
_GROUPS: tuple[tuple[tuple[str, ...], ...], ...] = (
    (("account_sid",), ("event_data", "workspace_sid"), ("event_data", "workspace_name"),
     ("event_data", "account_sid")),
    tuple(("event_data", k) for k in ("task_sid", "task_attributes", "task_priority", "task_timeout")),
    tuple(("event_data", k) for k in ("task_date_created", "task_queue_entered_date")),
    tuple(("event_data", k) for k in ("task_queue_sid", "task_queue_name", "workflow_sid", "workflow_name",
                                      "task_channel_sid", "task_channel_unique_name")),
    tuple(("event_data", k) for k in ("worker_sid", "worker_name", "worker_attributes", "worker_activity_sid",
                                      "worker_activity_name", "worker_available")),
)
_GROUP_OF = {path: g for g, paths in enumerate(_GROUPS) for path in paths}
_INLINE, _DEFAULT, _DESCRIPTION = -1, -2, -3  # where a value comes from (else: its group's number)
_SEGMENTS = {"workspace": "", "activity": "Activities", "taskchannel": "TaskChannels", "worker": "Workers",
             "taskqueue": "TaskQueues", "workflow": "Workflows", "task": "Tasks"}
_TYPE_BY_PREFIX = {"WS": "workspace", "WA": "activity", "TC": "taskchannel", "WK": "worker", "WQ": "taskqueue",
                   "WW": "workflow", "WT": "task", "WR": "reservation"}
_MISSING = object()


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _hash(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big", signed=True)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms // 1000, UTC).isoformat().replace("+00:00", "Z")


def _resource_sid(row: dict) -> Any:
    """The reservation's sid, else the task's, else the worker's (only event_data is read: it is never defaulted)."""
    data = row.get("event_data")
    if not isinstance(data, dict):
        return _MISSING
    for key in ("reservation_sid", "task_sid", "worker_sid"):
        if key in data:
            return data[key]
    return _MISSING


def _resource_path(row: dict) -> Any:
    ws, sid, kind, data = row.get("workspace_sid"), row.get("resource_sid"), row.get("resource_type"), \
        row.get("event_data")
    if not isinstance(ws, str) or not isinstance(sid, str) or not isinstance(data, dict):
        return _MISSING
    if kind == "reservation" and isinstance(data.get("task_sid"), str):
        return f"/Workspaces/{ws}/Tasks/{data['task_sid']}/Reservations/{sid}"
    if kind == "workerchannel" and isinstance(data.get("worker_sid"), str):
        return f"/Workspaces/{ws}/Workers/{data['worker_sid']}/Channels/{sid}"
    if kind == "workspace":
        return f"/Workspaces/{sid}"
    if kind in _SEGMENTS:
        return f"/Workspaces/{ws}/{_SEGMENTS[kind]}/{sid}"
    return _MISSING


# Values rebuilt from the others, in this order (each only reads fields before it or never defaulted).
_DEFAULTS = {
    "resource_sid": _resource_sid,
    "resource_type": lambda row: _TYPE_BY_PREFIX.get(str(row.get("resource_sid"))[:2], _MISSING),
    "actor_sid": lambda row: row.get("workspace_sid", _MISSING),
    "actor_type": lambda row: "workspace",
    "source": lambda row: "twilio",
    "source_ip_address": lambda row: "127.0.0.1",
    "event_date": lambda row: _iso(row["event_date_ms"]) if type(row.get("event_date_ms")) is int else _MISSING,
    "_resource_path": _resource_path,
}
_COLUMNS = ("sid", "workspace_sid", "event_type", "event_date_ms")

# The columns the statistics filter and aggregate on; the sid-valued ones hold the blob id of the sid's text.
FIGURE_COLUMNS = ("task_queue", "workflow", "worker", "channel", "activity", "wait", "queue_wait",
                  "task_key", "reservation_key")
# The events list's TaskSid and ReservationSid filters narrow their scan with `sid_key`s: 28 bits of a sid, in
# 4 bytes of the row, never indexed. Two sids may share a key, so a key only picks the candidates; the exact
# test runs on the decoded candidates. (Every event names its own resource in its data, so the filters' "or
# the event's resource is that sid" needs no column: the suite's check_events holds the engine to it.)
KEY_COLUMNS = {"task_sid": "task_key", "reservation_sid": "reservation_key"}
_SID_FIGURES = (("task_queue", "task_queue_sid"), ("workflow", "workflow_sid"), ("worker", "worker_sid"),
                ("channel", "task_channel_sid"), ("activity", "worker_previous_activity_sid"))
# The waits are kept only where a statistic reads them (an accept, a cancel, the end of an activity).
_WAITED = ("reservation.accepted", "task.canceled")
_FIGURE_OF_KEY = {key: column for column, key in _SID_FIGURES}


def _parse_iso_ms(text: Any) -> int | None:
    try:
        return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp() * 1000)
    except (TypeError, ValueError):
        return None


def sid_key(value: Any) -> int | None:
    """The first 28 bits of a Twilio sid's hex (XX + 32 hex digits), or None for anything else."""
    if isinstance(value, str) and len(value) == 34:
        try:
            return int(value[2:9], 16)
        except ValueError:
            return None
    return None


def figure_columns(row: dict, intern: Any) -> tuple[int | None, ...]:
    """The statistics' columns of one event, and its sid keys (see FIGURE_COLUMNS); `intern(text, ms)` gives a
    blob's id."""
    data = row.get("event_data")
    if not isinstance(data, dict):
        return (None,) * len(FIGURE_COLUMNS)
    ms = row.get("event_date_ms") if type(row.get("event_date_ms")) is int else None
    stamp = ms or 0
    out: list[int | None] = [
        intern(_dumps(data[key]), stamp) if isinstance(data.get(key), str) else None for _col, key in _SID_FIGURES
    ]
    wait = queue_wait = None
    kind = row.get("event_type")
    if kind in _WAITED and type(data.get("task_age")) is int:
        wait = data["task_age"]  # whole seconds since the task was created, as the task's `age` says
        entered = _parse_iso_ms(data.get("task_queue_entered_date"))
        if kind == "reservation.accepted" and entered is not None and ms is not None:
            queue_wait = max(0, (ms - entered) // 1000)
    elif kind == "worker.activity.update":
        spent = data.get("worker_time_in_previous_activity")
        wait = int(spent) if isinstance(spent, str) and spent.isdigit() else None
    return (*out, wait, queue_wait, sid_key(data.get("task_sid")), sid_key(data.get("reservation_sid")))


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def _sid_key(sid: str) -> bytes | str:
    """EV + 32 hex digits as 16 bytes; anything else as itself (SQLite columns take either)."""
    if len(sid) == 34 and sid.startswith("EV"):
        try:
            return bytes.fromhex(sid[2:])
        except ValueError:
            pass
    return sid


def _sid_text(key: bytes | str) -> str:
    return "EV" + key.hex() if isinstance(key, bytes) else key


def _inserted_id(cur: sqlite3.Cursor) -> int:
    """The rowid of the row `cur` has just inserted (sqlite3 types `lastrowid` as optional: None before any)."""
    rowid = cur.lastrowid
    assert rowid is not None, "no row inserted"
    return rowid


# One row of event_log as the codec reads it: (seq, sid, ws, type, ms, data).
EventLogRow = tuple[int, bytes | str, int, int, int | None, str]


class EventCodec:
    """An event row <-> (columns, compact data), with the blobs it refers to.

    Stored data: `[schema, [group blob ids], inline values...]`; the schema blob lists every key in its
    order with where its value comes from (inline, a group, a default, or the description blob, where the
    resource sid is replaced by NUL).
    """

    def __init__(self) -> None:
        self.values: dict[int, Any] = {}  # blob id -> decoded value (readers; ids are never reused)
        self.lock = threading.Lock()

    # -- encoding (the writer, under the store lock) ---------------------------------------------------

    @staticmethod
    def encode(row: dict, intern: Any) -> tuple[Any, ...]:
        """(sid key, workspace blob, type blob, ms, data, *figure columns); `intern(text, ms)` gives a blob's id."""
        ms = row.get("event_date_ms")
        ms = ms if type(ms) is int else None
        stamp = ms or 0
        groups: list[list[Any]] = [[] for _ in _GROUPS]
        inline: list[Any] = []
        schema: list[Any] = []
        description_key = None

        def place(path: tuple[str, ...], value: Any) -> int:
            group = _GROUP_OF.get(path)
            if group is not None:
                groups[group].append(value)
                return group
            inline.append(value)
            return _INLINE

        for key, value in row.items():
            if key in _COLUMNS and not (key == "event_date_ms" and ms is None):
                schema.append([key, _DEFAULT])
            elif key == "event_data" and isinstance(value, dict):
                schema.append([key, [[k, place((key, k), v)] for k, v in value.items()]])
            elif key in _DEFAULTS and _same(_DEFAULTS[key](row), value):
                schema.append([key, _DEFAULT])
            elif key == "description" and isinstance(value, str) and "\0" not in value:
                resource = row.get("resource_sid")
                text = value.replace(resource, "\0") if isinstance(resource, str) and resource else value
                description_key = intern(_dumps(text), stamp)
                schema.append([key, _DESCRIPTION])
            else:
                schema.append([key, place((key,), value)])
        refs = [intern(_dumps(values), stamp) if values else 0 for values in groups]
        head: list[Any] = [intern(_dumps(schema), stamp), refs]
        if description_key is not None:
            head.append(description_key)
        return (_sid_key(row["sid"]), intern(_dumps(row.get("workspace_sid")), stamp),
                intern(_dumps(row.get("event_type")), stamp), ms, _dumps(head + inline),
                *figure_columns(row, intern))

    # -- decoding (any reader) ----------------------------------------------------------------------------

    def blobs(self, db: sqlite3.Connection, ids: Iterable[int]) -> None:
        """Load the blobs not cached yet."""
        missing = sorted({i for i in ids if i and i not in self.values})
        found: dict[int, str] = {}
        for at in range(0, len(missing), 500):
            chunk = missing[at:at + 500]
            marks = ",".join("?" * len(chunk))
            found.update(db.execute(f"SELECT id, value FROM blobs WHERE id IN ({marks})", chunk).fetchall())
        with self.lock:
            if len(self.values) + len(found) > CACHE_LIMIT:
                self.values.clear()
            self.values.update((i, json.loads(text)) for i, text in found.items())

    def decode(self, db: sqlite3.Connection, rows: list[EventLogRow]) -> list[dict]:
        """(seq, sid, ws, type, ms, data) rows -> event dicts."""
        parsed = [(row, json.loads(row[5])) for row in rows]
        wanted: set[int] = set()
        for (_seq, _sid, ws, kind, _ms, _data), head in parsed:
            wanted.update((ws, kind, head[0], *head[1]))
            if len(head) > 2 and isinstance(head[2], int):
                wanted.add(head[2])
        values = self.values
        if any(i and i not in values for i in wanted):
            self.blobs(db, wanted)
            values = self.values
            if any(i and i not in values for i in wanted):  # cleared while loading: load again, uncached
                values = {**values, **{i: json.loads(t) for i, t in db.execute(
                    f"SELECT id, value FROM blobs WHERE id IN ({','.join('?' * len(wanted))})",
                    sorted(wanted)).fetchall()}}
        return [self._row(values, *row, head) for row, head in parsed]

    @staticmethod
    def _row(values: dict, seq: int, sid: bytes | str, ws: int, kind: int, ms: int | None, _data: str,
             head: list) -> dict:
        schema = values[head[0]]
        groups = [iter(values[ref]) if ref else iter(()) for ref in head[1]]
        uses_description = any(src == _DESCRIPTION for _key, src in schema)
        description: str = values[head[2]] if uses_description else ""  # read only if uses_description
        inline = iter(head[3:] if uses_description else head[2:])
        columns = {"sid": _sid_text(sid), "workspace_sid": values[ws], "event_type": values[kind], "event_date_ms": ms}
        row: dict[str, Any] = {}
        later = []
        for key, src in schema:
            if isinstance(src, list):
                row[key] = {k: next(inline) if s == _INLINE else next(groups[s]) for k, s in src}
            elif src == _INLINE:
                row[key] = next(inline)
            elif src == _DESCRIPTION:
                row[key] = None
                later.append(key)
            elif src == _DEFAULT:
                row[key] = columns[key] if key in _COLUMNS else None
                if key not in _COLUMNS:
                    later.append(key)
            else:
                row[key] = next(groups[src])
        for key in [k for k in _DEFAULTS if k in later]:
            row[key] = _DEFAULTS[key](row)
        if "description" in later:
            resource = row.get("resource_sid")
            row["description"] = description.replace("\0", resource) if isinstance(resource, str) and resource \
                else description
        row["_kind"], row["_seq"] = "event", seq
        return row


class EventSelection:
    """A selection of events (a WHERE clause of event_log), newest first, read only when asked: a page reads
    one more seq than it shows (is there a next page?) and decodes just its own events, so a page of a long
    history costs a page."""

    def __init__(self, store: Store, where: str, args: list[Any], *, exact: bool):
        self.store, self.where, self.args, self.exact = store, where, args, exact

    @classmethod
    def empty(cls, store: Store) -> EventSelection:
        return cls(store, "0", [], exact=True)

    def page_of(self, offset: int, size: int) -> tuple[list[dict], bool]:
        """(the events of this page, whether more follow)."""
        seqs = self.store.event_seqs(self.where, self.args, size + 1, offset)
        return self.store.events_by_seq(seqs[:size]), len(seqs) > size

    def all(self) -> list[dict]:
        return self.store.events_by_seq(self.store.event_seqs(self.where, self.args))
