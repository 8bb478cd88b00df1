"""TaskRouter's routing indexes over the shared state's rows, so that matching never scans every task or worker.

The core State (core/state.py) keeps rows and their children by parent; these follow the same rows through
its `Index` hooks: reservations by task and by worker (creation order), pending reservations by task, active
ones by worker, idle workers in the order they became available, and each queue's open tasks with a heap in
the order they are offered. Status indexes are pure functions of a row's fields, so an update keeps them
right by removing before a change and adding after it, and a rollback by adding the restored row again.
"""

import bisect
import heapq
from collections import defaultdict

from ..core.state import Row
from .statuses import ACTIVE_RESERVATION, OPEN_TASK


class RoutingIndexes:
    def __init__(self) -> None:
        self.res_by_task: dict[str, dict[str, Row]] = defaultdict(dict)
        self.res_by_worker: dict[str, dict[str, Row]] = defaultdict(dict)
        self.pending_res_by_task: dict[str, dict[str, Row]] = defaultdict(dict)
        self.active_res_by_worker: dict[str, dict[str, Row]] = defaultdict(dict)
        self.open_tasks_by_queue: dict[str, dict[str, Row]] = defaultdict(dict)
        self.idle_workers: dict[str, list[tuple]] = defaultdict(list)
        self.queue_heaps: dict[str, list[tuple]] = defaultdict(list)
        self._heap_keys: dict[str, tuple] = {}

    # -- the State's Index hooks ---------------------------------------------------------

    def add(self, row: Row) -> None:
        if row["_kind"] == "reservation":
            self.res_by_task[row["task_sid"]][row["sid"]] = row
            self.res_by_worker[row["worker_sid"]][row["sid"]] = row
        self.add_status(row)

    def remove(self, row: Row) -> None:
        if row["_kind"] == "reservation":
            self.res_by_task[row["task_sid"]].pop(row["sid"], None)
            self.res_by_worker[row["worker_sid"]].pop(row["sid"], None)
        self.remove_status(row)

    def ordered(self, row: Row) -> list[dict[str, Row]]:
        """The creation-ordered dicts that hold `row`: a rollback puts restored rows back in place in them."""
        if row["_kind"] == "reservation":
            return [self.res_by_task[row["task_sid"]], self.res_by_worker[row["worker_sid"]]]
        return []

    # -- status ---------------------------------------------------------------------------

    @staticmethod
    def idle_key(worker: Row) -> tuple:
        """Longest idle first: the order a worker became available in."""
        return (worker["_status_changed_ts"], worker["_seq"], worker["sid"])

    @staticmethod
    def heap_key(task: Row) -> tuple:
        """A FIFO queue's order: higher priority first, then the oldest task (Twilio orders by the task's
        age, its VirtualStartTime when one was given, not by when it entered this queue)."""
        return (-task["priority"], task.get("_start_ts") or task["_created_ts"], task["_seq"], task["sid"])

    def add_status(self, row: Row) -> None:
        kind, sid = row["_kind"], row["sid"]
        if kind == "reservation":
            status = row["reservation_status"]
            if status == "pending":
                self.pending_res_by_task[row["task_sid"]][sid] = row
            if status in ACTIVE_RESERVATION:
                self.active_res_by_worker[row["worker_sid"]][sid] = row
        elif kind == "worker":
            if row["available"]:
                bisect.insort(self.idle_workers[row["workspace_sid"]], self.idle_key(row))
        elif kind == "task":
            queue = row.get("task_queue_sid")
            if queue and row["assignment_status"] in OPEN_TASK and row.get("_filter") is not None:
                self.open_tasks_by_queue[queue][sid] = row
                key = (queue, self.heap_key(row))
                if self._heap_keys.get(sid) != key:
                    # Heaps are cleaned lazily: stale entries are dropped when they reach the top.
                    self._heap_keys[sid] = key
                    heapq.heappush(self.queue_heaps[queue], key[1])

    def remove_status(self, row: Row) -> None:
        kind, sid = row["_kind"], row["sid"]
        if kind == "reservation":
            self.pending_res_by_task[row["task_sid"]].pop(sid, None)
            self.active_res_by_worker[row["worker_sid"]].pop(sid, None)
        elif kind == "worker":
            if row["available"]:
                idle = self.idle_workers[row["workspace_sid"]]
                key = self.idle_key(row)
                at = bisect.bisect_left(idle, key)
                if at < len(idle) and idle[at] == key:
                    del idle[at]
        elif kind == "task":
            queue = row.get("task_queue_sid")
            if queue:
                self.open_tasks_by_queue[queue].pop(sid, None)

    # -- a queue's heap ------------------------------------------------------------------

    def heap_entry_is_live(self, queue_sid: str, entry: tuple) -> bool:
        task = self.open_tasks_by_queue.get(queue_sid, {}).get(entry[-1])
        return task is not None and self.heap_key(task) == entry

    def drop_heap_entry(self, queue_sid: str, entry: tuple) -> None:
        """Forget a stale entry at the top of a queue's heap."""
        heapq.heappop(self.queue_heaps[queue_sid])
        if self._heap_keys.get(entry[-1]) == (queue_sid, entry):
            del self._heap_keys[entry[-1]]
