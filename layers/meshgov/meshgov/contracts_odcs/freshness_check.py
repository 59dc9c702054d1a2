"""The catalog sweep's freshness check (:mod:`meshgov.contracts_odcs.freshness` decides): each
contracted table with a freshness SLA judged against the central catalog, a breach told once
(``Freshness SLA Breached`` on the central bus, for the access function to tell the consumers
holding grants, and on the producer's bus), a product on time again restored; each audited."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from meshgov.audit import Auditor, AuditOutcome
from meshgov.aws.arns import Arns
from meshgov.catalog.events_out import CatalogEventPublisher
from meshgov.contracts.data_contract_events import (
    FRESHNESS_SLA_BREACHED,
    FreshnessSlaBreachedDetail,
)
from meshgov.contracts_odcs.freshness import late_by, limit_seconds, newest_data, short_duration
from meshgov.contracts_odcs.store import ContractHead, ContractStore
from meshgov.errors import MeshgovError

ReadCentral = Callable[[str, str], tuple[dict[str, Any] | None, list[dict[str, Any]]]]


@dataclass(frozen=True)
class FreshnessReport:
    checked: int = 0
    breached: int = 0
    restored: int = 0
    failed: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "breached": self.breached,
            "restored": self.restored,
            "failed": list(self.failed),
        }


class FreshnessCheck:
    """Every contracted table with a freshness SLA, judged against the central catalog.

    Calls: one ledger Query for the heads; per table with an SLA, ``GetTable`` and, if it is
    partitioned, ``GetPartitions`` of the central copy; a conditional ``PutItem`` of the head only
    when what was seen changed (a new newest time, a breach, a restoration); ``PutEvents`` for a
    breach. All within the catalog role's grants."""

    def __init__(
        self,
        *,
        store: ContractStore,
        read_central: ReadCentral,
        publisher: CatalogEventPublisher,
        auditor: Auditor,
        arns: Arns,
        central_account: str,
        domains: Mapping[str, str],
    ) -> None:
        self._store = store
        self._read = read_central
        self._publisher = publisher
        self._auditor = auditor
        self._arns = arns
        self._central = central_account
        self._domains = domains

    def run(self, now: datetime, correlation_id: str) -> FreshnessReport:
        report = FreshnessReport()
        for head in self._contracted(self._store.heads()):
            try:
                report = self._check(head, now, correlation_id, report)
            except MeshgovError as exc:
                failure = f"freshness {head.central_database}.{head.table}: {exc}"
                report = replace(report, failed=(*report.failed, failure))
        return report

    @staticmethod
    def _contracted(heads: Iterable[ContractHead]) -> list[ContractHead]:
        return [h for h in heads if h.sla]

    def _check(
        self, head: ContractHead, now: datetime, correlation_id: str, report: FreshnessReport
    ) -> FreshnessReport:
        assert head.sla is not None  # _contracted keeps only heads with an SLA
        table, partitions = self._read(head.central_database, head.table)
        report = replace(report, checked=report.checked + 1)
        if table is None:  # not published centrally (yet, or any more): nothing to judge
            return report
        # find's freshness rule, imported here: discovery's models are no cold-start cost of
        # the catalog sweep's handler
        from meshgov.discovery.find import freshness as table_freshness

        newest = newest_data(partitions, table_freshness(table))
        late = late_by(head.sla, newest, now)
        state = dict(head.freshness or {})
        seen = {
            **state,
            "newestAt": newest.isoformat() if newest else None,
        }
        target = self._arns.glue_table(self._central, head.central_database, head.table)
        if late is not None and not state.get("breachedAt"):
            seen["breachedAt"] = now.isoformat()
            # Told first, then recorded: a failed write re-tells on the next sweep (at least
            # once) rather than keeping a breach nobody heard of.
            self._tell(head, newest, now, late, target)
            self._store.put_freshness(head, seen)
            self._auditor.record(
                "freshness:breached",
                AuditOutcome.SUCCEEDED,  # meshgov's action (detecting, telling) succeeded
                target,
                correlation_id,
                f"newest data {seen['newestAt']} older than the SLA ({head.sla['text']}) "
                f"allows: late {short_duration(late)}",
                account=head.account_id,
                contract_version=head.version,
            )
            return replace(report, breached=report.breached + 1)
        if late is None and state.get("breachedAt"):
            seen["breachedAt"] = None
            if self._store.put_freshness(head, seen):
                self._auditor.record(
                    "freshness:restored",
                    AuditOutcome.SUCCEEDED,
                    target,
                    correlation_id,
                    f"newest data {seen['newestAt']} within the SLA ({head.sla['text']}) again",
                    account=head.account_id,
                )
                return replace(report, restored=report.restored + 1)
            return report
        if seen != state:
            self._store.put_freshness(head, seen)  # a new newest time: find shows it
        return report

    def _tell(
        self,
        head: ContractHead,
        newest: datetime | None,
        now: datetime,
        late: timedelta,
        target: str,
    ) -> None:
        assert head.sla is not None  # checked by the caller
        detail = FreshnessSlaBreachedDetail.model_validate(
            {
                "centralDatabase": head.central_database,
                "table": head.table,
                "producerAccount": head.account_id,
                "domain": self._domains.get(head.account_id, ""),
                "contractId": head.contract_id,
                "contractVersion": head.version,
                "sla": head.sla["text"],
                "limitSeconds": limit_seconds(head.sla),
                "newestAt": newest.isoformat() if newest else None,
                "detectedAt": now.isoformat(),
                "lateSeconds": int(late.total_seconds()),
            }
        ).model_dump(by_alias=True)
        self._publisher.publish(FRESHNESS_SLA_BREACHED, detail, [target])
        self._publisher.tell(head.account_id, FRESHNESS_SLA_BREACHED, detail, [target])
