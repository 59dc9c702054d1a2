"""``make bench`` at a tiny scale: same scenarios, same counting, same JSON (well under 30 s)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from bench.__main__ import main
from bench.package import TARGETS as PACKAGE_TARGETS
from bench.query import TARGETS as QUERY_TARGETS
from bench.report import (
    AUDIT_TARGETS,
    CONTRACTS_TARGETS,
    SCALE_TARGETS,
    SHARING_TARGETS,
    TARGETS,
    USAGE_TARGETS,
)
from bench.reviews import TARGETS as REVIEWS_TARGETS

REPO = Path(__file__).resolve().parents[2]
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
SHARING_METRICS = (
    "grant_calls_per_100_tables",
    "grant_calls_per_100_named_tables",
    "request_to_link_calls",
    "request_to_link_calls_10_tables",
    "request_to_link_calls_filtered",
    "bookkeeping_calls",
    "bookkeeping_calls_10_tables",
    "bookkeeping_calls_filtered",
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
    assert {
        "imports",
        "mixed_workload",
        "partitions",
        "noop_sweep",
        "sharing",
        "audit",
        "package",
        "total",
    } <= set(meta["seconds"])

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
    # each timed import ends with the collector settled: every run includes its unsettled time
    imports = scenarios["imports"]
    assert imports["import_vs_floor_unsettled"] > 0
    assert imports["handler_import_ms"] >= imports["handler_unsettled_ms"] > 0
    assert imports["floor_import_ms"] >= imports["floor_unsettled_ms"] > 0
    # the floor holds the Powertools batch utility the handler loads through meshgov.aws.sqs_batch
    assert any(
        "aws_lambda_powertools.utilities.batch" in s
        for s in imports["floor_powertools_through_meshgov"]
    )
    assert set(imports["floor_powertools_through_meshgov"]) <= set(imports["floor_statements"])
    assert "aws_lambda_powertools.utilities.batch" not in imports["meshgov_only_modules"]

    # And a sweep with nothing to do writes nothing
    assert prop["noop_sweep_writes"] == 0
    assert scenarios["noop_sweep"]["second_sweep_report"].get("tables_unchanged") == 12

    # And the sharing figures (issue 4), from the same run
    check_sharing(report)

    # And the audit figures (issue 5)
    check_audit(report)

    # And the figures that grow with the mesh (issue 16)
    check_scale(report)

    # And the hostile input corpus (issue 6), one case per entry point at this scale
    check_hostile(report)

    # And the soak and the fault proof (issue 6), one small run each
    check_soak_and_faults(report)

    # And the Lambda package (issue 12): the built layer and every handler's cold import with it
    check_package(report)

    # And the consumer's query (issue 13): meshgov query against DuckDB alone, same run
    check_query(report)

    # And access reviews (issue 14): the access sweep over live grants, nothing due, then due
    check_reviews(report)

    # And data-access usage (issue 14): 1,000 events, one write per (principal, table, day)
    check_usage(report)

    # And data contracts (issue 15): an unchanged contracted table costs no extra call
    check_contracts(report)


def check_contracts(report: dict[str, Any]) -> None:
    contracts = report["contracts"]
    assert set(contracts["targets"]) == set(CONTRACTS_TARGETS) == set(contracts["pass"])
    assert contracts["meets_targets"] == all(contracts["pass"].values())
    details = contracts["scenarios"]["contracts"]
    unchanged = details["unchanged"]
    # the reconciles were really counted, through the handler, and every contract kept once
    assert unchanged["without_contracts"]["calls"] > 0
    assert details["contract_versions_after"] == details["tables"]
    assert contracts["extra_calls_per_unchanged_table"] == 0
    assert not any("s3:GetObject" in k for k in unchanged["with_contracts"]["by_operation"])


def check_usage(report: dict[str, Any]) -> None:
    usage = report["usage"]
    assert set(usage["targets"]) == set(USAGE_TARGETS) == set(usage["pass"])
    assert usage["meets_targets"] == all(usage["pass"].values())
    details = usage["scenarios"]["usage"]
    assert (details["events"], details["reads_counted"], details["groups"]) == (1000, 1000, 200)
    assert usage["writes_per_1000_events"] == details["groups"]


def check_reviews(report: dict[str, Any]) -> None:
    reviews = report["reviews"]
    assert set(reviews["targets"]) == set(REVIEWS_TARGETS) == set(reviews["pass"])
    assert reviews["meets_targets"] == all(reviews["pass"].values())
    details = reviews["scenarios"]["reviews"]
    nothing, checked = details["nothing_due"], details["checked_for_use"]
    due = details["reviews_due"]
    assert reviews["sweep_calls_per_10000_grants"] == nothing["calls"] > 0
    # nothing due: no write but the sweep's two audit records, no usage read; checked for use:
    # one usage Query per principal
    for case in (nothing, checked):
        writes = [k for k in case["by_operation"] if " write " in k and not k.endswith(" audit")]
        assert writes == [], case["by_operation"]
    usage_reads = "bookkeeping read central dynamodb:Query other"
    assert usage_reads not in nothing["by_operation"]
    assert checked["by_operation"][usage_reads] == details["principals"]
    # reviews due: each asked of the producer and recorded UNDER_REVIEW
    assert due["sweep_result"]["reviews_requested"] == due["due"] == due["under_review_after"]
    assert due["by_operation"]["catalog write central events:PutEvents"] == due["due"]


def check_query(report: dict[str, Any]) -> None:
    query = report["query"]
    assert set(query["targets"]) == set(QUERY_TARGETS) == set(query["pass"])
    assert query["meets_targets"] == all(query["pass"].values())
    details = query["scenarios"]["query"]
    assert query["overhead_vs_duckdb"] > 0 and query["filtered_rows_per_s"] > 0
    assert details["meshgov_query_s"] > 0 and details["duckdb_alone_s"] > 0
    # the filtered query saw German rows only, fewer than the table holds
    assert 0 < details["filtered_rows_visible"] < details["rows"]


def check_audit(report: dict[str, Any]) -> None:
    audit = report["audit"]
    assert isinstance(audit["append_per_s"], int | float) and audit["append_per_s"] > 0
    assert audit["append_chain_intact"] is True
    assert isinstance(audit["verify_records_per_s"], int) and audit["verify_records_per_s"] > 0
    assert set(audit["targets"]) == set(AUDIT_TARGETS) == set(audit["pass"])
    assert audit["meets_targets"] == all(audit["pass"].values())
    assert report["meets_targets"] == (
        audit["meets_targets"]
        and report["sharing"]["meets_targets"]
        and report["propagation"]["meets_targets"]
        and report["proof"]["meets_targets"]
        and report["package"]["meets_targets"]
        and report["query"]["meets_targets"]
        and report["reviews"]["meets_targets"]
        and report["usage"]["meets_targets"]
        and report["scale"]["meets_targets"]
        and report["lineage"]["meets_targets"]
        and report["contracts"]["meets_targets"]
    )
    details = audit["scenarios"]["audit"]
    append, verify = details["append"], details["verify"]
    assert append["writers"] == 8 and append["records_stored"] == append["appends"] > 0
    assert not append["failures"]
    assert verify["ok"] is True and verify["records"] == audit["verify_records"] > 0


def check_scale(report: dict[str, Any]) -> None:
    scale = report["scale"]
    assert set(scale["targets"]) == set(SCALE_TARGETS) == set(scale["pass"])
    assert scale["meets_targets"] == all(scale["pass"].values())
    grown = scale["scenarios"]["scale"]
    fanned, whole = grown["fan_out"], grown["single_invocation"]
    # smoke: 2 producers x 40 tables, each producer one work item (40 < SweepPageTables)
    assert (fanned["producers"], fanned["tables"], whole["tables"]) == (2, 80, 80)
    assert scale["sweep_invocations_10k_tables"] == 1 + 2
    assert scale["sweep_invocations_10k_tables_single"] == 1
    assert 0 < scale["max_calls_per_invocation"] <= scale["calls_of_the_single_invocation"]
    assert scale["onboard_calls"] > 0 and scale["sweep_wall_s_10k_tables"] > 0
    assert fanned["heaviest_invocation"].startswith("CatalogSweepWorkerFunction@")


def check_package(report: dict[str, Any]) -> None:
    package = report["package"]
    assert set(package["targets"]) == set(PACKAGE_TARGETS) == set(package["pass"])
    assert package["meets_targets"] == all(package["pass"].values())
    built = package["scenarios"]["package"]
    # the layer was built and zipped: it holds meshgov, and it is under Lambda's quotas
    assert 0 < package["layer_zip_mb"] < built["layer_unzipped_mb"] < built["quotas_mib"]["zipped"]
    assert built["layers_unzipped_mb"] < built["quotas_mib"]["unzipped"]
    assert built["layer_files"] > 10 and len(built["layer_zip_sha256"]) == 64
    assert built["powertools_release"] == "3.37.0"
    # every handler of template.yaml imported with only the layers and the runtime's SDK
    by_handler = built["cold_import_ms_by_handler"]
    handlers = {path.name for path in (REPO / "functions").iterdir() if (path / "app.py").exists()}
    assert len(by_handler) == len(handlers) and all(ms > 0 for ms in by_handler.values())
    assert package["cold_import_ms"] == max(by_handler.values())
    assert all(len(runs) == built["runs"] for runs in built["runs_ms"].values())


def _sum(by_account: dict[str, dict[str, int]]) -> int:
    return sum(n for ops in by_account.values() for n in ops.values())


def check_sharing(report: dict[str, Any]) -> None:
    share = report["sharing"]

    # The sharing figures, targets and verdicts are there
    for name in SHARING_METRICS:
        assert isinstance(share[name], int), name
    assert set(share["targets"]) == set(SHARING_TARGETS) == set(share["pass"])
    assert share["meets_targets"] == all(share["pass"].values())
    assert share["meets_targets"] is not None
    assert any("28" in note and "118" in note for note in share["notes"])

    # And the flow really happened, in every account: request, approval, grants, link, ACTIVE
    details = share["scenarios"]["sharing"]
    one, ten = details["one_table"], details["ten_tables"]
    filtered = details["one_table_filtered"]
    for flow in (one, ten, filtered):
        assert flow["final_state"] == "ACTIVE"
        assert 8 <= flow["request_to_link_calls"] <= 30
        assert flow["request_to_link_calls"] == _sum(flow["calls_by_account"])
        assert flow["bookkeeping_calls"] == _sum(flow["bookkeeping_by_account"]) > 0
        assert flow["central_batch_grant_calls"] >= 1 and flow["consumer_batch_grant_calls"] >= 1
        accounts = flow["calls_by_account"]
        consumer = next(a for a in accounts if a.startswith("consumer "))
        producer = next(a for a in accounts if a.startswith("producer "))
        central = next(a for a in accounts if a.startswith("central "))
        assert accounts[consumer]["events:PutEvents (Access Requested)"] == 1
        assert accounts[producer]["events:PutEvents (Access Decided)"] == 1
        assert accounts[consumer]["glue:CreateDatabase"] == 1  # the resource link
        assert accounts[central]["events:PutEvents (Access Granted)"] == 1
        assert "dynamodb" not in json.dumps(accounts)
        assert "Member Actions Recorded" not in json.dumps(accounts)
    assert share["request_to_link_calls"] == one["request_to_link_calls"]
    assert share["request_to_link_calls_10_tables"] == ten["request_to_link_calls"]
    assert ten["tables"] == 10 and one["tables"] == 1

    # And the filtered flow (issue 13) is the one-table flow plus its data cells filter, made in
    # central and granted instead of the table, from a consumer account of its own
    assert share["request_to_link_calls_filtered"] == filtered["request_to_link_calls"]
    assert filtered["tables"] == 1 and len(filtered["data_cells_filters"]) == 1
    assert filtered["consumer_account"] not in (one["consumer_account"], ten["consumer_account"])
    central_calls = next(
        v for k, v in filtered["calls_by_account"].items() if k.startswith("central")
    )
    assert central_calls["lakeformation:CreateDataCellsFilter"] == 1
    assert filtered["central_grant_entries"] == one["central_grant_entries"] == 2
    assert one["data_cells_filters"] == ten["data_cells_filters"] == []

    # And the grant shapes: one call for a tag expression or a whole database, ceil(n+1 / 20)
    # for n named tables
    shapes = details["grant_shapes"]
    tables = details["grant_shape_tables"]
    assert tables > 20
    assert shapes["lf_tag_expression"]["central_batch_grant_calls"] == 1
    assert shapes["whole_database"]["central_batch_grant_calls"] == 1
    assert share["grant_calls_per_100_tables"] == 1
    assert shapes["named_tables"]["central_grant_entries"] == tables + 1
    assert share["grant_calls_per_100_named_tables"] == math.ceil((tables + 1) / 20)


def check_hostile(report: dict[str, Any]) -> None:
    proof = report["proof"]
    assert proof["hostile_failures"] == 0, proof["scenarios"]["hostile"]["failures"]
    assert (
        proof["hostile_cases"]
        == sum(proof["scenarios"]["hostile"]["cases_by_entry_point"].values())
        > 0
    )
    assert proof["pass"]["hostile_failures"] is True


def check_soak_and_faults(report: dict[str, Any]) -> None:
    proof = report["proof"]
    assert proof["soak_diffs"] == 0, proof["scenarios"]["soak"]["runs"]
    assert proof["soak_operations"] == sum(
        run["operations"] for run in proof["scenarios"]["soak"]["runs"]
    )
    faults = proof["scenarios"]["faults"]
    run = faults["runs"][0]
    # faults were really injected into the functions' requests, and the run was accounted for
    assert proof["faults_injected"] == run["faults"]["faults"] > 0
    assert run["faults"]["requests"] > run["faults"]["faults"]
    assert run["deliveries"] > 0
    for figure in ("faults_lost", "faults_unrecovered", "faults_diffs", "faults_partial_state"):
        assert proof[figure] == 0, run
        assert proof["pass"][figure] is True
    assert proof["meets_targets"] == all(proof["pass"].values())
