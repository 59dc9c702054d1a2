"""The audit scenarios (issue 5): appending to the hash chain under contention, and verifying it.

- ``append_per_s``: 8 writer threads, each with its own boto3 session and client, append to one
  audit table in in-process moto (with the local mesh's atomic ``TransactWriteItems``,
  :mod:`meshgov_local.emulator.dynamodb_transactions`) through :class:`DynamoAuditTrail`, as
  concurrent Lambda invocations would: GetItem of the head, then one conditional transaction;
  losers retry. Reported with the retries it took and whether the chain is intact afterwards
  (every record once, seqs contiguous, :func:`verify_chain` passes). moto's own cost per call
  (a few ms) bounds the figure; it is no measure of DynamoDB's.
- ``verify_records_per_s``: records as the store holds them (canonical text, prev_hash, hash),
  generated in memory, then timed through :func:`verify_chain` with one digest per 100,000
  records. Generation is not timed.
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
from meshgov.audit.chain import GENESIS, canonical, chain_hash
from meshgov.audit.dynamodb import chain_record, read_chain_items, read_head
from meshgov.audit.verify import ChainRecord, DigestView, verify_chain
from meshgov_local.emulator import dynamodb_transactions

Progress = Callable[[str], None]
TABLE = "meshgov-audit-bench"
REGION = "eu-west-1"
SIZES = {
    "full": {"writers": 8, "appends_per_writer": 200, "verify_records": 1_000_000},
    "smoke": {"writers": 8, "appends_per_writer": 10, "verify_records": 20_000},
}
DIGEST_EVERY = 100_000


def audit(scale: str, progress: Progress) -> dict[str, Any]:
    size = SIZES[scale]
    append = appends(size["writers"], size["appends_per_writer"], progress)
    verify = verification(size["verify_records"], progress)
    return {"append": append, "verify": verify}


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
        start = threading.Barrier(writers + 1)

        def write(writer: int) -> None:
            client = boto3.session.Session(region_name=REGION).client("dynamodb")
            trail = DynamoAuditTrail(client, TABLE, sleep=sleep)
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
        items = list(read_chain_items(client, TABLE))
        head = read_head(client, TABLE)
        seqs = [int(i["seq"]["N"]) for i in items]
        verdict = verify_chain((chain_record(i) for i in items), head=head)
    total = writers * per_writer
    intact = not failures and seqs == list(range(1, total + 1)) and verdict.ok and head is not None
    progress(f"audit: {total} appends by {writers} writers in {elapsed:.1f} s, intact={intact}")
    return {
        "writers": writers,
        "appends": total,
        "seconds": round(elapsed, 3),
        "append_per_s": round(total / elapsed, 1),
        "retries": sleep.retries,
        "records_stored": len(items),
        "chain_intact": intact,
        "failures": failures[:5],
    }


# --- verifying ----------------------------------------------------------------------------------


def chained_records(count: int) -> list[ChainRecord]:
    """``count`` records as the store holds them: canonical text, links, hashes."""
    t0 = datetime(2026, 11, 25, tzinfo=UTC)
    records: list[ChainRecord] = []
    prev = GENESIS
    for seq in range(1, count + 1):
        text = canonical(
            {
                "seq": seq,
                "record_id": f"{seq:032x}",
                "recorded_at": (t0 + timedelta(milliseconds=seq)).isoformat(
                    timespec="microseconds"
                ),
                "action": "glue:UpdateTable",
                "outcome": "SUCCEEDED",
                "actor": "meshgov:catalog-sync",
                "target": f"table/sales_orders/t{seq % 1000}",
                "correlation_id": f"evt-{seq // 4:012d}",
                "reason": "",
                "detail": {"schema_change": {"added": ["c1"], "removed": []}, "version": seq},
            }
        ).encode("utf-8")
        digest = chain_hash(prev, text)
        records.append(ChainRecord(seq, prev, digest, text))
        prev = digest
    return records


def verification(count: int, progress: Progress) -> dict[str, Any]:
    t0 = time.perf_counter()
    records = chained_records(count)
    generated = time.perf_counter() - t0
    digests = [
        DigestView(f"digests/{end:020d}", start + 1, end, records[end - 1].hash, True, True, True)
        for start, end in ((s, min(s + DIGEST_EVERY, count)) for s in range(0, count, DIGEST_EVERY))
    ]
    t1 = time.perf_counter()
    verdict = verify_chain(records, digests)
    elapsed = time.perf_counter() - t1
    progress(
        f"audit: verified {count} records in {elapsed:.2f} s "
        f"({count / elapsed:,.0f}/s, generated in {generated:.1f} s), ok={verdict.ok}"
    )
    return {
        "records": count,
        "digests": len(digests),
        "seconds": round(elapsed, 3),
        "verify_records_per_s": round(count / elapsed),
        "ok": verdict.ok,
        "generation_seconds": round(generated, 2),
    }
