"""The one clock, paused for tests: it moves only when advanced, and advancing fires the timers that became due."""

import threading
import time
from datetime import UTC, datetime

from tutorial_helpers.local_twilio import LocalTaskRouter
from tutorial_helpers.local_twilio.core.clock import Clock
from tutorial_helpers.local_twilio.core.timers import Timers


class CountingClock(Clock):
    """Counts how often the timer thread reads the clock: a thread that spins reads it thousands of times."""

    def __init__(self) -> None:
        super().__init__()
        self.timer_reads = 0

    def now(self) -> float:
        if threading.current_thread().name == "taskrouter-timers":
            self.timer_reads += 1
        return super().now()


def test_a_running_clock_follows_wall_time():
    clock = Clock(offset=5.0)
    before = clock.now()
    time.sleep(0.05)
    assert clock.now() > before


def test_a_paused_clock_moves_only_when_advanced():
    clock = Clock(offset=5.0)
    wall = time.time()
    clock.pause()
    frozen = clock.now()
    assert clock.paused and frozen == int(frozen) and wall + 5.0 <= frozen < wall + 6.0  # the next whole second
    time.sleep(0.05)
    assert clock.now() == frozen
    clock.pause()  # pausing again changes nothing
    assert clock.now() == frozen
    assert clock.advance(30) == 35.0 == clock.offset
    assert clock.now() == frozen + 30


def test_advancing_a_paused_clock_fires_the_timers_that_became_due_and_no_others():
    clock = Clock()
    clock.pause()
    timers = Timers(clock)
    timers.start()
    fired: list[int] = []
    try:
        start = clock.now()
        for after in (30, 10, 31):
            timers.schedule(start + after, lambda after=after: fired.append(after))
        time.sleep(0.1)  # wall time passes: nothing is due on a paused clock
        timers.wait_idle()
        assert fired == []
        clock.advance(10)
        timers.wait_idle()
        assert fired == [10]
        clock.advance(19)
        timers.wait_idle()
        assert fired == [10]  # one second short of the next
        clock.advance(1)
        timers.wait_idle()
        assert fired == [10, 30]
        clock.advance(1)
        timers.wait_idle()
        assert fired == [10, 30, 31]
    finally:
        timers.stop()


def test_a_timer_almost_due_on_a_paused_clock_does_not_spin_the_timer_thread():
    clock = CountingClock()
    clock.pause()
    timers = Timers(clock)
    timers.start()
    fired = threading.Event()
    try:
        timers.schedule(clock.now() + 0.001, fired.set)
        time.sleep(0.3)
        # Waiting out the millisecond in wall time would read the clock every millisecond, forever.
        assert not fired.is_set() and clock.timer_reads < 10, clock.timer_reads
        clock.advance(1)
        timers.wait_idle()
        assert fired.is_set()
    finally:
        timers.stop()


def test_a_local_taskrouter_on_a_paused_clock_persists_an_offset_a_running_restart_goes_on_from(tmp_path):
    with LocalTaskRouter(tmp_path, paused_clock=True) as router:
        start = router.clock.now()
        workspaces = router.client().taskrouter.v1.workspaces
        made = workspaces.create(friendly_name="Still")  # requests take wall time; the clock stays put
        assert router.clock.now() == start
        router.advance_clock(30)
        renamed = workspaces(made.sid).update(friendly_name="Thirty seconds later")
        assert (made.date_created, renamed.date_updated) == (
            datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(start + 30, UTC))
        stood = router.clock.now()
    with LocalTaskRouter(tmp_path) as again:
        assert not again.clock.paused and again.clock.offset == 30
        assert again.clock.now() > stood - 1  # at most the rounding up to a whole second behind, then on
