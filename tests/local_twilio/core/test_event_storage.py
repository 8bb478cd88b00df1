"""Events: stored compactly (the same rows come back, key order included), pruned after the retention period."""

import json
import sqlite3

import pytest

from tutorial_helpers.local_twilio.core.store import Store
from tutorial_helpers.local_twilio.server import LocalTaskRouter

DAY = 86_400


def _lifecycle(router: LocalTaskRouter, tasks: int = 3) -> str:
    """A workspace, two workers, `tasks` tasks created, accepted, completed and purged; returns the workspace."""
    b, acct = router.backend, router.account_sid
    ws = b.create_workspace(acct, "Storage test", multi_task_enabled=False)["sid"]
    acts = {a["friendly_name"]: a["sid"] for a in b.children(acct, ws, "activity")}
    idle = b.create_activity(acct, ws, "Idle", True)["sid"]
    busy = b.create_activity(acct, ws, "Busy", False)["sid"]
    queue = b.create_task_queue(acct, ws, friendly_name="Spanish", target_workers='languages HAS "es"',
                                assignment_activity_sid=busy)["sid"]
    config = {"task_routing": {"filters": [], "default_filter": {"queue": queue}}}
    workflow = b.create_workflow(acct, ws, friendly_name="Flow", configuration=json.dumps(config))["sid"]
    for name in ("Alice", "Bob"):
        worker = b.create_worker(acct, ws, name, acts["Offline"], json.dumps({"languages": ["es"]}))["sid"]
        b.update_worker(acct, ws, worker, activity_sid=idle)
    for i in range(tasks):
        task = b.create_task(acct, ws, attributes=json.dumps({"n": i, "note": "ünïcode \u0000 \\0"}),
                             workflow_sid=workflow)["sid"]
        res = b.reservations(acct, ws, task_sid=task)[0]
        b.update_reservation(acct, ws, res["sid"], task_sid=task, reservation_status="accepted")
        b.update_task(acct, ws, task, assignment_status="completed", reason="done")
        b.update_worker(acct, ws, res["worker_sid"], activity_sid=idle)
    b.update_workspace(acct, ws, friendly_name="Renamed")
    router.advance_clock(301)  # the completed tasks are purged: task.deleted events
    return ws


def _db_count(router: LocalTaskRouter, table: str) -> int:
    with sqlite3.connect(router.store.path) as db:
        return db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


@pytest.fixture
def router(tmp_path):
    with LocalTaskRouter(tmp_path) as router:
        yield router


@pytest.fixture
def written(router, monkeypatch):
    """Every event row as the engine hands it to the store, JSON round-tripped as the old encoding stored it."""
    rows: dict[str, dict] = {}
    original = router.store.write

    def write(upserts, deletes, meta=None, events=(), *args, **kwargs):
        events = list(events)
        for sid, _ws, seq, data in events:
            rows[sid] = {**json.loads(json.dumps(data)), "_kind": "event", "_seq": seq}
        return original(upserts, deletes, meta, events, *args, **kwargs)

    monkeypatch.setattr(router.store, "write", write)
    return rows


def test_compact_events_come_back_identical(router, written):
    ws = _lifecycle(router)
    listed = router.store.events(ws)
    assert len(listed) == len(written) > 30
    # Same keys, same order, same values and types: the rendered wire bodies are byte-identical.
    assert [json.dumps(row) for row in listed] == [json.dumps(written[row["sid"]]) for row in listed]
    for row in listed[:5]:
        assert json.dumps(router.store.event(row["sid"])) == json.dumps(written[row["sid"]])
    for kind in ("reservation.accepted", "task.deleted", "worker.activity.update"):
        typed = router.store.events(ws, kind)
        assert typed and all(row["event_type"] == kind for row in typed)
    assert router.store.events(ws, "no.such-type") == []
    assert router.store.event("EV" + "0" * 32) is None
    # The stored rows are small: most of each event is shared (blobs) or rebuilt.
    with sqlite3.connect(router.store.path) as db:
        mean = db.execute("SELECT AVG(LENGTH(data)) FROM event_log").fetchone()[0]
    assert mean < 200


def test_events_list_over_http_unchanged(router, written):
    ws = _lifecycle(router, tasks=2)
    client = router.client()
    events = client.taskrouter.v1.workspaces(ws).events.list(limit=200)
    assert {e.sid for e in events} == set(written)
    one = next(e for e in events if e.event_type == "reservation.accepted")
    original = written[one.sid]
    assert one.event_data == original["event_data"]
    assert one.description == original["description"]
    assert one.resource_url.endswith(original["_resource_path"])


def test_old_event_table_is_migrated(tmp_path, router, written):
    ws = _lifecycle(router, tasks=1)
    router.stop()
    # Rebuild the store as it was before the compact encoding: one JSON row per event.
    with sqlite3.connect(router.data_dir / "taskrouter.sqlite3") as db:
        db.execute("DROP TABLE event_log")
        db.execute("DELETE FROM blobs")
        db.execute("CREATE TABLE events (sid TEXT PRIMARY KEY, workspace_sid TEXT NOT NULL, seq INTEGER NOT NULL, "
                   "data TEXT NOT NULL)")
        db.executemany("INSERT INTO events VALUES (?, ?, ?, ?)", [
            (sid, row["workspace_sid"], row["_seq"],
             json.dumps({k: v for k, v in row.items() if k not in ("_kind", "_seq")}))
            for sid, row in written.items()])
    store = Store(router.data_dir)
    try:
        listed = store.events(ws)
        assert [json.dumps(row) for row in listed] == [
            json.dumps(row) for row in sorted(written.values(), key=lambda r: -r["_seq"])]
        assert store.last_event_seq() == max(row["_seq"] for row in written.values())
    finally:
        store.close()


def test_events_older_than_the_retention_are_pruned(tmp_path):
    with LocalTaskRouter(tmp_path, event_retention_days=2) as router:
        ws = _lifecycle(router, tasks=2)
        old = {e["sid"] for e in router.store.events(ws)}
        blobs_before = _db_count(router, "blobs")
        router.advance_clock(DAY)
        offline = next(a["sid"] for a in router.backend.children(router.account_sid, ws, "activity")
                       if a["friendly_name"] == "Offline")
        router.backend.create_worker(router.account_sid, ws, "Carol", offline, "{}")
        young = {e["sid"] for e in router.store.events(ws)} - old
        assert young and {e["sid"] for e in router.store.events(ws)} >= old  # one day: nothing pruned yet
        router.advance_clock(DAY + 3600)  # the old ones are now past 2 days; the hourly prune has run
        left = {e["sid"] for e in router.store.events(ws)}
        assert left == young
        assert _db_count(router, "event_log") == len(young)
        assert all(router.store.event(sid) is None for sid in old)
        # The blobs only the pruned events used are gone too.
        assert _db_count(router, "blobs") < blobs_before / 2
        router.advance_clock(2 * DAY + 3600)
        assert router.store.events(ws) == []
        assert _db_count(router, "event_log") == 0


def test_prune_at_start_up_and_in_batches(tmp_path):
    with LocalTaskRouter(tmp_path) as router:
        ws = _lifecycle(router, tasks=2)
        count = len(router.store.events(ws))
        router.advance_clock(10 * DAY)
    with LocalTaskRouter(tmp_path, event_retention_days=5) as router:  # start-up prune: all older than 5 days
        assert router.store.events(ws) == []
    with LocalTaskRouter(tmp_path) as router:
        _lifecycle(router, tasks=2)
        now_ms = int(router.clock.now() * 1000) + 1
        assert router.store.prune_events(now_ms, batch=7) >= count
        assert _db_count(router, "event_log") == 0


def test_retention_must_be_positive(tmp_path):
    with pytest.raises(ValueError):
        LocalTaskRouter(tmp_path, event_retention_days=0)


def test_reservations_go_with_their_purged_task(router):
    ws = _lifecycle(router, tasks=2)
    kinds = [row["_kind"] for row in router.backend.state.rows.values() if row.get("workspace_sid") == ws]
    assert "task" not in kinds and "reservation" not in kinds
    assert not any(router.backend.indexes.res_by_task.values())
