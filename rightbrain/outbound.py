"""Outbound HTTP to addresses users give us (URL fetching, webhooks).

A URL a user types can point at our own network: the database, the cloud
metadata service, an admin port on loopback. Two rules keep such requests on
the public internet, unless `RB_ALLOW_PRIVATE_URLS` is on (tests and fully
local set-ups turn it on deliberately):

* a host is refused when any of its addresses is not public, including IPv6
  forms that carry a private IPv4 address inside them (`::ffff:10.0.0.1`,
  NAT64 `64:ff9b::/96`, 6to4 `2002::/16`, `::a.b.c.d`);
* `client()` connects each request, every redirect hop included, to an address
  it has just vetted, never to a name: httpx is handed the IP address with the
  original Host header and TLS server name (SNI, which the certificate is
  checked against). A name that answers a public address to the check and a
  private one to the connection (DNS rebinding) cannot reach the private one,
  because the connection never asks again.

Messages say that an address is not allowed, never which address a name
resolved to: echoing it would map our internal network for whoever asks.
"""

from __future__ import annotations

import ipaddress
import socket

import httpx
from django.conf import settings

ALLOWED_SCHEMES = ("http", "https")
_DEFAULT_PORTS = {"http": 80, "https": 443}

# IPv6 ranges that carry an IPv4 address in their last 32 bits: NAT64's
# well-known prefix (RFC 6052) and SIIT's IPv4-translated addresses (RFC 6145).
# 6to4, Teredo and IPv4-mapped addresses have their own `ipaddress` accessors.
_IPV4_TRANSLATED = (
    ipaddress.IPv6Network("64:ff9b::/96"),
    ipaddress.IPv6Network("::ffff:0:0:0/96"),
)
# Never public, though Python counts them global: local-use NAT64 (RFC 8215),
# which translates into whatever network the operator chose, and the deprecated
# IPv4-compatible form `::a.b.c.d` (RFC 4291 §2.5.5.1), which no public host uses.
_NEVER_PUBLIC = (
    ipaddress.IPv6Network("64:ff9b:1::/48"),
    ipaddress.IPv6Network("::/96"),
)


class BlockedURL(ValueError):
    """The URL may not be fetched; the message says why, for the user."""


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if any(ip in network for network in _IPV4_TRANSLATED):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public_address(address: str) -> bool:
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if any(ip in network for network in _NEVER_PUBLIC):
            return False
        embedded = _embedded_ipv4(ip)
        if embedded is not None and not is_public_address(str(embedded)):
            return False
        if ip.ipv4_mapped is not None:
            # Python counts the mapped range as private; its IPv4 address decides.
            return True
    return ip.is_global and not ip.is_multicast


def resolve(host: str, port: int) -> list[str]:
    """The addresses of `host`, in the system resolver's order."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise BlockedURL(f"The host {host} could not be resolved.") from error
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _target(url: str | httpx.URL) -> tuple[httpx.URL, str, int]:
    """The parsed URL, its host as DNS sees it (IDNA), and its port."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        raise BlockedURL("This is not a valid URL.") from None
    if parsed.scheme not in ALLOWED_SCHEMES:
        raise BlockedURL("Only http and https URLs can be fetched.")
    host = parsed.raw_host.decode("ascii")
    if not host:
        raise BlockedURL("The URL has no host.")
    return parsed, host, parsed.port or _DEFAULT_PORTS[parsed.scheme]


def _vetted(parsed: httpx.URL, host: str, port: int) -> list[str]:
    addresses = resolve(host, port)
    if not settings.RB_ALLOW_PRIVATE_URLS and not all(
        is_public_address(address) for address in addresses
    ):
        raise BlockedURL(
            f"The address of {parsed.host} is not allowed: only public internet "
            "addresses can be reached."
        )
    return addresses


def checked_url(url: str) -> str:
    """Return `url` if it may be fetched now, else raise `BlockedURL`.

    For checking what users save (a forwarder's destination); requests are
    vetted again, and pinned, when they are made."""
    parsed, host, port = _target(url)
    if not settings.RB_ALLOW_PRIVATE_URLS:
        _vetted(parsed, host, port)
    return url


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class PinnedTransport(httpx.BaseTransport):
    """Resolves and vets each request's host, then connects to a vetted address.

    httpx follows redirects by sending each hop through the transport, so every
    hop is vetted and pinned here as the first request is.
    """

    def __init__(self) -> None:
        # One connection pool per host name: a TLS connection belongs to the
        # name it was opened (and its certificate checked) for, and two names
        # may share an address.
        self._pools: dict[str, httpx.HTTPTransport] = {}

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            parsed, host, port = _target(request.url)
            addresses = _vetted(parsed, host, port)
        except BlockedURL as error:
            raise httpx.ConnectError(str(error), request=request) from None
        pool = self._pools.setdefault(host, httpx.HTTPTransport())
        extensions = dict(request.extensions)
        if parsed.scheme == "https" and not _is_ip_literal(host):
            extensions["sni_hostname"] = host
        failure = "no address answered"
        for address in addresses:
            pinned = httpx.Request(
                request.method,
                parsed.copy_with(host=address),
                headers=request.headers,  # with the Host header for the name
                stream=request.stream,
                extensions=extensions,
            )
            try:
                return pool.handle_request(pinned)
            except httpx.ConnectError as error:
                # Nothing was sent: the next address may answer.
                failure = str(error)
        raise httpx.ConnectError(failure, request=request)

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()


def client(*, timeout: float, follow_redirects: bool = True) -> httpx.Client:
    """An httpx client for user-supplied URLs: every request, redirects
    included, goes only to an address vetted for it."""
    return httpx.Client(
        transport=PinnedTransport(),
        timeout=timeout,
        follow_redirects=follow_redirects,
        max_redirects=5,
        # No proxies or credentials from the environment for users' URLs.
        trust_env=False,
    )
