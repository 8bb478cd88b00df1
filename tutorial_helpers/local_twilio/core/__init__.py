"""The ground floor every service of the local server stands on, as moto's `moto/core/` lies under its services.

Nothing here imports from a service (taskrouter/, voice/, eventbridge/, accounts/, board/):
- state.py: rows, SIDs and the unit of work (every change atomic, written through to SQLite);
- store.py: the SQLite file behind the state;
- clock.py, timers.py: the one clock (pausable, advanceable) and the timers that run on it;
- http.py: reading parameters (each number within its range, limits.py) and answering JSON;
- exceptions.py: one class per wire error; validators.py: the webhook URL rule; webhooks.py: signed requests;
- ports.py: what the services offer each other (typing.Protocols); only server.py wires them together.
"""
