"""Workers, their channels, and every change of a worker's Activity.

`_set_activity` is the one place a worker's Activity changes, whoever changes it
(the API, a reservation, a timeout), and it records worker.activity.update.
A worker who becomes available is offered work at once (matching.py).
"""

from typing import Any

from ...core.clock import iso
from ...core.exceptions import IllegalTransition, InUse, LimitExceeded, NotFound
from ...core.limits import CAPACITY
from ...core.state import Row, new_sid
from ..statuses import HELD_RESERVATION, HELD_TASK
from .base import (
    MAX_WORKERS,
    BackendBase,
    json_object,
    valid_friendly_name,
)


class WorkersMixin(BackendBase):
    """Workers, WorkerChannels, and the one place a worker's activity changes."""

    def _insert_worker_channel(self, worker: Row, channel: Row) -> Row:
        return self.state.insert(
            "worker_channel",
            {
                "sid": new_sid("WC"),
                "account_sid": worker["account_sid"],
                "workspace_sid": worker["workspace_sid"],
                "worker_sid": worker["sid"],
                "task_channel_sid": channel["sid"],
                "task_channel_unique_name": channel["unique_name"],
                "configured_capacity": 1,
                "available": True,
                **self._stamp(),
            },
        )

    def create_worker(
        self,
        account_sid: str,
        ws_sid: str,
        friendly_name: str | None,
        activity_sid: str | None,
        attributes: str | None,
    ) -> Row:
        with self.state.unit():
            ws = self.workspace(account_sid, ws_sid)
            name = valid_friendly_name(friendly_name)
            self._unique_name(ws_sid, "worker", name, "Worker")
            if len(self.state.of(ws_sid, "worker")) >= MAX_WORKERS:
                raise LimitExceeded(f"A Workspace holds at most {MAX_WORKERS} Workers")
            attributes = attributes if attributes is not None else "{}"
            attrs = json_object(attributes, "Attributes")
            activity = self._activity(ws, activity_sid or ws["default_activity_sid"], "ActivitySid")
            now = self.now()
            worker = self.state.insert(
                "worker",
                {
                    "sid": new_sid("WK"),
                    "account_sid": account_sid,
                    "workspace_sid": ws_sid,
                    "friendly_name": name,
                    "attributes": attributes,
                    "activity_sid": activity["sid"],
                    "activity_name": activity["friendly_name"],
                    "available": activity["available"],
                    "date_status_changed": iso(now),
                    "_status_changed_ts": now,
                    "_attrs": attrs,
                    "_version": 0,
                    **self._stamp(),
                },
            )
            for channel in self.state.of(ws_sid, "task_channel").values():
                self._insert_worker_channel(worker, channel)
            self._workers_changed(ws_sid)
            self._event(
                ws, "worker.created", worker, f"Worker {name} created", self.worker_data(worker)
            )
            snapshot = dict(worker)
            self._offer_worker(worker)
            return snapshot

    def update_worker(
        self,
        account_sid: str,
        ws_sid: str,
        sid: str,
        activity_sid: str | None = None,
        attributes: str | None = None,
        friendly_name: str | None = None,
        reject_pending_reservations: bool | None = None,
        if_match: str | None = None,
    ) -> Row:
        with self.state.unit():
            worker = self.child(account_sid, ws_sid, "worker", sid, "Workers")
            ws = self.state.rows[ws_sid]
            self.check_etag(worker, if_match)
            changes: dict[str, Any] = {}
            if friendly_name is not None:
                name = valid_friendly_name(friendly_name)
                self._unique_name(ws_sid, "worker", name, "Worker", skip=sid)
                changes["friendly_name"] = name
            if attributes is not None:
                changes["_attrs"] = json_object(attributes, "Attributes")
                changes["attributes"] = attributes
            activity = None
            if activity_sid is not None:
                activity = self._activity(ws, activity_sid, "ActivitySid")
            if changes:
                self._bump(worker, **changes)
                self._workers_changed(ws_sid)
                if "attributes" in changes:
                    self._event(
                        ws,
                        "worker.attributes.update",
                        worker,
                        f"Worker {worker['friendly_name']} attributes updated",
                        self.worker_data(worker),
                    )
            if activity is not None and activity["sid"] != worker["activity_sid"]:
                pending = self._pending_reservations_of(worker)
                if pending and not activity["available"]:
                    if not reject_pending_reservations:
                        raise IllegalTransition(
                            f"Worker {worker['friendly_name']} has pending reservations; "
                            "set RejectPendingReservations=true to move it to an unavailable Activity"
                        )
                self._set_activity(ws, worker, activity)
                if reject_pending_reservations:
                    for res in pending:
                        self._reject(ws, res, None, keep_activity=True)
            snapshot = dict(worker)
            if worker["available"]:
                self._offer_worker(worker)
            return snapshot

    def _set_activity(self, ws: Row, worker: Row, activity: Row) -> None:
        if activity["sid"] == worker["activity_sid"]:
            return
        previous = self.state.rows[worker["activity_sid"]]
        data_before = self.worker_data(worker, previous)
        now = self.now()
        self._bump(
            worker,
            activity_sid=activity["sid"],
            activity_name=activity["friendly_name"],
            available=activity["available"],
            date_status_changed=iso(now),
            _status_changed_ts=now,
        )
        data = {**data_before, **self.worker_data(worker)}
        self._event(
            ws,
            "worker.activity.update",
            worker,
            f"Worker {worker['friendly_name']} updated to {activity['friendly_name']} Activity",
            data,
        )

    def delete_worker(
        self, account_sid: str, ws_sid: str, sid: str, if_match: str | None = None
    ) -> None:
        with self.state.unit():
            worker = self.child(account_sid, ws_sid, "worker", sid, "Workers")
            self.check_etag(worker, if_match)
            ws = self.state.rows[ws_sid]
            busy = [
                r
                for r in self.indexes.res_by_worker.get(sid, {}).values()
                if r["reservation_status"] in HELD_RESERVATION
                and self.state.rows[r["task_sid"]]["assignment_status"] in HELD_TASK
            ]
            if busy:
                raise InUse(
                    f"Worker {sid} cannot be deleted while it has assigned tasks "
                    f"({', '.join(r['task_sid'] for r in busy[:3])}); complete them first"
                )
            pending = self._pending_reservations_of(worker)
            for res in pending:
                self._end_reservation(ws, res, "canceled", "reservation.canceled", reoffer=False)
            for wc in list(self.state.of(sid, "worker_channel").values()):
                self.state.delete(wc)
            self._event(
                ws,
                "worker.deleted",
                worker,
                f"Worker {worker['friendly_name']} deleted",
                self.worker_data(worker),
            )
            self.state.delete(worker)
            if self.eventbridge is not None:
                self.eventbridge.end_sessions("closed: the worker was deleted", workers=[sid])
            self._workers_changed(ws_sid)
            # Only now, with the worker gone, can its tasks go back to pending and to others.
            for res in pending:
                self._after_reservation_ended(ws, self.state.rows[res["task_sid"]], None)

    def worker_channels(self, account_sid: str, ws_sid: str, worker_sid: str) -> list[Row]:
        self.child(account_sid, ws_sid, "worker", worker_sid, "Workers")
        return list(self.state.of(worker_sid, "worker_channel").values())

    def worker_channel(self, account_sid: str, ws_sid: str, worker_sid: str, sid: str) -> Row:
        self.child(account_sid, ws_sid, "worker", worker_sid, "Workers")
        for row in self.state.of(worker_sid, "worker_channel").values():
            if sid in (row["sid"], row["task_channel_unique_name"], row["task_channel_sid"]):
                return row
        raise NotFound(f"/Workspaces/{ws_sid}/Workers/{worker_sid}/Channels/{sid}")

    def update_worker_channel(
        self,
        account_sid: str,
        ws_sid: str,
        worker_sid: str,
        sid: str,
        capacity: int | None,
        available: bool | None,
    ) -> Row:
        with self.state.unit():
            wc = self.worker_channel(account_sid, ws_sid, worker_sid, sid)
            changes: dict[str, Any] = {}
            if capacity is not None:
                changes["configured_capacity"] = CAPACITY.check(capacity, "Capacity")
            if available is not None:
                changes["available"] = available
            before = dict(wc)
            self._touch(wc, **changes)
            snapshot = dict(wc)
            worker = self.state.rows[worker_sid]
            # Twilio's events for a channel change; EventBridge pushes them to the worker's page.
            data = {**self.worker_data(worker), "worker_channel_available": wc["available"],
                    "worker_channel_capacity": wc["configured_capacity"], "task_channel_sid": wc["task_channel_sid"],
                    "task_channel_unique_name": wc["task_channel_unique_name"]}
            ws = self.state.rows[ws_sid]
            if wc["configured_capacity"] != before["configured_capacity"]:
                self._event(ws, "worker.capacity.update", wc, f"Worker {worker['friendly_name']} capacity updated",
                            data)
            if wc["available"] != before["available"]:
                self._event(ws, "worker.channel.availability.update", wc,
                            f"Worker {worker['friendly_name']} channel availability updated", data)
            if worker["available"]:
                self._offer_worker(worker)
            return snapshot
