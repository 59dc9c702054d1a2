"""Data-access usage through the local mesh (issue 14): a consumer's real queries vend credentials,
Lake Formation records each vending as a CloudTrail ``GetDataAccess`` event on the consumer's
default bus, the template's member rule forwards it to central, and the usage function counts it
per (principal, central table, day); what is forged, unpublished or stale is refused and audited.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from moto.events.models import events_backends

from meshgov.audit import AuditOutcome, AuditRecord
from meshgov.usage.store import UsageDay
from meshgov_local.mesh import LocalMesh
from meshgov_local.parquet_data import write_table_data
from meshgov_local.query_access import allow_query_engine
from tests.integration.access_helpers import decide, request, request_id
from tests.integration.helpers import columns, create_published_database, table_input

ANALYST = "analyst"
ORDER_COLUMNS = ("id:bigint", "country:string", "amount:decimal(10,2)")


def today() -> str:
    return datetime.now(UTC).date().isoformat()


@pytest.fixture
def mesh(local_mesh: LocalMesh) -> LocalMesh:
    """orders and customers published with data; the analyst granted orders and queries it."""
    mesh = local_mesh
    mesh.create_consumer_role(mesh.consumer, ANALYST)
    allow_query_engine(mesh.client(mesh.central, "lakeformation"), [mesh.consumer])
    glue, s3 = mesh.client(mesh.producer, "glue"), mesh.client(mesh.producer, "s3")
    create_published_database(glue, "sales")
    for name in ("orders", "customers"):
        table = table_input(name, columns(*ORDER_COLUMNS))
        glue.create_table(DatabaseName="sales", TableInput=table)
        write_table_data(s3, table, 50, seed=1)
    mesh.settle()
    request(mesh, database="sales_sales", tables=["orders"])
    mesh.settle()
    decide(mesh, request_id(mesh))
    mesh.settle()
    return mesh


def analyst(mesh: LocalMesh) -> str:
    return f"arn:aws:iam::{mesh.consumer}:role/{ANALYST}"


def usage(mesh: LocalMesh) -> list[UsageDay]:
    return mesh.usage_store().of_table("sales_sales.orders", today(), today())


def usage_records(mesh: LocalMesh, action: str) -> list[AuditRecord]:
    return [r for r in mesh.audit_records() if r.entry.action == action]


def capture_access(mesh: LocalMesh) -> str:
    """A queue receiving the consumer's Lake Formation CloudTrail events as its default bus
    delivers them (a rule in the state that receives read-only management events); its URL."""
    sqs, events = mesh.client(mesh.consumer, "sqs"), mesh.client(mesh.consumer, "events")
    url = sqs.create_queue(QueueName="capture-access")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(
        Name="capture-access",
        EventPattern=json.dumps({"source": ["aws.lakeformation"]}),
        State="ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS",
    )
    events.put_targets(Rule="capture-access", Targets=[{"Id": "q", "Arn": arn}])
    return str(url)


def captured(mesh: LocalMesh, url: str) -> list[dict[str, Any]]:
    """The CloudTrail records the capture queue received, removed from it."""
    sqs = mesh.client(mesh.consumer, "sqs")
    found = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        for message in messages:
            found.append(json.loads(message["Body"])["detail"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found


def link_access(mesh: LocalMesh) -> dict[str, Any]:
    """The CloudTrail record of the analyst's next query through the link (the link access:
    tableArn in the consumer's own catalog), after it was counted."""
    url = capture_access(mesh)
    mesh.query(mesh.consumer, ANALYST, "SELECT count(*) FROM sales_sales.orders")
    mesh.settle()
    return next(
        record
        for record in captured(mesh, url)
        if record["requestParameters"]["tableArn"].split(":")[4] == mesh.consumer
    )


def as_cloudtrail(mesh: LocalMesh, account: str, record: dict[str, Any]) -> None:
    """``record`` on ``account``'s default bus as CloudTrail delivers it (not a customer's
    PutEvents, which refuses ``aws.*`` sources): what a member's forwarding rule then forwards."""
    events_backends[account][mesh.config.region].put_events(
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


def test_queries_are_counted_per_principal_table_and_day_through_the_forwarding_rule(
    mesh: LocalMesh,
) -> None:
    # When the analyst queries orders three times
    for _ in range(3):
        assert mesh.query(mesh.consumer, ANALYST, "SELECT count(*) FROM sales_sales.orders").rows()
    mesh.settle()

    # Then central holds one usage item: three reads by the analyst today, from the consumer
    [day] = usage(mesh)
    assert (day.principal, day.consumer_account, day.day, day.reads) == (
        analyst(mesh), mesh.consumer, today(), 3,
    )  # fmt: skip
    assert day.first_use <= day.last_use and day.engines == ("UNKNOWN",)
    assert mesh.usage_store().last_used(analyst(mesh), today()) == {
        "sales_sales.orders": day.last_use
    }
    # And the audit trail has batch records, no record per access, no refusal (the target-access
    # twin of each vending is skipped, not refused)
    batches = usage_records(mesh, "usage:recorded")
    assert sum(r.entry.detail["counted"] for r in batches) == 3
    assert sum(r.entry.detail["twins"] for r in batches) == 3
    assert usage_records(mesh, "usage:refused") == []


def test_a_second_delivery_of_an_access_is_not_counted_again(mesh: LocalMesh) -> None:
    # Given one query counted, its GetDataAccess records captured as the consumer's bus had them
    url = capture_access(mesh)
    mesh.query(mesh.consumer, ANALYST, "SELECT count(*) FROM sales_sales.orders")
    mesh.settle()
    delivered = [r for r in captured(mesh, url) if r["eventName"] == "GetDataAccess"]
    assert len(delivered) == 2  # the link access and the target access

    # When both are delivered again (EventBridge and SQS deliver at least once)
    for record in delivered:
        as_cloudtrail(mesh, mesh.consumer, record)
    mesh.settle()

    # Then the access is still counted once, and the batch record says it was a duplicate
    assert [d.reads for d in usage(mesh)] == [1]
    batches = usage_records(mesh, "usage:recorded")
    assert sum(r.entry.detail["duplicates"] for r in batches) == 1
    assert usage_records(mesh, "usage:refused") == []


def test_a_forged_access_naming_another_accounts_principal_is_refused_and_audited(
    mesh: LocalMesh,
) -> None:
    # Given one real access counted and its link-access record captured
    link = link_access(mesh)
    before = usage(mesh)

    # When the producer's account forwards that record as its own, naming the consumer's analyst
    # (a new eventID: not a redelivery)
    forged = {**link, "eventID": "forged-1", "recipientAccountId": mesh.producer}
    forged["requestParameters"] = {
        "tableArn": link["requestParameters"]["tableArn"].replace(mesh.consumer, mesh.producer)
    }
    as_cloudtrail(mesh, mesh.producer, forged)
    mesh.settle()

    # Then usage is unchanged, and one REFUSED record says UsageForged and who forwarded it
    assert usage(mesh) == before
    [refused] = usage_records(mesh, "usage:refused")
    assert refused.entry.outcome is AuditOutcome.REFUSED
    assert refused.entry.detail["error_code"] == "UsageForged"
    assert refused.entry.detail["account"] == mesh.producer
    assert f"principal of account {mesh.consumer}" in refused.entry.reason


def test_an_access_to_a_table_meshgov_never_published_is_refused(mesh: LocalMesh) -> None:
    # Given the consumer's link access record for a table central does not hold
    link = link_access(mesh)
    arn = link["requestParameters"]["tableArn"].replace("/orders", "/secret_ledger")
    unpublished = {**link, "eventID": "other-1", "requestParameters": {"tableArn": arn}}

    # When it reaches central
    as_cloudtrail(mesh, mesh.consumer, unpublished)
    mesh.settle()

    # Then nothing is counted for it and one REFUSED record names the code and the table
    assert mesh.usage_store().of_table("sales_sales.secret_ledger", today(), today()) == []
    [refused] = usage_records(mesh, "usage:refused")
    assert refused.entry.detail["error_code"] == "UsageNotPublished"
    assert refused.entry.target == "sales_sales.secret_ledger"
    assert [d.reads for d in usage(mesh)] == [1]


def test_an_access_older_than_the_retention_window_is_refused(mesh: LocalMesh) -> None:
    # Given a link access record from long ago
    link = link_access(mesh)
    old = {**link, "eventID": "old-1", "eventTime": "2020-01-01T00:00:00Z"}

    # When it reaches central
    as_cloudtrail(mesh, mesh.consumer, old)
    mesh.settle()

    # Then it is refused as too old, and nothing is written for 2020
    [refused] = usage_records(mesh, "usage:refused")
    assert refused.entry.detail["error_code"] == "UsageTooOld"
    assert mesh.usage_store().of_principal(analyst(mesh), "2020-01-01", "2020-01-01") == []
