"""BatchGetPartition ``UnprocessedKeys`` are retried, never read as "absent" (issue 12, defect 5).

AWS: ``UnprocessedKeys`` is "a list of the partition values in the request for which partitions
were not returned" (https://docs.aws.amazon.com/glue/latest/webapi/API_BatchGetPartition.html).
A key Glue did not read may well exist; meshgov retries it, and if it stays unread the table's
reconcile fails (the message goes back to the queue, then to the DLQ) without deleting or
skipping anything centrally. The emulator leaves keys unprocessed on demand
(:meth:`meshgov_local.emulator.EmulatorControls.set_unprocessed_partition_rate`).
"""

from __future__ import annotations

from typing import Any

from meshgov.audit import AuditOutcome
from meshgov_local.emulator import controls
from meshgov_local.mesh import LocalMesh, differences
from tests.integration.helpers import (
    columns,
    create_published_database,
    partition_input,
    table_input,
)

CENTRAL_DB = "sales_sales"
CATALOG_DLQ = "CatalogEventsDLQ"
DAYS = [f"2026-02-{day:02d}" for day in range(1, 21)]
CHANGED = DAYS[:8]


def central_partitions(mesh: LocalMesh) -> dict[tuple[str, ...], str]:
    """Central partitions of sales_sales.events: values -> location."""
    pages = mesh.client(mesh.central, "glue").get_paginator("get_partitions")
    return {
        tuple(p["Values"]): p["StorageDescriptor"]["Location"]
        for page in pages.paginate(DatabaseName=CENTRAL_DB, TableName="events")
        for p in page["Partitions"]
    }


def mirrored_events_table(mesh: LocalMesh) -> Any:
    """A published partitioned table with 20 partitions, converged centrally."""
    glue = mesh.client(mesh.producer, "glue")
    create_published_database(glue, "sales")
    glue.create_table(
        DatabaseName="sales",
        TableInput=table_input("events", columns("id:int"), keys=columns("dt:string")),
    )
    glue.batch_create_partition(
        DatabaseName="sales",
        TableName="events",
        PartitionInputList=[partition_input("events", day) for day in DAYS],
    )
    mesh.settle()
    assert len(central_partitions(mesh)) == len(DAYS)
    assert differences(mesh) == []
    return glue


def move_partitions(glue: Any, days: list[str]) -> None:
    """The producer moves some partitions' data: one BatchUpdatePartition event names them."""
    glue.batch_update_partition(
        DatabaseName="sales",
        TableName="events",
        Entries=[
            {
                "PartitionValueList": [day],
                "PartitionInput": {
                    "Values": [day],
                    "StorageDescriptor": {
                        "Columns": [],
                        "Location": f"s3://producer-data/events-v2/{day}/",
                    },
                },
            }
            for day in days
        ],
    )


def reconcile_failures(mesh: LocalMesh) -> list[str]:
    return [
        r.entry.reason
        for r in mesh.audit_records()
        if r.entry.action == "catalog:reconcile" and r.entry.outcome is AuditOutcome.FAILED
    ]


def test_keys_unprocessed_for_a_while_are_retried_and_the_mesh_converges(
    local_mesh: LocalMesh,
) -> None:
    # Given a mirrored partitioned table, and Glue leaving about half the keys of every
    # BatchGetPartition unprocessed (source and central catalogs alike)
    mesh = local_mesh
    glue = mirrored_events_table(mesh)
    controls.set_unprocessed_partition_rate(0.5, seed=3)
    # When the producer moves 8 partitions and the event is delivered
    move_partitions(glue, CHANGED)
    mesh.settle()
    # Then Glue did leave keys unprocessed, meshgov asked again, and central equals the source
    # at once: nothing deleted, every moved partition updated, no failure
    assert controls.partition_keys_unprocessed > 0
    central = central_partitions(mesh)
    assert set(central) == {(day,) for day in DAYS}
    assert all(central[(day,)] == f"s3://producer-data/events-v2/{day}/" for day in CHANGED)
    assert differences(mesh) == []
    assert reconcile_failures(mesh) == []


def test_source_keys_left_unprocessed_fail_the_reconcile_and_delete_nothing(
    local_mesh: LocalMesh,
) -> None:
    # Given a mirrored partitioned table, then Glue leaving every key of the producer's
    # catalog unprocessed, on every attempt
    mesh = local_mesh
    glue = mirrored_events_table(mesh)
    before = central_partitions(mesh)
    controls.set_unprocessed_partition_rate(1.0, catalogs=[mesh.producer])
    # When the producer moves 8 partitions and the mesh delivers until the queue gives up
    move_partitions(glue, CHANGED)
    for _ in range(3):
        mesh.settle()
    # Then no central partition was deleted or changed: the read was incomplete, not empty
    assert central_partitions(mesh) == before
    # And the reconcile failed, audited with the reason, and the event is parked for replay
    failures = reconcile_failures(mesh)
    assert failures and all("UnprocessedKeys" in reason for reason in failures)
    assert any(mesh.producer in reason for reason in failures)
    assert len(mesh.dead_letters(CATALOG_DLQ)) == 1
    # When Glue reads every key again and the dead letter is replayed (the operator's redrive)
    controls.set_unprocessed_partition_rate(0.0)
    [report] = mesh.replay_dead_letters(CATALOG_DLQ, dry_run=False)
    mesh.settle()
    # Then the mesh converges: central equals the published source
    assert [r.outcome for r in report.results] == ["replayed"]
    assert mesh.dead_letters(CATALOG_DLQ) == []
    assert differences(mesh) == []
    central = central_partitions(mesh)
    assert all(central[(day,)] == f"s3://producer-data/events-v2/{day}/" for day in CHANGED)


def test_central_keys_left_unprocessed_fail_the_reconcile_and_the_sweep_converges(
    local_mesh: LocalMesh,
) -> None:
    # Given a mirrored partitioned table, then Glue leaving every key of the central catalog
    # unprocessed, on every attempt
    mesh = local_mesh
    glue = mirrored_events_table(mesh)
    before = central_partitions(mesh)
    controls.set_unprocessed_partition_rate(1.0, catalogs=[mesh.central])
    # When the producer moves 8 partitions and the event is delivered
    move_partitions(glue, CHANGED)
    mesh.settle()
    # Then central could not be compared: nothing deleted, and the reconcile failed (retried by
    # SQS) instead of reporting success with the moved partitions left behind
    assert central_partitions(mesh) == before
    failures = reconcile_failures(mesh)
    assert failures and all("UnprocessedKeys" in reason for reason in failures)
    assert any(mesh.central in reason for reason in failures)
    # When Glue reads every key again and the scheduled sweep runs
    controls.set_unprocessed_partition_rate(0.0)
    mesh.sweep()
    # Then the mesh converges
    assert differences(mesh) == []
    central = central_partitions(mesh)
    assert set(central) == {(day,) for day in DAYS}
    assert all(central[(day,)] == f"s3://producer-data/events-v2/{day}/" for day in CHANGED)
