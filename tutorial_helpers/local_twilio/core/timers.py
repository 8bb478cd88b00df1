"""Timers that run on the TaskRouter clock, not on wall time.

One thread sleeps until the earliest due timer; advancing the clock wakes it,
so a fast-forward fires every timer that became due, in due order. On a paused
clock it sleeps until the clock is advanced or a timer is scheduled.
"""

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

from .clock import Clock

log = logging.getLogger(__name__)


class Timers:
    def __init__(self, clock: Clock):
        self._clock = clock
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._stopped = False
        self._running = False
        self._thread = threading.Thread(target=self._run, name="taskrouter-timers", daemon=True)
        clock.subscribe(lambda _offset: self._wake())

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def schedule(self, due: float, callback: Callable[[], None]) -> None:
        """Run `callback` once the clock reaches `due`; it must check it is still relevant."""
        with self._cond:
            heapq.heappush(self._heap, (due, next(self._seq), callback))
            self._cond.notify_all()

    def _wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped:
                    if self._heap and self._heap[0][0] <= self._clock.now():
                        break
                    # A paused clock moves only when advanced, and advancing wakes this thread: waiting out
                    # wall time would only spin (a timer due in a millisecond would be 1 ms away forever).
                    wait = self._heap[0][0] - self._clock.now() if self._heap and not self._clock.paused else None
                    self._cond.wait(timeout=None if wait is None else min(wait, 60.0))
                if self._stopped:
                    return
                _due, _seq, callback = heapq.heappop(self._heap)
                self._running = True
            try:
                callback()
            except Exception:  # a timer must never kill the thread that runs all of them
                log.exception("timer callback failed")
            finally:
                with self._cond:
                    self._running = False
                    self._cond.notify_all()

    def wait_idle(self, timeout: float = 30.0) -> None:
        """Block until every timer that is due now has run (after advancing the clock)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self._stopped and time.monotonic() < deadline and (
                self._running or (self._heap and self._heap[0][0] <= self._clock.now())
            ):
                self._cond.wait(0.05)
