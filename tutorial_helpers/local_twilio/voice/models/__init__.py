"""The voice side's backend: the 2010-04-01 resources and TaskRouter's voice instructions, one module per part.

`VoiceBackend` is composed from mixins over `VoiceBase` (base.py), as TaskRouter's `Backend` is:

| where a rule lives                                                        | file            |
| ------------------------------------------------------------------------- | --------------- |
| the declared state, the calls' constants, stamps                          | base.py         |
| IncomingPhoneNumbers: local numbers, bought ones, Voice URLs              | numbers.py      |
| API Keys (the worker page's token is signed with one)                     | keys.py         |
| Queues, and <Enqueue> (a waiting caller, the Task it makes, leaving)      | queues.py       |
| the Calls API, a call's life and the TwiML interpreter                    | calls.py        |
| dequeue/call/redirect/conference carried out, bridges, softphones         | worker_phone.py |
| reading TwiML into verbs                                                  | ../twiml.py     |
| status callbacks and Enqueue actions, through the outbox                  | ../reports.py   |
| what a phone number, a method or a webhook URL may be                     | ../../core/validators.py |

TaskRouter is reached only through `taskrouter: TaskRouterPort` (core/ports.py); TaskRouter reaches
this side through `VoicePort`, which `VoiceBackend` offers (`carry_out`, `reservation_over`).
"""

from ...core.ports import VoicePort
from .base import DEFAULT_PHONE_NUMBERS, VoiceBase, friendly_phone_number
from .calls import CallsMixin
from .keys import KeysMixin
from .numbers import NumbersMixin
from .queues import QueuesMixin
from .worker_phone import WorkerPhoneMixin


class VoiceBackend(WorkerPhoneMixin, CallsMixin, QueuesMixin, KeysMixin, NumbersMixin, VoiceBase):
    """IncomingPhoneNumbers, Keys, Queues and Calls of every account, and the voice instructions TaskRouter gives."""


def _offers_its_port(voice: VoiceBackend) -> VoicePort:
    """What TaskRouter may ask of the voice side (mypy checks that VoiceBackend offers it)."""
    return voice


__all__ = ["DEFAULT_PHONE_NUMBERS", "VoiceBackend", "friendly_phone_number"]
