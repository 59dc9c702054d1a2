"""Reconcile central copies to the producer's *current* state (DESIGN.md flow 1).

Nothing here applies an event's payload: events only say *which* objects to look at. Each step
reads the source, compares it with what meshgov last wrote (the ledger) and, only where they
differ, with the central object, then writes the difference. Running any step twice, or steps in
any order, ends in the same central state.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from meshgov.audit import Auditor, AuditOutcome, AuditTrail
from meshgov.aws.arns import Arns
from meshgov.catalog.canonical import comparable, content_hash, digest
from meshgov.catalog.central import CentralCatalog
from meshgov.catalog.drift import (
    CatalogDrift,
    CentralSnapshot,
    DriftKind,
    database_drift,
    extra_databases,
    extra_tables,
    partition_drift,
    table_drift,
)
from meshgov.catalog.events_out import (
    BREAKING_SCHEMA_CHANGE,
    DATABASE_PUBLISHED,
    CatalogEventPublisher,
)
from meshgov.catalog.ledger import DatabaseRow, SyncLedger, TableRow
from meshgov.catalog.locations import DataLocations
from meshgov.catalog.name_gate import NameGate
from meshgov.catalog.naming import Producer, central_database_name
from meshgov.catalog.plan import Action, PartitionKey, plan_partitions, plan_table
from meshgov.catalog.projection import (
    central_database_input,
    central_table_input,
    database_input_of,
    partition_input,
    partition_key,
    table_input_of,
)
from meshgov.catalog.publication import database_published, is_resource_link, table_published_in
from meshgov.catalog.source import ProducerCatalog, ProducerTags
from meshgov.catalog.tags import TableTags, TagMap, diff_tags
from meshgov.contracts.glue_events import BreakingSchemaChangeDetail, DatabasePublishedDetail
from meshgov.contracts_odcs.guard import (
    CONTRACT_PARAMETER,
    ContractGuard,
    contract_digest,
    contract_location,
)
from meshgov.errors import MeshgovError, NameInvalidError
from meshgov.lineage.reach import Reach, downstream_detail

ALL = None  # partition scope meaning "every partition of the table"


@dataclass
class ReconcileReport:
    """What a reconcile did: counts for metrics, the demo and the benchmarks."""

    databases_created: int = 0
    databases_updated: int = 0
    databases_deleted: int = 0
    tables_created: int = 0
    tables_updated: int = 0
    tables_deleted: int = 0
    tables_unchanged: int = 0
    tables_skipped: int = 0
    partitions_created: int = 0
    partitions_updated: int = 0
    partitions_deleted: int = 0
    tag_changes: int = 0
    breaking_changes: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    # Why a step wrote nothing (database not published, a resource link, a name refused...):
    # the event path audits them when a whole event led to nothing (CatalogSyncService).
    noops: list[str] = field(default_factory=list)

    def merge(self, other: ReconcileReport) -> None:
        for name, value in vars(other).items():
            mine = getattr(self, name)
            setattr(self, name, mine + value)

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))

    def changed(self) -> bool:
        """Whether anything was written to the central catalog."""
        return any(
            (
                self.databases_created,
                self.databases_updated,
                self.databases_deleted,
                self.tables_created,
                self.tables_updated,
                self.tables_deleted,
                self.partitions_created,
                self.partitions_updated,
                self.partitions_deleted,
                self.tag_changes,
            )
        )


@dataclass(frozen=True)
class _Context:
    producer: Producer
    source: ProducerCatalog
    source_database: str
    central_database: str
    correlation_id: str
    report: ReconcileReport
    # The sweep's read of central (None on the event path, which trusts the ledger): what the
    # ledger says meshgov wrote is checked against it, so changes made by hand are put back.
    central_view: CentralSnapshot | None = None


class CatalogReconciler:
    def __init__(
        self,
        *,
        source_for: Callable[[Producer], ProducerCatalog],
        central: CentralCatalog,
        ledger: SyncLedger,
        audit: AuditTrail,
        publisher: CatalogEventPublisher,
        arns: Arns,
        actor: str,
        clock: Callable[[], datetime],
        locations: DataLocations | None = None,
        contracts: ContractGuard | None = None,
        downstream: Reach | None = None,
    ) -> None:
        self._source_for = source_for
        # What a breaking change reaches downstream (meshgov.lineage.reach; None: not wired).
        self._downstream = downstream
        # Data contracts (meshgov.contracts_odcs): checked where a table's contract digest moved.
        self._contracts = contracts
        # Registers published tables' S3 locations in central Lake Formation (None: not wired).
        self._locations = locations
        self._central = central
        self._ledger = ledger
        self._auditor = Auditor(audit, actor)
        self._publisher = publisher
        self._arns = arns  # the function's partition and Region
        self._clock = clock
        self._names = NameGate(self._auditor, publisher, arns)

    # --- entry points ----------------------------------------------------------------------
    def reconcile_tables(
        self,
        producer: Producer,
        database: str,
        tables: Collection[str],
        partition_scopes: Mapping[str, frozenset[PartitionKey] | None],
        correlation_id: str,
    ) -> ReconcileReport:
        """Event path: converge the named tables (and, where asked, their partitions)."""
        report = ReconcileReport()
        ctx = self._context(producer, database, correlation_id, report)
        if ctx is None:
            return report
        source_db = ctx.source.get_database(database)
        if source_db is None:  # the database itself is gone: converge all of it
            self._converge_database(ctx, None, None, None)
            return report
        published_db = database_published(source_db)
        rows = self._ledger.get_tables(producer.account_id, database, tables)
        db_row = self._ledger.get_database(producer.account_id, database)
        desired: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
        for name in sorted(set(tables)):
            source_table = ctx.source.get_table(database, name)
            if source_table is not None and table_published_in(source_db, source_table):
                desired[name] = (source_table, self._table_input(ctx, source_table))
            else:
                self._skip(ctx, name, source_table, in_link=is_resource_link(source_db))
        if desired and db_row is None and self._database_refused(ctx):
            desired = {}
        for name in self._tables_refused(ctx, [n for n in desired if n not in rows]):
            del desired[name]
        if desired:
            if db_row is None:
                db_tags = ctx.source.database_tags(database)
                db_row = self._ensure_database(ctx, source_db, db_tags, None)
            for name, (source_table, table_input) in desired.items():
                column_names = [
                    str(c["Name"])
                    for c in (source_table.get("StorageDescriptor") or {}).get("Columns") or []
                ]
                tags = ctx.source.table_tags(database, name, db_row.tags, column_names)
                scope = partition_scopes.get(name, frozenset())
                self._converge_table(
                    ctx,
                    source_table,
                    table_input,
                    tags,
                    rows.get(name),
                    scope,
                    database_contract=contract_location(source_db, {}),
                )
        gone = [name for name in tables if name not in desired and name in rows]
        if gone:
            self._delete_tables(ctx, gone)
        if (
            not published_db
            and not desired
            and db_row is not None
            and not self._ledger.tables(producer.account_id, database)
        ):
            self._drop_database(ctx, "database unpublished and no table published")
        return report

    def reconcile_database(
        self, producer: Producer, database: str, correlation_id: str
    ) -> ReconcileReport:
        """Converge one whole database (database events, sync requests)."""
        report = ReconcileReport()
        ctx = self._context(producer, database, correlation_id, report)
        if ctx is None:
            return report
        source_db = ctx.source.get_database(database)
        tables = ctx.source.list_tables(database) if source_db is not None else None
        self._converge_database(ctx, source_db, tables, None)
        return report

    def sweep(self, producers: Iterable[Producer], correlation_id: str) -> ReconcileReport:
        """Converge everything every producer publishes: catches every missed event."""
        report = ReconcileReport()
        view = self._central_view(correlation_id, report)
        for producer in producers:
            try:
                self._sweep_producer(producer, correlation_id, report, view)
            except MeshgovError as exc:
                report.failed.append(f"{producer.account_id}: {exc}")
                self._auditor.record(
                    "sweep:producer",
                    AuditOutcome.FAILED,
                    f"producer/{producer.account_id}",
                    correlation_id,
                    str(exc),
                )
        return self.close_sweep(report, correlation_id)

    def locations_in_use(self) -> frozenset[str]:
        """The data locations (bucket ARNs) the published tables converged in this invocation
        use (a fan-out sweep's item keeps them with its run)."""
        return self._locations.in_use() if self._locations is not None else frozenset()

    def close_sweep(
        self, report: ReconcileReport, correlation_id: str, *, in_use: Collection[str] = ()
    ) -> ReconcileReport:
        """A sweep's last steps, once every producer was converged (in one invocation, or by a
        fan-out sweep's last work item, which passes ``in_use``: the buckets its run's items
        saw, since no item alone saw them all): the data locations no published table uses any
        more deregistered (only after a complete sweep), and ``sweep:completed`` with its
        report."""
        if self._locations is not None:  # deregisters only after a complete sweep
            self._locations.also_in_use(in_use)
            report.failed.extend(self._locations.sweep(correlation_id, complete=not report.failed))
        self._auditor.record(
            "sweep:completed",
            AuditOutcome.FAILED if report.failed else AuditOutcome.SUCCEEDED,
            "catalog",
            correlation_id,
            "",
            report=report.as_dict(),
        )
        return report

    def retire(self, producer: Producer, correlation_id: str, why: str) -> ReconcileReport:
        """Unpublish everything ``producer`` published (it left the registry): each database
        the ledger holds for it dropped as if its source had deleted it, then any central
        database still carrying its provenance. Its source is never read (its member stack may
        be gone); dropping a database is what tells the access sweep to revoke its grants."""
        report = ReconcileReport()
        for row in sorted(
            self._ledger.databases(producer.account_id).values(), key=lambda r: r.source_database
        ):
            self._drop(
                producer, row.source_database, row.central_database, correlation_id, report, why
            )
        view = self._central_view(correlation_id, report)
        if view is not None:
            for drift in extra_databases(producer, view, []):
                self._remove_extra_database(producer, drift, correlation_id, report)
        return report

    # --- a fan-out sweep's work items (meshgov.catalog.fanout) --------------------------------
    def sweep_producer_page(
        self,
        producer: Producer,
        owned_centrally: Collection[str],
        correlation_id: str,
        start: tuple[str, str | None] | None,
        limit: int,
    ) -> tuple[ReconcileReport, tuple[str, str | None] | None]:
        """One work item of a fan-out sweep: ``producer`` converged as :meth:`sweep` converges
        it - its catalog listed, its LF-Tags read in one search, each database checked against
        central's own listing of it - from ``start`` (a database, and the table to continue
        after; None: from the beginning) until ``limit`` tables were written. Unchanged tables
        cost no call, so a sweep with nothing to do is one item per producer. Returns the report
        and where the next item continues (None: the producer is done). Central databases of its
        provenance (``owned_centrally``) that none of its databases explains are removed by its
        first item (drift)."""
        report = ReconcileReport()
        source = self._source_for(producer)
        source_dbs = {db["Name"]: db for db in source.list_databases()}
        known = self._ledger.databases(producer.account_id)
        every = sorted(set(source_dbs) | set(known))
        ahead = [n for n in every if start is None or n >= start[0]]
        # The first item reads the whole catalog at once (one LF-Tag search: a sweep with
        # nothing to do is this one item); a continuation reads one database at a time, as it
        # reaches it, so a large producer's pages do not each list it all again.
        for batch in [ahead] if start is None else [[n] for n in ahead]:
            listing, tags = self._read_source(source, source_dbs, known, batch)
            for name in sorted(n for n in set(listing) | set(known) if n in batch):
                written = report.tables_created + report.tables_updated
                if written >= limit:
                    return report, (name, None)
                view = self._database_view(producer, name, correlation_id, report)
                ctx = self._context(
                    producer, name, correlation_id, report, source=source, view=view
                )
                if ctx is None:
                    continue
                after = start[1] if start is not None and name == start[0] else None
                try:
                    cursor = self._converge_database(
                        ctx, source_dbs.get(name), listing.get(name), tags, after, limit - written
                    )
                except MeshgovError as exc:
                    report.failed.append(f"{producer.account_id}:{name}: {exc}")
                    self._auditor.record(
                        "sweep:database", AuditOutcome.FAILED, name, correlation_id, str(exc)
                    )
                    continue
                if cursor is not None:
                    return report, (name, cursor)
        if start is None:
            explained: list[str] = []
            for name in every:
                with contextlib.suppress(NameInvalidError):  # refused and audited above
                    explained.append(central_database_name(producer, name))
            for drift in [
                CatalogDrift(DriftKind.DATABASE_EXTRA, name)
                for name in sorted(set(owned_centrally) - set(explained))
            ]:
                self._remove_extra_database(producer, drift, correlation_id, report)
        return report, None

    @staticmethod
    def _read_source(
        source: ProducerCatalog,
        source_dbs: Mapping[str, dict[str, Any]],
        known: Collection[str],
        names: Collection[str],
    ) -> tuple[dict[str, list[dict[str, Any]]], ProducerTags]:
        """The tables of the databases ``names`` that publish something (or that the ledger
        holds), and their LF-Tags in one search."""
        listing: dict[str, list[dict[str, Any]]] = {}
        published_refs: list[tuple[str, str]] = []
        for name in names:
            db = source_dbs.get(name)
            if db is None:
                continue
            # A resource link's tables are the target's (GetTables follows the link): not read.
            tables = [] if is_resource_link(db) else source.list_tables(name) or []
            published = [t for t in tables if table_published_in(db, t)]
            if database_published(db) or published or name in known:
                listing[name] = tables
                published_refs.extend((name, t["Name"]) for t in published)
        if not listing:
            return listing, ProducerTags(databases={}, tables={})
        return listing, source.all_tags(list(listing), published_refs)

    def _database_view(
        self, producer: Producer, database: str, correlation_id: str, report: ReconcileReport
    ) -> CentralSnapshot | None:
        """Central's listing of one database of ``producer`` (for the drift check); None when
        its name is refused (nothing to compare) or central cannot be read (the page then
        converges what changed, trusting the ledger, and the sweep fails: retried next time)."""
        try:
            return self._central.database_snapshot(central_database_name(producer, database))
        except NameInvalidError:
            return None
        except MeshgovError as exc:
            report.failed.append(f"central {database}: {exc}")
            self._auditor.record(
                "sweep:central", AuditOutcome.FAILED, database, correlation_id, str(exc)
            )
            return None

    # --- steps -----------------------------------------------------------------------------
    def _central_view(self, correlation_id: str, report: ReconcileReport) -> CentralSnapshot | None:
        """Central as it is now (11 reads for 10,000 tables: :meth:`CentralCatalog.snapshot`).
        Unreadable: the sweep still converges what the source changed (trusting the ledger, as
        the event path does), and fails, so the drift check is retried."""
        try:
            return self._central.snapshot()
        except MeshgovError as exc:
            report.failed.append(f"central: {exc}")
            self._auditor.record(
                "sweep:central", AuditOutcome.FAILED, "catalog", correlation_id, str(exc)
            )
            return None

    def _sweep_producer(
        self,
        producer: Producer,
        correlation_id: str,
        report: ReconcileReport,
        view: CentralSnapshot | None = None,
    ) -> None:
        source = self._source_for(producer)
        source_dbs = {db["Name"]: db for db in source.list_databases()}
        known = self._ledger.databases(producer.account_id)
        listing: dict[str, list[dict[str, Any]]] = {}
        published_refs: list[tuple[str, str]] = []
        for name, db in source_dbs.items():
            published_db = database_published(db)
            # A resource link's tables are the target's (GetTables follows the link): not read.
            tables = [] if is_resource_link(db) else source.list_tables(name) or []
            published = [t for t in tables if table_published_in(db, t)]
            if published_db or published or name in known:
                listing[name] = tables
                published_refs.extend((name, t["Name"]) for t in published)
        tags = source.all_tags([n for n in listing if n in source_dbs], published_refs)
        explained: list[str] = []
        for name in sorted(set(listing) | set(known)):
            ctx = self._context(producer, name, correlation_id, report, source=source, view=view)
            if ctx is None:
                continue
            explained.append(ctx.central_database)
            try:
                self._converge_database(ctx, source_dbs.get(name), listing.get(name), tags)
            except MeshgovError as exc:
                report.failed.append(f"{producer.account_id}:{name}: {exc}")
                self._auditor.record(
                    "sweep:database", AuditOutcome.FAILED, name, correlation_id, str(exc)
                )
        if view is not None:
            for drift in extra_databases(producer, view, explained):
                self._remove_extra_database(producer, drift, correlation_id, report)

    def _context(
        self,
        producer: Producer,
        database: str,
        correlation_id: str,
        report: ReconcileReport,
        source: ProducerCatalog | None = None,
        view: CentralSnapshot | None = None,
    ) -> _Context | None:
        try:
            central_name = central_database_name(producer, database)
        except NameInvalidError as exc:
            report.refused.append(f"{producer.account_id}:{database}")
            report.noops.append(f"database {database}: name refused")
            self._auditor.record(
                "catalog:name",
                AuditOutcome.REFUSED,
                database,
                correlation_id,
                str(exc),
                account=producer.account_id,
            )
            return None
        return _Context(
            producer=producer,
            source=source or self._source_for(producer),
            source_database=database,
            central_database=central_name,
            correlation_id=correlation_id,
            report=report,
            central_view=view,
        )

    def _converge_database(
        self,
        ctx: _Context,
        source_db: dict[str, Any] | None,
        tables: list[dict[str, Any]] | None,
        tags: ProducerTags | None,
        after: str | None = None,
        limit: int | None = None,
    ) -> str | None:
        """Converge one database. ``after``/``limit`` (a fan-out sweep's page,
        :mod:`meshgov.catalog.fanout`): only the published tables named after ``after``, in name
        order, stopping once ``limit`` tables were written; the name to continue after, or None
        when the database is done (tables gone from the source and central drift are handled on
        its last page only, when every published name has been seen)."""
        account = ctx.producer.account_id
        published_db = source_db is not None and database_published(source_db)
        published = {
            t["Name"]: t
            for t in tables or []
            if source_db is not None and table_published_in(source_db, t)
        }
        db_row = self._ledger.get_database(account, ctx.source_database)
        if source_db is None or not (published_db or published):
            if db_row is not None:
                why = "database deleted" if source_db is None else "database unpublished"
                self._drop_database(ctx, why)
            else:
                ctx.report.noops.append(_unpublished(ctx.source_database, source_db))
            return None
        if db_row is None and self._database_refused(ctx):
            return None
        rows = self._ledger.tables(account, ctx.source_database)
        newcomers = [n for n in published if n not in rows and (after is None or n > after)]
        for name in self._tables_refused(ctx, newcomers):
            del published[name]
        if db_row is None and not (published_db or published):
            return None  # every table it would publish was refused: no empty central database
        page = [(n, t) for n, t in sorted(published.items()) if after is None or n > after]
        if tags is None:
            tags = ctx.source.all_tags(
                [ctx.source_database], [(ctx.source_database, n) for n, _ in page]
            )
        db_tags = tags.databases.get(ctx.source_database, {})
        db_row = self._ensure_database(ctx, source_db, db_tags, db_row)
        written = ctx.report.tables_created + ctx.report.tables_updated
        for position, (name, source_table) in enumerate(page):
            done = ctx.report.tables_created + ctx.report.tables_updated - written
            if limit is not None and position and done >= limit:
                return str(page[position - 1][0])  # the rest on the next page
            table_tags = tags.tables.get((ctx.source_database, name), TableTags())
            self._converge_table(
                ctx,
                source_table,
                self._table_input(ctx, source_table),
                table_tags,
                rows.get(name),
                ALL,
                database_contract=contract_location(source_db, {}),
            )
        gone = [name for name in rows if name not in published]
        if gone:
            self._delete_tables(ctx, gone)
        if ctx.central_view is not None:
            extras = extra_tables(ctx.central_database, ctx.central_view, [*published, *gone])
            if extras:
                self._remove_extra_tables(ctx, extras)
        return None

    def _ensure_database(
        self,
        ctx: _Context,
        source_db: dict[str, Any],
        db_tags: TagMap,
        row: DatabaseRow | None,
    ) -> DatabaseRow:
        desired = central_database_input(
            ctx.producer, source_db, ctx.central_database, self._arns, self._clock()
        )
        wanted_hash = content_hash(desired)
        in_sync = row is not None and row.content_hash == wanted_hash and row.tags == db_tags
        drift = (
            database_drift(desired, ctx.central_view.database(ctx.central_database))
            if ctx.central_view is not None
            else None
        )
        if in_sync and drift is None and row is not None:
            return row
        outside = _outside(drift if in_sync else None)
        current = self._central.get_database(ctx.central_database)
        target = f"database/{ctx.central_database}"
        current_tags: TagMap = {}
        if current is None:
            if self._central.create_database(desired):
                ctx.report.databases_created += 1
                self._auditor.record(
                    "glue:CreateDatabase",
                    AuditOutcome.SUCCEEDED,
                    target,
                    ctx.correlation_id,
                    outside.reason,
                    drift=outside.kind,
                )
                self._database_published(ctx)
            else:  # created concurrently: compare on the next pass
                current = self._central.get_database(ctx.central_database)
        if current is not None:
            if comparable(database_input_of(current)) != comparable(desired):
                self._central.update_database(desired)
                ctx.report.databases_updated += 1
                self._auditor.record(
                    "glue:UpdateDatabase",
                    AuditOutcome.SUCCEEDED,
                    target,
                    ctx.correlation_id,
                    outside.reason,
                    drift=outside.kind,
                )
            current_tags = (
                row.tags
                if row is not None and current_tags is not None
                else self._central.resource_tags(
                    self._central.database_resource(ctx.central_database)
                )[0]
            )
        change = diff_tags(current_tags, db_tags)
        if not change.empty:
            self._central.ensure_tag_values({k: set(v) for k, v in db_tags.items()})
            self._central.change_tags(
                self._central.database_resource(ctx.central_database), change.add, change.remove
            )
            ctx.report.tag_changes += 1
            self._auditor.record(
                "lakeformation:SetLFTags",
                AuditOutcome.SUCCEEDED,
                target,
                ctx.correlation_id,
                add=change.add,
                remove=change.remove,
            )
        new_row = DatabaseRow(
            account_id=ctx.producer.account_id,
            source_database=ctx.source_database,
            central_database=ctx.central_database,
            content_hash=wanted_hash,
            tags=db_tags,
        )
        self._ledger.put_database(new_row)
        return new_row

    def _converge_table(
        self,
        ctx: _Context,
        source_table: dict[str, Any],
        desired: dict[str, Any],
        tags: TableTags,
        row: TableRow | None,
        partition_scope: frozenset[PartitionKey] | None,
        database_contract: str | None = None,
    ) -> None:
        name = str(source_table["Name"])
        if self._locations is not None:  # its data location first: no table without it
            self._locations.use(ctx.producer, source_table, ctx.correlation_id)
        wanted_hash = content_hash(desired)
        target = f"table/{ctx.central_database}/{name}"
        partitioned = bool(desired.get("PartitionKeys"))
        in_sync = row is not None and row.content_hash == wanted_hash and row.tags == tags.as_dict()
        drift = (
            table_drift(
                ctx.central_database,
                desired,
                ctx.central_view.tables_of(ctx.central_database).get(name),
            )
            if ctx.central_view is not None
            else None
        )
        if in_sync and drift is None and row is not None:
            ctx.report.tables_unchanged += 1
            partitions_hash = row.partitions_hash
            created = False
        else:
            outside = _outside(drift if in_sync else None)
            current = self._central.get_table(ctx.central_database, name)
            plan = plan_table(desired, table_input_of(current) if current else None)
            created = plan.action is Action.CREATE
            if plan.action is Action.CREATE and plan.table_input is not None:
                if not self._central.create_table(ctx.central_database, plan.table_input):
                    current = self._central.get_table(ctx.central_database, name)
                    plan = plan_table(desired, table_input_of(current) if current else None)
                    created = False
                else:
                    ctx.report.tables_created += 1
                    self._auditor.record(
                        "glue:CreateTable",
                        AuditOutcome.SUCCEEDED,
                        target,
                        ctx.correlation_id,
                        outside.reason,
                        drift=outside.kind,
                    )
            if plan.action is Action.UPDATE and plan.table_input is not None:
                self._central.update_table(
                    ctx.central_database, plan.table_input, plan.skip_archive
                )
                ctx.report.tables_updated += 1
                change = plan.schema_change
                self._auditor.record(
                    "glue:UpdateTable",
                    AuditOutcome.SUCCEEDED,
                    target,
                    ctx.correlation_id,
                    outside.reason,
                    schema_change=change.summary() if change else None,
                    drift=outside.kind,
                )
                if change is not None and change.breaking:
                    self._breaking_change(ctx, name, plan.table_input, change.summary())
            if plan.action is Action.NOOP:
                ctx.report.tables_unchanged += 1
            column_names = [
                str(c["Name"]) for c in (desired.get("StorageDescriptor") or {}).get("Columns", [])
            ]
            self._converge_table_tags(
                ctx, name, tags, row, created or current is None, column_names
            )
            partitions_hash = None if created or row is None else row.partitions_hash
        if partitioned and (partition_scope is ALL or partition_scope or created):
            arity = len(desired.get("PartitionKeys") or [])
            readable = partition_scope is not ALL and all(len(k) == arity for k in partition_scope)
            scope = partition_scope if readable and not created else ALL
            partitions_hash = self._converge_partitions(ctx, name, scope, partitions_hash)
        new_row = TableRow(
            account_id=ctx.producer.account_id,
            source_database=ctx.source_database,
            table=name,
            content_hash=wanted_hash,
            tags=tags.as_dict(),
            partitions_hash=partitions_hash if partitioned else None,
            contract_digest=self._check_contract(ctx, source_table, row, database_contract),
        )
        if row != new_row:
            self._ledger.put_table(new_row)

    def _check_contract(
        self,
        ctx: _Context,
        source_table: dict[str, Any],
        row: TableRow | None,
        database_contract: str | None,
    ) -> str | None:
        """The table's contract digest for its ledger row, after the contract guard looked at
        the table if that digest moved (an unchanged table with an unchanged contract: no call,
        meshgov.contracts_odcs.guard)."""
        if self._contracts is None:
            return row.contract_digest if row is not None else None
        database = {"Parameters": {CONTRACT_PARAMETER: database_contract}}
        location = contract_location(database, source_table)
        wanted = contract_digest(location, source_table)
        known = row.contract_digest if row is not None else None
        if wanted != known and (wanted is not None or known is not None):
            self._contracts.check(
                producer=ctx.producer,
                source_database=ctx.source_database,
                central_database=ctx.central_database,
                table=source_table,
                location=location,
                correlation_id=ctx.correlation_id,
            )
        return wanted

    def _converge_table_tags(
        self,
        ctx: _Context,
        name: str,
        tags: TableTags,
        row: TableRow | None,
        is_new: bool,
        column_names: list[str],
    ) -> None:
        if is_new:  # just created (again, if deleted by hand): it carries no tag yet
            current = TableTags()
        elif row is not None:
            current = TableTags.from_dict(row.tags)
        else:
            own, columns = self._central.resource_tags(
                self._central.table_resource(ctx.central_database, name), column_names
            )
            current = TableTags(table=own, columns=columns)
        changes = [
            (
                self._central.table_resource(ctx.central_database, name),
                diff_tags(current.table, tags.table),
            )
        ]
        for column in sorted(set(current.columns) | set(tags.columns)):
            changes.append(
                (
                    self._central.column_resource(ctx.central_database, name, column),
                    diff_tags(current.columns.get(column, {}), tags.columns.get(column, {})),
                )
            )
        changes = [(resource, change) for resource, change in changes if not change.empty]
        if not changes:
            return
        self._central.ensure_tag_values(tags.required_values())
        for resource, change in changes:
            self._central.change_tags(resource, change.add, change.remove)
        ctx.report.tag_changes += len(changes)
        self._auditor.record(
            "lakeformation:SetLFTags",
            AuditOutcome.SUCCEEDED,
            f"table/{ctx.central_database}/{name}",
            ctx.correlation_id,
            changes=[{"add": c.add, "remove": c.remove} for _, c in changes],
        )

    def _converge_partitions(
        self,
        ctx: _Context,
        table: str,
        scope: frozenset[PartitionKey] | None,
        known_hash: str | None,
    ) -> str | None:
        """Make the central partitions equal the source's; returns the ledger's new hash.

        With a scope (the partitions an event named) only those are read, by value, and created
        without reading central first (BatchCreatePartition reports the ones that exist). Without
        one, all are compared, and a source unchanged since the last full pass costs no central
        read at all.
        """
        central_db, report = ctx.central_database, ctx.report
        drifts: list[CatalogDrift] = []
        if scope is ALL:
            source_parts = ctx.source.get_partitions(ctx.source_database, table)
            desired = {partition_key(p): partition_input(p) for p in source_parts}
            source_hash = digest(sorted((k, comparable(v)) for k, v in desired.items()))
            # The sweep checks central even when the source is unchanged (one GetPartitions page
            # per 1,000 partitions, as at the source): a partition changed by hand is drift.
            if source_hash == known_hash and ctx.central_view is None:
                return known_hash
            current = {
                partition_key(p): partition_input(p)
                for p in self._central.get_partitions(central_db, table)
            }
            plan = plan_partitions(desired, current)
            if source_hash == known_hash:
                drifts = partition_drift(central_db, table, desired, current)
            new_hash: str | None = source_hash
        else:
            source_parts = ctx.source.batch_get_partitions(ctx.source_database, table, scope)
            desired = {partition_key(p): partition_input(p) for p in source_parts}
            existing = self._central.create_partitions(central_db, table, list(desired.values()))
            report.partitions_created += len(desired) - len(existing)
            current = {
                partition_key(p): partition_input(p)
                for p in (
                    self._central.batch_get_partitions(
                        central_db, table, [tuple(e["Values"]) for e in existing]
                    )
                    if existing
                    else []
                )
            }
            plan = plan_partitions(desired, current, scope=[partition_key(e) for e in existing])
            # Absent at the source, not unread: an incomplete read raises (glue_reads).
            missing = [key for key in scope if key not in desired]
            plan.delete.extend(missing)
            plan.create.clear()  # created above
            new_hash = None
            if not (plan.update or plan.delete or len(desired) > len(existing)):
                new_hash = known_hash
        if plan.create:
            self._central.create_partitions(central_db, table, plan.create)
            report.partitions_created += len(plan.create)
        if plan.update:
            self._central.update_partitions(central_db, table, plan.update)
            report.partitions_updated += len(plan.update)
        if plan.delete:
            self._central.delete_partitions(central_db, table, plan.delete)
            report.partitions_deleted += len(plan.delete)
        if plan.create or plan.update or plan.delete or (scope is not ALL and new_hash is None):
            self._auditor.record(
                "glue:SyncPartitions",
                AuditOutcome.SUCCEEDED,
                f"table/{central_db}/{table}",
                ctx.correlation_id,
                "; ".join(d.reason for d in drifts),
                created=len(plan.create)
                + (len(desired) - len(existing) if scope is not ALL else 0),
                updated=len(plan.update),
                deleted=len(plan.delete),
                drift=[d.kind.value for d in drifts] or None,
            )
        return new_hash

    def _delete_tables(self, ctx: _Context, names: list[str]) -> None:
        deleted = self._central.delete_tables(ctx.central_database, names)
        self._ledger.forget_tables(ctx.producer.account_id, ctx.source_database, names)
        ctx.report.tables_deleted += len(deleted)
        self._auditor.record(
            "glue:BatchDeleteTable",
            AuditOutcome.SUCCEEDED,
            f"database/{ctx.central_database}",
            ctx.correlation_id,
            tables=sorted(names),
            reason="unpublished or deleted at the source",
        )

    def _remove_extra_tables(self, ctx: _Context, drifts: list[CatalogDrift]) -> None:
        """Central tables of a published database that no published source table explains:
        removed, audited as drift (no ledger row names them).

        Lake Formation decides: meshgov may drop the tables it created, but "data lake
        administrators ... do not have implicit permissions to ... alter/drop tables created by
        others" (https://docs.aws.amazon.com/lake-formation/latest/dg/implicit-permissions.html),
        and the catalog role may not grant itself anything. A table an administrator created by
        hand stays until DROP on it is granted to the catalog role (or it is dropped by hand):
        the refusal is audited each sweep and ``posture`` keeps listing it, but it does not fail
        the sweep (retrying cannot help).
        """
        names = [d.table for d in drifts]
        target = f"database/{ctx.central_database}"
        try:
            deleted = self._central.delete_tables(ctx.central_database, names)
        except MeshgovError as exc:
            ctx.report.noops.append(f"{drifts[0].reason} in {ctx.central_database}: {exc}")
            self._auditor.record(
                "glue:BatchDeleteTable",
                AuditOutcome.FAILED,
                target,
                ctx.correlation_id,
                f"{drifts[0].reason}; not removed: {exc}",
                tables=sorted(names),
                drift=drifts[0].kind.value,
            )
            return
        ctx.report.tables_deleted += len(deleted)
        self._auditor.record(
            "glue:BatchDeleteTable",
            AuditOutcome.SUCCEEDED,
            target,
            ctx.correlation_id,
            drifts[0].reason,
            tables=sorted(names),
            drift=drifts[0].kind.value,
        )

    def _remove_extra_database(
        self,
        producer: Producer,
        drift: CatalogDrift,
        correlation_id: str,
        report: ReconcileReport,
    ) -> None:
        """A central database of the producer's (provenance or namespace) that no database it
        publishes explains: deleted with its tables (API_DeleteDatabase), audited as drift. As for
        tables (:meth:`_remove_extra_tables`), one created by hand needs DROP granted first."""
        target = f"database/{drift.database}"
        try:
            existed = self._central.delete_database(drift.database)
        except MeshgovError as exc:
            report.noops.append(f"{drift.reason}: {drift.database}: {exc}")
            self._auditor.record(
                "glue:DeleteDatabase",
                AuditOutcome.FAILED,
                target,
                correlation_id,
                f"{drift.reason}; not removed: {exc}",
                account=producer.account_id,
                drift=drift.kind.value,
            )
            return
        if existed:
            report.databases_deleted += 1
        self._auditor.record(
            "glue:DeleteDatabase",
            AuditOutcome.SUCCEEDED if existed else AuditOutcome.SKIPPED,
            target,
            correlation_id,
            drift.reason,
            account=producer.account_id,
            drift=drift.kind.value,
        )

    def _drop_database(self, ctx: _Context, why: str) -> None:
        self._drop(
            ctx.producer,
            ctx.source_database,
            ctx.central_database,
            ctx.correlation_id,
            ctx.report,
            why,
        )

    def _drop(
        self,
        producer: Producer,
        source_database: str,
        central_database: str,
        correlation_id: str,
        report: ReconcileReport,
        why: str,
    ) -> None:
        """Unpublish one database: its central copy deleted, its ledger rows forgotten."""
        existed = self._central.delete_database(central_database)
        self._ledger.forget_database(producer.account_id, source_database)
        if existed:
            report.databases_deleted += 1
        else:
            report.noops.append(f"database {central_database} already gone ({why})")
        self._auditor.record(
            "glue:DeleteDatabase",
            AuditOutcome.SUCCEEDED if existed else AuditOutcome.SKIPPED,
            f"database/{central_database}",
            correlation_id,
            why,
        )

    def _skip(
        self,
        ctx: _Context,
        name: str,
        source_table: dict[str, Any] | None,
        in_link: bool = False,
    ) -> None:
        if source_table is None:
            why = "source table not found (deleted before it was read)"
        elif source_table.get("TargetTable"):
            why = "resource links are never published"
        elif in_link:
            why = "its database is a resource link (never published)"
        else:
            why = "not published"
        ctx.report.tables_skipped += 1
        ctx.report.noops.append(f"table {ctx.source_database}.{name}: {why}")
        self._auditor.record(
            "catalog:table",
            AuditOutcome.SKIPPED,
            self._arns.glue_table(ctx.producer.account_id, ctx.source_database, name),
            ctx.correlation_id,
            why,
        )

    def _database_refused(self, ctx: _Context) -> bool:
        """Whether the central database about to be created must not be (refused, audited and
        the producer told: :class:`NameGate`); its look-alikes are the producer's others."""
        account = ctx.producer.account_id

        def published() -> list[str]:
            return [r.central_database for r in self._ledger.databases(account).values()]

        found = self._names.refused(
            ctx.producer,
            ctx.source_database,
            ctx.central_database,
            ctx.correlation_id,
            namespace=published,
        )
        if found is not None:
            ctx.report.refused.append(f"{account}:{ctx.source_database}")
            ctx.report.noops.append(f"database {ctx.source_database}: name refused")
        return found is not None

    def _tables_refused(self, ctx: _Context, newcomers: list[str]) -> list[str]:
        """The tables about to be created centrally whose names are refused (each audited, the
        producer told); their look-alikes are the central database's published tables."""
        account = ctx.producer.account_id

        def published() -> list[str]:
            return list(self._ledger.tables(account, ctx.source_database))

        refused = []
        for name in newcomers:
            found = self._names.refused(
                ctx.producer,
                ctx.source_database,
                ctx.central_database,
                ctx.correlation_id,
                table=name,
                namespace=published,
                newcomers=newcomers,
            )
            if found is not None:
                refused.append(name)
                ctx.report.refused.append(f"{account}:{ctx.source_database}.{name}")
                ctx.report.noops.append(f"table {ctx.source_database}.{name}: name refused")
        return refused

    def _database_published(self, ctx: _Context) -> None:
        """Tell the access function, which grants the producer rights on its central copy."""
        detail = DatabasePublishedDetail(
            central_database=ctx.central_database,
            producer_account=ctx.producer.account_id,
            domain=ctx.producer.domain,
        ).model_dump(by_alias=True)
        arn = self._arns.glue_database(self._central.account_id, ctx.central_database)
        self._publisher.publish(DATABASE_PUBLISHED, detail, [arn])
        self._auditor.record(
            "events:PutEvents", AuditOutcome.SUCCEEDED, arn, ctx.correlation_id, DATABASE_PUBLISHED
        )

    def _breaking_change(
        self, ctx: _Context, table: str, table_input: dict[str, Any], summary: dict[str, Any]
    ) -> None:
        central_arn = self._arns.glue_table(self._central.account_id, ctx.central_database, table)
        detail = BreakingSchemaChangeDetail(
            central_database=ctx.central_database,
            table=table,
            producer_account=ctx.producer.account_id,
            domain=ctx.producer.domain,
            schema_version=(table_input.get("Parameters") or {}).get("meshgov:schema_version"),
            change=summary,
        ).model_dump(by_alias=True)
        source_arn = self._arns.glue_table(ctx.producer.account_id, ctx.source_database, table)
        detail.update(downstream_detail(self._downstream, source_arn))
        self._publisher.publish(BREAKING_SCHEMA_CHANGE, detail, [central_arn])
        ctx.report.breaking_changes.append(f"{ctx.central_database}.{table}")
        self._auditor.record(
            "events:PutEvents",
            AuditOutcome.SUCCEEDED,
            central_arn,
            ctx.correlation_id,
            BREAKING_SCHEMA_CHANGE,
            change=json.loads(json.dumps(summary)),
        )

    def _table_input(self, ctx: _Context, source_table: dict[str, Any]) -> dict[str, Any]:
        return central_table_input(ctx.producer, source_table, self._arns, self._clock())


@dataclass(frozen=True)
class _Outside:
    """What the audit record of a repair says about drift (nothing, when it was not)."""

    reason: str = ""
    kind: str | None = None


def _outside(drift: CatalogDrift | None) -> _Outside:
    """Drift is a difference found where the ledger says central is as meshgov wrote it."""
    return _Outside(drift.reason, drift.kind.value) if drift is not None else _Outside()


def _unpublished(database: str, source_db: Mapping[str, Any] | None) -> str:
    """Why a database that meshgov never published is still not published."""
    if source_db is None:
        return f"database {database} not found at the source"
    if is_resource_link(source_db):
        return f"database {database} is a resource link (never published)"
    return f"database {database} is not published and publishes no table"
