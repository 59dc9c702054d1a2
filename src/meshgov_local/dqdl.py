"""A subset of DQDL (Glue Data Quality Definition Language), evaluated on real data.

The local mesh's Glue Data Quality (:mod:`meshgov_local.emulator.glue_dataquality`) evaluates a
ruleset on a table's Parquet data with DuckDB. The grammar and the subset are
:mod:`meshgov.quality.dqdl` (one parser: what meshgov writes from a contract's quality rules is
what the local mesh runs), re-exported here. Followed documents:

- Rule types (https://docs.aws.amazon.com/glue/latest/dg/dqdl-rule-types.html): ``RowCount
  <expression>``; ``IsComplete "col"`` (every value non-null); ``Completeness "col"
  <expression>`` (the fraction of non-null values); ``IsUnique "col"`` (every value unique);
  ``ColumnValues "col" <expression>`` (every value satisfies it); ``ColumnExists "col"``.

Anything else (composite rules, ``where`` clauses, other rule types, dynamic rules) is refused
with :class:`DqdlUnsupportedError`, naming the rule: the local mesh does not pretend to evaluate
what it cannot. Malformed text is :class:`DqdlSyntaxError`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from meshgov.quality.dqdl import BETWEEN as _BETWEEN
from meshgov.quality.dqdl import COMPARE as _COMPARE
from meshgov.quality.dqdl import IN as _IN
from meshgov.quality.dqdl import LITERAL as _LITERAL
from meshgov.quality.dqdl import (
    SUPPORTED,
    DqdlError,
    DqdlSyntaxError,
    DqdlUnsupportedError,
    Rule,
    parse_ruleset,
)
from meshgov.quality.dqdl import split as _split

__all__ = [
    "SUPPORTED",
    "DqdlError",
    "DqdlSyntaxError",
    "DqdlUnsupportedError",
    "Rule",
    "RuleResult",
    "evaluate",
    "parse_ruleset",
    "score",
]


@dataclass(frozen=True)
class RuleResult:
    rule: Rule
    passed: bool
    message: str
    metric: float | None


def _literal(text: str) -> str:
    """A DQDL literal as SQL: a quoted string (single-quoted, escaped) or a number."""
    if text.startswith('"'):
        return "'" + text[1:-1].replace("'", "''") + "'"
    return text


def _condition(value_sql: str, expression: str) -> str:
    """The SQL condition ``value_sql`` must meet for ``expression``."""
    if found := _COMPARE.match(expression):
        op = "<>" if found.group("op") == "!=" else found.group("op")
        return f"{value_sql} {op} {_literal(found.group('value'))}"
    if found := _BETWEEN.match(expression):
        low, high = _literal(found.group("low")), _literal(found.group("high"))
        return f"{value_sql} BETWEEN {low} AND {high}"
    found = _IN.match(expression)
    assert found is not None  # checked by _rule
    items = [i.strip() for i in _split(found.group("items")) if i.strip()]
    if not items or not all(re.fullmatch(_LITERAL, item) for item in items):
        raise DqdlSyntaxError(f"not a list of literals: {expression}")
    return f"{value_sql} IN ({', '.join(_literal(item) for item in items)})"


def _quoted(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def evaluate(rules: Sequence[Rule], data: pa.Table) -> list[RuleResult]:
    """Each rule's outcome on ``data`` (every row of the table), computed by DuckDB."""
    connection = duckdb.connect()
    try:
        connection.register("data", data)
        columns = {name.lower() for name in data.column_names}
        return [_evaluate(connection, rule, columns) for rule in rules]
    finally:
        connection.close()


def _evaluate(connection: duckdb.DuckDBPyConnection, rule: Rule, columns: set[str]) -> RuleResult:
    """One rule's outcome. The SQL is built from the rule: its column is a quoted identifier
    (:func:`_quoted`), its literals matched :data:`_LITERAL` and are quoted (:func:`_literal`)."""
    if rule.column is not None and rule.column.lower() not in columns:
        return RuleResult(rule, False, f"Column {rule.column} does not exist", None)
    column = _quoted(rule.column.lower()) if rule.column else ""

    def one(sql: str) -> float:
        row = connection.execute(sql).fetchone()
        return float(row[0]) if row is not None and row[0] is not None else 0.0

    if rule.type == "ColumnExists":
        return RuleResult(rule, True, "", None)
    if rule.type == "RowCount":
        count = one("SELECT count(*) FROM data")
        passed = bool(one(f"SELECT {_condition(str(int(count)), rule.expression)}"))
        return RuleResult(rule, passed, _message(passed, "RowCount", count), count)
    if rule.type in ("IsComplete", "Completeness"):
        ratio = one(
            f"SELECT coalesce(avg(CASE WHEN {column} IS NULL THEN 0 ELSE 1 END), 1) FROM data"  # noqa: S608
        )
        expression = rule.expression or "= 1.0"
        passed = bool(one(f"SELECT {_condition(repr(ratio), expression)}"))
        return RuleResult(rule, passed, _message(passed, "Completeness", ratio), ratio)
    if rule.type == "IsUnique":
        ratio = one(
            f"SELECT coalesce(count(DISTINCT {column}) / nullif(count({column}), 0), 1) FROM data"  # noqa: S608
        )
        duplicates = one(f"SELECT count({column}) - count(DISTINCT {column}) FROM data")  # noqa: S608
        passed = duplicates == 0
        return RuleResult(rule, passed, _message(passed, "Uniqueness", ratio), ratio)
    # ColumnValues: every non-null value satisfies the expression.
    condition = _condition(column, rule.expression)
    failing = one(f"SELECT count(*) FROM data WHERE {column} IS NOT NULL AND NOT ({condition})")  # noqa: S608
    passed = failing == 0
    return RuleResult(
        rule, passed, "" if passed else f"{int(failing)} value(s) do not match", failing
    )


def _message(passed: bool, metric: str, value: float) -> str:
    return "" if passed else f"Value: {value:g} does not meet the constraint requirement ({metric})"


def score(results: Sequence[RuleResult]) -> float:
    """The ratio of rules that passed to the total number of rules (GetDataQualityResult)."""
    return sum(r.passed for r in results) / len(results) if results else 0.0
