"""What the services offer each other, as `typing.Protocol`s: the only way one service reaches another.

TaskRouter creates no call and voice keeps no reservation: when one needs the other, it calls the port
it was given. Only server.py wires services together (`LocalTwilio`), so every arrow between services
is one line there, and mypy checks that each service offers what its port promises (`make lint`).

    TaskRouter --VoicePort--------> voice        (carry out dequeue/call/redirect/conference; a reservation is over)
    TaskRouter --EventBridgePort--> EventBridge  (publish an event to the worker pages; close their sockets)
    TaskRouter --on_assignment/on_event--> the callback dispatcher (signed assignment and event callbacks)
    voice -------TaskRouterPort---> TaskRouter   (<Enqueue workflowSid> makes a Task; a worker's call answered, ...)
"""

from collections.abc import Iterable
from typing import Protocol

from .state import Row


class Instruction(Protocol):
    """An assignment instruction: its name (dequeue, call, ...) and its parameters under the callback's keys."""

    @property
    def name(self) -> str: ...

    @property
    def params(self) -> dict[str, str]: ...


class VoicePort(Protocol):
    """What TaskRouter asks of the voice side."""

    def carry_out(self, instruction: Instruction, ws: Row, task: Row, worker: Row, res: Row) -> None:
        """Carry out a voice instruction for a reservation, inside TaskRouter's unit of work."""

    def reservation_over(self, res: Row) -> None:
        """The reservation ended before its call did (timed out, canceled, ...): stop the worker's phone."""


class EventBridgePort(Protocol):
    """What TaskRouter tells EventBridge, the worker pages' websocket."""

    def publish(self, event: Row, resource: Row) -> None:
        """Push one event to every worker page it concerns (called at commit, in commit order)."""

    def end_sessions(self, why: str, workers: Iterable[str]) -> None:
        """Close the sockets of these workers (deleted, or their workspace was)."""


class TaskRouterPort(Protocol):
    """What the voice side asks of TaskRouter."""

    def row(self, kind: str, sid: str) -> Row | None:
        """A TaskRouter resource ("workflow", "task", "reservation") by SID, or None: read, never changed."""

    def create_task(self, account_sid: str, ws_sid: str, attributes: str | None = None,
                    workflow_sid: str | None = None, priority: int | None = None, timeout: int | None = None,
                    task_channel: str | None = None, virtual_start_time: str | None = None) -> Row: ...

    def update_task(self, account_sid: str, ws_sid: str, sid: str, attributes: str | None = None,
                    assignment_status: str | None = None, reason: str | None = None, priority: int | None = None,
                    task_channel: str | None = None, virtual_start_time: str | None = None,
                    if_match: str | None = None) -> Row: ...

    def accept_for_call(self, res_sid: str) -> bool:
        """The worker answered (or the instruction accepts at once): False if the reservation no longer can."""

    def call_unanswered(self, res_sid: str, outcome: str) -> None:
        """The worker's phone did not take the call: declined or failed rejects, no answer times out."""

    def call_finished(self, res_sid: str, post_work_activity_sid: str | None) -> None:
        """The worker's bridged call ended: the task wraps up, the worker goes to post-work."""


class ClockControl(Protocol):
    """The server-wide /_local/Clock: read the one clock, and move it forward (timers fire, the offset is kept)."""

    def now(self) -> float: ...

    @property
    def clock_offset(self) -> float: ...

    def advance_clock(self, seconds: float) -> float: ...
