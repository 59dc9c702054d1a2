"""Handlers run in-process keep no metrics between invocations (meshgov_local.invoke)."""

from __future__ import annotations

import pytest

from meshgov_local.invoke import loaded_module
from meshgov_local.mesh import LocalMesh


def test_metrics_of_an_invocation_are_dropped_and_never_printed(
    local_mesh: LocalMesh, capsys: pytest.CaptureFixture[str]
) -> None:
    # When the access sweep runs often enough for Powertools to publish a full metric set
    # (a metric holding 100 values), with metrics disabled as in the local mesh
    for _ in range(101):
        local_mesh.access_sweep()
    # Then each invocation's metrics were dropped: nothing accumulated, nothing printed (the
    # EMF lines would land in the output of a CLI command run in the same process)
    module = loaded_module("AccessSweepFunction")
    assert module is not None
    assert dict(module.metrics.metric_set) == {}
    assert '"_aws"' not in capsys.readouterr().out
