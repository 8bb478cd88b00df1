"""Alice's softphone and notebook 05's check: the widget's buttons, the scripted calls and the headless
autopilot are one path, and the check names what went wrong at each point of the dequeue."""

import json
import threading

import pytest
from polling import wait_until
from test_phone import answer_with_menu

from tutorial_helpers.checks import check_step_05
from tutorial_helpers.headless import add_autopilot
from tutorial_helpers.pause import YourTurn, pause_for_answer
from tutorial_helpers.phone import Phone, PhoneError
from tutorial_helpers.settings import Settings
from tutorial_helpers.softphone import LOCAL_ADDRESS, Softphone
from tutorial_helpers.workspace import build_quickstart

NUMBER = "+12025550100"


@pytest.fixture
def local_settings(taskrouter) -> Settings:
    return Settings("local", taskrouter.account_sid, taskrouter.auth_token, None, taskrouter.base_url)


class Dequeue:
    """Notebook 05's world: the menu, Alice's softphone as her contact_uri, an app answering `answer`."""

    def __init__(self, client, settings, app, answer: dict | None = None):
        self.client = client
        self.qs = build_quickstart(client, assignment_callback_url=app.url("/assignment"))
        self.ws = client.taskrouter.v1.workspaces(self.qs.workspace_sid)
        self.wrap_up = self.ws.activities.create(friendly_name="WrapUp", available=False).sid
        answer_with_menu(client, app, self.qs.workflow_sid, "es")
        self.alice_phone = Softphone(client, settings, poll=False)
        self.ws.workers(self.qs.workers["Alice"]).update(
            activity_sid=self.qs.activities["Offline"],
            attributes=json.dumps({"languages": ["en", "es"], "contact_uri": self.alice_phone.address}))
        body = answer or {"instruction": "dequeue", "from": NUMBER, "post_work_activity_sid": self.wrap_up}
        app.pages["/assignment"] = (200, "application/json", json.dumps(body))
        self.phone = Phone(client, settings, NUMBER, workspace_sid=self.qs.workspace_sid, poll=False)

    def call_and_wait(self) -> str:
        caller = self.phone.autopilot(NUMBER, "1")
        return wait_until(caller.task_sid, what="the Task")

    def alice(self, activity: str) -> None:
        self.ws.workers(self.qs.workers["Alice"]).update(activity_sid=self.qs.activities[activity])

    def check(self, **kwargs):
        return check_step_05(self.client, self.qs, self.phone, self.alice_phone, timeout=1.0, **kwargs)


@pytest.fixture
def scene(client, local_settings, voice_app_factory):
    return Dequeue(client, local_settings, voice_app_factory())


def test_the_buttons_answer_and_hang_up_and_the_screen_follows(scene):
    phone = scene.alice_phone
    assert phone.address == LOCAL_ADDRESS and "waiting for a call" in phone.screen.value
    assert phone.answer_button.disabled and phone.hang_button.disabled
    task_sid = scene.call_and_wait()
    scene.alice("Idle")
    wait_until(lambda: phone.current("ringing"), what="Alice's phone ringing")
    phone.refresh()
    assert "ringing" in phone.screen.value and f"call from <b>{NUMBER}</b>" in phone.screen.value
    assert "selected_language" in phone.screen.value and task_sid in phone.screen.value
    assert not phone.answer_button.disabled and phone.hang_button.disabled
    phone.answer_button.click()
    assert "talking" in phone.screen.value and "+15551230000" in phone.screen.value
    assert scene.ws.tasks(task_sid).fetch().assignment_status == "assigned"
    phone.hang_button.click()
    assert scene.ws.tasks(task_sid).fetch().assignment_status == "wrapping"
    assert "last call: completed" in phone.screen.value and phone.hang_button.disabled


def test_decline_leaves_the_caller_waiting_and_the_check_says_so(scene):
    task_sid = scene.call_and_wait()
    scene.alice("Idle")
    wait_until(lambda: scene.alice_phone.current("ringing"), what="Alice's phone ringing")
    ringing = scene.check()
    assert not ringing and "ringing: answer it" in ringing.message
    scene.alice_phone.decline_button.click()
    assert scene.ws.tasks(task_sid).fetch().assignment_status == "pending"
    result = scene.check()
    assert not result and "waiting for a worker" in result.message


def test_autopilot_answers_the_next_call_that_rings(client, local_settings, voice_app_factory):
    scene = Dequeue(client, local_settings, voice_app_factory())
    phone = Softphone(client, local_settings)  # polling, as in the notebook
    try:
        phone.autopilot()
        task_sid = scene.call_and_wait()
        scene.alice("Idle")
        wait_until(lambda: scene.ws.tasks(task_sid).fetch().assignment_status == "assigned", what="the answer")
        pause_for_answer(phone)  # answered: carries on
    finally:
        phone.close()


def test_pause_for_answer_waits_for_a_ring_that_has_not_arrived_yet(client, local_settings, voice_app_factory):
    """The CI failure of 2026-11-30: on a loaded machine the pause cell ran before the click on Idle had
    reached Alice's phone (reservation, dequeue answer, call), found no call and stopped Run All."""
    scene = Dequeue(client, local_settings, voice_app_factory())
    phone = Softphone(client, local_settings)  # polling, as in the notebook
    try:
        phone.autopilot()
        scene.call_and_wait()
        later = threading.Timer(1.0, scene.alice, args=("Idle",))  # the ring is still a second away
        later.start()
        try:
            assert phone.current() is None
            pause_for_answer(phone, wait=15)  # carries on once the ring arrives and is answered
        finally:
            later.join()
        assert phone.current()["bridged"]
    finally:
        phone.close()


def test_pause_for_answer_stops_run_all_while_nothing_is_answered(scene):
    with pytest.raises(YourTurn):
        pause_for_answer(scene.alice_phone, wait=0.2)
    scene.call_and_wait()
    scene.alice("Idle")
    wait_until(lambda: scene.alice_phone.current("ringing"), what="Alice's phone ringing")
    with pytest.raises(YourTurn, match="answer Alice's phone"):
        pause_for_answer(scene.alice_phone, wait=0.2)


def test_the_whole_step_is_correct(scene):
    assert "no Task from a call" in scene.check().message
    task_sid = scene.call_and_wait()
    assert "Alice is Offline" in scene.check().message
    scene.alice("Idle")
    scene.alice_phone.answer(wait=5)
    assert "now hang up" in scene.check().message
    scene.phone.hang_up()
    result = scene.check()
    assert result, result
    assert "moved her to WrapUp" in result.message and task_sid in str(result)


def test_a_refused_dequeue_is_named_with_its_code(client, local_settings, voice_app_factory):
    answer = {"instruction": "dequeue", "from": "+15556667777"}  # the quickstart's placeholder, not the account's
    scene = Dequeue(client, local_settings, voice_app_factory(), answer=answer)
    scene.call_and_wait()
    scene.alice("Idle")
    wait_until(lambda: "error 40132" in scene.check().message, what="the refusal")
    result = scene.check()
    assert "not a phone number of this account" in str(result)
    assert "'from' must be a phone number of your account" in str(result)


def test_no_contact_uri_is_named(scene):
    scene.call_and_wait()
    scene.ws.workers(scene.qs.workers["Alice"]).update(attributes=json.dumps({"languages": ["en", "es"]}))
    assert "no contact_uri" in scene.check().message


def test_post_work_activity_missing_is_named(client, local_settings, voice_app_factory):
    scene = Dequeue(client, local_settings, voice_app_factory(), answer={"instruction": "dequeue", "from": NUMBER})
    scene.call_and_wait()
    scene.alice("Idle")
    scene.alice_phone.answer(wait=5)
    scene.phone.hang_up()
    wait_until(lambda: "Busy, not WrapUp" in scene.check().message, what="the verdict")
    assert "post_work_activity_sid" in str(scene.check())


@pytest.fixture
def dot_env(tmp_path, monkeypatch):
    """The .env the settings read: in the working directory (the notebook's folder), none in the project."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("tutorial_helpers.settings.REPO_ROOT", tmp_path / "no-repo")
    return tmp_path / ".env"


@pytest.mark.usefixtures("dot_env")
def test_twilio_mode_needs_the_learners_own_phone(client, monkeypatch):
    real = Settings("twilio", "AC" + "1" * 32, "token", "ngrok")
    monkeypatch.delenv("ALICE_PHONE_NUMBER", raising=False)
    with pytest.raises(PhoneError, match="ALICE_PHONE_NUMBER"):
        Softphone(client, real)
    monkeypatch.setenv("ALICE_PHONE_NUMBER", "+15551234567")
    phone = Softphone(client, real)
    assert phone.address == "+15551234567" and "answer it there" in phone.screen.value
    with pytest.raises(PhoneError, match="real phone"):
        phone.answer()


def test_twilio_mode_finds_the_learners_phone_in_dot_env(client, monkeypatch, dot_env):
    """Where the error message (and the README, and notebook 05) say to put it: the next run finds it."""
    real = Settings("twilio", "AC" + "1" * 32, "token", "ngrok")
    monkeypatch.delenv("ALICE_PHONE_NUMBER", raising=False)
    with pytest.raises(PhoneError, match=r"set ALICE_PHONE_NUMBER .* in \.env"):
        Softphone(client, real)
    dot_env.write_text("ALICE_PHONE_NUMBER=+15551234567\n")
    phone = Softphone(client, real)
    assert phone.address == "+15551234567" and "answer it there" in phone.screen.value


def test_headless_runs_answer_alices_phone(tmp_path):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(cells=[new_code_cell("alice_phone = Softphone(client, settings, name='Alice')")])
    assert add_autopilot(nb) == 1
    assert nb.cells[1].source.startswith("alice_phone.autopilot()")
    assert nbformat.writes(nb)
