"""The 15 Statistics operations through the SDK: a small contact centre, exact figures, every body on contract."""

import json
import sys
import threading

import pytest
import requests
from taskrouter_support import refused, small_workspace
from test_wire import CONTRACT_PATH, Schema

from tutorial_helpers.local_twilio import LocalTaskRouter
from tutorial_helpers.workspace import build_quickstart


class Sids:
    """The bulk POST's body: the SDK sends `body.to_dict()` as JSON."""

    def __init__(self, sids: list[str]):
        self.sids = sids

    def to_dict(self) -> dict:
        return {"TaskQueueSids": self.sids}


@pytest.fixture(scope="module")
def centre(tmp_path_factory):
    """Alice (es, en) and Bob (en): a task accepted after 30 s, one rejected, one timed out, one canceled.

    On a paused clock: the figures are exactly what was advanced, however long the steps between take."""
    with LocalTaskRouter(tmp_path_factory.mktemp("stats"), paused_clock=True) as router:
        client = router.client()
        q = build_quickstart(client)
        ws = client.taskrouter.v1.workspaces(q.workspace_sid)
        idle, offline = q.activities["Idle"], q.activities["Offline"]
        es = json.dumps({"selected_language": "es"})
        start = router.clock.now()
        # 1. Spanish task, Alice idle 30 s later, accepts at once: waited 30 s.
        t1 = ws.tasks.create(attributes=es, workflow_sid=q.workflow_sid)
        router.advance_clock(30)
        ws.workers(q.workers["Alice"]).update(activity_sid=idle)
        r1 = ws.tasks(t1.sid).reservations.list()[0]
        ws.tasks(t1.sid).reservations(r1.sid).update(reservation_status="accepted")
        # 2. English task, Bob idle: rejects after 10 s (back Idle), is reserved again, times out after 1200 s.
        t2 = ws.tasks.create(attributes=json.dumps({"selected_language": "en"}), workflow_sid=q.workflow_sid,
                             task_channel="voice")
        ws.workers(q.workers["Bob"]).update(activity_sid=idle)
        router.advance_clock(10)
        r2 = ws.tasks(t2.sid).reservations.list()[0]
        ws.tasks(t2.sid).reservations(r2.sid).update(reservation_status="rejected", worker_activity_sid=idle)
        # Bob is not offered t2 again; another English task reaches him and times out after 1200 s.
        t4 = ws.tasks.create(attributes=json.dumps({"selected_language": "en"}), workflow_sid=q.workflow_sid)
        router.advance_clock(1200)
        # 3. A Spanish task nobody can take (Alice busy), canceled after 60 s.
        t3 = ws.tasks.create(attributes=es, workflow_sid=q.workflow_sid, priority=5)
        router.advance_clock(60)
        ws.tasks(t3.sid).update(assignment_status="canceled", reason="caller hung up")
        router.advance_clock(5)
        yield {"router": router, "client": client, "q": q, "ws": ws, "start": start, "tasks": (t1, t2, t3, t4),
               "offline": offline}


WIDE = 24 * 60  # minutes: a window over everything the centre did


def test_workspace_cumulative_exact(centre):
    ws = centre["ws"]
    s = ws.cumulative_statistics().fetch(minutes=WIDE, split_by_wait_time="45,1000")
    assert (s.tasks_created, s.tasks_canceled, s.tasks_completed, s.tasks_deleted) == (4, 1, 0, 0)
    assert (s.reservations_created, s.reservations_accepted, s.reservations_rejected,
            s.reservations_timed_out, s.reservations_canceled, s.reservations_rescinded) == (3, 1, 1, 1, 0, 0)
    assert s.avg_task_acceptance_time == 30
    assert s.wait_duration_until_accepted == {"avg": 30, "min": 30, "max": 30, "total": 30}
    assert s.wait_duration_until_canceled == {"avg": 60, "min": 60, "max": 60, "total": 60}
    assert s.split_by_wait_time == {
        "45": {"below": {"tasks_canceled": 0, "reservations_accepted": 1},
               "above": {"tasks_canceled": 1, "reservations_accepted": 0}},
        "1000": {"below": {"tasks_canceled": 1, "reservations_accepted": 1},
                 "above": {"tasks_canceled": 0, "reservations_accepted": 0}},
    }


def test_windows(centre):
    ws, router = centre["ws"], centre["router"]
    # The default window is the last 15 minutes: only the cancel (65 s ago) and t3's creation are in it.
    s = ws.cumulative_statistics().fetch()
    assert (s.tasks_created, s.tasks_canceled, s.reservations_accepted, s.reservations_timed_out) == (1, 1, 0, 1)
    assert (s.end_time - s.start_time).total_seconds() == 15 * 60
    # StartDate/EndDate: the first 40 s hold t1's creation and its accept, and t2's creation.
    from datetime import UTC, datetime, timedelta
    start = datetime.fromtimestamp(int(centre["start"]), UTC)
    s = ws.cumulative_statistics().fetch(start_date=start, end_date=start + timedelta(seconds=35))
    assert (s.tasks_created, s.reservations_accepted, s.reservations_rejected) == (2, 1, 0)
    s = ws.cumulative_statistics().fetch(minutes=1)
    assert (s.tasks_created, s.tasks_canceled) == (0, 1)
    assert router.clock.now() > centre["start"]


def test_task_channel_filter(centre):
    ws = centre["ws"]
    voice = ws.cumulative_statistics().fetch(minutes=WIDE, task_channel="voice")
    assert (voice.tasks_created, voice.reservations_created, voice.reservations_rejected,
            voice.reservations_timed_out, voice.reservations_accepted) == (1, 1, 1, 0, 0)
    default = ws.real_time_statistics().fetch(task_channel="default")
    assert default.total_tasks == 2  # t1 assigned, t4 pending; t2 (voice) is left out


def test_queue_worker_workflow_scopes(centre):
    ws, q = centre["ws"], centre["q"]
    spanish = ws.task_queues(q.queues["Spanish"]).cumulative_statistics().fetch(minutes=WIDE)
    assert (spanish.tasks_entered, spanish.tasks_canceled, spanish.reservations_accepted,
            spanish.reservations_created) == (2, 1, 1, 1)
    assert spanish.wait_duration_in_queue_until_accepted == {"avg": 30, "min": 30, "max": 30, "total": 30}
    english = ws.task_queues(q.queues["English"]).cumulative_statistics().fetch(minutes=WIDE)
    assert (english.tasks_entered, english.reservations_rejected, english.reservations_timed_out) == (2, 1, 1)
    bob = ws.workers(q.workers["Bob"]).statistics().fetch(minutes=WIDE).cumulative
    assert (bob["reservations_created"], bob["reservations_rejected"], bob["reservations_timed_out"]) == (2, 1, 1)
    reserved = next(a for a in bob["activity_durations"] if a["friendly_name"] == "Reserved")
    assert reserved["total"] == 10 + 1200 and reserved["max"] == 1200
    flow = ws.workflows(q.workflow_sid).cumulative_statistics().fetch(minutes=WIDE)
    assert (flow.tasks_entered, flow.reservations_created, flow.tasks_canceled) == (4, 3, 1)


def test_real_time(centre):
    ws, q = centre["ws"], centre["q"]
    t1, t2, _t3, _t4 = centre["tasks"]
    s = ws.real_time_statistics().fetch()
    assert s.tasks_by_status == {"pending": 2, "reserved": 0, "assigned": 1, "wrapping": 0}
    assert s.total_tasks == 3 and s.total_workers == 2
    assert s.longest_task_waiting_sid == t2.sid and s.longest_task_waiting_age == 10 + 1200 + 65
    assert s.tasks_by_priority == {"0": 3}
    by_activity = {a["friendly_name"]: a["workers"] for a in s.activity_statistics}
    assert by_activity["Busy"] == 1 and by_activity["Offline"] == 1
    english = ws.task_queues(q.queues["English"]).real_time_statistics().fetch()
    assert (english.total_eligible_workers, english.total_available_workers, english.total_tasks) == (2, 0, 2)
    assert english.longest_relative_task_sid_in_queue == t2.sid
    bulk = ws.task_queues.bulk_real_time_statistics.create(body=Sids([q.queues["Spanish"], q.queues["English"]]))
    assert bulk.task_queue_response_count == 2
    flow = ws.workflows(q.workflow_sid).real_time_statistics().fetch()
    assert flow.total_tasks == 3 and t1.sid != flow.longest_task_waiting_sid


def test_every_body_on_contract_and_errors(centre):
    router, q = centre["router"], centre["q"]
    schema = Schema(json.loads(CONTRACT_PATH.read_text()), router.base_url)
    session = requests.Session()
    session.auth = (router.account_sid, router.auth_token)
    W = f"{router.base_url}/v1/Workspaces/{q.workspace_sid}"
    paths = ["/Statistics", "/CumulativeStatistics", "/RealTimeStatistics", "/TaskQueues/Statistics",
             "/Workers/Statistics", "/Workers/CumulativeStatistics", "/Workers/RealTimeStatistics",
             f"/Workers/{q.workers['Alice']}/Statistics"]
    for kind, sid in (("TaskQueues", q.queues["Spanish"]), ("Workflows", q.workflow_sid)):
        paths += [f"/{kind}/{sid}/{p}" for p in ("Statistics", "CumulativeStatistics", "RealTimeStatistics")]
    for path in paths:
        response = session.get(W + path, params={"SplitByWaitTime": "5,10"} if "Cumul" in path else {})
        assert response.status_code == 200, (path, response.text)
        schema.check_response("GET", response)
    response = session.post(W + "/TaskQueues/RealTimeStatistics", json={"TaskQueueSids": [q.queues["Spanish"]]})
    schema.check_response("POST", response)
    assert len(schema.seen) == 15
    # 404s, 401, 400s.
    assert session.get(W + f"/TaskQueues/WQ{'0' * 32}/Statistics").status_code == 404
    assert session.get(W.replace(q.workspace_sid, "WS" + "0" * 32) + "/Statistics").status_code == 404
    assert requests.get(W + "/Statistics", auth=("AC" + "b" * 32, "x")).status_code == 401
    for params in ({"Minutes": "0"}, {"StartDate": "yesterday"}, {"SplitByWaitTime": "5,x"},
                   {"TaskChannel": "telegraph"}, {"StartDate": "2030-01-01T00:00:00Z", "EndDate": "2029-01-01"}):
        response = session.get(W + "/CumulativeStatistics", params=params)
        assert response.status_code == 400 and response.json()["code"] == 20001, params


def test_a_store_from_before_the_statistics_gets_its_figure_columns_filled(tmp_path):
    """A data dir whose event_log has none of the figure columns (written before the statistics existed):
    at start-up they are added and filled from the stored events, so the figures come out the same."""
    import sqlite3

    from tutorial_helpers.local_twilio.core.store import FIGURE_COLUMNS

    wanted = ("tasks_created", "tasks_canceled", "reservations_created", "reservations_accepted",
              "avg_task_acceptance_time", "wait_duration_until_accepted", "wait_duration_until_canceled")

    def figures(router, q) -> tuple[dict, dict]:
        ws = router.client().taskrouter.v1.workspaces(q.workspace_sid)
        whole = ws.cumulative_statistics().fetch(minutes=1440)
        queue = ws.task_queues(q.queues["Spanish"]).cumulative_statistics().fetch(
            minutes=1440)
        return ({k: getattr(whole, k) for k in wanted},
                {k: getattr(queue, k) for k in ("tasks_entered", "reservations_accepted", "tasks_canceled")})

    with LocalTaskRouter(tmp_path) as router:
        client = router.client()
        q = build_quickstart(client)
        ws = client.taskrouter.v1.workspaces(q.workspace_sid)
        es = json.dumps({"selected_language": "es"})
        accepted = ws.tasks.create(attributes=es, workflow_sid=q.workflow_sid)
        router.advance_clock(20)
        ws.workers(q.workers["Alice"]).update(activity_sid=q.activities["Idle"])
        res = ws.tasks(accepted.sid).reservations.list()[0]
        ws.tasks(accepted.sid).reservations(res.sid).update(reservation_status="accepted")
        canceled = ws.tasks.create(attributes=es, workflow_sid=q.workflow_sid)
        router.advance_clock(45)
        ws.tasks(canceled.sid).update(assignment_status="canceled", reason="gone")
        before = figures(router, q)
    assert before[0]["tasks_created"] == 2 and before[1]["reservations_accepted"] == 1  # something to keep

    db = sqlite3.connect(tmp_path / "taskrouter.sqlite3")
    db.execute("DROP INDEX event_log_by_type")
    db.execute("DROP INDEX event_log_by_task")  # a store from before had neither the column nor its index
    for column in FIGURE_COLUMNS:
        db.execute(f"ALTER TABLE event_log DROP COLUMN {column}")
    db.commit()
    db.close()

    with LocalTaskRouter(tmp_path) as router:
        assert figures(router, q) == before
    db = sqlite3.connect(tmp_path / "taskrouter.sqlite3")
    columns = {row[1] for row in db.execute("PRAGMA table_info(event_log)")}
    indexes = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    db.close()
    assert set(FIGURE_COLUMNS) <= columns and "event_log_by_type" in indexes


def test_real_time_figures_counted_while_tasks_are_canceled_were_a_500(tmp_path):
    """Real-time figures used to be counted without the state's lock: a task canceled between the count's
    filter and its tally was a KeyError, a 500. Threads switch every microsecond here to meet that moment."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        with LocalTaskRouter(tmp_path / "race") as router:
            q = build_quickstart(router.client())
            french = json.dumps({"selected_language": "fr"})  # no queue takes it: it stays pending
            stop = threading.Event()

            def create_and_cancel() -> None:
                tasks = router.client().taskrouter.v1.workspaces(q.workspace_sid).tasks
                while not stop.is_set():
                    sid = tasks.create(attributes=french, workflow_sid=q.workflow_sid).sid
                    tasks(sid).update(assignment_status="canceled", reason="the race")
                    tasks(sid).delete()

            writers = [threading.Thread(target=create_and_cancel) for _ in range(3)]
            for writer in writers:
                writer.start()
            try:
                ws = router.client().taskrouter.v1.workspaces(q.workspace_sid)
                for _ in range(60):
                    ws.tasks.create(attributes=french, workflow_sid=q.workflow_sid)
                session = requests.Session()
                session.auth = (router.account_sid, router.auth_token)
                base = f"{router.base_url}/v1/Workspaces/{q.workspace_sid}"
                paths = ["/RealTimeStatistics", "/Statistics", f"/Workflows/{q.workflow_sid}/RealTimeStatistics",
                         "/TaskQueues/Statistics"]
                for round_ in range(200):
                    answer = session.get(base + paths[round_ % len(paths)])
                    assert answer.status_code == 200, answer.text
                    body = answer.json()
                    figures = body.get("realtime", body) if "task_queues_statistics" not in body else None
                    if figures is not None:
                        assert sum(figures["tasks_by_status"].values()) == figures["total_tasks"]
                        assert sum(figures["tasks_by_priority"].values()) == figures["total_tasks"]
            finally:
                stop.set()
                for writer in writers:
                    writer.join()
    finally:
        sys.setswitchinterval(previous)


# ---------------------------------------------------------------------------- parameters read through the SDK


@pytest.fixture
def scene(client):
    ctx, _acts, _queue, workflow, _workers = small_workspace(client, workers=())
    return ctx, workflow


@pytest.mark.parametrize("value", ["¹", "1,²", "٣"])
def test_split_by_wait_time_with_a_unicode_digit_was_a_500(client, scene, value):
    """'¹' passes str.isdigit() but not int(): the statistics answered 500 instead of a 400."""
    ctx, _workflow = scene
    refused(lambda: ctx.cumulative_statistics().fetch(split_by_wait_time=value))
