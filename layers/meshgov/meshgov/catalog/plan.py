"""Decide what to do to the central catalog: pure functions from (desired, current) to actions."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from meshgov.catalog.canonical import LAST_BREAKING_CHANGE, SCHEMA_VERSION, comparable
from meshgov.catalog.schema import SchemaChange, compare_schemas, schema_of
from meshgov.quality.parameters import quality_of


class Action(StrEnum):
    CREATE = "CREATE"
    UPDATE = "UPDATE"
    DELETE = "DELETE"
    NOOP = "NOOP"


@dataclass(frozen=True)
class TablePlan:
    action: Action
    table_input: dict[str, Any] | None = None
    skip_archive: bool = True
    schema_change: SchemaChange | None = None


def plan_table(desired: dict[str, Any] | None, current: Mapping[str, Any] | None) -> TablePlan:
    """``desired`` is the projection of the source (None: must not exist centrally);
    ``current`` is the central table's TableInput (None: absent)."""
    if desired is None:
        return TablePlan(Action.DELETE) if current is not None else TablePlan(Action.NOOP)
    if current is None:
        created = _with_history(desired, version=1, breaking=None)
        return TablePlan(Action.CREATE, created)
    current_params = current.get("Parameters") or {}
    previous_version = int(current_params.get(SCHEMA_VERSION, "1") or "1")
    change = compare_schemas(schema_of(current), schema_of(desired))
    version = previous_version + 1 if change.changed else previous_version
    breaking = (
        json.dumps({"schema_version": version, **change.summary()}, sort_keys=True)
        if change.breaking
        else current_params.get(LAST_BREAKING_CHANGE)
    )
    candidate = _with_history(desired, version=version, breaking=breaking)
    # The central table's quality result is central's own: an update keeps it.
    candidate["Parameters"].update(quality_of(current_params))
    if comparable(candidate) == comparable(current):
        return TablePlan(Action.NOOP)
    return TablePlan(
        Action.UPDATE,
        candidate,
        skip_archive=not change.changed,
        schema_change=change if change.changed else None,
    )


def _with_history(
    table_input: dict[str, Any], version: int, breaking: str | None
) -> dict[str, Any]:
    params = dict(table_input.get("Parameters") or {})
    params[SCHEMA_VERSION] = str(version)
    if breaking:
        params[LAST_BREAKING_CHANGE] = breaking
    return {**table_input, "Parameters": params}


PartitionKey = tuple[str, ...]


@dataclass(frozen=True)
class PartitionPlan:
    create: list[dict[str, Any]] = field(default_factory=list)
    update: list[tuple[PartitionKey, dict[str, Any]]] = field(default_factory=list)
    delete: list[PartitionKey] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.create or self.update or self.delete)


def plan_partitions(
    desired: Mapping[PartitionKey, dict[str, Any]],
    current: Mapping[PartitionKey, dict[str, Any]],
    scope: Sequence[PartitionKey] | None = None,
) -> PartitionPlan:
    """Within ``scope`` (None: every partition), make ``current`` equal ``desired``."""
    keys = set(scope) if scope is not None else set(desired) | set(current)
    plan = PartitionPlan()
    for key in sorted(keys):
        want, have = desired.get(key), current.get(key)
        if want is not None and have is None:
            plan.create.append(want)
        elif want is None and have is not None:
            plan.delete.append(key)
        elif want is not None and have is not None and comparable(want) != comparable(have):
            plan.update.append((key, want))
    return plan


def chunks[T](items: Sequence[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])
