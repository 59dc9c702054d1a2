"""What producers do in the benchmarks: the same Glue and Lake Formation calls as on AWS.

Producer actions go through the producer account's own clients (events follow, as on AWS). Only
the bulk seeding of the no-op sweep scenario (10,000 tables) writes to moto's Glue and Lake
Formation backends directly, with the emulator's Glue event drop switch at 100% so that no event
is queued: going through the API would only add a minute of setup and nothing measured.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from meshgov_local.emulator import controls
from meshgov_local.mesh import LocalMesh

BUCKET = "s3://bench-producer-data"
PUBLISH = {"meshgov:publish": "true"}
DOMAIN_KEY = "domain"  # LF-Tag on each database, inherited by every table in it
SENSITIVITY_KEY = "sensitivity"  # LF-Tag on some tables only


def columns(*names: str) -> list[dict[str, str]]:
    return [{"Name": name, "Type": "string" if name != "id" else "bigint"} for name in names]


def table_input(
    name: str,
    cols: list[dict[str, str]] | None = None,
    partition_keys: list[dict[str, str]] | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    return {
        "Name": name,
        "Description": description or f"{name} data product",
        "TableType": "EXTERNAL_TABLE",
        "StorageDescriptor": {
            "Columns": cols or columns("id", "amount", "note"),
            "Location": f"{BUCKET}/{name}/",
            "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
            "SerdeInfo": {
                "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde."
                "ParquetHiveSerDe"
            },
        },
        "PartitionKeys": partition_keys or [],
        "Parameters": {"classification": "parquet"},
    }


def partition_input(table: str, value: str) -> dict[str, Any]:
    return {
        "Values": [value],
        "StorageDescriptor": {
            "Columns": [],
            "Location": f"{BUCKET}/{table}/dt={value}/",
        },
    }


def day(index: int) -> str:
    return f"d{index:06d}"


class Producer:
    """One producer account of a local mesh, acting through its own clients."""

    def __init__(self, mesh: LocalMesh, account_id: str | None = None) -> None:
        self.mesh = mesh
        self.account_id = account_id or mesh.producer
        self.glue = mesh.client(self.account_id, "glue")
        self.lf = mesh.client(self.account_id, "lakeformation")
        self._tags: dict[str, set[str]] = {}

    def define_tag(self, key: str, values: Iterable[str]) -> None:
        values = set(values)
        known = self._tags.get(key)
        if known is None:
            self.lf.create_lf_tag(TagKey=key, TagValues=sorted(values))
            self._tags[key] = values
        elif values - known:
            self.lf.update_lf_tag(TagKey=key, TagValuesToAdd=sorted(values - known))
            known.update(values)

    def create_database(self, name: str, domain_tag: str | None = None) -> None:
        self.glue.create_database(
            DatabaseInput={"Name": name, "Description": f"{name} data", "Parameters": PUBLISH}
        )
        if domain_tag:
            self.define_tag(DOMAIN_KEY, [domain_tag])
            self.lf.add_lf_tags_to_resource(
                Resource={"Database": {"Name": name}},
                LFTags=[{"TagKey": DOMAIN_KEY, "TagValues": [domain_tag]}],
            )

    def create_table(self, database: str, table: dict[str, Any]) -> None:
        self.glue.create_table(DatabaseName=database, TableInput=table)

    def update_table(self, database: str, table: dict[str, Any]) -> None:
        self.glue.update_table(DatabaseName=database, TableInput=table)

    def delete_table(self, database: str, name: str) -> None:
        self.glue.delete_table(DatabaseName=database, Name=name)

    def add_partitions(self, database: str, table: str, values: list[str]) -> int:
        """BatchCreatePartition in calls of 100 (the API maximum); returns the number of calls."""
        calls = 0
        for start in range(0, len(values), 100):
            self.glue.batch_create_partition(
                DatabaseName=database,
                TableName=table,
                PartitionInputList=[partition_input(table, v) for v in values[start : start + 100]],
            )
            calls += 1
        return calls

    def get_table(self, database: str, name: str) -> dict[str, Any]:
        table: dict[str, Any] = self.glue.get_table(DatabaseName=database, Name=name)["Table"]
        return table


def table_input_of(table: dict[str, Any]) -> dict[str, Any]:
    """The TableInput that recreates ``table`` (GetTable's output minus read-only fields)."""
    allowed = {
        "Name",
        "Description",
        "Owner",
        "Retention",
        "StorageDescriptor",
        "PartitionKeys",
        "TableType",
        "Parameters",
        "ViewOriginalText",
        "ViewExpandedText",
        "TargetTable",
    }
    return {k: v for k, v in table.items() if k in allowed}


def seed_published_tables(
    mesh: LocalMesh,
    databases: int,
    tables_per_database: int,
    tagged_every: int,
) -> int:
    """Bulk-create published, unpartitioned producer tables through moto's backends (setup only).

    Each database carries the ``domain`` LF-Tag (inherited by its tables); every
    ``tagged_every``-th table also carries its own ``sensitivity`` tag. The table-level key is
    defined first, so ``SearchTablesByLFTags`` pages through it before reaching the key every
    table inherits: the more expensive order for meshgov's search. Returns the number of tables.
    """
    from moto.glue.models import glue_backends
    from moto.lakeformation.models import lakeformation_backends

    producer = Producer(mesh)
    region = mesh.config.region
    glue = glue_backends[producer.account_id][region]
    lf = lakeformation_backends[producer.account_id][region]
    producer.define_tag(SENSITIVITY_KEY, ["high", "low"])
    previous = controls.event_drop_rate
    controls.set_event_drop_rate(1.0)  # setup: no Glue event for these creations
    try:
        count = 0
        for d in range(databases):
            db = f"db{d:02d}"
            glue.create_database(
                db, {"Name": db, "Description": f"{db} data", "Parameters": PUBLISH}
            )
            for t in range(tables_per_database):
                name = f"t{t:05d}"
                glue.create_table(db, name, table_input(name))
                if tagged_every and t % tagged_every == 0:
                    sensitivity = "high" if (t // tagged_every) % 2 else "low"
                    lf.add_lf_tags_to_resource(
                        producer.account_id,
                        {"Table": {"DatabaseName": db, "Name": name}},
                        [{"TagKey": SENSITIVITY_KEY, "TagValues": [sensitivity]}],
                    )
                count += 1
    finally:
        controls.set_event_drop_rate(previous)
    # Database-level tags through the API (ten calls): the Glue databases exist now.
    for d in range(databases):
        db = f"db{d:02d}"
        producer.define_tag(DOMAIN_KEY, ["sales"])
        producer.lf.add_lf_tags_to_resource(
            Resource={"Database": {"Name": db}},
            LFTags=[{"TagKey": DOMAIN_KEY, "TagValues": ["sales"]}],
        )
    return count
