"""A simulated workshop room for the board's tests: accounts made by the facilitator, each attendee driving the
walkthrough through the official SDK with their own account, as notebooks 01 to 03 do."""

import json
import socket
from dataclasses import dataclass
from pathlib import Path

import requests
from polling import wait_until

from tutorial_helpers.local_twilio import make_local_client
from tutorial_helpers.local_twilio.accounts import facilitator_token
from tutorial_helpers.workspace import QuickstartWorkspace, build_quickstart

SPANISH = json.dumps({"selected_language": "es"})


def closed_port_url(path: str = "/assignment_callback") -> str:
    """A URL nothing listens on: the port was free a moment ago and is closed again."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


class Facilitator:
    """The facilitator's side: /_local/Accounts and /_local/Board.json, with the bearer token of the data dir."""

    def __init__(self, base_url: str, data_dir: Path) -> None:
        self.base_url = base_url
        self.token = facilitator_token(data_dir)
        self.session = requests.Session()

    def get(self, path: str, token: str | None = None, **kwargs) -> requests.Response:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        return self.session.get(self.base_url + path, headers=headers, timeout=30, **kwargs)

    def create(self, name: str) -> dict:
        response = self.session.post(self.base_url + "/_local/Accounts", data={"FriendlyName": name},
                                     headers={"Authorization": f"Bearer {self.token}"}, timeout=30)
        assert response.status_code == 201, response.text
        return response.json()

    def board(self) -> dict:
        response = self.get("/_local/Board.json")
        assert response.status_code == 200, response.text
        return response.json()

    def rows(self) -> dict[str, dict]:
        return {row["name"]: row for row in self.board()["attendees"]}


@dataclass
class Attendee:
    """One attendee's account and the quickstart they built, driven like the notebooks drive it."""

    account: dict
    base_url: str
    quickstart: QuickstartWorkspace | None = None

    @property
    def client(self):
        return make_local_client(self.base_url, self.account["sid"], self.account["auth_token"])

    @property
    def workspace(self):
        assert self.quickstart is not None
        return self.client.taskrouter.v1.workspaces(self.quickstart.workspace_sid)

    def build(self, assignment_callback_url: str | None = None) -> None:
        """Notebook 01."""
        self.quickstart = build_quickstart(self.client, assignment_callback_url)

    def alice_idle(self) -> None:
        assert self.quickstart is not None
        self.workspace.workers(self.quickstart.workers["Alice"]).update(
            activity_sid=self.quickstart.activities["Idle"])

    def spanish_task(self):
        assert self.quickstart is not None
        return self.workspace.tasks.create(attributes=SPANISH, workflow_sid=self.quickstart.workflow_sid)

    def accept_through_rest(self) -> None:
        """Notebook 02: Alice Idle, a Spanish task, and its reservation updated to accepted."""
        self.alice_idle()
        task = self.spanish_task()
        reservations = self.workspace.tasks(task.sid).reservations
        pending = wait_until(lambda: reservations.list(reservation_status="pending"), what="a reservation")
        reservations(pending[0].sid).update(reservation_status="accepted")
        self.finish(task.sid)

    def finish(self, task_sid: str) -> None:
        """Wrap the step up as tidy_up_tasks would: the task completed, Alice free for the next step."""
        self.workspace.tasks(task_sid).update(assignment_status="completed", reason="step done")

    def accept_by_callback(self, callback_url: str, taskrouter) -> None:
        """Notebook 03: the workflow calls the app, which answers {"instruction": "accept"}."""
        assert self.quickstart is not None
        self.workspace.workflows(self.quickstart.workflow_sid).update(assignment_callback_url=callback_url)
        self.alice_idle()
        task = self.spanish_task()
        assert taskrouter.wait_for_callbacks(30)
        wait_until(lambda: self.workspace.tasks(task.sid).fetch().assignment_status == "assigned",
                   what="the task assigned by the callback's accept")
        self.finish(task.sid)

    def task_for_an_unreachable_callback(self, taskrouter) -> None:
        """The broken attendee: a workflow whose callback URL nothing listens on (alert 11200)."""
        self.alice_idle()
        self.spanish_task()
        assert taskrouter.wait_for_callbacks(30)


def room(taskrouter, facilitator: Facilitator, accept_url: str, names=("Ana", "Ben", "Chloé", "Dev")) \
        -> dict[str, Attendee]:
    """Four attendees: one who built the workspace, one at step 02, one at step 03, one with a dead callback."""
    a, b, c, d = (Attendee(facilitator.create(name), taskrouter.base_url) for name in names)
    a.build()
    b.build()
    b.accept_through_rest()
    c.build()
    c.accept_through_rest()
    c.accept_by_callback(accept_url, taskrouter)
    d.build(closed_port_url())
    d.task_for_an_unreachable_callback(taskrouter)
    return dict(zip(names, (a, b, c, d), strict=True))
