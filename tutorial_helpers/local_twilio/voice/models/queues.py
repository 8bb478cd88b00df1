"""Queues and <Enqueue>: where a caller waits (hearing the waitUrl), with the TaskRouter Task it makes.

A plain <Enqueue name> keeps the call in a named queue; <Enqueue workflowSid> also creates a Task on the
`voice` channel through TaskRouterPort, in the same unit of work. When the caller leaves (hangs up, <Leave>,
a bridge, a redirect), a Task still waiting is canceled and the Enqueue `action` is told why.
"""

from __future__ import annotations

import json

from ...core.exceptions import Duplicate, InUse, InvalidParameter, NotFound, TwilioError
from ...core.limits import QUEUE_MAX_SIZE
from ...core.state import Row, new_sid
from ..twiml import (
    Enqueue,
    TaskSpec,
)
from .base import (
    DEFAULT_QUEUE_SIZE,
    MAX_FRIENDLY_NAME,
    VoiceBase,
)


class QueuesMixin(VoiceBase):
    """The queues of every account, and calls entering and leaving them."""

    # -------------------------------------------------------------------- queues

    def queues(self, account_sid: str) -> list[Row]:
        return list(self.state.of(account_sid, "queue").values())

    def queue(self, account_sid: str, sid: str) -> Row:
        row = self.state.rows.get(sid)
        if not row or row["_kind"] != "queue" or row["account_sid"] != account_sid:
            raise NotFound(f"/Accounts/{account_sid}/Queues/{sid}.json")
        return row

    def queue_named(self, account_sid: str, name: str) -> Row:
        """The queue with this friendly name, made on first use (what <Enqueue> does on Twilio)."""
        for row in self.state.of(account_sid, "queue").values():
            if row["friendly_name"] == name:
                return row
        return self._insert_queue(account_sid, name, DEFAULT_QUEUE_SIZE)

    def _insert_queue(self, account_sid: str, name: str, max_size: int) -> Row:
        return self.state.insert("queue", {
            "sid": new_sid("QU"), "account_sid": account_sid, "friendly_name": name, "max_size": max_size,
            **self._stamp(),
        })

    def members(self, queue: Row) -> list[Row]:
        """The calls waiting in a queue, the longest waiting first."""
        waiting = [r for r in self.state.of(queue["account_sid"], "call").values()
                   if r.get("_queue_sid") == queue["sid"] and r["status"] == "in-progress" and r.get("_queued")]
        return sorted(waiting, key=lambda r: r["_queue_entered_ts"])

    def create_queue(self, account_sid: str, friendly_name: str | None, max_size: int | None) -> Row:
        with self.state.unit():
            self._account_still_there(account_sid)
            name = _queue_name(friendly_name)
            if any(r["friendly_name"] == name for r in self.state.of(account_sid, "queue").values()):
                raise Duplicate(f"Queue named {name} already exists")
            return dict(self._insert_queue(account_sid, name, _queue_size(max_size, DEFAULT_QUEUE_SIZE)))

    def update_queue(self, account_sid: str, sid: str, friendly_name: str | None, max_size: int | None) -> Row:
        with self.state.unit():
            row = self.queue(account_sid, sid)
            changes: dict[str, object] = {}
            if friendly_name is not None:
                changes["friendly_name"] = _queue_name(friendly_name)
            if max_size is not None:
                changes["max_size"] = _queue_size(max_size, row["max_size"])
            self._touch(row, **changes)
            return dict(row)

    def delete_queue(self, account_sid: str, sid: str) -> None:
        with self.state.unit():
            row = self.queue(account_sid, sid)
            if self.members(row):
                raise InUse(f"Queue {sid} cannot be deleted: calls are waiting in it")
            self.state.delete(row)

    # -------------------------------------------------------------------- <Enqueue>

    def _enqueue(self, row: Row, verb: Enqueue) -> None:
        """<Enqueue workflowSid>: a TaskRouter Task for this call, in this same unit of work.

        The Task's attributes are the <Task> JSON with the call's fields added, as TaskRouter
        does; it goes on the `voice` channel; the caller waits, hearing hold music, until the
        call leaves the queue (hangs up, for now: dequeue comes with issue 13).
        """
        if verb.workflow_sid is None:  # a plain named queue: the call waits in it, no Task
            self._join_queue(row, verb, self.queue_named(row["account_sid"], verb.name or ""), None)
            return
        workflow = self.taskrouter.row("workflow", verb.workflow_sid)
        if workflow is None or workflow["account_sid"] != row["account_sid"]:
            self._fail(row, 12200, f"<Enqueue workflowSid={verb.workflow_sid}>: no such Workflow on this account")
            return
        spec = verb.task or TaskSpec()
        attributes = {**spec.attributes, **self._task_call_fields(row)}
        try:
            task = self.taskrouter.create_task(
                row["account_sid"], workflow["workspace_sid"], attributes=json.dumps(attributes),
                workflow_sid=workflow["sid"], priority=spec.priority, timeout=spec.timeout, task_channel="voice",
            )
        except TwilioError as exc:
            self._fail(row, exc.code, f"<Enqueue>: TaskRouter refused the Task: {exc.message}")
            return
        # On Twilio the call waits in a queue named by the Workflow's SID.
        self._join_queue(row, verb, self.queue_named(row["account_sid"], workflow["sid"]), task)

    def _join_queue(self, row: Row, verb: Enqueue, queue: Row, task: Row | None) -> None:
        if len(self.members(queue)) >= queue["max_size"]:
            self._heard(row, "queue-full", queue=queue["friendly_name"])
            self._after_enqueue(row, verb, "queue-full", None)
            return
        position = len(self.members(queue)) + 1
        if task is not None:
            self._heard(row, "enqueue", task_sid=task["sid"], queue=task["task_queue_friendly_name"],
                        position=position)
        else:
            self._heard(row, "enqueue", queue=queue["friendly_name"], position=position)
        self._set(row, _task_sid=task["sid"] if task else None, _queue_sid=queue["sid"], _queued=True,
                  _queue_entered_ts=self.clock.now(),
                  _enqueue={"action": verb.action, "method": verb.method, "wait_url": verb.wait_url,
                            "wait_url_method": verb.wait_url_method},
                  _main={"doc": row["_doc"], "url": row["_doc_url"], "pc": row["_pc"]})
        if verb.wait_url:
            self._request_wait_url(row)
        else:
            self._heard(row, "hold-music")
            self._wait(row, "queue")

    def _request_wait_url(self, row: Row) -> None:
        """What the caller hears while queued: the waitUrl's TwiML, with where the caller stands."""
        queue = self.state.rows[row["_queue_sid"]]
        members = self.members(queue)
        now = self.clock.now()
        waits = [now - m["_queue_entered_ts"] for m in members]
        position = next((i for i, m in enumerate(members, 1) if m["sid"] == row["sid"]), len(members))
        self._set(row, _in_wait=True, _wait_requested_ts=now)
        spec = row["_enqueue"]
        self._fetch(row, spec["wait_url"], spec["wait_url_method"], {
            "QueuePosition": str(position), "QueueSid": queue["sid"],
            "QueueTime": str(int(now - row["_queue_entered_ts"])),
            "AvgQueueTime": str(int(sum(waits) / len(waits))) if waits else "0",
            "CurrentQueueSize": str(len(members)), "MaxQueueSize": str(queue["max_size"]),
        })

    def _after_enqueue(self, row: Row, verb: Enqueue, result: str, queue_sid: str | None) -> None:
        """The call did not stay queued: the action URL decides what happens next (or the next verb)."""
        if verb.action:
            self._fetch(row, verb.action, verb.method, {"QueueResult": result, "QueueSid": queue_sid or ""})
        else:
            self._resume(row)

    def _task_call_fields(self, row: Row) -> dict[str, str]:
        """What TaskRouter adds to a Task made by <Enqueue>: the call's own fields, in snake case."""
        return {
            "call_sid": row["sid"],
            "account_sid": row["account_sid"],
            "from": row["from"],
            "to": row["to"],
            "caller": row["from"],
            "called": row["to"],
            "direction": row["direction"],
            "api_version": "2010-04-01",
            **{f"{side}_{part}": "" for side in ("from", "to", "caller", "called")
               for part in ("city", "state", "zip", "country")},
        }

    def _left_queue(self, row: Row, result: str) -> None:
        """The caller left the queue (hung up, or <Leave>): a Task still waiting is canceled, and the Enqueue's
        action is told. After a <Leave> the action's TwiML (or the verb after <Enqueue>) goes on with the call."""
        task = self.taskrouter.row("task", row.get("_task_sid") or "")
        if task is not None and task["assignment_status"] in ("pending", "reserved"):
            reason = "The caller hung up" if result == "hangup" else "The caller left the queue"
            self.taskrouter.update_task(task["account_sid"], task["workspace_sid"], task["sid"],
                                        assignment_status="canceled", reason=reason)
        main = row.get("_main") or {}
        self._set(row, _queued=False, _in_wait=False, _doc=main.get("doc", row["_doc"]),
                  _doc_url=main.get("url", row["_doc_url"]), _pc=main.get("pc", row["_pc"]))
        action = (row.get("_enqueue") or {}).get("action")
        if result == "leave":
            queue_time = str(int(self.clock.now() - row["_queue_entered_ts"]))
            if action:
                self._fetch(row, action, row["_enqueue"]["method"], {
                    "QueueResult": "leave", "QueueSid": row["_queue_sid"], "QueueTime": queue_time})
            else:
                self._resume(row)
            return
        self._tell_action(row, result)

    def _queue_result(self, row: Row, result: str) -> dict[str, str]:
        left = row.get("_queue_left_ts") or self.clock.now()
        return {"QueueResult": result, "QueueSid": row.get("_queue_sid") or "",
                "QueueTime": str(int(left - row["_queue_entered_ts"]))}

    def _tell_action(self, row: Row, result: str) -> None:
        """Tell the <Enqueue action> how the call left the queue, when its answer can no longer steer the call."""
        spec = row.get("_enqueue") or {}
        if spec.get("action"):
            self._report(row, spec["method"], spec["action"], {**self._webhook_params(row),
                                                               **self._queue_result(row, result)})


def _queue_name(value: str | None) -> str:
    if value is None or not value.strip():
        raise InvalidParameter("FriendlyName is required")
    if len(value) > MAX_FRIENDLY_NAME:
        raise InvalidParameter(f"FriendlyName is longer than {MAX_FRIENDLY_NAME} characters")
    return value


def _queue_size(value: int | None, default: int) -> int:
    if value is None:
        return default
    return QUEUE_MAX_SIZE.check(value, "MaxSize")
