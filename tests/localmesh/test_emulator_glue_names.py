"""Glue database and table names folded to lower case when stored (see glue_names.py)."""

from __future__ import annotations

from typing import Any

import pytest
from localmesh_support import (
    PRODUCER,
    REGION,
    capture_events,
    error_code,
    partition_input,
    received,
    table_input,
)

from meshgov_local.accounts import AccountSessions

# "ORDERS" spelled with a Cyrillic capital O (U+041E): it folds to a Cyrillic small o (U+043E).
CYRILLIC_ORDERS = "\u041eRDERS"


@pytest.fixture
def glue(mesh: AccountSessions) -> Any:
    return mesh.client(PRODUCER, "glue")


def test_database_names_are_stored_in_lower_case_and_found_in_any_case(glue: Any) -> None:
    # When the producer creates a database named in upper case
    glue.create_database(DatabaseInput={"Name": "SALES", "Description": "d"})

    # Then it is stored as "sales", listed so, and found by any case
    assert [db["Name"] for db in glue.get_databases()["DatabaseList"]] == ["sales"]
    for name in ("sales", "Sales", "SALES"):
        assert glue.get_database(Name=name)["Database"]["Name"] == "sales"
    # And the same name in another case is the same database
    assert error_code(lambda: glue.create_database(DatabaseInput={"Name": "sales"})) == (
        "AlreadyExistsException"
    )
    # And updating or deleting it by another case acts on it
    glue.update_database(Name="Sales", DatabaseInput={"Name": "Sales", "Description": "new"})
    assert glue.get_database(Name="sales")["Database"]["Description"] == "new"
    glue.delete_database(Name="SaLeS")
    assert glue.get_databases()["DatabaseList"] == []


def test_table_names_are_stored_in_lower_case_columns_keep_their_case(glue: Any) -> None:
    # Given a database
    glue.create_database(DatabaseInput={"Name": "Sales"})

    # When a table named in upper case is created with a mixed-case column, then updated
    glue.create_table(
        DatabaseName="SALES", TableInput=table_input("ORDERS", columns=("CustomerId",))
    )
    glue.update_table(
        DatabaseName="sales", TableInput=table_input("Orders", columns=("CustomerId", "Total"))
    )

    # Then the table is "orders" in "sales", whatever case it is asked in
    table = glue.get_table(DatabaseName="SaLes", Name="ORDERS")["Table"]
    assert (table["DatabaseName"], table["Name"]) == ("sales", "orders")
    assert [t["Name"] for t in glue.get_tables(DatabaseName="sales")["TableList"]] == ["orders"]
    # And the update changed that one table (two versions), its columns named as given
    versions = glue.get_table_versions(DatabaseName="sales", TableName="Orders")["TableVersions"]
    assert len(versions) == 2
    assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]] == ["CustomerId", "Total"]
    # And "orders" in another case cannot be created beside it
    assert error_code(
        lambda: glue.create_table(DatabaseName="sales", TableInput=table_input("orders"))
    ) == ("AlreadyExistsException")


def test_partitions_and_batch_deletes_reach_the_table_by_any_case(glue: Any) -> None:
    # Given a partitioned table created in upper case
    glue.create_database(DatabaseInput={"Name": "SALES"})
    glue.create_table(
        DatabaseName="SALES", TableInput=table_input("ORDERS", partition_keys=("year",))
    )

    # When a partition is added through one case and read through another
    glue.create_partition(
        DatabaseName="Sales", TableName="Orders", PartitionInput=partition_input("2026")
    )
    partition = glue.get_partition(
        DatabaseName="sales", TableName="orders", PartitionValues=["2026"]
    )["Partition"]

    # Then it belongs to the stored table
    assert (partition["DatabaseName"], partition["TableName"]) == ("sales", "orders")
    # And a batch delete naming the table in upper case deletes it
    result = glue.batch_delete_table(DatabaseName="SALES", TablesToDelete=["ORDERS"])
    assert result.get("Errors", []) == []
    assert glue.get_tables(DatabaseName="sales")["TableList"] == []


def test_a_cyrillic_homoglyph_is_folded_too_and_stays_a_different_name(glue: Any) -> None:
    # Given a database with a Latin "orders" table
    glue.create_database(DatabaseInput={"Name": "sales"})
    glue.create_table(DatabaseName="sales", TableInput=table_input("orders"))

    # When a table whose name starts with a Cyrillic capital O is created
    glue.create_table(DatabaseName="sales", TableInput=table_input(CYRILLIC_ORDERS))

    # Then it is stored with a Cyrillic small o, beside (not instead of) the Latin one
    names = sorted(t["Name"] for t in glue.get_tables(DatabaseName="sales")["TableList"])
    assert names == ["orders", "\u043erders"]
    assert glue.get_table(DatabaseName="sales", Name=CYRILLIC_ORDERS)["Table"]["Name"] == (
        "\u043erders"
    )


def test_catalog_events_name_the_stored_objects(mesh: AccountSessions, glue: Any) -> None:
    # Given a rule capturing the producer's Glue events
    queue = capture_events(mesh, PRODUCER, {"source": ["aws.glue"]})

    # When every change names the database and tables in upper or mixed case
    glue.create_database(DatabaseInput={"Name": "SALES"})
    glue.create_table(
        DatabaseName="Sales", TableInput=table_input("ORDERS", partition_keys=("year",))
    )
    glue.create_table(DatabaseName="SALES", TableInput=table_input(CYRILLIC_ORDERS))
    glue.update_table(
        DatabaseName="SALES", TableInput=table_input("Orders", partition_keys=("year",))
    )
    glue.create_partition(
        DatabaseName="SALES", TableName="ORDERS", PartitionInput=partition_input("2026")
    )
    glue.batch_delete_table(DatabaseName="Sales", TablesToDelete=["ORDERS", CYRILLIC_ORDERS])

    # Then each event carries the names the catalog stores, in its detail and its resources
    events = received(mesh, PRODUCER, queue)
    arn = f"arn:aws:glue:{REGION}:{PRODUCER}"
    assert [(e["detail"]["typeOfChange"], e["detail"]["databaseName"]) for e in events] == [
        ("CreateDatabase", "sales"),
        ("CreateTable", "sales"),
        ("CreateTable", "sales"),
        ("UpdateTable", "sales"),
        ("CreatePartition", "sales"),
        ("BatchDeleteTable", "sales"),
    ]
    assert events[0]["resources"] == [f"{arn}:database/sales"]
    assert events[1]["detail"]["changedTables"] == ["orders"]
    assert events[2]["detail"]["changedTables"] == ["\u043erders"]
    assert [events[3]["detail"]["tableName"], events[4]["detail"]["tableName"]] == [
        "orders",
        "orders",
    ]
    assert events[3]["resources"] == [f"{arn}:table/sales/orders"]
    assert events[5]["detail"]["changedTables"] == ["orders", "\u043erders"]
    # And they are the names the catalog lists (none left after the batch delete)
    assert glue.get_tables(DatabaseName="sales")["TableList"] == []


def test_names_and_putevents_limits_hold_through_the_moto_server(
    served_mesh: AccountSessions,
) -> None:
    # Given the producer's Glue events captured, through a moto server (as `make demo` runs)
    mesh = served_mesh
    queue = capture_events(mesh, PRODUCER, {"source": ["aws.glue"]})

    # When it creates a database and a table in upper case, and then forges a Glue event itself
    glue = mesh.client(PRODUCER, "glue")
    glue.create_database(DatabaseInput={"Name": "SALES"})
    glue.create_table(DatabaseName="SALES", TableInput=table_input("ORDERS"))
    forged = mesh.client(PRODUCER, "events").put_events(
        Entries=[{"Source": "aws.glue", "DetailType": "x", "Detail": "{}"}]
    )

    # Then the names are stored and emitted in lower case, and the forged event never arrived
    assert glue.get_table(DatabaseName="Sales", Name="Orders")["Table"]["Name"] == "orders"
    events = received(mesh, PRODUCER, queue)
    assert [(e["detail"]["databaseName"], e["detail"]["changedTables"]) for e in events] == [
        ("sales", []),
        ("sales", ["orders"]),
    ]
    assert forged["Entries"] == [
        {
            "ErrorCode": "NotAuthorizedForSourceException",
            "ErrorMessage": "Not authorized for the source.",
        }
    ]
