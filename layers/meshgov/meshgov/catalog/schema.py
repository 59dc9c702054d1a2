"""Schema changes and whether they break consumers.

Breaking: a column removed, a column's type changed (except a widening, :func:`type_widens`), or
the partition keys changed (names, types or order). Adding columns, widening a column's type or
editing comments is not breaking. History itself is kept by Glue:
central tables are updated *with* archiving when the schema changes and with ``SkipArchive`` when
only metadata changes, so ``GetTableVersions`` on a central table is its schema history.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# ``decimal(p,s)`` or ``decimal(p)`` (scale 0), as Glue stores a Hive DDL type (lower-cased here).
_DECIMAL = re.compile(r"^decimal\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)$")


@dataclass(frozen=True)
class Schema:
    columns: tuple[tuple[str, str], ...]
    partition_keys: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class SchemaChange:
    added_columns: tuple[str, ...] = ()
    removed_columns: tuple[str, ...] = ()
    retyped_columns: tuple[tuple[str, str, str], ...] = ()  # name, old type, new type (breaking)
    widened_columns: tuple[tuple[str, str, str], ...] = ()  # name, old type, new type (not)
    partition_keys_before: tuple[tuple[str, str], ...] = ()
    partition_keys_after: tuple[tuple[str, str], ...] = ()
    partition_keys_changed: bool = False
    reasons: tuple[str, ...] = field(default=())

    @property
    def changed(self) -> bool:
        return bool(
            self.added_columns
            or self.removed_columns
            or self.retyped_columns
            or self.widened_columns
            or self.partition_keys_changed
        )

    @property
    def breaking(self) -> bool:
        return bool(self.removed_columns or self.retyped_columns or self.partition_keys_changed)

    def summary(self) -> dict[str, Any]:
        return {
            "added_columns": list(self.added_columns),
            "removed_columns": list(self.removed_columns),
            "retyped_columns": [list(c) for c in self.retyped_columns],
            "widened_columns": [list(c) for c in self.widened_columns],
            "partition_keys_changed": self.partition_keys_changed,
            "partition_keys_before": [list(k) for k in self.partition_keys_before],
            "partition_keys_after": [list(k) for k in self.partition_keys_after],
        }


def _decimal(type_name: str) -> tuple[int, int] | None:
    """``decimal(18,4)`` -> ``(18, 4)``; ``decimal(9)`` -> ``(9, 0)``; anything else None."""
    found = _DECIMAL.match(type_name.strip().lower())
    if found is None:
        return None
    return int(found.group(1)), int(found.group(2) or 0)


def type_widens(old: str, new: str) -> bool:
    """Whether a column retyped from ``old`` to ``new`` is a widening: not breaking.

    The one rule for which type changes break a table's consumers. A change is breaking unless
    every value the old type can hold is, unchanged, a value of the new type, so a query that
    worked before returns the same values after. Today that is a ``DECIMAL`` whose precision and
    scale grow so that every old value still fits: ``decimal(p1,s1)`` to ``decimal(p2,s2)`` with
    ``s2 >= s1`` (no fractional digit lost) and ``p2 - s2 >= p1 - s1`` (no integer digit lost).
    ``decimal(10,2)`` to ``decimal(18,4)`` widens; ``decimal(10,2)`` to ``decimal(10,4)`` (two
    integer digits lost) or to ``decimal(18,1)`` (a fractional digit lost) is breaking
    (Athena's DECIMAL: precision = all digits, scale = fractional digits, both at most 38:
    https://docs.aws.amazon.com/athena/latest/ug/data-types.html).

    Everything else stays breaking, including ``int`` to ``bigint`` and ``float`` to
    ``double``, which Athena's table of compatible types lists: Athena reads a changed type only
    where the data format allows it, says that for Parquet and ORC a column's type cannot
    change when the table is not partitioned, and that partitions keep the types they were
    written with and are cast where compatible, else ``HIVE_PARTITION_SCHEMA_MISMATCH``
    (https://docs.aws.amazon.com/athena/latest/ug/handling-schema-updates-chapter.html,
    https://docs.aws.amazon.com/athena/latest/ug/updates-changing-column-type.html,
    https://docs.aws.amazon.com/athena/latest/ug/updates-and-partitions.html). That table does
    not list DECIMAL changes either: a decimal widening is not breaking because no value a
    consumer reads changes, not because every engine reads old files under the new type.
    """
    before, after = _decimal(old), _decimal(new)
    if before is None or after is None:
        return False
    (p1, s1), (p2, s2) = before, after
    return s2 >= s1 and p2 - s2 >= p1 - s1


def _columns(items: Any) -> tuple[tuple[str, str], ...]:
    return tuple((str(c["Name"]).lower(), str(c.get("Type", "")).lower()) for c in items or [])


def schema_of(table_input: Mapping[str, Any]) -> Schema:
    sd = table_input.get("StorageDescriptor") or {}
    return Schema(
        columns=_columns(sd.get("Columns")),
        partition_keys=_columns(table_input.get("PartitionKeys")),
    )


def compare_schemas(before: Schema, after: Schema) -> SchemaChange:
    old, new = dict(before.columns), dict(after.columns)
    retyped = [
        (name, old[name], new[name]) for name in new if name in old and old[name] != new[name]
    ]
    return SchemaChange(
        added_columns=tuple(name for name in new if name not in old),
        removed_columns=tuple(name for name in old if name not in new),
        retyped_columns=tuple(c for c in retyped if not type_widens(c[1], c[2])),
        widened_columns=tuple(c for c in retyped if type_widens(c[1], c[2])),
        partition_keys_before=before.partition_keys,
        partition_keys_after=after.partition_keys,
        partition_keys_changed=before.partition_keys != after.partition_keys,
    )
