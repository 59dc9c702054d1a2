"""The audit scenarios (issues 5 and 16): appending to the sharded trail under contention, and
verifying it (docs/adr/0019-sharded-audit-trail.md).

- ``append_per_s``: 8 writer threads, each with its own boto3 session and client, append to one
  audit table in in-process moto (with the local mesh's atomic ``TransactWriteItems``,
  :mod:`meshgov_local.emulator.dynamodb_transactions`) through :class:`DynamoAuditTrail`, as
  concurrent Lambda invocations would: GetItem of a shard's head, then one conditional
  transaction; a loser moves to another shard. Reported with the attempts it took and whether
  the trail is intact afterwards (every record once, each shard's seqs contiguous,
  :func:`verify_chain` passes). moto's own cost per call (a few ms) bounds the figure; it is no
  measure of DynamoDB's.
- ``attempts_per_append`` at 32 writers (``scale.audit_attempts_per_append_32_writers``): the
  same with 32 writer threads; transactions tried per record appended (1.0: nobody ever lost a
  race). The emulator's conflicts are as strict as for 8 writers: transactions are serialized
  and a condition that no longer holds cancels one.
- ``verify_records_per_s``: records as the store holds them (canonical text, prev_hash, hash),
  spread over the trail's 64 shards, generated in memory, then timed through
  :func:`verify_chain` with one digest (binding all 64 heads) per 100,000 records. Generation is
  not timed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from moto import mock_aws

from bench.scenarios import fake_aws_environment
from meshgov.audit import AuditEntry, AuditOutcome, DynamoAuditTrail
from meshgov.audit.chain import GENESIS, SHARDS, canonical, chain_hash
from meshgov.audit.dynamodb import chain_record, read_chain_items, read_heads
from meshgov.audit.verify import ChainRecord, DigestView, ShardHead, verify_chain
from meshgov_local.emulator import dynamodb_transactions

Progress = Callable[[str], None]
TABLE = "meshgov-audit-bench"
REGION = "eu-west-1"
SIZES = {
    "full": {
        "writers": 8,
        "appends_per_writer": 200,
        "many_writers": 32,
        "appends_per_many_writer": 50,
        "verify_records": 1_000_000,
    },
    "smoke": {
        "writers": 8,
        "appends_per_writer": 10,
        "many_writers": 32,
        "appends_per_many_writer": 10,
        "verify_records": 20_000,
    },
}
DIGEST_EVERY = 100_000


def audit(scale: str, progress: Progress) -> dict[str, Any]:
    size = SIZES[scale]
    append = appends(size["writers"], size["appends_per_writer"], progress)
    many = appends(size["many_writers"], size["appends_per_many_writer"], progress)
    verify = verification(size["verify_records"], progress)
    return {"append": append, "append_many": many, "verify": verify}


# --- appending ----------------------------------------------------------------------------------


def _create_table(client: Any) -> None:
    client.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": kind}
            for name, kind in (("pk", "S"), ("sk", "S"), ("chain", "S"), ("seq", "N"))
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-seq",
                "KeySchema": [
                    {"AttributeName": "chain", "KeyType": "HASH"},
                    {"AttributeName": "seq", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )


class _CountingSleep:
    def __init__(self) -> None:
        self.retries = 0
        self._lock = threading.Lock()

    def __call__(self, seconds: float) -> None:
        with self._lock:
            self.retries += 1
        time.sleep(seconds)


def appends(writers: int, per_writer: int, progress: Progress) -> dict[str, Any]:
    dynamodb_transactions.install()
    with fake_aws_environment(), mock_aws():
        _create_table(boto3.client("dynamodb", region_name=REGION))
        sleep = _CountingSleep()
        failures: list[str] = []
        trails: list[DynamoAuditTrail] = []
        start = threading.Barrier(writers + 1)

        def write(writer: int) -> None:
            client = boto3.session.Session(region_name=REGION).client("dynamodb")
            trail = DynamoAuditTrail(client, TABLE, sleep=sleep)
            trails.append(trail)
            start.wait(timeout=60)
            try:
                for n in range(per_writer):
                    trail.record(
                        AuditEntry(
                            "bench:append",
                            AuditOutcome.SUCCEEDED,
                            f"writer-{writer}",
                            f"record-{n}",
                            f"w{writer}-{n}",
                        )
                    )
            except Exception as exc:  # reported in the figures
                failures.append(f"{type(exc).__name__}: {exc}")

        threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
        for thread in threads:
            thread.start()
        start.wait(timeout=60)
        t0 = time.perf_counter()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - t0
        client = boto3.client("dynamodb", region_name=REGION)
        state = read_heads(client, TABLE)
        items = list(read_chain_items(client, TABLE))
        records = [chain_record(i) for i in items]
        verdict = verify_chain(records, heads=state.heads, shards=state.shards)
    total = writers * per_writer
    attempts = sum(trail.attempts for trail in trails)
    contiguous = all(
        [r.seq for r in records if r.shard == shard] == list(range(1, head.seq + 1))
        for shard, head in state.heads.items()
    )
    intact = (
        not failures
        and len(items) == total == state.record_count
        and contiguous
        and verdict.ok
        and state.shards == SHARDS
    )
    progress(
        f"audit: {total} appends by {writers} writers in {elapsed:.1f} s, "
        f"{attempts / total:.3f} attempts per append, {len(state.heads)} shards used, "
        f"intact={intact}"
    )
    return {
        "writers": writers,
        "appends": total,
        "seconds": round(elapsed, 3),
        "append_per_s": round(total / elapsed, 1),
        "attempts": attempts,
        "attempts_per_append": round(attempts / total, 3),
        "waits": sleep.retries,
        "shards_used": len(state.heads),
        "records_stored": len(items),
        "chain_intact": intact,
        "failures": failures[:5],
    }


# --- verifying ----------------------------------------------------------------------------------


def chained_records(count: int, shards: int = SHARDS) -> tuple[list[ChainRecord], list[DigestView]]:
    """``count`` records as the store holds them (canonical text, links, hashes), appended to
    ``shards`` shards in turn and returned shard after shard, each in seq order (as the verifier
    reads them); and one digest per :data:`DIGEST_EVERY` records, binding every shard's head."""
    t0 = datetime(2026, 11, 25, tzinfo=UTC)
    appended: list[list[tuple[int, str, str, str]]] = [[] for _ in range(shards)]
    prev = [GENESIS] * shards
    digests: list[DigestView] = []
    for n in range(1, count + 1):
        shard = n % shards
        seq = len(appended[shard]) + 1
        text = canonical(
            {
                "seq": seq,
                "shard": shard,
                "record_id": f"{n:032x}",
                "recorded_at": (t0 + timedelta(milliseconds=n)).isoformat(timespec="microseconds"),
                "action": "glue:UpdateTable",
                "outcome": "SUCCEEDED",
                "actor": "meshgov:catalog-sync",
                "target": f"table/sales_orders/t{n % 1000}",
                "correlation_id": f"evt-{n // 4:012d}",
                "reason": "",
                "detail": {"schema_change": {"added": ["c1"], "removed": []}, "version": n},
            }
        )
        digest = chain_hash(prev[shard], text)
        appended[shard].append((seq, prev[shard], digest, text))
        prev[shard] = digest
        if n % DIGEST_EVERY == 0 or n == count:
            heads = tuple(ShardHead(k, len(appended[k]), prev[k]) for k in range(shards))
            before = digests[-1].record_count if digests else 0
            digests.append(DigestView(f"digests/{n:020d}", shards, heads, before, True, True, True))
    # Built in the order a reader gets them (one Query per shard), as a reader builds them: the
    # objects of one shard are made one after the other, not interleaved as they were appended.
    records = [
        ChainRecord(seq, "".join(link), "".join(hash_), text.encode("utf-8"), shard=shard)
        for shard, rows in enumerate(appended)
        for seq, link, hash_, text in rows
    ]
    return records, digests


def verification(count: int, progress: Progress) -> dict[str, Any]:
    t0 = time.perf_counter()
    records, digests = chained_records(count)
    generated = time.perf_counter() - t0
    t1 = time.perf_counter()
    verdict = verify_chain(records, digests, shards=SHARDS)
    elapsed = time.perf_counter() - t1
    progress(
        f"audit: verified {count} records in {SHARDS} shards in {elapsed:.2f} s "
        f"({count / elapsed:,.0f}/s, generated in {generated:.1f} s), ok={verdict.ok}"
    )
    return {
        "records": count,
        "shards": SHARDS,
        "digests": len(digests),
        "seconds": round(elapsed, 3),
        "verify_records_per_s": round(count / elapsed),
        "ok": verdict.ok,
        "generation_seconds": round(generated, 2),
    }
