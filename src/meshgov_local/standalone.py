"""``meshgov mesh up``: the local mesh, standalone, until stopped.

A moto server on loopback with template.yaml deployed; ``mesh.json``, ``aws-config`` and
``credentials`` written to the state directory so that any AWS CLI or SDK can act as the accounts;
then the work the Lambda service would do: deliver queued events to their handlers every half
second and run the scheduled sweep every ``sweep_every`` seconds. Each handler invocation is
reported with what it changed, read back from the audit trail it wrote.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from meshgov_local.config import MeshConfig
from meshgov_local.mesh import SWEEP_FUNCTION, LocalMesh
from meshgov_local.observe import AuditFollower, describe_changes
from meshgov_local.router import EventRouter
from meshgov_local.server import LOOPBACK, moto_server
from meshgov_local.state import MeshState, StatePaths, clear_state, write_state

DEFAULT_PORT = 4566
DEFAULT_STATE_DIR = Path("build/localmesh")
DELIVER_EVERY = 0.5


@dataclass(frozen=True)
class MeshUpOptions:
    host: str = LOOPBACK
    port: int = DEFAULT_PORT
    sweep_every: float = 60.0  # seconds; 0 or less: never
    state_dir: Path = DEFAULT_STATE_DIR
    run_for: float | None = None  # seconds; None: until interrupted
    deliver_every: float = DELIVER_EVERY


@dataclass(frozen=True)
class HandlerResult:
    """One handler invocation, as ``mesh up`` reports it."""

    at: datetime
    function: str
    summary: str
    failed: bool = False


class MeshRunner:
    """Delivers events and runs the sweep for a deployed mesh, reporting each invocation."""

    def __init__(
        self,
        mesh: LocalMesh,
        report: Callable[[HandlerResult], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.mesh = mesh
        self._report = report
        self._clock = clock
        self._audit = AuditFollower.from_now(
            mesh.client(mesh.central, "dynamodb"), mesh.deployment.audit_table_name
        )
        self.router = EventRouter(
            mesh.deployment, mesh.sessions, mesh.endpoint_url, on_result=self._on_result
        )

    def _on_result(self, function: str, result: Any) -> None:
        failures = (result or {}).get("batchItemFailures") if isinstance(result, dict) else None
        summary = describe_changes(self._audit.poll())
        if failures:
            summary += f"; {len(failures)} message(s) returned to the queue for retry"
        self._report(HandlerResult(datetime.now(UTC), function, summary, bool(failures)))

    def deliver(self) -> None:
        """Deliver what is queued; a failed invocation is reported and its messages retried."""
        try:
            report = self.router.deliver()
        except (ClientError, BotoCoreError) as exc:
            self._failed("event delivery", f"{type(exc).__name__}: {exc}")
            return
        for error in report.invocation_errors:
            self._failed("CatalogSyncFunction", f"{error}; its messages go back to the queue")

    def sweep(self) -> None:
        try:
            self.router.run_schedule(SWEEP_FUNCTION)
        except Exception as exc:  # as the Lambda service would: report, and go on
            self._failed(SWEEP_FUNCTION, f"{type(exc).__name__}: {exc}")

    def _failed(self, function: str, error: str) -> None:
        summary = describe_changes(self._audit.poll())
        self._report(
            HandlerResult(datetime.now(UTC), function, f"failed: {error} ({summary})", True)
        )

    def run(self, options: MeshUpOptions) -> None:
        """Loop until ``options.run_for`` elapses (or forever), then return."""
        start = self._clock()
        next_sweep = start + options.sweep_every if options.sweep_every > 0 else None
        while options.run_for is None or self._clock() - start < options.run_for:
            self.deliver()
            if next_sweep is not None and self._clock() >= next_sweep:
                self.sweep()
                next_sweep = self._clock() + options.sweep_every
            time.sleep(options.deliver_every)


def mesh_up(
    options: MeshUpOptions,
    on_ready: Callable[[MeshState, StatePaths], None],
    on_result: Callable[[HandlerResult], None],
    config: MeshConfig | None = None,
) -> None:
    """Start, deploy, write the state files, run until stopped; always stop the server.

    ``mesh.json`` is removed on the way out, so ``watch`` and ``verify`` do not reach a dead mesh.
    """
    with moto_server(options.host, options.port) as endpoint:
        mesh = LocalMesh(config, endpoint_url=endpoint)
        state = MeshState.of(mesh)
        paths = write_state(options.state_dir, state)
        try:
            on_ready(state, paths)
            MeshRunner(mesh, on_result).run(options)
        finally:
            clear_state(options.state_dir)
