"""`meshgov request-access`, `decide`, `requests` and `can-access` against a running local mesh."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import meshgov_cli.access as access_cli
from meshgov.access.store import request_id_for
from meshgov_cli.access import parse_tag_conditions
from meshgov_cli.main import app
from meshgov_cli.reach import requests_table_name
from meshgov_local.emulator import controls
from meshgov_local.mesh import LocalMesh
from meshgov_local.server import moto_server
from meshgov_local.state import MeshState, write_state
from tests.integration.access_helpers import create_role, publish_sales, request

runner = CliRunner()
CENTRAL, PRODUCER, CONSUMER = "111111111111", "222222222222", "333333333333"
ANALYST = f"arn:aws:iam::{CONSUMER}:role/analyst"
WIDE = {"COLUMNS": "250"}  # rich renders tables at this width: one line per row


@pytest.fixture
def running_mesh(tmp_path: Path) -> Iterator[tuple[LocalMesh, Path]]:
    """A mesh on a moto server where the producer published sales_orders (t0, t1) and the
    consumer has an analyst role, with its state files written as `mesh up` does."""
    controls.reset()
    with moto_server() as endpoint:
        mesh = LocalMesh(endpoint_url=endpoint)
        create_role(mesh, CONSUMER)
        create_role(mesh, CONSUMER, "intern")
        publish_sales(mesh)
        write_state(tmp_path / "state", MeshState.of(mesh))
        yield mesh, tmp_path / "state"
    controls.reset()


@pytest.fixture
def delivering(running_mesh: tuple[LocalMesh, Path]) -> Iterator[tuple[LocalMesh, Path]]:
    """The mesh delivers its queued events every 0.1 s meanwhile, as `mesh up` does."""
    mesh, _ = running_mesh
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
    yield running_mesh
    stop.set()
    worker.join(timeout=10)
    assert not failures, failures


def ask_for_t0(state_dir: Path, *extra: str, token: str = "tok-1") -> list[str]:  # noqa: S107
    return [
        "request-access",
        "--state-dir",
        str(state_dir),
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
        "30",
        "--client-token",
        token,
        *extra,
    ]


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args), env=WIDE)


def row_of(output: str, text: str) -> list[str]:
    """The cells of the table row containing ``text``."""
    [line] = [line for line in output.splitlines() if text in line]
    return [cell.strip() for cell in line.strip().strip("│┃").split("│")]


# --- help and parsing -------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["request-access", "decide", "requests", "can-access"])
def test_every_access_command_answers_help(command: str) -> None:
    result = invoke(command, "--help")
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output and "--state-dir" in result.output
    assert "--output" in result.output


def test_can_access_help_documents_its_exit_codes() -> None:
    result = invoke("can-access", "--help")
    assert "0 allowed, 1 not allowed, 2 no answer" in result.output


def test_tag_options_are_conditions_with_alternative_values() -> None:
    assert parse_tag_conditions(["team=finance, ops", "tier=gold", "team=hr"]) == [
        {"key": "team", "values": ["finance", "ops", "hr"]},
        {"key": "tier", "values": ["gold"]},
    ]


# --- the flow ---------------------------------------------------------------------------------


def test_request_decide_and_list_until_active(running_mesh: tuple[LocalMesh, Path]) -> None:
    mesh, state_dir = running_mesh
    request_id = request_id_for(CONSUMER, "tok-1")
    # (the requests table is the one mesh.json names, or the deployer's name for an older one)
    state = MeshState.of(mesh)
    assert requests_table_name(state) == mesh.deployment.requests_table_name
    assert requests_table_name(replace(state, requests_table_name="")) == (
        mesh.deployment.requests_table_name
    )
    # When the consumer asks for t0
    asked = invoke(*ask_for_t0(state_dir))
    # Then it prints the request id and who decides
    assert asked.exit_code == 0, asked.output
    assert f"Requested: {request_id}" in asked.output
    assert f"producer {PRODUCER} (domain sales)" in asked.output
    mesh.settle()
    # And the requests table shows it waiting for the producer
    waiting = invoke("requests", "--state-dir", str(state_dir))
    assert waiting.exit_code == 0, waiting.output
    assert row_of(waiting.output, request_id)[:6] == [
        request_id,
        CONSUMER,
        "role/analyst",
        "sales_orders: t0",
        "SELECT",
        "PENDING_APPROVAL",
    ]
    # And decisions that cannot be made are refused before anything is sent
    base = ["decide", "--state-dir", str(state_dir), "--reason", "ok"]
    bad_decisions = [
        ([*base, request_id, "--as-account", PRODUCER], "say --approve or --deny"),
        ([*base, "req-nope", "--as-account", PRODUCER, "--approve"], "no request req-nope"),
        (
            [*base, request_id, "--as-account", CONSUMER, "--approve"],
            f"does not own the data of {request_id}: its owner is producer {PRODUCER}",
        ),
        ([*base, request_id, "--as-account", "999999999999", "--deny"], "not a member account"),
    ]
    for args, message in bad_decisions:
        result = invoke(*args)
        assert result.exit_code == 1, (args, result.output)
        assert "error:" in result.output and message in result.output, (args, result.output)
    # When the producer approves it and the mesh settles
    decided = invoke(
        "decide",
        request_id,
        "--state-dir",
        str(state_dir),
        "--as-account",
        PRODUCER,
        "--approve",
        "--reason",
        "ok for the dashboard",
    )
    assert decided.exit_code == 0, decided.output
    assert f"approved {request_id}" in decided.output
    mesh.settle()
    # Then the request is ACTIVE, with an expiry, decided by the producer
    active = invoke("requests", "--state-dir", str(state_dir), "--state", "ACTIVE")
    assert active.exit_code == 0, active.output
    row = row_of(active.output, request_id)
    assert row[5] == "ACTIVE" and row[6].startswith("20") and row[7] == f"producer:{PRODUCER}"
    # And as JSON, filtered by consumer, every field is there
    as_json = invoke(
        "requests", "--state-dir", str(state_dir), "--consumer", CONSUMER, "-o", "json"
    )
    [record] = json.loads(as_json.output)
    assert (record["request_id"], record["state"], record["principal"]) == (
        request_id,
        "ACTIVE",
        ANALYST,
    )
    assert record["history"][-1]["to"] == "ACTIVE"
    # And nothing is left waiting; deciding again is refused
    none_waiting = invoke("requests", "--state-dir", str(state_dir), "--state", "PENDING_APPROVAL")
    assert "0 access request(s)" in none_waiting.output and "(no requests)" in none_waiting.output
    again = invoke(*base, request_id, "--as-account", PRODUCER, "--deny")
    assert again.exit_code == 1
    assert f"{request_id} is ACTIVE, not waiting for a decision" in again.output


def test_wait_follows_a_delivering_mesh_to_active_or_denied(
    delivering: tuple[LocalMesh, Path],
) -> None:
    _, state_dir = delivering
    request_id = request_id_for(CONSUMER, "tok-1")
    # When the consumer asks and waits
    asked = invoke(*ask_for_t0(state_dir, "--wait", "--timeout", "120", "-o", "json"))
    # Then the request was routed to the producer
    assert asked.exit_code == 0, asked.output
    summary = json.loads(asked.output)
    assert summary["request_id"] == request_id and summary["state"] == "PENDING_APPROVAL"
    assert summary["owner_account"] == PRODUCER and summary["tables"] == ["sales_orders.t0"]
    # When the producer approves and waits, Then it ends ACTIVE
    decided = invoke(
        "decide",
        request_id,
        "--state-dir",
        str(state_dir),
        "--as-account",
        PRODUCER,
        "--approve",
        "--reason",
        "ok",
        "--wait",
        "--timeout",
        "120",
        "-o",
        "json",
    )
    assert decided.exit_code == 0, decided.output
    assert json.loads(decided.output) | {"event_id": "-"} == {
        "request_id": request_id,
        "decision": "APPROVE",
        "event_id": "-",
        "state": "ACTIVE",
        "error": None,
    }
    # When another request is denied and waited for, Then it ends DENIED
    other = request_id_for(CONSUMER, "tok-2")
    assert (
        invoke(*ask_for_t0(state_dir, "--wait", "--timeout", "120", token="tok-2")).exit_code == 0
    )
    denied = invoke(
        "decide",
        other,
        "--state-dir",
        str(state_dir),
        "--as-account",
        PRODUCER,
        "--deny",
        "--reason",
        "no personal data for dashboards",
        "--wait",
        "--timeout",
        "120",
    )
    assert denied.exit_code == 0, denied.output
    assert f"denied {other} (no personal data for dashboards)" in denied.output
    assert f"{other} is now DENIED" in denied.output


def test_can_access_says_yes_and_why_or_no_and_what_is_missing(
    running_mesh: tuple[LocalMesh, Path],
) -> None:
    mesh, state_dir = running_mesh
    base = ["can-access", "--state-dir", str(state_dir)]
    # Questions that cannot be asked get no answer (exit 2); an unknown table is a definite no
    bad = [
        (["analyst", "sales_orders.t0"], "principal must be an IAM role ARN"),
        ([ANALYST, "sales_orders"], "name the table as DATABASE.TABLE"),
        (
            ["arn:aws:iam::444444444444:role/x", "sales_orders.t0"],
            "the role's account 444444444444 is not a member account",
        ),
    ]
    for args, message in bad:
        result = invoke(*base, *args)
        assert result.exit_code == 2, (args, result.output)
        assert "error:" in result.output and message in result.output
    unknown = invoke(*base, ANALYST, "sales_orders.t9", "-o", "json")
    assert unknown.exit_code == 1
    assert json.loads(unknown.stdout)["missing"] == ["table not in the central catalog"]
    # Given nothing was requested, When asked, Then no (exit 1) with the missing links
    before = invoke(*base, ANALYST, "sales_orders.t0", "-o", "json")
    assert before.exit_code == 1, before.output
    answer = json.loads(before.output)
    assert answer["allowed"] is False
    assert answer["missing"] == [
        "no grant from central to the account",
        "no grant to the principal in the consumer account",
        "no resource link",
    ]
    # Given the analyst's request for t0 was approved
    request(mesh, token="tok-1", tables=["t0"])
    mesh.settle()
    request_id = request_id_for(CONSUMER, "tok-1")
    approved = invoke(
        "decide", request_id, "--state-dir", str(state_dir), "--as-account", PRODUCER,
        "--approve", "--reason", "ok",
    )  # fmt: skip
    assert approved.exit_code == 0, approved.output
    mesh.settle()
    # When asked again, Then yes (exit 0), because of that request, until it expires
    after = invoke(*base, ANALYST, "sales_orders.t0", "-o", "json")
    assert after.exit_code == 0, after.output
    answer = json.loads(after.output)
    assert answer["allowed"] is True and answer["requests"] == [request_id]
    assert answer["expires_at"] is not None and answer["missing"] == []
    # And the intern, who asked for nothing, cannot
    intern = invoke(*base, f"arn:aws:iam::{CONSUMER}:role/intern", "sales_orders.t0")
    assert intern.exit_code == 1
    assert f"can arn:aws:iam::{CONSUMER}:role/intern SELECT sales_orders.t0?" in intern.output
    assert row_of(intern.output, "allowed")[0].split() == ["allowed", "no"]
    assert "no grant to the principal in the consumer account" in intern.output
    assert request_id in intern.output  # the account's grant, and the request behind it


# --- bad input --------------------------------------------------------------------------------


def test_bad_requests_and_reused_tokens_are_refused(
    running_mesh: tuple[LocalMesh, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    mesh, state_dir = running_mesh
    good = ask_for_t0(state_dir)

    def with_option(option: str, *value: str) -> list[str]:
        """The good request with ``option`` replaced (or added)."""
        args = list(good)
        if option in args:
            index = args.index(option)
            del args[index : index + 2]
        return [*args, option, *value] if value else args

    cases = [
        (
            with_option("--principal", "arn:aws:iam::444444444444:role/analyst"),
            "is not in account 333333333333 (--as-account): a consumer can only ask",
        ),
        (with_option("--principal", "analyst"), "--principal must be an IAM role ARN"),
        ([*good, "--tag", "team=finance"], "with --database or with --tag, not both"),
        ([*good, "--table", "t1", "--column", "id"], "columns can only be requested on exactly"),
        (with_option("--justification", "because"), "--justification: String should have at"),
        (with_option("--client-token", "no spaces"), "--client-token: String should match"),
        (
            [a for a in good if a not in ("--database", "sales_orders", "--table", "t0")]
            + ["--tag", "team"],
            "--tag must be key=value",
        ),
        (with_option("--database", "sales_nothing"), "sales_nothing is not a database published"),
        (with_option("--table", "t9"), "sales_orders has no published table t9"),
        ([*good, "--column", "colour"], "has no column colour"),
        (
            [a.replace(CONSUMER, "444444444444") for a in good],
            "--as-account 444444444444 is not a member account of this mesh",
        ),
    ]
    for args, message in cases:
        result = invoke(*args)
        assert result.exit_code == 1, (args, result.output)
        assert "error:" in result.output and message in result.output, (args, result.output)
    # And --days is checked by the option itself (usage error)
    assert invoke(*with_option("--days", "0")).exit_code == 2
    # And nothing reached central
    mesh.settle()
    assert [r for r in mesh.requests() if r.kind == "consumer"] == []
    # And a good request that nothing delivers is given up on after --timeout
    result = invoke(*ask_for_t0(state_dir, "--wait", "--timeout", "0.5"))
    assert result.exit_code == 1
    assert "is not recorded after 0.5 s: is the mesh delivering events?" in result.output
    mesh.settle()

    # When the same token is sent for t1 instead of t0
    args = ask_for_t0(state_dir)
    args[args.index("t0")] = "t1"
    result = invoke(*args)
    # Then it is refused locally; sending the very same request again is fine
    assert result.exit_code == 1 and "already names request" in result.output
    again = invoke(*ask_for_t0(state_dir))
    assert again.exit_code == 0 and "Requested again" in again.output

    # Given another request with token tok-2 is on its way to central (not yet recorded)
    request(mesh, token="tok-2", tables=["t1"])
    real_put = access_cli._put

    def put_then_deliver(*put_args: Any) -> str:
        event_id = real_put(*put_args)
        mesh.settle()  # central records the other request first, then refuses this one
        return event_id

    monkeypatch.setattr(access_cli, "_put", put_then_deliver)
    # When a request for t0 with tok-2 is sent and waited for
    refused = invoke(*ask_for_t0(state_dir, "--wait", token="tok-2"))
    # Then central's refusal is reported, with exit code 1
    assert refused.exit_code == 1, refused.output
    assert "central refused the request: ClientTokenReused" in refused.output


def test_without_a_running_mesh_every_command_says_how_to_start_one(tmp_path: Path) -> None:
    state = ["--state-dir", str(tmp_path)]
    for args, code in (
        (ask_for_t0(tmp_path), 1),
        (["decide", "req-1", "--as-account", PRODUCER, "--approve", "--reason", "ok", *state], 1),
        (["requests", *state], 1),
        (["can-access", ANALYST, "sales_orders.t0", *state], 2),
    ):
        result = invoke(*args)
        assert result.exit_code == code, (args, result.output)
        assert "meshgov mesh up" in result.output


def test_requests_refuses_a_bad_consumer(tmp_path: Path) -> None:
    result = invoke("requests", "--state-dir", str(tmp_path), "--consumer", "me")
    assert result.exit_code == 1 and "--consumer must be a 12-digit account id" in result.output


def test_a_filtered_request_and_a_narrowing_decision(running_mesh: tuple[LocalMesh, Path]) -> None:
    mesh, state_dir = running_mesh
    request_id = request_id_for(CONSUMER, "tok-cells")
    # A bad row filter, or a filter without its one table, is refused before anything is sent
    bad_filter = invoke(*ask_for_t0(state_dir, "--row-filter", "salary > 1", token="tok-bad"))
    assert bad_filter.exit_code == 1
    assert "central would refuse this request (RowFilterColumnUnknown)" in bad_filter.output
    assert request_id_for(CONSUMER, "tok-bad") not in {r.request_id for r in mesh.requests()}
    # When the consumer asks for t0 without customer, rows with amount > 10
    asked = invoke(
        *ask_for_t0(
            state_dir,
            "--exclude-column",
            "customer",
            "--row-filter",
            "amount > 10",
            token="tok-cells",
        )
    )
    assert asked.exit_code == 0, asked.output
    mesh.settle()
    (record,) = [r for r in mesh.requests() if r.request_id == request_id]
    assert record.filters[0]["excludedColumns"] == ["customer"]
    base = ["decide", request_id, "--state-dir", str(state_dir), "--as-account", PRODUCER]
    # Then a decision that would show customer again is refused here, before sending
    wider = invoke(*base, "--approve", "--reason", "ok", "--columns", "id,customer")
    assert wider.exit_code == 1
    assert "central would refuse this decision (DecisionWidens)" in wider.output
    # And a narrowing one is sent, and central makes the narrowed filter
    narrowed = invoke(
        *base, "--approve", "--reason", "ok", "--columns", "id,amount", "--row-filter",
        "amount > 10 AND id < 5",
    )  # fmt: skip
    assert narrowed.exit_code == 0, narrowed.output
    mesh.settle()
    (record,) = [r for r in mesh.requests() if r.request_id == request_id]
    assert record.state.value == "ACTIVE"
    assert record.filters[0]["columns"] == ["id", "amount"]
    # And can-access names the filter the analyst reads through
    answer = invoke("can-access", ANALYST, "sales_orders.t0", "--state-dir", str(state_dir))
    assert answer.exit_code == 0, answer.output
    assert f"filter meshgov-{request_id}-t0: columns id, amount" in answer.output
