"""A contract's ODCS v3 quality rules translated into DQDL (meshgov.contracts_odcs.quality_rules):
what translates, what the translation writes, and what is left out with its reason."""

from __future__ import annotations

import json
from typing import Any

import pytest

from meshgov.contracts_odcs.document import parse_contract
from meshgov.contracts_odcs.quality_rules import quality_ruleset
from meshgov.quality.dqdl import parse_ruleset


def document(
    table_rules: list[dict[str, Any]], column_rules: dict[str, list[dict[str, Any]]]
) -> dict[str, Any]:
    """A validated ODCS document (through the published models, as central keeps it)."""
    body = {
        "apiVersion": "v3.1.0",
        "kind": "DataContract",
        "id": "urn:sales:orders",
        "version": "1.0.0",
        "status": "active",
        "schema": [
            {
                "name": "orders",
                "quality": table_rules,
                "properties": [
                    {"name": name, "quality": rules} for name, rules in column_rules.items()
                ],
            },
            {"name": "other", "quality": [{"metric": "rowCount", "mustBe": 7}]},
        ],
    }
    return parse_contract(json.dumps(body).encode()).document


BETWEEN = {"rule": "rowCount", "mustBeBetween": [100, 120]}
VALID = {"metric": "invalidValues", "arguments": {"validValues": ["DE", 1]}, "mustBe": 0}
GLUE_DQ = {"type": "custom", "engine": "glue-data-quality"}
PATTERN = {"metric": "invalidValues", "arguments": {"pattern": "^x$"}, "mustBe": 0}


@pytest.mark.parametrize(
    ("table_rules", "column_rules", "dqdl"),
    [
        ([{"metric": "rowCount", "mustBeGreaterThan": 0}], {}, "RowCount > 0"),
        ([BETWEEN], {}, "RowCount >= 100, RowCount <= 120"),
        ([], {"id": [{"metric": "nullValues", "mustBe": 0}]}, 'IsComplete "id"'),
        ([], {"id": [{"rule": "nullCheck"}]}, 'IsComplete "id"'),
        (
            [],
            {"id": [{"metric": "nullValues", "mustBeLessThan": 5, "unit": "percent"}]},
            'Completeness "id" > 0.95',
        ),
        ([], {"id": [{"rule": "duplicateCount", "mustBe": 0}]}, 'IsUnique "id"'),
        (
            [],
            {"c": [VALID]},
            'ColumnValues "c" in [ "DE", 1 ]',
        ),
        (
            [{**GLUE_DQ, "implementation": "Rules = [ RowCount < 9 ]"}],
            {},
            "RowCount < 9",
        ),
    ],
    ids=["rowcount", "between", "null-none", "nullcheck-v30", "null-percent", "duplicates",
         "valid-values", "custom-glue"],
)  # fmt: skip
def test_rules_translate_into_the_dqdl_subset(
    table_rules: list[dict[str, Any]], column_rules: dict[str, list[dict[str, Any]]], dqdl: str
) -> None:
    translated = quality_ruleset(document(table_rules, column_rules), "orders")
    assert translated.ruleset == f"Rules = [ {dqdl} ]"
    assert translated.untranslated == ()
    assert [r.text for r in parse_ruleset(translated.ruleset)] == list(translated.rules)


@pytest.mark.parametrize(
    ("rule", "column", "says"),
    [
        ({"type": "text", "description": "verified"}, None, "for people"),
        ({"type": "sql", "query": "SELECT 1", "mustBe": 1}, None, "own dialect"),
        ({"type": "custom", "engine": "soda", "implementation": "x"}, None, "not Glue Data"),
        (
            {**GLUE_DQ, "implementation": 'CustomSql "x" > 0'},
            None,
            "CustomSql is not emulated",
        ),
        ({"metric": "nullValues", "mustBeLessThan": 10}, "id", "state it in percent"),
        ({"metric": "rowCount", "mustNotBeBetween": [1, 2]}, None, "composite"),
        ({"metric": "duplicateValues", "mustBe": 0, "arguments": {"properties": ["a", "b"]}},
         None, "several columns"),
        (PATTERN, "id", "matches"),
        ({"metric": "missingValues", "arguments": {"missingValues": [""]}, "mustBe": 0}, "id",
         "not in"),
        ({"metric": "rowCount", "mustBe": 1, "mustBeLessThan": 3}, None, "several operators"),
        ({"metric": "nullValues", "mustBe": 0}, 'we"ird', "double quote"),
    ],
)  # fmt: skip
def test_rules_it_cannot_translate_are_listed_with_their_reason(
    rule: dict[str, Any], column: str | None, says: str
) -> None:
    doc = document([rule] if column is None else [], {column: [rule]} if column else {})
    translated = quality_ruleset(doc, "orders")
    assert translated.rules == ()
    assert translated.ruleset is None
    [left_out] = translated.untranslated
    assert left_out.where == ("orders" if column is None else f"orders.{column}")
    assert says in left_out.reason


def test_only_the_named_tables_rules_are_translated() -> None:
    doc = document([{"metric": "rowCount", "mustBe": 3}], {"id": [{"rule": "nullCheck"}]})
    assert quality_ruleset(doc, "OTHER").rules == ("RowCount = 7",)
    assert quality_ruleset(doc, "missing").ruleset is None
