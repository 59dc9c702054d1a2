"""How ``meshgov query`` reads a table's Parquet objects from S3 (moto): ranged reads of only
the needed column chunks return what reading the whole object returns, with fewer bytes;
strings the file keeps dictionary-encoded stay dictionaries; an object that is not Parquet is
Athena's HIVE_CURSOR_ERROR; the query's DuckDB connection never names unfiltered data."""

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

from meshgov_cli.query import parquet_objects
from meshgov_cli.query.engine import (
    QueryError,
    TableAccess,
    apply_filter,
    connect,
    duckdb_row_filter,
    plan_filter,
    run_query,
)
from meshgov_cli.query.s3_data import Column, DataObject, S3Location, read_object, read_table
from tests.unit.test_query_engine import CONSUMER, ORDERS, TABLE, Glue, LakeFormation

BUCKET = "producer-data"
ROWS = 6000
COLUMNS = (
    Column("id", "bigint"),
    Column("email", "string"),
    Column("country", "string"),
    Column("amount", "decimal(10,2)"),
    Column("note", "string"),  # not in the file: nulls
)


def orders(rows: int = ROWS, offset: int = 0) -> pa.Table:
    return pa.table(
        {
            "id": pa.array(range(offset, offset + rows), pa.int64()),
            "email": [f"customer{i}@example.com" for i in range(offset, offset + rows)],
            "country": [("DE", "FR", "IT")[i % 3] for i in range(rows)],
            "amount": pa.array(
                [Decimal(i % 1000) / 100 for i in range(rows)], pa.decimal128(10, 2)
            ),
        }
    )


def parquet(table: pa.Table, **options: Any) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer, **options)
    return buffer.getvalue()


class Requests:
    """Every GetObject the client sends (its Range) and the bytes each returned."""

    def __init__(self, s3: Any) -> None:
        self.gets: list[tuple[str | None, int]] = []
        s3.meta.events.register("after-call.s3.GetObject", self._seen)
        s3.meta.events.register("before-parameter-build.s3.GetObject", self._asked)
        self._ranges: list[str | None] = []

    def _asked(self, params: dict[str, Any], **_: Any) -> None:
        self._ranges.append(params.get("Range"))

    def _seen(self, parsed: dict[str, Any], **_: Any) -> None:
        self.gets.append((self._ranges[len(self.gets)], int(parsed["ContentLength"])))

    @property
    def bytes(self) -> int:
        return sum(size for _, size in self.gets)


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="eu-west-1")
        client.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        yield client


def put(s3: Any, key: str, body: bytes) -> DataObject:
    s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    return DataObject(key, len(body))


def plain(table: pa.Table) -> pa.Table:
    """``table`` with dictionary columns decoded, to compare values and types."""
    return pa.table(
        {
            name: column.cast(column.type.value_type)
            if pa.types.is_dictionary(column.type)
            else column
            for name, column in zip(table.column_names, table.columns, strict=True)
        }
    )


# --- ranged reads ---------------------------------------------------------------------------


def test_a_ranged_read_returns_the_whole_read_and_fetches_only_the_chunks_it_needs(
    s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an object of three row groups, email (the biggest column) in the middle
    body = parquet(orders(60_000), row_group_size=20_000)
    item = put(s3, "orders/part-0.parquet", body)
    wanted = [c for c in COLUMNS if c.name != "email"]
    whole = read_object(s3, BUCKET, item, wanted, {})
    # When the same object is read with ranged GETs (every object "large")
    monkeypatch.setattr(parquet_objects, "WHOLE_OBJECT_BYTES", 0)
    monkeypatch.setattr(parquet_objects, "MERGE_GAP_BYTES", 0)
    requests = Requests(s3)
    ranged = read_object(s3, BUCKET, item, wanted, {})
    # Then the table is the same, values and types (and the file's own values)
    assert ranged.equals(whole)
    assert (
        plain(ranged)
        .select(["id", "country", "amount"])
        .equals(pq.read_table(io.BytesIO(body), columns=["id", "country", "amount"]))
    )
    assert ranged.column("note").null_count == 60_000
    # And the footer came first, then one GET per run of needed chunks, none of email's
    metadata = pq.read_metadata(io.BytesIO(body))
    first_range, _ = requests.gets[0]
    assert first_range == f"bytes={max(0, len(body) - 65536)}-{len(body) - 1}"
    email = {
        parquet_objects.chunk_span(metadata.row_group(g).column(1))
        for g in range(metadata.num_row_groups)
    }
    fetched = []
    for asked, _ in requests.gets[1:]:
        assert asked is not None
        first, last = (int(n) for n in asked.removeprefix("bytes=").split("-"))
        fetched.append((first, last + 1))
    for start, end in email:
        assert all(end <= first or last <= start for first, last in fetched)
    # (row group g's country and amount touch row group g+1's id: the email chunks split
    # the needed bytes into one run more than there are row groups; what lies in the fetched
    # tail, where the footer is, is not fetched again)
    tail_start = len(body) - 65536
    assert all(end <= tail_start for _, end in fetched)
    assert len(fetched) in (metadata.num_row_groups, metadata.num_row_groups + 1)
    # And what was fetched is the tail and those runs: the object less email's chunks (but
    # for what of them the tail holds)
    assert requests.bytes == 65536 + sum(end - start for start, end in fetched)
    email_outside_tail = sum(max(0, min(end, tail_start) - start) for start, end in email)
    assert email_outside_tail > len(body) / 3
    assert requests.bytes == len(body) - len(b"PAR1") - email_outside_tail  # not the head magic


def test_chunks_closer_than_the_merge_gap_share_one_get(
    s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = parquet(orders(), row_group_size=2000)
    item = put(s3, "orders/part-0.parquet", body)
    monkeypatch.setattr(parquet_objects, "WHOLE_OBJECT_BYTES", 0)
    requests = Requests(s3)
    read_object(s3, BUCKET, item, [Column("id", "bigint"), Column("amount", "decimal(10,2)")], {})
    # The footer, then one range: every gap is under MERGE_GAP_BYTES (1 MiB)
    assert len(requests.gets) == 2


def test_a_footer_longer_than_the_first_guess_is_fetched_with_one_more_get(
    s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = parquet(orders(), row_group_size=500)  # twelve row groups: a long footer
    item = put(s3, "orders/part-0.parquet", body)
    monkeypatch.setattr(parquet_objects, "WHOLE_OBJECT_BYTES", 0)
    monkeypatch.setattr(parquet_objects, "FOOTER_GUESS_BYTES", 64)
    requests = Requests(s3)
    table = read_object(s3, BUCKET, item, [Column("id", "bigint")], {})
    assert table.column("id").to_pylist() == list(range(ROWS))
    footer_length = int.from_bytes(body[-8:-4], "little")
    assert [size for _, size in requests.gets[:2]] == [64, footer_length + 8 - 64]


def test_a_small_object_is_fetched_whole_in_one_get(s3: Any) -> None:
    body = parquet(orders())
    item = put(s3, "orders/part-0.parquet", body)
    requests = Requests(s3)
    read_object(s3, BUCKET, item, [Column("id", "bigint")], {})
    assert requests.gets == [(None, len(body))]


def test_a_read_outside_the_fetched_ranges_is_fetched_not_invented() -> None:
    data = bytes(range(256)) * 4
    asked: list[tuple[int, int]] = []

    def fetch(first: int, last: int) -> bytes:
        asked.append((first, last))
        return data[first : last + 1]

    ranged = parquet_objects.RangedObject(
        len(data), fetch, {100: data[100:200], 200: data[200:300], 400: data[400:500]}
    )
    ranged.seek(150)
    assert ranged.read(20) == data[150:170] and asked == []
    # A read across two held ranges is served from both
    ranged.seek(190)
    assert ranged.read(20) == data[190:210] and asked == []
    # A read across a gap fetches the gap only
    ranged.seek(250)
    assert ranged.read(200) == data[250:450] and asked == [(300, 399)]
    ranged.seek(-4, io.SEEK_END)
    assert ranged.read() == data[-4:] and asked[-1] == (len(data) - 4, len(data) - 1)


# --- dictionary-encoded strings -------------------------------------------------------------


def test_strings_stay_dictionaries_only_where_the_file_keeps_them_dictionary_encoded(
    s3: Any,
) -> None:
    # Given country dictionary-encoded and email written plain
    body = parquet(orders(), use_dictionary=["country"])
    metadata = pq.read_metadata(io.BytesIO(body))
    assert parquet_objects.dictionary_encoded(metadata, "country")
    assert not parquet_objects.dictionary_encoded(metadata, "email")
    # And a dictionary that outgrew its page limit, the rest written plain, is not one
    fallback = pq.read_metadata(
        io.BytesIO(parquet(orders(), use_dictionary=True, dictionary_pagesize_limit=1024))
    )
    assert not parquet_objects.dictionary_encoded(fallback, "email")
    # Then reading gives country as a dictionary of strings, email as strings
    table = read_object(s3, BUCKET, put(s3, "o/p.parquet", body), COLUMNS[1:3], {})
    assert table.schema.field("country").type == pa.dictionary(pa.int32(), pa.string())
    assert table.schema.field("email").type == pa.string()


def test_objects_read_as_dictionary_and_as_plain_strings_make_one_table(s3: Any) -> None:
    put(s3, "orders/a.parquet", parquet(orders(10), use_dictionary=["country"]))
    put(s3, "orders/b.parquet", parquet(orders(10, 10), use_dictionary=False))
    table, objects = read_table(
        s3, S3Location.parse(f"s3://{BUCKET}/orders"), [Column("country", "string")], []
    )
    assert objects == 2 and table.schema.field("country").type == pa.string()
    assert table.column("country").to_pylist() == orders(10).column("country").to_pylist() * 2


# --- what cannot be read, and what the query's SQL cannot reach ------------------------------


def test_an_object_that_is_not_parquet_is_athenas_hive_cursor_error(s3: Any) -> None:
    # Given a table location whose only object is not a Parquet file
    s3.put_object(Bucket=BUCKET, Key="orders/dt=2024-01-01/part-0.parquet", Body=b"not parquet")
    # Then the query fails with Athena's error for it, naming the location
    with pytest.raises(QueryError) as raised:
        run_query(
            "SELECT id FROM sales_sales.orders",
            glue=Glue(TABLE, ["id", "dt"], "TRUE"),
            lakeformation=LakeFormation(),
            catalog_id=CONSUMER,
            s3_for=lambda _: s3,
            region="eu-west-1",
        )
    assert raised.value.code == "HIVE_CURSOR_ERROR"
    assert "s3://producer-data/orders/" in str(raised.value)


def test_the_query_connection_never_names_the_unfiltered_data() -> None:
    # Given a cell filter applied on the query's own connection
    access = TableAccess(
        ref=ORDERS,
        table_arn="arn:aws:glue:eu-west-1:111111111111:table/sales_sales/orders",
        location="s3://producer-data/orders/",
        columns=(Column("id", "int"), Column("country", "string")),
        partition_keys=(),
        authorized=("id", "country"),
        cell_filters={"id": "country = 'DE'", "country": "country = 'DE'"},
        row_filter=None,
    )
    unfiltered = pa.table({"id": [1, 2], "country": ["DE", "FR"]})
    connection = connect()
    visible = apply_filter(unfiltered, plan_filter(access, ["id"], duckdb_row_filter), connection)
    assert visible.to_pylist() == [{"id": 1}]
    # Then neither the statement's name for the data nor a Python variable holding it resolves
    for name in ("raw", "unfiltered", "visible"):
        with pytest.raises(Exception, match="does not exist"):
            connection.sql(f"SELECT * FROM {name}")  # noqa: S608
    # And the connection cannot be reconfigured to reach them
    with pytest.raises(Exception, match="lock"):
        connection.execute("SET python_enable_replacements = true")
