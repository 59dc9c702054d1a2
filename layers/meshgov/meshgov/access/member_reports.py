"""``Member Actions Recorded``: what a member account did, recorded in the central audit trail
under that member's name; a consumer's links in place make its GRANTED request ACTIVE, and links
made for a request already withdrawn are undone again."""

from __future__ import annotations

from pydantic import ValidationError

from meshgov.access.core import AccessContext, Outcome, S
from meshgov.access.envelope import Envelope
from meshgov.access.transitions import Transitions
from meshgov.access.withdrawal import Withdrawal
from meshgov.audit import Auditor, AuditOutcome
from meshgov.contracts.access_events import (
    ACCESS_REVOKED,
    PRINCIPAL_NOT_FOUND,
    MemberActionsDetail,
)
from meshgov.errors import validation_reason


class MemberReports:
    def __init__(
        self, ctx: AccessContext, transitions: Transitions, withdrawal: Withdrawal
    ) -> None:
        self._ctx = ctx
        self._transitions = transitions
        self._withdrawal = withdrawal

    def recorded(self, envelope: Envelope) -> Outcome:
        ctx = self._ctx
        refuse = self._transitions.refuse
        try:
            detail = MemberActionsDetail.model_validate(envelope.detail)
        except ValidationError as exc:
            return refuse(envelope, "MemberReportMalformed", validation_reason(exc))
        actor = Auditor(ctx.audit_trail, f"member:{envelope.account}")
        for action in detail.actions:
            actor.record(
                action.action,
                AuditOutcome(action.outcome),
                action.target,
                detail.request_id or detail.correlation_id,
                action.reason,
                reported_by_event=envelope.event_id,
                error_code=action.code,
            )
        if not (detail.linked or detail.links_made) or not detail.request_id:
            return Outcome(detail.request_id)
        record = ctx.store.get(detail.request_id)
        if record is None or record.consumer_account != envelope.account:
            return refuse(
                envelope,
                "LinkReportNotConsumer",
                f"account {envelope.account} reported links for {detail.request_id}, "
                "which is not its request",
                detail.request_id,
            )
        if record.state in (S.EXPIRED, S.REVOKED):
            # A late or repeated Access Granted made links and grants for a request that holds
            # none any more: tell the member again what to undo.
            withdrawal = self._withdrawal
            links, remove_links = withdrawal.consumer_undo(record, withdrawal.others(record))
            ctx.auditor.record(
                "access:linked",
                AuditOutcome.REFUSED,
                record.request_id,
                record.request_id,
                f"request is {record.state}: the consumer is told again to undo its links",
                error_code="LinkedAfterWithdrawal",
            )
            withdrawal.send_revoked(record, record.reason, links, remove_links)
            return Outcome(record.request_id, record.state, events_sent=[ACCESS_REVOKED])
        missing = [a for a in detail.actions if a.code == PRINCIPAL_NOT_FOUND]
        if missing and not detail.linked and record.state in (S.APPROVED, S.GRANTED):
            # Lake Formation refused the consumer's grant: the principal does not exist in its
            # account (GrantPermissions answers InvalidInputException). Retrying cannot help, so
            # the request fails now and central's grants to the account are withdrawn with it.
            record = self._withdrawal.withdraw(
                record,
                S.FAILED,
                missing[0].reason or "the principal does not exist",
                envelope.event_id,
            )
            return Outcome(record.request_id, record.state, events_sent=[ACCESS_REVOKED])
        if not detail.linked:
            return Outcome(record.request_id, record.state)  # grants failed: retried, not active
        if record.state is not S.GRANTED:
            ctx.auditor.record(
                "access:linked",
                AuditOutcome.SKIPPED,
                record.request_id,
                record.request_id,
                f"request is {record.state}; nothing to activate",
            )
            return Outcome(record.request_id, record.state)
        record = self._transitions.move(
            record,
            S.ACTIVE,
            f"links and grants in place in account {record.consumer_account}",
            envelope.event_id,
        )
        return Outcome(record.request_id, record.state)
