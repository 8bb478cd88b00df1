"""TaskQueues: who may take a task (TargetWorkers), and the activities a queue moves its workers to.

A queue's ReservationActivity and AssignmentActivity are applied by the
reservation lifecycle (reservations.py); a queue that holds open tasks or that a
workflow routes to cannot be deleted.
"""

from typing import Any

from ...core.exceptions import InUse, InvalidParameter, LimitExceeded
from ...core.limits import MAX_RESERVED_WORKERS
from ...core.state import Row, new_sid
from .base import (
    MAX_TASK_QUEUES,
    BackendBase,
    valid_expression,
    valid_friendly_name,
)


class TaskQueuesMixin(BackendBase):
    """TaskQueues."""

    def _insert_queue(
        self,
        ws: Row,
        name: str,
        target_workers: str,
        reservation_activity: Row | None,
        assignment_activity: Row | None,
        max_reserved_workers: int,
        task_order: str,
    ) -> Row:
        return self.state.insert(
            "task_queue",
            {
                "sid": new_sid("WQ"),
                "account_sid": ws["account_sid"],
                "workspace_sid": ws["sid"],
                "friendly_name": name,
                "target_workers": target_workers,
                "reservation_activity_sid": reservation_activity and reservation_activity["sid"],
                "reservation_activity_name": reservation_activity
                and reservation_activity["friendly_name"],
                "assignment_activity_sid": assignment_activity and assignment_activity["sid"],
                "assignment_activity_name": assignment_activity
                and assignment_activity["friendly_name"],
                "max_reserved_workers": max_reserved_workers,
                "task_order": task_order,
                **self._stamp(),
            },
        )

    def _queue_params(self, ws: Row, params: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if params.get("target_workers") is not None:
            valid_expression(params["target_workers"], "TargetWorkers")
            out["target_workers"] = params["target_workers"]
        mrw = params.get("max_reserved_workers")
        if mrw is not None:
            out["max_reserved_workers"] = MAX_RESERVED_WORKERS.check(mrw, "MaxReservedWorkers")
        order = params.get("task_order")
        if order is not None:
            if order not in ("FIFO", "LIFO"):
                raise InvalidParameter(f"TaskOrder must be FIFO or LIFO, got {order!r}")
            out["task_order"] = order
        for field, what in (
            ("reservation_activity", "ReservationActivitySid"),
            ("assignment_activity", "AssignmentActivitySid"),
        ):
            if params.get(f"{field}_sid") is not None:
                activity = self._activity(ws, params[f"{field}_sid"], what)
                out[f"{field}_sid"] = activity["sid"]
                out[f"{field}_name"] = activity["friendly_name"]
        return out

    def create_task_queue(self, account_sid: str, ws_sid: str, **params: Any) -> Row:
        with self.state.unit():
            ws = self.workspace(account_sid, ws_sid)
            name = valid_friendly_name(params.get("friendly_name"))
            self._unique_name(ws_sid, "task_queue", name, "Queue")
            if len(self.state.of(ws_sid, "task_queue")) >= MAX_TASK_QUEUES:
                raise LimitExceeded(f"A Workspace holds at most {MAX_TASK_QUEUES} TaskQueues")
            checked = self._queue_params(ws, params)
            queue = self._insert_queue(ws, name, "1==1", None, None, 1, "FIFO")
            self.state.update(queue, **checked)
            self._event(ws, "task-queue.created", queue, f"TaskQueue {name} created", {
                "task_queue_sid": queue["sid"], "task_queue_name": name,
                "task_queue_target_expression": queue["target_workers"],
            })
            return dict(queue)

    def update_task_queue(self, account_sid: str, ws_sid: str, sid: str, **params: Any) -> Row:
        with self.state.unit():
            queue = self.child(account_sid, ws_sid, "task_queue", sid, "TaskQueues")
            ws = self.state.rows[ws_sid]
            changes = self._queue_params(ws, params)
            if params.get("friendly_name") is not None:
                changes["friendly_name"] = valid_friendly_name(params["friendly_name"])
                self._unique_name(ws_sid, "task_queue", changes["friendly_name"], "Queue", skip=sid)
            self._touch(queue, **changes)
            if "friendly_name" in changes:
                for task in self.state.of(ws_sid, "task").values():
                    if task["task_queue_sid"] == sid:
                        self.state.update(task, task_queue_friendly_name=changes["friendly_name"])
            snapshot = dict(queue)
            self._offer_queue(ws, queue)
            return snapshot

    def delete_task_queue(self, account_sid: str, ws_sid: str, sid: str) -> None:
        with self.state.unit():
            queue = self.child(account_sid, ws_sid, "task_queue", sid, "TaskQueues")
            for task in self.state.of(ws_sid, "task").values():
                if task["task_queue_sid"] == sid and task["assignment_status"] in (
                    "pending",
                    "reserved",
                ):
                    raise InUse(
                        f"TaskQueue {sid} cannot be deleted: it holds pending or reserved tasks"
                    )
            for workflow in self.state.of(ws_sid, "workflow").values():
                if sid in self.config(workflow).queue_sids():
                    raise InUse(
                        f"TaskQueue {sid} cannot be deleted: Workflow {workflow['sid']} routes to it"
                    )
            ws = self.state.rows[ws_sid]
            self._event(ws, "task-queue.deleted", queue, f"TaskQueue {queue['friendly_name']} deleted",
                        {"task_queue_sid": sid, "task_queue_name": queue["friendly_name"]})
            self.state.delete(queue)
