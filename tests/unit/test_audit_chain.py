"""The audit hash chains (ADRs 0006 and 0019): canonical form, hashing, every tamper kind named
(within a shard and across shards), and appends that move to another shard on contention."""

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
from meshgov.audit.chain import GENESIS, canonical, chain_hash, place_of
from meshgov.audit.dynamodb import DynamoAuditTrail, chain_record, chained, from_item, to_item
from meshgov.audit.verify import ChainHead, ChainRecord, DigestView, ShardHead, verify_chain
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


def digest(
    key: str, heads: dict[int, tuple[int, str]], previous: int = 0, shards: int = 1
) -> DigestView:
    """A sound digest binding ``heads`` (shard -> seq, hash; shards left out: none yet)."""
    bound = tuple(ShardHead(k, *heads.get(k, (0, GENESIS))) for k in range(shards))
    return DigestView(key, shards, bound, previous, True, True, True)


def kind(records: list[ChainRecord], **kwargs: Any) -> tuple[str, int] | None:
    verdict = verify_chain(records, **kwargs)
    return (verdict.problem.kind, verdict.problem.seq) if verdict.problem else None


# --- canonical form ------------------------------------------------------------------------------


def test_canonical_form_is_sorted_compact_utf8_and_stable() -> None:
    fields = {
        "seq": 7,
        "shard": 3,
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
        '"recorded_at":"2026-11-25T12:00:00.000000+00:00","seq":7,"shard":3,"target":"t"}'
    )
    assert canonical(dict(reversed(list(fields.items())))) == text
    expected = hashlib.sha256(GENESIS.encode() + b"\n" + text.encode("utf-8")).hexdigest()
    assert chain_hash(GENESIS, text) == expected
    assert place_of(text.encode()) == (3, 7)


def test_seq_is_read_from_the_top_level_even_when_detail_or_target_say_seq() -> None:
    memory = MemoryAuditTrail(clock=lambda: T0)
    record = memory.record(
        replace(entry(1, seq=99), target='odd ,"seq":5, target', reason=',"seq":3')
    )
    assert place_of(record.canonical().encode()) == (0, 1)


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
    assert item["sk"]["S"] == "2026-11-25T12:00:00.000000+00:00#00#00000000000000000002"
    assert item["chain"]["S"] == "shard-00" and item["shard"] == {"N": "0"}
    assert from_item(item) == second
    assert verify_chain(trail(5)).ok


# --- every tamper kind, named with the right seq ---------------------------------------------


def test_a_clean_trail_passes() -> None:
    verdict = verify_chain(trail(20), heads=None)
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
    heads = {0: ChainHead(10, records[-1].hash)}
    assert verify_chain(records, heads=heads).ok
    assert kind(records[:8], heads=heads) == ("truncation", 9)
    signed = digest("digests/10", {0: (10, records[9].hash)})
    assert verify_chain(records, [signed]).digests_checked == 1
    assert kind(records[:7], digests=[signed]) == ("truncation", 8)


def test_digest_problems_are_named() -> None:
    records = trail(10)
    good = digest("d/5", {0: (5, records[4].hash)})
    second = digest("d/10", {0: (10, records[9].hash)}, previous=5)
    assert verify_chain(records, [good, second]).ok
    assert kind(records, digests=[good, replace(second, signature_ok=False)]) == (
        "digest-signature",
        10,
    )
    assert kind(records, digests=[good, replace(second, key_trusted=False)]) == ("digest-key", 10)
    assert kind(records, digests=[good, replace(second, chain_ok=False)]) == ("digest-chain", 10)
    assert kind(records, digests=[second]) == ("digest-chain", 10)  # the first digest is gone
    wrong = replace(good, heads=(ShardHead(0, 5, "0" * 64),))
    assert kind(records, digests=[wrong, second]) == ("digest-mismatch", 5)


def test_a_chain_rewritten_from_a_record_on_is_caught_by_the_digest() -> None:
    records = trail(10)
    signed = digest("d/10", {0: (10, records[9].hash)})
    rewritten = records[:2]
    for record in records[2:]:
        text = record.canonical.replace(b"SUCCEEDED", b"SKIPPED")
        rewritten.append(replace(record, prev_hash=rewritten[-1].hash, canonical=text, hash=""))
        rewritten[-1] = replace(rewritten[-1], hash=chain_hash(rewritten[-1].prev_hash, text))
    assert verify_chain(rewritten).ok  # internally consistent...
    assert kind(rewritten, digests=[signed]) == ("digest-mismatch", 10)  # ...but not signed


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


class Picks:
    """A deterministic ``pick``: the shards to start on and to move to, and what was asked."""

    def __init__(self, *values: int) -> None:
        self.values = list(values)
        self.asked: list[int] = []

    def __call__(self, n: int) -> int:
        self.asked.append(n)
        return self.values.pop(0) if self.values else 0


def test_a_lost_race_moves_to_another_shard_without_waiting() -> None:
    # Given a writer on shard 5 whose first three transactions lose a race
    dynamo = FakeDynamo(conflicts=3)
    waits: list[float] = []
    picks = Picks(5, 5, 0, 62)  # start on 5; then moves drawn among the 63 other shards
    audit = DynamoAuditTrail(dynamo, "audit", lambda: T0, sleep=waits.append, pick=picks)

    # When it appends
    record = audit.record(entry(1))

    # Then it moved on each loss (5 -> 6 -> 0 -> 63: never back to the shard it lost), waited
    # for none of them, and stays on the shard that worked
    assert picks.asked == [64, 63, 63, 63]
    assert (record.shard, record.seq, audit.attempts) == (63, 1, 4)
    assert waits == []
    assert audit.record(entry(2)).shard == 63
    assert ("CHAIN", "HEAD#63") in dynamo.items and ("CHAIN", "META") in dynamo.items
    assert dynamo.items[("CHAIN", "META")]["shards"] == {"N": "64"}


def test_only_a_long_losing_streak_waits() -> None:
    waits: list[float] = []
    audit = DynamoAuditTrail(
        FakeDynamo(conflicts=7), "audit", lambda: T0, sleep=waits.append, jitter=lambda a, b: b
    )
    assert audit.record(entry(1)).seq == 1
    assert len(waits) == 3 and all(w > 0 for w in waits)  # attempts 5, 6 and 7


def test_a_write_that_cannot_be_made_raises_never_drops() -> None:
    with pytest.raises(AuditWriteError, match="every one of 4 attempts"):
        DynamoAuditTrail(
            FakeDynamo(conflicts=10), "audit", lambda: T0, max_attempts=4, sleep=lambda _s: None
        ).record(entry(1))
    with pytest.raises(AuditWriteError, match="AccessDenied"):
        DynamoAuditTrail(FakeDynamo(error="AccessDeniedException"), "audit").record(entry(1))


def test_the_head_moves_with_each_record() -> None:
    dynamo = FakeDynamo()
    audit = DynamoAuditTrail(dynamo, "audit", lambda: T0, pick=lambda _n: 7)
    records = [audit.record(entry(n)) for n in range(3)]
    head = dynamo.items[("CHAIN", "HEAD#07")]
    assert (head["seq"]["N"], head["hash"]["S"]) == ("3", records[-1].hash)
    items = sorted(
        (i for k, i in dynamo.items.items() if k[0] != "CHAIN"), key=lambda i: i["sk"]["S"]
    )
    heads = {7: ChainHead(3, records[-1].hash)}
    assert verify_chain([chain_record(i) for i in items], heads=heads, shards=64).ok
    assert json.loads(items[0]["canonical"]["S"])["seq"] == 1


def test_a_record_is_never_older_than_the_one_before_it_in_its_shard() -> None:
    # Given a writer whose clock goes back a second between two appends to one shard
    ticks = iter([T0, T0 - timedelta(seconds=1)])
    audit = DynamoAuditTrail(FakeDynamo(), "audit", lambda: next(ticks), pick=lambda _n: 0)
    first, second = audit.record(entry(1)), audit.record(entry(2))

    # Then the second keeps the first's time: the trail's order is the shard's chain order
    assert second.recorded_at == first.recorded_at and second.order > first.order


# --- several shards: each chain, every head bound by the digests ---------------------------------


def sharded(count: int, shards: int = 4) -> tuple[list[ChainRecord], dict[int, ChainHead]]:
    """``count`` records appended to ``shards`` shards in turn, read back shard after shard."""
    heads: dict[int, ChainHead] = {}
    made = []
    for n in range(count):
        shard = n % shards
        record = chained(f"r{n}", T0 + timedelta(seconds=n), entry(n), heads.get(shard), shard)
        heads[shard] = ChainHead(record.seq, record.hash)
        made.append(record)
    ordered = sorted(made, key=lambda r: (r.shard, r.seq))
    return [chain_record(to_item(r)) for r in ordered], heads


def signed_heads(heads: dict[int, ChainHead]) -> dict[int, tuple[int, str]]:
    return {k: (h.seq, h.hash) for k, h in heads.items()}


def test_a_sharded_trail_verifies_and_each_shard_is_checked() -> None:
    records, heads = sharded(20)
    bound = digest("d/20", signed_heads(heads), shards=4)
    verdict = verify_chain(records, [bound], heads=heads, shards=4)
    assert verdict.ok and verdict.records_checked == 20 and verdict.shards == 4
    # a deletion in shard 2 is named with its shard
    gone = [r for r in records if not (r.shard == 2 and r.seq == 3)]
    problem = verify_chain(gone, heads=heads, shards=4).problem
    assert problem is not None and (problem.kind, problem.shard, problem.seq) == ("deletion", 2, 3)
    # the last records of shard 1 gone: a truncation of shard 1, against its head
    cut = [r for r in records if not (r.shard == 1 and r.seq == 5)]
    problem = verify_chain(cut, heads=heads, shards=4).problem
    assert problem is not None and (problem.kind, problem.shard, problem.seq) == (
        "truncation",
        1,
        5,
    )


def test_a_record_moved_to_another_shard_is_detected() -> None:
    records, heads = sharded(20)
    # Record 2 of shard 3 re-labelled into shard 1's chain (its chain attribute changed) and
    # stored after shard 1's last record
    moved = next(r for r in records if r.shard == 3 and r.seq == 2)
    rest = [r for r in records if r is not moved]
    at = max(i for i, r in enumerate(rest) if r.shard == 1) + 1
    tampered = [*rest[:at], replace(moved, shard=1, seq=6), *rest[at:]]
    problem = verify_chain(tampered, heads=heads, shards=4).problem
    assert problem is not None and (problem.kind, problem.shard) == ("insertion", 1)
    assert "states shard 3" in problem.message
    # the other way round (from a lower shard to a higher): the hole is found first
    low = next(r for r in records if r.shard == 0 and r.seq == 2)
    rest = [r for r in records if r is not low]
    tampered = [*rest, replace(low, shard=3, seq=6)]
    problem = verify_chain(tampered, heads=heads, shards=4).problem
    assert problem is not None and (problem.kind, problem.shard, problem.seq) == ("deletion", 0, 2)


def test_a_digest_missing_a_shard_head_is_detected() -> None:
    records, heads = sharded(20)
    bound = digest("d/20", signed_heads(heads), shards=4)
    missing = replace(bound, heads=bound.heads[:2] + bound.heads[3:])
    problem = verify_chain(records, [missing], heads=heads, shards=4).problem
    assert problem is not None and (problem.kind, problem.shard) == ("digest-heads", 2)
    # a digest of another shard count than the trail's metadata says
    problem = verify_chain(records, [bound], heads=heads, shards=5).problem
    assert problem is not None and problem.kind == "digest-heads"
    # a head item for a shard the trail does not have
    problem = verify_chain(records, heads={**heads, 9: heads[0]}, shards=4).problem
    assert problem is not None and (problem.kind, problem.shard) == ("shards", 9)


def test_a_shard_that_went_backwards_between_digests_is_detected() -> None:
    _, heads = sharded(20)
    first = digest("d/20", signed_heads(heads), shards=4)
    more, later = sharded(24)
    # the next digest has shard 2 behind where the first digest bound it
    back = signed_heads(later)
    back[2] = (3, next(r.hash for r in more if r.shard == 2 and r.seq == 3))
    second = digest("d/22", back, previous=20, shards=4)
    problem = verify_chain(more, [first, second], heads=later, shards=4).problem
    assert problem is not None and (problem.kind, problem.shard) == ("digest-chain", 2)
    assert "went backwards" in problem.message
    # and a digest whose shard head does not match the record it names: digest-mismatch
    wrong = signed_heads(later)
    wrong[1] = (6, "f" * 64)
    problem = verify_chain(
        more, [first, digest("d/24", wrong, previous=20, shards=4)], shards=4
    ).problem
    assert problem is not None and (problem.kind, problem.shard, problem.seq) == (
        "digest-mismatch",
        1,
        6,
    )
