"""In-memory state with write-through to SQLite, changed only in units of work.

Every API verb runs inside one unit of work: it changes rows through
`insert`/`update`/`delete`, and on success the changed rows are written to
SQLite in one transaction before anything is answered; on any exception the
rows are put back as they were, so a refused request leaves nothing
half-written. Work that must happen only after the commit (callbacks, timers)
is queued with `after_commit`.
"""

import itertools
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from .store import Store

Row = dict


class Index(Protocol):
    """A service's own index over the rows (TaskRouter's routing indexes), kept right by the State: a row is
    added when it is loaded, inserted or restored by a rollback, removed when deleted or rolled back, and
    removed then added again around each update."""

    def add(self, row: Row) -> None: ...
    def remove(self, row: Row) -> None: ...
    def add_status(self, row: Row) -> None: ...
    def remove_status(self, row: Row) -> None: ...
    def ordered(self, row: Row) -> list[dict[str, Row]]: ...

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
    def __init__(self, store: Store, indexes: Iterable[Index] = ()):
        self.store = store
        self.lock = threading.RLock()
        self.rows: dict[str, Row] = {}
        # (workspace or parent sid, kind) -> {sid: row}, in creation order.
        self.children: dict[tuple[str, str], dict[str, Row]] = defaultdict(dict)
        self.indexes = tuple(indexes)  # given before the rows load, so they see every row
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
        for index in self.indexes:
            index.add(row)

    def _unindex(self, row: Row) -> None:
        self.children[(self._parent(row), row["_kind"])].pop(row["sid"], None)
        for index in self.indexes:
            index.remove(row)

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
        entry: dict[str, Any] = {"kind": kind, "data": data, "id": None}  # the id is set at commit
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
                holders = [self.children[(self._parent(original), original["_kind"])]]
                for index in self.indexes:
                    holders += index.ordered(original)
                touched.update((id(holder), holder) for holder in holders)
        # Re-indexing appends; lists are in creation order, so put restored rows back in place.
        for holder in touched.values():
            ordered = sorted(holder.values(), key=lambda row: row["_seq"])
            holder.clear()
            holder.update((row["sid"], row) for row in ordered)

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
        for index in self.indexes:
            index.remove_status(row)
        row.update(changes)
        for index in self.indexes:
            index.add_status(row)
        return row

    def delete(self, row: Row) -> None:
        self._journal(row)
        self.rows.pop(row["sid"], None)
        self._unindex(row)
