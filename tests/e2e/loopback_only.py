"""A pytest plugin (``-p tests.e2e.loopback_only``) for proving the default run stays local:
every name lookup or connection beyond loopback is refused and written to the file named by
``MESHGOV_E2E_NETWORK_LOG`` (one ``host`` per line)."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

LOG_VARIABLE = "MESHGOV_E2E_NETWORK_LOG"
LOOPBACK_NAMES = frozenset({"", "localhost", "::1"})

_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex
_getaddrinfo = socket.getaddrinfo


def is_loopback(host: object) -> bool:
    text = "" if host is None else (host.decode() if isinstance(host, bytes) else str(host))
    return text in LOOPBACK_NAMES or text.startswith("127.")


def _refuse(host: object) -> None:
    log = os.environ.get(LOG_VARIABLE)
    if log:
        with Path(log).open("a", encoding="utf-8") as out:
            out.write(f"{host}\n")
    raise OSError(f"loopback only: refused {host}")


def _host(address: Any) -> object:
    return address[0] if isinstance(address, tuple) else None


def _guarded_connect(self: socket.socket, address: Any) -> None:
    if self.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(_host(address)):
        _refuse(_host(address))
    _connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    if self.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(_host(address)):
        _refuse(_host(address))
    return _connect_ex(self, address)


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if not is_loopback(host):
        _refuse(host)
    return _getaddrinfo(host, *args, **kwargs)


socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
socket.getaddrinfo = _guarded_getaddrinfo
