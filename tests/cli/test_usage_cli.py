"""`meshgov usage`, and the usage `posture` and `find` show, against a running local mesh with
usage recorded in its central usage table."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from meshgov.usage.report import NEVER
from meshgov_cli.main import app
from meshgov_local.emulator import controls
from meshgov_local.mesh import LocalMesh
from meshgov_local.server import moto_server
from meshgov_local.state import MeshState, write_state
from tests.integration.access_helpers import create_role, publish_sales
from tests.integration.test_posture import approved
from tests.integration.test_usage_shown import used

runner = CliRunner()
PRODUCER, CONSUMER = "222222222222", "333333333333"
ANALYST = f"arn:aws:iam::{CONSUMER}:role/analyst"
INTERN = f"arn:aws:iam::{CONSUMER}:role/intern"
WIDE = {"COLUMNS": "250"}
NOW = datetime.now(UTC).replace(microsecond=0)
TODAY = NOW.date()


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A mesh on a moto server: sales_orders (t0, t1) published, the analyst's request for t0
    approved; usage recorded: the analyst read t0 today (twice, Athena) and 3 days ago, t1 10
    days ago and t0 40 days ago; the intern read t1 2 days ago. State files as `mesh up` writes."""
    controls.reset()
    directory = tmp_path_factory.mktemp("usage") / "state"
    with moto_server() as endpoint:
        mesh = LocalMesh(endpoint_url=endpoint)
        create_role(mesh, CONSUMER)
        create_role(mesh, CONSUMER, "intern")
        publish_sales(mesh)
        approved(mesh, tables=["t0"])
        store = mesh.usage_store()
        for event_id, principal, table, days_ago, engine in (
            ("e-1", ANALYST, "sales_orders.t0", 0, "ATHENA"),
            ("e-2", ANALYST, "sales_orders.t0", 0, "ATHENA"),
            ("e-3", ANALYST, "sales_orders.t0", 3, "UNKNOWN"),
            ("e-4", ANALYST, "sales_orders.t1", 10, ""),
            ("e-5", ANALYST, "sales_orders.t0", 40, "ATHENA"),
            ("e-6", INTERN, "sales_orders.t1", 2, ""),
        ):
            at = NOW - timedelta(days=days_ago)
            if event_id == "e-2":
                at = at - timedelta(seconds=5)  # the same day as e-1, a little earlier
            used(store, principal, table, at, event_id, engine)
        write_state(directory, MeshState.of(mesh))
        yield directory
    controls.reset()


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args), env=WIDE)


def usage_json(state_dir: Path, *options: str) -> dict[str, Any]:
    result = invoke("usage", "--state-dir", str(state_dir), "-o", "json", *options)
    assert result.exit_code == 0, result.stdout + result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def row_of(output: str, text: str) -> list[str]:
    [line] = [line for line in output.splitlines() if text in line]
    return [cell.strip() for cell in line.strip().strip("│┃").split("│")]


def ago(days: int) -> str:
    return (TODAY - timedelta(days=days)).isoformat()


def test_usage_answers_help() -> None:
    result = invoke("usage", "--help")
    assert result.exit_code == 0, result.stdout
    for option in ("--table", "--principal", "--account", "--domain", "--since", "--until"):
        assert option in result.stdout
    assert "--output" in result.stdout and "--state-dir" in result.stdout


def test_usage_of_a_table_totals_the_last_30_days_per_principal(state_dir: Path) -> None:
    data = usage_json(state_dir, "--table", "sales_orders.t0")
    assert (data["since"], data["until"]) == (ago(29), TODAY.isoformat())
    [row] = data["usage"]  # the read of 40 days ago is outside the default range
    assert row["principal"] == ANALYST and row["table"] == "sales_orders.t0"
    assert row["reads"] == 3 and row["days_used"] == 2
    assert row["engines"] == ["ATHENA", "UNKNOWN"]
    assert row["first_use"] == (NOW - timedelta(days=3)).isoformat()
    assert row["last_use"] == NOW.isoformat()
    assert data["totals"] == {"reads": 3, "principals": 1, "tables": 1}


def test_usage_by_principal_account_and_domain_with_a_range(state_dir: Path) -> None:
    by_principal = usage_json(state_dir, "--principal", ANALYST, "--since", ago(45))
    assert [(r["table"], r["reads"]) for r in by_principal["usage"]] == [
        ("sales_orders.t0", 4),
        ("sales_orders.t1", 1),
    ]
    by_account = usage_json(state_dir, "--account", CONSUMER)
    assert [(r["principal"], r["table"]) for r in by_account["usage"]] == [
        (ANALYST, "sales_orders.t0"),
        (ANALYST, "sales_orders.t1"),
        (INTERN, "sales_orders.t1"),
    ]
    by_domain = usage_json(state_dir, "--domain", "sales", "--until", ago(1))
    assert [(r["principal"], r["table"], r["reads"]) for r in by_domain["usage"]] == [
        (ANALYST, "sales_orders.t0", 1),
        (ANALYST, "sales_orders.t1", 1),
        (INTERN, "sales_orders.t1", 1),
    ]
    both = usage_json(state_dir, "--domain", "sales", "--principal", INTERN)
    assert [(r["principal"], r["table"]) for r in both["usage"]] == [(INTERN, "sales_orders.t1")]
    nothing = usage_json(state_dir, "--table", "sales_orders.t1", "--since", ago(1))
    assert nothing["usage"] == [] and nothing["totals"]["reads"] == 0


def test_usage_as_a_table(state_dir: Path) -> None:
    result = invoke("usage", "--state-dir", str(state_dir), "--account", CONSUMER)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert f"Usage from {ago(29)} to {TODAY}" in result.stdout
    assert "5 read(s) by 2 principal(s) of 2 table(s)" in result.stdout
    cells = row_of(result.stdout, "role/intern")
    assert cells[:5] == ["role/intern", CONSUMER, "sales_orders.t1", "1", "1"]
    analyst_t0 = [line for line in result.stdout.splitlines() if "sales_orders.t0" in line]
    assert len(analyst_t0) == 1 and "ATHENA, UNKNOWN" in analyst_t0[0]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ((), "say whose usage"),
        (("--table", "orders"), "--table must be database.table"),
        (("--principal", "analyst"), "--principal must be an IAM role ARN"),
        (("--account", "12"), "--account must be a 12-digit account id"),
        (("--domain", "hr"), "--domain hr is not a producer domain of this mesh: sales"),
        (("--table", "sales_orders.t0", "--since", "2026-13-01"), "--since is not a date"),
        (("--table", "sales_orders.t0", "--since", "2026-12-02", "--until", "2026-12-01"), "after"),
    ],
)
def test_bad_input_is_an_error_on_stderr_and_exit_1(
    state_dir: Path, options: tuple[str, ...], message: str
) -> None:
    result = invoke("usage", "--state-dir", str(state_dir), "-o", "json", *options)
    assert result.exit_code == 1
    assert result.stdout == ""  # --output json prints only JSON: nothing when it fails
    assert "error" in result.stderr and message in " ".join(result.stderr.split())


def test_usage_without_a_running_mesh_says_so_on_stderr(tmp_path: Path) -> None:
    result = invoke("usage", "--state-dir", str(tmp_path / "nothing"), "--account", CONSUMER)
    assert result.exit_code == 1 and result.stdout == ""
    assert "meshgov mesh up" in result.stderr


def test_posture_shows_the_last_use_of_each_grant(state_dir: Path) -> None:
    result = invoke("posture", "--state-dir", str(state_dir), "-o", "json")
    assert result.exit_code == 0, result.stdout + result.stderr
    rows = {
        (a["grantee"], a["resource"]): a["last_used"] for a in json.loads(result.stdout)["access"]
    }
    assert rows[(ANALYST, "sales_orders.t0")] == NOW.isoformat()
    assert rows[(CONSUMER, "sales_orders.t0")] == NOW.isoformat()
    # the producer's ownership of its database: none of its roles read through it
    assert rows[(PRODUCER, "sales_orders.* (every table)")] == NEVER
    table = invoke("posture", "--state-dir", str(state_dir))
    assert "last used" in table.stdout
    cells = row_of(table.stdout.split("Drift:")[0], "role/analyst")
    assert cells[-1] == NOW.strftime("%Y-%m-%d %H:%M")


def test_find_shows_each_products_consumers(state_dir: Path) -> None:
    result = invoke("find", "--state-dir", str(state_dir), "-o", "json")
    assert result.exit_code == 0, result.stdout + result.stderr
    consumers = {p["product"]: p["consumers"] for p in json.loads(result.stdout)}
    assert consumers == {"sales_orders.t0": [ANALYST], "sales_orders.t1": [ANALYST, INTERN]}
    table = invoke("find", "--state-dir", str(state_dir))
    assert "consumers (30 d)" in table.stdout
    assert f"2: role/analyst ({CONSUMER}), role/intern" in row_of(table.stdout, "sales_orders.t1")
