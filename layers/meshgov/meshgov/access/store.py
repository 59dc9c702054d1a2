"""Access requests as stored in the central ``AccessRequestsTable`` (DynamoDB).

One item per request, keyed by ``request_id``, which is derived from the consumer account and
its client token: sending the same request twice finds the first one instead of creating a
second. Every change is a conditional write on ``version``, so two deliveries of one event (or
a decision racing the sweep) cannot both move a request: the loser re-reads and finds the
transition already made or impossible. Index ``by-state`` (``state``, ``expires_at``) lets the
sweep find what expires without scanning; ``by-consumer`` lists one account's requests.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from meshgov.access.states import RequestState, transition
from meshgov.aws.session import error_code
from meshgov.errors import MeshgovError

BY_STATE_INDEX = "by-state"
BY_CONSUMER_INDEX = "by-consumer"
CONDITION_FAILED = "ConditionalCheckFailedException"
NEVER = "9999-12-31T23:59:59+00:00"


class RequestStoreError(MeshgovError):
    """The requests table could not be read or written (transient: the event is retried)."""


class RequestConflictError(MeshgovError):
    """Someone else changed the request first (the caller re-reads and decides again)."""


def request_id_for(consumer_account: str, client_token: str) -> str:
    """Same consumer and token, same id: a retried ``Access Requested`` is one request."""
    digest = hashlib.sha256(f"{consumer_account}:{client_token}".encode()).hexdigest()
    return f"req-{digest[:24]}"


def fingerprint(content: Mapping[str, Any]) -> str:
    """What a client token stands for: reusing it for another request is refused."""
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class Coverage:
    """What a request covers in one central database: some tables, or all of them."""

    database: str
    tables: tuple[str, ...] = ()  # empty with whole=True: every table, now and later
    whole: bool = False
    columns: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "tables": list(self.tables),
            "whole": self.whole,
            "columns": list(self.columns),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Coverage:
        return cls(
            database=str(data["database"]),
            tables=tuple(data.get("tables", ())),
            whole=bool(data.get("whole", False)),
            columns=tuple(data.get("columns", ())),
        )


@dataclass(frozen=True)
class RequestRecord:
    request_id: str
    kind: str  # "consumer" (an access request) or "ownership" (a producer's own databases)
    client_token: str
    fingerprint: str
    consumer_account: str
    principal: str  # a role ARN; for ownership the producer account itself
    owner_account: str
    domain: str
    permissions: tuple[str, ...]
    resource: Mapping[str, Any] | None
    tag_expression: Mapping[str, Any] | None
    justification: str
    duration_days: int | None
    state: RequestState
    created_at: str
    updated_at: str
    version: int = 0
    coverage: tuple[Coverage, ...] = ()
    classifications: tuple[str, ...] = ()
    expires_at: str | None = None
    decided_by: str = ""
    decision_event: str = ""  # the Access Decided event that approved or denied it
    reason: str = ""
    central_grants: tuple[Mapping[str, Any], ...] = ()  # BatchGrantPermissions entries made
    link_grants: tuple[Mapping[str, Any], ...] = ()  # what the member grants its principal
    links: tuple[str, ...] = ()
    warned: bool = False
    # Per filtered table, the cells granted (meshgov.access.filters.CellSpec.as_dict): as
    # requested, then as the producer approved them; one data cells filter each once granted.
    filters: tuple[Mapping[str, Any], ...] = ()
    # (table, classification) of the covered tables asked for without a filter (the policy).
    unfiltered: tuple[tuple[str, str], ...] = ()
    reshares: int = 0  # times the grants were made again because the share was not accepted
    # Reviews (issue 14, meshgov.access.reviews): when the current (or last) review was asked
    # for, on the sweep's clock (the next is due ReviewEveryDays after it), and its deadline
    # (None once answered); how the last one ended ({"decision", "by", "at", "reason"}).
    review_requested_at: str | None = None
    review_deadline: str | None = None
    last_review: Mapping[str, str] | None = None
    # When the consumer was told the grant is unused (Access Unused); None while it is used.
    unused_warned_at: str | None = None
    history: tuple[Mapping[str, str], ...] = field(default_factory=tuple)

    @property
    def databases(self) -> tuple[str, ...]:
        return tuple(sorted({c.database for c in self.coverage}))

    def moved(
        self, target: RequestState, at: datetime, reason: str, **changes: Any
    ) -> RequestRecord:
        """The record after a transition the state machine allows (else TransitionInvalidError)."""
        state = transition(self.state, target)
        stamp = at.isoformat(timespec="seconds")
        entry = {"from": self.state.value, "to": state.value, "at": stamp, "reason": reason[:300]}
        return replace(
            self,
            state=state,
            updated_at=stamp,
            reason=reason,
            history=(*self.history, entry),
            **changes,
        )

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["state"] = self.state.value
        data["coverage"] = [c.as_dict() for c in self.coverage]
        return data


def _to_item(record: RequestRecord) -> dict[str, Any]:
    item: dict[str, Any] = {
        "request_id": {"S": record.request_id},
        "state": {"S": record.state.value},
        "consumer_account": {"S": record.consumer_account},
        "version": {"N": str(record.version)},
        "body": {"S": json.dumps(record.as_dict(), sort_keys=True, default=str)},
    }
    # Every request is in the ``by-state`` index: one without an expiry sorts after any time, so
    # "expiring before" queries never see it and "in state" queries always do.
    item["expires_at"] = {"S": record.expires_at or NEVER}
    return item


def _from_item(item: Mapping[str, Any]) -> RequestRecord:
    data = json.loads(item["body"]["S"])
    data["state"] = RequestState(data["state"])
    data["coverage"] = tuple(Coverage.from_dict(c) for c in data.get("coverage", []))
    for name in (
        "permissions",
        "classifications",
        "central_grants",
        "link_grants",
        "links",
        "filters",
    ):
        data[name] = tuple(data.get(name) or ())
    data["unfiltered"] = tuple(tuple(pair) for pair in data.get("unfiltered") or ())
    data["history"] = tuple(data.get("history") or ())
    data["version"] = int(item["version"]["N"])
    return RequestRecord(**data)


class RequestStore:
    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self._dynamodb = dynamodb
        self._table = table_name

    def get(self, request_id: str) -> RequestRecord | None:
        try:
            item = self._dynamodb.get_item(
                TableName=self._table,
                Key={"request_id": {"S": request_id}},
                ConsistentRead=True,
            ).get("Item")
        except (ClientError, BotoCoreError) as exc:
            raise RequestStoreError(f"reading request {request_id} failed: {exc}") from exc
        return _from_item(item) if item else None

    def create(self, record: RequestRecord) -> bool:
        """False if a request with that id already exists (nothing written)."""
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item=_to_item(replace(record, version=1)),
                ConditionExpression="attribute_not_exists(request_id)",
            )
        except ClientError as exc:
            if error_code(exc) == CONDITION_FAILED:
                return False
            raise RequestStoreError(f"recording {record.request_id} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise RequestStoreError(f"recording {record.request_id} failed: {exc}") from exc
        return True

    def save(self, before: RequestRecord, after: RequestRecord) -> RequestRecord:
        """Write ``after`` if the stored request is still ``before`` (same version)."""
        stored = replace(after, version=before.version + 1)
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item=_to_item(stored),
                ConditionExpression="version = :v",
                ExpressionAttributeValues={":v": {"N": str(before.version)}},
            )
        except ClientError as exc:
            if error_code(exc) == CONDITION_FAILED:
                raise RequestConflictError(f"{before.request_id} changed meanwhile") from exc
            raise RequestStoreError(f"updating {before.request_id} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise RequestStoreError(f"updating {before.request_id} failed: {exc}") from exc
        return stored

    def in_state(
        self, state: RequestState, expiring_before: str | None = None
    ) -> list[RequestRecord]:
        """Requests in ``state`` (those expiring before ``expiring_before``, when given)."""
        condition = "#s = :s"
        values: dict[str, Any] = {":s": {"S": state.value}}
        if expiring_before is not None:
            condition += " AND expires_at <= :t"
            values[":t"] = {"S": expiring_before}
        return self._query(
            IndexName=BY_STATE_INDEX,
            KeyConditionExpression=condition,
            ExpressionAttributeNames={"#s": "state"},
            ExpressionAttributeValues=values,
        )

    def of_consumer(self, consumer_account: str) -> list[RequestRecord]:
        return self._query(
            IndexName=BY_CONSUMER_INDEX,
            KeyConditionExpression="consumer_account = :c",
            ExpressionAttributeValues={":c": {"S": consumer_account}},
        )

    def all(self) -> list[RequestRecord]:
        """Every request (the CLI's ``requests`` and the posture report; not on event paths)."""
        return [
            _from_item(item)
            for page in self._pages("scan", TableName=self._table)
            for item in page.get("Items", [])
        ]

    def _query(self, **kwargs: Any) -> list[RequestRecord]:
        # Index reads are eventually consistent (projection ALL): a stale item is harmless,
        # because every change is conditional on the version read here.
        return [
            _from_item(item)
            for page in self._pages("query", TableName=self._table, **kwargs)
            for item in page.get("Items", [])
        ]

    def _pages(self, operation: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        try:
            yield from self._dynamodb.get_paginator(operation).paginate(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise RequestStoreError(f"{operation} of {self._table} failed: {exc}") from exc
