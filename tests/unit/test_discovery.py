"""Discovery decisions: which central tables answer a query, and whether a viewer can read them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from meshgov.catalog.tags import expression_holds
from meshgov.discovery import (
    AccessIndex,
    DataProduct,
    DiscoveryError,
    FindQuery,
    FindQueryInvalidError,
    find_products,
)
from meshgov.discovery.find import (
    access_index,
    column_names,
    freshness,
    matches,
    select_products,
    tag_expression,
    tagged_tags,
)

CENTRAL, PRODUCER, OTHER_PRODUCER, CONSUMER = (
    "111111111111",
    "222222222222",
    "444444444444",
    "333333333333",
)
SYNCED = "2026-11-25T10:00:00+00:00"


def central_table(
    database: str,
    name: str,
    columns: tuple[str, ...] = ("id",),
    partition_keys: tuple[str, ...] = (),
    **parameters: str,
) -> dict[str, Any]:
    return {
        "DatabaseName": database,
        "Name": name,
        "CatalogId": CENTRAL,
        "StorageDescriptor": {"Columns": [{"Name": c, "Type": "string"} for c in columns]},
        "PartitionKeys": [{"Name": k, "Type": "string"} for k in partition_keys],
        "Parameters": {
            "meshgov:domain": "sales",
            "meshgov:source_account": PRODUCER,
            "meshgov:synced_at": SYNCED,
            **parameters,
        },
    }


ORDERS = central_table(
    "sales_sales",
    "orders",
    ("id", "customer_id", "amount"),
    ("day",),
    **{"meshgov:classification": "internal", "meshgov:owner_contact": "sales@example.com"},
)
CUSTOMERS = central_table(
    "sales_sales", "customers", ("id", "email"), **{"meshgov:classification": "pii"}
)
STAFF = central_table(
    "hr_people",
    "staff",
    ("id", "full_name"),
    **{"meshgov:domain": "hr", "meshgov:source_account": OTHER_PRODUCER},
)
LINK = {
    "DatabaseName": "sales_sales",
    "Name": "orders_link",
    "TargetTable": {"CatalogId": PRODUCER, "DatabaseName": "sales", "Name": "orders"},
}


def permission(
    resource: dict[str, Any],
    permissions: tuple[str, ...] = ("SELECT",),
    principal: str = CONSUMER,
    grant_option: tuple[str, ...] = (),
) -> dict[str, Any]:
    return {
        "Principal": {"DataLakePrincipalIdentifier": principal},
        "Resource": resource,
        "Permissions": list(permissions),
        "PermissionsWithGrantOption": list(grant_option),
    }


def table_resource(database: str, name: str, catalog: str = CENTRAL) -> dict[str, Any]:
    return {"Table": {"CatalogId": catalog, "DatabaseName": database, "Name": name}}


# --- the query ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "arguments",
    [
        {"owner": "2222"},
        {"viewer_account": "not-an-account"},
        {"tags": {"domain": []}},
        {"tags": {" ": ["x"]}},
        {"text": "x" * 1025},
    ],
    ids=["short owner", "bad viewer", "tag without values", "blank key", "long text"],
)
def test_a_query_that_can_never_be_answered_is_refused(arguments: dict[str, Any]) -> None:
    with pytest.raises(FindQueryInvalidError):
        FindQuery(**arguments)


def test_tag_queries_become_lower_case_expressions_of_alternatives() -> None:
    expression = tag_expression({"Domain": ["Sales", "sales", "HR"], "classification": ["pii"]})
    assert expression == [
        {"TagKey": "classification", "TagValues": ["pii"]},
        {"TagKey": "domain", "TagValues": ["hr", "sales"]},
    ]


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({"domain": ["sales"], "classification": ["pii"]}, True),
        ({"domain": ["sales"], "classification": ["public"]}, False),  # one condition fails
        ({"domain": ["sales"]}, False),  # a key is missing
        ({"domain": ["hr"], "classification": ["internal"]}, True),  # the other alternative
    ],
)
def test_an_expression_holds_when_every_condition_has_one_of_its_values(
    tags: dict[str, list[str]], expected: bool
) -> None:
    expression = [
        {"TagKey": "domain", "TagValues": ["sales", "hr"]},
        {"TagKey": "classification", "TagValues": ["pii", "internal"]},
    ]
    assert expression_holds(expression, tags) is expected


def test_a_wildcard_value_accepts_any_value_of_the_key() -> None:
    assert expression_holds([{"TagKey": "domain", "TagValues": ["*"]}], {"domain": ["x"]})
    assert not expression_holds([{"TagKey": "domain", "TagValues": ["*"]}], {})


# --- what a table says ----------------------------------------------------------------------------


def test_a_table_overrides_the_tags_it_inherits_from_its_database() -> None:
    tagged = {
        "Table": {"DatabaseName": "sales_sales", "Name": "customers"},
        "LFTagOnDatabase": [
            {"TagKey": "domain", "TagValues": ["sales"]},
            {"TagKey": "classification", "TagValues": ["internal"]},
        ],
        "LFTagsOnTable": [{"TagKey": "classification", "TagValues": ["pii"]}],
    }
    assert tagged_tags(tagged) == {"domain": ["sales"], "classification": ["pii"]}


def test_freshness_is_the_sync_time_else_glue_update_time() -> None:
    updated = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert freshness(ORDERS) == datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    assert freshness({"Parameters": {}, "UpdateTime": updated}) == updated
    assert freshness({"Parameters": {"meshgov:synced_at": "garbage"}, "UpdateTime": updated}) == (
        updated
    )
    assert freshness({"Parameters": {"meshgov:synced_at": "2026-11-25T10:00:00"}}) == datetime(
        2026, 11, 25, 10, 0, tzinfo=UTC
    )
    assert freshness({"Name": "never-updated"}) is None


def test_columns_include_partition_keys() -> None:
    assert column_names(ORDERS) == ("id", "customer_id", "amount", "day")


@pytest.mark.parametrize(
    ("query", "orders", "staff"),
    [
        (FindQuery(), True, True),
        (FindQuery(domain="sales"), True, False),
        (FindQuery(domain="SALES"), True, False),
        (FindQuery(domain="sale"), False, False),  # exact, not a token or prefix
        (FindQuery(owner=OTHER_PRODUCER), False, True),
        (FindQuery(column="customer_id"), True, False),
        (FindQuery(column="DAY"), True, False),  # a partition key, any case
        (FindQuery(column="customer"), False, False),  # a whole column name
        (FindQuery(domain="hr", column="full_name"), False, True),
        (FindQuery(domain="hr", owner=PRODUCER), False, False),
    ],
)
def test_domain_owner_and_column_are_matched_exactly(
    query: FindQuery, orders: bool, staff: bool
) -> None:
    assert (matches(ORDERS, query), matches(STAFF, query)) == (orders, staff)


# --- access ---------------------------------------------------------------------------------------


def test_the_viewer_reads_tables_granted_by_name_columns_wildcard_or_tag_policy() -> None:
    # Given grants of the central catalog, to the viewer and to others
    grants = [
        permission(table_resource("sales_sales", "orders")),
        permission(
            {
                "TableWithColumns": {
                    "CatalogId": CENTRAL,
                    "DatabaseName": "sales_sales",
                    "Name": "customers",
                    "ColumnNames": ["id"],
                }
            }
        ),
        permission(
            {"Table": {"CatalogId": CENTRAL, "DatabaseName": "hr_people", "TableWildcard": {}}}
        ),
        permission(
            {
                "LFTagPolicy": {
                    "CatalogId": CENTRAL,
                    "ResourceType": "TABLE",
                    "Expression": [{"TagKey": "Domain", "TagValues": ["Finance"]}],
                }
            }
        ),
        # Not reading grants: DESCRIBE only, another principal, another catalog, database policy
        permission(table_resource("sales_sales", "returns"), ("DESCRIBE",)),
        permission(table_resource("sales_sales", "refunds"), principal="555555555555"),
        permission(table_resource("sales_sales", "invoices", catalog=PRODUCER)),
        permission(
            {
                "LFTagPolicy": {
                    "CatalogId": CENTRAL,
                    "ResourceType": "DATABASE",
                    "Expression": [{"TagKey": "domain", "TagValues": ["marketing"]}],
                }
            }
        ),
        # ALL held only with the grant option still reads
        permission(table_resource("ops", "runs"), (), grant_option=("ALL",)),
    ]
    # When the viewer's index is built
    index = access_index(grants, CONSUMER, CENTRAL)
    # Then it reads exactly what it was granted
    assert index.tables == {
        ("sales_sales", "orders"),
        ("sales_sales", "customers"),
        ("ops", "runs"),
    }
    assert index.databases == {"hr_people"}
    assert index.allows(("hr_people", "anything"), {})
    assert index.allows(("fin", "ledger"), {"domain": ["finance"]})
    assert not index.allows(("fin", "budget"), {"domain": ["sales"]})
    for ref in (
        ("sales_sales", "returns"),
        ("sales_sales", "refunds"),
        ("sales_sales", "invoices"),
    ):
        assert not index.allows(ref, {})
    assert not index.allows(("mkt", "campaigns"), {"domain": ["marketing"]})


# --- the products ---------------------------------------------------------------------------------


def test_products_are_the_matching_tables_without_resource_links_sorted() -> None:
    tags = {("sales_sales", "customers"): {"domain": ["sales"], "classification": ["pii"]}}
    products = select_products(
        [STAFF, LINK, CUSTOMERS, ORDERS],
        FindQuery(domain="sales", viewer_account=CONSUMER),
        tags,
        AccessIndex(tables=frozenset({("sales_sales", "orders")})),
    )
    assert [p.name for p in products] == ["sales_sales.customers", "sales_sales.orders"]
    customers, orders = products
    assert orders == DataProduct(
        database="sales_sales",
        table="orders",
        domain="sales",
        owner_account=PRODUCER,
        classification="internal",
        owner_contact="sales@example.com",
        freshness=datetime(2026, 11, 25, 10, 0, tzinfo=UTC),
        columns=("id", "customer_id", "amount", "day"),
        tags={},
        viewer_has_access=True,
    )
    assert (customers.owner_contact, customers.tags, customers.viewer_has_access) == (
        "",
        {"classification": ["pii"], "domain": ["sales"]},
        False,
    )


def test_a_tag_query_keeps_only_the_tables_lake_formation_matched() -> None:
    # Given Lake Formation found only customers for domain=sales AND classification=pii
    found = {("sales_sales", "customers"): {"domain": ["sales"], "classification": ["pii"]}}
    query = FindQuery(tags={"Domain": ["Sales"], "classification": ["pii", "public"]})
    # When the Glue results are selected, Then only customers remains, and no viewer: None
    products = select_products([ORDERS, CUSTOMERS, STAFF], query, found, None)
    assert [(p.name, p.viewer_has_access) for p in products] == [("sales_sales.customers", None)]


def test_a_product_as_json() -> None:
    [product] = select_products([ORDERS], FindQuery(), {}, None)
    data = json.loads(json.dumps(product.as_dict()))
    assert data == {
        "product": "sales_sales.orders",
        "database": "sales_sales",
        "table": "orders",
        "domain": "sales",
        "owner_account": PRODUCER,
        "classification": "internal",
        "owner_contact": "sales@example.com",
        "freshness": SYNCED,
        "columns": ["id", "customer_id", "amount", "day"],
        "tags": {},
        "viewer_has_access": None,
        "consumers": None,  # usage not read
        "quality": None,  # never scored
        "contract": None,  # no contract store asked
        "lineage": None,  # no lineage asked
    }


# --- the adapter, on stand-in clients ----------------------------------------------------------


def client_error(code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, operation)


class Pages:
    def __init__(self, pages: list[dict[str, Any]]) -> None:
        self.pages = pages

    def paginate(self, **_: Any) -> list[dict[str, Any]]:
        return self.pages


class FakeGlue:
    """SearchTables in two pages, recording each request."""

    def __init__(self, tables: list[dict[str, Any]], error: ClientError | None = None) -> None:
        self.tables = tables
        self.error = error
        self.requests: list[dict[str, Any]] = []

    def search_tables(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        if self.error:
            raise self.error
        if "NextToken" not in request:
            return {"TableList": self.tables[:1], "NextToken": "page-2"}
        return {"TableList": self.tables[1:]}


class FakeLakeFormation:
    def __init__(
        self,
        tagged: list[dict[str, Any]] | None = None,
        tags: list[dict[str, Any]] | None = None,
        grants: list[dict[str, Any]] | None = None,
        search_error: ClientError | None = None,
    ) -> None:
        self.tagged = tagged or []
        self.tags = tags or []
        self.grants = grants or []
        self.search_error = search_error
        self.expressions: list[Any] = []
        self.listed: list[dict[str, Any]] = []

    def get_paginator(self, name: str) -> Any:
        lf = self

        class Search:
            def paginate(self, **request: Any) -> list[dict[str, Any]]:
                lf.expressions.append(request["Expression"])
                if lf.search_error:
                    raise lf.search_error
                return [{"TableList": lf.tagged}]

        if name == "search_tables_by_lf_tags":
            return Search()
        assert name == "list_lf_tags"
        return Pages([{"LFTags": self.tags}])

    def list_permissions(self, **request: Any) -> dict[str, Any]:
        self.listed.append(request)
        return {"PrincipalResourcePermissions": self.grants}


def test_find_follows_search_pages_and_asks_lake_formation_once_per_need() -> None:
    # Given Glue answering in two pages, and customers tagged
    glue = FakeGlue([ORDERS, CUSTOMERS, LINK])
    lf = FakeLakeFormation(
        tagged=[
            {
                "Table": {"DatabaseName": "sales_sales", "Name": "customers"},
                "LFTagsOnTable": [{"TagKey": "classification", "TagValues": ["pii"]}],
            }
        ],
        tags=[{"TagKey": "classification", "TagValues": ["pii", "public"]}],
        grants=[permission(table_resource("sales_sales", "customers"))],
    )
    # When searching as the consumer
    products = find_products(
        glue, lf, CENTRAL, FindQuery(text="  customer  ", viewer_account=CONSUMER)
    )
    # Then both pages were read with the text, in the central catalog
    assert glue.requests == [
        {"CatalogId": CENTRAL, "MaxResults": 1000, "SearchText": "customer"},
        {"CatalogId": CENTRAL, "MaxResults": 1000, "SearchText": "customer", "NextToken": "page-2"},
    ]
    # And tags were read key by key, grants by resource type
    assert lf.expressions == [[{"TagKey": "classification", "TagValues": ["pii", "public"]}]]
    assert [r["ResourceType"] for r in lf.listed] == ["TABLE", "LF_TAG_POLICY_TABLE"]
    assert [(p.name, p.tags, p.viewer_has_access) for p in products] == [
        ("sales_sales.customers", {"classification": ["pii"]}, True),
        ("sales_sales.orders", {}, False),
    ]


def test_nothing_found_in_glue_asks_lake_formation_nothing() -> None:
    lf = FakeLakeFormation()
    assert find_products(FakeGlue([]), lf, CENTRAL, FindQuery(tags={"domain": ["x"]})) == []
    assert lf.expressions == [] and lf.listed == []


def test_aws_errors_become_discovery_errors() -> None:
    denied = FakeGlue([], error=client_error("AccessDeniedException", "SearchTables"))
    with pytest.raises(DiscoveryError, match="AccessDeniedException"):
        find_products(denied, FakeLakeFormation(), CENTRAL, FindQuery())
    # An unknown LF-Tag key is the query's fault
    unknown = FakeLakeFormation(
        search_error=client_error("EntityNotFoundException", "SearchTablesByLFTags")
    )
    with pytest.raises(FindQueryInvalidError, match="nope"):
        find_products(FakeGlue([ORDERS]), unknown, CENTRAL, FindQuery(tags={"nope": ["x"]}))


# --- classification: one notion for find, the policy and posture (issue 17, item 7) -----------


def test_a_classification_query_matches_the_parameter_when_no_lf_tag_classifies() -> None:
    # Given no LF-Tag key "classification" in the central catalog (nothing tagged)
    lf = FakeLakeFormation()
    # When asking for classification=internal
    products = find_products(
        FakeGlue([ORDERS, CUSTOMERS, STAFF]),
        lf,
        CENTRAL,
        FindQuery(tags={"Classification": ["Internal"]}),
    )
    # Then the product classified internal by its parameter is found, Lake Formation never asked
    # to search a tag key that does not exist
    assert [(p.name, p.classification) for p in products] == [("sales_sales.orders", "internal")]
    assert lf.expressions == []


def test_an_lf_tag_classification_counts_before_the_parameter() -> None:
    # Given orders' parameter says internal, but its database is tagged classification=pii
    tagged = {
        "Table": {"DatabaseName": "sales_sales", "Name": "orders"},
        "LFTagOnDatabase": [{"TagKey": "classification", "TagValues": ["pii"]}],
    }
    lf = FakeLakeFormation(
        tagged=[tagged], tags=[{"TagKey": "classification", "TagValues": ["pii", "public"]}]
    )

    def find(**tags: list[str]) -> list[tuple[str, str]]:
        products = find_products(FakeGlue([ORDERS, CUSTOMERS]), lf, CENTRAL, FindQuery(tags=tags))
        return [(p.name, p.classification) for p in products]

    # Then find shows, and matches, the policy's classification: the tag's
    assert find() == [("sales_sales.customers", "pii"), ("sales_sales.orders", "pii")]
    assert find(classification=["pii"]) == [
        ("sales_sales.customers", "pii"),
        ("sales_sales.orders", "pii"),
    ]
    assert find(classification=["internal"]) == []
    assert find(classification=["*"]) == [
        ("sales_sales.customers", "pii"),
        ("sales_sales.orders", "pii"),
    ]
