"""The events list filters in SQL and decodes only the page it answers; these tests hold it to the filters'
meaning, computed here from the whole unfiltered history: every filter of the spec, alone and together, over
pages of three, including sids that share the 28-bit key the SQL narrows with."""

import itertools
import json
import uuid
from datetime import UTC, datetime

import pytest
import requests

from tutorial_helpers.local_twilio import LocalTaskRouter
from tutorial_helpers.local_twilio.core import state
from tutorial_helpers.local_twilio.core.store import sid_key
from tutorial_helpers.workspace import build_quickstart

FILTERS = {"TaskSid": "task_sid", "ReservationSid": "reservation_sid", "WorkerSid": "worker_sid",
           "TaskQueueSid": "task_queue_sid", "WorkflowSid": "workflow_sid"}
PREFIX = {"TaskSid": "WT", "ReservationSid": "WR", "WorkerSid": "WK", "TaskQueueSid": "WQ", "WorkflowSid": "WW"}


class SharedPrefix:
    """uuid4 for sids that all begin with the same 7 hex digits: they all share one sid key."""

    def uuid4(self) -> uuid.UUID:
        return uuid.UUID("abcdef0" + uuid.uuid4().hex[7:])


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """The quickstart with tasks accepted, rejected, canceled and completed on two channels over 20 minutes of
    the clock, a queue and the workflow updated, and then two tasks whose sids (and their reservations' and
    events') share a sid key."""
    with LocalTaskRouter(tmp_path_factory.mktemp("events")) as router:
        client = router.client()
        q = build_quickstart(client)
        ws = client.taskrouter.v1.workspaces(q.workspace_sid)
        idle, offline = q.activities["Idle"], q.activities["Offline"]
        es, en = json.dumps({"selected_language": "es"}), json.dumps({"selected_language": "en"})
        accepted = ws.tasks.create(attributes=es, workflow_sid=q.workflow_sid)
        router.advance_clock(120)
        ws.workers(q.workers["Alice"]).update(activity_sid=idle)
        reservation = ws.tasks(accepted.sid).reservations.list()[0]
        ws.tasks(accepted.sid).reservations(reservation.sid).update(reservation_status="accepted")
        router.advance_clock(300)
        ws.tasks(accepted.sid).update(assignment_status="completed", reason="done")
        rejected = ws.tasks.create(attributes=en, workflow_sid=q.workflow_sid, task_channel="voice")
        ws.workers(q.workers["Bob"]).update(activity_sid=idle)
        reservation = ws.tasks(rejected.sid).reservations.list()[0]
        ws.tasks(rejected.sid).reservations(reservation.sid).update(reservation_status="rejected",
                                                                     worker_activity_sid=offline)
        router.advance_clock(600)
        ws.tasks(rejected.sid).update(assignment_status="canceled", reason="caller hung up")
        ws.task_queues(q.queues["English"]).update(friendly_name="English, renamed")
        ws.workflows(q.workflow_sid).update(friendly_name="Renamed workflow")
        real = state.uuid
        state.uuid = SharedPrefix()
        try:
            first = ws.tasks.create(attributes=es, workflow_sid=q.workflow_sid)
            second = ws.tasks.create(attributes=es, workflow_sid=q.workflow_sid, task_channel="voice")
            ws.workers(q.workers["Alice"]).update(activity_sid=idle)  # Alice, done with the first, is Idle
        finally:
            state.uuid = real
        assert sid_key(first.sid) == sid_key(second.sid)
        session = requests.Session()
        session.auth = (router.account_sid, router.auth_token)
        base = f"{router.base_url}/v1/Workspaces/{q.workspace_sid}/Events"
        everything = listed(session, base, {"PageSize": 1000})
        assert len(everything) > 30
        assert sum(e["event_data"].get("task_sid") in (first.sid, second.sid) for e in everything) >= 4
        yield {"session": session, "base": base, "all": everything, "q": q, "router": router,
               "tasks": [accepted.sid, rejected.sid, first.sid, second.sid]}


def listed(session: requests.Session, url: str, params: dict) -> list[dict]:
    """Every page, following next_page_url."""
    out = []
    answer = session.get(url, params=params)
    while True:
        assert answer.status_code == 200, answer.text
        body = answer.json()
        out += body["events"]
        if not body["meta"]["next_page_url"]:
            return out
        answer = session.get(body["meta"]["next_page_url"])


def expected(events: list[dict], params: dict) -> list[str]:
    """What the filters mean, from Twilio's API description, over the whole history (newest first)."""
    def keep(e: dict) -> bool:
        data = e["event_data"]
        for name, key in FILTERS.items():
            if name in params and params[name] not in (data.get(key), e["resource_sid"]):
                return False
        if "EventType" in params and e["event_type"] not in params["EventType"].split(","):
            return False
        if "TaskChannel" in params and params["TaskChannel"] not in (data.get("task_channel_sid"),
                                                                     data.get("task_channel_unique_name")):
            return False
        if "Sid" in params and e["sid"] != params["Sid"]:
            return False
        # The dates are whole seconds; an event's time has its milliseconds: both ends inclusive.
        if "StartDate" in params and e["event_date_ms"] < params["_start_ms"]:
            return False
        return not ("EndDate" in params and e["event_date_ms"] > params["_end_ms"])

    return [e["sid"] for e in events if keep(e)]


def check(history: dict, params: dict) -> list[str]:
    wire = {k: v for k, v in params.items() if not k.startswith("_")}
    got = [e["sid"] for e in listed(history["session"], history["base"], {**wire, "PageSize": 3})]
    want = expected(history["all"], params)
    assert got == want, params
    return got


def sids_of(history: dict) -> dict[str, list[str]]:
    events = history["all"]
    found = {name: sorted({e["event_data"][key] for e in events if isinstance(e["event_data"].get(key), str)})
             for name, key in FILTERS.items()}
    return {name: [*values, PREFIX[name] + "0" * 32] for name, values in found.items()}  # and one never seen


def test_each_sid_filter_alone_matches_its_meaning(history):
    matched = 0
    for name, values in sids_of(history).items():
        for value in values:
            matched += bool(check(history, {name: value}))
    assert matched >= 12


def test_tasks_sharing_a_sid_key_get_only_their_own_events(history):
    first, second = history["tasks"][2:]
    mine = check(history, {"TaskSid": first})
    theirs = check(history, {"TaskSid": second})
    assert mine and theirs and not set(mine) & set(theirs)
    for reservation in sorted({e["resource_sid"] for e in history["all"]
                               if e["resource_sid"].startswith("WR") and sid_key(e["resource_sid"]) ==
                               sid_key(first)}):
        assert check(history, {"ReservationSid": reservation})


def test_sid_filters_together_with_types_channels_and_dates(history):
    tasks, all_events = history["tasks"], history["all"]
    voice = next(e["event_data"]["task_channel_sid"] for e in all_events
                 if e["event_data"].get("task_channel_unique_name") == "voice")
    types = ["task.created", "reservation.created,reservation.accepted", "worker.activity.update", "nothing.ever"]
    dates = sorted({e["event_date"] for e in all_events})
    middle = dates[len(dates) // 2]
    middle_ms = int(datetime.strptime(middle, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp() * 1000)
    cases = 0
    for task, kind, channel in itertools.product([None, *tasks], [None, *types], [None, voice, "voice", "chat"]):
        params = {k: v for k, v in (("TaskSid", task), ("EventType", kind), ("TaskChannel", channel)) if v}
        check(history, params)
        check(history, {**params, "StartDate": middle, "_start_ms": middle_ms})
        check(history, {**params, "EndDate": middle, "_end_ms": middle_ms})
        cases += 3
    assert cases == 5 * 5 * 4 * 3
    one = all_events[len(all_events) // 2]
    assert check(history, {"Sid": one["sid"]}) == [one["sid"]]
    assert check(history, {"Sid": one["sid"], "EventType": "task.nothing"}) == []
    alice = history["q"].workers["Alice"]
    assert check(history, {"WorkerSid": alice, "EventType": "worker.activity.update"})
    assert check(history, {"TaskQueueSid": history["q"].queues["English"], "WorkerSid": alice}) == []


def test_a_page_in_the_middle_of_a_long_history_decodes_only_that_page(history, monkeypatch):
    store = history["router"].backend.state.store
    decoded = []
    real = store.codec.decode
    monkeypatch.setattr(store.codec, "decode", lambda db, rows: decoded.append(len(rows)) or real(db, rows))
    answer = history["session"].get(history["base"], params={"PageSize": 5, "Page": 2, "PageToken": "PT10"})
    assert answer.status_code == 200
    assert [e["sid"] for e in answer.json()["events"]] == [e["sid"] for e in history["all"][10:15]]
    assert decoded == [5]


def test_a_store_from_before_the_sid_keys_gets_them_at_start_up(tmp_path):
    import sqlite3

    with LocalTaskRouter(tmp_path) as router:
        client = router.client()
        q = build_quickstart(client)
        ws = client.taskrouter.v1.workspaces(q.workspace_sid)
        task = ws.tasks.create(attributes=json.dumps({"selected_language": "es"}), workflow_sid=q.workflow_sid)
        ws.workers(q.workers["Alice"]).update(activity_sid=q.activities["Idle"])
        before = [e.sid for e in ws.events.list(task_sid=task.sid)]
    assert len(before) >= 4  # created, entered, target-matched, reservation.created, ...
    db = sqlite3.connect(tmp_path / "taskrouter.sqlite3")
    db.execute("DROP INDEX event_log_by_task")  # a store from before had neither the column nor its index
    for column in ("task_key", "reservation_key"):
        db.execute(f"ALTER TABLE event_log DROP COLUMN {column}")
    db.commit()
    db.close()
    with LocalTaskRouter(tmp_path) as router:
        ws = router.client().taskrouter.v1.workspaces(q.workspace_sid)
        assert [e.sid for e in ws.events.list(task_sid=task.sid)] == before
