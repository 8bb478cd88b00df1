"""Signed requests from the local Twilio server to an application: callbacks and voice webhooks.

One function, `send`, for every service: TaskRouter's assignment and event
callbacks and the voice side's TwiML requests. It signs with the account's auth
token as Twilio does (X-Twilio-Signature), and the whole answer, body included,
must arrive within the deadline.
"""

import http.client
import time
from typing import NamedTuple
from urllib.parse import urlencode, urlsplit

from twilio.request_validator import RequestValidator

MAX_ANSWER_BYTES = 64 * 1024  # an instruction or a TwiML document is a few KB; alerts keep 2,000 characters


class Answer(NamedTuple):
    status: int
    content_type: str
    body: str


class Unreachable(Exception):
    """The request could not be delivered (connection refused, bad URL, protocol error)."""


class TooSlow(Unreachable):
    """No complete answer within the deadline."""


def sign(auth_token: str, url: str, params: dict[str, str]) -> str:
    """X-Twilio-Signature: HMAC-SHA1 over the URL and the sorted POST parameters."""
    return RequestValidator(auth_token).compute_signature(url, params)


def send(method: str, url: str, params: dict[str, str], auth_token: str, deadline: float) -> Answer:
    """A signed request; a GET carries the parameters in its query string (and they are signed in the URL).

    Plain http.client rather than requests: this is on the path of every assignment, and
    requests' per-call setup (proxies, netrc, adapters) cost about 2 ms of it. The deadline
    covers the whole answer, so an app that trickles its body cannot get a late
    instruction carried out.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Unreachable(f"not an http(s) URL: {url!r}")
    if method == "GET":
        query = "&".join(filter(None, [parts.query, urlencode(params)]))
        url = parts._replace(query=query).geturl()
        signed, body, target = sign(auth_token, url, {}), None, (parts.path or "/") + (f"?{query}" if query else "")
        headers = {}
    else:
        signed, body = sign(auth_token, url, params), urlencode(params)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    started = time.monotonic()

    def remaining() -> float:
        left = deadline - (time.monotonic() - started)
        if left <= 0:
            raise TooSlow(f"no complete answer within {deadline:g} seconds")
        return left

    connection = connection_class(parts.hostname, parts.port, timeout=deadline)
    try:
        connection.request(method, target, body=body, headers={
            "X-Twilio-Signature": signed,
            "User-Agent": "TwilioProxy/1.1 (local Twilio)",
            "Accept": "*/*",
            **headers,
        })
        # Each read waits at most the time left when the answer started; the checks
        # between reads refuse an answer that was still arriving at the deadline.
        connection.sock.settimeout(remaining())
        response = connection.getresponse()
        chunks, size = [], 0
        while True:
            remaining()
            chunk = response.read(8192)
            if not chunk:
                break
            size += len(chunk)
            if size <= MAX_ANSWER_BYTES:  # read on to the end, keep only what is worth keeping
                chunks.append(chunk)
        remaining()
        content_type = response.getheader("Content-Type", "") or ""
        charset = content_type.partition("charset=")[2].split(";")[0].strip() or "utf-8"
        try:
            text = b"".join(chunks).decode(charset, errors="replace")
        except LookupError:
            text = b"".join(chunks).decode("utf-8", errors="replace")
        return Answer(response.status, content_type, text)
    except TimeoutError as exc:  # socket.timeout is TimeoutError
        raise TooSlow(f"no complete answer within {deadline:g} seconds") from exc
    except (OSError, http.client.HTTPException) as exc:
        raise Unreachable(type(exc).__name__) from exc
    finally:
        connection.close()
