"""`meshgov audit verify` and `meshgov audit show` against a running local mesh."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from typer.testing import CliRunner

from meshgov.audit import AuditEntry, AuditOutcome, DynamoAuditTrail
from meshgov.audit.dynamodb import read_chain_items
from meshgov_cli.main import app
from meshgov_local.emulator import controls
from meshgov_local.mesh import LocalMesh
from meshgov_local.server import moto_server
from meshgov_local.state import MeshState, write_state
from tests.integration.access_helpers import publish_sales

runner = CliRunner()
WIDE = {"COLUMNS": "250"}


@pytest.fixture
def running_mesh(tmp_path: Path) -> Iterator[tuple[LocalMesh, Path]]:
    """A mesh on a moto server where the producer published orders (t0, t1), with its state
    files written as `mesh up` does."""
    controls.reset()
    with moto_server() as endpoint:
        mesh = LocalMesh(endpoint_url=endpoint)
        publish_sales(mesh)
        write_state(tmp_path / "state", MeshState.of(mesh))
        yield mesh, tmp_path / "state"
    controls.reset()


def audit(state_dir: Path, *args: str) -> Any:
    return runner.invoke(app, ["audit", *args, "--state-dir", str(state_dir)], env=WIDE)


def stored(mesh: LocalMesh) -> list[dict[str, Any]]:
    return list(
        read_chain_items(mesh.client(mesh.central, "dynamodb"), mesh.deployment.audit_table_name)
    )


def test_verify_passes_on_an_intact_trail(running_mesh: tuple[LocalMesh, Path]) -> None:
    mesh, state_dir = running_mesh
    count = len(stored(mesh))
    table = audit(state_dir, "verify")
    assert table.exit_code == 0, table.output
    assert "PASS" in table.output and f"{count} record(s) checked" in table.output
    assert "no digests" in table.output
    as_json = audit(state_dir, "verify", "--output", "json")
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.output)
    assert data["pass"] is True and data["records_checked"] == count == data["head_seq"]
    assert data["problem"] is None


def test_verify_fails_and_names_the_first_problem(running_mesh: tuple[LocalMesh, Path]) -> None:
    mesh, state_dir = running_mesh
    dynamodb = mesh.client(mesh.central, "dynamodb")
    pinned = DynamoAuditTrail(dynamodb, mesh.deployment.audit_table_name, pick=lambda _n: 40)
    for n in range(3):
        pinned.record(AuditEntry("test:pinned", AuditOutcome.SUCCEEDED, "t", f"r{n}", f"c{n}"))
    second = next(i for i in stored(mesh) if i["chain"]["S"] == "shard-40" and i["seq"]["N"] == "2")
    dynamodb.delete_item(
        TableName=mesh.deployment.audit_table_name, Key={"pk": second["pk"], "sk": second["sk"]}
    )
    table = audit(state_dir, "verify")
    assert table.exit_code == 1, table.output
    assert "FAIL" in table.output and "deletion at shard 40 seq 2" in table.output
    data = json.loads(audit(state_dir, "verify", "-o", "json").output)
    assert data["pass"] is False
    problem = data["problem"]
    assert (problem["kind"], problem["shard"], problem["seq"]) == ("deletion", 40, 2)


def test_verify_cannot_verify_without_a_mesh(tmp_path: Path) -> None:
    result = runner.invoke(app, ["audit", "verify", "--state-dir", str(tmp_path / "none")])
    assert result.exit_code == 2, result.output


def test_show_filters_records(running_mesh: tuple[LocalMesh, Path]) -> None:
    mesh, state_dir = running_mesh
    everything = json.loads(audit(state_dir, "show", "-o", "json", "--limit", "0").output)
    assert len(everything) == len(stored(mesh))
    # oldest first, all shards together: the trail's order (time, shard, seq)
    order = [(r["recorded_at"], r["shard"], r["seq"]) for r in everything]
    assert order == sorted(order)

    created = json.loads(
        audit(state_dir, "show", "-o", "json", "--action", "glue:CreateTable").output
    )
    assert created and all(r["action"] == "glue:CreateTable" for r in created)
    assert {r["target"].rsplit("/", 1)[-1] for r in created} >= {"t0", "t1"}

    database = next(r["target"] for r in created if r["target"].endswith("/t0")).split("/")[-2]
    t0 = json.loads(audit(state_dir, "show", "-o", "json", "--table", f"{database}.t0").output)
    t0_short = json.loads(audit(state_dir, "show", "-o", "json", "--table", "t0").output)
    assert t0 and {r["seq"] for r in t0} <= {r["seq"] for r in t0_short}
    assert all(r["target"].endswith(f"{database}/t0") for r in t0)
    assert all("t0" in r["target"] or "t0" in json.dumps(r["detail"]) for r in t0_short)

    request = everything[0]["correlation_id"]
    by_request = json.loads(audit(state_dir, "show", "-o", "json", "--request", request).output)
    assert by_request and all(r["correlation_id"] == request for r in by_request)

    producer = json.loads(audit(state_dir, "show", "-o", "json", "--account", mesh.producer).output)
    assert producer and all(
        mesh.producer in r["actor"] + r["target"] + json.dumps(r["detail"]) for r in producer
    )
    succeeded = json.loads(audit(state_dir, "show", "-o", "json", "--outcome", "succeeded").output)
    assert succeeded and all(r["outcome"] == "SUCCEEDED" for r in succeeded)

    assert json.loads(audit(state_dir, "show", "-o", "json", "--until", "2000-01-01").output) == []
    since = json.loads(audit(state_dir, "show", "-o", "json", "--since", "2000-01-01").output)
    assert len(since) == len(everything)

    table = audit(state_dir, "show", "--action", "glue:*", "--limit", "3")
    assert table.exit_code == 0, table.output
    assert "Audit records (3 of" in table.output and "glue:" in table.output

    bad = audit(state_dir, "show", "--since", "yesterday")
    assert bad.exit_code == 2 and "--since" in bad.output


def test_verify_passes_on_a_trail_with_non_ascii_text_and_numbers(
    running_mesh: tuple[LocalMesh, Path],
) -> None:
    # Given a record appended to the mesh's trail with non-ASCII text and floats in its detail
    mesh, state_dir = running_mesh
    trail = DynamoAuditTrail(
        mesh.client(mesh.central, "dynamodb"), mesh.deployment.audit_table_name
    )
    record = trail.record(
        AuditEntry(
            action="access:noted",
            outcome=AuditOutcome.SUCCEEDED,
            actor="équipe-données",
            target="ventes_européennes.commandes",
            correlation_id="req-Ω",
            reason="approuvé « finance » 😀",
            detail={"share": 0.25, "whole": 3.0, "tiny": 1e-7, "rows": 5000, "ville": "Zürich"},
        )
    )

    # Then the stored text is the RFC 8785 form of the record's fields, UTF-8, not \u escapes
    item = next(
        i
        for i in stored(mesh)
        if i["chain"]["S"] == f"shard-{record.shard:02d}" and i["seq"]["N"] == str(record.seq)
    )
    assert item["canonical"]["S"].encode("utf-8") == rfc8785.dumps(record.fields())
    assert "Zürich" in item["canonical"]["S"] and '"whole":3}' in item["canonical"]["S"]

    # And `audit verify` passes over the whole trail, that record included
    data = json.loads(audit(state_dir, "verify", "--output", "json").output)
    assert data["pass"] is True, data["problem"]
    assert data["records_checked"] == len(stored(mesh)) == data["head_seq"]


def test_a_sweep_id_selects_its_work_items_records_too() -> None:
    from datetime import UTC, datetime

    from meshgov.audit import AuditRecord
    from meshgov_cli.audit import select

    def record(correlation: str) -> AuditRecord:
        entry = AuditEntry(
            action="sweep:producer",
            outcome=AuditOutcome.FAILED,
            target="producer/111111111111",
            correlation_id=correlation,
            actor="meshgov:catalog-sweep-worker",
            reason="",
        )
        at = datetime(2026, 12, 5, tzinfo=UTC)
        return AuditRecord(record_id=correlation, recorded_at=at, entry=entry)

    records = [
        record("sweep-1"),
        record("sweep-1/P#111111111111"),
        record("sweep-10/P#111111111111"),  # another sweep, whose id only starts alike
        record("sweep-2"),
    ]
    kept = [r.entry.correlation_id for r in select(records, request="sweep-1")]
    assert kept == ["sweep-1", "sweep-1/P#111111111111"]
    item = [r.entry.correlation_id for r in select(records, request="sweep-1/P#111111111111")]
    assert item == ["sweep-1/P#111111111111"]
