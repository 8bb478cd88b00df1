"""Rows in the shapes `twilio-taskrouter` 2.x reads (lib/descriptors/, test/mock/): every key present,
timestamps in epoch seconds (a channel's `last_reserved_time` in milliseconds), attributes as JSON text.
Lists go out as `{"contents": [...], "after_sid": null}`, not the public API's `meta` shape."""

from __future__ import annotations

from typing import Any

from ..core.clock import parse_iso
from ..core.state import Row
from ..taskrouter.models import Backend, etag

ACTIVE_RESERVATION = ("pending", "accepted", "wrapping")


def _seconds(text: str | None) -> int | None:
    return int(parse_iso(text)) if text else None


def listing(items: list[dict]) -> dict[str, Any]:
    return {"contents": items, "after_sid": None}


def worker(row: Row) -> dict[str, Any]:
    return {
        "account_sid": row["account_sid"], "workspace_sid": row["workspace_sid"], "sid": row["sid"],
        "friendly_name": row["friendly_name"], "activity_sid": row["activity_sid"],
        "activity_name": row["activity_name"], "available": row["available"], "attributes": row["attributes"],
        "date_created": _seconds(row["date_created"]), "date_updated": _seconds(row["date_updated"]),
        "date_status_changed": _seconds(row.get("date_status_changed")), "version": etag(row),
    }


def activity(row: Row) -> dict[str, Any]:
    return {
        "account_sid": row["account_sid"], "workspace_sid": row["workspace_sid"], "sid": row["sid"],
        "friendly_name": row["friendly_name"], "available": row["available"],
        "date_created": _seconds(row["date_created"]), "date_updated": _seconds(row["date_updated"]),
    }


def channel(backend: Backend, row: Row) -> dict[str, Any]:
    used = backend.channel_usage(backend.state.rows[row["worker_sid"]], row["task_channel_sid"])
    capacity = row["configured_capacity"]
    last = row.get("_last_reserved_ts")
    return {
        "account_sid": row["account_sid"], "workspace_sid": row["workspace_sid"], "sid": row["sid"],
        "worker_sid": row["worker_sid"], "task_channel_sid": row["task_channel_sid"],
        "task_channel_unique_name": row["task_channel_unique_name"], "available": row["available"],
        "configured_capacity": capacity, "assigned_tasks": used,
        "available_capacity_percentage": 0 if capacity == 0 else max(0, int(100 * (capacity - used) / capacity)),
        "last_reserved_time": int(last * 1000) if last else None,
        "date_created": _seconds(row["date_created"]), "date_updated": _seconds(row["date_updated"]),
    }


def task(backend: Backend, row: Row) -> dict[str, Any]:
    return {
        "sid": row["sid"], "account_sid": row["account_sid"], "workspace_sid": row["workspace_sid"],
        "assignment_status": row["assignment_status"], "attributes": row["attributes"], "addons": row["addons"],
        "age": backend.task_age(row), "priority": row["priority"], "reason": row["reason"],
        "queue_name": row["task_queue_friendly_name"], "queue_sid": row["task_queue_sid"],
        "task_channel_sid": row["task_channel_sid"], "task_channel_unique_name": row["task_channel_unique_name"],
        "timeout": row["timeout"], "workflow_sid": row["workflow_sid"],
        "workflow_name": row["workflow_friendly_name"], "routing_target": row.get("routing_target"),
        "virtual_start_time": _seconds(row.get("virtual_start_time")),
        "date_created": _seconds(row["date_created"]), "date_updated": _seconds(row["date_updated"]),
        "version": etag(row),
    }


def reservation(backend: Backend, row: Row, with_task: bool = True) -> dict[str, Any]:
    timeout_at = row.get("_timeout_at")
    body = {
        "sid": row["sid"], "account_sid": row["account_sid"], "workspace_sid": row["workspace_sid"],
        "worker_sid": row["worker_sid"], "task_sid": row["task_sid"], "reservation_status": row["reservation_status"],
        "reservation_timeout": max(0, int(timeout_at - backend.now())) if timeout_at else 0,
        "canceled_reason_code": None,
        "date_created": _seconds(row["date_created"]), "date_updated": _seconds(row["date_updated"]),
        "version": etag(row),
    }
    if with_task:
        body["task"] = task(backend, backend.state.rows[row["task_sid"]])
    return body
