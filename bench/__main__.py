"""``python -m bench --output build/bench.json``: run every scenario, write the figures."""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import imports, scenarios
from bench.report import NOTES, evaluate


def _progress(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def run(scale: scenarios.Scale, progress: Callable[[str], None] = _progress) -> dict[str, Any]:
    started = time.perf_counter()
    seconds: dict[str, float] = {}
    details: dict[str, Any] = {}

    def timed(name: str, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        progress(f"{name}: starting ({scale.name} scale)")
        t0 = time.perf_counter()
        result = fn()
        seconds[name] = round(time.perf_counter() - t0, 2)
        progress(f"{name}: done in {seconds[name]:.1f} s")
        details[name] = result
        return result

    binding = scenarios.function_environment()
    imp = timed("imports", lambda: imports.measure(binding, scale.import_runs))
    mixed = timed("mixed_workload", lambda: scenarios.mixed(scale, progress))
    parts = timed("partitions", lambda: scenarios.partitions(scale, progress))
    noop = timed("noop_sweep", lambda: scenarios.noop_sweep(scale, progress))

    values: dict[str, Any] = {
        "writes_per_changed_table": mixed["writes_per_changed_table"],
        "bookkeeping_calls_per_changed_table": mixed["bookkeeping_calls_per_changed_table"],
        "noop_sweep_writes": noop["noop_sweep_writes"],
        "noop_sweep_reads": noop["noop_sweep_reads"],
        "noop_sweep_bookkeeping_reads": noop["noop_sweep_bookkeeping_reads"],
        "partition_calls_per_10k": parts["partition_calls_per_10k"],
        "partition_read_calls_per_10k": parts["partition_read_calls_per_10k"],
        "partition_total_calls_per_10k": parts["partition_total_calls_per_10k"],
        "calls_vs_naive": mixed["calls_vs_naive"],
        "handler_import_ms": imp["handler_import_ms"],
        "floor_import_ms": imp["floor_import_ms"],
        "import_vs_floor": imp["import_vs_floor"],
    }
    targets, passed, meets = evaluate(values)
    total = round(time.perf_counter() - started, 2)
    return {
        "propagation": {
            **values,
            "targets": targets,
            "pass": passed,
            "meets_targets": meets,
            "notes": NOTES,
            "scenarios": details,
        },
        "meets_targets": meets,
        "meta": {
            "scale": scale.name,
            "python": platform.python_version(),
            "implementation": platform.python_implementation(),
            "platform": platform.platform(),
            "moto": _version("moto"),
            "boto3": _version("boto3"),
            "botocore": _version("botocore"),
            "aws_lambda_powertools": _version("aws-lambda-powertools"),
            "seconds": {**seconds, "total": total},
            "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--output", type=Path, default=Path("build/bench.json"))
    parser.add_argument(
        "--scale",
        choices=["full", "smoke"],
        default="full",
        help="full: the sizes the targets are stated for; smoke: a quick check",
    )
    args = parser.parse_args(argv)
    scale = scenarios.FULL if args.scale == "full" else scenarios.SMOKE
    result = run(scale)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, sort_keys=False) + "\n")
    prop = result["propagation"]
    print(f"\nwrote {args.output} in {result['meta']['seconds']['total']:.0f} s")
    for name, target in prop["targets"].items():
        mark = "PASS" if prop["pass"][name] else "FAIL"
        print(f"  {mark}  {name:28} {prop[name]!s:>10}   target {target}")
    for name in (
        "bookkeeping_calls_per_changed_table",
        "noop_sweep_bookkeeping_reads",
        "partition_read_calls_per_10k",
        "partition_total_calls_per_10k",
        "handler_import_ms",
        "floor_import_ms",
    ):
        print(f"        {name:28} {prop[name]!s:>10}")
    print(f"meets_targets: {prop['meets_targets']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
