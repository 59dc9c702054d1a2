"""``Access Requested``: a consumer's request checked (its own account, grantable permissions,
the mesh's partition, published resources, filters on real columns), recorded once per client
token, then handed to :class:`meshgov.access.approval.Approval`. A refusal is audited and told
to the sender, and records nothing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from botocore.exceptions import ClientError
from pydantic import ValidationError

from meshgov.access.approval import Approval
from meshgov.access.central_adapter import AccessActionError
from meshgov.access.core import TAG_NOT_FOUND, AccessContext, Outcome, S
from meshgov.access.envelope import Envelope
from meshgov.access.filters import CellSpec, requested_specs
from meshgov.access.grants import GRANTABLE
from meshgov.access.resolve import (
    CLASSIFICATION_TAG,
    AccessRequestRefusedError,
    Resolution,
    classification_of,
    resolve_named,
    resolve_tagged,
)
from meshgov.access.store import RequestConflictError, RequestRecord, fingerprint, request_id_for
from meshgov.access.transitions import Transitions
from meshgov.audit import AuditOutcome
from meshgov.aws.arns import partition_of
from meshgov.aws.session import error_code
from meshgov.contracts.access_events import (
    ACCESS_DENIED,
    AccessRequestedDetail,
    NamedResource,
    Permission,
)
from meshgov.errors import validation_reason


class Intake:
    def __init__(self, ctx: AccessContext, transitions: Transitions, approval: Approval) -> None:
        self._ctx = ctx
        self._transitions = transitions
        self._approval = approval

    def requested(self, envelope: Envelope) -> Outcome:
        ctx = self._ctx
        ctx.auditor.record(
            "access:request-received", AuditOutcome.RECEIVED, envelope.account, envelope.event_id
        )
        try:
            detail = self._parse_request(envelope)
            request_id = request_id_for(detail.consumer_account, detail.client_token)
            content = detail.model_dump(mode="json", by_alias=True)
            existing = ctx.store.get(request_id)
            if existing is not None:
                return self._repeated(existing, content, envelope)
            resolution, specs = self._resolve(detail)
        except AccessRequestRefusedError as refusal:
            return self._refuse_request(envelope, refusal)
        filtered = {spec.table for spec in specs}
        now = ctx.clock()
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
        if not ctx.store.create(record):
            stored = ctx.store.get(request_id)
            if stored is None:
                raise RequestConflictError(f"{request_id} vanished while being created")
            return self._repeated(stored, content, envelope)
        record = replace(record, version=1)
        self._transitions.audit_transition(record, None, "request recorded", envelope.event_id)
        return self._approval.proceed(record, envelope.event_id)

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
            raise AccessRequestRefusedError("RequestMalformed", validation_reason(exc)) from exc
        if detail.consumer_account != envelope.account:
            raise AccessRequestRefusedError(
                "ConsumerMismatch",
                f"the request names consumer {detail.consumer_account} but came from account "
                f"{envelope.account}: only a consumer account can ask for itself",
            )
        members = self._ctx.members
        if members is not None and detail.consumer_account not in members():
            # The central bus admits the whole organization; the registry says who is a member.
            raise AccessRequestRefusedError(
                "ConsumerNotRegistered",
                f"account {detail.consumer_account} is not a registered member of the mesh: the "
                "platform team registers it (meshgov accounts add ACCOUNT --consumer)",
            )
        # The contract accepts a role of any partition; the consumer's account is in the mesh's
        # own ("each AWS account is scoped to one partition",
        # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html).
        partition = self._ctx.events.arns.partition
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
        catalog = self._ctx.catalog
        database = catalog.database(resource.database)
        tables = catalog.tables(resource.database) if database else []
        resolution = self._resolve_named(resource, database, tables)
        by_name = {str(t["Name"]).lower(): t for t in tables if not t.get("TargetTable")}
        return resolution, requested_specs(resource.database, resource.filters, by_name)

    def _resolve_tagged(self, detail: AccessRequestedDetail) -> Resolution:
        assert detail.tag_expression is not None
        try:
            matches = self._ctx.catalog.tagged_tables(detail.tag_expression)
        except AccessActionError as exc:
            cause = exc.__cause__
            if isinstance(cause, ClientError) and error_code(cause) == TAG_NOT_FOUND:
                keys = ", ".join(c.key for c in detail.tag_expression.conditions)
                raise AccessRequestRefusedError(
                    "TagKeyUnknown", f"the LF-Tag expression names an unknown tag key ({keys})"
                ) from exc
            raise
        return resolve_tagged(matches, self._ctx.producers)

    def _resolve_named(
        self,
        resource: NamedResource,
        database: Mapping[str, Any] | None,
        tables: Sequence[Mapping[str, Any]],
    ) -> Resolution:
        ctx = self._ctx
        resolution = resolve_named(resource, database, tables, ctx.producers)
        policy = ctx.policy
        auto = policy.auto_approve_classifications | policy.filter_required_classifications
        if ctx.table_tags is None or not auto:
            return resolution  # no policy rule reads them: the classifications are informative
        # A table's LF-Tag ``classification`` counts before its parameter, as for expressions.
        # One search finds the tables tagged with an auto-approved value; only a table that
        # claims one by parameter alone has its tags read, to be sure no LF-Tag says otherwise.
        (cover,) = resolution.coverage
        by_name = {str(t["Name"]).lower(): t for t in tables if not t.get("TargetTable")}
        names = [n.lower() for n in cover.tables] or list(by_name)
        tagged = ctx.catalog.tables_classified(resource.database, auto)
        tags: dict[str, Mapping[str, Sequence[str]]] = {}
        for name in names:
            if name in tagged:
                tags[name] = {CLASSIFICATION_TAG: tagged[name]}
            elif classification_of(by_name[name], None) in auto:
                tags[name] = ctx.table_tags(resource.database, name)
        return resolve_named(resource, database, tables, ctx.producers, tags)

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
        self._ctx.auditor.record(
            "access:request-repeated",
            AuditOutcome.SKIPPED,
            existing.request_id,
            existing.request_id,
            f"the same request again (token {existing.client_token}); state {existing.state}",
            event_id=envelope.event_id,
        )
        return self._approval.proceed(existing, envelope.event_id)

    def _refuse_request(self, envelope: Envelope, refusal: AccessRequestRefusedError) -> Outcome:
        ctx = self._ctx
        token = str(envelope.detail.get("clientToken", ""))[:64]
        ctx.auditor.record(
            "access:request",
            AuditOutcome.REFUSED,
            envelope.account,
            envelope.event_id,
            str(refusal),
            error_code=refusal.code,
            client_token=token or None,
        )
        # Tell the sender (the account EventBridge vouches for, not the one the request names).
        ctx.events.send(
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
        ctx.auditor.record(
            "events:PutEvents",
            AuditOutcome.SUCCEEDED,
            ctx.events.bus_arn(envelope.account),
            envelope.event_id,
            ACCESS_DENIED,
        )
        return Outcome(refused=refusal.code, events_sent=[ACCESS_DENIED])
