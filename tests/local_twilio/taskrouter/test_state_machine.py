"""The lifecycle rules checked together, by a machine: hypothesis drives the official SDK against a live local
TaskRouter through random sequences (tasks created, re-routed, canceled, deleted, completed; activities
changed; reservations accepted, rejected, wrapped and timed out on the clock; the workflow changed; the server
restarted on the same data), and after every step reads the whole state and checks that it agrees with itself.

A bounded run is part of `make test`; `make fuzz` sets STATE_MACHINE_EXAMPLES for a long one.
"""

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, seed, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from invariants import check_events, check_state
from twilio.base.exceptions import TwilioRestException

from tutorial_helpers.local_twilio import LocalTaskRouter
from tutorial_helpers.local_twilio.taskrouter.models.base import TERMINAL_TASK_RETENTION
from tutorial_helpers.workspace import QuickstartWorkspace, build_quickstart

EXAMPLES = int(os.environ.get("STATE_MACHINE_EXAMPLES", "200"))
LANGUAGES = st.sampled_from(["es", "en"])
WORKERS = st.sampled_from(["Alice", "Bob"])
ACTIVITIES = st.sampled_from(["Idle", "Offline", "Busy", "Idle"])


_template: tuple[tempfile.TemporaryDirectory, QuickstartWorkspace] | None = None


def quickstart_data() -> tuple[Path, QuickstartWorkspace]:
    """A data dir holding the quickstart's workspace, built once: each example starts on a copy of it."""
    global _template
    if _template is None:
        made = tempfile.TemporaryDirectory(prefix="state-machine-template-")
        with LocalTaskRouter(data_dir=Path(made.name)) as tr:
            _template = (made, build_quickstart(tr.client()))
    return Path(_template[0].name), _template[1]


class TaskRouterMachine(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="state-machine-")
        template, self.qs = quickstart_data()
        shutil.copytree(template, self._dir.name, dirs_exist_ok=True)
        self.tr = LocalTaskRouter(data_dir=Path(self._dir.name)).start()
        self.client = self.tr.client()
        self.created: list[str] = []
        self.deleted: set[str] = set()

    def teardown(self) -> None:
        tr = getattr(self, "tr", None)
        if tr is not None:
            tr.stop()
            self._dir.cleanup()

    @property
    def ws(self):
        return self.client.taskrouter.v1.workspaces(self.qs.workspace_sid)

    def _rows(self, kind: str) -> list[dict]:
        with self.tr.backend.state.lock:
            return [dict(r) for r in self.tr.backend.state.rows.values() if r["_kind"] == kind]

    def _tasks(self, *statuses: str) -> list[dict]:
        return [t for t in self._rows("task") if not statuses or t["assignment_status"] in statuses]

    def _pending(self) -> list[dict]:
        return [r for r in self._rows("reservation") if r["reservation_status"] == "pending"]

    @staticmethod
    def _refused(call) -> None:
        """A request the rules may refuse (a race with a timeout, a status that moved on): a 4xx, never a 5xx."""
        try:
            call()
        except TwilioRestException as exc:
            assert 400 <= exc.status < 500, f"{exc.status}: {exc.msg}"

    # ------------------------------------------------------------------ rules

    @rule(language=LANGUAGES, priority=st.integers(0, 3))
    def create_task(self, language: str, priority: int) -> None:
        task = self.ws.tasks.create(attributes=json.dumps({"selected_language": language}),
                                    workflow_sid=self.qs.workflow_sid, priority=priority)
        self.created.append(task.sid)

    @precondition(lambda self: self._tasks("pending", "reserved"))
    @rule(data=st.data(), language=LANGUAGES)
    def change_attributes(self, data, language: str) -> None:
        task = data.draw(st.sampled_from(self._tasks("pending", "reserved")))
        self._refused(lambda: self.ws.tasks(task["sid"]).update(
            attributes=json.dumps({"selected_language": language})))

    @precondition(lambda self: self._tasks("pending", "reserved"))
    @rule(data=st.data())
    def cancel_task(self, data) -> None:
        task = data.draw(st.sampled_from(self._tasks("pending", "reserved")))
        self._refused(lambda: self.ws.tasks(task["sid"]).update(assignment_status="canceled", reason="machine"))

    @precondition(lambda self: self._tasks())
    @rule(data=st.data())
    def delete_task(self, data) -> None:
        task = data.draw(st.sampled_from(self._tasks()))
        try:
            self.ws.tasks(task["sid"]).delete()
            self.deleted.add(task["sid"])
        except TwilioRestException as exc:
            assert 400 <= exc.status < 500

    @rule(worker=WORKERS, activity=ACTIVITIES)
    def set_activity(self, worker: str, activity: str) -> None:
        self._refused(lambda: self.ws.workers(self.qs.workers[worker]).update(
            activity_sid=self.qs.activities[activity], reject_pending_reservations=activity != "Idle"))

    @precondition(lambda self: self._pending())
    @rule(data=st.data(), accept=st.booleans())
    def answer_reservation(self, data, accept: bool) -> None:
        res = data.draw(st.sampled_from(self._pending()))
        status = "accepted" if accept else "rejected"
        self._refused(lambda: self.ws.tasks(res["task_sid"]).reservations(res["sid"]).update(
            reservation_status=status))

    @precondition(lambda self: self._tasks("assigned", "wrapping"))
    @rule(data=st.data(), wrap_first=st.booleans())
    def finish_task(self, data, wrap_first: bool) -> None:
        task = data.draw(st.sampled_from(self._tasks("assigned", "wrapping")))
        if wrap_first and task["assignment_status"] == "assigned":
            self._refused(lambda: self.ws.tasks(task["sid"]).update(assignment_status="wrapping"))
        else:
            self._refused(lambda: self.ws.tasks(task["sid"]).update(assignment_status="completed", reason="done"))

    @rule(seconds=st.sampled_from([1, 30, 119, 121, 600, 1201, TERMINAL_TASK_RETENTION + 1]))
    def advance_clock(self, seconds: int) -> None:
        self.tr.advance_clock(seconds)

    @rule(timeout=st.sampled_from([60, 120, 1200]))
    def change_workflow(self, timeout: int) -> None:
        self.ws.workflows(self.qs.workflow_sid).update(task_reservation_timeout=timeout)

    @rule()
    def restart(self) -> None:
        self.tr.stop()
        self.tr = LocalTaskRouter(data_dir=Path(self._dir.name)).start()
        self.client = self.tr.client()

    # ------------------------------------------------------------------ what must always hold

    @invariant()
    def the_state_agrees_with_itself(self) -> None:
        if hasattr(self, "tr"):
            check_state(self.tr, self.qs.workspace_sid, self.created, self.deleted)

    @invariant()
    def events_are_real_transitions_in_order(self) -> None:
        if hasattr(self, "tr"):
            check_events(self.tr, self.qs.workspace_sid)


# make test's bounded run is cut in shards that pytest-xdist runs side by side (it was the longest test of the
# suite); each shard has its own fixed seed, so the run is the same every time. make fuzz's long run is random.
SHARDS = 2
FIXED = "STATE_MACHINE_EXAMPLES" not in os.environ


@pytest.mark.parametrize("shard", range(SHARDS))
def test_the_rules_hold_together(shard: int) -> None:
    machine = type(f"TaskRouterMachineShard{shard}", (TaskRouterMachine,), {})
    if FIXED:
        machine = seed(shard)(machine)
    run_state_machine_as_test(machine, settings=settings(
        max_examples=-(-EXAMPLES // SHARDS), stateful_step_count=20, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
