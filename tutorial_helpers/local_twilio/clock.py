"""The one clock every timer reads.

Real time plus an offset that only moves forward; advancing it lets a test or a
notebook fire a 120 s reservation timeout at once instead of sleeping.
"""

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime


class Clock:
    def __init__(self, offset: float = 0.0, on_advance: Callable[[float], None] | None = None):
        self._offset = offset
        self._lock = threading.Lock()
        self._listeners: list[Callable[[float], None]] = []
        if on_advance:
            self._listeners.append(on_advance)

    @property
    def offset(self) -> float:
        return self._offset

    def now(self) -> float:
        """Seconds since the epoch, as the TaskRouter sees them."""
        return time.time() + self._offset

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += seconds
            offset = self._offset
        for listener in list(self._listeners):
            listener(offset)
        return offset

    def subscribe(self, listener: Callable[[float], None]) -> None:
        self._listeners.append(listener)


def iso(ts: float) -> str:
    """Twilio's date shape: UTC, no fractional seconds (the SDK parses only that); years below 1000 padded
    to four digits, which strftime's %Y does not do here."""
    return datetime.fromtimestamp(int(ts), UTC).isoformat().replace("+00:00", "Z")


def parse_iso(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
