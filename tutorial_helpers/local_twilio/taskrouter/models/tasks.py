"""Tasks: created, routed, updated, canceled, completed, deleted; their TTL and target timeouts.

A task is routed through its workflow when it is created (matching.py). Its
timers live here: the TTL cancels a task still waiting ("Task TTL Exceeded"), a
target's timeout moves a pending task to the workflow's next target, and a
finished task (completed or canceled) is deleted five minutes later.
"""

import re
from datetime import datetime
from typing import Any

from ...core.clock import iso
from ...core.exceptions import IllegalTransition, InvalidParameter
from ...core.limits import PRIORITY, TASK_TIMEOUT
from ...core.state import Row, new_sid
from ..statuses import FINISHED_TASK, HELD_TASK, OPEN_TASK, TASK_STATUSES
from .base import (
    TERMINAL_TASK_RETENTION,
    BackendBase,
    bind,
    json_object,
)


class TasksMixin(BackendBase):
    """Tasks and their timers."""

    def create_task(
        self,
        account_sid: str,
        ws_sid: str,
        attributes: str | None = None,
        workflow_sid: str | None = None,
        priority: int | None = None,
        timeout: int | None = None,
        task_channel: str | None = None,
        virtual_start_time: str | None = None,
    ) -> Row:
        with self.state.unit():
            ws = self.workspace(account_sid, ws_sid)
            attributes = attributes if attributes is not None else "{}"
            attrs = json_object(attributes, "Attributes")
            workflows = list(self.state.of(ws_sid, "workflow").values())
            if workflow_sid is None:
                if len(workflows) != 1:
                    raise InvalidParameter(
                        "WorkflowSid is required when the Workspace does not have exactly one Workflow"
                    )
                workflow = workflows[0]
            else:
                found = self.state.rows.get(workflow_sid)
                if not found or found["_kind"] != "workflow" or found["workspace_sid"] != ws_sid:
                    raise InvalidParameter(f"WorkflowSid {workflow_sid!r} is not a Workflow of this Workspace")
                workflow = found
            if timeout is not None:
                TASK_TIMEOUT.check(timeout, "Timeout")
            if priority is not None:
                PRIORITY.check(priority, "Priority")
            channel = self.task_channel(ws_sid, task_channel or "default")
            now = self.now()
            start_ts = _virtual_start(virtual_start_time, now)
            timeout = timeout or 86_400
            task = self.state.insert(
                "task",
                {
                    "sid": new_sid("WT"),
                    "account_sid": account_sid,
                    "workspace_sid": ws_sid,
                    "attributes": attributes,
                    "addons": "{}",
                    "assignment_status": "pending",
                    "priority": priority or 0,
                    "reason": None,
                    "timeout": timeout,
                    "task_queue_sid": None,
                    "task_queue_friendly_name": None,
                    "task_queue_entered_date": None,
                    "task_channel_sid": channel["sid"],
                    "task_channel_unique_name": channel["unique_name"],
                    "workflow_sid": workflow["sid"],
                    "workflow_friendly_name": workflow["friendly_name"],
                    # Twilio's date shape whatever the offset given, so it sorts and renders like the others.
                    "virtual_start_time": iso(now if start_ts is None else start_ts),
                    "ignore_capacity": False,
                    "routing_target": None,
                    "_attrs": attrs,
                    "_created_ts": now,
                    "_start_ts": start_ts,
                    "_expires_at": now + timeout,
                    "_version": 0,
                    "_attempts": 0,
                    **self._stamp(),
                },
            )
            self._event(ws, "task.created", task, "Task created", self.task_data(task))
            self._schedule(task["_expires_at"], self._expire_task, ws_sid, task["sid"])
            self._route(ws, task, offer=False)
            snapshot = dict(task)
            self._offer_task(ws, task)
            return snapshot

    def update_task(
        self,
        account_sid: str,
        ws_sid: str,
        sid: str,
        attributes: str | None = None,
        assignment_status: str | None = None,
        reason: str | None = None,
        priority: int | None = None,
        task_channel: str | None = None,
        virtual_start_time: str | None = None,
        if_match: str | None = None,
    ) -> Row:
        with self.state.unit():
            task = self.child(account_sid, ws_sid, "task", sid, "Tasks")
            ws = self.state.rows[ws_sid]
            self.check_etag(task, if_match)
            status = task["assignment_status"]
            if status in FINISHED_TASK and (
                attributes or assignment_status or priority is not None or virtual_start_time
            ):
                raise IllegalTransition(f"Task {sid} is already {status} and cannot be updated")
            changes: dict[str, Any] = {}
            start_ts = _virtual_start(virtual_start_time, self.now())  # "" (or none given) changes nothing
            if start_ts is not None:
                changes.update(virtual_start_time=iso(start_ts), _start_ts=start_ts)
            if attributes is not None:
                changes["_attrs"] = json_object(attributes, "Attributes")
                changes["attributes"] = attributes
            if priority is not None:
                PRIORITY.check(priority, "Priority")
                changes["priority"] = priority
            if task_channel is not None:
                channel = self.task_channel(ws_sid, task_channel)
                changes.update(task_channel_sid=channel["sid"], task_channel_unique_name=channel["unique_name"])
            if reason is not None and assignment_status is None:
                changes["reason"] = reason  # with a status change, the reason belongs to that change
            if changes:
                self._bump(task, **changes)
                self._event(ws, "task.updated", task, "Task updated", self.task_data(task))
            if assignment_status is not None and assignment_status != status:
                self._change_status(ws, task, assignment_status, reason)
            rerouted = "attributes" in changes and task["assignment_status"] == "pending"
            if rerouted:
                # Routed again before answering, so the answer names the queue the task is in now.
                self._route(ws, task, offer=False)
            snapshot = dict(task)
            if task["assignment_status"] in OPEN_TASK and (
                "attributes" in changes or "priority" in changes
            ):
                self._offer_task(ws, task)
            return snapshot

    def _change_status(self, ws: Row, task: Row, new: str, reason: str | None) -> None:
        old = task["assignment_status"]
        if new not in TASK_STATUSES:
            raise InvalidParameter(f"AssignmentStatus must be one of {', '.join(TASK_STATUSES)}, got {new!r}")
        if new == "canceled":
            if old not in OPEN_TASK:
                raise IllegalTransition(f"Task {task['sid']} is {old}; only pending or reserved tasks can be canceled")
            if not reason:
                raise InvalidParameter("Reason is required to cancel a Task")
            self._cancel_task(ws, task, reason)
        elif new == "wrapping":
            if old != "assigned":
                raise IllegalTransition(f"Task {task['sid']} is {old}; only assigned tasks can move to wrapping")
            self._bump(task, assignment_status="wrapping")
            self._set_accepted_reservation(ws, task, "wrapping", "reservation.wrapup")
            self._event(ws, "task.wrapup", task, "Task wrapping up", self.task_data(task))
        elif new == "completed":
            if old not in HELD_TASK:
                raise IllegalTransition(
                    f"Task {task['sid']} is {old}; only assigned or wrapping tasks can be completed"
                )
            if not reason:
                raise InvalidParameter("Reason is required to complete a Task")
            self._bump(task, assignment_status="completed", reason=reason)
            self._finish(ws, task)
            self._set_accepted_reservation(ws, task, "completed", "reservation.completed")
            self._event(ws, "task.completed", task, f"Task completed: {reason}", self.task_data(task))
        else:
            raise InvalidParameter(
                f"AssignmentStatus can be set to canceled, wrapping or completed, not {new!r}"
            )

    def _finish(self, ws: Row, task: Row) -> None:
        """A task reached completed or canceled: it is deleted five minutes later."""
        delete_at = self.now() + TERMINAL_TASK_RETENTION
        self.state.update(task, _delete_at=delete_at, _expires_at=None, _target_timeout_at=None)
        self._schedule(delete_at, self._purge_task, ws["sid"], task["sid"])

    def _cancel_task(self, ws: Row, task: Row, reason: str) -> None:
        self._bump(task, assignment_status="canceled", reason=reason)
        self._finish(ws, task)
        for res in list(self.indexes.res_by_task.get(task["sid"], {}).values()):
            if res["reservation_status"] == "pending":
                self._end_reservation(ws, res, "canceled", "reservation.canceled")
        self._event(ws, "task.canceled", task, f"Task canceled: {reason}", self.task_data(task))

    def delete_task(self, account_sid: str, ws_sid: str, sid: str, if_match: str | None = None) -> None:
        with self.state.unit():
            task = self.child(account_sid, ws_sid, "task", sid, "Tasks")
            self.check_etag(task, if_match)
            ws = self.state.rows[ws_sid]
            self._drop_task(ws, task)

    def _drop_task(self, ws: Row, task: Row) -> None:
        freed = []
        for res in list(self.indexes.res_by_task.get(task["sid"], {}).values()):
            if res["reservation_status"] == "pending":
                # No offers yet: the task being deleted is still there and would be offered again.
                self._end_reservation(ws, res, "canceled", "reservation.canceled", reoffer=False)
            worker = self.state.rows.get(res["worker_sid"])
            if worker:
                freed.append(worker)
            self.state.delete(res)
        self._event(ws, "task.deleted", task, "Task deleted", self.task_data(task))
        self.state.delete(task)
        for worker in freed:
            if worker["available"] and worker["sid"] in self.state.rows:
                self._offer_worker(worker)

    def _expire_task(self, ws_sid: str, task_sid: str) -> None:
        with self.state.unit():
            task = self.state.rows.get(task_sid)
            if task is None or task["assignment_status"] not in OPEN_TASK:
                return
            if task.get("_expires_at") is None or task["_expires_at"] > self.now():
                return
            self._cancel_task(self.state.rows[ws_sid], task, "Task TTL Exceeded")

    def _target_timed_out(self, ws_sid: str, task_sid: str) -> None:
        with self.state.unit():
            task = self.state.rows.get(task_sid)
            if task is None or task["assignment_status"] != "pending":
                return  # a reserved task moves on when its reservation ends
            due = task.get("_target_timeout_at")
            if due is None or due > self.now():
                return
            ws = self.state.rows[ws_sid]
            queue_sid = task["task_queue_sid"]
            self._event(ws, "task-queue.timeout", task, "Task timed out of its TaskQueue",
                        {**self.task_data(task), "task_queue_sid": queue_sid})
            self._enter_target(ws, task, task["_filter"], task["_target"] + 1)

    def _purge_task(self, ws_sid: str, task_sid: str) -> None:
        with self.state.unit():
            task = self.state.rows.get(task_sid)
            if task is None or task.get("_delete_at") is None or task["_delete_at"] > self.now():
                return
            self._drop_task(self.state.rows[ws_sid], task)

    def _resume_task_timers(self, task: Row) -> None:
        for field, handler in (
            ("_expires_at", self._expire_task),
            ("_target_timeout_at", self._target_timed_out),
            ("_delete_at", self._purge_task),
        ):
            if task.get(field):
                self.timers.schedule(task[field], bind(handler, task["workspace_sid"], task["sid"]))


RFC3339 = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)", re.IGNORECASE)


def _virtual_start(text: str | None, now: float) -> float | None:
    """VirtualStartTime (create and update): an RFC 3339 date-time with its offset, not in the future, after 1970;
    "" means unset (create: the task's creation; update: no change).

    The task is then ordered as if created at that time (matching._start).
    """
    if text is None or text == "":
        return None
    shown = text[:80]
    if not RFC3339.fullmatch(text):
        raise InvalidParameter(
            f"VirtualStartTime must be an ISO 8601 date-time like 2024-05-14T10:50:02Z, got {shown!r}"
        )
    try:
        # fromisoformat takes at most 6 fractional digits; more say nothing a second does not.
        trimmed = re.sub(r"(\.\d{6})\d+", r"\1", text.upper().replace("Z", "+00:00"))
        ts = datetime.fromisoformat(trimmed).timestamp()
    except (ValueError, OverflowError):  # month 13, hour 25, offset +99:00, ...
        raise InvalidParameter(f"VirtualStartTime is not a valid date-time, got {shown!r}") from None
    if ts > now:
        raise InvalidParameter(f"VirtualStartTime must not be in the future, got {shown!r} (now is {iso(now)})")
    if ts <= 0:
        raise InvalidParameter(f"VirtualStartTime must be after 1970-01-01T00:00:00Z, got {shown!r}")
    return ts
