"""Producer changes propagate to the central catalog across three emulated accounts.

Every step goes the way it would on AWS: the producer calls Glue, Glue emits its event on the
producer's default bus, the forwarding rule from template.yaml sends it to the central bus, the
central rule puts it on the queue, and the sync function reads the producer's catalog through its
reader role.
"""

from __future__ import annotations

import json
from typing import Any

from meshgov.audit import AuditOutcome
from meshgov_local.mesh import LocalMesh, differences
from tests.integration.helpers import (
    columns,
    create_published_database,
    partition_input,
    table_input,
)

CENTRAL_DB = "sales_sales"


def central_table(mesh: LocalMesh, name: str, db: str = CENTRAL_DB) -> dict[str, Any]:
    glue = mesh.client(mesh.central, "glue")
    table: dict[str, Any] = glue.get_table(DatabaseName=db, Name=name)["Table"]
    return table


def central_tables(mesh: LocalMesh, db: str = CENTRAL_DB) -> set[str]:
    glue = mesh.client(mesh.central, "glue")
    try:
        return {t["Name"] for t in glue.get_tables(DatabaseName=db)["TableList"]}
    except glue.exceptions.EntityNotFoundException:
        return set()


def actions(mesh: LocalMesh) -> list[tuple[str, str, str]]:
    return [(r.entry.action, r.entry.outcome.value, r.entry.target) for r in mesh.audit_records()]


def test_created_table_appears_centrally_with_provenance(local_mesh: LocalMesh) -> None:
    # Given a producer database published at database level, with one table opting out
    glue = local_mesh.client(local_mesh.producer, "glue")
    create_published_database(glue, "sales")
    glue.create_table(
        DatabaseName="sales",
        TableInput=table_input(
            "orders",
            columns("id:int", "amount:double"),
            **{"meshgov:classification": "internal", "meshgov:owner_contact": "sales@example.com"},
        ),
    )
    glue.create_table(
        DatabaseName="sales",
        TableInput=table_input("drafts", columns("id:int"), **{"meshgov:publish": "false"}),
    )
    # When the events are delivered
    local_mesh.settle()
    # Then the central catalog holds exactly the published table, pointing at producer data
    assert central_tables(local_mesh) == {"orders"}
    orders = central_table(local_mesh, "orders")
    params = orders["Parameters"]
    assert orders["StorageDescriptor"]["Location"] == "s3://producer-data/orders/"
    assert params["meshgov:source_account"] == local_mesh.producer
    assert params["meshgov:domain"] == "sales"
    assert params["meshgov:source_arn"].endswith(":222222222222:table/sales/orders")
    assert params["meshgov:owner_contact"] == "sales@example.com"
    assert params["meshgov:classification"] == "internal"
    assert "meshgov:synced_at" in params and params["meshgov:schema_version"] == "1"
    db = local_mesh.client(local_mesh.central, "glue").get_database(Name=CENTRAL_DB)["Database"]
    assert db["Parameters"]["meshgov:source_account"] == local_mesh.producer
    # And the audit trail records the event and the actions, correlated
    trail = actions(local_mesh)
    assert ("glue:CreateDatabase", "SUCCEEDED", f"database/{CENTRAL_DB}") in trail
    assert ("glue:CreateTable", "SUCCEEDED", f"table/{CENTRAL_DB}/orders") in trail
    assert any(a == "event:received" and o == "RECEIVED" for a, o, _ in trail)
    assert differences(local_mesh) == []


def test_schema_change_updates_only_what_differs_and_flags_breaking(local_mesh: LocalMesh) -> None:
    glue = local_mesh.client(local_mesh.producer, "glue")
    create_published_database(glue, "sales")
    glue.create_table(
        DatabaseName="sales", TableInput=table_input("orders", columns("id:int", "note:string"))
    )
    local_mesh.settle()
    # Given a consumer-side listener for meshgov.catalog events on the central bus
    events = local_mesh.client(local_mesh.central, "events")
    sqs = local_mesh.client(local_mesh.central, "sqs")
    queue = sqs.create_queue(QueueName="breaking-listener")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(
        Name="listen",
        EventBusName="meshgov",
        EventPattern=json.dumps({"source": ["meshgov.catalog"]}),
    )
    events.put_targets(Rule="listen", EventBusName="meshgov", Targets=[{"Id": "q", "Arn": arn}])
    # When the producer adds a column (not breaking), then removes one (breaking)
    glue.update_table(
        DatabaseName="sales",
        TableInput=table_input("orders", columns("id:int", "note:string", "amount:double")),
    )
    local_mesh.settle()
    assert central_table(local_mesh, "orders")["Parameters"]["meshgov:schema_version"] == "2"
    glue.update_table(
        DatabaseName="sales", TableInput=table_input("orders", columns("id:int", "amount:double"))
    )
    local_mesh.settle()
    # Then central follows, keeps the schema history as table versions, and flags the break
    orders = central_table(local_mesh, "orders")
    assert [c["Name"] for c in orders["StorageDescriptor"]["Columns"]] == ["id", "amount"]
    breaking = json.loads(orders["Parameters"]["meshgov:last_breaking_change"])
    assert breaking["removed_columns"] == ["note"] and breaking["schema_version"] == 3
    versions = local_mesh.client(local_mesh.central, "glue").get_table_versions(
        DatabaseName=CENTRAL_DB, TableName="orders"
    )["TableVersions"]
    assert len(versions) == 3
    received = [
        json.loads(m["Body"])
        for m in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
    ]
    assert [e["detail-type"] for e in received] == ["Breaking Schema Change"]
    assert received[0]["detail"]["change"]["removed_columns"] == ["note"]
    # And a re-delivery of the same change writes nothing more
    before = len(versions)
    glue_central = local_mesh.client(local_mesh.central, "glue")
    local_mesh.sweep()
    after = glue_central.get_table_versions(DatabaseName=CENTRAL_DB, TableName="orders")
    assert len(after["TableVersions"]) == before


def test_partitions_propagate_in_batches_and_deletes_follow(local_mesh: LocalMesh) -> None:
    glue = local_mesh.client(local_mesh.producer, "glue")
    create_published_database(glue, "sales")
    glue.create_table(
        DatabaseName="sales",
        TableInput=table_input("events", columns("id:int"), keys=columns("dt:string")),
    )
    # When the producer adds 250 partitions in three batch calls, then drops 30
    days = [f"2026-01-{i:03d}" for i in range(250)]
    for start in range(0, 250, 100):
        glue.batch_create_partition(
            DatabaseName="sales",
            TableName="events",
            PartitionInputList=[partition_input("events", d) for d in days[start : start + 100]],
        )
    local_mesh.settle()
    parts = local_mesh.client(local_mesh.central, "glue").get_paginator("get_partitions")
    central = {
        tuple(p["Values"])
        for page in parts.paginate(DatabaseName=CENTRAL_DB, TableName="events")
        for p in page["Partitions"]
    }
    assert central == {(d,) for d in days}
    glue.batch_delete_partition(
        DatabaseName="sales",
        TableName="events",
        PartitionsToDelete=[{"Values": [d]} for d in days[:25]],
    )
    glue.delete_partition(DatabaseName="sales", TableName="events", PartitionValues=[days[25]])
    local_mesh.settle()
    assert differences(local_mesh) == []


def test_drop_and_unpublish_remove_the_central_copy(local_mesh: LocalMesh) -> None:
    glue = local_mesh.client(local_mesh.producer, "glue")
    create_published_database(glue, "sales")
    for name in ("a", "b", "c"):
        glue.create_table(DatabaseName="sales", TableInput=table_input(name, columns("id:int")))
    local_mesh.settle()
    assert central_tables(local_mesh) == {"a", "b", "c"}
    # When one table is dropped, and another unpublished by its own parameter
    glue.delete_table(DatabaseName="sales", Name="a")
    glue.update_table(
        DatabaseName="sales",
        TableInput=table_input("b", columns("id:int"), **{"meshgov:publish": "false"}),
    )
    local_mesh.settle()
    assert central_tables(local_mesh) == {"c"}
    # When the database is unpublished (Glue emits no UpdateDatabase event: the sweep sees it)
    glue.update_database(Name="sales", DatabaseInput={"Name": "sales", "Parameters": {}})
    local_mesh.settle()
    assert central_tables(local_mesh) == {"c"}
    local_mesh.sweep()
    central_dbs = local_mesh.client(local_mesh.central, "glue").get_databases()["DatabaseList"]
    assert central_dbs == []
    assert differences(local_mesh) == []
    assert any(
        r.entry.action == "glue:DeleteDatabase" and r.entry.outcome is AuditOutcome.SUCCEEDED
        for r in local_mesh.audit_records()
    )


def test_two_producers_never_collide(local_mesh: LocalMesh) -> None:
    # Same database and table names in two producer accounts
    from meshgov_local.config import MemberAccount, MemberKind, MeshConfig

    config = MeshConfig(
        members=(
            MemberAccount("222222222222", "producer", MemberKind.PRODUCER, domain="sales"),
            MemberAccount("444444444444", "producer2", MemberKind.PRODUCER, domain="hr"),
            MemberAccount("333333333333", "consumer", MemberKind.CONSUMER),
        )
    )
    mesh = LocalMesh(config)
    for account in ("222222222222", "444444444444"):
        glue = mesh.client(account, "glue")
        create_published_database(glue, "core")
        glue.create_table(DatabaseName="core", TableInput=table_input("people", columns("id:int")))
    mesh.settle()
    central = mesh.client(mesh.central, "glue")
    assert {d["Name"] for d in central.get_databases()["DatabaseList"]} == {"sales_core", "hr_core"}
    assert (
        central.get_table(DatabaseName="hr_core", Name="people")["Table"]["Parameters"][
            "meshgov:source_account"
        ]
        == "444444444444"
    )
    assert differences(mesh) == []
