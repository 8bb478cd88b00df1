"""Shared fixtures: a real local TaskRouter on a free port, driven by the official SDK."""

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask, Response, request
from http_support import Http
from werkzeug.serving import make_server

from tutorial_helpers.local_twilio import LocalTaskRouter


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "paused_clock: the `taskrouter` fixture's clock moves only when advanced, so exact durations "
        "(a 30 s wait, a timeout one second short of due) do not depend on how fast the machine is",
    )


@pytest.fixture
def taskrouter(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LocalTaskRouter]:
    """A local TaskRouter on its own data dir; with the `paused_clock` mark, its clock moves only when advanced."""
    paused = request.node.get_closest_marker("paused_clock") is not None
    with LocalTaskRouter(data_dir=tmp_path / "data", paused_clock=paused) as tr:
        yield tr


@pytest.fixture
def client(taskrouter: LocalTaskRouter):
    return taskrouter.client()


class CallbackRecorder:
    """A real HTTP server standing in for the learner's app; answers are programmable."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.answer: Callable[[], Response] = lambda: Response("{}", mimetype="application/json")
        app = Flask("callback-recorder")

        @app.route("/<path:path>", methods=["GET", "POST"])
        def anything(path: str) -> Response:
            self.requests.append(
                {
                    "path": "/" + path,
                    "url": request.url,
                    "form": request.form.to_dict(),
                    "signature": request.headers.get("X-Twilio-Signature"),
                }
            )
            return self.answer()

        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        # Polling for shutdown every 50 ms, not werkzeug's 0.5 s: most tests stop one of these.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    def url(self, path: str = "/assignment_callback") -> str:
        return f"http://127.0.0.1:{self._server.server_port}{path}"

    def answer_json(self, body: dict, status: int = 200) -> None:
        self.answer = lambda: Response(json.dumps(body), status=status, mimetype="application/json")

    def wait_for(self, count: int, path: str | None = None, timeout: float = 10.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = [r for r in self.requests if path is None or r["path"] == path]
            if len(got) >= count:
                return got
            time.sleep(0.01)
        raise AssertionError(f"expected {count} callbacks on {path}, got {len(self.requests)}")

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def no_callback_server_left() -> Iterator[None]:
    """The callback server is one per process: stop whatever a test started."""
    yield
    from tutorial_helpers.callback_server import CallbackServer

    server = CallbackServer.current()
    if server is not None:
        server.stop()


@pytest.fixture
def callbacks() -> Iterator[CallbackRecorder]:
    recorder = CallbackRecorder()
    yield recorder
    recorder.close()




class Quickstart:
    """The quickstart's workspace (single-tasking) built through the SDK."""

    def __init__(self, client, callback_url: str | None, reservation_timeout: int = 1200):
        tr = client.taskrouter.v1
        self.client = client
        ws = tr.workspaces.create(friendly_name="TaskRouter Quickstart", multi_task_enabled=False)
        self.workspace_sid = ws.sid
        self.ws = tr.workspaces(ws.sid)
        self.offline = next(a for a in self.ws.activities.list() if a.friendly_name == "Offline")
        self.idle = self.ws.activities.create(friendly_name="Idle", available=True)
        self.busy = self.ws.activities.create(friendly_name="Busy", available=False)
        self.reserved = self.ws.activities.create(friendly_name="Reserved", available=False)
        self.alice = self.ws.workers.create(
            friendly_name="Alice", attributes=json.dumps({"languages": ["en", "es"]})
        )
        self.bob = self.ws.workers.create(
            friendly_name="Bob", attributes=json.dumps({"languages": ["en"]})
        )
        self.spanish = self.ws.task_queues.create(
            friendly_name="Customer Care Requests - Spanish",
            target_workers='languages HAS "es"',
            reservation_activity_sid=self.reserved.sid,
            assignment_activity_sid=self.busy.sid,
        )
        self.english = self.ws.task_queues.create(
            friendly_name="Customer Care Requests - English",
            target_workers='languages HAS "en"',
            reservation_activity_sid=self.reserved.sid,
            assignment_activity_sid=self.busy.sid,
        )
        config = {
            "task_routing": {
                "filters": [
                    {"expression": 'selected_language == "es"', "targets": [{"queue": self.spanish.sid}]},
                    {"expression": 'selected_language == "en"', "targets": [{"queue": self.english.sid}]},
                ],
                "default_filter": {"queue": self.english.sid},
            }
        }
        kwargs = {"assignment_callback_url": callback_url} if callback_url else {}
        self.workflow = self.ws.workflows.create(
            friendly_name="Incoming Customer Care Requests",
            configuration=json.dumps(config),
            task_reservation_timeout=reservation_timeout,
            **kwargs,
        )

    def spanish_task(self, **kwargs):
        return self.ws.tasks.create(
            attributes=json.dumps({"selected_language": "es"}), workflow_sid=self.workflow.sid, **kwargs
        )

    def set_activity(self, worker, activity):
        return self.ws.workers(worker.sid).update(activity_sid=activity.sid)

    def task(self, sid: str):
        return self.ws.tasks(sid).fetch()

    def worker(self, worker):
        return self.ws.workers(worker.sid).fetch()


@pytest.fixture
def quickstart(client, callbacks) -> Quickstart:
    return Quickstart(client, callbacks.url())


@pytest.fixture
def http(taskrouter) -> Iterator[Http]:
    h = Http(taskrouter)
    yield h
    h.session.close()


@pytest.fixture
def voice_app_factory(taskrouter):
    """Learner voice apps (tests/voice_app.py), closed at the end of the test."""
    from voice_app import VoiceApp

    made = []

    def make():
        made.append(VoiceApp(taskrouter.auth_token))
        return made[-1]

    yield make
    for app in made:
        app.close()
