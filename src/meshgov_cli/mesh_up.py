"""``meshgov mesh up``: run the local mesh in the foreground, print what each invocation did.

Output discipline (:mod:`meshgov_cli.console`): stdout carries the *ready line* and then one line
per invocation (``--output json``: one JSON object per line, the first ``{"event": "ready", ...}``,
the last ``{"event": "stopped", ...}``); stderr carries the banner (accounts, how to act as them),
progress and errors.

Readiness, for scripts: ``<state-dir>/mesh.json`` is written atomically, and only once the mesh
answers, template.yaml is deployed and the README's roles exist; the ready line
(``ready <endpoint> <mesh.json path>``, or the JSON ``ready`` object) is printed right after.
Either one means ready; ``mesh.json`` disappears when the mesh stops.
"""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from types import FrameType
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from meshgov_cli.console import err, fail, out, print_json_line
from meshgov_cli.options import Output, OutputOption, StateDirOption
from meshgov_cli.tables import Col, FitTable
from meshgov_local.accounts import ADMIN_ROLE_NAME
from meshgov_local.server import LOOPBACK, ServerStartError
from meshgov_local.standalone import (
    DEFAULT_PORT,
    DEFAULT_SCHEDULE_SCALE,
    DEFAULT_STATE_DIR,
    DELIVER_EVERY,
    README_ROLES,
    HandlerResult,
    MeshRunner,
    MeshUpOptions,
    mesh_up,
)
from meshgov_local.state import MeshState, StatePaths, shell_exports

READY = "ready"


def up(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")] = (
        LOOPBACK
    ),
    port: Annotated[
        int,
        typer.Option(
            help="Port to listen on; 0 picks a free one (read it from mesh.json or the ready "
            "line).",
            min=0,
            max=65535,
        ),
    ] = DEFAULT_PORT,
    schedule_scale: Annotated[
        float,
        typer.Option(
            help="Run every schedule of template.yaml this many times as often as its rate: "
            "the default 15 runs the catalog sweep (rate(15 minutes)) every 60 s and the hourly "
            "access sweep, audit digest and invitation sweep every 240 s. 0: no schedule runs "
            "by itself (use `meshgov mesh run-schedule`).",
            min=0,
        ),
    ] = DEFAULT_SCHEDULE_SCALE,
    sweep_every: Annotated[
        float | None,
        typer.Option(
            help="Seconds between catalog sweeps (SweepSchedule), overriding --schedule-scale "
            "for it; 0 turns it off.",
            min=0,
        ),
    ] = None,
    state_dir: StateDirOption = DEFAULT_STATE_DIR,
    output: OutputOption = Output.TABLE,
    run_for: Annotated[
        float | None,
        typer.Option(help="Stop after this many seconds (for tests).", hidden=True, min=0),
    ] = None,
) -> None:
    """Run the local mesh in the foreground until Ctrl-C (or SIGTERM).

    Starts a moto server, deploys template.yaml into the central, producer and consumer
    accounts, creates the consumer's `analyst` role (the README's examples use it), and writes
    `aws-config` and `credentials` with one AWS profile per account, then `mesh.json`.
    Then it delivers queued events to the handlers every 0.5 s, runs each schedule of the
    template (SweepSchedule, AccessSweepSchedule, AuditDigestSchedule, InvitationSweepSchedule
    in every member) on its rate scaled by `--schedule-scale`, and prints what each invocation
    changed, naming the function and the account.

    **Ready**: `mesh.json` appears in `--state-dir` (written atomically, last) and the line
    `ready <endpoint> <mesh.json>` is printed on stdout (with `--output json`: the object
    `{"event": "ready", ...}`, then one JSON object per invocation). With `--port 0`, read
    the endpoint from either.

    Act on it from another terminal: `meshgov mesh run-schedule NAME`,
    `meshgov mesh advance-clock 25h`, `meshgov mesh schedules`, `meshgov watch`,
    `meshgov mesh verify`.
    """
    json_lines = output is Output.JSON
    banner = err()
    options = MeshUpOptions(
        host=host,
        port=port,
        sweep_every=sweep_every,
        state_dir=state_dir,
        run_for=run_for,
        schedule_scale=schedule_scale,
    )
    status = banner.status(f"Starting moto on {host}:{port}, deploying template.yaml...")

    def ready(state: MeshState, paths: StatePaths, runner: MeshRunner) -> None:
        status.stop()
        cadence = dict(runner.cadence(options))
        _print_banner(banner, state, paths, runner, cadence)
        if json_lines:
            print_json_line(ready_object(state, paths, runner, cadence))
        else:
            typer.echo(ready_line(state, paths))

    def result(line: HandlerResult) -> None:
        if json_lines:
            print_json_line(line.as_dict())
            return
        style = "red" if line.failed else ("cyan" if line.reported else "green")
        head = escape(line.function)
        where = f" [dim]{escape(line.where)}[/]" if line.where else ""
        out().print(
            f"[dim]{line.at:%H:%M:%S}[/] [{style}]{head}[/]{where} {escape(line.summary)}",
            highlight=False,
            soft_wrap=True,
        )

    status.start()
    try:
        with _sigterm_as_interrupt():
            mesh_up(options, ready, result)
    except ServerStartError as exc:
        status.stop()
        fail(f"{exc} (is something else on that port? --port 0 picks a free one)")
    except KeyboardInterrupt:
        status.stop()
        _stopped(json_lines, "\n[yellow]Stopped.[/] The local mesh and everything in it are gone.")
        return
    finally:
        status.stop()
    _stopped(
        json_lines, "[dim]Stopped after --run-for; the local mesh and everything in it are gone.[/]"
    )


def ready_line(state: MeshState, paths: StatePaths) -> str:
    """The one stdout line that says the mesh is ready (scripts: wait for it, or for mesh.json)."""
    return f"{READY} {state.endpoint_url} {paths.state}"


def ready_object(
    state: MeshState, paths: StatePaths, runner: MeshRunner, cadence: dict[str, float]
) -> dict[str, Any]:
    """The first JSON line of ``--output json``: where the mesh is and what runs when."""
    return {
        "event": READY,
        "at": datetime.now(UTC).isoformat(),
        "endpoint_url": state.endpoint_url,
        "region": state.region,
        "state_file": str(paths.state),
        "aws_config": str(paths.aws_config),
        "credentials": str(paths.credentials),
        "accounts": state.accounts,
        "schedules": [
            {
                "name": s.name,
                "function": s.function,
                "expression": s.expression,
                "accounts": list(s.accounts),
                "every_seconds": cadence.get(s.name),
            }
            for s in runner.schedules
        ],
    }


def _stopped(json_lines: bool, text: str) -> None:
    if json_lines:
        print_json_line({"event": "stopped", "at": datetime.now(UTC).isoformat()})
    else:
        err().print(text)


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """`kill` stops the mesh as Ctrl-C does: server stopped, mesh.json removed."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _print_banner(
    console: Console,
    state: MeshState,
    paths: StatePaths,
    runner: MeshRunner,
    cadence: dict[str, float],
) -> None:
    console.print(
        f"[bold green]Local mesh up[/] at [bold]{state.endpoint_url}[/] (region {state.region})"
    )
    accounts = FitTable(
        "Accounts (AWS profiles)",
        [
            Col("profile", no_wrap=True),
            Col("account id", no_wrap=True),
            "role ARN the profile assumes",
        ],
    )
    for profile, account in state.accounts.items():
        accounts.add_row(profile, account, f"arn:aws:iam::{account}:role/{ADMIN_ROLE_NAME}")
    console.print(accounts)
    console.print(
        f"State: {paths.state} (bus [bold]{state.bus_name}[/], audit table "
        f"[bold]{state.audit_table_name}[/], ledger table [bold]{state.ledger_table_name}[/])"
    )
    consumers = [m.account_id for m in state.members if m.kind == "consumer"]
    roles = ", ".join(f"arn:aws:iam::{a}:role/{r}" for a in consumers for r in README_ROLES)
    if roles:
        console.print(f"Roles for the README's examples: {roles}", highlight=False)
    console.print("\n[bold]Act as an account[/] (AWS CLI):")
    database = json.dumps({"Name": "sales", "Parameters": {"meshgov:publish": "true"}})
    for line in (
        shell_exports(paths),
        f"aws --profile producer glue create-database --database-input '{database}'",
    ):
        console.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)
    console.print("[bold]or with boto3[/] (same two variables exported):")
    for line in (
        'glue = boto3.Session(profile_name="producer").client("glue")',
        f"glue.create_database(DatabaseInput={database})",
    ):
        console.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)
    schedules = FitTable(
        "Schedules (template.yaml)",
        [
            Col("name", no_wrap=True),
            Col("function", priority=2),
            Col("template", priority=3),
            "here",
            Col("accounts", priority=1),
        ],
    )
    for schedule in runner.schedules:
        every = cadence.get(schedule.name)
        schedules.add_row(
            schedule.name,
            schedule.function,
            schedule.expression,
            f"every {every:g} s" if every is not None else "only when asked",
            ", ".join(schedule.accounts),
        )
    console.print(schedules)
    console.print(
        f"\nFollow it with [bold]meshgov watch --state-dir {paths.directory}[/], check it with "
        f"[bold]meshgov mesh verify --state-dir {paths.directory}[/]; run a schedule now with "
        f"[bold]meshgov mesh run-schedule NAME[/], let time pass with "
        f"[bold]meshgov mesh advance-clock 25h[/].\n"
        f"Delivering events every {DELIVER_EVERY:g} s. [bold]Ctrl-C[/] stops the mesh.\n"
    )
