"""Approving a recorded request: the platform team's policy first (auto-approve, auto-deny),
else the owning producer is asked, and its ``Access Decided`` alone counts — approved as asked,
narrowed by filters (never widened), or denied. An approval is granted at once
(:class:`meshgov.access.granting.Granting`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from meshgov.access.core import AccessContext, Outcome, S
from meshgov.access.envelope import Envelope
from meshgov.access.filters import CellSpec, narrowed
from meshgov.access.granting import Granting
from meshgov.access.policy import Verdict
from meshgov.access.resolve import AccessRequestRefusedError
from meshgov.access.store import RequestRecord
from meshgov.access.transitions import Transitions
from meshgov.audit import AuditOutcome
from meshgov.contracts.access_events import (
    ACCESS_APPROVAL_REQUESTED,
    ACCESS_DENIED,
    AccessDecidedDetail,
    Decision,
    TableFilter,
)
from meshgov.errors import validation_reason


class Approval:
    def __init__(self, ctx: AccessContext, transitions: Transitions, granting: Granting) -> None:
        self._ctx = ctx
        self._transitions = transitions
        self._granting = granting

    def proceed(self, record: RequestRecord, correlation: str) -> Outcome:
        """Take a recorded request as far as it goes without the producer: the policy's verdict,
        else the producer asked. Also what a retry does with a request a failure stopped short
        (still REQUESTED, or PENDING_APPROVAL with the producer perhaps never asked)."""
        if record.state is S.REQUESTED:
            verdict, why = self._ctx.policy.evaluate(
                record.duration_days or 0, record.classifications, record.unfiltered
            )
            if verdict is Verdict.AUTO_DENY:
                return self.deny(record, f"policy: {why}", "meshgov:approval-policy", correlation)
            if verdict is Verdict.AUTO_APPROVE:
                record = self._transitions.move(
                    record,
                    S.APPROVED,
                    f"policy: {why}",
                    correlation,
                    decided_by="meshgov:approval-policy",
                )
                return self._granting.advance(record, correlation)
            record = self._transitions.move(record, S.PENDING_APPROVAL, why, correlation)
        if record.state in (S.APPROVED, S.GRANTED):  # finish (or repeat) the grant's news
            return self._granting.advance(record, correlation)
        if record.state is not S.PENDING_APPROVAL:
            return Outcome(record.request_id, record.state)
        tables = [f"{c.database}.{t}" for c in record.coverage for t in c.tables]
        self._transitions.send(
            record.owner_account,
            ACCESS_APPROVAL_REQUESTED,
            {
                "requestId": record.request_id,
                "consumerAccount": record.consumer_account,
                "principal": record.principal,
                "resource": record.resource,
                "tagExpression": record.tag_expression,
                "tables": tables or [f"{c.database}.*" for c in record.coverage],
                "permissions": list(record.permissions),
                "justification": record.justification,
                "durationDays": record.duration_days,
            },
            record,
        )
        return Outcome(record.request_id, record.state, events_sent=[ACCESS_APPROVAL_REQUESTED])

    def deny(
        self, record: RequestRecord, reason: str, decided_by: str, correlation: str
    ) -> Outcome:
        # Told first, recorded next: if telling fails, the retry finds the request undecided
        # and denies it again (recorded first, the retry would find it DENIED and say nothing).
        self._transitions.send(
            record.consumer_account,
            ACCESS_DENIED,
            {"requestId": record.request_id, "reason": reason, "decidedBy": decided_by},
            record,
        )
        record = self._transitions.move(
            record, S.DENIED, reason, correlation, decided_by=decided_by
        )
        return Outcome(record.request_id, record.state, events_sent=[ACCESS_DENIED])

    def decided(self, envelope: Envelope) -> Outcome:
        """``Access Decided``: only the owning producer's, only while the request waits for it
        (a redelivered approval finishes what a failure cut short)."""
        refuse = self._transitions.refuse
        try:
            detail = AccessDecidedDetail.model_validate(envelope.detail)
        except ValidationError as exc:
            return refuse(envelope, "DecisionMalformed", validation_reason(exc))
        record = self._transitions.owners_request(
            envelope, detail.request_id, "DeciderNotOwner", "decision"
        )
        if isinstance(record, Outcome):
            return record
        if record.state is not S.PENDING_APPROVAL:
            redelivered = record.decision_event == envelope.event_id
            if redelivered and record.state in (S.APPROVED, S.GRANTED):
                # finish what a failure cut short
                return self._granting.advance(record, envelope.event_id)
            return refuse(
                envelope,
                "DecisionOutOfOrder",
                f"{record.request_id} is {record.state}, not waiting for a decision",
                record.request_id,
            )
        decided_by = f"producer:{envelope.account}"
        if detail.decision is Decision.DENY:
            return self.deny(record, detail.reason, decided_by, envelope.event_id)
        changes: dict[str, Any] = {}
        if detail.filters:
            try:
                filters = self._narrowed(record, detail.filters)
            except AccessRequestRefusedError as refusal:
                return refuse(envelope, refusal.code, str(refusal), record.request_id)
            changes["filters"] = tuple(spec.as_dict() for spec in filters)
            self._ctx.auditor.record(
                "access:narrowed",
                AuditOutcome.SUCCEEDED,
                record.request_id,
                record.request_id,
                "; ".join(f"{s.database}.{s.table}: {s.text()}" for s in filters),
                requested=list(record.filters),
                approved=list(changes["filters"]),
                event_id=envelope.event_id,
            )
        record = self._transitions.move(
            record,
            S.APPROVED,
            detail.reason,
            envelope.event_id,
            decided_by=decided_by,
            decision_event=envelope.event_id,
            **changes,
        )
        return self._granting.advance(record, envelope.event_id)

    def _narrowed(
        self, record: RequestRecord, decided: Sequence[TableFilter]
    ) -> tuple[CellSpec, ...]:
        """The record's filters as the producer narrowed them (refused if any is wider)."""
        covers = [c for c in record.coverage if c.tables and not c.whole]
        if record.tag_expression is not None or len(covers) != 1 or covers[0].columns:
            raise AccessRequestRefusedError(
                "DecisionWidens",
                "only a request for named tables can be narrowed by filters: deny it and let "
                "the consumer ask for the tables by name",
            )
        (cover,) = covers
        tables = {
            str(t["Name"]).lower(): t
            for t in self._ctx.catalog.tables(cover.database)
            if str(t["Name"]).lower() in {n.lower() for n in cover.tables}
        }
        current = [CellSpec.from_dict(f) for f in record.filters]
        return narrowed(current, decided, tables, cover.database)
