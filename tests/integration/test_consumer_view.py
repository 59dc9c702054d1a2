"""The consumer's own view (issue 12, item 7): with the consumer role's own credentials, the
catalog shows exactly what was granted, through the resource link, and nothing once revoked.

The local mesh enforces IAM and Lake Formation on every Glue call and resolves resource links as
AWS does, so these are the answers the consumer's AWS CLI gets from the running mesh."""

from __future__ import annotations

import json
from typing import Any

from meshgov_local.mesh import CONSUMER_READ_POLICY, LocalMesh
from tests.integration.access_helpers import (
    ANALYST,
    create_role,
    decide,
    publish_sales,
    request,
    request_id,
    revoke,
)


def analyst_glue(mesh: LocalMesh) -> Any:
    """The analyst's own Glue client, with the IAM rights its platform team gives it."""
    mesh.client(mesh.consumer, "iam").put_role_policy(
        RoleName=ANALYST,
        PolicyName="catalog-read",
        PolicyDocument=json.dumps(CONSUMER_READ_POLICY),
    )
    return mesh.consumer_glue(mesh.consumer, ANALYST)


def granted(mesh: LocalMesh, **kwargs: Any) -> str:
    request(mesh, **kwargs)
    mesh.settle()
    rid = request_id(mesh)
    decide(mesh, rid)
    mesh.settle()
    return rid


def visible(glue: Any, database: str) -> dict[str, list[str]]:
    tables = glue.get_tables(DatabaseName=database)["TableList"]
    return {t["Name"]: [c["Name"] for c in t["StorageDescriptor"]["Columns"]] for t in tables}


def test_the_analyst_lists_exactly_the_granted_tables_through_its_link(
    local_mesh: LocalMesh,
) -> None:
    # Given two published tables, and the analyst's view before any request
    mesh = local_mesh
    create_role(mesh, mesh.consumer)
    publish_sales(mesh, tables=2)
    glue = analyst_glue(mesh)
    assert glue.get_databases()["DatabaseList"] == []

    # When t0 is requested, approved and granted
    rid = granted(mesh, tables=["t0"])

    # Then through the link sales_orders the analyst sees t0 and only t0, with every column
    assert [d["Name"] for d in glue.get_databases()["DatabaseList"]] == ["sales_orders"]
    assert visible(glue, "sales_orders") == {"t0": ["id", "amount", "customer"]}
    assert glue.get_table(DatabaseName="sales_orders", Name="t0")["Table"]["Name"] == "t0"

    # And after revocation, nothing
    revoke(mesh, rid, mesh.consumer)
    mesh.settle()
    assert glue.get_databases()["DatabaseList"] == []


def test_a_column_grant_shows_the_granted_columns_only(local_mesh: LocalMesh) -> None:
    mesh = local_mesh
    create_role(mesh, mesh.consumer)
    publish_sales(mesh, tables=1)
    glue = analyst_glue(mesh)
    granted(mesh, tables=["t0"], columns=["id", "amount"])
    assert visible(glue, "sales_orders") == {"t0": ["id", "amount"]}
