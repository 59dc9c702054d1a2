"""What every part of the central access function shares: its adapters, the record's moves
through the state machine (each audited), granting, withdrawing, and telling members.

Grants are made before the record says GRANTED and revoked before it says EXPIRED or REVOKED,
and a member is told before the record moves: a failure in between leaves the record where a
retry (or the next sweep) finishes the work.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from meshgov.access.central_adapter import CentralAccessCatalog, MeshEvents
from meshgov.access.envelope import Envelope
from meshgov.access.filters import CellSpec, filter_resource, table_data
from meshgov.access.grants import central_grant_entries, link_grant_entries, still_unneeded
from meshgov.access.policy import ApprovalPolicy
from meshgov.access.reviews import UsageReader
from meshgov.access.states import HOLDS_GRANTS, RequestState
from meshgov.access.store import RequestRecord, RequestStore
from meshgov.audit import Auditor, AuditOutcome, AuditTrail
from meshgov.contracts.access_events import (
    ACCESS_DENIED,
    ACCESS_GRANTED,
    ACCESS_REVOKED,
    Permission,
    TagExpression,
)
from meshgov.contracts.glue_events import BreakingSchemaChangeDetail, DatabasePublishedDetail

S = RequestState
LIVE = frozenset({S.APPROVED, S.GRANTED, S.ACTIVE, S.UNDER_REVIEW})
CATALOG_SOURCE = "meshgov.catalog"
BREAKING_SCHEMA_CHANGE = "Breaking Schema Change"
TAG_NOT_FOUND = "EntityNotFoundException"  # SearchTablesByLFTags on a tag key never defined
# (database, table) -> the table's effective LF-Tags (its own over its database's).
TableTagsReader = Callable[[str, str], Mapping[str, Sequence[str]]]
DATABASE_PUBLISHED = "Database Published"
OWNERSHIP = "ownership"
# RAM: invitations for Glue resources expire after 12 hours.
INVITATION_LIFETIME = timedelta(hours=12)
MAX_RESHARES = 3
OWNERSHIP_PERMISSIONS = (Permission.DESCRIBE, Permission.SELECT)


CatalogDetail = TypeVar("CatalogDetail", BreakingSchemaChangeDetail, DatabasePublishedDetail)


@dataclass
class Outcome:
    """What handling one event did (for metrics and tests)."""

    request_id: str | None = None
    state: RequestState | None = None
    refused: str | None = None
    events_sent: list[str] = field(default_factory=list)


class AccessCore:
    def __init__(
        self,
        *,
        catalog: CentralAccessCatalog,
        store: RequestStore,
        events: MeshEvents,
        audit: AuditTrail,
        policy: ApprovalPolicy,
        producers: Mapping[str, str],
        actor: str,
        clock: Callable[[], datetime],
        expiry_warning: timedelta = timedelta(hours=24),
        table_tags: TableTagsReader | None = None,
        usage: UsageReader | None = None,
    ) -> None:
        self._catalog = catalog
        self._usage = usage
        self._table_tags = table_tags
        self._store = store
        self._events = events
        self._auditor = Auditor(audit, actor)
        self._audit_trail = audit
        self._policy = policy
        self._producers = dict(producers)
        self._clock = clock
        self._warning = expiry_warning
        self.central = catalog.account_id

    def _deny(
        self, record: RequestRecord, reason: str, decided_by: str, correlation: str
    ) -> Outcome:
        # Told first, recorded next: if telling fails, the retry finds the request undecided
        # and denies it again (recorded first, the retry would find it DENIED and say nothing).
        self._send(
            record.consumer_account,
            ACCESS_DENIED,
            {"requestId": record.request_id, "reason": reason, "decidedBy": decided_by},
            record,
        )
        record = self._move(record, S.DENIED, reason, correlation, decided_by=decided_by)
        return Outcome(record.request_id, record.state, events_sent=[ACCESS_DENIED])

    # --- granting ------------------------------------------------------------------------------
    def _advance(self, record: RequestRecord, correlation: str) -> Outcome:
        """APPROVED -> grants in Lake Formation -> GRANTED -> ``Access Granted`` to the consumer.

        For a GRANTED request (a redelivery after the event could not be sent) only the event
        is sent again: the member makes links and grants idempotently."""
        if record.state is S.GRANTED:
            self._send_granted(record)
            return Outcome(record.request_id, record.state, events_sent=[ACCESS_GRANTED])
        permissions = [Permission(p) for p in record.permissions]
        expression = (
            TagExpression.model_validate(record.tag_expression)
            if record.tag_expression is not None
            else None
        )
        filtered = self._make_filters(record)
        entries = central_grant_entries(
            self.central,
            record.consumer_account,
            record.coverage,
            permissions,
            expression,
            filtered,
        )
        links = (
            []
            if record.kind == OWNERSHIP
            else link_grant_entries(
                self.central, record.principal, record.coverage, permissions, filtered
            )
        )
        self._catalog.grant(entries)
        self._auditor.record(
            "lakeformation:BatchGrantPermissions",
            AuditOutcome.SUCCEEDED,
            record.consumer_account,
            record.request_id,
            f"{len(entries)} grants with grant option to {record.consumer_account}",
            entries=entries,
        )
        now = self._clock()
        expires = (
            (now + timedelta(days=record.duration_days)).isoformat(timespec="seconds")
            if record.duration_days
            else None
        )
        record = self._move(
            record,
            S.GRANTED,
            "grants made",
            correlation,
            central_grants=tuple(entries),
            link_grants=tuple(links),
            links=record.databases,
            expires_at=expires,
        )
        self._send_granted(record)
        return Outcome(record.request_id, record.state, events_sent=[ACCESS_GRANTED])

    def _make_filters(self, record: RequestRecord) -> dict[tuple[str, str], dict[str, Any]]:
        """The request's data cells filters, made (or found made) before anything is granted
        on them; the ``DataCellsFilter`` resource of each, by (database, table)."""
        filtered: dict[tuple[str, str], dict[str, Any]] = {}
        for spec, data in self._filters_of(record):
            made = self._catalog.ensure_filter(data)
            self._audit_filter(
                record,
                spec,
                "lakeformation:CreateDataCellsFilter",
                made,
                f"filter {data['Name']}: {spec.text()}"
                + ("" if made else " (it existed: updated to this definition)"),
                table_data=data,
            )
            filtered[(spec.database, spec.table)] = filter_resource(
                self.central, record.request_id, spec
            )
        return filtered

    def _delete_filters(self, record: RequestRecord) -> None:
        """The request's filters, once nothing is granted on them any more (they are its own:
        no other request needs them)."""
        for spec, data in self._filters_of(record):
            deleted = self._catalog.delete_filter(data)
            self._audit_filter(
                record,
                spec,
                "lakeformation:DeleteDataCellsFilter",
                deleted,
                f"filter {data['Name']}" + ("" if deleted else " was not there"),
            )

    def _filters_of(self, record: RequestRecord) -> list[tuple[CellSpec, dict[str, Any]]]:
        """Each filter of the request, with the ``TableData`` Lake Formation holds it as."""
        specs = [CellSpec.from_dict(f) for f in record.filters]
        return [(spec, table_data(self.central, record.request_id, spec)) for spec in specs]

    def _audit_filter(
        self,
        record: RequestRecord,
        spec: CellSpec,
        action: str,
        done: bool,
        reason: str,
        **detail: Any,
    ) -> None:
        self._auditor.record(
            action,
            AuditOutcome.SUCCEEDED if done else AuditOutcome.SKIPPED,
            f"{spec.database}.{spec.table}",
            record.request_id,
            reason,
            **detail,
        )

    def _send_granted(self, record: RequestRecord) -> None:
        self._send(
            record.consumer_account,
            ACCESS_GRANTED,
            {
                "requestId": record.request_id,
                "consumerAccount": record.consumer_account,
                "principal": None if record.kind == OWNERSHIP else record.principal,
                "centralAccount": self.central,
                "resource": record.resource,
                "tagExpression": record.tag_expression,
                "permissions": list(record.permissions),
                "expiresAt": record.expires_at,
                "links": list(record.links),
                "grants": list(record.link_grants),
                "dataCellsFilters": [data for _, data in self._filters_of(record)],
            },
            record,
        )

    def withdraw(
        self,
        record: RequestRecord,
        target: RequestState,
        reason: str,
        correlation: str,
        **changes: Any,
    ) -> RequestRecord:
        """Revoke what only this request explains, then record it (with ``changes``) and tell
        the consumer."""
        others = self._others(record)
        central = still_unneeded(
            record.central_grants, [g for r in others for g in r.central_grants]
        )
        links, remove_links = self._consumer_undo(record, others)
        if central:
            self._catalog.revoke(central)
        self._auditor.record(
            "lakeformation:BatchRevokePermissions",
            AuditOutcome.SUCCEEDED if central else AuditOutcome.SKIPPED,
            record.consumer_account,
            record.request_id,
            f"{len(central)} grants revoked"
            + ("" if central else ": other live requests still explain them all"),
            entries=central,
        )
        self._delete_filters(record)
        # Told first, recorded next: if telling fails, the retry (or the next sweep) finds the
        # request still live and withdraws it again; recorded first, nothing would ever tell the
        # consumer to remove its links and grants.
        self._send_revoked(record, reason, links, remove_links)
        return self._move(record, target, reason, correlation, **changes)

    def _others(self, record: RequestRecord) -> list[RequestRecord]:
        """The consumer's other requests that hold grants (they explain grants too)."""
        return [
            r
            for r in self._store.of_consumer(record.consumer_account)
            if r.request_id != record.request_id and r.state in HOLDS_GRANTS
        ]

    @staticmethod
    def _consumer_undo(
        record: RequestRecord, others: list[RequestRecord]
    ) -> tuple[list[dict[str, Any]], list[str]]:
        """The member's grants and links only ``record`` explains."""
        links = still_unneeded(record.link_grants, [g for r in others for g in r.link_grants])
        kept_links = {db for r in others for db in r.links}
        return links, [db for db in record.links if db not in kept_links]

    def _send_revoked(
        self,
        record: RequestRecord,
        reason: str,
        links: list[dict[str, Any]],
        remove_links: list[str],
    ) -> None:
        self._send(
            record.consumer_account,
            ACCESS_REVOKED,
            {
                "requestId": record.request_id,
                "reason": reason,
                "consumerAccount": record.consumer_account,
                "centralAccount": self.central,
                "removeLinks": remove_links,
                "revoke": links,
            },
            record,
        )

    # --- helpers -------------------------------------------------------------------------------
    def _move(
        self,
        record: RequestRecord,
        target: RequestState,
        reason: str,
        correlation: str,
        **changes: Any,
    ) -> RequestRecord:
        after = record.moved(target, self._clock(), reason, **changes)
        stored = self._store.save(record, after)
        self._audit_transition(stored, record.state, reason, correlation)
        return stored

    def _audit_transition(
        self, record: RequestRecord, before: RequestState | None, reason: str, correlation: str
    ) -> None:
        self._auditor.record(
            "access:transition",
            AuditOutcome.SUCCEEDED,
            record.request_id,
            record.request_id,
            reason,
            from_state=before.value if before else None,
            to_state=record.state.value,
            consumer=record.consumer_account,
            owner=record.owner_account,
            principal=record.principal,
            event_id=correlation,
        )

    def _refuse(
        self, envelope: Envelope, code: str, message: str, request_id: str | None = None
    ) -> Outcome:
        self._auditor.record(
            f"access:{envelope.detail_type.lower().replace(' ', '-')}",
            AuditOutcome.REFUSED,
            request_id or envelope.account,
            request_id or envelope.event_id,
            message,
            error_code=code,
            sender=envelope.account,
            event_id=envelope.event_id,
        )
        return Outcome(request_id, refused=code)

    def _send(
        self, account: str, detail_type: str, detail: Mapping[str, Any], record: RequestRecord
    ) -> None:
        self._events.send(account, detail_type, detail, [])
        self._auditor.record(
            "events:PutEvents",
            AuditOutcome.SUCCEEDED,
            self._events.bus_arn(account),
            record.request_id,
            detail_type,
        )
