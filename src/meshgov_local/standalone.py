"""``meshgov mesh up``: the local mesh, standalone, until stopped.

A moto server on loopback with template.yaml deployed and the consumer roles the README's examples
use (``analyst``); then ``mesh.json``, ``aws-config`` and ``credentials`` in the state directory
so that any AWS CLI or SDK can act as the accounts; then the work the Lambda service and
EventBridge Scheduler would do: deliver queued events to their handlers every half second, and
run every scheduled function of the template (:mod:`meshgov_local.schedules`) on its rate,
``schedule_scale`` times as often. Each invocation is reported with what it changed, read back
from the audit trail and attributed to whoever wrote it (:mod:`meshgov_local.invocation_log`).

Readiness: ``mesh.json`` is written (atomically, last) only once everything above is in place
and the loop is about to start; ``on_ready`` is called right after. Its presence means "ready";
its absence (removed on the way out) means "stopped".

Other processes act on the running loop through :mod:`meshgov_local.control`: run one schedule
now (``run-schedule``), move the emulated clock (``advance-clock``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from meshgov_local.config import MeshConfig
from meshgov_local.control import ControlInbox, ControlRequest
from meshgov_local.emulator import controls as emulator_controls
from meshgov_local.invocation_log import HandlerResult, attribute
from meshgov_local.mesh import LocalMesh
from meshgov_local.observe import AuditFollower
from meshgov_local.router import EventRouter
from meshgov_local.schedules import (
    Schedule,
    ScheduleError,
    find_schedule,
    parse_duration,
    schedules_of,
)
from meshgov_local.server import LOOPBACK, moto_server
from meshgov_local.state import MeshState, StatePaths, clear_state, write_state

__all__ = ["HandlerResult", "MeshRunner", "MeshUpOptions", "mesh_up"]

DEFAULT_PORT = 4566
DEFAULT_STATE_DIR = Path("build/localmesh")
DELIVER_EVERY = 0.5
# 15: the catalog sweep (rate(15 minutes)) every minute, the hourly schedules every 4 minutes.
DEFAULT_SCHEDULE_SCALE = 15.0
CATALOG_SWEEP_SCHEDULE = "SweepSchedule"
# The roles the README's examples act as, in every consumer account (`request-access
# --principal .../role/analyst`, `can-access`, `query --as analyst`).
README_ROLES = ("analyst",)


@dataclass(frozen=True)
class MeshUpOptions:
    host: str = LOOPBACK
    port: int = DEFAULT_PORT
    # Seconds between catalog sweeps (SweepSchedule); None: its rate / schedule_scale; 0: never.
    sweep_every: float | None = None
    state_dir: Path = DEFAULT_STATE_DIR
    run_for: float | None = None  # seconds; None: until interrupted
    deliver_every: float = DELIVER_EVERY
    # Every rate schedule runs this many times as often as template.yaml says; 0: none runs.
    schedule_scale: float = DEFAULT_SCHEDULE_SCALE

    def every(self, schedule: Schedule) -> float | None:
        """Seconds between two runs of ``schedule`` in ``mesh up``; None: only when asked."""
        if schedule.name == CATALOG_SWEEP_SCHEDULE and self.sweep_every is not None:
            return self.sweep_every if self.sweep_every > 0 else None
        return schedule.every(self.schedule_scale)


class MeshRunner:
    """Delivers events and runs the schedules of a deployed mesh, reporting each invocation."""

    def __init__(
        self,
        mesh: LocalMesh,
        report: Callable[[HandlerResult], None],
        clock: Callable[[], float] = time.monotonic,
        inbox: ControlInbox | None = None,
    ) -> None:
        self.mesh = mesh
        self._report = report
        self._clock = clock
        self._inbox = inbox
        self._audit = AuditFollower.from_now(
            mesh.client(mesh.central, "dynamodb"), mesh.deployment.audit_table_name
        )
        self._accounts = {
            mesh.central: "central",
            **{m.account_id: m.name for m in mesh.config.members},
        }
        self.schedules = schedules_of(mesh.template, mesh.deployment)
        self.router = EventRouter(
            mesh.deployment, mesh.sessions, mesh.endpoint_url, on_result=self._on_result
        )

    # --- reporting -------------------------------------------------------------------------------
    def _lines(self, function: str, account: str, result: Any = None, **kwargs: Any) -> None:
        for line in attribute(
            datetime.now(UTC),
            function,
            account,
            self._audit.poll(),
            self._accounts,
            central=self.mesh.central,
            result=result,
            **kwargs,
        ):
            self._report(line)

    def _on_result(self, function: str, account: str, result: Any) -> None:
        failures = (result or {}).get("batchItemFailures") if isinstance(result, dict) else None
        note = f"; {len(failures)} message(s) returned to the queue for retry" if failures else ""
        self._lines(function, account, result, note=note, failed=bool(failures))

    def _failed(self, function: str, account: str, error: str) -> None:
        self._lines(function, account, note=f" [failed: {error}]", failed=True)

    def observe(self) -> None:
        """Report what other processes wrote to the trail since the last look."""
        self._lines("", "")

    # --- the Lambda service's work ---------------------------------------------------------------
    def deliver(self) -> None:
        """Deliver what is queued; a failed invocation is reported and its messages retried."""
        try:
            report = self.router.deliver()
        except (ClientError, BotoCoreError) as exc:
            self._failed("event delivery", "", f"{type(exc).__name__}: {exc}")
            return
        for failure in report.failed_invocations:
            self._failed(
                failure.function,
                failure.account_id,
                f"{failure.error}; its messages go back to the queue",
            )

    def run_schedule(self, schedule: Schedule, account: str | None = None) -> list[dict[str, Any]]:
        """Run ``schedule`` once in each of its accounts (or in ``account``), as EventBridge
        Scheduler would, then deliver what it caused; each run's result (None: it failed)."""
        runs = []
        for owner in schedule.accounts:
            if account not in (None, owner):
                continue
            try:
                result = self.router.run_schedule(schedule.function, owner)
            except Exception as exc:  # as the Lambda service would: report, and go on
                self._failed(schedule.function, owner, f"{type(exc).__name__}: {exc}")
                result = None
            else:
                if result is None:
                    self._failed(schedule.function, owner, "every attempt failed (see its DLQ)")
            runs.append({"account": owner, "result": result, "failed": result is None})
        self.deliver()
        return runs

    def sweep(self) -> None:
        """Run the catalog sweep once (kept for callers of the single-sweep runner)."""
        self.run_schedule(find_schedule(self.schedules, CATALOG_SWEEP_SCHEDULE))

    # --- the control channel ---------------------------------------------------------------------
    def handle_control(self) -> None:
        if self._inbox is None:
            return
        for request in self._inbox.take():
            try:
                result = self.control(request)
            except (ScheduleError, ValueError, TypeError) as exc:
                self._inbox.answer(request.id, error=str(exc))
            except Exception as exc:  # never leave a waiting CLI without an answer
                self._inbox.answer(request.id, error=f"{type(exc).__name__}: {exc}")
            else:
                self._inbox.answer(request.id, result)

    def control(self, request: ControlRequest) -> Any:
        """Run one control request in the loop (between two deliveries)."""
        if request.command == "run-schedule":
            schedule = find_schedule(self.schedules, str(request.args.get("name", "")))
            account = request.args.get("account")
            if account is not None and str(account) not in schedule.accounts:
                raise ScheduleError(
                    f"{schedule.name} runs in {', '.join(schedule.accounts)}, not in {account}"
                )
            self._report(
                HandlerResult(
                    datetime.now(UTC),
                    schedule.function,
                    f"run now on request ({schedule.name}, {schedule.expression})",
                )
            )
            runs = self.run_schedule(schedule, None if account is None else str(account))
            return {"schedule": schedule.name, "function": schedule.function, "runs": runs}
        if request.command == "advance-clock":
            raw = request.args.get("duration")
            seconds = parse_duration(str(raw)) if raw is not None else None
            if seconds is None:
                raise ScheduleError("advance-clock needs a duration")
            before = emulator_controls.now()
            emulator_controls.advance_time(seconds)
            now = emulator_controls.now()
            self._report(
                HandlerResult(
                    datetime.now(UTC),
                    "clock",
                    f"emulated clock moved {timedelta(seconds=seconds)} on request: "
                    f"now {now:%Y-%m-%d %H:%M:%S} UTC",
                )
            )
            return {
                "advanced_seconds": seconds,
                "before": before.isoformat(),
                "now": now.isoformat(),
            }
        if request.command == "schedules":
            return [
                {
                    "name": s.name,
                    "function": s.function,
                    "expression": s.expression,
                    "accounts": list(s.accounts),
                }
                for s in self.schedules
            ]
        raise ScheduleError(f"unknown command {request.command!r}")

    # --- the loop --------------------------------------------------------------------------------
    def cadence(self, options: MeshUpOptions) -> Mapping[str, float]:
        """Schedule name -> seconds between two runs, for the schedules that run by themselves."""
        found = {}
        for schedule in self.schedules:
            every = options.every(schedule)
            if every is not None:
                found[schedule.name] = every
        return found

    def run(self, options: MeshUpOptions) -> None:
        """Loop until ``options.run_for`` elapses (or forever), then return."""
        start = self._clock()
        cadence = self.cadence(options)
        due = {name: start + every for name, every in cadence.items()}
        while options.run_for is None or self._clock() - start < options.run_for:
            self.handle_control()
            self.deliver()
            for schedule in self.schedules:
                if schedule.name in due and self._clock() >= due[schedule.name]:
                    self.run_schedule(schedule)
                    due[schedule.name] = self._clock() + cadence[schedule.name]
            self.observe()
            time.sleep(options.deliver_every)


def create_readme_roles(mesh: LocalMesh) -> list[str]:
    """The roles the README's examples use, in every consumer account: their ARNs."""
    return [
        mesh.create_consumer_role(consumer.account_id, role)
        for consumer in mesh.config.consumers
        for role in README_ROLES
    ]


def mesh_up(
    options: MeshUpOptions,
    on_ready: Callable[[MeshState, StatePaths, MeshRunner], None],
    on_result: Callable[[HandlerResult], None],
    config: MeshConfig | None = None,
) -> None:
    """Start, deploy, create the README's roles, write the state files, run until stopped;
    always stop the server.

    ``mesh.json`` is written last, when everything is ready, and removed on the way out (with
    any pending control request), so ``watch``, ``verify`` and scripts never reach a dead mesh.
    """
    inbox = ControlInbox(options.state_dir)
    with moto_server(options.host, options.port) as endpoint:
        mesh = LocalMesh(config, endpoint_url=endpoint)
        create_readme_roles(mesh)
        runner = MeshRunner(mesh, on_result, inbox=inbox)
        inbox.open()
        try:
            state = MeshState.of(mesh)
            paths = write_state(options.state_dir, state)
            on_ready(state, paths, runner)
            runner.run(options)
        finally:
            clear_state(options.state_dir)
            inbox.clear()
