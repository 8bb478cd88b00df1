"""The range of every number the local server reads, and of the dates it can represent: one table.

A number outside its range is refused before it reaches Python's arithmetic, SQLite's
64-bit integers or `datetime`'s years 1-9999, where it would be a 500. Where Twilio
documents a range (the OpenAPI description's text, the docs' pages), that is the range;
elsewhere the range is what the value can mean here, and its comment says so.

`params.param_int` reads request parameters against these; the models check the same
ranges for values that do not come through a request (TwiML's <Task>, the worker SDK's route).
"""

from datetime import UTC, datetime
from typing import NamedTuple

from .exceptions import InvalidParameter

SQLITE_MAX = 2**63 - 1  # SQLite's INTEGER: an offset or a count past this cannot be bound


class Range(NamedTuple):
    low: int
    high: int
    unit: str = ""  # said after the bounds: "600 seconds"

    def check(self, value: int, name: str) -> int:
        """`value`, or a 400 that names the parameter and its range."""
        if not self.low <= value <= self.high:
            raise self.refusal(name, str(value))
        return value

    def refusal(self, name: str, value: str) -> InvalidParameter:
        shown = value if len(value) <= 40 else f"{value[:20]}... ({len(value)} characters)"
        return InvalidParameter(f"{name} must be {self.said()}, got {shown}")

    def said(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        return f"between {self.low} and {self.high}{unit}"


# Lists (both APIs). PageSize: the OpenAPI description's 1-1000. Page: its minimum 0; the offset a page
# stands for (Page x PageSize) must still fit SQLite's integer (`check_offset`).
PAGE = Range(0, SQLITE_MAX)
PAGE_SIZE = Range(1, 1000)

# TaskRouter v1, each from the OpenAPI description's text.
PRIORITY = Range(0, 2**31 - 1)  # "Value can be 0 to 2^31 (2,147,483,647)"
TASK_TIMEOUT = Range(1, 1_209_600, "seconds")  # "up to a maximum of 2 weeks (1,209,600 seconds)"
RESERVATION_TIMEOUT = Range(1, 86_400, "seconds")  # TaskReservationTimeout: "up to 86,400 (24 hours)"
MAX_RESERVED_WORKERS = Range(1, 50)  # "an integer between 1 and 50, inclusive"
CAPACITY = Range(0, 50)  # 0 stops new reservations (documented); the 50 is our choice: Twilio states no maximum
# Statistics and Events: "since this many minutes in the past"; Twilio keeps 30 days of events
# (43,200 minutes, the description's redaction age), and so does this server by default.
MINUTES = Range(1, 43_200, "minutes")
SPLIT_BY_WAIT_TIME = Range(0, 999_999_999, "seconds")  # our choice: nine digits, far past any wait

# The 2010-04-01 API.
CALL_TIMEOUT = Range(1, 600, "seconds")  # Calls' Timeout: "the maximum is 600 seconds"
QUEUE_MAX_SIZE = Range(1, 5_000)  # Queues' MaxSize: "The maximum is 5000"

# Local control (/_local/Clock): the clock only moves forward, and dates must stay writable (the backend
# also refuses a jump past 9999 from where the clock is now).
ADVANCE_SECONDS = Range(0, 10**12, "seconds")

# Dates: what `datetime` can represent, as seconds since the epoch. A window's derived start (EndDate minus
# the default 15 minutes) is clamped to the first; no event is older than that anyway.
FIRST_DATE = datetime(1, 1, 1, tzinfo=UTC).timestamp()
LAST_DATE = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp()


def check_offset(page: int, size: int) -> int:
    """The first row of page `page`: a page so far on that its offset overflows SQLite is a 400 naming Page."""
    offset = page * size
    if offset > SQLITE_MAX:
        raise InvalidParameter(f"Page {page} with PageSize {size} starts past the last row a list can have "
                               f"(Page x PageSize must be at most {SQLITE_MAX})")
    return offset
