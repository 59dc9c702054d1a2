"""Reconcile central copies to the producer's *current* state (DESIGN.md flow 1).

Nothing here applies an event's payload: events only say *which* objects to look at. Each step
reads the source, compares it with what meshgov last wrote (the ledger) and, only where they
differ, with the central object, then writes the difference. Running any step twice, or steps in
any order, ends in the same central state.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from meshgov.audit import Auditor, AuditOutcome, AuditTrail
from meshgov.catalog.canonical import comparable, content_hash, digest
from meshgov.catalog.central import CentralCatalog
from meshgov.catalog.events_out import (
    BREAKING_SCHEMA_CHANGE,
    DATABASE_PUBLISHED,
    CatalogEventPublisher,
)
from meshgov.catalog.ledger import DatabaseRow, SyncLedger, TableRow
from meshgov.catalog.naming import Producer, central_database_name, source_table_arn
from meshgov.catalog.plan import Action, PartitionKey, plan_partitions, plan_table
from meshgov.catalog.projection import (
    central_database_input,
    central_table_input,
    database_input_of,
    partition_input,
    partition_key,
    table_input_of,
)
from meshgov.catalog.publication import database_published, table_published
from meshgov.catalog.source import ProducerCatalog, ProducerTags
from meshgov.catalog.tags import TableTags, TagMap, diff_tags
from meshgov.contracts.glue_events import BreakingSchemaChangeDetail, DatabasePublishedDetail
from meshgov.errors import MeshgovError, NameInvalidError

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

    def merge(self, other: ReconcileReport) -> None:
        for name, value in vars(other).items():
            mine = getattr(self, name)
            setattr(self, name, mine + value)

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass(frozen=True)
class _Context:
    producer: Producer
    source: ProducerCatalog
    source_database: str
    central_database: str
    correlation_id: str
    report: ReconcileReport


class CatalogReconciler:
    def __init__(
        self,
        *,
        source_for: Callable[[Producer], ProducerCatalog],
        central: CentralCatalog,
        ledger: SyncLedger,
        audit: AuditTrail,
        publisher: CatalogEventPublisher,
        region: str,
        actor: str,
        clock: Callable[[], datetime],
    ) -> None:
        self._source_for = source_for
        self._central = central
        self._ledger = ledger
        self._auditor = Auditor(audit, actor)
        self._publisher = publisher
        self._region = region
        self._clock = clock

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
            if source_table is not None and table_published(published_db, source_table):
                desired[name] = (source_table, self._table_input(ctx, source_table))
            else:
                self._skip(ctx, name, source_table)
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
                self._converge_table(ctx, source_table, table_input, tags, rows.get(name), scope)
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
        for producer in producers:
            try:
                self._sweep_producer(producer, correlation_id, report)
            except MeshgovError as exc:
                report.failed.append(f"{producer.account_id}: {exc}")
                self._auditor.record(
                    "sweep:producer",
                    AuditOutcome.FAILED,
                    f"producer/{producer.account_id}",
                    correlation_id,
                    str(exc),
                )
        self._auditor.record(
            "sweep:completed",
            AuditOutcome.FAILED if report.failed else AuditOutcome.SUCCEEDED,
            "catalog",
            correlation_id,
            "",
            report=report.as_dict(),
        )
        return report

    # --- steps -----------------------------------------------------------------------------
    def _sweep_producer(
        self, producer: Producer, correlation_id: str, report: ReconcileReport
    ) -> None:
        source = self._source_for(producer)
        source_dbs = {db["Name"]: db for db in source.list_databases()}
        known = self._ledger.databases(producer.account_id)
        listing: dict[str, list[dict[str, Any]]] = {}
        published_refs: list[tuple[str, str]] = []
        for name, db in source_dbs.items():
            published_db = database_published(db)
            tables = source.list_tables(name) or []
            published = [t for t in tables if table_published(published_db, t)]
            if published_db or published or name in known:
                listing[name] = tables
                published_refs.extend((name, t["Name"]) for t in published)
        tags = source.all_tags([n for n in listing if n in source_dbs], published_refs)
        for name in sorted(set(listing) | set(known)):
            ctx = self._context(producer, name, correlation_id, report, source=source)
            if ctx is None:
                continue
            try:
                self._converge_database(ctx, source_dbs.get(name), listing.get(name), tags)
            except MeshgovError as exc:
                report.failed.append(f"{producer.account_id}:{name}: {exc}")
                self._auditor.record(
                    "sweep:database", AuditOutcome.FAILED, name, correlation_id, str(exc)
                )

    def _context(
        self,
        producer: Producer,
        database: str,
        correlation_id: str,
        report: ReconcileReport,
        source: ProducerCatalog | None = None,
    ) -> _Context | None:
        try:
            central_name = central_database_name(producer, database)
        except NameInvalidError as exc:
            report.refused.append(f"{producer.account_id}:{database}")
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
        )

    def _converge_database(
        self,
        ctx: _Context,
        source_db: dict[str, Any] | None,
        tables: list[dict[str, Any]] | None,
        tags: ProducerTags | None,
    ) -> None:
        account = ctx.producer.account_id
        published_db = source_db is not None and database_published(source_db)
        published = {t["Name"]: t for t in tables or [] if table_published(published_db, t)}
        db_row = self._ledger.get_database(account, ctx.source_database)
        if source_db is None or not (published_db or published):
            if db_row is not None:
                why = "database deleted" if source_db is None else "database unpublished"
                self._drop_database(ctx, why)
            return
        if tags is None:
            tags = ctx.source.all_tags(
                [ctx.source_database], [(ctx.source_database, n) for n in published]
            )
        db_tags = tags.databases.get(ctx.source_database, {})
        db_row = self._ensure_database(ctx, source_db, db_tags, db_row)
        rows = self._ledger.tables(account, ctx.source_database)
        for name, source_table in sorted(published.items()):
            table_tags = tags.tables.get((ctx.source_database, name), TableTags())
            self._converge_table(
                ctx,
                source_table,
                self._table_input(ctx, source_table),
                table_tags,
                rows.get(name),
                ALL,
            )
        gone = [name for name in rows if name not in published]
        if gone:
            self._delete_tables(ctx, gone)

    def _ensure_database(
        self,
        ctx: _Context,
        source_db: dict[str, Any],
        db_tags: TagMap,
        row: DatabaseRow | None,
    ) -> DatabaseRow:
        desired = central_database_input(
            ctx.producer, source_db, ctx.central_database, self._region, self._clock()
        )
        wanted_hash = content_hash(desired)
        if row is not None and row.content_hash == wanted_hash and row.tags == db_tags:
            return row
        current = self._central.get_database(ctx.central_database)
        target = f"database/{ctx.central_database}"
        current_tags: TagMap = {}
        if current is None:
            if self._central.create_database(desired):
                ctx.report.databases_created += 1
                self._auditor.record(
                    "glue:CreateDatabase", AuditOutcome.SUCCEEDED, target, ctx.correlation_id
                )
                self._database_published(ctx)
            else:  # created concurrently: compare on the next pass
                current = self._central.get_database(ctx.central_database)
        if current is not None:
            if comparable(database_input_of(current)) != comparable(desired):
                self._central.update_database(desired)
                ctx.report.databases_updated += 1
                self._auditor.record(
                    "glue:UpdateDatabase", AuditOutcome.SUCCEEDED, target, ctx.correlation_id
                )
            current_tags = (
                row.tags
                if row is not None
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
    ) -> None:
        name = str(source_table["Name"])
        wanted_hash = content_hash(desired)
        target = f"table/{ctx.central_database}/{name}"
        partitioned = bool(desired.get("PartitionKeys"))
        if row is not None and row.content_hash == wanted_hash and row.tags == tags.as_dict():
            ctx.report.tables_unchanged += 1
            partitions_hash = row.partitions_hash
            created = False
        else:
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
                        "glue:CreateTable", AuditOutcome.SUCCEEDED, target, ctx.correlation_id
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
                    schema_change=change.summary() if change else None,
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
        )
        if row != new_row:
            self._ledger.put_table(new_row)

    def _converge_table_tags(
        self,
        ctx: _Context,
        name: str,
        tags: TableTags,
        row: TableRow | None,
        is_new: bool,
        column_names: list[str],
    ) -> None:
        if row is not None:
            current = TableTags.from_dict(row.tags)
        elif is_new:
            current = TableTags()
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
        if scope is ALL:
            source_parts = ctx.source.get_partitions(ctx.source_database, table)
            desired = {partition_key(p): partition_input(p) for p in source_parts}
            source_hash = digest(sorted((k, comparable(v)) for k, v in desired.items()))
            if source_hash == known_hash:
                return known_hash
            current = {
                partition_key(p): partition_input(p)
                for p in self._central.get_partitions(central_db, table)
            }
            plan = plan_partitions(desired, current)
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
                created=len(plan.create)
                + (len(desired) - len(existing) if scope is not ALL else 0),
                updated=len(plan.update),
                deleted=len(plan.delete),
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

    def _drop_database(self, ctx: _Context, why: str) -> None:
        existed = self._central.delete_database(ctx.central_database)
        self._ledger.forget_database(ctx.producer.account_id, ctx.source_database)
        if existed:
            ctx.report.databases_deleted += 1
        self._auditor.record(
            "glue:DeleteDatabase",
            AuditOutcome.SUCCEEDED if existed else AuditOutcome.SKIPPED,
            f"database/{ctx.central_database}",
            ctx.correlation_id,
            why,
        )

    def _skip(self, ctx: _Context, name: str, source_table: dict[str, Any] | None) -> None:
        if source_table is None:
            why = "source table not found (deleted before it was read)"
        elif source_table.get("TargetTable"):
            why = "resource links are never published"
        else:
            why = "not published"
        ctx.report.tables_skipped += 1
        self._auditor.record(
            "catalog:table",
            AuditOutcome.SKIPPED,
            source_table_arn(self._region, ctx.producer.account_id, ctx.source_database, name),
            ctx.correlation_id,
            why,
        )

    def _database_published(self, ctx: _Context) -> None:
        """Tell the access function, which grants the producer rights on its central copy."""
        detail = DatabasePublishedDetail(
            central_database=ctx.central_database,
            producer_account=ctx.producer.account_id,
            domain=ctx.producer.domain,
        ).model_dump(by_alias=True)
        arn = (
            f"arn:aws:glue:{self._region}:{self._central.account_id}:"
            f"database/{ctx.central_database}"
        )
        self._publisher.publish(DATABASE_PUBLISHED, detail, [arn])
        self._auditor.record(
            "events:PutEvents", AuditOutcome.SUCCEEDED, arn, ctx.correlation_id, DATABASE_PUBLISHED
        )

    def _breaking_change(
        self, ctx: _Context, table: str, table_input: dict[str, Any], summary: dict[str, Any]
    ) -> None:
        central_arn = (
            f"arn:aws:glue:{self._region}:{self._central.account_id}:"
            f"table/{ctx.central_database}/{table}"
        )
        detail = BreakingSchemaChangeDetail(
            central_database=ctx.central_database,
            table=table,
            producer_account=ctx.producer.account_id,
            domain=ctx.producer.domain,
            schema_version=(table_input.get("Parameters") or {}).get("meshgov:schema_version"),
            change=summary,
        ).model_dump(by_alias=True)
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
        return central_table_input(ctx.producer, source_table, self._region, self._clock())
