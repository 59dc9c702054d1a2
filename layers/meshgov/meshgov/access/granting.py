"""Granting an approved request: its filters, then its Lake Formation grants to the consumer
account, then GRANTED, then ``Access Granted`` to the consumer (which makes the links and grants
its principal)."""

from __future__ import annotations

from datetime import timedelta

from meshgov.access.core import OWNERSHIP, AccessContext, Outcome, S
from meshgov.access.grants import central_grant_entries, link_grant_entries
from meshgov.access.request_filters import RequestFilters
from meshgov.access.store import RequestRecord
from meshgov.access.transitions import Transitions
from meshgov.audit import AuditOutcome
from meshgov.contracts.access_events import ACCESS_GRANTED, Permission, TagExpression


class Granting:
    def __init__(
        self, ctx: AccessContext, transitions: Transitions, filters: RequestFilters
    ) -> None:
        self._ctx = ctx
        self._transitions = transitions
        self._filters = filters

    def advance(self, record: RequestRecord, correlation: str) -> Outcome:
        """APPROVED -> grants in Lake Formation -> GRANTED -> ``Access Granted`` to the consumer.

        For a GRANTED request (a redelivery after the event could not be sent) only the event
        is sent again: the member makes links and grants idempotently."""
        if record.state is S.GRANTED:
            self.send_granted(record)
            return Outcome(record.request_id, record.state, events_sent=[ACCESS_GRANTED])
        ctx = self._ctx
        permissions = [Permission(p) for p in record.permissions]
        expression = (
            TagExpression.model_validate(record.tag_expression)
            if record.tag_expression is not None
            else None
        )
        filtered = self._filters.make(record)
        entries = central_grant_entries(
            ctx.central,
            record.consumer_account,
            record.coverage,
            permissions,
            expression,
            filtered,
        )
        links = (
            []
            if record.kind == OWNERSHIP
            else link_grant_entries(
                ctx.central, record.principal, record.coverage, permissions, filtered
            )
        )
        ctx.catalog.grant(entries)
        ctx.auditor.record(
            "lakeformation:BatchGrantPermissions",
            AuditOutcome.SUCCEEDED,
            record.consumer_account,
            record.request_id,
            f"{len(entries)} grants with grant option to {record.consumer_account}",
            entries=entries,
        )
        now = ctx.clock()
        expires = (
            (now + timedelta(days=record.duration_days)).isoformat(timespec="seconds")
            if record.duration_days
            else None
        )
        record = self._transitions.move(
            record,
            S.GRANTED,
            "grants made",
            correlation,
            central_grants=tuple(entries),
            link_grants=tuple(links),
            links=record.databases,
            expires_at=expires,
        )
        self.send_granted(record)
        return Outcome(record.request_id, record.state, events_sent=[ACCESS_GRANTED])

    def send_granted(self, record: RequestRecord) -> None:
        """``Access Granted``: what the consumer links and grants its principal (also sent again
        after a re-share)."""
        self._transitions.send(
            record.consumer_account,
            ACCESS_GRANTED,
            {
                "requestId": record.request_id,
                "consumerAccount": record.consumer_account,
                "principal": None if record.kind == OWNERSHIP else record.principal,
                "centralAccount": self._ctx.central,
                "resource": record.resource,
                "tagExpression": record.tag_expression,
                "permissions": list(record.permissions),
                "expiresAt": record.expires_at,
                "links": list(record.links),
                "grants": list(record.link_grants),
                "dataCellsFilters": [data for _, data in self._filters.of(record)],
            },
            record,
        )
