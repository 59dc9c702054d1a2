"""The one SQS batch runner (meshgov.aws.sqs_batch) and the one envelope parser, without AWS.

Per message (access, member) and whole batch (catalog, usage): Lambda's partial batch response
names exactly the failed messages; refusals are audited and parked, never retried; a whole failed
batch fails the invocation (Powertools' ``BatchProcessingError``) after the counts are tallied.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from botocore.exceptions import ClientError

from meshgov.access.envelope import Envelope, event_id_of
from meshgov.access.wiring import process_batch
from meshgov.audit import Auditor, AuditOutcome, MemoryAuditTrail
from meshgov.aws.sqs_batch import (
    DeadLetters,
    EachResult,
    MessageFailedError,
    Outcome,
    QueueMessage,
    park,
    run_each,
    run_whole,
)
from meshgov.errors import AuditWriteError, EventMalformedError, EventRejectedError

EVENT = {
    "version": "0",
    "id": "evt-1",
    "source": "meshgov.access",
    "detail-type": "Access Requested",
    "account": "333333333333",
    "time": "2026-03-02T13:00:00Z",
    "region": "eu-west-1",
    "resources": ["arn:aws:ram:eu-west-1:222222222222:resource-share-invitation/i-1"],
    "detail": {"requestId": "r-1"},
}


def record(message_id: str, body: str) -> dict[str, Any]:
    """One record of Lambda's SQS event
    (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html)."""
    return {
        "messageId": message_id,
        "receiptHandle": f"rh-{message_id}",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1772456400000",
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": "1772456400001",
        },
        "messageAttributes": {},
        "md5OfBody": "0",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:eu-west-1:111111111111:q",
        "awsRegion": "eu-west-1",
    }


def sqs_event(*bodies: str) -> dict[str, Any]:
    return {"Records": [record(f"m-{n}", body) for n, body in enumerate(bodies, 1)]}


def body(**changes: Any) -> str:
    return json.dumps({**EVENT, **changes})


def failures(response: dict[str, Any]) -> list[str]:
    return [f["itemIdentifier"] for f in response["batchItemFailures"]]


class Sqs:
    """An SQS client that records what it sends, or refuses."""

    def __init__(self, refuse: bool = False) -> None:
        self.sent: list[dict[str, Any]] = []
        self.refuse = refuse

    def send_message(self, **request: Any) -> dict[str, Any]:
        if self.refuse:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "SendMessage")
        self.sent.append(request)
        return {"MessageId": f"dlq-{len(self.sent)}"}


class FailingTrail:
    def record(self, entry: Any) -> Any:
        raise AuditWriteError("audit table throttled")


# --- per message ------------------------------------------------------------------------------
def test_each_message_is_handled_in_order_and_only_the_failed_one_is_reported() -> None:
    seen: list[str] = []
    tallied: list[EachResult] = []

    def handle(message: QueueMessage) -> Outcome:
        seen.append(message.message_id)
        if message.message_id == "m-2":
            raise MessageFailedError("throttled")
        return Outcome.DEAD_LETTERED if message.message_id == "m-3" else Outcome.HANDLED

    response = run_each(sqs_event("a", "b", "c", "d"), None, handle, tallied.append)

    assert failures(response) == ["m-2"]
    assert seen == ["m-1", "m-2", "m-3", "m-4"]
    [result] = tallied
    assert (result.handled, result.dead_lettered, list(result.failed)) == (2, ["m-3"], ["m-2"])


def test_an_unexpected_error_fails_its_message_only() -> None:
    def handle(message: QueueMessage) -> Outcome:
        if message.body == "bug":
            raise KeyError("detail")
        return Outcome.HANDLED

    response = run_each(sqs_event("ok", "bug", "ok"), None, handle)

    assert failures(response) == ["m-2"]


def test_a_batch_that_failed_whole_fails_the_invocation_after_the_tally() -> None:
    tallied: list[EachResult] = []

    def handle(message: QueueMessage) -> Outcome:
        raise MessageFailedError("down")

    with pytest.raises(BatchProcessingError):
        run_each(sqs_event("a", "b"), None, handle, tallied.append)
    assert sorted(tallied[0].failed) == ["m-1", "m-2"]


# --- whole batch ------------------------------------------------------------------------------
@dataclass
class Pass:
    messages: list[QueueMessage]
    failed: dict[str, str] = field(default_factory=dict)


def test_a_whole_batch_is_processed_in_one_pass_and_its_failures_reported() -> None:
    passes: list[Pass] = []
    order: list[str] = []

    def process(messages: Sequence[QueueMessage]) -> Pass:
        passes.append(Pass(list(messages), {"m-3": "group not written"}))
        return passes[-1]

    def tally(result: Pass) -> None:
        order.append("tally")

    response = run_whole(sqs_event("a", "b", "c"), None, process, tally)

    assert failures(response) == ["m-3"]
    [one] = passes
    assert one.messages == [
        QueueMessage("m-1", "a"),
        QueueMessage("m-2", "b"),
        QueueMessage("m-3", "c"),
    ]
    assert order == ["tally"]


def test_a_whole_batch_that_failed_fails_the_invocation() -> None:
    def process(messages: Sequence[QueueMessage]) -> Pass:
        return Pass(list(messages), {m.message_id: "audit down" for m in messages})

    with pytest.raises(BatchProcessingError):
        run_whole(sqs_event("a", "b"), None, process)


# --- refusals ---------------------------------------------------------------------------------
def test_a_refused_message_is_audited_then_parked_with_its_reason() -> None:
    sqs, audited = Sqs(), []
    message = QueueMessage("m-1", "not json")

    outcome = park(
        message, EventMalformedError("not JSON"), DeadLetters(sqs, "dlq"), lambda: audited.append(1)
    )

    assert outcome is Outcome.DEAD_LETTERED and audited == [1]
    [sent] = sqs.sent
    assert (sent["QueueUrl"], sent["MessageBody"]) == ("dlq", "not json")
    attributes = sent["MessageAttributes"]
    assert attributes["meshgov-error-code"]["StringValue"] == "EventMalformed"
    assert attributes["meshgov-error"]["StringValue"] == "not JSON"


@pytest.mark.parametrize("case", ["audit fails", "send fails", "no queue"])
def test_a_refusal_that_cannot_be_recorded_or_parked_stays_on_the_queue(case: str) -> None:
    sqs = Sqs(refuse=case == "send fails")
    dead_letters = None if case == "no queue" else DeadLetters(sqs, "dlq")

    def audit() -> None:
        if case == "audit fails":
            raise AuditWriteError("throttled")

    with pytest.raises(MessageFailedError, match="not JSON"):
        park(QueueMessage("m-1", "x"), EventMalformedError("not JSON"), dead_letters, audit)
    assert sqs.sent == []


# --- the access functions' per-message policy -------------------------------------------------
def test_access_batches_park_refusals_audit_failures_and_retry_only_those() -> None:
    trail, sqs = MemoryAuditTrail(), Sqs()
    handled: list[str] = []
    tallied: list[EachResult] = []

    def handle(envelope: Envelope) -> None:
        if envelope.detail.get("requestId") == "r-throttled":
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow"}}, "X")
        if envelope.detail.get("requestId") == "r-unknown":
            raise EventRejectedError("no such request type")
        handled.append(envelope.event_id)

    event = sqs_event(
        body(),
        "not json {",
        body(id="evt-3", detail={"requestId": "r-throttled"}),
        body(id="evt-4", detail={"requestId": "r-unknown"}),
    )
    response = process_batch(
        event, None, handle, DeadLetters(sqs, "dlq"), Auditor(trail, "meshgov:t"), tallied.append
    )

    # Then only the throttled message goes back to the queue
    assert failures(response) == ["m-3"]
    assert handled == ["evt-1"]
    # And the two refusals are parked, each with its code
    assert [s["MessageAttributes"]["meshgov-error-code"]["StringValue"] for s in sqs.sent] == [
        "EventMalformed",
        "EventRejected",
    ]
    # And audited: two refusals (by message id) and one failure (by event id, AWS's words)
    entries = [(r.entry.action, r.entry.outcome, r.entry.correlation_id) for r in trail.records]
    assert entries == [
        ("event:received", AuditOutcome.REFUSED, "m-2"),
        ("event:handled", AuditOutcome.FAILED, "evt-3"),
        ("event:received", AuditOutcome.REFUSED, "m-4"),
    ]
    assert "ThrottlingException" in trail.records[1].entry.reason
    assert (tallied[0].handled, tallied[0].dead_lettered) == (1, ["m-2", "m-4"])


def test_a_refusal_whose_audit_fails_is_retried_not_parked() -> None:
    sqs = Sqs()
    response = process_batch(
        sqs_event("not json", body()),
        None,
        lambda envelope: None,
        DeadLetters(sqs, "dlq"),
        Auditor(FailingTrail(), "meshgov:t"),  # type: ignore[arg-type]
    )
    assert failures(response) == ["m-1"] and sqs.sent == []


# --- the one envelope parser ------------------------------------------------------------------
def test_a_body_and_an_invocation_event_parse_to_the_same_envelope() -> None:
    from_body = Envelope.parse(json.dumps(EVENT))
    assert Envelope.from_event(EVENT) == from_body
    assert (from_body.event_id, from_body.detail_type, from_body.account) == (
        "evt-1",
        "Access Requested",
        "333333333333",
    )
    assert from_body.resources == tuple(EVENT["resources"])


@pytest.mark.parametrize(
    "data", ["not json", "[1, 2]", '"text"', json.dumps({**EVENT, "detail": "x"}), "{}"]
)
def test_what_is_not_an_eventbridge_event_is_malformed(data: str) -> None:
    with pytest.raises(EventMalformedError, match="not an EventBridge event"):
        Envelope.parse(data)


@pytest.mark.parametrize("value", [[1], "text", None, 5, {"id": "x"}])
def test_an_invocation_event_that_is_no_eventbridge_event_is_malformed(value: Any) -> None:
    with pytest.raises(EventMalformedError):
        Envelope.from_event(value)


def test_the_event_id_of_a_body_is_read_whatever_else_it_holds() -> None:
    assert event_id_of(json.dumps({"id": "evt-9"})) == "evt-9"
    assert event_id_of("not json") is None and event_id_of("[1]") is None
    assert event_id_of(json.dumps({"id": ""})) is None
