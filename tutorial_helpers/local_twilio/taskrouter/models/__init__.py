"""The local TaskRouter's backend: every API verb and every lifecycle rule, one module per resource.

`Backend` is composed from one mixin per resource, in moto's manner for big
services (`moto/ec2/models/`). Each module carries its resource's verbs, its
state transitions and its timers; `base.py` holds the shared state they all
work on. Every verb runs in one unit of work (`state.py`), so it happens
entirely or not at all; matching runs inside the same unit as the change that
triggered it, never by polling; callbacks and timers start after commit.

| rule | where |
| --- | --- |
| where Alice goes when a reservation is created, accepted, rejected, timed out, canceled, rescinded | reservations.py |
| the assignment callback's parameters; what an instruction (accept, reject) does | reservations.py |
| what a voice instruction's call does to its reservation (answered, declined, unanswered, ended) | reservations.py |
| reading an instruction from callback JSON or REST form parameters | ../instructions.py |
| carrying out dequeue, call, redirect, conference (the calls, the bridge) | ../../voice/instructions.py |
| which worker gets which task, and when (routing, offers, max reserved workers, ordering) | matching.py |
| a task's TTL, its target timeouts, its clean-up five minutes after it finished | tasks.py |
| which task statuses may follow which; canceling needs a reason | tasks.py |
| a worker's activity changes (worker.activity.update); pending reservations block an unavailable move | workers.py |
| what a new workspace comes with (activities, task channels, the FIFO template) | workspaces.py |
| a queue's reservation and assignment activities; what may not be deleted | task_queues.py |
| a workflow's configuration, parsed and cached; ReEvaluateTasks | workflows.py |
| every event and its data; EventsFilter; alerts for callback problems | events.py |
| lookups, ETags, stamps, scheduling on the one clock, validators | base.py |
| what a webhook URL may be (shared with the voice side) | ../../core/validators.py |
"""

from ...core.clock import Clock
from ...core.ports import ClockControl, TaskRouterPort
from ...core.store import Store
from ...core.timers import Timers
from .base import BackendBase, etag, json_object, resource_path
from .events import EventsMixin
from .matching import Matching
from .reservations import ReservationsMixin
from .task_queues import TaskQueuesMixin
from .tasks import TasksMixin
from .workers import WorkersMixin
from .workflows import WorkflowsMixin
from .workspaces import WorkspacesMixin


class Backend(
    WorkspacesMixin,
    WorkersMixin,
    TaskQueuesMixin,
    WorkflowsMixin,
    TasksMixin,
    ReservationsMixin,
    Matching,
    EventsMixin,
    BackendBase,
):
    """All state of one local TaskRouter; thread-safe through the state's lock."""

    def __init__(self, store: Store, clock: Clock, timers: Timers, accounts: dict[str, str]):
        super().__init__(store, clock, timers, accounts)

    def resume_timers(self) -> None:
        """After a restart: every stored deadline gets its timer back."""
        for row in list(self.state.rows.values()):
            if row["_kind"] == "reservation":
                self._resume_reservation_timer(row)
            elif row["_kind"] == "task":
                self._resume_task_timers(row)


def _conforms(backend: Backend) -> tuple[TaskRouterPort, ClockControl]:
    """Never called: mypy checks here that the composed Backend is what core/ports.py promises (server.py hands
    it to voice as its TaskRouterPort, and to /_local/Clock as ClockControl), and that it is concrete: every
    method one mixin declares for another in BackendBase (base.py) has its implementation in some mixin."""
    _concrete: type[Backend] = Backend
    return backend, backend


__all__ = ["Backend", "etag", "json_object", "resource_path"]
