"""Open worker sockets, and what is pushed to them.

`publish` runs inside the unit of work that records an event (EventsMixin._event):
it renders the frame from the rows as they are at that moment, and hands it to
the worker's sockets when the unit commits, still under the state lock
(`State.at_commit`), so every socket receives frames in commit order. Nothing
polls. Each socket's own thread (routes.py) sends what is queued and a blank
heartbeat frame when it has been quiet for HEARTBEAT_SECONDS.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterable
from typing import Any

from ..core.state import Row
from ..taskrouter.models import Backend
from . import wire
from .tokens import Grant

HEARTBEAT_SECONDS = 10.0  # the SDK's watchdog gives up after 30 s of silence
CLOSE = object()
# A task event concerns the workers whose reservation for it has not ended without them.
ENDED_WITHOUT_WORKER = ("rejected", "timeout", "canceled", "rescinded")


class Connection:
    """One open socket: a worker page's (with its grant), or a notebook's workspace feed (no grant)."""

    def __init__(self, grant: Grant | None):
        self.grant = grant
        self.frames: queue.Queue[Any] = queue.Queue()
        self.closed_by_server: str | None = None

    def close(self, why: str) -> None:
        self.closed_by_server = why
        self.frames.put(CLOSE)


class Hub:
    def __init__(self, backend: Backend):
        self.backend = backend
        self._lock = threading.Lock()
        self._by_worker: dict[str, list[Connection]] = {}
        self._by_workspace: dict[str, list[Connection]] = {}

    # ------------------------------------------------------------------ sockets

    def open(self, grant: Grant, close_existing: bool) -> Connection:
        conn = Connection(grant)
        with self._lock:
            others = self._by_worker.setdefault(grant.worker_sid, [])
            if close_existing:
                for other in others:
                    other.close("closed: a newer session for this worker asked to close existing sessions")
                others.clear()
            others.append(conn)
        return conn

    def open_feed(self, workspace_sid: str) -> Connection:
        """The notebook widgets' feed: a line per event of the workspace, so they refresh instead of polling."""
        conn = Connection(None)
        with self._lock:
            self._by_workspace.setdefault(workspace_sid, []).append(conn)
        return conn

    def forget(self, conn: Connection) -> None:
        with self._lock:
            for group in (*self._by_worker.values(), *self._by_workspace.values()):
                if conn in group:
                    group.remove(conn)

    def connections(self, worker_sid: str | None = None) -> list[Connection]:
        with self._lock:
            if worker_sid is not None:
                return list(self._by_worker.get(worker_sid, []))
            return [c for conns in (*self._by_worker.values(), *self._by_workspace.values()) for c in conns]

    def end_sessions(self, why: str, workers: Iterable[str]) -> None:
        """Called in the unit of work that deletes these workers (or their workspace, or their account): when it
        commits, their sockets get what is queued and then a close with `why`, so a page kept open on a deleted
        worker does not sit on a socket that will never carry anything again. (A notebook's workspace feed is
        left open: its widgets stop on their own, and a closed feed would retry.)"""
        workers = list(workers)

        def close() -> None:
            with self._lock:
                conns = [c for sid in workers for c in self._by_worker.get(sid, [])]
            for conn in conns:
                conn.close(why)

        self.backend.state.at_commit(close)

    def close_all(self) -> None:
        for conn in self.connections():
            conn.close("the local server is stopping")

    def init_frame(self, grant: Grant) -> str:
        lifetime_ms = max(0, int((grant.expires_at - self.backend.now()) * 1000))
        return json.dumps({"event_type": "init", "payload": {
            "channel_id": grant.worker_sid, "account_sid": grant.account_sid,
            "workspace_sid": grant.workspace_sid, "token_lifetime": lifetime_ms}})

    # ------------------------------------------------------------------ events

    def publish(self, event: Row, resource: Row) -> None:
        """Called in the unit of work that records `event`; the frame goes out when that unit commits."""
        with self._lock:
            if not self._by_worker and not self._by_workspace:
                return
            feeds = list(self._by_workspace.get(event["workspace_sid"], []))
        if feeds:
            line = json.dumps({"event_type": event["event_type"], "resource_sid": event["resource_sid"],
                               "sid": event["sid"]})
            self.backend.state.at_commit(lambda: [c.frames.put(line) for c in feeds])
        targets = self._workers_concerned(event, resource)
        if not targets:
            return
        frame = json.dumps({"event_type": event["event_type"], "payload": self._payload(event, resource)})
        conns = [c for sid in targets for c in self.connections(sid)]
        if conns:
            self.backend.state.at_commit(lambda: [c.frames.put(frame) for c in conns])

    def _workers_concerned(self, event: Row, resource: Row) -> list[str]:
        kind = resource["_kind"]
        if kind == "worker":
            return [resource["sid"]]
        if kind == "reservation":
            return [resource["worker_sid"]]
        if kind == "worker_channel":
            return [resource["worker_sid"]]
        if kind == "task":
            reservations = self.backend.indexes.res_by_task.get(resource["sid"], {}).values()
            return sorted({r["worker_sid"] for r in reservations
                           if r["reservation_status"] not in ENDED_WITHOUT_WORKER})
        return []

    def _payload(self, event: Row, resource: Row) -> dict[str, Any]:
        kind = resource["_kind"]
        if kind == "worker":
            return wire.worker(resource)
        if kind == "reservation":
            return wire.reservation(self.backend, resource)
        if kind == "worker_channel":
            return wire.channel(self.backend, resource)
        return wire.task(self.backend, resource)
