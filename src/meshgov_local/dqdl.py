"""A subset of DQDL (Glue Data Quality Definition Language), parsed and evaluated on real data.

The local mesh's Glue Data Quality (:mod:`meshgov_local.emulator.glue_dataquality`) evaluates a
ruleset on a table's Parquet data with DuckDB. Followed documents:

- Syntax, https://docs.aws.amazon.com/glue/latest/dg/dqdl.html: a ruleset is ``Rules = [ rule,
  rule, ... ]`` ("a list named Rules (capitalized), delimited by a pair of square brackets ...
  one or more comma-separated DQDL rules"); a rule is ``<RuleType> <Parameter> <Expression>``,
  rule types are case-sensitive; column names are quoted; expressions are ``= x``, ``!= x``,
  ``> x``, ``>= x``, ``< x``, ``<= x``, ``between x and y``, ``in [ ... ]``.
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

SUPPORTED = ("RowCount", "IsComplete", "Completeness", "IsUnique", "ColumnValues", "ColumnExists")
_RULESET = re.compile(r"^\s*Rules\s*=\s*\[(?P<body>.*)\]\s*$", re.DOTALL)
_RULE = re.compile(r'^(?P<type>[A-Za-z]+)\s*(?P<column>"[^"]+")?\s*(?P<expression>.*)$', re.DOTALL)
_NUMBER = r"-?\d+(?:\.\d+)?"
_LITERAL = rf'(?:"[^"]*"|{_NUMBER})'
_COMPARE = re.compile(rf"^(?P<op>=|!=|>=|<=|>|<)\s*(?P<value>{_LITERAL})$")
_BETWEEN = re.compile(rf"^between\s+(?P<low>{_LITERAL})\s+and\s+(?P<high>{_LITERAL})$")
_IN = re.compile(r"^in\s*\[(?P<items>.*)\]$", re.DOTALL)


class DqdlError(ValueError):
    """A ruleset the local mesh cannot evaluate."""


class DqdlSyntaxError(DqdlError):
    """Not DQDL."""


class DqdlUnsupportedError(DqdlError):
    """DQDL, but outside the subset the local mesh evaluates."""


@dataclass(frozen=True)
class Rule:
    text: str
    type: str
    column: str | None
    expression: str  # "" for rules without one


@dataclass(frozen=True)
class RuleResult:
    rule: Rule
    passed: bool
    message: str
    metric: float | None


def parse_ruleset(text: str) -> list[Rule]:
    found = _RULESET.match(text or "")
    if found is None:
        raise DqdlSyntaxError("a ruleset is 'Rules = [ rule, ... ]'")
    rules = [_rule(part.strip()) for part in _split(found.group("body")) if part.strip()]
    if not rules:
        raise DqdlSyntaxError("the ruleset holds no rule")
    return rules


def _split(body: str) -> list[str]:
    """The rules: commas outside quotes and brackets separate them."""
    parts: list[str] = []
    current: list[str] = []
    depth, quoted = 0, False
    for char in body:
        if char == '"':
            quoted = not quoted
        elif not quoted and char == "[":
            depth += 1
        elif not quoted and char == "]":
            depth -= 1
        if char == "," and not quoted and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _rule(text: str) -> Rule:
    if text.startswith("("):
        raise DqdlUnsupportedError(f"composite rules are not emulated: {text}")
    found = _RULE.match(text)
    if found is None:
        raise DqdlSyntaxError(f"not a rule: {text}")
    kind, column = found.group("type"), found.group("column")
    expression = found.group("expression").strip()
    if kind not in SUPPORTED:
        raise DqdlUnsupportedError(
            f"rule type {kind} is not emulated by the local mesh "
            f"(supported: {', '.join(SUPPORTED)})"
        )
    if " where " in f" {expression} ":
        raise DqdlUnsupportedError(f"where clauses are not emulated: {text}")
    needs_column = kind != "RowCount"
    if needs_column != (column is not None):
        raise DqdlSyntaxError(f"{kind} {'needs' if needs_column else 'takes no'} column: {text}")
    needs_expression = kind in ("RowCount", "Completeness", "ColumnValues")
    if needs_expression != bool(expression):
        raise DqdlSyntaxError(
            f"{kind} {'needs' if needs_expression else 'takes no'} expression: {text}"
        )
    if expression and not (
        _COMPARE.match(expression) or _BETWEEN.match(expression) or _IN.match(expression)
    ):
        raise DqdlUnsupportedError(f"expression not emulated: {text}")
    if expression and kind != "ColumnValues" and _IN.match(expression):
        raise DqdlSyntaxError(f"{kind} takes a number: {text}")
    return Rule(text, kind, column.strip('"') if column else None, expression)


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
