"""The quickstart's Workspace, found by friendly name or built idempotently.

Notebook 01 builds it with the SDK calls in plain sight; notebooks 02 and 03
call `find_or_build_quickstart()` so each also runs on its own in a fresh
kernel. Both produce the same resources, under the same names:

- Workspace "TaskRouter Quickstart", single-tasking (MultiTaskEnabled=false)
- Activities Offline, Idle (available), Busy, Reserved
- Workers Alice {"languages": ["en", "es"]} and Bob {"languages": ["en"]}
- TaskQueues "Customer Care Requests - Spanish" (languages HAS "es") and
  "- English" (languages HAS "en"), reservation activity Reserved,
  assignment activity Busy
- Workflow "Incoming Customer Care Requests": selected_language "es" ->
  Spanish, "en" -> English; reservation timeout 1200 s
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from twilio.rest import Client

from tutorial_helpers.statuses import HELD_TASK, OPEN_TASK

WORKSPACE_NAME = "TaskRouter Quickstart"
WORKFLOW_NAME = "Incoming Customer Care Requests"
ACTIVITIES: dict[str, bool] = {"Offline": False, "Idle": True, "Busy": False, "Reserved": False}
WORKERS: dict[str, list[str]] = {"Alice": ["en", "es"], "Bob": ["en"]}
QUEUES: dict[str, tuple[str, str]] = {
    # short name: (friendly name, target_workers)
    "Spanish": ("Customer Care Requests - Spanish", 'languages HAS "es"'),
    "English": ("Customer Care Requests - English", 'languages HAS "en"'),
}
RESERVATION_ACTIVITY = "Reserved"
ASSIGNMENT_ACTIVITY = "Busy"
# Long enough to accept a reservation by hand (the quickstart raises it for that reason).
RESERVATION_TIMEOUT = 1200
CALLBACK_PATH = "/assignment_callback"


@dataclass(frozen=True)
class QuickstartWorkspace:
    """The SIDs of the quickstart's resources, by friendly name."""

    workspace_sid: str
    workflow_sid: str
    activities: dict[str, str] = field(default_factory=dict)  # "Idle" -> "WA..."
    workers: dict[str, str] = field(default_factory=dict)  # "Alice" -> "WK..."
    queues: dict[str, str] = field(default_factory=dict)  # "Spanish" -> "WQ..."
    assignment_callback_url: str | None = None
    # For the learner, from find_or_build_quickstart: did this notebook find the workspace or build it?
    how_found: str = field(default="", compare=False)

    def activity_name(self, sid: str | None) -> str | None:
        return next((name for name, value in self.activities.items() if value == sid), None)


def find_by_name(resources: Any, friendly_name: str) -> Any | None:
    """The first instance of a list resource (e.g. `ws.workers`) with this friendly name, or None."""
    return next((r for r in resources.list() if r.friendly_name == friendly_name), None)


def workflow_configuration(queues: dict[str, str]) -> dict[str, Any]:
    """Route on the task's selected_language: "es" to the Spanish queue, "en" to English."""
    return {
        "task_routing": {
            "filters": [
                {
                    "filter_friendly_name": "Spanish",
                    "expression": 'selected_language == "es"',
                    "targets": [{"queue": queues["Spanish"]}],
                },
                {
                    "filter_friendly_name": "English",
                    "expression": 'selected_language == "en"',
                    "targets": [{"queue": queues["English"]}],
                },
            ],
            "default_filter": {"queue": queues["English"]},
        }
    }


def find_quickstart(client: Client) -> QuickstartWorkspace | None:
    """The quickstart's resources if all of them exist (nothing is created or changed)."""
    tr = client.taskrouter.v1
    workspace = find_by_name(tr.workspaces, WORKSPACE_NAME)
    if workspace is None:
        return None
    ws = tr.workspaces(workspace.sid)
    activities = _sids_by_name(ws.activities.list(), ACTIVITIES)
    workers = _sids_by_name(ws.workers.list(), WORKERS)
    queue_names = {full: short for short, (full, _) in QUEUES.items()}
    queues = {queue_names[q.friendly_name]: q.sid for q in ws.task_queues.list() if q.friendly_name in queue_names}
    workflow = find_by_name(ws.workflows, WORKFLOW_NAME)
    if workflow is None or len(activities) < len(ACTIVITIES) or len(workers) < len(WORKERS) or len(queues) < 2:
        return None
    return QuickstartWorkspace(
        workspace.sid, workflow.sid, activities, workers, queues, workflow.assignment_callback_url
    )


def build_quickstart(client: Client, assignment_callback_url: str | None = None) -> QuickstartWorkspace:
    """Create what is missing and correct what differs; safe to run any number of times.

    The same steps as notebook 01. `assignment_callback_url`, when given, is set
    on the workflow; otherwise an existing workflow keeps its URL.
    """
    tr = client.taskrouter.v1
    workspace = find_by_name(tr.workspaces, WORKSPACE_NAME)
    if workspace is None:
        workspace = tr.workspaces.create(friendly_name=WORKSPACE_NAME, multi_task_enabled=False)
    elif workspace.multi_task_enabled:
        workspace = workspace.update(multi_task_enabled=False)
    ws = tr.workspaces(workspace.sid)

    activities = {}
    for name, available in ACTIVITIES.items():
        activity = find_by_name(ws.activities, name) or ws.activities.create(friendly_name=name, available=available)
        activities[name] = activity.sid

    workers = {}
    for name, languages in WORKERS.items():
        worker = find_by_name(ws.workers, name)
        if worker is None:
            worker = ws.workers.create(friendly_name=name, attributes=json.dumps({"languages": languages}))
        else:
            attributes = json.loads(worker.attributes or "{}")
            if attributes.get("languages") != languages:
                worker = worker.update(attributes=json.dumps({**attributes, "languages": languages}))
        workers[name] = worker.sid

    queues = {}
    for short, (name, target_workers) in QUEUES.items():
        queue_settings = {
            "target_workers": target_workers,
            "reservation_activity_sid": activities[RESERVATION_ACTIVITY],
            "assignment_activity_sid": activities[ASSIGNMENT_ACTIVITY],
        }
        queue = find_by_name(ws.task_queues, name)
        if queue is None:
            queue = ws.task_queues.create(friendly_name=name, **queue_settings)
        elif _differs(queue, queue_settings):
            queue = queue.update(**queue_settings)
        queues[short] = queue.sid

    workflow_settings: dict[str, Any] = {
        "configuration": json.dumps(workflow_configuration(queues)),
        "task_reservation_timeout": RESERVATION_TIMEOUT,
    }
    if assignment_callback_url:
        workflow_settings["assignment_callback_url"] = assignment_callback_url
    workflow = find_by_name(ws.workflows, WORKFLOW_NAME)
    if workflow is None:
        workflow = ws.workflows.create(friendly_name=WORKFLOW_NAME, **workflow_settings)
    else:
        workflow = workflow.update(**workflow_settings)
    return QuickstartWorkspace(
        workspace.sid, workflow.sid, activities, workers, queues, workflow.assignment_callback_url
    )


def find_or_build_quickstart(client: Client) -> QuickstartWorkspace:
    """What notebook 01 built; if it is missing or incomplete, build it now the same way.

    `how_found` says which, in words, for the notebook to print.
    """
    found = find_quickstart(client)
    if found is not None:
        return replace(found, how_found="Found the workspace notebook 01 built")
    return replace(build_quickstart(client),
                   how_found="Built the workspace just now, the way notebook 01 does (it was missing or incomplete)")


def tidy_up_tasks(client: Client, quickstart: QuickstartWorkspace) -> dict[str, list[str]]:
    """Cancel the quickstart's tasks still waiting and complete those still assigned.

    Run before creating a notebook's task, so that it is the only one waiting:
    a task left pending by an earlier run would be offered to Alice first
    (oldest first). Completing earlier assignments keeps the step working on
    Twilio too, where a single-tasking worker may get no new reservation while
    a previous task is unfinished. Returns the SIDs, by what was done to them.
    """
    ws = client.taskrouter.v1.workspaces(quickstart.workspace_sid)
    done: dict[str, list[str]] = {"canceled": [], "completed": []}
    for task in ws.tasks.list(assignment_status=[*OPEN_TASK, *HELD_TASK]):
        if task.assignment_status in OPEN_TASK:
            ws.tasks(task.sid).update(assignment_status="canceled", reason="tidy-up: a new quickstart task replaces it")
            done["canceled"].append(task.sid)
        elif task.assignment_status in HELD_TASK:
            ws.tasks(task.sid).update(assignment_status="completed", reason="tidy-up: the quickstart step is over")
            done["completed"].append(task.sid)
    return done


def _sids_by_name(instances: Iterable[Any], wanted: Iterable[str]) -> dict[str, str]:
    wanted = set(wanted)
    found: dict[str, str] = {}
    for instance in instances:
        if instance.friendly_name in wanted:
            found.setdefault(instance.friendly_name, instance.sid)
    return found


def _differs(instance: Any, wanted: dict[str, str]) -> bool:
    return any(getattr(instance, name) != value for name, value in wanted.items())
