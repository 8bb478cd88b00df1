"""CRUD of every TaskRouter resource through the official SDK, list filters and pagination.

A refused value (a task's VirtualStartTime, a callback URL) is checked through the official SDK
(TwilioRestException, 400, code 20001), and that nothing was stored: the resource is fetched again.
"""

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

import pytest
from taskrouter_support import refused, small_workspace
from twilio.base.exceptions import TwilioRestException


@pytest.fixture
def tr(client):
    return client.taskrouter.v1


@pytest.fixture
def ws(tr):
    workspace = tr.workspaces.create(friendly_name="CRUD")
    return tr.workspaces(workspace.sid)


@pytest.fixture
def scene(client):
    ctx, _acts, _queue, workflow, _workers = small_workspace(client, workers=())
    return ctx, workflow


def assert_gone(fetch) -> None:
    with pytest.raises(TwilioRestException) as info:
        fetch()
    assert info.value.status == 404
    assert info.value.code == 20404


# ---------------------------------------------------------------------------- defaults


def test_new_workspace_has_twilios_defaults(tr):
    created = tr.workspaces.create(friendly_name="Defaults")
    ws = tr.workspaces(created.sid)
    activities = {a.friendly_name: a.available for a in ws.activities.list()}
    assert activities == {"Offline": False, "Available": True, "Unavailable": False}
    assert sorted(c.unique_name for c in ws.task_channels.list()) == ["chat", "default", "sms", "video", "voice"]
    assert created.multi_task_enabled is True
    assert created.default_activity_name == "Offline"
    assert created.timeout_activity_name == "Offline"
    assert created.prioritize_queue_order == "FIFO"
    offline = next(a for a in ws.activities.list() if a.friendly_name == "Offline")
    assert created.default_activity_sid == created.timeout_activity_sid == offline.sid
    # A new worker starts in the default activity and gets one channel per task channel.
    worker = ws.workers.create(friendly_name="New")
    assert (worker.activity_name, worker.available, worker.attributes) == ("Offline", False, "{}")
    assert sorted(c.task_channel_unique_name for c in ws.workers(worker.sid).worker_channels.list()) == [
        "chat", "default", "sms", "video", "voice",
    ]


def test_multi_task_enabled_false_is_kept(tr):
    assert tr.workspaces.create(friendly_name="Single", multi_task_enabled=False).multi_task_enabled is False


def test_fifo_template_creates_a_queue_and_workflow(tr):
    ws = tr.workspaces(tr.workspaces.create(friendly_name="Templated", template="FIFO").sid)
    assert [q.friendly_name for q in ws.task_queues.list()] == ["Sample Queue"]
    assert [w.friendly_name for w in ws.workflows.list()] == ["Default Fifo Workflow"]


# ---------------------------------------------------------------------------- workspaces


def test_workspace_crud(tr):
    created = tr.workspaces.create(friendly_name="One", event_callback_url="http://127.0.0.1:9/events",
                                   events_filter="task.created,task.canceled")
    assert created.sid.startswith("WS") and created.friendly_name == "One"
    assert created.event_callback_url == "http://127.0.0.1:9/events"
    fetched = tr.workspaces(created.sid).fetch()
    assert (fetched.sid, fetched.friendly_name, fetched.events_filter) == (
        created.sid, "One", "task.created,task.canceled")
    ws = tr.workspaces(created.sid)
    idle = ws.activities.create(friendly_name="Idle", available=True)
    updated = ws.update(friendly_name="Uno", multi_task_enabled=False, prioritize_queue_order="LIFO",
                        timeout_activity_sid=idle.sid, default_activity_sid=idle.sid)
    assert (updated.friendly_name, updated.multi_task_enabled, updated.prioritize_queue_order) == (
        "Uno", False, "LIFO")
    assert updated.timeout_activity_name == updated.default_activity_name == "Idle"
    tr.workspaces.create(friendly_name="Two")
    assert sorted(w.friendly_name for w in tr.workspaces.list()) == ["Two", "Uno"]
    assert [w.friendly_name for w in tr.workspaces.list(friendly_name="Two")] == ["Two"]
    assert ws.delete() is True
    assert_gone(ws.fetch)
    assert_gone(lambda: ws.activities(idle.sid).fetch())
    assert [w.friendly_name for w in tr.workspaces.list()] == ["Two"]


def test_workspace_names_are_unique_per_account(tr):
    tr.workspaces.create(friendly_name="Same")
    with pytest.raises(TwilioRestException) as info:
        tr.workspaces.create(friendly_name="same")
    assert info.value.status == 400


# ---------------------------------------------------------------------------- simple resources, as a table


def _configuration(ws) -> str:
    queue = ws.task_queues.create(friendly_name="For workflows")
    return json.dumps({"task_routing": {"filters": [], "default_filter": {"queue": queue.sid}}})


RESOURCES = [
    # (collection attribute, prefix, create kwargs builder, update kwargs, checked field after update)
    ("activities", "WA", lambda ws: {"friendly_name": "Lunch", "available": False},
     {"friendly_name": "Long lunch"}, ("friendly_name", "Long lunch")),
    ("workers", "WK", lambda ws: {"friendly_name": "Carol", "attributes": '{"languages": ["fr"]}'},
     {"attributes": '{"languages": ["de"]}'}, ("attributes", '{"languages": ["de"]}')),
    ("task_queues", "WQ", lambda ws: {"friendly_name": "French", "target_workers": 'languages HAS "fr"'},
     {"target_workers": 'languages HAS "de"'}, ("target_workers", 'languages HAS "de"')),
    ("workflows", "WW", lambda ws: {"friendly_name": "Route", "configuration": _configuration(ws)},
     {"task_reservation_timeout": 300}, ("task_reservation_timeout", 300)),
    ("task_channels", "TC", lambda ws: {"friendly_name": "Email", "unique_name": "email"},
     {"friendly_name": "E-mail"}, ("friendly_name", "E-mail")),
]


@pytest.mark.parametrize(("collection", "prefix", "create", "update", "check"), RESOURCES,
                         ids=[r[0] for r in RESOURCES])
def test_resource_crud(ws, collection, prefix, create, update, check):
    resources = getattr(ws, collection)
    before = len(resources.list())
    created = resources.create(**create(ws))
    assert created.sid.startswith(prefix) and len(created.sid) == 34
    assert created.workspace_sid == ws._solution["sid"]
    context = getattr(ws, collection)(created.sid)
    assert context.fetch().sid == created.sid
    updated = context.update(**update)
    field, value = check
    assert getattr(updated, field) == value
    assert getattr(context.fetch(), field) == value
    listed = resources.list()
    assert len(listed) == before + 1 and created.sid in [r.sid for r in listed]
    assert context.delete() is True
    assert_gone(context.fetch)
    assert len(resources.list()) == before


def test_queue_fields_and_activity_names(ws):
    busy = ws.activities.create(friendly_name="Busy", available=False)
    reserved = ws.activities.create(friendly_name="Reserved", available=False)
    queue = ws.task_queues.create(friendly_name="Q", reservation_activity_sid=reserved.sid,
                                  assignment_activity_sid=busy.sid, max_reserved_workers=3, task_order="LIFO")
    assert (queue.reservation_activity_name, queue.assignment_activity_name) == ("Reserved", "Busy")
    assert (queue.max_reserved_workers, queue.task_order, queue.target_workers) == (3, "LIFO", "1==1")
    # A renamed activity is renamed wherever it is shown.
    ws.activities(busy.sid).update(friendly_name="On a call")
    assert ws.task_queues(queue.sid).fetch().assignment_activity_name == "On a call"


def test_activity_in_use_cannot_be_deleted(ws):
    idle = ws.activities.create(friendly_name="Idle", available=True)
    ws.workers.create(friendly_name="Dora", activity_sid=idle.sid)
    with pytest.raises(TwilioRestException) as info:
        ws.activities(idle.sid).delete()
    assert info.value.status == 400
    assert ws.activities(idle.sid).fetch().friendly_name == "Idle"


def test_workflow_fields(ws):
    config = _configuration(ws)
    wf = ws.workflows.create(friendly_name="WF", configuration=config,
                             assignment_callback_url="https://example.com/assign",
                             fallback_assignment_callback_url="https://example.com/fallback")
    assert wf.task_reservation_timeout == 120
    assert json.loads(wf.configuration) == json.loads(config)
    assert (wf.assignment_callback_url, wf.fallback_assignment_callback_url) == (
        "https://example.com/assign", "https://example.com/fallback")
    assert wf.document_content_type == "application/json"
    renamed = ws.workflows(wf.sid).update(friendly_name="Renamed")
    assert renamed.friendly_name == "Renamed" and renamed.configuration == wf.configuration


# ---------------------------------------------------------------------------- callback URLs


BAD_URLS = [
    "file:///etc/passwd",
    "not a url",
    "javascript:alert(1)",
    "http://exa mple.com/",
    "http://example.com/" + "a" * 100_000,  # 100 KB
    "ftp://example.com/",
    "http:///no-host",
    "http://example.com:99999/",
    "http://[::1/",
    "http://example.com/\x00",
    "https://exa\tmple.com/",
]


@pytest.mark.parametrize("url", BAD_URLS, ids=lambda u: u[:30])
def test_workspace_event_callback_url_is_not_validated(client, url):
    tr = client.taskrouter.v1
    refused(lambda: tr.workspaces.create(friendly_name="Hooked", event_callback_url=url))
    assert [w.friendly_name for w in tr.workspaces.list()] == []
    ws = tr.workspaces.create(friendly_name="Plain", event_callback_url="http://127.0.0.1:9/events")
    refused(lambda: tr.workspaces(ws.sid).update(event_callback_url=url))
    assert tr.workspaces(ws.sid).fetch().event_callback_url == "http://127.0.0.1:9/events"


@pytest.mark.parametrize("url", BAD_URLS, ids=lambda u: u[:30])
@pytest.mark.parametrize("field", ["assignment_callback_url", "fallback_assignment_callback_url"])
def test_workflow_callback_urls_accept_a_host_with_a_space(client, scene, field, url):
    ctx, workflow = scene
    config = workflow.configuration
    refused(lambda: ctx.workflows.create(friendly_name="Hooked", configuration=config, **{field: url}))
    assert [w.friendly_name for w in ctx.workflows.list()] == ["Default"]
    refused(lambda: ctx.workflows(workflow.sid).update(**{field: url}))
    assert getattr(ctx.workflows(workflow.sid).fetch(), field) is None


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/events", "https://example.com/a?b=c#d", "http://[::1]:8080/x",
                                 "https://user:pw@host_name.example/cb", "HTTPS://EXAMPLE.COM/"])
def test_good_callback_urls_are_still_stored(client, scene, url):
    tr = client.taskrouter.v1
    ctx, workflow = scene
    ws = tr.workspaces(workflow.workspace_sid).update(event_callback_url=url)
    assert ws.event_callback_url == url
    updated = ctx.workflows(workflow.sid).update(assignment_callback_url=url, fallback_assignment_callback_url=url)
    assert (updated.assignment_callback_url, updated.fallback_assignment_callback_url) == (url, url)
    # An empty value clears it, as before.
    assert tr.workspaces(workflow.workspace_sid).update(event_callback_url="").event_callback_url is None


# ---------------------------------------------------------------------------- tasks


def test_task_crud(client):
    ctx, _acts, queue, workflow, _workers = small_workspace(client, workers=())
    task = ctx.tasks.create(attributes='{"type": "support"}', workflow_sid=workflow.sid, priority=5,
                            timeout=600)
    assert task.sid.startswith("WT") and task.assignment_status == "pending"
    assert (task.priority, task.timeout, task.attributes) == (5, 600, '{"type": "support"}')
    assert (task.task_queue_sid, task.workflow_sid) == (queue.sid, workflow.sid)
    assert (task.task_queue_friendly_name, task.workflow_friendly_name) == ("Everyone", "Default")
    assert task.task_channel_unique_name == "default" and task.task_channel_sid.startswith("TC")
    fetched = ctx.tasks(task.sid).fetch()
    assert fetched.sid == task.sid and fetched.age >= 0
    updated = ctx.tasks(task.sid).update(attributes='{"type": "sales"}', priority=9)
    assert (updated.attributes, updated.priority) == ('{"type": "sales"}', 9)
    sms = ctx.tasks.create(attributes="{}", workflow_sid=workflow.sid, task_channel="sms")
    assert sms.task_channel_unique_name == "sms"
    assert {t.sid for t in ctx.tasks.list()} == {task.sid, sms.sid}
    assert ctx.tasks(task.sid).delete() is True
    assert_gone(ctx.tasks(task.sid).fetch)
    assert [t.sid for t in ctx.tasks.list()] == [sms.sid]


def test_task_without_workflow_uses_the_only_workflow(client):
    ctx, _acts, _queue, workflow, _workers = small_workspace(client, workers=())
    assert ctx.tasks.create(attributes="{}").workflow_sid == workflow.sid


# ---------------------------------------------------------------------------- a task's VirtualStartTime


BAD_VIRTUAL_START_TIMES = [
    "yesterday",
    "-1",
    "1e20",
    "2020-01-01T00:00:00+99:00",  # an offset no clock has
    "2020-13-01T00:00:00Z",  # month 13
    "2020-01-01T25:00:00Z",  # hour 25
    "2020-01-01",  # a date, not a date-time
    "2020-01-01T00:00:00",  # no offset: RFC 3339 needs one
    "1969-12-31T23:59:59Z",  # before the epoch the task clock counts from
    "2020-01-01T00:00:00Z trailing",
    "x" * 5000,
]


@pytest.mark.parametrize("value", BAD_VIRTUAL_START_TIMES, ids=lambda v: v[:30])
def test_virtual_start_time_is_not_validated(client, scene, value):
    ctx, workflow = scene
    refused(lambda: ctx.tasks.create(attributes="{}", workflow_sid=workflow.sid, virtual_start_time=value))
    assert ctx.tasks.list() == [], "a refused task must not be stored"


def test_virtual_start_time_in_the_future_is_refused_on_the_servers_clock(taskrouter, client, scene):
    ctx, workflow = scene
    soon = datetime.now(UTC) + timedelta(minutes=10)
    refused(lambda: ctx.tasks.create(attributes="{}", workflow_sid=workflow.sid, virtual_start_time=soon))
    assert ctx.tasks.list() == []
    # The server's clock is what counts: once it has moved past that time, the same value is in the past.
    taskrouter.advance_clock(3600)
    task = ctx.tasks.create(attributes="{}", workflow_sid=workflow.sid, virtual_start_time=soon)
    assert task.virtual_start_time == soon.replace(microsecond=0)


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("2020-01-01T00:00:00Z", "2020-01-01T00:00:00Z"),
        ("2020-01-01T01:30:00+01:30", "2020-01-01T00:00:00Z"),  # Twilio's shape, in UTC
        ("2020-01-01T00:00:00.250Z", "2020-01-01T00:00:00Z"),
        ("2019-12-31t19:00:00-05:00", "2020-01-01T00:00:00Z"),
    ],
)
def test_valid_virtual_start_times_are_stored_in_twilios_date_shape(http, scene, given, stored):
    ctx, workflow = scene
    path = f"/v1/Workspaces/{workflow.workspace_sid}/Tasks"
    created = http.ok("POST", path, {"Attributes": "{}", "WorkflowSid": workflow.sid, "VirtualStartTime": given},
                      status=201)
    assert created["virtual_start_time"] == stored
    assert ctx.tasks(created["sid"]).fetch().virtual_start_time == datetime(2020, 1, 1, tzinfo=UTC)


def test_virtual_start_time_from_the_sdk_orders_the_task_as_if_created_then(scene):
    ctx, workflow = scene
    earlier = datetime(2024, 5, 14, 10, 50, 2, tzinfo=UTC)
    newer = ctx.tasks.create(attributes=json.dumps({"n": 1}), workflow_sid=workflow.sid)
    older = ctx.tasks.create(attributes=json.dumps({"n": 2}), workflow_sid=workflow.sid, virtual_start_time=earlier)
    assert older.virtual_start_time == earlier
    ordered = ctx.tasks.list(ordering="VirtualStartTime:asc")
    assert [t.sid for t in ordered] == [older.sid, newer.sid]


@pytest.mark.parametrize("value", BAD_VIRTUAL_START_TIMES, ids=lambda v: v[:30])
def test_task_update_ignores_virtual_start_time(scene, value):
    """UpdateTask takes VirtualStartTime (Twilio's spec): a bad value is refused as on create, and changes nothing."""
    ctx, workflow = scene
    task = ctx.tasks.create(attributes="{}", workflow_sid=workflow.sid)
    events = [e.sid for e in ctx.events.list(task_sid=task.sid)]
    refused(lambda: ctx.tasks(task.sid).update(virtual_start_time=value))
    after = ctx.tasks(task.sid).fetch()
    assert (after.virtual_start_time, after.date_updated) == (task.virtual_start_time, task.date_updated)
    assert [e.sid for e in ctx.events.list(task_sid=task.sid)] == events, "no task.updated"


def test_task_update_ignores_a_virtual_start_time_in_the_future_on_the_servers_clock(taskrouter, scene):
    ctx, workflow = scene
    task = ctx.tasks.create(attributes="{}", workflow_sid=workflow.sid)
    soon = datetime.now(UTC) + timedelta(minutes=10)
    refused(lambda: ctx.tasks(task.sid).update(virtual_start_time=soon))
    assert ctx.tasks(task.sid).fetch().virtual_start_time == task.virtual_start_time
    taskrouter.advance_clock(3600)
    assert ctx.tasks(task.sid).update(virtual_start_time=soon).virtual_start_time == soon.replace(microsecond=0)


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("2020-01-01T00:00:00Z", "2020-01-01T00:00:00Z"),
        ("2020-01-01T01:30:00+01:30", "2020-01-01T00:00:00Z"),
        ("2019-12-31t19:00:00.250-05:00", "2020-01-01T00:00:00Z"),
    ],
)
def test_task_update_ignores_virtual_start_time_in_twilios_date_shape(http, scene, given, stored):
    ctx, workflow = scene
    task = ctx.tasks.create(attributes="{}", workflow_sid=workflow.sid)
    path = f"/v1/Workspaces/{workflow.workspace_sid}/Tasks/{task.sid}"
    assert http.ok("POST", path, {"VirtualStartTime": given})["virtual_start_time"] == stored
    assert ctx.tasks(task.sid).fetch().virtual_start_time == datetime(2020, 1, 1, tzinfo=UTC)
    # An empty value is no value: nothing changes.
    assert http.ok("POST", path, {"VirtualStartTime": ""})["virtual_start_time"] == stored


def test_task_update_ignores_virtual_start_time_from_the_sdk_for_ordering(scene):
    ctx, workflow = scene
    older = ctx.tasks.create(attributes=json.dumps({"n": 1}), workflow_sid=workflow.sid)
    newer = ctx.tasks.create(attributes=json.dumps({"n": 2}), workflow_sid=workflow.sid)
    earlier = datetime(2024, 5, 14, 10, 50, 2, tzinfo=UTC)
    updated = ctx.tasks(newer.sid).update(virtual_start_time=earlier)
    assert updated.virtual_start_time == earlier
    assert "task.updated" in [e.event_type for e in ctx.events.list(task_sid=newer.sid)]
    ordered = ctx.tasks.list(ordering="VirtualStartTime:asc")
    assert [t.sid for t in ordered] == [newer.sid, older.sid]


def test_task_update_ignores_virtual_start_time_of_a_finished_task(scene):
    """A canceled (or completed) task is final: a new VirtualStartTime is refused like new attributes."""
    ctx, workflow = scene
    task = ctx.tasks.create(attributes="{}", workflow_sid=workflow.sid)
    ctx.tasks(task.sid).update(assignment_status="canceled", reason="gone")
    error = refused(lambda: ctx.tasks(task.sid).update(virtual_start_time=datetime(2020, 1, 1, tzinfo=UTC)))
    assert "canceled" in error.msg
    assert ctx.tasks(task.sid).fetch().virtual_start_time == task.virtual_start_time


# ---------------------------------------------------------------------------- worker channels


def test_worker_channels_list_fetch_update(ws):
    worker = ws.workers.create(friendly_name="Eve")
    channels = ws.workers(worker.sid).worker_channels
    listed = channels.list()
    assert len(listed) == 5 and all(c.sid.startswith("WC") for c in listed)
    assert all(c.configured_capacity == 1 and c.available for c in listed)
    voice = next(c for c in listed if c.task_channel_unique_name == "voice")
    assert channels(voice.sid).fetch().task_channel_sid == voice.task_channel_sid
    # Addressable by the task channel's unique name too, as on Twilio.
    assert channels("voice").fetch().sid == voice.sid
    updated = channels(voice.sid).update(capacity=3, available=False)
    assert (updated.configured_capacity, updated.available) == (3, False)
    assert (updated.assigned_tasks, updated.available_capacity_percentage) == (0, 100)
    # A new task channel gives every worker a channel.
    ws.task_channels.create(friendly_name="Email", unique_name="email")
    assert "email" in [c.task_channel_unique_name for c in channels.list()]


# ---------------------------------------------------------------------------- reservations and events


def test_reservations_under_tasks_and_under_workers(client):
    ctx, acts, _queue, workflow, workers = small_workspace(client, workers=("Ann",))
    ann = workers["Ann"]
    task = ctx.tasks.create(attributes="{}", workflow_sid=workflow.sid)
    ctx.workers(ann.sid).update(activity_sid=acts["Available"].sid)
    by_task = ctx.tasks(task.sid).reservations.list()
    assert len(by_task) == 1
    res = by_task[0]
    assert res.sid.startswith("WR") and res.reservation_status == "pending"
    assert (res.task_sid, res.worker_sid, res.worker_name) == (task.sid, ann.sid, "Ann")
    by_worker = ctx.workers(ann.sid).reservations.list()
    assert [r.sid for r in by_worker] == [res.sid]
    via_task = ctx.tasks(task.sid).reservations(res.sid).fetch()
    via_worker = ctx.workers(ann.sid).reservations(res.sid).fetch()
    assert via_task.sid == via_worker.sid == res.sid
    assert "/Tasks/" in via_task.url and "/Workers/" in via_worker.url
    assert ctx.tasks(task.sid).reservations.list(reservation_status="accepted") == []
    assert [r.sid for r in ctx.workers(ann.sid).reservations.list(reservation_status="pending")] == [res.sid]
    assert_gone(lambda: ctx.tasks(task.sid).reservations("WR" + "0" * 32).fetch())


def test_events_list_and_fetch(client):
    ctx, _acts, _queue, workflow, _workers = small_workspace(client, workers=("Ann",))
    task = ctx.tasks.create(attributes="{}", workflow_sid=workflow.sid)
    events = ctx.events.list()
    assert events, "creating resources records events"
    newest = events[0]
    assert newest.sid.startswith("EV")
    fetched = ctx.events(newest.sid).fetch()
    assert (fetched.sid, fetched.event_type, fetched.resource_sid) == (
        newest.sid, newest.event_type, newest.resource_sid)
    dates = [e.event_date_ms for e in events]
    assert dates == sorted(dates, reverse=True), "Events are listed newest first"
    created = ctx.events.list(event_type="task.created")
    assert [e.resource_sid for e in created] == [task.sid]
    assert created[0].event_data["task_sid"] == task.sid
    assert {e.event_type for e in ctx.events.list(task_sid=task.sid)} >= {"task.created", "task-queue.entered"}


def test_event_list_filters(client, taskrouter):
    ctx, acts, queue, workflow, workers = small_workspace(client, workers=("Ann",))
    ann = workers["Ann"]
    task = ctx.tasks.create(attributes="{}", workflow_sid=workflow.sid)
    ctx.workers(ann.sid).update(activity_sid=acts["Available"].sid)
    (res,) = ctx.tasks(task.sid).reservations.list()
    assert {e.event_type for e in ctx.events.list(reservation_sid=res.sid)} == {"reservation.created"}
    assert {e.event_type for e in ctx.events.list(worker_sid=ann.sid)} >= {"worker.created", "worker.activity.update",
                                                                          "reservation.created"}
    assert {e.event_type for e in ctx.events.list(task_queue_sid=queue.sid)} >= {"task-queue.entered"}
    assert [e.event_type for e in ctx.events.list(event_type="worker.created")] == ["worker.created"]
    everything = ctx.events.list()
    assert len(ctx.events.list(minutes=5)) == len(everything)
    taskrouter.advance_clock(600)
    late = ctx.tasks.create(attributes="{}", workflow_sid=workflow.sid)
    recent = [(e.event_type, e.resource_sid) for e in ctx.events.list(minutes=5)]
    assert ("task.created", late.sid) in recent
    assert ("task.created", task.sid) not in recent, "ten minutes ago"
    assert len(ctx.events.list(start_date=everything[0].event_date)) >= len(recent)


# ---------------------------------------------------------------------------- list filters


def test_worker_list_filters(client):
    ctx, acts, queue, _workflow, _workers = small_workspace(client, workers=())
    idle = acts["Available"]
    ann = ctx.workers.create(friendly_name="Ann", attributes='{"languages": ["en", "es"]}', activity_sid=idle.sid)
    ctx.workers.create(friendly_name="Ben", attributes='{"languages": ["en"]}')
    spanish = ctx.task_queues.create(friendly_name="Spanish", target_workers='languages HAS "es"')

    def names(**filters):
        return sorted(w.friendly_name for w in ctx.workers.list(**filters))

    assert names() == ["Ann", "Ben"]
    assert names(activity_name="Available") == ["Ann"]
    assert names(activity_sid=acts["Offline"].sid) == ["Ben"]
    assert names(available="true") == ["Ann"]
    assert names(available="false") == ["Ben"]
    assert names(friendly_name="Ben") == ["Ben"]
    assert names(target_workers_expression='languages HAS "es"') == ["Ann"]
    assert names(target_workers_expression='languages HAS "en"') == ["Ann", "Ben"]
    assert names(task_queue_sid=spanish.sid) == ["Ann"]
    assert names(task_queue_sid=queue.sid) == ["Ann", "Ben"]
    assert names(task_queue_name="Spanish") == ["Ann"]
    assert ann.sid in [w.sid for w in ctx.workers.list(task_queue_sid=spanish.sid)]


def test_task_list_filters(client):
    ctx, acts, queue, workflow, workers = small_workspace(client, workers=("Ann",))
    first = ctx.tasks.create(attributes='{"kind": "a"}', workflow_sid=workflow.sid, priority=1)
    ctx.workers(workers["Ann"].sid).update(activity_sid=acts["Available"].sid)  # first is reserved
    second = ctx.tasks.create(attributes='{"kind": "b"}', workflow_sid=workflow.sid, priority=2)
    third = ctx.tasks.create(attributes='{"kind": "b"}', workflow_sid=workflow.sid, priority=3)
    ctx.tasks(third.sid).update(assignment_status="canceled", reason="not needed")

    def sids(**filters):
        return {t.sid for t in ctx.tasks.list(**filters)}

    assert sids(assignment_status=["reserved"]) == {first.sid}
    assert sids(assignment_status=["pending"]) == {second.sid}
    assert sids(assignment_status=["pending", "reserved"]) == {first.sid, second.sid}  # repeated keys
    assert sids(assignment_status=["pending,canceled"]) == {second.sid, third.sid}  # comma form
    assert sids(evaluate_task_attributes='kind == "b"') == {second.sid, third.sid}
    assert sids(priority=2) == {second.sid}
    assert sids(task_queue_sid=queue.sid) == {first.sid, second.sid, third.sid}
    assert sids(workflow_sid=workflow.sid, assignment_status=["canceled"]) == {third.sid}
    ordered = [t.sid for t in ctx.tasks.list(ordering="Priority:desc")]
    assert ordered == [third.sid, second.sid, first.sid]


def test_activity_and_queue_list_filters(ws):
    ws.activities.create(friendly_name="Idle", available=True)
    assert sorted(a.friendly_name for a in ws.activities.list(available="true")) == ["Available", "Idle"]
    assert sorted(a.friendly_name for a in ws.activities.list(available="false")) == ["Offline", "Unavailable"]
    assert [a.friendly_name for a in ws.activities.list(friendly_name="Idle")] == ["Idle"]
    ws.task_queues.create(friendly_name="Spanish", target_workers='languages HAS "es"')
    ws.task_queues.create(friendly_name="Senior", target_workers="level >= 3")
    ws.task_queues.create(friendly_name="All")

    def queues(attrs):
        return sorted(q.friendly_name for q in ws.task_queues.list(evaluate_worker_attributes=json.dumps(attrs)))

    assert queues({"languages": ["es"], "level": 1}) == ["All", "Spanish"]
    assert queues({"languages": ["en"], "level": 5}) == ["All", "Senior"]
    assert [q.friendly_name for q in ws.task_queues.list(friendly_name="Senior")] == ["Senior"]


# ---------------------------------------------------------------------------- pagination


def test_sdk_follows_absolute_next_page_urls(ws, taskrouter):
    for i in range(5):
        ws.workers.create(friendly_name=f"Worker {i}")
    listed = ws.workers.list(page_size=2)
    assert [w.friendly_name for w in listed] == [f"Worker {i}" for i in range(5)]
    assert len(ws.workers.list(page_size=2, limit=3)) == 3
    page = ws.workers.page(page_size=2)
    seen = []
    pages = 0
    while page is not None:
        pages += 1
        seen.extend(w.friendly_name for w in page)
        url = page.next_page_url
        if url is not None:
            parsed = urlparse(url)
            assert f"{parsed.scheme}://{parsed.netloc}" == taskrouter.base_url, url
            assert parsed.path.endswith("/Workers")
        page = page.next_page()
    assert pages == 3 and seen == [f"Worker {i}" for i in range(5)]


def test_filters_survive_pagination(ws):
    idle = ws.activities.create(friendly_name="Idle", available=True)
    for i in range(5):
        ws.workers.create(friendly_name=f"Idle {i}", activity_sid=idle.sid)
        ws.workers.create(friendly_name=f"Offline {i}")
    names = [w.friendly_name for w in ws.workers.list(activity_name="Idle", page_size=2)]
    assert names == [f"Idle {i}" for i in range(5)]
