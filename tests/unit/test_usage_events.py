"""Parsing a forwarded GetDataAccess record into a usage event, a twin or a refusal."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from meshgov.usage.events import Refusal, Twin, parse
from meshgov.usage.model import UsageEvent

CENTRAL, CONSUMER, OTHER = "111111111111", "333333333333", "444444444444"
ANALYST = f"arn:aws:iam::{CONSUMER}:role/analyst"
NOW = datetime(2026, 3, 2, 12, 30, tzinfo=UTC)


def link_access(**changes: Any) -> dict[str, Any]:
    """The link access record as EventBridge delivers it on central's bus (the emulator's shape,
    tests/localmesh/test_emulator_lakeformation_vending.py)."""
    detail = {
        "eventVersion": "1.11",
        "userIdentity": {
            "type": "AssumedRole",
            "arn": f"arn:aws:sts::{CONSUMER}:assumed-role/analyst/q",
            "accountId": CONSUMER,
            "sessionContext": {
                "sessionIssuer": {"type": "Role", "arn": ANALYST, "accountId": CONSUMER}
            },
        },
        "eventTime": "2026-03-02T12:00:00Z",
        "eventSource": "lakeformation.amazonaws.com",
        "eventName": "GetDataAccess",
        "requestParameters": {
            "tableArn": f"arn:aws:glue:eu-west-1:{CONSUMER}:table/sales_sales/orders"
        },
        "eventID": "evt-1",
        "readOnly": True,
        "managementEvent": True,
        "recipientAccountId": CONSUMER,
        "additionalEventData": {"requesterService": "ATHENA", "lakeFormationPrincipal": ANALYST},
    }
    event = {
        "version": "0",
        "id": "envelope-1",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.lakeformation",
        "account": CONSUMER,
        "time": "2026-03-02T12:00:01Z",
        "region": "eu-west-1",
        "resources": [],
        "detail": detail,
    }
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        node: Any = event
        for name in parents:
            node = node[name]
        if value is None:
            node.pop(leaf, None)
        else:
            node[leaf] = value
    return event


def parsed(event: Any, retention_days: int = 400) -> Any:
    return parse(copy.deepcopy(event), CENTRAL, NOW, retention_days)


def test_the_link_access_is_one_usage_event_of_the_central_table() -> None:
    assert parsed(link_access()) == UsageEvent(
        event_id="evt-1",
        table="sales_sales.orders",
        principal=ANALYST,
        consumer_account=CONSUMER,
        at=datetime(2026, 3, 2, 12, 0, tzinfo=UTC),
        engine="ATHENA",
    )


def test_without_lake_formation_principal_the_session_issuer_is_the_principal() -> None:
    event = parsed(link_access(detail__additionalEventData={"requesterService": "EMR"}))
    assert isinstance(event, UsageEvent)
    assert (event.principal, event.engine) == (ANALYST, "EMR")


def test_the_target_access_twin_is_skipped_not_refused() -> None:
    twin = link_access(
        detail__requestParameters={
            "tableArn": f"arn:aws:glue:eu-west-1:{CENTRAL}:table/sales_sales/orders"
        },
        detail__userIdentity={"type": "AWSAccount", "accountId": CONSUMER},
        detail__additionalEventData={"requesterService": "ATHENA"},
    )
    assert parsed(twin) == Twin("evt-1")


@pytest.mark.parametrize(
    "changes",
    [
        {"account": OTHER},  # another account forwards the consumer's record
        {"detail__additionalEventData": {"lakeFormationPrincipal": f"arn:aws:iam::{OTHER}:role/x"}},
        {"detail__recipientAccountId": OTHER},
        {"detail__requestParameters": {"tableArn": f"arn:aws:glue:eu-west-1:{OTHER}:table/a/b"}},
    ],
)
def test_an_access_of_another_account_is_forged(changes: dict[str, Any]) -> None:
    refusal = parsed(link_access(**changes))
    assert isinstance(refusal, Refusal) and refusal.code == "UsageForged"
    assert refusal.event_id == "envelope-1"


def test_an_access_older_than_the_retention_window_is_too_old() -> None:
    refusal = parsed(link_access(detail__eventTime="2026-02-20T00:00:00Z"), retention_days=10)
    assert isinstance(refusal, Refusal) and refusal.code == "UsageTooOld"
    assert refusal.principal == ANALYST and refusal.table == "sales_sales.orders"
    assert isinstance(parsed(link_access(detail__eventTime="2026-02-21T00:00:00Z"), 10), UsageEvent)


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ("not an object", "not a JSON object"),
        (link_access(source="meshgov.access"), "not a aws.lakeformation CloudTrail event"),
        (link_access(account="me"), "names no account"),
        (link_access(detail="x"), "no CloudTrail record"),
        (link_access(detail__eventName="GetTable"), "not a GetDataAccess record"),
        (link_access(detail__errorCode="AccessDenied"), "a refused call (AccessDenied)"),
        (link_access(detail__eventID=None), "no eventID"),
        (link_access(detail__eventTime="yesterday"), "not ISO 8601 UTC"),
        (link_access(detail__requestParameters={"tableArn": "orders"}), "not a Glue table ARN"),
        (
            link_access(
                detail__additionalEventData={}, detail__userIdentity={"accountId": CONSUMER}
            ),
            "names no role",
        ),
    ],
)
def test_what_is_not_a_countable_access_is_malformed(event: Any, reason: str) -> None:
    refusal = parsed(event)
    assert isinstance(refusal, Refusal) and refusal.code == "UsageMalformed"
    assert reason in refusal.reason
