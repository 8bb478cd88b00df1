"""Reading a request's parameters the way Twilio's APIs take them: form fields on writes, query on reads.

Shared by every service of the local server; a bad value is a 400 that names the parameter.
"""

from flask import request

from .exceptions import InvalidParameter


def param(name: str) -> str | None:
    """A body parameter (updates and creates are form POSTs) or a query parameter."""
    value = request.form.get(name)
    if value is None:
        value = request.args.get(name)
    return value


def param_int(name: str, default: int | None = None) -> int | None:
    value = param(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise InvalidParameter(f"{name} must be an integer, got {value!r}") from None


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
