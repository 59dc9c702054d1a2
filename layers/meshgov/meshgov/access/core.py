"""What every collaborator of the central access function shares: its constants, the outcome of
one event, and :class:`AccessContext` — the adapters, clock and policy of one invocation.

The function is composed, not inherited: :class:`meshgov.access.service.AccessService` routes an
event to the collaborator that handles it, each built on this context and on the collaborators
it needs (:mod:`meshgov.access.transitions` moves a request, :mod:`meshgov.access.granting`
grants, :mod:`meshgov.access.withdrawal` revokes, ...).

Grants are made before the record says GRANTED and revoked before it says EXPIRED or REVOKED,
and a member is told before the record moves: a failure in between leaves the record where a
retry (or the next sweep) finishes the work.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from meshgov.access.central_adapter import AccessActionError, CentralAccessCatalog, MeshEvents
from meshgov.access.policy import ApprovalPolicy
from meshgov.access.reviews import UsageReader
from meshgov.access.states import RequestState, TransitionInvalidError
from meshgov.access.store import RequestConflictError, RequestRecord, RequestStore
from meshgov.audit import Auditor, AuditTrail
from meshgov.contracts.access_events import Permission
from meshgov.contracts.data_contract_events import (
    ContractBreachedDetail,
    FreshnessSlaBreachedDetail,
)
from meshgov.contracts.glue_events import BreakingSchemaChangeDetail, DatabasePublishedDetail

S = RequestState
LIVE = frozenset({S.APPROVED, S.GRANTED, S.ACTIVE, S.UNDER_REVIEW})
TAG_NOT_FOUND = "EntityNotFoundException"  # SearchTablesByLFTags on a tag key never defined
# (database, table) -> the table's effective LF-Tags (its own over its database's).
TableTagsReader = Callable[[str, str], Mapping[str, Sequence[str]]]
OWNERSHIP = "ownership"
# RAM: invitations for Glue resources expire after 12 hours.
INVITATION_LIFETIME = timedelta(hours=12)
MAX_RESHARES = 3
OWNERSHIP_PERMISSIONS = (Permission.DESCRIBE, Permission.SELECT)


CatalogDetail = TypeVar(
    "CatalogDetail",
    BreakingSchemaChangeDetail,
    DatabasePublishedDetail,
    ContractBreachedDetail,
    FreshnessSlaBreachedDetail,
)


@dataclass
class Outcome:
    """What handling one event did (for metrics and tests)."""

    request_id: str | None = None
    state: RequestState | None = None
    refused: str | None = None
    events_sent: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AccessContext:
    """The state every collaborator shares, built once per invocation
    (:func:`meshgov.access.wiring.build_access_service`)."""

    catalog: CentralAccessCatalog
    store: RequestStore
    events: MeshEvents
    audit_trail: AuditTrail  # members' reports are recorded under their own actor
    auditor: Auditor  # the function's own records
    policy: ApprovalPolicy
    producers: Mapping[str, str]  # producer account -> domain
    clock: Callable[[], datetime]
    expiry_warning: timedelta = timedelta(hours=24)
    table_tags: TableTagsReader | None = None
    usage: UsageReader | None = None
    # Every registered member account, producers and consumers (meshgov.registry); None: not
    # checked (a context without a registry).
    members: Callable[[], Collection[str]] | None = None

    @classmethod
    def create(
        cls,
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
        members: Callable[[], Collection[str]] | None = None,
    ) -> AccessContext:
        """The context of a function acting as ``actor`` (its audit records say so)."""
        return cls(
            catalog=catalog,
            store=store,
            events=events,
            audit_trail=audit,
            auditor=Auditor(audit, actor),
            policy=policy,
            producers=producers,
            clock=clock,
            expiry_warning=expiry_warning,
            table_tags=table_tags,
            usage=usage,
            members=members,
        )

    @property
    def central(self) -> str:
        """The central account: the grantor of every grant, the only sender of catalog events."""
        return self.catalog.account_id


def guarded(
    record: RequestRecord,
    failures: list[str],
    act: Callable[..., RequestRecord],
    *args: Any,
    into: dict[str, RequestRecord] | None = None,
) -> bool:
    """The sweep's rule for one request: ``act(record, *args)``, its result kept ``into`` the
    sweep's current records. False when the request moved meanwhile (the next sweep sees its new
    state) or an AWS action failed (noted in ``failures``: one consumer's failure stops no other;
    the sweep then fails and Lambda retries it)."""
    try:
        after = act(record, *args)
    except (RequestConflictError, TransitionInvalidError):
        return False
    except AccessActionError as exc:
        failures.append(f"{record.request_id}: {exc}")
        return False
    if into is not None:
        into[record.request_id] = after
    return True
