"""Helpers shared by the local TaskRouter tests: raw HTTP, small workspaces, events, alerts, and a snapshot of a
workspace's rows (what a refused request must not change), and `refused` (the SDK's 400, code 20001)."""

import json
import sqlite3

import pytest
from http_support import Http  # noqa: F401  (re-exported for the test modules)
from polling import wait_until  # noqa: F401  (re-exported for the test modules)
from twilio.base.exceptions import TwilioRestException

from tutorial_helpers.local_twilio import LocalTaskRouter


def small_workspace(client, *, multi_task: bool | None = None, callback_url: str | None = None,
                    reservation_timeout: int = 120, max_reserved_workers: int | None = None,
                    target_workers: str = "1==1", workers: tuple[str, ...] = ("Ann", "Ben")):
    """One queue for everyone, one workflow, workers created Offline."""
    tr = client.taskrouter.v1
    kwargs = {} if multi_task is None else {"multi_task_enabled": multi_task}
    ws = tr.workspaces.create(friendly_name="Small", **kwargs)
    ctx = tr.workspaces(ws.sid)
    acts = {a.friendly_name: a for a in ctx.activities.list()}
    queue_kwargs = {} if max_reserved_workers is None else {"max_reserved_workers": max_reserved_workers}
    queue = ctx.task_queues.create(friendly_name="Everyone", target_workers=target_workers, **queue_kwargs)
    config = {"task_routing": {"filters": [], "default_filter": {"queue": queue.sid}}}
    wf_kwargs = {"assignment_callback_url": callback_url} if callback_url else {}
    workflow = ctx.workflows.create(friendly_name="Default", configuration=json.dumps(config),
                                    task_reservation_timeout=reservation_timeout, **wf_kwargs)
    made = {name: ctx.workers.create(friendly_name=name) for name in workers}
    return ctx, acts, queue, workflow, made


def event_types(ws_ctx, **filters) -> list[str]:
    """Event types oldest first (the Events resource lists newest first)."""
    return [e.event_type for e in reversed(ws_ctx.events.list(**filters))]


def is_subsequence(wanted: list, seen: list) -> bool:
    it = iter(seen)
    return all(any(w == s for s in it) for w in wanted)


def alerts(http: Http, ws_sid: str) -> list[dict]:
    return http.ok("GET", f"/_local/Alerts?WorkspaceSid={ws_sid}")["alerts"]


def snapshot(router: LocalTaskRouter, ws_sid: str) -> tuple[str, list]:
    """The workspace's rows and the account's workspaces, in memory and in SQLite.

    A refused request must change neither; other tests' workspaces on this shared server are
    left out to keep the comparison small.
    """
    def mine(row: dict) -> bool:
        return row.get("workspace_sid") == ws_sid or row["_kind"] == "workspace"

    with router.backend.state.lock:
        rows = sorted((r for r in router.backend.state.rows.values() if mine(r)), key=lambda r: r["sid"])
        memory = json.dumps(rows, sort_keys=True, default=str)
    with sqlite3.connect(router.store.path) as db:
        stored = db.execute(
            "SELECT sid, kind, seq, data FROM resources WHERE kind = 'workspace' OR data LIKE ? ORDER BY sid",
            (f'%"workspace_sid": "{ws_sid}"%',),
        ).fetchall()
        stored += db.execute("SELECT key, value, 0, '' FROM meta ORDER BY key").fetchall()
    return memory, stored


def refused(call) -> TwilioRestException:
    with pytest.raises(TwilioRestException) as info:
        call()
    assert (info.value.status, info.value.code) == (400, 20001), (info.value.status, info.value.code, info.value.msg)
    return info.value
