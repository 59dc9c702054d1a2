"""Producer LF-Tags are mirrored as central LF-Tags (tags cannot cross accounts)."""

from __future__ import annotations

from typing import Any

from meshgov_local.mesh import LocalMesh
from tests.integration.helpers import columns, create_published_database, table_input


def tags_of(
    lf: Any, catalog: str, resource: dict[str, Any], column_names: list[str] | None = None
) -> dict[str, Any]:
    response = lf.get_resource_lf_tags(
        CatalogId=catalog, Resource=resource, ShowAssignedLFTags=True
    )
    if column_names:
        with_columns = {**resource["Table"], "ColumnNames": column_names}
        response["LFTagsOnColumns"] = lf.get_resource_lf_tags(
            CatalogId=catalog,
            Resource={"TableWithColumns": with_columns},
            ShowAssignedLFTags=True,
        ).get("LFTagsOnColumns", [])
    return {
        "database": {t["TagKey"]: t["TagValues"] for t in response.get("LFTagOnDatabase", [])},
        "table": {t["TagKey"]: t["TagValues"] for t in response.get("LFTagsOnTable", [])},
        "columns": {
            c["Name"]: {t["TagKey"]: t["TagValues"] for t in c.get("LFTags", [])}
            for c in response.get("LFTagsOnColumns", [])
            if c.get("LFTags")
        },
    }


def test_database_table_and_column_tags_are_mirrored_and_follow_changes(
    local_mesh: LocalMesh,
) -> None:
    producer, central = local_mesh.producer, local_mesh.central
    glue = local_mesh.client(producer, "glue")
    lf = local_mesh.client(producer, "lakeformation")
    # Given a producer whose database, table and one column carry LF-Tags
    create_published_database(glue, "sales")
    glue.create_table(
        DatabaseName="sales", TableInput=table_input("customers", columns("id:int", "email:string"))
    )
    lf.create_lf_tag(TagKey="domain", TagValues=["sales"])
    lf.create_lf_tag(TagKey="classification", TagValues=["public", "pii"])
    lf.add_lf_tags_to_resource(
        Resource={"Database": {"Name": "sales"}},
        LFTags=[{"TagKey": "domain", "TagValues": ["sales"]}],
    )
    lf.add_lf_tags_to_resource(
        Resource={"Table": {"DatabaseName": "sales", "Name": "customers"}},
        LFTags=[{"TagKey": "classification", "TagValues": ["public"]}],
    )
    lf.add_lf_tags_to_resource(
        Resource={
            "TableWithColumns": {
                "DatabaseName": "sales",
                "Name": "customers",
                "ColumnNames": ["email"],
            }
        },
        LFTags=[{"TagKey": "classification", "TagValues": ["pii"]}],
    )
    # When the table's event is delivered
    local_mesh.settle()
    # Then central has the same keys and values, on the same kind of resource
    central_lf = local_mesh.client(central, "lakeformation")
    keys = {t["TagKey"]: sorted(t["TagValues"]) for t in central_lf.list_lf_tags()["LFTags"]}
    assert keys == {"classification": ["pii", "public"], "domain": ["sales"]}
    db_tags = tags_of(central_lf, central, {"Database": {"Name": "sales_sales"}})
    assert db_tags["database"] == {"domain": ["sales"]}
    table_tags = tags_of(
        central_lf,
        central,
        {"Table": {"DatabaseName": "sales_sales", "Name": "customers"}},
        ["id", "email"],
    )
    assert table_tags["table"] == {"classification": ["public"]}
    assert table_tags["columns"] == {"email": {"classification": ["pii"]}}
    # When the producer reclassifies the table (LF has no events: the sweep picks it up)
    lf.add_lf_tags_to_resource(
        Resource={"Table": {"DatabaseName": "sales", "Name": "customers"}},
        LFTags=[{"TagKey": "classification", "TagValues": ["pii"]}],
    )
    lf.remove_lf_tags_from_resource(
        Resource={
            "TableWithColumns": {
                "DatabaseName": "sales",
                "Name": "customers",
                "ColumnNames": ["email"],
            }
        },
        LFTags=[{"TagKey": "classification", "TagValues": ["pii"]}],
    )
    local_mesh.sweep()
    table_tags = tags_of(
        central_lf,
        central,
        {"Table": {"DatabaseName": "sales_sales", "Name": "customers"}},
        ["id", "email"],
    )
    assert table_tags["table"] == {"classification": ["pii"]}
    assert table_tags["columns"] == {}
