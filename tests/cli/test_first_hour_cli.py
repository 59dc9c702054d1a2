"""`meshgov revoke` and the did-you-mean hints for names the mesh does not know, against a running
local mesh (issue 17: what a new user missed in the first hour)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from meshgov.access.states import RequestState
from meshgov_cli.main import app
from meshgov_local.emulator import controls
from meshgov_local.mesh import LocalMesh
from meshgov_local.server import moto_server
from meshgov_local.state import MeshState, write_state
from tests.integration.access_helpers import (
    create_role,
    decide,
    publish_sales,
    record,
    request,
    request_id,
)
from tests.integration.helpers import create_published_database

runner = CliRunner()
CENTRAL, PRODUCER, CONSUMER = "111111111111", "222222222222", "333333333333"
WIDE = {"COLUMNS": "250"}


@pytest.fixture
def active_request(tmp_path: Path) -> Iterator[tuple[LocalMesh, Path, str]]:
    """A mesh where the consumer's analyst asked for sales_orders.t0 and the producer approved:
    the request is ACTIVE; state files written as `mesh up` does."""
    controls.reset()
    with moto_server() as endpoint:
        mesh = LocalMesh(endpoint_url=endpoint)
        create_role(mesh, CONSUMER)
        publish_sales(mesh)
        request(mesh, tables=["t0"])
        mesh.settle()
        rid = request_id(mesh)
        decide(mesh, rid)
        mesh.settle()
        current = record(mesh, rid)
        assert current is not None and current.state is RequestState.ACTIVE
        write_state(tmp_path / "state", MeshState.of(mesh))
        yield mesh, tmp_path / "state", rid
    controls.reset()


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args), env=WIDE)


def test_revoke_answers_help() -> None:
    result = invoke("revoke", "--help")
    assert result.exit_code == 0, result.output
    for option in ("REQUEST_ID", "--reason", "--as-account", "--wait", "--output"):
        assert option in result.output


def test_the_consumer_revokes_an_active_request(
    active_request: tuple[LocalMesh, Path, str],
) -> None:
    mesh, state_dir, rid = active_request
    # When the consumer revokes it (the default account), as JSON
    result = invoke(
        "revoke", rid, "--reason", "the dashboard was retired", "--state-dir", str(state_dir),
        "-o", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    sent = json.loads(result.stdout)
    assert (sent["request_id"], sent["revoked_by"], sent["account"], sent["state"]) == (
        rid,
        "consumer",
        CONSUMER,
        "ACTIVE",
    )
    # Then central revokes it when the event is delivered, naming who asked and why
    mesh.settle()
    revoked = record(mesh, rid)
    assert revoked is not None and revoked.state is RequestState.REVOKED
    assert revoked.reason == "revoked on request of the consumer: the dashboard was retired"
    # And a second revocation is refused before anything is sent
    again = invoke("revoke", rid, "--state-dir", str(state_dir))
    assert again.exit_code == 1
    assert f"{rid} is REVOKED: nothing to revoke" in again.output


def test_the_owning_producer_revokes_and_an_unknown_id_gets_a_hint(
    active_request: tuple[LocalMesh, Path, str],
) -> None:
    mesh, state_dir, rid = active_request
    typo = rid[:-1] + ("0" if rid[-1] != "0" else "1")
    unknown = invoke("revoke", typo, "--state-dir", str(state_dir))
    assert unknown.exit_code == 1
    assert f"no request {typo}" in unknown.output and f"did you mean {rid}?" in unknown.output
    # audit show --request with the same typo finds nothing, and says which id was meant
    shown = invoke("audit", "show", "--request", typo, "--state-dir", str(state_dir))
    assert shown.exit_code == 0 and f"did you mean {rid}?" in shown.stderr
    found = invoke("audit", "show", "--request", rid, "--state-dir", str(state_dir))
    assert found.exit_code == 0 and "note:" not in found.stderr
    # The producer owning the data may revoke too
    result = invoke(
        "revoke", rid, "--as-account", PRODUCER, "--reason", "no longer shared",
        "--state-dir", str(state_dir),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"asked central to revoke {rid} as its producer" in result.output
    mesh.settle()
    revoked = record(mesh, rid)
    assert revoked is not None and revoked.state is RequestState.REVOKED
    assert revoked.reason == "revoked on request of the producer: no longer shared"


def test_a_wrong_database_or_table_name_gets_a_hint(
    active_request: tuple[LocalMesh, Path, str],
) -> None:
    _, state_dir, _ = active_request
    base = [
        "request-access", "--state-dir", str(state_dir), "--as-account", CONSUMER,
        "--principal", f"arn:aws:iam::{CONSUMER}:role/analyst",
        "--justification", "quarterly revenue dashboard", "--days", "30",
    ]  # fmt: skip
    # A producer's database name: the central name is suggested (ADR 0003)
    producer_name = invoke(*base, "--database", "orders", "--table", "t0")
    assert producer_name.exit_code == 1
    assert "ResourceNotPublished" in producer_name.output
    assert "did you mean sales_orders?" in producer_name.output
    # A misspelt central name, and a misspelt table
    misspelt = invoke(*base, "--database", "sales_ordrs", "--table", "t0")
    assert misspelt.exit_code == 1 and "did you mean sales_orders" in misspelt.output
    table = invoke(*base, "--database", "sales_orders", "--table", "t")
    assert table.exit_code == 1 and "did you mean t0 or t1?" in table.output
    # can-access and usage name the central table too: a no (or no reads) says why, on stderr
    analyst = f"arn:aws:iam::{CONSUMER}:role/analyst"
    state = ["--state-dir", str(state_dir)]
    asked = invoke("can-access", analyst, "orders.t0", *state)
    assert asked.exit_code == 1
    assert "central has no database orders (did you mean sales_orders?" in asked.stderr
    as_json = invoke("can-access", analyst, "sales_orders.t", *state, "-o", "json")
    assert as_json.exit_code == 1
    assert "did you mean t0 or t1?" in json.loads(as_json.stdout)["hint"]
    known = invoke("can-access", analyst, "sales_orders.t0", *state)
    assert known.exit_code == 0 and "note:" not in known.stderr
    used = invoke("usage", "--table", "sales_orders.t", *state)
    assert used.exit_code == 0
    assert "central has no table sales_orders.t (did you mean t0 or t1?" in used.stderr


def test_audit_show_table_includes_the_requests_covering_it(
    active_request: tuple[LocalMesh, Path, str],
) -> None:
    _, state_dir, rid = active_request

    def shown(table: str) -> list[dict[str, Any]]:
        result = invoke(
            "audit", "show", "--table", table, "--limit", "0", "-o", "json",
            "--state-dir", str(state_dir),
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        return list(json.loads(result.stdout))

    # The request for t0, its decision and its grants are records about t0
    for name in ("t0", "sales_orders.t0"):
        about = shown(name)
        of_request = {r["action"] for r in about if rid in (r["correlation_id"], r["target"])}
        assert {"access:transition", "lakeformation:BatchGrantPermissions"} <= of_request, name
        to_states = {
            r["detail"].get("to_state") for r in about if r["action"] == "access:transition"
        }
        assert {"PENDING_APPROVAL", "APPROVED", "GRANTED", "ACTIVE"} <= to_states
        assert any(r["target"].endswith("sales_orders/t0") for r in about)  # and the table's own
    # t1 is not covered by it
    assert all(rid not in (r["correlation_id"], r["target"]) for r in shown("t1"))


def test_watch_catalog_shows_a_published_database_without_tables(
    active_request: tuple[LocalMesh, Path, str],
) -> None:
    mesh, state_dir, _ = active_request
    create_published_database(mesh.client(mesh.producer, "glue"), "returns")
    mesh.settle()
    watch = ["watch", "--what", "catalog", "--once", "--state-dir", str(state_dir)]
    as_json = invoke(*watch, "-o", "json")
    assert as_json.exit_code == 0, as_json.output
    rows = json.loads(as_json.stdout)
    assert {"database": "sales_returns", "table": None} in [
        {"database": r["database"], "table": r["table"]} for r in rows
    ]
    assert {(r["database"], r["table"]) for r in rows} >= {
        ("sales_orders", "t0"),
        ("sales_orders", "t1"),
    }
    table = invoke(*watch)
    assert table.exit_code == 0, table.output
    assert "sales_returns" in table.output and "(no tables)" in table.output
    assert "(empty)" not in table.output
