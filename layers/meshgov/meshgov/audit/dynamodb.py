"""The audit trail in the central account's DynamoDB table (``AuditTable`` in template.yaml):
:data:`~meshgov.audit.chain.SHARDS` hash chains ("shards") appended in parallel
(docs/adr/0006-audit-hash-chain.md, docs/adr/0019-sharded-audit-trail.md).

Items:

- records: ``pk = AUDIT#<UTC date>``, ``sk = <time>#<shard>#<seq>`` (:func:`~meshgov.audit.chain.
  order_key`: one day's records read back in the trail's order with a Query), ``chain =
  shard-<ss>`` and ``seq`` (the ``by-seq`` index: one shard in order), ``shard``, ``prev_hash``,
  ``hash``, ``canonical`` (the exact text the hash covers, :mod:`meshgov.audit.chain`) and plain
  copies of the fields (``action``, ``outcome``... for the console and the ``by-correlation``
  index). Readers build records from ``canonical``, so what is shown is what is hashed; the
  verifier also checks that the copies agree with it.
- the trail's metadata: ``pk = CHAIN``, ``sk = META``, with ``shards`` (N) and ``format``;
  written (conditionally: only ever with the same N) by the transaction of each shard's first
  record, so it exists as soon as any record does.
- one head per shard: ``pk = CHAIN``, ``sk = HEAD#<ss>``, with the ``seq`` and ``hash`` of the
  shard's last record. One consistent Query of ``pk = CHAIN`` reads the metadata and all heads.

Appending is optimistic, per shard: read the shard's head (consistently), then one
``TransactWriteItems`` puts the record (condition: its key is new) and the head (condition: its
``seq`` is still the one read; ``attribute_not_exists`` for the shard's first record). Two
writers racing for one shard cannot both win; the loser does not wait for the winner: it moves
to another shard (never the one it lost) and appends there, and keeps that shard for its next
records. So a writer only waits when :data:`FREE_MOVES` moves in a row lost, which takes as many
other appends winning exactly where it went; it gives up after :data:`MAX_ATTEMPTS` attempts,
a bound against a broken table (every attempt cancelled), not against busy writers: then
:class:`AuditWriteError` fails the action that needed the record.
"""

from __future__ import annotations

import heapq
import json
import random
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from meshgov.audit.chain import (
    CHAIN_PK,
    FIELDS,
    GENESIS,
    HEAD_SK,
    META_SK,
    SEQ_INDEX,
    SHARDS,
    TRAIL_FORMAT,
    chain_hash,
    chain_name,
    head_sk,
    utc_text,
)
from meshgov.audit.model import AuditEntry, AuditOutcome, AuditRecord
from meshgov.audit.verify import (
    SHARDS_MISMATCH,
    ChainHead,
    ChainRecord,
    DigestLike,
    Problem,
    Verdict,
    verify_chain,
)
from meshgov.aws.backoff import full_jitter
from meshgov.aws.session import error_code
from meshgov.errors import AuditWriteError

# Against a broken table only: with 64 shards, a writer that lost 100 times in a row saw 100
# other appends win exactly in the shards it moved to, at the moment it tried.
# The index of records by correlation id (template.yaml AuditTable).
CORRELATION_INDEX = "by-correlation"
MAX_ATTEMPTS = 100
FREE_MOVES = 4  # moves to another shard without waiting; then jittered, growing waits
BACKOFF_BASE = 0.005  # seconds: the first wait is at most this
BACKOFF_CAP = 0.25  # seconds: no wait is longer
# Why a transaction may be cancelled when another writer moved the head first.
_CONTENDED = {"ConditionalCheckFailed", "TransactionConflict", "None", ""}
_COPIED = tuple(name for name in FIELDS if name not in ("seq", "shard"))
_META_INDEX = 2  # in a shard's first transaction: record, head, metadata


@dataclass(frozen=True)
class TrailHeads:
    """The trail's own items as read together: N from its metadata (None: no metadata item)
    and the head of each shard that has one."""

    shards: int | None
    heads: dict[int, ChainHead]

    @property
    def record_count(self) -> int:
        """How many records the heads say the trail holds."""
        return sum(head.seq for head in self.heads.values())


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
        shards: int = SHARDS,
        pick: Callable[[int], int] = random.randrange,
    ) -> None:
        self._dynamodb = dynamodb
        self._table = table_name
        self._clock = clock
        self._max_attempts = max_attempts
        self._sleep = sleep
        self._jitter = jitter
        self._shards = shards
        self._pick = pick
        self._shard = pick(shards)  # this writer's shard, until it loses a race there
        self.attempts = 0  # transactions tried, over the trail's life (the bench reads it)

    def record(self, entry: AuditEntry) -> AuditRecord:
        record_id = uuid.uuid4().hex
        shard = self._shard
        for attempt in range(1, self._max_attempts + 1):
            self.attempts += 1
            head: ChainHead | None = None
            try:
                head = read_head(self._dynamodb, self._table, shard, consistent=True)
                stored = chained(record_id, self._time_after(head), entry, head, shard)
                self._dynamodb.transact_write_items(
                    TransactItems=_append(self._table, stored, head, self._shards),
                    ClientRequestToken=f"{record_id}-{attempt}",
                )
                self._shard = shard
                return stored
            except ClientError as exc:
                if head is None and _metadata_refused(exc):
                    self._adopt_trail_shards(entry, exc)
                elif not _contended(exc):
                    raise AuditWriteError(
                        f"audit record {entry.action} not written: {exc}"
                    ) from exc
            except (BotoCoreError, UnicodeError, ValueError) as exc:
                raise AuditWriteError(f"audit record {entry.action} not written: {exc}") from exc
            shard = self._another(shard)
            if FREE_MOVES < attempt < self._max_attempts:
                wait = full_jitter(attempt - FREE_MOVES, BACKOFF_BASE, BACKOFF_CAP, self._jitter)
                self._sleep(wait)
        raise AuditWriteError(
            f"audit record {entry.action} not written: every one of {self._max_attempts} "
            "attempts was cancelled, in every shard tried (is the audit table broken?)"
        )

    def _time_after(self, head: ChainHead | None) -> datetime:
        """Now, but never before the shard's last record: within a shard the trail's order
        (time, shard, seq) is the chain's. Read after the head, so a record appended later in
        the shard is never older."""
        now = self._clock().astimezone(UTC)
        if head is not None and head.recorded_at:
            last = datetime.fromisoformat(head.recorded_at)
            return max(now, last)
        return now

    def _another(self, shard: int) -> int:
        """A shard other than ``shard`` (the one just lost), at random."""
        if self._shards < 2:
            return 0
        other = self._pick(self._shards - 1)
        return other if other < shard else other + 1

    def _adopt_trail_shards(self, entry: AuditEntry, exc: ClientError) -> None:
        """The trail was made with another N than this writer's: use the trail's (its metadata
        is what verifiers read), so the next attempt goes to a shard the trail has."""
        shards = read_heads(self._dynamodb, self._table).shards
        if not shards or shards == self._shards:
            raise AuditWriteError(f"audit record {entry.action} not written: {exc}") from exc
        self._shards = shards


def chained(
    record_id: str,
    recorded_at: datetime,
    entry: AuditEntry,
    head: ChainHead | None,
    shard: int = 0,
) -> AuditRecord:
    """The record that follows ``head`` in ``shard`` (None: the shard's first record), hashed."""
    draft = AuditRecord(
        record_id=record_id,
        recorded_at=recorded_at.astimezone(UTC),
        entry=entry,
        seq=head.seq + 1 if head else 1,
        prev_hash=head.hash if head else GENESIS,
        shard=shard,
    )
    return replace(draft, hash=chain_hash(draft.prev_hash, draft.canonical()))


def _append(
    table: str, record: AuditRecord, head: ChainHead | None, shards: int
) -> list[dict[str, Any]]:
    head_item = {
        "pk": {"S": CHAIN_PK},
        "sk": {"S": head_sk(record.shard)},
        "shard": {"N": str(record.shard)},
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
    actions: list[dict[str, Any]] = [
        {
            "Put": {
                "TableName": table,
                "Item": to_item(record),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
        {"Put": move_head},
    ]
    if head is None:
        # The shard's first record: the metadata says how many shards there are, and only ever
        # this many (a verifier reads N here).
        actions.append(
            {
                "Put": {
                    "TableName": table,
                    "Item": {
                        "pk": {"S": CHAIN_PK},
                        "sk": {"S": META_SK},
                        "shards": {"N": str(shards)},
                        "format": {"N": str(TRAIL_FORMAT)},
                    },
                    "ConditionExpression": "attribute_not_exists(pk) OR #shards = :shards",
                    "ExpressionAttributeNames": {"#shards": "shards"},
                    "ExpressionAttributeValues": {":shards": {"N": str(shards)}},
                }
            }
        )
    return actions


def _reasons(exc: ClientError) -> list[str]:
    return [str(r.get("Code") or "") for r in exc.response.get("CancellationReasons") or []]


def _contended(exc: ClientError) -> bool:
    """Whether ``exc`` says another writer got there first (worth another attempt)."""
    code = error_code(exc)
    if code in {"ConditionalCheckFailedException", "TransactionConflictException"}:
        return True
    if code != "TransactionCanceledException":
        return False
    return all(reason in _CONTENDED for reason in _reasons(exc))


def _metadata_refused(exc: ClientError) -> bool:
    """Whether a shard's first transaction was cancelled because the trail's metadata states
    another N (not because another writer took the shard first)."""
    if error_code(exc) != "TransactionCanceledException":
        return False
    reasons = _reasons(exc)
    return len(reasons) > _META_INDEX and reasons[_META_INDEX] == "ConditionalCheckFailed"


def _day_pk(record: AuditRecord) -> str:
    return f"AUDIT#{record.recorded_at.astimezone(UTC).date().isoformat()}"


def _copies(fields: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The plain attributes copying the hashed fields (``-`` for an empty text: the
    ``by-correlation`` index takes no empty key); ``seq`` and ``shard`` are numbers."""
    copies = {name: {"S": str(fields[name]) or "-"} for name in _COPIED if name != "detail"}
    copies["detail"] = {"S": json.dumps(fields["detail"], sort_keys=True)}
    copies["seq"] = {"N": str(fields["seq"])}
    copies["shard"] = {"N": str(fields["shard"])}
    return copies


def to_item(record: AuditRecord) -> dict[str, Any]:
    fields = record.fields()
    return {
        "pk": {"S": _day_pk(record)},
        "sk": {"S": record.order},
        "chain": {"S": chain_name(record.shard)},
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
        shard=int(fields.get("shard", 0)),
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


def _shard_of_chain(name: str) -> int:
    """The shard a ``chain`` attribute names (-1 when it names none)."""
    prefix, _, number = name.partition("-")
    return int(number) if prefix == "shard" and number.isdigit() else -1


def chain_record(item: dict[str, Any]) -> ChainRecord:
    """What the verifier needs of a stored item; ``copy_agrees`` compares the plain attributes
    (``seq`` and ``shard`` included) with the canonical text (one JSON parse: the reading
    side's cost, not the hash loop's). Its ``shard`` is the chain it is stored in."""
    canonical = str(item.get("canonical", {}).get("S", ""))
    try:
        seq = int(item.get("seq", {}).get("N", "0"))
    except ValueError:
        seq = 0
    try:
        fields = json.loads(canonical)
        expected = _copies(fields)
        agrees = all(item.get(name) == value for name, value in expected.items() if name != "seq")
    except (ValueError, TypeError, KeyError, AttributeError):
        agrees = False
    return ChainRecord(
        seq=seq,
        prev_hash=str(item.get("prev_hash", {}).get("S", "")),
        hash=str(item.get("hash", {}).get("S", "")),
        canonical=canonical.encode("utf-8"),
        copy_agrees=agrees,
        shard=_shard_of_chain(str(item.get("chain", {}).get("S", ""))),
    )


def read_correlated(dynamodb: Any, table_name: str, correlation_id: str) -> list[AuditRecord]:
    """Every record of one correlation id (a request, an event, a sweep), from the
    ``by-correlation`` index, in the trail's order (what the console and tools look up)."""
    paginator = dynamodb.get_paginator("query")
    records: list[AuditRecord] = []
    for page in paginator.paginate(
        TableName=table_name,
        IndexName=CORRELATION_INDEX,
        KeyConditionExpression="correlation_id = :c",
        ExpressionAttributeValues={":c": {"S": correlation_id}},
    ):
        records.extend(from_item(item) for item in page.get("Items", []))
    return records


def read_day(dynamodb: Any, table_name: str, day: str) -> list[AuditRecord]:
    """Every record of one UTC day, oldest first (in the trail's order: time, shard, seq)."""
    paginator = dynamodb.get_paginator("query")
    records: list[AuditRecord] = []
    for page in paginator.paginate(
        TableName=table_name,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"AUDIT#{day}"}},
    ):
        records.extend(from_item(item) for item in page.get("Items", []))
    return records


def _head_of(item: dict[str, Any]) -> ChainHead:
    return ChainHead(
        seq=int(item["seq"]["N"]),
        hash=str(item["hash"]["S"]),
        recorded_at=str(item.get("updated_at", {}).get("S", "")),
    )


def read_head(
    dynamodb: Any, table_name: str, shard: int, *, consistent: bool = True
) -> ChainHead | None:
    """One shard's head item (None: nothing appended to it yet)."""
    item = dynamodb.get_item(
        TableName=table_name,
        Key={"pk": {"S": CHAIN_PK}, "sk": {"S": head_sk(shard)}},
        ConsistentRead=consistent,
    ).get("Item")
    return _head_of(item) if item else None


def read_heads(dynamodb: Any, table_name: str, *, consistent: bool = True) -> TrailHeads:
    """The trail's metadata and every shard's head, in one Query of ``pk = CHAIN``."""
    shards: int | None = None
    heads: dict[int, ChainHead] = {}
    paginator = dynamodb.get_paginator("query")
    for page in paginator.paginate(
        TableName=table_name,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": CHAIN_PK}},
        ConsistentRead=consistent,
    ):
        for item in page.get("Items", []):
            sk = str(item["sk"]["S"])
            if sk == META_SK:
                shards = int(item["shards"]["N"])
            elif sk.startswith(HEAD_SK) and sk[len(HEAD_SK) :].isdigit():
                heads[int(sk[len(HEAD_SK) :])] = _head_of(item)
    return TrailHeads(shards, heads)


def read_shard_items(
    dynamodb: Any, table_name: str, shard: int, from_seq: int = 1, to_seq: int | None = None
) -> Iterator[dict[str, Any]]:
    """The stored items of one shard in ``seq`` order (the ``by-seq`` index), page by page."""
    condition = "#chain = :chain AND #seq >= :from"
    values: dict[str, Any] = {":chain": {"S": chain_name(shard)}, ":from": {"N": str(from_seq)}}
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


def _shard_count(dynamodb: Any, table_name: str, shards: int | None) -> int:
    return shards if shards is not None else read_heads(dynamodb, table_name).shards or 0


def read_chain_items(
    dynamodb: Any, table_name: str, shards: int | None = None
) -> Iterator[dict[str, Any]]:
    """Every stored record item, shard after shard, each in ``seq`` order (what
    :func:`~meshgov.audit.verify.verify_chain` walks). ``shards``: N (None: the metadata's)."""
    for shard in range(_shard_count(dynamodb, table_name, shards)):
        yield from read_shard_items(dynamodb, table_name, shard)


def read_chain(dynamodb: Any, table_name: str, shards: int | None = None) -> Iterator[AuditRecord]:
    """The whole trail in its order (time, shard, seq; every shard merged), read from the
    records' canonical text."""
    per_shard: list[Iterable[AuditRecord]] = [
        (from_item(item) for item in read_shard_items(dynamodb, table_name, shard))
        for shard in range(_shard_count(dynamodb, table_name, shards))
    ]
    yield from heapq.merge(*per_shard, key=lambda record: record.order)


def verify_trail(
    dynamodb: Any, table_name: str, digests: Sequence[DigestLike] = ()
) -> tuple[Verdict, TrailHeads]:
    """Verify the whole trail of ``table_name`` (and the heads it had when verification began)
    against ``digests``. The heads are read first: records appended meanwhile are checked too.
    N is the metadata's (the digests' when the metadata item is gone: they bind N too)."""
    state = read_heads(dynamodb, table_name)
    if state.shards is None and state.heads:
        problem = Problem(
            SHARDS_MISMATCH,
            0,
            f"the trail's metadata item (pk {CHAIN_PK}, sk {META_SK}: how many shards) is gone "
            f"while {len(state.heads)} shard head(s) exist",
        )
        return Verdict(False, 0, 0, 0, problem), state
    shards = state.shards
    if shards is None:
        shards = max((d.shards for d in digests), default=0)
    records = (chain_record(item) for item in read_chain_items(dynamodb, table_name, shards))
    verdict = verify_chain(records, digests, heads=state.heads, shards=state.shards)
    return verdict, state
