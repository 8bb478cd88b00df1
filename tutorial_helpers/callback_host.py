"""CALLBACK_HOST: where the kernel's callback server listens, and the address it puts in its callback URLs.

By default the callback server listens on 127.0.0.1, which only this machine can reach: right for the
learner's own local TaskRouter. A workshop room's TaskRouter on another machine must reach the kernel, so
CALLBACK_HOST names an address of this machine on the room's network (an IP or a host name), or 0.0.0.0
for all of them, in which case the callback URLs carry this machine's LAN address (`lan_address`).

Nothing here needs the internet: "is this address mine" is answered by binding it, and the LAN address is
the one the operating system would send from (a UDP socket's connect sends no packet).
"""

from __future__ import annotations

import ipaddress
import re
import socket

from tutorial_helpers.errors import TutorialError

DEFAULT = "127.0.0.1"
# RFC 1123 host names: dot-separated labels of letters, digits and inner hyphens.
_HOST_NAME = re.compile(r"(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}"
                        r"[A-Za-z0-9])?)*\.?")
# Addresses in private ranges that need no route to exist: connecting a UDP socket to one only asks the
# routing table which local address would be used (no packet is sent), so this works offline.
_ROUTE_PROBES = ("10.255.255.255", "192.168.255.255", "172.31.255.255")


class CallbackHostError(TutorialError, ValueError):
    """CALLBACK_HOST cannot work; the message says what to set instead."""


def is_all(host: str) -> bool:
    """True for the addresses that mean "every interface of this machine" (0.0.0.0, ::)."""
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def check(value: str) -> str:
    """CALLBACK_HOST as given, when it is an IP or host name of this machine (or 0.0.0.0); else CallbackHostError.

    "Of this machine" is tested by binding it on a free port for a moment: the only test that the server's own
    bind will agree with.
    """
    host = value.strip()
    if is_all(host):
        return host
    if "/" in host or (host.count(":") == 1) or host.startswith("["):
        raise CallbackHostError(f"CALLBACK_HOST is an address without scheme, port or brackets ({_example()}); "
                                f"got {value!r}.")
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
        if not _HOST_NAME.fullmatch(host):
            raise CallbackHostError(f"CALLBACK_HOST must be an IP address or a host name of this machine "
                                    f"({_example()}); got {value!r}.") from None
    if ip is not None and (ip.is_multicast or (ip.version == 4 and str(ip) == "255.255.255.255")):
        raise CallbackHostError(f"CALLBACK_HOST must be an address of this machine ({_example()}); {value!r} is a "
                                "broadcast or multicast address.")
    problem = _bind_problem(host)
    if problem:
        raise CallbackHostError(f"CALLBACK_HOST={host} is not an address of this machine ({problem}). Set it to "
                                f"an address of this machine the workshop room's TaskRouter can reach, {_example()}.")
    return host


def bind_and_advertise(host: str, toward: str | None = None) -> tuple[str, str]:
    """(the address to listen on, the host to put in callback URLs) for a checked CALLBACK_HOST.

    0.0.0.0 listens everywhere; the URLs then carry the LAN address on the way to `toward` (the TaskRouter's
    host), which is the address that machine reaches this one by.
    """
    return host, (lan_address(toward) if is_all(host) else host)


def lan_address(toward: str | None = None) -> str:
    """This machine's address on its network, found without sending anything: the source address the routing
    table picks for `toward` (when it is another machine), else for a private address; 127.0.0.1 when there is
    no network at all."""
    targets = [toward] if toward and not is_loopback(toward) else []
    for target in [*targets, *_ROUTE_PROBES]:
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
                probe.connect((target, 9))
                address = probe.getsockname()[0]
        except OSError:
            continue
        if not is_loopback(address) and not is_all(address):
            return address
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        infos = []
    for *_, sockaddr in infos:
        if not is_loopback(str(sockaddr[0])):
            return str(sockaddr[0])
    return DEFAULT


def _example() -> str:
    return f"e.g. CALLBACK_HOST={lan_address()} (this machine's address now), or 0.0.0.0 for all of its addresses"


def url_host(host: str) -> str:
    """The host as it appears in a URL (an IPv6 address in brackets)."""
    return f"[{host}]" if ":" in host else host


def is_loopback(host: str) -> bool:
    """True for this machine's own addresses (localhost, 127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _bind_problem(host: str) -> str | None:
    """Why this machine cannot listen on `host`, or None when it can."""
    try:
        infos = socket.getaddrinfo(host, 0, type=socket.SOCK_STREAM)
    except OSError:
        return "the name does not resolve"
    family, kind, proto, _, sockaddr = infos[0]
    try:
        with socket.socket(family, kind, proto) as trial:
            trial.bind(sockaddr)
    except OSError as exc:
        return f"binding it failed: {exc.strerror or exc}"
    return None
