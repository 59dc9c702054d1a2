"""`meshgov reviews` and `meshgov review` against a running local mesh (issue 14)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
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

runner = CliRunner()
PRODUCER, CONSUMER = "222222222222", "333333333333"
WIDE = {"COLUMNS": "250"}
DAY = 86_400


@pytest.fixture
def under_review(tmp_path: Path) -> Iterator[tuple[LocalMesh, Path, str]]:
    """A mesh on a moto server (reviews every 30 days, 7 days to answer) whose one request is
    under review, with its state files written as `mesh up` does."""
    controls.reset()
    with moto_server() as endpoint:
        mesh = LocalMesh(
            endpoint_url=endpoint,
            parameter_overrides={"ReviewEveryDays": "30", "ReviewDeadlineDays": "7"},
        )
        create_role(mesh, CONSUMER)
        publish_sales(mesh, tables=1)
        request(mesh, tables=["t0"], duration_days=90)
        mesh.settle()
        rid = request_id(mesh)
        decide(mesh, rid)
        mesh.settle()
        controls.advance_time(31 * DAY)
        mesh.access_sweep()
        write_state(tmp_path / "state", MeshState.of(mesh))
        yield mesh, tmp_path / "state", rid
    controls.reset()


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args), env=WIDE)


def listed(state_dir: Path, *extra: str) -> list[dict[str, Any]]:
    result = invoke("reviews", "--state-dir", str(state_dir), "-o", "json", *extra)
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.output)
    return rows


@pytest.mark.parametrize("command", ["reviews", "review"])
def test_review_commands_answer_help(command: str) -> None:
    result = invoke(command, "--help")
    assert result.exit_code == 0 and "--output" in result.output


def test_list_a_due_review_answer_it_and_see_it_decided(
    under_review: tuple[LocalMesh, Path, str],
) -> None:
    mesh, state_dir, rid = under_review
    stamp = controls.now().strftime("%Y-%m-%dT%H:%M:%S")
    # When the reviews are listed as of the emulated clock, the request is due, with a deadline
    (due,) = listed(state_dir, "--at", stamp)
    assert (due["request_id"], due["status"], due["owner_account"]) == (rid, "due", PRODUCER)
    assert due["tables"] == ["sales_orders.t0"] and due["deadline"] > stamp
    table = invoke("reviews", "--state-dir", str(state_dir), "--at", stamp)
    assert rid in table.output and "due" in table.output
    # And as of 8 days later it is overdue; another producer has none
    after = (controls.now() + timedelta(days=8)).strftime("%Y-%m-%dT%H:%M:%S")
    assert [r["status"] for r in listed(state_dir, "--at", after)] == ["overdue"]
    assert listed(state_dir, "--owner", "444444444444") == []
    assert listed(state_dir, "--status", "decided") == []
    # And answers that cannot be sent are refused before anything is sent
    base = ["review", rid, "--state-dir", str(state_dir), "--reason", "still needed"]
    for args, message in [
        ([*base, "--as-account", PRODUCER], "say --keep or --revoke"),
        ([*base, "--as-account", CONSUMER, "--keep"], f"does not own the data of {rid}"),
        (["review", "req-nope", "--state-dir", str(state_dir), "--reason", "x",
          "--as-account", PRODUCER, "--keep"], "no request req-nope"),
        ([*base, "--as-account", "999999999999", "--revoke"], "not a member account"),
    ]:  # fmt: skip
        result = invoke(*args)
        assert result.exit_code == 1 and message in result.output, (args, result.output)
    assert record(mesh, rid).state is RequestState.UNDER_REVIEW  # type: ignore[union-attr]
    # When the producer keeps it
    kept = invoke(*base, "--as-account", PRODUCER, "--keep")
    assert kept.exit_code == 0, kept.output
    assert f"kept {rid}" in kept.output
    mesh.settle()
    # Then it is ACTIVE again and listed as decided by the producer
    assert record(mesh, rid).state is RequestState.ACTIVE  # type: ignore[union-attr]
    (decided,) = listed(state_dir, "--status", "decided")
    assert decided["last_review"]["decision"] == "KEEP"
    assert decided["last_review"]["by"] == f"producer:{PRODUCER}"
    # And answering again is refused: it is not under review any more
    again = invoke(*base, "--as-account", PRODUCER, "--revoke")
    assert again.exit_code == 1 and f"{rid} is ACTIVE, not under review" in again.output
