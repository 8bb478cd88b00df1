"""Values every API of the local server checks the same way: the URL of a webhook, an HTTP method, a phone number.

TaskRouter's callback URLs (EventCallbackUrl, AssignmentCallbackUrl, ...), the
2010-04-01 API's (VoiceUrl, Url, StatusCallback, ...) and the URLs of voice
instructions are all URLs the server will later send signed requests to, so one
rule decides them. A bad one is an `InvalidParameter` (400, 20001) whose message
names the parameter; a caller that answers with another code (an instruction's
40xxx) re-raises it with that code.
"""

import ipaddress
import re
from urllib.parse import urlsplit

from .exceptions import InvalidParameter

E164 = re.compile(r"^\+[1-9]\d{6,14}$")  # a phone number: +, then up to 15 digits, never a leading 0
METHODS = ("GET", "POST")  # what a webhook may be requested with
MAX_URL_CHARS = 2048  # local limit: far above any real callback URL, far below the 1 MB body limit
HOST_NAME = re.compile(r"[\w.-]+")  # letters (IDN too), digits, dots, hyphens, underscores: never a space


def valid_url(value: str | None, what: str) -> str | None:
    """A webhook URL: absolute http(s), a host without spaces, at most MAX_URL_CHARS; "" clears it (None)."""
    if value is None or value == "":
        return None
    shown = value[:80]
    if len(value) > MAX_URL_CHARS:
        raise InvalidParameter(f"{what} is longer than {MAX_URL_CHARS} characters")
    if any(c.isspace() or not c.isprintable() for c in value):
        raise InvalidParameter(f"{what} must be an absolute http(s) URL without spaces, got {shown!r}")
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
        parts.port  # noqa: B018  (raises ValueError on a port that is not a number in 0-65535)
    except ValueError:
        raise InvalidParameter(f"{what} must be an http(s) URL, got {shown!r}") from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise InvalidParameter(f"{what} must be an absolute http(s) URL, got {shown!r}")
    if parts.netloc.rsplit("@", 1)[-1].startswith("["):
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise InvalidParameter(f"{what} has an invalid IPv6 host, got {shown!r}") from None
    elif not HOST_NAME.fullmatch(host):
        raise InvalidParameter(f"{what} has an invalid host {host[:80]!r}")
    return value


def valid_method(value: str, what: str) -> str:
    """GET or POST, in any case, as the upper-case method; else a 400 that names the parameter."""
    method = value.upper()
    if method not in METHODS:
        raise InvalidParameter(f"{what} must be GET or POST, got {value[:20]!r}")
    return method
