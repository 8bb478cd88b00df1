"""The store's durability, the CLI as a real process: every 2xx survives a SIGKILL, timers resume after a
restart, a callback due when the process is killed is sent after the restart (the outbox), events made after a
restart list after the earlier ones. (SIGTERM, --stop and the flags: tests/local_twilio/test_cli.py.)"""

import json
import re
import signal
import threading

from cli_support import ACCOUNT


def comparable(body: dict, base_url: str) -> dict:
    """An answer with this server's address and the moving `age` taken out."""
    text = json.dumps({k: v for k, v in body.items() if k != "age"}).replace(base_url, "http://server")
    return json.loads(text)


def test_every_acknowledged_write_survives_sigkill_and_timers_resume(cli):
    first = cli()
    tr = first.client().taskrouter.v1
    ws = tr.workspaces.create(friendly_name="Durable", multi_task_enabled=False)
    w = tr.workspaces(ws.sid)
    idle = w.activities.create(friendly_name="Idle", available=True)
    queue = w.task_queues.create(friendly_name="Everyone")
    config = {"task_routing": {"filters": [], "default_filter": {"queue": queue.sid}}}
    workflow = w.workflows.create(friendly_name="Route", configuration=json.dumps(config), task_reservation_timeout=600)
    ann = w.workers.create(friendly_name="Ann", attributes='{"skill": 1}')
    w.workers(ann.sid).update(attributes='{"skill": 2}', activity_sid=idle.sid)
    extras = [w.workers.create(friendly_name=f"Extra {i}").sid for i in range(20)]
    w.workers(extras[0]).delete()
    task = w.tasks.create(attributes='{"kind": "durable"}', workflow_sid=workflow.sid)
    (reservation,) = w.tasks(task.sid).reservations.list()
    assert reservation.reservation_status == "pending"

    W = f"/v1/Workspaces/{ws.sid}"
    paths = [W, f"{W}/Activities/{idle.sid}", f"{W}/TaskQueues/{queue.sid}", f"{W}/Workflows/{workflow.sid}",
             f"{W}/Workers/{ann.sid}", f"{W}/Tasks/{task.sid}", f"{W}/Tasks/{task.sid}/Reservations/{reservation.sid}",
             f"{W}/Workers?PageSize=100", f"{W}/Events?PageSize=1000"]
    before = {path: comparable(first.get(path), first.base_url) for path in paths}
    assert first.stop(signal.SIGKILL) == -signal.SIGKILL

    second = cli()
    after = {path: comparable(second.get(path), second.base_url) for path in paths}
    assert after == before
    names = [x["friendly_name"] for x in second.get(f"{W}/Workers?PageSize=100")["workers"]]
    assert names == ["Ann"] + [f"Extra {i}" for i in range(1, 20)]
    assert json.loads(after[f"{W}/Workers/{ann.sid}"]["attributes"]) == {"skill": 2}

    # The reservation's timer came back with the restart: the clock fires it.
    response = second.http.post(second.base_url + "/_local/Clock", data={"AdvanceSeconds": "600"}, timeout=30)
    assert response.status_code == 200, response.text
    res = second.get(f"{W}/Tasks/{task.sid}/Reservations/{reservation.sid}")
    assert res["reservation_status"] == "timeout"
    assert second.get(f"{W}/Workers/{ann.sid}")["activity_name"] == "Offline"
    assert second.get(f"{W}/Tasks/{task.sid}")["assignment_status"] == "pending"
    timeouts = second.get(f"{W}/Events?EventType=reservation.timeout")["events"]
    assert [e["resource_sid"] for e in timeouts] == [reservation.sid]
    offset = second.get("/_local/Clock")["offset"]
    assert offset >= 600

    # SIGTERM: a clean stop, and the advanced clock is part of the saved state.
    assert second.stop(signal.SIGTERM) == 0
    assert any("stopped" in line for line in second.lines)
    third = cli()
    assert third.get("/_local/Clock")["offset"] == offset
    assert third.get(f"{W}/Tasks/{task.sid}/Reservations/{reservation.sid}")["reservation_status"] == "timeout"
    # The task's own TTL (86400 s from its creation) survived two restarts as well.
    third.http.post(third.base_url + "/_local/Clock", data={"AdvanceSeconds": "86400"}, timeout=30)
    expired = third.get(f"{W}/Tasks/{task.sid}")
    assert (expired["assignment_status"], "TTL" in expired["reason"]) == ("canceled", True)
    assert third.stop(signal.SIGTERM) == 0


class HoldingReceiver:
    """A callback server that reads each request and, while `holding`, never answers it (a POST in flight
    when the TaskRouter dies); afterwards it answers assignment callbacks with accept."""

    def __init__(self) -> None:
        import socket

        self.holding = True
        self.received: list[tuple[str, dict]] = []  # (path, form) of every request read
        self.signatures: dict[int, str] = {}  # id(form) -> its X-Twilio-Signature
        self.answered: list[tuple[str, dict]] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn) -> None:
        from urllib.parse import parse_qsl

        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
            while len(body) < length:
                body += conn.recv(65536)
            path = head.split(b" ")[1].decode()
            form = dict(parse_qsl(body.decode(), keep_blank_values=True))
            signature = re.search(rb"(?i)x-twilio-signature: *(\S+)", head)
            self.signatures[id(form)] = signature.group(1).decode() if signature else ""
            self.received.append((path, form))
            if self.holding:
                conn.recv(1)  # until the other side goes away: the TaskRouter was killed mid-request
                return
            answer = b'{"instruction": "accept"}' if path == "/assignment" else b""
            # Noted before the answer goes: the sender's next request can only follow the answer, so `answered`
            # keeps the order in which they were sent (appended after, another thread's could come first).
            self.answered.append((path, form))
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                         + str(len(answer)).encode() + b"\r\nConnection: close\r\n\r\n" + answer)

    def close(self) -> None:
        self._listener.close()


def test_a_callback_due_when_the_process_is_killed_is_sent_after_the_restart(cli):
    """kill -9 between the commit and the callback's answer: the outbox sends it again after the restart,
    once; the reservation it carries is then accepted. Event callbacks are resent in order."""
    from polling import wait_until

    receiver = HoldingReceiver()
    try:
        first = cli()
        tr = first.client().taskrouter.v1
        ws = tr.workspaces.create(friendly_name="Outbox", event_callback_url=receiver.url("/events"),
                                  events_filter="reservation.created,reservation.accepted")
        w = tr.workspaces(ws.sid)
        idle = w.activities.create(friendly_name="Idle", available=True)
        alice = w.workers.create(friendly_name="Alice", attributes="{}")
        queue = w.task_queues.create(friendly_name="All", target_workers="1==1")
        config = {"task_routing": {"filters": [], "default_filter": {"queue": queue.sid}}}
        flow = w.workflows.create(friendly_name="Flow", configuration=json.dumps(config),
                                  assignment_callback_url=receiver.url("/assignment"))
        w.workers(alice.sid).update(activity_sid=idle.sid)
        task = w.tasks.create(attributes="{}", workflow_sid=flow.sid)
        wait_until(lambda: {p for p, _ in receiver.received} >= {"/assignment", "/events"},
                   what="both callbacks in flight")
        [(_, sent)] = [(p, f) for p, f in receiver.received if p == "/assignment"]
        first.stop(signal.SIGKILL)

        receiver.holding = False
        second = cli()
        w = second.client().taskrouter.v1.workspaces(ws.sid)
        wait_until(lambda: w.tasks(task.sid).fetch().assignment_status == "assigned", what="the accept")
        assignments = [f for p, f in receiver.answered if p == "/assignment"]
        assert [f["ReservationSid"] for f in assignments] == [sent["ReservationSid"]]  # exactly once answered
        wait_until(lambda: [f["EventType"] for p, f in receiver.answered if p == "/events"]
                   == ["reservation.created", "reservation.accepted"], what="the events, in order")
    finally:
        receiver.close()


def test_a_call_status_callback_due_when_the_process_is_killed_is_sent_after_the_restart(cli):
    """kill -9 while a call's first status callback waits for its answer (the others are due behind it): after
    the restart the call's status callbacks are sent again from the outbox, in order, signed, and the
    `completed` of the call the restart ended comes last. SequenceNumber 0, 1, 2, 3, no gaps, and nothing
    twice but the one in flight."""
    from polling import wait_until
    from twilio.request_validator import RequestValidator

    number = "+12025550142"
    receiver = HoldingReceiver()
    try:
        first = cli("--phone-numbers", number)
        client = first.client()
        # The number's application never answers either: the call stays in progress until the kill.
        client.incoming_phone_numbers.list(phone_number=number)[0].update(voice_url=receiver.url("/voice"))
        call = client.calls.create(to=number, from_="+15551230000", twiml="<Response><Pause length='3600'/></Response>",
                                   status_callback=receiver.url("/status"),
                                   status_callback_event=["initiated", "ringing", "answered", "completed"])
        assert client.calls(call.sid).fetch().status == "in-progress"  # initiated, ringing, answered are due

        def statuses(requests: list[tuple[str, dict]]) -> list[dict]:
            return [form for path, form in requests if path == "/status"]

        [in_flight] = wait_until(lambda: statuses(receiver.received), what="the first status callback in flight")
        assert in_flight["SequenceNumber"] == "0"
        first.stop(signal.SIGKILL)

        receiver.holding = False
        cli("--phone-numbers", number)
        answered = wait_until(lambda: len(statuses(receiver.answered)) == 4 and statuses(receiver.answered),
                              what="the call's four status callbacks")
        assert [(f["SequenceNumber"], f["CallStatus"]) for f in answered] == [
            ("0", "initiated"), ("1", "ringing"), ("2", "in-progress"), ("3", "failed")]
        assert all(f["CallSid"] == call.sid for f in answered) and "CallDuration" in answered[-1]
        assert [f["SequenceNumber"] for f in statuses(receiver.received)] == ["0", "0", "1", "2", "3"]
        assert answered[0] == in_flight  # the same callback, its Timestamp included, not a new one
        validator = RequestValidator(ACCOUNT[1])  # signed at send time with the account's token
        assert all(validator.validate(receiver.url("/status"), f, receiver.signatures[id(f)]) for f in answered)
    finally:
        receiver.close()


def test_an_assignment_callback_whose_reservation_timed_out_meanwhile_is_not_sent(cli):
    """Killed with the callback in flight; the reservation's timeout passes while the process is down: at the
    restart the reservation times out and its assignment callback is not sent again."""
    import time

    from polling import wait_until

    receiver = HoldingReceiver()
    try:
        first = cli()
        tr = first.client().taskrouter.v1
        ws = tr.workspaces.create(friendly_name="Outbox")
        w = tr.workspaces(ws.sid)
        idle = w.activities.create(friendly_name="Idle", available=True)
        alice = w.workers.create(friendly_name="Alice", attributes="{}")
        queue = w.task_queues.create(friendly_name="All", target_workers="1==1")
        config = {"task_routing": {"filters": [], "default_filter": {"queue": queue.sid}}}
        flow = w.workflows.create(friendly_name="Flow", configuration=json.dumps(config), task_reservation_timeout=1,
                                  assignment_callback_url=receiver.url("/assignment"))
        w.workers(alice.sid).update(activity_sid=idle.sid)
        task = w.tasks.create(attributes="{}", workflow_sid=flow.sid)
        wait_until(lambda: receiver.received, what="the callback in flight")
        first.stop(signal.SIGKILL)
        time.sleep(1.2)  # the reservation's one second passes on the clock while nothing runs
        receiver.holding = False
        second = cli()
        w = second.client().taskrouter.v1.workspaces(ws.sid)
        wait_until(lambda: w.tasks(task.sid).reservations.list()[0].reservation_status == "timeout",
                   what="the reservation to time out")
        assert receiver.answered == []  # not sent again
        assert len(receiver.received) == 1
    finally:
        receiver.close()


def test_defect_events_made_after_a_restart_list_after_the_earlier_ones(tmp_path):
    """Found by the state machine: the sequence that orders the Events list restarted below the stored events'
    after a restart, so a new event was listed as older than the ones before it."""
    from tutorial_helpers.local_twilio import LocalTaskRouter

    with LocalTaskRouter(data_dir=tmp_path) as first:
        tr = first.client().taskrouter.v1
        ws = tr.workspaces.create(friendly_name="Order")
        w = tr.workspaces(ws.sid)
        worker = w.workers.create(friendly_name="A")
        activities = [a.sid for a in w.activities.list()]
        for activity in activities * 3:  # events, but no new resource rows
            w.workers(worker.sid).update(activity_sid=activity)
    with LocalTaskRouter(data_dir=tmp_path) as second:
        w = second.client().taskrouter.v1.workspaces(ws.sid)
        w.workers.create(friendly_name="D")
        newest = w.events.list(limit=1)[0]
        assert newest.event_type == "worker.created" and "D" in newest.description
