"""Bad input: a clear error or a recorded skip, no partial central state, the DLQ keeps it."""

from __future__ import annotations

import json

from meshgov.audit import AuditOutcome
from meshgov_local.deploy import deploy
from meshgov_local.emulator import controls
from meshgov_local.mesh import LocalMesh, differences
from tests.integration.helpers import columns, create_published_database, table_input


def central_databases(mesh: LocalMesh) -> list[str]:
    glue = mesh.client(mesh.central, "glue")
    return [d["Name"] for d in glue.get_databases()["DatabaseList"]]


def remove_reader_role(mesh: LocalMesh) -> None:
    """The producer deletes meshgov's reader role: central can no longer read its catalog."""
    iam = mesh.client(mesh.producer, "iam")
    role = mesh.config.reader_role
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        iam.delete_role_policy(RoleName=role, PolicyName=name)
    for policy in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
        iam.detach_role_policy(RoleName=role, PolicyArn=policy["PolicyArn"])
    iam.delete_role(RoleName=role)


def refused(mesh: LocalMesh) -> list[str]:
    return [r.entry.reason for r in mesh.audit_records() if r.entry.outcome is AuditOutcome.REFUSED]


def test_event_from_an_account_that_is_not_a_registered_producer(local_mesh: LocalMesh) -> None:
    # Given the consumer account (a member, but no producer) forwards its catalog events anyway
    # (ForwardCatalogEvents=true: a misconfigured member stack) and changes its own catalog
    consumer = local_mesh.config.consumers[0].account_id
    deploy(
        local_mesh.config,
        local_mesh.sessions,
        local_mesh.template,
        parameter_overrides={"ForwardCatalogEvents": "true"},
    )
    create_published_database(local_mesh.client(consumer, "glue"), "shadow")
    # When its forwarded Glue event reaches central
    report = local_mesh.settle()
    # Then nothing is created centrally, the refusal is audited and the event is parked
    assert report.messages == 1
    assert central_databases(local_mesh) == []
    assert any("not a registered producer" in reason for reason in refused(local_mesh))
    parked = local_mesh.dead_letters()
    assert len(parked) == 1
    assert json.loads(parked[0]["Body"])["account"] == consumer
    assert parked[0]["MessageAttributes"]["meshgov-error-code"]["StringValue"] == "ProducerUnknown"


def test_malformed_sync_request_is_refused_and_parked(local_mesh: LocalMesh) -> None:
    # Given a producer sends a sync request with an unknown field and a bad name
    events = local_mesh.client(local_mesh.producer, "events")
    events.put_events(
        Entries=[
            {
                "Source": "meshgov.catalog",
                "DetailType": "Catalog Sync Requested",
                "Detail": json.dumps({"databaseName": "bad\nname", "drop": "everything"}),
            }
        ]
    )
    local_mesh.settle()
    assert central_databases(local_mesh) == []
    assert any("Catalog Sync Requested" in reason for reason in refused(local_mesh))
    parked = local_mesh.dead_letters()
    assert [m["MessageAttributes"]["meshgov-error-code"]["StringValue"] for m in parked] == [
        "EventMalformed"
    ]


def test_a_name_glue_would_refuse_centrally_is_refused_with_no_partial_state(
    local_mesh: LocalMesh,
) -> None:
    # Given a producer database whose central name (domain prefix added) exceeds 255 characters
    glue = local_mesh.client(local_mesh.producer, "glue")
    long_name = "x" * 250
    create_published_database(glue, long_name)
    glue.create_table(DatabaseName=long_name, TableInput=table_input("t", columns("id:int")))
    # When its events are delivered and a sweep runs
    local_mesh.settle()
    local_mesh.sweep()
    # Then no central database exists, and the audit says why
    assert central_databases(local_mesh) == []
    assert any("1-255" in reason for reason in refused(local_mesh))


def test_object_vanished_before_it_was_read_is_a_recorded_skip(local_mesh: LocalMesh) -> None:
    glue = local_mesh.client(local_mesh.producer, "glue")
    create_published_database(glue, "sales")
    local_mesh.settle()
    # Given a table created and dropped again, and the drop's event lost
    glue.create_table(DatabaseName="sales", TableInput=table_input("brief", columns("id:int")))
    controls.set_event_drop_rate(1.0)
    glue.delete_table(DatabaseName="sales", Name="brief")
    controls.set_event_drop_rate(0.0)
    # When the create event is delivered
    local_mesh.settle()
    # Then nothing is created and the skip is audited with its reason
    glue_central = local_mesh.client(local_mesh.central, "glue")
    assert glue_central.get_tables(DatabaseName="sales_sales")["TableList"] == []
    skips = [r.entry for r in local_mesh.audit_records() if r.entry.outcome is AuditOutcome.SKIPPED]
    assert any("not found" in e.reason and e.target.endswith("/sales/brief") for e in skips)
    assert local_mesh.dead_letters() == []
    assert differences(local_mesh) == []


def test_producer_catalog_unreadable_retries_then_dead_letters(local_mesh: LocalMesh) -> None:
    # Given the producer removed meshgov's reader role (central cannot read its catalog)
    remove_reader_role(local_mesh)
    create_published_database(local_mesh.client(local_mesh.producer, "glue"), "sales")
    # When the event is delivered until the queue's redrive policy gives up
    report = local_mesh.settle()
    # Then each attempt failed and was audited, nothing was written, and the event is in the DLQ
    assert report.failed_messages >= 1
    assert central_databases(local_mesh) == []
    failures = [
        r.entry for r in local_mesh.audit_records() if r.entry.outcome is AuditOutcome.FAILED
    ]
    assert failures and all("cannot assume" in f.reason for f in failures)
    assert len(local_mesh.dead_letters()) == 1


def test_a_failing_sweep_item_is_retried_then_parked_and_the_sweep_closes_failed(
    local_mesh: LocalMesh,
) -> None:
    # Given central can no longer read the producer's catalog
    remove_reader_role(local_mesh)
    # When the scheduled sweep runs: its planner queues the producer's work item, whose
    # invocations fail (SQS: 3 receives, then the SweepQueue's redrive)
    report = local_mesh.sweep()
    # Then each attempt is audited as failed, the sweep closes as failed, and the item waits
    # in the sweep's work DLQ
    failed = [
        r.entry
        for r in local_mesh.audit_records()
        if r.entry.action == "sweep:producer" and r.entry.outcome is AuditOutcome.FAILED
    ]
    assert len(failed) == 3 and all("cannot assume" in e.reason for e in failed)
    assert report["completed"] and len(report["failed"]) == 1
    closed = [r.entry for r in local_mesh.audit_records() if r.entry.action == "sweep:completed"]
    assert [e.outcome for e in closed] == [AuditOutcome.FAILED]
    parked = local_mesh.dead_letters("SweepWorkDLQ")
    assert [json.loads(m["Body"])["account"] for m in parked] == [local_mesh.producer]


def test_a_failing_sweep_planner_is_retried_then_parked_in_the_sweep_dlq(
    local_mesh: LocalMesh,
) -> None:
    # Given central's registry of members cannot be read (its table is gone)
    local_mesh.client(local_mesh.central, "dynamodb").delete_table(
        TableName=local_mesh.deployment.registry_table_name
    )
    # When the scheduled sweep runs (an asynchronous invocation: retried twice)
    assert local_mesh.sweep() is None
    # Then the invocation record is in the sweep DLQ, and no sweep was started
    parked = local_mesh.dead_letters("SweepDLQ")
    assert len(parked) == 1
    record = json.loads(parked[0]["Body"])
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert "registry" in record["responsePayload"]["errorMessage"]
    assert not [r for r in local_mesh.audit_records() if r.entry.action == "sweep:planned"]
