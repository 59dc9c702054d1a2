"""The sample events in events/: they parse, their schemas are current, and handlers act on them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from meshgov.catalog.messages import parse_event
from meshgov.catalog.naming import Producer
from meshgov_local.invoke import invoke
from meshgov_local.mesh import LocalMesh
from meshgov_local.schemas import SCHEMA_DIR, render
from tests.integration.helpers import columns, create_published_database, table_input

EVENTS = Path(__file__).resolve().parents[2] / "events"
PRODUCERS = {"222222222222": Producer("222222222222", "sales")}


@pytest.mark.parametrize(
    "path",
    sorted([*EVENTS.glob("glue/*.json"), *EVENTS.glob("meshgov/*.json")]),
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_every_sample_event_is_accepted(path: Path) -> None:
    event = parse_event(path.read_text(), PRODUCERS)
    assert event.database == "sales" and event.producer.domain == "sales"


def test_json_schemas_are_up_to_date() -> None:
    rendered = render()
    on_disk = {p.name: p.read_text() for p in SCHEMA_DIR.glob("*.schema.json")}
    assert on_disk == rendered, "run: python -m meshgov_local.schemas"


def test_the_sync_handler_acts_on_the_sample_sqs_batch(local_mesh: LocalMesh) -> None:
    # Given the producer state the samples talk about
    glue = local_mesh.client(local_mesh.producer, "glue")
    create_published_database(glue, "sales")
    glue.create_table(DatabaseName="sales", TableInput=table_input("orders", columns("id:int")))
    # (the real events are purged unseen: the sample stands in for them)
    queue_url = local_mesh.deployment.functions["CatalogSyncFunction"].source_queue_url
    local_mesh.client(local_mesh.central, "sqs").purge_queue(QueueUrl=queue_url)
    # When the sync function is invoked with events/lambda/catalog-sync-sqs.json
    sample = json.loads((EVENTS / "lambda" / "catalog-sync-sqs.json").read_text())
    binding = local_mesh.deployment.functions["CatalogSyncFunction"]
    result = invoke(binding, sample, local_mesh.sessions, local_mesh.central, None)
    # Then no record failed and the table is in the central catalog
    assert result == {"batchItemFailures": []}
    central = local_mesh.client(local_mesh.central, "glue")
    assert central.get_table(DatabaseName="sales_sales", Name="orders")["Table"]["Name"] == "orders"


def test_the_sweep_handler_runs_on_the_sample_schedule(local_mesh: LocalMesh) -> None:
    sample = json.loads((EVENTS / "lambda" / "catalog-sweep-schedule.json").read_text())
    binding = local_mesh.deployment.functions["CatalogSweepFunction"]
    result = invoke(binding, sample, local_mesh.sessions, local_mesh.central, None)
    # the planner queued one work item per registered producer; its workers close the sweep
    assert (result["failed"], result["producers"]) == ([], 1)
    local_mesh.settle()
    assert any(r.entry.action == "sweep:completed" for r in local_mesh.audit_records())


def test_handlers_are_loaded_in_their_function_environment(local_mesh: LocalMesh) -> None:
    # Lambda runs a module's top level (its init phase) with the function's environment: the
    # Powertools objects built there (Metrics' namespace, Logger's service) read it then.
    import meshgov_local.invoke as invoke_module

    binding = local_mesh.deployment.functions["CatalogSweepFunction"]
    invoke_module.cold_start([binding.logical_id])
    sample = json.loads((EVENTS / "lambda" / "catalog-sweep-schedule.json").read_text())
    invoke(binding, sample, local_mesh.sessions, local_mesh.central, None)
    module = invoke_module.loaded_module(binding.logical_id)
    assert module is not None
    assert module.metrics.namespace == binding.environment["POWERTOOLS_METRICS_NAMESPACE"]
