"""The switch between local-only and real AWS: without MESHGOV_AWS_PROFILES a ``real_aws`` body
runs on the local mesh and its real parameter is skipped with the reason, and nothing beyond
loopback is looked up or connected to; with it set, the real path is taken.

Each case runs pytest in a subprocess on one body of ``test_mesh_flows.py``, with the
``loopback_only`` plugin refusing and logging every non-loopback lookup or connection.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import NOT_SET
from tests.e2e.loopback_only import LOG_VARIABLE

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
BODY = "tests/e2e/test_mesh_flows.py::test_the_sweep_publishes_a_database_no_event_announced"


def run_body(tmp_path: Path, **extra: str) -> tuple[str, list[str]]:
    """Run BODY in a fresh pytest; its output and the non-loopback hosts it tried to reach."""
    log = tmp_path / "network.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MESHGOV_AWS_")}
    env.update({LOG_VARIABLE: str(log), **extra})
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-rs",
            "-p",
            "no:cacheprovider",
            "-p",
            "tests.e2e.loopback_only",
            BODY,
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    hosts = log.read_text().split() if log.exists() else []
    return result.stdout + result.stderr, hosts


def test_the_default_run_is_local_skips_real_aws_with_the_reason_and_reaches_nothing(
    tmp_path: Path,
) -> None:
    # Given no MESHGOV_AWS_PROFILES, When a real_aws body runs
    output, hosts = run_body(tmp_path)
    # Then it passed on the local mesh and its real parameter is skipped, saying why
    assert "1 passed, 1 skipped" in output, output[-3000:]
    assert NOT_SET in output
    # And nothing beyond loopback was looked up or connected to
    assert hosts == []


def test_with_profiles_set_the_real_parameter_goes_to_aws(tmp_path: Path) -> None:
    # Given three profiles with (fake) credentials, named by MESHGOV_AWS_PROFILES
    config = tmp_path / "aws-config"
    config.write_text(
        "".join(
            f"[profile e2e-{role}]\naws_access_key_id = AKIAFAKE{n}\n"
            f"aws_secret_access_key = fake\nregion = eu-west-1\n"
            for n, role in enumerate(("central", "producer", "consumer"))
        )
    )
    output, hosts = run_body(
        tmp_path,
        MESHGOV_AWS_PROFILES="central=e2e-central,producer=e2e-producer,consumer=e2e-consumer",
        AWS_CONFIG_FILE=str(config),
    )
    # Then the local parameter still passes, and the real one tried AWS STS (refused here)
    assert "1 passed, 1 error" in output, output[-3000:]
    assert "sts.eu-west-1.amazonaws.com" in hosts
    assert NOT_SET not in output
