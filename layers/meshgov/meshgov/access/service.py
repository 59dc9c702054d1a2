"""The central access function: routes each event to the collaborator that handles it, by
source and detail-type, and runs the sweep.

Every event is an EventBridge envelope whose ``account`` EventBridge set: that, never a field of
``detail``, says who sent it (DESIGN.md). Each handler re-reads the request record and acts on
its *current* state through the state machine, so a duplicated, replayed or out-of-order event
changes nothing (it is refused and audited).

Where each rule lives (one hop from here):

- ``Access Requested``: checked and recorded in :mod:`meshgov.access.intake`; the policy, the
  producer's ``Access Decided`` and denial in :mod:`meshgov.access.approval`;
- grants made in :mod:`meshgov.access.granting`; revoked (every ending, and ``Access Revoke
  Requested``) in :mod:`meshgov.access.withdrawal`; a request's data cells filters in
  :mod:`meshgov.access.request_filters`;
- a request's moves, refusals and events sent, each audited: :mod:`meshgov.access.transitions`;
- ``Member Actions Recorded``: :mod:`meshgov.access.member_reports`; ``Breaking Schema Change``:
  :mod:`meshgov.access.catalog_news`; ``Contract Breached`` and ``Freshness SLA Breached``:
  :mod:`meshgov.access.contract_news`;
  ``Database Published`` and producer ownership:
  :mod:`meshgov.access.ownership`; ``Access Reviewed`` and the review sweep:
  :mod:`meshgov.access.review_sweep`; ``Member Add Requested`` and ``Member Remove Requested``
  (the platform team's registry changes): :mod:`meshgov.registry.members`;
- the sweep (:mod:`meshgov.access.sweep`): expiry in :mod:`meshgov.access.expiry`, re-sharing in
  :mod:`meshgov.access.reshare`, unpublished data in :mod:`meshgov.access.unpublished`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from meshgov.access.approval import Approval
from meshgov.access.catalog_news import SchemaChanges
from meshgov.access.contract_news import ContractBreaches
from meshgov.access.core import AccessContext, Outcome, TableTagsReader
from meshgov.access.envelope import Envelope
from meshgov.access.expiry import Expiry
from meshgov.access.granting import Granting
from meshgov.access.intake import Intake
from meshgov.access.member_reports import MemberReports
from meshgov.access.ownership import OwnershipGrants
from meshgov.access.request_filters import RequestFilters
from meshgov.access.reshare import Reshares
from meshgov.access.review_sweep import Reviews
from meshgov.access.states import RequestState
from meshgov.access.store import RequestConflictError, RequestRecord
from meshgov.access.sweep import AccessSweep, AccessSweepIncompleteError
from meshgov.access.transitions import Transitions
from meshgov.access.unpublished import Unpublished
from meshgov.access.withdrawal import Withdrawal
from meshgov.contracts.access_events import (
    ACCESS_DECIDED,
    ACCESS_REQUESTED,
    ACCESS_REVIEWED,
    ACCESS_REVOKE_REQUESTED,
    ACCESS_SOURCE,
    MEMBER_ACTIONS,
)
from meshgov.contracts.data_contract_events import CONTRACT_BREACHED, FRESHNESS_SLA_BREACHED
from meshgov.contracts.glue_events import BREAKING_SCHEMA_CHANGE, CATALOG_SOURCE, DATABASE_PUBLISHED
from meshgov.contracts.registry_events import (
    MEMBER_ADD_REQUESTED,
    MEMBER_REMOVE_REQUESTED,
    REGISTRY_SOURCE,
)
from meshgov.errors import EventMalformedError
from meshgov.registry.members import MemberRegistry
from meshgov.registry.store import RegistryStore

Handler = Callable[[Envelope], Outcome]


class AccessService:
    """Everything the central access functions do (the requests function and the sweep),
    composed of one collaborator per job over one shared :class:`AccessContext`."""

    def __init__(
        self,
        ctx: AccessContext,
        registry: RegistryStore | None = None,
        registry_changed: Callable[[], None] = lambda: None,
    ) -> None:
        """``registry``: the member registry, whose events (``meshgov.registry``) this function
        handles too (``registry_changed`` told after each change); None: they are refused as
        events it does not handle."""
        self.context = ctx
        transitions = Transitions(ctx)
        filters = RequestFilters(ctx)
        granting = Granting(ctx, transitions, filters)
        self._withdrawal = Withdrawal(ctx, transitions, filters)
        approval = Approval(ctx, transitions, granting)
        self._ownership = OwnershipGrants(ctx, transitions, granting)
        reviews = Reviews(ctx, transitions, self._withdrawal)
        self._sweep = AccessSweep(
            ctx,
            expiry=Expiry(ctx, transitions, self._withdrawal),
            reshares=Reshares(ctx, granting, self._withdrawal),
            unpublished=Unpublished(ctx, self._withdrawal),
            reviews=reviews,
            ownership=self._ownership,
        )
        contract_news = ContractBreaches(ctx, transitions)
        self._handlers: dict[tuple[str, str], Handler] = {
            (ACCESS_SOURCE, ACCESS_REQUESTED): Intake(ctx, transitions, approval).requested,
            (ACCESS_SOURCE, ACCESS_DECIDED): approval.decided,
            (ACCESS_SOURCE, ACCESS_REVOKE_REQUESTED): self._withdrawal.revoke_requested,
            (ACCESS_SOURCE, ACCESS_REVIEWED): reviews.reviewed,
            (ACCESS_SOURCE, MEMBER_ACTIONS): MemberReports(
                ctx, transitions, self._withdrawal
            ).recorded,
            (CATALOG_SOURCE, BREAKING_SCHEMA_CHANGE): SchemaChanges(
                ctx, transitions
            ).breaking_change,
            (CATALOG_SOURCE, DATABASE_PUBLISHED): self._ownership.database_published,
            (CATALOG_SOURCE, CONTRACT_BREACHED): contract_news.breached,
            (CATALOG_SOURCE, FRESHNESS_SLA_BREACHED): contract_news.freshness_breached,
        }
        if registry is not None:
            members = MemberRegistry(ctx, registry, self._withdrawal, registry_changed)
            self._handlers[(REGISTRY_SOURCE, MEMBER_ADD_REQUESTED)] = members.add_requested
            self._handlers[(REGISTRY_SOURCE, MEMBER_REMOVE_REQUESTED)] = members.remove_requested

    @property
    def central(self) -> str:
        return self.context.central

    def handle(self, envelope: Envelope) -> Outcome:
        handler = self._handlers.get((envelope.source, envelope.detail_type))
        if handler is None:
            raise EventMalformedError(
                f"the access function does not handle {envelope.source} / {envelope.detail_type}"
            )
        try:
            return handler(envelope)
        except RequestConflictError:
            # A concurrent delivery moved the request: decide again on what is stored now.
            return handler(envelope)

    def sweep(self, correlation: str, now: datetime | None = None) -> dict[str, int]:
        """The scheduled sweep (:class:`meshgov.access.sweep.AccessSweep`)."""
        return self._sweep.run(correlation, now)

    def ensure_ownership(self, database: str, correlation: str) -> Outcome:
        """The producer's standing grant on its central ``database``
        (:meth:`meshgov.access.ownership.OwnershipGrants.ensure_ownership`)."""
        return self._ownership.ensure_ownership(database, correlation)

    def withdraw(
        self,
        record: RequestRecord,
        target: RequestState,
        reason: str,
        correlation: str,
        **changes: Any,
    ) -> RequestRecord:
        """End a request's access (:meth:`meshgov.access.withdrawal.Withdrawal.withdraw`)."""
        return self._withdrawal.withdraw(record, target, reason, correlation, **changes)


__all__ = ["AccessService", "AccessSweepIncompleteError", "Outcome", "TableTagsReader"]
