"""The routing engine's moving part: which worker gets which task, and when.

Mixed into `Backend` (models/__init__.py), whose verbs call it inside their unit of work:
`_route` sends a task through its workflow (first matching filter, its targets in
order), `_offer_task` reserves the longest-idle eligible workers for a task, and
`_offer_worker` gives a worker that became free the best open task of its queues.
Both walk indexes kept by the state (idle workers in idle order, a heap of open
tasks per queue, active reservations) and cached queue membership, never every
task or every worker.
"""

import heapq
from collections.abc import Iterator
from typing import Any

from ...core.clock import iso
from ...core.state import Row
from ..expressions import compile_expression
from ..routing import Target, sort_key_for
from ..statuses import OPEN_TASK
from .base import BackendBase


class Matching(BackendBase):
    """Routing rules shared by the verbs. Owns the queue-membership cache it keeps."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # queue sid -> ((target_workers, workers version), member sids); a version per workspace
        self._members: dict[str, tuple[tuple[str, int], frozenset[str]]] = {}
        self._worker_versions: dict[str, int] = {}

    def channel_usage(self, worker: Row, channel_sid: str) -> int:
        return sum(
            1
            for res in self.indexes.active_res_by_worker.get(worker["sid"], {}).values()
            if self.state.rows[res["task_sid"]]["task_channel_sid"] == channel_sid
        )

    def _pending_reservations_of(self, worker: Row) -> list[Row]:
        return [
            r
            for r in self.indexes.active_res_by_worker.get(worker["sid"], {}).values()
            if r["reservation_status"] == "pending"
        ]

    def _can_take(self, ws: Row, worker: Row, task: Row) -> bool:
        """Is the worker free for this task's channel right now?"""
        if not worker["available"]:
            return False
        if not ws["multi_task_enabled"]:
            # Single-tasking: one task at a time, until it is completed (Twilio's description of
            # MultiTaskEnabled): any pending, accepted or wrapping reservation blocks new offers.
            return not self.indexes.active_res_by_worker.get(worker["sid"])
        for wc in self.state.of(worker["sid"], "worker_channel").values():
            if wc["task_channel_sid"] == task["task_channel_sid"]:
                if not wc["available"]:
                    return False
                return self.channel_usage(worker, wc["task_channel_sid"]) < wc["configured_capacity"]
        return False

    def queue_matches(self, queue: Row, worker: Row) -> bool:
        attrs = worker["_attrs"]
        return compile_expression(queue["target_workers"]).evaluate({"worker": attrs}, bare=attrs)

    def members(self, queue: Row) -> frozenset[str]:
        """The workers a queue's target_workers selects, recomputed only when workers or the
        expression change (a version counter per workspace, so a rollback can only invalidate)."""
        version = self._worker_versions.get(queue["workspace_sid"], 0)
        cached = self._members.get(queue["sid"])
        if cached is None or cached[0] != (queue["target_workers"], version):
            selected = frozenset(
                w["sid"] for w in self.state.of(queue["workspace_sid"], "worker").values()
                if self.queue_matches(queue, w)
            )
            cached = ((queue["target_workers"], version), selected)
            self._members[queue["sid"]] = cached
        return cached[1]

    def _workers_changed(self, ws_sid: str) -> None:
        self._worker_versions[ws_sid] = self._worker_versions.get(ws_sid, 0) + 1

    def _route(self, ws: Row, task: Row, reason: str | None = None, offer: bool = True) -> None:
        """Send a pending task through its workflow: first matching filter, its first target."""
        workflow = self.state.rows[task["workflow_sid"]]
        config = self.config(workflow)
        index = config.select_filter(task["_attrs"])
        if index is None:
            self._cancel_task(ws, task, "Task did not match any workflow filter and there is no default filter")
            return
        self._event(ws, "workflow.entered", task, f"Task entered Workflow {workflow['friendly_name']}",
                    {**self.task_data(task), "workflow_filter_name": config.filter_name(index)})
        self._enter_target(ws, task, index, 0, offer=offer)

    def _enter_target(self, ws: Row, task: Row, filter_index: int, target_index: int,
                      offer: bool = True) -> None:
        workflow = self.state.rows[task["workflow_sid"]]
        config = self.config(workflow)
        targets = config.targets(filter_index)
        skipped = False
        while target_index < len(targets):
            target = targets[target_index]
            if target.skip_if is None or not target.skip_if.evaluate(
                {"workers": {"available": self._available_count(ws, task, target)}}
            ):
                break
            skipped, target_index = True, target_index + 1
        if target_index >= len(targets) and skipped:
            # skip_if on the final step: as if the filter had not matched; the next one (or the default
            # filter) gets the task. With none left, the task is canceled (Twilio's docs are silent).
            following = config.select_filter(task["_attrs"], after=filter_index)
            if following is not None:
                self._enter_target(ws, task, following, 0, offer=offer)
                return
            self._event(ws, "workflow.skipped", task, "Task skipped every target of its Workflow (skip_if)",
                        self.task_data(task))
            self._cancel_task(ws, task, "Workflow Skipped")
            return
        if target_index >= len(targets):
            self._event(ws, "workflow.timeout", task, "Task timed out of its Workflow", self.task_data(task))
            self._cancel_task(ws, task, "Workflow Timeout")
            return
        target = targets[target_index]
        queue = self.state.rows[target.queue_sid]
        now = self.now()
        moved = task["task_queue_sid"] is not None and task["task_queue_sid"] != queue["sid"]
        changes: dict[str, Any] = {
            "_filter": filter_index,
            "_target": target_index,
            "_target_timeout_at": self._target_deadline(task, targets, target_index),
        }
        if task["task_queue_sid"] != queue["sid"]:
            changes.update(
                task_queue_sid=queue["sid"],
                task_queue_friendly_name=queue["friendly_name"],
                task_queue_entered_date=iso(now),
                _queue_entered_ts=now,
            )
        if target.priority is not None:
            changes["priority"] = target.priority
        self._bump(task, **changes)
        data = {**self.task_data(task), "workflow_filter_name": config.filter_name(filter_index),
                "workflow_filter_target_index": target_index}
        self._event(ws, "task-queue.moved" if moved else "task-queue.entered", task,
                    f"Task entered TaskQueue {queue['friendly_name']}", data)
        self._event(ws, "workflow.target-matched", task,
                    f"Task matched target {target_index} of filter {config.filter_name(filter_index)}",
                    data)
        if target.timeout:
            self._schedule(changes["_target_timeout_at"], self._target_timed_out, ws["sid"], task["sid"])
        if offer:
            self._offer_task(ws, task)

    @staticmethod
    def _target_deadline(task: Row, targets: tuple[Target, ...], index: int) -> float | None:
        """When the task leaves target `index`. Twilio counts target timeouts on the task's age, not
        from entering the target: target i ends when the task is as old as the timeouts of targets
        0..i together ("Lifecycle of a Task: Timeout evaluation")."""
        if not targets[index].timeout:
            return None
        return task["_created_ts"] + sum(t.timeout or 0 for t in targets[: index + 1])

    def _target(self, task: Row) -> Target:
        config = self.config(self.state.rows[task["workflow_sid"]])
        return config.targets(task["_filter"])[task["_target"]]

    def _eligible(self, ws: Row, task: Row, target: Target, worker: Row) -> bool:
        if worker["sid"] not in self.members(self.state.rows[target.queue_sid]):
            return False
        if target.known_worker is not None:
            # Known agent routing: only the worker the task names, and only while it names one.
            field, _ = target.known_worker
            if worker[field] != target.known_worker_value(task["_attrs"]):
                return False
        if target.expression is not None:
            attrs = worker["_attrs"]
            if not target.expression.evaluate({"task": task["_attrs"], "worker": attrs}, bare=attrs):
                return False
        return worker["sid"] not in task.get("_declined", ())

    def _idle_workers(self, ws: Row) -> Iterator[Row]:
        """Workers in an available activity, longest idle first (kept sorted by the state).
        Lazy, since callers usually stop at the first eligible worker; they must not change
        worker activities while iterating."""
        rows = self.state.rows
        for key in self.indexes.idle_workers.get(ws["sid"], ()):
            yield rows[key[-1]]

    def _available_count(self, ws: Row, task: Row, target: Target) -> int:
        return sum(
            1 for w in self._idle_workers(ws) if self._can_take(ws, w, task) and self._eligible(ws, task, target, w)
        )

    def _offer_task(self, ws: Row, task: Row) -> None:
        """Reserve eligible workers for a pending task, up to the queue's max_reserved_workers."""
        if task["assignment_status"] not in OPEN_TASK or task.get("_filter") is None:
            return
        target = self._target(task)
        queue = self.state.rows[target.queue_sid]
        offered = {r["worker_sid"] for r in self.indexes.pending_res_by_task.get(task["sid"], {}).values()}
        room = queue["max_reserved_workers"] - len(offered)
        if room <= 0 or not self.members(queue):
            return
        candidates = []
        # Longest idle first: the idle index is already in that order, so stop once there is room.
        for worker in self._idle_workers(ws):
            if (
                worker["sid"] not in offered
                and self._can_take(ws, worker, task)
                and self._eligible(ws, task, target, worker)
            ):
                candidates.append(worker)
                if len(candidates) == room and not target.order_by:
                    break
        if target.order_by:  # a target's order_by takes precedence over idle time
            key = sort_key_for(target.order_by)
            candidates.sort(key=lambda w: key(w["_attrs"]))
        for worker in candidates[:room]:
            self._reserve(ws, task, worker, queue)

    def _can_offer(self, ws: Row, task: Row, worker: Row) -> bool:
        """May this open task be offered to this worker now?"""
        if not self._can_take(ws, worker, task):
            return False
        target = self._target(task)
        pending = self.indexes.pending_res_by_task.get(task["sid"], {})
        if len(pending) >= self.state.rows[target.queue_sid]["max_reserved_workers"]:
            return False
        if any(r["worker_sid"] == worker["sid"] for r in pending.values()):
            return False
        return self._eligible(ws, task, target, worker)

    def _best_in_queue(self, ws: Row, queue: Row, worker: Row) -> Row | None:
        """The first task of a queue this worker can take, in the queue's order."""
        if queue["task_order"] == "LIFO":
            # LIFO is rare: order the queue's open tasks on demand, newest first. Twilio's LIFO
            # "does not consider the Task priority".
            tasks = sorted(
                self.indexes.open_tasks_by_queue.get(queue["sid"], {}).values(),
                key=lambda t: (-_start(t), -t["_seq"]),
            )
            return next((t for t in tasks if self._can_offer(ws, t, worker)), None)
        heap = self.indexes.queue_heaps.get(queue["sid"])
        if not heap:
            return None
        skipped, found = [], None
        while heap:
            entry = heap[0]
            if not self.indexes.heap_entry_is_live(queue["sid"], entry):
                self.indexes.drop_heap_entry(queue["sid"], entry)
                continue
            task = self.indexes.open_tasks_by_queue[queue["sid"]][entry[-1]]
            if self._can_offer(ws, task, worker):
                found = task
                break
            # Reserved to someone else, or not for this worker: look further, then put it back.
            skipped.append(heapq.heappop(heap))
        for entry in skipped:
            heapq.heappush(heap, entry)
        return found

    def _offer_worker(self, worker: Row) -> None:
        """A worker became free: give it the best open tasks of the queues it belongs to."""
        ws = self.state.rows[worker["workspace_sid"]]
        queues = [q for q in self.state.of(ws["sid"], "task_queue").values() if worker["sid"] in self.members(q)]
        first_kind = ws["prioritize_queue_order"]  # which kind of queue a worker in both drains first
        while worker["available"]:
            best, best_key = None, None
            for queue in queues:
                task = self._best_in_queue(ws, queue, worker)
                if task is None:
                    continue
                kind = 0 if queue["task_order"] == first_kind else 1
                if queue["task_order"] == "LIFO":
                    key = (kind, 0, -_start(task), -task["_seq"])
                else:
                    key = (kind, -task["priority"], _start(task), task["_seq"])
                if best_key is None or key < best_key:
                    best, best_key = task, key
            if best is None:
                return
            self._reserve(ws, best, worker, self.state.rows[self._target(best).queue_sid])

    def _offer_queue(self, ws: Row, queue: Row) -> None:
        for task in list(self.indexes.open_tasks_by_queue.get(queue["sid"], {}).values()):
            self._offer_task(ws, task)


def _start(task: Row) -> float:
    """What a task's age counts from, for ordering: its VirtualStartTime if given, else its creation."""
    return task.get("_start_ts") or task["_created_ts"]
