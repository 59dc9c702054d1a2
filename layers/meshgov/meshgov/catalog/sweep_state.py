"""A fan-out sweep's bookkeeping in the sync ledger table (docs/adr/0022-fan-out-sweeps.md).

- ``pk = SWEEP`` / ``sk = CURRENT``: the sweep that runs or ran last - its id, when it started,
  the schedule's time (the freshness check's "now"), ``state`` (``RUNNING`` / ``DONE``),
  ``outstanding`` (work items not finished yet), the report's counters (``ADD``-ed by each item)
  and the failures (appended). A new sweep starts only over a ``DONE`` one or a stale one: the
  planner's conditional put is the lease.
- ``pk = SWEEP#<id>`` / ``sk = <item key>``: one marker per work item not finished yet. An item
  finishes once: deleting its marker (condition: it exists) and counting it down are one
  transaction, so a duplicate SQS delivery does the (idempotent) work again but never counts
  twice, and ``outstanding`` reaches 0 exactly when every item has finished.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from meshgov.aws.session import error_code
from meshgov.catalog.reconcile import ReconcileReport
from meshgov.errors import CatalogWriteError

SWEEP_PK, CURRENT = "SWEEP", "CURRENT"
RUNNING, DONE = "RUNNING", "DONE"
# The report's counters, kept as numbers on the CURRENT item.
COUNTERS = tuple(name for name, value in vars(ReconcileReport()).items() if isinstance(value, int))
# A sweep's failures kept on its item (the audit trail has each one in full).
MAX_FAILURES_KEPT = 50
# DynamoDB's BatchWriteItem takes at most 25 requests
# (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html).
BATCH_WRITE_MAX = 25
# TransactWriteItems takes at most 100 actions: a parent's check, 98 markers, the count
# (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html).
TRANSACTION_KEYS = 98


@dataclass(frozen=True)
class SweepRun:
    sweep_id: str
    state: str
    started_at: str
    at: str
    outstanding: int
    counters: dict[str, int] = field(default_factory=dict)
    failed: tuple[str, ...] = ()
    # The data locations (bucket ARNs) its items' published tables use, for the last step's
    # deregistration (meshgov.catalog.locations): no item alone saw them all.
    buckets: frozenset[str] = frozenset()

    def report(self) -> ReconcileReport:
        """The sweep's report, summed over its work items."""
        report = ReconcileReport()
        for name, value in self.counters.items():
            setattr(report, name, value)
        report.failed = list(self.failed)
        return report


class SweepLedger:
    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self._ddb = dynamodb
        self._table = table_name

    def current(self) -> SweepRun | None:
        try:
            item = self._ddb.get_item(
                TableName=self._table, Key=_current_key(), ConsistentRead=True
            ).get("Item")
        except (ClientError, BotoCoreError) as exc:
            raise CatalogWriteError(f"reading the sweep state: {exc}") from exc
        return _run(item) if item else None

    def begin(
        self, sweep_id: str, started: datetime, at: datetime, previous: str | None, keys: list[str]
    ) -> bool:
        """Start sweep ``sweep_id`` over ``previous`` (the run read before, None: no run yet)
        with one marker per key; False when another planner started one meanwhile."""
        condition = "attribute_not_exists(pk)" if previous is None else "sweep_id = :previous"
        values = {":previous": {"S": previous}} if previous is not None else None
        self._put_markers(sweep_id, keys)
        try:
            self._ddb.put_item(
                TableName=self._table,
                Item={
                    **_current_key(),
                    "sweep_id": {"S": sweep_id},
                    "state": {"S": RUNNING},
                    "started_at": {"S": started.isoformat()},
                    "at": {"S": at.isoformat()},
                    "outstanding": {"N": str(len(keys))},
                    **{name: {"N": "0"} for name in COUNTERS},
                },
                ConditionExpression=condition,
                **({"ExpressionAttributeValues": values} if values else {}),
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise CatalogWriteError(f"starting sweep {sweep_id}: {exc}") from exc
        return True

    def pending(self, sweep_id: str, key: str) -> bool:
        """Whether item ``key`` of sweep ``sweep_id`` is still to finish (a duplicate delivery
        of a finished item is not worked again)."""
        try:
            item = self._ddb.get_item(
                TableName=self._table, Key=_marker_key(sweep_id, key), ConsistentRead=True
            ).get("Item")
        except (ClientError, BotoCoreError) as exc:
            raise CatalogWriteError(f"reading the sweep state: {exc}") from exc
        return item is not None

    def add(self, sweep_id: str, parent: str, keys: list[str]) -> None:
        """More work for the running sweep, found by item ``parent`` before it finishes (so
        ``outstanding`` cannot reach 0 in between). Each chunk is one transaction: the parent
        still pending, each new marker new, the count raised by as many - so a duplicate
        delivery of ``parent``, or its retry after a crash, never counts work twice."""
        for start in range(0, len(keys), TRANSACTION_KEYS):
            chunk = keys[start : start + TRANSACTION_KEYS]
            try:
                self._ddb.transact_write_items(
                    TransactItems=[
                        {
                            "ConditionCheck": {
                                "TableName": self._table,
                                "Key": _marker_key(sweep_id, parent),
                                "ConditionExpression": "attribute_exists(pk)",
                            }
                        },
                        *(
                            {
                                "Put": {
                                    "TableName": self._table,
                                    "Item": _marker_key(sweep_id, key),
                                    "ConditionExpression": "attribute_not_exists(pk)",
                                }
                            }
                            for key in chunk
                        ),
                        {
                            "Update": {
                                "TableName": self._table,
                                "Key": _current_key(),
                                "UpdateExpression": "ADD outstanding :n",
                                "ConditionExpression": "sweep_id = :id",
                                "ExpressionAttributeValues": {
                                    ":n": {"N": str(len(chunk))},
                                    ":id": {"S": sweep_id},
                                },
                            }
                        },
                    ]
                )
            except ClientError as exc:
                if error_code(exc) == "TransactionCanceledException":
                    continue  # added by an earlier delivery, or the parent finished already
                raise CatalogWriteError(f"adding work to sweep {sweep_id}: {exc}") from exc
            except BotoCoreError as exc:
                raise CatalogWriteError(f"adding work to sweep {sweep_id}: {exc}") from exc

    def finish_item(
        self,
        sweep_id: str,
        key: str,
        report: ReconcileReport,
        buckets: Collection[str] = (),
    ) -> bool:
        """Count one item finished, with its report and the buckets its tables use; False when
        it had finished already (a duplicate delivery) or its sweep is no longer the current
        one."""
        counts = {name: getattr(report, name) for name in COUNTERS if getattr(report, name)}
        update = "ADD outstanding :minus" + "".join(f", {n} :{n}" for n in counts)
        values: dict[str, Any] = {
            ":minus": {"N": "-1"},
            ":id": {"S": sweep_id},
            **{f":{n}": {"N": str(v)} for n, v in counts.items()},
        }
        if buckets:  # a string set: ADD keeps each once
            update += ", buckets :buckets"
            values[":buckets"] = {"SS": sorted(buckets)}
        if report.failed:
            update = "SET failed = list_append(if_not_exists(failed, :none), :failed) " + update
            values[":none"] = {"L": []}
            values[":failed"] = {"L": [{"S": f[:500]} for f in report.failed[:5]]}
        try:
            self._ddb.transact_write_items(
                TransactItems=[
                    {
                        "Delete": {
                            "TableName": self._table,
                            "Key": _marker_key(sweep_id, key),
                            "ConditionExpression": "attribute_exists(pk)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": _current_key(),
                            "UpdateExpression": update,
                            "ConditionExpression": "sweep_id = :id",
                            "ExpressionAttributeValues": values,
                        }
                    },
                ]
            )
        except ClientError as exc:
            if error_code(exc) == "TransactionCanceledException":
                return False
            raise CatalogWriteError(f"finishing {key} of sweep {sweep_id}: {exc}") from exc
        except BotoCoreError as exc:
            raise CatalogWriteError(f"finishing {key} of sweep {sweep_id}: {exc}") from exc
        return True

    def close(self, sweep_id: str, finished: datetime) -> SweepRun | None:
        """Mark sweep ``sweep_id`` DONE when nothing is outstanding: the one caller that wins
        gets the run (and runs the sweep's last steps); None for every other."""
        return self._done(sweep_id, finished, "AND outstanding <= :zero", {":zero": {"N": "0"}})

    def abandon(self, run: SweepRun, finished: datetime) -> bool:
        """A stale run (its items lost or dead-lettered) closed so the next can start, and the
        markers of its unfinished items deleted: nothing will finish them (a late delivery of
        one finds its marker gone and does nothing; the next sweep redoes the work)."""
        if self._done(run.sweep_id, finished) is None:
            return False
        self._delete_markers(run.sweep_id)
        return True

    def markers(self, sweep_id: str) -> list[str]:
        """The keys of sweep ``sweep_id``'s items not finished yet (every page)."""
        try:
            pages = self._ddb.get_paginator("query").paginate(
                TableName=self._table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": f"SWEEP#{sweep_id}"}},
                ProjectionExpression="sk",
                ConsistentRead=True,
            )
            return [item["sk"]["S"] for page in pages for item in page.get("Items", [])]
        except (ClientError, BotoCoreError) as exc:
            raise CatalogWriteError(f"reading the work of sweep {sweep_id}: {exc}") from exc

    def _delete_markers(self, sweep_id: str) -> None:
        requests = [
            {"DeleteRequest": {"Key": _marker_key(sweep_id, key)}} for key in self.markers(sweep_id)
        ]
        self._batch_write(requests, f"deleting the work of abandoned sweep {sweep_id}")

    def _done(
        self,
        sweep_id: str,
        finished: datetime,
        also: str = "",
        values: dict[str, Any] | None = None,
    ) -> SweepRun | None:
        """The run ``sweep_id`` marked DONE if it is still RUNNING (and ``also`` holds); the
        run as stored then, or None when the condition failed (another caller won)."""
        try:
            item = self._ddb.update_item(
                TableName=self._table,
                Key=_current_key(),
                UpdateExpression="SET #s = :done, finished_at = :at",
                ConditionExpression=f"sweep_id = :id AND #s = :running {also}".strip(),
                ExpressionAttributeNames={"#s": "state"},
                ExpressionAttributeValues={
                    ":done": {"S": DONE},
                    ":running": {"S": RUNNING},
                    ":id": {"S": sweep_id},
                    ":at": {"S": finished.isoformat()},
                    **(values or {}),
                },
                ReturnValues="ALL_NEW",
            )["Attributes"]
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return None
            raise CatalogWriteError(f"closing sweep {sweep_id}: {exc}") from exc
        return _run(item)

    def _put_markers(self, sweep_id: str, keys: list[str]) -> None:
        requests = [{"PutRequest": {"Item": _marker_key(sweep_id, key)}} for key in keys]
        self._batch_write(requests, f"recording the work of sweep {sweep_id}")

    def _batch_write(self, requests: list[dict[str, Any]], doing: str) -> None:
        """``requests`` in batches of :data:`BATCH_WRITE_MAX`, unprocessed ones sent again."""
        try:
            for start in range(0, len(requests), BATCH_WRITE_MAX):
                pending: dict[str, Any] = {self._table: requests[start : start + BATCH_WRITE_MAX]}
                while pending:
                    pending = (
                        self._ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems")
                        or {}
                    )
        except (ClientError, BotoCoreError) as exc:
            raise CatalogWriteError(f"{doing}: {exc}") from exc


def _current_key() -> dict[str, Any]:
    return {"pk": {"S": SWEEP_PK}, "sk": {"S": CURRENT}}


def _marker_key(sweep_id: str, key: str) -> dict[str, Any]:
    return {"pk": {"S": f"SWEEP#{sweep_id}"}, "sk": {"S": key}}


def _run(item: dict[str, Any]) -> SweepRun:
    return SweepRun(
        sweep_id=item["sweep_id"]["S"],
        state=item["state"]["S"],
        started_at=item["started_at"]["S"],
        at=item["at"]["S"],
        outstanding=int(item["outstanding"]["N"]),
        counters={n: int(item[n]["N"]) for n in COUNTERS if n in item},
        failed=tuple(f["S"] for f in item.get("failed", {}).get("L", [])[:MAX_FAILURES_KEPT]),
        buckets=frozenset(item.get("buckets", {}).get("SS", [])),
    )
