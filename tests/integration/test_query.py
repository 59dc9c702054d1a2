"""The consumer's query through the local mesh (issue 13): with real Parquet data in the
producer's bucket, the analyst's own credentials and Lake Formation's vended credentials only,
``meshgov query``'s engine returns what was granted and nothing else.

The engine calls ``GetUnfilteredTableMetadata`` and ``GetTemporaryGlueTableCredentials``, which
Lake Formation keeps for engines the table's owner allows
(https://docs.aws.amazon.com/lake-formation/latest/dg/permitting-third-party-call.html): central
allows external data filtering for the consumer account and the engine's session tag, as a
platform team registering its query engine would."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from meshgov_cli.query.engine import QueryError, QueryResult, run_query
from meshgov_local.mesh import CONSUMER_READ_POLICY, LocalMesh
from meshgov_local.parquet_data import write_table_data
from meshgov_local.query_access import allow_query_engine, engine_session
from tests.integration.access_helpers import (
    ANALYST,
    create_role,
    decide,
    request,
    request_id,
    revoke,
)
from tests.integration.helpers import columns, create_published_database, table_input

ORDER_COLUMNS = ("id:bigint", "email:string", "country:string", "amount:decimal(10,2)")


def allow_engine(mesh: LocalMesh) -> None:
    """Central (the tables' owner) lets the consumer's engine filter its data."""
    allow_query_engine(mesh.client(mesh.central, "lakeformation"), [mesh.consumer])


def analyst_session(mesh: LocalMesh) -> boto3.Session:
    """The analyst's own credentials, tagged as the query engine."""
    mesh.client(mesh.consumer, "iam").put_role_policy(
        RoleName=ANALYST, PolicyName="catalog-read", PolicyDocument=json.dumps(CONSUMER_READ_POLICY)
    )
    return engine_session(
        mesh.client(mesh.consumer, "sts"), mesh.sessions.arns, mesh.consumer, ANALYST, "eu-west-1"
    )


class Engine:
    """The analyst's engine: its Glue and Lake Formation clients, and every set of credentials
    it made an S3 client from."""

    def __init__(self, mesh: LocalMesh) -> None:
        self.session = analyst_session(mesh)
        self.catalog = mesh.consumer
        self.vended: list[dict[str, Any]] = []

    def s3_for(self, credentials: Any) -> Any:
        self.vended.append(dict(credentials))
        return boto3.client(
            "s3",
            region_name="eu-west-1",
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )

    def query(self, sql: str) -> QueryResult:
        return run_query(
            sql,
            glue=self.session.client("glue"),
            lakeformation=self.session.client("lakeformation"),
            catalog_id=self.catalog,
            s3_for=self.s3_for,
            region="eu-west-1",
        )


def publish_orders(mesh: LocalMesh, rows: int = 2000) -> dict[str, int]:
    """The producer publishes orders (partitioned by dt) and customers, and writes their data;
    central follows. Returns the rows written per table."""
    glue = mesh.client(mesh.producer, "glue")
    s3 = mesh.client(mesh.producer, "s3")
    create_published_database(glue, "sales")
    written = {}
    for name, keys in (("orders", [{"Name": "dt", "Type": "date"}]), ("customers", [])):
        table = table_input(name, columns(*ORDER_COLUMNS), keys)
        glue.create_table(DatabaseName="sales", TableInput=table)
        written[name] = write_table_data(s3, table, rows, seed=len(name)).rows
    mesh.settle()
    return written


def granted(mesh: LocalMesh, **kwargs: Any) -> str:
    request(mesh, database="sales_sales", **kwargs)
    mesh.settle()
    rid = request_id(mesh)
    decide(mesh, rid)
    mesh.settle()
    return rid


@pytest.fixture
def mesh(local_mesh: LocalMesh) -> LocalMesh:
    create_role(local_mesh, local_mesh.consumer)
    allow_engine(local_mesh)
    return local_mesh


def test_a_column_grant_restricts_what_the_query_returns(mesh: LocalMesh) -> None:
    # Given orders with real data, and the analyst granted id, country, dt (not email)
    written = publish_orders(mesh)
    granted(mesh, tables=["orders"], columns=["id", "country", "dt"])
    engine = Engine(mesh)

    # When the analyst selects everything
    result = engine.query("SELECT * FROM sales_sales.orders")

    # Then every row comes back, without email
    assert result.columns == ["id", "country", "dt"]
    assert len(result.rows()) == written["orders"]
    # And asking for email fails as Athena fails, with nothing vended
    vended = len(engine.vended)
    with pytest.raises(QueryError) as raised:
        engine.query("SELECT email FROM sales_sales.orders")
    assert raised.value.code == "COLUMN_NOT_FOUND"
    assert len(engine.vended) == vended


def test_a_row_filter_restricts_the_rows_and_excluded_columns_are_gone(mesh: LocalMesh) -> None:
    # Given the analyst asked for orders without email, German rows only, and got it
    written = publish_orders(mesh)
    granted(
        mesh,
        tables=["orders"],
        resource={
            "database": "sales_sales",
            "tables": ["orders"],
            "filters": [
                {"table": "orders", "excludedColumns": ["email"], "rowFilter": "country = 'DE'"}
            ],
        },
    )
    engine = Engine(mesh)

    # When the analyst counts by country
    result = engine.query("SELECT country, count(*) AS n FROM sales_sales.orders GROUP BY country")

    # Then only German rows are there
    ((country, n),) = result.rows()
    assert country == "DE" and 0 < n < written["orders"]
    assert "email" not in engine.query("SELECT * FROM sales_sales.orders LIMIT 1").columns
    with pytest.raises(QueryError) as raised:
        engine.query("SELECT email FROM sales_sales.orders")
    assert raised.value.code == "COLUMN_NOT_FOUND"


def test_credentials_vended_for_one_table_cannot_read_another_tables_objects(
    mesh: LocalMesh,
) -> None:
    # Given orders granted, customers not
    publish_orders(mesh)
    granted(mesh, tables=["orders"])
    engine = Engine(mesh)
    engine.query("SELECT count(*) FROM sales_sales.orders")
    (credentials,) = engine.vended
    s3 = engine.s3_for(credentials)

    # Then the vended credentials read orders' objects
    listed = s3.list_objects_v2(Bucket="producer-data", Prefix="orders/")["Contents"]
    s3.get_object(Bucket="producer-data", Key=listed[0]["Key"])
    # And not customers' objects, nor its listing
    with pytest.raises(ClientError) as denied:
        s3.get_object(Bucket="producer-data", Key="customers/part-00000.parquet")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(ClientError) as denied:
        s3.list_objects_v2(Bucket="producer-data", Prefix="customers/")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    # And the query of customers is refused by Lake Formation
    with pytest.raises(QueryError) as refused:
        engine.query("SELECT count(*) FROM sales_sales.customers")
    assert str(refused.value).startswith(
        "Insufficient Lake Formation permission(s) on sales_sales.customers"
    )


def test_after_revocation_the_query_is_refused(mesh: LocalMesh) -> None:
    publish_orders(mesh, rows=100)
    rid = granted(mesh, tables=["orders"])
    engine = Engine(mesh)
    assert engine.query("SELECT count(*) FROM sales_sales.orders").rows() == [(100,)]
    revoke(mesh, rid, mesh.consumer)
    mesh.settle()
    with pytest.raises(QueryError) as refused:
        engine.query("SELECT count(*) FROM sales_sales.orders")
    assert refused.value.code == "ACCESS_DENIED"
