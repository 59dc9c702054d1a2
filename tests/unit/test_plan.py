"""Deciding what to do to a central table: pure functions, exhaustively."""

from __future__ import annotations

import json
from typing import Any

from meshgov.catalog.canonical import LAST_BREAKING_CHANGE, SCHEMA_VERSION, SYNCED_AT
from meshgov.catalog.plan import Action, chunks, plan_partitions, plan_table


def table(
    columns: list[tuple[str, str]], keys: list[tuple[str, str]] = (), **params: str
) -> dict[str, Any]:  # type: ignore[assignment]
    return {
        "Name": "orders",
        "StorageDescriptor": {
            "Columns": [{"Name": n, "Type": t} for n, t in columns],
            "Location": "s3://producer/orders/",
        },
        "PartitionKeys": [{"Name": n, "Type": t} for n, t in keys],
        "Parameters": {SYNCED_AT: "2026-01-01T00:00:00+00:00", **params},
    }


def test_absent_everywhere_is_noop() -> None:
    assert plan_table(None, None).action is Action.NOOP


def test_unpublished_but_present_centrally_is_deleted() -> None:
    assert plan_table(None, table([("id", "int")])).action is Action.DELETE


def test_new_table_is_created_at_schema_version_1() -> None:
    # Given a source table with no central copy / When planned
    plan = plan_table(table([("id", "int")]), None)
    # Then it is created, with schema history starting at 1
    assert plan.action is Action.CREATE
    assert plan.table_input is not None
    assert plan.table_input["Parameters"][SCHEMA_VERSION] == "1"


def test_only_volatile_provenance_differs_is_noop() -> None:
    # Given central equal to the source except for the sync time
    current = table(
        [("id", "int")], **{SYNCED_AT: "2020-01-01T00:00:00+00:00", SCHEMA_VERSION: "3"}
    )
    desired = table([("id", "int")])
    # Then nothing is written
    assert plan_table(desired, current).action is Action.NOOP


def test_metadata_change_updates_without_archiving_a_schema_version() -> None:
    current = table([("id", "int")], **{SCHEMA_VERSION: "2"})
    desired = table([("id", "int")], **{"meshgov:owner_contact": "team@example.com"})
    plan = plan_table(desired, current)
    assert plan.action is Action.UPDATE
    assert plan.skip_archive is True
    assert plan.schema_change is None
    assert plan.table_input is not None
    assert plan.table_input["Parameters"][SCHEMA_VERSION] == "2"


def test_added_column_is_a_non_breaking_schema_change() -> None:
    current = table([("id", "int")], **{SCHEMA_VERSION: "2"})
    plan = plan_table(table([("id", "int"), ("amount", "double")]), current)
    assert plan.action is Action.UPDATE
    assert plan.skip_archive is False
    assert plan.schema_change is not None and not plan.schema_change.breaking
    assert plan.schema_change.added_columns == ("amount",)
    assert plan.table_input is not None
    assert plan.table_input["Parameters"][SCHEMA_VERSION] == "3"
    assert LAST_BREAKING_CHANGE not in plan.table_input["Parameters"]


def test_removed_column_retyped_column_and_new_partition_key_are_breaking() -> None:
    current = table([("id", "int"), ("note", "string")], **{SCHEMA_VERSION: "1"})
    desired = table([("id", "bigint")], keys=[("dt", "string")])
    plan = plan_table(desired, current)
    change = plan.schema_change
    assert change is not None and change.breaking
    assert change.removed_columns == ("note",)
    assert change.retyped_columns == (("id", "int", "bigint"),)
    assert change.partition_keys_changed
    assert plan.table_input is not None
    recorded = json.loads(plan.table_input["Parameters"][LAST_BREAKING_CHANGE])
    assert recorded["schema_version"] == 2
    assert recorded["removed_columns"] == ["note"]


def test_partition_plan_creates_updates_and_deletes_within_scope() -> None:
    def part(v: str, loc: str) -> dict[str, Any]:
        return {"Values": [v], "StorageDescriptor": {"Location": loc}}

    desired = {("a",): part("a", "s3://x/a"), ("b",): part("b", "s3://x/b2")}
    current = {("b",): part("b", "s3://x/b"), ("c",): part("c", "s3://x/c")}
    plan = plan_partitions(desired, current)
    assert [p["Values"] for p in plan.create] == [["a"]]
    assert [k for k, _ in plan.update] == [("b",)]
    assert plan.delete == [("c",)]
    # Scoped to one key, nothing else is touched
    scoped = plan_partitions(desired, current, scope=[("a",)])
    assert (
        [p["Values"] for p in scoped.create] == [["a"]] and not scoped.update and not scoped.delete
    )


def test_chunks_split_at_the_api_limit() -> None:
    assert [len(c) for c in chunks(list(range(250)), 100)] == [100, 100, 50]
    assert list(chunks([], 25)) == []
