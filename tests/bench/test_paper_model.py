"""The paper model's arithmetic (bench/paper_model.py): given a small synthetic bench report and
template, each derived figure is what its formula says, worked out by hand here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench import paper_model as pm

MESH = pm.Mesh(
    producers=2,
    tables_per_producer=200,
    tables_per_database=100,
    changes_per_minute=60,
    consumers=1,
    live_grants=10_000,
)
FACTS = pm.TemplateFacts(
    memory_mb={
        name: 1024
        for name in (
            "CatalogSyncFunction",
            "CatalogSweepFunction",
            "CatalogSweepWorkerFunction",
            "AccessRequestsFunction",
            "AccessSweepFunction",
            "UsageFunction",
            "AuditDigestFunction",
        )
    },
    sqs={
        "CatalogSyncFunction": pm.SqsSource(batch_size=10, window_s=5, max_concurrency=5),
        "CatalogSweepWorkerFunction": pm.SqsSource(batch_size=1, window_s=0, max_concurrency=4),
        "UsageFunction": pm.SqsSource(batch_size=1000, window_s=30, max_concurrency=4),
    },
    schedule_minutes={
        "CatalogSweepFunction": 15,
        "AccessSweepFunction": 60,
        "AuditDigestFunction": 60,
    },
    parameters={"SweepPageTables": 50},
)


def synthetic_report() -> dict[str, Any]:
    """Per change: 1 central Glue write, 1 source Glue read, 1 audit append (GetItem +
    TransactWriteItems), 2 SQS messages. No-op sweep: 2 databases of 100 tables = 2 read pages,
    per page 2 source GetTables + 1 central SearchTables. Initial sync: 2 calls a table."""
    return {
        "meta": {"scale": "synthetic"},
        "propagation": {
            "scenarios": {
                "mixed_workload": {
                    "changed_tables": 10,
                    "phase_a": {
                        "delivery": {"messages": 20, "invocations": 2},
                        "calls": {
                            "by_operation": {
                                "catalog write central glue:UpdateTable": 10,
                                "catalog read source glue:GetTable": 10,
                                "bookkeeping write central dynamodb:TransactWriteItems audit": 10,
                                "bookkeeping read central dynamodb:GetItem audit": 10,
                            }
                        },
                    },
                },
                "noop_sweep": {
                    "tables": 200,
                    "databases": 2,
                    "calls": {
                        "by_operation": {
                            "catalog read source glue:GetTables": 4,
                            "catalog read central glue:SearchTables": 2,
                        }
                    },
                    "initial_sync": {"catalog_writes": 200, "catalog_reads": 200},
                },
            }
        },
        "sharing": {
            "request_to_link_calls": 10,
            "bookkeeping_calls": 10,
            "scenarios": {
                "sharing": {
                    "one_table": {
                        "by_phase": {
                            "request": {"invocations": {"central": 1}},
                            "decision": {"invocations": {"central": 1, "consumer": 1}},
                        },
                        "bookkeeping_by_account": {"central": {"dynamodb:PutItem (requests)": 2}},
                        "calls_by_account": {"central": {"events:PutEvents (Access Granted)": 2}},
                    }
                }
            },
        },
        "reviews": {
            "sweep_calls_per_10000_grants": 20,
            "scenarios": {
                "reviews": {
                    "grants": 10_000,
                    "nothing_due": {
                        "by_operation": {"bookkeeping read central dynamodb:Query requests": 2}
                    },
                }
            },
        },
        "usage": {"writes_per_1000_events": 200},
        "scale": {"audit_attempts_per_append_32_writers": 1.5},
    }


def derived() -> dict[str, Any]:
    result = pm.model(pm.measured(synthetic_report()), FACTS, MESH, pm.Assumptions())
    return {name: fig["value"] for name, fig in result["figures"].items()}


def test_the_event_path_follows_its_formulas() -> None:
    v = derived()
    # 60 changes/min x 2 messages
    assert v["catalog_event_messages_per_min"] == 120
    # 120 messages/min fill a 5 s window with 10 = BatchSize: 12 batches a minute
    assert v["catalog_sync_invocations_per_min"] == 12
    # 10 messages x (4 calls per change / 2 messages per change) x 0.1 s + 0.05 s
    assert v["catalog_sync_duration_s"] == pytest.approx(2.05)
    assert v["catalog_sync_concurrency"] == pytest.approx(12 / 60 * 2.05, abs=1e-4)
    # MaximumConcurrency 5 x 10 messages x 60 / 2.05 s < budget 70/s x 60 / 1 call x 2 messages
    assert v["catalog_events_drain_capacity_per_min"] == pytest.approx(5 * 10 * 60 / 2.05, 1e-4)
    assert v["catalog_events_backlog_growth_per_min"] == 0
    assert v["catalog_events_backlog_messages"] == pytest.approx(120 / 60 * (5 + 2.05))


def test_a_queue_that_cannot_drain_grows_without_bound() -> None:
    busy = pm.Mesh(**{**MESH.__dict__, "changes_per_minute": 6_000})
    result = pm.model(pm.measured(synthetic_report()), FACTS, busy, pm.Assumptions())
    v = {name: fig["value"] for name, fig in result["figures"].items()}
    assert v["catalog_events_backlog_messages"] is None  # unbounded, and JSON-safe
    assert v["catalog_events_backlog_growth_per_min"] == pytest.approx(
        12_000 - 5 * 10 * 60 / 2.05, 1e-4
    )


def test_sweep_onboarding_and_quotas_follow_their_formulas() -> None:
    v = derived()
    # One item per producer (a no-op sweep writes nothing); 4 read pages x 3 calls over 2 items
    assert v["sweep_work_items"] == 2
    assert v["sweep_calls_per_item"] == pytest.approx(6)
    assert v["sweep_wall_s"] == pytest.approx(1 * (6 * 0.1 + 0.05))  # ceil(2 / 4 workers) = 1
    assert v["sweep_invocations_per_min"] == pytest.approx(3 / 15, abs=1e-4)
    # Central Glue: 60 changes x 1 + 4 pages / 15 min x 1; a producer: 30 x 1 + 2 / 15 x 2
    assert v["glue_calls_per_min_central"] == pytest.approx(60 + 4 / 15, abs=1e-4)
    assert v["glue_calls_per_min_per_producer"] == pytest.approx(30 + 4 / 15, abs=1e-4)
    # Onboarding: 1 + 2 databases x ceil(100 / SweepPageTables 50) items of 50 x 2 + 6 calls
    assert v["onboard_calls"] == 5 * 106
    assert v["onboard_wall_s"] == pytest.approx(2 * (106 * 0.1 + 0.05))
    assert v["central_tables_vs_quota"] == pytest.approx(400 / 1_000_000)


def test_dynamodb_units_and_cost_follow_their_formulas() -> None:
    v = derived()
    # An audit append is a strongly consistent GetItem (1 RRU) and a 2-item transaction
    # (2 x 2 WRU), each x 1.5 attempts, 60 a minute
    assert v["dynamodb_audit_rru_per_min"] == pytest.approx(60 * 1.5)
    assert v["dynamodb_audit_wru_per_min"] == pytest.approx(60 * 1.5 * 4)
    # A request's 2 PutItems, 10,000 / (90 x 1440) requests a minute
    assert v["dynamodb_requests_wru_per_min"] == pytest.approx(2 * 10_000 / (90 * 1440), 1e-3)
    # Lambda requests: every function's invocations a minute, x 43,200 x $0.20 per million
    assert v["cost_lambda_requests_usd_month"] == pytest.approx(
        v["lambda_invocations_per_min"] * 43_200 * 0.20 / 1e6, 1e-3
    )
    assert v["cost_total_usd_month"] == pytest.approx(
        sum(value for name, value in v.items() if name.startswith("cost_") and "total" not in name),
        abs=1e-3,
    )


def test_the_command_prints_the_markdown_tables(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "bench.json"
    report.write_text(json.dumps(synthetic_report()))
    assert pm.main([str(report)]) == 0
    printed = capsys.readouterr().out
    assert "Measured at **synthetic scale**" in printed
    # the paper's mesh (1,000 changes a minute) at 2 messages a change, the template's settings
    assert "| `catalog_event_messages_per_min` | 2,000 | messages/min |" in printed


def test_template_facts_read_the_template() -> None:
    facts = pm.template_facts()
    assert facts.sqs["CatalogSyncFunction"].batch_size >= 1
    assert facts.schedule_minutes["CatalogSweepFunction"] > 0
    assert facts.memory_mb["CatalogSyncFunction"] >= 128
