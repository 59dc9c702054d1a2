"""The output contract of every `meshgov` command (issue 17): results on stdout, errors and
progress on stderr, exit codes as each command's `--help` documents them, `--output json` printing
nothing but JSON, and tables that fit an 80-column terminal without cutting anything.

Table-driven: ERRORS holds one error case per command and subcommand, JSON one `-o json` success
case per command that has one (on one module-wide local mesh, so each case costs a CLI call, not
a mesh). A command added to the CLI must be added to ERRORS (test_every_command_has_an_error_case).
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import typer
from rich.console import Console
from typer.main import get_command
from typer.testing import CliRunner

import meshgov_cli.main as cli_main
from meshgov.access.store import request_id_for
from meshgov_cli.main import app
from meshgov_cli.tables import Col, FitTable
from meshgov_local import demo as demo_story
from meshgov_local.emulator import controls
from meshgov_local.mesh import LocalMesh
from meshgov_local.server import free_port, moto_server
from meshgov_local.state import MeshState, write_state
from tests.integration.access_helpers import create_role, publish_sales, request

runner = CliRunner()
CENTRAL, PRODUCER, CONSUMER = "111111111111", "222222222222", "333333333333"
ANALYST = f"arn:aws:iam::{CONSUMER}:role/analyst"
NARROW = {"COLUMNS": "80"}
REQ = "req-0123456789abcdef"
ASK = [
    "request-access",
    "--as-account",
    CONSUMER,
    "--principal",
    ANALYST,
    "--database",
    "sales_orders",
    "--table",
    "t0",
    "--justification",
    "quarterly revenue dashboard",
    "--days",
]
NO_MESH = "no running mesh"  # what every command says when no `mesh up` runs there


@pytest.fixture(scope="module")
def mesh_and_state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalMesh, Path]]:
    """One mesh on a moto server for the whole module: sales_orders (t0, t1) published, the
    consumer's analyst role, and one request waiting for the producer (`tok-pending`)."""
    controls.reset()
    directory = tmp_path_factory.mktemp("contract") / "state"
    with moto_server() as endpoint:
        mesh = LocalMesh(endpoint_url=endpoint)
        create_role(mesh, CONSUMER)
        publish_sales(mesh)
        request(mesh, token="tok-pending")
        mesh.settle()
        write_state(directory, MeshState.of(mesh))
        yield mesh, directory
    controls.reset()


@pytest.fixture
def state_dir(mesh_and_state: tuple[LocalMesh, Path]) -> Path:
    return mesh_and_state[1]


@pytest.fixture
def no_mesh(tmp_path: Path) -> Path:
    """A state directory where no `meshgov mesh up` runs."""
    return tmp_path / "nothing-runs-here"


def invoke(args: list[str], env: dict[str, str] | None = None) -> Any:
    return runner.invoke(app, args, env=env)


# --------------------------------------------------------------------------------------------
# Errors: the documented exit code, the message on stderr, nothing on stdout
# --------------------------------------------------------------------------------------------

# command path -> (arguments after it, the exit code its --help documents, what stderr says)
ERRORS: dict[str, tuple[list[str], int, str]] = {
    "find": (["orders"], 1, NO_MESH),
    "request-access": ([*ASK[1:], "30"], 1, NO_MESH),
    "decide": ([REQ, "--as-account", PRODUCER, "--approve", "--reason", "ok"], 1, NO_MESH),
    "revoke": ([REQ, "--reason", "the dashboard was retired"], 1, NO_MESH),
    "requests": ([], 1, NO_MESH),
    "can-access": ([ANALYST, "sales_orders.t0"], 2, NO_MESH),
    "posture": ([], 2, NO_MESH),
    "query": (["SELECT 1", "--as", "analyst"], 1, NO_MESH),
    "reviews": ([], 1, NO_MESH),
    "review": ([REQ, "--as-account", PRODUCER, "--keep", "--reason", "still needed"], 1, NO_MESH),
    "usage": (["--table", "sales_orders.t0"], 1, NO_MESH),
    "lineage": (["sales_orders.t0", "--downstream"], 1, NO_MESH),
    "watch": (["--once"], 1, NO_MESH),
    "audit verify": ([], 2, NO_MESH),
    "audit show": ([], 1, NO_MESH),
    "dlq list": ([], 1, NO_MESH),
    "dlq replay": (["--queue", "CatalogEventsDLQ"], 1, NO_MESH),
    "mesh verify": ([], 1, NO_MESH),
    "mesh run-schedule": (["catalog-sweep"], 1, NO_MESH),
    "mesh advance-clock": (["1h"], 1, NO_MESH),
    "mesh schedules": ([], 1, NO_MESH),
    "accounts add": (["444444444444", "--producer", "--domain", "hr"], 1, NO_MESH),
    "accounts remove": (["444444444444"], 1, NO_MESH),
    "accounts list": ([], 1, NO_MESH),
    # (demo and mesh up have no cheap "no mesh" error: see their own tests below)
}
WITHOUT_STATE_DIR = {"demo", "mesh up"}


def command_paths(group: Any, prefix: str = "") -> list[str]:
    """Every runnable command under ``group`` (typer's click group), as `audit show`."""
    paths = []
    for name, command in group.commands.items():
        path = f"{prefix}{name}"
        if hasattr(command, "commands"):  # a group (typer vendors its own click)
            paths += command_paths(command, f"{path} ")
        else:
            paths.append(path)
    return paths


COMMANDS = command_paths(get_command(app))


def test_every_command_has_an_error_case() -> None:
    assert set(COMMANDS) - WITHOUT_STATE_DIR <= set(ERRORS), "add the new command to ERRORS"


@pytest.mark.parametrize("path", sorted(ERRORS))
def test_an_error_goes_to_stderr_with_the_documented_exit_code(path: str, no_mesh: Path) -> None:
    arguments, code, message = ERRORS[path]
    for output in ([], ["-o", "json"]):
        # When the command runs where no mesh runs (as a table, then as JSON)
        result = invoke([*path.split(), *arguments, "--state-dir", str(no_mesh), *output])
        # Then it exits with the code its --help documents, says why on stderr, and stdout
        # holds nothing a script could take for an answer
        assert result.exit_code == code, (path, output, result.output)
        assert "error:" in result.stderr and message in result.stderr, (path, result.stderr)
        assert result.stdout == "", (path, output, result.stdout)


@pytest.mark.parametrize("path", COMMANDS)
def test_a_usage_error_exits_2_on_stderr(path: str) -> None:
    result = invoke([*path.split(), "--no-such-option"])
    assert result.exit_code == 2, result.output
    assert "No such option" in result.stderr and result.stdout == ""


@pytest.mark.parametrize("path", COMMANDS)
def test_every_command_documents_its_options(path: str) -> None:
    # every command can print JSON (`demo` and `mesh up` included), so the README can say so
    text = invoke([*path.split(), "--help"], env={"COLUMNS": "200"}).stdout
    assert "--output" in text, path


def test_a_request_denied_by_policy_exits_1_as_help_says(
    mesh_and_state: tuple[LocalMesh, Path],
) -> None:
    mesh, state_dir = mesh_and_state
    # Given a request longer than the approval policy's maximum (90 days): central denies it
    # When the consumer asks and waits (the mesh delivers its events meanwhile, as `mesh up`)
    ask = [*ASK, "365", "--client-token", "tok-too-long", "--state-dir", str(state_dir)]
    with delivering(mesh):
        result = invoke([*ask, "--wait", "--timeout", "60"])
    # Then the command fails (its --help: "1 ... central refused or denied it"), on stderr
    assert "DENIED" in result.stderr, result.output
    assert result.exit_code == 1, result.output
    # And as JSON: the same exit code, the state and the error in the one JSON document
    again = invoke([*ask, "--wait", "--timeout", "60", "-o", "json"])
    assert again.exit_code == 1, again.output
    answer = json.loads(again.stdout)
    assert answer["state"] == "DENIED" and "DENIED" in answer["error"]


def test_accounts_add_and_remove_print_centrals_answer(
    mesh_and_state: tuple[LocalMesh, Path],
) -> None:
    mesh, state_dir = mesh_and_state
    where = ["--state-dir", str(state_dir)]
    hr = ["accounts", "add", "444444444444", "--producer", "--domain", "hr", *where]
    with delivering(mesh):
        # When the platform team registers a producer (the mesh delivers meanwhile)
        added = invoke([*hr, "-o", "json"])
        # ... and registers it again
        again = invoke(hr)
        # ... and removes it, with no grace period
        removed = invoke(["accounts", "remove", "444444444444", "--grace-days", "0", *where])
    # Then the first is central's success, as JSON; the second central's refusal, on stderr
    assert added.exit_code == 0, added.output
    assert json.loads(added.stdout)["outcome"] == "SUCCEEDED"
    assert again.exit_code == 1 and again.stdout == ""
    assert "MemberAlreadyRegistered" in again.stderr
    assert removed.exit_code == 0, removed.output
    assert "leaves the mesh" in removed.stdout
    listed = json.loads(invoke(["accounts", "list", *where, "-o", "json"]).stdout)
    assert {m["account"]: m["state"] for m in listed}["444444444444"] == "REMOVING"
    # A producer without its domain is a usage error, refused before anything is sent
    bad = invoke(["accounts", "add", "555555555555", "--producer", *where])
    assert bad.exit_code == 2 and "domain" in bad.stderr


@contextmanager
def delivering(mesh: LocalMesh) -> Iterator[None]:
    """The mesh delivers its queued events every 0.1 s meanwhile, as `mesh up` does."""
    stop = threading.Event()
    failures: list[BaseException] = []

    def deliver() -> None:
        while not stop.is_set():
            try:
                mesh.settle()
            except Exception as exc:  # reported below
                failures.append(exc)
                return
            stop.wait(0.1)

    worker = threading.Thread(target=deliver, daemon=True)
    worker.start()
    try:
        yield
    finally:
        stop.set()
        worker.join(timeout=10)
    assert not failures, failures


# --------------------------------------------------------------------------------------------
# --output json: stdout is JSON and nothing else
# --------------------------------------------------------------------------------------------

PENDING = request_id_for(CONSUMER, "tok-pending")
# command path -> (arguments, expected exit code)
JSON: dict[str, tuple[list[str], int]] = {
    "find": (["--as-account", CONSUMER], 0),
    "request-access": ([*ASK[1:], "30", "--client-token", "tok-json"], 0),
    "decide": ([PENDING, "--as-account", PRODUCER, "--deny", "--reason", "not for dashboards"], 0),
    "requests": ([], 0),
    "can-access": ([ANALYST, "sales_orders.t0"], 1),  # "no" is an answer: JSON, exit 1
    "posture": ([], 0),
    "reviews": ([], 0),
    "usage": (["--account", CONSUMER], 0),
    "lineage": (["sales_orders.t0", "--downstream"], 0),
    "watch": (["--once"], 0),
    "audit verify": ([], 0),
    "audit show": ([], 0),
    "dlq list": ([], 0),
    "dlq replay": (["--queue", "CatalogEventsDLQ"], 0),
    "mesh verify": ([], 0),
    "accounts list": ([], 0),
    # query: tests/cli/test_query_cli.py (its mesh has Parquet data and an engine role);
    # demo: test_demo_json_is_one_document_after_the_story_on_stderr below; review, revoke and
    # the mesh control commands need a request under review / a `mesh up` process.
}


@pytest.mark.parametrize("path", list(JSON))
def test_json_output_is_only_json(path: str, state_dir: Path) -> None:
    arguments, code = JSON[path]
    result = invoke([*path.split(), *arguments, "--state-dir", str(state_dir), "-o", "json"])
    assert result.exit_code == code, (path, result.output)
    json.loads(result.stdout)  # the whole of stdout is one JSON document
    assert "error" not in result.stderr, result.stderr


def test_watch_follows_in_json_lines_with_its_banner_on_stderr(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given watch follows the trail (stopped, as Ctrl-C does, after its first look)
    def interrupt(seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_main, "time", SimpleNamespace(sleep=interrupt, strftime=time.strftime))
    result = invoke(["watch", "--state-dir", str(state_dir), "-o", "json"])
    # Then every stdout line is one JSON record, and the banner went to stderr
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines and all(json.loads(line)["seq"] for line in lines)
    assert "Following the audit trail" in result.stderr


def test_demo_json_is_one_document_after_the_story_on_stderr(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a demo whose story (stubbed: the real one is tests/e2e/test_demo.py) tells on its
    # console and reports two steps
    told: list[Console] = []

    def story(console: Console, *, wide: bool = False) -> demo_story.DemoReport:
        told.append(console)
        console.print("Step 1/2 · Start the local mesh")
        steps = [{"step": 1, "title": "Start", "audit_records": 0, "outcomes": {}}]
        return demo_story.DemoReport(0, steps, [], 1.0)

    monkeypatch.setattr(demo_story, "run_report", story)
    # When it runs with -o json
    result = invoke(["demo", "-o", "json"])
    # Then stdout is the report alone, and the story went to stderr
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "equal": True,
        "exit_code": 0,
        "steps": [{"step": 1, "title": "Start", "audit_records": 0, "outcomes": {}}],
        "problems": [],
        "seconds": 1.0,
    }
    assert "Step 1/2" in result.stderr and told[0].stderr


def test_mesh_up_reports_a_taken_port_on_stderr(tmp_path: Path) -> None:
    port = free_port()
    with socket.socket() as other:
        other.bind(("127.0.0.1", port))
        other.listen()
        result = invoke(
            ["mesh", "up", "--run-for", "1", "--port", str(port), "--state-dir", str(tmp_path)]
        )
    assert result.exit_code == 1
    assert "error:" in result.stderr and "--port 0" in result.stderr


# --------------------------------------------------------------------------------------------
# Tables at 80 columns: nothing cut, what is left out named, --wide keeps every column
# --------------------------------------------------------------------------------------------

TABLES: dict[str, list[str]] = {
    "find": ["--as-account", CONSUMER],
    "requests": [],
    "audit show": [],
    "posture": [],
    "reviews": [],
    "usage": ["--account", CONSUMER],
    "lineage": ["sales_orders.t0", "--downstream"],
    "dlq list": [],
    "watch": ["--once"],
    "accounts list": [],
}


@pytest.mark.parametrize("path", list(TABLES))
def test_tables_fit_80_columns_without_cutting(path: str, state_dir: Path) -> None:
    base = [*path.split(), *TABLES[path], "--state-dir", str(state_dir)]
    result = invoke(base, env=NARROW)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines and max(len(line) for line in lines) <= 80, result.stdout
    assert "…" not in result.stdout, result.stdout
    headers = headers_in(result.stdout)
    assert headers and all(headers), result.stdout  # each header shown whole, over lines
    wide = invoke([*base, "--wide"], env=NARROW)
    assert wide.exit_code == 0 and "not shown at this width" not in wide.stdout


def headers_in(text: str) -> list[str]:
    """The headers of every table in ``text``: the lines between each top border and the
    header rule, column by column, a header wrapped over lines joined again."""
    headers: list[str] = []
    block: list[list[str]] | None = None
    for line in text.splitlines():
        if line.lstrip().startswith("┏"):
            block = []
        elif line.lstrip().startswith("┡") and block is not None:
            columns = zip(*block, strict=True)
            headers += [" ".join(part for part in column if part) for column in columns]
            block = None
        elif block is not None:
            block.append([cell.strip() for cell in line.strip().strip("┃").split("┃")])
    return headers


def test_a_narrow_table_leaves_out_the_lowest_priority_and_says_so() -> None:
    table = FitTable(
        "Products",
        [Col("product"), Col("classification", 2), Col("freshness (UTC)", 3), Col("columns", 1)],
        empty="nothing found",
    )
    table.add_row("orders", "internal", "2026-01-01 12:00", "order_id, customer_id, email")
    narrow = render(table, 50)
    assert "freshness" not in narrow.split("not shown")[0]
    assert "not shown at this width: freshness (UTC) (--wide shows them)" in " ".join(
        narrow.split()
    )
    assert "classification" in narrow and "…" not in narrow
    assert max(len(line) for line in narrow.splitlines()) <= 50
    roomy = render(table, 120)
    assert "freshness (UTC)" in roomy and "not shown" not in roomy
    assert len([line for line in roomy.splitlines() if "orders" in line]) == 1  # one line a row
    wide = FitTable("Products", table.columns, wide=True)
    wide.rows = table.rows
    assert "freshness" in render(wide, 50) and "not shown" not in render(wide, 50)


def test_an_empty_table_says_so_uncut() -> None:
    table = FitTable("Requests", [Col("request"), Col("state")], empty="no requests")
    assert "(no requests)" in render(table, 80)


def render(table: FitTable, width: int) -> str:
    console = Console(width=width, record=True, color_system=None)
    console.print(table)
    return console.export_text()


# --------------------------------------------------------------------------------------------
# No import cycle: nothing imports back from main.py
# --------------------------------------------------------------------------------------------


def test_no_cli_module_imports_from_main() -> None:
    source = Path(cli_main.__file__).parent
    offenders = [
        str(path.relative_to(source))
        for path in source.rglob("*.py")
        if re.search(r"from meshgov_cli\.main import|import meshgov_cli\.main", path.read_text())
    ]
    assert offenders == []


def test_fail_prints_to_stderr_and_exits_with_the_code() -> None:
    from meshgov_cli.console import fail

    probe = typer.Typer()

    @probe.command()
    def go() -> None:
        fail("[bold]not markup[/bold] but text", 2)

    result = runner.invoke(probe, [])
    assert result.exit_code == 2 and result.stdout == ""
    assert "error: [bold]not markup[/bold] but text" in result.stderr
