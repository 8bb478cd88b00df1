"""The HTTP both APIs share: reading a request's parameters the way Twilio takes them (form fields on writes,
query on reads) and answering with JSON.

The one place that turns a parameter into a number or a date: each within its range (limits.py), so a bad or
out-of-range value is a 400 that names the parameter.
"""

import json
import re
from typing import Any

from flask import Response, request

from .clock import parse_iso
from .exceptions import InvalidParameter
from .limits import FIRST_DATE, LAST_DATE, Range

# ASCII digits only: int() also takes "٣", "1_000" and surrounding spaces, which Twilio's API does not.
INTEGER = re.compile(r"[+-]?[0-9]+", re.ASCII)
MAX_DIGITS = 30  # past every range in limits.py; longer text is refused before int() reads it


def param(name: str) -> str | None:
    """A body parameter (updates and creates are form POSTs) or a query parameter."""
    value = request.form.get(name)
    if value is None:
        value = request.args.get(name)
    return value


def integer(name: str, value: str | None, within: Range, default: int | None = None) -> int | None:
    """`value` (a parameter's text) as an integer in `within`; None or "" gives `default`."""
    if value is None or value == "":
        return default
    if not INTEGER.fullmatch(value):
        shown = value if len(value) <= 40 else value[:40] + "..."
        raise InvalidParameter(f"{name} must be an integer {within.said()}, got {shown!r}")
    if len(value.lstrip("+-").lstrip("0")) > MAX_DIGITS:  # well-formed, past every range: not worth int()
        raise within.refusal(name, value)
    return within.check(int(value), name)


def param_int(name: str, within: Range, default: int | None = None) -> int | None:
    """A request's integer parameter, in its range."""
    return integer(name, param(name), within, default)


def param_bool(name: str) -> bool | None:
    value = param(name)
    if value is None or value == "":
        return None
    lowered = value.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise InvalidParameter(f"{name} must be true or false, got {value!r}")


def param_date(name: str) -> float | None:
    """An ISO 8601 date-time (or a bare date: its midnight, UTC) as seconds since the epoch."""
    value = param(name)
    if not value:
        return None
    for candidate in (value, value + "T00:00:00Z"):
        try:
            ts = parse_iso(candidate)
        except (ValueError, OverflowError):
            continue
        if not FIRST_DATE <= ts <= LAST_DATE:  # a zone offset can push a valid text past year 9999
            break
        return ts
    raise InvalidParameter(f"{name} must be an ISO 8601 date like 2024-05-14T10:50:02Z, got {value[:60]!r}")


def reply(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON answer, as both of Twilio's APIs give them."""
    return Response(json.dumps(body), status=status, mimetype="application/json", headers=headers)


def no_content() -> Response:
    return Response(status=204)
