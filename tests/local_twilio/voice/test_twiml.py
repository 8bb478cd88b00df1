"""TwiML read into verbs: the quickstart's own documents, Twilio's defaults, and Twilio's error codes."""

import pytest
from twilio.twiml.voice_response import VoiceResponse

from tutorial_helpers.local_twilio.voice.twiml import (
    Enqueue,
    Gather,
    Hangup,
    Leave,
    Pause,
    Play,
    Redirect,
    Reject,
    Say,
    TaskSpec,
    TwimlError,
    parse_twiml,
)

APP = "http://127.0.0.1:5000/incoming_call"
WORKFLOW = "WW" + "a" * 32


def test_the_quickstarts_gather_as_the_sdk_writes_it():
    resp = VoiceResponse()
    with resp.gather(numDigits=1, action="/enqueue_call", method="POST", timeout=5) as g:
        g.say("Para Español oprime el uno.", language="es")
        g.say("For English, please hold or press two.", language="en")
    assert parse_twiml(str(resp), APP) == [Gather(
        action="http://127.0.0.1:5000/enqueue_call", method="POST", timeout=5, num_digits=1,
        prompts=(Say("Para Español oprime el uno.", "es"), Say("For English, please hold or press two.", "en")),
    )]


def test_the_quickstarts_enqueue_as_the_sdk_writes_it():
    resp = VoiceResponse()
    with resp.enqueue(None, workflowSid=WORKFLOW) as e:
        e.task('{"selected_language": "es"}', priority=5, timeout=600)
    assert parse_twiml(str(resp), APP) == [
        Enqueue(name=None, workflow_sid=WORKFLOW, task=TaskSpec({"selected_language": "es"}, 5, 600))]


def test_defaults_are_twilios():
    [gather] = parse_twiml("<Response><Gather/></Response>", APP)
    assert (gather.action, gather.method, gather.timeout, gather.num_digits, gather.finish_on_key) == (
        APP, "POST", 5, None, "#")  # action defaults to the document itself
    [say, pause] = parse_twiml("<Response><Say>Hi</Say><Pause/></Response>", APP)
    assert say == Say("Hi", "en-US", None, 1) and pause == Pause(1)


def test_every_verb_and_relative_urls():
    text = """<?xml version="1.0" encoding="UTF-8"?>
    <Response>
      <Play loop="2">/music.mp3</Play>
      <Redirect method="GET">next</Redirect>
      <Enqueue action="/after" waitUrl="https://example.com/hold" waitUrlMethod="GET">support</Enqueue>
      <Leave/>
      <Reject reason="busy"/>
      <Hangup/>
    </Response>"""
    assert parse_twiml(text, APP) == [
        Play("http://127.0.0.1:5000/music.mp3", 2),
        Redirect("http://127.0.0.1:5000/next", "GET"),
        Enqueue(name="support", action="http://127.0.0.1:5000/after", wait_url="https://example.com/hold",
                wait_url_method="GET"),
        Leave(),
        Reject("busy"),
        Hangup(),
    ]


@pytest.mark.parametrize(("text", "code", "words"), [
    ("Thanks for calling", 12100, "not XML"),
    ("<html><body>500</body></html>", 12100, "not <Response>"),
    ("<Response><Dance/></Response>", 12200, "<Dance> is not a TwiML verb"),
    ("<Response><Gather numDigits='one'/></Response>", 12200, "<Gather numDigits> must be a whole number"),
    ("<Response><Gather numDigits='0'/></Response>", 12200, "must be from 1 up"),
    ("<Response><Gather finishOnKey='ab'/></Response>", 12200, "finishOnKey"),
    ("<Response><Gather method='PUT'/></Response>", 12200, "<Gather method> must be GET or POST"),
    ("<Response><Gather><Enqueue>q</Enqueue></Gather></Response>", 12200, "may hold <Say>, <Play> and <Pause>"),
    (f"<Response><Enqueue workflowSid='{WORKFLOW}'><Task>not json</Task></Enqueue></Response>", 12200,
     "must hold a JSON object"),
    (f"<Response><Enqueue workflowSid='{WORKFLOW}'><Task>[1]</Task></Enqueue></Response>", 12200,
     "must hold a JSON object"),
    ("<Response><Enqueue/></Response>", 12200, "needs a queue name"),
    ("<Response><Enqueue workflowSid='nope'/></Response>", 12200, "must be a Workflow SID"),
    ("<Response><Enqueue>q<Task>{}</Task></Enqueue></Response>", 12200, "needs the Enqueue's workflowSid"),
    (f"<Response><Enqueue workflowSid='{WORKFLOW}'><Task timeout='0'>{{}}</Task></Enqueue></Response>", 12200,
     "<Task timeout> must be from 1"),
    ("<Response><Redirect/></Response>", 12200, "needs a URL"),
    ("<Response><Hangup><Say>x</Say></Hangup></Response>", 12200, "holds no other verbs"),
    ("<Response><Reject reason='maybe'/></Response>", 12200, "rejected or busy"),
])
def test_a_document_that_cannot_run_names_twilios_error(text, code, words):
    with pytest.raises(TwimlError) as failure:
        parse_twiml(text, APP)
    assert failure.value.code == code and words in str(failure.value)
