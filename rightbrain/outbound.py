"""Outbound HTTP to addresses users give us (URL fetching, webhooks).

A URL a user types can point at our own network: the database, the cloud
metadata service, an admin port on loopback. `checked_url` resolves the host and
refuses any address that is not public, unless `RB_ALLOW_PRIVATE_URLS` is on
(tests and fully local set-ups turn it on deliberately).

`client()` gives an httpx client that repeats the check on every connection, so
a redirect to a private address, or a name that resolves differently the second
time, is refused too.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

import httpx
from django.conf import settings

ALLOWED_SCHEMES = ("http", "https")


class BlockedURL(ValueError):
    """The URL may not be fetched; the message says why, for the user."""


def _addresses(host: str, port: int) -> Iterable[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise BlockedURL(f"The host {host} could not be resolved.") from error
    return {str(info[4][0]) for info in infos}


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def checked_url(url: str) -> str:
    """Return `url` if it may be fetched, else raise `BlockedURL`."""
    parts = urlsplit(url)
    if parts.scheme not in ALLOWED_SCHEMES:
        raise BlockedURL("Only http and https URLs can be fetched.")
    host = parts.hostname
    if not host:
        raise BlockedURL("The URL has no host.")
    if settings.RB_ALLOW_PRIVATE_URLS:
        return url
    port = parts.port or (443 if parts.scheme == "https" else 80)
    for address in _addresses(host, port):
        if not is_public_address(address):
            raise BlockedURL(
                f"{host} resolves to a private or loopback address ({address}); "
                "such addresses cannot be fetched."
            )
    return url


class _GuardedTransport(httpx.HTTPTransport):
    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            checked_url(str(request.url))
        except BlockedURL as error:
            raise httpx.ConnectError(str(error), request=request) from error
        return super().handle_request(request)


def client(*, timeout: float, follow_redirects: bool = True) -> httpx.Client:
    """An httpx client for user-supplied URLs; every request is checked."""
    return httpx.Client(
        transport=_GuardedTransport(),
        timeout=timeout,
        follow_redirects=follow_redirects,
        max_redirects=5,
    )
