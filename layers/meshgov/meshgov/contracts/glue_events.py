"""Glue Data Catalog events as EventBridge delivers them (source ``aws.glue``).

Per https://docs.aws.amazon.com/glue/latest/dg/automating-awsglue-with-cloudwatch-events.html:
database events carry ``changedTables`` (at most 100 names per event), table events carry
``tableName`` and, for partition operations, ``changedPartitions``. Events carry names, never
schemas: meshgov treats them as triggers and reads the source's current state.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from meshgov.contracts.downstream import DownstreamNode
from meshgov.contracts.names import GlueName

DATABASE_STATE_CHANGE = "Glue Data Catalog Database State Change"
TABLE_STATE_CHANGE = "Glue Data Catalog Table State Change"

# meshgov's own catalog events (source ``meshgov.catalog``): the one home of their names, which
# the catalog functions emit and accept, the access function acts on, and ``meshgov dlq replay``
# re-sends (the details are the models below).
CATALOG_SOURCE = "meshgov.catalog"
CATALOG_SYNC_REQUESTED = "Catalog Sync Requested"
BREAKING_SCHEMA_CHANGE = "Breaking Schema Change"
DATABASE_PUBLISHED = "Database Published"
NAME_REFUSED = "Name Refused"


class DatabaseChange(StrEnum):
    CREATE_DATABASE = "CreateDatabase"
    DELETE_DATABASE = "DeleteDatabase"
    CREATE_TABLE = "CreateTable"
    DELETE_TABLE = "DeleteTable"
    BATCH_DELETE_TABLE = "BatchDeleteTable"


class TableChange(StrEnum):
    UPDATE_TABLE = "UpdateTable"
    CREATE_PARTITION = "CreatePartition"
    BATCH_CREATE_PARTITION = "BatchCreatePartition"
    UPDATE_PARTITION = "UpdatePartition"
    BATCH_UPDATE_PARTITION = "BatchUpdatePartition"
    DELETE_PARTITION = "DeletePartition"
    BATCH_DELETE_PARTITION = "BatchDeletePartition"


class DatabaseStateChangeDetail(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    database_name: GlueName = Field(alias="databaseName")
    type_of_change: DatabaseChange = Field(alias="typeOfChange")
    # Glue names at most 100 tables per event: more is not Glue's, and would cost a reconcile each.
    changed_tables: list[GlueName] = Field(
        default_factory=list, alias="changedTables", max_length=100
    )


class TableStateChangeDetail(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    database_name: GlueName = Field(alias="databaseName")
    table_name: GlueName = Field(alias="tableName")
    type_of_change: TableChange = Field(alias="typeOfChange")
    changed_partitions: list[str] = Field(default_factory=list, alias="changedPartitions")


class CatalogSyncRequestedDetail(BaseModel):
    """A producer (or operator) asks central to reconcile a database now (``meshgov.catalog``).

    Glue emits no event for UpdateDatabase, so publishing a whole database by setting its
    ``meshgov:publish`` parameter is picked up by the sweep, or at once with this event.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    database_name: GlueName = Field(alias="databaseName")
    table_names: list[GlueName] = Field(default_factory=list, alias="tableNames", max_length=100)


class EventEnvelope(BaseModel):
    """The EventBridge envelope fields meshgov relies on. ``account`` is set by EventBridge and is
    the only account meshgov trusts (never an account id inside ``detail``)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    id: str = Field(min_length=1, max_length=128)
    source: Literal["aws.glue", "meshgov.catalog", "aws.glue-dataquality"]
    account: str = Field(pattern=r"^\d{12}$")
    region: str = Field(min_length=1)
    detail_type: str = Field(alias="detail-type")
    detail: dict[str, object]


class BreakingSchemaChangeDetail(BaseModel):
    """What meshgov emits (source ``meshgov.catalog``, detail-type ``Breaking Schema Change``)
    on the central bus when a published table loses a column, changes a column's type or its
    partition keys, so that consumers of that table can be told; ``downstream``: what the change
    reaches (:mod:`meshgov.contracts.downstream`)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    central_database: str = Field(alias="centralDatabase")
    table: str
    producer_account: str = Field(alias="producerAccount", pattern=r"^\d{12}$")
    domain: str
    schema_version: str | None = Field(alias="schemaVersion")
    change: dict[str, object]
    downstream: list[DownstreamNode] | None = None
    downstream_truncated: bool = Field(default=False, alias="downstreamTruncated")


class DatabasePublishedDetail(BaseModel):
    """What meshgov emits (source ``meshgov.catalog``, detail-type ``Database Published``) on
    the central bus when it first creates the central copy of a producer database: central then
    grants the producer rights on it (the blog's steps 3-5)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    central_database: str = Field(alias="centralDatabase")
    producer_account: str = Field(alias="producerAccount", pattern=r"^\d{12}$")
    domain: str


class NameRefusedDetail(BaseModel):
    """What meshgov emits (source ``meshgov.catalog``, detail-type ``Name Refused``) on the
    producer's own ``meshgov`` bus when it will not publish a database or table under its name:
    one Athena cannot query, or one a consumer could take for another (UTS #39 confusables;
    ``meshgov.catalog.confusables``). Nothing was written centrally; renaming the source object
    publishes it."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    producer_account: str = Field(alias="producerAccount", pattern=r"^\d{12}$")
    domain: str
    source_database: str = Field(alias="sourceDatabase")
    table: str | None = None  # None: the database itself was refused
    central_name: str = Field(alias="centralName")  # the name it would have had centrally
    rule: str  # the audit error_code: NameNotQueryable, NameMixedScript, ...
    reason: str
    confusable_with: str | None = Field(default=None, alias="confusableWith")
