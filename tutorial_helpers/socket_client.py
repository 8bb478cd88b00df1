"""Opening a websocket from Python (the headless worker page, the widgets' event feed, tests and the bench).

simple-websocket 1.1's Client reads the handshake's answer and keeps only its first event: a frame that
arrived in the same read (EventBridge's `init`, sent right after the handshake) waits inside wsproto until
more data comes, which is the next heartbeat, 10 s later. `connect` hands such frames on at once.
"""

from __future__ import annotations

from simple_websocket import Client


def connect(url: str, headers: dict[str, str] | None = None) -> Client:
    sock = Client.connect(url, headers=headers)
    sock.connected = sock._handle_events()  # what the client's reader thread does with each later read
    return sock
