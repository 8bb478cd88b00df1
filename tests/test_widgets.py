"""The widgets outside a kernel: ipywidgets work without a frontend, the SDK calls are real."""

from datetime import UTC, datetime
from types import SimpleNamespace

import ipywidgets
import pytest
from quickstart_support import ACCEPT, callback_app, make_tutorial, wait_until
from twilio.base.exceptions import TwilioRestException

from tutorial_helpers import widgets
from tutorial_helpers.callback_server import CallbackEntry, CallbackLog, CallbackServer
from tutorial_helpers.client import make_client
from tutorial_helpers.settings import Settings
from tutorial_helpers.widgets import (
    CallbackInspector,
    TaskStatusView,
    WorkerActivityControls,
    answer_text,
    status_path,
)


@pytest.fixture(autouse=True)
def cleanup():
    yield
    for widget in list(widgets._current.values()):
        widget.close()
    widgets._current.clear()
    server = CallbackServer.current()
    if server is not None:
        server.stop()


def entry(body=ACCEPT, content_type="application/json", status=200, valid=True, **params):
    return CallbackEntry(datetime.now(UTC), "POST", "/assignment_callback",
                         {"TaskSid": "WT1", **params}, valid, status, content_type, body)


def test_controls_click_moves_the_worker_through_the_sdk(taskrouter):
    tutorial = make_tutorial(taskrouter)
    controls = WorkerActivityControls(tutorial.client, tutorial.quickstart, poll=False)
    assert "tr-worker-controls" in controls._dom_classes
    rows = {c._dom_classes[0]: c for c in controls.children if c._dom_classes[:1] != () and
            c._dom_classes[0].startswith("tr-worker-")}
    assert set(rows) == {"tr-worker-alice", "tr-worker-bob"}
    alice = controls.buttons["Alice"]
    assert alice.options[:4] == ("Offline", "Idle", "Busy", "Reserved") and alice.value == "Offline"

    alice.value = "Idle"  # what a click does
    assert tutorial.worker("Alice").activity_name == "Idle"
    assert controls.labels["Alice"].value == "Alice is Idle (available)"

    # TaskRouter moves her itself when it reserves her; a refresh shows it without calling update.
    tutorial.spanish_task()
    assert controls.refresh()
    assert alice.value == "Reserved" and controls.labels["Alice"].value == "Alice is Reserved (not available)"
    assert tutorial.worker("Alice").activity_name == "Reserved"


def test_a_refused_click_is_explained_and_reverted(taskrouter):
    tutorial = make_tutorial(taskrouter)  # answers {}: the reservation stays pending
    controls = WorkerActivityControls(tutorial.client, tutorial.quickstart, poll=False)
    tutorial.spanish_task()
    controls.buttons["Alice"].value = "Idle"
    controls.refresh()
    assert controls.buttons["Alice"].value == "Reserved"
    controls.buttons["Alice"].value = "Offline"  # refused: she has a pending reservation
    assert controls.buttons["Alice"].value == "Reserved"
    assert "Could not move Alice to Offline" in controls.labels["Alice"].value
    assert "pending reservations" in controls.note.value  # the reason wraps under the rows


def test_autopilot_clicks_like_the_learner_and_only_from_offline(taskrouter):
    tutorial = make_tutorial(taskrouter)
    controls = WorkerActivityControls(tutorial.client, tutorial.quickstart, poll=False)
    assert tutorial.worker("Alice").activity_name == "Offline"
    assert controls.autopilot("Alice", "Idle") is True
    assert tutorial.worker("Alice").activity_name == "Idle" and controls.buttons["Alice"].value == "Idle"
    tutorial.set_activity("Alice", "Busy")
    assert controls.autopilot("Alice", "Idle") is False  # a re-run cell does not click again


def test_status_view_shows_the_path_to_assigned_and_alice_busy(taskrouter):
    tutorial = make_tutorial(taskrouter, callback_app(ACCEPT))
    task = tutorial.spanish_task()
    status = TaskStatusView(tutorial.client, tutorial.quickstart, task.sid, poll=False)
    assert "tr-task-status" in status._dom_classes
    assert "<span class='tr-assignment-status'>pending</span>" in status.html.value
    assert "<span class='tr-activity-alice'>Offline</span>" in status.html.value

    tutorial.set_activity("Alice", "Idle")
    wait_until(lambda: tutorial.worker("Alice").activity_name == "Busy", what="Alice Busy")
    assert status.refresh()
    html = status.html.value
    assert "<span class='tr-assignment-status'>assigned</span>" in html
    assert "<span class='tr-activity-alice'>Busy</span>" in html
    assert "<span class='tr-reservation-status'>accepted</span>" in html
    assert "pending → reserved → assigned" in html  # reserved lasted milliseconds; the events show it
    assert status.state["reserved_worker"] == "Alice"
    assert status.refresh() is False  # nothing changed since


def test_status_view_updates_from_its_thread(taskrouter):
    tutorial = make_tutorial(taskrouter, callback_app(ACCEPT))
    task = tutorial.spanish_task()
    status = TaskStatusView(tutorial.client, tutorial.quickstart, task.sid, interval=0.05)
    assert status.polling
    tutorial.set_activity("Alice", "Idle")
    # The task, its reservations and the workers are three reads: wait for a look that has all of them.
    wait_until(lambda: "<span class='tr-activity-alice'>Busy</span>" in status.html.value
               and "<span class='tr-assignment-status'>assigned</span>" in status.html.value, what="the thread")


def test_local_widgets_follow_the_event_feed_not_a_poll(taskrouter):
    """With a one-hour interval, only the local event feed can bring these widgets up to date in time."""
    tutorial = make_tutorial(taskrouter, callback_app(ACCEPT))
    task = tutorial.spanish_task()
    status = TaskStatusView(tutorial.client, tutorial.quickstart, task.sid, interval=3600)
    controls = WorkerActivityControls(tutorial.client, tutorial.quickstart, interval=3600)
    feed = widgets.EventFeed.for_workspace(tutorial.client, tutorial.quickstart.workspace_sid)
    assert feed is status._feed is controls._feed
    assert feed.connected.wait(5), "the widgets' feed is open"
    tutorial.set_activity("Alice", "Idle")
    wait_until(lambda: "<span class='tr-assignment-status'>assigned</span>" in status.html.value, what="the feed")
    wait_until(lambda: controls.buttons["Alice"].value == "Busy", what="the controls")
    status.close()
    controls.close()


def test_twilio_mode_with_a_stand_in_follows_the_local_feed(taskrouter):
    """Twilio mode polls, as against real Twilio, even when the local TaskRouter plays Twilio (TWILIO_API_BASE_URL)."""
    tutorial = make_tutorial(taskrouter, callback_app(ACCEPT))
    client = make_client(Settings("twilio", taskrouter.account_sid, taskrouter.auth_token, "ngrok-token",
                                  twilio_base_url=taskrouter.base_url))
    task = tutorial.spanish_task()
    status = TaskStatusView(client, tutorial.quickstart, task.sid)
    controls = WorkerActivityControls(client, tutorial.quickstart)
    assert widgets.EventFeed.for_workspace(client, tutorial.quickstart.workspace_sid) is None
    assert status._feed is None and controls._feed is None
    assert status._poller.interval == controls._poller.interval == widgets.TWILIO_INTERVAL
    assert not any(sid == tutorial.quickstart.workspace_sid for _url, sid in widgets.EventFeed._feeds)
    tutorial.set_activity("Alice", "Idle")
    wait_until(lambda: "<span class='tr-assignment-status'>assigned</span>" in status.html.value, what="a poll")
    wait_until(lambda: controls.buttons["Alice"].value == "Busy", what="the controls' poll")
    status.close()
    controls.close()


def test_polling_pauses_when_no_frontend_shows_the_widget(taskrouter, monkeypatch):
    tutorial = make_tutorial(taskrouter)
    monkeypatch.setattr(widgets.live, "FIRST_VIEW_GRACE", 0.0)
    task = tutorial.spanish_task()
    status = TaskStatusView(tutorial.client, tutorial.quickstart, task.sid, interval=0.02)
    assert status._view_count == 0 and not status._visible()
    status._view_count = 1  # what JupyterLab reports once the output renders
    assert status._visible()


def test_polling_stops_when_the_workspace_is_deleted(taskrouter):
    tutorial = make_tutorial(taskrouter)
    task = tutorial.spanish_task()
    status = TaskStatusView(tutorial.client, tutorial.quickstart, task.sid, interval=0.02)
    tutorial.ws.delete()
    wait_until(lambda: not status.polling, what="the poller to stop")
    assert "This workspace was deleted (start over): run notebook 01" in status.html.value
    assert "stopped watching" in status.html.value and "HTTP 404" not in status.html.value


def test_controls_after_start_over_say_what_to_do_in_words(taskrouter):
    """The worker list is a page the SDK fetches: its 404 is a bare TwilioException, not a REST error."""
    tutorial = make_tutorial(taskrouter)
    controls = WorkerActivityControls(tutorial.client, tutorial.quickstart, interval=0.02)
    tutorial.ws.delete()
    wait_until(lambda: not controls.polling, what="the poller to stop")
    assert "This workspace was deleted (start over): run notebook 01" in controls.note.value
    assert "Unable to fetch page" not in controls.note.value and "tr-error" in controls.note.value
    controls.buttons["Alice"].value = "Idle"  # a click after the reset
    assert controls.labels["Alice"].value == "Could not move Alice to Idle (why: below)."
    assert "run notebook 01 to build it again" in controls.note.value


def test_a_task_tidied_away_is_not_mistaken_for_a_deleted_workspace(taskrouter):
    tutorial = make_tutorial(taskrouter)
    task = tutorial.spanish_task()
    status = TaskStatusView(tutorial.client, tutorial.quickstart, task.sid, poll=False)
    tutorial.ws.tasks(task.sid).delete()
    with pytest.raises(TwilioRestException) as missing:
        status.refresh()
    text = widgets.explain(missing.value, tutorial.ws, "this task")
    assert text == "TaskRouter no longer has this task: run the notebook again from the cell that created it."


def test_every_live_widget_carries_the_restart_message_for_the_frontend(taskrouter):
    tutorial = make_tutorial(taskrouter)
    task = tutorial.spanish_task()
    made = [WorkerActivityControls(tutorial.client, tutorial.quickstart, poll=False),
            TaskStatusView(tutorial.client, tutorial.quickstart, task.sid, poll=False),
            CallbackInspector(CallbackLog())]
    for widget in made:
        assert "tr-live" in widget._dom_classes
        styles = [c.value for c in widget.children if isinstance(c, ipywidgets.HTML) and "<style>" in c.value]
        assert len(styles) == 1 and ".tr-live.jupyter-widgets-disconnected::after" in styles[0]
        assert "The kernel was restarted" in styles[0]


def test_a_rerun_replaces_the_previous_widget(taskrouter):
    tutorial = make_tutorial(taskrouter)
    task = tutorial.spanish_task()
    first = TaskStatusView(tutorial.client, tutorial.quickstart, task.sid, interval=0.05)
    second = TaskStatusView(tutorial.client, tutorial.quickstart, task.sid, interval=0.05)
    assert not first.polling and second.polling
    assert "replaced by the newer copy" in first.html.value

    log = CallbackLog()
    old, new = CallbackInspector(log), CallbackInspector(log)
    log.append(entry())
    assert "tr-callback-answer" in new.html.value and "tr-callback-answer" not in old.html.value


def test_inspector_shows_what_taskrouter_sent_and_what_we_answered(taskrouter):
    tutorial = make_tutorial(taskrouter, callback_app(ACCEPT))
    inspector = CallbackInspector(tutorial.server.log)
    assert "tr-callback-inspector" in inspector._dom_classes and "No callback yet" in inspector.html.value
    task = tutorial.spanish_task()
    tutorial.set_activity("Alice", "Idle")
    wait_until(lambda: "tr-callback-answer" in inspector.html.value, what="the inspector to update")
    html = inspector.html.value
    assert "<code class='tr-callback-answer'>{&quot;instruction&quot;: &quot;accept&quot;}</code>" in html
    assert task.sid in html and "ReservationSid" in html and "valid X-Twilio-Signature" in html
    assert "{&quot;selected_language&quot;: &quot;es&quot;}" in html  # attributes are escaped, not injected
    assert tutorial.settings.auth_token not in html


def test_inspector_explains_refused_requests_and_stops_following():
    log = CallbackLog()
    inspector = CallbackInspector(log, limit=1)
    log.append(entry(body='{"error": "missing or invalid X-Twilio-Signature"}', status=403, valid=False))
    assert "refused with 403, your route did not run" in inspector.html.value
    log.append(entry(TaskSid="<script>"))
    assert "&lt;script&gt;" in inspector.html.value and "1 earlier request" in inspector.html.value
    inspector.stop("done")
    log.append(entry(TaskSid="WT-after"))
    assert "WT-after" not in inspector.html.value


def test_inspector_for_a_task_hides_the_previous_runs_callbacks():
    log = CallbackLog()
    log.append(entry(TaskSid="WTold"))  # the same server, an earlier run of the notebook
    inspector = CallbackInspector(log, task_sid="WTnew")
    assert "(0 request(s))" in inspector.html.value and "No callback yet" in inspector.html.value
    assert "1 earlier request(s) about other tasks (an earlier run) are not shown" in inspector.html.value
    assert "WTold" not in inspector.html.value
    log.append(entry(TaskSid="WTnew"))
    assert "for task <code>WTnew</code> (1 request(s))" in inspector.html.value


def test_answer_text_normalises_json_only():
    assert answer_text(entry('{"instruction":"accept"}\n')) == '{"instruction": "accept"}'
    assert answer_text(entry("<html>", content_type="text/html")) == "<html>"
    assert answer_text(entry("{not json")) == "{not json"


def test_status_path_from_events_newest_first():
    def event(kind, ms):
        return SimpleNamespace(event_type=kind, event_date_ms=ms)

    events = [event("reservation.accepted", 5), event("reservation.created", 5), event("task.created", 1)]
    assert status_path(events, observed="assigned") == ["pending", "reserved", "assigned"]
    assert status_path([], observed="pending") == ["pending"]
