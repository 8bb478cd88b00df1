"""The 2010-04-01 API's voice parts, as a service of the local Twilio server, and TaskRouter's voice instructions.

IncomingPhoneNumbers (every account has a few local numbers ready), Keys (the worker page's token is signed
with one), Queues, Calls and the interpreter that runs a call's TwiML on the one clock; a call to a local
number runs its Voice URL, and `<Enqueue workflowSid>` makes a TaskRouter Task (through TaskRouterPort) in
the same unit of work. TaskRouter's dequeue, call, redirect and conference instructions ring a worker's
phone (VoicePort). A call's status callbacks go through the store's outbox (`reports.py`).

Same layout as taskrouter/: `urls.py`, `handlers.py`, `rendering.py`, `models/` (one module per part,
models/__init__.py has the rule -> file table); `twiml.py` reads a document into verbs.
"""
