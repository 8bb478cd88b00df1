"""The facilitator's command: one local TaskRouter for a room, an account and a card per attendee (issue 16).

    python -m tutorial_helpers.workshop start --attendees 30 [--host 0.0.0.0] [--port 8765]

`room.py` starts (or reuses) the room's server and talks to its /_local/Accounts endpoints; `cards.py` keeps
the cards (CSV, the facilitator's only copy of each token, and a printable HTML page); `__main__.py` is the
command line.
"""
