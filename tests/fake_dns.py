"""A stand-in for the DNS at the edge of the system: names the tests choose get
scripted answers, every other name goes to the real resolver.

`fake_dns.answer(name, first, second, ...)` gives `first` to the first lookup of
`name`, `second` to the next, and repeats the last answer from then on: a name
that answers a public address and then 127.0.0.1 is how DNS rebinding looks to
whoever resolves it. The fixture installs it as `socket.getaddrinfo`, which our
outbound requests and httpx's own connections both resolve through.

Tests never send a packet off this machine: a connection to an address that is
not loopback (the public addresses the scripted names answer) is recorded in
`connects` and fails as an unreachable network would, before anything is sent.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class FakeDNS:
    real_getaddrinfo: Callable[..., Any]
    answers: dict[str, list[list[str]]] = field(default_factory=dict)
    lookups: list[str] = field(default_factory=list)
    connects: list[str] = field(default_factory=list)

    def answer(self, name: str, *answers: list[str]) -> None:
        self.answers[name] = list(answers)

    def getaddrinfo(
        self,
        host: Any,
        port: Any,
        family: int = 0,
        type: int = 0,  # noqa: A002 - the stdlib's name
        proto: int = 0,
        flags: int = 0,
    ) -> list[tuple[Any, ...]]:
        name = host.decode() if isinstance(host, bytes) else host
        if _is_off_machine(name):
            # A connection resolves its address literal through here first.
            self.connects.append(name)
            raise OSError(errno.ENETUNREACH, "Network is unreachable")
        if name not in self.answers:
            return self.real_getaddrinfo(host, port, family, type, proto, flags)
        self.lookups.append(name)
        queue = self.answers[name]
        addresses = queue.pop(0) if len(queue) > 1 else queue[0]
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [_info(address, int(port or 0)) for address in addresses]


def _is_off_machine(host: Any) -> bool:
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _info(address: str, port: int) -> tuple[Any, ...]:
    if ":" in address:
        return (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0))
    return (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))
