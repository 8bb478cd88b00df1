"""What every resource module shares: the state it works on, lookups, stamps, ETags, timers, validators.

The webhook URL rule is not here: the voice side shares it (`local_twilio/core/validators.py`).

`BackendBase` declares the shared state with its types; the resource modules
are mixins over it, and `Backend` (models/__init__.py) composes them. Every
verb runs in one unit of work (`state.unit()`), so it happens entirely or not
at all; callbacks and timers start only after the unit commits.
"""

import json
from abc import abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ...core.clock import Clock, iso
from ...core.exceptions import Duplicate, InvalidParameter, NotFound, PreconditionFailed
from ...core.ports import EventBridgePort, VoicePort
from ...core.state import Row, State
from ...core.store import Store
from ...core.timers import Timers
from ..expressions import ExpressionError, compile_expression
from ..indexes import RoutingIndexes
from ..routing import WorkflowConfig

MAX_ATTRIBUTES_CHARS = 4096
MAX_ATTRIBUTES_DEPTH = 100  # local safety limit, not one of Twilio's documented limits
MAX_FRIENDLY_NAME = 64
MAX_WORKERS = 15_000
MAX_TASK_QUEUES = 5_000
MAX_ASSIGNMENT_ATTEMPTS = 1_000
TERMINAL_TASK_RETENTION = 300  # terminal tasks disappear 5 minutes later
LAST_REPRESENTABLE_TIME = 253_402_300_799 - 10 * 366 * 86_400  # 9999-12-31, minus room for timers


class BackendBase:
    """The shared state of one local TaskRouter, and the helpers every resource module uses."""

    state: State
    indexes: RoutingIndexes
    clock: Clock
    timers: Timers
    accounts: dict[str, str]
    # The seams, wired by server.py only (core/ports.py): the callback dispatcher's assignment(workflow,
    # reservation, params, outbox_id) and event(workspace, event, outbox_id), the outbox id marked done once the
    # callback is settled; the voice side, which carries out dequeue, call, redirect and conference; EventBridge's
    # hub, which pushes each event to the worker pages it concerns. Without them (the app factory's own tests)
    # callbacks are not sent, voice instructions are refused and no page is told.
    on_assignment: Callable[[Row, Row, dict, int | None], None]
    on_event: Callable[[Row, Row, int | None], None]
    voice: VoicePort | None
    eventbridge: EventBridgePort | None
    # workflow sid -> (configuration text, parsed): filled by workflows.py (`config`), pruned when a workspace
    # is deleted (workspaces.py).
    _configs: dict[str, tuple[str, WorkflowConfig]]

    # What one resource module calls of another, declared here with its real signature, so each module is
    # type-checked on its own and never "expects the attributes of" another class. The declarations exist for
    # the type checker only (`if TYPE_CHECKING:`): at run time BackendBase stays a plain class and every call
    # reaches the one implementation, through Backend's MRO, as before. They are abstract rather than bodies
    # that raise: mypy checks each module's definition against its declaration (an incompatible override is an
    # error), refuses to instantiate a Backend that lacks one (`Backend(...)` in server.py), and no stub can be
    # reached by mistake at run time.
    if TYPE_CHECKING:
        # events.py
        @abstractmethod
        def _event(self, ws: Row, event_type: str, resource: Row, description: str,
                   data: dict[str, Any]) -> None: ...
        @abstractmethod
        def task_data(self, task: Row) -> dict[str, Any]: ...
        @abstractmethod
        def worker_data(self, worker: Row, previous: Row | None = None) -> dict[str, Any]: ...
        @abstractmethod
        def reservation_data(self, task: Row, worker: Row | None, res: Row) -> dict[str, Any]: ...
        @abstractmethod
        def task_age(self, task: Row) -> int: ...

        # matching.py
        @abstractmethod
        def _route(self, ws: Row, task: Row, reason: str | None = None, offer: bool = True) -> None: ...
        @abstractmethod
        def _enter_target(self, ws: Row, task: Row, filter_index: int, target_index: int,
                          offer: bool = True) -> None: ...
        @abstractmethod
        def _offer_task(self, ws: Row, task: Row) -> None: ...
        @abstractmethod
        def _offer_worker(self, worker: Row) -> None: ...
        @abstractmethod
        def _offer_queue(self, ws: Row, queue: Row) -> None: ...
        @abstractmethod
        def _workers_changed(self, ws_sid: str) -> None: ...
        @abstractmethod
        def _pending_reservations_of(self, worker: Row) -> list[Row]: ...

        # reservations.py
        @abstractmethod
        def _reserve(self, ws: Row, task: Row, worker: Row, queue: Row) -> None: ...
        @abstractmethod
        def _reject(self, ws: Row, res: Row, activity: Row | None, keep_activity: bool = False) -> None: ...
        @abstractmethod
        def _end_reservation(self, ws: Row, res: Row, status: str, event: str, reoffer: bool = True) -> None: ...
        @abstractmethod
        def _after_reservation_ended(self, ws: Row, task: Row, worker: Row | None) -> None: ...
        @abstractmethod
        def _set_accepted_reservation(self, ws: Row, task: Row, status: str, event: str) -> None: ...

        # tasks.py
        @abstractmethod
        def _change_status(self, ws: Row, task: Row, new: str, reason: str | None) -> None: ...
        @abstractmethod
        def _cancel_task(self, ws: Row, task: Row, reason: str) -> None: ...
        @abstractmethod
        def _target_timed_out(self, ws_sid: str, task_sid: str) -> None: ...

        # workers.py
        @abstractmethod
        def _set_activity(self, ws: Row, worker: Row, activity: Row) -> None: ...
        @abstractmethod
        def _insert_worker_channel(self, worker: Row, channel: Row) -> Row: ...

        # workspaces.py
        @abstractmethod
        def task_channel(self, ws_sid: str, sid_or_name: str) -> Row: ...

        # task_queues.py
        @abstractmethod
        def _insert_queue(self, ws: Row, name: str, target_workers: str, reservation_activity: Row | None,
                          assignment_activity: Row | None, max_reserved_workers: int, task_order: str) -> Row: ...

        # workflows.py
        @abstractmethod
        def config(self, workflow: Row) -> WorkflowConfig: ...
        @abstractmethod
        def _insert_workflow(self, ws: Row, name: str, configuration: str, callback: str | None,
                             fallback: str | None, timeout: int) -> Row: ...

    def __init__(self, store: Store, clock: Clock, timers: Timers, accounts: dict[str, str]):
        self.indexes = RoutingIndexes()
        self.state = State(store, [self.indexes])
        self.clock = clock
        self.timers = timers
        self.accounts = accounts
        self.on_assignment = lambda *a: None
        self.on_event = lambda *a: None
        self.voice = None
        self.eventbridge = None

    def now(self) -> float:
        return self.clock.now()

    @property
    def clock_offset(self) -> float:
        return self.clock.offset

    def row(self, kind: str, sid: str) -> Row | None:
        """A resource by SID if it is of that kind (TaskRouterPort: how the voice side reads TaskRouter's rows)."""
        found = self.state.rows.get(sid)
        return found if found is not None and found["_kind"] == kind else None

    def _stamp(self) -> dict:
        now = iso(self.now())
        return {"date_created": now, "date_updated": now}

    def _touch(self, row: Row, **changes: Any) -> Row:
        return self.state.update(row, date_updated=iso(self.now()), **changes)

    def _bump(self, row: Row, **changes: Any) -> Row:
        """Update a row that carries an ETag (task, worker, reservation)."""
        return self._touch(row, _version=row.get("_version", 0) + 1, **changes)

    def workspace(self, account_sid: str, ws_sid: str) -> Row:
        row = self.state.rows.get(ws_sid)
        if not row or row["_kind"] != "workspace" or row["account_sid"] != account_sid:
            raise NotFound(f"/Workspaces/{ws_sid}")
        return row

    def child(self, account_sid: str, ws_sid: str, kind: str, sid: str, path: str) -> Row:
        self.workspace(account_sid, ws_sid)
        row = self.state.rows.get(sid)
        if not row or row["_kind"] != kind or row.get("workspace_sid") != ws_sid:
            raise NotFound(f"/Workspaces/{ws_sid}/{path}/{sid}")
        return row

    def children(self, account_sid: str, ws_sid: str, kind: str) -> list[Row]:
        self.workspace(account_sid, ws_sid)
        return list(self.state.of(ws_sid, kind).values())

    def _activity(self, ws: Row, sid: str | None, what: str) -> Row:
        row = self.state.rows.get(sid or "")
        if not row or row["_kind"] != "activity" or row["workspace_sid"] != ws["sid"]:
            raise InvalidParameter(f"{what} {sid!r} is not an Activity of this Workspace")
        return row

    @staticmethod
    def check_etag(row: Row, if_match: str | None) -> None:
        if if_match is not None and if_match.strip('"') != etag(row):
            raise PreconditionFailed(etag(row), if_match)

    def _unique_name(self, ws_sid: str, kind: str, name: str, what: str, skip: str = "") -> None:
        lowered = name.lower()
        for row in self.state.of(ws_sid, kind).values():
            if row["friendly_name"].lower() == lowered and row["sid"] != skip:
                raise Duplicate(
                    f"{what} named {name} already exists for workspace {ws_sid}"
                )

    def _schedule(self, due: float | None, handler: Callable[[str, str], None], ws_sid: str,
                  sid: str) -> None:
        """Call handler(ws_sid, sid) at `due` on the one clock, once this unit of work commits."""
        if due is not None:
            self.state.after_commit(lambda: self.timers.schedule(due, lambda: handler(ws_sid, sid)))

    def advance_clock(self, seconds: float) -> float:
        """Move the one clock forward; every timer that becomes due fires before this returns."""
        if seconds < 0:
            raise InvalidParameter("AdvanceSeconds must be a non-negative integer: the clock only moves forward")
        if self.now() + seconds > LAST_REPRESENTABLE_TIME:
            # Past year 9999 no date can be written, so every later request would fail.
            raise InvalidParameter(f"AdvanceSeconds {seconds:g} would move the clock past 9999-12-31")
        with self.state.unit():
            offset = self.clock.offset + seconds
            self.state.set_meta("clock_offset", repr(offset))
        self.clock.advance(seconds)
        self.timers.wait_idle()
        return offset


def _depth(value: Any) -> int:
    """How deeply containers nest, measured without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        for child in children:
            if isinstance(child, dict | list):
                stack.append((child, level + 1))
        deepest = max(deepest, level)
    return deepest


def json_object(text: str, what: str, limit: int = MAX_ATTRIBUTES_CHARS) -> dict:
    if len(text) > limit:
        raise InvalidParameter(f"{what} is longer than {limit} characters")
    try:
        value = json.loads(text)
    except ValueError:
        raise InvalidParameter(f"{what} must be a JSON object, got {text[:80]!r}") from None
    except RecursionError:  # json refuses very deep nesting this way; it is bad input, not a bug
        raise InvalidParameter(f"{what} is nested more than {MAX_ATTRIBUTES_DEPTH} levels deep") from None
    if not isinstance(value, dict):
        raise InvalidParameter(f"{what} must be a JSON object, got {text[:80]!r}")
    if _depth(value) > MAX_ATTRIBUTES_DEPTH:
        # Parsed attributes are stored (json.dumps) and walked by expressions, both recursively;
        # near Python's recursion limit that would fail later, on some other request, as a 500.
        raise InvalidParameter(f"{what} is nested more than {MAX_ATTRIBUTES_DEPTH} levels deep")
    return value


def valid_friendly_name(value: str | None, what: str = "FriendlyName", required: bool = True) -> str:
    if value is None or not value.strip():
        if required:
            raise InvalidParameter(f"{what} is required")
        return value or ""
    if len(value) > MAX_FRIENDLY_NAME:
        raise InvalidParameter(f"{what} is longer than {MAX_FRIENDLY_NAME} characters")
    return value


def valid_expression(text: str, what: str) -> None:
    try:
        compile_expression(text)
    except ExpressionError as exc:
        raise InvalidParameter(f"{what}: {exc}") from None


def bind(handler: Callable[[str, str], None], a: str, b: str) -> Callable[[], None]:
    return lambda: handler(a, b)


def etag(row: Row) -> str:
    return str(row.get("_version", 0))


def resource_path(row: Row) -> str:
    """The resource's path under /v1 (reservations: the task path)."""
    ws = row.get("workspace_sid")
    kind = row["_kind"]
    return {
        "workspace": lambda: f"/Workspaces/{row['sid']}",
        "activity": lambda: f"/Workspaces/{ws}/Activities/{row['sid']}",
        "task_channel": lambda: f"/Workspaces/{ws}/TaskChannels/{row['sid']}",
        "worker": lambda: f"/Workspaces/{ws}/Workers/{row['sid']}",
        "worker_channel": lambda: f"/Workspaces/{ws}/Workers/{row['worker_sid']}/Channels/{row['sid']}",
        "task_queue": lambda: f"/Workspaces/{ws}/TaskQueues/{row['sid']}",
        "workflow": lambda: f"/Workspaces/{ws}/Workflows/{row['sid']}",
        "task": lambda: f"/Workspaces/{ws}/Tasks/{row['sid']}",
        "reservation": lambda: f"/Workspaces/{ws}/Tasks/{row['task_sid']}/Reservations/{row['sid']}",
        "event": lambda: f"/Workspaces/{ws}/Events/{row['sid']}",
    }[kind]()
