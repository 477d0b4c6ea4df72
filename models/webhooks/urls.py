"""Where a webhook may be sent: SSRF rules, checked at registration and again at send time.

Outside WEBHOOK_ALLOW_PRIVATE, a URL must be https and its host must resolve only to
public addresses (no loopback, private, link-local, multicast, reserved or unspecified
ones, IPv4 or IPv6, nor an IPv4-mapped IPv6 form of one). The sender connects to the
address it checked, never resolving twice (DNS rebinding), and never follows redirects.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

Resolver = Callable[[str, int], list[str]]
MAX_URL = 2000


class UnsafeUrl(ValueError):
    """The URL may not receive webhooks; the message says why."""


class Unresolved(UnsafeUrl):
    """The name does not resolve now: maybe a passing DNS fault (a send retries)."""


@dataclass(frozen=True)
class Target:
    """A checked destination: connect to `address`, present `host` (Host header, SNI)."""

    scheme: str
    host: str
    port: int
    path: str  # with its query
    address: str


def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (UnicodeError, ValueError) as exc:  # an empty or over-long label: not a name
        raise UnsafeUrl(f"{host!r} is not a valid host name") from exc
    except OSError as exc:  # gaierror, and EAI_AGAIN among them
        raise Unresolved(f"{host} does not resolve") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


# IPv6 prefixes that carry an IPv4 address inside (NAT64, IPv4-compatible, SIIT): the
# IPv4 one is what they reach, so it is the one checked.
_EMBEDDING = (
    ipaddress.ip_network("64:ff9b::/96"),
    ipaddress.ip_network("64:ff9b:1::/48"),
    ipaddress.ip_network("::/96"),
    ipaddress.ip_network("::ffff:0:0:0/96"),
)


def _embedded(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    found = [a for a in (ip.ipv4_mapped, ip.sixtofour) if a is not None]
    if ip.teredo is not None:
        found += list(ip.teredo)
    if any(ip in net for net in _EMBEDDING):
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def is_public(address: str) -> bool:
    """A global unicast address, and so is any IPv4 address an IPv6 one carries."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if not ip.is_global or ip.is_multicast:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        return all(v4.is_global and not v4.is_multicast for v4 in _embedded(ip))
    return True


def check_url(url: str, *, allow_private: bool, resolver: Resolver = system_resolver) -> Target:
    """The destination to connect to, or UnsafeUrl saying why not."""
    if len(url) > MAX_URL:
        raise UnsafeUrl(f"at most {MAX_URL} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrl("not a valid URL") from exc
    schemes = {"https", "http"} if allow_private else {"https"}
    if parts.scheme not in schemes:
        raise UnsafeUrl("must be an https URL" if not allow_private else "must be http(s)")
    if not parts.hostname:
        raise UnsafeUrl("has no host")
    if parts.username or parts.password:
        raise UnsafeUrl("must not carry credentials")
    port = port or (443 if parts.scheme == "https" else 80)
    addresses = resolver(parts.hostname, port)
    if not addresses:
        raise UnsafeUrl(f"{parts.hostname} does not resolve")
    if not allow_private:
        refused = [a for a in addresses if not is_public(a)]
        if refused:
            raise UnsafeUrl(
                f"{parts.hostname} resolves to a non-public address ({refused[0]}); "
                "webhooks go to public https endpoints only"
            )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname, port, path, addresses[0])
