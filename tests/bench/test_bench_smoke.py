"""``make bench`` at a tiny scale: same scenarios, same counting, same JSON (well under 30 s)."""

from __future__ import annotations

import json
from pathlib import Path

from bench.__main__ import main
from bench.report import TARGETS

METRICS = (
    "writes_per_changed_table",
    "bookkeeping_calls_per_changed_table",
    "noop_sweep_writes",
    "noop_sweep_reads",
    "noop_sweep_bookkeeping_reads",
    "partition_calls_per_10k",
    "partition_read_calls_per_10k",
    "partition_total_calls_per_10k",
    "calls_vs_naive",
    "handler_import_ms",
    "import_vs_floor",
)


def test_bench_smoke_writes_the_report(tmp_path: Path) -> None:
    # Given the smoke scale, when the bench runs through its command line
    output = tmp_path / "bench.json"
    assert main(["--scale", "smoke", "--output", str(output)]) == 0
    report = json.loads(output.read_text())
    prop = report["propagation"]

    # Then every figure, target and verdict is there
    for name in METRICS:
        assert isinstance(prop[name], int | float), name
    assert set(prop["targets"]) == set(TARGETS) == set(prop["pass"])
    assert isinstance(prop["meets_targets"], bool)
    assert prop["meets_targets"] == all(prop["pass"].values())
    assert prop["notes"]
    meta = report["meta"]
    assert meta["scale"] == "smoke"
    assert {"python", "moto", "boto3", "seconds"} <= set(meta)
    assert {"imports", "mixed_workload", "partitions", "noop_sweep", "total"} <= set(
        meta["seconds"]
    )

    # And the calls were really counted, through the handlers
    scenarios = prop["scenarios"]
    mixed = scenarios["mixed_workload"]
    assert mixed["converged"] is True
    assert mixed["phase_a"]["calls"]["catalog_writes_central"] > 0
    assert mixed["phase_a"]["calls"]["bookkeeping_writes"] > 0
    assert mixed["meshgov_catalog_calls"] > 0 and mixed["naive_catalog_calls"] > 0
    assert prop["writes_per_changed_table"] > 0
    assert scenarios["partitions"]["central_partition_writes"] > 0
    assert scenarios["partitions"]["converged"] is True
    assert prop["noop_sweep_reads"] > 0
    assert prop["handler_import_ms"] > 0 and prop["import_vs_floor"] > 0

    # And a sweep with nothing to do writes nothing
    assert prop["noop_sweep_writes"] == 0
    assert scenarios["noop_sweep"]["second_sweep_report"].get("tables_unchanged") == 12
