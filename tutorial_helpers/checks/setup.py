"""The checks of notebooks 00 (the environment: Python, widgets, the TaskRouter, ngrok or the room's network)
and 01 (the quickstart's workspace, as the quickstart configures it).
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from importlib.metadata import PackageNotFoundError, version
from typing import Any
from urllib.parse import urlsplit

import requests
from flask import Flask
from twilio.rest import Client

from tutorial_helpers.callback_host import is_all, lan_address
from tutorial_helpers.callback_server import HEALTH_PATH, CallbackServer, callback_address
from tutorial_helpers.checks.common import HEADINGS, STEP_03, CheckResult
from tutorial_helpers.settings import Settings, is_loopback
from tutorial_helpers.workspace import (
    ACTIVITIES,
    ASSIGNMENT_ACTIVITY,
    QUEUES,
    RESERVATION_ACTIVITY,
    WORKERS,
    WORKFLOW_NAME,
    WORKSPACE_NAME,
    find_by_name,
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
