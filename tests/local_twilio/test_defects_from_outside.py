"""Defects found from outside (review, the schema fuzzer): each test is named after the defect it pins down.

Every refusal is checked through the official SDK (TwilioRestException, 400, code 20001),
and that nothing was stored: the resource is fetched again.
"""

import json
from datetime import UTC, datetime, timedelta

import pytest
from taskrouter_support import small_workspace
from twilio.base.exceptions import TwilioRestException


def refused(call) -> TwilioRestException:
    with pytest.raises(TwilioRestException) as info:
        call()
    assert (info.value.status, info.value.code) == (400, 20001), (info.value.status, info.value.code, info.value.msg)
    return info.value


# ---------------------------------------------------------------------------- VirtualStartTime


@pytest.fixture
def scene(client):
    ctx, _acts, _queue, workflow, _workers = small_workspace(client, workers=())
    return ctx, workflow


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


# ---------------------------------------------------------------------------- found by `make fuzz`


@pytest.mark.parametrize("value", ["¹", "1,²", "٣"])
def test_split_by_wait_time_with_a_unicode_digit_was_a_500(client, scene, value):
    """'¹' passes str.isdigit() but not int(): the statistics answered 500 instead of a 400."""
    ctx, _workflow = scene
    refused(lambda: ctx.cumulative_statistics().fetch(split_by_wait_time=value))


def test_event_callbacks_were_handed_on_after_the_lock_so_two_units_could_swap(taskrouter, client):
    """The kill soak saw a workspace's event callbacks arrive out of order: each unit handed its callbacks to
    the dispatcher after letting the state lock go, so a unit that committed later could hand on first. They
    are handed on at commit, under the lock: then no other unit can commit in between."""
    import threading

    backend = taskrouter.backend
    state = backend.state
    held: list[bool] = []
    hand_on = backend.on_event  # the dispatcher's, called when a unit hands its event callbacks on

    def noting(ws, event, outbox_id=None):
        probe = threading.Thread(target=lambda: held.append(not state.lock.acquire(blocking=False)))
        probe.start()
        probe.join()
        if not held[-1]:
            state.lock.release()  # the probe took it, so nobody held it
        hand_on(ws, event, outbox_id)

    backend.on_event = noting
    try:
        ws = client.taskrouter.v1.workspaces.create(friendly_name="Ordered", event_callback_url="http://127.0.0.1:9/e")
        client.taskrouter.v1.workspaces(ws.sid).workers.create(friendly_name="Ann")  # worker.created
    finally:
        backend.on_event = hand_on
    assert held and all(held), "an event callback was handed on while another unit could commit"
