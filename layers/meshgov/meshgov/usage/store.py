"""Data-access usage as stored in the central ``UsageTable`` (DynamoDB), aggregated per day.

One item per (central table, principal, UTC day), never one per event:

- ``table`` (partition key): ``"<central db>.<table>"``; ``sk`` (sort key): ``"<day>#<principal>"``
  (a table's usage over days is one Query with ``BETWEEN``);
- ``principal``, ``consumer_account``, ``day``: the keys of the indexes ``by-principal``
  (``principal``, ``day``) and ``by-account`` (``consumer_account``, ``day``), which project
  the counters but not the digests (``INCLUDE``: index writes stay small);
- ``reads`` (N): GetDataAccess vendings counted; ``engines`` (SS): the ``requesterService``
  values seen; ``first_use``/``last_use`` (S, :func:`meshgov.usage.model.stamp`);
- ``digests`` (SS): :func:`meshgov.usage.model.event_digest` of every counted ``eventID``: a
  second delivery of an event is recognised and not counted again;
- ``unchecked`` (N): reads counted past the digest bound (below), which could not be checked;
- ``expires_at`` (N, the table's TTL attribute): the end of ``day`` plus the retention window,
  in epoch seconds (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TTL.html).

Writing a group (:meth:`UsageStore.record`) is one ``UpdateItem`` for up to
:data:`DIGESTS_PER_WRITE` events: ``ADD`` the reads, the digests and the engines, on condition
that none of the digests is present yet (``NOT contains(digests, :eN)`` for each) and that the set
has room. DynamoDB caps an expression at 4 KB and 300 operators or functions
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html#limits-expression-parameters):
64 digests use 192 of them and under 2 KB. When the condition fails, the old item comes back with
the error (``ReturnValuesOnConditionCheckFailure=ALL_OLD``, no second request:
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateItem.html); the
duplicates are dropped and the rest retried, a bounded number of times (concurrent writers).

``first_use``/``last_use`` are a minimum and a maximum, which an update expression cannot compute:
the write sets ``first_use = if_not_exists(first_use, :first)`` and ``last_use = :last`` and asks
for the old item (``ReturnValues=ALL_OLD``, no read capacity consumed). Events arrive mostly in
order, so that is right; when the old ``first_use`` was later than ``:first`` or the old
``last_use`` later than ``:last`` (an out-of-order batch), one corrective conditional update each
sets ``first_use = :first`` if it is still later, or puts the old ``last_use`` back if the stored
one is still earlier. Each writer only ever moves the values outward, so concurrent writers end at
the true minimum and maximum.

The digest set is bounded at :data:`MAX_DIGESTS_PER_ITEM` (16 bytes each: about 17 KB; an update
is billed on the larger of the item's sizes, so an unbounded set would make every write of a busy
principal's day dearer, and items stop at 400 KB). Reads past the bound are still counted, in
``reads`` and in ``unchecked``, without de-duplication: a redelivered event past the thousandth
read of one principal on one table in one day may be counted twice, and ``unchecked`` says how
many reads that could concern.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast

from botocore.exceptions import BotoCoreError, ClientError

from meshgov.aws.session import error_code
from meshgov.errors import MeshgovError
from meshgov.usage.model import UsageEvent, stamp

BY_PRINCIPAL_INDEX = "by-principal"
BY_ACCOUNT_INDEX = "by-account"
DEFAULT_RETENTION_DAYS = 400
MAX_DIGESTS_PER_ITEM = 1000
DIGESTS_PER_WRITE = 64
MAX_CONFLICTS = 8  # condition failures one group may meet before the write fails (retried)
CONDITION_FAILED = "ConditionalCheckFailedException"

# Every attribute name goes through ExpressionAttributeNames: TABLE, DAY, READS... are reserved.
_NAMES = {
    "#t": "table",
    "#s": "sk",
    "#p": "principal",
    "#c": "consumer_account",
    "#d": "day",
    "#r": "reads",
    "#f": "first_use",
    "#l": "last_use",
    "#e": "engines",
    "#g": "digests",
    "#u": "unchecked",
    "#x": "expires_at",
}
_SHOWN = "#t, #s, #p, #c, #d, #r, #f, #l, #e"


class UsageStoreError(MeshgovError):
    """The usage table could not be read or written (transient: the messages are retried)."""


@dataclass(frozen=True)
class UsageDay:
    """One item: a principal's use of one central table on one day."""

    table: str  # "<central db>.<table>" (central catalog)
    principal: str  # role ARN
    consumer_account: str
    day: str  # "YYYY-MM-DD" (UTC)
    reads: int  # GetDataAccess vendings counted (duplicates not counted)
    first_use: str  # ISO 8601 UTC, seconds
    last_use: str
    engines: tuple[str, ...]  # requesterService values seen, sorted


@dataclass(frozen=True)
class GroupRecorded:
    """What recording one (table, principal, day) group did."""

    key: tuple[str, str, str]
    counted: int  # reads added
    duplicates: int  # events already counted (a second delivery), not added
    unchecked: int = 0  # of ``counted``, those past the digest bound (not de-duplicated)


def sort_key(day: str, principal: str) -> str:
    return f"{day}#{principal}"


def expires_at(day: str, retention_days: int) -> int:
    """The TTL of a day's item: the end of ``day`` plus the retention window (epoch seconds)."""
    end = datetime.combine(date.fromisoformat(day), time(), UTC) + timedelta(days=1)
    return int((end + timedelta(days=retention_days)).timestamp())


def _day_of(item: Mapping[str, Any]) -> UsageDay:
    return UsageDay(
        table=item["table"]["S"],
        principal=item["principal"]["S"],
        consumer_account=item["consumer_account"]["S"],
        day=item["day"]["S"],
        reads=int(item["reads"]["N"]),
        first_use=item["first_use"]["S"],
        last_use=item["last_use"]["S"],
        engines=tuple(sorted(item.get("engines", {}).get("SS", []))),
    )


class UsageStore:
    def __init__(
        self, dynamodb: Any, table_name: str, retention_days: int = DEFAULT_RETENTION_DAYS
    ) -> None:
        self._dynamodb = dynamodb
        self._table = table_name
        self._retention_days = retention_days

    # -- reads ---------------------------------------------------------------------------------

    def of_table(self, table: str, since_day: str, until_day: str) -> list[UsageDay]:
        """Every principal's use of ``table`` from ``since_day`` to ``until_day`` (inclusive)."""
        # "#" < "$": "<until_day>$" sorts after every "<until_day>#<principal>".
        return self._query(
            KeyConditionExpression="#t = :t AND #s BETWEEN :a AND :b",
            ExpressionAttributeValues={
                ":t": {"S": table},
                ":a": {"S": f"{since_day}#"},
                ":b": {"S": f"{until_day}$"},
            },
        )

    def of_principal(self, principal: str, since_day: str, until_day: str) -> list[UsageDay]:
        """``principal``'s use of every table from ``since_day`` to ``until_day`` (inclusive)."""
        return self._query(
            IndexName=BY_PRINCIPAL_INDEX,
            KeyConditionExpression="#p = :k AND #d BETWEEN :a AND :b",
            ExpressionAttributeValues={
                ":k": {"S": principal},
                ":a": {"S": since_day},
                ":b": {"S": until_day},
            },
        )

    def of_account(self, account: str, since_day: str, until_day: str) -> list[UsageDay]:
        """Every principal of ``account`` on every table from ``since_day`` to ``until_day``."""
        return self._query(
            IndexName=BY_ACCOUNT_INDEX,
            KeyConditionExpression="#c = :k AND #d BETWEEN :a AND :b",
            ExpressionAttributeValues={
                ":k": {"S": account},
                ":a": {"S": since_day},
                ":b": {"S": until_day},
            },
        )

    def last_used(self, principal: str, since_day: str) -> dict[str, str]:
        """table -> latest last_use of ``principal`` on it since ``since_day`` (one query)."""
        latest: dict[str, str] = {}
        for page in self._pages(
            IndexName=BY_PRINCIPAL_INDEX,
            KeyConditionExpression="#p = :k AND #d >= :a",
            ExpressionAttributeNames={
                "#p": "principal",
                "#d": "day",
                "#t": "table",
                "#l": "last_use",
            },
            ExpressionAttributeValues={":k": {"S": principal}, ":a": {"S": since_day}},
            ProjectionExpression="#t, #l",
        ):
            for item in page.get("Items", []):
                table, last = item["table"]["S"], item["last_use"]["S"]
                latest[table] = max(last, latest.get(table, last))
        return latest

    def _query(self, **kwargs: Any) -> list[UsageDay]:
        # Index reads are eventually consistent: a report may miss the last seconds of usage.
        names = {k: v for k, v in _NAMES.items() if k in _SHOWN.split(", ")}
        return [
            _day_of(item)
            for page in self._pages(
                ExpressionAttributeNames=names, ProjectionExpression=_SHOWN, **kwargs
            )
            for item in page.get("Items", [])
        ]

    def _pages(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        try:
            yield from self._dynamodb.get_paginator("query").paginate(
                TableName=self._table, **kwargs
            )
        except (ClientError, BotoCoreError) as exc:
            raise UsageStoreError(f"query of {self._table} failed: {exc}") from exc

    # -- writes --------------------------------------------------------------------------------

    def record(self, events: Sequence[UsageEvent]) -> GroupRecorded:
        """Count ``events``, all of one (table, principal, day) group: one ``UpdateItem`` per
        :data:`DIGESTS_PER_WRITE` of them, more only on duplicates or out-of-order times."""
        keys = {event.key for event in events}
        if len(keys) != 1:
            raise ValueError(f"record() takes the events of one group, got {sorted(keys)}")
        (key,) = keys
        unique = list({e.digest: e for e in sorted(events, key=lambda e: e.at)}.values())
        duplicates = len(events) - len(unique)
        counted = unchecked = 0
        for start in range(0, len(unique), DIGESTS_PER_WRITE):
            added, dropped, over = self._record_chunk(unique[start : start + DIGESTS_PER_WRITE])
            counted, duplicates, unchecked = counted + added, duplicates + dropped, unchecked + over
        return GroupRecorded(key, counted, duplicates, unchecked)

    def _record_chunk(self, chunk: list[UsageEvent]) -> tuple[int, int, int]:
        """(counted, duplicates, unchecked) of one chunk."""
        duplicates = unchecked = 0
        for _ in range(MAX_CONFLICTS):
            present = self._try_add(chunk)
            if present is None:
                return len(chunk) + unchecked, duplicates, unchecked
            fresh = [event for event in chunk if event.digest not in present]
            duplicates += len(chunk) - len(fresh)
            room = max(0, MAX_DIGESTS_PER_ITEM - len(present))
            chunk, past = fresh[:room], fresh[room:]
            if past:
                self._add_unchecked(past)
                unchecked += len(past)
            if not chunk:
                return unchecked, duplicates, unchecked
        raise UsageStoreError(
            f"usage of {chunk[0].table} by {chunk[0].principal} on {chunk[0].day}: "
            f"still contended after {MAX_CONFLICTS} attempts"
        )

    def _try_add(self, chunk: Sequence[UsageEvent]) -> set[str] | None:
        """Add ``chunk`` if none of its digests is present and the set has room: None when done,
        else the digests the item holds (the condition failed)."""
        values = self._values(chunk)
        values[":g"] = {"SS": [event.digest for event in chunk]}
        values[":room"] = {"N": str(MAX_DIGESTS_PER_ITEM - len(chunk))}
        absent = []
        for index, event in enumerate(chunk):
            values[f":e{index}"] = {"S": event.digest}
            absent.append(f"NOT contains(#g, :e{index})")
        condition = f"(attribute_not_exists(#g) OR size(#g) <= :room) AND {' AND '.join(absent)}"
        try:
            response = self._update(
                chunk,
                values,
                ConditionExpression=condition,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:  # _update lets only the condition's failure through
            item = cast(dict[str, Any], exc.response).get("Item") or {}
            return set(item.get("digests", {}).get("SS", []))
        self._keep_bounds(chunk, response.get("Attributes") or {})
        return None

    def _add_unchecked(self, events: Sequence[UsageEvent]) -> None:
        """Count reads past the digest bound: ``reads`` and ``unchecked``, nothing to compare."""
        values = self._values(events)
        response = self._update(events, values, extra_add=", #u :n")
        self._keep_bounds(events, response.get("Attributes") or {})

    def _values(self, events: Sequence[UsageEvent]) -> dict[str, Any]:
        first = events[0]
        values: dict[str, Any] = {
            ":p": {"S": first.principal},
            ":c": {"S": first.consumer_account},
            ":d": {"S": first.day},
            ":x": {"N": str(expires_at(first.day, self._retention_days))},
            ":first": {"S": stamp(min(e.at for e in events))},
            ":last": {"S": stamp(max(e.at for e in events))},
            ":n": {"N": str(len(events))},
        }
        engines = sorted({e.engine for e in events if e.engine})
        if engines:
            values[":e"] = {"SS": engines}
        return values

    def _update(
        self,
        events: Sequence[UsageEvent],
        values: dict[str, Any],
        extra_add: str = "",
        **kwargs: Any,
    ) -> dict[str, Any]:
        first = events[0]
        adds = ["#r :n"]
        if ":g" in values:
            adds.append("#g :g")
        if ":e" in values:
            adds.append("#e :e")
        expression = (
            "SET #p = :p, #c = :c, #d = :d, #x = :x, #f = if_not_exists(#f, :first), #l = :last "
            f"ADD {', '.join(adds)}{extra_add}"
        )
        try:
            response: dict[str, Any] = self._dynamodb.update_item(
                TableName=self._table,
                Key={
                    "table": {"S": first.table},
                    "sk": {"S": sort_key(first.day, first.principal)},
                },
                UpdateExpression=expression,
                ExpressionAttributeNames={
                    name: attribute
                    for name, attribute in _NAMES.items()
                    if name in expression or name in kwargs.get("ConditionExpression", "")
                },
                ExpressionAttributeValues=values,
                ReturnValues="ALL_OLD",
                **kwargs,
            )
        except ClientError as exc:
            if "ConditionExpression" in kwargs and error_code(exc) == CONDITION_FAILED:
                raise
            raise self._failed(events, exc) from exc
        except BotoCoreError as exc:
            raise self._failed(events, exc) from exc
        return response

    def _keep_bounds(self, events: Sequence[UsageEvent], old: Mapping[str, Any]) -> None:
        """Correct ``first_use``/``last_use`` if this write moved them inward (out of order)."""
        first, last = stamp(min(e.at for e in events)), stamp(max(e.at for e in events))
        old_first = old.get("first_use", {}).get("S")
        old_last = old.get("last_use", {}).get("S")
        if old_first is not None and old_first > first:
            self._correct(events[0], "#f", first, "#f > :v")
        if old_last is not None and old_last > last:
            self._correct(events[0], "#l", old_last, "#l < :v")

    def _correct(self, event: UsageEvent, name: str, value: str, condition: str) -> None:
        try:
            self._dynamodb.update_item(
                TableName=self._table,
                Key={
                    "table": {"S": event.table},
                    "sk": {"S": sort_key(event.day, event.principal)},
                },
                UpdateExpression=f"SET {name} = :v",
                ConditionExpression=condition,
                ExpressionAttributeNames={name: _NAMES[name]},
                ExpressionAttributeValues={":v": {"S": value}},
            )
        except ClientError as exc:
            if error_code(exc) != CONDITION_FAILED:  # failed: someone moved it further already
                raise self._failed([event], exc) from exc
        except BotoCoreError as exc:
            raise self._failed([event], exc) from exc

    def _failed(self, events: Iterable[UsageEvent], exc: Exception) -> UsageStoreError:
        event = next(iter(events))
        return UsageStoreError(
            f"recording usage of {event.table} by {event.principal} on {event.day} "
            f"in {self._table} failed: {exc}"
        )
