"""The posture report on the local mesh: access through approved requests, drift made behind
meshgov's back, expiring requests, products without classification, the Markdown file."""

from __future__ import annotations

from typing import Any

from meshgov.access.store import request_id_for
from meshgov_local.mesh import LocalMesh
from tests.integration.access_helpers import create_role, decide, publish_sales, request
from tests.integration.helpers import columns, table_input


def approved(mesh: LocalMesh, token: str = "req-1", **request_args: Any) -> str:  # noqa: S107
    """The consumer asks, the producer approves, the mesh settles: the request id."""
    request(mesh, token=token, **request_args)
    mesh.settle()
    request_id = request_id_for(mesh.consumer, token)
    decide(mesh, request_id)
    mesh.settle()
    return request_id


def test_the_posture_of_a_mesh_with_drift_expiry_and_missing_metadata(
    local_mesh: LocalMesh,
) -> None:
    # Given an approved request for t0 (30 days) and one for t1 ending in 3 days
    mesh = local_mesh
    analyst = create_role(mesh, mesh.consumer)
    intern = create_role(mesh, mesh.consumer, "intern")
    publish_sales(mesh)
    long_lived = approved(mesh, tables=["t0"])
    short_lived = approved(mesh, token="req-2", tables=["t1"], duration_days=3)
    # And a request still waiting for the producer
    request(mesh, token="req-3", tables=["t0"], principal=intern)
    mesh.settle()
    # And a product published without classification or owner contact
    mesh.client(mesh.producer, "glue").create_table(
        DatabaseName="orders", TableInput=table_input("raw", columns("id:int"))
    )
    mesh.settle()
    # And one classified by the LF-Tag classification alone, mirrored by the sweep (issue 17,
    # item 7: the policy's and find's notion of a classification)
    mesh.client(mesh.producer, "glue").create_table(
        DatabaseName="orders", TableInput=table_input("tagged", columns("id:int"))
    )
    producer_lf = mesh.client(mesh.producer, "lakeformation")
    producer_lf.create_lf_tag(TagKey="classification", TagValues=["internal"])
    producer_lf.add_lf_tags_to_resource(
        Resource={"Table": {"DatabaseName": "orders", "Name": "tagged"}},
        LFTags=[{"TagKey": "classification", "TagValues": ["internal"]}],
    )
    mesh.sweep()
    mesh.settle()
    # And grants made behind meshgov's back: central's admin gives the consumer account SELECT
    # on a table, the consumer's admin gives the intern SELECT on t0
    mesh.client(mesh.central, "lakeformation").grant_permissions(
        Principal={"DataLakePrincipalIdentifier": mesh.consumer},
        Resource={"Table": {"DatabaseName": "sales_orders", "Name": "raw"}},
        Permissions=["SELECT"],
        PermissionsWithGrantOption=["SELECT"],
    )
    mesh.client(mesh.consumer, "lakeformation").grant_permissions(
        Principal={"DataLakePrincipalIdentifier": intern},
        Resource={
            "Table": {"CatalogId": mesh.central, "DatabaseName": "sales_orders", "Name": "t0"}
        },
        Permissions=["SELECT"],
    )

    # When the posture report is built
    report = mesh.posture(expiring_days=7)

    # Then the analyst reads t0 and t1 through the requests, until their expiry
    analyst_rows = {r.resource: r for r in report.access if r.grantee == analyst}
    assert analyst_rows["sales_orders.t0"].requests == (long_lived,)
    assert analyst_rows["sales_orders.t1"].requests == (short_lived,)
    assert analyst_rows["sales_orders.t1"].until < analyst_rows["sales_orders.t0"].until
    # And the producer owns its database (the standing ownership request, never expiring)
    assert any(r.grantee == mesh.producer and r.until == "never" for r in report.access)
    # And both hand-made grants are drift, nothing else is
    assert sorted((d.side, d.grantee, d.resource) for d in report.drift) == [
        ("central", mesh.consumer, "sales_orders.raw"),
        ("consumer", intern, "sales_orders.t0"),
    ]
    # And the short request expires within 7 days, the intern's waits for the producer
    assert [r.request_id for r in report.expiring] == [short_lived]
    assert [(r.request_id, r.state) for r in report.pending] == [
        (request_id_for(mesh.consumer, "req-3"), "PENDING_APPROVAL")
    ]
    # And the unclassified product is listed (the others lack only an owner contact)
    missing = {f"{p.database}.{p.table}": p.missing for p in report.products_missing}
    assert missing["sales_orders.raw"] == ("meshgov:owner_contact", "meshgov:classification")
    assert missing["sales_orders.t0"] == ("meshgov:owner_contact",)
    assert missing["sales_orders.tagged"] == ("meshgov:owner_contact",)

    # And the Markdown an auditor keeps holds every section
    text = report.as_markdown()
    for section in (
        "# meshgov posture report",
        "## Summary",
        "## Access",
        "## Drift",
        "## Pending requests",
        "## Expiring within 7 days",
        "## Products missing metadata",
    ):
        assert section in text
    assert "| drift: grants no live request explains | 2 |" in text
    assert short_lived in text and "sales_orders.raw" in text


def test_a_revoked_request_leaves_no_access_and_no_drift(local_mesh: LocalMesh) -> None:
    # Given an approved request, then revoked by the consumer (grants removed by meshgov)
    mesh = local_mesh
    analyst = create_role(mesh, mesh.consumer)
    publish_sales(mesh)
    request_id = approved(mesh, tables=["t0"])
    mesh.put_event(
        mesh.consumer,
        "meshgov.access",
        "Access Revoke Requested",
        {"requestId": request_id, "reason": "done"},
    )
    mesh.settle()
    # When the posture report is built, Then the analyst reads nothing and nothing drifts
    report = mesh.posture()
    assert not [r for r in report.access if r.grantee in (analyst, mesh.consumer)]
    assert report.drift == ()
