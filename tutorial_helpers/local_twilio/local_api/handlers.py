"""One function per server-wide /_local endpoint: read params -> one call -> reply."""

from flask import Response, current_app

from ..core.exceptions import InvalidParameter
from ..core.http import param_int, reply
from ..core.limits import ADVANCE_SECONDS
from ..core.ports import ClockControl


def clock_control() -> ClockControl:
    return current_app.config["CLOCK_CONTROL"]


def health() -> Response:
    # Whose server this is (its data dir's instance id and owner, local_twilio/instance.py), so `ensure` tells its
    # own from a stranger's; a standalone server (the CLI) also says its pid, so `local-taskrouter --stop` can stop it.
    config = current_app.config
    return reply({"status": "ok", "service": "local-taskrouter", **config.get("INSTANCE", {}),
                  **config.get("PROCESS", {})})


def get_clock() -> Response:
    clock = clock_control()
    return reply({"now": clock.now(), "offset": clock.clock_offset})


def advance_clock() -> Response:
    seconds = param_int("AdvanceSeconds", ADVANCE_SECONDS)
    if seconds is None:
        raise InvalidParameter("AdvanceSeconds is required")
    clock = clock_control()
    clock.advance_clock(seconds)
    return reply({"now": clock.now(), "offset": clock.clock_offset})
