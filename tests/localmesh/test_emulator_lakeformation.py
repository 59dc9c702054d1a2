"""Lake Formation LF-Tags: search, inheritance, merging, lower case (see lakeformation.py)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from localmesh_support import PRODUCER, table_input

from meshgov_local.accounts import AccountSessions


def _table(database: str, name: str) -> dict[str, Any]:
    return {"Table": {"CatalogId": PRODUCER, "DatabaseName": database, "Name": name}}


def _database(name: str) -> dict[str, Any]:
    return {"Database": {"CatalogId": PRODUCER, "Name": name}}


def _tag(key: str, value: str) -> dict[str, Any]:
    return {"TagKey": key, "TagValues": [value]}


def _pairs(tags: list[dict[str, Any]] | None) -> dict[str, list[str]]:
    return {tag["TagKey"]: tag["TagValues"] for tag in tags or []}


@pytest.fixture
def lf(mesh: AccountSessions) -> Any:
    """The producer's catalog: sales (orders, customers), hr (staff); two LF-Tags."""
    glue = mesh.client(PRODUCER, "glue")
    for database, tables in {"sales": ["orders", "customers"], "hr": ["staff"]}.items():
        glue.create_database(DatabaseInput={"Name": database})
        for table in tables:
            glue.create_table(DatabaseName=database, TableInput=table_input(table, ("id", "email")))
    client = mesh.client(PRODUCER, "lakeformation")
    client.create_lf_tag(TagKey="Domain", TagValues=["Sales", "HR"])
    client.create_lf_tag(TagKey="classification", TagValues=["public", "confidential"])
    return client


def test_lf_tag_keys_and_values_are_stored_in_lower_case(lf: Any) -> None:
    # Given a tag created as Domain = Sales, HR
    # When the tags are read back, by either case
    listed = {tag["TagKey"]: tag["TagValues"] for tag in lf.list_lf_tags()["LFTags"]}
    fetched = lf.get_lf_tag(TagKey="DOMAIN")

    # Then key and values are lower case
    assert listed["domain"] == ["sales", "hr"]
    assert (fetched["TagKey"], fetched["TagValues"]) == ("domain", ["sales", "hr"])


def test_add_lf_tags_merges_and_a_known_key_takes_the_new_value(lf: Any) -> None:
    # Given a table tagged domain=sales
    lf.add_lf_tags_to_resource(Resource=_table("sales", "orders"), LFTags=[_tag("Domain", "Sales")])

    # When another key is added, then the first key again with another value
    lf.add_lf_tags_to_resource(
        Resource=_table("sales", "orders"), LFTags=[_tag("classification", "public")]
    )
    lf.add_lf_tags_to_resource(Resource=_table("sales", "orders"), LFTags=[_tag("domain", "hr")])

    # Then the table holds both keys, domain with its new value only
    tags = lf.get_resource_lf_tags(Resource=_table("sales", "orders"))["LFTagsOnTable"]
    assert _pairs(tags) == {"domain": ["hr"], "classification": ["public"]}


def test_adding_an_undefined_tag_value_fails_and_changes_nothing(lf: Any) -> None:
    # Given an untagged table
    # When a value that the tag does not define is added
    response = lf.add_lf_tags_to_resource(
        Resource=_table("sales", "orders"), LFTags=[_tag("domain", "finance")]
    )

    # Then the failure is reported and the table stays untagged
    assert response["Failures"][0]["Error"]["ErrorCode"] == "EntityNotFoundException"
    assert lf.get_resource_lf_tags(Resource=_table("sales", "orders"))["LFTagsOnTable"] == []


def test_untagged_resources_answer_empty_lists(lf: Any) -> None:
    # Given a database and a table without LF-Tags
    # When their tags are read
    table = lf.get_resource_lf_tags(Resource=_table("sales", "orders"))
    database = lf.get_resource_lf_tags(Resource=_database("sales"))

    # Then empty lists come back instead of an error
    assert table["LFTagsOnTable"] == []
    assert database["LFTagOnDatabase"] == []


def test_remove_lf_tags_removes_the_key(lf: Any) -> None:
    # Given a table with two tags
    lf.add_lf_tags_to_resource(
        Resource=_table("sales", "orders"),
        LFTags=[_tag("domain", "sales"), _tag("classification", "public")],
    )

    # When one key is removed
    lf.remove_lf_tags_from_resource(
        Resource=_table("sales", "orders"), LFTags=[_tag("Domain", "sales")]
    )

    # Then only the other remains
    tags = lf.get_resource_lf_tags(Resource=_table("sales", "orders"))["LFTagsOnTable"]
    assert _pairs(tags) == {"classification": ["public"]}


def test_search_tables_by_lf_tags_uses_inherited_and_own_tags(lf: Any) -> None:
    # Given sales tagged domain=sales (inherited by its tables), orders public, customers
    # confidential with domain overridden to hr, hr's staff tagged domain=hr and public
    lf.add_lf_tags_to_resource(Resource=_database("sales"), LFTags=[_tag("domain", "sales")])
    lf.add_lf_tags_to_resource(
        Resource=_table("sales", "orders"), LFTags=[_tag("classification", "public")]
    )
    lf.add_lf_tags_to_resource(
        Resource=_table("sales", "customers"),
        LFTags=[_tag("classification", "confidential"), _tag("domain", "hr")],
    )
    lf.add_lf_tags_to_resource(
        Resource=_table("hr", "staff"),
        LFTags=[_tag("domain", "hr"), _tag("classification", "public")],
    )

    def search(*conditions: dict[str, Any]) -> list[str]:
        tables = lf.search_tables_by_lf_tags(Expression=list(conditions))["TableList"]
        return [f"{t['Table']['DatabaseName']}.{t['Table']['Name']}" for t in tables]

    # When tables are searched by expressions
    # Then conditions are AND-ed, values of one condition OR-ed, own tags override inherited
    assert search({"TagKey": "domain", "TagValues": ["sales"]}) == ["sales.orders"]
    assert search({"TagKey": "Domain", "TagValues": ["HR"]}) == ["hr.staff", "sales.customers"]
    assert search({"TagKey": "domain", "TagValues": ["hr"]}, _tag("classification", "public")) == [
        "hr.staff"
    ]
    assert search({"TagKey": "classification", "TagValues": ["public", "confidential"]}) == [
        "hr.staff",
        "sales.customers",
        "sales.orders",
    ]
    # And each result lists all the table's tags, not only the matched ones
    [orders] = lf.search_tables_by_lf_tags(Expression=[_tag("classification", "public")])[
        "TableList"
    ][1:]
    assert orders["Table"] == {"CatalogId": PRODUCER, "DatabaseName": "sales", "Name": "orders"}
    assert _pairs(orders["LFTagOnDatabase"]) == {"domain": ["sales"]}
    assert _pairs(orders["LFTagsOnTable"]) == {"classification": ["public"], "domain": ["sales"]}
    assert {column["Name"] for column in orders["LFTagsOnColumns"]} == {"id", "email"}


def test_search_tables_pages_by_100(mesh: AccountSessions, lf: Any) -> None:
    # Given 150 tables in a database tagged domain=sales
    glue = mesh.client(PRODUCER, "glue")
    for index in range(148):
        glue.create_table(DatabaseName="sales", TableInput=table_input(f"extra_{index:03d}"))
    lf.add_lf_tags_to_resource(Resource=_database("sales"), LFTags=[_tag("domain", "sales")])
    expression = [_tag("domain", "sales")]

    # When they are searched without MaxResults, then following NextToken
    first = lf.search_tables_by_lf_tags(Expression=expression)
    second = lf.search_tables_by_lf_tags(Expression=expression, NextToken=first["NextToken"])
    paginated = lf.get_paginator("search_tables_by_lf_tags").paginate(
        Expression=expression, PaginationConfig={"PageSize": 60}
    )

    # Then pages hold 100 then 50 tables, every table once
    assert [len(first["TableList"]), len(second["TableList"])] == [100, 50]
    assert "NextToken" not in second
    assert [len(page["TableList"]) for page in paginated] == [60, 60, 30]
    names = {t["Table"]["Name"] for page in (first, second) for t in page["TableList"]}
    assert len(names) == 150
    # And more than 100 per page is refused
    with pytest.raises(ClientError) as error:
        lf.search_tables_by_lf_tags(Expression=expression, MaxResults=101)
    assert error.value.response["Error"]["Code"] == "ValidationException"


def test_search_databases_by_lf_tags(lf: Any) -> None:
    # Given sales tagged domain=sales and hr tagged domain=hr
    lf.add_lf_tags_to_resource(Resource=_database("sales"), LFTags=[_tag("domain", "sales")])
    lf.add_lf_tags_to_resource(Resource=_database("hr"), LFTags=[_tag("domain", "hr")])

    # When databases are searched for domain=sales or hr, and for an unknown key
    found = lf.search_databases_by_lf_tags(
        Expression=[{"TagKey": "domain", "TagValues": ["sales", "hr"]}]
    )["DatabaseList"]
    with pytest.raises(ClientError) as error:
        lf.search_databases_by_lf_tags(Expression=[_tag("owner", "me")])

    # Then both databases come back with their tags, and the unknown key is an error
    assert [(db["Database"]["Name"], _pairs(db["LFTags"])) for db in found] == [
        ("hr", {"domain": ["hr"]}),
        ("sales", {"domain": ["sales"]}),
    ]
    assert error.value.response["Error"]["Code"] == "EntityNotFoundException"
