"""Glue SearchTables in the local mesh, per the Glue API reference (see glue_search.py)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from localmesh_support import CENTRAL, PRODUCER, REGION

from meshgov_local.accounts import AccountSessions


def _column(name: str, type_: str = "string", comment: str | None = None) -> dict[str, str]:
    column = {"Name": name, "Type": type_}
    if comment:
        column["Comment"] = comment
    return column


def _table(
    name: str,
    description: str | None = None,
    columns: tuple[dict[str, str], ...] = (),
    partition_keys: tuple[dict[str, str], ...] = (),
    owner: str | None = None,
    **parameters: str,
) -> dict[str, Any]:
    table: dict[str, Any] = {
        "Name": name,
        "StorageDescriptor": {"Columns": list(columns), "Location": f"s3://data/{name}/"},
        "PartitionKeys": list(partition_keys),
        "TableType": "EXTERNAL_TABLE",
        "Parameters": parameters,
    }
    if description:
        table["Description"] = description
    if owner:
        table["Owner"] = owner
    return table


def _build_catalog(glue: Any) -> None:
    """Three databases, seven tables (one a resource link), created out of order."""
    glue.create_database(DatabaseInput={"Name": "sales", "Description": "Sales domain data"})
    glue.create_database(DatabaseInput={"Name": "hr", "Description": "People data"})
    glue.create_database(DatabaseInput={"Name": "links"})
    glue.create_table(
        DatabaseName="sales",
        TableInput=_table(
            "orders",
            "Orders placed by customers",
            (
                _column("id", "bigint"),
                _column("customer_id", "bigint"),
                _column("amount", "double"),
            ),
            (_column("day"),),
            **{"meshgov:classification": "internal"},
        ),
    )
    glue.create_table(
        DatabaseName="sales",
        TableInput=_table(
            "customers",
            "Who buys from us",
            (_column("id", "bigint"), _column("email", comment="contact address")),
            owner="alice",
            classification="parquet",
            **{"meshgov:classification": "pii"},
        ),
    )
    glue.create_table(
        DatabaseName="sales",
        TableInput={
            "Name": "orders_link",
            "TargetTable": {"CatalogId": CENTRAL, "DatabaseName": "sales_sales", "Name": "orders"},
        },
    )
    glue.create_table(
        DatabaseName="hr",
        TableInput=_table(
            "employees",
            "Staff records",
            (_column("id", "bigint"), _column("full_name")),
            **{
                "meshgov:classification": "confidential",
                "meshgov:owner_contact": "hr@example.com",
            },
        ),
    )
    for name in ("xxlinkyy", "xx-link-yy", "customer-link"):
        glue.create_table(DatabaseName="links", TableInput=_table(name))


ALL_TABLES = [
    "hr.employees",
    "links.customer-link",
    "links.xx-link-yy",
    "links.xxlinkyy",
    "sales.customers",
    "sales.orders",
    "sales.orders_link",
]


@pytest.fixture
def glue(mesh: AccountSessions) -> Any:
    client = mesh.client(PRODUCER, "glue")
    _build_catalog(client)
    return client


def names(response: dict[str, Any]) -> list[str]:
    return [f"{t['DatabaseName']}.{t['Name']}" for t in response["TableList"]]


def found(glue: Any, **request: Any) -> list[str]:
    return names(glue.search_tables(**request))


def _error(call: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as error:
        call()
    return str(error.value.response["Error"]["Code"]), str(error.value)


# --- SearchText ---------------------------------------------------------------------------------


def test_search_text_matches_names_descriptions_columns_and_parameter_values(glue: Any) -> None:
    # Given the catalog above
    # When text is searched, Then the tables whose name, description, column name, column
    # comment, parameter value or parent database description contains it are returned
    assert found(glue, SearchText="employees") == ["hr.employees"]  # table name
    assert found(glue, SearchText="STAFF") == ["hr.employees"]  # description, any case
    assert found(glue, SearchText="full_name") == ["hr.employees"]  # column name
    assert found(glue, SearchText="address") == ["sales.customers"]  # column comment
    assert found(glue, SearchText="confidential") == ["hr.employees"]  # parameter value
    assert found(glue, SearchText="people") == ["hr.employees"]  # parent database
    assert found(glue, SearchText="day") == ["sales.orders"]  # partition key
    assert found(glue, SearchText="customer") == [
        "links.customer-link",  # name
        "sales.customers",  # name
        "sales.orders",  # column customer_id and description
    ]
    # And column types and parameter keys are not searched
    assert found(glue, SearchText="double") == []
    assert found(glue, SearchText="owner_contact") == []
    # And every word must occur, in any field
    assert found(glue, SearchText="orders customers") == ["sales.orders"]
    assert found(glue, SearchText="staff parquet") == []


def test_quoted_search_text_is_an_exact_match_of_a_whole_value(glue: Any) -> None:
    assert found(glue, SearchText='"Staff records"') == ["hr.employees"]
    assert found(glue, SearchText='"staff records"') == []  # exact: case matters
    assert found(glue, SearchText='"Staff"') == []  # exact: the whole value
    assert found(glue, SearchText='"pii"') == ["sales.customers"]


# --- Filters ------------------------------------------------------------------------------------


def test_name_filter_is_the_documented_token_match(glue: Any) -> None:
    # When filtering Name=link (the example of the SearchTables document)
    result = found(glue, Filters=[{"Key": "Name", "Value": "link"}])
    # Then customer-link and xx-link-yy are returned, xxlinkyy is not
    assert result == ["links.customer-link", "links.xx-link-yy"]
    # And a whole value matches too, and "_" does not split a token
    assert found(glue, Filters=[{"Key": "Name", "Value": "xx-link-yy"}]) == ["links.xx-link-yy"]
    assert (
        found(
            glue,
            Filters=[{"Key": "Name", "Value": "link"}, {"Key": "DatabaseName", "Value": "sales"}],
        )
        == []
    )


def test_filters_on_fields_and_parameters_all_hold(glue: Any) -> None:
    assert found(glue, Filters=[{"Key": "DatabaseName", "Value": "hr"}]) == ["hr.employees"]
    assert found(glue, Filters=[{"Key": "Owner", "Value": "alice"}]) == ["sales.customers"]
    assert found(glue, Filters=[{"Key": "Description", "Value": "records"}]) == ["hr.employees"]
    assert found(glue, Filters=[{"Key": "Location", "Value": "employees"}]) == ["hr.employees"]
    # A key that is not a table field names a table parameter
    assert found(glue, Filters=[{"Key": "meshgov:classification", "Value": "pii"}]) == [
        "sales.customers"
    ]
    assert found(glue, Filters=[{"Key": "classification", "Value": "parquet"}]) == [
        "sales.customers"
    ]
    assert found(glue, Filters=[{"Key": "meshgov:owner_contact", "Value": "hr@example.com"}]) == [
        "hr.employees"
    ]
    # Every predicate must hold, and text and filters combine
    both = [
        {"Key": "DatabaseName", "Value": "sales"},
        {"Key": "meshgov:classification", "Value": "internal"},
    ]
    assert found(glue, Filters=both) == ["sales.orders"]
    assert found(glue, Filters=both, SearchText="customers") == ["sales.orders"]
    assert found(glue, Filters=both, SearchText="staff") == []
    # The Comparator is used only for time fields: on a string field it changes nothing
    assert found(
        glue, Filters=[{"Key": "DatabaseName", "Value": "hr", "Comparator": "GREATER_THAN"}]
    ) == ["hr.employees"]


def test_time_filters_compare_with_the_comparator(glue: Any) -> None:
    # Given orders updated after the catalog was built
    before_update = datetime.now(UTC) - timedelta(seconds=1)
    glue.update_table(
        DatabaseName="sales",
        TableInput={
            k: v
            for k, v in glue.get_table(DatabaseName="sales", Name="orders")["Table"].items()
            if k in ("Name", "Description", "StorageDescriptor", "PartitionKeys", "Parameters")
        },
    )
    since = before_update.isoformat()
    # When filtering on UpdateTime and CreateTime
    updated = found(
        glue, Filters=[{"Key": "UpdateTime", "Value": since, "Comparator": "GREATER_THAN_EQUALS"}]
    )
    older = found(glue, Filters=[{"Key": "UpdateTime", "Value": since, "Comparator": "LESS_THAN"}])
    created_after_1970 = found(
        glue, Filters=[{"Key": "CreateTime", "Value": "0", "Comparator": "GREATER_THAN"}]
    )
    created_in_future = found(
        glue,
        Filters=[
            {"Key": "CreateTime", "Value": "2999-01-01T00:00:00Z", "Comparator": "GREATER_THAN"}
        ],
    )
    # Then only the updated table has an UpdateTime at or after the update, none before it
    assert updated == ["sales.orders"]
    assert older == []
    # And every table was created after 1970, none after 2999
    assert created_after_1970 == ALL_TABLES
    assert created_in_future == []


# --- SortCriteria ---------------------------------------------------------------------------------


def test_sort_criteria_order_the_results(glue: Any) -> None:
    # Without criteria: by database, then table
    assert found(glue) == ALL_TABLES
    # By name, descending
    sales = [{"Key": "DatabaseName", "Value": "sales"}]
    assert found(glue, Filters=sales, SortCriteria=[{"FieldName": "Name", "Sort": "DESC"}]) == [
        "sales.orders_link",
        "sales.orders",
        "sales.customers",
    ]
    # By a parameter: tables without it come last, by database and table
    by_class = found(glue, SortCriteria=[{"FieldName": "meshgov:classification", "Sort": "ASC"}])
    assert by_class == [
        "hr.employees",  # confidential
        "sales.orders",  # internal
        "sales.customers",  # pii
        "links.customer-link",
        "links.xx-link-yy",
        "links.xxlinkyy",
        "sales.orders_link",
    ]
    descending = found(glue, SortCriteria=[{"FieldName": "meshgov:classification", "Sort": "DESC"}])
    assert descending[:3] == ["sales.customers", "sales.orders", "hr.employees"]
    assert descending[3:] == by_class[3:]


# --- Paging ---------------------------------------------------------------------------------------


def _decoded(token: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(base64.urlsafe_b64decode(token))
    return data


def test_pages_follow_next_token_to_the_end(glue: Any) -> None:
    # When the whole catalog is searched three tables at a time
    first = glue.search_tables(MaxResults=3)
    second = glue.search_tables(MaxResults=3, NextToken=first["NextToken"])
    third = glue.search_tables(MaxResults=3, NextToken=second["NextToken"])
    # Then the pages hold 3, 3 and 1 tables in order, the last without NextToken
    assert [names(page) for page in (first, second, third)] == [
        ALL_TABLES[0:3],
        ALL_TABLES[3:6],
        ALL_TABLES[6:],
    ]
    assert "NextToken" not in third
    # And the tokens are the same for the same search (offsets 3 and 6 of this search)
    assert glue.search_tables(MaxResults=3)["NextToken"] == first["NextToken"]
    assert (_decoded(first["NextToken"])["offset"], _decoded(second["NextToken"])["offset"]) == (
        3,
        6,
    )
    # And following one token twice serves the same page
    again = glue.search_tables(MaxResults=3, NextToken=first["NextToken"])
    assert names(again) == names(second) and again["NextToken"] == second["NextToken"]
    # And text, filters and sorting page the same way
    sorted_first = glue.search_tables(
        SearchText="customer", MaxResults=2, SortCriteria=[{"FieldName": "Name", "Sort": "DESC"}]
    )
    sorted_second = glue.search_tables(
        SearchText="customer",
        MaxResults=2,
        SortCriteria=[{"FieldName": "Name", "Sort": "DESC"}],
        NextToken=sorted_first["NextToken"],
    )
    assert names(sorted_first) == ["sales.orders", "sales.customers"]
    assert names(sorted_second) == ["links.customer-link"]
    assert "NextToken" not in sorted_second


def test_without_max_results_pages_hold_100_tables(mesh: AccountSessions) -> None:
    glue = mesh.client(PRODUCER, "glue")
    glue.create_database(DatabaseInput={"Name": "big"})
    for index in range(101):
        glue.create_table(DatabaseName="big", TableInput=_table(f"t{index:03d}"))
    first = glue.search_tables()
    rest = glue.search_tables(NextToken=first["NextToken"])
    assert len(first["TableList"]) == 100 and names(rest) == ["big.t100"]
    assert "NextToken" not in rest


def test_bad_max_results_and_bad_tokens_are_refused(mesh: AccountSessions, glue: Any) -> None:
    # Given a client that does not validate parameters itself (the service must)
    raw = mesh.session(PRODUCER).client(
        "glue", config=Config(parameter_validation=False, retries={"max_attempts": 1})
    )
    # When MaxResults is outside 1..1000, Then the constraint error of AWS is returned
    code, message = _error(lambda: glue.search_tables(MaxResults=1001))
    assert code == "ValidationException" and "less than or equal to 1000" in message
    code, message = _error(lambda: raw.search_tables(MaxResults=0))
    assert code == "ValidationException" and "greater than or equal to 1" in message
    # When the token is not one, or belongs to another search, Then the input is invalid
    code, message = _error(lambda: glue.search_tables(NextToken="not-a-token"))
    assert (code, "Invalid pagination token" in message) == ("InvalidInputException", True)
    other_search = glue.search_tables(MaxResults=1)["NextToken"]
    code, _ = _error(lambda: glue.search_tables(SearchText="customer", NextToken=other_search))
    assert code == "InvalidInputException"
    # When more than one sort criterion, an unknown comparator or a half predicate is sent
    two = [{"FieldName": "Name"}, {"FieldName": "Owner"}]
    assert _error(lambda: glue.search_tables(SortCriteria=two))[0] == "ValidationException"
    bad = [{"Key": "Name", "Value": "x", "Comparator": "LIKE"}]
    assert _error(lambda: raw.search_tables(Filters=bad))[0] == "ValidationException"
    half = [{"Key": "Name"}]
    assert _error(lambda: glue.search_tables(Filters=half))[0] == "InvalidInputException"
    bad_time = [{"Key": "CreateTime", "Value": "yesterday", "Comparator": "LESS_THAN"}]
    assert _error(lambda: glue.search_tables(Filters=bad_time))[0] == "InvalidInputException"


# --- What is searched and returned ------------------------------------------------------------


def test_tables_come_back_as_get_table_returns_them_resource_links_included(glue: Any) -> None:
    # When searching the sales database
    tables = glue.search_tables(Filters=[{"Key": "DatabaseName", "Value": "sales"}])["TableList"]
    # Then each table is the GetTable structure, with database and catalog
    for table in tables:
        expected = glue.get_table(DatabaseName="sales", Name=table["Name"])["Table"]
        assert table == expected
        assert (table["DatabaseName"], table["CatalogId"]) == ("sales", PRODUCER)
    # And the resource link is among them, with its target
    link = next(t for t in tables if t["Name"] == "orders_link")
    assert link["TargetTable"] == {
        "CatalogId": CENTRAL,
        "DatabaseName": "sales_sales",
        "Name": "orders",
    }


def test_resource_share_type_and_catalog_id(glue: Any) -> None:
    # The local catalog holds only the caller's own tables: nothing is shared or federated
    assert found(glue, ResourceShareType="FOREIGN") == []
    assert found(glue, ResourceShareType="FEDERATED") == []
    assert found(glue, ResourceShareType="ALL") == ALL_TABLES
    assert found(glue, CatalogId=PRODUCER) == ALL_TABLES
    # And another account's catalog is denied
    code, _ = _error(lambda: glue.search_tables(CatalogId=CENTRAL))
    assert code == "AccessDeniedException"


def test_search_tables_through_the_moto_server(served_mesh: AccountSessions) -> None:
    # Given the catalog, created through a moto server
    glue = served_mesh.client(PRODUCER, "glue")
    assert served_mesh.region == REGION
    _build_catalog(glue)
    # When searched through the server, with text, filters, sorting and paging
    first = glue.search_tables(SearchText="customer", MaxResults=2)
    second = glue.search_tables(SearchText="customer", MaxResults=2, NextToken=first["NextToken"])
    by_param = found(glue, Filters=[{"Key": "meshgov:classification", "Value": "pii"}])
    # Then the results are those of the in-process mock
    assert names(first) == ["links.customer-link", "sales.customers"]
    assert names(second) == ["sales.orders"] and "NextToken" not in second
    assert by_param == ["sales.customers"]
    assert isinstance(first["TableList"][1]["CreateTime"], datetime)
    code, _ = _error(lambda: glue.search_tables(MaxResults=1001))
    assert code == "ValidationException"
