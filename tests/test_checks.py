import pytest
import requests
from quickstart_support import ACCEPT, callback_app, local_settings, make_tutorial, wait_until

from tutorial_helpers.checks import (
    CheckResult,
    check_environment,
    check_step_02,
    check_step_03,
    check_workspace,
)
from tutorial_helpers.workspace import build_quickstart

pytestmark = pytest.mark.usefixtures("no_callback_server_left")


def test_result_reads_as_a_verdict():
    good = CheckResult(True, "step", "it worked.", ["Task WT1: assigned"])
    bad = CheckResult(False, "step", "not yet.", [], ["Click <Idle>."])
    assert good and not bad
    assert str(good).startswith("Correct (step): it worked.") and "Task WT1: assigned" in str(good)
    assert str(bad).startswith("Not yet (step)") and "What to look at: Click <Idle>." in str(bad)
    assert "tr-check-ok" in good._repr_html_() and "&lt;Idle&gt;" in bad._repr_html_()


def test_environment_check_in_local_mode(taskrouter):
    result = check_environment(local_settings(taskrouter))
    assert result.ok, str(result)
    assert taskrouter.auth_token not in str(result) + result._repr_html_()


def test_environment_check_names_refused_credentials(taskrouter):
    settings = local_settings(taskrouter)
    wrong = type(settings)("local", settings.account_sid, "wrong-token", None, settings.local_base_url)
    result = check_environment(wrong)
    assert not result.ok and "refused" in str(result)


def test_workspace_check(client):
    assert "no workspace named" in str(check_workspace(client))
    quickstart = build_quickstart(client, "http://127.0.0.1:1/assignment_callback")
    assert check_workspace(client), str(check_workspace(client))
    stale = check_workspace(client, callback_url="http://127.0.0.1:2/assignment_callback")
    assert not stale and "run the workflow cell again" in str(stale)

    ws = client.taskrouter.v1.workspaces(quickstart.workspace_sid)
    ws.update(multi_task_enabled=True)
    ws.task_queues(quickstart.queues["Spanish"]).update(target_workers="1==1")
    result = check_workspace(client)
    assert not result.ok
    assert "multi-tasking" in str(result) and "targets '1==1'" in str(result)


def test_step_02_walks_the_learner_through(taskrouter):
    tutorial = make_tutorial(taskrouter)  # the route answers {}
    task = tutorial.spanish_task()
    waiting = check_step_02(tutorial.client, tutorial.quickstart, task.sid, tutorial.server, timeout=0.2)
    assert not waiting and "Alice is still Offline" in waiting.message and "Click Idle" in str(waiting)

    tutorial.set_activity("Alice", "Idle")
    wait_until(lambda: len(tutorial.server.log) == 1, what="the callback")
    pending = check_step_02(tutorial.client, tutorial.quickstart, task.sid, tutorial.server, timeout=0.2)
    assert not pending and "accepts the reservation" in str(pending)

    reservation = tutorial.ws.tasks(task.sid).reservations.list()[0]
    tutorial.ws.tasks(task.sid).reservations(reservation.sid).update(reservation_status="accepted")
    done = check_step_02(tutorial.client, tutorial.quickstart, task.sid, tutorial.server)
    assert done.ok, str(done)
    assert "REST" in done.message and "Alice: Busy" in done.seen


def test_step_02_notices_when_the_callback_accepted_instead(taskrouter):
    tutorial = make_tutorial(taskrouter, callback_app(ACCEPT))
    task = tutorial.spanish_task()
    tutorial.set_activity("Alice", "Idle")
    wait_until(lambda: tutorial.worker("Alice").activity_name == "Busy", what="Alice Busy")
    result = check_step_02(tutorial.client, tutorial.quickstart, task.sid, tutorial.server)
    assert not result and "your callback accepted" in result.message


def test_step_03_passes_when_the_instruction_accepts(taskrouter):
    tutorial = make_tutorial(taskrouter, callback_app(ACCEPT))
    task = tutorial.spanish_task()
    tutorial.set_activity("Alice", "Idle")
    result = check_step_03(tutorial.client, tutorial.quickstart, task.sid, tutorial.server)
    assert result.ok, str(result)
    assert '{"instruction": "accept"}' in result.message
    assert any("signature valid" in line for line in result.seen)


@pytest.mark.parametrize(
    ("app", "expected"),
    [
        (callback_app("{}"), 'not {"instruction": "accept"}'),
        (callback_app(ACCEPT, mimetype="text/html"), "Content-Type 'text/html"),
        (callback_app(ACCEPT, status=500), "HTTP 500"),
    ],
    ids=["still-empty", "wrong-content-type", "server-error"],
)
def test_step_03_says_what_is_wrong_with_the_answer(taskrouter, app, expected):
    tutorial = make_tutorial(taskrouter, app)
    task = tutorial.spanish_task()
    tutorial.set_activity("Alice", "Idle")
    wait_until(lambda: len(tutorial.server.log) >= 1, what="the callback")
    result = check_step_03(tutorial.client, tutorial.quickstart, task.sid, tutorial.server, timeout=1)
    assert not result.ok
    assert expected in str(result)
    assert "put Alice Offline" in str(result)  # the reservation waits: how to start over


def test_step_03_local_alert_explains_a_wrong_content_type(taskrouter):
    tutorial = make_tutorial(taskrouter, callback_app(ACCEPT, mimetype="text/plain"))
    task = tutorial.spanish_task()
    tutorial.set_activity("Alice", "Idle")

    def alert_hint():
        result = check_step_03(tutorial.client, tutorial.quickstart, task.sid, tutorial.server, timeout=0)
        return str(result) if "The local TaskRouter recorded" in str(result) else None  # a failed check is falsy

    text = wait_until(alert_hint, what="the alert in the check's hints")
    assert text.startswith("Not yet") and "an instruction must be sent as application/json" in text


def test_step_03_without_a_callback_points_at_the_workflow_url(taskrouter):
    tutorial = make_tutorial(taskrouter, callback_app(ACCEPT))
    tutorial.ws.workflows(tutorial.quickstart.workflow_sid).update(assignment_callback_url="http://127.0.0.1:9/nope")
    task = tutorial.spanish_task()
    tutorial.set_activity("Alice", "Idle")
    result = check_step_03(tutorial.client, tutorial.quickstart, task.sid, tutorial.server, timeout=0.5)
    assert not result and "no callback has arrived" in result.message
    assert tutorial.server.url_for("/assignment_callback") in str(result)


def test_step_03_on_a_canceled_task(taskrouter):
    tutorial = make_tutorial(taskrouter, callback_app(ACCEPT))
    task = tutorial.spanish_task()
    tutorial.ws.tasks(task.sid).update(assignment_status="canceled", reason="tidy-up")
    result = check_step_03(tutorial.client, tutorial.quickstart, task.sid, tutorial.server, timeout=5)
    assert not result and "canceled" in result.message and "tidy-up" in str(result)


def test_forged_callback_is_refused_and_changes_nothing(taskrouter):
    tutorial = make_tutorial(taskrouter)  # answers {}: the reservation stays pending
    task = tutorial.spanish_task()
    tutorial.set_activity("Alice", "Idle")
    wait_until(lambda: len(tutorial.server.log) == 1, what="the real callback")
    reservation = tutorial.ws.tasks(task.sid).reservations.list()[0]

    def accept_through_rest():
        tutorial.ws.tasks(task.sid).reservations(reservation.sid).update(reservation_status="accepted")

    # A route with a side effect: only a request that really comes from TaskRouter may trigger it.
    app = callback_app(ACCEPT, side_effect=accept_through_rest)
    tutorial.serve(app)
    url = tutorial.server.url_for("/assignment_callback")
    forged = requests.post(url, data={"TaskSid": task.sid, "ReservationSid": reservation.sid},
                           headers={"X-Twilio-Signature": "Zm9yZ2Vk"}, timeout=5)
    assert forged.status_code == 403
    assert app.calls == 0
    assert tutorial.ws.tasks(task.sid).reservations(reservation.sid).fetch().reservation_status == "pending"
    assert tutorial.worker("Alice").activity_name == "Reserved"
    assert not tutorial.server.log.last().signature_valid
    result = check_step_03(tutorial.client, tutorial.quickstart, task.sid, tutorial.server, timeout=0)
    assert not result and "403" in str(result)
