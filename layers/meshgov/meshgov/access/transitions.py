"""Moving a request through its state machine, refusing an event, telling a member: each one
audited, in one place, so every collaborator records them the same way."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from meshgov.access.core import AccessContext, Outcome
from meshgov.access.envelope import Envelope
from meshgov.access.states import RequestState
from meshgov.access.store import RequestRecord
from meshgov.audit import AuditOutcome


class Transitions:
    def __init__(self, ctx: AccessContext) -> None:
        self._ctx = ctx

    def move(
        self,
        record: RequestRecord,
        target: RequestState,
        reason: str,
        correlation: str,
        **changes: Any,
    ) -> RequestRecord:
        """Save the record in ``target`` (with ``changes``) if nobody moved it meanwhile
        (else RequestConflictError), and audit the transition."""
        after = record.moved(target, self._ctx.clock(), reason, **changes)
        stored = self._ctx.store.save(record, after)
        self.audit_transition(stored, record.state, reason, correlation)
        return stored

    def audit_transition(
        self, record: RequestRecord, before: RequestState | None, reason: str, correlation: str
    ) -> None:
        """One ``access:transition`` record (``before`` None: the request was just recorded)."""
        self._ctx.auditor.record(
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

    def owners_request(
        self, envelope: Envelope, request_id: str, not_owner_code: str, what: str
    ) -> RequestRecord | Outcome:
        """The request an owning producer's answer (a decision, a review) is about — or the
        refusal when there is no such request (``RequestUnknown``) or the sender does not own its
        data (``not_owner_code``): only the owner answers for its data."""
        record = self._ctx.store.get(request_id)
        if record is None:
            return self.refuse(envelope, "RequestUnknown", f"no request {request_id}")
        if envelope.account != record.owner_account:
            return self.refuse(
                envelope,
                not_owner_code,
                f"account {envelope.account} does not own {record.domain} data of "
                f"{record.request_id} (owner {record.owner_account}): {what} ignored",
                record.request_id,
            )
        return record

    def refuse(
        self, envelope: Envelope, code: str, message: str, request_id: str | None = None
    ) -> Outcome:
        """An event that changes nothing (malformed, from the wrong account, out of order):
        audited with its code, nothing moved."""
        self._ctx.auditor.record(
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

    def send(
        self, account: str, detail_type: str, detail: Mapping[str, Any], record: RequestRecord
    ) -> None:
        """Put a ``meshgov.access`` event on ``account``'s bus, and audit it."""
        events = self._ctx.events
        events.send(account, detail_type, detail, [])
        self._ctx.auditor.record(
            "events:PutEvents",
            AuditOutcome.SUCCEEDED,
            events.bus_arn(account),
            record.request_id,
            detail_type,
        )
