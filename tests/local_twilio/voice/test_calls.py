"""Calls through the official SDK: a call to a local number runs its Voice URL, TwiML verbs on the one
clock, <Enqueue workflowSid> makes the quickstart's Task, and every failure ends the call as Twilio does."""

import json

import pytest
from polling import wait_until
from twilio.base.exceptions import TwilioRestException
from twilio.twiml.voice_response import VoiceResponse

from tutorial_helpers.workspace import build_quickstart

NUMBER = "+12025550100"
CALLER = "+15551230000"
HOLD = "<Response><Pause length='3600'/></Response>"  # the caller's side stays on the line


def quickstart_pages(voice_app, workflow_sid: str) -> None:
    """Twilio's part 3, steps 2 and 3, as the notebook writes them."""
    incoming = VoiceResponse()
    with incoming.gather(numDigits=1, action="/enqueue_call", method="POST", timeout=5) as g:
        g.say("Para Español oprime el uno.", language="es")
        g.say("For English, please hold or press two.", language="en")
    voice_app.pages["/incoming_call"] = str(incoming)
    for digit, language in (("1", "es"), ("2", "en")):
        enqueue = VoiceResponse()
        with enqueue.enqueue(None, workflowSid=workflow_sid, action="/after_queue") as e:
            e.task(json.dumps({"selected_language": language}))
        voice_app.pages[f"/enqueue_call_{digit}"] = str(enqueue)


@pytest.fixture
def line(client, voice_app):
    """The number's Voice URL points at the app, as in Twilio's part 3, step 1."""
    client.incoming_phone_numbers.list(phone_number=NUMBER)[0].update(voice_url=voice_app.url("/incoming_call"))
    return client


def inbound(client):
    """The inbound call (the one running the number's Voice URL), once it exists."""
    return wait_until(lambda: [c for c in client.calls.list() if c.direction == "inbound"], what="the call")[0]


def heard(taskrouter, call_sid: str) -> list[str]:
    return [e["what"] for e in taskrouter.voice.transcript(call_sid)]


def test_press_one_and_the_spanish_task_waits_in_the_spanish_queue(line, voice_app, taskrouter):
    quickstart = build_quickstart(line)
    quickstart_pages(voice_app, quickstart.workflow_sid)
    # The app reads the digit with request.values: Gather POSTs it as a form field.
    voice_app.pages["/enqueue_call"] = voice_app.pages["/enqueue_call_1"]
    caller = line.calls.create(to=NUMBER, from_=CALLER, twiml=HOLD, send_digits="ww1")
    taskrouter.advance_clock(1)  # the two w's
    ws = line.taskrouter.v1.workspaces(quickstart.workspace_sid)
    [task] = wait_until(lambda: ws.tasks.list(), what="the Enqueue's task")
    attributes = json.loads(task.attributes)
    assert (task.assignment_status, task.task_queue_friendly_name, task.task_channel_unique_name) == (
        "pending", "Customer Care Requests - Spanish", "voice")
    callee = inbound(line)
    assert attributes["selected_language"] == "es" and attributes["call_sid"] == callee.sid
    assert (attributes["from"], attributes["to"], attributes["caller"], attributes["called"]) == (
        CALLER, NUMBER, CALLER, NUMBER)
    assert heard(taskrouter, callee.sid) == ["say", "say", "gather", "digits", "enqueue", "hold-music"]
    assert [r["path"] for r in voice_app.requests] == ["/incoming_call", "/enqueue_call"]
    assert voice_app.requests[1]["values"]["Digits"] == "1"
    assert line.calls(caller.sid).fetch().status == "in-progress"


def test_webhooks_carry_twilios_parameters_and_are_signed(line, voice_app, taskrouter):
    voice_app.pages["/incoming_call"] = "<Response><Say>Hi</Say></Response>"
    line.calls.create(to=NUMBER, from_=CALLER, twiml=HOLD)
    wait_until(lambda: voice_app.requests, what="the Voice URL request")
    first = voice_app.requests[0]
    assert first["signed"] and first["method"] == "POST"
    values = first["values"]
    for name in ("CallSid", "AccountSid", "From", "To", "CallStatus", "Direction", "ApiVersion", "Caller", "Called",
                 "FromCity", "FromState", "FromZip", "FromCountry", "ToCountry", "CalledZip"):
        assert name in values, name
    assert (values["From"], values["To"], values["Direction"], values["CallStatus"], values["ApiVersion"]) == (
        CALLER, NUMBER, "inbound", "in-progress", "2010-04-01")
    assert values["AccountSid"] == taskrouter.account_sid


def test_a_get_voice_url_is_signed_with_its_query(line, voice_app):
    line.incoming_phone_numbers.list(phone_number=NUMBER)[0].update(voice_method="GET")
    line.calls.create(to=NUMBER, from_=CALLER, twiml=HOLD)
    wait_until(lambda: voice_app.requests, what="the Voice URL request")
    assert voice_app.requests[0]["method"] == "GET" and voice_app.requests[0]["signed"]
    assert voice_app.requests[0]["values"]["CallSid"].startswith("CA")


def test_no_digits_means_no_request_and_the_next_verb_on_the_clock(line, voice_app, taskrouter):
    voice_app.pages["/incoming_call"] = (
        "<Response><Gather numDigits='1' action='/never' timeout='5'><Say>Press one</Say></Gather>"
        "<Say>We did not hear you</Say></Response>")
    caller = line.calls.create(to=NUMBER, from_=CALLER, twiml=HOLD)
    callee = inbound(line)
    wait_until(lambda: "gather" in heard(taskrouter, callee.sid), what="the Gather")
    taskrouter.advance_clock(5)
    assert heard(taskrouter, callee.sid) == ["say", "gather", "gather-timeout", "say", "hangup"]
    assert [r["path"] for r in voice_app.requests] == ["/incoming_call"]
    assert line.calls(callee.sid).fetch().status == "completed"
    assert line.calls(caller.sid).fetch().status == "completed"  # the other side hears the line end


def test_finish_on_key_ends_the_input_and_is_not_sent(line, voice_app, taskrouter):
    voice_app.pages["/incoming_call"] = "<Response><Gather action='/pin'/></Response>"
    voice_app.pages["/pin"] = "<Response><Say>Thanks</Say></Response>"
    line.calls.create(to=NUMBER, from_=CALLER, twiml=HOLD, send_digits="w1234#")
    taskrouter.advance_clock(1)
    wait_until(lambda: len(voice_app.requests) == 2, what="the action request")
    assert voice_app.requests[1]["values"]["Digits"] == "1234"
    assert voice_app.requests[1]["values"]["FinishedOnKey"] == "#"


@pytest.mark.paused_clock  # 9 s in, the 10 s Pause must not have ended
def test_pause_redirect_and_hangup_follow_the_clock(line, voice_app, taskrouter):
    voice_app.pages["/incoming_call"] = "<Response><Pause length='10'/><Redirect>/second</Redirect></Response>"
    voice_app.pages["/second"] = "<Response><Say>Second page</Say><Hangup/><Say>never</Say></Response>"
    line.calls.create(to=NUMBER, from_=CALLER, twiml=HOLD)
    callee = inbound(line)
    wait_until(lambda: "pause" in heard(taskrouter, callee.sid), what="the Pause")
    taskrouter.advance_clock(9)
    assert [r["path"] for r in voice_app.requests] == ["/incoming_call"]
    taskrouter.advance_clock(1)
    wait_until(lambda: line.calls(callee.sid).fetch().status == "completed", what="the hang-up")
    assert heard(taskrouter, callee.sid) == ["pause", "say", "hangup"]


def test_reject_busy_ends_the_call_busy(line, voice_app):
    voice_app.pages["/incoming_call"] = "<Response><Reject reason='busy'/></Response>"
    line.calls.create(to=NUMBER, from_=CALLER, twiml=HOLD)
    wait_until(lambda: [c.status for c in line.calls.list() if c.direction == "inbound"] == ["busy"],
               what="a busy call")


@pytest.mark.parametrize(("page", "code"), [
    ("not twiml at all", 12100),
    ("<Response><Dance/></Response>", 12200),
    ((500, "text/xml", "<Response/>"), 11200),
    ((200, "application/json", "{}"), 12300),
])
def test_a_failing_application_ends_the_call_with_the_error_message(line, voice_app, taskrouter, page, code):
    voice_app.pages["/incoming_call"] = page
    line.calls.create(to=NUMBER, from_=CALLER, twiml=HOLD)
    callee = inbound(line)
    transcript = wait_until(lambda: taskrouter.voice.transcript(callee.sid)[-1:] and
                            taskrouter.voice.transcript(callee.sid)[-1]["what"] == "hangup" and
                            taskrouter.voice.transcript(callee.sid), what="the call to end")
    assert [e["what"] for e in transcript] == ["error", "say", "hangup"]
    assert transcript[0]["code"] == code
    assert transcript[1]["text"] == "We are sorry, an application error has occurred. Goodbye."


def test_an_unreachable_voice_url_is_error_11200(line, taskrouter):
    line.incoming_phone_numbers.list(phone_number=NUMBER)[0].update(voice_url="http://127.0.0.1:9/incoming_call")
    line.calls.create(to=NUMBER, from_=CALLER, twiml=HOLD)
    callee = inbound(line)
    wait_until(lambda: line.calls(callee.sid).fetch().status == "completed", what="the call to end")
    assert taskrouter.voice.transcript(callee.sid)[0]["code"] == 11200


def test_hanging_up_while_queued_cancels_the_task_and_tells_the_enqueue_action(line, voice_app, taskrouter):
    quickstart = build_quickstart(line)
    quickstart_pages(voice_app, quickstart.workflow_sid)
    voice_app.pages["/enqueue_call"] = voice_app.pages["/enqueue_call_2"]
    caller = line.calls.create(to=NUMBER, from_=CALLER, twiml=HOLD, send_digits="2")
    ws = line.taskrouter.v1.workspaces(quickstart.workspace_sid)
    [task] = wait_until(lambda: ws.tasks.list(), what="the task")
    assert task.task_queue_friendly_name == "Customer Care Requests - English"
    taskrouter.advance_clock(30)
    line.calls(caller.sid).update(status="completed")
    canceled = ws.tasks(task.sid).fetch()
    assert (canceled.assignment_status, canceled.reason) == ("canceled", "The caller hung up")
    after = wait_until(lambda: [r for r in voice_app.requests if r["path"] == "/after_queue"], what="the action")
    assert after[0]["values"]["QueueResult"] == "hangup" and int(after[0]["values"]["QueueTime"]) >= 30
    assert line.calls(inbound(line).sid).fetch().status == "completed"


def test_a_call_to_a_number_nobody_answers_ends_no_answer(client, taskrouter):
    call = client.calls.create(to="+15559876543", from_=CALLER, twiml=HOLD, timeout=20)
    wait_until(lambda: client.calls(call.sid).fetch().status == "ringing", what="ringing")
    taskrouter.advance_clock(20)
    assert client.calls(call.sid).fetch().status == "no-answer"


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"to": NUMBER, "from_": "", "twiml": HOLD}, "To and From are required"),
    ({"to": "12345", "from_": CALLER, "twiml": HOLD}, "To must be a phone number in E.164"),
    ({"to": NUMBER, "from_": CALLER}, "Url or Twiml is required"),
    ({"to": NUMBER, "from_": CALLER, "twiml": "<Response><Dance/></Response>"}, "Twiml is not valid TwiML"),
    ({"to": NUMBER, "from_": CALLER, "twiml": HOLD, "send_digits": "12x"}, "SendDigits may hold"),
    ({"to": NUMBER, "from_": CALLER, "url": "ftp://example.com/x"}, "Url must be an absolute http(s) URL"),
])
def test_bad_calls_are_refused_with_the_reason(client, kwargs, words):
    with pytest.raises(TwilioRestException) as refused:
        client.calls.create(**kwargs)
    assert refused.value.status == 400 and words in refused.value.msg
    assert client.calls.list() == []


def test_an_ended_call_cannot_be_redirected_and_status_is_checked(client, taskrouter):
    call = client.calls.create(to="+15559876543", from_=CALLER, twiml=HOLD, timeout=1)
    with pytest.raises(TwilioRestException) as refused:
        client.calls(call.sid).update(status="ringing")
    assert "completed or canceled" in refused.value.msg
    taskrouter.advance_clock(1)
    wait_until(lambda: client.calls(call.sid).fetch().status == "no-answer", what="no answer")
    with pytest.raises(TwilioRestException) as ended:
        client.calls(call.sid).update(twiml=HOLD)
    assert "cannot be redirected" in ended.value.msg


def test_a_call_waits_in_the_queue_named_by_the_workflow_and_the_queue_counts_it(line, voice_app, taskrouter):
    quickstart = build_quickstart(line)
    quickstart_pages(voice_app, quickstart.workflow_sid)
    voice_app.pages["/enqueue_call"] = voice_app.pages["/enqueue_call_1"]
    caller = line.calls.create(to=NUMBER, from_=CALLER, twiml=HOLD, send_digits="1")
    queue = wait_until(lambda: [q for q in line.queues.list() if q.current_size == 1], what="a waiting call")[0]
    assert queue.friendly_name == quickstart.workflow_sid  # Twilio names it by the Workflow's SID
    taskrouter.advance_clock(40)
    assert line.queues(queue.sid).fetch().average_wait_time >= 40
    with pytest.raises(TwilioRestException) as busy:
        line.queues(queue.sid).delete()
    assert "calls are waiting" in busy.value.msg
    line.calls(caller.sid).update(status="completed")
    after = wait_until(lambda: [r for r in voice_app.requests if r["path"] == "/after_queue"], what="the action")
    assert after[0]["values"]["QueueSid"] == queue.sid
    assert line.queues(queue.sid).fetch().current_size == 0


def test_a_full_queue_sends_the_caller_to_the_action_with_queue_full(line, voice_app, taskrouter):
    line.queues.create(friendly_name="tiny", max_size=1)
    voice_app.pages["/incoming_call"] = "<Response><Enqueue action='/full'>tiny</Enqueue></Response>"
    voice_app.pages["/full"] = "<Response><Say>Sorry, all lines are busy.</Say></Response>"
    line.calls.create(to=NUMBER, from_=CALLER, twiml=HOLD)
    wait_until(lambda: line.queues.list()[0].current_size == 1, what="the first caller queued")
    line.calls.create(to="+12025550100", from_="+15551239999", twiml=HOLD)
    full = wait_until(lambda: [r for r in voice_app.requests if r["path"] == "/full"], what="queue-full")
    assert full[0]["values"]["QueueResult"] == "queue-full"


def test_the_wait_url_plays_while_queued_and_leave_goes_to_the_action(line, voice_app, taskrouter):
    quickstart = build_quickstart(line)
    voice_app.pages["/incoming_call"] = (
        f"<Response><Enqueue workflowSid='{quickstart.workflow_sid}' waitUrl='/hold' action='/left'>"
        "<Task>{\"selected_language\": \"es\"}</Task></Enqueue><Say>never</Say></Response>")
    voice_app.pages["/hold"] = "<Response><Say>Please hold</Say></Response>"
    voice_app.pages["/left"] = "<Response><Say>Goodbye</Say></Response>"
    line.calls.create(to=NUMBER, from_=CALLER, twiml=HOLD)
    first = wait_until(lambda: [r for r in voice_app.requests if r["path"] == "/hold"], what="the waitUrl")[0]
    assert (first["values"]["QueuePosition"], first["values"]["CurrentQueueSize"], first["values"]["QueueTime"]) == (
        "1", "1", "0")
    taskrouter.advance_clock(10)  # the document ended: asked again, on the clock
    again = wait_until(lambda: [r for r in voice_app.requests if r["path"] == "/hold"][1:], what="the second ask")
    assert int(again[0]["values"]["QueueTime"]) >= 10
    voice_app.pages["/hold"] = "<Response><Leave/></Response>"
    taskrouter.advance_clock(10)
    left = wait_until(lambda: [r for r in voice_app.requests if r["path"] == "/left"], what="the action")
    assert left[0]["values"]["QueueResult"] == "leave"
    callee = inbound(line)
    wait_until(lambda: line.calls(callee.sid).fetch().status == "completed", what="the end of the call")
    words = [e.get("text") for e in taskrouter.voice.transcript(callee.sid) if e["what"] == "say"]
    assert words == ["Please hold", "Please hold", "Goodbye"]  # not "never": the action's TwiML took over
    [task] = line.taskrouter.v1.workspaces(quickstart.workspace_sid).tasks.list()
    assert (task.assignment_status, task.reason) == ("canceled", "The caller left the queue")


def test_play_loops_and_the_task_takes_the_enqueues_priority_and_timeout(line, voice_app, taskrouter):
    quickstart = build_quickstart(line)
    voice_app.pages["/incoming_call"] = (
        "<Response><Play loop='2'>/welcome.mp3</Play>"
        f"<Enqueue workflowSid='{quickstart.workflow_sid}'><Task priority='7' timeout='300'>"
        "{\"selected_language\": \"en\"}</Task></Enqueue></Response>")
    line.calls.create(to=NUMBER, from_=CALLER, twiml=HOLD)
    ws = line.taskrouter.v1.workspaces(quickstart.workspace_sid)
    [task] = wait_until(lambda: ws.tasks.list(), what="the task")
    assert (task.priority, task.timeout) == (7, 300)
    plays = [e for e in taskrouter.voice.transcript(inbound(line).sid) if e["what"] == "play"]
    assert [e["url"] for e in plays] == [voice_app.url("/welcome.mp3")] * 2
    taskrouter.advance_clock(300)  # the Task's TTL: canceled while the caller still waits
    assert ws.tasks(task.sid).fetch().reason == "Task TTL Exceeded"


def test_calls_are_listed_newest_first_and_filtered(line, voice_app):
    voice_app.pages["/incoming_call"] = "<Response><Pause length='60'/></Response>"
    first = line.calls.create(to=NUMBER, from_=CALLER, twiml=HOLD)
    second = line.calls.create(to="+12025550101", from_="+15551239999", twiml=HOLD)
    assert [c.sid for c in line.calls.list(from_="+15551239999") if c.direction == "outbound-api"] == [second.sid]
    assert {c.to for c in line.calls.list(to=NUMBER)} == {NUMBER}
    wait_until(lambda: first.sid in [c.sid for c in line.calls.list(status="in-progress")], what="answered")
    assert line.calls.list(status="busy") == []
    outbound = [c.sid for c in line.calls.list() if c.direction == "outbound-api"]
    assert outbound == [second.sid, first.sid]


def test_a_call_moved_on_with_new_twiml_or_a_url(line, voice_app, taskrouter):
    voice_app.pages["/incoming_call"] = "<Response><Pause length='600'/></Response>"
    voice_app.pages["/moved"] = "<Response><Say>Moved by URL</Say></Response>"
    line.calls.create(to=NUMBER, from_=CALLER, twiml=HOLD)
    callee = inbound(line)
    wait_until(lambda: "pause" in heard(taskrouter, callee.sid), what="the Pause")
    line.calls(callee.sid).update(twiml="<Response><Say>Moved by TwiML</Say><Pause length='600'/></Response>")
    line.calls(callee.sid).update(url=voice_app.url("/moved"))
    wait_until(lambda: line.calls(callee.sid).fetch().status == "completed", what="the end")
    words = [e["text"] for e in taskrouter.voice.transcript(callee.sid) if e["what"] == "say"]
    assert words == ["Moved by TwiML", "Moved by URL"]
