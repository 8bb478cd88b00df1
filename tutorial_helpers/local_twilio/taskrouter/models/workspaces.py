"""Workspaces, with their Activities and TaskChannels.

A new Workspace comes with the Activities Offline, Available and Unavailable
(Offline is its default and timeout activity) and the TaskChannels default,
voice, sms, chat and video; the FIFO template adds a sample queue and workflow.
Deleting an Activity or a TaskChannel that something still uses is refused.
"""

import json
from typing import Any

from ...core.exceptions import Duplicate, InUse, InvalidParameter, Unauthenticated
from ...core.state import Row, new_sid
from ...core.validators import valid_url
from .base import (
    BackendBase,
    valid_friendly_name,
)

DEFAULT_ACTIVITIES = (("Offline", False), ("Available", True), ("Unavailable", False))
DEFAULT_TASK_CHANNELS = (
    ("Default", "default"),
    ("Voice", "voice"),
    ("SMS", "sms"),
    ("Chat", "chat"),
    ("Video", "video"),
)


class WorkspacesMixin(BackendBase):
    """Workspaces, Activities and TaskChannels."""

    def create_workspace(
        self,
        account_sid: str,
        friendly_name: str | None,
        event_callback_url: str | None = None,
        events_filter: str | None = None,
        multi_task_enabled: bool | None = None,
        template: str | None = None,
        prioritize_queue_order: str | None = None,
    ) -> Row:
        friendly_name = valid_friendly_name(friendly_name)
        event_callback_url = valid_url(event_callback_url, "EventCallbackUrl")
        if template not in (None, "NONE", "FIFO"):
            raise InvalidParameter(f"Template must be NONE or FIFO, got {template!r}")
        if prioritize_queue_order not in (None, "FIFO", "LIFO"):
            raise InvalidParameter(
                f"PrioritizeQueueOrder must be FIFO or LIFO, got {prioritize_queue_order!r}"
            )
        with self.state.unit():
            if account_sid not in self.accounts:
                # Deleted (a room's account) after this request was authenticated: under the lock, as the delete
                # ran, so no workspace is left behind for an account that is gone.
                raise Unauthenticated()
            ws_sid = new_sid("WS")
            for row in self.state.of(account_sid, "workspace").values():
                if row["friendly_name"].lower() == friendly_name.lower():
                    raise Duplicate(f"Workspace named {friendly_name} already exists")
            ws = self.state.insert(
                "workspace",
                {
                    "sid": ws_sid,
                    "account_sid": account_sid,
                    "friendly_name": friendly_name,
                    "event_callback_url": event_callback_url or None,
                    "events_filter": events_filter or None,
                    "multi_task_enabled": True if multi_task_enabled is None else multi_task_enabled,
                    "prioritize_queue_order": prioritize_queue_order or "FIFO",
                    "default_activity_sid": None,
                    "default_activity_name": None,
                    "timeout_activity_sid": None,
                    "timeout_activity_name": None,
                    **self._stamp(),
                },
            )
            activities = {}
            for name, available in DEFAULT_ACTIVITIES:
                activities[name] = self._insert_activity(ws, name, available)
            offline = activities["Offline"]
            self.state.update(
                ws,
                default_activity_sid=offline["sid"],
                default_activity_name=offline["friendly_name"],
                timeout_activity_sid=offline["sid"],
                timeout_activity_name=offline["friendly_name"],
            )
            for name, unique in DEFAULT_TASK_CHANNELS:
                self._insert_task_channel(ws, name, unique, False)
            if template == "FIFO":
                queue = self._insert_queue(ws, "Sample Queue", "1==1", None, None, 1, "FIFO")
                config = json.dumps(
                    {"task_routing": {"filters": [], "default_filter": {"queue": queue["sid"]}}}
                )
                self._insert_workflow(ws, "Default Fifo Workflow", config, None, None, 120)
            return dict(ws)

    def update_workspace(self, account_sid: str, sid: str, **params: Any) -> Row:
        with self.state.unit():
            ws = self.workspace(account_sid, sid)
            changes: dict[str, Any] = {}
            if params.get("friendly_name") is not None:
                changes["friendly_name"] = valid_friendly_name(params["friendly_name"])
            if params.get("event_callback_url") is not None:
                changes["event_callback_url"] = valid_url(params["event_callback_url"], "EventCallbackUrl")
            if params.get("events_filter") is not None:
                changes["events_filter"] = params["events_filter"] or None
            if params.get("multi_task_enabled") is not None:
                changes["multi_task_enabled"] = params["multi_task_enabled"]
            order = params.get("prioritize_queue_order")
            if order is not None:
                if order not in ("FIFO", "LIFO"):
                    raise InvalidParameter(f"PrioritizeQueueOrder must be FIFO or LIFO, got {order!r}")
                changes["prioritize_queue_order"] = order
            for field in ("default_activity", "timeout_activity"):
                sid_value = params.get(f"{field}_sid")
                if sid_value is not None:
                    activity = self._activity(ws, sid_value, f"{field.title().replace('_', '')}Sid")
                    changes[f"{field}_sid"] = activity["sid"]
                    changes[f"{field}_name"] = activity["friendly_name"]
            self._touch(ws, **changes)
            return dict(ws)

    def delete_workspace(self, account_sid: str, sid: str) -> None:
        with self.state.unit():
            ws = self.workspace(account_sid, sid)
            if self.eventbridge is not None:
                self.eventbridge.end_sessions("closed: the workspace was deleted",
                                              workers=list(self.state.of(sid, "worker")))
            for (parent, _kind), rows in list(self.state.children.items()):
                if parent == sid:
                    for row in list(rows.values()):
                        if row["_kind"] == "worker":
                            for wc in list(self.state.of(row["sid"], "worker_channel").values()):
                                self.state.delete(wc)
                        self.state.delete(row)
            self.state.drop_events(sid)
            self.state.delete(ws)
            self._configs = {k: v for k, v in self._configs.items() if k in self.state.rows}

    def list_workspaces(self, account_sid: str, friendly_name: str | None = None) -> list[Row]:
        rows = self.state.of(account_sid, "workspace").values()
        return [r for r in rows if friendly_name is None or r["friendly_name"] == friendly_name]

    def _insert_activity(self, ws: Row, name: str, available: bool) -> Row:
        return self.state.insert(
            "activity",
            {
                "sid": new_sid("WA"),
                "account_sid": ws["account_sid"],
                "workspace_sid": ws["sid"],
                "friendly_name": name,
                "available": available,
                **self._stamp(),
            },
        )

    def create_activity(
        self, account_sid: str, ws_sid: str, friendly_name: str | None, available: bool | None
    ) -> Row:
        with self.state.unit():
            ws = self.workspace(account_sid, ws_sid)
            name = valid_friendly_name(friendly_name)
            self._unique_name(ws_sid, "activity", name, "Activity")
            return dict(self._insert_activity(ws, name, True if available is None else available))

    def update_activity(
        self, account_sid: str, ws_sid: str, sid: str, friendly_name: str | None
    ) -> Row:
        with self.state.unit():
            row = self.child(account_sid, ws_sid, "activity", sid, "Activities")
            if friendly_name is not None:
                name = valid_friendly_name(friendly_name)
                self._unique_name(ws_sid, "activity", name, "Activity", skip=sid)
                self._touch(row, friendly_name=name)
                self._rename_activity(ws_sid, row)
            return dict(row)

    def _rename_activity(self, ws_sid: str, activity: Row) -> None:
        """Denormalised names (worker.activity_name, ...) follow a rename."""
        ws = self.state.rows[ws_sid]
        for field in ("default_activity", "timeout_activity"):
            if ws[f"{field}_sid"] == activity["sid"]:
                self.state.update(ws, **{f"{field}_name": activity["friendly_name"]})
        for worker in self.state.of(ws_sid, "worker").values():
            if worker["activity_sid"] == activity["sid"]:
                self.state.update(worker, activity_name=activity["friendly_name"])
        for queue in self.state.of(ws_sid, "task_queue").values():
            for field in ("reservation_activity", "assignment_activity"):
                if queue[f"{field}_sid"] == activity["sid"]:
                    self.state.update(queue, **{f"{field}_name": activity["friendly_name"]})

    def delete_activity(self, account_sid: str, ws_sid: str, sid: str) -> None:
        with self.state.unit():
            row = self.child(account_sid, ws_sid, "activity", sid, "Activities")
            ws = self.state.rows[ws_sid]
            users = [w["friendly_name"] for w in self.state.of(ws_sid, "worker").values()
                     if w["activity_sid"] == sid]
            if users:
                raise InUse(
                    f"Activity {sid} cannot be deleted: workers are in it ({', '.join(users[:5])})"
                )
            if sid in (ws["default_activity_sid"], ws["timeout_activity_sid"]):
                raise InUse(
                    f"Activity {sid} cannot be deleted: it is the workspace's default or timeout activity"
                )
            for queue in self.state.of(ws_sid, "task_queue").values():
                if sid in (queue["reservation_activity_sid"], queue["assignment_activity_sid"]):
                    raise InUse(
                        f"Activity {sid} cannot be deleted: TaskQueue {queue['sid']} uses it"
                    )
            self.state.delete(row)

    def _insert_task_channel(self, ws: Row, name: str, unique: str, optimized: bool) -> Row:
        channel = self.state.insert(
            "task_channel",
            {
                "sid": new_sid("TC"),
                "account_sid": ws["account_sid"],
                "workspace_sid": ws["sid"],
                "friendly_name": name,
                "unique_name": unique,
                "channel_optimized_routing": optimized,
                **self._stamp(),
            },
        )
        for worker in self.state.of(ws["sid"], "worker").values():
            self._insert_worker_channel(worker, channel)
        return channel

    def create_task_channel(
        self,
        account_sid: str,
        ws_sid: str,
        friendly_name: str | None,
        unique_name: str | None,
        channel_optimized_routing: bool | None,
    ) -> Row:
        with self.state.unit():
            ws = self.workspace(account_sid, ws_sid)
            name = valid_friendly_name(friendly_name)
            unique = valid_friendly_name(unique_name, "UniqueName")
            for row in self.state.of(ws_sid, "task_channel").values():
                if row["unique_name"] == unique:
                    raise Duplicate(f"TaskChannel with UniqueName {unique} already exists")
            return dict(self._insert_task_channel(ws, name, unique, bool(channel_optimized_routing)))

    def task_channel(self, ws_sid: str, sid_or_name: str) -> Row:
        for row in self.state.of(ws_sid, "task_channel").values():
            if sid_or_name in (row["sid"], row["unique_name"]):
                return row
        raise InvalidParameter(f"TaskChannel {sid_or_name!r} not found in this Workspace")

    def update_task_channel(self, account_sid: str, ws_sid: str, sid: str, **params: Any) -> Row:
        with self.state.unit():
            row = self.child(account_sid, ws_sid, "task_channel", sid, "TaskChannels")
            changes: dict[str, Any] = {}
            if params.get("friendly_name") is not None:
                changes["friendly_name"] = valid_friendly_name(params["friendly_name"])
            if params.get("channel_optimized_routing") is not None:
                changes["channel_optimized_routing"] = params["channel_optimized_routing"]
            self._touch(row, **changes)
            return dict(row)

    def delete_task_channel(self, account_sid: str, ws_sid: str, sid: str) -> None:
        with self.state.unit():
            row = self.child(account_sid, ws_sid, "task_channel", sid, "TaskChannels")
            for task in self.state.of(ws_sid, "task").values():
                if task["task_channel_sid"] == sid and task["assignment_status"] not in (
                    "completed",
                    "canceled",
                ):
                    raise InUse(f"TaskChannel {sid} cannot be deleted: tasks use it")
            for worker in self.state.of(ws_sid, "worker").values():
                for wc in list(self.state.of(worker["sid"], "worker_channel").values()):
                    if wc["task_channel_sid"] == sid:
                        self.state.delete(wc)
            self.state.delete(row)
