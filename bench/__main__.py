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

from bench import audit, imports, paper_model, scenarios, sharing
from bench import contracts as contracts_bench
from bench import faults as faults_bench
from bench import hostile as hostile_bench
from bench import lineage as lineage_bench
from bench import package as package_bench
from bench import privilege as privilege_bench
from bench import query as query_bench
from bench import reviews as reviews_bench
from bench import scale as scale_bench
from bench import soak as soak_bench
from bench import usage as usage_bench
from bench.report import (
    AUDIT_NOTES,
    AUDIT_TARGETS,
    CONTRACTS_NOTES,
    CONTRACTS_TARGETS,
    HOSTILE_NOTES,
    HOSTILE_TARGETS,
    NOTES,
    SCALE_NOTES,
    SCALE_TARGETS,
    SHARING_NOTES,
    SHARING_TARGETS,
    USAGE_NOTES,
    USAGE_TARGETS,
    evaluate,
)

Bounds = dict[str, tuple[str, float]]
# Scenarios reported in a section of their own, not under propagation.
SECTIONS_APART = (
    "sharing",
    "audit",
    "query",
    "usage",
    "reviews",
    "lineage",
    "contracts",
    "package",
)


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
    share = timed("sharing", lambda: sharing.sharing(scale.name, progress))
    trail = timed("audit", lambda: audit.audit(scale.name, progress))
    # --- the consumer's query (issue 13): meshgov query against DuckDB alone ---
    consumer_query = timed("query", lambda: query_bench.measure(scale.name, progress))
    # --- data-access usage (issue 14): DynamoDB writes per 1,000 GetDataAccess events ---
    counted_usage = timed("usage", lambda: usage_bench.measure(progress))
    # --- access reviews (issue 14): the access sweep's calls over 10,000 live grants ---
    access_reviews = timed("reviews", lambda: reviews_bench.measure(scale.name, progress))
    # --- lineage (issue 15): a lineage query over a 10,000-node graph ---
    lineage_graph = timed("lineage", lambda: lineage_bench.measure(scale.name, progress))
    # --- data contracts (issue 15): extra calls of reconciling unchanged contracted tables ---
    contract_calls = timed("contracts", lambda: contracts_bench.measure(scale.name, progress))
    # --- scale (issue 16): onboarding through the registry, the fan-out sweep ---
    grown = timed("scale", lambda: scale_bench.measure(scale.name, progress))
    # --- the Lambda package (issue 12): the built layer's size, each handler's cold import ---
    built = timed("package", lambda: package_bench.measure(scale.package_import_runs, progress))
    # --- proof (issue 6): least privilege, hostile input, convergence soak, faults ---
    smoke = scale.name == "smoke"
    proofs: list[tuple[str, Callable[[], dict[str, Any]], tuple[str, ...], Bounds]] = [
        (
            "privilege",
            lambda: privilege_bench.measure(progress),
            ("policy_mismatches",),
            privilege_bench.TARGETS,
        ),
        (
            "hostile",
            lambda: hostile_bench.measure(progress, smoke=smoke),
            ("hostile_cases", "hostile_failures"),
            # the corpus floor holds at full scale only (smoke runs one case an entry point)
            {k: v for k, v in HOSTILE_TARGETS.items() if not (smoke and k == "hostile_cases")},
        ),
        (
            "soak",
            lambda: soak_bench.measure(scale.name, progress),
            ("soak_diffs", "soak_operations"),
            soak_bench.TARGETS,
        ),
        (
            "faults",
            lambda: faults_bench.measure(scale.name, progress),
            (
                "faults_lost",
                "faults_unrecovered",
                "faults_diffs",
                "faults_partial_state",
                "faults_injected",
                "faults_operations",
            ),
            faults_bench.TARGETS,
        ),
    ]
    proof_values: dict[str, Any] = {}
    proof_bounds: Bounds = {}
    for name, measure, figures, bounds in proofs:
        result = timed(name, measure)
        proof_values.update({figure: result[figure] for figure in figures})
        proof_bounds.update(bounds)

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
    sharing_values: dict[str, Any] = {
        "grant_calls_per_100_tables": share["grant_calls_per_100_tables"],
        "grant_calls_per_100_named_tables": share["grant_calls_per_100_named_tables"],
        "request_to_link_calls": share["request_to_link_calls"],
        "request_to_link_calls_10_tables": share["request_to_link_calls_10_tables"],
        "request_to_link_calls_filtered": share["request_to_link_calls_filtered"],
        "bookkeeping_calls": share["bookkeeping_calls"],
        "bookkeeping_calls_10_tables": share["bookkeeping_calls_10_tables"],
        "bookkeeping_calls_filtered": share["bookkeeping_calls_filtered"],
    }
    audit_values: dict[str, Any] = {
        "append_per_s": trail["append"]["append_per_s"],
        "append_chain_intact": trail["append"]["chain_intact"],
        "verify_records_per_s": trail["verify"]["verify_records_per_s"],
        "verify_records": trail["verify"]["records"],
    }
    # Issue 16, "from one producer to two hundred": figures that scale with the mesh.
    scale_values: dict[str, Any] = {
        "audit_attempts_per_append_32_writers": trail["append_many"]["attempts_per_append"],
        "audit_32_writers_intact": trail["append_many"]["chain_intact"],
        "max_calls_per_invocation": grown["fan_out"]["max_calls_per_invocation"],
        "sweep_invocations_10k_tables": grown["fan_out"]["sweep_invocations"],
        "sweep_wall_s_10k_tables": grown["fan_out"]["sweep_wall_s"],
        "sweep_invocations_10k_tables_single": grown["single_invocation"]["sweep_invocations"],
        "sweep_wall_s_10k_tables_single": grown["single_invocation"]["sweep_wall_s"],
        "calls_of_the_single_invocation": grown["single_invocation"]["calls"],
        "onboard_calls": grown["fan_out"]["onboard_calls"],
    }
    scale_targets, scale_passed, scale_meets = evaluate(scale_values, SCALE_TARGETS)
    query_values: dict[str, Any] = {
        "overhead_vs_duckdb": consumer_query["overhead_vs_duckdb"],
        "filtered_rows_per_s": consumer_query["filtered_rows_per_s"],
    }
    query_targets, query_passed, query_meets = evaluate(query_values, query_bench.TARGETS)
    usage_values: dict[str, Any] = {
        "writes_per_1000_events": counted_usage["writes_per_1000_events"],
    }
    usage_targets, usage_passed, usage_meets = evaluate(usage_values, USAGE_TARGETS)
    reviews_values: dict[str, Any] = {
        "sweep_calls_per_10000_grants": access_reviews["sweep_calls_per_10000_grants"],
    }
    reviews_targets, reviews_passed, reviews_meets = evaluate(reviews_values, reviews_bench.TARGETS)
    lineage_values: dict[str, Any] = {
        "query_ms_10000_nodes": lineage_graph["query_ms_10000_nodes"],
        "queries_per_node_visited": lineage_graph["queries_per_node_visited"],
    }
    lineage_targets, lineage_passed, lineage_meets = evaluate(lineage_values, lineage_bench.TARGETS)
    contracts_values: dict[str, Any] = {
        "extra_calls_per_unchanged_table": contract_calls["extra_calls_per_unchanged_table"],
    }
    contracts_targets, contracts_passed, contracts_meets = evaluate(
        contracts_values, CONTRACTS_TARGETS
    )
    targets, passed, meets = evaluate(values)
    sharing_targets, sharing_passed, sharing_meets = evaluate(sharing_values, SHARING_TARGETS)
    audit_targets, audit_passed, audit_meets = evaluate(audit_values, AUDIT_TARGETS)
    proof_targets, proof_passed, proof_meets = evaluate(proof_values, proof_bounds)
    package_values: dict[str, Any] = {
        "layer_zip_mb": built["layer_zip_mb"],
        "cold_import_ms": built["cold_import_ms"],
    }
    package_targets, package_passed, package_meets = evaluate(package_values, package_bench.TARGETS)
    propagation_details = {
        k: v
        for k, v in details.items()
        if k not in (*SECTIONS_APART, *(name for name, *_ in proofs))
    }
    total = round(time.perf_counter() - started, 2)
    report: dict[str, Any] = {
        "propagation": {
            **values,
            "targets": targets,
            "pass": passed,
            "meets_targets": meets,
            "notes": NOTES,
            "scenarios": propagation_details,
        },
        "sharing": {
            **sharing_values,
            "targets": sharing_targets,
            "pass": sharing_passed,
            "meets_targets": sharing_meets,
            "notes": SHARING_NOTES,
            "scenarios": {"sharing": details["sharing"]},
        },
        "audit": {
            **audit_values,
            "targets": audit_targets,
            "pass": audit_passed,
            "meets_targets": audit_meets,
            "notes": AUDIT_NOTES,
            "scenarios": {"audit": details["audit"]},
        },
        "scale": {
            **scale_values,
            "targets": scale_targets,
            "pass": scale_passed,
            "meets_targets": scale_meets,
            "notes": SCALE_NOTES,
            "scenarios": {"scale": grown},
        },
        "query": {
            **query_values,
            "targets": query_targets,
            "pass": query_passed,
            "meets_targets": query_meets,
            "notes": query_bench.NOTES,
            "scenarios": {"query": consumer_query},
        },
        "usage": {
            **usage_values,
            "targets": usage_targets,
            "pass": usage_passed,
            "meets_targets": usage_meets,
            "notes": USAGE_NOTES,
            "scenarios": {"usage": counted_usage},
        },
        "reviews": {
            **reviews_values,
            "targets": reviews_targets,
            "pass": reviews_passed,
            "meets_targets": reviews_meets,
            "notes": reviews_bench.NOTES,
            "scenarios": {"reviews": access_reviews},
        },
        "lineage": {
            **lineage_values,
            "targets": lineage_targets,
            "pass": lineage_passed,
            "meets_targets": lineage_meets,
            "notes": lineage_bench.NOTES,
            "scenarios": {"lineage": lineage_graph},
        },
        "contracts": {
            **contracts_values,
            "targets": contracts_targets,
            "pass": contracts_passed,
            "meets_targets": contracts_meets,
            "notes": CONTRACTS_NOTES,
            "scenarios": {"contracts": contract_calls},
        },
        "proof": {
            **proof_values,
            "targets": proof_targets,
            "pass": proof_passed,
            "meets_targets": proof_meets,
            "notes": [
                *privilege_bench.NOTES,
                *HOSTILE_NOTES,
                *soak_bench.NOTES,
                *faults_bench.NOTES,
            ],
            "scenarios": {name: details[name] for name, *_ in proofs},
        },
        "package": {
            **package_values,
            "targets": package_targets,
            "pass": package_passed,
            "meets_targets": package_meets,
            "notes": package_bench.NOTES,
            "scenarios": {"package": built},
        },
        "meets_targets": meets
        and sharing_meets
        and audit_meets
        and scale_meets
        and query_meets
        and usage_meets
        and reviews_meets
        and lineage_meets
        and contracts_meets
        and proof_meets
        and package_meets,
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
    # Issue 16, item 5: the 200-producer mesh derived from this run's per-operation counts.
    report["scale"]["paper_model"] = paper_model.from_report(report)
    return report


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
    _print_section(
        "propagation",
        prop,
        (
            "bookkeeping_calls_per_changed_table",
            "noop_sweep_bookkeeping_reads",
            "partition_read_calls_per_10k",
            "partition_total_calls_per_10k",
            "handler_import_ms",
            "floor_import_ms",
        ),
    )
    _print_section(
        "sharing",
        result["sharing"],
        (
            "grant_calls_per_100_named_tables",
            "bookkeeping_calls",
            "bookkeeping_calls_10_tables",
            "bookkeeping_calls_filtered",
        ),
    )
    _print_section(
        "audit", result["audit"], ("append_per_s", "append_chain_intact", "verify_records")
    )
    _print_section("scale", result["scale"], ("audit_32_writers_intact",))
    _print_section("query", result["query"], ("filtered_rows_per_s",))
    _print_section("usage", result["usage"], ())
    _print_section("lineage", result["lineage"], ())
    _print_section("contracts", result["contracts"], ())
    _print_section("reviews", result["reviews"], ())
    _print_section(
        "proof", result["proof"], ("soak_operations", "faults_injected", "faults_operations")
    )
    _print_section("package", result["package"], ())
    print(f"meets_targets: {result['meets_targets']}")
    return 0


def _print_section(title: str, section: dict[str, Any], others: tuple[str, ...]) -> None:
    print(f"{title}:")
    for name, target in section["targets"].items():
        mark = "PASS" if section["pass"][name] else "FAIL"
        print(f"  {mark}  {name:36} {section[name]!s:>10}   target {target}")
    for name in others:
        print(f"        {name:36} {section[name]!s:>10}")


if __name__ == "__main__":
    sys.exit(main())
