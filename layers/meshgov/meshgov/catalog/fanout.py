"""The catalog sweep, fanned out (docs/adr/0022-fan-out-sweeps.md).

One invocation cannot sweep a mesh: 10,000 ``CreateTable`` calls and their audit records do not
fit in Lambda's 900 seconds, and nothing would checkpoint. So the scheduled sweep only plans:

1. the **planner** (``CatalogSweepFunction``, on the schedule) takes the sweep lease
   (:class:`meshgov.catalog.sweep_state.SweepLedger`): a sweep still running is left alone (the
   schedule firing again does not overlap it) unless it is stale - older than the lease, its
   last items lost or dead-lettered - when it is closed as abandoned (audited). It retires the
   producers whose removal is due, reads the central databases once, and queues one work item
   per registered producer;
2. a **worker** (``CatalogSweepWorkerFunction``, the ``SweepQueue``, bounded concurrency) takes
   one item per invocation: it converges its producer as the one-invocation sweep did (the
   catalog listed, its LF-Tags read in one search, each database against central's own listing
   of it) from where the item starts, until ``page_tables`` tables were written, and queues the
   rest as a continuation (a database, and the table to continue after). Unchanged tables cost
   no call: a sweep with nothing to do is one item per producer; every invocation has a bounded
   amount of work and the sweep continues where it stopped;
3. the item that finishes the sweep's last outstanding work closes it: the freshness check, the
   data locations' deregistration (only after a complete sweep) and ``sweep:completed`` with the
   summed report.

A failed item is retried by SQS and dead-lettered per item (``SweepWorkDLQ``); on its last
receive it is counted finished-as-failed first, so the sweep still closes (failed).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from meshgov.audit import Auditor, AuditOutcome
from meshgov.aws.sqs_batch import MessageFailedError, QueueMessage
from meshgov.catalog.central import CentralCatalog
from meshgov.catalog.drift import owned_by
from meshgov.catalog.naming import Producer
from meshgov.catalog.reconcile import CatalogReconciler, ReconcileReport
from meshgov.catalog.sweep_state import DONE, SweepLedger, SweepRun
from meshgov.errors import EventMalformedError, MeshgovError

PRODUCER = "producer"
# SQS SendMessageBatch takes at most 10 messages
# (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatch.html).
SEND_BATCH_MAX = 10


@dataclass(frozen=True)
class WorkItem:
    sweep_id: str
    kind: str
    account: str
    database: str = ""
    after: str | None = None
    # A producer item carries the central databases of its provenance (the planner's one read).
    owned: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """The item's marker key: one per item of a sweep (a producer, and where it starts)."""
        if not self.database:
            return f"P#{self.account}"
        return f"P#{self.account}#{self.database}#{self.after or ''}"

    @property
    def item_id(self) -> str:
        """The item's id, the same on every delivery and after a DLQ replay (SQS gives a replayed
        message a new message id): the dead-letter office's correlation id for it, and the
        correlation id of its FAILED audit records. Under its sweep's id, so a sweep's records
        are found by prefix (``meshgov audit show --request <sweep id>``)."""
        return f"{self.sweep_id}/{self.key}"

    def body(self) -> str:
        return json.dumps(
            {
                "id": self.item_id,
                "sweep": self.sweep_id,
                "kind": self.kind,
                "account": self.account,
                "database": self.database,
                "after": self.after,
                "owned": list(self.owned),
            },
            sort_keys=True,
        )

    @classmethod
    def parse(cls, body: str) -> WorkItem:
        try:
            data = json.loads(body)
            item = cls(
                sweep_id=str(data["sweep"]),
                kind=str(data["kind"]),
                account=str(data["account"]),
                database=str(data.get("database") or ""),
                after=data.get("after"),
                owned=tuple(str(n) for n in data.get("owned") or ()),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise EventMalformedError(f"not a sweep work item: {exc}") from exc
        if item.kind != PRODUCER or not item.account:
            raise EventMalformedError(f"not a sweep work item: kind {item.kind!r}")
        return item


class WorkQueue:
    """The sweep's SQS queue (``SweepQueue``)."""

    def __init__(self, sqs: Any, queue_url: str) -> None:
        self._sqs = sqs
        self._url = queue_url

    def send(self, items: Sequence[WorkItem]) -> None:
        for start in range(0, len(items), SEND_BATCH_MAX):
            batch = items[start : start + SEND_BATCH_MAX]
            try:
                response = self._sqs.send_message_batch(
                    QueueUrl=self._url,
                    Entries=[
                        {"Id": str(i), "MessageBody": it.body()} for i, it in enumerate(batch)
                    ],
                )
            except (ClientError, BotoCoreError) as exc:
                raise MeshgovError(f"queueing sweep work: {exc}") from exc
            if response.get("Failed"):
                raise MeshgovError(f"queueing sweep work failed: {response['Failed'][:3]}")


@dataclass(frozen=True)
class SweepPolicy:
    # A running sweep older than this is abandoned by the next planner (its items are lost).
    lease: timedelta = timedelta(hours=1)
    # The most tables a database item writes before it queues the rest.
    page_tables: int = 50
    # SQS's maxReceiveCount of the SweepQueue's redrive policy (template.yaml).
    max_receives: int = 3


class FanOutSweep:
    """The planner and the worker of one fan-out sweep, over the shared reconciler."""

    def __init__(
        self,
        *,
        ledger: SweepLedger,
        queue: WorkQueue,
        reconciler: CatalogReconciler,
        central: CentralCatalog,
        producers: Mapping[str, Producer],
        auditor: Auditor,
        clock: Callable[[], datetime],
        finish: Callable[[SweepRun, str], ReconcileReport],
        policy: SweepPolicy = SweepPolicy(),
        retiring: Callable[[str, datetime], bool] = lambda _a, _t: False,
    ) -> None:
        self._ledger = ledger
        self._queue = queue
        self._reconciler = reconciler
        self._central = central
        self._producers = producers
        self._auditor = auditor
        self._clock = clock
        self._finish = finish
        self._policy = policy
        self._retiring = retiring

    # --- the planner ---------------------------------------------------------------------------
    def plan(self, correlation_id: str, at: datetime) -> dict[str, Any]:
        """Start a sweep (or leave the running one alone); what was decided. ``at`` is the
        schedule's time: the lease is measured on it, as the freshness check is."""
        now = at
        current = self._ledger.current()
        if current is not None and current.state != DONE and current.sweep_id == correlation_id:
            # This very schedule again (Lambda retried the planner after it started the run,
            # perhaps before its items were sent): send them again; finished ones are skipped.
            resent = self._items(correlation_id, at)
            self._queue.send(resent)
            return {"sweep": correlation_id, "producers": len(resent), "resent": True}
        if current is not None and current.state != DONE:
            started = datetime.fromisoformat(current.started_at)
            if now - started < self._policy.lease:
                self._auditor.record(
                    "sweep:skipped",
                    AuditOutcome.SKIPPED,
                    "catalog",
                    correlation_id,
                    f"sweep {current.sweep_id} still running ({current.outstanding} work "
                    f"item(s) outstanding, started {current.started_at})",
                )
                return {"skipped": current.sweep_id, "outstanding": current.outstanding}
            if self._ledger.abandon(current, now):
                self._auditor.record(
                    "sweep:abandoned",
                    AuditOutcome.FAILED,
                    "catalog",
                    correlation_id,
                    f"sweep {current.sweep_id} ran past its lease of {self._policy.lease} with "
                    f"{current.outstanding} work item(s) outstanding (lost or dead-lettered: "
                    "meshgov dlq list); the next sweep redoes their work",
                )
        sweep_id = correlation_id
        items = self._items(sweep_id, at)
        previous = current.sweep_id if current is not None else None
        if not self._ledger.begin(sweep_id, now, at, previous, [i.key for i in items]):
            return {"skipped": "another planner started a sweep"}
        self._auditor.record(
            "sweep:planned",
            AuditOutcome.SUCCEEDED,
            "catalog",
            correlation_id,
            f"{len(items)} producer(s) queued",
            sweep=sweep_id,
        )
        self._queue.send(items)
        if not items:
            self._close(sweep_id)
        return {"sweep": sweep_id, "producers": len(items)}

    def _items(self, sweep_id: str, at: datetime) -> list[WorkItem]:
        """One work item per registered producer not being retired."""
        owned = self._owned_centrally()
        return [
            WorkItem(sweep_id, PRODUCER, account, owned=tuple(owned.get(account, ())))
            for account in sorted(self._producers)
            if not self._retiring(account, at)
        ]

    def _owned_centrally(self) -> dict[str, list[str]]:
        """Each producer's central databases (by provenance), from one read of central."""
        owned: dict[str, list[str]] = {}
        databases = self._central.databases()
        for account, producer in self._producers.items():
            owned[account] = [str(d["Name"]) for d in databases if owned_by(producer, d)]
        return owned

    # --- the worker ----------------------------------------------------------------------------
    def work(self, message: QueueMessage) -> ReconcileReport:
        """One work item: do it (idempotent: a duplicate delivery does it again harmlessly),
        queue what it found, count it finished; the last item closes the sweep."""
        item = WorkItem.parse(message.body)
        if not self._ledger.pending(item.sweep_id, item.key) and self._running(item.sweep_id):
            # A duplicate delivery within its run: the item was worked and counted already. (An
            # item replayed from the DLQ after its run closed is worked again, uncounted.)
            return ReconcileReport(noops=[f"{item.key} of {item.sweep_id} finished already"])
        try:
            report = self._do(item)
        except (MeshgovError, ClientError, BotoCoreError) as exc:
            self._auditor.record(
                f"sweep:{item.kind}",
                AuditOutcome.FAILED,
                f"{item.account}:{item.database}" if item.database else f"producer/{item.account}",
                item.item_id,
                f"{type(exc).__name__}: {exc}",
            )
            if message.receive_count >= self._policy.max_receives:
                # Its last try: counted finished (failed) so the sweep closes; the DLQ keeps it.
                failed = ReconcileReport(failed=[f"{item.key}: {exc}"])
                self._finish_item(item, failed)
            raise MessageFailedError(f"sweep item {item.key}: {exc}") from exc
        self._finish_item(item, report)
        return report

    def _running(self, sweep_id: str) -> bool:
        run = self._ledger.current()
        return run is not None and run.sweep_id == sweep_id and run.state != DONE

    def _do(self, item: WorkItem) -> ReconcileReport:
        producer = self._producers.get(item.account)
        if producer is None:
            return ReconcileReport(noops=[f"{item.account} is no longer a registered producer"])
        start = (item.database, item.after) if item.database else None
        report, cursor = self._reconciler.sweep_producer_page(
            producer, item.owned, item.sweep_id, start, self._policy.page_tables
        )
        if cursor is not None:
            database, after = cursor
            self._more(item, [WorkItem(item.sweep_id, PRODUCER, item.account, database, after)])
        return report

    def _more(self, parent: WorkItem, items: list[WorkItem]) -> None:
        """Queue ``items`` as ``parent``'s sweep's work (markers and count first: the sweep
        cannot close before they finish)."""
        if not items:
            return
        self._ledger.add(parent.sweep_id, parent.key, [i.key for i in items])
        # Sent even when an earlier delivery of the parent counted them (it may have crashed
        # before sending): a duplicate item finds its marker gone and is not worked twice.
        self._queue.send(items)

    def _finish_item(self, item: WorkItem, report: ReconcileReport) -> None:
        buckets = self._reconciler.locations_in_use()
        if self._ledger.finish_item(item.sweep_id, item.key, report, buckets):
            self._close(item.sweep_id)

    def _close(self, sweep_id: str) -> None:
        run = self._ledger.close(sweep_id, self._clock())
        if run is not None:
            self._finish(run, sweep_id)


def new_sweep_id() -> str:
    return f"sweep-{uuid.uuid4().hex[:16]}"
