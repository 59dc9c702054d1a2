"""The pieces of `mesh up`'s schedules and control channel that need no mesh: rate expressions,
durations, the request/response files, and the CLI's refusals (issue 17 items 1 and 12)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from meshgov_cli.main import app
from meshgov_local.control import ControlError, ControlInbox, ask
from meshgov_local.schedules import ScheduleError, parse_duration, rate_seconds

runner = CliRunner()


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [
        ("rate(15 minutes)", 900.0),
        ("rate(1 minute)", 60.0),
        ("rate(1 hour)", 3600.0),
        ("rate(2 days)", 172800.0),
        ("cron(0 12 * * ? *)", None),
    ],
)
def test_rate_expressions_give_their_period(expression: str, seconds: float | None) -> None:
    assert rate_seconds(expression) == seconds


@pytest.mark.parametrize("expression", ["rate(1 hours)", "rate(5 hour)", "rate(0 minutes)"])
def test_malformed_rates_are_refused(expression: str) -> None:
    with pytest.raises(ScheduleError):
        rate_seconds(expression)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("25h", 90000.0), ("90m", 5400.0), ("7d", 604800.0), ("1d12h", 129600.0), ("30s", 30.0)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "25", "h", "-1h", "0h", "25 hours", "1w", "1h junk"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ScheduleError):
        parse_duration(text)


def test_advance_clock_refuses_a_bad_duration_with_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["mesh", "advance-clock", "soon", "--state-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "not a duration" in result.output


def test_control_commands_without_a_running_mesh_say_how_to_start_one(tmp_path: Path) -> None:
    for command in (["run-schedule", "AccessSweepSchedule"], ["advance-clock", "25h"]):
        result = runner.invoke(app, ["mesh", *command, "--state-dir", str(tmp_path)])
        assert result.exit_code == 1, result.output
        assert "no running mesh" in result.output and "meshgov mesh up" in result.output


def test_a_request_file_is_answered_once_by_the_loop(tmp_path: Path) -> None:
    # Given the mesh's inbox (a leftover request from an earlier run is dropped on open)
    inbox = ControlInbox(tmp_path)
    inbox.directory.mkdir(parents=True)
    (inbox.directory / "old.request.json").write_text('{"command": "advance-clock"}')
    inbox.open()
    assert inbox.take() == []
    answers: list[object] = []

    def loop() -> None:  # what mesh up does between two deliveries
        while not answers:
            for request in inbox.take():
                answers.append(request)
                inbox.answer(request.id, {"echo": dict(request.args)})

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    # When the CLI asks
    result = ask(tmp_path, "schedules", {"x": 1}, timeout=10, alive=lambda: True)
    thread.join(5)
    # Then the loop ran it once and the CLI got the result; no file is left behind
    assert result == {"echo": {"x": 1}}
    assert len(answers) == 1
    assert list(inbox.directory.iterdir()) == []
    # And an error answer is an error, a dead mesh is said so at once
    inbox.answer("r1", error="no schedule 'Nope'")
    with pytest.raises(ControlError, match="no running mesh"):
        ask(tmp_path, "run-schedule", {}, timeout=1, alive=lambda: False)


def test_mesh_up_json_lines_ready_signal_control_channel_and_readme_role(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One `mesh up` (one server): the ready signal, the README's role, `run-schedule` and
    `advance-clock` through the control channel, and `--output json` lines."""
    import json
    import time

    import boto3

    from meshgov_cli.principal_check import missing_principal
    from meshgov_local.state import read_state

    state_dir = tmp_path / "localmesh"
    monkeypatch.setenv("AWS_CONFIG_FILE", str(state_dir / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(state_dir / "credentials"))
    seen: dict[str, object] = {}

    def script() -> None:  # another process would do this; here another thread
        try:
            deadline = time.monotonic() + 90
            while not (state_dir / "mesh.json").exists():
                if time.monotonic() > deadline:
                    raise TimeoutError("mesh.json never appeared")
                time.sleep(0.05)
            # mesh.json there means ready: the endpoint answers, the README's role exists
            state = read_state(state_dir)
            seen["endpoint"] = state.endpoint_url
            consumer = boto3.Session(profile_name="consumer")
            iam = consumer.client("iam")
            seen["analyst"] = missing_principal(
                iam, "arn:aws:iam::333333333333:role/analyst", "333333333333"
            )
            seen["ghost"] = missing_principal(
                iam, "arn:aws:iam::333333333333:role/no-such-role", "333333333333"
            )
            alive = lambda: (state_dir / "mesh.json").exists()  # noqa: E731
            seen["clock"] = ask(
                state_dir, "advance-clock", {"duration": "25h"}, timeout=60, alive=alive
            )
            seen["run"] = ask(
                state_dir, "run-schedule", {"name": "AuditDigestSchedule"}, timeout=60, alive=alive
            )
            try:
                ask(state_dir, "run-schedule", {"name": "Nope"}, timeout=60, alive=alive)
            except ControlError as exc:
                seen["unknown"] = str(exc)
        except Exception as exc:  # the assertions below report it
            seen["error"] = repr(exc)

    thread = threading.Thread(target=script, daemon=True)
    thread.start()
    result = runner.invoke(
        app,
        [
            "mesh",
            "up",
            "--port",
            "0",
            "--state-dir",
            str(state_dir),
            "--output",
            "json",
            "--run-for",
            "6",
            "--schedule-scale",
            "0",
        ],
    )
    thread.join(timeout=30)
    assert result.exit_code == 0, result.output
    assert "error" not in seen, seen
    # The ready object is the first JSON line, and names the endpoint --port 0 picked
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert lines[0]["event"] == "ready"
    assert lines[0]["endpoint_url"] == seen["endpoint"]
    assert lines[0]["state_file"] == str(state_dir / "mesh.json")
    assert {s["name"] for s in lines[0]["schedules"]} == {
        "SweepSchedule",
        "AccessSweepSchedule",
        "AuditDigestSchedule",
        "InvitationSweepSchedule",
    }
    assert lines[-1]["event"] == "stopped"
    # The README's role exists; another role does not, and is refused before sending
    assert seen["analyst"] is None
    assert "does not exist in account 333333333333" in str(seen["ghost"])
    # The clock moved and the digest ran, through the control channel; an unknown schedule is
    # refused, naming the ones there are
    assert seen["clock"]["advanced_seconds"] == 90000.0  # type: ignore[index]
    assert seen["run"]["function"] == "AuditDigestFunction"  # type: ignore[index]
    assert "AccessSweepSchedule" in str(seen["unknown"])
    # And each invocation is one JSON object naming its function and account
    invocations = [line for line in lines if line["event"] == "invocation"]
    assert any(
        i["function"] == "AuditDigestFunction" and i["account"] == "111111111111"
        for i in invocations
    )
    assert not (state_dir / "mesh.json").exists()
