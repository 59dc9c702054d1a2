"""Access reviews and unused grants (issue 14): what the access sweep starts and ends, and the
owning producer's answer (``Access Reviewed``).

The sweep, on its schedule's clock:

1. ends the reviews past their deadline as the policy says (``UnansweredReviewAction``: revoke,
   or keep and escalate with ``Access Review Escalated`` on central's own bus);
2. warns the consumer of a grant unused for ``RevokeUnusedDays`` (``Access Unused``, once), and
   revokes it ``UnusedWarningDays`` later if still unused (a use meanwhile withdraws the warning);
3. asks the owning producer to review each grant due (``Access Review Requested``): the request
   is ``UNDER_REVIEW`` and keeps its grants until the answer.

Usage is read once per distinct principal (``UsageStore.last_used``), and only for principals
with a grant the rules could act on; a principal whose usage cannot be read is never judged
unused (the sweep fails loudly and the next run tries again). Each step is told first and
recorded next, as everywhere in the access function: a failure between the two repeats the
message, never loses it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta

from pydantic import ValidationError

from meshgov.access.core import OWNERSHIP, AccessContext, Outcome, S, guarded
from meshgov.access.envelope import Envelope
from meshgov.access.policy import UnansweredReview
from meshgov.access.reviews import (
    covered_tables,
    day_of,
    granted_at,
    last_use_of,
    may_be_unused,
    review_due_at,
    review_window_start,
    text,
    unused_verdict,
    usage_since,
)
from meshgov.access.store import RequestRecord
from meshgov.access.transitions import Transitions
from meshgov.access.withdrawal import Withdrawal
from meshgov.audit import AuditOutcome
from meshgov.contracts.access_events import (
    ACCESS_REVIEW_ESCALATED,
    ACCESS_REVIEW_REQUESTED,
    ACCESS_REVOKED,
    ACCESS_UNUSED,
    AccessReviewedDetail,
    ReviewDecision,
)
from meshgov.errors import MeshgovError, validation_reason

POLICY = "meshgov:review-policy"
UNUSED_POLICY = "meshgov:unused-policy"
REVIEW_COUNTS = (
    "reviews_requested",
    "reviews_revoked_unanswered",
    "reviews_escalated",
    "unused_warned",
    "unused_revoked",
)
Usage = dict[str, dict[str, str]]  # principal -> table -> last use


class Reviews:
    def __init__(
        self, ctx: AccessContext, transitions: Transitions, withdrawal: Withdrawal
    ) -> None:
        self._ctx = ctx
        self._transitions = transitions
        self._withdrawal = withdrawal

    # --- the sweep's part ----------------------------------------------------------------------
    def sweep(
        self, live: Iterable[RequestRecord], now: datetime, correlation: str, failures: list[str]
    ) -> dict[str, int]:
        """The sweep's three steps (the module's docstring) over the ``live`` requests it read;
        a count per :data:`REVIEW_COUNTS`."""
        counts = dict.fromkeys(REVIEW_COUNTS, 0)
        policy = self._ctx.policy
        grants = [r for r in live if r.kind != OWNERSHIP and r.state in (S.ACTIVE, S.UNDER_REVIEW)]
        overdue = [
            r
            for r in grants
            if r.state is S.UNDER_REVIEW and r.review_deadline and r.review_deadline <= text(now)
        ]
        due = [
            r
            for r in grants
            if r.state is S.ACTIVE and (at := review_due_at(r, policy)) is not None and at <= now
        ]
        unused = [r for r in grants if may_be_unused(r, now, policy)]
        usage, unread = self._usage_of(due, unused, now, failures)
        current = {r.request_id: r for r in grants}  # each as last saved by this sweep
        ended: set[str] = set()
        keep = policy.unanswered_review_action is UnansweredReview.KEEP
        for record in overdue:
            if guarded(record, failures, self._unanswered, now, correlation, into=current):
                ended.update(() if keep else (record.request_id,))
                counts["reviews_escalated" if keep else "reviews_revoked_unanswered"] += 1
        for record in unused:
            record = current[record.request_id]
            if record.request_id in ended or record.principal in unread:
                continue
            last = last_use_of(record, usage.get(record.principal, {}))
            verdict = unused_verdict(record, last, now, policy)
            if verdict.revoke:
                if guarded(record, failures, self._revoke_unused, last, correlation):
                    ended.add(record.request_id)
                    counts["unused_revoked"] += 1
            elif verdict.warn:
                since = verdict.unused_since
                if guarded(record, failures, self._warn_unused, since, now, into=current):
                    counts["unused_warned"] += 1
            elif verdict.used_again:
                guarded(record, failures, self._used_again, last, into=current)
        for record in due:
            record = current[record.request_id]
            if record.request_id in ended or record.principal in unread:
                continue
            last = last_use_of(record, usage.get(record.principal, {}))
            if guarded(record, failures, self._ask_review, last, now, correlation):
                counts["reviews_requested"] += 1
        return counts

    def _usage_of(
        self,
        due: list[RequestRecord],
        unused: list[RequestRecord],
        now: datetime,
        failures: list[str],
    ) -> tuple[Usage, set[str]]:
        """One ``last_used`` per distinct principal, from the earliest day any of its requests
        needs; the principals whose usage could not be read."""
        since: dict[str, datetime] = {}
        for record in due:
            start = review_window_start(record)
            since[record.principal] = min(start, since.get(record.principal, start))
        for record in unused:
            start = usage_since(record, now, self._ctx.policy)
            since[record.principal] = min(start, since.get(record.principal, start))
        usage: Usage = {}
        unread: set[str] = set()
        if self._ctx.usage is None:
            return usage, unread  # no usage recorded: reviews say "no known use"
        for principal, start in sorted(since.items()):
            try:
                usage[principal] = self._ctx.usage.last_used(principal, day_of(start))
            except MeshgovError as exc:
                failures.append(f"usage of {principal}: {exc}")
                unread.add(principal)
        return usage, unread

    def _ask_review(
        self, record: RequestRecord, last: datetime | None, now: datetime, correlation: str
    ) -> RequestRecord:
        deadline = text(now + timedelta(days=self._ctx.policy.review_deadline_days))
        self._transitions.send(
            record.owner_account,
            ACCESS_REVIEW_REQUESTED,
            {
                "requestId": record.request_id,
                "consumerAccount": record.consumer_account,
                "principal": record.principal,
                "tables": covered_tables(record),
                "permissions": list(record.permissions),
                "filters": list(record.filters),
                "justification": record.justification,
                "grantedAt": text(granted_at(record)),
                "expiresAt": record.expires_at,
                "lastUsed": text(last) if last else None,
                "deadline": deadline,
            },
            record,
        )
        return self._transitions.move(
            record,
            S.UNDER_REVIEW,
            f"review due every {self._ctx.policy.review_every_days} days: producer "
            f"{record.owner_account} asked to answer by {deadline}",
            correlation,
            review_requested_at=text(now),
            review_deadline=deadline,
        )

    def _unanswered(self, record: RequestRecord, now: datetime, correlation: str) -> RequestRecord:
        """A review past its deadline: the policy's action."""
        why = (
            f"review unanswered by producer {record.owner_account} by its deadline "
            f"{record.review_deadline}"
        )
        outcome = {"by": POLICY, "at": text(now)}
        if self._ctx.policy.unanswered_review_action is UnansweredReview.REVOKE:
            return self._withdrawal.withdraw(
                record,
                S.REVOKED,
                f"{why}: revoked by policy",
                correlation,
                review_deadline=None,
                last_review={**outcome, "decision": "REVOKE", "reason": f"{why}: revoked"},
            )
        self._transitions.send(
            self._ctx.central,
            ACCESS_REVIEW_ESCALATED,
            {
                "requestId": record.request_id,
                "ownerAccount": record.owner_account,
                "consumerAccount": record.consumer_account,
                "principal": record.principal,
                "tables": covered_tables(record),
                "reviewRequestedAt": record.review_requested_at,
                "deadline": record.review_deadline,
                "reason": f"{why}: kept by policy (UnansweredReviewAction=keep)",
            },
            record,
        )
        self._ctx.auditor.record(
            "access:review-escalated",
            AuditOutcome.SUCCEEDED,
            record.request_id,
            record.request_id,
            f"{why}: kept, escalated to the platform team",
            owner=record.owner_account,
            event_id=correlation,
        )
        return self._transitions.move(
            record,
            S.ACTIVE,
            f"{why}: kept by policy and escalated",
            correlation,
            review_deadline=None,
            last_review={**outcome, "decision": "KEEP", "reason": f"{why}: kept, escalated"},
        )

    def _warn_unused(
        self, record: RequestRecord, since: datetime | None, now: datetime
    ) -> RequestRecord:
        policy = self._ctx.policy
        revoke_at = text(now + timedelta(days=policy.unused_warning_days))
        unused_since = text(since or granted_at(record))
        self._transitions.send(
            record.consumer_account,
            ACCESS_UNUSED,
            {
                "requestId": record.request_id,
                "consumerAccount": record.consumer_account,
                "principal": record.principal,
                "tables": covered_tables(record),
                "unusedSince": unused_since,
                "revokeAt": revoke_at,
            },
            record,
        )
        saved = self._ctx.store.save(record, replace(record, unused_warned_at=text(now)))
        self._ctx.auditor.record(
            "access:unused",
            AuditOutcome.SUCCEEDED,
            record.request_id,
            record.request_id,
            f"unused since {unused_since} (RevokeUnusedDays={policy.revoke_unused_days}):"
            f" the consumer is warned, revoked at {revoke_at} unless used",
        )
        return saved

    def _used_again(self, record: RequestRecord, last: datetime | None) -> RequestRecord:
        saved = self._ctx.store.save(record, replace(record, unused_warned_at=None))
        self._ctx.auditor.record(
            "access:unused",
            AuditOutcome.SKIPPED,
            record.request_id,
            record.request_id,
            f"used again at {text(last) if last else '?'} after the warning of "
            f"{record.unused_warned_at}: kept",
        )
        return saved

    def _revoke_unused(
        self, record: RequestRecord, last: datetime | None, correlation: str
    ) -> RequestRecord:
        since = text(last) if last else f"the grant ({text(granted_at(record))})"
        return self._withdrawal.withdraw(
            record,
            S.REVOKED,
            f"unused: no use since {since}, none after the warning of {record.unused_warned_at}"
            f" (RevokeUnusedDays={self._ctx.policy.revoke_unused_days}, "
            f"UnusedWarningDays={self._ctx.policy.unused_warning_days})",
            correlation,
            decided_by=UNUSED_POLICY,
        )

    # --- Access Reviewed (the requests function) -----------------------------------------------
    def reviewed(self, envelope: Envelope) -> Outcome:
        """The owning producer's answer: KEEP -> ACTIVE, REVOKE -> withdrawn. Refused (audited,
        nothing changed) when malformed, not from the owner, or the request is not under review
        (a second answer, a replay, or one after the policy already ended the review)."""
        refuse = self._transitions.refuse
        try:
            detail = AccessReviewedDetail.model_validate(envelope.detail)
        except ValidationError as exc:
            return refuse(envelope, "ReviewMalformed", validation_reason(exc))
        record = self._transitions.owners_request(
            envelope, detail.request_id, "ReviewerNotOwner", "review"
        )
        if isinstance(record, Outcome):
            return record
        if record.state is not S.UNDER_REVIEW:
            return refuse(
                envelope,
                "ReviewOutOfOrder",
                f"{record.request_id} is {record.state}, not under review",
                record.request_id,
            )
        by = f"producer:{envelope.account}"
        outcome = {
            "decision": detail.decision.value,
            "by": by,
            "at": text(self._ctx.clock()),
            "reason": detail.reason[:300],
            "event": envelope.event_id,
        }
        if detail.decision is ReviewDecision.REVOKE:
            record = self._withdrawal.withdraw(
                record,
                S.REVOKED,
                f"review: revoked by {by}: {detail.reason}",
                envelope.event_id,
                review_deadline=None,
                last_review=outcome,
            )
            return Outcome(record.request_id, record.state, events_sent=[ACCESS_REVOKED])
        record = self._transitions.move(
            record,
            S.ACTIVE,
            f"review: kept by {by}: {detail.reason}",
            envelope.event_id,
            review_deadline=None,
            last_review=outcome,
        )
        return Outcome(record.request_id, record.state)
