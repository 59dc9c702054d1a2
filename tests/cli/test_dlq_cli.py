"""`meshgov dlq list` and `meshgov dlq replay` against a running local mesh."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from meshgov_cli.main import app
from meshgov_local.emulator import controls
from meshgov_local.mesh import LocalMesh
from meshgov_local.server import moto_server
from meshgov_local.state import MeshState, write_state

runner = CliRunner()
WIDE = {"COLUMNS": "250"}


@pytest.fixture
def running_mesh(tmp_path: Path) -> Iterator[tuple[LocalMesh, Path]]:
    """A mesh on a moto server where a malformed sync request was refused and parked in
    CatalogEventsDLQ; state files written as `mesh up` does."""
    controls.reset()
    with moto_server() as endpoint:
        mesh = LocalMesh(endpoint_url=endpoint)
        mesh.put_event(
            mesh.producer,
            "meshgov.catalog",
            "Catalog Sync Requested",
            {"databaseName": "bad\nname"},
        )
        mesh.settle()
        write_state(tmp_path / "state", MeshState.of(mesh))
        yield mesh, tmp_path / "state"
    controls.reset()


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args), env=WIDE)


def parked(mesh: LocalMesh, name: str = "CatalogEventsDLQ") -> list[str]:
    [queue] = [q for q in mesh.dead_letter_queues() if q.name == name]
    return [letter.message_id for letter in mesh.dead_letter_office().list(queue)]


def replays(mesh: LocalMesh) -> list[Any]:
    return [r.entry for r in mesh.audit_records() if r.entry.action == "dlq:replay"]


@pytest.mark.parametrize("command", ["list", "replay"])
def test_dlq_commands_answer_help(command: str) -> None:
    result = invoke("dlq", command, "--help")
    assert result.exit_code == 0, result.output
    assert "--queue" in result.output and "--state-dir" in result.output


def test_dlq_list_shows_the_parked_message_without_consuming_it(
    running_mesh: tuple[LocalMesh, Path],
) -> None:
    mesh, state_dir = running_mesh
    [message_id] = parked(mesh)
    result = invoke("dlq", "list", "--state-dir", str(state_dir))
    assert result.exit_code == 0, result.output
    assert "1 dead letter(s) in every DLQ" in result.output
    assert message_id in result.output and "EventMalformed" in result.output
    as_json = invoke(
        "dlq", "list", "--queue", "CatalogEventsDLQ", "--state-dir", str(state_dir), "-o", "json"
    )
    assert as_json.exit_code == 0, as_json.output
    [letter] = json.loads(as_json.output)
    assert (letter["message_id"], letter["kind"]) == (message_id, "refused")
    assert letter["body"]["detail-type"] == "Catalog Sync Requested"
    assert parked(mesh) == [message_id]


def test_dlq_replay_is_a_dry_run_without_yes(running_mesh: tuple[LocalMesh, Path]) -> None:
    mesh, state_dir = running_mesh
    [message_id] = parked(mesh)
    result = invoke(
        "dlq", "replay", "--queue", "CatalogEventsDLQ", "--include-refused",
        "--state-dir", str(state_dir),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Dry run of CatalogEventsDLQ: nothing was changed" in result.output
    assert "would replay" in result.output and "--yes" in result.output
    assert parked(mesh) == [message_id]
    [audited] = replays(mesh)
    assert audited.detail["dry_run"] is True and audited.actor.startswith("operator:arn:aws:")


def test_dlq_replay_with_yes_re_drives_and_audits(running_mesh: tuple[LocalMesh, Path]) -> None:
    mesh, state_dir = running_mesh
    [message_id] = parked(mesh)
    result = invoke(
        "dlq",
        "replay",
        "--queue",
        "CatalogEventsDLQ",
        "--message-id",
        message_id,
        "--yes",
        "--include-refused",
        "--state-dir",
        str(state_dir),
        "-o",
        "json",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    [outcome] = data["reports"][0]["results"]
    assert (outcome["message_id"], outcome["outcome"]) == (message_id, "replayed")
    assert parked(mesh) == []
    assert [e.detail["message_id"] for e in replays(mesh)] == [message_id]
    # The handler refuses it again (nothing was fixed): it is parked again
    mesh.settle()
    assert len(parked(mesh)) == 1


def test_dlq_list_says_why_in_words(running_mesh: tuple[LocalMesh, Path]) -> None:
    _, state_dir = running_mesh
    result = invoke("dlq", "list", "--state-dir", str(state_dir))
    assert result.exit_code == 0, result.output
    # the contract's complaint, not pydantic's dump of it
    assert "databaseName: not a valid Glue name" in result.output
    for noise in ("errors.pydantic.dev", "[type=", "input_value", "validation error for"):
        assert noise not in result.output
    assert "--include-refused" in result.output


@pytest.mark.parametrize("really", [False, True], ids=["dry-run", "yes"])
def test_dlq_replay_holds_refusals_unless_asked(
    running_mesh: tuple[LocalMesh, Path], really: bool
) -> None:
    mesh, state_dir = running_mesh
    [message_id] = parked(mesh)
    yes = ["--yes"] if really else []
    result = invoke(
        "dlq", "replay", "--queue", "CatalogEventsDLQ", *yes, "--state-dir", str(state_dir),
        "-o", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    [outcome] = json.loads(result.stdout)["reports"][0]["results"]
    assert (outcome["message_id"], outcome["outcome"]) == (message_id, "held")
    assert "would be refused again" in outcome["reason"]
    # Nothing was sent: the refusal is still parked, and nothing new arrives after delivery
    mesh.settle()
    assert parked(mesh) == [message_id]
    [audited] = replays(mesh)
    assert (audited.outcome.value, audited.detail["held"]) == ("SKIPPED", True)
    assert audited.detail["message_id"] == message_id
    table = invoke("dlq", "replay", "--queue", "CatalogEventsDLQ", "--state-dir", str(state_dir))
    assert "held" in table.output and "--include-refused" in table.output
    assert "would replay" not in table.output


def test_dlq_replay_of_an_unknown_message_fails(running_mesh: tuple[LocalMesh, Path]) -> None:
    _, state_dir = running_mesh
    result = invoke(
        "dlq",
        "replay",
        "--queue",
        "CatalogEventsDLQ",
        "--message-id",
        "nope",
        "--yes",
        "--state-dir",
        str(state_dir),
    )
    assert result.exit_code == 1
    assert "not found" in result.output


def test_dlq_replay_of_a_failed_sweep_runs_it_again(running_mesh: tuple[LocalMesh, Path]) -> None:
    mesh, state_dir = running_mesh
    payload = {
        "version": "0",
        "id": "schedule-0001",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": mesh.central,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": mesh.config.region,
        "resources": [],
        "detail": {},
    }
    record = {
        "requestContext": {
            "requestId": "schedule-0001",
            "functionArn": f"arn:aws:lambda:{mesh.config.region}:{mesh.central}:function:"
            "CatalogSweepFunction:$LATEST",
            "condition": "RetriesExhausted",
        },
        "requestPayload": payload,
        "responsePayload": {"errorMessage": "throttled", "errorType": "ThrottlingException"},
    }
    mesh.client(mesh.central, "sqs").send_message(
        QueueUrl=mesh.deployment.queue_urls["SweepDLQ"], MessageBody=json.dumps(record)
    )
    result = invoke("dlq", "replay", "--queue", "SweepDLQ", "--yes", "--state-dir", str(state_dir))
    assert result.exit_code == 0, result.output
    assert "replayed" in result.output and "CatalogSweepFunction" in result.output
    assert parked(mesh, "SweepDLQ") == []
