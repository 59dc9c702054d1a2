"""The usage store (meshgov.usage.store) against moto's DynamoDB, with the template's table."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from meshgov.usage.model import UsageEvent
from meshgov.usage.store import (
    DIGESTS_PER_WRITE,
    MAX_DIGESTS_PER_ITEM,
    UsageDay,
    UsageStore,
    expires_at,
)
from meshgov_local.deploy import table_request
from meshgov_local.template import Template

TABLE = "usage"
ANALYST = "arn:aws:iam::333333333333:role/analyst"
AUDITOR = "arn:aws:iam::444444444444:role/auditor"
ORDERS = "sales_sales.orders"
NOON = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)


class Counting:
    """A DynamoDB client that counts the calls made through it."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if name in ("update_item", "get_item", "put_item", "query"):

            def counted(**kwargs: Any) -> Any:
                self.calls.append(name)
                return attribute(**kwargs)

            return counted
        return attribute


@pytest.fixture
def dynamodb() -> Iterator[Counting]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-1")
        client.create_table(**table_request(TABLE, Template.load().properties("UsageTable")))
        yield Counting(client)


def event(
    n: int,
    at: datetime = NOON,
    table: str = ORDERS,
    principal: str = ANALYST,
    engine: str = "ATHENA",
) -> UsageEvent:
    return UsageEvent(
        event_id=f"evt-{n}",
        table=table,
        principal=principal,
        consumer_account=principal.split(":")[4],
        at=at,
        engine=engine,
    )


def item(dynamodb: Counting, table: str = ORDERS, day: str = "2026-03-02") -> dict[str, Any]:
    found: dict[str, Any] = dynamodb.get_item(
        TableName=TABLE, Key={"table": {"S": table}, "sk": {"S": f"{day}#{ANALYST}"}}
    )["Item"]
    return found


def test_a_group_is_one_item_written_once_and_read_back_by_table_principal_and_account(
    dynamodb: Counting,
) -> None:
    store = UsageStore(dynamodb, TABLE)
    events = [
        event(n, NOON + timedelta(minutes=n), engine=("ATHENA", "EMR")[n % 2]) for n in range(5)
    ]

    outcome = store.record(events)

    assert (outcome.counted, outcome.duplicates, outcome.unchecked) == (5, 0, 0)
    assert dynamodb.calls == ["update_item"]
    expected = UsageDay(
        table=ORDERS,
        principal=ANALYST,
        consumer_account="333333333333",
        day="2026-03-02",
        reads=5,
        first_use="2026-03-02T12:00:00+00:00",
        last_use="2026-03-02T12:04:00+00:00",
        engines=("ATHENA", "EMR"),
    )
    assert store.of_table(ORDERS, "2026-03-01", "2026-03-02") == [expected]
    assert store.of_table(ORDERS, "2026-03-03", "2026-03-09") == []
    assert store.of_principal(ANALYST, "2026-03-02", "2026-03-02") == [expected]
    assert store.of_account("333333333333", "2026-01-01", "2026-12-31") == [expected]
    assert store.of_account("444444444444", "2026-01-01", "2026-12-31") == []
    assert item(dynamodb)["expires_at"] == {"N": str(expires_at("2026-03-02", 400))}


def test_a_second_delivery_is_not_counted_again(dynamodb: Counting) -> None:
    store = UsageStore(dynamodb, TABLE)
    store.record([event(1), event(2)])

    # The same two events again, with a new one, and one repeated within the batch
    outcome = store.record([event(1), event(2), event(3), event(3)])

    assert (outcome.counted, outcome.duplicates) == (1, 3)
    [day] = store.of_table(ORDERS, "2026-03-02", "2026-03-02")
    assert day.reads == 3
    # The failed condition brought the old item back: no read request, one retry
    assert dynamodb.calls == ["update_item", "update_item", "update_item"]


def test_a_redelivered_batch_adds_nothing(dynamodb: Counting) -> None:
    store = UsageStore(dynamodb, TABLE)
    store.record([event(1), event(2)])

    outcome = store.record([event(2), event(1)])

    assert (outcome.counted, outcome.duplicates) == (0, 2)
    assert store.of_table(ORDERS, "2026-03-02", "2026-03-02")[0].reads == 2


def test_first_and_last_use_are_a_minimum_and_a_maximum_whatever_the_order(
    dynamodb: Counting,
) -> None:
    store = UsageStore(dynamodb, TABLE)
    store.record([event(1, NOON), event(2, NOON + timedelta(hours=2))])

    # A later batch holding only events between, then one holding an earlier and a later one
    store.record([event(3, NOON + timedelta(hours=1))])
    [day] = store.of_table(ORDERS, "2026-03-02", "2026-03-02")
    assert (day.first_use, day.last_use) == (
        "2026-03-02T12:00:00+00:00",
        "2026-03-02T14:00:00+00:00",
    )
    store.record([event(4, NOON - timedelta(hours=3))])
    store.record([event(5, NOON + timedelta(hours=5))])

    [day] = store.of_table(ORDERS, "2026-03-02", "2026-03-02")
    assert (day.first_use, day.last_use, day.reads) == (
        "2026-03-02T09:00:00+00:00",
        "2026-03-02T17:00:00+00:00",
        5,
    )


def test_events_in_order_need_no_corrective_write(dynamodb: Counting) -> None:
    store = UsageStore(dynamodb, TABLE)
    for n in range(3):
        store.record([event(n, NOON + timedelta(minutes=n))])

    assert dynamodb.calls == ["update_item"] * 3


def test_a_large_group_is_written_in_chunks_of_bounded_condition_size(dynamodb: Counting) -> None:
    store = UsageStore(dynamodb, TABLE)
    events = [event(n, NOON + timedelta(seconds=n)) for n in range(DIGESTS_PER_WRITE * 2 + 1)]

    outcome = store.record(events)

    assert outcome.counted == len(events)
    assert dynamodb.calls == ["update_item"] * 3
    assert len(item(dynamodb)["digests"]["SS"]) == len(events)


def test_past_the_digest_bound_reads_are_counted_unchecked(dynamodb: Counting) -> None:
    store = UsageStore(dynamodb, TABLE)
    store.record([event(n, NOON) for n in range(MAX_DIGESTS_PER_ITEM - 2)])

    outcome = store.record(
        [event(n, NOON) for n in range(MAX_DIGESTS_PER_ITEM - 3, MAX_DIGESTS_PER_ITEM + 3)]
    )

    # One duplicate, two more fit under the bound, three counted without a digest
    assert (outcome.counted, outcome.duplicates, outcome.unchecked) == (5, 1, 3)
    stored = item(dynamodb)
    assert len(stored["digests"]["SS"]) == MAX_DIGESTS_PER_ITEM
    assert stored["unchecked"] == {"N": "3"}
    assert stored["reads"] == {"N": str(MAX_DIGESTS_PER_ITEM + 3)}


def test_last_used_gives_each_tables_latest_use_since_a_day(dynamodb: Counting) -> None:
    store = UsageStore(dynamodb, TABLE)
    store.record([event(1, NOON)])
    store.record([event(2, NOON + timedelta(days=1))])
    store.record([event(3, NOON, table="sales_sales.customers")])
    store.record([event(4, NOON, principal=AUDITOR)])

    assert store.last_used(ANALYST, "2026-03-01") == {
        ORDERS: "2026-03-03T12:00:00+00:00",
        "sales_sales.customers": "2026-03-02T12:00:00+00:00",
    }
    assert store.last_used(ANALYST, "2026-03-03") == {ORDERS: "2026-03-03T12:00:00+00:00"}
    assert store.of_principal(ANALYST, "2026-03-03", "2026-03-03")[0].day == "2026-03-03"


def test_record_takes_one_group(dynamodb: Counting) -> None:
    with pytest.raises(ValueError, match="one group"):
        UsageStore(dynamodb, TABLE).record([event(1), event(2, table="sales_sales.customers")])
