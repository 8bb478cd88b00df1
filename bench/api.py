"""Raw REST access for the benchmarks, and the workspace they run in.

A plain requests.Session with Basic auth, not the twilio SDK: the SDK's own
per-call cost is not the server's (table 5 measures it separately), and bulk
setup of thousands of resources is quicker this way.
"""

import json
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import requests

from .harness import ACCOUNT_SID, AUTH_TOKEN

T = TypeVar("T")
R = TypeVar("R")

POLL_LIMIT = 10.0  # seconds a single assignment may take before the sample counts as failed
RESERVATION_TIMEOUT = 1200  # as the quickstart: nothing should time out during a bench


class ApiError(RuntimeError):
    pass


class Api:
    def __init__(self, base_url: str, timeout: float = 30.0):
        self.root = base_url.rstrip("/") + "/v1"
        self.timeout = timeout
        self.session = requests.Session()
        self.session.auth = (ACCOUNT_SID, AUTH_TOKEN)
        self.requests = 0  # how many HTTP requests this client made, for requests/s

    def _check(self, response: requests.Response) -> dict[str, Any]:
        self.requests += 1
        if response.status_code >= 300:
            raise ApiError(f"{response.request.method} {response.url} -> {response.status_code}: {response.text[:300]}")
        return response.json() if response.content else {}

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        return self._check(self.session.get(self.root + path, params=params, timeout=self.timeout))

    def post(self, path: str, **form: Any) -> dict[str, Any]:
        data = {k: ("true" if v is True else "false" if v is False else v) for k, v in form.items()}
        return self._check(self.session.post(self.root + path, data=data, timeout=self.timeout))

    def close(self) -> None:
        self.session.close()


def parallel(base_url: str, items: Iterable[T], fn: Callable[[Api, T], R], threads: int = 4) -> list[R]:
    """Bulk setup from a few threads, one Session each (a Session is not safe to share)."""
    local = threading.local()
    made: list[Api] = []

    def call(item: T) -> R:
        api = getattr(local, "api", None)
        if api is None:
            api = local.api = Api(base_url)
            made.append(api)
        return fn(api, item)

    try:
        with ThreadPoolExecutor(threads) as pool:
            return list(pool.map(call, items))
    finally:
        for api in made:
            api.close()


@dataclass
class Workspace:
    """The quickstart's workspace (single-tasking; Alice, Bob; Spanish and English queues), plus a
    "Parked" queue that no worker matches, so tasks sent there stay pending (table 4)."""

    api: Api
    sid: str
    activities: dict[str, str]
    queues: dict[str, str]
    workflow: str
    workers: dict[str, str] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return f"/Workspaces/{self.sid}"

    @classmethod
    def create(cls, api: Api, callback_url: str, name: str = "Bench") -> "Workspace":
        ws = api.post("/Workspaces", FriendlyName=name, MultiTaskEnabled=False)
        path = f"/Workspaces/{ws['sid']}"
        activities = {a["friendly_name"]: a["sid"] for a in api.get(f"{path}/Activities")["activities"]}
        for name_, available in (("Idle", True), ("Busy", False), ("Reserved", False)):
            activities[name_] = api.post(f"{path}/Activities", FriendlyName=name_, Available=available)["sid"]
        queues = {}
        for label, expression in (("Spanish", 'languages HAS "es"'), ("English", 'languages HAS "en"'),
                                  ("Parked", 'languages HAS "xx"')):
            queues[label] = api.post(
                f"{path}/TaskQueues", FriendlyName=f"Customer Care Requests - {label}", TargetWorkers=expression,
                ReservationActivitySid=activities["Reserved"], AssignmentActivitySid=activities["Busy"],
            )["sid"]
        config = {"task_routing": {
            "filters": [
                {"expression": f'selected_language == "{lang}"', "targets": [{"queue": queues[label]}]}
                for lang, label in (("es", "Spanish"), ("en", "English"), ("xx", "Parked"))
            ],
            "default_filter": {"queue": queues["English"]},
        }}
        workflow = api.post(
            f"{path}/Workflows", FriendlyName="Incoming Customer Care Requests", Configuration=json.dumps(config),
            AssignmentCallbackUrl=callback_url, TaskReservationTimeout=RESERVATION_TIMEOUT,
        )["sid"]
        return cls(api, ws["sid"], activities, queues, workflow)

    def with_api(self, api: Api) -> "Workspace":
        """The same workspace seen through another client (another thread or process)."""
        return Workspace(api, self.sid, self.activities, self.queues, self.workflow, dict(self.workers))

    def spec(self) -> dict[str, Any]:
        """What a client process needs to rebuild this object (picklable)."""
        return {"sid": self.sid, "activities": self.activities, "queues": self.queues,
                "workflow": self.workflow, "workers": self.workers}

    @classmethod
    def from_spec(cls, api: Api, spec: dict[str, Any]) -> "Workspace":
        return cls(api, spec["sid"], spec["activities"], spec["queues"], spec["workflow"], spec["workers"])

    # -- setup -----------------------------------------------------------------------

    def add_worker(self, name: str, languages: list[str], activity: str = "Offline") -> str:
        sid = self.api.post(f"{self.path}/Workers", FriendlyName=name,
                            Attributes=json.dumps({"languages": languages}),
                            ActivitySid=self.activities[activity])["sid"]
        self.workers[name] = sid
        return sid

    def add_quickstart_workers(self) -> None:
        self.add_worker("Alice", ["en", "es"])
        self.add_worker("Bob", ["en"])

    def add_workers(self, names: list[str], languages: list[str], activity: str) -> None:
        def one(api: Api, name: str) -> tuple[str, str]:
            return name, self.with_api(api).add_worker(name, languages, activity)

        self.workers.update(parallel(self.api.root.removesuffix("/v1"), names, one))

    def park_tasks(self, count: int) -> None:
        """Tasks routed to the Parked queue, which no worker matches: they stay pending."""
        def one(api: Api, _: int) -> None:
            self.with_api(api).create_task("xx")

        parallel(self.api.root.removesuffix("/v1"), range(count), one)

    # -- the verbs the measurements time ------------------------------------------------------

    def create_task(self, language: str = "es") -> dict[str, Any]:
        return self.api.post(f"{self.path}/Tasks", Attributes=json.dumps({"selected_language": language}),
                             WorkflowSid=self.workflow)

    def task(self, sid: str) -> dict[str, Any]:
        return self.api.get(f"{self.path}/Tasks/{sid}")

    def set_activity(self, worker_sid: str, activity: str) -> dict[str, Any]:
        return self.api.post(f"{self.path}/Workers/{worker_sid}", ActivitySid=self.activities[activity])

    def complete(self, task_sid: str) -> dict[str, Any]:
        return self.api.post(f"{self.path}/Tasks/{task_sid}", AssignmentStatus="completed", Reason="bench")

    def wait_assigned(self, task_sid: str, pause: float = 0.0) -> int:
        """Poll GET task until it is assigned (a tight loop unless `pause`); returns the number of polls."""
        end = time.monotonic() + POLL_LIMIT
        polls = 0
        while True:
            polls += 1
            status = self.task(task_sid)["assignment_status"]
            if status == "assigned":
                return polls
            if time.monotonic() > end:
                raise ApiError(f"task {task_sid} still {status} after {POLL_LIMIT:g} s")
            if pause:
                time.sleep(pause)

    def wait_accepted_worker(self, task_sid: str, pause: float = 0.0) -> tuple[str, int]:
        """Poll a task's reservations until one is accepted (= task assigned); returns (worker, polls)."""
        end = time.monotonic() + POLL_LIMIT
        polls = 0
        while True:
            polls += 1
            page = self.api.get(f"{self.path}/Tasks/{task_sid}/Reservations")["reservations"]
            for res in page:
                if res["reservation_status"] == "accepted":
                    return res["worker_sid"], polls
            if time.monotonic() > end:
                raise ApiError(f"task {task_sid} has no accepted reservation after {POLL_LIMIT:g} s")
            if pause:
                time.sleep(pause)
