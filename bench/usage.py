"""``usage.writes_per_1000_events``: the DynamoDB writes of counting data accesses (issue 14).

One in-process local mesh; the producer publishes 20 tables (central follows). 1,000 Lake
Formation ``GetDataAccess`` records in CloudTrail's shape (the link access of a vending through
the consumer's resource link, :func:`access_record`) for 10 principals of the consumer on those 20
tables, 5 each, shuffled, each in the envelope central's bus delivers (``account``: the consumer
that forwarded it), are handed to the deployed ``UsageFunction`` as ONE SQS batch, as Lambda's
event source mapping would with the template's ``BatchSize`` (1,000). The forwarding path itself
(member rule, central rule, queue) is tested in tests/integration/test_usage.py; the local mesh's
router is left out here because moto's SQS makes draining 1,000 messages quadratic.

- ``writes_per_1000_events``: DynamoDB write requests the usage function makes to the usage table
  (``UpdateItem``) for those 1,000 events. The floor is the number of distinct (principal, table,
  day) groups, 200: the store writes each group once per batch (its reads, digests, engines and
  times in one conditional ``UpdateItem``); more only for a group over 64 events, a second
  delivery, or events older than the item's first use (a corrective write).
"""

from __future__ import annotations

import hashlib
import json
import random
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from moto import mock_aws
from moto.events.models import events_backends

from bench import counting as c
from bench.scenarios import fake_aws_environment
from meshgov_local.emulator import controls
from meshgov_local.invoke import invoke
from meshgov_local.mesh import LocalMesh

Progress = Callable[[str], None]
PRINCIPALS = 10
TABLES = 20
EVENTS = 1000
DATABASE = "usage"  # central: sales_usage


def access_record(
    account: str, principal: str, table_arn: str, at: datetime, engine: str = "ATHENA"
) -> dict[str, Any]:
    """The CloudTrail record of one vending through a link, as Lake Formation writes it in the
    caller's account (src/meshgov_local/emulator/lakeformation_vending.py)."""
    role = principal.rsplit("/", 1)[-1]
    return {
        "eventVersion": "1.11",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": f"AROAEXAMPLE:{role}",
            "arn": f"arn:aws:sts::{account}:assumed-role/{role}/query",
            "accountId": account,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "arn": principal,
                    "accountId": account,
                    "userName": role,
                }
            },
        },
        "eventTime": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": "lakeformation.amazonaws.com",
        "eventName": "GetDataAccess",
        "awsRegion": table_arn.split(":")[3],
        "requestParameters": {"tableArn": table_arn, "permissions": ["SELECT"]},
        "responseElements": None,
        "requestID": str(uuid.uuid4()),
        "eventID": str(uuid.uuid4()),
        "readOnly": True,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
        "additionalEventData": {"requesterService": engine, "lakeFormationPrincipal": principal},
    }


def put_as_cloudtrail(account: str, region: str, records: list[dict[str, Any]]) -> None:
    """Put ``records`` on ``account``'s default bus as CloudTrail delivers them (a customer's
    PutEvents may not use an ``aws.*`` source)."""
    backend = events_backends[account][region]
    for record in records:
        backend.put_events(
            [
                {
                    "Source": "aws.lakeformation",
                    "DetailType": "AWS API Call via CloudTrail",
                    "Detail": json.dumps(record),
                    "Resources": [],
                    "EventBusName": "default",
                }
            ]
        )


def sqs_record(mesh: LocalMesh, record: dict[str, Any]) -> dict[str, Any]:
    """One SQS message of the usage queue as Lambda hands it over: the event as central's bus
    delivered it (the consumer's envelope), in the body."""
    envelope = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.lakeformation",
        "account": record["recipientAccountId"],
        "time": record["eventTime"],
        "region": mesh.config.region,
        "resources": [],
        "detail": record,
    }
    body = json.dumps(envelope)
    queue = mesh.deployment.queue_urls["UsageQueue"].rsplit("/", 1)[-1]
    sent = str(int(time.time() * 1000))
    return {
        "messageId": str(uuid.uuid4()),
        "receiptHandle": "bench",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": sent,
            "SenderId": "events.amazonaws.com",
            "ApproximateFirstReceiveTimestamp": sent,
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": mesh.sessions.arns.arn("sqs", mesh.central, queue),
        "awsRegion": mesh.config.region,
    }


def publish(mesh: LocalMesh, tables: int) -> list[str]:
    """The producer publishes ``tables`` tables in one database; their central names."""
    glue = mesh.client(mesh.producer, "glue")
    glue.create_database(
        DatabaseInput={"Name": DATABASE, "Parameters": {"meshgov:publish": "true"}}
    )
    names = [f"t{n:02d}" for n in range(tables)]
    for name in names:
        glue.create_table(
            DatabaseName=DATABASE,
            TableInput={
                "Name": name,
                "TableType": "EXTERNAL_TABLE",
                "StorageDescriptor": {
                    "Columns": [{"Name": "id", "Type": "int"}],
                    "Location": f"s3://producer-data/{name}/",
                },
            },
        )
    mesh.settle()
    return names


def measure(progress: Progress | None = None) -> dict[str, Any]:
    controls.reset()
    try:
        with fake_aws_environment(), mock_aws():
            mesh = LocalMesh()
            central_db = f"{mesh.config.producers[0].domain}_{DATABASE}"
            names = publish(mesh, TABLES)
            region, consumer = mesh.config.region, mesh.consumer
            now = controls.now()
            rng = random.Random(14)
            principals = [f"arn:aws:iam::{consumer}:role/reader{n}" for n in range(PRINCIPALS)]
            per_pair = EVENTS // (PRINCIPALS * TABLES)
            records = [
                access_record(
                    consumer,
                    principal,
                    f"arn:aws:glue:{region}:{consumer}:table/{central_db}/{name}",
                    now,
                )
                for principal in principals
                for name in names
                for _ in range(per_pair)
            ]
            rng.shuffle(records)
            binding = mesh.deployment.functions["UsageFunction"]
            batch = {"Records": [sqs_record(mesh, record) for record in records]}
            counter = c.CallCounter(
                [p.account_id for p in mesh.config.producers],
                audit_table=mesh.deployment.audit_table_name,
                registry_table=mesh.deployment.registry_table_name,
            )
            source = f"{binding.logical_id}@{mesh.central}"
            with c.counting(counter), counter.window(mesh.central, source):
                response = invoke(binding, batch, mesh.sessions, mesh.central, None)
            assert not response["batchItemFailures"], response
            calls = counter.snapshot()
            writes = c.CallCounter.total(
                calls, lambda call: call.service == "dynamodb" and call.operation == "UpdateItem"
            )
            days = mesh.usage_store().of_account(consumer, "0000-01-01", "9999-12-31")
            result = {
                "writes_per_1000_events": writes,
                "events": len(records),
                "groups": len(days),
                "reads_counted": sum(d.reads for d in days),
                "calls": c.CallCounter.breakdown(calls),
            }
    finally:
        controls.reset()
    if progress:
        progress(f"usage: {result['writes_per_1000_events']} writes for {EVENTS} events")
    return result
