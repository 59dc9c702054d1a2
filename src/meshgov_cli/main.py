"""``meshgov``: run the demo, run the local mesh standalone, watch and verify it.

Commands stay thin: the work is in :mod:`meshgov_local` (``demo``, ``standalone``, ``observe``,
``state``, ``views``); this module parses options and renders.
"""

from __future__ import annotations

import time
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from meshgov_cli.access import can_access_command, decide, request_access, requests
from meshgov_cli.accounts import accounts_app
from meshgov_cli.audit import audit_app
from meshgov_cli.console import err, out, print_json, print_json_line, reaching, running_mesh
from meshgov_cli.dlq import dlq_app
from meshgov_cli.find import find
from meshgov_cli.lineage import lineage_command
from meshgov_cli.mesh_control import advance_clock, run_schedule, schedules
from meshgov_cli.mesh_up import up as mesh_up_command
from meshgov_cli.options import Output, OutputOption, StateDirOption, WideOption
from meshgov_cli.posture import posture_command
from meshgov_cli.query_command import query
from meshgov_cli.reviews import review, reviews
from meshgov_cli.revoke import revoke
from meshgov_cli.tables import FitTable
from meshgov_cli.usage import usage
from meshgov_local.observe import CentralTable, RunningMesh, central_catalog, central_databases
from meshgov_local.standalone import DEFAULT_STATE_DIR
from meshgov_local.views import audit_line, audit_table, catalog_dicts, catalog_table


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


app.command("find")(find)
app.command("request-access")(request_access)
app.command("decide")(decide)
app.command("revoke")(revoke)
app.command("requests")(requests)
app.command("can-access")(can_access_command)
app.add_typer(audit_app, name="audit")
app.command("posture")(posture_command)
app.command("query")(query)
app.command("reviews")(reviews)
app.command("review")(review)
app.command("usage")(usage)
app.command("lineage")(lineage_command)
app.add_typer(dlq_app, name="dlq")
app.add_typer(accounts_app, name="accounts")


# --------------------------------------------------------------------------------------------
# meshgov demo
# --------------------------------------------------------------------------------------------


@app.command()
def demo(output: OutputOption = Output.TABLE, wide: WideOption = False) -> None:
    """Run the whole governance story on a local moto server (about 10 s).

    A producer publishes tables, changes a schema (additive, then breaking), adds 300
    partitions, drops a table, unpublishes one and loses an event; each time the central
    catalog follows, and every action is audited. It ends by proving that central equals the
    published source (exit code 0) or listing the differences (exit code 1).

    With `--output json` the story is told on stderr and stdout gets one JSON object at the
    end: `equal`, `exit_code`, `steps` (each step's number, title, audit records written and
    their outcomes), `problems` (the differences) and `seconds`.
    """
    from meshgov_local import demo as story

    console = err() if output is Output.JSON else out()
    try:
        report = story.run_report(console, wide=wide)
    except KeyboardInterrupt:
        err().print("[yellow]Interrupted; the local server was stopped.[/]")
        raise typer.Exit(130) from None
    if output is Output.JSON:
        print_json(report.as_dict())
    raise typer.Exit(report.code)


# --------------------------------------------------------------------------------------------
# meshgov mesh up / verify
# --------------------------------------------------------------------------------------------


mesh_app.command("up")(mesh_up_command)
mesh_app.command("run-schedule")(run_schedule)
mesh_app.command("advance-clock")(advance_clock)
mesh_app.command("schedules")(schedules)


@mesh_app.command("verify")
def verify(
    state_dir: StateDirOption = DEFAULT_STATE_DIR, output: OutputOption = Output.TABLE
) -> None:
    """Compare the central catalog of a running mesh with what its producers publish.

    Exit code 0 when they are equal, 1 when they differ (each difference is printed).
    """
    running = running_mesh(state_dir)
    with reaching(running.state):
        problems = running.differences()
    if output is Output.JSON:
        print_json({"equal": not problems, "differences": problems})
    elif problems:
        table = FitTable(f"{len(problems)} difference(s)", ["difference"])
        for problem in problems:
            table.add_row(escape(problem))
        out().print(table)
    else:
        out().print("[bold green]central equals the published source[/]")
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
    wide: WideOption = False,
) -> None:
    """Follow a running `meshgov mesh up` live, as the central account.

    `--what audit` prints today's audit records, then each new one as it is written.
    `--what catalog` re-renders the central catalog whenever it changes.
    `--once` prints the current state and exits; otherwise Ctrl-C stops.

    With `--output json`, `--once` prints one JSON document and following prints JSON lines
    (stdout holds nothing else: the "following ..." banner goes to stderr). Exit code 1 when
    no mesh runs.
    """
    console = out()
    running = running_mesh(state_dir)
    try:
        with reaching(running.state):
            if what is Watched.AUDIT:
                _watch_audit(console, running, interval, once, output, wide)
            else:
                _watch_catalog(console, running, interval, once, output, wide)
    except KeyboardInterrupt:
        return


def _watch_audit(
    console: Console,
    running: RunningMesh,
    interval: float,
    once: bool,
    output: Output,
    wide: bool = False,
) -> None:
    follower = running.audit_follower()
    records = follower.poll()
    if once:
        if output is Output.JSON:
            print_json([r.as_dict() for r in records])
        else:
            title = f"Audit trail ({len(records)} today)"
            console.print(audit_table(records, title, times=True, wide=wide))
        return
    err().print(
        f"[dim]Following the audit trail of {running.state.endpoint_url} "
        f"(table {running.state.audit_table_name}); Ctrl-C stops.[/]"
    )
    while True:
        for record in records:
            if output is Output.JSON:
                print_json_line(record.as_dict())
            else:
                console.print(audit_line(record), highlight=False, soft_wrap=True)
        time.sleep(interval)
        records = follower.poll()


def _watch_catalog(
    console: Console,
    running: RunningMesh,
    interval: float,
    once: bool,
    output: Output,
    wide: bool = False,
) -> None:
    glue = running.central_glue()
    shown: tuple[list[CentralTable], list[str]] | None = None
    while True:
        rows, databases = central_catalog(glue), central_databases(glue)
        if (rows, databases) != shown:
            shown = (rows, databases)
            if output is Output.JSON:
                data = catalog_dicts(rows, databases)
                if once:
                    print_json(data)
                else:
                    print_json_line(data)
            else:
                title = (
                    f"Central catalog of account {running.state.central_account} "
                    f"at {time.strftime('%H:%M:%S')}"
                )
                console.print(
                    catalog_table(rows, title, breaking=True, databases=databases, wide=wide)
                )
        if once:
            return
        time.sleep(interval)


if __name__ == "__main__":  # pragma: no cover
    app()
