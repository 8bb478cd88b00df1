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

The live-update plumbing (the event feed, the poller, one widget of each
kind per kernel, the errors in words) is `live`; each widget has a module of
its own: `worker_controls`, `task_status`, `callback_inspector`. Notebooks
and tests import the widgets from here.
"""

from tutorial_helpers.widgets.callback_inspector import CallbackInspector, answer_text, render_entry
from tutorial_helpers.widgets.live import STYLE, TWILIO_INTERVAL, EventFeed, explain, http_status
from tutorial_helpers.widgets.live import _current as _current  # tests close the widgets a test left
from tutorial_helpers.widgets.task_status import TaskStatusView, status_path
from tutorial_helpers.widgets.worker_controls import WorkerActivityControls

__all__ = [
    "STYLE",
    "TWILIO_INTERVAL",
    "CallbackInspector",
    "EventFeed",
    "TaskStatusView",
    "WorkerActivityControls",
    "answer_text",
    "explain",
    "http_status",
    "render_entry",
    "status_path",
]
