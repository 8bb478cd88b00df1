"""Values the 2010-04-01 API takes: phone numbers, webhook URLs and methods. A bad one is a 400 that names it."""

import re

from ..exceptions import InvalidParameter

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
METHODS = ("GET", "POST")


def valid_url(value: str, what: str) -> str | None:
    """An absolute http(s) URL, or None for an empty value (which clears it)."""
    if value == "":
        return None
    if not re.match(r"^https?://[^\s/]+(/\S*)?$", value):
        raise InvalidParameter(f"{what} must be an absolute http(s) URL, got {value[:80]!r}")
    return value


def valid_method(value: str, what: str) -> str:
    method = value.upper()
    if method not in METHODS:
        raise InvalidParameter(f"{what} must be GET or POST, got {value[:20]!r}")
    return method
