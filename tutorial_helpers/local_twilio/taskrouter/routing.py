"""Workflow configuration: parse and validate it, then pick filters and targets.

Everything that can be wrong with a configuration is found here, at create or
update time, so routing itself never meets a bad expression or a missing queue.
"""

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..core.exceptions import InvalidParameter
from .expressions import Expression, ExpressionError, compile_expression

MAX_CONFIGURATION_CHARS = 1_000_000


@dataclass(frozen=True)
class OrderBy:
    name: str  # e.g. "worker.english_level"
    descending: bool


@dataclass(frozen=True)
class Target:
    queue_sid: str
    expression: Expression | None
    priority: int | None
    timeout: int | None
    skip_if: Expression | None
    order_by: tuple[OrderBy, ...]
    # Known agent routing: ("sid" | "friendly_name", the task attribute that names the worker).
    known_worker: tuple[str, str] | None = None

    def known_worker_value(self, task_attributes: Mapping[str, Any]) -> Any:
        """The worker this target wants, read from the task; None when the task does not name one."""
        if self.known_worker is None:
            return None
        value: Any = task_attributes
        for part in self.known_worker[1].removeprefix("task.").split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        return value


@dataclass(frozen=True)
class Filter:
    name: str
    expression: Expression
    targets: tuple[Target, ...]


@dataclass(frozen=True)
class WorkflowConfig:
    filters: tuple[Filter, ...]
    default_targets: tuple[Target, ...]

    def targets(self, filter_index: int) -> tuple[Target, ...]:
        """Targets of a filter; index -1 is the default filter."""
        return self.default_targets if filter_index < 0 else self.filters[filter_index].targets

    def select_filter(self, task_attributes: Mapping[str, Any], after: int | None = None) -> int | None:
        """First matching filter wins; -1 for the default filter, None when nothing matches.

        `after`: only filters after that one (a task whose every target of a filter was skipped by
        skip_if is treated as not matching it); after the default filter (-1) nothing is left.
        """
        if after == -1:
            return None
        variables = {"task": task_attributes}
        start = 0 if after is None else after + 1
        for index in range(start, len(self.filters)):
            if self.filters[index].expression.evaluate(variables, bare=task_attributes):
                return index
        return -1 if self.default_targets else None

    def filter_name(self, filter_index: int) -> str:
        return "Default Filter" if filter_index < 0 else self.filters[filter_index].name

    def queue_sids(self) -> set[str]:
        sids = {t.queue_sid for t in self.default_targets}
        for flt in self.filters:
            sids.update(t.queue_sid for t in flt.targets)
        return sids


def _expression(text: Any, where: str) -> Expression:
    if not isinstance(text, str) or not text.strip():
        raise InvalidParameter(f"Invalid workflow configuration: {where} must be a non-empty string")
    try:
        return compile_expression(text)
    except ExpressionError as exc:
        raise InvalidParameter(f"Invalid workflow configuration: {where}: {exc}") from None


def _int(value: Any, where: str, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise InvalidParameter(
            f"Invalid workflow configuration: {where} must be an integer from {minimum} to {maximum}"
        )
    return value


def _order_by(value: Any, where: str) -> tuple[OrderBy, ...]:
    if value is None:
        return ()
    if not isinstance(value, str):
        raise InvalidParameter(f"Invalid workflow configuration: {where} must be a string")
    result = []
    for part in value.split(","):
        words = part.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1].upper() not in {"ASC", "DESC"}):
            raise InvalidParameter(
                f"Invalid workflow configuration: {where} {value!r}: "
                "expected 'worker.attribute ASC|DESC[, ...]'"
            )
        result.append(OrderBy(words[0], len(words) == 2 and words[1].upper() == "DESC"))
    return tuple(result)


def _known_worker(item: dict, where: str) -> tuple[str, str] | None:
    """`known_worker_sid` or `known_worker_friendly_name` (not both): a task attribute naming the worker."""
    given = [(field, item[f"known_worker_{field}"]) for field in ("sid", "friendly_name")
             if item.get(f"known_worker_{field}") is not None]
    if not given:
        return None
    if len(given) > 1:
        raise InvalidParameter(
            f"Invalid workflow configuration: {where} sets both known_worker_sid and known_worker_friendly_name"
        )
    field, attribute = given[0]
    if not isinstance(attribute, str) or not attribute.strip():
        raise InvalidParameter(
            f"Invalid workflow configuration: {where}.known_worker_{field} must name a task attribute, "
            "like 'task.agent_sid'"
        )
    return field, attribute.strip()


def _targets(raw: Any, where: str, queue_exists: Callable[[str], bool]) -> tuple[Target, ...]:
    if not isinstance(raw, list) or not raw:
        raise InvalidParameter(f"Invalid workflow configuration: {where}.targets must be a non-empty list")
    targets: list[Target] = []
    inherited: str | None = None
    for i, item in enumerate(raw):
        here = f"{where}.targets[{i}]"
        if not isinstance(item, dict):
            raise InvalidParameter(f"Invalid workflow configuration: {here} must be an object")
        queue = item.get("queue", inherited)
        if not isinstance(queue, str) or not queue:
            raise InvalidParameter(f"Invalid workflow configuration: {here} needs a queue")
        if not queue_exists(queue):
            raise InvalidParameter(f"Invalid workflow configuration: {here}: TaskQueue {queue} not found")
        inherited = queue
        targets.append(
            Target(
                queue_sid=queue,
                expression=_expression(item["expression"], f"{here}.expression")
                if item.get("expression") is not None
                else None,
                priority=_int(item["priority"], f"{here}.priority", -(2**31), 2**31 - 1)
                if item.get("priority") is not None
                else None,
                timeout=_int(item["timeout"], f"{here}.timeout", 0, 86_400 * 30)
                if item.get("timeout") is not None
                else None,
                skip_if=_expression(item["skip_if"], f"{here}.skip_if")
                if item.get("skip_if") is not None
                else None,
                order_by=_order_by(item.get("order_by"), f"{here}.order_by"),
                known_worker=_known_worker(item, here),
            )
        )
    return tuple(targets)


def parse_configuration(text: str, queue_exists: Callable[[str], bool]) -> WorkflowConfig:
    """Validate a workflow's Configuration string; raises InvalidParameter naming the problem."""
    if len(text) > MAX_CONFIGURATION_CHARS:
        raise InvalidParameter("Configuration is larger than 1 MB")
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise InvalidParameter(f"Configuration is not valid JSON: {exc}") from None
    except RecursionError:  # json refuses very deep nesting this way; it is bad input, not a bug
        raise InvalidParameter("Configuration is nested too deeply") from None
    routing = doc.get("task_routing") if isinstance(doc, dict) else None
    if not isinstance(routing, dict):
        raise InvalidParameter("Invalid workflow configuration: 'task_routing' object is missing")
    raw_filters = routing.get("filters", [])
    if not isinstance(raw_filters, list):
        raise InvalidParameter("Invalid workflow configuration: task_routing.filters must be a list")
    filters = []
    for i, item in enumerate(raw_filters):
        where = f"filters[{i}]"
        if not isinstance(item, dict):
            raise InvalidParameter(f"Invalid workflow configuration: {where} must be an object")
        name = item.get("filter_friendly_name") or item.get("friendly_name") or f"Filter {i}"
        filters.append(
            Filter(
                name=str(name),
                expression=_expression(item.get("expression"), f"{where}.expression"),
                targets=_targets(item.get("targets"), where, queue_exists),
            )
        )
    default = routing.get("default_filter")
    default_targets: tuple[Target, ...] = ()
    if default is not None:
        if not isinstance(default, dict):
            raise InvalidParameter("Invalid workflow configuration: default_filter must be an object")
        raw = default.get("targets") or [{"queue": default.get("queue")}]
        default_targets = _targets(raw, "default_filter", queue_exists)
    if not filters and not default_targets:
        raise InvalidParameter(
            "Invalid workflow configuration: task_routing needs at least one filter or a default_filter"
        )
    return WorkflowConfig(tuple(filters), default_targets)


def sort_key_for(order_by: tuple[OrderBy, ...]) -> Callable[[Mapping[str, Any]], tuple]:
    """A sort key over worker attributes for a target's order_by; missing values sort last."""

    def lookup(attrs: Mapping[str, Any], name: str) -> Any:
        value: Any = attrs
        for part in name.removeprefix("worker.").split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value

    def key(attrs: Mapping[str, Any]) -> tuple:
        parts = []
        for ob in order_by:
            value = lookup(attrs, ob.name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                parts.append((1, 0))
            else:
                parts.append((0, -value if ob.descending else value))
        return tuple(parts)

    return key
