"""The worker SDK's REST route (EventBridge calls it the tunnel): every REST call the SDK makes, as one
POST to /v1/wschannels.

The body is JSON `{"url": "Workspaces/WS.../Workers/WK...", "method": "GET"|"POST",
"params": {...}, "token": "<jwt>"}` whatever the Content-Type. The token decides
who is asking: a worker may read her workspace's activities and tasks, and read
and change herself, her channels and her reservations. Each request becomes one
backend call, answered `{"payload": ...}` in the SDK's shapes (wire.py); a
refusal is Twilio's JSON error body with its status, which the SDK reads as
"Request failed with status code N. <message>".
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from ..core.exceptions import InvalidParameter, NotFound, TwilioError
from ..core.http import integer
from ..core.limits import CAPACITY, PRIORITY, TASK_TIMEOUT, Range
from ..taskrouter import instructions
from ..taskrouter.models import Backend
from ..taskrouter.models.reservations import VIA_WORKER_PAGE
from . import wire
from .tokens import Grant

FORBIDDEN = 20403
ACTIVE = ("pending", "accepted", "wrapping")


class Forbidden(TwilioError):
    status = 403
    code = FORBIDDEN


def path_of(url: str) -> list[str]:
    """`https://taskrouter.twilio.com/v1/Workspaces/WS..`, `/v1/Workspaces/..` and `Workspaces/..` alike."""
    path = re.sub(r"^[a-z]+://[^/]+", "", url or "").strip("/")
    path = path.removeprefix("v1/").split("?")[0]
    return [part for part in path.split("/") if part]


def _text(value: Any) -> str | None:
    """A tunnelled parameter as the REST form would carry it: objects (Attributes) as JSON text."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _bool(params: dict, name: str) -> bool | None:
    value = _text(params.get(name))
    if value is None or value == "":
        return None
    if value.lower() not in ("true", "false"):
        raise InvalidParameter(f"{name} must be true or false, got {value!r}")
    return value.lower() == "true"


def _int(params: dict, name: str, within: Range) -> int | None:
    return integer(name, _text(params.get(name)), within)


class RestRoute:
    def __init__(self, backend: Backend):
        self.backend = backend

    def handle(self, grant: Grant, method: str, url: str, params: dict[str, Any]) -> Any:
        """The payload for one tunnelled request (TwilioError when refused)."""
        if not isinstance(params, dict):
            raise InvalidParameter("params must be a JSON object")
        parts = path_of(url)
        if len(parts) < 2 or parts[0] != "Workspaces":
            raise NotFound("/" + "/".join(parts))
        if parts[1] != grant.workspace_sid:
            raise Forbidden(f"this token is for Workspace {grant.workspace_sid}, not {parts[1]}")
        route = self._route(parts[2:], method.upper())
        if route is None:
            raise NotFound("/" + "/".join(parts))
        handler, args = route
        if args.get("worker") not in (None, grant.worker_sid):
            raise Forbidden(f"this token is Worker {grant.worker_sid}'s; it cannot act for {args['worker']}")
        return handler(grant, params, **args)

    def _route(self, rest: list[str], method: str) -> tuple[Callable[..., Any], dict[str, str]] | None:
        table: list[tuple[str, str, Callable[..., Any]]] = [
            ("GET", "Activities", self.activities),
            ("GET", "Workers/{worker}", self.get_worker),
            ("POST", "Workers/{worker}", self.update_worker),
            ("GET", "Workers/{worker}/WorkerChannels", self.channels),
            ("GET", "Workers/{worker}/Channels", self.channels),
            ("POST", "Workers/{worker}/WorkerChannels/{sid}", self.update_channel),
            ("POST", "Workers/{worker}/Channels/{sid}", self.update_channel),
            ("GET", "Workers/{worker}/Reservations", self.reservations),
            ("GET", "Workers/{worker}/Reservations/{sid}", self.get_reservation),
            ("POST", "Workers/{worker}/Reservations/{sid}", self.update_reservation),
            ("GET", "Tasks/{sid}", self.get_task),
            ("POST", "Tasks/{sid}", self.update_task),
            ("POST", "Tasks", self.create_task),
        ]
        for wanted_method, rule, handler in table:
            pattern = rule.split("/")
            if wanted_method != method or len(pattern) != len(rest):
                continue
            args: dict[str, str] = {}
            for part, given in zip(pattern, rest, strict=True):
                if part.startswith("{"):
                    args[part[1:-1]] = given
                elif part != given:
                    break
            else:
                return handler, args
        return None

    # ------------------------------------------------------------------ the worker and her activities

    def activities(self, grant: Grant, params: dict) -> dict:
        rows = self.backend.children(grant.account_sid, grant.workspace_sid, "activity")
        return wire.listing([wire.activity(r) for r in rows])

    def get_worker(self, grant: Grant, params: dict, worker: str) -> dict:
        return wire.worker(self.backend.child(grant.account_sid, grant.workspace_sid, "worker", worker, "Workers"))

    def update_worker(self, grant: Grant, params: dict, worker: str) -> dict:
        row = self.backend.update_worker(
            grant.account_sid, grant.workspace_sid, worker, activity_sid=_text(params.get("ActivitySid")),
            attributes=_text(params.get("Attributes")),
            reject_pending_reservations=_bool(params, "RejectPendingReservations"))
        return wire.worker(row)

    def channels(self, grant: Grant, params: dict, worker: str) -> dict:
        rows = self.backend.worker_channels(grant.account_sid, grant.workspace_sid, worker)
        return wire.listing([wire.channel(self.backend, r) for r in rows])

    def update_channel(self, grant: Grant, params: dict, worker: str, sid: str) -> dict:
        row = self.backend.update_worker_channel(grant.account_sid, grant.workspace_sid, worker, sid,
                                                 _int(params, "Capacity", CAPACITY), _bool(params, "Available"))
        return wire.channel(self.backend, row)

    # ------------------------------------------------------------------ reservations

    def reservations(self, grant: Grant, params: dict, worker: str) -> dict:
        rows = self.backend.reservations(grant.account_sid, grant.workspace_sid, worker_sid=worker)
        status = _text(params.get("ReservationStatus"))
        active = _bool(params, "Active")
        rows = [r for r in rows if (status is None or r["reservation_status"] == status)
                and (not active or r["reservation_status"] in ACTIVE)]
        return wire.listing([wire.reservation(self.backend, r) for r in rows])

    def get_reservation(self, grant: Grant, params: dict, worker: str, sid: str) -> dict:
        row = self.backend.reservation(grant.account_sid, grant.workspace_sid, sid, worker_sid=worker)
        return wire.reservation(self.backend, row)

    def update_reservation(self, grant: Grant, params: dict, worker: str, sid: str) -> dict:
        name = _text(params.get("Instruction"))
        instruction = None
        if name is not None:
            instruction = instructions.from_rest(name, lambda wire_name: _values(params.get(wire_name)))
        row = self.backend.update_reservation(
            grant.account_sid, grant.workspace_sid, sid, worker_sid=worker,
            reservation_status=_text(params.get("ReservationStatus")),
            worker_activity_sid=_text(params.get("WorkerActivitySid")), instruction=instruction,
            via=VIA_WORKER_PAGE)
        # The SDK ignores the task in this answer: the change itself arrives on the socket.
        return wire.reservation(self.backend, row, with_task=False)

    # ------------------------------------------------------------------ tasks

    def get_task(self, grant: Grant, params: dict, sid: str) -> dict:
        return wire.task(self.backend, self.backend.child(grant.account_sid, grant.workspace_sid, "task", sid,
                                                           "Tasks"))

    def update_task(self, grant: Grant, params: dict, sid: str) -> dict:
        row = self.backend.update_task(
            grant.account_sid, grant.workspace_sid, sid, attributes=_text(params.get("Attributes")),
            assignment_status=_text(params.get("AssignmentStatus")), reason=_text(params.get("Reason")),
            priority=_int(params, "Priority", PRIORITY))
        return wire.task(self.backend, self.backend.state.rows.get(row["sid"], row))

    def create_task(self, grant: Grant, params: dict) -> dict:
        row = self.backend.create_task(
            grant.account_sid, grant.workspace_sid, attributes=_text(params.get("Attributes")),
            workflow_sid=_text(params.get("WorkflowSid")), priority=_int(params, "Priority", PRIORITY),
            timeout=_int(params, "Timeout", TASK_TIMEOUT), task_channel=_text(params.get("TaskChannel")))
        return wire.task(self.backend, self.backend.state.rows.get(row["sid"], row))


def _values(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [_text(v) or "" for v in value]
    return [_text(value) or ""]
