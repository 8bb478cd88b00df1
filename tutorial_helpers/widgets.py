"""Live widgets for the notebooks: change a worker's activity, watch a task, inspect callbacks.

    controls = WorkerActivityControls(client, quickstart)   # Alice and Bob, one button per activity
    status = TaskStatusView(client, quickstart, task.sid)    # task, reservation, workers, live
    inspector = CallbackInspector(server.log)                # what TaskRouter sent, what we answered
    display(controls, status, inspector)

Background threads only set widget traits (a thread's print() is lost in
JupyterLab with ipykernel 7). In local mode the two live widgets follow the
local TaskRouter's event feed (`/_local/Events/stream`, the events EventBridge
pushes to worker pages): they read again when an event of their workspace
commits, and otherwise only every 10 s as a safety net. In twilio mode
(`client.mode_of`, even with a stand-in for Twilio), as Twilio has no such feed
for a notebook, they poll every second. Both stop after
20 minutes without a change; the inspector follows the CallbackLog without
polling. Re-running a cell replaces the previous widget of the same kind,
which stops updating and says so. The inspector shows only the callbacks for
the task it was made for, so a re-run does not show the previous run's.

Errors say in one sentence what happened and what to do, and wrap inside the
widget. After a kernel restart the frontend marks every widget
disconnected; a CSS rule each widget carries then says so in words, since no
Python runs for a dead kernel's widgets.

Stable CSS classes for the browser tests: `tr-worker-controls`,
`tr-worker-alice` / `tr-worker-bob` (one row each: name, buttons, status
label), `tr-task-status` (inside: `tr-assignment-status`,
`tr-reservation-status`, `tr-activity-alice`, `tr-status-path`) and
`tr-callback-inspector` (inside: `tr-callback-answer`).

Headless runs (the tests, `make bench`) click with
`WorkerActivityControls.autopilot()`, in a cell that `tutorial_helpers.headless`
inserts: the notebooks themselves carry no such line.
"""

from __future__ import annotations

import base64
import html
import json
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import ipywidgets as widgets
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from tutorial_helpers.callback_server import CallbackEntry, CallbackLog
from tutorial_helpers.client import clone_client, mode_of
from tutorial_helpers.statuses import FINISHED_TASK
from tutorial_helpers.workspace import ACTIVITIES, CALLBACK_PATH, QuickstartWorkspace

LOCAL_INTERVAL = 10.0  # with the local event feed waking them, this is only a safety net
TWILIO_INTERVAL = 1.0
FEED_PATH = "/_local/Events/stream"
FEED_RETRY_SECONDS = 2.0
MAX_IDLE_SECONDS = 20 * 60
# Poll this long after creation even if the frontend has not reported a view yet.
FIRST_VIEW_GRACE = 10.0
# Task status implied by each event type, to show the path a task took between two polls.
EVENT_STATUS = {
    "task.created": "pending",
    "reservation.created": "reserved",
    "reservation.accepted": "assigned",
    "reservation.rejected": "pending",
    "reservation.timeout": "pending",
    "reservation.canceled": "pending",
    "reservation.rescinded": "pending",
    "task.canceled": "canceled",
    "task.wrapup": "wrapping",
    "task.completed": "completed",
}
TWILIO_DEFAULT_ACTIVITIES = ("Available", "Unavailable")  # with Offline, what every new Workspace starts with
# Shown by the frontend alone: after a restart, nothing in Python can update these widgets.
STYLE = """<style>
.tr-live.jupyter-widgets-disconnected::after {
  content: "The kernel was restarted (or stopped), so this widget no longer reaches it: \
run the notebook from the top (Run > Run All Cells).";
  display: block; color: #b00; font-weight: bold; white-space: normal; margin: 4px 0;
}
.tr-live.jupyter-widgets-disconnected::before, .tr-live .jupyter-widgets-disconnected::before {
  content: none; display: none;
}
.tr-live .tr-note, .tr-live .tr-error { white-space: normal; overflow-wrap: anywhere; max-width: 60em; }
</style>"""

_current: dict[str, Any] = {}
_current_lock = threading.Lock()


def _replace_current(kind: str, widget: Any) -> None:
    with _current_lock:
        previous = _current.get(kind)
        _current[kind] = widget
    if previous is not None and previous is not widget:
        previous.stop("replaced by the newer copy from the cell's latest run")


def http_status(exc: BaseException) -> int | None:
    """The HTTP status behind an SDK error: TwilioRestException, or a list page that failed."""
    if isinstance(exc, TwilioRestException):
        return exc.status
    if isinstance(exc, TwilioException) and len(exc.args) > 1:
        return getattr(exc.args[1], "status_code", None)  # TwilioException("Unable to fetch page", response)
    return None


def explain(exc: BaseException, workspace: Any | None = None, what: str = "this resource") -> str:
    """One sentence for the learner: what happened, and what to do about it.

    A 404 is told apart by asking whether the workspace itself still exists:
    start over deletes the workspace, while TaskRouter deletes finished tasks
    on its own after a while.
    """
    status = http_status(exc)
    if status == 404:
        if workspace is not None and _gone(workspace):
            return ("This workspace was deleted (start over): run notebook 01 to build it again, then this "
                    "notebook from the top.")
        return f"TaskRouter no longer has {what}: run the notebook again from the cell that created it."
    if status is not None:
        message = exc.msg if isinstance(exc, TwilioRestException) else "the request failed"
        return f"TaskRouter answered HTTP {status}: {message}"
    if isinstance(exc, OSError):  # requests' connection errors included
        return ("TaskRouter did not answer: is it still running? Run this notebook's first cell again "
                "(in local mode it starts the local TaskRouter).")
    return f"{type(exc).__name__}: {exc}"


def _gone(workspace: Any) -> bool:
    try:
        workspace.fetch()
    except (TwilioException, OSError) as exc:
        return http_status(exc) == 404
    return False


class EventFeed:
    """The local TaskRouter's event feed for one workspace, shared by every widget of the kernel that follows it.

    One socket per workspace; each event wakes every subscribed widget (a threading.Event each). If the feed
    cannot be reached (an older server), the widgets' interval still brings them up to date.
    """

    _feeds: dict[tuple[str, str], EventFeed] = {}
    _feeds_lock = threading.Lock()

    def __init__(self, client: Client, workspace_sid: str) -> None:
        base = client.taskrouter.base_url
        self.url = "ws" + base.removeprefix("http") + f"{FEED_PATH}?WorkspaceSid={workspace_sid}"
        token = f"{client.username}:{client.password}".encode()
        self._headers = {"Authorization": "Basic " + base64.b64encode(token).decode()}
        self._subscribers: list[threading.Event] = []
        self._lock = threading.Lock()
        self.connected = threading.Event()
        threading.Thread(target=self._run, name=f"event-feed-{workspace_sid[:8]}", daemon=True).start()

    @classmethod
    def for_workspace(cls, client: Client, workspace_sid: str) -> EventFeed | None:
        if mode_of(client) != "local":  # twilio mode polls, whoever plays Twilio (TWILIO_API_BASE_URL)
            return None
        key = (client.taskrouter.base_url, workspace_sid)
        with cls._feeds_lock:
            feed = cls._feeds.get(key)
            if feed is None:
                feed = cls._feeds[key] = cls(client, workspace_sid)
            return feed

    def subscribe(self) -> threading.Event:
        wake = threading.Event()
        with self._lock:
            self._subscribers.append(wake)
        return wake

    def unsubscribe(self, wake: threading.Event) -> None:
        with self._lock:
            if wake in self._subscribers:
                self._subscribers.remove(wake)

    def _run(self) -> None:
        from tutorial_helpers.socket_client import connect

        while True:
            try:
                socket = connect(self.url, headers=self._headers)
            except Exception:  # the server is restarting, or too old to have a feed: the interval covers it
                time.sleep(FEED_RETRY_SECONDS)
                continue
            self.connected.set()
            try:
                while (frame := socket.receive()) is not None:
                    if frame.strip():
                        with self._lock:
                            for wake in self._subscribers:
                                wake.set()
            except Exception:
                pass
            finally:
                self.connected.clear()
                try:
                    socket.close()
                except Exception:
                    pass
            time.sleep(FEED_RETRY_SECONDS)


class _Poller:
    """Calls `step()` every `interval` seconds in a daemon thread while `active()` says so, and at once
    whenever `wake` is set (an event of the workspace arrived on the local feed).

    `step()` returns True when it saw a change; after `max_idle` seconds
    without one the poller stops and calls `on_stop(reason)`.
    """

    def __init__(
        self,
        name: str,
        interval: float,
        step: Callable[[], bool],
        active: Callable[[], bool],
        on_error: Callable[[BaseException], None],
        on_stop: Callable[[str], None],
        max_idle: float = MAX_IDLE_SECONDS,
        wake: threading.Event | None = None,
    ) -> None:
        self.interval = interval
        self._wake = wake
        self._step, self._active, self._on_error, self._on_stop = step, active, on_error, on_stop
        self._max_idle = max_idle
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._wake is not None:
            self._wake.set()

    def _wait(self) -> bool:
        """Wait for the next look; True when stopped."""
        if self._wake is None:
            return self._stop.wait(self.interval)
        self._wake.wait(self.interval)
        self._wake.clear()
        return self._stop.is_set()

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and not self._stop.is_set()

    def _run(self) -> None:
        last_change = time.monotonic()
        while not self._wait():
            if not self._active():
                continue
            try:
                if self._step():
                    last_change = time.monotonic()
            except Exception as exc:  # never let the thread die silently
                self._on_error(exc)
                if http_status(exc) == 404:  # deleted (start over) or purged: nothing more to watch
                    self._stop.set()
                    self._on_stop("stopped watching.")
                    return
            if time.monotonic() - last_change > self._max_idle:
                self._stop.set()
                minutes = round(self._max_idle / 60)
                self._on_stop(f"stopped watching after {minutes} minutes without a change; run the cell again")


class _LiveBox(widgets.VBox):
    """A VBox that polls while a frontend displays it."""

    kind = "live"

    def _start_polling(self, client: Client, interval: float | None, poll: bool) -> None:
        self.add_class("tr-live")
        self._created = time.monotonic()
        self._view_count = 0  # ask the frontend to count its views of this widget
        feed = EventFeed.for_workspace(client, self.quickstart.workspace_sid)
        self._feed, self._wake = feed, feed.subscribe() if feed is not None else None
        if interval is None:
            interval = TWILIO_INTERVAL if feed is None else LOCAL_INTERVAL
        self._poller = _Poller(
            f"{self.kind}-poller", interval, self._poll_step, self._visible, self._show_error, self.stop,
            wake=self._wake,
        )
        _replace_current(self.kind, self)
        if poll:
            self._poller.start()

    def _visible(self) -> bool:
        views = self._view_count
        return views is None or views > 0 or time.monotonic() - self._created < FIRST_VIEW_GRACE

    @property
    def polling(self) -> bool:
        return self._poller.running

    def stop(self, reason: str = "stopped") -> None:
        """Stop updating; the widget keeps its last state and says why."""
        self._poller.stop()
        self._show_note(reason)

    def close(self) -> None:
        poller = getattr(self, "_poller", None)
        if poller is not None:
            poller.stop()
        if getattr(self, "_feed", None) is not None and self._wake is not None:
            self._feed.unsubscribe(self._wake)
        super().close()

    def _poll_step(self) -> bool:  # pragma: no cover - overridden
        raise NotImplementedError

    def _show_error(self, exc: BaseException) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _show_note(self, text: str) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


class WorkerActivityControls(_LiveBox):
    """One row per worker: its name, a button per activity (click to change it), a status line.

    A click calls `workers(sid).update(activity_sid=...)` through the SDK; the
    buttons follow changes TaskRouter makes itself (Reserved, Busy) by polling.
    """

    kind = "worker-controls"

    def __init__(
        self,
        client: Client,
        quickstart: QuickstartWorkspace,
        workers: Iterable[str] = ("Alice", "Bob"),
        *,
        interval: float | None = None,
        poll: bool = True,
    ) -> None:
        self.client = client
        self.quickstart = quickstart
        self._ws = client.taskrouter.v1.workspaces(quickstart.workspace_sid)
        self._poll_ws = clone_client(client).taskrouter.v1.workspaces(quickstart.workspace_sid)
        activities = self._ws.activities.list()
        order = list(ACTIVITIES)
        activities.sort(key=lambda a: (order.index(a.friendly_name) if a.friendly_name in order else len(order)))
        self.activity_sids = {a.friendly_name: a.sid for a in activities}
        self.available = {a.friendly_name: a.available for a in activities}
        self._guard = threading.local()  # set while *we* change a button, so it is not a click
        self._clicks = 0
        self._lock = threading.Lock()
        self.buttons: dict[str, widgets.ToggleButtons] = {}
        self.labels: dict[str, widgets.Label] = {}
        self.note = widgets.HTML("")
        self.note.add_class("tr-note")
        rows = []
        current = {w.friendly_name: w for w in self._ws.workers.list()}
        for name in workers:
            worker = current.get(name)
            if worker is None:
                raise ValueError(f"The workspace has no worker named {name!r}; run notebook 01 first.")
            buttons = widgets.ToggleButtons(
                options=list(self.activity_sids),
                value=worker.activity_name,
                tooltips=[("available" if self.available[n] else "not available") for n in self.activity_sids],
                style={"button_width": "auto"},
            )
            buttons.add_class(f"tr-worker-{name.lower()}-buttons")
            buttons.observe(self._clicked(name), names="value")
            label = widgets.Label(self._describe(name, worker.activity_name))
            label.add_class("tr-worker-status")
            name_label = widgets.Label(name, layout=widgets.Layout(width="4em"))
            name_label.add_class("tr-worker-name")
            row = widgets.HBox([name_label, buttons, label])
            row.add_class(f"tr-worker-{name.lower()}")
            self.buttons[name], self.labels[name] = buttons, label
            rows.append(row)
        self.worker_sids = {name: current[name].sid for name in self.buttons}
        legend = widgets.HTML(self._legend())
        legend.add_class("tr-legend")
        super().__init__(rows + [legend, self.note, widgets.HTML(STYLE)])
        self.add_class("tr-worker-controls")
        self._start_polling(client, interval, poll)

    def _legend(self) -> str:
        # Twilio creates these with every Workspace; the quickstart uses Idle and Offline instead.
        names = [n for n in self.activity_sids if n in TWILIO_DEFAULT_ACTIVITIES]
        if not names:
            return ""
        return (f"<small><i>{' and '.join(html.escape(n) for n in names)}: activities every new Workspace "
                "starts with; the quickstart does not use them.</i></small>")

    def _describe(self, name: str, activity: str | None) -> str:
        availability = "available" if self.available.get(activity or "") else "not available"
        return f"{name} is {activity} ({availability})"

    def _clicked(self, name: str) -> Callable[[dict], None]:
        def on_change(change: dict) -> None:
            if getattr(self._guard, "active", False):
                return
            with self._lock:
                self._clicks += 1
            try:
                self.set_activity(name, change["new"], previous=change["old"])
            finally:
                with self._lock:  # a poll that read while the update was in flight is discarded
                    self._clicks += 1

        return on_change

    def set_activity(self, name: str, activity: str, previous: str | None = None) -> bool:
        """What a click does: the SDK call that moves the worker; True if TaskRouter accepted it."""
        label = self.labels[name]
        try:
            worker = self._ws.workers(self.worker_sids[name]).update(activity_sid=self.activity_sids[activity])
        except (TwilioException, OSError) as exc:
            label.value = f"Could not move {name} to {activity} (why: below)."
            self.note.value = (f"<span class='tr-error' style='color:#b00'>Could not move {html.escape(name)} to "
                               f"{html.escape(activity)}. {html.escape(explain(exc, self._ws, name))}</span>")
            if previous is not None:
                self._show_activity(name, previous, keep_label=True)
            return False
        self._show_activity(name, worker.activity_name)
        if "tr-error" in self.note.value:
            self.note.value = ""
        return True

    def _show_activity(self, name: str, activity: str | None, keep_label: bool = False) -> None:
        buttons = self.buttons[name]
        if activity in self.activity_sids and buttons.value != activity:
            self._guard.active = True
            try:
                buttons.value = activity
            finally:
                self._guard.active = False
        if not keep_label:
            self.labels[name].value = self._describe(name, activity)

    def autopilot(self, name: str, activity: str) -> bool:
        """For headless runs: click `activity` for `name`, exactly as the learner would.

        Clicks only while the worker is Offline, where the notebook put her, so a
        re-run cell does not click again. Returns True if it clicked.
        """
        if self.current_activity(name) != "Offline":
            return False
        self.buttons[name].value = activity  # exactly what a click does
        return True

    def current_activity(self, name: str) -> str:
        """`name`'s activity as TaskRouter has it now (the buttons follow it too)."""
        worker = self._ws.workers(self.worker_sids[name]).fetch()
        self._show_activity(name, worker.activity_name)
        return worker.activity_name

    def refresh(self) -> bool:
        """Read the workers' activities from TaskRouter; True if any changed."""
        return self._poll_step()

    def _poll_step(self) -> bool:
        with self._lock:
            clicks = self._clicks
        workers = {w.friendly_name: w for w in self._poll_ws.workers.list()}
        with self._lock:
            if clicks != self._clicks:
                return True  # a click raced this read; the next poll sees its result
        changed = False
        for name in self.buttons:
            worker = workers.get(name)
            if worker is None:
                continue
            text = self._describe(name, worker.activity_name)
            if self.buttons[name].value != worker.activity_name or self.labels[name].value != text:
                self._show_activity(name, worker.activity_name)
                changed = True
        if "tr-error" in self.note.value:
            self.note.value = ""
        return changed

    def _show_error(self, exc: BaseException) -> None:
        self.note.value = (f"<span class='tr-error' style='color:#b00'>Could not read the workers. "
                           f"{html.escape(explain(exc, self._poll_ws, 'the workers'))}</span>")

    def _show_note(self, text: str) -> None:
        error = self.note.value if "tr-error" in self.note.value else ""  # why it stopped stays in view
        self.note.value = f"{error} <i>{html.escape(text)}</i>".strip()


class TaskStatusView(_LiveBox):
    """A task's assignment status, its reservation and the workers' activities, kept up to date."""

    kind = "task-status"

    def __init__(
        self,
        client: Client,
        quickstart: QuickstartWorkspace,
        task_sid: str,
        workers: Iterable[str] = ("Alice", "Bob"),
        *,
        events: bool = False,
        interval: float | None = None,
        poll: bool = True,
    ) -> None:
        self.client = client
        self.quickstart = quickstart
        self.task_sid = task_sid
        self.show_events = events
        self.worker_names = list(workers)
        self._ws = clone_client(client).taskrouter.v1.workspaces(quickstart.workspace_sid)
        self._snapshot: tuple | None = None
        self._path: list[str] = []
        self._events: list[Any] = []
        self._note = ""
        self._error = ""
        self.state: dict[str, Any] = {}
        self.html = widgets.HTML("Reading the task…")
        super().__init__([self.html, widgets.HTML(STYLE)])
        self.add_class("tr-task-status")
        self._render_lock = threading.Lock()
        try:
            self._poll_step()
        except (TwilioException, OSError) as exc:
            self._show_error(exc)
        finished = self.state.get("assignment_status") in FINISHED_TASK
        self._start_polling(client, interval, poll and not finished)

    def refresh(self) -> bool:
        """Read the task, its reservations and the workers now; True if anything changed."""
        return self._poll_step()

    def _poll_step(self) -> bool:
        task = self._ws.tasks(self.task_sid).fetch()
        reservations = self._ws.tasks(self.task_sid).reservations.list()
        workers = {w.friendly_name: w.activity_name for w in self._ws.workers.list()}
        latest = max(reservations, key=lambda r: r.date_created or 0, default=None) if reservations else None
        snapshot = (
            task.assignment_status,
            latest.sid if latest else None,
            latest.reservation_status if latest else None,
            tuple(sorted(workers.items())),
        )
        self._error = ""
        if snapshot == self._snapshot:
            return False
        self._snapshot = snapshot
        try:
            self._events = self._ws.events.list(task_sid=self.task_sid, limit=50)
        except (TwilioException, OSError):
            self._events = []
        self._path = status_path(self._events, observed=task.assignment_status)
        self.state = {
            "task_sid": task.sid,
            "assignment_status": task.assignment_status,
            "queue": task.task_queue_friendly_name,
            "reservation_sid": latest.sid if latest else None,
            "reservation_status": latest.reservation_status if latest else None,
            "reserved_worker": latest.worker_name if latest else None,
            "workers": workers,
        }
        self._render()
        if task.assignment_status in FINISHED_TASK and hasattr(self, "_poller"):
            self._poller.stop()  # nothing will change any more
        return True

    def _render(self) -> None:
        s = self.state
        if not s:
            return
        rows = [
            ("Task", f"{_code(s['task_sid'])} in {html.escape(s['queue'] or '(no queue yet)')}"),
            ("Assignment status", f"<b><span class='tr-assignment-status'>{s['assignment_status']}</span></b>"),
            ("Path so far", f"<span class='tr-status-path'>{' → '.join(self._path)}</span>"),
        ]
        if s["reservation_sid"]:
            rows.append((
                "Reservation",
                f"{_code(s['reservation_sid'])} for {html.escape(s['reserved_worker'] or '?')}: "
                f"<b><span class='tr-reservation-status'>{s['reservation_status']}</span></b>",
            ))
        else:
            rows.append(("Reservation", "<span class='tr-reservation-status'>none yet</span>"))
        for name in self.worker_names:
            activity = s["workers"].get(name, "(missing)")
            rows.append((name, f"<b><span class='tr-activity-{name.lower()}'>{html.escape(activity)}</span></b>"))
        if self.show_events:
            # Newest first from the API; ties in milliseconds keep that order, reversed.
            ordered = [e for _, e in sorted(enumerate(self._events), key=lambda p: (_event_ms(p[1]), -p[0]))]
            lines = [html.escape(e.event_type) for e in ordered if e.event_type.startswith(("task.", "reservation."))]
            rows.append(("Events", f"<span class='tr-events'>{'<br>'.join(lines[-8:]) or 'none yet'}</span>"))
        table = "".join(
            f"<tr><td style='padding-right:1em'>{label}</td><td>{value}</td></tr>" for label, value in rows
        )
        footer = f"<div class='tr-error' style='color:#b00'>{html.escape(self._error)}</div>" if self._error else ""
        if self._note:
            footer += f"<div><i>{html.escape(self._note)}</i></div>"
        with self._render_lock:
            self.html.value = f"<table>{table}</table>{footer}"

    def _show_error(self, exc: BaseException) -> None:
        self._error = f"Could not read the task. {explain(exc, self._ws, 'this task')}"
        if self.state:
            self._render()
        else:
            self.html.value = f"<div class='tr-error' style='color:#b00'>{html.escape(self._error)}</div>"

    def _show_note(self, text: str) -> None:
        self._note = text
        self._render()


def status_path(events: Iterable[Any], observed: str | None = None) -> list[str]:
    """The assignment statuses a task went through, from its events (oldest first), ending in `observed`.

    Polling alone would miss `reserved` when a callback accepts within milliseconds.
    """
    ordered = sorted(enumerate(events), key=lambda pair: (_event_ms(pair[1]), -pair[0]))
    path: list[str] = []
    for _, event in ordered:
        status = EVENT_STATUS.get(getattr(event, "event_type", ""))
        if status and (not path or path[-1] != status):
            path.append(status)
    if observed and (not path or path[-1] != observed):
        path.append(observed)
    return path


def _event_ms(event: Any) -> int:
    value = getattr(event, "event_date_ms", None)
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


class CallbackInspector(widgets.VBox):
    """The latest requests to the callback server: what TaskRouter sent and what we answered.

    With `task_sid`, only the callbacks about that task: the server outlives a
    re-run of the notebook, and its log still holds the previous run's requests.
    Follows `CallbackLog.subscribe`; the listener runs on the request's thread,
    so it only formats a little HTML and sets one trait.
    """

    kind = "callback-inspector"

    def __init__(
        self, log: CallbackLog, *, task_sid: str | None = None, limit: int = 3, path: str | None = None,
        title: str = "Callback inspector", sender: str = "TaskRouter",
    ) -> None:
        self.title, self.sender = title, sender
        self.callback_log = log
        self.task_sid = task_sid
        self.limit = limit
        self.path = path
        self.html = widgets.HTML()
        self._note = ""
        self._lock = threading.Lock()
        super().__init__([self.html, widgets.HTML(STYLE)])
        self.add_class("tr-callback-inspector")
        self.add_class("tr-live")
        self.render()
        log.subscribe(self._on_entry)
        _replace_current(self.kind, self)

    def _on_entry(self, entry: CallbackEntry) -> None:
        self.render()

    def stop(self, reason: str = "stopped") -> None:
        """Stop following the log; the widget keeps what it shows."""
        self.callback_log.unsubscribe(self._on_entry)
        self._note = reason
        self.render()

    def close(self) -> None:
        callback_log = getattr(self, "callback_log", None)
        if callback_log is not None:
            callback_log.unsubscribe(self._on_entry)
        super().close()

    def render(self) -> None:
        logged = [e for e in self.callback_log.entries() if self.path is None or e.path == self.path]
        entries = [e for e in logged if self.task_sid is None or e.params.get("TaskSid") == self.task_sid]
        shown = list(reversed(entries))[: self.limit]
        if shown:
            body = "".join(render_entry(e, expanded=(i == 0), sender=self.sender) for i, e in enumerate(shown))
            more = len(entries) - len(shown)
            if more > 0:
                body += f"<div><i>…and {more} earlier request(s)</i></div>"
        elif self.sender == "TaskRouter":
            body = (
                f"<i>No callback yet. When TaskRouter reserves a worker it POSTs to {CALLBACK_PATH}; "
                "the request and your answer appear here.</i>"
            )
        else:
            body = f"<i>No request yet. What {html.escape(self.sender)} sends your app, and your answer, show here.</i>"
        others = len(logged) - len(entries)
        if others:
            body += (f"<div style='color:#888'><i>{others} earlier request(s) about other tasks (an earlier run) "
                     "are not shown.</i></div>")
        if self._note:
            body += f"<div><i>{html.escape(self._note)}</i></div>"
        about = f" for task {_code(self.task_sid)}" if self.task_sid else ""
        with self._lock:
            self.html.value = f"<div><b>{html.escape(self.title)}</b>{about} ({len(entries)} request(s))</div>{body}"


def answer_text(entry: CallbackEntry) -> str:
    """The response body as the learner wrote it; JSON is normalised to `{"instruction": "accept"}` form."""
    body = entry.body.strip()
    if entry.content_type and entry.content_type.split(";")[0].strip() == "application/json":
        try:
            return json.dumps(json.loads(body))
        except ValueError:
            return body
    return body


def render_entry(entry: CallbackEntry, expanded: bool = True, sender: str = "TaskRouter") -> str:
    """One request as HTML: when, signature verdict, the parameters sent, our answer."""
    when = entry.timestamp.astimezone().strftime("%H:%M:%S")
    if entry.signature_valid:
        signature = "<span style='color:#080'>valid X-Twilio-Signature</span>"
    else:
        signature = (
            "<span style='color:#b00'>missing or invalid X-Twilio-Signature: refused with 403, "
            "your route did not run</span>"
        )
    params = "".join(
        f"<tr><td style='padding-right:1em'><code>{html.escape(k)}</code></td>"
        f"<td><code>{html.escape(_shorten(v))}</code></td></tr>"
        for k, v in entry.params.items()
    ) or "<tr><td><i>(no parameters)</i></td></tr>"
    answer = answer_text(entry)
    errors = (
        f"<div style='color:#b00'>Your route raised an exception:<pre>{html.escape(entry.errors)}</pre></div>"
        if entry.errors
        else ""
    )
    return (
        "<div style='border-top:1px solid #ccc; margin-top:4px; padding-top:4px'>"
        f"<div>{when} <b>{html.escape(entry.method)} {html.escape(entry.path)}</b>, {signature}</div>"
        f"<details{' open' if expanded else ''}><summary>{html.escape(sender)} sent {len(entry.params)} parameters"
        "</summary>"
        f"<table>{params}</table></details>"
        f"<div>We answered <b>HTTP {entry.status}</b> {html.escape(entry.content_type or '(no Content-Type)')}: "
        f"<code class='tr-callback-answer'>{html.escape(answer) or '(empty body)'}</code></div>"
        f"{errors}</div>"
    )


def _shorten(value: str, limit: int = 200) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _code(text: str | None) -> str:
    return f"<code>{html.escape(text or '')}</code>"
