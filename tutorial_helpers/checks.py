"""The check cells: did the step work, and if not, what to look at.

Each check returns a `CheckResult` that shows as a short verdict in the
notebook (in the manner of Kaggle's learntools `q1.check()`) and is truthy
only when the step worked; the tests assert the same results.

    check_environment(settings)
    check_workspace(client)
    check_step_02(client, quickstart, task.sid)
    check_step_03(client, quickstart, task.sid, server)

Checks that follow something asynchronous (a reservation, a callback) wait up
to `timeout` seconds for it, but return at once when the next move is the
learner's (Alice still Offline, a reservation waiting to be accepted).
"""

from __future__ import annotations

import html
import importlib.util
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any
from urllib.parse import urlsplit

import requests
from flask import Flask
from twilio.base.exceptions import TwilioException
from twilio.rest import Client

from tutorial_helpers.callback_host import is_all, lan_address
from tutorial_helpers.callback_server import HEALTH_PATH, CallbackEntry, CallbackServer, callback_address
from tutorial_helpers.client import mode_of
from tutorial_helpers.settings import Settings, is_loopback
from tutorial_helpers.statuses import ACCEPTED_RESERVATION, FINISHED_TASK, OPEN_TASK, TAKEN_TASK
from tutorial_helpers.workspace import (
    ACTIVITIES,
    ASSIGNMENT_ACTIVITY,
    QUEUES,
    RESERVATION_ACTIVITY,
    WORKERS,
    WORKFLOW_NAME,
    WORKSPACE_NAME,
    QuickstartWorkspace,
    find_by_name,
)

POLL_SECONDS = 0.1
STEP_02 = "02_accept_through_rest.ipynb"
STEP_03 = "03_accept_with_instruction.ipynb"
# The headings a message sends the learner back to, by notebook. tests/test_notebook_references.py checks that
# each is a heading of that notebook, so renaming a heading cannot leave a message pointing nowhere.
HEADINGS: dict[str, dict[str, str]] = {
    STEP_02: {
        "route": "1. The assignment callback answers `{}`",
        "offline": "2. Alice goes Offline",
        "task": "3. Create a Task",
    },
    "04_tasks_from_phone_calls.ipynb": {
        "app": "1. Your web app answers the call",
        "call": "4. Call, and press 1",
    },
    "06_worker_page.ipynb": {
        "key": "1. An API key for Alice's token",
        "app": "2. Your app: the token route and the page",
        "page": "3. Alice's page",
        "task": "4. A task pops up on the page",
    },
    "05_dequeue_a_call.ipynb": {
        "phone": "1. Give Alice a phone",
        "route": "2. Answer the assignment callback with `dequeue`",
        "call": "3. Call, and press 1",
        "idle": "4. Alice goes Idle, and her phone rings",
    },
    "07_wallboard.ipynb": {
        "app": "1. Your app accepts every reservation",
        "tasks": "2. Three tasks wait",
        "idle": "5. Alice and Bob go Idle",
    },
    STEP_03: {
        "offline": "1. Alice in a non-available Activity",
        "task": "2. Create another Task",
        "route": "3. Answer the callback with an assignment instruction",
        "start over": "Start over",
    },
}


def again_from(notebook: str, part: str) -> str:
    """'run the cells again from "<heading>"', naming a heading that exists in `notebook`."""
    return f"run this notebook's cells again from the heading \"{HEADINGS[notebook][part]}\""


@dataclass
class CheckResult:
    """A verdict: `ok`, one sentence, what was seen, and what to look at when it failed."""

    ok: bool
    title: str
    message: str
    seen: list[str] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        verdict = "Correct" if self.ok else "Not yet"
        lines = [f"{verdict} ({self.title}): {self.message}"]
        lines += [f"  - {line}" for line in self.seen]
        lines += [f"  What to look at: {hint}" for hint in self.hints]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        color, verdict = ("#2e7d32", "Correct") if self.ok else ("#c62828", "Not yet")
        seen = "".join(f"<li>{html.escape(line)}</li>" for line in self.seen)
        hints = "".join(f"<li>{html.escape(hint)}</li>" for hint in self.hints)
        return (
            f"<div class='tr-check tr-check-{'ok' if self.ok else 'failed'}' "
            f"style='border-left:4px solid {color}; padding:4px 10px'>"
            f"<b style='color:{color}'>{verdict}</b> <i>({html.escape(self.title)})</i>: "
            f"{html.escape(self.message)}"
            + (f"<ul>{seen}</ul>" if seen else "")
            + (f"<div><b>What to look at:</b><ul>{hints}</ul></div>" if hints else "")
            + "</div>"
        )


# ---------------------------------------------------------------------------------- 00


def check_environment(settings: Settings) -> CheckResult:
    """Python, widgets, and the mode's TaskRouter (and ngrok in twilio mode)."""
    title = "environment"
    seen = [f"Python {sys.version.split()[0]}", settings.describe()]
    hints = []
    for package in ("twilio", "ipywidgets", "jupyterlab_widgets", "flask"):
        try:
            seen.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            hints.append(f"{package} is not installed in this kernel's Python: run `make install` and pick the "
                         "project's kernel.")
    answered = _taskrouter_accepts(settings)
    if answered is True:
        seen.append(f"TaskRouter at {settings.taskrouter_url} accepts this account's credentials")
    else:
        hints.append(answered)
    if settings.mode == "twilio":
        seen.append("NGROK_AUTHTOKEN is set (checked for real when the callback server opens its tunnel)")
        seen.append(_ngrok_agent(settings))
    if answered is True and settings.mode == "local" and (settings.room or not settings.taskrouter_on_this_machine):
        # Once, here, rather than as a callback that never arrives in notebook 02.
        reached, line = check_reachable(settings)
        (seen if reached else hints).append(line)
    if hints:
        return CheckResult(False, title, "something needs fixing before notebook 01.", seen, hints)
    what = ("the local TaskRouter on this machine, no account and no internet"
            if settings.mode == "local" else "your Twilio account, with callbacks through an ngrok tunnel")
    if settings.room:
        what = "the workshop room's TaskRouter, with your account from your card"
    return CheckResult(True, title, f"ready; the notebooks will use {what}.", seen)


def _taskrouter_accepts(settings: Settings) -> bool | str:
    try:
        answer = requests.get(
            f"{settings.taskrouter_url}/v1/Workspaces?PageSize=1",
            auth=(settings.account_sid, settings.auth_token),
            timeout=10,
        )
    except requests.RequestException as exc:
        return f"Could not reach {settings.taskrouter_url} ({type(exc).__name__}); run the first cell again."
    if answer.status_code == 401:
        return "The TaskRouter refused the credentials (401); see the message of the first cell."
    if not answer.ok:
        return f"{settings.taskrouter_url} answered HTTP {answer.status_code}."
    return True


def check_reachable(settings: Settings, timeout: float = 15.0) -> tuple[bool, str]:
    """Can the TaskRouter reach this kernel's callback server? Asked of the TaskRouter itself
    (POST /_local/Reachability), on a callback server started for the test at the settings' CALLBACK_HOST.

    Returns (reached, one line: what was seen, or what to change). The test server is stopped again; the
    notebooks' own servers listen on the same address (and CALLBACK_PORT, else another free port).
    """
    bind, advertise = callback_address(settings)
    current = CallbackServer.current()
    # With CALLBACK_PORT the test is of that port (the one a firewall opens): this kernel's own server, if it
    # already has it.
    reuse = bool(settings.callback_port) and current is not None and current.running and \
        current.port == settings.callback_port
    try:
        probe = current if reuse else CallbackServer(Flask("reachability"), settings.auth_token, host=bind,
                                                     port=settings.callback_port, advertise=advertise)
    except OSError as exc:
        where = f"CALLBACK_HOST={settings.callback_host}" + (
            f", CALLBACK_PORT={settings.callback_port}" if settings.callback_port else "")
        return False, (f"This kernel could not listen on {where} ({exc}). {_callback_host_advice(settings)}")
    url = probe.url_for(HEALTH_PATH)
    try:
        answer = requests.post(f"{settings.local_base_url}/_local/Reachability", data={"Url": url},
                               auth=(settings.account_sid, settings.auth_token), timeout=timeout)
    except requests.RequestException as exc:
        return False, f"Could not ask {settings.local_base_url} to call this kernel ({type(exc).__name__})."
    finally:
        if not reuse:
            probe.stop()
    if answer.status_code == 404:
        # An older local TaskRouter without the endpoint: nothing to say either way.
        return True, (f"{settings.local_base_url} cannot test whether it reaches this kernel (an older version); "
                      f"callbacks will go to {url.removesuffix(HEALTH_PATH)}")
    try:
        result = answer.json()
    except ValueError:
        result = {}
    if not answer.ok or not isinstance(result, dict) or "reached" not in result:
        return False, f"{settings.local_base_url} could not run the reachability test (HTTP {answer.status_code})."
    if result["reached"] and result.get("status") == 200:
        return True, f"the TaskRouter at {settings.local_base_url} reaches this kernel's callback server at {url}"
    why = (f"something else answered there (HTTP {result.get('status')})" if result["reached"]
           else result.get("reason") or "unreachable")
    return False, (f"The TaskRouter at {settings.local_base_url} cannot reach this kernel's callback server at "
                   f"{url}: {why}. {_callback_host_advice(settings)}")


def _callback_host_advice(settings: Settings) -> str:
    """What to change when the room cannot reach this machine: CALLBACK_HOST, the firewall, the network."""
    lan = lan_address(urlsplit(settings.local_base_url).hostname)
    if is_loopback(settings.callback_host) and not settings.taskrouter_on_this_machine:
        first = (f"CALLBACK_HOST is {settings.callback_host}, which only this machine can reach: set "
                 f"CALLBACK_HOST={lan} (this machine's address on the room's network), or CALLBACK_HOST=0.0.0.0, "
                 "in .env or the environment, then restart the kernel and run this notebook again.")
    elif is_all(settings.callback_host):
        first = (f"CALLBACK_HOST={settings.callback_host} listens on all of this machine's addresses and gives the "
                 f"room {lan}; if the room reaches this machine by another address, set CALLBACK_HOST to that one "
                 "in .env or the environment, then restart the kernel.")
    else:
        first = (f"Check CALLBACK_HOST={settings.callback_host}: it must be this machine's address on the room's "
                 f"network ({lan} here, or 0.0.0.0 for all), in .env or the environment; then restart the kernel.")
    port = (f"port {settings.callback_port} (CALLBACK_PORT)" if settings.callback_port else
            "one port: set CALLBACK_PORT (say 8780) and allow that")
    return (f"{first} If it is, a firewall on this machine may block incoming connections: allow Python on this "
            f"network, or {port}. And this machine must be on the same network as the room's TaskRouter (the "
            "room's Wi-Fi, not a guest network that keeps devices apart).")


def _ngrok_agent(settings: Settings) -> str:
    """The agent the callback server's tunnel will run: tunnel.agent_path decides for both."""
    if importlib.util.find_spec("pyngrok") is None:
        return "pyngrok is not installed: run `make install`"
    from tutorial_helpers.tunnel import agent_path

    path = agent_path(settings.ngrok_path)
    if os.path.isfile(path):
        return f"ngrok agent: {path}"
    return (f"ngrok agent: not installed yet; pyngrok downloads it to {path} when the first tunnel opens "
            "(needs internet)")


# ---------------------------------------------------------------------------------- 01


def check_workspace(client: Client, callback_url: str | None = None) -> CheckResult:
    """Is the quickstart's workspace complete and configured as the quickstart says?"""
    title = "workspace"
    tr = client.taskrouter.v1
    problems: list[str] = []
    seen: list[str] = []
    workspace = find_by_name(tr.workspaces, WORKSPACE_NAME)
    if workspace is None:
        return CheckResult(False, title, f"there is no workspace named {WORKSPACE_NAME!r} yet.", [],
                           ["Run the cells above from the top: the first workspace cell creates it."])
    seen.append(f"Workspace {WORKSPACE_NAME!r} {workspace.sid}")
    if workspace.multi_task_enabled:
        problems.append("The workspace is multi-tasking: Alice would never become Busy. Run the workspace cell "
                        "again (it sets MultiTaskEnabled=false); if Twilio refuses to switch an existing "
                        f"workspace, delete it (\"{HEADINGS[STEP_03]['start over']}\" at the end of notebook 03, "
                        "or `make reset`) and run this notebook again.")
    ws = tr.workspaces(workspace.sid)

    activities = {a.friendly_name: a for a in ws.activities.list()}
    for name, available in ACTIVITIES.items():
        activity = activities.get(name)
        if activity is None:
            problems.append(f"Activity {name!r} is missing: run the activities cell.")
        elif bool(activity.available) != available:
            problems.append(f"Activity {name!r} should be {'available' if available else 'not available'}; "
                            "availability cannot change, so delete it in the console (or reset) and run the cell.")
    seen.append("Activities: " + ", ".join(
        f"{n} ({'available' if activities[n].available else 'not available'})" for n in ACTIVITIES if n in activities))

    workers = {w.friendly_name: w for w in ws.workers.list()}
    for name, languages in WORKERS.items():
        worker = workers.get(name)
        if worker is None:
            problems.append(f"Worker {name} is missing: run the workers cell.")
            continue
        attributes = json.loads(worker.attributes or "{}")
        if attributes.get("languages") != languages:
            problems.append(f"{name}'s attributes are {worker.attributes}; expected languages {languages}.")
        seen.append(f"Worker {name} {worker.attributes}, {worker.activity_name}")

    queues = {q.friendly_name: q for q in ws.task_queues.list()}
    queue_sids = {}
    for short, (name, target) in QUEUES.items():
        queue = queues.get(name)
        if queue is None:
            problems.append(f"TaskQueue {name!r} is missing: run the queues cell.")
            continue
        queue_sids[short] = queue.sid
        if queue.target_workers.replace(" ", "") != target.replace(" ", ""):
            problems.append(f"{name!r} targets {queue.target_workers!r}; expected {target!r}.")
        if queue.reservation_activity_name != RESERVATION_ACTIVITY:
            problems.append(f"{name!r} reserves workers into {queue.reservation_activity_name!r}; expected "
                            f"{RESERVATION_ACTIVITY!r}.")
        if queue.assignment_activity_name != ASSIGNMENT_ACTIVITY:
            problems.append(f"{name!r} assigns workers into {queue.assignment_activity_name!r}; expected "
                            f"{ASSIGNMENT_ACTIVITY!r}.")
        seen.append(f"TaskQueue {name!r}: {queue.target_workers}, reserved -> {queue.reservation_activity_name}, "
                    f"assigned -> {queue.assignment_activity_name}")

    workflow = find_by_name(ws.workflows, WORKFLOW_NAME)
    if workflow is None:
        problems.append(f"Workflow {WORKFLOW_NAME!r} is missing: run the workflow cell.")
    else:
        problems += _workflow_problems(workflow, queue_sids, callback_url)
        seen.append(f"Workflow {WORKFLOW_NAME!r}: callback {workflow.assignment_callback_url}, "
                    f"reservation timeout {workflow.task_reservation_timeout} s")
    if problems:
        return CheckResult(False, title, "the workspace is not complete yet.", seen, problems)
    return CheckResult(True, title, "the quickstart's workspace is ready: Spanish tasks will wait for Alice.", seen)


def _workflow_problems(workflow: Any, queue_sids: dict[str, str], callback_url: str | None) -> list[str]:
    problems = []
    try:
        routing = json.loads(workflow.configuration)["task_routing"]
        routes = {(f.get("expression") or "").replace(" ", "").replace("'", '"'): f["targets"][0]["queue"]
                  for f in routing.get("filters", [])}
    except (ValueError, KeyError, IndexError, TypeError):
        return ["The workflow's configuration is not the quickstart's: run the workflow cell again."]
    for short, language in (("Spanish", "es"), ("English", "en")):
        expression = f'selected_language=="{language}"'
        if short in queue_sids and routes.get(expression) != queue_sids[short]:
            problems.append(f"The workflow does not send selected_language == \"{language}\" to the {short} "
                            "queue: run the workflow cell again.")
    if not workflow.assignment_callback_url:
        problems.append("The workflow has no AssignmentCallbackUrl: run the callback server and workflow cells.")
    elif callback_url and workflow.assignment_callback_url != callback_url:
        problems.append(f"The workflow calls {workflow.assignment_callback_url}, not this kernel's server "
                        f"({callback_url}): run the workflow cell again.")
    if int(workflow.task_reservation_timeout or 0) < 600:
        problems.append(f"The reservation timeout is {workflow.task_reservation_timeout} s; the quickstart raises "
                        "it (1200 s) so that accepting by hand does not time out.")
    return problems


# ---------------------------------------------------------------------------------- 02 and 03


@dataclass
class _Seen:
    task: Any
    reservation: Any | None
    worker: Any
    entry: CallbackEntry | None = None

    def lines(self, worker_name: str) -> list[str]:
        lines = [f"Task {self.task.sid}: {self.task.assignment_status}"
                 + (f" in {self.task.task_queue_friendly_name!r}" if self.task.task_queue_friendly_name else "")]
        if self.reservation is not None:
            lines.append(f"Reservation {self.reservation.sid} for {self.reservation.worker_name}: "
                         f"{self.reservation.reservation_status}")
        else:
            lines.append("No reservation for this task")
        lines.append(f"{worker_name}: {self.worker.activity_name}")
        if self.entry is not None:
            lines.append(f"Callback {self.entry.method} {self.entry.path}: signature "
                         f"{'valid' if self.entry.signature_valid else 'refused'}, we answered HTTP "
                         f"{self.entry.status} {self.entry.content_type or ''} {self.entry.body.strip()}".rstrip())
        return lines


def _observe(client: Client, quickstart: QuickstartWorkspace, task_sid: str, worker_name: str) -> _Seen:
    ws = client.taskrouter.v1.workspaces(quickstart.workspace_sid)
    task = ws.tasks(task_sid).fetch()
    reservations = ws.tasks(task_sid).reservations.list()
    reservation = max(reservations, key=lambda r: r.date_created or 0) if reservations else None
    worker = ws.workers(quickstart.workers[worker_name]).fetch()
    return _Seen(task, reservation, worker)


def _wait(observe: Callable[[], tuple[CheckResult, bool]], timeout: float) -> CheckResult:
    """Re-evaluate until the result is ok, the next move is the learner's, or time is up."""
    deadline = time.monotonic() + timeout
    while True:
        result, settled = observe()
        if result.ok or settled or time.monotonic() >= deadline:
            return result
        time.sleep(POLL_SECONDS)


def check_step_02(
    client: Client,
    quickstart: QuickstartWorkspace,
    task_sid: str,
    server: CallbackServer | None = None,
    *,
    worker: str = "Alice",
    timeout: float = 5.0,
) -> CheckResult:
    """Step 02: the task was accepted through the REST API and Alice is Busy.

    With `server`, also checks that the callback answered `{}` (so the accept was yours).
    """
    title = "accept a reservation through REST"

    def evaluate() -> tuple[CheckResult, bool]:
        try:
            seen = _observe(client, quickstart, task_sid, worker)
        except TwilioException as exc:
            return _api_failure(title, exc), True
        if server is not None:
            seen.entry = _callback_for(server, task_sid)
            if seen.entry is not None and _answer_problem(seen.entry) is None:
                return CheckResult(False, title, "your callback accepted the reservation, not the REST API.",
                                   seen.lines(worker),
                                   ["In this step the route answers {} so that you accept through REST: "
                                    f"{again_from(STEP_02, 'route')}."]), True
        common = _common_verdict(title, seen, worker, STEP_02)
        if common is not None:
            return common
        res = seen.reservation
        if seen.task.assignment_status == "reserved" and res is not None and res.reservation_status == "pending":
            return CheckResult(False, title, f"{worker} is reserved for the task; the reservation waits for you.",
                               seen.lines(worker),
                               ["Run the cell that accepts the reservation (ReservationStatus=accepted)."]), True
        result, settled = _assigned_verdict(title, seen, worker, quickstart,
                                            success="you accepted the reservation through the REST API, the task "
                                                    f"is assigned and {worker} is {ASSIGNMENT_ACTIVITY}.")
        if result.ok and seen.entry is not None and not seen.entry.signature_valid:
            # Accepting through REST does not need the callback's answer; step 03 does, so say it now.
            result.hints.append(f"Before step 03: {_answer_problem(seen.entry)}")
        return result, settled

    return _wait(evaluate, timeout)


def check_step_03(
    client: Client,
    quickstart: QuickstartWorkspace,
    task_sid: str,
    server: CallbackServer,
    *,
    worker: str = "Alice",
    timeout: float = 10.0,
) -> CheckResult:
    """Step 03: the callback answered {"instruction": "accept"}, the task is assigned, Alice is Busy."""
    title = "accept with an assignment instruction"

    def evaluate() -> tuple[CheckResult, bool]:
        try:
            seen = _observe(client, quickstart, task_sid, worker)
        except TwilioException as exc:
            return _api_failure(title, exc), True
        seen.entry = _callback_for(server, task_sid)
        common = _common_verdict(title, seen, worker, STEP_03)
        if common is not None:
            return common
        entry = seen.entry
        if entry is None:
            if seen.task.assignment_status == "assigned":
                return CheckResult(False, title, "the task is assigned, but not by your callback's answer.",
                                   seen.lines(worker),
                                   ["This kernel's server never saw the callback for this task: was the "
                                    f"reservation accepted through REST? {again_from(STEP_03, 'offline')}."]), True
            hints = [f"TaskRouter has not called this kernel's server yet. The workflow must call "
                     f"{server.url_for('/assignment_callback')}: run the cell that updates the workflow."]
            hints += _local_alerts(client, quickstart, seen)
            return CheckResult(False, title, f"{worker} is reserved, but no callback has arrived.",
                               seen.lines(worker), hints), False
        answer_problem = _answer_problem(entry)
        if answer_problem is not None:
            hints = [answer_problem, *_local_alerts(client, quickstart, seen)]
            if seen.reservation is not None and seen.reservation.reservation_status == "pending":
                hints.append(f"The reservation now waits for REST or its timeout: fix the route, then put {worker} "
                             f"Offline again: {again_from(STEP_03, 'offline')}.")
            return CheckResult(False, title, "your callback did not accept the reservation.",
                               seen.lines(worker), hints), True
        return _assigned_verdict(
            title, seen, worker, quickstart,
            success=f'your callback answered {{"instruction": "accept"}}, TaskRouter accepted the reservation at '
                    f"once, the task is assigned and {worker} is {ASSIGNMENT_ACTIVITY}.")

    return _wait(evaluate, timeout)


def _common_verdict(title: str, seen: _Seen, worker: str, notebook: str) -> tuple[CheckResult, bool] | None:
    """The verdicts both steps share: a task that is gone, or a worker who was never made available."""
    status = seen.task.assignment_status
    if status in FINISHED_TASK:
        return CheckResult(False, title, f"this task is {status}.", seen.lines(worker),
                           [f"Reason given: {seen.task.reason or '(none)'}. A later run's tidy-up cancels "
                            f"waiting tasks and completes assigned ones: {again_from(notebook, 'offline')}."]), True
    if status == "pending" and not seen.worker.available:
        return CheckResult(False, title, f"{worker} is still {seen.worker.activity_name}, so nobody can take the task.",
                           seen.lines(worker),
                           [f"Click Idle for {worker} in the activity widget above, then run this check again."]), True
    if status == "pending":
        return CheckResult(False, title, f"{worker} is available but has not been offered the task yet.",
                           seen.lines(worker),
                           ["If this lasts, another task may be waiting ahead of it, or the task is in another "
                            f"queue: {again_from(notebook, 'task')} (its first line tidies up older tasks)."]), False
    return None


def _assigned_verdict(title: str, seen: _Seen, worker: str, quickstart: QuickstartWorkspace,
                      success: str) -> tuple[CheckResult, bool]:
    res = seen.reservation
    if seen.task.assignment_status != "assigned" or res is None or res.reservation_status != "accepted":
        return CheckResult(False, title, f"the task is {seen.task.assignment_status}, not assigned yet.",
                           seen.lines(worker), ["Wait a moment and run this check again."]), False
    if res.worker_name != worker:
        return CheckResult(False, title, f"the task went to {res.worker_name}, not {worker}.", seen.lines(worker),
                           [f"Only {worker} speaks Spanish: check the workers' attributes (notebook 01)."]), True
    if seen.worker.activity_name != ASSIGNMENT_ACTIVITY:
        return CheckResult(False, title, f"the task is assigned, but {worker} is {seen.worker.activity_name}, "
                           f"not {ASSIGNMENT_ACTIVITY}.", seen.lines(worker),
                           [f"The Spanish queue's assignment activity must be {ASSIGNMENT_ACTIVITY} and the workspace "
                            "single-tasking (notebook 01's check), or someone moved her since."]), True
    return CheckResult(True, title, success, seen.lines(worker)), True


def _callback_for(server: CallbackServer, task_sid: str) -> CallbackEntry | None:
    entries = [e for e in server.log.entries() if e.params.get("TaskSid") == task_sid]
    return entries[-1] if entries else None


def _answer_problem(entry: CallbackEntry) -> str | None:
    if not entry.signature_valid:
        return ("The callback server refused TaskRouter's request (403: the X-Twilio-Signature did not match). "
                "The server checks it with this kernel's auth token; in local mode the local TaskRouter and the "
                "kernel must see the same TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN (restart both).")
    if entry.status >= 500 or entry.errors:
        return "Your route raised an exception (the callback inspector shows it); fix the route and re-run its cell."
    if entry.status != 200:
        return f"Your route answered HTTP {entry.status}; TaskRouter needs 200."
    if (entry.content_type or "").split(";")[0].strip() != "application/json":
        return (f"Your route answered Content-Type {entry.content_type!r}: TaskRouter ignores an instruction that "
                "is not application/json (mimetype='application/json').")
    try:
        answer = json.loads(entry.body or "{}")
    except ValueError:
        return f"Your route's answer is not JSON: {entry.body[:100]!r}."
    if not isinstance(answer, dict) or answer.get("instruction") != "accept":
        return (f'Your route answered {entry.body.strip() or "(empty)"}, not {{"instruction": "accept"}}: re-run '
                "the cell with the new route (it swaps the app behind the same server).")
    return None


def _local_alerts(client: Client, quickstart: QuickstartWorkspace, seen: _Seen) -> list[str]:
    """The local TaskRouter's record of callback problems for this reservation (local mode only)."""
    if seen.reservation is None:
        return []
    texts = [text for _code, text in _alerts_about(client, quickstart, [seen.reservation.sid]) if text]
    return [f"The local TaskRouter recorded: {text}" for text in texts[:2]]


def _alerts_about(client: Client, quickstart: QuickstartWorkspace, resource_sids: list[str]) -> list[tuple]:
    """(code, text) of the local TaskRouter's alerts about these resources, oldest first (local mode only)."""
    if mode_of(client) != "local" or not resource_sids:
        return []
    base = client.taskrouter.base_url
    try:
        answer = requests.get(f"{base}/_local/Alerts", params={"WorkspaceSid": quickstart.workspace_sid},
                              auth=(client.username, client.password), timeout=5)
        alerts = answer.json().get("alerts", []) if answer.ok else []
    except (requests.RequestException, ValueError):
        return []
    return [(a.get("error_code"), a.get("alert_text")) for a in alerts if a.get("resource_sid") in resource_sids]


def _api_failure(title: str, exc: TwilioException) -> CheckResult:
    return CheckResult(False, title, "TaskRouter could not be asked about the task.", [str(exc)],
                       ["Is the task SID from this notebook's task cell? Run the cells again from the top."])


# ---------------------------------------------------------------------------------- 04

STEP_04 = "04_tasks_from_phone_calls.ipynb"
SPANISH_QUEUE = QUEUES["Spanish"][0]


def check_step_04(client: Client, quickstart: QuickstartWorkspace, phone: Any, *, timeout: float = 5.0) -> CheckResult:
    """Step 04: a call, the digit 1, and a Spanish Task waiting with the caller's number in its attributes."""
    title = "a Task from a phone call"
    caller = phone.find_caller()
    if caller is None:
        return CheckResult(False, title, "there is no call yet.", [],
                           [f"Press Call on the phone ({again_from(STEP_04, 'call')})."])

    def evaluate() -> tuple[CheckResult, bool]:
        state = caller.state()
        heard = state["transcript"]
        seen = [f"Call {caller.sid} to {caller.to}: {state['status']}"]
        seen += [f"heard: {entry['what']}" + (f" {entry['text']!r}" if "text" in entry else "") for entry in heard]
        errors = [e for e in heard if e["what"] == "error"]
        if errors:
            error = errors[0]
            return CheckResult(False, title, f"your app's answer ended the call (error {error['code']}).", seen,
                               [f"{error['text']}. Fix the route, run its cell again, and call again."]), True
        task_sid = state.get("task_sid")
        if task_sid is None:
            if any(e["what"] == "gather-timeout" for e in heard):
                return CheckResult(False, title, "no digit was received: the menu waited 5 seconds.", seen,
                                   ["Press 1 while the menu plays (or right after), then check again."]), True
            if any(e["what"] == "digits" for e in heard):
                return CheckResult(False, title, "the digit arrived, but no Task was made.", seen,
                                   ["/enqueue_call must answer <Enqueue workflowSid=...><Task>...</Task></Enqueue>: "
                                    f"{again_from(STEP_04, 'app')}."]), False
            return CheckResult(False, title, "the call has not made a Task yet.", seen,
                               ["Wait for the menu, press 1, then run this check again."]), False
        task = client.taskrouter.v1.workspaces(quickstart.workspace_sid).tasks(task_sid).fetch()
        attributes = json.loads(task.attributes or "{}")
        seen.append(f"Task {task.sid}: {task.assignment_status} in {task.task_queue_friendly_name!r}, "
                    f"attributes {task.attributes}")
        if task.task_queue_friendly_name != SPANISH_QUEUE:
            where = task.task_queue_friendly_name
            return CheckResult(False, title, f"the Task is in {where!r}, not the Spanish queue.", seen,
                               ["Did /enqueue_call read the digit with request.values? Gather POSTs it as a "
                                "form field, so request.args is empty and every caller goes to English."]), True
        if attributes.get("from") != caller.from_:
            hint = "TaskRouter adds the call's fields to a Task it <Enqueue>s: did this call make it?"
            return CheckResult(False, title, "the Task does not carry the caller's number.", seen, [hint]), True
        return CheckResult(True, title, f"the call made Task {task.sid}, {task.assignment_status} in the Spanish "
                           f"queue, with the caller's number ({attributes['from']}) in its attributes.", seen), True

    return _wait(evaluate, timeout)


# ---------------------------------------------------------------------------------- 05

STEP_05 = "05_dequeue_a_call.ipynb"
# What each refusal of a dequeue means for this notebook's code.
DEQUEUE_HINTS = {
    "40130": "post_work_activity_sid must be the SID of an Activity of this workspace (WrapUp's).",
    "40131": "Alice needs a contact_uri attribute (her phone), or the instruction a 'to'.",
    "40132": "'from' must be a phone number of your account: the number the caller dialed is one.",
    "40133": "the Task must come from a call (<Enqueue workflowSid>) whose caller is still waiting.",
    "40134": "status_callback_events must list initiated, ringing, answered or completed.",
}


def check_step_05(client: Client, quickstart: QuickstartWorkspace, phone: Any, alice_phone: Any, *,
                  post_work_activity: str = "WrapUp", timeout: float = 5.0) -> CheckResult:
    """Step 05: the call was dequeued to Alice's phone, she answered, the call ended, she is wrapping up."""
    title = "dequeue a call to a worker"
    caller = phone.find_caller()
    task_sid = caller.task_sid() if caller is not None else None
    if task_sid is None:
        return CheckResult(False, title, "there is no Task from a call yet.", [],
                           [f"Call and press 1 on the phone ({again_from(STEP_05, 'call')})."])
    ws = client.taskrouter.v1.workspaces(quickstart.workspace_sid)

    def evaluate() -> tuple[CheckResult, bool]:
        task = ws.tasks(task_sid).fetch()
        reservations = sorted(ws.tasks(task_sid).reservations.list(), key=lambda r: r.date_created)
        alice = ws.workers(quickstart.workers["Alice"]).fetch()
        contact_uri = json.loads(alice.attributes or "{}").get("contact_uri")
        seen = [f"Task {task.sid}: {task.assignment_status}", f"Alice: {alice.activity_name}, "
                f"contact_uri {contact_uri!r}"]
        seen += [f"Reservation {r.sid}: {r.reservation_status}" for r in reservations]
        if not contact_uri:
            return CheckResult(False, title, "Alice has no contact_uri: TaskRouter does not know which phone "
                               "to ring.", seen, [f"{again_from(STEP_05, 'phone')}."]), True
        refused = _alerts_about(client, quickstart, [r.sid for r in reservations])
        if refused and task.assignment_status in OPEN_TASK:
            code, text = refused[-1]
            return CheckResult(False, title, f"TaskRouter refused your instruction (error {code}).", [*seen, text],
                               [DEQUEUE_HINTS.get(code, "Read the error above."),
                                f"Fix the route, then {again_from(STEP_05, 'route')}."]), True
        if task.assignment_status == "canceled":
            return CheckResult(False, title, "the caller hung up before Alice answered, so the Task was canceled.",
                               seen, [f"Call again: {again_from(STEP_05, 'call')}."]), True
        if task.assignment_status == "pending":
            if alice.activity_name == "Offline":
                return CheckResult(False, title, "Alice is Offline, so nobody is reserved for the Task.", seen,
                                   [f"Click Idle on Alice's row ({again_from(STEP_05, 'idle')})."]), True
            hint = "Did Alice decline, or not answer? The caller still waits: set Alice Idle again."
            return CheckResult(False, title, "the Task is waiting for a worker.", seen, [hint]), False
        if task.assignment_status == "reserved":
            ringing = alice_phone.current("ringing") if not alice_phone.real else None
            if ringing is not None:
                return CheckResult(False, title, "Alice's phone is ringing: answer it.", seen, []), True
            return CheckResult(False, title, "Alice is reserved, but her phone is not ringing yet.", seen,
                               ["Does /assignment_callback answer {\"instruction\": \"dequeue\", ...}? The "
                                f"callback log shows its answer ({again_from(STEP_05, 'route')})."]), False
        if task.assignment_status == "assigned":
            return CheckResult(False, title, "Alice answered and is talking to the caller: now hang up.", seen,
                               ["Press Hang up on either phone (or run the hang-up cell)."]), False
        if alice.activity_name != post_work_activity:
            return CheckResult(False, title, f"the call ended, but Alice is {alice.activity_name}, not "
                               f"{post_work_activity}.", seen,
                               ["The dequeue instruction's post_work_activity_sid says where Alice goes after "
                                f"the call: {again_from(STEP_05, 'route')}."]), True
        return CheckResult(True, title, f"TaskRouter rang Alice at {contact_uri}, bridged her to the caller, and "
                           f"when the call ended moved her to {post_work_activity}; the Task is "
                           f"{task.assignment_status}.", seen), True

    try:
        return _wait(evaluate, timeout)
    except TwilioException as exc:
        return _api_failure(title, exc)


# ---------------------------------------------------------------------------------- 06

STEP_06 = "06_worker_page.ipynb"


def check_step_06(client: Client, quickstart: QuickstartWorkspace, task_sid: str, server: CallbackServer, *,
                  timeout: float = 5.0) -> CheckResult:
    """Step 06: the page loaded with a token, the callback answered {} and Alice accepted on the page."""
    title = "accept a reservation on the worker page"
    ws = client.taskrouter.v1.workspaces(quickstart.workspace_sid)
    pages = [e for e in server.log.entries() if e.path == "/agents"]

    def evaluate() -> tuple[CheckResult, bool]:
        task = ws.tasks(task_sid).fetch()
        alice = ws.workers(quickstart.workers["Alice"]).fetch()
        reservations = ws.tasks(task_sid).reservations.list()
        seen = [f"Task {task.sid}: {task.assignment_status}", f"Alice: {alice.activity_name}"]
        seen += [f"Reservation {r.sid} for {r.worker_name}: {r.reservation_status}" for r in reservations]
        seen.append(f"the page was loaded {len(pages)} time(s); last answer HTTP {pages[-1].status}" if pages
                    else "the page was never loaded from your app")
        if not pages:
            return CheckResult(False, title, "Alice's page has not been opened.", seen,
                               [f"Open it with the link ({again_from(STEP_06, 'page')})."]), True
        if pages[-1].status != 200:
            return CheckResult(False, title, f"your /agents route answered HTTP {pages[-1].status}.", seen,
                               [f"Read the route's error in the cell output, then {again_from(STEP_06, 'app')}."]), True
        callback = _callback_for(server, task_sid)
        if callback is not None and callback.body.strip() not in ("{}", ""):
            return CheckResult(False, title, f"the assignment callback answered {callback.body.strip()!r}, so "
                               "the reservation did not wait for the page.", seen,
                               [f"/assignment_callback must answer {{}} here: {again_from(STEP_06, 'app')}."]), True
        if task.assignment_status in OPEN_TASK:
            hint = ("Click Idle on the page." if alice.activity_name == "Offline" else
                    "Click Accept on the reservation the page shows.")
            return CheckResult(False, title, f"the task is still {task.assignment_status}.", seen, [hint]), False
        accepted = [r for r in reservations if r.reservation_status in ACCEPTED_RESERVATION]
        if task.assignment_status == "canceled" or not accepted or accepted[0].worker_name != "Alice":
            return CheckResult(False, title, f"the task is {task.assignment_status}, not accepted by Alice.", seen,
                               [f"Create a new task: {again_from(STEP_06, 'task')}."]), True
        return CheckResult(True, title, f"Alice accepted Task {task.sid} on her page: it is {task.assignment_status} "
                           f"and she is {alice.activity_name}.", seen), True

    try:
        return _wait(evaluate, timeout)
    except TwilioException as exc:
        return _api_failure(title, exc)


# ---------------------------------------------------------------------------------- 07

STEP_07 = "07_wallboard.ipynb"


def check_step_07(client: Client, quickstart: QuickstartWorkspace, task_sids: list[str], *, minutes: int = 60,
                  timeout: float = 5.0) -> CheckResult:
    """Step 07: a worker took one of the notebook's tasks, and the statistics agree with the tasks themselves.

    The wallboard shows what the statistics calls answer; this check asks TaskRouter a second way (the
    Tasks list) and says whether the two agree, so the learner can trust the board.
    """
    title = "a wallboard from the statistics"
    ws = client.taskrouter.v1.workspaces(quickstart.workspace_sid)

    def evaluate() -> tuple[CheckResult, bool]:
        tasks = {sid: ws.tasks(sid).fetch() for sid in task_sids}
        waiting = len(ws.tasks.list(assignment_status=list(OPEN_TASK)))
        realtime = ws.real_time_statistics().fetch()
        cumulative = ws.cumulative_statistics().fetch(minutes=minutes)
        by_status = realtime.tasks_by_status or {}
        board_waiting = sum(int(by_status.get(status) or 0) for status in OPEN_TASK)
        taken = [t for t in tasks.values() if t.assignment_status in TAKEN_TASK]
        seen = [f"Task {t.sid} ({json.loads(t.attributes or '{}').get('selected_language')}): {t.assignment_status}"
                for t in tasks.values()]
        seen += [f"the Tasks list: {waiting} waiting; the real-time statistics: {board_waiting} waiting "
                 f"(tasks_by_status {dict(by_status)})",
                 f"reservations accepted in the last {minutes} minutes: {cumulative.reservations_accepted}"]
        if not taken:
            alice = ws.workers(quickstart.workers["Alice"]).fetch()
            if alice.activity_name == "Offline":
                return CheckResult(False, title, "nobody has taken a task yet: Alice is Offline.", seen,
                                   [f"Click Idle on Alice's row ({again_from(STEP_07, 'idle')})."]), True
            return CheckResult(False, title, "no task of this notebook has been accepted yet.", seen,
                               ["Does your route answer {\"instruction\": \"accept\"}? If not, fix it and "
                                f"{again_from(STEP_07, 'app')}."]), False
        if board_waiting != waiting:
            return CheckResult(False, title, f"the statistics say {board_waiting} waiting, the Tasks list "
                               f"{waiting}.", seen, ["Run the check again: a task may have moved between the two "
                                                     "reads."]), False
        if not cumulative.reservations_accepted:
            return CheckResult(False, title, "a task was accepted, but the cumulative statistics count no "
                               "accepted reservation.", seen, ["Run the check again in a moment."]), False
        return CheckResult(True, title, f"{len(taken)} of your {len(tasks)} tasks were taken; the statistics "
                           f"agree with the tasks: {waiting} still waiting, and {cumulative.reservations_accepted} "
                           f"reservation(s) accepted in the last {minutes} minutes.", seen), True

    try:
        return _wait(evaluate, timeout)
    except TwilioException as exc:
        return _api_failure(title, exc)
