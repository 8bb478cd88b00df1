"""POST /_local/Reachability: can this TaskRouter reach a URL? Asked by notebook 00 in a workshop room.

An attendee's callback server runs in their notebook kernel, on their laptop; the room's TaskRouter runs on
the facilitator's machine. Whether one reaches the other (the attendee's CALLBACK_HOST, a firewall, the
same network) can only be seen from the TaskRouter's side, so the notebook asks the TaskRouter to try.

The answer says only whether an HTTP answer came and its status, or why none did: never a header or a byte
of the body, and redirects are not followed. That keeps this from being a proxy that fetches pages for an
account holder; what remains (a status, or "refused"/"timed out") is what any callback URL already tells.
The request goes out the way callbacks do (http.client, no proxy from the environment, a short deadline).
"""

from __future__ import annotations

import http.client
import socket
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

from flask import Response

from ..core.exceptions import InvalidParameter
from ..core.http import param, reply
from ..core.validators import valid_url

TIMEOUT_SECONDS = 3.0  # well under a callback's 5 s: a test, not a wait


@dataclass(frozen=True)
class Reach:
    """What came back from one GET: `reached` with the HTTP `status`, or not, and `reason` in words."""

    url: str
    reached: bool
    status: int | None = None
    reason: str | None = None


def reach(url: str, timeout: float = TIMEOUT_SECONDS) -> Reach:
    """GET `url` once (http or https) and report only whether it answered, and with which status."""
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.hostname or "", parts.port, timeout=timeout)
    try:
        connection.request("GET", target, headers={"User-Agent": "TwilioProxy/1.1 (local Twilio reachability)",
                                                   "Accept": "*/*"})
        status = connection.getresponse().status  # the body is never read
    except TimeoutError:
        return Reach(url, False, reason=f"no answer within {timeout:g} s (a firewall may drop the connection, or "
                                        "the address is not on this network)")
    except ConnectionRefusedError:
        return Reach(url, False, reason="connection refused (nothing listens at that address and port, or a "
                                        "firewall refuses it)")
    except socket.gaierror:
        return Reach(url, False, reason=f"the host name {parts.hostname} does not resolve on the TaskRouter's machine")
    except OSError as exc:
        return Reach(url, False, reason=f"{type(exc).__name__}: {exc.strerror or 'no connection'}")
    except http.client.HTTPException as exc:
        return Reach(url, False, reason=f"not an HTTP answer ({type(exc).__name__})")
    finally:
        connection.close()
    return Reach(url, True, status=status)


def reachability() -> Response:
    """POST /_local/Reachability with `Url=`: read params -> one GET -> render."""
    url = valid_url(param("Url"), "Url")
    if url is None:
        raise InvalidParameter("Url is required")
    return reply(asdict(reach(url)))
