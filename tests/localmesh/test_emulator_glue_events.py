"""Glue Data Catalog events, per "Automating AWS Glue with EventBridge" (see glue_events.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from localmesh_support import (
    PRODUCER,
    REGION,
    capture_events,
    partition_input,
    received,
    table_input,
)

from meshgov_local.accounts import AccountSessions
from meshgov_local.emulator import controls
from meshgov_local.emulator.glue_events import CatalogChange, build_entries

DATABASE_CHANGE = "Glue Data Catalog Database State Change"
TABLE_CHANGE = "Glue Data Catalog Table State Change"
GLUE_PATTERN = {"source": ["aws.glue"]}


def _details(events: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    return [(event["detail-type"], event["detail"]) for event in events]


@pytest.fixture
def glue(mesh: AccountSessions) -> Any:
    return mesh.client(PRODUCER, "glue")


def test_database_and_table_changes_emit_database_state_change(
    mesh: AccountSessions, glue: Any
) -> None:
    # Given a rule capturing aws.glue events on the producer's default bus
    queue = capture_events(mesh, PRODUCER, GLUE_PATTERN)

    # When the producer creates, updates and deletes a database and a table
    glue.create_database(DatabaseInput={"Name": "sales"})
    glue.update_database(Name="sales", DatabaseInput={"Name": "sales", "Description": "x"})
    glue.create_table(DatabaseName="sales", TableInput=table_input("orders"))
    glue.delete_table(DatabaseName="sales", Name="orders")
    glue.delete_database(Name="sales")

    # Then each documented operation emitted one event, UpdateDatabase none
    events = received(mesh, PRODUCER, queue)

    def change(operation: str, *tables: str) -> tuple[str, dict[str, Any]]:
        detail = {"databaseName": "sales", "typeOfChange": operation, "changedTables": [*tables]}
        return (DATABASE_CHANGE, detail)

    assert _details(events) == [
        change("CreateDatabase"),
        change("CreateTable", "orders"),
        change("DeleteTable", "orders"),
        change("DeleteDatabase"),
    ]
    # And the envelope is the owner account's, with the table ARN as resource
    assert {event["source"] for event in events} == {"aws.glue"}
    assert {event["account"] for event in events} == {PRODUCER}
    assert {event["region"] for event in events} == {REGION}
    assert events[1]["resources"] == [f"arn:aws:glue:{REGION}:{PRODUCER}:table/sales/orders"]
    assert events[0]["resources"] == [f"arn:aws:glue:{REGION}:{PRODUCER}:database/sales"]


def test_batch_delete_table_names_only_the_deleted_tables_in_one_event(
    mesh: AccountSessions, glue: Any
) -> None:
    # Given two tables
    glue.create_database(DatabaseInput={"Name": "sales"})
    for name in ("orders", "customers"):
        glue.create_table(DatabaseName="sales", TableInput=table_input(name))
    queue = capture_events(mesh, PRODUCER, GLUE_PATTERN)

    # When a batch deletes them and a table that does not exist
    response = glue.batch_delete_table(
        DatabaseName="sales", TablesToDelete=["orders", "missing", "customers"]
    )

    # Then one BatchDeleteTable event names the two deleted tables, and no DeleteTable event
    assert [error["TableName"] for error in response["Errors"]] == ["missing"]
    assert _details(received(mesh, PRODUCER, queue)) == [
        (
            DATABASE_CHANGE,
            {
                "databaseName": "sales",
                "typeOfChange": "BatchDeleteTable",
                "changedTables": ["orders", "customers"],
            },
        )
    ]


def test_table_and_partition_changes_emit_table_state_change(
    mesh: AccountSessions, glue: Any
) -> None:
    # Given a table partitioned by year and month
    glue.create_database(DatabaseInput={"Name": "sales"})
    glue.create_table(
        DatabaseName="sales", TableInput=table_input("orders", partition_keys=("year", "month"))
    )
    queue = capture_events(mesh, PRODUCER, {"detail-type": [TABLE_CHANGE]})

    # When the table and its partitions change, some batch items failing
    glue.update_table(DatabaseName="sales", TableInput=table_input("orders", ("id", "amount")))
    glue.create_partition(
        DatabaseName="sales", TableName="orders", PartitionInput=partition_input("2018", "01")
    )
    glue.batch_create_partition(
        DatabaseName="sales",
        TableName="orders",
        PartitionInputList=[
            partition_input("2018", "01"),  # already exists
            partition_input("2018", "02"),
            partition_input("2018", "03"),
        ],
    )
    glue.update_partition(
        DatabaseName="sales",
        TableName="orders",
        PartitionValueList=["2018", "02"],
        PartitionInput=partition_input("2018", "02"),
    )
    glue.batch_update_partition(
        DatabaseName="sales",
        TableName="orders",
        Entries=[
            {"PartitionValueList": ["2018", "03"], "PartitionInput": partition_input("2018", "03")},
            {"PartitionValueList": ["2019", "01"], "PartitionInput": partition_input("2019", "01")},
        ],
    )
    glue.delete_partition(DatabaseName="sales", TableName="orders", PartitionValues=["2018", "01"])
    glue.batch_delete_partition(
        DatabaseName="sales",
        TableName="orders",
        PartitionsToDelete=[{"Values": ["2018", "02"]}, {"Values": ["1999", "12"]}],
    )

    # Then each emitted the documented detail, naming only the partitions that changed
    def detail(operation: str, *partitions: str) -> tuple[str, dict[str, Any]]:
        return (
            TABLE_CHANGE,
            {
                "databaseName": "sales",
                "tableName": "orders",
                "typeOfChange": operation,
                "changedPartitions": list(partitions),
            },
        )

    assert _details(received(mesh, PRODUCER, queue)) == [
        detail("UpdateTable"),
        detail("CreatePartition", "2018,01"),
        detail("BatchCreatePartition", "2018,02", "2018,03"),
        detail("UpdatePartition", "2018,02"),
        detail("BatchUpdatePartition", "2018,03"),
        detail("DeletePartition", "2018,01"),
        detail("BatchDeletePartition", "2018,02"),
    ]


def test_failed_operations_emit_nothing(mesh: AccountSessions, glue: Any) -> None:
    # Given a capture rule and an existing database
    glue.create_database(DatabaseInput={"Name": "sales"})
    queue = capture_events(mesh, PRODUCER, GLUE_PATTERN)

    # When operations fail (missing database, duplicate, batch where every item fails)
    with pytest.raises(ClientError):
        glue.create_table(DatabaseName="nowhere", TableInput=table_input("orders"))
    with pytest.raises(ClientError):
        glue.create_database(DatabaseInput={"Name": "sales"})
    glue.batch_delete_table(DatabaseName="sales", TablesToDelete=["missing"])

    # Then no event was put on the bus
    assert received(mesh, PRODUCER, queue) == []
    assert controls.glue_events_emitted == 1  # the CreateDatabase before the rule existed


def test_more_than_100_names_are_split_into_several_events() -> None:
    # Given a change naming 250 tables
    change = CatalogChange(
        "BatchDeleteTable", "sales", tables=[f"t{index:03d}" for index in range(250)]
    )

    # When its events are built
    entries = build_entries(change, PRODUCER, REGION)

    # Then there are three, of at most 100 names, covering every table once
    names = [json.loads(entry["Detail"])["changedTables"] for entry in entries]
    assert [len(chunk) for chunk in names] == [100, 100, 50]
    assert [name for chunk in names for name in chunk] == change.tables
    assert all(
        len(entry["Resources"]) == len(chunk) for entry, chunk in zip(entries, names, strict=True)
    )


def test_drop_switch_loses_the_chosen_share_reproducibly(mesh: AccountSessions, glue: Any) -> None:
    # Given a listener and a drop rate of one half with a seed
    seen: list[tuple[str, dict[str, Any]]] = []
    controls.add_listener(lambda account, entry: seen.append((account, entry)))
    queue = capture_events(mesh, PRODUCER, GLUE_PATTERN)
    controls.set_event_drop_rate(0.5, seed=7)

    # When 40 databases are created
    for index in range(40):
        glue.create_database(DatabaseInput={"Name": f"db{index}"})

    # Then some events were dropped, the others delivered and announced, all counted
    delivered = received(mesh, PRODUCER, queue)
    assert 0 < controls.glue_events_dropped < 40
    assert controls.glue_events_emitted + controls.glue_events_dropped == 40
    assert len(delivered) == len(seen) == controls.glue_events_emitted
    assert {account for account, _ in seen} == {PRODUCER}
    # And the same seed drops the same events again
    first_run = [event["detail"]["databaseName"] for event in delivered]
    controls.set_event_drop_rate(0.5, seed=7)
    for index in range(40):
        glue.delete_database(Name=f"db{index}")
    second_run = [event["detail"]["databaseName"] for event in received(mesh, PRODUCER, queue)]
    assert second_run == first_run


def test_drop_rate_of_one_loses_every_event(mesh: AccountSessions, glue: Any) -> None:
    # Given every Glue event is lost
    queue = capture_events(mesh, PRODUCER, GLUE_PATTERN)
    controls.set_event_drop_rate(1.0)

    # When the catalog changes
    glue.create_database(DatabaseInput={"Name": "sales"})

    # Then the change happened but nothing reached EventBridge
    assert glue.get_database(Name="sales")["Database"]["Name"] == "sales"
    assert received(mesh, PRODUCER, queue) == []
    assert (controls.glue_events_emitted, controls.glue_events_dropped) == (0, 1)
    with pytest.raises(ValueError, match="between 0 and 1"):
        controls.set_event_drop_rate(1.5)
