"""Issue 4 decisions: the grants an approved request becomes, and the approval policy."""

from __future__ import annotations

import pytest

from meshgov.access.grants import (
    GrantRefusedError,
    batches,
    named_grants,
    tag_policy_grants,
)
from meshgov.access.policy import ApprovalPolicy, Verdict
from meshgov.contracts.access_events import NamedResource, Permission, TagExpression

CENTRAL, CONSUMER = "111111111111", "333333333333"
BOTH = [Permission.SELECT, Permission.DESCRIBE]


def test_named_tables_get_database_describe_and_table_permissions_with_grant_option() -> None:
    entries = named_grants(CENTRAL, NamedResource(database="sales_sales", tables=["a", "b"]), BOTH)
    batch = batches(entries, CONSUMER)[0]
    assert [e["Resource"] for e in batch] == [
        {"Database": {"CatalogId": CENTRAL, "Name": "sales_sales"}},
        {"Table": {"CatalogId": CENTRAL, "DatabaseName": "sales_sales", "Name": "a"}},
        {"Table": {"CatalogId": CENTRAL, "DatabaseName": "sales_sales", "Name": "b"}},
    ]
    assert all(e["Principal"] == {"DataLakePrincipalIdentifier": CONSUMER} for e in batch)
    assert all(e["PermissionsWithGrantOption"] == e["Permissions"] for e in batch)
    assert batch[1]["Permissions"] == ["DESCRIBE", "SELECT"]


def test_columns_are_granted_on_table_with_columns() -> None:
    resource = NamedResource(database="d", tables=["t"], columns=["id", "amount"])
    (_, columns) = named_grants(CENTRAL, resource, BOTH)
    assert columns.resource["TableWithColumns"]["ColumnNames"] == ["id", "amount"]
    assert columns.permissions == ("SELECT",)


def test_a_whole_database_is_granted_through_the_table_wildcard() -> None:
    (_, tables) = named_grants(CENTRAL, NamedResource(database="d"), [Permission.SELECT])
    assert tables.resource["Table"]["TableWildcard"] == {}


def test_tag_expressions_become_lf_tag_policies() -> None:
    expression = TagExpression.model_validate(
        {"conditions": [{"key": "domain", "values": ["sales"]}]}
    )
    db, tables = tag_policy_grants(CENTRAL, expression, BOTH)
    assert db.resource["LFTagPolicy"]["ResourceType"] == "DATABASE"
    assert tables.resource["LFTagPolicy"]["Expression"] == [
        {"TagKey": "domain", "TagValues": ["sales"]}
    ]


def test_batches_never_exceed_twenty_entries() -> None:
    tables = [f"t{i}" for i in range(45)]
    entries = named_grants(CENTRAL, NamedResource(database="d", tables=tables), BOTH)
    assert [len(b) for b in batches(entries, CONSUMER)] == [20, 20, 6]


@pytest.mark.parametrize("permissions", [[], ["DROP"], ["ALTER"], ["SELECT", "DROP"]])
def test_only_select_and_describe_are_ever_granted(permissions: list[str]) -> None:
    with pytest.raises(GrantRefusedError):
        named_grants(CENTRAL, NamedResource(database="d"), permissions)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("duration", "classifications", "verdict"),
    [
        (30, ["public"], Verdict.AUTO_APPROVE),
        (30, ["Public ", "public"], Verdict.AUTO_APPROVE),
        (30, ["public", "internal"], Verdict.ASK_PRODUCER),
        (30, ["public", ""], Verdict.ASK_PRODUCER),
        (30, [], Verdict.ASK_PRODUCER),
        (91, ["public"], Verdict.AUTO_DENY),
    ],
)
def test_approval_policy(duration: int, classifications: list[str], verdict: Verdict) -> None:
    policy = ApprovalPolicy(
        max_duration_days=90, auto_approve_classifications=frozenset({"public"})
    )
    assert policy.evaluate(duration, classifications)[0] is verdict
