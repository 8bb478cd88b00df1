"""The caller's phone: the object a notebook scripts and the widget's buttons are one path."""

import json

import pytest
from polling import wait_until
from twilio.twiml.voice_response import VoiceResponse

from tutorial_helpers.phone import Phone, PhoneError
from tutorial_helpers.settings import Settings
from tutorial_helpers.workspace import build_quickstart


@pytest.fixture
def local_settings(taskrouter) -> Settings:
    return Settings("local", taskrouter.account_sid, taskrouter.auth_token, None, taskrouter.base_url)


def answer_with_menu(client, app, workflow_sid: str, language: str) -> None:
    """/incoming_call's menu, and an /enqueue_call that always answers `language`; the number points at them."""
    incoming = VoiceResponse()
    with incoming.gather(numDigits=1, action="/enqueue_call", method="POST", timeout=5) as g:
        g.say("Para Español oprime el uno.", language="es")
    app.pages["/incoming_call"] = str(incoming)
    enqueue = VoiceResponse()
    with enqueue.enqueue(None, workflowSid=workflow_sid) as e:
        e.task(json.dumps({"selected_language": language}))
    app.pages["/enqueue_call"] = str(enqueue)
    client.incoming_phone_numbers.list(phone_number="+12025550100")[0].update(voice_url=app.url("/incoming_call"))


@pytest.fixture
def menu(client, taskrouter, voice_app_factory):
    """The quickstart's /incoming_call and /enqueue_call, on a number pointed at them."""
    quickstart = build_quickstart(client)
    answer_with_menu(client, voice_app_factory(), quickstart.workflow_sid, "es")
    return quickstart


def test_call_press_one_and_hang_up_through_the_phone_object(client, local_settings, menu):
    phone = Phone(client, local_settings, poll=False)
    caller = phone.autopilot("+12025550100", "1")
    task_sid = wait_until(caller.task_sid, what="the task")
    task = client.taskrouter.v1.workspaces(menu.workspace_sid).tasks(task_sid).fetch()
    assert task.task_queue_friendly_name == "Customer Care Requests - Spanish"
    phone.refresh()
    assert "you pressed <b>1</b>" in phone.screen.value and "queued as Task" in phone.screen.value
    assert phone.hang.disabled is False and phone.dial.disabled is True
    phone.hang_up()
    assert client.taskrouter.v1.workspaces(menu.workspace_sid).tasks(task_sid).fetch().assignment_status == "canceled"
    assert "call ended" in phone.screen.value and phone.dial.disabled is False


def test_the_keypad_buttons_are_the_same_path(client, local_settings, menu):
    phone = Phone(client, local_settings, "+12025550100", poll=False)
    phone.dial.click()
    wait_until(lambda: any(e["what"] == "gather" for e in phone.caller.state()["transcript"]), what="the menu")
    next(b for b in phone.children[1].children if b.description == "1").click()
    assert wait_until(phone.caller.task_sid, what="the task")


def test_mistakes_are_said_on_the_phone(client, local_settings, menu):
    phone = Phone(client, local_settings, poll=False)
    phone._press("1")
    assert "Not in a call: press Call first." in phone.screen.value
    phone._call()
    assert "Which number?" in phone.screen.value


def test_in_twilio_mode_the_panel_finds_the_task_a_real_call_made(client, local_settings, menu):
    """The local server plays Twilio here: the 'real phone' is a call made with the SDK."""
    twilio = Settings("twilio", local_settings.account_sid, local_settings.auth_token, "ngrok",
                      local_settings.local_base_url)
    phone = Phone(client, twilio, "+12025550100", workspace_sid=menu.workspace_sid, poll=False)
    assert "from a real phone" in phone.screen.value and len(phone.children) == 2  # no keypad
    with pytest.raises(PhoneError, match="real phone"):
        phone.call("+12025550100")
    assert phone.find_caller() is None
    real = client.calls.create(to="+12025550100", from_="+15557654321", send_digits="1",
                               twiml="<Response><Pause length='600'/></Response>")
    caller = wait_until(phone.find_caller, what="the panel to find the call's task")
    assert caller.from_ == "+15557654321" and caller.task_sid()
    assert caller.sid != real.sid  # the task names the inbound call, the one that ran the menu
    phone.hang_up()
    ws = client.taskrouter.v1.workspaces(menu.workspace_sid)
    assert ws.tasks(caller.task_sid()).fetch().assignment_status == "canceled"


def test_the_check_names_the_request_args_trap_and_a_missing_digit(client, local_settings, menu, voice_app_factory,
                                                                    taskrouter):
    from tutorial_helpers.checks import check_step_04

    phone = Phone(client, local_settings, "+12025550100", poll=False)
    assert "there is no call yet" in str(check_step_04(client, menu, phone, timeout=0))
    # The trap: request.args is empty for a POST, so every caller lands in English.
    answer_with_menu(client, voice_app_factory(), menu.workflow_sid, "en")
    phone.autopilot("+12025550100", "1")
    wait_until(phone.caller.task_sid, what="the task")
    result = check_step_04(client, menu, phone, timeout=1)
    assert not result and "not the Spanish queue" in str(result) and "request.values" in str(result)
    phone.hang_up()
    silent = Phone(client, local_settings, "+12025550100", poll=False)
    silent.call()
    wait_until(lambda: any(e["what"] == "gather" for e in silent.caller.state()["transcript"]), what="the menu")
    taskrouter.advance_clock(5)  # the menu's Gather times out with no key pressed
    result = check_step_04(client, menu, silent, timeout=1)
    assert not result and "no digit was received" in str(result)
