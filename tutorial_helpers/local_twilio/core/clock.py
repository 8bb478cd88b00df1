"""The one clock every timer reads.

Real time plus an offset that only moves forward; advancing it lets a test or a
notebook fire a 120 s reservation timeout at once instead of sleeping. A test
that asserts exact figures pauses it, so only advancing moves it.
"""

import math
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime


class Clock:
    def __init__(self, offset: float = 0.0, on_advance: Callable[[float], None] | None = None):
        self._offset = offset
        self._frozen_at: float | None = None  # the wall time now() stands at while paused
        self._lock = threading.Lock()
        self._listeners: list[Callable[[float], None]] = []
        if on_advance:
            self._listeners.append(on_advance)

    @property
    def offset(self) -> float:
        return self._offset

    @property
    def paused(self) -> bool:
        return self._frozen_at is not None

    def pause(self) -> None:
        """Stop following wall time: from now on the clock moves only when advanced.

        For tests. A test that advances 30 s and asserts a 30 s wait would see 31 on a machine busy enough to
        spend a second between its steps; paused, every duration is exactly what was advanced. It freezes at
        the next whole second, never backwards: whole-second advances then land on whole seconds, so dates
        (whole seconds) and millisecond figures (`int(now * 1000)`) lose nothing to rounding. The offset keeps
        its meaning, the TaskRouter's time minus the wall time it stands on, so the persisted offset starts a
        later, running clock where this one stood plus the wall time since (less the rounding up).
        """
        with self._lock:
            if self._frozen_at is None:
                self._frozen_at = float(math.ceil(time.time()))

    def now(self) -> float:
        """Seconds since the epoch, as the TaskRouter sees them."""
        frozen = self._frozen_at
        return (time.time() if frozen is None else frozen) + self._offset

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
