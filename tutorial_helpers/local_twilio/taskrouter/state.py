"""In-memory state with write-through to SQLite, changed only in units of work.

Every API verb runs inside one unit of work: it changes rows through
`insert`/`update`/`delete`, and on success the changed rows are written to
SQLite in one transaction before anything is answered; on any exception the
rows are put back as they were, so a refused request leaves nothing
half-written. Work that must happen only after the commit (callbacks, timers)
is queued with `after_commit`.
"""

import bisect
import heapq
import itertools
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ..store import Store
from .statuses import ACTIVE_RESERVATION, OPEN_TASK

Row = dict

# Row kinds whose parent in the index is not the workspace.
_PARENT_FIELD = {"worker_channel": "worker_sid"}


def new_sid(prefix: str) -> str:
    """Two letters and 32 hex digits, like every Twilio SID."""
    return prefix + uuid.uuid4().hex


class UnitOfWork:
    def __init__(self) -> None:
        self.originals: dict[str, Row | None] = {}
        self.after: list[Callable[[], None]] = []
        self.at_commit: list[Callable[[], None]] = []
        self.outbox: list[dict] = []
        self.meta: dict[str, str] = {}
        self.events: list[Row] = []
        self.dropped_event_workspaces: list[str] = []
        self.accounts: list[tuple[str, dict | None]] = []


class State:
    def __init__(self, store: Store):
        self.store = store
        self.lock = threading.RLock()
        self.rows: dict[str, Row] = {}
        # (workspace or parent sid, kind) -> {sid: row}, in creation order.
        self.children: dict[tuple[str, str], dict[str, Row]] = defaultdict(dict)
        self.res_by_task: dict[str, dict[str, Row]] = defaultdict(dict)
        self.res_by_worker: dict[str, dict[str, Row]] = defaultdict(dict)
        # Routing indexes, so that matching never scans every task or worker (see _index_status).
        self.pending_res_by_task: dict[str, dict[str, Row]] = defaultdict(dict)
        self.active_res_by_worker: dict[str, dict[str, Row]] = defaultdict(dict)
        self.open_tasks_by_queue: dict[str, dict[str, Row]] = defaultdict(dict)
        self.idle_workers: dict[str, list[tuple]] = defaultdict(list)
        self.queue_heaps: dict[str, list[tuple]] = defaultdict(list)
        self._heap_keys: dict[str, tuple] = {}
        self._seq = itertools.count(1)
        self._uow: UnitOfWork | None = None
        last = 0
        for kind, seq, row in store.load():
            row["_kind"] = kind
            row["_seq"] = seq
            self._index(row)
            self.rows[row["sid"]] = row
            last = seq
        # Events share the sequence (it orders the Events list); they are not loaded, so ask the store.
        self._seq = itertools.count(max(last, store.last_event_seq()) + 1)

    # -- indexes -----------------------------------------------------------------

    def _parent(self, row: Row) -> str:
        return row.get(_PARENT_FIELD.get(row["_kind"], "workspace_sid")) or row["account_sid"]

    def _index(self, row: Row) -> None:
        self.children[(self._parent(row), row["_kind"])][row["sid"]] = row
        if row["_kind"] == "reservation":
            self.res_by_task[row["task_sid"]][row["sid"]] = row
            self.res_by_worker[row["worker_sid"]][row["sid"]] = row
        self._index_status(row)

    def _unindex(self, row: Row) -> None:
        self.children[(self._parent(row), row["_kind"])].pop(row["sid"], None)
        if row["_kind"] == "reservation":
            self.res_by_task[row["task_sid"]].pop(row["sid"], None)
            self.res_by_worker[row["worker_sid"]].pop(row["sid"], None)
        self._unindex_status(row)

    # Status indexes are pure functions of a row's fields, so `update` keeps them right by
    # unindexing before a change and indexing after it, and a rollback by re-indexing.

    @staticmethod
    def idle_key(worker: Row) -> tuple:
        """Longest idle first: the order a worker became available in."""
        return (worker["_status_changed_ts"], worker["_seq"], worker["sid"])

    @staticmethod
    def heap_key(task: Row) -> tuple:
        """A FIFO queue's order: higher priority first, then the oldest task (Twilio orders by the task's
        age, its VirtualStartTime when one was given, not by when it entered this queue)."""
        return (-task["priority"], task.get("_start_ts") or task["_created_ts"], task["_seq"], task["sid"])

    def _index_status(self, row: Row) -> None:
        kind, sid = row["_kind"], row["sid"]
        if kind == "reservation":
            status = row["reservation_status"]
            if status == "pending":
                self.pending_res_by_task[row["task_sid"]][sid] = row
            if status in ACTIVE_RESERVATION:
                self.active_res_by_worker[row["worker_sid"]][sid] = row
        elif kind == "worker":
            if row["available"]:
                bisect.insort(self.idle_workers[row["workspace_sid"]], self.idle_key(row))
        elif kind == "task":
            queue = row.get("task_queue_sid")
            if queue and row["assignment_status"] in OPEN_TASK and row.get("_filter") is not None:
                self.open_tasks_by_queue[queue][sid] = row
                key = (queue, self.heap_key(row))
                if self._heap_keys.get(sid) != key:
                    # Heaps are cleaned lazily: stale entries are dropped when they reach the top.
                    self._heap_keys[sid] = key
                    heapq.heappush(self.queue_heaps[queue], key[1])

    def _unindex_status(self, row: Row) -> None:
        kind, sid = row["_kind"], row["sid"]
        if kind == "reservation":
            self.pending_res_by_task[row["task_sid"]].pop(sid, None)
            self.active_res_by_worker[row["worker_sid"]].pop(sid, None)
        elif kind == "worker":
            if row["available"]:
                idle = self.idle_workers[row["workspace_sid"]]
                key = self.idle_key(row)
                at = bisect.bisect_left(idle, key)
                if at < len(idle) and idle[at] == key:
                    del idle[at]
        elif kind == "task":
            queue = row.get("task_queue_sid")
            if queue:
                self.open_tasks_by_queue[queue].pop(sid, None)

    def heap_entry_is_live(self, queue_sid: str, entry: tuple) -> bool:
        task = self.open_tasks_by_queue.get(queue_sid, {}).get(entry[-1])
        return task is not None and self.heap_key(task) == entry

    def drop_heap_entry(self, queue_sid: str, entry: tuple) -> None:
        """Forget a stale entry at the top of a queue's heap."""
        heapq.heappop(self.queue_heaps[queue_sid])
        if self._heap_keys.get(entry[-1]) == (queue_sid, entry):
            del self._heap_keys[entry[-1]]

    def of(self, parent_sid: str, kind: str) -> dict[str, Row]:
        return self.children.get((parent_sid, kind), {})

    # -- units of work -------------------------------------------------------------

    @contextmanager
    def unit(self) -> Iterator[UnitOfWork]:
        """One atomic change; nested calls join the outer unit."""
        with self.lock:
            if self._uow is not None:
                yield self._uow
                return
            uow = self._uow = UnitOfWork()
            try:
                yield uow
                self._commit(uow)
            except BaseException:
                self._rollback(uow)
                raise
            finally:
                self._uow = None
        for callback in uow.after:
            callback()

    def after_commit(self, callback: Callable[[], None]) -> None:
        assert self._uow is not None, "after_commit outside a unit of work"
        self._uow.after.append(callback)

    def queue_callback(self, kind: str, data: dict, send: Callable[[int, dict], None]) -> None:
        """A callback this unit makes due: written to the outbox with the unit, then `send(outbox_id, data)`
        once it is written, still under the lock (`send` only queues it and must not block). Handed on after
        the lock was let go, two units' callbacks could reach their sender in the other order than the units
        committed, and a workspace's event callbacks would arrive out of order."""
        assert self._uow is not None, "queue_callback outside a unit of work"
        entry = {"kind": kind, "data": data, "id": None}
        self._uow.outbox.append(entry)
        self._uow.at_commit.append(lambda: send(entry["id"], data))

    def at_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` once the unit is written, still under the lock: what it hands on (websocket frames)
        keeps the order in which the units committed. It must not block."""
        assert self._uow is not None, "at_commit outside a unit of work"
        self._uow.at_commit.append(callback)

    def set_meta(self, key: str, value: str) -> None:
        assert self._uow is not None
        self._uow.meta[key] = value

    def _commit(self, uow: UnitOfWork) -> None:
        upserts, deletes = [], []
        for sid in uow.originals:
            row = self.rows.get(sid)
            if row is None:
                deletes.append(sid)
            else:
                data = {k: v for k, v in row.items() if k not in ("_kind", "_seq")}
                upserts.append((sid, row["_kind"], row["_seq"], data))
        events = [
            (e["sid"], e["workspace_sid"], e["_seq"], {k: v for k, v in e.items() if k not in ("_kind", "_seq")})
            for e in uow.events
        ]
        if upserts or deletes or uow.meta or events or uow.dropped_event_workspaces or uow.outbox or uow.accounts:
            ids = self.store.write(upserts, deletes, uow.meta, events, uow.dropped_event_workspaces,
                                   outbox=[(entry["kind"], entry["data"]) for entry in uow.outbox],
                                   accounts=uow.accounts)
            for entry, outbox_id in zip(uow.outbox, ids, strict=True):
                entry["id"] = outbox_id
        for callback in uow.at_commit:
            callback()

    def _rollback(self, uow: UnitOfWork) -> None:
        touched: dict[int, dict[str, Row]] = {}
        for sid, original in uow.originals.items():
            current = self.rows.pop(sid, None)
            if current is not None:
                self._unindex(current)
            if original is not None:
                self.rows[sid] = original
                self._index(original)
                indexes = [self.children[(self._parent(original), original["_kind"])]]
                if original["_kind"] == "reservation":
                    indexes += [self.res_by_task[original["task_sid"]], self.res_by_worker[original["worker_sid"]]]
                touched.update((id(index), index) for index in indexes)
        # Re-indexing appends; lists are in creation order, so put restored rows back in place.
        for index in touched.values():
            ordered = sorted(index.values(), key=lambda row: row["_seq"])
            index.clear()
            index.update((row["sid"], row) for row in ordered)

    def _journal(self, row: Row) -> None:
        assert self._uow is not None, "state changed outside a unit of work"
        if row["sid"] not in self._uow.originals:
            self._uow.originals[row["sid"]] = dict(row)

    # -- the three ways to change state -------------------------------------------------

    def insert(self, kind: str, row: Row) -> Row:
        assert self._uow is not None, "state changed outside a unit of work"
        self._uow.originals.setdefault(row["sid"], None)
        row["_kind"] = kind
        row["_seq"] = next(self._seq)
        self.rows[row["sid"]] = row
        self._index(row)
        return row

    def append_event(self, row: Row) -> None:
        """Events are written with the unit but never kept in memory (see Store.events)."""
        assert self._uow is not None, "state changed outside a unit of work"
        row["_kind"] = "event"
        row["_seq"] = next(self._seq)
        self._uow.events.append(row)

    def drop_events(self, workspace_sid: str) -> None:
        assert self._uow is not None, "state changed outside a unit of work"
        self._uow.dropped_event_workspaces.append(workspace_sid)

    def store_account(self, sid: str, row: dict | None) -> None:
        """Write an account's row with this unit (None deletes it). Accounts are not rows of `self.rows`:
        the account registry (local_twilio/accounts/) keeps them, and updates itself at commit."""
        assert self._uow is not None, "state changed outside a unit of work"
        self._uow.accounts.append((sid, row))

    def update(self, row: Row, **changes: object) -> Row:
        """Change fields of a row; values must be replaced, never mutated in place."""
        self._journal(row)
        self._unindex_status(row)
        row.update(changes)
        self._index_status(row)
        return row

    def delete(self, row: Row) -> None:
        self._journal(row)
        self.rows.pop(row["sid"], None)
        self._unindex(row)
