"""The `meshgov` command line against a running local mesh (moto server on loopback)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from meshgov_cli.main import app
from meshgov_local.emulator import controls
from meshgov_local.mesh import LocalMesh
from meshgov_local.server import free_port, moto_server
from meshgov_local.state import MeshState, write_state

runner = CliRunner()
PUBLISHED_DB = {"Name": "sales", "Parameters": {"meshgov:publish": "true"}}


def table_input(name: str) -> dict[str, Any]:
    return {
        "Name": name,
        "StorageDescriptor": {
            "Columns": [{"Name": "id", "Type": "bigint"}],
            "Location": f"s3://sales-data/{name}/",
        },
        "TableType": "EXTERNAL_TABLE",
    }


@pytest.fixture
def running_mesh(tmp_path: Path) -> Iterator[tuple[LocalMesh, Path]]:
    """A deployed mesh on a moto server, with its state files written as `mesh up` does."""
    controls.reset()
    with moto_server() as endpoint:
        mesh = LocalMesh(endpoint_url=endpoint)
        write_state(tmp_path / "state", MeshState.of(mesh))
        yield mesh, tmp_path / "state"
    controls.reset()


def publish_orders(mesh: LocalMesh) -> None:
    glue = mesh.client(mesh.producer, "glue")
    glue.create_database(DatabaseInput=PUBLISHED_DB)
    glue.create_table(DatabaseName="sales", TableInput=table_input("orders"))
    mesh.settle()


# --- help -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [[], ["demo"], ["watch"], ["mesh"], ["mesh", "up"], ["mesh", "verify"]],
    ids=lambda c: " ".join(c) or "meshgov",
)
def test_every_command_and_group_answers_help(command: list[str]) -> None:
    # When asked for help
    result = runner.invoke(app, [*command, "--help"])
    # Then it explains itself and succeeds
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output
    assert "--help" in result.output


def test_run_for_stays_hidden_from_help() -> None:
    result = runner.invoke(app, ["mesh", "up", "--help"])
    assert "--sweep-every" in result.output and "--run-for" not in result.output


# --- mesh up ----------------------------------------------------------------------------------


def test_mesh_up_writes_a_usable_aws_config_and_central_follows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given `mesh up` will write its files here, and boto3 will read them
    state_dir = tmp_path / "localmesh"
    monkeypatch.setenv("AWS_CONFIG_FILE", str(state_dir / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(state_dir / "credentials"))
    port = free_port()
    seen: dict[str, Any] = {}

    def act_as_producer() -> None:
        # (another process would do this: here another thread, during the run)
        try:
            deadline = time.monotonic() + 60
            while not (state_dir / "mesh.json").exists():
                if time.monotonic() > deadline:
                    raise TimeoutError("mesh.json never appeared")
                time.sleep(0.1)
            producer = boto3.Session(profile_name="producer")
            seen["identity"] = producer.client("sts").get_caller_identity()["Account"]
            glue = producer.client("glue")
            glue.create_database(DatabaseInput=PUBLISHED_DB)
            glue.create_table(DatabaseName="sales", TableInput=table_input("orders"))
            central = boto3.Session(profile_name="central").client("glue")
            while (state_dir / "mesh.json").exists():
                try:
                    names = [
                        t["Name"]
                        for t in central.get_tables(DatabaseName="sales_sales")["TableList"]
                    ]
                except central.exceptions.EntityNotFoundException:
                    names = []
                if names:
                    seen["central"] = names
                    return
                time.sleep(0.2)
        except Exception as exc:  # the assertion below reports it
            seen["error"] = repr(exc)

    producer_thread = threading.Thread(target=act_as_producer, daemon=True)
    producer_thread.start()
    # When the mesh runs for 3 seconds
    result = runner.invoke(
        app,
        [
            "mesh",
            "up",
            "--run-for",
            "3",
            "--port",
            str(port),
            "--state-dir",
            str(state_dir),
            "--sweep-every",
            "1",
        ],
    )
    producer_thread.join(timeout=10)
    # Then the producer acted through its profile, and the central catalog followed
    assert result.exit_code == 0, result.output
    assert "error" not in seen, seen
    assert seen["identity"] == "222222222222"
    assert seen["central"] == ["orders"]
    # And the output told how to act as each account, and what each handler changed
    output = result.output
    assert f"http://127.0.0.1:{port}" in output
    for account in ("111111111111", "222222222222", "333333333333"):
        assert account in output
    assert "aws --profile producer glue create-database" in output
    assert 'boto3.Session(profile_name="producer")' in output
    # (which handler's line names the change depends on when the trail was polled: under load
    # it need not be CatalogSyncFunction's, so only the change itself is asserted)
    assert "glue:CreateTable table/sales_sales/orders" in output
    assert "CatalogSweepFunction" in output
    # And the config stays, mesh.json is gone, and so is the server
    config = (state_dir / "aws-config").read_text()
    assert "[profile producer]" in config
    assert "role_arn = arn:aws:iam::222222222222:role/meshgov-local-admin" in config
    assert "source_profile = operator" in config
    assert not (state_dir / "mesh.json").exists()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_mesh_up_reports_a_taken_port(tmp_path: Path) -> None:
    # Given a port already in use
    port = free_port()
    with socket.socket() as other:
        other.bind(("127.0.0.1", port))
        other.listen()
        # When the mesh is started on it
        result = runner.invoke(
            app,
            ["mesh", "up", "--run-for", "1", "--port", str(port), "--state-dir", str(tmp_path)],
        )
    # Then it fails with a readable message
    assert result.exit_code == 1
    assert "cannot listen" in result.output and "--port 0" in result.output


# --- watch ------------------------------------------------------------------------------------


def test_watch_once_prints_the_audit_records_of_a_running_mesh(
    running_mesh: tuple[LocalMesh, Path],
) -> None:
    # Given a running mesh where a producer published a table
    mesh, state_dir = running_mesh
    publish_orders(mesh)
    # When the audit trail is watched once, as a table then as JSON
    table = runner.invoke(app, ["watch", "--state-dir", str(state_dir), "--once"])
    as_json = runner.invoke(app, ["watch", "--state-dir", str(state_dir), "--once", "-o", "json"])
    # Then both show what meshgov recorded
    assert table.exit_code == 0, table.output
    assert "glue:CreateTable" in table.output and "event:received" in table.output
    assert as_json.exit_code == 0, as_json.output
    records = json.loads(as_json.output)
    assert ("glue:CreateTable", "SUCCEEDED", "table/sales_sales/orders") in {
        (r["action"], r["outcome"], r["target"]) for r in records
    }


def test_watch_once_renders_the_central_catalog(running_mesh: tuple[LocalMesh, Path]) -> None:
    mesh, state_dir = running_mesh
    publish_orders(mesh)
    result = runner.invoke(
        app, ["watch", "--state-dir", str(state_dir), "--what", "catalog", "--once", "-o", "json"]
    )
    assert result.exit_code == 0, result.output
    [orders] = json.loads(result.output)
    assert (orders["database"], orders["table"], orders["schema_version"]) == (
        "sales_sales",
        "orders",
        "1",
    )
    assert orders["columns"] == ["id:bigint"]


def test_watch_without_a_running_mesh_says_how_to_start_one(tmp_path: Path) -> None:
    result = runner.invoke(app, ["watch", "--state-dir", str(tmp_path), "--once"])
    assert result.exit_code == 1
    assert "meshgov mesh up" in result.output


# --- mesh verify ------------------------------------------------------------------------------


def test_mesh_verify_exits_0_when_equal_and_1_when_central_is_stale(
    running_mesh: tuple[LocalMesh, Path],
) -> None:
    # Given a running mesh whose central catalog followed the producer
    mesh, state_dir = running_mesh
    publish_orders(mesh)
    # When it is verified, Then it is equal
    equal = runner.invoke(app, ["mesh", "verify", "--state-dir", str(state_dir)])
    assert equal.exit_code == 0, equal.output
    assert "central equals the published source" in equal.output
    # Given a change whose Glue event is lost (best-effort delivery)
    controls.set_event_drop_rate(1.0)
    mesh.client(mesh.producer, "glue").create_table(
        DatabaseName="sales", TableInput=table_input("returns")
    )
    controls.set_event_drop_rate(0.0)
    mesh.settle()
    # When it is verified, Then the difference is named and the exit code is 1
    stale = runner.invoke(app, ["mesh", "verify", "--state-dir", str(state_dir)])
    assert stale.exit_code == 1, stale.output
    assert "missing centrally: sales_sales.returns" in stale.output
    as_json = runner.invoke(app, ["mesh", "verify", "--state-dir", str(state_dir), "-o", "json"])
    assert as_json.exit_code == 1
    assert json.loads(as_json.output) == {
        "equal": False,
        "differences": ["missing centrally: sales_sales.returns"],
    }
    # And after the sweep it is equal again
    mesh.sweep()
    assert runner.invoke(app, ["mesh", "verify", "--state-dir", str(state_dir)]).exit_code == 0


def test_mesh_verify_reports_a_mesh_that_stopped(tmp_path: Path) -> None:
    # Given the state of a mesh whose server is gone
    with moto_server() as endpoint:
        write_state(tmp_path, MeshState.of(LocalMesh(endpoint_url=endpoint)))
    # When it is verified, Then it says nobody answers
    result = runner.invoke(app, ["mesh", "verify", "--state-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "no local mesh answers" in result.output
