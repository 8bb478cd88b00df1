"""The wire in and out: reading request parameters, and rendering rows as Twilio's JSON; no rules.

What moto keeps in its response templates: every handler (handlers.py) reads
its parameters with the helpers here, makes one backend call and renders the
result with absolute `url` and `links`, list `meta`, and every field of
Twilio's schema present (null when empty).
"""

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlencode

from flask import Response, g, request

from ..core.exceptions import InvalidParameter
from ..core.http import INTEGER, integer, param, param_int, reply
from ..core.limits import PAGE, PAGE_SIZE, check_offset
from ..core.state import Row
from ..core.store import EventSelection
from .expressions import ExpressionError, compile_expression
from .models import Backend, etag, resource_path

FIELDS = {
    "workspace": (
        "account_sid", "date_created", "date_updated", "default_activity_name",
        "default_activity_sid", "event_callback_url", "events_filter", "friendly_name",
        "multi_task_enabled", "sid", "timeout_activity_name", "timeout_activity_sid",
        "prioritize_queue_order",
    ),
    "activity": (
        "account_sid", "available", "date_created", "date_updated", "friendly_name", "sid",
        "workspace_sid",
    ),
    "task_channel": (
        "account_sid", "date_created", "date_updated", "friendly_name", "sid", "unique_name",
        "workspace_sid", "channel_optimized_routing",
    ),
    "worker": (
        "account_sid", "activity_name", "activity_sid", "attributes", "available",
        "date_created", "date_status_changed", "date_updated", "friendly_name", "sid",
        "workspace_sid",
    ),
    "worker_channel": (
        "account_sid", "assigned_tasks", "available", "available_capacity_percentage",
        "configured_capacity", "date_created", "date_updated", "sid", "task_channel_sid",
        "task_channel_unique_name", "worker_sid", "workspace_sid",
    ),
    "task_queue": (
        "account_sid", "assignment_activity_sid", "assignment_activity_name", "date_created",
        "date_updated", "friendly_name", "max_reserved_workers", "reservation_activity_sid",
        "reservation_activity_name", "sid", "target_workers", "task_order", "workspace_sid",
    ),
    "workflow": (
        "account_sid", "assignment_callback_url", "configuration", "date_created",
        "date_updated", "document_content_type", "fallback_assignment_callback_url",
        "friendly_name", "sid", "task_reservation_timeout", "workspace_sid",
    ),
    "task": (
        "account_sid", "age", "assignment_status", "attributes", "addons", "date_created",
        "date_updated", "task_queue_entered_date", "priority", "reason", "sid", "task_queue_sid",
        "task_queue_friendly_name", "task_channel_sid", "task_channel_unique_name", "timeout",
        "workflow_sid", "workflow_friendly_name", "workspace_sid", "virtual_start_time",
        "ignore_capacity", "routing_target",
    ),
    "reservation": (
        "account_sid", "date_created", "date_updated", "reservation_status", "sid", "task_sid",
        "worker_name", "worker_sid", "workspace_sid",
    ),
    "event": (
        "account_sid", "actor_sid", "actor_type", "actor_url", "description", "event_data",
        "event_date", "event_date_ms", "event_type", "resource_sid", "resource_type",
        "resource_url", "sid", "source", "source_ip_address", "workspace_sid",
    ),
    "alert": (
        "account_sid", "alert_text", "date_created", "error_code", "log_level", "request_method",
        "request_url", "resource_sid", "response_body", "response_status", "sid", "workspace_sid",
    ),
}
FIELDS["task_queue_statistics"] = ("account_sid", "cumulative", "realtime", "task_queue_sid", "workspace_sid")
STATS = ("statistics", "real_time_statistics", "cumulative_statistics")
ETAGGED = ("task", "worker", "reservation")


# ---------------------------------------------------------------------------- rendering

def base_url() -> str:
    """The server the client reached, so next_page_url and links lead back to it."""
    return request.host_url.rstrip("/") + "/v1"


def links(row: Row, base: str, url: str) -> dict[str, str] | None:
    kind, ws = row["_kind"], f"{base}/Workspaces/{row.get('workspace_sid')}"
    if kind == "workspace":
        names = ("activities", "task_queues", "tasks", "workers", "workflows", "task_channels",
                 "events")
        paths = ("Activities", "TaskQueues", "Tasks", "Workers", "Workflows", "TaskChannels",
                 "Events")
        out = {n: f"{url}/{p}" for n, p in zip(names, paths, strict=True)}
        out.update({s: f"{url}/{s.title().replace('_', '')}" for s in STATS})
        return out
    if kind in ("activity", "task_channel"):
        return {"workspace": ws}
    if kind == "task":
        return {
            "task_queue": f"{ws}/TaskQueues/{row['task_queue_sid']}",
            "workflow": f"{ws}/Workflows/{row['workflow_sid']}",
            "workspace": ws,
            "reservations": f"{url}/Reservations",
        }
    if kind == "task_queue":
        out = {
            "assignment_activity": f"{ws}/Activities/{row['assignment_activity_sid']}",
            "reservation_activity": f"{ws}/Activities/{row['reservation_activity_sid']}",
            "workspace": ws,
            "list_statistics": f"{ws}/TaskQueues/Statistics",
            "bulk_real_time_statistics": f"{ws}/TaskQueues/RealTimeStatistics",
        }
        out.update({s: f"{url}/{s.title().replace('_', '')}" for s in STATS})
        return out
    if kind == "worker":
        return {
            "channels": f"{url}/Channels",
            "activity": f"{ws}/Activities/{row['activity_sid']}",
            "workspace": ws,
            "statistics": f"{ws}/Workers/Statistics",
            "real_time_statistics": f"{ws}/Workers/RealTimeStatistics",
            "cumulative_statistics": f"{ws}/Workers/CumulativeStatistics",
            "worker_statistics": f"{url}/Statistics",
            "worker_channels": f"{url}/Channels",
            "reservations": f"{url}/Reservations",
        }
    if kind == "workflow":
        return {s: f"{url}/{s.title().replace('_', '')}" for s in STATS}
    if kind == "reservation":
        return {
            "task": f"{ws}/Tasks/{row['task_sid']}",
            "worker": f"{ws}/Workers/{row['worker_sid']}",
            "workspace": ws,
        }
    return None


def render(backend: Backend, row: Row, via_worker: bool = False) -> dict[str, Any]:
    kind = row["_kind"]
    if kind == "task_queue_statistics":  # an entry of the TaskQueues Statistics list: no url, no links
        return {field: row[field] for field in FIELDS[kind]}
    base = base_url()
    out = {field: row.get(field) for field in FIELDS[kind]}
    if kind == "reservation" and via_worker:
        path = f"/Workspaces/{row['workspace_sid']}/Workers/{row['worker_sid']}/Reservations/{row['sid']}"
    elif kind == "alert":
        path = f"/_local/Alerts/{row['sid']}"
    else:
        path = resource_path(row)
    url = base + path if kind != "alert" else request.host_url.rstrip("/") + path
    out["url"] = url
    if kind == "task":
        out["age"] = backend.task_age(row)
    elif kind == "worker_channel":
        worker = backend.state.rows[row["worker_sid"]]
        used = backend.channel_usage(worker, row["task_channel_sid"])
        capacity = row["configured_capacity"]
        out["assigned_tasks"] = used
        out["available_capacity_percentage"] = (
            0 if capacity == 0 else max(0, int(100 * (capacity - used) / capacity))
        )
    elif kind == "event":
        out["actor_url"] = f"{base}/Workspaces/{row['workspace_sid']}"
        out["resource_url"] = base + row["_resource_path"]
    if kind not in ("event", "worker_channel", "alert"):
        out["links"] = links(row, base, url)
    return out


def instance(backend: Backend, row: Row, status: int = 200, via_worker: bool = False) -> Response:
    """One resource, with its ETag where Twilio gives one."""
    headers = {"ETag": f'"{etag(row)}"'} if row["_kind"] in ETAGGED else None
    return reply(render(backend, row, via_worker), status, headers)


def page(backend: Backend, rows: Iterable[Row] | EventSelection, key: str, via_worker: bool = False) -> Response:
    """One page of a list, with Twilio's meta and absolute page URLs."""
    size = param_int("PageSize", PAGE_SIZE, default=50)
    number = param_int("Page", PAGE, default=0)
    assert size is not None and number is not None  # the defaults
    token = request.args.get("PageToken")
    offset = check_offset(number, size)
    if token:
        if not token.startswith("PT") or not INTEGER.fullmatch(token[2:]) or token[2] in "+-":
            raise InvalidParameter(f"PageToken {token[:60]!r} is not valid")
        offset = integer("PageToken's offset", token[2:], PAGE)
    if isinstance(rows, EventSelection):  # reads only the page it gives
        chunk, more = rows.page_of(offset, size)
    else:
        rows = list(rows)
        chunk, more = rows[offset : offset + size], offset + size < len(rows)
    filters = [(k, v) for k, v in request.args.items(multi=True)
               if k not in ("PageSize", "Page", "PageToken")]
    path = request.host_url.rstrip("/") + request.path

    def url_for(n: int, off: int | None) -> str:
        query = [*filters, ("PageSize", size), ("Page", n)]
        if off is not None:
            query.append(("PageToken", f"PT{off}"))
        return f"{path}?{urlencode(query)}"

    meta = {
        "page": number,
        "page_size": size,
        "first_page_url": url_for(0, None),
        "previous_page_url": url_for(number - 1, max(0, offset - size)) if offset > 0 else None,
        "url": url_for(number, offset if token else None),
        "next_page_url": url_for(number + 1, offset + size) if more else None,
        "key": key,
    }
    return reply({"meta": meta, key: [render(backend, r, via_worker) for r in chunk]})


# ---------------------------------------------------------------------------- parameters

def param_list(name: str) -> list[str]:
    """Repeated keys (`A=x&A=y`) or the comma form (`A=x,y`)."""
    values = request.args.getlist(name) + request.form.getlist(name)
    return [part.strip() for v in values for part in v.split(",") if part.strip()]


def param_choice(name: str, choices: tuple[str, ...]) -> str | None:
    value = param(name)
    if value is not None and value not in choices:
        raise InvalidParameter(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def if_match() -> str | None:
    return request.headers.get("If-Match")


def account() -> str:
    return g.account_sid


def expression_filter(name: str) -> Callable[[dict], bool] | None:
    text = param(name)
    if not text:
        return None
    try:
        expr = compile_expression(text)
    except ExpressionError as exc:
        raise InvalidParameter(f"{name}: {exc}") from None
    return lambda attrs: expr.evaluate({"worker": attrs, "task": attrs}, bare=attrs)


def ordering(rows: list[Row], allowed: dict[str, Callable[[Row], Any]]) -> list[Row]:
    """`Ordering=DateCreated:asc,Priority:desc`; the last key is applied first."""
    text = param("Ordering")
    if not text:
        return rows
    for part in reversed(text.split(",")):
        field, _, direction = part.partition(":")
        if field not in allowed or direction.lower() not in ("asc", "desc", ""):
            raise InvalidParameter(
                f"Ordering {part!r} is not supported; use one of "
                + ", ".join(f"{f}:asc|desc" for f in allowed)
            )
        rows = sorted(rows, key=allowed[field], reverse=direction.lower() == "desc")
    return rows
