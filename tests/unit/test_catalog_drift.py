"""Catalog drift decisions (meshgov.catalog.drift): what differs, whose databases, partitions."""

from __future__ import annotations

from meshgov.catalog.drift import (
    CentralSnapshot,
    DriftKind,
    database_drift,
    extra_databases,
    extra_tables,
    partition_drift,
    table_drift,
)
from meshgov.catalog.naming import Producer

SALES = Producer("222222222222", "sales")


def _table(name: str, *cols: str, **params: str) -> dict[str, object]:
    return {
        "Name": name,
        "DatabaseName": "sales_db",
        "StorageDescriptor": {"Columns": [{"Name": c, "Type": "int"} for c in cols]},
        "Parameters": params,
    }


def test_volatile_provenance_is_no_drift_but_a_column_or_parameter_is() -> None:
    desired = _table("t", "id", **{"meshgov:synced_at": "2026-01-01T00:00:00"})
    del desired["DatabaseName"]  # a TableInput; the central table is as GetTable returns it
    same = _table("t", "id", **{"meshgov:synced_at": "2020-01-01T00:00:00"})
    assert table_drift("sales_db", desired, same) is None
    changed = _table("t", "id", "extra", owner="someone")
    drift = table_drift("sales_db", desired, changed)
    assert drift is not None and drift.kind is DriftKind.TABLE_CHANGED
    assert drift.detail == "Parameters.owner, StorageDescriptor.Columns"
    assert drift.reason.startswith("changed outside meshgov: table changed")
    missing = table_drift("sales_db", desired, None)
    assert missing is not None and missing.kind is DriftKind.TABLE_MISSING


def test_a_database_is_the_producers_by_provenance_or_namespace_never_a_link() -> None:
    snapshot = CentralSnapshot.of(
        [
            {"Name": "sales_db"},
            {"Name": "sales_handmade"},
            {"Name": "renamed", "Parameters": {"meshgov:source_account": SALES.account_id}},
            {"Name": "platform_reports"},
            {"Name": "sales_link", "TargetDatabase": {"DatabaseName": "x"}},
        ],
        [_table("t", "id"), {**_table("scratch"), "DatabaseName": "sales_db"}],
    )
    extras = extra_databases(SALES, snapshot, ["sales_db"])
    assert [d.database for d in extras] == ["renamed", "sales_handmade"]
    assert [d.table for d in extra_tables("sales_db", snapshot, ["t"])] == ["scratch"]
    assert database_drift({"Name": "sales_gone"}, None) is not None


def test_partitions_missing_changed_and_extra_are_named() -> None:
    def part(day: str, where: str) -> dict[str, object]:
        return {"Values": [day], "StorageDescriptor": {"Location": where}}

    desired = {("d1",): part("d1", "s3://a/1"), ("d2",): part("d2", "s3://a/2")}
    current = {("d2",): part("d2", "s3://b/2"), ("d3",): part("d3", "s3://a/3")}
    found = {d.kind: d.detail for d in partition_drift("sales_db", "t", desired, current)}
    assert found == {
        DriftKind.PARTITIONS_MISSING: "1: d1",
        DriftKind.PARTITIONS_CHANGED: "1: d2",
        DriftKind.PARTITIONS_EXTRA: "1: d3",
    }
    assert partition_drift("sales_db", "t", desired, desired) == []
