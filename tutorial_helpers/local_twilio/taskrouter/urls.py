"""The route table: URL rule, methods, handler. Nothing else."""

from ..reachability import reachability
from . import handlers as h

WS = "/v1/Workspaces/<ws>"

URLS = [
    ("/v1/Workspaces", ["GET"], h.list_workspaces),
    ("/v1/Workspaces", ["POST"], h.create_workspace),
    ("/v1/Workspaces/<sid>", ["GET"], h.fetch_workspace),
    ("/v1/Workspaces/<sid>", ["POST"], h.update_workspace),
    ("/v1/Workspaces/<sid>", ["DELETE"], h.delete_workspace),
    (f"{WS}/Activities", ["GET"], h.list_activities),
    (f"{WS}/Activities", ["POST"], h.create_activity),
    (f"{WS}/Activities/<sid>", ["GET"], h.fetch_activity),
    (f"{WS}/Activities/<sid>", ["POST"], h.update_activity),
    (f"{WS}/Activities/<sid>", ["DELETE"], h.delete_activity),
    (f"{WS}/TaskChannels", ["GET"], h.list_task_channels),
    (f"{WS}/TaskChannels", ["POST"], h.create_task_channel),
    (f"{WS}/TaskChannels/<sid>", ["GET"], h.fetch_task_channel),
    (f"{WS}/TaskChannels/<sid>", ["POST"], h.update_task_channel),
    (f"{WS}/TaskChannels/<sid>", ["DELETE"], h.delete_task_channel),
    (f"{WS}/Workers", ["GET"], h.list_workers),
    (f"{WS}/Workers", ["POST"], h.create_worker),
    (f"{WS}/Workers/<sid>", ["GET"], h.fetch_worker),
    (f"{WS}/Workers/<sid>", ["POST"], h.update_worker),
    (f"{WS}/Workers/<sid>", ["DELETE"], h.delete_worker),
    (f"{WS}/Workers/<worker>/Channels", ["GET"], h.list_worker_channels),
    (f"{WS}/Workers/<worker>/Channels/<sid>", ["GET"], h.fetch_worker_channel),
    (f"{WS}/Workers/<worker>/Channels/<sid>", ["POST"], h.update_worker_channel),
    (f"{WS}/Workers/<worker>/Reservations", ["GET"], h.list_worker_reservations),
    (f"{WS}/Workers/<worker>/Reservations/<sid>", ["GET"], h.fetch_worker_reservation),
    (f"{WS}/Workers/<worker>/Reservations/<sid>", ["POST"], h.update_worker_reservation),
    (f"{WS}/TaskQueues", ["GET"], h.list_task_queues),
    (f"{WS}/TaskQueues", ["POST"], h.create_task_queue),
    (f"{WS}/TaskQueues/<sid>", ["GET"], h.fetch_task_queue),
    (f"{WS}/TaskQueues/<sid>", ["POST"], h.update_task_queue),
    (f"{WS}/TaskQueues/<sid>", ["DELETE"], h.delete_task_queue),
    (f"{WS}/Workflows", ["GET"], h.list_workflows),
    (f"{WS}/Workflows", ["POST"], h.create_workflow),
    (f"{WS}/Workflows/<sid>", ["GET"], h.fetch_workflow),
    (f"{WS}/Workflows/<sid>", ["POST"], h.update_workflow),
    (f"{WS}/Workflows/<sid>", ["DELETE"], h.delete_workflow),
    (f"{WS}/Tasks", ["GET"], h.list_tasks),
    (f"{WS}/Tasks", ["POST"], h.create_task),
    (f"{WS}/Tasks/<sid>", ["GET"], h.fetch_task),
    (f"{WS}/Tasks/<sid>", ["POST"], h.update_task),
    (f"{WS}/Tasks/<sid>", ["DELETE"], h.delete_task),
    (f"{WS}/Tasks/<task>/Reservations", ["GET"], h.list_task_reservations),
    (f"{WS}/Tasks/<task>/Reservations/<sid>", ["GET"], h.fetch_task_reservation),
    (f"{WS}/Tasks/<task>/Reservations/<sid>", ["POST"], h.update_task_reservation),
    (f"{WS}/Events", ["GET"], h.list_events),
    (f"{WS}/Events/<sid>", ["GET"], h.fetch_event),
    # Local control, outside /v1 (documented in the README).
    ("/_local/health", ["GET"], h.health),
    ("/_local/Clock", ["GET"], h.get_clock),
    ("/_local/Clock", ["POST"], h.advance_clock),
    ("/_local/Alerts", ["GET"], h.list_alerts),
    ("/_local/Reachability", ["POST"], reachability),
]

UNAUTHENTICATED = {"/_local/health"}
