"""Dead letters on the local mesh: listed without being consumed, replayed (dry run first)
through the same handlers, every replay audited, the central catalog converging afterwards."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from meshgov.access.member import MemberAccessService, MemberActionError
from meshgov.audit import AuditEntry, Auditor, AuditOutcome, DynamoAuditTrail
from meshgov.deadletters import DeadLetter, LetterKind, RedriveError
from meshgov_local.deploy import deploy
from meshgov_local.mesh import LocalMesh, differences
from tests.integration.helpers import columns, create_published_database, table_input

CATALOG_DLQ = "CatalogEventsDLQ"


def remove_reader_role(mesh: LocalMesh) -> None:
    """The producer deletes meshgov's reader role: central can no longer read its catalog."""
    iam = mesh.client(mesh.producer, "iam")
    role = mesh.config.reader_role
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        iam.delete_role_policy(RoleName=role, PolicyName=name)
    for policy in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
        iam.detach_role_policy(RoleName=role, PolicyArn=policy["PolicyArn"])
    iam.delete_role(RoleName=role)


def letters(mesh: LocalMesh, name: str = CATALOG_DLQ) -> list[DeadLetter]:
    [queue] = [q for q in mesh.dead_letter_queues() if q.name == name]
    return mesh.dead_letter_office().list(queue)


def replays(mesh: LocalMesh) -> list[AuditEntry]:
    return [r.entry for r in mesh.audit_records() if r.entry.action == "dlq:replay"]


def queued(mesh: LocalMesh, logical_id: str = "CatalogEventsQueue") -> int:
    attributes = mesh.client(mesh.central, "sqs").get_queue_attributes(
        QueueUrl=mesh.deployment.queue_urls[logical_id],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def park_malformed_sync_request(mesh: LocalMesh) -> None:
    mesh.put_event(
        mesh.producer,
        "meshgov.catalog",
        "Catalog Sync Requested",
        {"databaseName": "bad\nname", "drop": "everything"},
    )
    mesh.settle()


def test_every_dlq_of_the_mesh_is_known(local_mesh: LocalMesh) -> None:
    found = {(q.name, q.account_id) for q in local_mesh.dead_letter_queues()}
    central = local_mesh.central
    assert {("CatalogEventsDLQ", central), ("AccessEventsDLQ", central), ("SweepDLQ", central)} <= (
        found
    )
    for member in local_mesh.config.members:
        assert ("MemberEventsDLQ", member.account_id) in found
        assert ("ForwardDLQ", member.account_id) in found


def test_a_parked_malformed_event_is_listed_and_a_dry_run_changes_nothing(
    local_mesh: LocalMesh,
) -> None:
    # Given a malformed sync request the sync function refused and parked
    mesh = local_mesh
    park_malformed_sync_request(mesh)
    # When the DLQ is listed (twice: listing does not consume)
    assert letters(mesh) == letters(mesh)
    [letter] = letters(mesh)
    # Then it says what it is and why it is there
    assert letter.kind is LetterKind.REFUSED and letter.error_code == "EventMalformed"
    assert "Catalog Sync Requested" in letter.summary and letter.source == "CatalogEventsQueue"
    # When a dry run replays it
    [report] = mesh.replay_dead_letters(CATALOG_DLQ)
    # Then it says what would happen, the message is still there, nothing was re-driven,
    # and the dry run is audited
    assert [(r.outcome, r.target) for r in report.results] == [
        ("would replay", "sqs:meshgov-catalog-events-queue")
    ]
    assert [m.message_id for m in letters(mesh)] == [letter.message_id]
    assert queued(mesh) == 0
    [audited] = replays(mesh)
    assert (audited.outcome, audited.detail["message_id"], audited.detail["dry_run"]) == (
        AuditOutcome.SKIPPED,
        letter.message_id,
        True,
    )
    assert audited.correlation_id == report.replay_id


def test_a_replayed_refusal_is_refused_again_and_parked_again(local_mesh: LocalMesh) -> None:
    # Given the malformed request was replayed without fixing anything
    mesh = local_mesh
    park_malformed_sync_request(mesh)
    [report] = mesh.replay_dead_letters(CATALOG_DLQ, dry_run=False)
    assert [r.outcome for r in report.results] == ["replayed"]
    assert letters(mesh) == []
    # When the mesh delivers it, Then the handler refuses it again: back in the DLQ
    mesh.settle()
    assert [letter.error_code for letter in letters(mesh)] == ["EventMalformed"]


def test_a_transient_failure_is_dead_lettered_then_replayed_and_central_converges(
    local_mesh: LocalMesh,
) -> None:
    # Given a published database, then the producer's reader role deleted
    mesh = local_mesh
    glue = mesh.client(mesh.producer, "glue")
    create_published_database(glue, "orders")
    mesh.settle()
    remove_reader_role(mesh)
    # When the producer creates a table and the mesh delivers until the queue gives up
    glue.create_table(DatabaseName="orders", TableInput=table_input("t0", columns("id:int")))
    for _ in range(3):
        mesh.settle()
    # Then the event is in the DLQ after its receives, each failure audited, central behind
    [letter] = letters(mesh)
    assert letter.kind is LetterKind.RETRIES_EXHAUSTED and letter.receive_count >= 5
    failures = [
        r.entry
        for r in mesh.audit_records()
        if r.entry.outcome is AuditOutcome.FAILED
        and r.entry.correlation_id == letter.correlation_id
    ]
    assert failures, "every failed delivery is audited under the event's id"
    assert differences(mesh) == ["missing centrally: sales_orders.t0"]
    # When the role is back (redeploy) and the dead letter is replayed
    deploy(mesh.config, mesh.sessions, mesh.template)
    [dry] = mesh.replay_dead_letters(CATALOG_DLQ)
    assert letters(mesh) == [letter] and differences(mesh)  # the dry run changed nothing
    [report] = mesh.replay_dead_letters(CATALOG_DLQ, [letter.message_id], dry_run=False)
    mesh.settle()
    # Then the message went back through the sync function, the DLQ is empty, central
    # converged, and both replays are audited with the message id and the target
    assert [(r.outcome, r.message_id) for r in report.results] == [("replayed", letter.message_id)]
    assert report.results[0].reference  # the new message id in the source queue
    assert letters(mesh) == []
    assert differences(mesh) == []
    audited = replays(mesh)
    assert [(e.outcome, e.correlation_id) for e in audited] == [
        (AuditOutcome.SKIPPED, dry.replay_id),
        (AuditOutcome.SUCCEEDED, report.replay_id),
    ]
    assert {e.detail["message_id"] for e in audited} == {letter.message_id}
    assert {e.target for e in audited} == {"sqs:meshgov-catalog-events-queue"}
    assert audited[1].detail["original_correlation_id"] == letter.correlation_id


def test_only_the_named_messages_are_replayed_and_unknown_ids_are_reported(
    local_mesh: LocalMesh,
) -> None:
    mesh = local_mesh
    park_malformed_sync_request(mesh)
    park_malformed_sync_request(mesh)
    first, second = letters(mesh)
    [report] = mesh.replay_dead_letters(
        CATALOG_DLQ, [first.message_id, "no-such-id"], dry_run=False
    )
    assert sorted((r.message_id, r.outcome) for r in report.results) == sorted(
        [(first.message_id, "replayed"), ("no-such-id", "not found")]
    )
    assert report.failed
    assert [m.message_id for m in letters(mesh)] == [second.message_id]
    assert queued(mesh) == 1


class Refusing:
    def describe(self, letter: DeadLetter) -> str:
        return "nowhere"

    def send(self, letter: DeadLetter) -> str:
        raise RedriveError("target unavailable")


def test_a_failed_send_keeps_the_message_and_is_audited(local_mesh: LocalMesh) -> None:
    mesh = local_mesh
    park_malformed_sync_request(mesh)
    [queue] = [q for q in mesh.dead_letter_queues() if q.name == CATALOG_DLQ]
    auditor = Auditor(
        DynamoAuditTrail(mesh.client(mesh.central, "dynamodb"), mesh.deployment.audit_table_name),
        "test",
    )
    report = mesh.dead_letter_office().replay(queue, Refusing(), auditor, dry_run=False)
    assert [(r.outcome, r.reason) for r in report.results] == [("failed", "target unavailable")]
    assert len(letters(mesh)) == 1
    [audited] = replays(mesh)
    assert (audited.outcome, audited.reason) == (AuditOutcome.FAILED, "target unavailable")


def test_a_failed_sweep_invocation_is_re_run_with_its_payload(local_mesh: LocalMesh) -> None:
    # Given Lambda's failure record of a catalog sweep in SweepDLQ (as the OnFailure
    # destination writes it), for a database published meanwhile and never synced
    mesh = local_mesh
    create_published_database(mesh.client(mesh.producer, "glue"), "orders")
    mesh.client(mesh.producer, "glue").create_table(
        DatabaseName="orders", TableInput=table_input("t0", columns("id:int"))
    )
    mesh.client(mesh.central, "sqs").purge_queue(
        QueueUrl=mesh.deployment.queue_urls["CatalogEventsQueue"]
    )
    payload = {
        "version": "0",
        "id": "schedule-0001",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": mesh.central,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": mesh.config.region,
        "resources": [],
        "detail": {},
    }
    record = {
        "version": "1.0",
        "requestContext": {
            "requestId": "schedule-0001",
            "functionArn": f"arn:aws:lambda:{mesh.config.region}:{mesh.central}:function:"
            "CatalogSweepFunction:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3,
        },
        "requestPayload": payload,
        "responsePayload": {"errorMessage": "throttled", "errorType": "ThrottlingException"},
    }
    mesh.client(mesh.central, "sqs").send_message(
        QueueUrl=mesh.deployment.queue_urls["SweepDLQ"], MessageBody=json.dumps(record)
    )
    assert differences(mesh)
    # When SweepDLQ is replayed
    [report] = mesh.replay_dead_letters("SweepDLQ", dry_run=False)
    mesh.settle()  # the re-run planner's work items, worked from the SweepQueue
    # Then the sweep ran again with that payload, central converged, the DLQ is empty
    [result] = report.results
    assert result.outcome == "replayed" and result.target.startswith("lambda:CatalogSweepFunction")
    assert differences(mesh) == []
    assert letters(mesh, "SweepDLQ") == []
    assert [e.correlation_id for e in replays(mesh)] == [report.replay_id]


def test_a_failed_member_schedule_is_dead_lettered_in_the_member_then_re_run(
    local_mesh: LocalMesh, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given RAM fails the consumer's scheduled run on every attempt (throttled, say)
    mesh = local_mesh
    consumer = mesh.consumer

    def throttled(self: MemberAccessService, report: object, **named: object) -> None:
        raise MemberActionError("ram:GetResourceShareInvitations: ThrottlingException")

    monkeypatch.setattr(MemberAccessService, "answer_invitations", throttled)
    # When the schedule fires (Lambda retries twice, then the OnFailure destination)
    assert mesh.router.run_schedule("MemberAccessFunction", consumer) is None
    # Then Lambda's failure record is in the consumer's own MemberScheduleDLQ
    (queue,) = [
        q
        for q in mesh.dead_letter_queues()
        if q.name == "MemberScheduleDLQ" and q.account_id == consumer
    ]
    (letter,) = mesh.dead_letter_office().list(queue)
    assert letter.kind is LetterKind.INVOCATION_FAILED
    assert "ThrottlingException" in letter.reason
    # And once RAM answers again, a replay re-runs it in the consumer account and empties the DLQ
    monkeypatch.undo()
    [report] = mesh.replay_dead_letters("MemberScheduleDLQ", dry_run=False, account_id=consumer)
    [result] = report.results
    assert result.outcome == "replayed"
    assert mesh.dead_letters("MemberScheduleDLQ", consumer) == []
