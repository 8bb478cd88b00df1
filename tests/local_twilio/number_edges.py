"""Where Python, SQLite and `datetime` stop (issue 22): the values every integer and date parameter is tried at.

Both schema fuzzers (TaskRouter v1 and the 2010-04-01 API) send each of these to every operation that takes
such a parameter; the local server must answer a Twilio-shaped 4xx or a valid 2xx, never a 500.
"""

# SQLite's INTEGER ends at 2^63 - 1; 10^23 is past every 64-bit type; 0 and -1 are where ranges start.
INTEGER_EDGES = (2**63, 2**63 - 1, -(2**63), -(2**63) - 1, 10**23, -(10**23), 0, -1)

# The ends of datetime's range, as the SDK sends a datetime and as a bare date; with a zone offset that pushes
# a valid text past year 1 or year 9999 once it is made UTC.
DATE_EDGES = (
    "0001-01-01T00:00:00Z", "0001-01-01", "9999-12-31T23:59:59Z", "9999-12-31",
    "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00",
)

# Twilio's documented ranges, this test's own copy from the OpenAPI descriptions' text (not the server's table):
# (low, high), None where the description gives no end.
DOCUMENTED = {
    "PageSize": (1, 1000),
    "Page": (0, None),
    "Minutes": (1, 43_200),  # "since this many minutes"; events older than 43,200 minutes are redacted
    "Priority": (0, 2**31 - 1),  # "Value can be 0 to 2^31 (2,147,483,647)"
    "Timeout": (1, 1_209_600),  # a Task's: "up to a maximum of 2 weeks (1,209,600 seconds)"
    "TaskReservationTimeout": (1, 86_400),  # "Can be up to 86,400 (24 hours)"
    "MaxReservedWorkers": (1, 50),  # "an integer between 1 and 50, inclusive"
    "MaxParticipants": (2, 250),  # "a positive integer from 2 to 250"
}
DOCUMENTED_2010 = {
    "PageSize": (1, 1000),
    "Page": (0, None),
    "Timeout": (1, 600),  # a Call's: "The default is 60 seconds and the maximum is 600 seconds"
    "MaxSize": (1, 5000),  # a Queue's: "The maximum is 5000"
}


def integer_values(name: str, documented: dict[str, tuple[int, int | None]]) -> list[int]:
    """The edges, then the parameter's documented bounds and one either side of each."""
    values = list(INTEGER_EDGES)
    low, high = documented.get(name, (None, None))
    for bound in (low, high):
        if bound is not None:
            values += [bound - 1, bound, bound + 1]
    return list(dict.fromkeys(values))


def outside(name: str, value: int, documented: dict[str, tuple[int, int | None]]) -> bool:
    """Is `value` outside the parameter's documented range (so it must never be accepted)?"""
    if name not in documented:
        return False
    low, high = documented[name]
    return value < low or (high is not None and value > high)
