"""``meshgov mesh run-schedule``, ``mesh advance-clock`` and ``mesh schedules``: acting on a
running ``meshgov mesh up`` through its control channel (:mod:`meshgov_local.control`).

Each command writes one request into the mesh's state directory and waits for the ``mesh up``
loop to run it between two deliveries; the handler's result is printed (``--output json``: as
one JSON document). Exit codes: 0 done, 1 no running mesh / no answer / the mesh refused (a
schedule that does not exist), 2 a malformed option (a duration that is not one).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from meshgov_cli.console import EXIT_REFUSED, EXIT_USAGE, fail, out, print_json
from meshgov_cli.options import Output, OutputOption, StateDirOption
from meshgov_cli.tables import Col, FitTable
from meshgov_local.control import ControlError, ask
from meshgov_local.schedules import ScheduleError, parse_duration
from meshgov_local.standalone import DEFAULT_STATE_DIR
from meshgov_local.state import mesh_running

TimeoutOption = Annotated[
    float,
    typer.Option(help="Seconds to wait for the mesh to answer (a sweep can take a while).", min=1),
]


def _ask(state_dir: Path, command: str, args: dict[str, Any], timeout: float) -> Any:
    try:
        return ask(state_dir, command, args, timeout=timeout, alive=lambda: mesh_running(state_dir))
    except ControlError as exc:
        fail(str(exc))


def run_schedule(
    name: Annotated[
        str,
        typer.Argument(
            help="The schedule: its template parameter (SweepSchedule, AccessSweepSchedule, "
            "AuditDigestSchedule, InvitationSweepSchedule) or its function's logical id."
        ),
    ],
    account: Annotated[
        str | None,
        typer.Option(help="Only in this account (a member schedule runs in every member)."),
    ] = None,
    state_dir: StateDirOption = DEFAULT_STATE_DIR,
    timeout: TimeoutOption = 300.0,
    output: OutputOption = Output.TABLE,
) -> None:
    """Run one schedule of template.yaml now in the running `mesh up`, and print its result.

    The scheduled function runs in each account whose stack holds it, as EventBridge Scheduler
    would invoke it (with the emulated clock's time); what it caused is then delivered. Exit 0
    when every run succeeded, 1 when one failed, there is no such schedule or no running mesh.
    """
    args: dict[str, Any] = {"name": name}
    if account is not None:
        args["account"] = account
    answer = _ask(state_dir, "run-schedule", args, timeout)
    runs = answer.get("runs", []) if isinstance(answer, dict) else []
    if output is Output.JSON:
        print_json(answer)
    else:
        table = FitTable(
            f"{answer.get('schedule')} ({answer.get('function')})",
            [Col("account", no_wrap=True), "result"],
        )
        for run in runs:
            result = "[red]failed (see the mesh up log)[/]" if run.get("failed") else None
            table.add_row(run.get("account", ""), result or escape(str(run.get("result"))))
        out().print(table)
    if not runs or any(run.get("failed") for run in runs):
        raise typer.Exit(EXIT_REFUSED)


def advance_clock(
    duration: Annotated[
        str, typer.Argument(help="How long to let pass: 25h, 90m, 7d, 1d12h, 30s.")
    ],
    state_dir: StateDirOption = DEFAULT_STATE_DIR,
    timeout: TimeoutOption = 60.0,
    output: OutputOption = Output.TABLE,
) -> None:
    """Move the emulated clock of the running `mesh up` forward.

    What reads time reads the emulated clock: the next scheduled run (or `meshgov mesh
    run-schedule AccessSweepSchedule`) expires and warns about what is due by then; RAM
    invitations older than 12 hours expire. The clock never goes back. Exit 2 for a duration
    that is not one.
    """
    try:
        parse_duration(duration)  # refused here, before the mesh is asked
    except ScheduleError as exc:
        fail(str(exc), EXIT_USAGE)
    answer = _ask(state_dir, "advance-clock", {"duration": duration}, timeout)
    if output is Output.JSON:
        print_json(answer)
        return
    out().print(
        f"emulated clock moved by {duration}: now [bold]{escape(str(answer.get('now')))}[/] "
        f"(was {escape(str(answer.get('before')))})",
        highlight=False,
    )


def schedules(
    state_dir: StateDirOption = DEFAULT_STATE_DIR,
    timeout: TimeoutOption = 60.0,
    output: OutputOption = Output.TABLE,
) -> None:
    """List the schedules of template.yaml the running `mesh up` holds (names for
    `run-schedule`)."""
    answer = _ask(state_dir, "schedules", {}, timeout)
    if output is Output.JSON:
        print_json(answer)
        return
    table = FitTable(
        "Schedules of template.yaml",
        [
            Col("name", no_wrap=True),
            Col("function", priority=2),
            Col("expression", priority=3),
            Col("accounts", priority=1),
        ],
    )
    for row in answer or []:
        table.add_row(row["name"], row["function"], row["expression"], ", ".join(row["accounts"]))
    out().print(table)
