"""The 2010-04-01 API pieces of the quickstart's voice part, as a service of the local Twilio server.

So far: IncomingPhoneNumbers (every account has a few local numbers ready),
Keys (API key SID and secret, for the worker page's token), Calls, and the
interpreter that runs a call's TwiML on the one clock (`calls.py`; `twiml.py`
reads a document into verbs). A call to a local number runs its Voice URL;
`<Enqueue workflowSid>` makes a TaskRouter Task in the same unit of work.
Queues hold the calls an <Enqueue> keeps waiting, while its waitUrl plays.
A call's status callbacks go through the store's outbox (`reports.py`).
Still to come: a queue's Members.
Same layout as taskrouter/: `urls.py`, `handlers.py`, `rendering.py`,
`models.py`; the rows live in the same store and units of work.
"""
