"""The central access function: requests, decisions, grants, revocations and the expiry sweep.

Every event is an EventBridge envelope whose ``account`` EventBridge set: that, never a field of
``detail``, says who sent it (DESIGN.md). Each handler re-reads the request record and acts on
its *current* state through the state machine, so a duplicated, replayed or out-of-order event
changes nothing (it is refused and audited). Grants are made before the record says GRANTED and
revoked before it says EXPIRED or REVOKED: a failure in between leaves the record where a retry
finishes the work.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from botocore.exceptions import ClientError
from pydantic import ValidationError

from meshgov.access.central_adapter import AccessActionError, CentralAccessCatalog, MeshEvents
from meshgov.access.envelope import Envelope
from meshgov.access.grants import (
    GRANTABLE,
    central_grant_entries,
    link_grant_entries,
    still_unneeded,
)
from meshgov.access.policy import ApprovalPolicy, Verdict
from meshgov.access.resolve import (
    CLASSIFICATION_TAG,
    AccessRequestRefusedError,
    Resolution,
    classification_of,
    owner_of,
    resolve_named,
    resolve_tagged,
)
from meshgov.access.states import HOLDS_GRANTS, TERMINAL, RequestState, TransitionInvalidError
from meshgov.access.store import (
    Coverage,
    RequestConflictError,
    RequestRecord,
    RequestStore,
    fingerprint,
    request_id_for,
)
from meshgov.audit import Auditor, AuditOutcome, AuditTrail
from meshgov.aws.session import error_code
from meshgov.catalog.projection import SOURCE_ACCOUNT
from meshgov.contracts.access_events import (
    ACCESS_APPROVAL_REQUESTED,
    ACCESS_DECIDED,
    ACCESS_DENIED,
    ACCESS_EXPIRING,
    ACCESS_GRANTED,
    ACCESS_REQUESTED,
    ACCESS_REVOKE_REQUESTED,
    ACCESS_REVOKED,
    ACCESS_SOURCE,
    MEMBER_ACTIONS,
    SHARED_SCHEMA_CHANGED,
    AccessDecidedDetail,
    AccessRequestedDetail,
    AccessRevokeRequestedDetail,
    Decision,
    MemberActionsDetail,
    Permission,
    TagExpression,
)
from meshgov.contracts.glue_events import BreakingSchemaChangeDetail, DatabasePublishedDetail
from meshgov.errors import EventMalformedError, MeshgovError

S = RequestState
LIVE = frozenset({S.APPROVED, S.GRANTED, S.ACTIVE})
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


class AccessSweepIncompleteError(MeshgovError):
    """Some requests could not be swept: the others were; the invocation fails so that Lambda
    retries it and, at last, parks it in the sweep's dead-letter queue."""


CatalogDetail = TypeVar("CatalogDetail", BreakingSchemaChangeDetail, DatabasePublishedDetail)


@dataclass
class Outcome:
    """What handling one event did (for metrics and tests)."""

    request_id: str | None = None
    state: RequestState | None = None
    refused: str | None = None
    events_sent: list[str] = field(default_factory=list)


class AccessService:
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
    ) -> None:
        self._catalog = catalog
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

    # --- dispatch ------------------------------------------------------------------------------
    def handle(self, envelope: Envelope) -> Outcome:
        handlers: dict[tuple[str, str], Callable[[Envelope], Outcome]] = {
            (ACCESS_SOURCE, ACCESS_REQUESTED): self._requested,
            (ACCESS_SOURCE, ACCESS_DECIDED): self._decided,
            (ACCESS_SOURCE, ACCESS_REVOKE_REQUESTED): self._revoke_requested,
            (ACCESS_SOURCE, MEMBER_ACTIONS): self._member_actions,
            (CATALOG_SOURCE, BREAKING_SCHEMA_CHANGE): self._breaking_change,
            (CATALOG_SOURCE, DATABASE_PUBLISHED): self._database_published,
        }
        handler = handlers.get((envelope.source, envelope.detail_type))
        if handler is None:
            raise EventMalformedError(
                f"the access function does not handle {envelope.source} / {envelope.detail_type}"
            )
        try:
            return handler(envelope)
        except RequestConflictError:
            # A concurrent delivery moved the request: decide again on what is stored now.
            return handler(envelope)

    # --- Access Requested ----------------------------------------------------------------------
    def _requested(self, envelope: Envelope) -> Outcome:
        self._auditor.record(
            "access:request-received", AuditOutcome.RECEIVED, envelope.account, envelope.event_id
        )
        try:
            detail = self._parse_request(envelope)
            request_id = request_id_for(detail.consumer_account, detail.client_token)
            content = detail.model_dump(mode="json", by_alias=True)
            existing = self._store.get(request_id)
            if existing is not None:
                return self._repeated(existing, content, envelope)
            resolution = self._resolve(detail)
        except AccessRequestRefusedError as refusal:
            return self._refuse_request(envelope, refusal)
        now = self._clock()
        record = RequestRecord(
            request_id=request_id,
            kind="consumer",
            client_token=detail.client_token,
            fingerprint=fingerprint(content),
            consumer_account=detail.consumer_account,
            principal=detail.principal,
            owner_account=resolution.owner_account,
            domain=resolution.domain,
            permissions=tuple(sorted(p.value for p in detail.permissions)),
            resource=detail.resource.model_dump(mode="json") if detail.resource else None,
            tag_expression=(
                detail.tag_expression.model_dump(mode="json") if detail.tag_expression else None
            ),
            justification=detail.justification,
            duration_days=detail.duration_days,
            state=S.REQUESTED,
            created_at=now.isoformat(timespec="seconds"),
            updated_at=now.isoformat(timespec="seconds"),
            coverage=resolution.coverage,
            classifications=resolution.classifications,
            history=({"to": S.REQUESTED.value, "at": now.isoformat(timespec="seconds")},),
        )
        if not self._store.create(record):
            stored = self._store.get(request_id)
            if stored is None:
                raise RequestConflictError(f"{request_id} vanished while being created")
            return self._repeated(stored, content, envelope)
        record = replace(record, version=1)
        self._audit_transition(record, None, "request recorded", envelope.event_id)
        return self._proceed(record, envelope.event_id)

    def _proceed(self, record: RequestRecord, correlation: str) -> Outcome:
        """Take a recorded request as far as it goes without the producer: the policy's verdict,
        else the producer asked. Also what a retry does with a request a failure stopped short
        (still REQUESTED, or PENDING_APPROVAL with the producer perhaps never asked)."""
        if record.state is S.REQUESTED:
            verdict, why = self._policy.evaluate(record.duration_days or 0, record.classifications)
            if verdict is Verdict.AUTO_DENY:
                return self._deny(record, f"policy: {why}", "meshgov:approval-policy", correlation)
            if verdict is Verdict.AUTO_APPROVE:
                record = self._move(
                    record,
                    S.APPROVED,
                    f"policy: {why}",
                    correlation,
                    decided_by="meshgov:approval-policy",
                )
                return self._advance(record, correlation)
            record = self._move(record, S.PENDING_APPROVAL, why, correlation)
        if record.state in (S.APPROVED, S.GRANTED):  # finish (or repeat) the grant's news
            return self._advance(record, correlation)
        if record.state is not S.PENDING_APPROVAL:
            return Outcome(record.request_id, record.state)
        tables = [f"{c.database}.{t}" for c in record.coverage for t in c.tables]
        self._send(
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

    def _parse_request(self, envelope: Envelope) -> AccessRequestedDetail:
        raw = envelope.detail
        asked = raw.get("permissions")
        if isinstance(asked, list):
            never = sorted({str(p) for p in asked} - {p.value for p in GRANTABLE})
            if never:
                raise AccessRequestRefusedError(
                    "PermissionNotGrantable",
                    f"consumers can be granted only SELECT and DESCRIBE, not {', '.join(never)}",
                )
        try:
            detail = AccessRequestedDetail.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ())) or "detail"
            raise AccessRequestRefusedError(
                "RequestMalformed", f"{where}: {first.get('msg')}"
            ) from exc
        if detail.consumer_account != envelope.account:
            raise AccessRequestRefusedError(
                "ConsumerMismatch",
                f"the request names consumer {detail.consumer_account} but came from account "
                f"{envelope.account}: only a consumer account can ask for itself",
            )
        return detail

    def _resolve(self, detail: AccessRequestedDetail) -> Resolution:
        if detail.tag_expression is not None:
            try:
                matches = self._catalog.tagged_tables(detail.tag_expression)
            except AccessActionError as exc:
                cause = exc.__cause__
                if isinstance(cause, ClientError) and error_code(cause) == TAG_NOT_FOUND:
                    keys = ", ".join(c.key for c in detail.tag_expression.conditions)
                    raise AccessRequestRefusedError(
                        "TagKeyUnknown", f"the LF-Tag expression names an unknown tag key ({keys})"
                    ) from exc
                raise
            return resolve_tagged(matches, self._producers)
        assert detail.resource is not None  # the contract guarantees one of the two
        resource = detail.resource
        database = self._catalog.database(resource.database)
        tables = self._catalog.tables(resource.database) if database else []
        resolution = resolve_named(resource, database, tables, self._producers)
        auto = self._policy.auto_approve_classifications
        if self._table_tags is None or not auto:
            return resolution  # no policy could approve it: the classifications are informative
        # A table's LF-Tag ``classification`` counts before its parameter, as for expressions.
        # One search finds the tables tagged with an auto-approved value; only a table that
        # claims one by parameter alone has its tags read, to be sure no LF-Tag says otherwise.
        (cover,) = resolution.coverage
        by_name = {str(t["Name"]).lower(): t for t in tables if not t.get("TargetTable")}
        names = [n.lower() for n in cover.tables] or list(by_name)
        tagged = self._catalog.tables_classified(resource.database, auto)
        tags: dict[str, Mapping[str, Sequence[str]]] = {}
        for name in names:
            if name in tagged:
                tags[name] = {CLASSIFICATION_TAG: tagged[name]}
            elif classification_of(by_name[name], None) in auto:
                tags[name] = self._table_tags(resource.database, name)
        return resolve_named(resource, database, tables, self._producers, tags)

    def _repeated(
        self, existing: RequestRecord, content: Mapping[str, Any], envelope: Envelope
    ) -> Outcome:
        if existing.fingerprint != fingerprint(content):
            return self._refuse_request(
                envelope,
                AccessRequestRefusedError(
                    "ClientTokenReused",
                    f"client token {existing.client_token} already names request "
                    f"{existing.request_id} with other content",
                ),
            )
        self._auditor.record(
            "access:request-repeated",
            AuditOutcome.SKIPPED,
            existing.request_id,
            existing.request_id,
            f"the same request again (token {existing.client_token}); state {existing.state}",
            event_id=envelope.event_id,
        )
        return self._proceed(existing, envelope.event_id)

    def _refuse_request(self, envelope: Envelope, refusal: AccessRequestRefusedError) -> Outcome:
        token = str(envelope.detail.get("clientToken", ""))[:64]
        self._auditor.record(
            "access:request",
            AuditOutcome.REFUSED,
            envelope.account,
            envelope.event_id,
            str(refusal),
            error_code=refusal.code,
            client_token=token or None,
        )
        # Tell the sender (the account EventBridge vouches for, not the one the request names).
        self._events.send(
            envelope.account,
            ACCESS_DENIED,
            {
                "requestId": f"refused-{envelope.event_id}",
                "clientToken": token,
                "reason": f"{refusal.code}: {refusal}",
                "decidedBy": "meshgov:validation",
            },
            [],
        )
        self._auditor.record(
            "events:PutEvents",
            AuditOutcome.SUCCEEDED,
            self._events.bus_arn(envelope.account),
            envelope.event_id,
            ACCESS_DENIED,
        )
        return Outcome(refused=refusal.code, events_sent=[ACCESS_DENIED])

    # --- Access Decided ------------------------------------------------------------------------
    def _decided(self, envelope: Envelope) -> Outcome:
        try:
            detail = AccessDecidedDetail.model_validate(envelope.detail)
        except ValidationError as exc:
            return self._refuse(envelope, "DecisionMalformed", str(exc.errors()[0].get("msg")))
        record = self._store.get(detail.request_id)
        if record is None:
            return self._refuse(envelope, "RequestUnknown", f"no request {detail.request_id}")
        if envelope.account != record.owner_account:
            return self._refuse(
                envelope,
                "DeciderNotOwner",
                f"account {envelope.account} does not own {record.domain} data of "
                f"{record.request_id} (owner {record.owner_account}): decision ignored",
                record.request_id,
            )
        if record.state is not S.PENDING_APPROVAL:
            redelivered = record.decision_event == envelope.event_id
            if redelivered and record.state in (S.APPROVED, S.GRANTED):
                return self._advance(record, envelope.event_id)  # finish what a failure cut short
            return self._refuse(
                envelope,
                "DecisionOutOfOrder",
                f"{record.request_id} is {record.state}, not waiting for a decision",
                record.request_id,
            )
        decided_by = f"producer:{envelope.account}"
        if detail.decision is Decision.DENY:
            return self._deny(record, detail.reason, decided_by, envelope.event_id)
        record = self._move(
            record,
            S.APPROVED,
            detail.reason,
            envelope.event_id,
            decided_by=decided_by,
            decision_event=envelope.event_id,
        )
        return self._advance(record, envelope.event_id)

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
        entries = central_grant_entries(
            self.central, record.consumer_account, record.coverage, permissions, expression
        )
        links = (
            []
            if record.kind == OWNERSHIP
            else link_grant_entries(self.central, record.principal, record.coverage, permissions)
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
            },
            record,
        )

    # --- Member Actions Recorded ---------------------------------------------------------------
    def _member_actions(self, envelope: Envelope) -> Outcome:
        try:
            detail = MemberActionsDetail.model_validate(envelope.detail)
        except ValidationError as exc:
            return self._refuse(envelope, "MemberReportMalformed", str(exc.errors()[0].get("msg")))
        actor = Auditor(self._audit_trail, f"member:{envelope.account}")
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
        if not detail.linked or not detail.request_id:
            return Outcome(detail.request_id)
        record = self._store.get(detail.request_id)
        if record is None or record.consumer_account != envelope.account:
            return self._refuse(
                envelope,
                "LinkReportNotConsumer",
                f"account {envelope.account} reported links for {detail.request_id}, "
                "which is not its request",
                detail.request_id,
            )
        if record.state in (S.EXPIRED, S.REVOKED):
            # A late or repeated Access Granted made links and grants for a request that holds
            # none any more: tell the member again what to undo.
            links, remove_links = self._consumer_undo(record, self._others(record))
            self._auditor.record(
                "access:linked",
                AuditOutcome.REFUSED,
                record.request_id,
                record.request_id,
                f"request is {record.state}: the consumer is told again to undo its links",
                error_code="LinkedAfterWithdrawal",
            )
            self._send_revoked(record, record.reason, links, remove_links)
            return Outcome(record.request_id, record.state, events_sent=[ACCESS_REVOKED])
        if record.state is not S.GRANTED:
            self._auditor.record(
                "access:linked",
                AuditOutcome.SKIPPED,
                record.request_id,
                record.request_id,
                f"request is {record.state}; nothing to activate",
            )
            return Outcome(record.request_id, record.state)
        record = self._move(
            record, S.ACTIVE, "links and grants in place in the consumer account", envelope.event_id
        )
        return Outcome(record.request_id, record.state)

    # --- revocation ----------------------------------------------------------------------------
    def _revoke_requested(self, envelope: Envelope) -> Outcome:
        try:
            detail = AccessRevokeRequestedDetail.model_validate(envelope.detail)
        except ValidationError as exc:
            return self._refuse(envelope, "RevocationMalformed", str(exc.errors()[0].get("msg")))
        record = self._store.get(detail.request_id)
        if record is None:
            return self._refuse(envelope, "RequestUnknown", f"no request {detail.request_id}")
        if envelope.account not in (record.consumer_account, record.owner_account):
            return self._refuse(
                envelope,
                "RevokerUnrelated",
                f"account {envelope.account} is neither consumer nor owner of {record.request_id}",
                record.request_id,
            )
        if record.state not in LIVE:
            return self._refuse(
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

    def withdraw(
        self, record: RequestRecord, target: RequestState, reason: str, correlation: str
    ) -> RequestRecord:
        """Revoke what only this request explains, then record it and tell the consumer."""
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
        # Told first, recorded next: if telling fails, the retry (or the next sweep) finds the
        # request still live and withdraws it again; recorded first, nothing would ever tell the
        # consumer to remove its links and grants.
        self._send_revoked(record, reason, links, remove_links)
        return self._move(record, target, reason, correlation)

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

    # --- the sweep -----------------------------------------------------------------------------
    def sweep(self, correlation: str, now: datetime | None = None) -> dict[str, int]:
        """Expire what is due, warn what soon will be, revoke what is no longer published.

        ``now``: the time the sweep was scheduled for (the scheduled event's ``time``), so that
        expiry is judged as of the schedule, not of a late or retried invocation."""
        now = now or self._clock()
        counts = {"expired": 0, "warned": 0, "unpublished": 0, "ownership_granted": 0}
        failures: list[str] = []
        stamp = now.isoformat(timespec="seconds")
        warn_until = (now + self._warning).isoformat(timespec="seconds")
        self._auditor.record("access:sweep", AuditOutcome.RECEIVED, "access", correlation)
        for state in (S.GRANTED, S.ACTIVE):
            for record in self._store.in_state(state, expiring_before=warn_until):
                try:
                    if record.expires_at and record.expires_at <= stamp:
                        self.withdraw(record, S.EXPIRED, "expired", correlation)
                        counts["expired"] += 1
                    elif not record.warned:
                        self._send(
                            record.consumer_account,
                            ACCESS_EXPIRING,
                            {
                                "requestId": record.request_id,
                                "expiresAt": record.expires_at,
                                "consumerAccount": record.consumer_account,
                            },
                            record,
                        )
                        self._store.save(record, replace(record, warned=True))
                        counts["warned"] += 1
                except (RequestConflictError, TransitionInvalidError):
                    continue  # moved meanwhile: the next sweep sees its new state
                except AccessActionError as exc:  # one consumer's failure stops no other
                    failures.append(f"{record.request_id}: {exc}")
        counts["reshared"], counts["failed_unaccepted"] = self._reshare_unaccepted(
            now, correlation, failures
        )
        counts["unpublished"] = self._revoke_unpublished(correlation, failures)
        counts["ownership_granted"] = self._ensure_all_ownership(correlation)
        self._auditor.record(
            "access:sweep",
            AuditOutcome.FAILED if failures else AuditOutcome.SUCCEEDED,
            "access",
            correlation,
            json.dumps(counts),
            failures=failures[:50] or None,
        )
        if failures:
            raise AccessSweepIncompleteError(
                f"{len(failures)} requests not swept (retried by the next run): {failures[:5]}"
            )
        return counts

    def _reshare_unaccepted(
        self, now: datetime, correlation: str, failures: list[str]
    ) -> tuple[int, int]:
        """GRANTED but never linked after the invitation's 12 hours: RAM disassociated the
        consumer ("the originating account must share the resources again to generate a new
        invitation", https://docs.aws.amazon.com/ram/latest/userguide/working-with-shared-invitations.html).
        Revoke and grant again (a new share and invitation) and tell the consumer again, at
        most ``MAX_RESHARES`` times; then the request FAILED and its grants are withdrawn."""
        reshared = failed = 0
        due = (now - INVITATION_LIFETIME).isoformat(timespec="seconds")
        for record in self._store.in_state(S.GRANTED):
            if record.updated_at > due:
                continue
            try:
                if record.reshares >= MAX_RESHARES:
                    self.withdraw(
                        record,
                        S.FAILED,
                        f"the consumer accepted none of {record.reshares + 1} shares",
                        correlation,
                    )
                    failed += 1
                    continue
                others = self._others(record)
                again = still_unneeded(
                    record.central_grants, [g for r in others for g in r.central_grants]
                )
                if again:
                    self._catalog.revoke(again)
                    self._catalog.grant(again)
                self._auditor.record(
                    "lakeformation:BatchGrantPermissions",
                    AuditOutcome.SUCCEEDED,
                    record.consumer_account,
                    record.request_id,
                    f"shared again ({len(again)} grants revoked and granted): not linked "
                    f"{INVITATION_LIFETIME} after the grant, the invitation expired",
                    entries=again,
                )
                record = self._store.save(
                    record,
                    replace(
                        record,
                        reshares=record.reshares + 1,
                        updated_at=now.isoformat(timespec="seconds"),
                    ),
                )
                self._send_granted(record)
                reshared += 1
            except (RequestConflictError, TransitionInvalidError):
                continue
            except AccessActionError as exc:
                failures.append(f"{record.request_id}: {exc}")
        return reshared, failed

    def _revoke_unpublished(self, correlation: str, failures: list[str]) -> int:
        live = [r for state in (S.GRANTED, S.ACTIVE) for r in self._store.in_state(state)]
        present: dict[str, set[str] | None] = {}
        revoked = 0
        for record in live:
            gone = []
            for cover in record.coverage:
                if cover.database not in present:
                    database = self._catalog.database(cover.database)
                    present[cover.database] = (
                        {str(t["Name"]) for t in self._catalog.tables(cover.database)}
                        if database
                        else None
                    )
                tables = present[cover.database]
                if tables is None or any(t not in tables for t in cover.tables):
                    gone.append(cover.database)
            if gone:
                try:
                    self.withdraw(record, S.REVOKED, f"unpublished: {', '.join(gone)}", correlation)
                    revoked += 1
                except (RequestConflictError, TransitionInvalidError):
                    continue
                except AccessActionError as exc:
                    failures.append(f"{record.request_id}: {exc}")
        return revoked

    # --- producer ownership (the blog's steps 3-5) ---------------------------------------------
    def _database_published(self, envelope: Envelope) -> Outcome:
        detail = self._catalog_detail(envelope, DatabasePublishedDetail)
        if isinstance(detail, Outcome):
            return detail
        return self.ensure_ownership(detail.central_database, envelope.event_id)

    def _catalog_detail(
        self, envelope: Envelope, model: type[CatalogDetail]
    ) -> CatalogDetail | Outcome:
        """The detail of a ``meshgov.catalog`` event, which only the central account emits; a
        refusal (audited) otherwise."""
        if envelope.account != self.central:
            return self._refuse(
                envelope, "CatalogEventForeign", "catalog events come from the central account"
            )
        try:
            return model.model_validate(envelope.detail)
        except ValidationError as exc:
            return self._refuse(envelope, "CatalogEventMalformed", str(exc.errors()[0].get("msg")))

    def ensure_ownership(self, database: str, correlation: str) -> Outcome:
        """Grant the producer DESCRIBE and SELECT, with the grant option, on its central database
        and all its tables, as a standing request (no expiry) that explains those grants: its
        data engineers see their products as the mesh shows them, and can share them onward
        from their own account. Never ALTER or DROP: the central copy is meshgov's mirror."""
        central_db = self._catalog.database(database)
        try:
            owner = owner_of(central_db, database, self._producers)
        except AccessRequestRefusedError as refusal:
            self._auditor.record(
                "access:ownership", AuditOutcome.SKIPPED, database, correlation, str(refusal)
            )
            return Outcome(refused=refusal.code)
        earlier = self._ownership_records(owner, database)
        live = [r for r in earlier if r.state not in TERMINAL]
        record = live[0] if live else None
        if record is None:
            # A database unpublished and published again gets a new standing request: the
            # revoked one stays as history.
            token = f"ownership-{database}" + (f"-{len(earlier)}" if earlier else "")
            now = self._clock().isoformat(timespec="seconds")
            record = RequestRecord(
                request_id=request_id_for(owner, token),
                kind=OWNERSHIP,
                client_token=token,
                fingerprint=fingerprint({"ownership": database, "owner": owner}),
                consumer_account=owner,
                principal=owner,
                owner_account=owner,
                domain=self._producers[owner],
                permissions=tuple(p.value for p in OWNERSHIP_PERMISSIONS),
                resource={"database": database, "tables": [], "columns": []},
                tag_expression=None,
                justification="the producer owns the data it publishes",
                duration_days=None,
                state=S.REQUESTED,
                created_at=now,
                updated_at=now,
                coverage=(Coverage(database=database, whole=True),),
                history=({"to": S.REQUESTED.value, "at": now},),
            )
            if not self._store.create(record):
                return self.ensure_ownership(database, correlation)
            record = replace(record, version=1)
            self._audit_transition(record, None, "producer ownership", correlation)
        if record.state is S.REQUESTED:
            record = self._move(
                record,
                S.APPROVED,
                "a producer owns its published databases",
                correlation,
                decided_by="meshgov:ownership",
            )
        if record.state in (S.APPROVED, S.GRANTED):
            return self._advance(record, correlation)
        return Outcome(record.request_id, record.state)

    def _ensure_all_ownership(self, correlation: str) -> int:
        """The backstop for a missed ``Database Published``: every published central database
        has its producer's standing ownership grant."""
        granted = 0
        records: dict[str, list[RequestRecord]] = {}
        for database in self._catalog.databases():
            params = database.get("Parameters") or {}
            owner = str(params.get(SOURCE_ACCOUNT, ""))
            if owner not in self._producers:
                continue
            name = str(database["Name"])
            if owner not in records:
                records[owner] = [r for r in self._store.of_consumer(owner) if r.kind == OWNERSHIP]
            settled = [
                r
                for r in records[owner]
                if r.databases == (name,) and r.state in (S.GRANTED, S.ACTIVE)
            ]
            if not settled:
                self.ensure_ownership(name, correlation)
                granted += 1
        return granted

    def _ownership_records(self, owner: str, database: str) -> list[RequestRecord]:
        return [
            r
            for r in self._store.of_consumer(owner)
            if r.kind == OWNERSHIP and r.databases == (database,)
        ]

    # --- breaking schema changes ---------------------------------------------------------------
    def _breaking_change(self, envelope: Envelope) -> Outcome:
        detail = self._catalog_detail(envelope, BreakingSchemaChangeDetail)
        if isinstance(detail, Outcome):
            return detail
        told = []
        for state in (S.GRANTED, S.ACTIVE):
            for record in self._store.in_state(state):
                if record.kind != OWNERSHIP and any(
                    c.database == detail.central_database and (c.whole or detail.table in c.tables)
                    for c in record.coverage
                ):
                    change = detail.change
                    self._send(
                        record.consumer_account,
                        SHARED_SCHEMA_CHANGED,
                        {
                            "requestId": record.request_id,
                            "database": detail.central_database,
                            "table": detail.table,
                            "removedColumns": _names(change.get("removed_columns")),
                            "changedColumns": _names(change.get("retyped_columns")),
                        },
                        record,
                    )
                    told.append(record.request_id)
        return Outcome(events_sent=[SHARED_SCHEMA_CHANGED] * len(told))

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


def _names(value: object) -> list[str]:
    """Column names from a change summary (retyped columns are ``[name, before, after]``)."""
    if not isinstance(value, list):
        return []
    return [str(v[0]) if isinstance(v, list) and v else str(v) for v in value]
