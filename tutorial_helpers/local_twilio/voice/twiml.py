"""TwiML for calls, read into verbs: what a number's Voice URL (or a Gather's action) answered.

    verbs = parse_twiml(text, document_url)   # [Gather(...), Say(...), Enqueue(...)]

Only the verbs the quickstart's phone-call part needs, with Twilio's defaults
and its error codes: 12100 when the document is not TwiML at all, 12200 when
a verb, an attribute or a nesting is not one Twilio accepts. Relative URLs are
resolved against the document's own URL, as Twilio does. The interpreter that
runs these verbs on a call, on the one clock, comes with the Calls API.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from ..core.limits import TASK_TIMEOUT

MAX_TASK_ATTRIBUTES = 1024  # Enqueue's <Task> body (Twilio's Enqueue widget documents this limit)
FINISH_KEYS = set("0123456789#*")


class TwimlError(ValueError):
    """The document cannot run. `code` is Twilio's: 12100 not TwiML, 12200 not valid TwiML."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Say:
    text: str
    language: str = "en-US"
    voice: str | None = None
    loop: int = 1


@dataclass(frozen=True)
class Play:
    url: str | None
    loop: int = 1
    digits: str | None = None


@dataclass(frozen=True)
class Pause:
    length: int = 1


@dataclass(frozen=True)
class Gather:
    action: str
    method: str = "POST"
    timeout: int = 5
    num_digits: int | None = None
    finish_on_key: str = "#"
    action_on_empty_result: bool = False
    prompts: tuple[Say | Play | Pause, ...] = ()


@dataclass(frozen=True)
class Redirect:
    url: str
    method: str = "POST"


@dataclass(frozen=True)
class Hangup:
    pass


@dataclass(frozen=True)
class Reject:
    reason: str = "rejected"


@dataclass(frozen=True)
class Leave:
    pass


@dataclass(frozen=True)
class TaskSpec:
    attributes: dict[str, Any] = field(default_factory=dict)
    priority: int | None = None
    timeout: int | None = None


@dataclass(frozen=True)
class Enqueue:
    name: str | None
    workflow_sid: str | None = None
    action: str | None = None
    method: str = "POST"
    wait_url: str | None = None
    wait_url_method: str = "POST"
    task: TaskSpec | None = None


@dataclass(frozen=True)
class DialQueue:
    """`<Dial><Queue reservationSid=...>`: take the caller a TaskRouter reservation waits for."""

    name: str | None
    reservation_sid: str | None = None
    post_work_activity_sid: str | None = None
    url: str | None = None


Verb = Say | Play | Pause | Gather | Redirect | Hangup | Reject | Leave | Enqueue | DialQueue


def parse_twiml(text: str, document_url: str) -> list[Verb]:
    """The verbs of a `<Response>` document, in order; TwimlError names what is wrong."""
    try:
        root = ElementTree.fromstring(text.strip())
    except ElementTree.ParseError as exc:
        raise TwimlError(12100, f"Document parse failure: the answer is not XML ({exc})") from None
    if root.tag != "Response":
        raise TwimlError(12100, f"Document parse failure: the root element is <{root.tag}>, not <Response>")
    return [_verb(element, document_url) for element in root]


def _verb(element: ElementTree.Element, base: str) -> Verb:
    reader = _Attributes(element, base)
    tag = element.tag
    if tag == "Say":
        return Say(_text(element), reader.text("language", "en-US"), reader.optional("voice"),
                   reader.integer("loop", 1, minimum=0))
    if tag == "Play":
        return Play(reader.url_or_none_from_text(), reader.integer("loop", 1, minimum=0), reader.optional("digits"))
    if tag == "Pause":
        _no_children(element)
        return Pause(reader.integer("length", 1, minimum=0))
    if tag == "Gather":
        prompts = []
        for child in element:
            if child.tag not in ("Say", "Play", "Pause"):
                raise TwimlError(12200, f"<Gather> may hold <Say>, <Play> and <Pause>, not <{child.tag}>")
            prompts.append(_verb(child, base))
        finish = reader.text("finishOnKey", "#")
        if len(finish) > 1 or (finish and finish not in FINISH_KEYS):
            raise TwimlError(12200, f"<Gather finishOnKey> must be one of 0-9, # or *, or empty; got {finish!r}")
        return Gather(
            action=reader.url("action", default=base),
            method=reader.method("method"),
            timeout=reader.integer("timeout", 5, minimum=0),
            num_digits=reader.integer("numDigits", None, minimum=1),
            finish_on_key=finish,
            action_on_empty_result=reader.boolean("actionOnEmptyResult"),
            prompts=tuple(prompts),
        )
    if tag == "Redirect":
        _no_children(element)
        target = _text(element)
        if not target:
            raise TwimlError(12200, "<Redirect> needs a URL as its text")
        return Redirect(urljoin(base, target), reader.method("method"))
    if tag == "Hangup":
        _no_children(element)
        return Hangup()
    if tag == "Leave":
        _no_children(element)
        return Leave()
    if tag == "Reject":
        _no_children(element)
        reason = reader.text("reason", "rejected")
        if reason not in ("rejected", "busy"):
            raise TwimlError(12200, f"<Reject reason> must be rejected or busy, got {reason!r}")
        return Reject(reason)
    if tag == "Enqueue":
        return _enqueue(element, reader)
    if tag == "Dial":
        return _dial(element, base)
    raise TwimlError(12200, f"<{tag}> is not a TwiML verb the local voice side runs")


def _enqueue(element: ElementTree.Element, reader: _Attributes) -> Enqueue:
    task = None
    for child in element:
        if child.tag != "Task" or task is not None:
            raise TwimlError(12200, f"<Enqueue> may hold one <Task>, not <{child.tag}>")
        task = _task(child, _Attributes(child, reader.base))
    workflow_sid = reader.optional("workflowSid")
    name = _text(element) or None
    if workflow_sid is None and name is None:
        raise TwimlError(12200, "<Enqueue> needs a queue name as its text, or a workflowSid")
    if workflow_sid is not None and not (workflow_sid.startswith("WW") and len(workflow_sid) == 34):
        raise TwimlError(12200, f"<Enqueue workflowSid> must be a Workflow SID (WW...), got {workflow_sid!r}")
    if task is not None and workflow_sid is None:
        raise TwimlError(12200, "<Task> inside <Enqueue> needs the Enqueue's workflowSid")
    return Enqueue(
        name=name,
        workflow_sid=workflow_sid,
        action=reader.url("action", default=None),
        method=reader.method("method"),
        wait_url=reader.url("waitUrl", default=None),
        wait_url_method=reader.method("waitUrlMethod"),
        task=task,
    )


def _dial(element: ElementTree.Element, base: str) -> DialQueue:
    nouns = list(element)
    if len(nouns) != 1 or nouns[0].tag != "Queue" or _text(element):
        raise TwimlError(12200, "the local voice side runs <Dial> only with one <Queue> inside "
                                "(<Dial><Queue reservationSid=\"WR...\"/></Dial>)")
    queue = nouns[0]
    _no_children(queue)
    reader = _Attributes(queue, base)
    reservation_sid = reader.optional("reservationSid")
    if reservation_sid is not None and not (reservation_sid.startswith("WR") and len(reservation_sid) == 34):
        raise TwimlError(12200, f"<Queue reservationSid> must be a Reservation SID (WR...), got {reservation_sid!r}")
    if reservation_sid is None:
        raise TwimlError(12200, "<Dial><Queue> needs reservationSid: the local voice side bridges TaskRouter "
                                "reservations, not plain named queues")
    return DialQueue(_text(queue) or None, reservation_sid, reader.optional("postWorkActivitySid"),
                     reader.url("url", default=None))


def _task(element: ElementTree.Element, reader: _Attributes) -> TaskSpec:
    body = _text(element) or "{}"
    if len(body) > MAX_TASK_ATTRIBUTES:
        raise TwimlError(12200, f"<Task> attributes are longer than {MAX_TASK_ATTRIBUTES} characters")
    try:
        attributes = json.loads(body)
    except ValueError:
        attributes = None
    if not isinstance(attributes, dict):
        raise TwimlError(12200, f"<Task> must hold a JSON object, got {body[:80]!r}")
    return TaskSpec(
        attributes,
        reader.integer("priority", None, minimum=0),
        reader.integer("timeout", None, minimum=1, maximum=TASK_TIMEOUT.high),
    )


def _text(element: ElementTree.Element) -> str:
    return (element.text or "").strip()


def _no_children(element: ElementTree.Element) -> None:
    if len(element):
        raise TwimlError(12200, f"<{element.tag}> holds no other verbs, found <{element[0].tag}>")


class _Attributes:
    """An element's attributes, checked and converted; a bad one is a 12200 that names it."""

    def __init__(self, element: ElementTree.Element, base: str):
        self.element = element
        self.base = base

    def _where(self, name: str) -> str:
        return f"<{self.element.tag} {name}>"

    def optional(self, name: str) -> str | None:
        value = self.element.get(name)
        return value if value else None

    def text(self, name: str, default: str) -> str:
        value = self.element.get(name)
        return default if value is None else value

    def integer(self, name: str, default: int | None, *, minimum: int, maximum: int | None = None) -> int | None:
        value = self.element.get(name)
        if value is None or value == "":
            return default
        try:
            number = int(value)
        except ValueError:
            raise TwimlError(12200, f"{self._where(name)} must be a whole number, got {value!r}") from None
        if number < minimum or (maximum is not None and number > maximum):
            bound = f"from {minimum}" + (f" to {maximum}" if maximum is not None else " up")
            raise TwimlError(12200, f"{self._where(name)} must be {bound}, got {number}")
        return number

    def boolean(self, name: str) -> bool:
        value = (self.element.get(name) or "false").lower()
        if value not in ("true", "false"):
            raise TwimlError(12200, f"{self._where(name)} must be true or false, got {value!r}")
        return value == "true"

    def method(self, name: str) -> str:
        value = (self.element.get(name) or "POST").upper()
        if value not in ("GET", "POST"):
            raise TwimlError(12200, f"{self._where(name)} must be GET or POST, got {value!r}")
        return value

    def url(self, name: str, default: str | None) -> str | None:
        value = self.element.get(name)
        if not value:
            return default
        return urljoin(self.base, value)

    def url_or_none_from_text(self) -> str | None:
        value = _text(self.element)
        return urljoin(self.base, value) if value else None
