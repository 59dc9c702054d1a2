"""Producer ownership (the blog's steps 3-5): a producer's published central databases are
shared back to it, as a standing request of kind ``ownership`` that explains those grants; on
``Database Published``, and by the sweep as a backstop for a missed one."""

from __future__ import annotations

from dataclasses import replace

from meshgov.access.catalog_news import catalog_detail
from meshgov.access.core import OWNERSHIP, OWNERSHIP_PERMISSIONS, AccessContext, Outcome, S
from meshgov.access.envelope import Envelope
from meshgov.access.granting import Granting
from meshgov.access.resolve import AccessRequestRefusedError, owner_of
from meshgov.access.states import HOLDS_GRANTS, TERMINAL
from meshgov.access.store import Coverage, RequestRecord, fingerprint, request_id_for
from meshgov.access.transitions import Transitions
from meshgov.audit import AuditOutcome
from meshgov.catalog.projection import SOURCE_ACCOUNT
from meshgov.contracts.glue_events import DatabasePublishedDetail


class OwnershipGrants:
    def __init__(self, ctx: AccessContext, transitions: Transitions, granting: Granting) -> None:
        self._ctx = ctx
        self._transitions = transitions
        self._granting = granting

    def database_published(self, envelope: Envelope) -> Outcome:
        detail = catalog_detail(self._ctx, self._transitions, envelope, DatabasePublishedDetail)
        if isinstance(detail, Outcome):
            return detail
        return self.ensure_ownership(detail.central_database, envelope.event_id)

    def ensure_ownership(self, database: str, correlation: str) -> Outcome:
        """Grant the producer DESCRIBE and SELECT, with the grant option, on its central database
        and all its tables, as a standing request (no expiry) that explains those grants: its
        data engineers see their products as the mesh shows them, and can share them onward
        from their own account. Never ALTER or DROP: the central copy is meshgov's mirror."""
        ctx = self._ctx
        central_db = ctx.catalog.database(database)
        try:
            owner = owner_of(central_db, database, ctx.producers)
        except AccessRequestRefusedError as refusal:
            ctx.auditor.record(
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
            now = ctx.clock().isoformat(timespec="seconds")
            record = RequestRecord(
                request_id=request_id_for(owner, token),
                kind=OWNERSHIP,
                client_token=token,
                fingerprint=fingerprint({"ownership": database, "owner": owner}),
                consumer_account=owner,
                principal=owner,
                owner_account=owner,
                domain=ctx.producers[owner],
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
            if not ctx.store.create(record):
                return self.ensure_ownership(database, correlation)
            record = replace(record, version=1)
            self._transitions.audit_transition(record, None, "producer ownership", correlation)
        if record.state is S.REQUESTED:
            record = self._transitions.move(
                record,
                S.APPROVED,
                "a producer owns its published databases",
                correlation,
                decided_by="meshgov:ownership",
            )
        if record.state in (S.APPROVED, S.GRANTED):
            return self._granting.advance(record, correlation)
        return Outcome(record.request_id, record.state)

    def ensure_all(self, correlation: str) -> int:
        """The backstop for a missed ``Database Published``: every published central database
        has its producer's standing ownership grant."""
        ctx = self._ctx
        granted = 0
        records: dict[str, list[RequestRecord]] = {}
        for database in ctx.catalog.databases():
            params = database.get("Parameters") or {}
            owner = str(params.get(SOURCE_ACCOUNT, ""))
            if owner not in ctx.producers:
                continue
            name = str(database["Name"])
            if owner not in records:
                records[owner] = [r for r in ctx.store.of_consumer(owner) if r.kind == OWNERSHIP]
            settled = [
                r for r in records[owner] if r.databases == (name,) and r.state in HOLDS_GRANTS
            ]
            if not settled:
                self.ensure_ownership(name, correlation)
                granted += 1
        return granted

    def _ownership_records(self, owner: str, database: str) -> list[RequestRecord]:
        return [
            r
            for r in self._ctx.store.of_consumer(owner)
            if r.kind == OWNERSHIP and r.databases == (database,)
        ]
