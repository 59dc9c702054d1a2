"""Schema changes and whether they break consumers.

Breaking: a column removed, a column's type changed, or the partition keys changed (names, types
or order). Adding columns or editing comments is not breaking. History itself is kept by Glue:
central tables are updated *with* archiving when the schema changes and with ``SkipArchive`` when
only metadata changes, so ``GetTableVersions`` on a central table is its schema history.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Schema:
    columns: tuple[tuple[str, str], ...]
    partition_keys: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class SchemaChange:
    added_columns: tuple[str, ...] = ()
    removed_columns: tuple[str, ...] = ()
    retyped_columns: tuple[tuple[str, str, str], ...] = ()  # name, old type, new type
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
            "partition_keys_changed": self.partition_keys_changed,
            "partition_keys_before": [list(k) for k in self.partition_keys_before],
            "partition_keys_after": [list(k) for k in self.partition_keys_after],
        }


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
    return SchemaChange(
        added_columns=tuple(name for name in new if name not in old),
        removed_columns=tuple(name for name in old if name not in new),
        retyped_columns=tuple(
            (name, old[name], new[name]) for name in new if name in old and old[name] != new[name]
        ),
        partition_keys_before=before.partition_keys,
        partition_keys_after=after.partition_keys,
        partition_keys_changed=before.partition_keys != after.partition_keys,
    )
