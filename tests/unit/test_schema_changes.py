"""Which schema changes break a table's consumers (meshgov.catalog.schema): a decimal that only
grows so every old value fits is a widening, anything that can lose a digit is breaking."""

from __future__ import annotations

from typing import Any

import pytest

from meshgov.catalog.canonical import LAST_BREAKING_CHANGE, SCHEMA_VERSION
from meshgov.catalog.plan import Action, plan_table
from meshgov.catalog.schema import Schema, compare_schemas, type_widens
from meshgov_local.observe import schema_change_words


def amount(type_name: str) -> Schema:
    return Schema(columns=(("id", "bigint"), ("amount", type_name)), partition_keys=())


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("decimal(10,2)", "decimal(18,4)"),  # the case: 8 integer digits -> 14, 2 -> 4
        ("decimal(10,2)", "decimal(12,2)"),  # more integer digits
        ("decimal(10,2)", "decimal(11,3)"),  # one more fractional digit, integer digits kept
        ("decimal(9)", "decimal(10,1)"),  # decimal(p) has scale 0
        ("decimal(10, 2)", "decimal(10,2)"),  # the same type, written differently
        ("DECIMAL(10,2)", "decimal(38,10)"),
    ],
)
def test_a_decimal_every_old_value_fits_in_is_a_widening(old: str, new: str) -> None:
    assert type_widens(old, new)
    change = compare_schemas(amount(old.lower()), amount(new))
    assert change.changed and not change.breaking
    assert change.widened_columns == (("amount", old.lower(), new),)
    assert change.retyped_columns == ()
    assert change.summary()["widened_columns"] == [["amount", old.lower(), new]]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("decimal(18,4)", "decimal(10,2)"),  # narrowing
        ("decimal(10,2)", "decimal(10,4)"),  # scale up, precision kept: 2 integer digits lost
        ("decimal(10,2)", "decimal(18,1)"),  # a fractional digit lost
        ("decimal(10,2)", "double"),  # not exact
        ("int", "decimal(10,0)"),
        ("decimal(10,2)", "string"),
        ("int", "bigint"),  # Athena-compatible for some formats only: still breaking here
        ("float", "double"),
        ("decimal", "decimal(18,4)"),  # an unsized decimal: its precision is not stated
        ("array<decimal(10,2)>", "array<decimal(18,4)>"),  # nested types are not inspected
    ],
)
def test_any_other_type_change_is_breaking(old: str, new: str) -> None:
    assert not type_widens(old, new)
    change = compare_schemas(amount(old), amount(new))
    assert change.breaking
    assert change.retyped_columns == (("amount", old, new),)
    assert change.widened_columns == ()


def test_a_widening_beside_a_breaking_change_is_reported_as_both() -> None:
    before = Schema(columns=(("price", "decimal(10,2)"), ("qty", "int")), partition_keys=())
    after = Schema(columns=(("price", "decimal(18,4)"), ("qty", "string")), partition_keys=())
    change = compare_schemas(before, after)
    assert change.breaking
    assert change.widened_columns == (("price", "decimal(10,2)", "decimal(18,4)"),)
    assert change.retyped_columns == (("qty", "int", "string"),)


def table_input(type_name: str, **parameters: str) -> dict[str, Any]:
    return {
        "Name": "orders",
        "StorageDescriptor": {
            "Columns": [{"Name": "amount", "Type": type_name}],
            "Location": "s3://sales-data/orders/",
        },
        "Parameters": parameters,
    }


def test_widening_a_decimal_is_a_new_schema_version_but_no_breaking_change() -> None:
    current = table_input("decimal(10,2)", **{SCHEMA_VERSION: "1"})
    plan = plan_table(table_input("decimal(18,4)"), current)
    assert plan.action is Action.UPDATE and plan.skip_archive is False
    assert plan.schema_change is not None and not plan.schema_change.breaking
    assert plan.table_input is not None
    assert plan.table_input["Parameters"][SCHEMA_VERSION] == "2"
    assert LAST_BREAKING_CHANGE not in plan.table_input["Parameters"]
    words = schema_change_words(plan.schema_change.summary())
    assert words == "amount widened decimal(10,2) -> decimal(18,4)"
    narrowed = plan_table(table_input("decimal(10,2)"), table_input("decimal(18,4)"))
    assert narrowed.schema_change is not None and narrowed.schema_change.breaking
