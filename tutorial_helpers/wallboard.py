"""A wallboard: the quickstart workspace's statistics as a live panel, with a sparkline of tasks waiting.

    board = Wallboard(client, quickstart)   # reads the statistics every 1.5 s while it is shown
    display(board)

It only uses the SDK's own statistics calls, the ones notebook 07 shows a
learner writing, so it works the same in local and twilio mode:

    ws.real_time_statistics().fetch()                  # tasks by status, longest wait, workers by activity
    ws.cumulative_statistics().fetch(minutes=60)       # reservations accepted/rejected/..., tasks created/...
    ws.task_queues(sid).real_time_statistics().fetch() # per queue: waiting, available and eligible workers

Unlike the other live widgets it polls every `INTERVAL` seconds in both modes:
the longest wait grows every second without any event to wake it. In local
mode an event on the feed still refreshes it at once. Like them (it is a
`widgets.live._LiveBox`), re-running the cell replaces the previous panel, which
stops and says so; the new one carries on the same workspace's sparkline, so
a re-run does not wipe the history. `stop()` stops it; it stops on its own
after 20 minutes in which no figure changed.

The rendering is plain functions of the figures (`render_board`, `sparkline_svg`), so the tests check
the panel from known statistics without a server. Stable CSS classes for the browser tests:
`tr-wallboard` (the box), inside it `tr-wallboard-waiting` (the number of tasks waiting),
`tr-wallboard-accepted`, `tr-wallboard-sparkline` (the SVG) and `tr-wallboard-queue` (one row per queue).
"""

from __future__ import annotations

import html
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import ipywidgets as widgets
from twilio.rest import Client

from tutorial_helpers.client import clone_client
from tutorial_helpers.statuses import OPEN_TASK, UNFINISHED_TASK
from tutorial_helpers.widgets.live import STYLE, _LiveBox, explain, http_status
from tutorial_helpers.workspace import WORKSPACE_NAME, QuickstartWorkspace

INTERVAL = 1.5  # seconds: often enough that the longest wait visibly ticks, light on a 2-core machine
WINDOW_MINUTES = 60  # the cumulative figures' window (the API's Minutes parameter)
HISTORY = 120  # sparkline samples kept: three minutes at INTERVAL
CUMULATIVE = (
    # (field, label): the reservation outcomes first, as a supervisor reads them
    ("reservations_created", "reservations created"),
    ("reservations_accepted", "accepted"),
    ("reservations_rejected", "rejected"),
    ("reservations_timed_out", "timed out"),
    ("reservations_canceled", "canceled"),
    ("tasks_created", "tasks created"),
    ("tasks_completed", "completed"),
    ("tasks_canceled", "tasks canceled"),
)


@dataclass
class QueueFigures:
    """One queue's real-time statistics, as the wallboard shows them."""

    name: str
    tasks_by_status: dict[str, int]
    longest_task_waiting_age: int
    total_available_workers: int
    total_eligible_workers: int

    @property
    def waiting(self) -> int:
        return waiting_count(self.tasks_by_status)


@dataclass
class Figures:
    """What one round of statistics calls answered: the workspace now, its last hour, and each queue now."""

    tasks_by_status: dict[str, int]
    total_tasks: int
    longest_task_waiting_age: int
    workers_by_activity: dict[str, int]
    total_workers: int
    cumulative: dict[str, Any]
    queues: list[QueueFigures] = field(default_factory=list)

    @property
    def waiting(self) -> int:
        return waiting_count(self.tasks_by_status)


def waiting_count(tasks_by_status: Mapping[str, Any] | None) -> int:
    """Tasks not yet assigned to anyone: pending plus reserved."""
    counts = tasks_by_status or {}
    # OPEN_TASK is "waiting" as Twilio's longest_task_waiting_age counts it: not yet assigned.
    return sum(int(counts.get(status) or 0) for status in OPEN_TASK)


def read_figures(workspace: Any, queues: Mapping[str, str], minutes: int = WINDOW_MINUTES) -> Figures:
    """The statistics calls a learner would make, for the workspace and each of `queues` (name -> WQ sid)."""
    realtime = workspace.real_time_statistics().fetch()
    cumulative = workspace.cumulative_statistics().fetch(minutes=minutes)
    per_queue = []
    for name, sid in queues.items():
        q = workspace.task_queues(sid).real_time_statistics().fetch()
        per_queue.append(QueueFigures(name, dict(q.tasks_by_status or {}), int(q.longest_task_waiting_age or 0),
                                      int(q.total_available_workers or 0), int(q.total_eligible_workers or 0)))
    return Figures(
        tasks_by_status=dict(realtime.tasks_by_status or {}),
        total_tasks=int(realtime.total_tasks or 0),
        longest_task_waiting_age=int(realtime.longest_task_waiting_age or 0),
        workers_by_activity=activity_counts(realtime.activity_statistics),
        total_workers=int(realtime.total_workers or 0),
        cumulative={name: getattr(cumulative, name, None) for name, _ in CUMULATIVE}
        | {"avg_task_acceptance_time": getattr(cumulative, "avg_task_acceptance_time", None)},
        queues=per_queue,
    )


def activity_counts(activity_statistics: Iterable[Mapping[str, Any]] | None) -> dict[str, int]:
    """`[{"friendly_name": "Idle", "workers": 1, ...}, ...]` as `{"Idle": 1, ...}`, in the API's order."""
    return {str(a.get("friendly_name")): int(a.get("workers") or 0) for a in activity_statistics or []}


def sparkline_svg(series: Sequence[int], width: int = 280, height: int = 48) -> str:
    """Tasks waiting over time as a small inline SVG: a step line, its latest value as a dot, the peak labelled.

    An SVG string rather than a plotting library: the notebooks need no new dependency, and an
    `ipywidgets.HTML` redraws it in place on every poll without flicker.
    """
    label = f"Tasks waiting over the last {len(series)} readings"
    if not series:
        return (f"<svg class='tr-wallboard-sparkline' role='img' aria-label='{label}' width='{width}' "
                f"height='{height}'><text x='4' y='{height // 2}' font-size='11' fill='#888'>no readings yet"
                "</text></svg>")
    peak = max(max(series), 1)
    top, bottom, right = 15, height - 4, width - 8  # the top leaves room for the peak's label
    step = right / max(len(series) - 1, 1)

    def y(value: int) -> float:
        return bottom - (bottom - top) * value / peak

    # A step line: the count holds between readings, it does not slide from one to the next.
    points = [f"0,{y(series[0]):.1f}"]
    for i, value in enumerate(series[1:], start=1):
        points.append(f"{i * step:.1f},{y(series[i - 1]):.1f}")
        points.append(f"{i * step:.1f},{y(value):.1f}")
    last_x, last_y = (len(series) - 1) * step, y(series[-1])
    area = f"0,{bottom} " + " ".join(points) + f" {last_x:.1f},{bottom}"
    return (
        f"<svg class='tr-wallboard-sparkline' role='img' aria-label='{label}' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' data-latest='{series[-1]}' data-peak='{max(series)}'>"
        f"<line x1='0' y1='{bottom}' x2='{right}' y2='{bottom}' stroke='#ccc' stroke-width='1'/>"
        f"<polygon points='{area}' fill='#1976d2' fill-opacity='0.12'/>"
        f"<polyline points='{' '.join(points)}' fill='none' stroke='#1976d2' stroke-width='2'/>"
        f"<circle cx='{last_x:.1f}' cy='{last_y:.1f}' r='3' fill='#1976d2'/>"
        f"<text x='0' y='10' font-size='10' fill='#888'>peak {max(series)}</text>"
        "</svg>"
    )


def _duration(seconds: Any) -> str:
    if seconds is None:
        return "–"
    seconds = int(seconds)
    return f"{seconds} s" if seconds < 120 else f"{seconds // 60} min {seconds % 60} s"


def _tile(label: str, value: str, css: str = "", color: str = "#222") -> str:
    return (f"<div style='min-width:6.5em; padding:4px 10px; border-left:3px solid {color}'>"
            f"<div style='font-size:1.8em; font-weight:bold; color:{color}' class='{css}'>{value}</div>"
            f"<div style='color:#555'>{html.escape(label)}</div></div>")


def render_board(figures: Figures | None, history: Sequence[int] = (), *, minutes: int = WINDOW_MINUTES,
                 error: str = "", note: str = "", updated: str = "") -> str:
    """The panel's HTML from one round of figures; `history` is tasks waiting, oldest first."""
    if figures is None:
        body = "<i>Reading the statistics…</i>"
    else:
        f = figures
        waiting_color = "#c62828" if f.waiting else "#2e7d32"
        tiles = "".join([
            _tile("tasks waiting", str(f.waiting), "tr-wallboard-waiting", waiting_color),
            _tile("longest wait", _duration(f.longest_task_waiting_age if f.waiting else None),
                  "tr-wallboard-longest"),
            _tile("assigned", str(int(f.tasks_by_status.get("assigned") or 0)), "tr-wallboard-assigned", "#1976d2"),
            _tile(f"accepted, last {minutes} min", str(int(f.cumulative.get("reservations_accepted") or 0)),
                  "tr-wallboard-accepted", "#2e7d32"),
        ])
        statuses = ", ".join(f"{s} {int(f.tasks_by_status.get(s) or 0)}" for s in UNFINISHED_TASK)
        workers = ", ".join(f"{html.escape(name)} {n}" for name, n in f.workers_by_activity.items() if n) or "none"
        queue_rows = "".join(
            f"<tr class='tr-wallboard-queue'><td>{html.escape(q.name)}</td><td style='text-align:right'>{q.waiting}"
            f"</td><td style='text-align:right'>{_duration(q.longest_task_waiting_age if q.waiting else None)}</td>"
            f"<td style='text-align:right'>{q.total_available_workers} of {q.total_eligible_workers}</td></tr>"
            for q in f.queues
        )
        queues = (
            "<table style='border-collapse:collapse'><tr style='color:#555'><th style='text-align:left'>queue</th>"
            "<th style='padding-left:1em'>waiting</th><th style='padding-left:1em'>longest</th>"
            f"<th style='padding-left:1em'>workers available</th></tr>{queue_rows}</table>"
        ) if queue_rows else ""
        cumulative = ", ".join(
            f"{label} <b>{int(f.cumulative.get(name) or 0)}</b>" for name, label in CUMULATIVE
        )
        avg = f.cumulative.get("avg_task_acceptance_time")
        body = (
            f"<div style='display:flex; flex-wrap:wrap; gap:8px; align-items:flex-end'>{tiles}"
            f"<div style='padding:0 10px'>{sparkline_svg(list(history))}"
            "<div style='color:#555'>tasks waiting, the last few minutes</div></div></div>"
            f"<div style='margin-top:6px'><b>Now:</b> {statuses} ({f.total_tasks} in all). "
            f"<b>Workers</b> ({f.total_workers}): {workers}.</div>"
            f"<div style='margin-top:4px'>{queues}</div>"
            f"<div style='margin-top:4px'><b>Last {minutes} minutes:</b> {cumulative}; "
            f"average time to accept <b>{_duration(avg)}</b>.</div>"
        )
    footer = f"<div class='tr-error' style='color:#b00'>{html.escape(error)}</div>" if error else ""
    if note:
        footer += f"<div class='tr-note'><i>{html.escape(note)}</i></div>"
    stamp = f" <span style='color:#888; font-weight:normal'>· read at {html.escape(updated)}</span>" if updated else ""
    return (f"<div style='font-family:var(--jp-ui-font-family, sans-serif)'>"
            f"<div style='font-weight:bold; margin-bottom:4px'>Wallboard: {html.escape(WORKSPACE_NAME)}"
            f"{stamp}</div>{body}{footer}</div>")


# Each workspace's sparkline, kept across re-runs of the cell (a new panel continues the old one's line).
_histories: dict[str, deque[int]] = {}
_histories_lock = threading.Lock()


def _history_for(workspace_sid: str) -> deque[int]:
    with _histories_lock:
        return _histories.setdefault(workspace_sid, deque(maxlen=HISTORY))


class Wallboard(_LiveBox):
    """The workspace's real-time and cumulative statistics, and each queue's, read every `interval` seconds."""

    kind = "wallboard"

    def __init__(self, client: Client, quickstart: QuickstartWorkspace, *, minutes: int = WINDOW_MINUTES,
                 interval: float = INTERVAL, poll: bool = True) -> None:
        self.client = client
        self.quickstart = quickstart
        self.minutes = minutes
        # The poller's own client: the SDK's HTTP client keeps per-request state (see clone_client).
        self._ws = clone_client(client).taskrouter.v1.workspaces(quickstart.workspace_sid)
        self.history = _history_for(quickstart.workspace_sid)
        self.figures: Figures | None = None
        self._error = ""
        self._note = ""
        self._updated = ""
        self._render_lock = threading.Lock()
        self.html = widgets.HTML(render_board(None))
        super().__init__([self.html, widgets.HTML(STYLE)])
        self.add_class("tr-wallboard")
        try:
            self._poll_step()
        except Exception as exc:  # shown in the panel; the poller tries again
            self._show_error(exc)
        self._start_polling(client, interval, poll)

    def refresh(self) -> bool:
        """Read the statistics now; True if a figure changed."""
        return self._poll_step()

    def _poll_step(self) -> bool:
        figures = read_figures(self._ws, self.quickstart.queues, self.minutes)
        self.history.append(figures.waiting)
        changed = figures != self.figures or bool(self._error)
        self.figures, self._error = figures, ""
        self._updated = time.strftime("%H:%M:%S")
        self._render()
        return changed

    def _render(self) -> None:
        with self._render_lock:
            self.html.value = render_board(self.figures, list(self.history), minutes=self.minutes,
                                           error=self._error, note=self._note, updated=self._updated)

    def _show_error(self, exc: BaseException) -> None:
        reason = explain(exc, self._ws, "these statistics")
        if http_status(exc) == 404 and not reason.startswith("This workspace was deleted"):
            # The workspace is there, so it is the Statistics endpoints that are missing: a local TaskRouter
            # started from code older than this notebook.
            reason = ("TaskRouter has no Statistics for this workspace (HTTP 404): a local TaskRouter started "
                      "before they existed? Restart it, then run this notebook from the top.")
        self._error = f"Could not read the statistics. {reason}"
        self._render()

    def _show_note(self, text: str) -> None:
        self._note = text
        self._render()
