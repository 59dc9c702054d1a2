"""A moto server on loopback, in this process: the endpoint of `make demo` and `meshgov mesh up`.

In-process matters: the local mesh's patches (:mod:`meshgov_local.emulator`) change moto's classes,
and the router obtains Lambda execution-role credentials from moto's STS backend directly; both
only reach a server that runs in the same interpreter. The server listens on 127.0.0.1 by default
and is always stopped, its socket closed and moto's state reset on exit, whatever happens
(exceptions, KeyboardInterrupt), so nothing outlives the ``with`` block.
"""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto.server import ThreadedMotoServer

from meshgov_local import emulator

LOOPBACK = "127.0.0.1"


class ServerStartError(RuntimeError):
    """The moto server could not listen on the requested address."""


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port that is free on ``host`` right now (for tests and ``--port 0``)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def endpoint_for(host: str, port: int) -> str:
    shown = LOOPBACK if host in ("0.0.0.0", "") else host  # noqa: S104 - only a display rule
    return f"http://{shown}:{port}"


@contextmanager
def moto_server(host: str = LOOPBACK, port: int = 0, *, quiet: bool = True) -> Iterator[str]:
    """Run moto on ``host:port`` (0: a free port) and yield its endpoint URL.

    ``emulator.install()`` runs first, so the server serves the patched moto from its first request.
    ``quiet`` keeps werkzeug's one-line-per-request log off the console while the server runs.
    """
    emulator.install()
    with _request_log_silenced(quiet):
        server = _start(host, port)
        try:
            bound_host, bound_port = server.get_host_and_port()
            yield endpoint_for(bound_host, bound_port)
        finally:
            _stop(server)


def _start(host: str, port: int) -> ThreadedMotoServer:
    # A failed bind happens in the server's thread and would leave start() waiting forever:
    # try the bind here first, the way the server binds (SO_REUSEADDR), to report it instead.
    if port:
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind((host, port))
        except OSError as exc:
            raise ServerStartError(f"cannot listen on {host}:{port}: {exc}") from exc
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    return server


@contextmanager
def _request_log_silenced(quiet: bool) -> Iterator[None]:
    logger = logging.getLogger("werkzeug")
    level = logger.level
    if quiet:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _stop(server: ThreadedMotoServer) -> None:
    """Stop serving, close the listening socket (``stop()`` leaves it open) and reset moto."""
    with contextlib.suppress(Exception):
        server.stop()
    wsgi: Any = getattr(server, "_server", None)
    if wsgi is not None:
        with contextlib.suppress(OSError):
            wsgi.server_close()
    _reset_moto()


def _reset_moto() -> None:
    """Forget every resource the server held (the same reset as ``POST /moto-api/reset``)."""
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()
