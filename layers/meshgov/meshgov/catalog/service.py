"""The catalog functions' one entry point each: process a batch of queued events; sweep.

A batch is processed whole (:func:`meshgov.aws.sqs_batch.run_whole`): its events are grouped per
producer database so that N events naming one table are one reconcile of it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from meshgov.access.envelope import event_id_of
from meshgov.audit import Auditor, AuditOutcome, AuditTrail, DynamoAuditTrail
from meshgov.aws.session import AwsSessions
from meshgov.aws.sqs_batch import (
    DeadLetters,
    MessageFailedError,
    QueueMessage,
    dead_letters_for,
    park,
)
from meshgov.catalog.central import CentralCatalog
from meshgov.catalog.events_out import CatalogEventPublisher
from meshgov.catalog.ledger import SyncLedger
from meshgov.catalog.locations import DataLocations
from meshgov.catalog.messages import CatalogEvent, WorkItem, parse_event
from meshgov.catalog.naming import Producer
from meshgov.catalog.reconcile import CatalogReconciler, ReconcileReport
from meshgov.catalog.source import ProducerCatalog
from meshgov.contracts_odcs.freshness_check import FreshnessCheck
from meshgov.contracts_odcs.guard import ContractGuard
from meshgov.contracts_odcs.publication import ContractPublication, ContractPublications
from meshgov.contracts_odcs.reader import read_contract
from meshgov.contracts_odcs.store import ContractStore
from meshgov.errors import EventRejectedError, MeshgovError
from meshgov.lineage.reach import build_downstream_reach
from meshgov.quality.recorder import QualityRecorder
from meshgov.quality.results import QualityResult
from meshgov.quality.store import QualityHistory
from meshgov.registry.directory import RegisteredProducerMap, RegisteredProducers
from meshgov.registry.retirement import ProducerRetirement
from meshgov.registry.store import RegistryStore
from meshgov.settings import CatalogSettings

if TYPE_CHECKING:  # the fan-out sweep is imported where it is wired: the sync never needs it
    from meshgov.catalog.fanout import FanOutSweep
    from meshgov.catalog.sweep_state import SweepRun


class SweepIncompleteError(MeshgovError):
    """A one-invocation sweep that did not converge everything (retried by Lambda)."""


@dataclass
class BatchResult:
    """What a batch did: the failed messages (reported for retry), the parked ones, the changes."""

    failed: dict[str, str] = field(default_factory=dict)  # message id -> reason
    dead_lettered: list[str] = field(default_factory=list)
    report: ReconcileReport = field(default_factory=ReconcileReport)


class CatalogSyncService:
    def __init__(
        self,
        *,
        reconciler: CatalogReconciler,
        producers: Mapping[str, Producer],
        audit: AuditTrail,
        dead_letters: DeadLetters | None,
        actor: str,
        quality: QualityRecorder | None = None,
        contracts: ContractPublications | None = None,
        freshness: FreshnessCheck | None = None,
        retirement: ProducerRetirement | None = None,
        fanout: Callable[[CatalogSyncService], FanOutSweep] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        # The fan-out sweep (meshgov.catalog.fanout), given this service's last steps.
        self._fanout = fanout(self) if fanout is not None else None
        self._retirement = retirement
        self._contracts = contracts
        self._freshness = freshness
        self._clock = clock
        self._quality = quality
        self._reconciler = reconciler
        self._producers = producers
        self._auditor = Auditor(audit, actor)
        self._dead_letters = dead_letters

    def process(self, messages: Sequence[QueueMessage]) -> BatchResult:
        result = BatchResult()
        work: dict[tuple[str, str], WorkItem] = {}
        for message in messages:
            event = self._accept(message, result)
            if isinstance(event, QualityResult):
                self._record_quality(event, message, result)
            elif isinstance(event, ContractPublication):
                self._publish_contract(event, message, result)
            elif event is not None:
                key = (event.producer.account_id, event.database)
                work.setdefault(key, WorkItem(event.producer, event.database)).add(
                    event, message.message_id
                )
        for item in work.values():
            self._run(item, result)
        return result

    def sweep(self, correlation_id: str, now: datetime | None = None) -> ReconcileReport:
        """The whole sweep in this one invocation (a small mesh, and the benchmarks' baseline):
        retire the producers whose removal is due (:mod:`meshgov.registry.retirement`), converge
        every other registered producer, then check each contracted table's freshness SLA as of
        ``now`` (the schedule's time; :mod:`meshgov.contracts_odcs.freshness_check`)."""
        self._auditor.record("sweep:started", AuditOutcome.RECEIVED, "catalog", correlation_id)
        at = now or self._clock()
        retired = self._retire(at, correlation_id)
        report = self._reconciler.sweep(
            [p for p in self._producers.values() if not self._retiring(p, at)], correlation_id
        )
        report.failed.extend(retired)
        report.failed.extend(self._check_freshness(at, correlation_id))
        return report

    def scheduled(self, correlation_id: str, now: datetime | None = None) -> dict[str, Any]:
        """The scheduled sweep function's one call: the sweep fanned out when a sweep queue is
        wired (:meth:`plan`), else the whole sweep here (:meth:`sweep`), which raises when it is
        incomplete so that Lambda retries it and then dead-letters it (``SweepDLQ``)."""
        if self._fanout is not None:
            return self.plan(correlation_id, now)
        report = self.sweep(correlation_id, now)
        if report.failed:
            raise SweepIncompleteError(f"sweep incomplete: {report.failed[:5]}")
        return report.as_dict()

    def plan(self, correlation_id: str, now: datetime | None = None) -> dict[str, Any]:
        """The scheduled sweep, fanned out (:mod:`meshgov.catalog.fanout`): retire what is due,
        then queue one work item per producer, unless the last sweep still runs."""
        if self._fanout is None:
            raise MeshgovError("no sweep queue wired: run the sweep in one invocation")
        self._auditor.record("sweep:started", AuditOutcome.RECEIVED, "catalog", correlation_id)
        at = now or self._clock()
        retired = self._retire(at, correlation_id)
        return {**self._fanout.plan(correlation_id, at), "failed": retired}

    def work(self, messages: Sequence[QueueMessage]) -> BatchResult:
        """A fan-out sweep's work items (one per invocation, by the queue's batch size)."""
        result = BatchResult()
        if self._fanout is None:
            raise MeshgovError("no sweep queue wired")
        for message in messages:
            try:
                result.report.merge(self._fanout.work(message))
            except EventRejectedError as exc:  # not a work item: parked, never retried
                self._refuse(message, exc, result, action="sweep:item")
            except MessageFailedError as exc:
                result.failed[message.message_id] = str(exc)
        return result

    def close_fanned_out(self, run: SweepRun) -> ReconcileReport:
        """A fan-out sweep's last steps, by the item that finished its last work: the freshness
        check as of the schedule's time, then the reconciler's (data locations, the record)."""
        report = run.report()
        report.failed.extend(self._check_freshness(datetime.fromisoformat(run.at), run.sweep_id))
        return self._reconciler.close_sweep(report, run.sweep_id, in_use=run.buckets)

    def _retire(self, at: datetime, correlation_id: str) -> list[str]:
        if self._retirement is None:
            return []
        try:
            return self._retirement.run(at, correlation_id)
        except MeshgovError as exc:
            return [f"retirement: {type(exc).__name__}: {exc}"]

    def _check_freshness(self, at: datetime, correlation_id: str) -> list[str]:
        if self._freshness is None:
            return []
        try:
            return list(self._freshness.run(at, correlation_id).failed)
        except (MeshgovError, ClientError, BotoCoreError) as exc:
            return [f"freshness: {type(exc).__name__}: {exc}"]

    def _retiring(self, producer: Producer, now: datetime) -> bool:
        """A producer whose retirement is due but failed: not synced again meanwhile."""
        return self._retirement is not None and self._retirement.is_due(producer.account_id, now)

    def _publish_contract(
        self, event: ContractPublication, message: QueueMessage, result: BatchResult
    ) -> None:
        """A producer's ``Contract Published`` (:mod:`meshgov.contracts_odcs.publication`): an
        event naming what its sender does not publish is refused and parked; a contract that is
        not accepted is the guard's refusal (audited, the producer told); failures retried."""
        contracts = self._contracts

        def publish() -> None:
            if contracts is None:
                raise MeshgovError("contracts are not handled here (no ledger wired)")
            contracts.publish(event)

        target = f"{event.producer.account_id}:{event.central_database}.{event.table}"
        self._handle_one(message, result, "contract:published", target, event.event_id, publish)

    def _record_quality(
        self, event: QualityResult, message: QueueMessage, result: BatchResult
    ) -> None:
        """A producer table's quality result (:mod:`meshgov.quality.recorder`): refused ones are
        parked with their reason, failures retried as a reconcile's are."""
        quality = self._quality

        def record() -> None:
            if quality is None:
                raise MeshgovError("quality results are not recorded here (no QUALITY_TABLE_NAME)")
            quality.record(event)

        target = f"{event.producer.account_id}:{event.database}.{event.table_name}"
        self._handle_one(message, result, "quality:recorded", target, event.event_id, record)

    def _handle_one(
        self,
        message: QueueMessage,
        result: BatchResult,
        action: str,
        target: str,
        correlation: str,
        work: Callable[[], None],
    ) -> None:
        """One message's work outside the reconcile: a refusal is parked with its reason; an AWS
        or meshgov failure leaves the message to be retried, with a ``FAILED`` audit record."""
        try:
            work()
        except EventRejectedError as exc:
            self._refuse(message, exc, result)
        except (MeshgovError, ClientError, BotoCoreError) as exc:
            reason = f"{type(exc).__name__}: {exc}"
            result.failed[message.message_id] = reason
            # The failure already goes back to the queue; an audit outage shows in the logs.
            with contextlib.suppress(MeshgovError):
                self._auditor.record(action, AuditOutcome.FAILED, target, correlation, reason)

    def _accept(
        self, message: QueueMessage, result: BatchResult
    ) -> CatalogEvent | QualityResult | ContractPublication | None:
        try:
            event = parse_event(message.body, self._producers)
        except EventRejectedError as exc:
            self._refuse(message, exc, result)
            return None
        self._auditor.record(
            "event:received",
            AuditOutcome.RECEIVED,
            f"{event.producer.account_id}:{event.database}",
            event.event_id,
            event.change,
            tables=list(event.tables or ([event.table] if event.table else [])),
        )
        return event

    def _refuse(
        self,
        message: QueueMessage,
        exc: EventRejectedError,
        result: BatchResult,
        action: str = "event:received",
    ) -> None:
        """A message that can never succeed (a catalog event, or a sweep message that is no
        work item, ``action`` saying which): audited as refused and parked in the DLQ."""

        def audit() -> None:
            self._auditor.record(
                action,
                AuditOutcome.REFUSED,
                "catalog",
                event_id_of(message.body) or message.message_id,
                str(exc),
                error_code=exc.code,
                message_id=message.message_id,
            )

        try:
            park(message, exc, self._dead_letters, audit)
        except MessageFailedError as failure:
            # Could not record or park it: leave it on the queue (SQS redrive will park it).
            result.failed[message.message_id] = str(failure)
            return
        result.dead_lettered.append(message.message_id)

    def _run(self, item: WorkItem, result: BatchResult) -> None:
        correlation = item.event_ids[0]
        try:
            if item.whole_database:
                report = self._reconciler.reconcile_database(
                    item.producer, item.database, correlation
                )
                if item.partition_scopes:
                    report.merge(
                        self._reconciler.reconcile_tables(
                            item.producer,
                            item.database,
                            sorted(item.partition_scopes),
                            item.partition_scopes,
                            correlation,
                        )
                    )
            else:
                report = self._reconciler.reconcile_tables(
                    item.producer,
                    item.database,
                    sorted(item.tables),
                    item.partition_scopes,
                    correlation,
                )
            result.report.merge(report)
            if not report.changed():
                self._skipped(item, report, correlation)
        except (MeshgovError, ClientError, BotoCoreError) as exc:
            reason = f"{type(exc).__name__}: {exc}"
            for message_id in item.message_ids:
                result.failed[message_id] = reason
            # The failure already goes back to the queue; an audit outage shows in the logs.
            with contextlib.suppress(MeshgovError):
                self._auditor.record(
                    "catalog:reconcile",
                    AuditOutcome.FAILED,
                    f"{item.producer.account_id}:{item.database}",
                    correlation,
                    reason,
                    events=item.event_ids,
                )

    def _skipped(self, item: WorkItem, report: ReconcileReport, correlation: str) -> None:
        """One ``SKIPPED`` record for events that changed nothing centrally, saying why (the
        steps' reasons; ``event:received`` alone would leave an auditor guessing)."""
        reasons = list(dict.fromkeys(report.noops))
        if report.tables_unchanged:
            reasons.append(f"{report.tables_unchanged} table(s) already equal centrally")
        self._auditor.record(
            "catalog:reconcile",
            AuditOutcome.SKIPPED,
            f"{item.producer.account_id}:{item.database}",
            correlation,
            "; ".join(reasons) or "central already equals the source",
            events=item.event_ids,
            refused=report.refused or None,
        )


def build_catalog_service(
    settings: CatalogSettings,
    sessions: AwsSessions,
    actor: str,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> CatalogSyncService:
    """Wire adapters for one invocation (clients are created lazily, never at import time)."""
    registry = RegistryStore(sessions.client("dynamodb"), settings.registry_table_name)
    domains = RegisteredProducers(registry)
    audit = DynamoAuditTrail(sessions.client("dynamodb"), settings.audit_table_name, clock)

    def source_for(producer: Producer) -> ProducerCatalog:
        reader = sessions.assume(
            settings.reader_role_arn(producer.account_id), f"meshgov-{actor.rsplit(':', 1)[-1]}"
        )
        return ProducerCatalog(
            reader.client("glue"), reader.client("lakeformation"), producer.account_id
        )

    central = CentralCatalog(
        sessions.client("glue"), sessions.client("lakeformation"), settings.central_account_id
    )
    ledger = SyncLedger(sessions.client("dynamodb"), settings.ledger_table_name)
    publisher = CatalogEventPublisher(
        sessions.client("events"),
        settings.central_bus_name,
        member_bus=lambda account: settings.arns.event_bus(account, settings.member_bus_name),
    )

    def read_contract_of(producer: Producer, location: str) -> bytes:
        """A contract object, read with the producer's reader role (its contracts prefix)."""
        reader = sessions.assume(
            settings.reader_role_arn(producer.account_id), f"meshgov-{actor.rsplit(':', 1)[-1]}"
        )
        return read_contract(reader.client("s3"), location, producer.account_id)

    contract_store = ContractStore(sessions.client("dynamodb"), settings.ledger_table_name)
    downstream = build_downstream_reach(
        sessions.client("glue"),
        sessions.client("dynamodb"),
        lineage_table=settings.lineage_table_name,
        requests_table=settings.requests_table_name,
        central_account=settings.central_account_id,
        producers=domains,
        arns=settings.arns,
    )
    guard = ContractGuard(
        store=contract_store,
        read=read_contract_of,
        auditor=Auditor(audit, actor),
        publisher=publisher,
        arns=settings.arns,
        central_account=settings.central_account_id,
        clock=clock,
        downstream=downstream,
    )
    reconciler = CatalogReconciler(
        source_for=source_for,
        central=central,
        ledger=ledger,
        audit=audit,
        publisher=publisher,
        contracts=guard,
        downstream=downstream,
        arns=settings.arns,
        actor=actor,
        clock=clock,
        locations=(
            DataLocations(
                sessions.client("lakeformation"),
                settings.data_location_role_arn,
                Auditor(audit, actor),
                settings.arns,
            )
            if settings.data_location_role_arn
            else None
        ),
    )
    producer_map = RegisteredProducerMap(domains)
    retirement = ProducerRetirement(registry, reconciler, Auditor(audit, actor), domains.members)
    return CatalogSyncService(
        contracts=ContractPublications(ledger=ledger, source_for=source_for, guard=guard),
        freshness=FreshnessCheck(
            store=contract_store,
            read_central=central.table_and_partitions,
            publisher=publisher,
            auditor=Auditor(audit, actor),
            arns=settings.arns,
            central_account=settings.central_account_id,
            domains=domains,
        ),
        clock=clock,
        reconciler=reconciler,
        producers=producer_map,
        retirement=retirement,
        fanout=_fan_out(
            settings,
            sessions,
            reconciler,
            central,
            producer_map,
            Auditor(audit, actor),
            clock,
            retirement,
        ),
        audit=audit,
        dead_letters=dead_letters_for(sessions, settings.dead_letter_queue_url),
        actor=actor,
        quality=(
            QualityRecorder(
                central,
                QualityHistory(sessions.client("dynamodb"), settings.quality_table_name),
                Auditor(audit, actor),
                settings.arns,
            )
            if settings.quality_table_name
            else None
        ),
    )


def _fan_out(
    settings: CatalogSettings,
    sessions: AwsSessions,
    reconciler: CatalogReconciler,
    central: CentralCatalog,
    producers: Mapping[str, Producer],
    auditor: Auditor,
    clock: Callable[[], datetime],
    retirement: ProducerRetirement,
) -> Callable[[CatalogSyncService], FanOutSweep] | None:
    """The fan-out sweep of the functions that have a sweep queue (the planner and the
    workers: meshgov.catalog.fanout, imported here only)."""
    if not settings.sweep_queue_url:
        return None
    from meshgov.catalog.fanout import FanOutSweep, SweepPolicy, WorkQueue
    from meshgov.catalog.sweep_state import SweepLedger

    def fan_out(service: CatalogSyncService) -> FanOutSweep:
        return FanOutSweep(
            ledger=SweepLedger(sessions.client("dynamodb"), settings.ledger_table_name),
            queue=WorkQueue(sessions.client("sqs"), settings.sweep_queue_url),
            reconciler=reconciler,
            central=central,
            producers=producers,
            auditor=auditor,
            clock=clock,
            finish=lambda run, _sweep: service.close_fanned_out(run),
            policy=SweepPolicy(
                lease=timedelta(minutes=settings.sweep_lease_minutes),
                page_tables=settings.sweep_page_tables,
            ),
            retiring=retirement.is_due,
        )

    return fan_out
