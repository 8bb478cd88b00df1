"""Reservations: everything that happens to Alice while TaskRouter offers her a task.

Where the worker goes, in a single-tasking workspace (multi-tasking workers
keep their activity unless the request names one):

| the reservation is... | the worker goes to |
| --- | --- |
| created (reserved) | the queue's ReservationActivity |
| accepted | WorkerActivitySid if given, else the queue's AssignmentActivity |
| rejected | WorkerActivitySid / the instruction's activity_sid if given, else back where she was |
| timed out | the workspace's TimeoutActivity |
| canceled or rescinded | back where she was |
| her phone, rung by a voice instruction, declined or failed | rejected: back where she was |
| her phone not answered | timed out: the TimeoutActivity |
| her bridged call ended | the instruction's post-work activity (the task goes to wrapping) |

"Back where she was" is one rule (`_back_where_she_was`): the activity she had
before the reservation moved her to the queue's ReservationActivity.

An accepted reservation keeps how it was accepted in its private `_accepted_via` (persisted with the row,
never rendered): `rest` (a Reservation update through the REST API), `callback` (the assignment callback's
`accept` instruction), `worker_page` (the worker SDK, through EventBridge's tunnel), or `phone:<kind>` (a
voice instruction's call to the worker was answered or bridged: `phone:dequeue`, `phone:call`,
`phone:conference`; plain `phone` for `<Dial><Queue reservationSid>` and `redirect`). The facilitator's board
tells the walkthrough's steps apart by it: they all end with the same `reservation.accepted` event.
"""

import logging

from ...core.exceptions import IllegalTransition, InvalidParameter, NotFound, TwilioError
from ...core.state import Row, new_sid
from ..instructions import UNKNOWN_INSTRUCTION, Instruction
from ..statuses import HELD_RESERVATION, OPEN_TASK
from .base import (
    MAX_ASSIGNMENT_ATTEMPTS,
    BackendBase,
    bind,
)

log = logging.getLogger(__name__)

# How a reservation was accepted (`_accepted_via`, see above).
VIA_REST = "rest"
VIA_CALLBACK = "callback"
VIA_WORKER_PAGE = "worker_page"
VIA_PHONE = "phone"


class ReservationsMixin(BackendBase):
    """Reservations, from reserve to their end, and what each end does to the worker."""

    def _reserve(self, ws: Row, task: Row, worker: Row, queue: Row) -> None:
        workflow = self.state.rows[task["workflow_sid"]]
        now = self.now()
        timeout_at = now + workflow["task_reservation_timeout"]
        res = self.state.insert(
            "reservation",
            {
                "sid": new_sid("WR"),
                "account_sid": ws["account_sid"],
                "workspace_sid": ws["sid"],
                "task_sid": task["sid"],
                "worker_sid": worker["sid"],
                "worker_name": worker["friendly_name"],
                "reservation_status": "pending",
                "_queue_sid": queue["sid"],
                "_previous_activity_sid": worker["activity_sid"],
                "_timeout_at": timeout_at,
                "_version": 0,
                **self._stamp(),
            },
        )
        attempts = task.get("_attempts", 0) + 1
        self._bump(task, assignment_status="reserved", _attempts=attempts)
        data = self.reservation_data(task, worker, res)
        self._event(ws, "reservation.created", res,
                    f"Reservation {res['sid']} created for Worker {worker['friendly_name']}", data)
        if not ws["multi_task_enabled"] and queue["reservation_activity_sid"]:
            self._set_activity(ws, worker, self.state.rows[queue["reservation_activity_sid"]])
        self._schedule(timeout_at, self._reservation_timed_out, ws["sid"], res["sid"])
        if workflow["assignment_callback_url"]:
            due = {"workflow": dict(workflow), "reservation": dict(res),
                   "params": self.assignment_params(ws, task, worker, res, queue)}
            self.state.queue_callback("assignment", due, lambda outbox_id, d: self.on_assignment(
                d["workflow"], d["reservation"], d["params"], outbox_id))

    def assignment_params(self, ws: Row, task: Row, worker: Row, res: Row, queue: Row) -> dict:
        """The form parameters of an assignment callback (reference section 5)."""
        return {
            "AccountSid": ws["account_sid"],
            "WorkspaceSid": ws["sid"],
            "WorkflowSid": task["workflow_sid"],
            "TaskQueueSid": queue["sid"],
            "WorkerSid": worker["sid"],
            "WorkerAttributes": worker["attributes"],
            "TaskSid": task["sid"],
            "TaskAttributes": task["attributes"],
            "TaskAge": str(self.task_age(task)),
            "TaskPriority": str(task["priority"]),
            "ReservationSid": res["sid"],
            "Timestamp": str(int(self.now())),
        }

    def reservation(self, account_sid: str, ws_sid: str, sid: str, task_sid: str | None = None,
                    worker_sid: str | None = None) -> Row:
        if task_sid is not None:
            self.child(account_sid, ws_sid, "task", task_sid, "Tasks")
            res = self.indexes.res_by_task.get(task_sid, {}).get(sid)
            path = f"/Workspaces/{ws_sid}/Tasks/{task_sid}/Reservations/{sid}"
        else:
            self.child(account_sid, ws_sid, "worker", worker_sid or "", "Workers")
            res = self.indexes.res_by_worker.get(worker_sid or "", {}).get(sid)
            path = f"/Workspaces/{ws_sid}/Workers/{worker_sid}/Reservations/{sid}"
        if res is None:
            raise NotFound(path)
        return res

    def reservations(self, account_sid: str, ws_sid: str, task_sid: str | None = None,
                     worker_sid: str | None = None) -> list[Row]:
        if task_sid is not None:
            self.child(account_sid, ws_sid, "task", task_sid, "Tasks")
            return list(self.indexes.res_by_task.get(task_sid, {}).values())
        self.child(account_sid, ws_sid, "worker", worker_sid or "", "Workers")
        return list(self.indexes.res_by_worker.get(worker_sid or "", {}).values())

    def update_reservation(
        self,
        account_sid: str,
        ws_sid: str,
        sid: str,
        task_sid: str | None = None,
        worker_sid: str | None = None,
        reservation_status: str | None = None,
        worker_activity_sid: str | None = None,
        instruction: Instruction | None = None,
        if_match: str | None = None,
        via: str = VIA_REST,
    ) -> Row:
        """`via` says who asks: the REST API, or EventBridge's tunnel for the worker SDK (VIA_WORKER_PAGE)."""
        with self.state.unit():
            res = self.reservation(account_sid, ws_sid, sid, task_sid, worker_sid)
            self.check_etag(res, if_match)
            ws = self.state.rows[ws_sid]
            activity = None
            if worker_activity_sid is not None:
                activity = self._activity(ws, worker_activity_sid, "WorkerActivitySid")
            if instruction is not None and instruction.is_voice:
                self._require_pending(res)
                self._voice_instruction(ws, res, instruction)
                return dict(res)
            if instruction is not None:
                reservation_status = {"accept": "accepted", "reject": "rejected"}[instruction.name]
            if reservation_status is None:
                raise InvalidParameter("ReservationStatus or Instruction is required")
            task = self.state.rows[res["task_sid"]]
            current = res["reservation_status"]
            if reservation_status == "accepted":
                self._require_pending(res)
                self._accept(ws, res, activity, via)
            elif reservation_status == "rejected":
                self._require_pending(res)
                self._reject(ws, res, activity)
            elif reservation_status in ("wrapping", "completed"):
                if current not in HELD_RESERVATION:
                    raise IllegalTransition(
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

    def _voice_instruction(self, ws: Row, res: Row, instruction: Instruction) -> None:
        """dequeue, call, redirect, conference: carried out by the voice side, in this unit of work."""
        if self.voice is None:
            raise TwilioError(
                f"instruction {instruction.name!r} needs the local voice side, which this TaskRouter runs without",
                code=UNKNOWN_INSTRUCTION,
            )
        task = self.state.rows[res["task_sid"]]
        worker = self.state.rows[res["worker_sid"]]
        self.voice.carry_out(instruction, ws, task, worker, res)

    @staticmethod
    def _require_pending(res: Row) -> None:
        if res["reservation_status"] != "pending":
            raise IllegalTransition(
                f"Reservation {res['sid']} is {res['reservation_status']}, not pending"
            )

    def _accept(self, ws: Row, res: Row, activity: Row | None, via: str) -> None:
        task = self.state.rows[res["task_sid"]]
        worker = self.state.rows[res["worker_sid"]]
        queue = self.state.rows[res["_queue_sid"]]
        self._bump(res, reservation_status="accepted", _timeout_at=None, _accepted_via=via)
        self._bump(task, assignment_status="assigned", _expires_at=None, _target_timeout_at=None)
        data = self.reservation_data(task, worker, res)
        self._event(ws, "reservation.accepted", res,
                    f"Reservation {res['sid']} accepted by Worker {worker['friendly_name']}", data)
        for other in list(self.indexes.pending_res_by_task.get(task["sid"], {}).values()):
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
        data = self.reservation_data(task, worker, res)
        self._event(ws, "reservation.rejected", res,
                    f"Reservation {res['sid']} rejected by Worker {worker['friendly_name']}", data)
        self._voice_leg_over(res)
        if activity is not None:
            self._set_activity(ws, worker, activity)
        elif not keep_activity:
            # Open in Twilio's docs: with no activity given, back where she was
            # (docs/differences-from-twilio.md, "Reject without an activity").
            self._back_where_she_was(ws, res, worker)
        self._after_reservation_ended(ws, task, worker)

    def _back_where_she_was(self, ws: Row, res: Row, worker: Row) -> None:
        """The one rule for a reservation that ends without the worker taking the task (rejected with no
        activity, canceled, rescinded): a single-tasking worker whom it moved to the queue's
        ReservationActivity goes back to the activity she had before. A worker someone moved since
        stays where she was moved to."""
        if ws["multi_task_enabled"]:
            return
        queue = self.state.rows.get(res["_queue_sid"])
        previous = self.state.rows.get(res["_previous_activity_sid"])
        if queue and previous and worker["activity_sid"] == queue["reservation_activity_sid"]:
            self._set_activity(ws, worker, previous)

    def _end_reservation(self, ws: Row, res: Row, status: str, event: str, reoffer: bool = True) -> None:
        """Canceled or rescinded: the worker did nothing wrong and goes back where it was.

        With `reoffer=False` the worker is not offered other work: the caller is deleting the
        worker or the task, and an offer made now would point at a row about to disappear.
        """
        task = self.state.rows[res["task_sid"]]
        worker = self.state.rows[res["worker_sid"]]
        self._bump(res, reservation_status=status, _timeout_at=None)
        self._event(ws, event, res, f"Reservation {res['sid']} {status}", self.reservation_data(task, worker, res))
        self._voice_leg_over(res)
        self._back_where_she_was(ws, res, worker)
        if reoffer and worker["available"]:
            self._offer_worker(worker)

    def _after_reservation_ended(self, ws: Row, task: Row, worker: Row | None) -> None:
        if task["assignment_status"] == "reserved":
            if not self.indexes.pending_res_by_task.get(task["sid"]):
                self._bump(task, assignment_status="pending")
        if task["assignment_status"] in OPEN_TASK:
            if task.get("_attempts", 0) >= MAX_ASSIGNMENT_ATTEMPTS:
                self._cancel_task(ws, task, f"Task exceeded {MAX_ASSIGNMENT_ATTEMPTS} assignment attempts")
            elif task.get("_target_timeout_at") and task["_target_timeout_at"] <= self.now():
                self._enter_target(ws, task, task["_filter"], task["_target"] + 1)
            else:
                self._offer_task(ws, task)
        if worker is not None and worker["available"]:
            self._offer_worker(worker)

    def _set_accepted_reservation(self, ws: Row, task: Row, status: str, event: str) -> None:
        for res in list(self.indexes.res_by_task.get(task["sid"], {}).values()):
            if res["reservation_status"] in HELD_RESERVATION:
                self._bump(res, reservation_status=status)
                worker = self.state.rows.get(res["worker_sid"])
                data = self.reservation_data(task, worker, res)
                self._event(ws, event, res, f"Reservation {res['sid']} {status}", data)
                if worker and worker["available"]:
                    self._offer_worker(worker)

    def apply_instruction(self, account_sid: str, ws_sid: str, res_sid: str, instruction: Instruction) -> str:
        """Carry out an assignment callback's answer; returns what happened, for the log.

        A refused voice instruction raises its TwilioError (40130, 40132, ...) and changes nothing.
        """
        with self.state.unit():
            res = self.state.rows.get(res_sid)
            if res is None or res["workspace_sid"] != ws_sid:
                return "reservation no longer exists"
            if res["reservation_status"] != "pending":
                return f"reservation already {res['reservation_status']}"
            ws = self.state.rows[ws_sid]
            if instruction.is_voice:
                self._voice_instruction(ws, res, instruction)
                return instruction.name
            if instruction.name == "accept":
                self._accept(ws, res, None, VIA_CALLBACK)
                return "accepted"
            activity = None
            if instruction.params.get("activity_sid"):
                activity = self._activity(ws, instruction.params["activity_sid"], "activity_sid")
            self._reject(ws, res, activity)
            return "rejected"

    # -- what a voice instruction's call does to the reservation (called by the voice side) -------------

    def accept_for_call(self, res_sid: str) -> bool:
        """A voice instruction accepts (the worker answered, or `accept` was true). False if it no longer can."""
        with self.state.unit():
            res = self.state.rows.get(res_sid)
            if res is None:
                return False
            if res["reservation_status"] == "pending":
                # The worker's phone leg (if the instruction dialed one) names the instruction it carries out.
                leg = self.state.rows.get(res.get("_voice_leg") or "")
                kind = (leg.get("_purpose") or {}).get("kind") if leg is not None else None
                self._accept(self.state.rows[res["workspace_sid"]], res, None,
                             f"{VIA_PHONE}:{kind}" if kind else VIA_PHONE)
                return True
            return res["reservation_status"] == "accepted"

    def call_unanswered(self, res_sid: str, outcome: str) -> None:
        """The worker's phone did not take the call: declined or failed is a rejection, no answer a timeout."""
        with self.state.unit():
            res = self.state.rows.get(res_sid)
            if res is None or res["reservation_status"] != "pending":
                return
            ws = self.state.rows[res["workspace_sid"]]
            if outcome == "timeout":
                self._time_out(ws, res)
            else:
                self._reject(ws, res, None)

    def call_finished(self, res_sid: str, post_work_activity_sid: str | None) -> None:
        """The worker's call ended after it was bridged: the task wraps up, the worker goes to post-work."""
        with self.state.unit():
            res = self.state.rows.get(res_sid)
            if res is None:
                return
            ws = self.state.rows[res["workspace_sid"]]
            task = self.state.rows.get(res["task_sid"])
            if task is not None and task["assignment_status"] == "assigned":
                self._change_status(ws, task, "wrapping", None)
            worker = self.state.rows.get(res["worker_sid"])
            activity = self.state.rows.get(post_work_activity_sid or "")
            if worker is not None and activity is not None and activity["_kind"] == "activity":
                self._set_activity(ws, worker, activity)

    def _voice_leg_over(self, res: Row) -> None:
        """A reservation that had a phone ringing ended some other way: the phone stops ringing."""
        if self.voice is not None and res.get("_voice_leg"):
            self.voice.reservation_over(res)

    def _reservation_timed_out(self, ws_sid: str, res_sid: str) -> None:
        with self.state.unit():
            res = self.state.rows.get(res_sid)
            if res is None or res["reservation_status"] != "pending":
                return
            if res["_timeout_at"] is None or res["_timeout_at"] > self.now():
                return
            self._time_out(self.state.rows[ws_sid], res)

    def _time_out(self, ws: Row, res: Row) -> None:
        task = self.state.rows[res["task_sid"]]
        worker = self.state.rows[res["worker_sid"]]
        self._bump(res, reservation_status="timeout", _timeout_at=None)
        data = self.reservation_data(task, worker, res)
        self._event(ws, "reservation.timeout", res,
                    f"Reservation {res['sid']} timed out for Worker {worker['friendly_name']}", data)
        self._voice_leg_over(res)
        timeout_activity = self.state.rows.get(ws["timeout_activity_sid"] or "")
        if timeout_activity is not None:
            self._set_activity(ws, worker, timeout_activity)
        self._after_reservation_ended(ws, task, worker)

    def _resume_reservation_timer(self, res: Row) -> None:
        if res["reservation_status"] == "pending" and res.get("_timeout_at"):
            due = bind(self._reservation_timed_out, res["workspace_sid"], res["sid"])
            self.timers.schedule(res["_timeout_at"], due)
