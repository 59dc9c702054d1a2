"""Central drift (issue 12, item 5): what an administrator changes in the central catalog by
hand is shown as catalog drift by ``posture`` and put back by the next sweep, audited as
"changed outside meshgov".

Changes are made the AWS way: the central administrator (``meshgov-local-admin``, a data lake
administrator) has no implicit right to alter or drop what meshgov created, so it grants itself the
permission first (https://docs.aws.amazon.com/lake-formation/latest/dg/implicit-permissions.html).
"""

from __future__ import annotations

from typing import Any

from meshgov.audit import AuditEntry, AuditOutcome
from meshgov_local.accounts import ADMIN_ROLE_NAME
from meshgov_local.mesh import LocalMesh, differences
from tests.integration.helpers import (
    columns,
    create_published_database,
    partition_input,
    table_input,
)

DB = "sales_sales"  # the central copy of the producer's "sales" (domain "sales")
WRITER_ROLE = "meshgov-central-catalog-writer-eu-west-1"  # CatalogWriterRole, as deployed


def _admin(mesh: LocalMesh) -> str:
    return f"arn:aws:iam::{mesh.central}:role/{ADMIN_ROLE_NAME}"


def _grant(mesh: LocalMesh, principal: str, resource: dict[str, Any], *perms: str) -> None:
    mesh.client(mesh.central, "lakeformation").grant_permissions(
        Principal={"DataLakePrincipalIdentifier": principal},
        Resource=resource,
        Permissions=list(perms),
    )


def _table(name: str) -> dict[str, Any]:
    return {"Table": {"DatabaseName": DB, "Name": name}}


def _published(mesh: LocalMesh) -> None:
    """The producer publishes ``sales``: ``orders`` (partitioned, two days) and ``items``;
    events and a first sweep bring them to central."""
    glue = mesh.client(mesh.producer, "glue")
    create_published_database(glue, "sales")
    glue.create_table(
        DatabaseName="sales",
        TableInput=table_input(
            "orders", columns("id:int", "amount:double"), keys=columns("dt:string")
        ),
    )
    glue.create_table(DatabaseName="sales", TableInput=table_input("items", columns("id:int")))
    glue.batch_create_partition(
        DatabaseName="sales",
        TableName="orders",
        PartitionInputList=[partition_input("orders", d) for d in ("2026-01-01", "2026-01-02")],
    )
    mesh.settle()
    mesh.sweep()
    assert differences(mesh) == []
    assert mesh.posture().catalog_drift == ()


def _drift(mesh: LocalMesh) -> list[tuple[str, str]]:
    return [(row.kind, row.resource) for row in mesh.posture().catalog_drift]


def _repairs(mesh: LocalMesh, action: str) -> list[AuditEntry]:
    """The audit records of ``action`` that say they repaired drift."""
    return [
        r.entry
        for r in mesh.audit_records()
        if r.entry.action == action and r.entry.reason.startswith("changed outside meshgov")
    ]


def test_a_central_table_deleted_by_hand_comes_back(local_mesh: LocalMesh) -> None:
    # Given a published table, then deleted centrally by the administrator
    mesh = local_mesh
    _published(mesh)
    _grant(mesh, _admin(mesh), _table("items"), "DROP")
    mesh.client(mesh.central, "glue").delete_table(DatabaseName=DB, Name="items")
    # Then posture shows it as catalog drift, and --fail-on-drift would fail
    assert _drift(mesh) == [("table missing", f"{DB}.items")]
    assert not mesh.posture().clean

    # When the sweep runs
    result = mesh.sweep()

    # Then the table is back, equal to the source, and the repair says it was drift
    assert result["tables_created"] == 1
    assert differences(mesh) == []
    (record,) = _repairs(mesh, "glue:CreateTable")
    assert record.target == f"table/{DB}/items"
    assert record.outcome is AuditOutcome.SUCCEEDED
    assert record.detail["drift"] == "table missing"
    # And posture shows no drift any more
    assert mesh.posture().catalog_drift == ()


def test_a_column_changed_by_hand_is_restored(local_mesh: LocalMesh) -> None:
    # Given the administrator retypes a column of the central copy and adds one
    mesh = local_mesh
    _published(mesh)
    _grant(mesh, _admin(mesh), _table("orders"), "ALTER")
    glue = mesh.client(mesh.central, "glue")
    current = glue.get_table(DatabaseName=DB, Name="orders")["Table"]
    changed = table_input(
        "orders", columns("id:string", "amount:double", "note:string"), keys=columns("dt:string")
    )
    changed["Parameters"] = current["Parameters"]
    changed["StorageDescriptor"]["Location"] = current["StorageDescriptor"]["Location"]
    glue.update_table(DatabaseName=DB, TableInput=changed)
    # Then posture names the table and what differs
    (row,) = mesh.posture().catalog_drift
    assert (row.kind, row.resource) == ("table changed", f"{DB}.orders")
    assert "StorageDescriptor.Columns" in row.detail

    # When the sweep runs
    result = mesh.sweep()

    # Then the source's columns are back, and the repair is audited as drift
    assert result["tables_updated"] == 1
    restored = glue.get_table(DatabaseName=DB, Name="orders")["Table"]
    assert [(c["Name"], c["Type"]) for c in restored["StorageDescriptor"]["Columns"]] == [
        ("id", "int"),
        ("amount", "double"),
    ]
    (record,) = _repairs(mesh, "glue:UpdateTable")
    assert record.detail["drift"] == "table changed"
    assert differences(mesh) == []
    assert mesh.posture().catalog_drift == ()


def test_a_partition_deleted_by_hand_comes_back(local_mesh: LocalMesh) -> None:
    # Given the administrator deletes one partition of the central copy
    mesh = local_mesh
    _published(mesh)
    _grant(mesh, _admin(mesh), _table("orders"), "DELETE")
    mesh.client(mesh.central, "glue").batch_delete_partition(
        DatabaseName=DB, TableName="orders", PartitionsToDelete=[{"Values": ["2026-01-01"]}]
    )
    # Then posture lists the missing partition
    (row,) = mesh.posture().catalog_drift
    assert (row.kind, row.resource) == ("partitions missing", f"{DB}.orders")
    assert "2026-01-01" in row.detail

    # When the sweep runs
    result = mesh.sweep()

    # Then the partition is back and the repair says it was drift
    assert result["partitions_created"] == 1
    values = [
        p["Values"]
        for p in mesh.client(mesh.central, "glue").get_partitions(
            DatabaseName=DB, TableName="orders"
        )["Partitions"]
    ]
    assert sorted(values) == [["2026-01-01"], ["2026-01-02"]]
    (record,) = _repairs(mesh, "glue:SyncPartitions")
    assert record.detail["drift"] == ["partitions missing"]
    assert differences(mesh) == []
    assert mesh.posture().catalog_drift == ()


def test_an_extra_table_made_by_hand_is_removed_once_meshgov_may_drop_it(
    local_mesh: LocalMesh,
) -> None:
    # Given the administrator creates a table in the published central database
    mesh = local_mesh
    _published(mesh)
    _grant(mesh, _admin(mesh), {"Database": {"Name": DB}}, "CREATE_TABLE")
    glue = mesh.client(mesh.central, "glue")
    glue.create_table(DatabaseName=DB, TableInput=table_input("scratch", columns("x:int")))
    # Then posture lists it as an extra table
    assert _drift(mesh) == [("table extra", f"{DB}.scratch")]

    # When the sweep runs: Lake Formation does not let meshgov drop another principal's table
    first = mesh.sweep()
    # Then it stays, the refusal is audited as drift not removed, and the sweep did not fail
    assert first["failed"] == [] and first["tables_deleted"] == 0
    (refused,) = _repairs(mesh, "glue:BatchDeleteTable")
    assert refused.outcome is AuditOutcome.FAILED
    assert refused.detail["tables"] == ["scratch"]
    assert "not removed" in refused.reason
    assert _drift(mesh) == [("table extra", f"{DB}.scratch")]

    # When the administrator grants the catalog role DROP on it and the sweep runs again
    _grant(mesh, f"arn:aws:iam::{mesh.central}:role/{WRITER_ROLE}", _table("scratch"), "DROP")
    second = mesh.sweep()

    # Then it is gone, audited as drift removed, and posture is clean
    assert second["tables_deleted"] == 1
    removed = [
        r for r in _repairs(mesh, "glue:BatchDeleteTable") if r.outcome is AuditOutcome.SUCCEEDED
    ]
    assert [r.detail["drift"] for r in removed] == ["table extra"]
    names = [t["Name"] for t in glue.get_tables(DatabaseName=DB)["TableList"]]
    assert sorted(names) == ["items", "orders"]
    assert mesh.posture().catalog_drift == ()


def test_a_central_database_deleted_by_hand_comes_back_with_its_tables(
    local_mesh: LocalMesh,
) -> None:
    # Given the administrator drops the whole central database
    mesh = local_mesh
    _published(mesh)
    _grant(mesh, _admin(mesh), {"Database": {"Name": DB}}, "DROP")
    mesh.client(mesh.central, "glue").delete_database(Name=DB)
    assert _drift(mesh) == [("database missing", f"database {DB}")]

    # When the sweep runs
    result = mesh.sweep()

    # Then database, tables and partitions are back, the database's repair audited as drift
    assert result["databases_created"] == 1 and result["tables_created"] == 2
    assert differences(mesh) == []
    (record,) = _repairs(mesh, "glue:CreateDatabase")
    assert record.detail["drift"] == "database missing"
    assert mesh.posture().catalog_drift == ()


def test_a_tagged_table_deleted_by_hand_comes_back_with_its_lf_tags(
    local_mesh: LocalMesh,
) -> None:
    # Given a published table carrying its own LF-Tag (mirrored centrally), then deleted by hand
    mesh = local_mesh
    _published(mesh)
    lf = mesh.client(mesh.producer, "lakeformation")
    lf.create_lf_tag(TagKey="classification", TagValues=["public", "pii"])
    lf.add_lf_tags_to_resource(
        Resource={"Table": {"DatabaseName": "sales", "Name": "items"}},
        LFTags=[{"TagKey": "classification", "TagValues": ["pii"]}],
    )
    mesh.sweep()  # Lake Formation emits no event: the sweep mirrors the tag
    central_lf = mesh.client(mesh.central, "lakeformation")

    def tags() -> dict[str, list[str]]:
        found = central_lf.get_resource_lf_tags(Resource=_table("items"), ShowAssignedLFTags=True)
        return {t["TagKey"]: t["TagValues"] for t in found.get("LFTagsOnTable", [])}

    assert tags() == {"classification": ["pii"]}
    _grant(mesh, _admin(mesh), _table("items"), "DROP")
    mesh.client(mesh.central, "glue").delete_table(DatabaseName=DB, Name="items")

    # When the sweep runs
    mesh.sweep()

    # Then the table is back with its tag (a new table carries none: the mirror is re-applied)
    assert tags() == {"classification": ["pii"]}
    assert differences(mesh) == []
