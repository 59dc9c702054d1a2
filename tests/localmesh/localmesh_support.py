"""Helpers shared by the local mesh tests (accounts, event capture, Glue inputs)."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from meshgov_local.accounts import AccountSessions

REGION = "eu-west-1"
CENTRAL = "111111111111"
PRODUCER = "222222222222"
CONSUMER = "333333333333"
ACCOUNTS = (CENTRAL, PRODUCER, CONSUMER)


def capture_events(
    sessions: AccountSessions,
    account: str,
    pattern: dict[str, Any],
    bus: str = "default",
    name: str = "capture",
) -> str:
    """A rule on ``bus`` in ``account`` sending matching events to a new SQS queue; its URL."""
    sqs = sessions.client(account, "sqs")
    events = sessions.client(account, "events")
    queue_url: str = sqs.create_queue(QueueName=f"{name}-{bus}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "queue", "Arn": queue_arn}])
    return queue_url


def received(sessions: AccountSessions, account: str, queue_url: str) -> list[dict[str, Any]]:
    """Every event waiting on the queue, in order, removed from it."""
    sqs = sessions.client(account, "sqs")
    bodies: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
            "Messages", []
        )
        if not messages:
            return bodies
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def table_input(
    name: str, columns: tuple[str, ...] = ("id",), partition_keys: tuple[str, ...] = ()
) -> dict[str, Any]:
    return {
        "Name": name,
        "StorageDescriptor": {
            "Columns": [{"Name": column, "Type": "string"} for column in columns],
            "Location": f"s3://producer-data/{name}/",
        },
        "PartitionKeys": [{"Name": key, "Type": "string"} for key in partition_keys],
        "TableType": "EXTERNAL_TABLE",
    }


def partition_input(*values: str) -> dict[str, Any]:
    return {"Values": list(values), "StorageDescriptor": {"Location": "s3://producer-data/p/"}}


def error_code(call: Any) -> str:
    """The AWS error code ``call()`` fails with (it must fail)."""
    try:
        call()
    except ClientError as error:
        return str(error.response["Error"]["Code"])
    raise AssertionError("the call did not fail")
