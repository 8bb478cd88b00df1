"""Events and alerts: what happened, newest first, and what went wrong with a callback.

Every transition records an event in the same unit of work as the change; the
event callback (if the workspace has one and its EventsFilter lets the type
through) is sent after commit. Events live only in SQLite (state.append_event).
"""

import logging
from typing import Any

from ...core.clock import iso
from ...core.exceptions import NotFound
from ...core.state import Row, new_sid
from ...core.store import EventSelection
from .base import (
    BackendBase,
    resource_path,
)

log = logging.getLogger(__name__)


class EventsMixin(BackendBase):
    """Events, their data, and alerts."""

    def _event(
        self,
        ws: Row,
        event_type: str,
        resource: Row,
        description: str,
        data: dict[str, Any],
    ) -> None:
        now = self.now()
        resource_type = {
            "task_queue": "taskqueue",
            "task_channel": "taskchannel",
            "worker_channel": "workerchannel",
        }.get(resource["_kind"], resource["_kind"])
        event_data = {
            "workspace_sid": ws["sid"],
            "workspace_name": ws["friendly_name"],
            "account_sid": ws["account_sid"],
            **data,
        }
        row = {
            "sid": new_sid("EV"),
            "account_sid": ws["account_sid"],
            "workspace_sid": ws["sid"],
            "actor_sid": ws["sid"],
            "actor_type": "workspace",
            "description": description,
            "event_data": event_data,
            "event_date": iso(now),
            "event_date_ms": int(now * 1000),
            "event_type": event_type,
            "resource_sid": resource["sid"],
            "resource_type": resource_type,
            "_resource_path": resource_path(resource),
            "source": "twilio",
            "source_ip_address": "127.0.0.1",
        }
        self.state.append_event(row)
        if self.eventbridge is not None:
            self.eventbridge.publish(row, resource)
        wanted = ws.get("events_filter")
        if ws.get("event_callback_url") and (
            not wanted or event_type in [x.strip() for x in wanted.split(",")]
        ):
            # Due with this change, in the outbox: sent after a restart if the process dies first.
            self.state.queue_callback("event", {"workspace": dict(ws), "event": dict(row)},
                                      lambda outbox_id, due: self.on_event(due["workspace"], due["event"], outbox_id))

    def task_data(self, task: Row) -> dict[str, Any]:
        return {
            "task_sid": task["sid"],
            "task_attributes": task["attributes"],
            "task_age": self.task_age(task),
            "task_priority": task["priority"],
            "task_assignment_status": task["assignment_status"],
            "task_queue_sid": task["task_queue_sid"],
            "task_queue_name": task["task_queue_friendly_name"],
            "task_queue_entered_date": task["task_queue_entered_date"],
            "workflow_sid": task["workflow_sid"],
            "workflow_name": task["workflow_friendly_name"],
            "task_channel_sid": task["task_channel_sid"],
            "task_channel_unique_name": task["task_channel_unique_name"],
            "task_date_created": task["date_created"],
            "task_timeout": task["timeout"],
            "task_reason": task["reason"],
        }

    def worker_data(self, worker: Row, previous: Row | None = None) -> dict[str, Any]:
        data = {
            "worker_sid": worker["sid"],
            "worker_name": worker["friendly_name"],
            "worker_attributes": worker["attributes"],
            "worker_activity_sid": worker["activity_sid"],
            "worker_activity_name": worker["activity_name"],
            "worker_available": worker["available"],
        }
        if previous is not None:
            spent = max(0.0, self.now() - worker.get("_status_changed_ts", self.now()))
            data.update(
                worker_previous_activity_sid=previous["sid"],
                worker_previous_activity_name=previous["friendly_name"],
                worker_time_in_previous_activity=str(int(spent)),
                worker_time_in_previous_activity_ms=str(int(spent * 1000)),
            )
        return data

    def reservation_data(self, task: Row, worker: Row | None, res: Row) -> dict[str, Any]:
        """The event data of every reservation.* event: the task, the worker (if still there), the sid."""
        worker_part = self.worker_data(worker) if worker is not None else {}
        return {**self.task_data(task), **worker_part, "reservation_sid": res["sid"]}

    def task_age(self, task: Row) -> int:
        return max(0, int(self.now() - task["_created_ts"]))

    def record_alert(
        self,
        account_sid: str,
        ws_sid: str,
        code: int,
        text: str,
        url: str,
        resource_sid: str,
        status: int,
        body: str,
    ) -> None:
        """A callback problem, kept where a user can list it (GET /_local/Alerts)."""
        log.warning("alert %s for %s: %s (%s)", code, resource_sid, text, url)
        with self.state.unit():
            if ws_sid not in self.state.rows:
                return
            self.state.insert(
                "alert",
                {
                    "sid": new_sid("NO"),
                    "account_sid": account_sid,
                    "workspace_sid": ws_sid,
                    "error_code": str(code),
                    "log_level": "error",
                    "alert_text": text,
                    "request_method": "POST",
                    "request_url": url,
                    "resource_sid": resource_sid,
                    "response_status": status or None,
                    "response_body": body[:2000] if body else None,
                    **self._stamp(),
                },
            )

    def alerts(self, account_sid: str, ws_sid: str | None = None) -> list[Row]:
        if ws_sid is not None:
            return self.children(account_sid, ws_sid, "alert")
        rows: list[Row] = []
        for ws in self.state.of(account_sid, "workspace").values():
            rows.extend(self.state.of(ws["sid"], "alert").values())
        return sorted(rows, key=lambda r: r["_seq"])

    def event_selection(self, account_sid: str, ws_sid: str, **filters: Any) -> EventSelection:
        """The events list's rows, filtered in SQL and decoded a page at a time (Store.event_page)."""
        self.workspace(account_sid, ws_sid)
        return self.state.store.event_page(ws_sid, **filters)

    def event(self, account_sid: str, ws_sid: str, sid: str) -> Row:
        self.workspace(account_sid, ws_sid)
        row = self.state.store.event(sid)
        if row is None or row["workspace_sid"] != ws_sid:
            raise NotFound(f"/Workspaces/{ws_sid}/Events/{sid}")
        return row
