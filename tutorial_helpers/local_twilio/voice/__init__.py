"""The 2010-04-01 API pieces of the quickstart's voice part, as a service of the local Twilio server.

So far: IncomingPhoneNumbers (every account has a few local numbers ready),
Keys (API key SID and secret, for the worker page's token) and `twiml.py`,
which reads a TwiML document into verbs with Twilio's defaults and error codes.
Calls, Queues and the interpreter that runs those verbs on a call come next
(issue 12).
Same layout as taskrouter/: `urls.py`, `handlers.py`, `rendering.py`,
`models.py`; the rows live in the same store and units of work.
"""
