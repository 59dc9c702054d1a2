"""Withdrawing a request's access: revoke the grants only it explains, delete its filters, tell
the consumer what to undo, then record the end (EXPIRED, REVOKED, FAILED). Every ending goes
through :meth:`Withdrawal.withdraw` — expiry, unpublishing, reviews, unused grants, unaccepted
shares, and ``Access Revoke Requested`` (handled here too)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from meshgov.access.core import LIVE, AccessContext, Outcome, S
from meshgov.access.envelope import Envelope
from meshgov.access.grants import still_unneeded
from meshgov.access.request_filters import RequestFilters
from meshgov.access.states import HOLDS_GRANTS, RequestState
from meshgov.access.store import RequestRecord
from meshgov.access.transitions import Transitions
from meshgov.audit import AuditOutcome
from meshgov.contracts.access_events import ACCESS_REVOKED, AccessRevokeRequestedDetail
from meshgov.errors import validation_reason


class Withdrawal:
    def __init__(
        self, ctx: AccessContext, transitions: Transitions, filters: RequestFilters
    ) -> None:
        self._ctx = ctx
        self._transitions = transitions
        self._filters = filters

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
        ctx = self._ctx
        others = self.others(record)
        central = still_unneeded(
            record.central_grants, [g for r in others for g in r.central_grants]
        )
        links, remove_links = self.consumer_undo(record, others)
        if central:
            ctx.catalog.revoke(central)
        ctx.auditor.record(
            "lakeformation:BatchRevokePermissions",
            AuditOutcome.SUCCEEDED if central else AuditOutcome.SKIPPED,
            record.consumer_account,
            record.request_id,
            f"{len(central)} grants revoked"
            + ("" if central else ": other live requests still explain them all"),
            entries=central,
        )
        self._filters.delete(record)
        # Told first, recorded next: if telling fails, the retry (or the next sweep) finds the
        # request still live and withdraws it again; recorded first, nothing would ever tell the
        # consumer to remove its links and grants.
        self.send_revoked(record, reason, links, remove_links)
        return self._transitions.move(record, target, reason, correlation, **changes)

    def others(self, record: RequestRecord) -> list[RequestRecord]:
        """The consumer's other requests that hold grants (they explain grants too)."""
        return [
            r
            for r in self._ctx.store.of_consumer(record.consumer_account)
            if r.request_id != record.request_id and r.state in HOLDS_GRANTS
        ]

    @staticmethod
    def consumer_undo(
        record: RequestRecord, others: list[RequestRecord]
    ) -> tuple[list[dict[str, Any]], list[str]]:
        """The member's grants and links only ``record`` explains."""
        links = still_unneeded(record.link_grants, [g for r in others for g in r.link_grants])
        kept_links = {db for r in others for db in r.links}
        return links, [db for db in record.links if db not in kept_links]

    def send_revoked(
        self,
        record: RequestRecord,
        reason: str,
        links: list[dict[str, Any]],
        remove_links: list[str],
    ) -> None:
        """``Access Revoked``: the grants and links the consumer removes."""
        self._transitions.send(
            record.consumer_account,
            ACCESS_REVOKED,
            {
                "requestId": record.request_id,
                "reason": reason,
                "consumerAccount": record.consumer_account,
                "centralAccount": self._ctx.central,
                "removeLinks": remove_links,
                "revoke": links,
            },
            record,
        )

    def revoke_requested(self, envelope: Envelope) -> Outcome:
        """``Access Revoke Requested``: the consumer or the owning producer ends a live request;
        anyone else, or a request not live, is refused (audited, nothing changed)."""
        refuse = self._transitions.refuse
        try:
            detail = AccessRevokeRequestedDetail.model_validate(envelope.detail)
        except ValidationError as exc:
            return refuse(envelope, "RevocationMalformed", validation_reason(exc))
        record = self._ctx.store.get(detail.request_id)
        if record is None:
            return refuse(envelope, "RequestUnknown", f"no request {detail.request_id}")
        if envelope.account not in (record.consumer_account, record.owner_account):
            return refuse(
                envelope,
                "RevokerUnrelated",
                f"account {envelope.account} is neither consumer nor owner of {record.request_id}",
                record.request_id,
            )
        if record.state not in LIVE:
            return refuse(
                envelope,
                "RevocationOutOfOrder",
                f"{record.request_id} is {record.state}: nothing to revoke",
                record.request_id,
            )
        who = "consumer" if envelope.account == record.consumer_account else "producer"
        record = self.withdraw(
            record,
            S.REVOKED,
            f"revoked on request of the {who}: {detail.reason}",
            envelope.event_id,
        )
        return Outcome(record.request_id, record.state, events_sent=[ACCESS_REVOKED])
