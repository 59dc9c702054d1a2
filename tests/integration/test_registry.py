"""The registry of member accounts (issue 16): producers and consumers registered in central
storage by the platform team's events, obeyed only from the central account, refused cleanly
(an audit record, the registry unchanged), and removed with their grants after a grace period."""

from __future__ import annotations

import json
from typing import Any

from meshgov.access.states import RequestState
from meshgov.audit import AuditOutcome
from meshgov.contracts.registry_events import (
    MEMBER_ADD_REQUESTED,
    MEMBER_REMOVE_REQUESTED,
    REGISTRY_SOURCE,
)
from meshgov.registry.store import MemberState
from meshgov_local.emulator import controls
from meshgov_local.mesh import LocalMesh
from tests.integration.access_helpers import (
    CONSUMER,
    HR,
    SALES,
    analyst_arn,
    create_role,
    publish_sales,
    record,
    request,
    request_id,
)

DAY = 86_400


def answer(mesh: LocalMesh, event_id: str) -> tuple[AuditOutcome, str, Any]:
    """Central's one registry record for the event ``event_id``: outcome, reason, error code."""
    (found,) = [
        r.entry
        for r in mesh.audit_records()
        if r.entry.correlation_id == event_id and r.entry.action.startswith("registry:")
    ]
    return found.outcome, found.reason, found.detail.get("error_code")


def change(mesh: LocalMesh, detail_type: str, **detail: Any) -> str:
    event_id = mesh.request_registry_change(detail_type, detail)
    mesh.settle()
    return event_id


def registry(mesh: LocalMesh) -> dict[str, tuple[str, str | None, str]]:
    return {m.account: (m.kind.value, m.domain, m.state.value) for m in mesh.registry().members()}


def test_the_mesh_registers_its_members_and_a_new_producer_needs_no_redeploy(
    local_mesh: LocalMesh,
) -> None:
    mesh = local_mesh
    # Given the local mesh, registered as the platform team would register it
    assert registry(mesh) == {
        SALES: ("producer", "sales", "ACTIVE"),
        CONSUMER: ("consumer", None, "ACTIVE"),
    }
    # When the platform team registers a new producer with one event (no deploy)
    event_id = change(mesh, MEMBER_ADD_REQUESTED, account=HR, kind="producer", domain="hr")
    # Then central records and audits it
    outcome, reason, _ = answer(mesh, event_id)
    assert (outcome, reason) == (AuditOutcome.SUCCEEDED, "producer registered with domain hr")
    assert registry(mesh)[HR] == ("producer", "hr", "ACTIVE")
    # ... and the same event delivered again changes nothing and says nothing more
    queue = mesh.deployment.queue_urls["AccessEventsQueue"]
    (binding,) = [b for b in mesh.deployment.functions.values() if b.source_queue_url == queue]
    records = [r for r in mesh.audit_records() if r.entry.correlation_id == event_id]
    body = json.dumps(
        {
            "version": "0",
            "id": event_id,
            "detail-type": MEMBER_ADD_REQUESTED,
            "source": REGISTRY_SOURCE,
            "account": mesh.central,
            "time": "2026-12-05T00:00:00Z",
            "region": mesh.config.region,
            "resources": [],
            "detail": {"account": HR, "kind": "producer", "domain": "hr"},
        }
    )
    mesh.client(mesh.central, "sqs").send_message(QueueUrl=queue, MessageBody=body)
    mesh.settle()
    assert [r for r in mesh.audit_records() if r.entry.correlation_id == event_id] == records
    assert binding.logical_id == "AccessRequestsFunction"
    # ... while no function's environment lists producers (nothing to redeploy)
    for binding in mesh.deployment.functions.values():
        assert not any("PRODUCER" in name for name in binding.environment), binding.logical_id


def test_bad_registry_changes_are_refused_audited_and_leave_the_registry_unchanged(
    local_mesh: LocalMesh,
) -> None:
    mesh = local_mesh
    before = registry(mesh)
    dynamodb = mesh.client(mesh.central, "dynamodb")
    items_before = dynamodb.scan(TableName=mesh.deployment.registry_table_name)["Items"]
    cases = [
        (dict(account=SALES, kind="producer", domain="sales2"), "MemberAlreadyRegistered"),
        (dict(account=HR, kind="producer", domain="sales"), "DomainTaken"),
        (dict(account=HR, kind="producer", domain="Human_Resources"), "RegistryMalformed"),
        (dict(account=HR, kind="producer"), "RegistryMalformed"),
        (dict(account=HR, kind="consumer", domain="hr"), "RegistryMalformed"),
        (dict(account=mesh.central, kind="consumer"), "MemberInvalid"),
    ]
    for detail, code in cases:
        event_id = change(mesh, MEMBER_ADD_REQUESTED, **detail)
        outcome, reason, error_code = answer(mesh, event_id)
        assert (outcome, error_code) == (AuditOutcome.REFUSED, code), (detail, reason)
    # A member may not change the registry, even by putting the event on the central bus itself
    forged = mesh.client(SALES, "events").put_events(
        Entries=[
            {
                "Source": REGISTRY_SOURCE,
                "DetailType": MEMBER_REMOVE_REQUESTED,
                "Detail": json.dumps({"account": CONSUMER, "force": True}),
                "EventBusName": mesh.deployment.bus_arn,
            }
        ]
    )
    mesh.settle()
    outcome, reason, error_code = answer(mesh, forged["Entries"][0]["EventId"])
    assert (outcome, error_code) == (AuditOutcome.REFUSED, "RegistryForbidden")
    assert f"account {SALES} may not change the registry" in reason
    # Removing what is not registered
    event_id = change(mesh, MEMBER_REMOVE_REQUESTED, account=HR)
    assert answer(mesh, event_id)[2] == "MemberNotRegistered"
    # Nothing changed: not the members, not the domain guards
    assert registry(mesh) == before
    assert dynamodb.scan(TableName=mesh.deployment.registry_table_name)["Items"] == items_before


def test_removing_a_producer_unpublishes_its_products_after_the_grace_period(
    local_mesh: LocalMesh,
) -> None:
    mesh = local_mesh
    create_role(mesh, CONSUMER)
    publish_sales(mesh, tables=1, classification="public")
    request(mesh, tables=["t0"])
    mesh.settle()
    rid = request_id(mesh)
    granted = record(mesh, rid)
    assert granted is not None and granted.state is RequestState.ACTIVE
    # When the platform team removes the producer while a consumer holds a grant on its data
    refused = change(mesh, MEMBER_REMOVE_REQUESTED, account=SALES)
    # Then it is refused, naming the request; nothing changes
    outcome, reason, code = answer(mesh, refused)
    assert (outcome, code) == (AuditOutcome.REFUSED, "MemberHasLiveGrants")
    assert rid in reason
    assert registry(mesh)[SALES] == ("producer", "sales", "ACTIVE")
    # When it is removed with force and a 2-day grace period
    event_id = change(mesh, MEMBER_REMOVE_REQUESTED, account=SALES, force=True, graceDays=2)
    assert answer(mesh, event_id)[0] is AuditOutcome.SUCCEEDED
    assert registry(mesh)[SALES][2] == MemberState.REMOVING.value
    central_glue = mesh.client(mesh.central, "glue")
    # Then during the grace period its products stay published and synced
    mesh.sweep()
    assert "sales_orders" in {d["Name"] for d in central_glue.get_databases()["DatabaseList"]}
    # When the grace period is over, the catalog sweep unpublishes them and forgets the producer
    controls.advance_time(2 * DAY + 60)
    mesh.sweep()
    assert "sales_orders" not in {d["Name"] for d in central_glue.get_databases()["DatabaseList"]}
    assert SALES not in registry(mesh)
    retired = [r.entry for r in mesh.audit_records() if r.entry.action == "registry:retire"]
    assert [(e.target, e.outcome) for e in retired] == [
        (f"account/{SALES}", AuditOutcome.SUCCEEDED)
    ]
    # ... and the access sweep revokes the grant on what was unpublished
    mesh.access_sweep()
    gone = record(mesh, rid)
    assert gone is not None and gone.state is RequestState.REVOKED
    # ... and the producer's catalog events are now refused (it is no longer registered)
    glue = mesh.client(SALES, "glue")
    glue.update_database(
        Name="orders", DatabaseInput={"Name": "orders", "Parameters": {"meshgov:publish": "true"}}
    )
    mesh.settle()
    mesh.sweep()
    assert "sales_orders" not in {d["Name"] for d in central_glue.get_databases()["DatabaseList"]}


def test_removing_a_consumer_with_force_revokes_its_grants_at_once(local_mesh: LocalMesh) -> None:
    mesh = local_mesh
    create_role(mesh, CONSUMER)
    publish_sales(mesh, tables=1, classification="public")
    request(mesh, tables=["t0"], principal=analyst_arn(CONSUMER))
    mesh.settle()
    rid = request_id(mesh)
    refused = change(mesh, MEMBER_REMOVE_REQUESTED, account=CONSUMER)
    assert answer(mesh, refused)[2] == "MemberHasLiveGrants"
    event_id = change(mesh, MEMBER_REMOVE_REQUESTED, account=CONSUMER, force=True)
    outcome, reason, _ = answer(mesh, event_id)
    assert (outcome, reason) == (
        AuditOutcome.SUCCEEDED,
        "consumer removed (1 live grant(s) revoked)",
    )
    assert CONSUMER not in registry(mesh)
    revoked = record(mesh, rid)
    assert revoked is not None and revoked.state is RequestState.REVOKED
    assert revoked.reason == "the consumer account was removed from the mesh"
    # ... and what it asks for now is refused: it is no member any more
    request(mesh, token="after", tables=["t0"])
    mesh.settle()
    refusals = [
        r.entry
        for r in mesh.audit_records()
        if r.entry.outcome is AuditOutcome.REFUSED and r.entry.action.startswith("access:")
    ]
    assert [e.detail.get("error_code") for e in refusals] == ["ConsumerNotRegistered"]
    assert request_id(mesh, token="after") not in {r.request_id for r in mesh.requests()}
