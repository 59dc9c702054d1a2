"""`meshgov query` against a running local mesh: the analyst's SQL over real Parquet data, as
a table, JSON or CSV; a refusal on stderr with exit code 1 and nothing on stdout."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from meshgov_cli.main import app
from meshgov_local.emulator import controls
from meshgov_local.mesh import LocalMesh
from meshgov_local.server import moto_server
from meshgov_local.state import MeshState, write_state
from tests.integration.access_helpers import create_role
from tests.integration.test_query import allow_engine, analyst_session, granted, publish_orders

runner = CliRunner()
SQL = "SELECT country, count(*) AS n FROM sales_sales.orders GROUP BY country ORDER BY country"


@pytest.fixture(scope="module")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A mesh on a moto server where the analyst may read orders' id, country and dt."""
    controls.reset()
    directory = tmp_path_factory.mktemp("query") / "state"
    with moto_server() as endpoint:
        mesh = LocalMesh(endpoint_url=endpoint)
        create_role(mesh, mesh.consumer)
        analyst_session(mesh)  # its IAM policy
        allow_engine(mesh)
        publish_orders(mesh, rows=500)
        granted(mesh, tables=["orders"], columns=["id", "country", "dt"])
        write_state(directory, MeshState.of(mesh))
        yield directory
    controls.reset()


def invoke(state_dir: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["query", *args, "--state-dir", str(state_dir)])
    return result.exit_code, result.stdout, result.stderr


def test_json_output_is_only_json_with_the_rows(state_dir: Path) -> None:
    code, out, err = invoke(state_dir, SQL, "--as", "analyst", "--output", "json")
    assert (code, err) == (0, "")
    answer = json.loads(out)
    assert answer["columns"] == ["country", "n"]
    assert sum(n for _, n in answer["rows"]) == 500
    (table,) = answer["tables"]
    assert table["authorized_columns"] == ["id", "country", "dt"]
    assert (table["rows_read"], table["objects"]) == (500, 3)


def test_csv_and_table_output(state_dir: Path) -> None:
    arn = "arn:aws:iam::333333333333:role/analyst"
    code, out, _ = invoke(state_dir, SQL, "--as", arn, "--output", "csv")
    rows = list(csv.reader(io.StringIO(out)))
    assert code == 0 and rows[0] == ["country", "n"] and len(rows) > 2
    code, out, _ = invoke(state_dir, SQL, "--as", "analyst")
    assert code == 0 and "country" in out and "DE" in out


def test_a_column_not_granted_fails_on_stderr_with_exit_code_1(state_dir: Path) -> None:
    code, out, err = invoke(
        state_dir, "SELECT email FROM sales_sales.orders", "--as", "analyst", "--output", "json"
    )
    assert (code, out) == (1, "")
    assert "COLUMN_NOT_FOUND" in err and "email" in err


def test_a_principal_not_in_a_member_account_is_refused(state_dir: Path) -> None:
    code, out, err = invoke(state_dir, SQL, "--as", "arn:aws:iam::999999999999:role/analyst")
    assert (code, out) == (1, "")
    assert "999999999999" in err
