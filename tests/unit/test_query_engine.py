"""The consumer's query engine (issue 13): its SQL handling, partition paths, row and cell
filters (real DuckDB, real row filter translation), and a whole query over Parquet objects in S3
with Lake Formation's answers given as the documented API shapes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pyarrow as pa
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from meshgov_cli.query import sql as q
from meshgov_cli.query.engine import (
    QueryError,
    TableAccess,
    apply_filter,
    connect,
    duckdb_row_filter,
    plan_filter,
    run_query,
)
from meshgov_cli.query.s3_data import Column, S3Location, partition_values
from meshgov_local.parquet_data import write_table_data

ORDERS = q.TableRef("sales_sales", "orders")
CENTRAL, CONSUMER = "111111111111", "333333333333"


# --- SQL ------------------------------------------------------------------------------------


def refs(sql: str) -> list[str]:
    return [str(r) for r in q.table_refs(q.parse_query(sql))]


def test_the_tables_a_query_names_are_its_database_table_references() -> None:
    assert refs("SELECT o.id FROM Sales_Sales.Orders o JOIN hr.people p ON o.id = p.id") == [
        "hr.people",
        "sales_sales.orders",
    ]
    assert refs("WITH de AS (SELECT * FROM sales_sales.orders) SELECT count(*) FROM de") == [
        "sales_sales.orders"
    ]
    assert refs("SELECT 1 FROM a.t UNION ALL SELECT 2 FROM a.t") == ["a.t"]


@pytest.mark.parametrize(
    ("sql", "code"),
    [
        ("SELECT * FROM read_csv('/etc/passwd')", "NOT_SUPPORTED"),
        ("SELECT * FROM '/tmp/x.parquet'", "TABLE_NOT_FOUND"),
        ("SELECT * FROM orders", "TABLE_NOT_FOUND"),
        ("SELECT * FROM awsdatacatalog.sales.orders", "NOT_SUPPORTED"),
        ("INSERT INTO sales.orders VALUES (1)", "NOT_SUPPORTED"),
        ("DROP TABLE sales.orders", "NOT_SUPPORTED"),
        ("SELECT 1 FROM a.t; SELECT 2 FROM a.t", "NOT_SUPPORTED"),
        ("SELECT 1", "NOT_SUPPORTED"),
        ("SELECT * FROM WHERE", "SYNTAX_ERROR"),
    ],
)
def test_anything_but_one_select_over_catalog_tables_is_refused(sql: str, code: str) -> None:
    with pytest.raises(QueryError) as raised:
        run_query(
            sql,
            glue=Refusing(),
            lakeformation=Refusing(),
            catalog_id=CONSUMER,
            s3_for=Refusing(),
            region="eu-west-1",
        )
    assert raised.value.code == code


def test_the_rewritten_sql_runs_on_the_engine_relation_with_the_same_qualifiers() -> None:
    import duckdb

    query = q.parse_query(
        "SELECT orders.id, o2.id AS other, sales_sales.orders.amount FROM sales_sales.orders "
        "JOIN sales_sales.orders AS o2 ON orders.id = o2.id ORDER BY 1"
    )
    rewritten = q.rewrite(query, {ORDERS: "rel_0"})
    connection = duckdb.connect()
    connection.register("rel_0", pa.table({"id": [2, 1], "amount": [20, 10]}))
    assert connection.sql(rewritten).fetchall() == [(1, 1, 10), (2, 2, 20)]


# --- partition paths ------------------------------------------------------------------------


def test_partition_values_come_typed_from_hive_path_segments() -> None:
    location = S3Location.parse("s3://data/orders")
    assert location == S3Location("data", "orders/")
    keys = [Column("dt", "date"), Column("region", "string"), Column("shard", "int")]
    values = partition_values(
        "orders/dt=2024-01-02/region=eu%2Fwest/shard=__HIVE_DEFAULT_PARTITION__/part-0.parquet",
        location,
        keys,
    )
    assert values is not None
    assert {k: v.as_py() for k, v in values.items()} == {
        "dt": __import__("datetime").date(2024, 1, 2),
        "region": "eu/west",
        "shard": None,
    }
    assert values["shard"].type == pa.int32()
    # An object outside a complete partition directory is not the table's (Athena ignores it)
    assert partition_values("orders/dt=2024-01-02/part-0.parquet", location, keys) is None
    with pytest.raises(ValueError, match="not a int"):
        partition_values("orders/dt=2024-01-02/region=x/shard=abc/p", location, keys)


# --- row and cell filters -------------------------------------------------------------------


def access(
    filters: dict[str, str], authorized: tuple[str, ...] = ("id", "email", "country")
) -> TableAccess:
    return TableAccess(
        ref=ORDERS,
        table_arn="arn:aws:glue:eu-west-1:111111111111:table/sales_sales/orders",
        location="s3://producer-data/orders/",
        columns=(Column("id", "int"), Column("email", "string"), Column("country", "string")),
        partition_keys=(),
        authorized=authorized,
        cell_filters=filters,
        row_filter=None,
    )


RAW = pa.table(
    {
        "id": pa.array([1, 2, 3, 4], pa.int32()),
        "email": ["a@x", "b@x", "c@x", "d@x"],
        "country": ["DE", "FR", "DE", "US"],
    }
)


def test_one_row_filter_keeps_the_rows_it_allows_and_the_authorized_columns() -> None:
    # Given a data cells filter excluding email and keeping country = 'DE'
    table = access(
        {"id": "country = 'DE'", "country": "country = 'DE'"}, authorized=("id", "country")
    )
    plan = plan_filter(table, ["id", "country"], duckdb_row_filter)
    # Then the German rows remain, without email
    assert apply_filter(RAW, plan, connect()).to_pylist() == [
        {"id": 1, "country": "DE"},
        {"id": 3, "country": "DE"},
    ]


def test_a_filter_on_a_column_the_query_does_not_read_still_filters_the_rows() -> None:
    # Given the row filter names country, which the query does not read
    table = access({"id": "country = 'DE'", "country": "country = 'DE'"}, ("id", "country"))
    plan = plan_filter(table, ["id"], duckdb_row_filter)
    # Then country is read to filter, and only id is returned
    assert plan.needs == ["id", "country"]
    assert apply_filter(RAW, plan, connect()).to_pylist() == [{"id": 1}, {"id": 3}]


def test_cells_of_a_column_whose_filter_a_row_fails_are_null() -> None:
    # Given id readable in every row, email only where country = 'DE' (two filters)
    table = access({"id": "TRUE", "email": "country = 'DE'", "country": "TRUE"})
    plan = plan_filter(table, ["id", "email"], duckdb_row_filter)
    # Then every row is returned, with email masked outside Germany
    assert apply_filter(RAW, plan, connect()).to_pylist() == [
        {"id": 1, "email": "a@x"},
        {"id": 2, "email": None},
        {"id": 3, "email": "c@x"},
        {"id": 4, "email": None},
    ]
    # And reading email alone returns the rows where it is visible
    only = plan_filter(table, ["email"], duckdb_row_filter)
    assert apply_filter(RAW, only, connect()).to_pylist() == [{"email": "a@x"}, {"email": "c@x"}]


def test_a_row_filter_lake_formation_would_refuse_fails_the_query() -> None:
    table = access({"id": "lower(country) = 'de'"}, ("id",))
    with pytest.raises(QueryError) as raised:
        plan_filter(table, ["id"], duckdb_row_filter)
    assert raised.value.code == "INVALID_ROW_FILTER"


# --- a whole query, with Lake Formation's documented answers --------------------------------


class Refusing:
    """A client (or factory) that must not be used."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"unexpected call {name}")

    def __call__(self, *args: Any) -> Any:
        raise AssertionError("unexpected S3 client")


class Glue:
    """GetUnfilteredTableMetadata as the API reference shapes it: the whole table, the columns
    the caller may read and, per column, its row filter."""

    def __init__(self, table: dict[str, Any], authorized: list[str], row_filter: str) -> None:
        self.table, self.authorized, self.row_filter = table, authorized, row_filter
        self.calls: list[dict[str, Any]] = []

    def get_unfiltered_table_metadata(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        return {
            "Table": self.table,
            "AuthorizedColumns": self.authorized,
            "CellFilters": [
                {"ColumnName": c, "RowFilterExpression": self.row_filter} for c in self.authorized
            ],
            "IsRegisteredWithLakeFormation": True,
        }


class LakeFormation:
    def __init__(self, error: str | None = None) -> None:
        self.error = error
        self.calls: list[dict[str, Any]] = []

    def get_temporary_glue_table_credentials(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        if self.error:
            raise ClientError({"Error": {"Code": self.error, "Message": "no"}}, "GetTemporary")
        return {"AccessKeyId": "vended", "SecretAccessKey": "s", "SessionToken": "t"}


TABLE = {
    "Name": "orders",
    "DatabaseName": "sales_sales",
    "CatalogId": CENTRAL,
    "StorageDescriptor": {
        "Location": "s3://producer-data/orders/",
        "Columns": [
            {"Name": "id", "Type": "bigint"},
            {"Name": "email", "Type": "string"},
            {"Name": "country", "Type": "string"},
            {"Name": "amount", "Type": "decimal(10,2)"},
        ],
    },
    "PartitionKeys": [{"Name": "dt", "Type": "date"}],
}
VISIBLE = ["id", "country", "amount", "dt"]


@pytest.fixture
def data() -> Iterator[list[dict[str, Any]]]:
    """3,000 rows of orders in S3 (three dt partitions); the S3 clients made, by credentials."""
    with mock_aws():
        s3 = boto3.client("s3", region_name="eu-west-1")
        s3.create_bucket(
            Bucket="producer-data", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        write_table_data(s3, TABLE, 3000, seed=11)
        yield []


def query(
    sql: str, glue: Glue, lf: LakeFormation, made: list[dict[str, Any]]
) -> tuple[list[str], list[tuple[Any, ...]]]:
    def s3_for(credentials: Any) -> Any:
        made.append(dict(credentials))
        return boto3.client("s3", region_name="eu-west-1")

    result = run_query(
        sql, glue=glue, lakeformation=lf, catalog_id=CONSUMER, s3_for=s3_for, region="eu-west-1"
    )
    return result.columns, result.rows()


def test_a_query_returns_the_filtered_rows_of_the_authorized_columns(
    data: list[dict[str, Any]],
) -> None:
    glue, lf = Glue(TABLE, VISIBLE, "country = 'DE'"), LakeFormation()
    # When the analyst counts orders by country and day
    columns, rows = query(
        "SELECT country, count(*) AS n FROM sales_sales.orders GROUP BY country", glue, lf, data
    )
    # Then only Germany is there, with some of the 3,000 rows
    assert columns == ["country", "n"]
    ((country, n),) = rows
    assert country == "DE" and 0 < n < 3000
    # And Lake Formation was asked on the consumer's catalog, and credentials for the table
    (asked,) = glue.calls
    assert (asked["CatalogId"], asked["DatabaseName"], asked["Name"]) == (
        CONSUMER,
        "sales_sales",
        "orders",
    )
    assert asked["SupportedPermissionTypes"] == ["COLUMN_PERMISSION", "CELL_FILTER_PERMISSION"]
    # (for the table as the query names it: the consumer's link, which Lake Formation resolves
    # and records as the caller's link access, the one meshgov's usage counts)
    (vended,) = lf.calls
    assert vended["TableArn"] == f"arn:aws:glue:eu-west-1:{CONSUMER}:table/sales_sales/orders"
    assert (vended["Permissions"], vended["DurationSeconds"]) == (["SELECT"], 900)
    # And S3 was read with the vended credentials only
    assert data == [{"AccessKeyId": "vended", "SecretAccessKey": "s", "SessionToken": "t"}]
    # And SELECT * shows the authorized columns, the partition column restored from the path
    columns, rows = query(
        "SELECT * FROM sales_sales.orders WHERE dt = DATE '2024-01-02'", glue, lf, data
    )
    assert columns == VISIBLE
    assert {r[1] for r in rows} == {"DE"} and {str(r[3]) for r in rows} == {"2024-01-02"}


def test_a_column_the_principal_may_not_read_fails_as_athena_fails_before_any_credentials(
    data: list[dict[str, Any]],
) -> None:
    glue, lf = Glue(TABLE, VISIBLE, "TRUE"), LakeFormation()
    for sql in (
        "SELECT email FROM sales_sales.orders",
        "SELECT o.id FROM sales_sales.orders o WHERE o.email LIKE '%@example.com'",
        "SELECT id FROM sales_sales.orders ORDER BY nothing_like_this",
    ):
        with pytest.raises(QueryError) as raised:
            query(sql, glue, lf, data)
        assert raised.value.code == "COLUMN_NOT_FOUND"
        assert "cannot be resolved or requester is not authorized" in str(raised.value)
    # And nothing was vended, no S3 client made
    assert lf.calls == [] and data == []


@pytest.mark.parametrize(
    "code", ["AccessDeniedException", "EntityNotFoundException", "PermissionTypeMismatchException"]
)
def test_a_lake_formation_refusal_is_insufficient_lake_formation_permissions(
    data: list[dict[str, Any]], code: str
) -> None:
    class Denying(Glue):
        def get_unfiltered_table_metadata(self, **kwargs: Any) -> dict[str, Any]:
            raise ClientError({"Error": {"Code": code, "Message": "no"}}, "GetUnfiltered")

    with pytest.raises(QueryError) as raised:
        query("SELECT id FROM sales_sales.orders", Denying(TABLE, [], ""), LakeFormation(), data)
    assert str(raised.value).startswith(
        "Insufficient Lake Formation permission(s) on sales_sales.orders"
    )
    assert code in str(raised.value)
    # And a refused vending too, with nothing read
    with pytest.raises(QueryError) as raised:
        query(
            "SELECT id FROM sales_sales.orders",
            Glue(TABLE, VISIBLE, "TRUE"),
            LakeFormation("AccessDeniedException"),
            data,
        )
    assert raised.value.code == "ACCESS_DENIED" and data == []


def test_no_authorized_column_is_insufficient_permissions(data: list[dict[str, Any]]) -> None:
    with pytest.raises(QueryError) as raised:
        query("SELECT 1 FROM sales_sales.orders", Glue(TABLE, [], "TRUE"), LakeFormation(), data)
    assert raised.value.code == "ACCESS_DENIED"
