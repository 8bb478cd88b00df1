"""Voice instructions through the official SDK and real HTTP: dequeue, call, redirect and conference, each
ending (answered, declined, not answered, the caller hanging up while it rings or while bridged), each refusal
with Twilio's code. Every scene is the quickstart's part 3: a caller waits in <Enqueue workflowSid>, Alice
goes Idle, the assignment callback answers with an instruction."""

import json

import pytest
from polling import wait_until
from twilio.base.exceptions import TwilioRestException

from tutorial_helpers.workspace import build_quickstart

NUMBER = "+12025550100"  # the number the customer calls
ALICE_NUMBER = "+12025550101"  # a second local number, for "Alice's phone is a number whose TwiML answers"
CALLER = "+15551230000"
ALICE = "client:alice"
HOLD = "<Response><Pause length='3600'/></Response>"


def json_answer(body: dict) -> tuple:
    return (200, "application/json", json.dumps(body))


class Scene:
    """Part 3 of the quickstart, set up through the SDK, with Alice's softphone registered."""

    def __init__(self, client, taskrouter, http, app, contact_uri: str = ALICE):
        self.client, self.taskrouter, self.http, self.app = client, taskrouter, http, app
        self.qs = build_quickstart(client, assignment_callback_url=app.url("/assignment"))
        self.ws = client.taskrouter.v1.workspaces(self.qs.workspace_sid)
        self.wrap_up = self.ws.activities.create(friendly_name="WrapUp", available=False).sid
        self.ws.workers(self.alice).update(
            activity_sid=self.qs.activities["Offline"],
            attributes=json.dumps({"languages": ["en", "es"], "contact_uri": contact_uri}))
        app.pages["/incoming_call"] = (
            f"<Response><Enqueue workflowSid='{self.qs.workflow_sid}' action='/after_queue'>"
            "<Task>{\"selected_language\": \"es\"}</Task></Enqueue></Response>")
        app.pages["/after_queue"] = "<Response><Say>Thank you for calling.</Say></Response>"
        client.incoming_phone_numbers.list(phone_number=NUMBER)[0].update(voice_url=app.url("/incoming_call"))
        assert http.post("/_local/Softphones", data={"Address": ALICE}).status_code == 201

    @property
    def alice(self) -> str:
        return self.qs.workers["Alice"]

    def call_in(self) -> tuple[str, str, str]:
        """The customer calls and waits: (their handset's call, the inbound call in the queue, its Task)."""
        handset = self.client.calls.create(to=NUMBER, from_=CALLER, twiml=HOLD).sid
        [task] = wait_until(lambda: self.ws.tasks.list(), what="the Enqueue's task")
        inbound = json.loads(task.attributes)["call_sid"]
        assert task.assignment_status == "pending"
        return handset, inbound, task.sid

    def alice_idle(self) -> str:
        """Alice goes Idle: the reservation, and the assignment callback's answer carried out."""
        self.ws.workers(self.alice).update(activity_sid=self.qs.activities["Idle"])
        wait_until(lambda: [r for r in self.app.requests if r["path"] == "/assignment"], what="the callback")
        assert self.taskrouter.wait_for_callbacks()
        return [r for r in self.app.requests if r["path"] == "/assignment"][-1]["values"]["ReservationSid"]

    def until_alice_rings(self, answer: tuple) -> tuple[str, str, str, str, str]:
        """The callback answers `answer`; a customer calls and waits, Alice goes Idle, her phone rings.
        Returns the customer's two calls, the Task, the reservation and the call ringing Alice."""
        self.app.pages["/assignment"] = answer
        handset, inbound, task_sid = self.call_in()
        res_sid = self.alice_idle()
        return handset, inbound, task_sid, res_sid, self.ringing()["call_sid"]

    def ringing(self, address: str = ALICE) -> dict:
        view = wait_until(lambda: [c for c in self.phone(address)["calls"] if c["status"] == "ringing"],
                          what=f"{address} ringing")
        return view[0]

    def phone(self, address: str = ALICE) -> dict:
        return self.http.ok("GET", f"/_local/Softphones/{address}")

    def press(self, call_sid: str, button: str) -> dict:
        return self.http.ok("POST", f"/_local/Calls/{call_sid}/{button}")

    def status(self, task_sid: str, res_sid: str) -> tuple[str, str, str]:
        task = self.ws.tasks(task_sid).fetch()
        res = self.ws.tasks(task_sid).reservations(res_sid).fetch()
        return task.assignment_status, res.reservation_status, self.activity()

    def activity(self) -> str:
        return self.ws.workers(self.alice).fetch().activity_name

    def call(self, sid: str) -> str:
        return self.client.calls(sid).fetch().status

    def heard(self, sid: str) -> list[str]:
        return [e["what"] for e in self.taskrouter.voice.transcript(sid)]

    def events(self, task_sid: str) -> list[str]:
        """The Task's and its reservations' events, oldest first (routing events left out)."""
        return [e.event_type for e in reversed(self.ws.events.list(task_sid=task_sid))
                if e.event_type.startswith(("task.", "reservation."))]

    def requests(self, path: str) -> list[dict]:
        return [r for r in self.app.requests if r["path"] == path]


@pytest.fixture
def scene(client, taskrouter, http, voice_app):
    return Scene(client, taskrouter, http, voice_app)


def dequeue(scene: Scene, **extra) -> dict:
    return json_answer({"instruction": "dequeue", "from": NUMBER, "post_work_activity_sid": scene.wrap_up, **extra})


# ---------------------------------------------------------------------------- dequeue: the quickstart's ending


def test_dequeue_rings_alice_and_bridges_her_when_she_answers(scene):
    scene.app.pages["/assignment"] = dequeue(scene, status_callback_url=scene.app.url("/leg_status"),
                                             status_callback_events="initiated,ringing,answered,completed")
    handset, inbound, task_sid = scene.call_in()
    res_sid = scene.alice_idle()
    ringing = scene.ringing()
    # While her phone rings the reservation waits; the caller still hears hold music.
    assert scene.status(task_sid, res_sid) == ("reserved", "pending", "Reserved")
    assert (ringing["from"], ringing["to"], ringing["instruction"]) == (NUMBER, ALICE, "dequeue")
    assert ringing["task"]["sid"] == task_sid and json.loads(ringing["task"]["attributes"])["selected_language"] == "es"
    assert ringing["caller"]["from"] == CALLER
    leg = ringing["call_sid"]

    scene.press(leg, "Answer")
    assert scene.status(task_sid, res_sid) == ("assigned", "accepted", "Busy")
    assert scene.call(leg) == "in-progress" and scene.call(inbound) == "in-progress"
    assert scene.heard(inbound)[-1] == "bridged" and scene.heard(leg)[-1] == "bridged"
    assert scene.phone()["calls"][0]["bridged"] and scene.phone()["calls"][0]["caller"]["bridged"]

    scene.client.calls(handset).update(status="completed")  # the customer hangs up
    assert (scene.call(handset), scene.call(inbound), scene.call(leg)) == ("completed", "completed", "completed")
    assert scene.status(task_sid, res_sid) == ("wrapping", "wrapping", "WrapUp")
    assert scene.events(task_sid) == [
        "task.created", "reservation.created", "reservation.accepted", "reservation.wrapup", "task.wrapup"]

    after = wait_until(lambda: scene.requests("/after_queue"), what="the Enqueue action")
    assert after[0]["values"]["QueueResult"] == "bridged" and after[0]["signed"]
    progress = wait_until(lambda: len(scene.requests("/leg_status")) == 4 and scene.requests("/leg_status"),
                          what="four status callbacks")
    assert [r["values"]["CallStatus"] for r in progress] == ["initiated", "ringing", "in-progress", "completed"]
    assert all(r["signed"] and r["values"]["CallSid"] == leg for r in progress)
    assert [r["values"]["SequenceNumber"] for r in progress] == ["0", "1", "2", "3"]

    scene.ws.tasks(task_sid).update(assignment_status="completed", reason="call handled")
    assert scene.status(task_sid, res_sid)[:2] == ("completed", "completed")


def test_alice_hangs_up_first_and_the_caller_goes_on_to_the_enqueue_action(scene):
    handset, inbound, task_sid, res_sid, leg = scene.until_alice_rings(dequeue(scene))
    scene.press(leg, "Answer")
    scene.client.calls(leg).update(status="completed")
    # The caller's call asks the action what next (QueueResult=bridged), which thanks them and ends.
    wait_until(lambda: scene.call(inbound) == "completed", what="the caller's call to end")
    assert scene.heard(inbound)[-4:] == ["bridged", "unbridged", "say", "hangup"]
    assert scene.requests("/after_queue")[0]["values"]["QueueResult"] == "bridged"
    assert scene.status(task_sid, res_sid) == ("wrapping", "wrapping", "WrapUp")


def test_without_post_work_activity_alice_stays_in_the_assignment_activity(scene):
    answer = json_answer({"instruction": "dequeue", "from": NUMBER})
    handset, inbound, task_sid, res_sid, leg = scene.until_alice_rings(answer)
    scene.press(leg, "Answer")
    scene.client.calls(handset).update(status="completed")
    assert scene.status(task_sid, res_sid) == ("wrapping", "wrapping", "Busy")


def test_declined_the_reservation_is_rejected_and_the_caller_keeps_waiting(scene):
    handset, inbound, task_sid, res_sid, leg = scene.until_alice_rings(dequeue(scene))
    scene.press(leg, "Decline")
    assert scene.call(leg) == "busy"
    assert scene.status(task_sid, res_sid) == ("pending", "rejected", "Idle")
    assert scene.call(inbound) == "in-progress" and scene.heard(inbound)[-1] == "hold-music"
    assert scene.events(task_sid) == ["task.created", "reservation.created", "reservation.rejected"]


@pytest.mark.paused_clock  # 19 s in, the 20 s ring must not have ended
def test_not_answered_the_reservation_times_out_and_alice_goes_offline(scene):
    handset, inbound, task_sid, res_sid, leg = scene.until_alice_rings(dequeue(scene, timeout=20))
    scene.taskrouter.advance_clock(19)
    assert scene.call(leg) == "ringing"
    scene.taskrouter.advance_clock(1)
    assert scene.call(leg) == "no-answer"
    assert scene.status(task_sid, res_sid) == ("pending", "timeout", "Offline")  # the workspace's TimeoutActivity
    assert scene.call(inbound) == "in-progress"
    assert scene.events(task_sid) == ["task.created", "reservation.created", "reservation.timeout"]


def test_the_reservation_times_out_first_and_the_phone_stops_ringing(client, taskrouter, http, voice_app):
    scene = Scene(client, taskrouter, http, voice_app)
    scene.ws.workflows(scene.qs.workflow_sid).update(task_reservation_timeout=30)
    handset, inbound, task_sid, res_sid, leg = scene.until_alice_rings(dequeue(scene, timeout=60))
    scene.taskrouter.advance_clock(30)
    assert scene.call(leg) == "canceled"
    assert scene.status(task_sid, res_sid) == ("pending", "timeout", "Offline")


def test_the_caller_hangs_up_while_alice_rings(scene):
    handset, inbound, task_sid, res_sid, leg = scene.until_alice_rings(dequeue(scene))
    scene.client.calls(handset).update(status="completed")
    assert scene.call(leg) == "canceled"
    assert scene.status(task_sid, res_sid) == ("canceled", "canceled", "Idle")
    assert scene.events(task_sid) == ["task.created", "reservation.created", "reservation.canceled",
                                      "task.canceled"]
    with pytest.raises(AssertionError):
        scene.press(leg, "Answer")  # nothing rings there any more


def test_a_number_nobody_answers_rings_out(client, taskrouter, http, voice_app):
    scene = Scene(client, taskrouter, http, voice_app, contact_uri="+15557654321")
    scene.app.pages["/assignment"] = dequeue(scene)
    handset, inbound, task_sid = scene.call_in()
    res_sid = scene.alice_idle()
    [leg] = [c.sid for c in client.calls.list(to="+15557654321")]
    assert scene.call(leg) == "ringing"
    assert http.post(f"/_local/Calls/{leg}/Answer").json()["message"].startswith("no softphone")
    scene.taskrouter.advance_clock(60)
    assert scene.call(leg) == "no-answer"
    assert scene.status(task_sid, res_sid) == ("pending", "timeout", "Offline")


def test_alices_contact_uri_can_be_a_local_number_whose_twiml_answers(client, taskrouter, http, voice_app):
    """The whole dequeue with the SDK alone: Alice's 'phone' is a number that answers and talks for 5 seconds."""
    scene = Scene(client, taskrouter, http, voice_app, contact_uri=ALICE_NUMBER)
    client.incoming_phone_numbers.list(phone_number=ALICE_NUMBER)[0].update(voice_url=voice_app.url("/alice"))
    voice_app.pages["/alice"] = "<Response><Say>Hola, soy Alice.</Say><Pause length='5'/></Response>"
    scene.app.pages["/assignment"] = dequeue(scene)
    handset, inbound, task_sid = scene.call_in()
    res_sid = scene.alice_idle()
    wait_until(lambda: scene.status(task_sid, res_sid)[1] == "accepted", what="the bridge")
    [leg] = [c for c in client.calls.list(to=ALICE_NUMBER) if c.direction == "outbound-api"]
    assert (leg.from_formatted or leg.from_) and scene.call(leg.sid) == "in-progress"
    wait_until(lambda: "pause" in scene.heard([c.sid for c in client.calls.list(to=ALICE_NUMBER)
                                               if c.direction == "inbound"][0]), what="Alice's greeting")
    scene.taskrouter.advance_clock(5)  # her TwiML ends: she hangs up, the caller goes on to the action
    wait_until(lambda: scene.call(inbound) == "completed", what="the caller's call to end")
    assert scene.status(task_sid, res_sid) == ("wrapping", "wrapping", "WrapUp")


def test_dequeue_through_the_reservation_rest_update(scene):
    handset, inbound, task_sid = scene.call_in()
    res_sid = scene.alice_idle()  # the default answer here is <Hangup/> TwiML: not JSON, nothing done
    reservation = scene.ws.tasks(task_sid).reservations(res_sid).update(
        instruction="dequeue", dequeue_from=NUMBER, dequeue_post_work_activity_sid=scene.wrap_up,
        dequeue_status_callback_event=["answered", "completed"],
        dequeue_status_callback_url=scene.app.url("/leg_status"))
    assert reservation.reservation_status == "pending"
    leg = scene.ringing()["call_sid"]
    scene.press(leg, "Answer")
    scene.client.calls(leg).update(status="completed")
    assert scene.status(task_sid, res_sid) == ("wrapping", "wrapping", "WrapUp")
    progress = wait_until(lambda: len(scene.requests("/leg_status")) == 2 and scene.requests("/leg_status"),
                          what="two status callbacks")
    assert [r["values"]["CallStatus"] for r in progress] == ["in-progress", "completed"]


# ---------------------------------------------------------------------------- refusals, with Twilio's codes

REFUSALS = [
    # (id, REST parameters, callback JSON, code, words)
    ("no from", {"dequeue_to": ALICE}, {"to": ALICE}, 40132, "'from' is required"),
    ("from not owned, to a phone", {"dequeue_from": "+15556667777", "dequeue_to": "+15557654321"},
     {"from": "+15556667777", "to": "+15557654321"}, 40132, "not a phone number of this account"),
    ("bad to", {"dequeue_from": NUMBER, "dequeue_to": "alice"}, {"from": NUMBER, "to": "alice"}, 40131, "E.164"),
    ("bad post-work activity", {"dequeue_from": NUMBER, "dequeue_post_work_activity_sid": "WA" + "0" * 32},
     {"from": NUMBER, "post_work_activity_sid": "WA" + "0" * 32}, 40130, "not an Activity"),
    ("bad status events", {"dequeue_from": NUMBER, "dequeue_status_callback_url": "http://127.0.0.1:9/s",
                           "dequeue_status_callback_event": ["answered", "picked-up"]},
     {"from": NUMBER, "status_callback_url": "http://127.0.0.1:9/s", "status_callback_events": "answered,picked-up"},
     40134, "picked-up"),
    ("bad status url", {"dequeue_from": NUMBER, "dequeue_status_callback_url": "not a url"},
     {"from": NUMBER, "status_callback_url": "not a url"}, 40157, "http(s) URL"),
    # The one webhook URL rule of every API (local_twilio/validators.py): no such port.
    ("status url with no such port", {"dequeue_from": NUMBER, "dequeue_status_callback_url": "http://127.0.0.1:99999/s"},
     {"from": NUMBER, "status_callback_url": "http://127.0.0.1:99999/s"}, 40157, "http(s) URL"),
    ("bad timeout", {"dequeue_from": NUMBER, "dequeue_timeout": 0}, {"from": NUMBER, "timeout": 0}, 40133, "timeout"),
]


@pytest.mark.parametrize(("rest", "answer", "code", "words"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_a_refused_dequeue_changes_nothing(scene, http, rest, answer, code, words):
    scene.app.pages["/assignment"] = json_answer({"instruction": "dequeue", **answer})
    handset, inbound, task_sid = scene.call_in()
    res_sid = scene.alice_idle()
    # Through the callback: an alert with the code, and nothing else happened.
    [alert] = http.ok("GET", "/_local/Alerts")["alerts"]
    assert alert["error_code"] == str(code) and words in alert["alert_text"], alert
    # Through REST: a 400 with the same code.
    with pytest.raises(TwilioRestException) as refused:
        scene.ws.tasks(task_sid).reservations(res_sid).update(instruction="dequeue", **rest)
    assert (refused.value.status, refused.value.code) == (400, code) and words in refused.value.msg
    assert scene.status(task_sid, res_sid) == ("reserved", "pending", "Reserved")
    assert [c.direction for c in scene.client.calls.list()] == ["inbound", "outbound-api"]  # only the customer's
    assert scene.call(inbound) == "in-progress"


def test_no_contact_uri_and_no_to_is_refused_with_40131(client, taskrouter, http, voice_app):
    scene = Scene(client, taskrouter, http, voice_app)
    scene.ws.workers(scene.alice).update(attributes=json.dumps({"languages": ["en", "es"]}))
    handset, inbound, task_sid = scene.call_in()
    res_sid = scene.alice_idle()
    with pytest.raises(TwilioRestException) as refused:
        scene.ws.tasks(task_sid).reservations(res_sid).update(instruction="dequeue", dequeue_from=NUMBER)
    assert refused.value.code == 40131 and "contact_uri" in refused.value.msg


def test_dequeue_needs_a_task_from_enqueue(scene):
    task = scene.ws.tasks.create(attributes=json.dumps({"selected_language": "es"}), workflow_sid=scene.qs.workflow_sid)
    res_sid = scene.alice_idle()
    with pytest.raises(TwilioRestException) as refused:
        scene.ws.tasks(task.sid).reservations(res_sid).update(instruction="dequeue", dequeue_from=NUMBER)
    assert refused.value.code == 40133 and "<Enqueue workflowSid>" in refused.value.msg
    with pytest.raises(TwilioRestException) as refused:
        scene.ws.tasks(task.sid).reservations(res_sid).update(
            instruction="redirect", redirect_call_sid="CA" + "1" * 32, redirect_url="http://127.0.0.1:9/x")
    assert refused.value.code == 40122
    with pytest.raises(TwilioRestException) as refused:
        scene.ws.tasks(task.sid).reservations(res_sid).update(instruction="conference", from_=NUMBER)
    assert refused.value.code == 40142


# ---------------------------------------------------------------------------- call, redirect, conference


def test_call_rings_alice_and_her_twiml_bridges_with_dial_queue(scene):
    handset, inbound, task_sid = scene.call_in()
    res_sid = scene.alice_idle()
    scene.app.pages["/agent"] = (f"<Response><Say>Connecting you.</Say><Dial><Queue reservationSid='{res_sid}'/>"
                                 "</Dial><Say>The caller has gone.</Say></Response>")
    scene.ws.tasks(task_sid).reservations(res_sid).update(
        instruction="call", call_from=NUMBER, call_url=scene.app.url("/agent"))
    leg = scene.ringing()["call_sid"]
    assert scene.status(task_sid, res_sid) == ("reserved", "pending", "Reserved")
    scene.press(leg, "Answer")
    wait_until(lambda: scene.status(task_sid, res_sid)[1] == "accepted", what="<Dial><Queue> to bridge")
    assert scene.heard(leg)[-2:] == ["say", "bridged"] and scene.heard(inbound)[-1] == "bridged"
    scene.client.calls(handset).update(status="completed")
    assert scene.heard(leg)[-3:] == ["unbridged", "say", "hangup"]  # her TwiML goes on after <Dial>
    assert scene.status(task_sid, res_sid) == ("wrapping", "wrapping", "Busy")
    assert (scene.call(leg), scene.call(inbound)) == ("completed", "completed")
    assert scene.events(task_sid) == [
        "task.created", "reservation.created", "reservation.accepted", "reservation.wrapup", "task.wrapup"]


def test_dial_queue_for_a_reservation_that_is_not_pending_is_error_14215(scene):
    handset, inbound, task_sid = scene.call_in()
    res_sid = scene.alice_idle()
    scene.app.pages["/agent"] = f"<Response><Dial><Queue reservationSid='{'WR' + '0' * 32}'/></Dial></Response>"
    scene.ws.tasks(task_sid).reservations(res_sid).update(
        instruction="call", call_from=NUMBER, call_url=scene.app.url("/agent"), call_accept=True)
    assert scene.status(task_sid, res_sid) == ("assigned", "accepted", "Busy")  # accept=true: at once
    leg = scene.ringing()["call_sid"]
    scene.press(leg, "Answer")
    wait_until(lambda: scene.call(leg) == "completed", what="the failed Dial")
    [error] = [e for e in scene.taskrouter.voice.transcript(leg) if e["what"] == "error"]
    assert error["code"] == 14215 and "no such Reservation" in error["text"]
    assert scene.call(inbound) == "in-progress"  # the caller still waits


def test_redirect_moves_the_caller_out_of_the_queue(scene):
    handset, inbound, task_sid = scene.call_in()
    scene.app.pages["/assignment"] = json_answer(
        {"instruction": "redirect", "call_sid": inbound, "url": scene.app.url("/voicemail"), "accept": True})
    scene.app.pages["/voicemail"] = "<Response><Say>Please leave a message.</Say></Response>"
    res_sid = scene.alice_idle()
    wait_until(lambda: scene.call(inbound) == "completed", what="the redirected call to end")
    assert scene.heard(inbound)[-4:] == ["hold-music", "redirected", "say", "hangup"]
    assert scene.requests("/after_queue")[0]["values"]["QueueResult"] == "redirected"
    assert scene.status(task_sid, res_sid) == ("assigned", "accepted", "Busy")
    assert scene.events(task_sid) == ["task.created", "reservation.created", "reservation.accepted"]


def test_conference_writes_its_sid_and_participants_into_the_task(scene):
    scene.app.pages["/assignment"] = json_answer(
        {"instruction": "conference", "from": NUMBER, "post_work_activity_sid": scene.wrap_up,
         "end_conference_on_exit": True})
    handset, inbound, task_sid = scene.call_in()
    res_sid = scene.alice_idle()
    leg = scene.ringing()["call_sid"]
    scene.press(leg, "Answer")
    attributes = json.loads(scene.ws.tasks(task_sid).fetch().attributes)
    assert attributes["conference"]["sid"].startswith("CF")
    assert attributes["conference"]["participants"] == {"worker": leg, "customer": inbound}
    assert attributes["selected_language"] == "es"
    # end_conference_on_customer_exit is false: when the customer leaves, Alice stays in the conference.
    scene.client.calls(handset).update(status="completed")
    assert scene.call(leg) == "in-progress" and scene.heard(leg)[-1] == "alone"
    assert scene.status(task_sid, res_sid) == ("assigned", "accepted", "Busy")
    scene.client.calls(leg).update(status="completed")
    assert scene.status(task_sid, res_sid) == ("wrapping", "wrapping", "WrapUp")
    assert (scene.call(leg), scene.call(inbound)) == ("completed", "completed")
    assert scene.events(task_sid) == ["task.created", "reservation.created", "reservation.accepted", "task.updated",
                                      "reservation.wrapup", "task.wrapup"]


def test_a_restart_while_alices_phone_rings_ends_both_calls(tmp_path, voice_app_factory):
    """Calls do not outlive the server: at the next start they end (oldest first), so the caller is gone
    first: the Task and its reservation are canceled, as when the caller hangs up while Alice's phone rings."""
    from http_support import Http

    from tutorial_helpers.local_twilio import LocalTaskRouter

    with LocalTaskRouter(data_dir=tmp_path) as first:
        app = voice_app_factory()
        scene = Scene(first.client(), first, Http(first), app)
        app.pages["/assignment"] = dequeue(scene)
        handset, inbound, task_sid = scene.call_in()
        res_sid = scene.alice_idle()
        leg = scene.ringing()["call_sid"]
    with LocalTaskRouter(data_dir=tmp_path) as second:
        scene.client, scene.taskrouter = second.client(), second
        scene.ws = scene.client.taskrouter.v1.workspaces(scene.qs.workspace_sid)
        # The caller's end cancels the reservation, which stops Alice's phone ringing.
        assert scene.call(leg) == "canceled"
        # One leg of the customer's call ended failed; the other heard it end.
        assert sorted([scene.call(inbound), scene.call(handset)]) == ["completed", "failed"]
        assert scene.status(task_sid, res_sid)[:2] == ("canceled", "canceled")


def test_refused_call_and_redirect_and_conference_parameters(scene):
    handset, inbound, task_sid = scene.call_in()
    res_sid = scene.alice_idle()
    ctx = scene.ws.tasks(task_sid).reservations(res_sid)
    cases = [
        ({"instruction": "call", "call_from": NUMBER}, 40112),
        ({"instruction": "call", "call_url": "http://127.0.0.1:9/x"}, 40111),
        ({"instruction": "call", "call_from": NUMBER, "call_url": "http://127.0.0.1:9/x", "call_to": "nobody"}, 40110),
        ({"instruction": "redirect", "redirect_url": "http://127.0.0.1:9/x"}, 40121),
        ({"instruction": "redirect", "redirect_call_sid": inbound}, 40120),
        ({"instruction": "conference"}, 40138),
        ({"instruction": "conference", "from_": NUMBER, "post_work_activity_sid": "WA" + "0" * 32}, 40143),
        ({"instruction": "conference", "from_": NUMBER, "to": "nobody"}, 40137),
    ]
    for params, code in cases:
        with pytest.raises(TwilioRestException) as refused:
            ctx.update(**params)
        assert refused.value.code == code, (params, refused.value.msg)
    assert scene.status(task_sid, res_sid) == ("reserved", "pending", "Reserved")


def test_softphone_registration_is_checked(http):
    assert http.post("/_local/Softphones", data={"Address": "alice"}).json()["code"] == 20001
    assert http.post("/_local/Softphones", data={"Address": NUMBER}).json()["message"].startswith(NUMBER)
    assert http.post("/_local/Softphones", data={"Address": "sip:alice@example.com"}).status_code == 201
    assert http.get("/_local/Softphones/client:nobody").status_code == 404
