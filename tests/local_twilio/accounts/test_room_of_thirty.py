"""A room of thirty (issue 16, "done when"): one local TaskRouter serves 30 accounts made by the facilitator, and
each attendee runs the walkthrough with the SDK calls notebooks 01 to 03 make, ten at a time. No account sees
another's workspace, every callback is signed with its own account's token, and the board shows each one's true
step.

Each attendee has a "kernel": their callback app behind their own signature check (callback_server's
SignatureCheck, with their token), mounted at /<account sid>/ on one shared callback host, so the workflow calls
http://127.0.0.1:<port>/<sid>/assignment_callback. Re-running the notebook's route cell swaps the app behind it.
"""

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest
from board_support import SPANISH, Facilitator
from flask import Flask, Response
from polling import wait_until
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Response as PlainResponse

from tutorial_helpers.callback_server import CallbackLog, SignatureCheck
from tutorial_helpers.checks import check_step_02, check_step_03, check_workspace
from tutorial_helpers.local_twilio import make_local_client
from tutorial_helpers.workspace import QuickstartWorkspace, build_quickstart, tidy_up_tasks

ROOM = 30
AT_ONCE = 10
# Where each attendee stops: ten after notebook 01, ten after 02, ten after 03 (interleaved, so that every batch
# of the pool mixes them).
LAST_NOTEBOOK = {i: ("01", "02", "03")[i % 3] for i in range(ROOM)}
CALLBACKS_BY = {"01": 0, "02": 1, "03": 2}  # 02's callback answers {}, 03's answers accept


def route(answer: str) -> Flask:
    """The notebooks' assignment callback route: {} in 01 and 02 ("decide later"), the accept instruction in 03."""
    app = Flask(f"callback-{answer}")

    @app.route("/assignment_callback", methods=["GET", "POST"])
    def assignment_callback():
        return Response(response=answer, status=200, mimetype="application/json")

    return app


DECIDE_LATER = route("{}")
ACCEPT = route('{"instruction": "accept"}')


class _Quiet(WSGIRequestHandler):
    def log(self, type: str, message: str, *args) -> None:
        pass


@dataclass
class Kernel:
    """One attendee's callback server: their app behind a signature check with their own token, and its log."""

    account: dict
    base_url: str = ""
    log: CallbackLog = field(default_factory=CallbackLog)

    def __post_init__(self) -> None:
        self.check = SignatureCheck(DECIDE_LATER.wsgi_app, self.account["auth_token"], log=self.log)

    def serve(self, app: Flask) -> None:
        """What re-running the notebook's route cell does: the new route, behind the same URL."""
        self.check.app = app.wsgi_app

    def url_for(self, path: str) -> str:
        return f"{self.base_url}/{self.account['sid']}{path}"


class CallbackHost:
    """One werkzeug server for every attendee's kernel, each mounted under its account's sid."""

    def __init__(self, kernels: list[Kernel]) -> None:
        nobody = PlainResponse("no such attendee", status=404)
        app = DispatcherMiddleware(nobody, {f"/{k.account['sid']}": k.check for k in kernels})
        self._server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Quiet)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        for kernel in kernels:
            kernel.base_url = f"http://127.0.0.1:{self._server.server_port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@dataclass
class Walked:
    """What one attendee ended with."""

    name: str
    account: dict
    kernel: Kernel
    last: str
    quickstart: QuickstartWorkspace | None = None


def walkthrough(base_url: str, walked: Walked) -> None:
    """Notebooks 01 to `walked.last`, with the calls they make, each step closed by its check."""
    client = make_local_client(base_url, walked.account["sid"], walked.account["auth_token"])
    kernel = walked.kernel
    # 01: the quickstart's workspace, its workflow calling this kernel's {} route.
    kernel.serve(DECIDE_LATER)
    quickstart = walked.quickstart = build_quickstart(client, kernel.url_for("/assignment_callback"))
    result = check_workspace(client, callback_url=kernel.url_for("/assignment_callback"))
    assert result.ok, f"{walked.name} 01: {result}"
    if walked.last == "01":
        return
    # 02: the route answers {}, a Spanish task waits for Alice, she goes Idle, the reservation is accepted via REST.
    task_sid = _spanish_task_for_alice(client, quickstart, kernel, DECIDE_LATER)
    ws = client.taskrouter.v1.workspaces(quickstart.workspace_sid)
    wait_until(lambda: _callbacks_for(kernel, task_sid), timeout=15, what=f"{walked.name}'s 02 callback")
    pending = wait_until(lambda: ws.tasks(task_sid).reservations.list(reservation_status="pending"), timeout=15,
                         what=f"{walked.name}'s pending reservation")
    ws.tasks(task_sid).reservations(pending[0].sid).update(reservation_status="accepted")
    result = check_step_02(client, quickstart, task_sid, kernel)
    assert result.ok, f"{walked.name} 02: {result}"
    if walked.last == "02":
        return
    # 03: the route answers {"instruction": "accept"}; Alice goes Idle and the callback's answer assigns the task.
    task_sid = _spanish_task_for_alice(client, quickstart, kernel, ACCEPT)
    result = check_step_03(client, quickstart, task_sid, kernel, timeout=20)
    assert result.ok, f"{walked.name} 03: {result}"


def _spanish_task_for_alice(client, quickstart: QuickstartWorkspace, kernel: Kernel, app: Flask) -> str:
    """The part notebooks 02 and 03 share: the route, the workflow's URL, Alice Offline, the task, Alice Idle."""
    ws = client.taskrouter.v1.workspaces(quickstart.workspace_sid)
    kernel.serve(app)
    ws.workflows(quickstart.workflow_sid).update(assignment_callback_url=kernel.url_for("/assignment_callback"))
    alice = ws.workers(quickstart.workers["Alice"])
    alice.update(activity_sid=quickstart.activities["Offline"], reject_pending_reservations=True)
    tidy_up_tasks(client, quickstart)
    task = ws.tasks.create(attributes=SPANISH, workflow_sid=quickstart.workflow_sid)
    alice.update(activity_sid=quickstart.activities["Idle"])  # the learner's click
    return task.sid


def _callbacks_for(kernel: Kernel, task_sid: str) -> list:
    return [e for e in kernel.log.entries() if e.params.get("TaskSid") == task_sid]


@pytest.fixture
def facilitator(taskrouter) -> Facilitator:
    f = Facilitator(taskrouter.base_url, taskrouter.data_dir)
    yield f
    f.session.close()


def test_thirty_attendees_walk_through_at_once_each_in_their_own_account(taskrouter, facilitator):
    room = []
    for i in range(ROOM):
        account = facilitator.create(f"Attendee {i + 1:02d}")
        room.append(Walked(account["friendly_name"], account, Kernel(account), LAST_NOTEBOOK[i]))
    host = CallbackHost([w.kernel for w in room])
    try:
        with ThreadPoolExecutor(max_workers=AT_ONCE, thread_name_prefix="attendee") as pool:
            for done in [pool.submit(walkthrough, taskrouter.base_url, w) for w in room]:
                done.result()  # an attendee's failed step fails the test, with its check's words
        assert taskrouter.wait_for_callbacks(30)
    finally:
        host.close()

    clients = {w.name: make_local_client(taskrouter.base_url, w.account["sid"], w.account["auth_token"]) for w in room}

    # Nobody sees another's workspace: their list has theirs only, and another's sid is 404 to them.
    for w in room:
        listed = [ws.sid for ws in clients[w.name].taskrouter.v1.workspaces.list()]
        assert listed == [w.quickstart.workspace_sid], w.name
    for i, w in enumerate(room):
        for other in (room[(i + 1) % ROOM], room[(i + 11) % ROOM]):
            with pytest.raises(TwilioRestException) as refused:
                clients[w.name].taskrouter.v1.workspaces(other.quickstart.workspace_sid).fetch()
            assert refused.value.status == 404, (w.name, other.name)

    # Every callback an attendee's kernel saw was signed with their own token, and with no one else's.
    for i, w in enumerate(room):
        entries = w.kernel.log.entries()
        assert len(entries) == CALLBACKS_BY[w.last], (w.name, w.last, entries)
        assert all(e.signature_valid for e in entries), w.name
        assert {e.params["WorkspaceSid"] for e in entries} <= {w.quickstart.workspace_sid}
        own = RequestValidator(w.account["auth_token"])
        neighbour = RequestValidator(room[(i + 1) % ROOM].account["auth_token"])
        for e in entries:
            url = w.kernel.base_url + e.path
            assert own.validate(url, e.params, e.signature) and not neighbour.validate(url, e.params, e.signature)

    # The board: each attendee at their true step, no problem, and the counts at the top to match.
    board = facilitator.board()
    assert [row["name"] for row in board["attendees"]] == [w.name for w in room]
    expected = {
        "01": dict(workspace_built=True, step_02=False, step_03=False),
        "02": dict(workspace_built=True, step_02=True, step_03=False),
        "03": dict(workspace_built=True, step_02=True, step_03=True),
    }
    at = {"01": "workspace_built", "02": "step_02", "03": "step_03"}
    for w, row in zip(room, board["attendees"], strict=True):
        assert row["sid"] == w.account["sid"]
        assert row["progress"] == {**expected[w.last], "step_04": False, "step_05": False, "step_06": False}, \
            (w.name, w.last, row)
        assert row["at"] == at[w.last], w.name
        assert row["last_problem"] is None, (w.name, row["last_problem"])
    assert board["counts"] == {
        "attendees": ROOM,
        "done": {"workspace_built": 30, "step_02": 20, "step_03": 10, "step_04": 0, "step_05": 0, "step_06": 0},
        "at": {"not_started": 0, "workspace_built": 10, "step_02": 10, "step_03": 10, "step_04": 0, "step_05": 0,
               "step_06": 0},
    }
