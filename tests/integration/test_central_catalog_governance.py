"""Lake Formation governs the central catalog (issue 12, defects 3, 6 and 7), through the local
mesh, which enforces Lake Formation on Glue calls."""

from __future__ import annotations

from meshgov_local.emulator import controls
from meshgov_local.mesh import LocalMesh, differences
from tests.integration.helpers import columns, create_published_database, table_input


def _central_tables(mesh: LocalMesh, database: str) -> list[str]:
    glue = mesh.client(mesh.central, "glue")
    return sorted(t["Name"] for t in glue.get_tables(DatabaseName=database)["TableList"])


def test_what_the_event_path_created_the_sweep_alters_and_drops(local_mesh: LocalMesh) -> None:
    # Given two tables the event path (catalog sync) created centrally
    mesh = local_mesh
    glue = mesh.client(mesh.producer, "glue")
    create_published_database(glue, "orders")
    for name in ("t0", "t1"):
        glue.create_table(DatabaseName="orders", TableInput=table_input(name, columns("id:int")))
    mesh.settle()
    assert _central_tables(mesh, "sales_orders") == ["t0", "t1"]

    # When the producer alters one and drops the other, and Glue's events are lost
    controls.set_event_drop_rate(1.0)
    glue.update_table(
        DatabaseName="orders", TableInput=table_input("t0", columns("id:int", "amount:double"))
    )
    glue.delete_table(DatabaseName="orders", Name="t1")
    controls.set_event_drop_rate(0.0)
    report = mesh.sweep()

    # Then the sweep (another function) may change what the sync created: one writer identity
    assert not report.get("failed"), report
    assert report["tables_updated"] == report["tables_deleted"] == 1
    assert _central_tables(mesh, "sales_orders") == ["t0"]
    assert differences(mesh) == []


def test_iam_allowed_principals_hold_nothing_centrally_and_the_version_is_pinned(
    local_mesh: LocalMesh,
) -> None:
    # Given a published database and table, copied centrally
    mesh = local_mesh
    glue = mesh.client(mesh.producer, "glue")
    create_published_database(glue, "orders")
    glue.create_table(DatabaseName="orders", TableInput=table_input("t0", columns("id:int")))
    mesh.settle()
    lakeformation = mesh.client(mesh.central, "lakeformation")

    # When central's Lake Formation grants and settings are read
    grants = lakeformation.list_permissions()["PrincipalResourcePermissions"]
    settings = lakeformation.get_data_lake_settings()["DataLakeSettings"]

    # Then no grant makes IAM alone decide over a central database or table
    assert not [
        g
        for g in grants
        if g["Principal"]["DataLakePrincipalIdentifier"] == "IAM_ALLOWED_PRINCIPALS"
    ]
    assert settings["CreateDatabaseDefaultPermissions"] == []
    assert settings["CreateTableDefaultPermissions"] == []
    # And cross-account grants use the pinned version
    assert settings["Parameters"]["CROSS_ACCOUNT_VERSION"] == "4"
