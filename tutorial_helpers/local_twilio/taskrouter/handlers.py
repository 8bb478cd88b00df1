"""One function per endpoint: read params -> one backend call -> render."""

from flask import Response, current_app, request

from ..core.exceptions import InvalidParameter
from ..core.http import no_content, param, param_bool, param_date, param_int
from ..core.limits import (
    CAPACITY,
    MAX_RESERVED_WORKERS,
    MINUTES,
    PRIORITY,
    RESERVATION_TIMEOUT,
    TASK_TIMEOUT,
)
from . import instructions
from .models import Backend, json_object
from .rendering import (
    account,
    expression_filter,
    if_match,
    instance,
    ordering,
    page,
    param_choice,
    param_list,
    render,
)
from .statuses import TASK_STATUSES


def backend() -> Backend:
    return current_app.config["BACKEND"]


# ---------------------------------------------------------------------------- workspaces

def list_workspaces() -> Response:
    rows = backend().list_workspaces(account(), param("FriendlyName"))
    return page(backend(), rows, "workspaces")


def create_workspace() -> Response:
    row = backend().create_workspace(
        account(),
        param("FriendlyName"),
        event_callback_url=param("EventCallbackUrl"),
        events_filter=param("EventsFilter"),
        multi_task_enabled=param_bool("MultiTaskEnabled"),
        template=param("Template"),
        prioritize_queue_order=param("PrioritizeQueueOrder"),
    )
    return instance(backend(), row, 201)


def fetch_workspace(sid: str) -> Response:
    return instance(backend(), backend().workspace(account(), sid))


def update_workspace(sid: str) -> Response:
    row = backend().update_workspace(
        account(),
        sid,
        friendly_name=param("FriendlyName"),
        event_callback_url=param("EventCallbackUrl"),
        events_filter=param("EventsFilter"),
        multi_task_enabled=param_bool("MultiTaskEnabled"),
        prioritize_queue_order=param("PrioritizeQueueOrder"),
        default_activity_sid=param("DefaultActivitySid"),
        timeout_activity_sid=param("TimeoutActivitySid"),
    )
    return instance(backend(), row)


def delete_workspace(sid: str) -> Response:
    backend().delete_workspace(account(), sid)
    return no_content()


# ---------------------------------------------------------------------------- activities

def list_activities(ws: str) -> Response:
    name, available = param("FriendlyName"), param_bool("Available")
    rows = [
        r
        for r in backend().children(account(), ws, "activity")
        if (name is None or r["friendly_name"] == name)
        and (available is None or r["available"] == available)
    ]
    return page(backend(), rows, "activities")


def create_activity(ws: str) -> Response:
    row = backend().create_activity(account(), ws, param("FriendlyName"), param_bool("Available"))
    return instance(backend(), row, 201)


def fetch_activity(ws: str, sid: str) -> Response:
    return instance(backend(), backend().child(account(), ws, "activity", sid, "Activities"))


def update_activity(ws: str, sid: str) -> Response:
    return instance(backend(), backend().update_activity(account(), ws, sid, param("FriendlyName")))


def delete_activity(ws: str, sid: str) -> Response:
    backend().delete_activity(account(), ws, sid)
    return no_content()


# ---------------------------------------------------------------------------- task channels

def list_task_channels(ws: str) -> Response:
    return page(backend(), backend().children(account(), ws, "task_channel"), "channels")


def create_task_channel(ws: str) -> Response:
    row = backend().create_task_channel(
        account(), ws, param("FriendlyName"), param("UniqueName"),
        param_bool("ChannelOptimizedRouting"),
    )
    return instance(backend(), row, 201)


def _channel_sid(ws: str, sid: str) -> str:
    """TaskChannels can be addressed by SID or by unique name."""
    backend().workspace(account(), ws)
    for row in backend().state.of(ws, "task_channel").values():
        if sid in (row["sid"], row["unique_name"]):
            return row["sid"]
    return sid


def fetch_task_channel(ws: str, sid: str) -> Response:
    row = backend().child(account(), ws, "task_channel", _channel_sid(ws, sid), "TaskChannels")
    return instance(backend(), row)


def update_task_channel(ws: str, sid: str) -> Response:
    row = backend().update_task_channel(
        account(), ws, _channel_sid(ws, sid),
        friendly_name=param("FriendlyName"),
        channel_optimized_routing=param_bool("ChannelOptimizedRouting"),
    )
    return instance(backend(), row)


def delete_task_channel(ws: str, sid: str) -> Response:
    backend().delete_task_channel(account(), ws, _channel_sid(ws, sid))
    return no_content()


# ---------------------------------------------------------------------------- workers

def list_workers(ws: str) -> Response:
    b = backend()
    rows = b.children(account(), ws, "worker")
    activity_name, activity_sid = param("ActivityName"), param("ActivitySid")
    available, name = param_bool("Available"), param("FriendlyName")
    expression = expression_filter("TargetWorkersExpression")
    queue_sid, queue_name = param("TaskQueueSid"), param("TaskQueueName")
    queue = None
    if queue_sid or queue_name:
        queues = [
            q for q in b.children(account(), ws, "task_queue")
            if q["sid"] == queue_sid or q["friendly_name"] == queue_name
        ]
        if not queues:
            return page(b, [], "workers")
        queue = queues[0]
    rows = [
        r
        for r in rows
        if (activity_name is None or r["activity_name"] == activity_name)
        and (activity_sid is None or r["activity_sid"] == activity_sid)
        and (available is None or r["available"] == available)
        and (name is None or r["friendly_name"] == name)
        and (expression is None or expression(r["_attrs"]))
        and (queue is None or b.queue_matches(queue, r))
    ]
    rows = ordering(rows, {"DateStatusChanged": lambda r: r["_status_changed_ts"]})
    return page(b, rows, "workers")


def create_worker(ws: str) -> Response:
    row = backend().create_worker(
        account(), ws, param("FriendlyName"), param("ActivitySid"), param("Attributes")
    )
    return instance(backend(), row, 201)


def fetch_worker(ws: str, sid: str) -> Response:
    return instance(backend(), backend().child(account(), ws, "worker", sid, "Workers"))


def update_worker(ws: str, sid: str) -> Response:
    row = backend().update_worker(
        account(), ws, sid,
        activity_sid=param("ActivitySid"),
        attributes=param("Attributes"),
        friendly_name=param("FriendlyName"),
        reject_pending_reservations=param_bool("RejectPendingReservations"),
        if_match=if_match(),
    )
    return instance(backend(), row)


def delete_worker(ws: str, sid: str) -> Response:
    backend().delete_worker(account(), ws, sid, if_match())
    return no_content()


def list_worker_channels(ws: str, worker: str) -> Response:
    return page(backend(), backend().worker_channels(account(), ws, worker), "channels")


def fetch_worker_channel(ws: str, worker: str, sid: str) -> Response:
    return instance(backend(), backend().worker_channel(account(), ws, worker, sid))


def update_worker_channel(ws: str, worker: str, sid: str) -> Response:
    row = backend().update_worker_channel(
        account(), ws, worker, sid, param_int("Capacity", CAPACITY), param_bool("Available")
    )
    return instance(backend(), row)


# ---------------------------------------------------------------------------- task queues

def _queue_params() -> dict:
    return {
        "friendly_name": param("FriendlyName"),
        "target_workers": param("TargetWorkers"),
        "reservation_activity_sid": param("ReservationActivitySid"),
        "assignment_activity_sid": param("AssignmentActivitySid"),
        "max_reserved_workers": param_int("MaxReservedWorkers", MAX_RESERVED_WORKERS),
        "task_order": param("TaskOrder"),
    }


def list_task_queues(ws: str) -> Response:
    b = backend()
    rows = b.children(account(), ws, "task_queue")
    name, worker_sid = param("FriendlyName"), param("WorkerSid")
    attrs_text = param("EvaluateWorkerAttributes")
    probe = None
    if attrs_text:
        probe = {"_attrs": json_object(attrs_text, "EvaluateWorkerAttributes")}
    if worker_sid:
        probe = b.child(account(), ws, "worker", worker_sid, "Workers")
    rows = [
        r
        for r in rows
        if (name is None or r["friendly_name"] == name)
        and (probe is None or b.queue_matches(r, probe))
    ]
    rows = ordering(rows, {"DateCreated": lambda r: r["_seq"]})
    return page(b, rows, "task_queues")


def create_task_queue(ws: str) -> Response:
    return instance(backend(), backend().create_task_queue(account(), ws, **_queue_params()), 201)


def fetch_task_queue(ws: str, sid: str) -> Response:
    return instance(backend(), backend().child(account(), ws, "task_queue", sid, "TaskQueues"))


def update_task_queue(ws: str, sid: str) -> Response:
    return instance(backend(), backend().update_task_queue(account(), ws, sid, **_queue_params()))


def delete_task_queue(ws: str, sid: str) -> Response:
    backend().delete_task_queue(account(), ws, sid)
    return no_content()


# ---------------------------------------------------------------------------- workflows

def _workflow_params() -> dict:
    return {
        "friendly_name": param("FriendlyName"),
        "configuration": param("Configuration"),
        "assignment_callback_url": param("AssignmentCallbackUrl"),
        "fallback_assignment_callback_url": param("FallbackAssignmentCallbackUrl"),
        "task_reservation_timeout": param_int("TaskReservationTimeout", RESERVATION_TIMEOUT),
    }


def list_workflows(ws: str) -> Response:
    name = param("FriendlyName")
    rows = [
        r for r in backend().children(account(), ws, "workflow")
        if name is None or r["friendly_name"] == name
    ]
    return page(backend(), rows, "workflows")


def create_workflow(ws: str) -> Response:
    return instance(backend(), backend().create_workflow(account(), ws, **_workflow_params()), 201)


def fetch_workflow(ws: str, sid: str) -> Response:
    return instance(backend(), backend().child(account(), ws, "workflow", sid, "Workflows"))


def update_workflow(ws: str, sid: str) -> Response:
    row = backend().update_workflow(
        account(), ws, sid, **_workflow_params(), re_evaluate_tasks=param_bool("ReEvaluateTasks")
    )
    return instance(backend(), row)


def delete_workflow(ws: str, sid: str) -> Response:
    backend().delete_workflow(account(), ws, sid)
    return no_content()


# ---------------------------------------------------------------------------- tasks

def list_tasks(ws: str) -> Response:
    b = backend()
    rows = b.children(account(), ws, "task")
    statuses = param_list("AssignmentStatus")
    for status in statuses:
        if status not in TASK_STATUSES:
            raise InvalidParameter(
                f"AssignmentStatus must be among {', '.join(TASK_STATUSES)}, got {status!r}"
            )
    priority = param_int("Priority", PRIORITY)
    workflow_sid, workflow_name = param("WorkflowSid"), param("WorkflowName")
    queue_sid, queue_name = param("TaskQueueSid"), param("TaskQueueName")
    expression = expression_filter("EvaluateTaskAttributes")
    has_addons = param_bool("HasAddons")
    routing_target = param("RoutingTarget")
    rows = [
        r
        for r in rows
        if (not statuses or r["assignment_status"] in statuses)
        and (routing_target is None or r["routing_target"] == routing_target)
        and (priority is None or r["priority"] == priority)
        and (workflow_sid is None or r["workflow_sid"] == workflow_sid)
        and (workflow_name is None or r["workflow_friendly_name"] == workflow_name)
        and (queue_sid is None or r["task_queue_sid"] == queue_sid)
        and (queue_name is None or r["task_queue_friendly_name"] == queue_name)
        and (expression is None or expression(r["_attrs"]))
        and (has_addons is None or (r["addons"] not in (None, "{}")) == has_addons)
    ]
    order = param("Ordering") or ""
    if "DateCreated" in order and "VirtualStartTime" in order:
        raise InvalidParameter("Ordering may not pair DateCreated with VirtualStartTime")
    rows = ordering(rows, {
        "DateCreated": lambda r: r["_created_ts"],
        "Priority": lambda r: r["priority"],
        "VirtualStartTime": lambda r: r["virtual_start_time"],
    })
    return page(b, rows, "tasks")


def create_task(ws: str) -> Response:
    if param("TaskQueueSid") or param("RoutingTarget"):
        raise InvalidParameter(
            "TaskQueueSid and RoutingTarget are not supported by the local TaskRouter; "
            "route tasks with a WorkflowSid"
        )
    row = backend().create_task(
        account(), ws,
        attributes=param("Attributes"),
        workflow_sid=param("WorkflowSid"),
        priority=param_int("Priority", PRIORITY),
        timeout=param_int("Timeout", TASK_TIMEOUT),
        task_channel=param("TaskChannel"),
        virtual_start_time=param("VirtualStartTime"),
    )
    return instance(backend(), row, 201)


def fetch_task(ws: str, sid: str) -> Response:
    return instance(backend(), backend().child(account(), ws, "task", sid, "Tasks"))


def update_task(ws: str, sid: str) -> Response:
    row = backend().update_task(
        account(), ws, sid,
        attributes=param("Attributes"),
        assignment_status=param("AssignmentStatus"),
        reason=param("Reason"),
        priority=param_int("Priority", PRIORITY),
        task_channel=param("TaskChannel"),
        virtual_start_time=param("VirtualStartTime"),
        if_match=if_match(),
    )
    return instance(backend(), row)


def delete_task(ws: str, sid: str) -> Response:
    backend().delete_task(account(), ws, sid, if_match())
    return no_content()


# ---------------------------------------------------------------------------- reservations

RESERVATION_STATUSES = (
    "pending", "accepted", "rejected", "timeout", "canceled", "rescinded", "wrapping", "completed",
)


def _list_reservations(ws: str, task: str | None, worker: str | None) -> Response:
    status = param_choice("ReservationStatus", RESERVATION_STATUSES)
    worker_filter = param("WorkerSid") if task else None
    rows = [
        r
        for r in backend().reservations(account(), ws, task_sid=task, worker_sid=worker)
        if (status is None or r["reservation_status"] == status)
        and (worker_filter is None or r["worker_sid"] == worker_filter)
    ]
    return page(backend(), rows, "reservations", via_worker=worker is not None)


def list_task_reservations(ws: str, task: str) -> Response:
    return _list_reservations(ws, task, None)


def list_worker_reservations(ws: str, worker: str) -> Response:
    return _list_reservations(ws, None, worker)


def fetch_task_reservation(ws: str, task: str, sid: str) -> Response:
    return instance(backend(), backend().reservation(account(), ws, sid, task_sid=task))


def fetch_worker_reservation(ws: str, worker: str, sid: str) -> Response:
    row = backend().reservation(account(), ws, sid, worker_sid=worker)
    return instance(backend(), row, via_worker=True)


def _update_reservation(ws: str, sid: str, task: str | None, worker: str | None) -> Response:
    name = param("Instruction")
    row = backend().update_reservation(
        account(), ws, sid,
        task_sid=task,
        worker_sid=worker,
        reservation_status=param("ReservationStatus"),
        worker_activity_sid=param("WorkerActivitySid"),
        instruction=None if name is None else instructions.from_rest(name, request.form.getlist),
        if_match=if_match(),
    )
    return instance(backend(), row, via_worker=worker is not None)


def update_task_reservation(ws: str, task: str, sid: str) -> Response:
    return _update_reservation(ws, sid, task, None)


def update_worker_reservation(ws: str, worker: str, sid: str) -> Response:
    return _update_reservation(ws, sid, None, worker)


# ---------------------------------------------------------------------------- events

def list_events(ws: str) -> Response:
    b = backend()
    types = param_list("EventType")
    minutes = param_int("Minutes", MINUTES)
    start, end = param_date("StartDate"), param_date("EndDate")
    since = b.now() - minutes * 60 if minutes else None
    wanted = {
        "reservation_sid": param("ReservationSid"),
        "task_queue_sid": param("TaskQueueSid"),
        "task_sid": param("TaskSid"),
        "worker_sid": param("WorkerSid"),
        "workflow_sid": param("WorkflowSid"),
    }
    channel, sid = param("TaskChannel"), param("Sid")

    def keep(e: dict) -> bool:
        data = e["event_data"]
        ts = e["event_date_ms"] / 1000
        return (
            (not types or e["event_type"] in types)
            and (since is None or ts >= since)
            and (start is None or ts >= start)
            and (end is None or ts <= end)
            and all(v is None or data.get(k) == v or e["resource_sid"] == v
                    for k, v in wanted.items())
            and (channel is None or channel in (data.get("task_channel_sid"),
                                                data.get("task_channel_unique_name")))
            and (sid is None or e["sid"] == sid)
        )

    lower = max((t for t in (since, start) if t is not None), default=None)
    related = {k: v for k, v in wanted.items() if v is not None}
    selection = b.event_selection(account(), ws, types=types, since=lower, until=end, sid=sid, related=related)
    if selection.exact and channel is None:
        return page(b, selection, "events")  # decodes only the page's events
    # A shared sid key or a TaskChannel (a sid or a unique name) is decided on the decoded rows.
    return page(b, [e for e in selection.all() if keep(e)], "events")


def fetch_event(ws: str, sid: str) -> Response:
    return instance(backend(), backend().event(account(), ws, sid))


# ---------------------------------------------------------------------------- local control

def list_alerts() -> Response:
    b = backend()
    ws = param("WorkspaceSid")
    rows = b.alerts(account(), ws)
    return page(b, rows, "alerts")


__all__ = ["render"]
