"""Adding and removing member accounts: the platform team's ``Member Add Requested`` and
``Member Remove Requested``, handled by the central access function (it holds the requests a
removal must weigh), and the catalog sweep's retirement of removed producers.

Rules (docs/adr/0020-member-registry.md):

- only the central account's own events are obeyed (``RegistryForbidden``);
- an account is registered once (``MemberAlreadyRegistered``), a domain belongs to one producer
  (``DomainTaken``), the central account is no member (``MemberInvalid``);
- removing a member that holds live grants - a producer whose products consumers hold, or a
  consumer holding grants - is refused without ``force`` (``MemberHasLiveGrants``, naming the
  requests). A consumer is removed at once (its grants revoked, with ``force``); a producer stays
  ``REMOVING`` for its grace period, still synced, then the catalog sweep unpublishes its products
  (which revokes what was granted on them) and forgets it.

Every outcome is one audit record (``registry:add`` / ``registry:remove`` / ``registry:retire``)
whose correlation id is the event's id, so the CLI that put the event can wait for it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from meshgov.access.core import OWNERSHIP, AccessContext, Outcome
from meshgov.access.envelope import Envelope
from meshgov.access.states import HOLDING_STATES, RequestState
from meshgov.access.store import RequestRecord
from meshgov.access.withdrawal import Withdrawal
from meshgov.audit import AuditOutcome
from meshgov.contracts.registry_events import MemberAddDetail, MemberKind, MemberRemoveDetail
from meshgov.errors import validation_reason
from meshgov.registry.store import (
    Member,
    MemberState,
    RegistryConflictError,
    RegistryStore,
    member_target,
)

Model = TypeVar("Model", bound=BaseModel)
# How many of a refused removal's live requests its reason names (the rest are counted).
_NAMED = 10


class MemberRegistry:
    """The access function's collaborator for registry events."""

    def __init__(
        self,
        ctx: AccessContext,
        store: RegistryStore,
        withdrawal: Withdrawal,
        changed: Callable[[], None] = lambda: None,
    ) -> None:
        self._ctx = ctx
        self._store = store
        self._withdrawal = withdrawal
        # Told after each change: the invocation's view of the members is read again.
        self._changed = changed

    def add_requested(self, envelope: Envelope) -> Outcome:
        detail = self._checked(envelope, MemberAddDetail, "registry:add")
        if isinstance(detail, Outcome):
            return detail
        if detail.account == self._ctx.central:
            return self._refuse(
                envelope, "registry:add", "MemberInvalid", "the central account is no member"
            )
        member = Member(
            account=detail.account,
            kind=detail.kind,
            domain=detail.domain,
            state=MemberState.ACTIVE,
            registered_at=self._ctx.clock().isoformat(),
            event_id=envelope.event_id,
        )
        try:
            self._store.add(member)
        except RegistryConflictError as exc:
            stored = self._store.get(member.account)
            if stored is not None and stored.event_id == envelope.event_id:
                return Outcome()  # this very event, delivered again: it was done and audited
            return self._refuse(envelope, "registry:add", exc.code, str(exc), member.account)
        self._changed()
        self._ctx.auditor.record(
            "registry:add",
            AuditOutcome.SUCCEEDED,
            member_target(member.account),
            envelope.event_id,
            f"{member.kind.value} registered"
            + (f" with domain {member.domain}" if member.domain else ""),
            kind=member.kind.value,
            domain=member.domain,
        )
        return Outcome()

    def remove_requested(self, envelope: Envelope) -> Outcome:
        detail = self._checked(envelope, MemberRemoveDetail, "registry:remove")
        if isinstance(detail, Outcome):
            return detail
        member = self._store.get(detail.account)
        if member is None:
            return self._refuse(
                envelope,
                "registry:remove",
                "MemberNotRegistered",
                f"account {detail.account} is not a registered member",
                detail.account,
            )
        if member.state is not MemberState.ACTIVE:
            return self._refuse(
                envelope,
                "registry:remove",
                "MemberNotActive",
                f"account {member.account} is already being removed "
                f"(its products go after {member.remove_after})",
                member.account,
            )
        live = self._live_requests(member)
        if live and not detail.force:
            names = ", ".join(r.request_id for r in live[:_NAMED])
            more = f" and {len(live) - _NAMED} more" if len(live) > _NAMED else ""
            return self._refuse(
                envelope,
                "registry:remove",
                "MemberHasLiveGrants",
                f"account {member.account} has {len(live)} live grant(s) ({names}{more}): "
                "remove it with force to revoke them",
                member.account,
            )
        if member.is_producer:
            return self._start_removal(envelope, member, detail.grace_days, len(live))
        return self._remove_consumer(envelope, member, live)

    # -- steps ---------------------------------------------------------------------------------
    def _start_removal(
        self, envelope: Envelope, member: Member, grace_days: int, live: int
    ) -> Outcome:
        """A producer is marked REMOVING: its products stay until the grace period ends."""
        # Whole seconds, as a schedule's time is (EventBridge's event ``time``): with no grace,
        # the next sweep retires it, whatever the second's fraction.
        after = (self._ctx.clock() + timedelta(days=grace_days)).replace(microsecond=0)
        try:
            self._store.mark_removing(member.account, after)
        except RegistryConflictError as exc:
            return self._refuse(envelope, "registry:remove", exc.code, str(exc), member.account)
        self._changed()
        self._ctx.auditor.record(
            "registry:remove",
            AuditOutcome.SUCCEEDED,
            member_target(member.account),
            envelope.event_id,
            f"producer {member.domain} leaves the mesh: its products are unpublished "
            f"(and {live} live grant(s) revoked) after {after.isoformat()}",
            kind=member.kind.value,
            domain=member.domain,
            remove_after=after.isoformat(),
            live_grants=live,
        )
        return Outcome()

    def _remove_consumer(
        self, envelope: Envelope, member: Member, live: list[RequestRecord]
    ) -> Outcome:
        """A consumer leaves at once: what it holds is revoked first (a failure retries the
        event, the registry unchanged), then it is forgotten."""
        for record in live:
            self._withdrawal.withdraw(
                record,
                RequestState.REVOKED,
                "the consumer account was removed from the mesh",
                envelope.event_id,
            )
        self._store.delete(member)
        self._changed()
        self._ctx.auditor.record(
            "registry:remove",
            AuditOutcome.SUCCEEDED,
            member_target(member.account),
            envelope.event_id,
            f"consumer removed ({len(live)} live grant(s) revoked)",
            kind=member.kind.value,
            revoked=[r.request_id for r in live] or None,
        )
        return Outcome()

    def _live_requests(self, member: Member) -> list[RequestRecord]:
        """The requests holding grants that removing ``member`` takes away."""
        store = self._ctx.store
        if member.kind is MemberKind.CONSUMER:
            return [
                r
                for r in store.of_consumer(member.account)
                if r.state in HOLDING_STATES and r.kind != OWNERSHIP
            ]
        return [
            r
            for state in HOLDING_STATES
            for r in store.in_state(state)
            if r.owner_account == member.account and r.kind != OWNERSHIP
        ]

    def _checked(self, envelope: Envelope, model: type[Model], action: str) -> Model | Outcome:
        if envelope.account != self._ctx.central:
            return self._refuse(
                envelope,
                action,
                "RegistryForbidden",
                f"account {envelope.account} may not change the registry: only the central "
                f"account {self._ctx.central} does",
            )
        try:
            return model.model_validate(envelope.detail)
        except ValidationError as exc:
            reason = validation_reason(exc, every=True)
            return self._refuse(envelope, action, "RegistryMalformed", reason)

    def _refuse(
        self, envelope: Envelope, action: str, code: str, reason: str, account: str = ""
    ) -> Outcome:
        self._ctx.auditor.record(
            action,
            AuditOutcome.REFUSED,
            member_target(account or str(envelope.detail.get("account") or envelope.account)),
            envelope.event_id,
            reason,
            error_code=code,
            sender=envelope.account,
        )
        return Outcome(refused=code)
