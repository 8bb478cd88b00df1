"""The 15 Statistics endpoints: read params -> figures -> the Twilio body (every field of the spec's set)."""

from typing import Any

from flask import Response, current_app, request

from ...core.exceptions import InvalidParameter
from ...core.http import integer, param, param_date, param_int, reply
from ...core.limits import FIRST_DATE, MINUTES, SPLIT_BY_WAIT_TIME
from ...core.state import Row
from ..models import Backend
from ..rendering import account, base_url, page
from . import cumulative, realtime
from .cumulative import DEFAULT_MINUTES, Window


def backend() -> Backend:
    return current_app.config["BACKEND"]


# ---------------------------------------------------------------------------- parameters

def window(b: Backend) -> Window:
    """Minutes (when given) counts back from now; else StartDate; else Twilio's default 15 minutes.
    EndDate (default now) ends it. Both ends are inclusive."""
    minutes = param_int("Minutes", MINUTES)
    start, end = param_date("StartDate"), param_date("EndDate")
    now = b.now()
    end = now if end is None else end
    if minutes is not None:
        start = now - minutes * 60
    elif start is None:
        start = end - DEFAULT_MINUTES * 60
    start = max(start, FIRST_DATE)  # EndDate 0001-01-01 minus 15 minutes: no event is older anyway
    if start > end:
        raise InvalidParameter("StartDate must not be after EndDate")
    return Window(start, end)


def thresholds() -> list[int]:
    text = param("SplitByWaitTime")
    if text is None or text.strip() == "":
        return []
    out = []
    for part in text.split(","):
        seconds = integer("SplitByWaitTime", part.strip(), SPLIT_BY_WAIT_TIME)
        if seconds is None:
            raise InvalidParameter(f"SplitByWaitTime must be a comma-separated list of seconds, got {text[:60]!r}")
        out.append(seconds)
    return sorted(set(out))


def channel(b: Backend, ws_sid: str) -> str | None:
    """TaskChannel by SID or unique_name -> its SID; one the workspace does not have is a 400."""
    value = param("TaskChannel")
    if value is None or value == "":
        return None
    with b.state.lock:
        for row in b.state.of(ws_sid, "task_channel").values():
            if value in (row["sid"], row["unique_name"]):
                return row["sid"]
    raise InvalidParameter(f"TaskChannel {value!r} is not a TaskChannel of this Workspace")


def scope(b: Backend, ws_sid: str, **sids: str) -> dict[str, str]:
    """The figure columns to filter the events on: the resource, and the TaskChannel if given."""
    found = channel(b, ws_sid)
    return {**sids, **({"channel": found} if found else {})}


def tasks_of(b: Backend, ws_sid: str, channel_sid: str | None, **match: str) -> list[Row]:
    """The workspace's tasks that match; the caller holds the state's lock (see live)."""
    return [t for t in b.state.of(ws_sid, "task").values()
            if (channel_sid is None or t["task_channel_sid"] == channel_sid)
            and all(t[k] == v for k, v in match.items())]


def live(b: Backend) -> Any:
    """Real-time figures are counted under the state's lock, as units of work change rows under it: a task
    canceled in the middle of a count was a KeyError (a 500), and a total could differ from its parts."""
    return b.state.lock


# ---------------------------------------------------------------------------- bodies

def _head(ws: Row, path: str, **sids: str | None) -> dict[str, Any]:
    return {"account_sid": ws["account_sid"], "workspace_sid": ws["sid"], **sids,
            "url": f"{base_url()}/Workspaces/{ws['sid']}{path}"}


def _workspace(account_sid: str, ws_sid: str) -> tuple[Backend, Row]:
    b = backend()
    return b, b.workspace(account_sid, ws_sid)


# ---------------------------------------------------------------------------- workspace

def workspace_cumulative(ws: str) -> Response:
    b, row = _workspace(account(), ws)
    figures = cumulative.workspace(b, ws, window(b), scope(b, ws), thresholds())
    return reply({**_head(row, "/CumulativeStatistics"), **figures})


def workspace_realtime(ws: str) -> Response:
    b, row = _workspace(account(), ws)
    with live(b):
        figures = realtime.workspace(b, ws, tasks_of(b, ws, channel(b, ws)))
    return reply({**_head(row, "/RealTimeStatistics"), **figures})


def workspace_statistics(ws: str) -> Response:
    b, row = _workspace(account(), ws)
    found = channel(b, ws)
    figures = cumulative.workspace(b, ws, window(b), scope(b, ws), thresholds())
    with live(b):
        now = realtime.workspace(b, ws, tasks_of(b, ws, found))
    return reply({**_head(row, "/Statistics"), "cumulative": figures, "realtime": now})


# ---------------------------------------------------------------------------- task queues

def _queue(ws: str, sid: str) -> tuple[Backend, Row, Row]:
    b, row = _workspace(account(), ws)
    return b, row, b.child(account(), ws, "task_queue", sid, "TaskQueues")


def _queue_cumulative(b: Backend, ws: str, queue: Row) -> dict[str, Any]:
    return cumulative.task_queue(b, ws, window(b), scope(b, ws, task_queue=queue["sid"]), thresholds())


def _queue_realtime(b: Backend, ws: str, queue: Row) -> dict[str, Any]:
    found = channel(b, ws)
    with live(b):
        return realtime.task_queue(b, queue, tasks_of(b, ws, found, task_queue_sid=queue["sid"]))


def task_queue_cumulative(ws: str, sid: str) -> Response:
    b, row, queue = _queue(ws, sid)
    body = {**_head(row, f"/TaskQueues/{sid}/CumulativeStatistics", task_queue_sid=sid),
            **_queue_cumulative(b, ws, queue)}
    return reply(body)


def task_queue_realtime(ws: str, sid: str) -> Response:
    b, row, queue = _queue(ws, sid)
    return reply({**_head(row, f"/TaskQueues/{sid}/RealTimeStatistics", task_queue_sid=sid),
                  **_queue_realtime(b, ws, queue)})


def task_queue_statistics(ws: str, sid: str) -> Response:
    b, row, queue = _queue(ws, sid)
    return reply({**_head(row, f"/TaskQueues/{sid}/Statistics", task_queue_sid=sid),
                  "cumulative": _queue_cumulative(b, ws, queue), "realtime": _queue_realtime(b, ws, queue)})


def task_queues_statistics(ws: str) -> Response:
    """The list: one entry per queue (FriendlyName filters), paged like every list."""
    b, row = _workspace(account(), ws)
    name = param("FriendlyName")
    with live(b):
        queues = [q for q in b.state.of(ws, "task_queue").values() if name is None or q["friendly_name"] == name]
    # A bad parameter is a 400 even when there is no queue to compute.
    window(b)
    thresholds()
    channel(b, ws)
    entries = [{"_kind": "task_queue_statistics", "account_sid": row["account_sid"], "workspace_sid": ws,
                "task_queue_sid": q["sid"], "cumulative": _queue_cumulative(b, ws, q),
                "realtime": _queue_realtime(b, ws, q)} for q in queues]
    return page(b, entries, "task_queues_statistics")


def task_queues_bulk_realtime(ws: str) -> Response:
    """POST with a JSON body `{"TaskQueueSids": [...]}` (the SDK's shape), up to 50; unknown queues are left out."""
    b, row = _workspace(account(), ws)
    sids = _bulk_sids()
    data = []
    with live(b):
        for sid in sids:
            queue = b.state.rows.get(sid)
            if queue is None or queue["_kind"] != "task_queue" or queue["workspace_sid"] != ws:
                continue
            data.append({"task_queue_sid": sid, **realtime.task_queue(b, queue, tasks_of(b, ws, None,
                                                                                       task_queue_sid=sid))})
    return reply({**_head(row, "/TaskQueues/RealTimeStatistics"), "task_queue_data": data,
                  "task_queue_response_count": len(data)})


def _bulk_sids() -> list[str]:
    body = request.get_json(silent=True) if request.is_json else None
    if isinstance(body, dict):
        sids = body.get("TaskQueueSids", body.get("task_queue_sids", []))
    elif isinstance(body, list):  # a bare JSON list of SIDs
        sids = body
    else:
        sids = request.form.getlist("TaskQueueSids") or [
            s for v in request.form.getlist("TaskQueueSid") for s in v.split(",")]
    if not isinstance(sids, list) or not all(isinstance(s, str) for s in sids):
        raise InvalidParameter("TaskQueueSids must be a list of TaskQueue SIDs")
    if len(sids) > 50:
        raise InvalidParameter(f"At most 50 TaskQueueSids per request, got {len(sids)}")
    return [s.strip() for s in sids]


# ---------------------------------------------------------------------------- workers

def _workers_where(b: Backend, ws: str) -> list[Row]:
    """Workers/Statistics filters: TaskQueueSid or TaskQueueName (its eligible workers), FriendlyName."""
    rows = list(b.state.of(ws, "worker").values())
    queue_sid, queue_name, name = param("TaskQueueSid"), param("TaskQueueName"), param("FriendlyName")
    if queue_sid or queue_name:
        queues = [q for q in b.state.of(ws, "task_queue").values()
                  if q["sid"] == queue_sid or q["friendly_name"] == queue_name]
        members = b.members(queues[0]) if queues else frozenset()
        rows = [w for w in rows if w["sid"] in members]
    return [w for w in rows if name is None or w["friendly_name"] == name]


def workers_cumulative(ws: str) -> Response:
    b, row = _workspace(account(), ws)
    return reply({**_head(row, "/Workers/CumulativeStatistics"),
                  **cumulative.workers(b, ws, window(b), scope(b, ws))})


def workers_realtime(ws: str) -> Response:
    b, row = _workspace(account(), ws)
    channel(b, ws)  # validated; a worker's activity does not depend on a channel
    with live(b):
        figures = realtime.workers(b, ws, list(b.state.of(ws, "worker").values()))
    return reply({**_head(row, "/Workers/RealTimeStatistics"), **figures})


def workers_statistics(ws: str) -> Response:
    """Cumulative figures of the whole workspace's workers (a filter narrows only the real-time part: the
    events of the workers a filter selects would need one query per worker)."""
    b, row = _workspace(account(), ws)
    figures = cumulative.workers(b, ws, window(b), scope(b, ws))
    with live(b):
        now = realtime.workers(b, ws, _workers_where(b, ws))
    return reply({**_head(row, "/Workers/Statistics"), "cumulative": figures, "realtime": now})


def worker_statistics(ws: str, sid: str) -> Response:
    b, row = _workspace(account(), ws)
    b.child(account(), ws, "worker", sid, "Workers")
    return reply({**_head(row, f"/Workers/{sid}/Statistics", worker_sid=sid),
                  "cumulative": cumulative.workers(b, ws, window(b), scope(b, ws, worker=sid))})


# ---------------------------------------------------------------------------- workflows

def _workflow(ws: str, sid: str) -> tuple[Backend, Row]:
    b, row = _workspace(account(), ws)
    b.child(account(), ws, "workflow", sid, "Workflows")
    return b, row


def _workflow_cumulative(b: Backend, ws: str, sid: str) -> dict[str, Any]:
    return cumulative.workflow(b, ws, window(b), scope(b, ws, workflow=sid), thresholds())


def _workflow_realtime(b: Backend, ws: str, sid: str) -> dict[str, Any]:
    found = channel(b, ws)
    with live(b):
        return realtime.workflow(b, tasks_of(b, ws, found, workflow_sid=sid))


def workflow_cumulative(ws: str, sid: str) -> Response:
    b, row = _workflow(ws, sid)
    return reply({**_head(row, f"/Workflows/{sid}/CumulativeStatistics", workflow_sid=sid),
                  **_workflow_cumulative(b, ws, sid)})


def workflow_realtime(ws: str, sid: str) -> Response:
    b, row = _workflow(ws, sid)
    return reply({**_head(row, f"/Workflows/{sid}/RealTimeStatistics", workflow_sid=sid),
                  **_workflow_realtime(b, ws, sid)})


def workflow_statistics(ws: str, sid: str) -> Response:
    b, row = _workflow(ws, sid)
    return reply({**_head(row, f"/Workflows/{sid}/Statistics", workflow_sid=sid),
                  "cumulative": _workflow_cumulative(b, ws, sid), "realtime": _workflow_realtime(b, ws, sid)})

