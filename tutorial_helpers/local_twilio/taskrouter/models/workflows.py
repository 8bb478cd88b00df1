"""Workflows: their routing configuration (parsed by routing.py, cached here by its text) and callback URLs.

Updating a workflow with ReEvaluateTasks routes its pending tasks again; a
workflow with unfinished tasks cannot be deleted.
"""

from typing import Any

from ...core.exceptions import InUse, InvalidParameter
from ...core.limits import RESERVATION_TIMEOUT
from ...core.state import Row, new_sid
from ...core.validators import valid_url
from ..routing import WorkflowConfig, parse_configuration
from .base import (
    BackendBase,
    valid_friendly_name,
)


class WorkflowsMixin(BackendBase):
    """Workflows and their parsed configurations."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # workflow sid -> (configuration text, parsed), declared in BackendBase: a rolled-back update re-parses.
        self._configs = {}

    def config(self, workflow: Row) -> WorkflowConfig:
        """The parsed configuration, cached by its text (so a rolled-back update re-parses)."""
        text = workflow["configuration"]
        cached = self._configs.get(workflow["sid"])
        if cached is None or cached[0] != text:
            cached = (text, parse_configuration(text, lambda q: True))
            self._configs[workflow["sid"]] = cached
        return cached[1]

    def _workflow_params(self, ws: Row, params: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if params.get("configuration") is not None:
            config = parse_configuration(
                params["configuration"],
                lambda q: (self.state.rows.get(q) or {}).get("workspace_sid") == ws["sid"]
                and self.state.rows[q]["_kind"] == "task_queue",
            )
            out["configuration"] = params["configuration"]
            out["_parsed"] = config
        timeout = params.get("task_reservation_timeout")
        if timeout is not None:
            out["task_reservation_timeout"] = RESERVATION_TIMEOUT.check(timeout, "TaskReservationTimeout")
        for field, what in (("assignment_callback_url", "AssignmentCallbackUrl"),
                            ("fallback_assignment_callback_url", "FallbackAssignmentCallbackUrl")):
            if params.get(field) is not None:
                out[field] = valid_url(params[field], what)
        return out

    def _insert_workflow(
        self,
        ws: Row,
        name: str,
        configuration: str,
        callback: str | None,
        fallback: str | None,
        timeout: int,
    ) -> Row:
        return self.state.insert(
            "workflow",
            {
                "sid": new_sid("WW"),
                "account_sid": ws["account_sid"],
                "workspace_sid": ws["sid"],
                "friendly_name": name,
                "configuration": configuration,
                "assignment_callback_url": callback,
                "fallback_assignment_callback_url": fallback,
                "task_reservation_timeout": timeout,
                "document_content_type": "application/json",
                **self._stamp(),
            },
        )

    def create_workflow(self, account_sid: str, ws_sid: str, **params: Any) -> Row:
        with self.state.unit():
            ws = self.workspace(account_sid, ws_sid)
            name = valid_friendly_name(params.get("friendly_name"))
            if params.get("configuration") is None:
                raise InvalidParameter("Configuration is required")
            checked = self._workflow_params(ws, params)
            parsed = checked.pop("_parsed")
            workflow = self._insert_workflow(
                ws,
                name,
                checked["configuration"],
                checked.get("assignment_callback_url"),
                checked.get("fallback_assignment_callback_url"),
                checked.get("task_reservation_timeout", 120),
            )
            self._configs[workflow["sid"]] = (checked["configuration"], parsed)
            return dict(workflow)

    def update_workflow(self, account_sid: str, ws_sid: str, sid: str, **params: Any) -> Row:
        with self.state.unit():
            workflow = self.child(account_sid, ws_sid, "workflow", sid, "Workflows")
            ws = self.state.rows[ws_sid]
            checked = self._workflow_params(ws, params)
            parsed = checked.pop("_parsed", None)
            if params.get("friendly_name") is not None:
                checked["friendly_name"] = valid_friendly_name(params["friendly_name"])
            self._touch(workflow, **checked)
            if "friendly_name" in checked:
                for task in self.state.of(ws_sid, "task").values():
                    if task["workflow_sid"] == sid:
                        self.state.update(task, workflow_friendly_name=checked["friendly_name"])
            snapshot = dict(workflow)
            if params.get("re_evaluate_tasks") and parsed is not None:
                for task in list(self.state.of(ws_sid, "task").values()):
                    if task["workflow_sid"] == sid and task["assignment_status"] == "pending":
                        self._route(ws, task, reason="workflow updated")
            return snapshot

    def delete_workflow(self, account_sid: str, ws_sid: str, sid: str) -> None:
        with self.state.unit():
            workflow = self.child(account_sid, ws_sid, "workflow", sid, "Workflows")
            for task in self.state.of(ws_sid, "task").values():
                if task["workflow_sid"] == sid and task["assignment_status"] in (
                    "pending",
                    "reserved",
                    "assigned",
                    "wrapping",
                ):
                    raise InUse(
                        f"Workflow {sid} cannot be deleted: it has tasks that are not finished"
                    )
            self.state.delete(workflow)
            self._configs.pop(sid, None)
