"""Table 8: event delivery latency. Alice's EventBridge socket open: REST change -> frame on her socket.

Listed in the report right after table 1 (see MEASUREMENTS in __main__.py): both time how soon the
worker side learns of a change. Unlike the other timed loops this one uses the twilio SDK, as the
learner's notebooks do; the REST-only rows use the same SDK calls, so the differences are the push.
"""

import json
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from simple_websocket import ConnectionClosed
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import TaskRouterGrant

from tutorial_helpers.local_twilio.sdk_client import make_local_client
from tutorial_helpers.socket_client import connect
from tutorial_helpers.workspace import build_quickstart

from .harness import ACCOUNT_SID, AUTH_TOKEN, Context, Deadline, Summary, Table, ms

WARMUP = 5
FRAME_LIMIT = 10.0  # seconds a frame may take before the sample counts as missed
SETTLE = 1.0  # seconds after closing the socket: twice the server's wake-up period (routes.WAKE_SECONDS)
IDLE, OFFLINE = "Idle", "Offline"

Frame = dict[str, Any]


class Listener:
    """Alice's socket, read by its own thread so each frame is stamped when it arrives, even while the
    main thread is still waiting for the REST answer that caused it."""

    def __init__(self, url: str):
        self.sock = connect(url)
        self.frames: queue.Queue[tuple[float, Frame]] = queue.Queue()
        self.heartbeats = 0
        self.ignored = 0  # frames dropped by wait_for: wanted by no sample
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, name="bench-eventbridge-reader", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._stop.is_set() and self.sock.connected:
            try:
                text = self.sock.receive(timeout=0.5)
            except ConnectionClosed:
                return  # closed by close() below, or by the server
            stamp = time.perf_counter()
            if text is None:
                continue
            if not str(text).strip():
                self.heartbeats += 1
                continue
            self.frames.put((stamp, json.loads(text)))

    def wait_for(self, wanted: Callable[[Frame], bool], timeout: float = FRAME_LIMIT) -> tuple[float, Frame] | None:
        """The arrival time and frame of the first queued frame that `wanted` accepts; others are dropped."""
        end = time.monotonic() + timeout
        while True:
            try:
                stamp, frame = self.frames.get(timeout=max(0.0, end - time.monotonic()))
            except queue.Empty:
                return None
            if wanted(frame):
                return stamp, frame
            self.ignored += 1

    def close(self) -> None:
        self._stop.set()
        try:
            self.sock.close()
        except Exception:  # already closed by the server
            pass
        self._thread.join(timeout=5)


def _activity_update(activity_sid: str) -> Callable[[Frame], bool]:
    return lambda f: (f.get("event_type") == "worker.activity.update"
                      and f["payload"].get("activity_sid") == activity_sid)


def run(ctx: Context) -> Table:
    cfg = ctx.cfg
    n = cfg.event_samples
    frame: list[float] = []  # (a) update sent -> worker.activity.update arrived
    frame_answer: list[float] = []  # (a) the same samples' REST answer
    rest_alone: list[float] = []  # the same update, socket open, frame not awaited
    reserved: list[float] = []  # (b) task create sent -> reservation.created arrived
    create_answer: list[float] = []  # (b) the same samples' tasks.create answer
    no_socket: list[float] = []  # the same update with no socket open
    missed = {"activity": 0, "reservation": 0}
    deadlines: list[Deadline] = []
    b_rounds = 0
    with ctx.server("event-delivery") as server:
        client = make_local_client(server.base_url, ACCOUNT_SID, AUTH_TOKEN)
        qs = build_quickstart(client)  # no assignment callback: a reservation stays pending until the task ends
        ws = client.taskrouter.v1.workspaces(qs.workspace_sid)
        alice = ws.workers(qs.workers["Alice"])
        idle, offline = qs.activities[IDLE], qs.activities[OFFLINE]
        key = client.new_keys.create(friendly_name="bench")
        token = AccessToken(ACCOUNT_SID, key.sid, key.secret, identity="alice", ttl=3600)
        token.add_grant(TaskRouterGrant(workspace_sid=qs.workspace_sid, worker_sid=qs.workers["Alice"], role="worker"))
        url = (server.base_url.replace("http", "ws", 1)
               + f"/v1/wschannels?token={token.to_jwt()}&closeExistingSessions=true")
        listener = Listener(url)
        try:
            init = listener.wait_for(lambda f: True)
            if init is None or init[1].get("event_type") != "init":
                raise RuntimeError(f"the socket's first frame was not init: {init}")
            current = alice.fetch().activity_sid

            def flip() -> str:
                return offline if current == idle else idle

            # (a), interleaved with the same update not awaited, so drift on a shared machine hits both.
            deadline = Deadline(cfg.time_limit)
            deadlines.append(deadline)
            for i in range(WARMUP + n):
                if deadline.passed():
                    break
                target = flip()
                start = time.perf_counter()
                alice.update(activity_sid=target)
                answered = time.perf_counter()
                got = listener.wait_for(_activity_update(target))
                current = target
                if got is None:
                    missed["activity"] += 1
                elif i >= WARMUP:
                    frame.append(got[0] - start)
                    frame_answer.append(answered - start)
                target = flip()
                start = time.perf_counter()
                alice.update(activity_sid=target)
                answered = time.perf_counter()
                listener.wait_for(_activity_update(target))  # untimed: the next sample starts clean
                current = target
                if i >= WARMUP:
                    rest_alone.append(answered - start)

            # (b): Alice Idle, a Spanish task -> her reservation.created; cancel it, Alice back to Idle.
            if current != idle:
                alice.update(activity_sid=idle)
                listener.wait_for(_activity_update(idle))
                current = idle
            deadline = Deadline(cfg.time_limit)
            deadlines.append(deadline)
            attributes = json.dumps({"selected_language": "es"})
            for i in range(WARMUP + n):
                if deadline.passed():
                    break
                start = time.perf_counter()
                task = ws.tasks.create(attributes=attributes, workflow_sid=qs.workflow_sid)
                answered = time.perf_counter()
                got = listener.wait_for(lambda f, sid=task.sid: f.get("event_type") == "reservation.created"
                                        and f["payload"].get("task", {}).get("sid") == sid)
                if got is None:
                    missed["reservation"] += 1
                elif i >= WARMUP:
                    reserved.append(got[0] - start)
                    create_answer.append(answered - start)
                # Untimed clean-up: cancelling returns Alice to Idle (reservation.canceled, then her update).
                ws.tasks(task.sid).update(assignment_status="canceled", reason="bench")
                b_rounds += 1
                if got is not None:  # skips her update to Reserved, which came before the cancel
                    listener.wait_for(lambda f, sid=got[1]["payload"]["sid"]: f.get("event_type") ==
                                      "reservation.canceled" and f["payload"].get("sid") == sid)
                    back = listener.wait_for(lambda f: f.get("event_type") == "worker.activity.update")
                    current = back[1]["payload"].get("activity_sid") if back else None
                if current != idle:
                    alice.update(activity_sid=idle)
                    listener.wait_for(_activity_update(idle))
                    current = idle
        finally:
            heartbeats, ignored = listener.heartbeats, listener.ignored
            listener.close()
        time.sleep(SETTLE)  # the server's socket thread notices the close and ends before the next loop

        # The same update with nobody listening: what the push costs the REST answer.
        deadline = Deadline(cfg.time_limit)
        deadlines.append(deadline)
        for i in range(WARMUP + n):
            if deadline.passed():
                break
            current = offline if current == idle else idle
            start = time.perf_counter()
            alice.update(activity_sid=current)
            if i >= WARMUP:
                no_socket.append(time.perf_counter() - start)

    a, ra, r, b, ba, ns = (Summary.of(x) for x in (frame, frame_answer, rest_alone, reserved, create_answer,
                                                    no_socket))
    table = Table(
        8, "Event delivery latency (REST change → worker socket)",
        ["what", "n", "p50 ms", "p90 ms", "p99 ms", "max ms"],
        caption=(
            "Listed right after table 1 (its number is 8 only because it came later). Quickstart workspace "
            "(no assignment callback), Alice's EventBridge websocket open (`/v1/wschannels`, worker "
            "AccessToken), read by its own thread that stamps each frame on arrival. Timed with the twilio SDK "
            "(as the notebooks call it) from just before the REST call until the matching frame arrives: "
            "(a) `workers(Alice).update(activity_sid=…)`, alternating Idle/Offline → `worker.activity.update`; "
            "(b) `tasks.create` (Spanish) with Alice Idle → `reservation.created`, then untimed: cancel the "
            "task, Alice back to Idle. The REST rows time the same SDK calls until their answer only."
        ),
    )

    def row(what: str, s: Summary) -> list[str]:
        return [what, str(s.n), ms(s.p50), ms(s.p90), ms(s.p99), ms(s.max)]

    table.rows = [
        row("(a) activity update → `worker.activity.update` on the socket", a),
        row("REST update alone (socket open, frame not awaited)", r),
        row("REST update, no socket open", ns),
        row("(b) task created → `reservation.created` on the socket", b),
        row("… of which the `tasks.create` answer", ba),
    ]
    if frame:
        early = sum(f < answer for f, answer in zip(frame, frame_answer, strict=True))
        table.notes.append(
            f"(a) the frame arrived before the REST answer in {early} of {len(frame)} samples "
            f"(the push happens at commit, before the response is written); "
            f"frame p50 − REST answer p50 in the same samples: {a.p50 - ra.p50:+.2f} ms."
        )
    if reserved:
        early = sum(f < answer for f, answer in zip(reserved, create_answer, strict=True))
        table.notes.append(f"(b) the frame arrived before the `tasks.create` answer in {early} of {len(reserved)} "
                           "samples.")
    if missed["activity"] or missed["reservation"]:
        table.notes.append(f"**Frames missing** after {FRAME_LIMIT:g} s: {missed['activity']} activity updates, "
                           f"{missed['reservation']} reservations.")
    table.notes.append(f"Heartbeats seen: {heartbeats}; frames skipped: {ignored} (expected {b_rounds}: Alice's "
                       "update to Reserved in each (b) round, warm-up included).")
    if any(d.expired for d in deadlines):
        table.notes.append(f"A loop stopped at the {cfg.time_limit:g} s time limit (see n).")
    return table
