"""partitions_by_key: BatchGetPartition's UnprocessedKeys are asked again, never read as absent.

https://docs.aws.amazon.com/glue/latest/webapi/API_BatchGetPartition.html: ``UnprocessedKeys`` is
"a list of the partition values in the request for which partitions were not returned".
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from meshgov.aws.backoff import full_jitter
from meshgov.catalog.glue_reads import (
    UNPROCESSED_ATTEMPTS,
    UNPROCESSED_BACKOFF_BASE,
    UNPROCESSED_BACKOFF_CAP,
    partitions_by_key,
)
from meshgov.errors import PartitionReadIncompleteError


class FakeGlue:
    """Serves BatchGetPartition from ``existing``; ``unread`` says which keys stay unprocessed
    on each successive call (the rest of what is asked is read)."""

    def __init__(self, existing: set[tuple[str, ...]], unread: list[set[tuple[str, ...]]]) -> None:
        self.existing = existing
        self.unread = list(unread)
        self.requests: list[list[tuple[str, ...]]] = []

    def batch_get_partition(self, **kwargs: Any) -> dict[str, Any]:
        asked = [tuple(k["Values"]) for k in kwargs["PartitionsToGet"]]
        assert len(asked) <= 1000
        self.requests.append(asked)
        unread = self.unread.pop(0) if self.unread else set()
        response: dict[str, Any] = {
            "Partitions": [
                {"Values": list(k)} for k in asked if k in self.existing and k not in unread
            ]
        }
        left = [k for k in asked if k in unread]
        if left:
            response["UnprocessedKeys"] = [{"Values": list(k)} for k in left]
        return response


def keys(count: int) -> list[tuple[str, ...]]:
    return [(f"{index:05d}",) for index in range(count)]


def values(partitions: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    return sorted(tuple(p["Values"]) for p in partitions)


def test_a_complete_read_costs_one_call_per_thousand_keys_and_no_wait() -> None:
    # Given 2,500 existing partitions, all read at once
    wanted = keys(2500)
    glue, waits = FakeGlue(set(wanted), []), []
    # When they are asked for
    found = partitions_by_key(glue, "222", "db", "t", wanted, sleep=waits.append)
    # Then three requests, no retry, no wait
    assert values(found) == wanted
    assert [len(r) for r in glue.requests] == [1000, 1000, 500]
    assert waits == []


def test_unprocessed_keys_are_asked_again_alone_after_a_short_wait() -> None:
    # Given 10 partitions, of which Glue leaves 3 unread on the first call only
    wanted = keys(10)
    glue, waits = FakeGlue(set(wanted), [set(wanted[:3])]), []
    # When they are asked for
    found = partitions_by_key(glue, "222", "db", "t", wanted, sleep=waits.append)
    # Then the second request asks for exactly the unread ones, and every partition is returned
    assert glue.requests[1] == wanted[:3]
    assert values(found) == wanted
    assert len(waits) == 1 and 0.0 <= waits[0] <= UNPROCESSED_BACKOFF_BASE


def test_keys_absent_at_the_source_are_not_unprocessed_and_not_retried() -> None:
    # Given 5 keys asked for, 2 of which do not exist (not returned, not unprocessed)
    wanted = keys(5)
    glue, waits = FakeGlue(set(wanted[:3]), []), []
    found = partitions_by_key(glue, "222", "db", "t", wanted, sleep=waits.append)
    # Then the answer is the 3 that exist, in one request
    assert values(found) == wanted[:3]
    assert len(glue.requests) == 1 and waits == []


def test_keys_that_stay_unprocessed_make_the_read_fail_after_the_bounded_attempts() -> None:
    # Given Glue leaving one key unread on every call
    wanted = keys(4)
    glue = FakeGlue(set(wanted), [{wanted[2]}] * 50)
    waits: list[float] = []
    # When they are asked for, the read fails: nothing is returned as if the key were absent
    with pytest.raises(PartitionReadIncompleteError) as error:
        partitions_by_key(glue, "222222222222", "sales", "events", wanted, sleep=waits.append)
    # Then it asked UNPROCESSED_ATTEMPTS times in all, waiting a growing, capped while between
    assert len(glue.requests) == UNPROCESSED_ATTEMPTS
    assert glue.requests[1:] == [[wanted[2]]] * (UNPROCESSED_ATTEMPTS - 1)
    assert len(waits) == UNPROCESSED_ATTEMPTS - 1
    bounds = [
        min(UNPROCESSED_BACKOFF_CAP, UNPROCESSED_BACKOFF_BASE * 2**i) for i in range(len(waits))
    ]
    assert all(0.0 <= wait <= bound for wait, bound in zip(waits, bounds, strict=True))
    assert sum(bounds) <= 1.0  # short: longer outages are the SQS redrive's to wait out
    message = str(error.value)
    assert "222222222222" in message and "sales.events" in message
    assert "UnprocessedKeys" in message and "1 partition" in message


def test_a_missing_table_is_still_an_empty_answer() -> None:
    class Gone:
        def batch_get_partition(self, **_: Any) -> dict[str, Any]:
            raise ClientError(
                {"Error": {"Code": "EntityNotFoundException", "Message": "no table"}},
                "BatchGetPartition",
            )

    assert partitions_by_key(Gone(), "222", "db", "t", keys(3), sleep=lambda _: None) == []


def test_full_jitter_draws_up_to_a_doubling_capped_bound() -> None:
    def upper(low: float, high: float) -> float:
        return high  # the largest draw

    assert [full_jitter(n, 0.05, 0.5, upper) for n in (1, 2, 3, 4, 5, 40)] == [
        0.05,
        0.1,
        0.2,
        0.4,
        0.5,
        0.5,
    ]
    assert full_jitter(3, 0.05, 0.5, lambda low, high: low) == 0.0
    with pytest.raises(ValueError, match="from 1"):
        full_jitter(0, 0.05, 0.5)
