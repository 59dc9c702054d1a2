"""The local mesh's producer writes real Parquet files under its tables' locations (issue 13):
rows, Hive partition directories and Glue types as the table declares them."""

from __future__ import annotations

import io
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from moto import mock_aws

from meshgov_cli.query.glue_types import GlueTypeUnsupportedError
from meshgov_local.parquet_data import COUNTRIES, partition_inputs, write_table_data

BUCKET = "producer-data"
COLUMNS = [
    {"Name": "id", "Type": "bigint"},
    {"Name": "email", "Type": "string"},
    {"Name": "country", "Type": "string"},
    {"Name": "amount", "Type": "decimal(10,2)"},
    {"Name": "quantity", "Type": "int"},
    {"Name": "price", "Type": "double"},
    {"Name": "placed_at", "Type": "timestamp"},
    {"Name": "shipped_on", "Type": "date"},
    {"Name": "gift", "Type": "boolean"},
]


def table(keys: list[dict[str, str]] | None = None, name: str = "orders") -> dict[str, Any]:
    return {
        "Name": name,
        "StorageDescriptor": {"Columns": COLUMNS, "Location": f"s3://{BUCKET}/{name}/"},
        "PartitionKeys": keys or [],
    }


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="eu-west-1")
        client.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        yield client


def stored(s3: Any, prefix: str) -> dict[str, pa.Table]:
    """Every object under ``prefix``, read back as Parquet."""
    listing = s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
    return {
        o["Key"]: pq.read_table(
            io.BytesIO(s3.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read())
        )
        for o in listing
    }


def test_a_partitioned_table_gets_its_rows_in_hive_partition_directories(s3: Any) -> None:
    # When 1,000 rows of a table partitioned by dt (date) are written
    written = write_table_data(
        s3, table([{"Name": "dt", "Type": "date"}]), 1000, seed=3, files_per_partition=2
    )

    # Then S3 holds two Parquet files in each of three dt=<date>/ directories
    objects = stored(s3, "orders/")
    assert sorted(objects) == sorted(written.keys)
    assert sorted(objects) == [
        f"orders/dt=2024-01-0{day}/part-0000{index}.parquet"
        for day in (1, 2, 3)
        for index in (0, 1)
    ]
    # And the rows per partition are what S3 holds, 1,000 in all
    assert written.rows_per_partition == {
        ("2024-01-01",): 334,
        ("2024-01-02",): 333,
        ("2024-01-03",): 333,
    }
    for values, rows in written.rows_per_partition.items():
        in_s3 = sum(t.num_rows for k, t in objects.items() if f"dt={values[0]}/" in k)
        assert in_s3 == rows
    # And the partition column lives in the path, not in the files
    assert all("dt" not in t.column_names for t in objects.values())
    # And Glue's PartitionInputs point at those directories
    inputs = partition_inputs(table([{"Name": "dt", "Type": "date"}]), written)
    assert [(p["Values"], p["StorageDescriptor"]["Location"]) for p in inputs] == [
        ([f"2024-01-0{d}"], f"s3://{BUCKET}/orders/dt=2024-01-0{d}/") for d in (1, 2, 3)
    ]


def test_columns_have_their_glue_types_and_plausible_values(s3: Any) -> None:
    # When an unpartitioned table is written
    written = write_table_data(s3, table(), 600, seed=1)

    # Then one object at the location's root holds every row, typed as Glue declares
    ((key, data),) = stored(s3, "orders/").items()
    assert key == "orders/part-00000.parquet" and written.rows == data.num_rows == 600
    assert written.rows_per_partition == {(): 600}
    assert data.schema.types == [
        pa.int64(),
        pa.string(),
        pa.string(),
        pa.decimal128(10, 2),
        pa.int32(),
        pa.float64(),
        pa.timestamp("ms"),
        pa.date32(),
        pa.bool_(),
    ]
    rows = data.to_pydict()
    # And ids are unique, e-mails look like e-mails, countries are country codes including DE
    assert rows["id"] == list(range(1, 601))
    assert len(set(rows["email"])) == 600 and all("@" in e for e in rows["email"])
    assert set(rows["country"]) <= set(COUNTRIES) and "DE" in rows["country"]
    assert all(Decimal(0) <= a < Decimal(1_000_000) for a in rows["amount"])
    assert {True, False} == set(rows["gift"])


def test_the_same_seed_writes_the_same_rows_and_another_seed_others(s3: Any) -> None:
    write_table_data(s3, table(name="a"), 200, seed=5)
    write_table_data(s3, table(name="b"), 200, seed=5)
    write_table_data(s3, table(name="c"), 200, seed=6)
    a, b, c = (next(iter(stored(s3, f"{n}/").values())) for n in "abc")
    assert a.equals(b)
    assert a.column("country") != c.column("country")


def test_a_column_of_an_unsupported_type_writes_nothing(s3: Any) -> None:
    bad = table()
    bad["StorageDescriptor"]["Columns"] = [*COLUMNS, {"Name": "tags", "Type": "array<string>"}]
    with pytest.raises(GlueTypeUnsupportedError, match="array<string>"):
        write_table_data(s3, bad, 10)
    assert stored(s3, "orders/") == {}
