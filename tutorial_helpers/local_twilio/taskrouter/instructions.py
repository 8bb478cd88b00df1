"""Assignment instructions, read the same way whether they come from a callback's JSON or a REST update.

An assignment callback answers `{"instruction": "dequeue", "from": "+1..."}`;
the Reservation update sends `Instruction=dequeue&DequeueFrom=+1...`. Both
become one `Instruction`: its name and its parameters under the callback's
snake_case keys. The names on the REST side are the twilio SDK's
(`twilio/rest/taskrouter/v1/workspace/task/reservation.py`, `update()`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..core.exceptions import TwilioError

BASIC = ("accept", "reject")
VOICE = ("dequeue", "call", "redirect", "conference")
UNKNOWN_INSTRUCTION = 55555

# REST form parameter -> callback JSON key, for each voice instruction.
REST_NAMES: dict[str, dict[str, str]] = {
    "dequeue": {
        "DequeueTo": "to",
        "DequeueFrom": "from",
        "DequeuePostWorkActivitySid": "post_work_activity_sid",
        "DequeueTimeout": "timeout",
        "DequeueRecord": "record",
        "DequeueStatusCallbackUrl": "status_callback_url",
        "DequeueStatusCallbackEvent": "status_callback_events",
    },
    "call": {
        "CallTo": "to",
        "CallFrom": "from",
        "CallUrl": "url",
        "CallAccept": "accept",
        "CallTimeout": "timeout",
        "CallRecord": "record",
        "CallStatusCallbackUrl": "status_callback_url",
    },
    "redirect": {
        "RedirectCallSid": "call_sid",
        "RedirectUrl": "url",
        "RedirectAccept": "accept",
    },
    "conference": {
        "To": "to",
        "From": "from",
        "Timeout": "timeout",
        "PostWorkActivitySid": "post_work_activity_sid",
        "StatusCallback": "status_callback",
        "StatusCallbackMethod": "status_callback_method",
        "StatusCallbackEvent": "status_callback_event",
        "StartConferenceOnEnter": "start_conference_on_enter",
        "EndConferenceOnExit": "end_conference_on_exit",
        "EndConferenceOnCustomerExit": "end_conference_on_customer_exit",
        "Beep": "beep",
        "Record": "record",
        "Muted": "muted",
        "WaitUrl": "wait_url",
    },
}


@dataclass(frozen=True)
class Instruction:
    name: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def is_voice(self) -> bool:
        return self.name in VOICE


def _text(value: object) -> str:
    """A JSON value as the string the REST form would carry (true, 30, a,b)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_text(v) for v in value)
    return "" if value is None else str(value)


def from_callback(answer: dict) -> Instruction:
    name = answer.get("instruction")
    if name not in BASIC + VOICE:
        raise TwilioError(f"unknown instruction {name!r}", code=UNKNOWN_INSTRUCTION)
    return Instruction(name, {k: _text(v) for k, v in answer.items() if k != "instruction" and v is not None})


def from_rest(name: str, values: Callable[[str], list[str]]) -> Instruction:
    """`values(wire_name)` gives every value the form sent under that name (events repeat)."""
    if name not in BASIC + VOICE:
        raise TwilioError(
            f"Instruction must be one of {', '.join(BASIC + VOICE)}, got {name!r}", code=UNKNOWN_INSTRUCTION
        )
    params = {}
    for wire, key in REST_NAMES.get(name, {}).items():
        given = [v for v in values(wire) if v != ""]
        if given:
            params[key] = ",".join(given)
    return Instruction(name, params)
