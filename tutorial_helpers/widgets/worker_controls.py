"""WorkerActivityControls: a button per activity for each worker, following what TaskRouter changes itself."""

from __future__ import annotations

import html
import threading
from collections.abc import Callable, Iterable

import ipywidgets as widgets
from twilio.base.exceptions import TwilioException
from twilio.rest import Client

from tutorial_helpers.client import clone_client
from tutorial_helpers.widgets.live import STYLE, _LiveBox, explain
from tutorial_helpers.workspace import ACTIVITIES, QuickstartWorkspace

TWILIO_DEFAULT_ACTIVITIES = ("Available", "Unavailable")  # with Offline, what every new Workspace starts with


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
