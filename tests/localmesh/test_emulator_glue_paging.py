"""Glue paging and batch limits, per the Glue API reference (see glue_paging.py)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from localmesh_support import PRODUCER, partition_input, table_input

from meshgov_local.accounts import AccountSessions


@pytest.fixture
def glue(mesh: AccountSessions) -> Any:
    client = mesh.client(PRODUCER, "glue")
    client.create_database(DatabaseInput={"Name": "sales"})
    return client


def _create_tables(glue: Any, count: int) -> list[str]:
    names = [f"table_{index:03d}" for index in range(count)]
    for name in reversed(names):  # created out of order: pages must still be sorted
        glue.create_table(DatabaseName="sales", TableInput=table_input(name))
    return names


def _create_partitions(glue: Any, count: int) -> list[list[str]]:
    glue.create_table(
        DatabaseName="sales", TableInput=table_input("orders", partition_keys=("day",))
    )
    values = [[f"{index:05d}"] for index in range(count)]
    for start in range(0, count, 100):
        glue.batch_create_partition(
            DatabaseName="sales",
            TableName="orders",
            PartitionInputList=[partition_input(*value) for value in values[start : start + 100]],
        )
    return values


def _error_code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def test_get_tables_serves_pages_of_max_results_with_next_token(glue: Any) -> None:
    # Given 250 tables
    names = _create_tables(glue, 250)

    # When GetTables is called with MaxResults 100, following NextToken
    first = glue.get_tables(DatabaseName="sales", MaxResults=100)
    second = glue.get_tables(DatabaseName="sales", MaxResults=100, NextToken=first["NextToken"])
    third = glue.get_tables(DatabaseName="sales", MaxResults=100, NextToken=second["NextToken"])

    # Then the pages hold 100, 100 and 50 tables in name order, the last without NextToken
    pages = [first, second, third]
    assert [len(page["TableList"]) for page in pages] == [100, 100, 50]
    assert "NextToken" not in third
    assert [table["Name"] for page in pages for table in page["TableList"]] == names


def test_get_tables_without_max_results_serves_pages_of_100(glue: Any) -> None:
    # Given 101 tables
    _create_tables(glue, 101)

    # When GetTables is called without MaxResults, and through boto3's paginator
    first = glue.get_tables(DatabaseName="sales")
    paginated = list(glue.get_paginator("get_tables").paginate(DatabaseName="sales"))

    # Then a page holds 100 tables and points to the next one
    assert len(first["TableList"]) == 100 and first["NextToken"]
    assert [len(page["TableList"]) for page in paginated] == [100, 1]


def test_max_results_above_the_documented_maximum_is_rejected(glue: Any) -> None:
    # Given a database with a table
    _create_tables(glue, 1)

    # When GetTables or GetDatabases asks for 101 results
    with pytest.raises(ClientError) as tables_error:
        glue.get_tables(DatabaseName="sales", MaxResults=101)
    with pytest.raises(ClientError) as databases_error:
        glue.get_databases(MaxResults=101)

    # Then AWS's constraint error is returned
    assert _error_code(tables_error) == "ValidationException"
    assert "less than or equal to 100" in str(tables_error.value)
    assert _error_code(databases_error) == "ValidationException"


def test_get_databases_pages_in_name_order(mesh: AccountSessions) -> None:
    # Given five databases created out of order
    glue = mesh.client(PRODUCER, "glue")
    for name in ("e", "b", "d", "a", "c"):
        glue.create_database(DatabaseInput={"Name": name})

    # When they are listed two at a time
    pages = list(glue.get_paginator("get_databases").paginate(PaginationConfig={"PageSize": 2}))

    # Then three pages come back, sorted
    assert [[db["Name"] for db in page["DatabaseList"]] for page in pages] == [
        ["a", "b"],
        ["c", "d"],
        ["e"],
    ]


def test_get_partitions_allows_pages_of_up_to_1000(glue: Any) -> None:
    # Given 1001 partitions
    values = _create_partitions(glue, 1001)

    # When GetPartitions asks for 1000 then follows NextToken, and asks for 1001
    first = glue.get_partitions(DatabaseName="sales", TableName="orders", MaxResults=1000)
    second = glue.get_partitions(
        DatabaseName="sales", TableName="orders", MaxResults=1000, NextToken=first["NextToken"]
    )
    with pytest.raises(ClientError) as error:
        glue.get_partitions(DatabaseName="sales", TableName="orders", MaxResults=1001)

    # Then the pages hold 1000 and 1 partitions in value order, and 1001 is refused
    assert [len(first["Partitions"]), len(second["Partitions"])] == [1000, 1]
    assert "NextToken" not in second
    served = [p["Values"] for page in (first, second) for p in page["Partitions"]]
    assert served == values
    assert _error_code(error) == "ValidationException"


def test_get_partitions_pages_a_filtered_expression(glue: Any) -> None:
    # Given 30 partitions
    _create_partitions(glue, 30)

    # When an expression selects 20 of them, 8 per page
    pages = list(
        glue.get_paginator("get_partitions").paginate(
            DatabaseName="sales",
            TableName="orders",
            Expression="day >= '00010'",
            PaginationConfig={"PageSize": 8},
        )
    )

    # Then the 20 come in pages of 8, 8 and 4
    assert [len(page["Partitions"]) for page in pages] == [8, 8, 4]


def test_an_invalid_next_token_is_rejected(glue: Any) -> None:
    # Given a database
    # When GetTables is given a token it never issued
    with pytest.raises(ClientError) as error:
        glue.get_tables(DatabaseName="sales", NextToken="not-a-token")

    # Then the request is refused
    assert _error_code(error) == "InvalidInputException"


@pytest.mark.parametrize(
    ("operation", "member", "limit"),
    [
        ("batch_create_partition", "partitionInputList", 100),
        ("batch_get_partition", "partitionsToGet", 1000),
        ("batch_delete_table", "tablesToDelete", 100),
        ("batch_delete_partition", "partitionsToDelete", 25),
        ("batch_update_partition", "entries", 100),
    ],
)
def test_batch_limits_are_enforced(glue: Any, operation: str, member: str, limit: int) -> None:
    # Given a partitioned table without partitions
    glue.create_table(
        DatabaseName="sales", TableInput=table_input("orders", partition_keys=("day",))
    )

    def request(count: int) -> dict[str, Any]:
        values = [[f"{index:05d}"] for index in range(count)]
        table = {"DatabaseName": "sales", "TableName": "orders"}
        return {
            "batch_create_partition": {
                **table,
                "PartitionInputList": [partition_input(*v) for v in values],
            },
            "batch_get_partition": {**table, "PartitionsToGet": [{"Values": v} for v in values]},
            "batch_delete_table": {
                "DatabaseName": "sales",
                "TablesToDelete": [f"t{index}" for index in range(count)],
            },
            "batch_delete_partition": {
                **table,
                "PartitionsToDelete": [{"Values": v} for v in values],
            },
            "batch_update_partition": {
                **table,
                "Entries": [
                    {"PartitionValueList": v, "PartitionInput": partition_input(*v)} for v in values
                ],
            },
        }[operation]

    # When the batch holds one item more than the documented maximum
    with pytest.raises(ClientError) as error:
        getattr(glue, operation)(**request(limit + 1))

    # Then it fails with the constraint error naming the member, and nothing was done
    assert _error_code(error) == "ValidationException"
    assert f"at '{member}'" in str(error.value)
    assert f"less than or equal to {limit}" in str(error.value)
    assert glue.get_partitions(DatabaseName="sales", TableName="orders")["Partitions"] == []
    # And a batch of exactly the maximum is accepted
    getattr(glue, operation)(**request(limit))
