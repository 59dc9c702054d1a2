"""Filtered access (meshgov.access.filters): checking a request's filters against the table,
narrowing by the producer, the filter Lake Formation is asked to make, and the policy rule."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from meshgov.access.filters import (
    FILTER_NAME_MAX,
    CellSpec,
    checked,
    filter_name,
    filter_resource,
    narrowed,
    requested_specs,
    spec_of,
    table_columns,
    table_data,
)
from meshgov.access.grants import central_grant_entries, link_grant_entries
from meshgov.access.policy import ApprovalPolicy, Verdict
from meshgov.access.resolve import AccessRequestRefusedError
from meshgov.access.row_filters import parse_row_filter
from meshgov.access.store import Coverage
from meshgov.contracts.access_events import (
    AccessDecidedDetail,
    NamedResource,
    Permission,
    TableFilter,
)

CENTRAL = "111111111111"
ORDERS: dict[str, Any] = {
    "Name": "orders",
    "StorageDescriptor": {
        "Columns": [
            {"Name": "order_id", "Type": "bigint"},
            {"Name": "email", "Type": "string"},
            {"Name": "country", "Type": "string"},
            {"Name": "amount", "Type": "decimal(10,2)"},
        ]
    },
    "PartitionKeys": [{"Name": "day", "Type": "string"}],
}


def _canonical(text: str) -> str:
    return parse_row_filter(text, table_columns(ORDERS)).text


def _filter(**fields: Any) -> TableFilter:
    return TableFilter.model_validate({"table": "orders", **fields})


def test_a_filter_is_checked_against_the_tables_columns_and_canonicalised() -> None:
    spec = checked(
        "sales_sales", _filter(excludedColumns=["EMAIL"], rowFilter="country='DE'"), ORDERS
    )
    assert spec.excluded == ("email",)
    assert spec.row_filter == _canonical("country = 'DE'")
    assert spec.visible(["order_id", "email", "country", "amount", "day"]) == [
        "order_id",
        "country",
        "amount",
        "day",
    ]


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"columns": ["nope"]}, "ColumnUnknown"),
        ({"excludedColumns": ["nope"]}, "ColumnUnknown"),
        ({"excludedColumns": ["order_id", "email", "country", "amount", "day"]}, "FilterEmpty"),
        ({"rowFilter": "salary > 10"}, "RowFilterColumnUnknown"),
        ({"rowFilter": "country = 'DE"}, "RowFilterInvalid"),
        ({"rowFilter": "country = 'DE'; DROP TABLE x"}, "RowFilterInvalid"),
        ({"rowFilter": "country = '" + "x" * 2100 + "'"}, "RowFilterTooLong"),
    ],
)
def test_a_bad_filter_is_refused_with_its_rule(fields: dict[str, Any], code: str) -> None:
    with pytest.raises(AccessRequestRefusedError) as refused:
        checked("sales_sales", _filter(**fields), ORDERS)
    assert refused.value.code == code
    assert "sales_sales.orders" in str(refused.value)


def test_the_contract_refuses_both_column_lists_an_empty_filter_and_stray_tables() -> None:
    with pytest.raises(ValidationError, match="not both"):
        _filter(columns=["a"], excludedColumns=["b"])
    with pytest.raises(ValidationError, match="needs columns"):
        _filter()
    with pytest.raises(ValidationError, match="the request does not"):
        NamedResource.model_validate(
            {
                "database": "d",
                "tables": ["orders"],
                "filters": [{"table": "other", "columns": ["a"]}],
            }
        )
    with pytest.raises(ValidationError, match="only an approval"):
        AccessDecidedDetail.model_validate(
            {
                "requestId": "r",
                "decision": "DENY",
                "reason": "no",
                "filters": [{"table": "orders", "columns": ["a"]}],
            }
        )


def _requested(**fields: Any) -> tuple[CellSpec, ...]:
    return requested_specs("sales_sales", [_filter(**fields)], {"orders": ORDERS})


def test_a_producer_may_narrow_columns_and_rows() -> None:
    current = _requested(excludedColumns=["email"], rowFilter="country = 'DE'")
    (spec,) = narrowed(
        current,
        [_filter(columns=["order_id", "amount"], rowFilter="country = 'DE' AND amount >= 10")],
        {"orders": ORDERS},
        "sales_sales",
    )
    assert spec.columns == ("order_id", "amount")
    assert spec.row_filter == _canonical("country = 'DE' AND amount >= 10")


def test_a_producer_may_filter_a_table_requested_whole() -> None:
    (spec,) = narrowed((), [_filter(rowFilter="country = 'FR'")], {"orders": ORDERS}, "sales_sales")
    assert spec.row_filter == _canonical("country = 'FR'")


@pytest.mark.parametrize(
    "decided",
    [
        {"columns": ["order_id", "email"]},  # email was excluded
        {"excludedColumns": ["amount"]},  # shows email again
        {"excludedColumns": ["email"]},  # drops the row filter
        {"excludedColumns": ["email"], "rowFilter": "country = 'DE' OR country = 'FR'"},
        {"excludedColumns": ["email"], "rowFilter": "country = 'FR'"},
    ],
)
def test_a_widening_is_refused(decided: dict[str, Any]) -> None:
    current = _requested(excludedColumns=["email"], rowFilter="country = 'DE'")
    with pytest.raises(AccessRequestRefusedError) as refused:
        narrowed(current, [_filter(**decided)], {"orders": ORDERS}, "sales_sales")
    assert refused.value.code == "DecisionWidens"


def test_a_filter_on_a_table_the_request_does_not_cover_is_refused() -> None:
    with pytest.raises(AccessRequestRefusedError, match="does not cover"):
        narrowed((), [_filter(columns=["order_id"])], {}, "sales_sales")


def test_filter_names_are_per_request_and_table_and_fit_lake_formation() -> None:
    assert filter_name("req-a", "orders") != filter_name("req-b", "orders")
    assert filter_name("req-a", "orders") == filter_name("req-a", "orders")
    long_a, long_b = "t" * 255, "t" * 254 + "u"
    assert len(filter_name("req-" + "0" * 24, long_a)) <= FILTER_NAME_MAX
    assert filter_name("req-a", long_a) != filter_name("req-a", long_b)


def test_the_filter_lake_formation_is_asked_to_make_round_trips() -> None:
    (spec,) = _requested(excludedColumns=["email"], rowFilter="country = 'DE'")
    data = table_data(CENTRAL, "req-1", spec)
    assert data == {
        "TableCatalogId": CENTRAL,
        "DatabaseName": "sales_sales",
        "TableName": "orders",
        "Name": "meshgov-req-1-orders",
        "RowFilter": {"FilterExpression": _canonical("country = 'DE'")},
        "ColumnWildcard": {"ExcludedColumnNames": ["email"]},
    }
    assert spec_of(data) == spec
    (whole,) = _requested(columns=["order_id"])
    assert table_data(CENTRAL, "req-1", whole)["RowFilter"] == {"AllRowsWildcard": {}}


def test_a_filtered_table_is_granted_through_its_filter_only() -> None:
    (spec,) = _requested(excludedColumns=["email"])
    filtered = {("sales_sales", "orders"): filter_resource(CENTRAL, "req-1", spec)}
    cover = [Coverage("sales_sales", ("customers", "orders"))]
    perms = [Permission.SELECT, Permission.DESCRIBE]
    entries = central_grant_entries(CENTRAL, "333333333333", cover, perms, None, filtered)
    resources = [(e["Resource"], e["Permissions"]) for e in entries]
    assert ({"Database": {"CatalogId": CENTRAL, "Name": "sales_sales"}}, ["DESCRIBE"]) in resources
    assert (
        {"Table": {"CatalogId": CENTRAL, "DatabaseName": "sales_sales", "Name": "customers"}},
        ["DESCRIBE", "SELECT"],
    ) in resources
    assert (dict(filtered[("sales_sales", "orders")]), ["SELECT"]) in resources
    assert not any(r.get("Table", {}).get("Name") == "orders" for r, _ in resources)
    assert all(e["PermissionsWithGrantOption"] == e["Permissions"] for e in entries)
    role = "arn:aws:iam::333333333333:role/analyst"
    links = link_grant_entries(CENTRAL, role, cover, perms, filtered)
    assert {
        "principal": role,
        "resource": dict(filtered[("sales_sales", "orders")]),
        "permissions": ["SELECT"],
    } in links
    assert not any(g["resource"].get("Table", {}).get("Name") == "orders" for g in links)


def test_the_policy_denies_a_table_it_requires_filtered_when_unfiltered() -> None:
    policy = ApprovalPolicy(filter_required_classifications=frozenset({"confidential"}))
    verdict, why = policy.evaluate(30, ["confidential"], [("orders", "confidential")])
    assert verdict is Verdict.AUTO_DENY
    assert "orders (confidential)" in why
    verdict, _ = policy.evaluate(30, ["confidential"], [])
    assert verdict is Verdict.ASK_PRODUCER
