"""Dead letters, the pure part: what each kind of DLQ message is, and where it would go back."""

from __future__ import annotations

import json
from typing import Any

import pytest

from meshgov.deadletters import (
    AsyncInvokeTarget,
    DeadLetterQueue,
    DefaultBusTarget,
    LetterKind,
    RedriveError,
    classify,
    function_name,
)

CATALOG_DLQ = DeadLetterQueue("CatalogEventsDLQ", "111111111111", "https://sqs/x/dlq")
SWEEP_DLQ = DeadLetterQueue("SweepDLQ", "111111111111", "https://sqs/x/sweep")
FORWARD_DLQ = DeadLetterQueue("ForwardDLQ", "222222222222", "https://sqs/y/forward")
SWEEP_ARN = "arn:aws:lambda:eu-west-1:111111111111:function:CatalogSweepFunction"
GLUE_EVENT = {
    "id": "evt-1",
    "source": "aws.glue",
    "detail-type": "Glue Data Catalog Database State Change",
    "account": "222222222222",
    "detail": {"databaseName": "sales", "typeOfChange": "CreateTable", "changedTables": ["t0"]},
}


def message(body: Any, **attributes: str) -> dict[str, Any]:
    return {
        "MessageId": "m-1",
        "ReceiptHandle": "rh",
        "Body": body if isinstance(body, str) else json.dumps(body),
        "Attributes": {"SentTimestamp": "1796000000000", "ApproximateReceiveCount": "6"},
        "MessageAttributes": {
            name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()
        },
    }


def test_a_message_a_handler_refused_carries_its_reason() -> None:
    letter = classify(
        CATALOG_DLQ,
        message(
            GLUE_EVENT,
            **{"meshgov-error-code": "UnknownProducer", "meshgov-error": "not registered"},
        ),
    )
    assert letter.kind is LetterKind.REFUSED
    assert (letter.error_code, letter.reason) == ("UnknownProducer", "not registered")
    assert letter.source == "CatalogEventsQueue" and letter.correlation_id == "evt-1"
    assert letter.summary == (
        "aws.glue / Glue Data Catalog Database State Change from 222222222222 sales"
    )
    assert letter.sent_at.startswith("2026-") and letter.receive_count == 6


def test_a_message_the_redrive_policy_moved_points_at_the_handlers_audit() -> None:
    letter = classify(CATALOG_DLQ, message(GLUE_EVENT))
    assert letter.kind is LetterKind.RETRIES_EXHAUSTED
    assert letter.error_code == "MaxReceiveCountExceeded" and "evt-1" in letter.reason


def test_a_malformed_body_is_still_listed() -> None:
    letter = classify(CATALOG_DLQ, message("not json {", **{"meshgov-error-code": "Malformed"}))
    assert letter.kind is LetterKind.REFUSED and letter.summary == "not json {"
    assert letter.payload == "not json {"


def test_an_eventbridge_target_dlq_message_names_the_rule() -> None:
    letter = classify(
        FORWARD_DLQ,
        message(
            GLUE_EVENT,
            ERROR_CODE="NO_PERMISSIONS",
            ERROR_MESSAGE="not authorized",
            RULE_ARN="arn:aws:events:eu-west-1:222222222222:rule/meshgov-forward-glue",
        ),
    )
    assert letter.kind is LetterKind.DELIVERY_FAILED
    assert (letter.error_code, letter.source) == ("NO_PERMISSIONS", "meshgov-forward-glue")


def test_a_lambda_failure_record_gives_the_function_and_its_payload() -> None:
    payload = {"id": "schedule-1", "detail-type": "Scheduled Event", "detail": {}}
    record = {
        "version": "1.0",
        "requestContext": {
            "requestId": "inv-1",
            "functionArn": f"{SWEEP_ARN}:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3,
        },
        "requestPayload": payload,
        "responsePayload": {"errorMessage": "boom", "errorType": "SourceUnavailableError"},
    }
    letter = classify(SWEEP_DLQ, message(record))
    assert letter.kind is LetterKind.INVOCATION_FAILED
    assert (letter.source, letter.error_code, letter.reason) == (
        "CatalogSweepFunction",
        "SourceUnavailableError",
        "boom",
    )
    assert letter.payload == payload and letter.correlation_id == "schedule-1"
    assert function_name("arn:aws:lambda:r:1:function:F") == "F"
    # The re-drive target invokes that function with that payload
    calls: list[tuple[str, Any]] = []
    target = AsyncInvokeTarget(
        lambda name, body: calls.append((name, body)) or "ref",
        {"CatalogSweepFunction": "meshgov-catalog-sweep"},
    )
    assert target.send(letter) == "ref"
    assert calls == [("meshgov-catalog-sweep", payload)]
    assert "meshgov-catalog-sweep" in target.describe(letter)


def test_an_event_is_not_a_failure_record_to_invoke_with() -> None:
    letter = classify(SWEEP_DLQ, message(GLUE_EVENT))
    with pytest.raises(RedriveError):
        AsyncInvokeTarget(lambda name, body: "ref").send(letter)


class Events:
    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803 - boto3
        self.entries.extend(Entries)
        return {"FailedEntryCount": 0, "Entries": [{"EventId": "new-1"}]}


def test_a_forwarded_glue_event_goes_back_as_a_sync_request() -> None:
    # EventBridge refuses aws.* sources in PutEvents: the Glue event becomes a sync request
    events = Events()
    target = DefaultBusTarget(events)
    letter = classify(FORWARD_DLQ, message(GLUE_EVENT, ERROR_CODE="THROTTLING"))
    assert target.send(letter) == "new-1"
    [entry] = events.entries
    assert (entry["Source"], entry["DetailType"]) == ("meshgov.catalog", "Catalog Sync Requested")
    assert json.loads(entry["Detail"]) == {"databaseName": "sales", "tableNames": ["t0"]}


def test_a_forwarded_meshgov_event_goes_back_as_it_was() -> None:
    events = Events()
    event = {
        "id": "evt-2",
        "source": "meshgov.access",
        "detail-type": "Access Requested",
        "detail": {"clientToken": "tok"},
    }
    DefaultBusTarget(events).send(classify(FORWARD_DLQ, message(event, ERROR_CODE="X")))
    assert events.entries == [
        {
            "Source": "meshgov.access",
            "DetailType": "Access Requested",
            "Detail": json.dumps({"clientToken": "tok"}),
        }
    ]
