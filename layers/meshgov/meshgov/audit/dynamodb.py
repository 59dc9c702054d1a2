"""The audit trail in the central account's DynamoDB table (``AuditTable`` in template.yaml), one
hash chain for the whole trail (docs/adr/0006-audit-hash-chain.md).

Items:

- records: ``pk = AUDIT#<UTC date>``, ``sk = <seq, 20 digits>`` (one day's records read back in
  order with a Query), ``chain = main`` and ``seq`` (the ``by-seq`` index: the whole trail in
  order), ``prev_hash``, ``hash``, ``canonical`` (the exact text the hash covers,
  :mod:`meshgov.audit.chain`) and plain copies of the fields (``action``, ``outcome``... for the
  console and the ``by-correlation`` index). Readers build records from ``canonical``, so what is
  shown is what is hashed; the verifier also checks that the copies agree with it.
- the head: ``pk = CHAIN``, ``sk = HEAD``, with the ``seq`` and ``hash`` of the last record.

Appending is optimistic: read the head (consistently), then one ``TransactWriteItems`` puts the
record (condition: its key is new) and the head (condition: its ``seq`` is still the one read;
``attribute_not_exists`` for the first record). Two writers racing for one ``seq`` cannot both
win: the loser waits a jittered, growing while, re-reads the head and tries again, at most
``max_attempts`` times; then :class:`AuditWriteError` fails the action that needed the record.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from meshgov.audit.chain import (
    CHAIN_NAME,
    CHAIN_PK,
    FIELDS,
    GENESIS,
    HEAD_SK,
    SEQ_INDEX,
    chain_hash,
    seq_key,
    utc_text,
)
from meshgov.audit.model import AuditEntry, AuditOutcome, AuditRecord
from meshgov.audit.verify import ChainHead, ChainRecord, DigestLike, Verdict, verify_chain
from meshgov.aws.backoff import full_jitter
from meshgov.aws.session import error_code
from meshgov.errors import AuditWriteError

MAX_ATTEMPTS = 40
BACKOFF_BASE = 0.005  # seconds: the first wait is at most this
BACKOFF_CAP = 0.25  # seconds: no wait is longer
# Why a transaction may be cancelled when another writer moved the head first.
_CONTENDED = {"ConditionalCheckFailed", "TransactionConflict", "None", ""}
_COPIED = tuple(name for name in FIELDS if name != "seq")


class DynamoAuditTrail:
    def __init__(
        self,
        dynamodb: Any,
        table_name: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        *,
        max_attempts: int = MAX_ATTEMPTS,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[float, float], float] = random.uniform,
    ) -> None:
        self._dynamodb = dynamodb
        self._table = table_name
        self._clock = clock
        self._max_attempts = max_attempts
        self._sleep = sleep
        self._jitter = jitter

    def record(self, entry: AuditEntry) -> AuditRecord:
        record_id = uuid.uuid4().hex
        for attempt in range(1, self._max_attempts + 1):
            try:
                head = read_head(self._dynamodb, self._table, consistent=True)
                # The time is read after the head: a record appended later is never older.
                stored = chained(record_id, self._clock(), entry, head)
                self._dynamodb.transact_write_items(
                    TransactItems=_append(self._table, stored, head),
                    ClientRequestToken=f"{record_id}-{attempt}",
                )
                return stored
            except ClientError as exc:
                if not _contended(exc):
                    raise AuditWriteError(
                        f"audit record {entry.action} not written: {exc}"
                    ) from exc
            except (BotoCoreError, UnicodeError, ValueError) as exc:
                raise AuditWriteError(f"audit record {entry.action} not written: {exc}") from exc
            if attempt < self._max_attempts:
                self._sleep(full_jitter(attempt, BACKOFF_BASE, BACKOFF_CAP, self._jitter))
        raise AuditWriteError(
            f"audit record {entry.action} not written: the chain's head moved on every one of "
            f"{self._max_attempts} attempts"
        )


def chained(
    record_id: str, recorded_at: datetime, entry: AuditEntry, head: ChainHead | None
) -> AuditRecord:
    """The record that follows ``head`` (None: the first record), hashed."""
    draft = AuditRecord(
        record_id=record_id,
        recorded_at=recorded_at.astimezone(UTC),
        entry=entry,
        seq=head.seq + 1 if head else 1,
        prev_hash=head.hash if head else GENESIS,
    )
    return replace(draft, hash=chain_hash(draft.prev_hash, draft.canonical()))


def _append(table: str, record: AuditRecord, head: ChainHead | None) -> list[dict[str, Any]]:
    head_item = {
        "pk": {"S": CHAIN_PK},
        "sk": {"S": HEAD_SK},
        "seq": {"N": str(record.seq)},
        "hash": {"S": record.hash},
        "record_pk": {"S": _day_pk(record)},
        "updated_at": {"S": utc_text(record.recorded_at)},
    }
    move_head: dict[str, Any] = {"TableName": table, "Item": head_item}
    if head is None:
        move_head["ConditionExpression"] = "attribute_not_exists(pk)"
    else:
        move_head["ConditionExpression"] = "#seq = :seq"
        move_head["ExpressionAttributeNames"] = {"#seq": "seq"}
        move_head["ExpressionAttributeValues"] = {":seq": {"N": str(head.seq)}}
    return [
        {
            "Put": {
                "TableName": table,
                "Item": to_item(record),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
        {"Put": move_head},
    ]


def _contended(exc: ClientError) -> bool:
    """Whether ``exc`` says another writer got there first (worth another attempt)."""
    code = error_code(exc)
    if code in {"ConditionalCheckFailedException", "TransactionConflictException"}:
        return True
    if code != "TransactionCanceledException":
        return False
    reasons = exc.response.get("CancellationReasons") or []
    return all(str(reason.get("Code") or "") in _CONTENDED for reason in reasons)


def _day_pk(record: AuditRecord) -> str:
    return f"AUDIT#{record.recorded_at.astimezone(UTC).date().isoformat()}"


def _copies(fields: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The plain attributes copying the hashed fields (``-`` for an empty text: the
    ``by-correlation`` index takes no empty key)."""
    copies = {name: {"S": str(fields[name]) or "-"} for name in _COPIED if name != "detail"}
    copies["detail"] = {"S": json.dumps(fields["detail"], sort_keys=True)}
    return copies


def to_item(record: AuditRecord) -> dict[str, Any]:
    fields = record.fields()
    return {
        "pk": {"S": _day_pk(record)},
        "sk": {"S": seq_key(record.seq)},
        "chain": {"S": CHAIN_NAME},
        "seq": {"N": str(record.seq)},
        "prev_hash": {"S": record.prev_hash},
        "hash": {"S": record.hash},
        "canonical": {"S": record.canonical()},
        **_copies(fields),
    }


def _record_of(fields: dict[str, Any], prev_hash: str, hash_: str) -> AuditRecord:
    return AuditRecord(
        record_id=str(fields["record_id"]),
        recorded_at=datetime.fromisoformat(str(fields["recorded_at"])),
        entry=AuditEntry(
            action=str(fields["action"]),
            outcome=AuditOutcome(str(fields["outcome"])),
            actor=str(fields["actor"]),
            target=str(fields["target"]),
            correlation_id=str(fields["correlation_id"]),
            reason=str(fields["reason"]),
            detail=dict(fields["detail"]),
        ),
        seq=int(fields["seq"]),
        prev_hash=prev_hash,
        hash=hash_,
    )


def from_item(item: dict[str, Any]) -> AuditRecord:
    """Read a stored item back (used by the CLI and by tests that inspect the trail).

    A chained item is read from its ``canonical`` text (what its hash covers); an item written
    before the chain existed, from its plain attributes.
    """

    def text(name: str) -> str:
        value = str(item.get(name, {}).get("S", ""))
        return "" if value == "-" else value

    if "canonical" in item:
        fields = json.loads(text("canonical"))
        return _record_of(fields, text("prev_hash"), text("hash"))
    return AuditRecord(
        record_id=text("record_id"),
        recorded_at=datetime.fromisoformat(text("recorded_at")),
        entry=AuditEntry(
            action=text("action"),
            outcome=AuditOutcome(text("outcome")),
            actor=text("actor"),
            target=text("target"),
            correlation_id=text("correlation_id"),
            reason=text("reason"),
            detail=json.loads(text("detail") or "{}"),
        ),
    )


def chain_record(item: dict[str, Any]) -> ChainRecord:
    """What the verifier needs of a stored item; ``copy_agrees`` compares the plain attributes
    with the canonical text (one JSON parse: the reading side's cost, not the hash loop's)."""
    canonical = str(item.get("canonical", {}).get("S", ""))
    try:
        seq = int(item.get("seq", {}).get("N", "0"))
    except ValueError:
        seq = 0
    try:
        fields = json.loads(canonical)
        expected = _copies(fields)
        agrees = all(item.get(name) == value for name, value in expected.items())
    except (ValueError, TypeError, KeyError, AttributeError):
        agrees = False
    return ChainRecord(
        seq=seq,
        prev_hash=str(item.get("prev_hash", {}).get("S", "")),
        hash=str(item.get("hash", {}).get("S", "")),
        canonical=canonical.encode("utf-8"),
        copy_agrees=agrees,
    )


def read_day(dynamodb: Any, table_name: str, day: str) -> list[AuditRecord]:
    """Every record of one UTC day, oldest first (in ``seq`` order)."""
    paginator = dynamodb.get_paginator("query")
    records: list[AuditRecord] = []
    for page in paginator.paginate(
        TableName=table_name,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"AUDIT#{day}"}},
    ):
        records.extend(from_item(item) for item in page.get("Items", []))
    return records


def read_head(dynamodb: Any, table_name: str, *, consistent: bool = True) -> ChainHead | None:
    """The chain's head item (None: nothing appended yet)."""
    item = dynamodb.get_item(
        TableName=table_name,
        Key={"pk": {"S": CHAIN_PK}, "sk": {"S": HEAD_SK}},
        ConsistentRead=consistent,
    ).get("Item")
    if not item:
        return None
    return ChainHead(seq=int(item["seq"]["N"]), hash=str(item["hash"]["S"]))


def read_chain_items(
    dynamodb: Any, table_name: str, from_seq: int = 1, to_seq: int | None = None
) -> Iterator[dict[str, Any]]:
    """The stored items of the chain in ``seq`` order (the ``by-seq`` index), page by page."""
    condition = "#chain = :chain AND #seq >= :from"
    values: dict[str, Any] = {":chain": {"S": CHAIN_NAME}, ":from": {"N": str(from_seq)}}
    if to_seq is not None:
        condition = "#chain = :chain AND #seq BETWEEN :from AND :to"
        values[":to"] = {"N": str(to_seq)}
    paginator = dynamodb.get_paginator("query")
    for page in paginator.paginate(
        TableName=table_name,
        IndexName=SEQ_INDEX,
        KeyConditionExpression=condition,
        ExpressionAttributeNames={"#chain": "chain", "#seq": "seq"},
        ExpressionAttributeValues=values,
    ):
        yield from page.get("Items", [])


def read_chain(
    dynamodb: Any, table_name: str, from_seq: int = 1, to_seq: int | None = None
) -> Iterator[AuditRecord]:
    """The records of the chain in ``seq`` order, read from their canonical text."""
    for item in read_chain_items(dynamodb, table_name, from_seq, to_seq):
        yield from_item(item)


def verify_trail(
    dynamodb: Any, table_name: str, digests: Sequence[DigestLike] = ()
) -> tuple[Verdict, ChainHead | None]:
    """Verify the whole trail of ``table_name`` (and the head it had when verification began)
    against ``digests``. The head is read first: records appended meanwhile are checked too."""
    head = read_head(dynamodb, table_name)
    records = (chain_record(item) for item in read_chain_items(dynamodb, table_name))
    return verify_chain(records, digests, head=head), head
