"""Reports (voice/reports.py): a call's status callbacks go through the store's outbox, written with the status
change that made them due, sent one call at a time in order, and settled whether or not they were delivered."""

import json
import logging
import threading

import pytest
from polling import wait_until

from tutorial_helpers.local_twilio.core.store import Store
from tutorial_helpers.local_twilio.voice import reports

NUMBER = "+12025550100"
CALLER = "+15551230000"
HOLD = "<Response><Pause length='3600'/></Response>"
EVERY_EVENT = ["initiated", "ringing", "answered", "completed"]


def call_reports(taskrouter) -> list[dict]:
    return [data for _id, _kind, data in taskrouter.store.outbox((reports.KIND,))]


@pytest.fixture
def held_call(client, taskrouter, voice_app):
    """A call in progress whose status callback asks only for `completed`: nothing is due yet."""
    voice_app.pages["/hold"] = HOLD
    client.incoming_phone_numbers.list(phone_number=NUMBER)[0].update(voice_url=voice_app.url("/hold"))
    call = client.calls.create(to=NUMBER, from_=CALLER, twiml=HOLD, status_callback=voice_app.url("/status"),
                               status_callback_event=["completed"])
    assert client.calls(call.sid).fetch().status == "in-progress"
    assert call_reports(taskrouter) == []
    return call.sid


def test_the_status_change_and_its_callback_are_written_in_one_transaction(client, taskrouter, held_call,
                                                                          monkeypatch):
    writes = []
    write = taskrouter.store.write

    def recording(upserts, deletes, *rest, outbox=(), **more):
        upserts, outbox = list(upserts), list(outbox)
        writes.append(({sid: data.get("status") for sid, _kind, _seq, data in upserts}, outbox))
        return write(upserts, deletes, *rest, outbox=outbox, **more)

    monkeypatch.setattr(taskrouter.store, "write", recording)
    client.calls(held_call).update(status="completed")
    [(statuses, outbox)] = [w for w in writes if w[0].get(held_call) == "completed"]
    assert [(kind, data["call_sid"], data["params"]["CallStatus"]) for kind, data in outbox] == [
        (reports.KIND, held_call, "completed")]
    assert taskrouter.auth_token not in json.dumps(outbox)  # the token is looked up when the report is sent


def test_a_unit_that_fails_leaves_neither_the_status_nor_its_callback(client, taskrouter, voice_app, held_call):
    voice = taskrouter.voice
    with pytest.raises(RuntimeError), voice.state.unit():
        voice.update_call(taskrouter.account_sid, held_call, status="completed")
        raise RuntimeError("a later step of the same unit fails")
    assert client.calls(held_call).fetch().status == "in-progress"
    assert call_reports(taskrouter) == []
    # The real hang-up reports once, numbered as the first: the failed unit used no sequence number.
    client.calls(held_call).update(status="completed")
    [sent] = wait_until(lambda: [r for r in voice_app.requests if r["path"] == "/status"], what="the callback")
    assert (sent["values"]["CallStatus"], sent["values"]["SequenceNumber"], sent["signed"]) == ("completed", "0", True)
    wait_until(lambda: call_reports(taskrouter) == [], what="the callback settled")


def test_an_unreachable_status_callback_is_logged_and_settled_not_retried(client, taskrouter, caplog):
    caplog.set_level(logging.WARNING, logger=reports.__name__)
    call = client.calls.create(to="+15550000000", from_=NUMBER, twiml=HOLD, status_callback="http://127.0.0.1:9/s",
                               status_callback_event=EVERY_EVENT)
    wait_until(lambda: client.calls(call.sid).fetch().status == "ringing", what="ringing")
    wait_until(lambda: len([r for r in caplog.records if call.sid in r.getMessage()]) == 2,
               what="initiated and ringing, each failed once")
    wait_until(lambda: call_reports(taskrouter) == [], what="both settled")


class FakeSend:
    """Stands in for webhooks.send: records each report, and holds the first one of `held_call` until released."""

    def __init__(self, held_call: str | None = None) -> None:
        self.sent: list[tuple[str, str]] = []
        self.held_call = held_call
        self.release = threading.Event()

    def __call__(self, method, url, params, auth_token, deadline):
        if params["CallSid"] == self.held_call and not self.release.is_set():
            self.release.wait(10)
        self.sent.append((params["CallSid"], params["SequenceNumber"]))


def outbox_rows(store: Store, *reports_due: tuple[str, int]) -> None:
    row = {"sid": "", "account_sid": "AC1"}
    store.write([], [], outbox=[
        (reports.KIND, reports.due({**row, "sid": call}, "POST", "http://app/s",
                                   {"CallSid": call, "SequenceNumber": str(n)}))
        for call, n in reports_due])


def test_a_slow_application_holds_up_only_its_own_calls_reports(tmp_path, monkeypatch):
    fake = FakeSend(held_call="CA1")
    monkeypatch.setattr(reports, "send", fake)
    store = Store(tmp_path)
    outbox_rows(store, ("CA1", 0), ("CA2", 0), ("CA1", 1), ("CA2", 1))
    sender = reports.Reports(store, {"AC1": "token"}, deadline=1.0)
    try:
        assert sender.resume() == 4
        wait_until(lambda: fake.sent == [("CA2", "0"), ("CA2", "1")], what="the other call's reports")
        assert [data["call_sid"] for _id, _kind, data in store.outbox((reports.KIND,))] == ["CA1", "CA1"]
        fake.release.set()
        wait_until(lambda: fake.sent[2:] == [("CA1", "0"), ("CA1", "1")], what="the held call's, in order")
        wait_until(lambda: store.outbox((reports.KIND,)) == [], what="all settled")
    finally:
        sender.close()
        store.close()


def test_a_report_for_an_account_no_longer_served_is_settled_unsent(tmp_path, monkeypatch):
    fake = FakeSend()
    monkeypatch.setattr(reports, "send", fake)
    store = Store(tmp_path)
    outbox_rows(store, ("CA1", 0))
    sender = reports.Reports(store, {"AC2": "other"}, deadline=1.0)
    try:
        sender.resume()
        wait_until(lambda: store.outbox((reports.KIND,)) == [], what="settled")
        assert fake.sent == []
    finally:
        sender.close()
        store.close()
