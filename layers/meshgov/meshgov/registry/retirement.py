"""The catalog sweep's retirement of producers whose removal's grace period has ended: their
products unpublished (dropping a central database is what makes the access sweep revoke the
grants on it), then the member forgotten (docs/adr/0020-member-registry.md)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from meshgov.audit import Auditor, AuditOutcome
from meshgov.catalog.naming import Producer
from meshgov.catalog.reconcile import CatalogReconciler
from meshgov.registry.store import Member, MemberState, RegistryStore, member_target


class ProducerRetirement:
    """The catalog sweep's step for producers whose removal's grace period has ended."""

    def __init__(
        self,
        store: RegistryStore,
        reconciler: CatalogReconciler,
        auditor: Auditor,
        members: Callable[[], list[Member]],
    ) -> None:
        self._store = store
        self._reconciler = reconciler
        self._auditor = auditor
        self._members = members

    def is_due(self, account: str, now: datetime) -> bool:
        """Whether ``account``'s retirement is due: the sweep no longer syncs it."""
        return any(m.account == account and _due(m, now) for m in self._members())

    def run(self, now: datetime, correlation_id: str) -> list[str]:
        """Retire each due producer; what failed (retried by the next sweep: retiring is
        idempotent, and the member is forgotten only once its products are gone)."""
        failed: list[str] = []
        for member in self._members():
            if not _due(member, now):
                continue
            assert member.domain is not None  # producers are registered with one
            report = self._reconciler.retire(
                Producer(member.account, member.domain),
                correlation_id,
                "the producer was removed from the mesh",
            )
            if report.failed:
                failed.extend(f"retire {member.account}: {f}" for f in report.failed)
                continue
            self._store.delete(member)
            self._auditor.record(
                "registry:retire",
                AuditOutcome.SUCCEEDED,
                member_target(member.account),
                correlation_id,
                f"producer {member.domain} retired: {report.databases_deleted} central "
                "database(s) unpublished",
                domain=member.domain,
            )
        return failed


def _due(member: Member, now: datetime) -> bool:
    return (
        member.is_producer
        and member.state is MemberState.REMOVING
        and member.remove_after is not None
        and datetime.fromisoformat(member.remove_after) <= now
    )
