"""The TaskRouter backend: every API verb and every routing rule.

Methods are the API's verbs (`create_task`, `update_worker`, ...). Each runs
in one unit of work (see `state.py`), so it either happens entirely or not at
all. Matching runs inside the same unit as the change that triggered it: a
reservation is made the moment a task enters a queue or a worker becomes
available, never by polling. Callbacks and timers are started after commit.
"""

import logging
from typing import Any

from ..clock import Clock, iso
from ..exceptions import InvalidParameter, NotFound
from ..routing import WorkflowConfig
from ..state import Row, new_sid
from ..store import Store
from ..timers import Timers
from .base import (
    MAX_ASSIGNMENT_ATTEMPTS,
    MAX_TASK_TIMEOUT,
    TERMINAL_TASK_RETENTION,
    BackendBase,
    bind,
    etag,
    json_object,
    resource_path,
)
from .events import EventsMixin
from .matching import Matching
from .task_queues import TaskQueuesMixin
from .workers import WorkersMixin
from .workflows import WorkflowsMixin
from .workspaces import WorkspacesMixin

log = logging.getLogger(__name__)


TASK_STATUSES = ("pending", "reserved", "assigned", "wrapping", "completed", "canceled")
ACTIVE_RESERVATION = ("pending", "accepted", "wrapping")










class Backend(WorkflowsMixin, TaskQueuesMixin, WorkersMixin, WorkspacesMixin, EventsMixin, Matching, BackendBase):
    """All state of one local TaskRouter; thread-safe through the state's lock."""

    def __init__(self, store: Store, clock: Clock, timers: Timers, accounts: dict[str, str]):
        super().__init__(store, clock, timers, accounts)
        self._configs: dict[str, tuple[str, WorkflowConfig]] = {}
        self._members: dict[str, tuple[tuple[str, int], frozenset[str]]] = {}
        self._worker_versions: dict[str, int] = {}

    # ------------------------------------------------------------------ helpers

    # ------------------------------------------------------------------ events

    # ------------------------------------------------------------------ workspaces

    # ------------------------------------------------------------------ activities

    # ------------------------------------------------------------------ task channels

    # ------------------------------------------------------------------ workers

    # ------------------------------------------------------------------ task queues

    # ------------------------------------------------------------------ workflows

    # ------------------------------------------------------------------ tasks

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
                workflow = self.state.rows.get(workflow_sid)
                if not workflow or workflow["_kind"] != "workflow" or workflow["workspace_sid"] != ws_sid:
                    raise InvalidParameter(f"WorkflowSid {workflow_sid!r} is not a Workflow of this Workspace")
            if timeout is not None and not 1 <= timeout <= MAX_TASK_TIMEOUT:
                raise InvalidParameter(f"Timeout must be between 1 and {MAX_TASK_TIMEOUT}, got {timeout}")
            if priority is not None and not 0 <= priority <= 2**31 - 1:
                raise InvalidParameter(f"Priority must be between 0 and 2147483647, got {priority}")
            channel = self.task_channel(ws_sid, task_channel or "default")
            now = self.now()
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
                    "virtual_start_time": virtual_start_time or iso(now),
                    "ignore_capacity": False,
                    "routing_target": None,
                    "_attrs": attrs,
                    "_created_ts": now,
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
        if_match: str | None = None,
    ) -> Row:
        with self.state.unit():
            task = self.child(account_sid, ws_sid, "task", sid, "Tasks")
            ws = self.state.rows[ws_sid]
            self.check_etag(task, if_match)
            status = task["assignment_status"]
            if status in ("completed", "canceled") and (attributes or assignment_status or priority is not None):
                raise InvalidParameter(f"Task {sid} is already {status} and cannot be updated")
            changes: dict[str, Any] = {}
            if attributes is not None:
                changes["_attrs"] = json_object(attributes, "Attributes")
                changes["attributes"] = attributes
            if priority is not None:
                if not 0 <= priority <= 2**31 - 1:
                    raise InvalidParameter(f"Priority must be between 0 and 2147483647, got {priority}")
                changes["priority"] = priority
            if task_channel is not None:
                channel = self.task_channel(ws_sid, task_channel)
                changes.update(task_channel_sid=channel["sid"], task_channel_unique_name=channel["unique_name"])
            if reason is not None:
                changes["reason"] = reason
            if changes:
                self._bump(task, **changes)
                self._event(ws, "task.updated", task, "Task updated", self.task_data(task))
            if assignment_status is not None and assignment_status != status:
                self._change_status(ws, task, assignment_status, reason)
            snapshot = dict(task)
            if task["assignment_status"] in ("pending", "reserved") and (
                "attributes" in changes or "priority" in changes
            ):
                if "attributes" in changes and task["assignment_status"] == "pending":
                    self._route(ws, task)
                else:
                    self._offer_task(ws, task)
            return snapshot

    def _change_status(self, ws: Row, task: Row, new: str, reason: str | None) -> None:
        old = task["assignment_status"]
        if new not in TASK_STATUSES:
            raise InvalidParameter(f"AssignmentStatus must be one of {', '.join(TASK_STATUSES)}, got {new!r}")
        if new == "canceled":
            if old not in ("pending", "reserved"):
                raise InvalidParameter(f"Task {task['sid']} is {old}; only pending or reserved tasks can be canceled")
            if not reason:
                raise InvalidParameter("Reason is required to cancel a Task")
            self._cancel_task(ws, task, reason)
        elif new == "wrapping":
            if old != "assigned":
                raise InvalidParameter(f"Task {task['sid']} is {old}; only assigned tasks can move to wrapping")
            self._bump(task, assignment_status="wrapping")
            self._set_accepted_reservation(ws, task, "wrapping", "reservation.wrapup")
            self._event(ws, "task.wrapup", task, "Task wrapping up", self.task_data(task))
        elif new == "completed":
            if old not in ("assigned", "wrapping"):
                raise InvalidParameter(
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

    def _set_accepted_reservation(self, ws: Row, task: Row, status: str, event: str) -> None:
        for res in list(self.state.res_by_task.get(task["sid"], {}).values()):
            if res["reservation_status"] in ("accepted", "wrapping"):
                self._bump(res, reservation_status=status)
                worker = self.state.rows.get(res["worker_sid"])
                data = {**self.task_data(task), "reservation_sid": res["sid"]}
                if worker:
                    data.update(self.worker_data(worker))
                self._event(ws, event, res, f"Reservation {res['sid']} {status}", data)
                if worker and worker["available"]:
                    self._offer_worker(worker)

    def _finish(self, ws: Row, task: Row) -> None:
        """A task reached completed or canceled: it is deleted five minutes later."""
        delete_at = self.now() + TERMINAL_TASK_RETENTION
        self.state.update(task, _delete_at=delete_at, _expires_at=None, _target_timeout_at=None)
        self._schedule(delete_at, self._purge_task, ws["sid"], task["sid"])

    def _cancel_task(self, ws: Row, task: Row, reason: str) -> None:
        self._bump(task, assignment_status="canceled", reason=reason)
        self._finish(ws, task)
        for res in list(self.state.res_by_task.get(task["sid"], {}).values()):
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
        for res in list(self.state.res_by_task.get(task["sid"], {}).values()):
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

    # ------------------------------------------------------------------ reservations

    def reservation(self, account_sid: str, ws_sid: str, sid: str, task_sid: str | None = None,
                    worker_sid: str | None = None) -> Row:
        if task_sid is not None:
            self.child(account_sid, ws_sid, "task", task_sid, "Tasks")
            res = self.state.res_by_task.get(task_sid, {}).get(sid)
            path = f"/Workspaces/{ws_sid}/Tasks/{task_sid}/Reservations/{sid}"
        else:
            self.child(account_sid, ws_sid, "worker", worker_sid or "", "Workers")
            res = self.state.res_by_worker.get(worker_sid or "", {}).get(sid)
            path = f"/Workspaces/{ws_sid}/Workers/{worker_sid}/Reservations/{sid}"
        if res is None:
            raise NotFound(path)
        return res

    def reservations(self, account_sid: str, ws_sid: str, task_sid: str | None = None,
                     worker_sid: str | None = None) -> list[Row]:
        if task_sid is not None:
            self.child(account_sid, ws_sid, "task", task_sid, "Tasks")
            return list(self.state.res_by_task.get(task_sid, {}).values())
        self.child(account_sid, ws_sid, "worker", worker_sid or "", "Workers")
        return list(self.state.res_by_worker.get(worker_sid or "", {}).values())

    def update_reservation(
        self,
        account_sid: str,
        ws_sid: str,
        sid: str,
        task_sid: str | None = None,
        worker_sid: str | None = None,
        reservation_status: str | None = None,
        worker_activity_sid: str | None = None,
        instruction: str | None = None,
        if_match: str | None = None,
    ) -> Row:
        with self.state.unit():
            res = self.reservation(account_sid, ws_sid, sid, task_sid, worker_sid)
            self.check_etag(res, if_match)
            ws = self.state.rows[ws_sid]
            activity = None
            if worker_activity_sid is not None:
                activity = self._activity(ws, worker_activity_sid, "WorkerActivitySid")
            if instruction is not None:
                if instruction not in ("accept", "reject"):
                    raise InvalidParameter(
                        f"Instruction {instruction!r} is not supported by the local TaskRouter: "
                        "voice instructions (dequeue, call, redirect, conference) need Twilio's "
                        "voice platform; use ReservationStatus=accepted or rejected"
                    )
                reservation_status = {"accept": "accepted", "reject": "rejected"}[instruction]
            if reservation_status is None:
                raise InvalidParameter("ReservationStatus or Instruction is required")
            task = self.state.rows[res["task_sid"]]
            current = res["reservation_status"]
            if reservation_status == "accepted":
                self._require_pending(res)
                self._accept(ws, res, activity)
            elif reservation_status == "rejected":
                self._require_pending(res)
                self._reject(ws, res, activity)
            elif reservation_status in ("wrapping", "completed"):
                if current not in ("accepted", "wrapping"):
                    raise InvalidParameter(
                        f"Reservation {sid} is {current}; only an accepted reservation can be "
                        f"moved to {reservation_status}"
                    )
                self._change_status(ws, task, reservation_status, "Reservation " + reservation_status)
                if activity is not None:
                    self._set_activity(ws, self.state.rows[res["worker_sid"]], activity)
            else:
                raise InvalidParameter(
                    "ReservationStatus must be accepted, rejected, wrapping or completed, "
                    f"got {reservation_status!r}"
                )
            return dict(res)

    @staticmethod
    def _require_pending(res: Row) -> None:
        if res["reservation_status"] != "pending":
            raise InvalidParameter(
                f"Reservation {res['sid']} is {res['reservation_status']}, not pending",
                code=20001,
            )

    def _accept(self, ws: Row, res: Row, activity: Row | None) -> None:
        task = self.state.rows[res["task_sid"]]
        worker = self.state.rows[res["worker_sid"]]
        queue = self.state.rows[res["_queue_sid"]]
        self._bump(res, reservation_status="accepted", _timeout_at=None)
        self._bump(task, assignment_status="assigned", _expires_at=None, _target_timeout_at=None)
        data = {**self.task_data(task), **self.worker_data(worker), "reservation_sid": res["sid"]}
        self._event(ws, "reservation.accepted", res,
                    f"Reservation {res['sid']} accepted by Worker {worker['friendly_name']}", data)
        for other in list(self.state.pending_res_by_task.get(task["sid"], {}).values()):
            self._end_reservation(ws, other, "rescinded", "reservation.rescinded")
        target_activity = activity
        if target_activity is None and not ws["multi_task_enabled"] and queue["assignment_activity_sid"]:
            target_activity = self.state.rows[queue["assignment_activity_sid"]]
        if target_activity is not None:
            self._set_activity(ws, worker, target_activity)
        if worker["available"]:
            self._offer_worker(worker)

    def _reject(self, ws: Row, res: Row, activity: Row | None, keep_activity: bool = False) -> None:
        task = self.state.rows[res["task_sid"]]
        worker = self.state.rows[res["worker_sid"]]
        declined = [*task.get("_declined", []), worker["sid"]]
        self.state.update(task, _declined=declined)
        self._bump(res, reservation_status="rejected", _timeout_at=None)
        data = {**self.task_data(task), **self.worker_data(worker), "reservation_sid": res["sid"]}
        self._event(ws, "reservation.rejected", res,
                    f"Reservation {res['sid']} rejected by Worker {worker['friendly_name']}", data)
        if activity is None and not keep_activity and not ws["multi_task_enabled"]:
            # Open in Twilio's docs: with no activity given, the worker goes back to the
            # activity it had before the reservation moved it (see README).
            previous = self.state.rows.get(res["_previous_activity_sid"])
            if previous is not None and worker["activity_sid"] != previous["sid"]:
                queue = self.state.rows.get(res["_queue_sid"])
                if queue and worker["activity_sid"] == queue["reservation_activity_sid"]:
                    activity = previous
        if activity is not None:
            self._set_activity(ws, worker, activity)
        self._after_reservation_ended(ws, task, worker)

    def _end_reservation(self, ws: Row, res: Row, status: str, event: str, reoffer: bool = True) -> None:
        """Canceled or rescinded: the worker did nothing wrong and goes back where it was.

        With `reoffer=False` the worker is not offered other work: the caller is deleting the
        worker or the task, and an offer made now would point at a row about to disappear.
        """
        task = self.state.rows[res["task_sid"]]
        worker = self.state.rows[res["worker_sid"]]
        self._bump(res, reservation_status=status, _timeout_at=None)
        data = {**self.task_data(task), **self.worker_data(worker), "reservation_sid": res["sid"]}
        self._event(ws, event, res, f"Reservation {res['sid']} {status}", data)
        queue = self.state.rows.get(res["_queue_sid"])
        previous = self.state.rows.get(res["_previous_activity_sid"])
        if (
            not ws["multi_task_enabled"]
            and queue
            and previous
            and worker["activity_sid"] == queue["reservation_activity_sid"]
        ):
            self._set_activity(ws, worker, previous)
        if reoffer and worker["available"]:
            self._offer_worker(worker)

    def _after_reservation_ended(self, ws: Row, task: Row, worker: Row | None) -> None:
        if task["assignment_status"] == "reserved":
            if not self.state.pending_res_by_task.get(task["sid"]):
                self._bump(task, assignment_status="pending")
        if task["assignment_status"] in ("pending", "reserved"):
            if task.get("_attempts", 0) >= MAX_ASSIGNMENT_ATTEMPTS:
                self._cancel_task(ws, task, f"Task exceeded {MAX_ASSIGNMENT_ATTEMPTS} assignment attempts")
            elif task.get("_target_timeout_at") and task["_target_timeout_at"] <= self.now():
                self._enter_target(ws, task, task["_filter"], task["_target"] + 1)
            else:
                self._offer_task(ws, task)
        if worker is not None and worker["available"]:
            self._offer_worker(worker)

    def apply_instruction(self, account_sid: str, ws_sid: str, res_sid: str, answer: dict) -> str:
        """Carry out an assignment callback's answer; returns what happened, for the log."""
        with self.state.unit():
            res = self.state.rows.get(res_sid)
            if res is None or res["workspace_sid"] != ws_sid:
                return "reservation no longer exists"
            if res["reservation_status"] != "pending":
                return f"reservation already {res['reservation_status']}"
            ws = self.state.rows[ws_sid]
            instruction = answer["instruction"]
            if instruction == "accept":
                self._accept(ws, res, None)
                return "accepted"
            activity = None
            if answer.get("activity_sid"):
                activity = self._activity(ws, answer["activity_sid"], "activity_sid")
            self._reject(ws, res, activity)
            return "rejected"

    # ------------------------------------------------------------------ timers

    def _reservation_timed_out(self, ws_sid: str, res_sid: str) -> None:
        with self.state.unit():
            res = self.state.rows.get(res_sid)
            if res is None or res["reservation_status"] != "pending":
                return
            if res["_timeout_at"] is None or res["_timeout_at"] > self.now():
                return
            ws = self.state.rows[ws_sid]
            task = self.state.rows[res["task_sid"]]
            worker = self.state.rows[res["worker_sid"]]
            self._bump(res, reservation_status="timeout", _timeout_at=None)
            data = {**self.task_data(task), **self.worker_data(worker), "reservation_sid": res_sid}
            self._event(ws, "reservation.timeout", res,
                        f"Reservation {res_sid} timed out for Worker {worker['friendly_name']}", data)
            timeout_activity = self.state.rows.get(ws["timeout_activity_sid"] or "")
            if timeout_activity is not None:
                self._set_activity(ws, worker, timeout_activity)
            self._after_reservation_ended(ws, task, worker)

    def _expire_task(self, ws_sid: str, task_sid: str) -> None:
        with self.state.unit():
            task = self.state.rows.get(task_sid)
            if task is None or task["assignment_status"] not in ("pending", "reserved"):
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

    def resume_timers(self) -> None:
        """After a restart: every stored deadline gets its timer back."""
        for row in list(self.state.rows.values()):
            kind, ws_sid = row["_kind"], row.get("workspace_sid")
            if kind == "reservation" and row["reservation_status"] == "pending" and row.get("_timeout_at"):
                self.timers.schedule(row["_timeout_at"], bind(self._reservation_timed_out, ws_sid, row["sid"]))
            elif kind == "task":
                for field, handler in (
                    ("_expires_at", self._expire_task),
                    ("_target_timeout_at", self._target_timed_out),
                    ("_delete_at", self._purge_task),
                ):
                    if row.get(field):
                        self.timers.schedule(row[field], bind(handler, ws_sid, row["sid"]))

    # ------------------------------------------------------------------ alerts

    # ------------------------------------------------------------------ clock

    # ------------------------------------------------------------------ listing










__all__ = ["Backend", "TASK_STATUSES", "etag", "json_object", "resource_path"]
