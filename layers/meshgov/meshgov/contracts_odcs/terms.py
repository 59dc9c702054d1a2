"""What a contract promises about one Glue table, and what a change of that table breaks.

A contract's promise is taken at acceptance (its *baseline*): each contracted column with the
table's type at that moment (equal to the contract's ``physicalType`` where it names one) and
whether it is required, and the table's partition keys. A later schema breaks the contract when
a contracted column is removed, retyped (the one rule of :func:`meshgov.catalog.schema.type_widens`:
a DECIMAL that only grows is not breaking), a required column is declared nullable, or the
partition keys change. Adding columns, or changing columns the contract does not name, breaks
nothing.

Nullability from Glue: a Glue ``Column`` has no nullable attribute, only free-form
``Parameters`` (https://docs.aws.amazon.com/glue/latest/webapi/API_Column.html). Apache Iceberg's
Glue catalog writes ``iceberg.field.optional`` (``"true"``: nullable, ``"false"``: required) on
every column it registers, and meshgov reads that key, from any table. A column without it
declares nothing (a Hive table cannot declare NOT NULL), so only a column declared optional
breaks a ``required`` promise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from meshgov.catalog.schema import type_widens
from meshgov.contracts_odcs.document import ContractRefusedError, TableTerms

NULLABLE_PARAMETER = "iceberg.field.optional"


@dataclass(frozen=True)
class Breach:
    """One broken promise: ``kind`` is ``column-removed``, ``column-retyped``,
    ``required-made-nullable`` or ``partition-keys-changed``."""

    kind: str
    column: str
    expected: str
    actual: str

    def as_dict(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "column": self.column,
            "expected": self.expected,
            "actual": self.actual,
        }


@dataclass(frozen=True)
class Shape:
    """The part of a table (or of a baseline) contracts are about."""

    columns: dict[str, tuple[str, bool | None]]  # name -> (type, nullable; None: undeclared)
    partition_keys: tuple[str, ...]


def table_shape(table: Mapping[str, Any]) -> Shape:
    """A Glue table's (``GetTable``'s ``Table`` or a ``TableInput``) columns and partition keys."""
    storage = table.get("StorageDescriptor") or {}
    columns: dict[str, tuple[str, bool | None]] = {}
    keys = [c for c in table.get("PartitionKeys") or []]
    for column in [*(storage.get("Columns") or []), *keys]:
        declared = str((column.get("Parameters") or {}).get(NULLABLE_PARAMETER, "")).lower()
        nullable = True if declared == "true" else False if declared == "false" else None
        columns[str(column["Name"]).lower()] = (_type(column.get("Type")), nullable)
    return Shape(columns, tuple(str(k["Name"]).lower() for k in keys))


def baseline(terms: TableTerms, table: Mapping[str, Any]) -> dict[str, Any]:
    """The promise ``terms`` make about ``table`` as it is now; ``ContractRefusedError`` when the
    contract does not describe it (a column the table lacks, another type, partition keys)."""
    shape = table_shape(table)
    unknown = sorted(c.name for c in terms.columns if c.name not in shape.columns)
    if unknown:
        raise ContractRefusedError(
            "ContractColumnUnknown",
            f"the contract names column(s) table {terms.table} does not have: {', '.join(unknown)}",
        )
    columns: dict[str, dict[str, Any]] = {}
    for term in terms.columns:
        actual, nullable = shape.columns[term.name]
        if term.physical_type and _type(term.physical_type) != actual:
            raise ContractRefusedError(
                "ContractColumnMismatch",
                f"column {term.name}: the contract says {term.physical_type}, the table {actual}",
            )
        if term.required and nullable:
            raise ContractRefusedError(
                "ContractColumnMismatch",
                f"column {term.name}: required by the contract, declared nullable by the table "
                f"({NULLABLE_PARAMETER})",
            )
        columns[term.name] = {"type": actual, "required": term.required}
    if terms.partition_keys and terms.partition_keys != shape.partition_keys:
        raise ContractRefusedError(
            "ContractColumnMismatch",
            f"partition keys: the contract says {list(terms.partition_keys)}, "
            f"the table {list(shape.partition_keys)}",
        )
    return {"columns": columns, "partitionKeys": list(shape.partition_keys)}


def baseline_shape(promise: Mapping[str, Any]) -> Shape:
    """A baseline read as a shape (a required column as not nullable), to compare two versions."""
    columns: dict[str, tuple[str, bool | None]] = {
        name: (str(term["type"]), not bool(term["required"]))
        for name, term in (promise.get("columns") or {}).items()
    }
    return Shape(columns, tuple(promise.get("partitionKeys") or ()))


def breaches(promise: Mapping[str, Any], shape: Shape) -> list[Breach]:
    """Every promise of ``promise`` (a baseline) that ``shape`` breaks, in a stable order."""
    found: list[Breach] = []
    for name, term in sorted((promise.get("columns") or {}).items()):
        expected = str(term["type"])
        if name not in shape.columns:
            found.append(Breach("column-removed", name, expected, ""))
            continue
        actual, nullable = shape.columns[name]
        if actual != expected and not type_widens(expected, actual):
            found.append(Breach("column-retyped", name, expected, actual))
        if term.get("required") and nullable:
            found.append(Breach("required-made-nullable", name, "required", "nullable"))
    keys = tuple(promise.get("partitionKeys") or ())
    if keys != shape.partition_keys:
        found.append(
            Breach("partition-keys-changed", "", ",".join(keys), ",".join(shape.partition_keys))
        )
    return found


def _type(value: object) -> str:
    return str(value or "").replace(" ", "").lower()
