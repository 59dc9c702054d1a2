"""The control channel of a running ``meshgov mesh up``: request files in its state directory.

``meshgov mesh run-schedule`` and ``meshgov mesh advance-clock`` run in another process than the
mesh, whose handlers run in-process, one at a time, with their function's environment and
credentials set around each call (:mod:`meshgov_local.invoke`). So a command must run *in* the
``mesh up`` loop, between two deliveries, never from a server thread beside it. Files are the
simplest channel that does this: no port, no thread, readable by hand when something sticks.

- The CLI writes ``<state-dir>/control/<id>.request.json`` (``{"id", "command", "args"}``)
  atomically (a temporary file renamed into place), then waits for ``<id>.response.json``.
- The ``mesh up`` loop takes each request (oldest first) every time it delivers (every 0.5 s),
  removes it, runs it, and writes the response atomically (``{"id", "ok", "result", "error"}``).
- ``mesh up`` empties the directory when it starts (a request left by an earlier run is not
  this run's) and when it stops; a CLI waiting for an answer gives up when ``mesh.json`` goes.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CONTROL_DIR = "control"
REQUEST_SUFFIX = ".request.json"
RESPONSE_SUFFIX = ".response.json"
POLL_EVERY = 0.1


class ControlError(Exception):
    """The running mesh could not be asked, or did not answer, or refused."""


@dataclass(frozen=True)
class ControlRequest:
    id: str
    command: str
    args: Mapping[str, Any] = field(default_factory=dict)


def control_dir(state_dir: Path) -> Path:
    return state_dir / CONTROL_DIR


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(data, default=str, sort_keys=True), encoding="utf-8")
    temporary.replace(path)


class ControlInbox:
    """The ``mesh up`` side: take requests, write responses."""

    def __init__(self, state_dir: Path) -> None:
        self.directory = control_dir(state_dir)

    def open(self) -> None:
        """Create the directory, empty: nothing from an earlier run is answered."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self.clear()

    def clear(self) -> None:
        if not self.directory.is_dir():
            return
        for path in self.directory.iterdir():
            if path.is_file():
                path.unlink(missing_ok=True)

    def take(self) -> list[ControlRequest]:
        """The pending requests, oldest first, each removed as it is read. A file that is not a
        request is answered with an error when it names an id, else dropped."""
        if not self.directory.is_dir():
            return []
        paths = sorted(
            self.directory.glob(f"*{REQUEST_SUFFIX}"), key=lambda p: (p.stat().st_mtime, p.name)
        )
        requests = []
        for path in paths:
            request_id = path.name[: -len(REQUEST_SUFFIX)]
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                path.unlink(missing_ok=True)
                self.answer(request_id, error=f"unreadable request: {exc}")
                continue
            path.unlink(missing_ok=True)
            if not isinstance(data, dict) or not isinstance(data.get("command"), str):
                self.answer(request_id, error="a request names a command")
                continue
            args = data.get("args")
            requests.append(
                ControlRequest(request_id, data["command"], args if isinstance(args, dict) else {})
            )
        return requests

    def answer(self, request_id: str, result: Any = None, error: str | None = None) -> None:
        _write_json(
            self.directory / f"{request_id}{RESPONSE_SUFFIX}",
            {"id": request_id, "ok": error is None, "result": result, "error": error},
        )


def ask(
    state_dir: Path,
    command: str,
    args: Mapping[str, Any],
    *,
    timeout: float,
    alive: Callable[[], bool],
) -> Any:
    """Send ``command`` to the ``mesh up`` of ``state_dir`` and wait for its result.

    ``alive`` says whether the mesh still runs (its ``mesh.json`` is there and its process
    lives). Raises ControlError when it stops, does not answer within ``timeout`` seconds, or
    answers with an error."""
    directory = control_dir(state_dir)
    if not directory.is_dir() or not alive():
        raise ControlError(
            f"no running mesh in {state_dir}: start one with `meshgov mesh up --state-dir "
            f"{state_dir}`"
        )
    request_id = f"{int(time.time() * 1000)}-{uuid.uuid4().hex[:12]}-{os.getpid()}"
    response = directory / f"{request_id}{RESPONSE_SUFFIX}"
    _write_json(
        directory / f"{request_id}{REQUEST_SUFFIX}",
        {"id": request_id, "command": command, "args": dict(args)},
    )
    deadline = time.monotonic() + timeout
    while not response.exists():
        if not alive():
            raise ControlError("the mesh stopped before it answered")
        if time.monotonic() > deadline:
            (directory / f"{request_id}{REQUEST_SUFFIX}").unlink(missing_ok=True)
            raise ControlError(
                f"the mesh did not answer within {timeout:g} s (is its loop busy? see its log)"
            )
        time.sleep(POLL_EVERY)
    data = json.loads(response.read_text(encoding="utf-8"))
    response.unlink(missing_ok=True)
    if not data.get("ok"):
        raise ControlError(str(data.get("error") or "the mesh refused the request"))
    return data.get("result")
