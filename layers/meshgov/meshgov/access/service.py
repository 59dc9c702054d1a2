"""The central access function's events: requests, decisions, revocations, member reports
and catalog news, each dispatched by source and detail-type.

Every event is an EventBridge envelope whose ``account`` EventBridge set: that, never a field of
``detail``, says who sent it (DESIGN.md). Each handler re-reads the request record and acts on
its *current* state through the state machine, so a duplicated, replayed or out-of-order event
changes nothing (it is refused and audited). Shared moves live in :mod:`meshgov.access.core`,
the sweep in :mod:`meshgov.access.sweep`, ownership in :mod:`meshgov.access.ownership`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from botocore.exceptions import ClientError
from pydantic import ValidationError

from meshgov.access.central_adapter import AccessActionError
from meshgov.access.core import (
    BREAKING_SCHEMA_CHANGE,
    CATALOG_SOURCE,
    DATABASE_PUBLISHED,
    LIVE,
    OWNERSHIP,
    TAG_NOT_FOUND,
    Outcome,
    S,
    TableTagsReader,
)
from meshgov.access.envelope import Envelope
from meshgov.access.filters import CellSpec, narrowed, requested_specs
from meshgov.access.grants import GRANTABLE
from meshgov.access.policy import Verdict
from meshgov.access.resolve import (
    CLASSIFICATION_TAG,
    AccessRequestRefusedError,
    Resolution,
    classification_of,
    resolve_named,
    resolve_tagged,
)
from meshgov.access.states import HOLDING_STATES
from meshgov.access.store import RequestConflictError, RequestRecord, fingerprint, request_id_for
from meshgov.access.sweep import AccessSweep, AccessSweepIncompleteError
from meshgov.audit import Auditor, AuditOutcome
from meshgov.aws.arns import partition_of
from meshgov.aws.session import error_code
from meshgov.contracts.access_events import (
    ACCESS_APPROVAL_REQUESTED,
    ACCESS_DECIDED,
    ACCESS_DENIED,
    ACCESS_REQUESTED,
    ACCESS_REVIEWED,
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
    NamedResource,
    Permission,
    TableFilter,
)
from meshgov.contracts.glue_events import BreakingSchemaChangeDetail
from meshgov.errors import EventMalformedError


class AccessService(AccessSweep):
    """Everything the central access functions do (the requests function and the sweep)."""

    # --- dispatch ------------------------------------------------------------------------------
    def handle(self, envelope: Envelope) -> Outcome:
        handlers: dict[tuple[str, str], Callable[[Envelope], Outcome]] = {
            (ACCESS_SOURCE, ACCESS_REQUESTED): self._requested,
            (ACCESS_SOURCE, ACCESS_DECIDED): self._decided,
            (ACCESS_SOURCE, ACCESS_REVOKE_REQUESTED): self._revoke_requested,
            (ACCESS_SOURCE, ACCESS_REVIEWED): self._reviewed,
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
            resolution, specs = self._resolve(detail)
        except AccessRequestRefusedError as refusal:
            return self._refuse_request(envelope, refusal)
        filtered = {spec.table for spec in specs}
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
            filters=tuple(spec.as_dict() for spec in specs),
            unfiltered=tuple(pair for pair in resolution.classified if pair[0] not in filtered),
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
            verdict, why = self._policy.evaluate(
                record.duration_days or 0, record.classifications, record.unfiltered
            )
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
        # The contract accepts a role of any partition; the consumer's account is in the mesh's
        # own ("each AWS account is scoped to one partition",
        # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html).
        partition = self._events.arns.partition
        if partition_of(detail.principal) != partition:
            raise AccessRequestRefusedError(
                "RequestMalformed",
                f"principal: {detail.principal} is not in the mesh's partition {partition!r}",
            )
        return detail

    def _resolve(self, detail: AccessRequestedDetail) -> tuple[Resolution, tuple[CellSpec, ...]]:
        """What the request covers, and its filters checked against the central tables."""
        if detail.tag_expression is not None:
            return self._resolve_tagged(detail), ()
        assert detail.resource is not None  # the contract guarantees one of the two
        resource = detail.resource
        if resource.filters and Permission.SELECT not in detail.permissions:
            raise AccessRequestRefusedError(
                "FilterWithoutSelect", "a filter restricts SELECT: request SELECT with it"
            )
        database = self._catalog.database(resource.database)
        tables = self._catalog.tables(resource.database) if database else []
        resolution = self._resolve_named(resource, database, tables)
        by_name = {str(t["Name"]).lower(): t for t in tables if not t.get("TargetTable")}
        return resolution, requested_specs(resource.database, resource.filters, by_name)

    def _resolve_tagged(self, detail: AccessRequestedDetail) -> Resolution:
        assert detail.tag_expression is not None
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

    def _resolve_named(
        self,
        resource: NamedResource,
        database: Mapping[str, Any] | None,
        tables: Sequence[Mapping[str, Any]],
    ) -> Resolution:
        resolution = resolve_named(resource, database, tables, self._producers)
        policy = self._policy
        auto = policy.auto_approve_classifications | policy.filter_required_classifications
        if self._table_tags is None or not auto:
            return resolution  # no policy rule reads them: the classifications are informative
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
        changes: dict[str, Any] = {}
        if detail.filters:
            try:
                filters = self._narrowed(record, detail.filters)
            except AccessRequestRefusedError as refusal:
                return self._refuse(envelope, refusal.code, str(refusal), record.request_id)
            changes["filters"] = tuple(spec.as_dict() for spec in filters)
            self._auditor.record(
                "access:narrowed",
                AuditOutcome.SUCCEEDED,
                record.request_id,
                record.request_id,
                "; ".join(f"{s.database}.{s.table}: {s.text()}" for s in filters),
                requested=list(record.filters),
                approved=list(changes["filters"]),
                event_id=envelope.event_id,
            )
        record = self._move(
            record,
            S.APPROVED,
            detail.reason,
            envelope.event_id,
            decided_by=decided_by,
            decision_event=envelope.event_id,
            **changes,
        )
        return self._advance(record, envelope.event_id)

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
            for t in self._catalog.tables(cover.database)
            if str(t["Name"]).lower() in {n.lower() for n in cover.tables}
        }
        current = [CellSpec.from_dict(f) for f in record.filters]
        return narrowed(current, decided, tables, cover.database)

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
        if not (detail.linked or detail.links_made) or not detail.request_id:
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
        if not detail.linked:
            return Outcome(record.request_id, record.state)  # grants failed: retried, not active
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

    # --- breaking schema changes ---------------------------------------------------------------
    def _breaking_change(self, envelope: Envelope) -> Outcome:
        detail = self._catalog_detail(envelope, BreakingSchemaChangeDetail)
        if isinstance(detail, Outcome):
            return detail
        told = []
        for state in HOLDING_STATES:
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


def _names(value: object) -> list[str]:
    """Column names from a change summary (retyped columns are ``[name, before, after]``)."""
    if not isinstance(value, list):
        return []
    return [str(v[0]) if isinstance(v, list) and v else str(v) for v in value]


__all__ = ["AccessService", "AccessSweepIncompleteError", "Outcome", "TableTagsReader"]
