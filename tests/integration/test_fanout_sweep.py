"""The catalog sweep fanned out (issue 16, ADR 0022): a planner queues one work item per
producer, workers one per database and per page of tables; bounded work per invocation, no
overlapping sweeps, exactly-once counting under duplicate deliveries, and a failing item retried
then dead-lettered on its own while the sweep still closes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from meshgov.audit import AuditOutcome
from meshgov.catalog.sweep_state import DONE, RUNNING, SweepLedger
from meshgov_local.emulator import controls
from meshgov_local.mesh import SWEEP_FUNCTION, LocalMesh, differences
from tests.integration.helpers import columns, create_published_database, table_input
from tests.meshes import MESHES

WORKER = "CatalogSweepWorkerFunction"
PAGE = {"SweepPageTables": "2"}


@pytest.fixture
def paged_mesh() -> Iterator[LocalMesh]:
    """The local mesh whose sweep workers write at most 2 tables an invocation."""
    controls.reset()
    with mock_aws():
        yield MESHES.mesh(parameter_overrides=PAGE)
    controls.reset()


def publish_quietly(mesh: LocalMesh, database: str, tables: int) -> None:
    """The producer publishes ``database`` with its Glue events lost: only a sweep sees it."""
    controls.set_event_drop_rate(1.0)
    glue = mesh.client(mesh.producer, "glue")
    create_published_database(glue, database)
    for index in range(tables):
        glue.create_table(
            DatabaseName=database, TableInput=table_input(f"t{index}", columns("id:int"))
        )
    controls.set_event_drop_rate(0.0)
    mesh.settle()


def sweep_records(mesh: LocalMesh, sweep_id: str) -> list[tuple[str, AuditOutcome]]:
    return [
        (r.entry.action, r.entry.outcome)
        for r in mesh.audit_records()
        if r.entry.correlation_id == sweep_id and r.entry.action.startswith("sweep:")
    ]


def ledger(mesh: LocalMesh) -> SweepLedger:
    return SweepLedger(mesh.client(mesh.central, "dynamodb"), mesh.deployment.ledger_table_name)


def central_tables(mesh: LocalMesh, database: str) -> list[str]:
    glue = mesh.client(mesh.central, "glue")
    return sorted(t["Name"] for t in glue.get_tables(DatabaseName=database)["TableList"])


def test_a_sweep_fans_out_in_pages_and_closes_once(paged_mesh: LocalMesh) -> None:
    mesh = paged_mesh
    publish_quietly(mesh, "orders", tables=5)
    publish_quietly(mesh, "returns", tables=1)
    invocations: list[str] = []
    mesh.router._on_result = lambda function, _account, _result: invocations.append(function)
    # When the scheduled sweep runs (the planner, then its workers until the queue is quiet)
    report = mesh.sweep()
    # Then every table is central, written 2 at most per worker invocation
    assert central_tables(mesh, "sales_orders") == ["t0", "t1", "t2", "t3", "t4"]
    assert central_tables(mesh, "sales_returns") == ["t0"]
    assert differences(mesh) == []
    assert (report["tables_created"], report["failed"]) == (6, [])
    # one producer in 3 items: 2 tables written, 2 more, then the last orders table and returns
    assert invocations.count(SWEEP_FUNCTION) == 1
    assert invocations.count(WORKER) == 3
    # And the sweep closed once, and no marker is left
    assert sweep_records(mesh, report["sweep"]) == [
        ("sweep:started", AuditOutcome.RECEIVED),
        ("sweep:planned", AuditOutcome.SUCCEEDED),
        ("sweep:completed", AuditOutcome.SUCCEEDED),
    ]
    run = ledger(mesh).current()
    assert run is not None and (run.state, run.outstanding) == (DONE, 0)
    markers = mesh.client(mesh.central, "dynamodb").scan(
        TableName=mesh.deployment.ledger_table_name,
        FilterExpression="begins_with(pk, :p)",
        ExpressionAttributeValues={":p": {"S": "SWEEP#"}},
    )["Items"]
    assert markers == []


def test_a_new_sweep_does_not_start_while_the_last_still_runs(local_mesh: LocalMesh) -> None:
    mesh = local_mesh
    publish_quietly(mesh, "orders", tables=2)
    # Given a sweep planned, its work items still queued
    first: Any = mesh.router.run_schedule(SWEEP_FUNCTION)
    run = ledger(mesh).current()
    assert run is not None and (run.sweep_id, run.state) == (first["sweep"], RUNNING)
    # When the schedule fires again
    second: Any = mesh.router.run_schedule(SWEEP_FUNCTION)
    # Then it starts nothing, and says why
    assert second == {"skipped": first["sweep"], "outstanding": 1, "failed": []}
    skipped = [r.entry for r in mesh.audit_records() if r.entry.action == "sweep:skipped"]
    assert [e.outcome for e in skipped] == [AuditOutcome.SKIPPED]
    assert "still running" in skipped[0].reason
    # When the first finishes, the next schedule starts a new sweep
    mesh.settle()
    assert central_tables(mesh, "sales_orders") == ["t0", "t1"]
    third: Any = mesh.router.run_schedule(SWEEP_FUNCTION)
    assert third["sweep"] != first["sweep"]
    mesh.settle()


def test_a_stale_sweep_is_abandoned_and_the_next_one_redoes_its_work(
    local_mesh: LocalMesh,
) -> None:
    mesh = local_mesh
    publish_quietly(mesh, "orders", tables=1)
    # Given a sweep whose work items were lost (purged from the queue)
    first: Any = mesh.router.run_schedule(SWEEP_FUNCTION)
    sqs = mesh.client(mesh.central, "sqs")
    sqs.purge_queue(QueueUrl=mesh.deployment.queue_urls["SweepQueue"])
    assert len(ledger(mesh).markers(first["sweep"])) == 1  # its item, never to finish
    # When the schedule fires after the lease (60 minutes)
    controls.advance_time(61 * 60)
    report = mesh.sweep()
    # Then the stale sweep is closed as abandoned, and the new one did its work
    abandoned = [r.entry for r in mesh.audit_records() if r.entry.action == "sweep:abandoned"]
    assert [(e.outcome, first["sweep"] in e.reason) for e in abandoned] == [
        (AuditOutcome.FAILED, True)
    ]
    assert report["completed"] and report["tables_created"] == 1
    assert central_tables(mesh, "sales_orders") == ["t0"]
    # And nothing of the abandoned sweep's work stays in the ledger, nor of the finished one's
    assert ledger(mesh).markers(first["sweep"]) == []
    assert ledger(mesh).markers(report["sweep"]) == []


def test_duplicate_deliveries_are_counted_once(local_mesh: LocalMesh) -> None:
    mesh = local_mesh
    publish_quietly(mesh, "orders", tables=3)
    planned: Any = mesh.router.run_schedule(SWEEP_FUNCTION)
    # When every work item is delivered twice
    mesh.settle(mesh.chaos(seed=7, duplicate_rate=1.0))
    mesh.settle()
    # Then the sweep closed exactly once, with each table counted once
    records = [
        r.entry
        for r in mesh.audit_records()
        if r.entry.action == "sweep:completed" and r.entry.correlation_id == planned["sweep"]
    ]
    assert len(records) == 1
    assert records[0].detail["report"]["tables_created"] == 3
    assert central_tables(mesh, "sales_orders") == ["t0", "t1", "t2"]


def test_a_failing_item_is_retried_then_dead_lettered_and_the_sweep_closes_failed(
    local_mesh: LocalMesh,
) -> None:
    mesh = local_mesh
    publish_quietly(mesh, "orders", tables=1)
    # Given a producer whose catalog central cannot read (its reader role lost its policies)
    iam = mesh.client(mesh.producer, "iam")
    role = mesh.config.reader_role
    inline = {
        name: iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        for name in iam.list_role_policies(RoleName=role)["PolicyNames"]
    }
    attached = [
        p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    ]
    for name in inline:
        iam.delete_role_policy(RoleName=role, PolicyName=name)
    for arn in attached:
        iam.detach_role_policy(RoleName=role, PolicyArn=arn)
    # When the sweep runs
    report = mesh.sweep()
    # Then the producer's item failed on each of its 3 receives, the sweep closed as failed,
    # and the item waits in the sweep's dead-letter queue
    item_id = f"{report['sweep']}/P#{mesh.producer}"
    failures = [
        r.entry
        for r in mesh.audit_records()
        if r.entry.action == "sweep:producer" and r.entry.correlation_id == item_id
    ]
    assert [e.outcome for e in failures] == [AuditOutcome.FAILED] * 3
    assert report["completed"] and len(report["failed"]) == 1
    assert sweep_records(mesh, report["sweep"])[-1] == ("sweep:completed", AuditOutcome.FAILED)
    (queue,) = [q for q in mesh.dead_letter_queues() if q.name == "SweepWorkDLQ"]
    # the dead letter is known by the item's id, the correlation id of its failures
    assert [letter.correlation_id for letter in mesh.dead_letter_office().list(queue)] == [item_id]
    assert mesh.router.ledger.unfinished()  # the item's delivery, never handled yet
    assert "sales_orders" not in {
        d["Name"] for d in mesh.client(mesh.central, "glue").get_databases()["DatabaseList"]
    }
    # When the role is mended and the item replayed from the DLQ (meshgov dlq replay --yes)
    for name, document in inline.items():
        iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=json.dumps(document))
    for arn in attached:
        iam.attach_role_policy(RoleName=role, PolicyArn=arn)
    (replayed,) = mesh.replay_dead_letters("SweepWorkDLQ", dry_run=False)
    assert [result.outcome for result in replayed.results] == ["replayed"]
    mesh.settle()
    # Then its work is done (its run closed already: it is worked, not counted again), and the
    # replayed message (SQS gives it a new message id) is the same item: nothing left unhandled
    assert central_tables(mesh, "sales_orders") == ["t0"]
    assert mesh.dead_letter_office().list(queue) == []
    assert mesh.router.ledger.unfinished() == set()


def test_a_message_that_is_no_work_item_is_refused_audited_and_parked(
    local_mesh: LocalMesh,
) -> None:
    mesh = local_mesh
    sqs = mesh.client(mesh.central, "sqs")
    sqs.send_message(
        QueueUrl=mesh.deployment.queue_urls["SweepQueue"], MessageBody='{"kind": "everything"}'
    )
    mesh.settle()
    (refused,) = [r.entry for r in mesh.audit_records() if r.entry.action == "sweep:item"]
    assert (refused.outcome, refused.detail["error_code"]) == (
        AuditOutcome.REFUSED,
        "EventMalformed",
    )
    assert "not a sweep work item" in refused.reason
    parked = sqs.receive_message(QueueUrl=mesh.deployment.queue_urls["SweepWorkDLQ"])
    assert [m["Body"] for m in parked["Messages"]] == ['{"kind": "everything"}']
    assert ledger(mesh).current() is None  # no sweep was started or changed


def test_a_bucket_seen_by_another_item_stays_registered(paged_mesh: LocalMesh) -> None:
    mesh = paged_mesh
    glue = mesh.client(mesh.producer, "glue")
    mesh.client(mesh.producer, "s3").create_bucket(
        Bucket="producer-archive", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    # Given two databases in two buckets, their Glue events lost: the sweep's first item
    # converges the archive's tables, later items the others (2 tables written per item)
    controls.set_event_drop_rate(1.0)
    create_published_database(glue, "archive")
    for name in ("a0", "a1"):
        table = table_input(name, columns("id:int"))
        table["StorageDescriptor"]["Location"] = f"s3://producer-archive/{name}/"
        glue.create_table(DatabaseName="archive", TableInput=table)
    controls.set_event_drop_rate(0.0)
    publish_quietly(mesh, "orders", tables=3)
    # When the sweep runs (its last item, which closes it, saw only the data bucket's tables)
    report = mesh.sweep()
    # Then both buckets stay registered: the closing step reads what central uses
    assert report["failed"] == [] and report["tables_created"] == 5
    lf = mesh.client(mesh.central, "lakeformation")
    arns = {r["ResourceArn"] for r in lf.list_resources()["ResourceInfoList"]}
    assert arns == {"arn:aws:s3:::producer-archive", "arn:aws:s3:::producer-data"}
    deregistered = [
        r.entry
        for r in mesh.audit_records()
        if r.entry.action == "lakeformation:DeregisterResource"
    ]
    assert deregistered == []


def test_the_planner_retried_for_the_same_schedule_sends_its_items_again(
    local_mesh: LocalMesh,
) -> None:
    from meshgov_local.invoke import invoke

    mesh = local_mesh
    publish_quietly(mesh, "orders", tables=1)
    binding = mesh.deployment.functions[SWEEP_FUNCTION]
    event = {
        "id": "schedule-retried",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": mesh.central,
        "time": controls.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "detail": {},
    }
    # Given the planner started the run, but its items never reached the queue
    first = invoke(binding, event, mesh.sessions, mesh.central, None)
    mesh.client(mesh.central, "sqs").purge_queue(QueueUrl=mesh.deployment.queue_urls["SweepQueue"])
    # When Lambda runs it again with the same event
    again = invoke(binding, event, mesh.sessions, mesh.central, None)
    mesh.settle()
    # Then the items are sent again and the run closes, its work done
    assert first["sweep"] == again["sweep"] == "schedule-retried" and again["resent"]
    assert central_tables(mesh, "sales_orders") == ["t0"]
    run = ledger(mesh).current()
    assert run is not None and (run.sweep_id, run.state) == ("schedule-retried", DONE)
