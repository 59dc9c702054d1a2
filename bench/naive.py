"""A naive, GDCR-style replicator: the baseline for ``calls_vs_naive``.

It does what the AWS Glue Data Catalog replication utility
(https://github.com/aws-samples/aws-glue-data-catalog-replication-utility) does on its schedule:
list the source databases and tables, ``GetTable`` each table of every published database, then
``CreateTable`` or ``UpdateTable`` in a second central catalog, and one ``CreatePartition`` or
``UpdatePartition`` call per partition. It compares nothing, so every run rewrites everything,
and it never propagates a drop. To know whether to create or update it lists the target's tables
and partitions (pages of 100 tables, 1,000 partitions: generous to the baseline).

The source is read with the producer's own credentials, passing ``CatalogId`` like every reader;
the target is another account of the same moto (``NAIVE_TARGET_ACCOUNT``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from bench.workload import table_input_of
from meshgov_local.accounts import ADMIN_ROLE_NAME
from meshgov_local.emulator import controls, ensure_admin_role
from meshgov_local.emulator.glue_lakeformation import record_creation
from meshgov_local.mesh import LocalMesh

NAIVE_TARGET_ACCOUNT = "999999999999"
PUBLISH = "meshgov:publish"


def _published(database: dict[str, Any], table: dict[str, Any]) -> bool:
    """The same publication rule as meshgov's: a resource link (database or table) is never
    replicated — ``GetDatabases`` shows a link with its target's parameters."""
    if database.get("TargetDatabase"):
        return False
    own = (table.get("Parameters") or {}).get(PUBLISH)
    flag = own if own is not None else (database.get("Parameters") or {}).get(PUBLISH)
    return str(flag).lower() == "true" and not table.get("TargetTable")


def _partition_input(partition: dict[str, Any]) -> dict[str, Any]:
    allowed = {"Values", "LastAccessTime", "StorageDescriptor", "Parameters"}
    return {k: v for k, v in partition.items() if k in allowed}


def _pages(client: Any, operation: str, key: str, **kwargs: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in client.get_paginator(operation).paginate(**kwargs):
        items.extend(page.get(key, []))
    return items


@dataclass
class NaiveReport:
    tables_created: int = 0
    tables_updated: int = 0
    partitions_created: int = 0
    partitions_updated: int = 0


class NaiveReplicator:
    def __init__(self, mesh: LocalMesh, source_account: str) -> None:
        ensure_admin_role(NAIVE_TARGET_ACCOUNT)
        self.source_account = source_account
        self.target_account = NAIVE_TARGET_ACCOUNT
        self.source = mesh.client(source_account, "glue")
        self.target = mesh.client(NAIVE_TARGET_ACCOUNT, "glue")

    def replicate(self) -> NaiveReport:
        report = NaiveReport()
        src, dst = self.source_account, self.target_account
        target_dbs = {
            d["Name"] for d in _pages(self.target, "get_databases", "DatabaseList", CatalogId=dst)
        }
        for database in _pages(self.source, "get_databases", "DatabaseList", CatalogId=src):
            name = database["Name"]
            listed = _pages(
                self.source, "get_tables", "TableList", CatalogId=src, DatabaseName=name
            )
            published = [t["Name"] for t in listed if _published(database, t)]
            if not published:
                continue
            if name not in target_dbs:
                self.target.create_database(
                    CatalogId=dst,
                    DatabaseInput={
                        k: v
                        for k, v in database.items()
                        if k in {"Name", "Description", "Parameters"}
                    },
                )
                existing: set[str] = set()
            else:
                existing = {
                    t["Name"]
                    for t in _pages(
                        self.target, "get_tables", "TableList", CatalogId=dst, DatabaseName=name
                    )
                }
            for table_name in published:
                table = self.source.get_table(CatalogId=src, DatabaseName=name, Name=table_name)[
                    "Table"
                ]
                table_input = table_input_of(table)
                if table_name in existing:
                    self.target.update_table(
                        CatalogId=dst, DatabaseName=name, TableInput=table_input
                    )
                    report.tables_updated += 1
                else:
                    self.target.create_table(
                        CatalogId=dst, DatabaseName=name, TableInput=table_input
                    )
                    report.tables_created += 1
                if table.get("PartitionKeys"):
                    self._partitions(name, table_name, table_name in existing, report)
        return report

    def _partitions(self, database: str, table: str, known: bool, report: NaiveReport) -> None:
        src, dst = self.source_account, self.target_account
        paging = {"PaginationConfig": {"PageSize": 1000}}
        partitions = _pages(
            self.source,
            "get_partitions",
            "Partitions",
            CatalogId=src,
            DatabaseName=database,
            TableName=table,
            **paging,
        )
        existing = (
            {
                tuple(p["Values"])
                for p in _pages(
                    self.target,
                    "get_partitions",
                    "Partitions",
                    CatalogId=dst,
                    DatabaseName=database,
                    TableName=table,
                    **paging,
                )
            }
            if known
            else set()
        )
        for partition in partitions:
            part_input = _partition_input(partition)
            if tuple(partition["Values"]) in existing:
                self.target.update_partition(
                    CatalogId=dst,
                    DatabaseName=database,
                    TableName=table,
                    PartitionValueList=partition["Values"],
                    PartitionInput=part_input,
                )
                report.partitions_updated += 1
            else:
                self.target.create_partition(
                    CatalogId=dst,
                    DatabaseName=database,
                    TableName=table,
                    PartitionInput=part_input,
                )
                report.partitions_created += 1


def seed_replica(mesh: LocalMesh, source_account: str) -> None:
    """Setup only: make the naive target equal the current source through moto's backends.

    The replicator's first run would cost as many calls as the measured one; the bench starts it
    from an up-to-date replica instead (Glue events muted, nothing counted).
    """
    from moto.glue.models import glue_backends

    ensure_admin_role(NAIVE_TARGET_ACCOUNT)
    region = mesh.config.region
    source = glue_backends[source_account][region]
    target = glue_backends[NAIVE_TARGET_ACCOUNT][region]
    previous = controls.event_drop_rate
    controls.set_event_drop_rate(1.0)
    try:
        creator = f"arn:aws:iam::{NAIVE_TARGET_ACCOUNT}:role/{ADMIN_ROLE_NAME}"
        for name, database in source.databases.items():
            db = database.as_dict()
            if name not in target.databases:
                target.create_database(
                    name,
                    {k: v for k, v in db.items() if k in {"Name", "Description", "Parameters"}},
                )
                # What the API would have left in Lake Formation (the replicator reads as admin).
                record_creation(NAIVE_TARGET_ACCOUNT, region, creator, name)
            for table_name, table in database.tables.items():
                if not _published(db, table.as_dict()):
                    continue
                target.create_table(
                    name, table_name, copy.deepcopy(table_input_of(table.as_dict()))
                )
                record_creation(NAIVE_TARGET_ACCOUNT, region, creator, name, table_name)
                parts = [
                    copy.deepcopy(_partition_input(p.as_dict())) for p in table.partitions.values()
                ]
                for start in range(0, len(parts), 100):
                    target.batch_create_partition(name, table_name, parts[start : start + 100])
    finally:
        controls.set_event_drop_rate(previous)
