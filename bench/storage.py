"""Table 9: what the SQLite store costs per task, after 10,000 tasks through a typical lifecycle.

One task = created → routed (workflow.entered, task-queue.entered, target-matched) → reservation created →
accepted → completed (the worker back to Idle) → purged 5 minutes later (the clock is advanced). Driven
in-process through the engine's model calls (no HTTP: bytes stored do not depend on the transport, and
10,000 tasks then take seconds, not minutes). The size is `page_count × page_size` after a WAL checkpoint,
with the bytes split by table (SQLite's dbstat) and the events' own sizes.
"""

import json
import sqlite3
import tempfile
import time
from pathlib import Path

from tutorial_helpers.local_twilio.defaults import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
from tutorial_helpers.local_twilio.server import LocalTaskRouter

from .harness import Context, Deadline, Table

WORKERS = 10
TASKS = 10_000  # the count; --quick uses cfg.throughput_tasks (200)
# An hour and a second later: completed tasks were deleted 300 s after they finished, and the hourly prune
# (events older than 30 days: none yet) has given the freed pages back to the file system.
PURGE_AFTER = 3601
TARGET_BYTES = 2_800  # one tenth of the ~28 KB per task measured before the compact encoding


def measure_db(path: Path) -> dict[str, int]:
    """Checkpoint the WAL, then the file's pages, and the bytes by table (if SQLite has dbstat)."""
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page = db.execute("PRAGMA page_size").fetchone()[0]
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        events = "event_log" if "event_log" in tables else "events"  # the table's name before the compact encoding
        out = {
            "bytes": db.execute("PRAGMA page_count").fetchone()[0] * page,
            "free": db.execute("PRAGMA freelist_count").fetchone()[0] * page,
            "events": db.execute(f"SELECT COUNT(*) FROM {events}").fetchone()[0],
            "event_data": db.execute(f"SELECT COALESCE(SUM(LENGTH(data)), 0) FROM {events}").fetchone()[0],
        }
        try:
            for name, size in db.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"):
                out["table:" + name] = size
        except sqlite3.OperationalError:
            pass  # SQLite built without dbstat
        return out
    finally:
        db.close()


def drive(router: LocalTaskRouter, tasks: int, deadline: Deadline) -> int:
    """`tasks` tasks through the whole lifecycle; returns how many went through."""
    b, acct = router.backend, router.account_sid
    ws = b.create_workspace(acct, "Storage", multi_task_enabled=False)["sid"]
    acts = {a["friendly_name"]: a["sid"] for a in b.children(acct, ws, "activity")}
    for name, available in (("Idle", True), ("Busy", False), ("Reserved", False)):
        acts[name] = b.create_activity(acct, ws, name, available)["sid"]
    queue = b.create_task_queue(acct, ws, friendly_name="Customer Care Requests - Spanish",
                                target_workers='languages HAS "es"', reservation_activity_sid=acts["Reserved"],
                                assignment_activity_sid=acts["Busy"])["sid"]
    config = {"task_routing": {"filters": [{"expression": 'selected_language == "es"', "targets": [{"queue": queue}]}],
                               "default_filter": {"queue": queue}}}
    workflow = b.create_workflow(acct, ws, friendly_name="Incoming Customer Care Requests",
                                 configuration=json.dumps(config), task_reservation_timeout=1200)["sid"]
    workers = [b.create_worker(acct, ws, f"Agent {i}", acts["Offline"], json.dumps({"languages": ["en", "es"]}))["sid"]
               for i in range(WORKERS)]
    for worker in workers:
        b.update_worker(acct, ws, worker, activity_sid=acts["Idle"])
    done = 0
    for _ in range(tasks):
        if deadline.passed():
            break
        task = b.create_task(acct, ws, attributes=json.dumps({"selected_language": "es", "type": "support"}),
                             workflow_sid=workflow)["sid"]
        res = next(iter(b.reservations(acct, ws, task_sid=task)))
        b.update_reservation(acct, ws, res["sid"], task_sid=task, reservation_status="accepted")
        b.update_task(acct, ws, task, assignment_status="completed", reason="done")
        b.update_worker(acct, ws, res["worker_sid"], activity_sid=acts["Idle"])
        done += 1
    router.advance_clock(PURGE_AFTER)
    return done


def run(ctx: Context) -> Table:
    count = ctx.cfg.throughput_tasks if ctx.cfg.quick else TASKS
    with tempfile.TemporaryDirectory(prefix="bench-storage-") as tmp:
        router = LocalTaskRouter(tmp, account_sid=DEFAULT_ACCOUNT_SID, auth_token=DEFAULT_AUTH_TOKEN).start()
        try:
            empty = measure_db(router.store.path)
            began = time.monotonic()
            done = drive(router, count, Deadline(ctx.cfg.time_limit))
            seconds = time.monotonic() - began
            left = len([r for r in router.backend.state.rows.values() if r["_kind"] in ("task", "reservation")])
            full = measure_db(router.store.path)
        finally:
            router.stop()
    per_task = (full["bytes"] - empty["bytes"]) / max(done, 1)
    table = Table(
        9, f"Storage per task ({done:,} tasks through)",
        ["what", "value"],
        caption=(
            "In-process engine, fresh data dir; each task created, reserved, accepted, completed, the worker "
            "back to Idle; then the clock advanced 3,601 s, so every completed task is purged (after 300 s) "
            "and the hourly prune has run. SQLite size = "
            "`page_count × page_size` after `PRAGMA wal_checkpoint(TRUNCATE)`, minus the empty store's."
        ),
    )
    table.rows = [
        ["SQLite bytes per task", f"{per_task:,.0f}"],
        ["database size", f"{full['bytes'] / 2**20:.1f} MB ({full['free'] / 2**20:.1f} MB free pages)"],
        ["events kept", f"{full['events']:,} ({full['events'] / max(done, 1):.1f} per task)"],
        ["event data, mean bytes per event row", f"{full['event_data'] / max(full['events'], 1):,.0f}"],
        ["tasks and reservations left in memory", str(left)],
    ]
    by_table = sorted(((k[6:], v) for k, v in full.items() if k.startswith("table:")), key=lambda kv: -kv[1])
    if by_table:
        table.rows.append(["bytes by table (dbstat)", ", ".join(f"{name} {size / 2**20:.1f} MB"
                                                                 for name, size in by_table[:6])])
    met = per_task <= TARGET_BYTES
    table.notes.append(f"Target ≤ {TARGET_BYTES:,} bytes per task (a tenth of before): "
                       f"**{'met' if met else 'missed'}**. Driven in {seconds:.1f} s.")
    return table
