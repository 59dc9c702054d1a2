"""Producer data locations registered in central Lake Formation (issue 12, defect 4).

Lake Formation vends credentials only for registered locations
(https://docs.aws.amazon.com/lake-formation/latest/dg/access-control-underlying-data.html): once
a table is published, its bucket is registered in central with template.yaml's DataLocationRole,
which the producer's bucket (member stack: DataBucketPolicy) lets read it; the sweep deregisters
a bucket no published table uses any more, never an event.
"""

from __future__ import annotations

from typing import Any

from meshgov_local.mesh import LocalMesh
from tests.integration.helpers import columns, create_published_database, table_input

ROLE_NAME = "meshgov-central-data-location-eu-west-1"
PRODUCER_DATA = "arn:aws:s3:::producer-data"
OTHER = "arn:aws:s3:::producer-archive"


def registered(mesh: LocalMesh) -> dict[str, dict[str, Any]]:
    """Central's registered locations, every page (ListResources has no SDK paginator)."""
    lf = mesh.client(mesh.central, "lakeformation")
    found: dict[str, dict[str, Any]] = {}
    kwargs: dict[str, Any] = {"MaxResults": 1}
    while True:
        page = lf.list_resources(**kwargs)
        found.update({info["ResourceArn"]: info for info in page["ResourceInfoList"]})
        if not page.get("NextToken"):
            return found
        kwargs["NextToken"] = page["NextToken"]


def records(mesh: LocalMesh, action: str) -> list[Any]:
    return [r.entry for r in mesh.audit_records() if r.entry.action == action]


def test_a_published_tables_bucket_is_registered_with_the_data_location_role(
    local_mesh: LocalMesh,
) -> None:
    mesh = local_mesh
    role_arn = f"arn:aws:iam::{mesh.central}:role/{ROLE_NAME}"
    # Given a producer that publishes two tables in its data bucket
    glue = mesh.client(mesh.producer, "glue")
    create_published_database(glue, "sales")
    for name in ("orders", "customers"):
        glue.create_table(DatabaseName="sales", TableInput=table_input(name, columns("id:int")))

    # When the events are processed
    mesh.settle()

    # Then central Lake Formation lists the bucket, registered with the template's role, and the
    # producer's bucket policy (its member stack) lets that role read it
    locations = registered(mesh)
    assert set(locations) == {PRODUCER_DATA}
    assert locations[PRODUCER_DATA]["RoleArn"] == role_arn
    assert locations[PRODUCER_DATA]["VerificationStatus"] == "VERIFIED"
    # And the registration is audited once (the second table found it registered)
    (entry,) = records(mesh, "lakeformation:RegisterResource")
    assert (entry.outcome.value, entry.target) == ("SUCCEEDED", PRODUCER_DATA)
    assert entry.actor == "meshgov:catalog-sync"


def test_the_sweep_deregisters_a_bucket_no_published_table_uses(local_mesh: LocalMesh) -> None:
    mesh = local_mesh
    glue = mesh.client(mesh.producer, "glue")
    mesh.client(mesh.producer, "s3").create_bucket(
        Bucket="producer-archive", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    # Given published tables in two buckets, both registered
    create_published_database(glue, "sales")
    glue.create_table(DatabaseName="sales", TableInput=table_input("orders", columns("id:int")))
    archive = table_input("archive", columns("id:int"))
    archive["StorageDescriptor"]["Location"] = "s3://producer-archive/archive/"
    glue.create_table(DatabaseName="sales", TableInput=archive)
    mesh.settle()
    assert set(registered(mesh)) == {PRODUCER_DATA, OTHER}
    # The archive bucket's policy is the producer's own (DataBucketName names the other one)
    assert registered(mesh)[OTHER]["VerificationStatus"] == "NOT_VERIFIED"

    # When the last table using the archive bucket is dropped, and the sweep runs
    glue.delete_table(DatabaseName="sales", Name="archive")
    mesh.settle()
    mesh.sweep()

    # Then the archive bucket is deregistered, the bucket still in use is not
    assert set(registered(mesh)) == {PRODUCER_DATA}


def test_only_the_sweep_deregisters_and_only_what_meshgov_registered(local_mesh: LocalMesh) -> None:
    mesh = local_mesh
    glue = mesh.client(mesh.producer, "glue")
    lf = mesh.client(mesh.central, "lakeformation")
    # Given a published table, and a location the platform team registered with its own role
    create_published_database(glue, "sales")
    glue.create_table(DatabaseName="sales", TableInput=table_input("orders", columns("id:int")))
    mesh.settle()
    admin_role = f"arn:aws:iam::{mesh.central}:role/meshgov-local-admin"
    lf.register_resource(ResourceArn=OTHER, RoleArn=admin_role)

    # When the table is dropped at the source
    glue.delete_table(DatabaseName="sales", Name="orders")
    mesh.settle()

    # Then the event path leaves the registration: only the sweep sees every published table
    assert set(registered(mesh)) == {PRODUCER_DATA, OTHER}

    # When the sweep runs
    mesh.sweep()

    # Then meshgov's registration is gone, audited; the platform team's is untouched
    assert set(registered(mesh)) == {OTHER}
    (entry,) = records(mesh, "lakeformation:DeregisterResource")
    assert (entry.outcome.value, entry.target) == ("SUCCEEDED", PRODUCER_DATA)
    assert entry.actor == "meshgov:catalog-sweep"

    # And publishing again registers it again (a second sweep changes nothing)
    glue.create_table(DatabaseName="sales", TableInput=table_input("orders", columns("id:int")))
    mesh.settle()
    mesh.sweep()
    assert set(registered(mesh)) == {PRODUCER_DATA, OTHER}
    assert len(records(mesh, "lakeformation:RegisterResource")) == 2


def test_unpublishing_a_database_deregisters_its_bucket_at_the_next_sweep(
    local_mesh: LocalMesh,
) -> None:
    mesh = local_mesh
    glue = mesh.client(mesh.producer, "glue")
    create_published_database(glue, "sales")
    glue.create_table(DatabaseName="sales", TableInput=table_input("orders", columns("id:int")))
    mesh.settle()
    assert set(registered(mesh)) == {PRODUCER_DATA}

    # When the database is unpublished (no Glue event) and the sweep runs
    glue.update_database(Name="sales", DatabaseInput={"Name": "sales", "Parameters": {}})
    mesh.sweep()

    # Then the bucket is deregistered
    assert registered(mesh) == {}


def test_a_location_that_is_not_s3_is_refused_audited_and_registers_nothing(
    local_mesh: LocalMesh,
) -> None:
    mesh = local_mesh
    glue = mesh.client(mesh.producer, "glue")
    create_published_database(glue, "sales")
    odd = table_input("odd", columns("id:int"))
    odd["StorageDescriptor"]["Location"] = "hdfs://cluster/odd/"
    glue.create_table(DatabaseName="sales", TableInput=odd)

    mesh.settle()

    assert registered(mesh) == {}
    (entry,) = records(mesh, "lakeformation:RegisterResource")
    assert entry.outcome.value == "REFUSED"
    assert "not an Amazon S3 location" in entry.reason
    assert entry.target.endswith(":table/sales/odd")
