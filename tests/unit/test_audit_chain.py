"""The audit hash chain (ADR 0006): canonical form, hashing, and every tamper kind named."""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from meshgov.audit import AuditEntry, AuditOutcome, MemoryAuditTrail
from meshgov.audit.chain import GENESIS, canonical, chain_hash, seq_of
from meshgov.audit.dynamodb import DynamoAuditTrail, chain_record, from_item, to_item
from meshgov.audit.verify import ChainHead, ChainRecord, DigestView, verify_chain
from meshgov.errors import AuditWriteError

T0 = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)


def entry(n: int, **detail: Any) -> AuditEntry:
    return AuditEntry(
        action="glue:UpdateTable",
        outcome=AuditOutcome.SUCCEEDED,
        actor="222222222222",
        target=f"table/sales_sales/t{n}",
        correlation_id=f"evt-{n}",
        reason="" if n % 2 else "schema changed",
        detail={"n": n, "name": "Zoë", **detail},
    )


def trail(count: int) -> list[ChainRecord]:
    ticks = iter(T0 + timedelta(seconds=i) for i in range(count))
    memory = MemoryAuditTrail(clock=lambda: next(ticks))
    for n in range(count):
        memory.record(entry(n))
    return [chain_record(to_item(r)) for r in memory.records]


def kind(records: list[ChainRecord], **kwargs: Any) -> tuple[str, int] | None:
    verdict = verify_chain(records, **kwargs)
    return (verdict.problem.kind, verdict.problem.seq) if verdict.problem else None


# --- canonical form ------------------------------------------------------------------------------


def test_canonical_form_is_sorted_compact_utf8_and_stable() -> None:
    fields = {
        "seq": 7,
        "record_id": "r",
        "recorded_at": "2026-11-25T12:00:00.000000+00:00",
        "action": "a",
        "outcome": "SUCCEEDED",
        "actor": "x",
        "target": "t",
        "correlation_id": "c",
        "reason": "",
        "detail": {"b": 1, "a": "é"},
    }
    text = canonical(fields)
    assert text == (
        '{"action":"a","actor":"x","correlation_id":"c","detail":{"a":"é","b":1},'
        '"outcome":"SUCCEEDED","reason":"","record_id":"r",'
        '"recorded_at":"2026-11-25T12:00:00.000000+00:00","seq":7,"target":"t"}'
    )
    assert canonical(dict(reversed(list(fields.items())))) == text
    expected = hashlib.sha256(GENESIS.encode() + b"\n" + text.encode("utf-8")).hexdigest()
    assert chain_hash(GENESIS, text) == expected
    assert seq_of(text.encode()) == 7


def test_seq_is_read_from_the_top_level_even_when_detail_or_target_say_seq() -> None:
    memory = MemoryAuditTrail(clock=lambda: T0)
    record = memory.record(
        replace(entry(1, seq=99), target='odd ,"seq":5, target', reason=',"seq":3')
    )
    assert seq_of(record.canonical().encode()) == 1


def test_memory_trail_chains_records_and_the_dynamodb_item_round_trips() -> None:
    memory = MemoryAuditTrail(clock=lambda: T0)
    first, second = memory.record(entry(1)), memory.record(entry(2))
    assert (first.seq, first.prev_hash, second.seq, second.prev_hash) == (
        1,
        GENESIS,
        2,
        first.hash,
    )
    assert second.hash == chain_hash(first.hash, second.canonical())
    item = to_item(second)
    assert item["sk"]["S"] == "00000000000000000002" and item["chain"]["S"] == "main"
    assert from_item(item) == second
    assert verify_chain(trail(5)).ok


# --- every tamper kind, named with the right seq ---------------------------------------------


def test_a_clean_trail_passes() -> None:
    verdict = verify_chain(trail(20), head=None)
    assert verdict.ok and verdict.records_checked == 20 and verdict.last_seq == 20
    assert verdict.problem is None


def test_an_edited_field_is_an_edit() -> None:
    records = trail(10)
    text = records[4].canonical.replace(b'"outcome":"SUCCEEDED"', b'"outcome":"FAILED"')
    records[4] = replace(records[4], canonical=text)
    assert kind(records) == ("edit", 5)


def test_an_edited_copy_attribute_is_an_edit() -> None:
    records = trail(10)
    records[6] = replace(records[6], copy_agrees=False)
    assert kind(records) == ("edit", 7)


def test_a_rewritten_record_with_a_recomputed_hash_is_an_edit() -> None:
    records = trail(10)
    text = records[3].canonical.replace(b"SUCCEEDED", b"REFUSED")
    records[3] = replace(records[3], canonical=text, hash=chain_hash(records[3].prev_hash, text))
    assert kind(records) == ("edit", 4)


def test_a_deleted_record_is_a_deletion() -> None:
    records = trail(10)
    del records[5]
    assert kind(records) == ("deletion", 6)
    assert kind(trail(10)[1:]) == ("deletion", 1)


def test_an_inserted_record_is_an_insertion() -> None:
    records = trail(10)
    forged = replace(records[3], canonical=records[3].canonical.replace(b"t3", b"tX"))
    forged = replace(forged, hash=chain_hash(forged.prev_hash, forged.canonical))
    # a second record numbered 4, stored before or after the genuine one
    assert kind([*records[:3], forged, *records[3:]]) == ("insertion", 4)
    assert kind([*records[:4], forged, *records[4:]]) == ("insertion", 4)
    # a record that links to nothing
    stray = replace(records[3], prev_hash="f" * 64)
    stray = replace(stray, hash=chain_hash(stray.prev_hash, stray.canonical))
    assert kind([*records[:3], stray, *records[4:]]) == ("insertion", 4)


def test_swapped_records_are_a_reorder() -> None:
    records = trail(10)
    records[4], records[5] = replace(records[5], seq=5), replace(records[4], seq=6)
    assert kind(records) == ("reorder", 5)
    moved = trail(10)
    # record 3 moved to the end: record 4 follows a record stored after it
    assert kind([*moved[:2], *moved[3:], replace(moved[2], seq=11)]) == ("reorder", 4)


def test_a_truncated_trail_is_a_truncation_against_the_head_or_a_digest() -> None:
    records = trail(10)
    head = ChainHead(10, records[-1].hash)
    assert verify_chain(records, head=head).ok
    assert kind(records[:8], head=head) == ("truncation", 9)
    digest = DigestView("digests/10", 1, 10, records[9].hash, True, True, True)
    assert verify_chain(records, [digest]).digests_checked == 1
    assert kind(records[:7], digests=[digest]) == ("truncation", 8)


def test_digest_problems_are_named() -> None:
    records = trail(10)
    good = DigestView("d/5", 1, 5, records[4].hash, True, True, True)
    second = DigestView("d/10", 6, 10, records[9].hash, True, True, True)
    assert verify_chain(records, [good, second]).ok
    assert kind(records, digests=[good, replace(second, signature_ok=False)]) == (
        "digest-signature",
        10,
    )
    assert kind(records, digests=[good, replace(second, key_trusted=False)]) == ("digest-key", 10)
    assert kind(records, digests=[good, replace(second, chain_ok=False)]) == ("digest-chain", 10)
    assert kind(records, digests=[second]) == ("digest-chain", 10)  # the first digest is gone
    assert kind(records, digests=[replace(good, last_hash="0" * 64), second]) == (
        "digest-mismatch",
        5,
    )


def test_a_chain_rewritten_from_a_record_on_is_caught_by_the_digest() -> None:
    records = trail(10)
    digest = DigestView("d/10", 1, 10, records[9].hash, True, True, True)
    rewritten = records[:2]
    for record in records[2:]:
        text = record.canonical.replace(b"SUCCEEDED", b"SKIPPED")
        rewritten.append(replace(record, prev_hash=rewritten[-1].hash, canonical=text, hash=""))
        rewritten[-1] = replace(rewritten[-1], hash=chain_hash(rewritten[-1].prev_hash, text))
    assert verify_chain(rewritten).ok  # internally consistent...
    assert kind(rewritten, digests=[digest]) == ("digest-mismatch", 10)  # ...but not signed


def test_verify_is_fast() -> None:
    records = trail(1000) * 1  # the loop's cost per record, not the setup's
    started = datetime.now(UTC)
    for _ in range(20):
        assert verify_chain(records).ok
    elapsed = (datetime.now(UTC) - started).total_seconds()
    assert 20_000 / elapsed > 50_000


# --- appending to DynamoDB: contention is retried, a write that cannot be made fails ------------


class FakeDynamo:
    """The head and records as DynamoDB keeps them; ``conflicts`` transactions lose first."""

    def __init__(self, conflicts: int = 0, error: str = "") -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.conflicts = conflicts
        self.error = error
        self.lock = threading.Lock()

    def get_item(self, **kwargs: Any) -> dict[str, Any]:
        key = (kwargs["Key"]["pk"]["S"], kwargs["Key"]["sk"]["S"])
        item = self.items.get(key)
        return {"Item": item} if item else {}

    def transact_write_items(self, **kwargs: Any) -> None:
        if self.error:
            raise ClientError(
                {"Error": {"Code": self.error, "Message": "no"}}, "TransactWriteItems"
            )
        if self.conflicts:
            self.conflicts -= 1
            raise ClientError(
                {
                    "Error": {"Code": "TransactionCanceledException", "Message": "lost"},
                    "CancellationReasons": [{"Code": "None"}, {"Code": "ConditionalCheckFailed"}],
                },
                "TransactWriteItems",
            )
        for action in kwargs["TransactItems"]:
            item = action["Put"]["Item"]
            self.items[(item["pk"]["S"], item["sk"]["S"])] = item


def test_a_lost_race_is_retried_with_backoff() -> None:
    dynamo = FakeDynamo(conflicts=3)
    waits: list[float] = []
    audit = DynamoAuditTrail(dynamo, "audit", lambda: T0, sleep=waits.append)
    record = audit.record(entry(1))
    assert record.seq == 1 and len(waits) == 3
    assert all(w >= 0 for w in waits)
    assert audit.record(entry(2)).prev_hash == record.hash


def test_a_write_that_cannot_be_made_raises_never_drops() -> None:
    with pytest.raises(AuditWriteError, match="every one of 4 attempts"):
        DynamoAuditTrail(
            FakeDynamo(conflicts=10), "audit", lambda: T0, max_attempts=4, sleep=lambda _s: None
        ).record(entry(1))
    with pytest.raises(AuditWriteError, match="AccessDenied"):
        DynamoAuditTrail(FakeDynamo(error="AccessDeniedException"), "audit").record(entry(1))


def test_the_head_moves_with_each_record() -> None:
    dynamo = FakeDynamo()
    audit = DynamoAuditTrail(dynamo, "audit", lambda: T0)
    records = [audit.record(entry(n)) for n in range(3)]
    head = dynamo.items[("CHAIN", "HEAD")]
    assert (head["seq"]["N"], head["hash"]["S"]) == ("3", records[-1].hash)
    items = sorted(
        (i for k, i in dynamo.items.items() if k[0] != "CHAIN"), key=lambda i: i["sk"]["S"]
    )
    assert verify_chain([chain_record(i) for i in items], head=ChainHead(3, records[-1].hash)).ok
    assert json.loads(items[0]["canonical"]["S"])["seq"] == 1
