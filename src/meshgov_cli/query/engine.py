"""The consumer's query, as an engine integrated with Lake Formation runs it (Athena, Redshift
Spectrum and EMR do this on AWS;
https://docs.aws.amazon.com/lake-formation/latest/dg/Integrating-with-LakeFormation.html):

1. For each ``db.table`` the SQL names, ``glue:GetUnfilteredTableMetadata`` on the caller's own
   catalog (``db`` is a resource link there) returns the table, the columns the caller may read
   (``AuthorizedColumns``) and the row filter of each (``CellFilters``), for an engine that says
   it enforces column and cell filters (``SupportedPermissionTypes``)
   (https://docs.aws.amazon.com/glue/latest/webapi/API_GetUnfilteredTableMetadata.html).
2. A column the SQL names that is not authorized fails the query before any data is asked for,
   the way Athena reports a column it may not resolve (``COLUMN_NOT_FOUND``); "the actual
   filtering of columns in query responses is the responsibility of the integrated service"
   (https://docs.aws.amazon.com/lake-formation/latest/dg/limitations.html).
3. ``lakeformation:GetTemporaryGlueTableCredentials`` vends credentials scoped to the table's
   data (https://docs.aws.amazon.com/lake-formation/latest/APIReference/API_GetTemporaryGlueTableCredentials.html);
   the Parquet objects under the table's location are read with those credentials only
   (:mod:`.s3_data`).
4. The authorized columns are kept and the row filters applied (cell-level security: a row is
   returned when it passes the filter of a column the query reads; a cell of a column whose own
   filter the row fails is null;
   https://docs.aws.amazon.com/lake-formation/latest/dg/data-filtering.html), each PartiQL row
   filter translated to DuckDB SQL by :mod:`meshgov.access.row_filters`. The filter runs on
   the query's own DuckDB connection as an anonymous relation over the Arrow data
   (``from_arrow(...).query``: its name exists only inside that one statement, nothing enters
   the catalog); only the filtered result is registered, under the name the rewritten SQL
   uses. So no name the query's SQL can spell reaches unfiltered data: it may name only the
   rewritten relations (:mod:`.sql`), the connection has no external access and no Python
   replacement scans (a bare name never resolves to a Python variable), and its configuration
   is locked.
5. The SQL, rewritten to name those filtered relations (:mod:`.sql`), runs on that connection.

Failures are Athena's: a Lake Formation refusal is ``Insufficient Lake Formation permission(s) on
<table>`` (https://repost.aws/knowledge-center/athena-insufficient-lake-formation-permissions).
Nothing here imports the local mesh: it takes boto3 clients, so it runs against AWS as well.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import duckdb
import pyarrow as pa
from botocore.config import Config
from botocore.exceptions import ClientError
from sqlglot import exp

from meshgov.aws.arns import Arns
from meshgov.aws.session import error_code
from meshgov.errors import MeshgovError
from meshgov_cli.query import sql as q
from meshgov_cli.query.parquet_objects import ParquetObjectError
from meshgov_cli.query.s3_data import Column, S3Location, read_table

# What this engine enforces, told to Lake Formation with every call (API_GetUnfilteredTableMetadata:
# "the level of filtering a third-party analytical engine is capable of enforcing").
SUPPORTED_PERMISSION_TYPES = ["COLUMN_PERMISSION", "CELL_FILTER_PERMISSION"]
# The engine's S3 reads: no CRC of every whole object on read. botocore validates response
# checksums "when_supported" by default; an engine reading Parquet (whose pages carry their own
# CRCs) asks for validation only where the request requires it, as engines reading S3 through
# their own clients do. Callers building the S3 client from vended credentials pass this config.
S3_READ_CONFIG = Config(response_checksum_validation="when_required", retries={"mode": "adaptive"})
CREDENTIALS_SECONDS = 900  # GetTemporaryGlueTableCredentials DurationSeconds: 900 to 43200
ALL_ROWS = "TRUE"
# Glue and Lake Formation answers that mean "you may not read this table".
DENIALS = frozenset(
    {
        "AccessDeniedException",
        "AccessDenied",
        "EntityNotFoundException",
        "PermissionTypeMismatchException",
        "InvalidInputException",
    }
)

Credentials = Mapping[str, Any]
S3Factory = Callable[[Credentials], Any]
Translate = Callable[[str, Sequence[str], Sequence[str]], "Condition"]


class QueryError(MeshgovError):
    """A query that cannot run; ``code`` is Athena's error type for it (``COLUMN_NOT_FOUND``,
    ``ACCESS_DENIED``, ``SYNTAX_ERROR``, ``NOT_SUPPORTED``, ...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Condition:
    """A row filter translated for DuckDB, and the table columns it reads."""

    sql: str
    columns: tuple[str, ...]


def duckdb_row_filter(
    text: str, columns: Sequence[str], partition_columns: Sequence[str]
) -> Condition:
    """A Lake Formation row filter (PartiQL) as a DuckDB condition, checked and translated by
    :mod:`meshgov.access.row_filters` (the one home of row filter rules)."""
    from meshgov.access.row_filters import RowFilterInvalidError, parse_row_filter

    try:
        parsed = parse_row_filter(text, columns, partition_columns=partition_columns)
    except RowFilterInvalidError as exc:
        raise QueryError("INVALID_ROW_FILTER", f"the table's row filter {text!r}: {exc}") from exc
    return Condition(parsed.to_sql("duckdb"), parsed.columns)


@dataclass(frozen=True)
class TableAccess:
    """What Lake Formation said about one table, and what was read of it."""

    ref: q.TableRef
    table_arn: str
    location: str
    columns: tuple[Column, ...]  # every column, then the partition keys, in the table's order
    partition_keys: tuple[Column, ...]
    authorized: tuple[str, ...]
    cell_filters: Mapping[str, str]  # column -> row filter ("TRUE": every row)
    row_filter: str | None  # the table-wide filter, when Lake Formation gives one
    objects: int = 0
    rows_read: int = 0
    rows_visible: int = 0

    def filter_of(self, column: str) -> str | None:
        """The row filter for ``column``'s cells; None when every row is visible."""
        text = (self.cell_filters.get(column) or ALL_ROWS).strip()
        return None if text.upper() == ALL_ROWS else text

    def as_dict(self) -> dict[str, Any]:
        return {
            "table": str(self.ref),
            "table_arn": self.table_arn,
            "location": self.location,
            "authorized_columns": list(self.authorized),
            "cell_filters": dict(self.cell_filters),
            "row_filter": self.row_filter,
            "objects": self.objects,
            "rows_read": self.rows_read,
            "rows_visible": self.rows_visible,
        }


@dataclass(frozen=True)
class QueryResult:
    table: pa.Table
    tables: list[TableAccess] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def columns(self) -> list[str]:
        return list(self.table.column_names)

    def rows(self) -> list[tuple[Any, ...]]:
        data = self.table.to_pydict()
        return list(zip(*(data[c] for c in self.table.column_names), strict=True))


# --------------------------------------------------------------------------------------------
# Lake Formation: the table, what the caller may read of it, and credentials for its data
# --------------------------------------------------------------------------------------------


def _denied(ref: q.TableRef, exc: ClientError, service: str) -> QueryError:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", "Unknown"))
    if code not in DENIALS:
        return QueryError("GENERIC_INTERNAL_ERROR", f"{service} failed for {ref}: {exc}")
    return QueryError(
        "ACCESS_DENIED",
        f"Insufficient Lake Formation permission(s) on {ref} "
        f"(Service: {service}; Error Code: {code}; {error.get('Message', '')})",
    )


def _columns(specs: Sequence[Mapping[str, Any]]) -> tuple[Column, ...]:
    return tuple(Column(str(c["Name"]).lower(), str(c.get("Type") or "string")) for c in specs)


def unfiltered_metadata(
    glue: Any, catalog_id: str, ref: q.TableRef, arns: Arns, session: Mapping[str, Any]
) -> TableAccess:
    """``GetUnfilteredTableMetadata`` of ``ref`` in the caller's catalog; a table resource link
    is followed to its target as an engine does."""
    request: dict[str, Any] = {
        "CatalogId": catalog_id,
        "DatabaseName": ref.database,
        "Name": ref.table,
    }
    for _ in range(2):  # the name itself, then a table link's target
        try:
            meta = glue.get_unfiltered_table_metadata(
                **request,
                SupportedPermissionTypes=SUPPORTED_PERMISSION_TYPES,
                QuerySessionContext=session,
            )
        except ClientError as exc:
            raise _denied(ref, exc, "AWSGlue") from exc
        table = meta.get("Table") or {}
        target = table.get("TargetTable")
        if not target or (table.get("StorageDescriptor") or {}).get("Location"):
            break
        request = {
            "CatalogId": target["CatalogId"],
            "DatabaseName": target["DatabaseName"],
            "Name": target["Name"],
        }
    descriptor = table.get("StorageDescriptor") or {}
    location = str(descriptor.get("Location") or "")
    if not location:
        raise QueryError("NOT_SUPPORTED", f"{ref} has no storage location to read")
    keys = _columns(table.get("PartitionKeys") or [])
    columns = _columns(descriptor.get("Columns") or []) + keys
    authorized = {str(c).lower() for c in meta.get("AuthorizedColumns") or []}
    if not authorized:
        raise QueryError(
            "ACCESS_DENIED",
            f"Insufficient Lake Formation permission(s) on {ref} (no authorized column)",
        )
    filters: dict[str, str] = {}
    for cell in meta.get("CellFilters") or []:
        name = str(cell.get("ColumnName", "")).lower()
        if name:
            filters[name] = str(cell.get("RowFilterExpression") or ALL_ROWS)
    row_filter = str(meta.get("RowFilter") or "").strip() or None
    if row_filter and row_filter.upper() == ALL_ROWS:
        row_filter = None
    # Credentials are asked for the table as the query names it, in the caller's catalog: through
    # a resource link, the link (Lake Formation resolves it, and the caller's CloudTrail record of
    # the vending names the link and the caller's role: the link access meshgov's usage counts,
    # meshgov.usage.events), as an engine querying the link does.
    return TableAccess(
        ref=ref,
        table_arn=arns.glue_table(catalog_id, ref.database.lower(), ref.table.lower()),
        location=location,
        columns=columns,
        partition_keys=keys,
        authorized=tuple(c.name for c in columns if c.name in authorized),
        cell_filters=filters,
        row_filter=row_filter,
    )


def vend_credentials(
    lakeformation: Any, access: TableAccess, session: Mapping[str, Any]
) -> Credentials:
    """Temporary credentials for the table's data, or Athena's refusal."""
    try:
        return dict(
            lakeformation.get_temporary_glue_table_credentials(
                TableArn=access.table_arn,
                Permissions=["SELECT"],
                DurationSeconds=CREDENTIALS_SECONDS,
                SupportedPermissionTypes=SUPPORTED_PERMISSION_TYPES,
                QuerySessionContext=session,
            )
        )
    except ClientError as exc:
        raise _denied(access.ref, exc, "AWSLakeFormation") from exc


# --------------------------------------------------------------------------------------------
# Columns: what the query reads, and whether it may
# --------------------------------------------------------------------------------------------


def column_not_found(name: str) -> QueryError:
    """Athena's answer for a column it cannot resolve, which a column Lake Formation withholds
    is to the engine (it never sees it)."""
    return QueryError(
        "COLUMN_NOT_FOUND",
        f"COLUMN_NOT_FOUND: Column '{name}' cannot be resolved or requester is not authorized "
        "to access requested resources",
    )


def check_columns(query: exp.Query, accesses: Mapping[q.TableRef, TableAccess]) -> None:
    """Every column the SQL names is an authorized column of a table it reads (or a name the
    query defines itself); else COLUMN_NOT_FOUND, before any credentials are asked for."""
    by_alias = q.aliases_of(query)
    defined = q.output_aliases(query)
    every_authorized = {c for a in accesses.values() for c in a.authorized}
    for use in q.column_uses(query):
        ref = by_alias.get(use.qualifier) if use.qualifier else None
        if ref is not None:
            if use.name not in accesses[ref].authorized:
                raise column_not_found(use.name)
        elif not use.qualifier and use.name not in every_authorized and use.name not in defined:
            raise column_not_found(use.name)


def read_columns(query: exp.Query, access: TableAccess) -> list[str]:
    """The authorized columns of ``access`` the query reads: all of them for ``*`` or when it
    names none (``count(*)``), else those it names."""
    if q.selects_star(query):
        return list(access.authorized)
    named = {u.name for u in q.column_uses(query)}
    used = [c for c in access.authorized if c in named]
    return used or list(access.authorized)


# --------------------------------------------------------------------------------------------
# Filtering: on the query's connection, anonymously, returning only what may be seen
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FilterPlan:
    """How one table's data becomes what the caller may see: the columns kept (each with the
    filter masking its cells, if any) and the condition rows must meet."""

    columns: list[tuple[str, str | None]]  # (column, DuckDB condition masking its cells)
    where: str | None  # DuckDB condition on rows; None: every row
    needs: list[str]  # the table's columns to read from the files (kept + those filters use)


def plan_filter(access: TableAccess, reads: Sequence[str], translate: Translate) -> FilterPlan:
    """Which rows and cells of ``access`` the caller sees, reading the columns ``reads``."""
    every = [c.name for c in access.columns]
    keys = [c.name for c in access.partition_keys]
    translated: dict[str, Condition] = {}

    def sql_of(text: str) -> str:
        if text not in translated:
            translated[text] = translate(text, every, keys)
        return translated[text].sql

    filters = {c: access.filter_of(c) for c in reads}
    conditions: list[str] = []
    if filters and all(f is not None for f in filters.values()):
        distinct = sorted({f for f in filters.values() if f is not None})
        conditions.append(" OR ".join(f"({sql_of(f)})" for f in distinct))
    if access.row_filter:
        conditions.append(f"({sql_of(access.row_filter)})")
    where = " AND ".join(f"({c})" for c in conditions) if conditions else None
    kinds = set(filters.values())
    shared = next(iter(kinds)) if len(kinds) == 1 else None
    columns = [(c, None if f is None or f == shared else sql_of(f)) for c, f in filters.items()]
    needs = set(reads)
    for condition in translated.values():
        needs.update(c.lower() for c in condition.columns)
    return FilterPlan(columns, where, [c for c in every if c in needs])


def apply_filter(
    raw: pa.Table, plan: FilterPlan, connection: duckdb.DuckDBPyConnection
) -> pa.Table:
    """``raw`` reduced to the plan's columns, masked cells and rows. The statement runs over an
    anonymous relation of ``raw`` on ``connection``: ``raw`` is a name inside this statement
    only, never one the query's SQL could reach."""
    if plan.where is None and all(mask is None for _, mask in plan.columns):
        return raw.select([c for c, _ in plan.columns])
    projections = []
    for column, mask in plan.columns:
        name = q.quote_identifier(column)
        masked = f"CASE WHEN ({mask}) THEN {name} END AS {name}"
        projections.append(name if mask is None else masked)
    where = f" WHERE {plan.where}" if plan.where else ""
    # Identifiers are quoted; the conditions are row_filters' own translation of a checked filter.
    statement = f"SELECT {', '.join(projections)} FROM raw{where}"  # noqa: S608
    try:
        filtered = connection.from_arrow(raw).query("raw", statement)
        if filtered is None:  # a SELECT always has a result; DuckDB's stubs allow None
            raise QueryError("GENERIC_INTERNAL_ERROR", "the row filter returned no relation")
        return filtered.to_arrow_table()
    except duckdb.Error as exc:
        raise QueryError("INVALID_ROW_FILTER", f"the row filter cannot be applied: {exc}") from exc


def connect() -> duckdb.DuckDBPyConnection:
    """DuckDB without files, network or Python replacement scans: only the relations
    registered on it; the configuration locked so that SQL cannot turn them back on."""
    connection = duckdb.connect(
        config={"enable_external_access": False, "python_enable_replacements": False}
    )
    connection.execute("SET lock_configuration = true")
    return connection


@contextmanager
def _connecting() -> Iterator[Callable[[], duckdb.DuckDBPyConnection]]:
    """The query's connection, made on another thread while Lake Formation and S3 answer
    (DuckDB creates its in-memory database mostly outside the GIL); closed on the way out,
    whatever happened."""
    starter = ThreadPoolExecutor(max_workers=1)
    future = starter.submit(connect)
    starter.shutdown(wait=False)
    try:
        yield future.result
    finally:
        if future.exception() is None:
            future.result().close()


def read_data(s3: Any, access: TableAccess, plan: FilterPlan) -> tuple[pa.Table, int]:
    """The plan's columns of every object of the table, read with ``s3`` (the vended
    credentials' client); Athena's errors for what cannot be read."""
    by_name = {c.name: c for c in access.columns}
    try:
        return read_table(
            s3,
            S3Location.parse(access.location),
            [by_name[c] for c in plan.needs],
            access.partition_keys,
        )
    except ClientError as exc:
        code = error_code(exc) or "Unknown"
        raise QueryError(
            "PERMISSION_ERROR", f"Permission denied on S3 path: {access.location} ({code})"
        ) from exc
    except (ParquetObjectError, pa.ArrowException) as exc:
        # An object of the table's location that is not valid Parquet, or not of the table's
        # types (https://repost.aws/knowledge-center/athena-hive-cursor-error).
        raise QueryError(
            "HIVE_CURSOR_ERROR", f"HIVE_CURSOR_ERROR: an object under {access.location}: {exc}"
        ) from exc


# --------------------------------------------------------------------------------------------
# The query
# --------------------------------------------------------------------------------------------


def run_query(
    sql: str,
    *,
    glue: Any,
    lakeformation: Any,
    catalog_id: str,
    s3_for: S3Factory,
    region: str,
    translate: Translate = duckdb_row_filter,
) -> QueryResult:
    """Run ``sql`` as the principal whose ``glue`` and ``lakeformation`` clients these are.

    ``catalog_id`` is the caller's account (its resource links name the tables); ``s3_for``
    makes an S3 client from vended credentials (``AccessKeyId``, ``SecretAccessKey``,
    ``SessionToken``). Raises :class:`QueryError`; a refusal leaves nothing behind.
    """
    started = time.perf_counter()
    try:
        query = q.parse_query(sql)
        refs = q.table_refs(query)
    except q.QuerySqlError as exc:
        code = str(exc).split(":", 1)[0]
        raise QueryError(code if code.isupper() else "SYNTAX_ERROR", str(exc)) from exc
    arns = Arns.for_region(region)
    session = {
        "QueryId": str(uuid.uuid4()),
        "QueryStartTime": datetime.now(UTC),
    }
    with _connecting() as connecting:
        accesses = {ref: unfiltered_metadata(glue, catalog_id, ref, arns, session) for ref in refs}
        check_columns(query, accesses)
        relations: dict[q.TableRef, str] = {}
        done: list[TableAccess] = []
        for index, ref in enumerate(refs):
            access = accesses[ref]
            plan = plan_filter(access, read_columns(query, access), translate)
            credentials = vend_credentials(lakeformation, access, session)
            raw, objects = read_data(s3_for(credentials), access, plan)
            connection = connecting()  # made meanwhile; the same one for every table
            visible = apply_filter(raw, plan, connection)
            name = f"meshgov_table_{index}"
            relations[ref] = name
            connection.register(name, visible)
            done.append(
                replace(
                    access, objects=objects, rows_read=raw.num_rows, rows_visible=visible.num_rows
                )
            )
            del raw  # frees the unfiltered data before the next table is read
        try:
            result = connecting().sql(q.rewrite(query, relations)).to_arrow_table()
        except duckdb.BinderException as exc:
            raise QueryError("COLUMN_NOT_FOUND", f"COLUMN_NOT_FOUND: {exc}") from exc
        except duckdb.Error as exc:
            raise QueryError("GENERIC_USER_ERROR", f"the query failed: {exc}") from exc
    return QueryResult(result, done, round(time.perf_counter() - started, 4))
