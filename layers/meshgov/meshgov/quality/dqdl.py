"""DQDL (Glue Data Quality Definition Language) rulesets, parsed: the subset meshgov writes
(:mod:`meshgov.contracts_odcs.quality_rules`, from a contract's quality rules) and the local mesh
evaluates (``meshgov_local.dqdl``, with DuckDB on the table's Parquet data). One parser, so a
ruleset meshgov writes is one the local mesh can run, and a ``custom`` contract rule for Glue Data
Quality is checked by the same grammar before it is passed through. Followed documents:

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
with :class:`DqdlUnsupportedError`, naming the rule. Malformed text is :class:`DqdlSyntaxError`.
Pure: no AWS call, no data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SUPPORTED = ("RowCount", "IsComplete", "Completeness", "IsUnique", "ColumnValues", "ColumnExists")
_RULESET = re.compile(r"^\s*Rules\s*=\s*\[(?P<body>.*)\]\s*$", re.DOTALL)
_RULE = re.compile(r'^(?P<type>[A-Za-z]+)\s*(?P<column>"[^"]+")?\s*(?P<expression>.*)$', re.DOTALL)
NUMBER = r"-?\d+(?:\.\d+)?"
LITERAL = rf'(?:"[^"]*"|{NUMBER})'
COMPARE = re.compile(rf"^(?P<op>=|!=|>=|<=|>|<)\s*(?P<value>{LITERAL})$")
BETWEEN = re.compile(rf"^between\s+(?P<low>{LITERAL})\s+and\s+(?P<high>{LITERAL})$")
IN = re.compile(r"^in\s*\[(?P<items>.*)\]$", re.DOTALL)


class DqdlError(ValueError):
    """A ruleset outside the subset meshgov writes and the local mesh evaluates."""


class DqdlSyntaxError(DqdlError):
    """Not DQDL."""


class DqdlUnsupportedError(DqdlError):
    """DQDL, but outside the subset."""


@dataclass(frozen=True)
class Rule:
    text: str
    type: str
    column: str | None
    expression: str  # "" for rules without one


def parse_ruleset(text: str) -> list[Rule]:
    """The rules of ``Rules = [ ... ]`` (``DqdlError`` when it is not one, or holds a rule
    outside the subset)."""
    found = _RULESET.match(text or "")
    if found is None:
        raise DqdlSyntaxError("a ruleset is 'Rules = [ rule, ... ]'")
    return parse_rules(found.group("body"))


def parse_rules(body: str) -> list[Rule]:
    """The comma-separated rules of a ruleset's body (at least one)."""
    rules = [parse_rule(part.strip()) for part in split(body) if part.strip()]
    if not rules:
        raise DqdlSyntaxError("the ruleset holds no rule")
    return rules


def split(body: str) -> list[str]:
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


def parse_rule(text: str) -> Rule:
    """One rule (``DqdlError`` when it is not one of the subset)."""
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
        COMPARE.match(expression) or BETWEEN.match(expression) or IN.match(expression)
    ):
        raise DqdlUnsupportedError(f"expression not emulated: {text}")
    if expression and kind != "ColumnValues" and IN.match(expression):
        raise DqdlSyntaxError(f"{kind} takes a number: {text}")
    if found_in := IN.match(expression):
        items = [i.strip() for i in split(found_in.group("items")) if i.strip()]
        if not items or not all(re.fullmatch(LITERAL, item) for item in items):
            raise DqdlSyntaxError(f"not a list of literals: {text}")
    return Rule(text, kind, column.strip('"') if column else None, expression)


def quote(value: str) -> str:
    """A DQDL quoted string: a column name or a string literal (``"..."``). DQDL has no escape
    for ``"`` inside one, so such a value cannot be written (``DqdlSyntaxError``)."""
    if '"' in value:
        raise DqdlSyntaxError(f"{value!r} holds a double quote, which DQDL cannot quote")
    return f'"{value}"'


def ruleset(rules: list[str]) -> str:
    """``Rules = [ ... ]`` of rule texts."""
    return "Rules = [ " + ", ".join(rules) + " ]"
