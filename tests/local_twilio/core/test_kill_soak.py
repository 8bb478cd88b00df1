"""kill -9 at random moments of a 50-task run, a restart on the same data after each, then the accounts:
no acknowledged task lost, every assignment and event callback that came due delivered, and delivered twice
only when a kill fell between the two deliveries (the answer was in, its effect not yet written down: the
outbox sends it again, as Twilio retries a callback it has no record of).

The run is a small contact centre: tasks created one after another, an assignment callback that accepts
(after a short random think), and an agent loop that completes what was assigned and puts workers back to
Idle. Kills land anywhere in that: mid-create, mid-callback, mid-accept, mid-complete. `KILL_SOAK_ROUNDS`
repeats the run with new seeds (`make fuzz`).
"""

import json
import os
import random
import signal
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import pytest
import requests
from cli_support import ACCOUNT, Cli
from invariants import check_events, check_state
from polling import wait_until

from tutorial_helpers.local_twilio import LocalTaskRouter

TASKS = 50
WORKERS = 5
KILLS = 4
ROUNDS = int(os.environ.get("KILL_SOAK_ROUNDS", "1"))


class Receiver:
    """The learner's callback server: answers /assignment with accept and /events with 200, each after a
    random few milliseconds (so kills land while a callback is in flight), and notes when each arrived."""

    def __init__(self, rng: random.Random) -> None:
        self.lock = threading.Lock()
        self.assignments: list[tuple[float, dict]] = []  # (time.time() it arrived, form)
        self.events: list[tuple[float, dict]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                arrived = time.time()
                length = int(self.headers["Content-Length"])
                body = self.rfile.read(length)
                if len(body) < length:
                    return  # cut off by a kill: not a delivery (the sender sends it whole again)
                form = dict(parse_qsl(body.decode()))
                with receiver.lock:  # noted on arrival: a delivery whose answer a kill cut off still counts
                    (receiver.assignments if self.path == "/assignment" else receiver.events).append((arrived, form))
                    think = rng.uniform(0, 0.03)
                time.sleep(think)
                body = b""
                if self.path == "/assignment":
                    later = json.loads(form["TaskAttributes"])["answer"] == "later"
                    body = b"{}" if later else b'{"instruction": "accept"}'
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the TaskRouter was killed while it waited

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Api:
    """Plain HTTP to whichever process is serving the port now; every failure to get an answer (refused,
    reset mid-request) comes back as None, for the caller to retry or to count as 'may have happened'."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def call(self, method: str, path: str, **form: str) -> dict | None:
        try:
            response = requests.request(method, self.base_url + path, data=form or None, auth=ACCOUNT, timeout=10)
        except requests.RequestException:
            return None
        if response.status_code >= 500:
            raise AssertionError(f"{method} {path} answered {response.status_code}: {response.text}")
        return response.json() if response.content else {}

    def until(self, method: str, path: str, **form: str) -> dict:
        """Retry until some process answers (the setup, before any kill)."""
        for _ in range(200):
            body = self.call(method, path, **form)
            if body is not None:
                return body
            time.sleep(0.05)
        raise AssertionError(f"no answer to {method} {path}")

    def every(self, path: str, key: str) -> list[dict]:
        items, url = [], path + ("&" if "?" in path else "?") + "PageSize=1000"
        while url:
            page = self.until("GET", url)
            items += page[key]
            next_url = page["meta"]["next_page_url"]
            url = next_url[len(self.base_url):] if next_url else None
        return items


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_kill_9_at_random_moments_of_a_fifty_task_run(tmp_path, round_):
    seed = int(os.environ.get("KILL_SOAK_SEED", random.randrange(10**6))) + round_
    rng = random.Random(seed)
    print(f"KILL_SOAK_SEED={seed}")
    receiver = Receiver(rng)
    port = free_port()
    data_dir = tmp_path / "data"
    processes = [Cli(data_dir, "--port", str(port))]
    api = Api(processes[0].base_url)
    try:
        ws = api.until("POST", "/v1/Workspaces", FriendlyName="Soak", EventCallbackUrl=receiver.url("/events"))
        W = f"/v1/Workspaces/{ws['sid']}"
        activities = {a["friendly_name"]: a["sid"] for a in api.every(f"{W}/Activities", "activities")}
        idle = api.until("POST", f"{W}/Activities", FriendlyName="Idle", Available="true")["sid"]
        busy = api.until("POST", f"{W}/Activities", FriendlyName="Busy", Available="false")["sid"]
        queue = api.until("POST", f"{W}/TaskQueues", FriendlyName="All", TargetWorkers="1==1",
                          AssignmentActivitySid=busy)["sid"]
        config = {"task_routing": {"filters": [], "default_filter": {"queue": queue}}}
        # The callback accepts tasks of the first workflow at once; those of the second it leaves for later, to
        # be accepted through REST by the agents' loop within a second, or to time out first (sometimes while
        # the process is down) and be offered again. The first's timeout is long, so a busy machine cannot
        # make one of its reservations time out.
        flows = {answer: api.until("POST", f"{W}/Workflows", FriendlyName=answer, Configuration=json.dumps(config),
                                   AssignmentCallbackUrl=receiver.url("/assignment"),
                                   TaskReservationTimeout=timeout)["sid"]
                 for answer, timeout in (("accept", "120"), ("later", "1"))}
        workers = [api.until("POST", f"{W}/Workers", FriendlyName=f"Agent {i}", ActivitySid=idle)["sid"]
                   for i in range(WORKERS)]
        assert activities["Offline"]

        acknowledged: list[str] = []
        maybe = 0  # creates whose answer was lost to a kill: each may or may not have happened
        kills: list[float] = []
        done = threading.Event()
        failures: list[BaseException] = []

        def create_tasks() -> None:
            nonlocal maybe
            while len(acknowledged) < TASKS:
                n = len(acknowledged)
                attributes = {"n": n, "answer": "later" if n % 5 == 0 else "accept"}
                body = api.call("POST", f"{W}/Tasks", Attributes=json.dumps(attributes),
                                WorkflowSid=flows[attributes["answer"]])
                if body is None:
                    maybe += 1
                    time.sleep(0.05)
                else:
                    acknowledged.append(body["sid"])
                    time.sleep(rng.uniform(0, 0.05))

        def agents() -> None:
            """Accept some of what the callback left for later; complete what was assigned; put anyone Busy or
            Offline (a timeout) with nothing to do back to Idle."""
            while not done.is_set():
                reserved = api.call("GET", f"{W}/Tasks?AssignmentStatus=reserved&PageSize=100")
                for task in (reserved or {}).get("tasks", []):
                    if json.loads(task["attributes"])["answer"] == "later" and rng.random() < 0.15:
                        pending = api.call("GET", f"{W}/Tasks/{task['sid']}/Reservations?ReservationStatus=pending")
                        for res in (pending or {}).get("reservations", []):
                            api.call("POST", f"{W}/Tasks/{task['sid']}/Reservations/{res['sid']}",
                                     ReservationStatus="accepted")
                tasks = api.call("GET", f"{W}/Tasks?AssignmentStatus=assigned&PageSize=100")
                for task in (tasks or {}).get("tasks", []):
                    api.call("POST", f"{W}/Tasks/{task['sid']}", AssignmentStatus="completed", Reason="handled")
                for sid in workers:
                    worker = api.call("GET", f"{W}/Workers/{sid}")
                    if worker and worker["activity_sid"] != idle:
                        live = api.call("GET", f"{W}/Workers/{sid}/Reservations?ReservationStatus=accepted")
                        if live is not None and not live["reservations"]:
                            api.call("POST", f"{W}/Workers/{sid}", ActivitySid=idle)
                time.sleep(0.02)

        def guarded(fn):
            def run() -> None:
                try:
                    fn()
                except BaseException as exc:  # reported by the test thread
                    failures.append(exc)
            return run

        threads = [threading.Thread(target=guarded(f), daemon=True) for f in (create_tasks, agents)]
        for thread in threads:
            thread.start()
        for _ in range(KILLS):
            time.sleep(rng.uniform(0.2, 1.5))
            processes[-1].stop(signal.SIGKILL)
            # The mark between two processes' deliveries: after the death, with time for the receiver to note
            # what the dead process sent just before; the next process sends nothing before it starts.
            time.sleep(0.05)
            kills.append(time.time())
            processes.append(Cli(data_dir, "--port", str(port)))
        threads[0].join(120)
        assert not failures, failures

        def settled() -> bool:
            tasks = api.every(f"{W}/Tasks", "tasks")
            return len(tasks) >= len(acknowledged) and all(t["assignment_status"] == "completed" for t in tasks)

        wait_until(settled, timeout=60, what="every task completed")
        done.set()
        threads[1].join(30)
        assert not failures, failures

        # No task lost: every acknowledged create is there; a create whose answer was lost may be too.
        tasks = {t["sid"]: t for t in api.every(f"{W}/Tasks", "tasks")}
        assert set(acknowledged) <= set(tasks)
        assert len(tasks) <= len(acknowledged) + maybe

        # Every reservation was offered through the assignment callback, twice only across a kill, or not at
        # all when it timed out while no process ran (Twilio would not offer a reservation that has ended).
        reservations = [r for sid in tasks for r in api.every(f"{W}/Tasks/{sid}/Reservations", "reservations")]
        for task in tasks.values():
            mine = [r["reservation_status"] for r in reservations if r["task_sid"] == task["sid"]]
            assert mine.count("completed") == 1 and set(mine) <= {"completed", "timeout"}, (task, mine)
            if json.loads(task["attributes"])["answer"] == "accept":
                assert mine == ["completed"], ("accepted at its first offer", task, mine)
        with receiver.lock:
            offered: dict[str, list[float]] = {}
            for arrived, form in receiver.assignments:
                offered.setdefault(form["ReservationSid"], []).append(arrived)
        events = list(reversed(api.every(f"{W}/Events", "events")))  # oldest first
        ended = {e["resource_sid"]: e["event_date_ms"] / 1000 for e in events if e["event_type"] in
                 ("reservation.accepted", "reservation.timeout")}
        created = {e["resource_sid"]: e["event_date_ms"] / 1000 for e in events
                   if e["event_type"] == "reservation.created"}
        assert set(offered) <= set(created)
        for res in reservations:
            if res["sid"] not in offered:
                assert res["reservation_status"] == "timeout" and any(
                    created[res["sid"]] <= kill <= ended[res["sid"]] for kill in kills), ("never offered", res)
        for sid, times in offered.items():
            for first, again in zip(times, times[1:], strict=False):
                assert any(first < kill < again for kill in kills), f"{sid} offered twice with no kill between"

        # Every event the API lists was called back, in order; an event delivered twice had a kill between.
        wait_until(lambda: {f["Sid"] for _, f in receiver.events} >= {e["sid"] for e in events},
                   timeout=30, what="every event called back")
        with receiver.lock:
            delivered = list(receiver.events)
        assert {f["Sid"] for _, f in delivered} == {e["sid"] for e in events}
        seen: dict[str, float] = {}
        for arrived, form in delivered:
            if form["Sid"] in seen:
                assert any(seen[form["Sid"]] < kill < arrived for kill in kills), \
                    f"{form['EventType']} {form['Sid']} delivered twice with no kill between"
            seen.setdefault(form["Sid"], arrived)
        position = {e["sid"]: i for i, e in enumerate(events)}
        firsts = [position[sid] for sid in sorted(seen, key=seen.get)]
        assert firsts == sorted(firsts), "event callbacks arrived out of order"
        duplicates = len(delivered) - len(seen)
        assert duplicates <= len(kills), "a workspace's events go one at a time: one in flight per kill at most"
        print(f"{len(tasks)} tasks ({maybe} creates unanswered), {len(events)} events, {len(kills)} kills, "
              f"{duplicates} event and {sum(len(t) - 1 for t in offered.values())} assignment re-deliveries, "
              f"{len(reservations) - len(offered)} reservations ended while down")
    finally:
        for process in processes:
            process.kill_if_running()
        receiver.close()

    with LocalTaskRouter(data_dir=data_dir) as tr:  # the rules that hold whatever happened
        check_state(tr, ws["sid"], list(tasks), set())
        check_events(tr, ws["sid"])
