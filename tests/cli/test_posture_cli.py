"""`meshgov posture` against a running local mesh."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from meshgov.access.store import request_id_for
from meshgov_cli.main import app
from meshgov_local.emulator import controls
from meshgov_local.mesh import LocalMesh
from meshgov_local.server import moto_server
from meshgov_local.state import MeshState, write_state
from tests.integration.access_helpers import create_role, decide, publish_sales, request

runner = CliRunner()
CONSUMER = "333333333333"
WIDE = {"COLUMNS": "250"}


@pytest.fixture
def running_mesh(tmp_path: Path) -> Iterator[tuple[LocalMesh, Path]]:
    """A mesh on a moto server where the analyst's request for t0 was approved and central's
    admin then granted the consumer account t1 by hand; state files written as `mesh up` does."""
    controls.reset()
    with moto_server() as endpoint:
        mesh = LocalMesh(endpoint_url=endpoint)
        create_role(mesh, CONSUMER)
        publish_sales(mesh)
        request(mesh, tables=["t0"])
        mesh.settle()
        decide(mesh, request_id_for(CONSUMER, "req-1"))
        mesh.settle()
        mesh.client(mesh.central, "lakeformation").grant_permissions(
            Principal={"DataLakePrincipalIdentifier": CONSUMER},
            Resource={"Table": {"DatabaseName": "sales_orders", "Name": "t1"}},
            Permissions=["SELECT"],
            PermissionsWithGrantOption=["SELECT"],
        )
        write_state(tmp_path / "state", MeshState.of(mesh))
        yield mesh, tmp_path / "state"
    controls.reset()


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args), env=WIDE)


def test_posture_answers_help() -> None:
    result = invoke("posture", "--help")
    assert result.exit_code == 0, result.output
    for option in ("--markdown", "--expiring-days", "--output", "--state-dir", "--fail-on-drift"):
        assert option in result.output


def test_posture_shows_access_and_drift_and_writes_markdown(
    running_mesh: tuple[LocalMesh, Path], tmp_path: Path
) -> None:
    _, state_dir = running_mesh
    markdown = tmp_path / "audit" / "posture.md"
    result = invoke(
        "posture",
        "--state-dir",
        str(state_dir),
        "--markdown",
        str(markdown),
        "--expiring-days",
        "40",
    )
    assert result.exit_code == 0, result.output
    request_id = request_id_for(CONSUMER, "req-1")
    assert "Access: who can read what" in result.output and request_id in result.output
    assert "Drift: grants no approved request explains" in result.output
    drift = result.output.split("Drift:")[1].split("Pending requests")[0]
    [drift_line] = [line for line in drift.splitlines() if "sales_orders.t1" in line]
    assert "central" in drift_line and CONSUMER in drift_line
    assert f"Markdown report written to {markdown}" in result.output.replace("\n", "")
    text = markdown.read_text()
    assert text.startswith("# meshgov posture report") and "## Drift" in text
    assert "## Expiring within 40 days" in text and request_id in text


def test_posture_as_json_and_failing_on_drift(running_mesh: tuple[LocalMesh, Path]) -> None:
    _, state_dir = running_mesh
    result = invoke("posture", "--state-dir", str(state_dir), "-o", "json", "--fail-on-drift")
    assert result.exit_code == 1, result.output
    data = json.loads(result.output)
    assert data["summary"]["drift"] == 1
    assert [d["resource"] for d in data["drift"]] == ["sales_orders.t1"]
    assert {a["grantee"] for a in data["access"]} >= {
        CONSUMER,
        f"arn:aws:iam::{CONSUMER}:role/analyst",
    }


def test_posture_without_a_running_mesh_says_so(tmp_path: Path) -> None:
    result = invoke("posture", "--state-dir", str(tmp_path / "nothing"))
    assert result.exit_code == 2
    assert "error" in result.output
