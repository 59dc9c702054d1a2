"""``meshgov``: run the demo, run the local mesh standalone, watch and verify it.

Commands stay thin: the work is in :mod:`meshgov_local` (``demo``, ``standalone``, ``observe``,
``state``, ``views``); this module parses options and renders.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import Annotated, NoReturn

import typer
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from meshgov_cli.access import can_access_command, decide, request_access, requests
from meshgov_cli.audit import audit_app
from meshgov_cli.dlq import dlq_app
from meshgov_cli.find import find
from meshgov_cli.options import Output, OutputOption, StateDirOption
from meshgov_cli.posture import posture_command
from meshgov_cli.query_command import query
from meshgov_cli.reviews import review, reviews
from meshgov_cli.usage import usage
from meshgov_local.observe import RunningMesh, central_catalog
from meshgov_local.server import LOOPBACK, ServerStartError
from meshgov_local.standalone import (
    DEFAULT_PORT,
    DEFAULT_STATE_DIR,
    DELIVER_EVERY,
    HandlerResult,
    MeshUpOptions,
    mesh_up,
)
from meshgov_local.state import MeshState, MeshStateError, StatePaths, read_state, shell_exports
from meshgov_local.views import as_json, audit_line, audit_table, catalog_table


class Watched(StrEnum):
    AUDIT = "audit"
    CATALOG = "catalog"


CONTEXT = {"help_option_names": ["--help", "-h"]}

app = typer.Typer(
    name="meshgov",
    help="Event-driven governance for a data mesh on AWS Lake Formation and Glue.\n\n"
    "Everything here runs locally against moto: fake credentials, never a real AWS endpoint.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
    add_completion=False,
    context_settings=CONTEXT,
)
mesh_app = typer.Typer(
    help="Run the local mesh (a moto server with three accounts) and check it.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
    context_settings=CONTEXT,
)
app.add_typer(mesh_app, name="mesh")


def _console() -> Console:
    return Console()


def _fail(console: Console, message: str, code: int = 1) -> NoReturn:
    console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


@contextmanager
def _reaching(console: Console, state: MeshState) -> Iterator[None]:
    """Turn "the mesh is not there" into one readable line and exit code 1."""
    try:
        yield
    except EndpointConnectionError:
        _fail(
            console,
            f"no local mesh answers at {state.endpoint_url}: is `meshgov mesh up` running?",
        )
    except (ClientError, BotoCoreError) as exc:
        _fail(console, f"the local mesh at {state.endpoint_url} refused: {exc}")


def _running(console: Console, state_dir: Path) -> RunningMesh:
    try:
        return RunningMesh(read_state(state_dir))
    except MeshStateError as exc:
        _fail(console, str(exc))


app.command("find")(find)
app.command("request-access")(request_access)
app.command("decide")(decide)
app.command("requests")(requests)
app.command("can-access")(can_access_command)
app.add_typer(audit_app, name="audit")
app.command("posture")(posture_command)
app.command("query")(query)
app.command("reviews")(reviews)
app.command("review")(review)
app.command("usage")(usage)
app.add_typer(dlq_app, name="dlq")


# --------------------------------------------------------------------------------------------
# meshgov demo
# --------------------------------------------------------------------------------------------


@app.command()
def demo() -> None:
    """Run the whole governance story on a local moto server (about 10 s).

    A producer publishes tables, changes a schema (additive, then breaking), adds 300
    partitions, drops a table, unpublishes one and loses an event; each time the central
    catalog follows, and every action is audited. It ends by proving that central equals the
    published source (exit code 0) or listing the differences (exit code 1).
    """
    from meshgov_local import demo as story

    console = _console()
    try:
        code = story.run(console)
    except KeyboardInterrupt:
        console.print("[yellow]Interrupted; the local server was stopped.[/]")
        raise typer.Exit(130) from None
    raise typer.Exit(code)


# --------------------------------------------------------------------------------------------
# meshgov mesh up / verify
# --------------------------------------------------------------------------------------------


@mesh_app.command("up")
def up(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")] = (
        LOOPBACK
    ),
    port: Annotated[
        int, typer.Option(help="Port to listen on; 0 picks a free one.", min=0, max=65535)
    ] = DEFAULT_PORT,
    sweep_every: Annotated[
        float,
        typer.Option(help="Seconds between scheduled sweeps; 0 turns the sweep off.", min=0),
    ] = 60.0,
    state_dir: StateDirOption = DEFAULT_STATE_DIR,
    run_for: Annotated[
        float | None,
        typer.Option(help="Stop after this many seconds (for tests).", hidden=True, min=0),
    ] = None,
) -> None:
    """Run the local mesh in the foreground until Ctrl-C.

    Starts a moto server, deploys template.yaml into the central, producer and consumer
    accounts, and writes `aws-config` and `credentials` with one AWS profile per account.
    Then it delivers queued events to the handlers every 0.5 s, runs the sweep every
    `--sweep-every` seconds, and prints what each handler changed.
    """
    console = _console()
    options = MeshUpOptions(
        host=host, port=port, sweep_every=sweep_every, state_dir=state_dir, run_for=run_for
    )

    status = console.status(f"Starting moto on {host}:{port}, deploying template.yaml...")

    def ready(state: MeshState, paths: StatePaths) -> None:
        status.stop()
        _print_ready(console, state, paths, options)

    def result(line: HandlerResult) -> None:
        style = "red" if line.failed else "green"
        console.print(
            f"[dim]{line.at:%H:%M:%S}[/] [{style}]{line.function}[/] {escape(line.summary)}",
            highlight=False,
            soft_wrap=True,
        )

    status.start()
    try:
        with _sigterm_as_interrupt():
            mesh_up(options, ready, result)
    except ServerStartError as exc:
        _fail(console, f"{exc} (is something else on that port? --port 0 picks a free one)")
    except KeyboardInterrupt:
        console.print("\n[yellow]Stopped.[/] The local mesh and everything in it are gone.")
        return
    finally:
        status.stop()
    console.print("[dim]Stopped after --run-for; the local mesh and everything in it are gone.[/]")


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


def _print_ready(
    console: Console, state: MeshState, paths: StatePaths, options: MeshUpOptions
) -> None:
    console.print(
        f"[bold green]Local mesh up[/] at [bold]{state.endpoint_url}[/] (region {state.region})"
    )
    accounts = Table(title="Accounts (AWS profiles)", title_justify="left")
    for column in ("profile", "account id", "role ARN the profile assumes"):
        accounts.add_column(column)
    for profile, account in state.accounts.items():
        accounts.add_row(profile, account, f"arn:aws:iam::{account}:role/meshgov-local-admin")
    console.print(accounts)
    console.print(
        f"State: {paths.state} (bus [bold]{state.bus_name}[/], audit table "
        f"[bold]{state.audit_table_name}[/], ledger table [bold]{state.ledger_table_name}[/])"
    )
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
    sweep = f"sweeping every {options.sweep_every:g} s" if options.sweep_every > 0 else "no sweep"
    console.print(
        f"\nFollow it with [bold]meshgov watch --state-dir {paths.directory}[/], check it with "
        f"[bold]meshgov mesh verify --state-dir {paths.directory}[/].\n"
        f"Delivering events every {DELIVER_EVERY:g} s, {sweep}. [bold]Ctrl-C[/] stops the mesh.\n"
    )


@mesh_app.command("verify")
def verify(
    state_dir: StateDirOption = DEFAULT_STATE_DIR, output: OutputOption = Output.TABLE
) -> None:
    """Compare the central catalog of a running mesh with what its producers publish.

    Exit code 0 when they are equal, 1 when they differ (each difference is printed).
    """
    console = _console()
    running = _running(console, state_dir)
    with _reaching(console, running.state):
        problems = running.differences()
    if output is Output.JSON:
        typer.echo(json.dumps({"equal": not problems, "differences": problems}, indent=2))
    elif problems:
        table = Table(title=f"{len(problems)} difference(s)", title_justify="left")
        table.add_column("difference")
        for problem in problems:
            table.add_row(escape(problem))
        console.print(table)
    else:
        console.print("[bold green]central equals the published source[/]")
    raise typer.Exit(1 if problems else 0)


# --------------------------------------------------------------------------------------------
# meshgov watch
# --------------------------------------------------------------------------------------------


@app.command()
def watch(
    state_dir: StateDirOption = DEFAULT_STATE_DIR,
    what: Annotated[
        Watched, typer.Option("--what", help="Follow the audit trail or the central catalog.")
    ] = Watched.AUDIT,
    interval: Annotated[float, typer.Option(help="Seconds between two looks.", min=0.1)] = 1.0,
    once: Annotated[bool, typer.Option("--once", help="Print the current state and exit.")] = False,
    output: OutputOption = Output.TABLE,
) -> None:
    """Follow a running `meshgov mesh up` live, as the central account.

    `--what audit` prints today's audit records, then each new one as it is written.
    `--what catalog` re-renders the central catalog whenever it changes.
    `--once` prints the current state and exits; otherwise Ctrl-C stops.

    With `--output json`, `--once` prints one JSON document and following prints JSON lines.
    """
    console = _console()
    running = _running(console, state_dir)
    try:
        with _reaching(console, running.state):
            if what is Watched.AUDIT:
                _watch_audit(console, running, interval, once, output)
            else:
                _watch_catalog(console, running, interval, once, output)
    except KeyboardInterrupt:
        return


def _watch_audit(
    console: Console, running: RunningMesh, interval: float, once: bool, output: Output
) -> None:
    follower = running.audit_follower()
    records = follower.poll()
    if once:
        if output is Output.JSON:
            typer.echo(as_json([r.as_dict() for r in records]))
        else:
            console.print(audit_table(records, f"Audit trail ({len(records)} today)", times=True))
        return
    console.print(
        f"[dim]Following the audit trail of {running.state.endpoint_url} "
        f"(table {running.state.audit_table_name}); Ctrl-C stops.[/]"
    )
    while True:
        for record in records:
            if output is Output.JSON:
                typer.echo(json.dumps(record.as_dict(), sort_keys=True, default=str))
            else:
                console.print(audit_line(record), highlight=False, soft_wrap=True)
        time.sleep(interval)
        records = follower.poll()


def _watch_catalog(
    console: Console, running: RunningMesh, interval: float, once: bool, output: Output
) -> None:
    glue = running.central_glue()
    shown = None
    while True:
        rows = central_catalog(glue)
        if rows != shown:
            shown = rows
            if output is Output.JSON:
                data = [r.as_dict() for r in rows]
                typer.echo(as_json(data) if once else json.dumps(data, sort_keys=True))
            else:
                title = (
                    f"Central catalog of account {running.state.central_account} "
                    f"at {time.strftime('%H:%M:%S')}"
                )
                console.print(catalog_table(rows, title, breaking=True))
        if once:
            return
        time.sleep(interval)


if __name__ == "__main__":  # pragma: no cover
    app()
