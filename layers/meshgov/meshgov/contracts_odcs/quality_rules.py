"""A contract's quality rules as a Glue Data Quality ruleset (DQDL), for one table.

ODCS v3 (https://bitol-io.github.io/open-data-contract-standard/latest/data-quality/) lets a
schema object (the table) and each of its properties (columns) carry ``quality`` rules of four
types: ``text`` (for people), ``library`` (a predefined ``metric`` — v3.0's deprecated ``rule`` —
compared by one operator ``mustBe``, ``mustNotBe``, ``mustBeGreaterThan``,
``mustBeGreaterOrEqualTo``, ``mustBeLessThan``, ``mustBeLessOrEqualTo``, ``mustBeBetween``,
``mustNotBeBetween``, in ``unit`` ``rows`` (default) or ``percent``), ``sql`` (a query in the
server's dialect) and ``custom`` (an ``engine`` and its ``implementation``, "passed as-is").

Translated into the DQDL subset :mod:`meshgov.quality.dqdl` parses
(https://docs.aws.amazon.com/glue/latest/dg/dqdl.html, rule types
https://docs.aws.amazon.com/glue/latest/dg/dqdl-rule-types.html):

- ``nullValues`` (v3.0 ``nullCheck``) of a column: none (``mustBe 0``, ``mustBeLessThan 1``,
  ``mustBeLessOrEqualTo 0``, or v3.0's bare ``nullCheck``) is ``IsComplete "col"``; in
  ``percent`` it is ``Completeness "col"`` of the complement (fewer than 5 % nulls is a
  completeness above 0.95);
- ``rowCount`` of the table: ``RowCount <op> n``; ``mustBeBetween [a, b]`` is two rules
  ``RowCount >= a`` and ``RowCount <= b`` (both bounds included, whatever DQDL's ``between``
  does with its bounds);
- ``duplicateValues`` (v3.0 ``duplicateCount``) of a column, none: ``IsUnique "col"``;
- ``invalidValues`` of a column with ``arguments.validValues``, none: ``ColumnValues "col" in
  [...]``;
- ``custom`` with ``engine: glue-data-quality``: its ``implementation`` (DQDL rules, or a whole
  ``Rules = [...]``) passed through, checked by the same parser.

Anything else — ``text`` and ``sql`` rules, other engines, thresholds DQDL's subset cannot state
(a count of nulls other than none: DQDL measures completeness as a fraction), ``missingValues``,
``pattern``, ``mustNotBeBetween``, duplicates across several columns — is listed in
:attr:`QualityRuleset.untranslated` with its reason, never dropped silently. Pure.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from meshgov.quality.dqdl import DqdlError, parse_rule, parse_rules, parse_ruleset, quote, ruleset

GLUE_ENGINES = frozenset({"gluedataquality", "awsgluedataquality"})  # "glue-data-quality", ...
OPERATORS = {
    "mustBe": "=",
    "mustNotBe": "!=",
    "mustBeGreaterThan": ">",
    "mustBeGreaterOrEqualTo": ">=",
    "mustBeLessThan": "<",
    "mustBeLessOrEqualTo": "<=",
    "mustBeBetween": "between",
    "mustNotBeBetween": "not between",
}
# a count of nulls (or duplicates) compared the other way round, as a fraction of non-nulls
_COMPLEMENT = {"=": "=", "!=": "!=", ">": "<", ">=": "<=", "<": ">", "<=": ">="}
_NONE = {("=", 0.0), ("<", 1.0), ("<=", 0.0)}  # "there are none", in rows


@dataclass(frozen=True)
class Untranslated:
    """A contract rule meshgov did not turn into DQDL, and why."""

    where: str  # "orders" (the table) or "orders.country" (a column)
    rule: str  # its name, id, metric or type
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"where": self.where, "rule": self.rule, "reason": self.reason}


@dataclass(frozen=True)
class QualityRuleset:
    """A table's contract quality rules in DQDL (``rules``) and those left out."""

    table: str
    rules: tuple[str, ...]
    untranslated: tuple[Untranslated, ...]

    @property
    def ruleset(self) -> str | None:
        """``Rules = [ ... ]`` (None: no rule to run)."""
        return ruleset(list(self.rules)) if self.rules else None


class _Skip(Exception):  # noqa: N818 - a reason, not an error
    """This rule is left out, for this reason."""


def quality_ruleset(document: Mapping[str, Any], table: str) -> QualityRuleset:
    """The DQDL ruleset of ``table``'s quality rules in a validated ODCS document (as
    :func:`meshgov.contracts_odcs.document.parse_contract` keeps it)."""
    rules: list[str] = []
    skipped: list[Untranslated] = []
    for where, column, rule in _rules_of(document, table.lower()):
        label = str(rule.get("name") or rule.get("id") or _metric(rule) or rule.get("type") or "?")
        try:
            texts = _translate(rule, column)
            for text in texts:
                parse_rule(text)  # by construction; a slip would be refused here, not by Glue
        except _Skip as skip:
            skipped.append(Untranslated(where, label, str(skip)))
        except DqdlError as exc:
            skipped.append(Untranslated(where, label, f"not DQDL meshgov writes: {exc}"))
        else:
            rules.extend(texts)
    return QualityRuleset(table.lower(), tuple(rules), tuple(skipped))


def _rules_of(
    document: Mapping[str, Any], table: str
) -> Iterator[tuple[str, str | None, Mapping[str, Any]]]:
    """(where, column or None for the table, rule) for each quality rule of ``table``."""
    for obj in document.get("schema") or []:
        if str(obj.get("physicalName") or obj.get("name") or "").lower() != table:
            continue
        for rule in obj.get("quality") or []:
            yield table, None, rule
        yield from _property_rules(obj.get("properties") or [], table, nested=False)


def _property_rules(
    properties: Sequence[Mapping[str, Any]], prefix: str, *, nested: bool
) -> Iterator[tuple[str, str | None, Mapping[str, Any]]]:
    for prop in properties:
        name = str(prop.get("physicalName") or prop.get("name") or "")
        where = f"{prefix}.{name}"
        for rule in prop.get("quality") or []:
            if nested:  # a field inside a column: no DQDL rule type reaches it
                yield where, None, {**rule, "type": "nested"}
            else:
                yield where, name, rule
        yield from _property_rules(prop.get("properties") or [], where, nested=True)


def _metric(rule: Mapping[str, Any]) -> str:
    return str(rule.get("metric") or rule.get("rule") or "")


def _translate(rule: Mapping[str, Any], column: str | None) -> list[str]:
    kind = str(rule.get("type") or "library").lower()
    if kind == "nested":
        raise _Skip("a rule on a field nested in a column: DQDL rules name top-level columns")
    if kind == "text":
        raise _Skip("type text describes quality for people; there is nothing to run")
    if kind == "sql":
        raise _Skip(
            "type sql is a query in the server's own dialect; write it as a custom rule with "
            "engine glue-data-quality (DQDL) to have it run"
        )
    if kind == "custom":
        return _custom(rule)
    if kind != "library":
        raise _Skip(f"type {kind!r} is not an ODCS quality type (text, library, sql, custom)")
    return _library(rule, column)


def _custom(rule: Mapping[str, Any]) -> list[str]:
    engine = str(rule.get("engine") or "")
    if "".join(c for c in engine.lower() if c.isalnum()) not in GLUE_ENGINES:
        raise _Skip(f"engine {engine!r} is not Glue Data Quality (engine: glue-data-quality)")
    implementation = rule.get("implementation")
    if not isinstance(implementation, str) or not implementation.strip():
        raise _Skip("a glue-data-quality implementation is DQDL text")
    text = implementation.strip()
    parsed = parse_ruleset(text) if text.startswith("Rules") else parse_rules(text)
    return [r.text for r in parsed]


def _library(rule: Mapping[str, Any], column: str | None) -> list[str]:
    metric = _metric(rule)
    unit = str(rule.get("unit") or "rows").lower()
    if unit not in ("rows", "percent"):
        raise _Skip(f"unit {unit!r}: meshgov translates rows or percent")
    arguments = rule.get("arguments") or {}
    if metric == "rowCount":
        if unit != "rows":
            raise _Skip("rowCount counts rows; a percent of rows compares with nothing")
        return [f"RowCount {expression}" for expression in _expressions(rule)]
    if column is None:
        if metric == "duplicateValues" and arguments.get("properties"):
            raise _Skip(
                "duplicates across several columns: the DQDL subset meshgov writes checks one "
                "column (IsUnique)"
            )
        raise _Skip(f"metric {metric!r} applies to a column, and this rule is on the table")
    col = quote(column)
    if metric in ("nullValues", "nullCheck"):
        op, value = _comparison(rule, default=("=", 0.0) if metric == "nullCheck" else None)
        if unit == "percent":
            return [f"Completeness {col} {_COMPLEMENT[op]} {_number(1 - value / 100)}"]
        if (op, value) in _NONE:
            return [f"IsComplete {col}"]
        raise _Skip(
            "a count of nulls other than none: DQDL measures completeness as a fraction, "
            "so state it in percent"
        )
    if metric in ("duplicateValues", "duplicateCount"):
        if unit == "rows" and _comparison(rule) in _NONE:
            return [f"IsUnique {col}"]
        raise _Skip("duplicates other than none: the DQDL subset meshgov writes has IsUnique only")
    if metric in ("invalidValues", "validValues"):
        valid = arguments.get("validValues")
        if arguments.get("pattern") is not None:
            raise _Skip("a pattern: the DQDL subset meshgov writes has no 'matches'")
        if not isinstance(valid, list) or not valid:
            raise _Skip("invalidValues needs arguments.validValues (a list of values)")
        if unit != "rows" or _comparison(rule) not in _NONE:
            raise _Skip("invalid values other than none: DQDL's ColumnValues checks every value")
        literals = [_literal(v) for v in valid if v is not None]
        return [f"ColumnValues {col} in [ {', '.join(literals)} ]"]
    if metric == "missingValues":
        raise _Skip("missingValues needs 'not in', outside the DQDL subset meshgov writes")
    raise _Skip(
        f"metric {metric!r} is not one meshgov translates (nullValues, rowCount, "
        f"duplicateValues, invalidValues)"
    )


def _operator(rule: Mapping[str, Any]) -> tuple[str, Any] | None:
    given = [(name, rule[name]) for name in OPERATORS if rule.get(name) is not None]
    if len(given) > 1:
        raise _Skip(f"several operators ({', '.join(n for n, _ in given)}); ODCS allows one")
    return given[0] if given else None


def _comparison(
    rule: Mapping[str, Any], default: tuple[str, float] | None = None
) -> tuple[str, float]:
    """The rule's single numeric comparison (``between`` is not one)."""
    found = _operator(rule)
    if found is None:
        if default is None:
            raise _Skip("no operator (mustBe, mustBeLessThan, ...) to compare the metric with")
        return default
    name, value = found
    if OPERATORS[name] in ("between", "not between"):
        raise _Skip(f"{name} for this metric: the DQDL subset meshgov writes compares once")
    return OPERATORS[name], _float(value, name)


def _expressions(rule: Mapping[str, Any]) -> list[str]:
    """DQDL expressions for the rule's operator: one, or two for ``mustBeBetween``."""
    found = _operator(rule)
    if found is None:
        raise _Skip("no operator (mustBe, mustBeGreaterThan, ...) to compare the metric with")
    name, value = found
    if name == "mustNotBeBetween":
        raise _Skip("mustNotBeBetween needs two rules joined by 'or', a composite DQDL rule")
    if name == "mustBeBetween":
        low, high = (_float(v, name) for v in value)
        return [f">= {_number(low)}", f"<= {_number(high)}"]
    return [f"{OPERATORS[name]} {_number(_float(value, name))}"]


def _float(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Skip(f"{name} {value!r} is not a number")
    return float(value)


def _number(value: float) -> str:
    """A DQDL number: no exponent (``-?\\d+(\\.\\d+)?``)."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.10f}".rstrip("0").rstrip(".")


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        raise _Skip(f"valid value {value!r}: DQDL compares strings and numbers")
    if isinstance(value, int | float):
        return _number(float(value))
    return quote(str(value))
