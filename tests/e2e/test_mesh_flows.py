"""The mesh's main stories end to end, one body for the local mesh and for real AWS accounts.

Each body is marked ``real_aws``: it runs on the local mesh (its own moto server) always, and on
the three accounts ``MESHGOV_AWS_PROFILES`` names when that is set (``conftest.py``). Bodies use
only :class:`meshgov_local.e2e_target.MeshTarget`; every name is unique per run, and whatever a
body creates is removed when it ends (``mesh.defer``), so a real run leaves nothing behind.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from meshgov.access.states import RequestState
from meshgov.access.store import request_id_for
from meshgov.contracts.access_events import (
    ACCESS_DECIDED,
    ACCESS_REQUESTED,
    ACCESS_REVOKE_REQUESTED,
    ACCESS_SOURCE,
)
from meshgov_local.e2e_target import MeshTarget
from tests.integration.helpers import columns, create_published_database, table_input

pytestmark = pytest.mark.e2e

COLUMNS = ("id:int", "amount:double", "customer:string")


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def central_table(mesh: MeshTarget, database: str, table: str) -> dict[str, Any] | None:
    """The central catalog's table, or None while it is not there."""
    try:
        found = mesh.client(mesh.central, "glue").get_table(DatabaseName=database, Name=table)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "EntityNotFoundException":
            return None
        raise
    return dict(found["Table"])


def producer_database(mesh: MeshTarget, *, published: bool = True) -> str:
    """The producer creates a database (published or not) with one table ``orders``; it is
    dropped when the test ends."""
    database = unique("e2e_")
    glue = mesh.client(mesh.producer, "glue")
    create_published_database(glue, database, published=published)
    mesh.defer(lambda: glue.delete_database(Name=database))
    glue.create_table(
        DatabaseName=database,
        TableInput=table_input(
            "orders", columns(*COLUMNS), **{"meshgov:classification": "internal"}
        ),
    )
    return database


def published_centrally(mesh: MeshTarget) -> str:
    """A published producer database, once central shows its ``orders``: its central name."""
    central = mesh.central_database(producer_database(mesh))
    mesh.settle(
        until=lambda: central_table(mesh, central, "orders") is not None,
        what=f"{central}.orders in the central catalog",
    )
    return central


def state(mesh: MeshTarget, request_id: str) -> RequestState | None:
    record = mesh.request(request_id)
    return record.state if record else None


# --- publishing -----------------------------------------------------------------------------------


@pytest.mark.real_aws
def test_a_published_table_appears_in_the_central_catalog_with_its_provenance(
    mesh: MeshTarget,
) -> None:
    started = datetime.now(UTC)
    # Given a producer that publishes a database with a table
    database = producer_database(mesh)
    central = mesh.central_database(database)
    # When its Glue events have flowed
    mesh.settle(
        until=lambda: central_table(mesh, central, "orders") is not None,
        what=f"{central}.orders in the central catalog",
    )
    # Then central has the table, pointing at the producer's data, saying where it came from
    table = central_table(mesh, central, "orders")
    assert table is not None
    source = mesh.client(mesh.producer, "glue").get_table(DatabaseName=database, Name="orders")
    assert [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]] == [
        tuple(spec.split(":")) for spec in COLUMNS
    ]
    assert (
        table["StorageDescriptor"]["Location"] == source["Table"]["StorageDescriptor"]["Location"]
    )
    parameters = table["Parameters"]
    assert parameters["meshgov:source_account"] == mesh.producer
    assert parameters["meshgov:classification"] == "internal"
    # And the write is in the central audit trail
    writes = [
        r.entry
        for r in mesh.audit_records(since=started)
        if r.entry.action == "glue:CreateTable" and r.entry.outcome == "SUCCEEDED"
    ]
    assert any(central in w.target and "orders" in w.target for w in writes), writes


@pytest.mark.real_aws
def test_the_sweep_publishes_a_database_no_event_announced(mesh: MeshTarget) -> None:
    # Given an unpublished database with a table, then published by a parameter change (Glue
    # sends no event for UpdateDatabase)
    database = producer_database(mesh, published=False)
    central = mesh.central_database(database)
    mesh.client(mesh.producer, "glue").update_database(
        Name=database,
        DatabaseInput={"Name": database, "Parameters": {"meshgov:publish": "true"}},
    )
    # When the scheduled catalog sweep runs (and has returned)
    report = mesh.sweep()
    # Then it failed nowhere, and central already has the table: no event delivery needed
    assert report["failed"] == []
    table = central_table(mesh, central, "orders")
    assert table is not None
    assert table["Parameters"]["meshgov:source_account"] == mesh.producer


# --- sharing --------------------------------------------------------------------------------------


@pytest.mark.real_aws
def test_access_is_requested_approved_granted_linked_and_explained(mesh: MeshTarget) -> None:
    started = datetime.now(UTC)
    # Given a published table and a consumer role that cannot read it
    central = published_centrally(mesh)
    role_name = unique("meshgov-e2e-analyst-")
    analyst = mesh.create_role(mesh.consumer, role_name)
    iam = mesh.client(mesh.consumer, "iam")
    mesh.defer(lambda: iam.delete_role(RoleName=role_name))
    assert not mesh.can_access(analyst, central, "orders").allowed
    # When the consumer asks for SELECT on it (internal data: the producer decides)
    token = unique("e2e-")
    rid = request_id_for(mesh.consumer, token)
    mesh.put_event(
        mesh.consumer,
        ACCESS_SOURCE,
        ACCESS_REQUESTED,
        {
            "clientToken": token,
            "consumerAccount": mesh.consumer,
            "principal": analyst,
            "resource": {"database": central, "tables": ["orders"]},
            "permissions": ["SELECT"],
            "justification": "end-to-end test of the access flow",
            "durationDays": 1,
        },
    )
    mesh.defer(lambda: revoke_if_live(mesh, rid, central))
    # Then it waits for the owning producer
    mesh.settle(
        until=lambda: state(mesh, rid) is RequestState.PENDING_APPROVAL,
        what=f"{rid} PENDING_APPROVAL",
    )
    # When the producer approves
    mesh.put_event(
        mesh.producer,
        ACCESS_SOURCE,
        ACCESS_DECIDED,
        {"requestId": rid, "decision": "APPROVE", "reason": "end-to-end test"},
    )
    # Then central grants, the consumer accepts and links, and the request is ACTIVE
    mesh.settle(until=lambda: state(mesh, rid) is RequestState.ACTIVE, what=f"{rid} ACTIVE")
    transitions = [
        (r.entry.detail.get("from_state"), r.entry.detail.get("to_state"))
        for r in mesh.audit_records(since=started)
        if r.entry.action == "access:transition" and r.entry.correlation_id == rid
    ]
    assert transitions == [
        (None, "REQUESTED"),
        ("REQUESTED", "PENDING_APPROVAL"),
        ("PENDING_APPROVAL", "APPROVED"),
        ("APPROVED", "GRANTED"),
        ("GRANTED", "ACTIVE"),
    ]
    # ... the consumer has a resource link named as the central database, pointing at it
    link = consumer_link(mesh, central)
    assert link is not None
    target = link.get("TargetDatabase", {})
    assert (target.get("CatalogId"), target.get("DatabaseName")) == (mesh.central, central)
    # ... and the role can read the table, explained by this request
    answer = mesh.can_access(analyst, central, "orders")
    assert answer.allowed, answer.as_dict()
    assert rid in answer.requests


def consumer_link(mesh: MeshTarget, name: str) -> dict[str, Any] | None:
    """The consumer's database (resource link) ``name``, or None."""
    try:
        found = mesh.client(mesh.consumer, "glue").get_database(Name=name)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "EntityNotFoundException":
            return None
        raise
    return dict(found["Database"])


def revoke_if_live(mesh: MeshTarget, request_id: str, link: str) -> None:
    """Cleanup: the consumer revokes a request still granted, and waits until it is REVOKED
    and the consumer's member function removed the link — before the role is deleted."""
    if state(mesh, request_id) not in (RequestState.GRANTED, RequestState.ACTIVE):
        return
    mesh.put_event(
        mesh.consumer,
        ACCESS_SOURCE,
        ACCESS_REVOKE_REQUESTED,
        {"requestId": request_id, "reason": "end-to-end test finished"},
    )
    mesh.settle(
        until=lambda: (
            state(mesh, request_id) is RequestState.REVOKED and consumer_link(mesh, link) is None
        ),
        what=f"{request_id} REVOKED and the link {link} removed",
    )


# --- the audit trail ------------------------------------------------------------------------------


@pytest.mark.real_aws
def test_the_audit_trail_verifies_with_a_signed_digest(mesh: MeshTarget) -> None:
    # Given some audited activity: a table published and propagated
    published_centrally(mesh)
    # When the scheduled audit digest runs
    written = mesh.write_digest()
    # Then `audit verify` passes over the whole chain and at least one signed digest
    verdict = mesh.verify_audit()
    assert verdict.ok, (written, verdict.as_dict())
    assert verdict.records_checked > 0
    assert verdict.digests_checked >= 1, written
