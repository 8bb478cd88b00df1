"""Many clients at once: 50 threads drive the SDK against one local TaskRouter while its assignment callback
answers a mix (accept, an empty answer, 500, invalid JSON, too slow), then the state must agree with itself
(tests/local_twilio/invariants.py) and every refusal must have been a Twilio-shaped 4xx."""

import json
import os
import random
import threading
import time

import pytest
from flask import Flask, Response
from invariants import check_events, check_state
from twilio.base.exceptions import TwilioRestException
from werkzeug.serving import make_server

from tutorial_helpers.local_twilio.taskrouter import callbacks as callbacks_module

THREADS = 50
ROUNDS = int(os.environ.get("CONCURRENCY_ROUNDS", "1"))  # `make fuzz` repeats the crowd
OPERATIONS_PER_THREAD = 12
WORKERS = 10
SLOW_DEADLINE = 0.3  # the assignment callback deadline, shortened so "too slow" costs little


def mixed_callback_app() -> Flask:
    app = Flask("mixed-callbacks")
    answers = [
        lambda: Response('{"instruction": "accept"}', mimetype="application/json"),
        lambda: Response("", status=200),
        lambda: Response("oops", status=500),
        lambda: Response("accept, please", mimetype="application/json"),
        lambda: (time.sleep(SLOW_DEADLINE * 2), Response('{"instruction": "accept"}',
                                                          mimetype="application/json"))[1],
    ]

    @app.route("/assignment", methods=["POST"])
    def assignment():
        return random.choice(answers)()

    return app


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_fifty_clients_at_once_leave_a_consistent_state(taskrouter, client, monkeypatch, round_):
    monkeypatch.setattr(callbacks_module, "ASSIGNMENT_DEADLINE", SLOW_DEADLINE)
    server = make_server("127.0.0.1", 0, mixed_callback_app(), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        tr = client.taskrouter.v1
        ws = tr.workspaces.create(friendly_name="Crowd", multi_task_enabled=False)
        w = tr.workspaces(ws.sid)
        idle = w.activities.create(friendly_name="Idle", available=True).sid
        offline = next(a.sid for a in w.activities.list() if a.friendly_name == "Offline")
        workers = [w.workers.create(friendly_name=f"W{i}", attributes=json.dumps({"skill": i % 3})).sid
                   for i in range(WORKERS)]
        queue = w.task_queues.create(friendly_name="All", target_workers="1==1").sid
        config = {"task_routing": {"filters": [], "default_filter": {"queue": queue}}}
        flow = w.workflows.create(friendly_name="Flow", configuration=json.dumps(config),
                                  assignment_callback_url=f"http://127.0.0.1:{server.server_port}/assignment").sid
        created: list[str] = []
        deleted: set[str] = set()
        problems: list[str] = []
        lock = threading.Lock()

        def act(rng: random.Random) -> None:
            choice = rng.random()
            if choice < 0.35:
                sid = w.tasks.create(attributes=json.dumps({"n": rng.random()}), workflow_sid=flow).sid
                with lock:
                    created.append(sid)
            elif choice < 0.6:
                w.workers(rng.choice(workers)).update(activity_sid=rng.choice([idle, idle, offline]),
                                                      reject_pending_reservations=True)
            elif choice < 0.8:
                pending = w.tasks.list(assignment_status=["reserved"], limit=5)
                if pending:
                    task = rng.choice(pending)
                    for res in w.tasks(task.sid).reservations.list(reservation_status="pending"):
                        w.tasks(task.sid).reservations(res.sid).update(
                            reservation_status=rng.choice(["accepted", "rejected"]))
            elif choice < 0.9:
                assigned = w.tasks.list(assignment_status=["assigned"], limit=5)
                if assigned:
                    w.tasks(rng.choice(assigned).sid).update(assignment_status="completed", reason="done")
            else:
                with lock:
                    candidates = [sid for sid in created if sid not in deleted]
                if candidates:
                    sid = rng.choice(candidates)
                    w.tasks(sid).update(assignment_status="canceled", reason="enough")

        def run(seed: int) -> None:
            rng = random.Random(seed)
            for _ in range(OPERATIONS_PER_THREAD):
                try:
                    act(rng)
                except TwilioRestException as exc:  # a race lost to another client: fine, if Twilio-shaped
                    if not 400 <= exc.status < 500 or exc.code is None:
                        with lock:
                            problems.append(f"{exc.status} {exc.code}: {exc.msg}")
                except Exception as exc:
                    with lock:
                        problems.append(repr(exc))

        threads = [threading.Thread(target=run, args=(round_ * THREADS + seed,)) for seed in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not any(t.is_alive() for t in threads), "a client hung"
        assert taskrouter.wait_for_callbacks(60)
        assert problems == []
        assert len(created) > THREADS  # the run did real work
        check_state(taskrouter, ws.sid, created, deleted)
        check_events(taskrouter, ws.sid)
        statuses = {t.assignment_status for t in w.tasks.list()}
        assert statuses & {"assigned", "completed"}, statuses  # some callbacks and clients accepted
    finally:
        server.shutdown()
