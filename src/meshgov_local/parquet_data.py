"""Real data in the local mesh: a producer writes Parquet files for a Glue table, under the S3
location the table points at, so that a consumer's query (``meshgov query``) reads real objects.

Rows are generated, deterministic for a seed (Arrow's seeded ``random``, no Python loop per
row), typed as the table's Glue columns declare (:mod:`meshgov_cli.query.glue_types`, the same
mapping the engine reads them back with). A few column names get values that tell the story:
``email`` holds e-mail addresses, ``country`` a handful of ISO country codes including ``DE``,
``id``/``*_id`` a unique sequence.

A partitioned table's rows are split over Hive-style partition directories
``<location>/<key>=<value>/.../part-00000.parquet``, the layout Athena and Glue read
(https://docs.aws.amazon.com/athena/latest/ug/partitions.html); the partition columns live in the
path, not in the files. Objects are written with the producer's own S3 client (``PutObject``):
the producer owns its data, as on AWS.
"""

from __future__ import annotations

import io
import itertools
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from meshgov_cli.query.glue_types import arrow_type, partition_text
from meshgov_cli.query.s3_data import S3Location

COUNTRIES = ("DE", "FR", "NL", "ES", "IT", "US")
CURRENCIES = ("EUR", "USD", "GBP")
PARTITIONS_PER_KEY = 3  # values per partition key when the caller names none
EPOCH = date(2024, 1, 1)
DAYS = 365


@dataclass(frozen=True)
class WrittenObject:
    key: str
    rows: int
    size: int
    partition: tuple[str, ...]  # the partition values, in key order (empty: not partitioned)


@dataclass(frozen=True)
class WrittenData:
    """What :func:`write_table_data` wrote: every object, and the rows of each partition."""

    bucket: str
    objects: tuple[WrittenObject, ...]
    rows_per_partition: Mapping[tuple[str, ...], int] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(o.rows for o in self.objects)

    @property
    def keys(self) -> list[str]:
        return [o.key for o in self.objects]


def default_partition_values(name: str, glue_type: str, count: int) -> list[Any]:
    """``count`` plausible values for a partition key: days from 2024-01-01 for a date (or a
    string key named like one), country codes for ``country``, else small numbers or labels."""
    target = arrow_type(glue_type)
    lower = name.lower()
    if pa.types.is_date(target) or lower in ("dt", "date", "day", "ds"):
        days = [EPOCH + timedelta(days=i) for i in range(count)]
        return days if pa.types.is_date(target) else [d.isoformat() for d in days]
    if lower == "country":
        return list(COUNTRIES[:count])
    if pa.types.is_integer(target):
        return list(range(count))
    return [f"{lower}{i}" for i in range(count)]


def stream(seed: int, column: str, offset: int) -> int:
    """The random stream of one column of one file: the same for the same three inputs."""
    return zlib.crc32(f"{seed}:{column.lower()}:{offset}".encode())


def _uniform(rows: int, seed: int) -> pa.Array:
    """``rows`` doubles in [0, 1), the same for the same ``seed``."""
    return pc.random(rows, initializer=seed)


def _ints(rows: int, seed: int, low: int, high: int) -> pa.Array:
    """Integers in [low, high) (int64)."""
    scaled = pc.floor(pc.multiply(_uniform(rows, seed), float(high - low)))
    return pc.add(pc.cast(scaled, pa.int64()), low)


def generate_column(
    name: str, glue_type: str, rows: int, seed: int = 0, offset: int = 0
) -> pa.Array:
    """One column of ``rows`` generated values of ``glue_type``; ``offset`` numbers the rows
    of a table across files (unique ``id``s, distinct e-mail addresses) and picks their
    random stream with ``seed``."""
    target = arrow_type(glue_type)
    lower = name.lower()
    salt = stream(seed, lower, offset)
    sequence = pa.array(range(offset, offset + rows), type=pa.int64())
    if lower == "email" and pa.types.is_string(target):
        text = pc.cast(pc.add(sequence, 1), pa.string())
        return pc.binary_join_element_wise("customer", text, "@example.com", "")
    if lower == "country" and pa.types.is_string(target):
        return pa.array(COUNTRIES).take(_ints(rows, salt, 0, len(COUNTRIES)))
    if lower == "currency" and pa.types.is_string(target):
        return pa.array(CURRENCIES).take(_ints(rows, salt, 0, len(CURRENCIES)))
    if (lower == "id" or lower.endswith("_id")) and pa.types.is_integer(target):
        return pc.cast(pc.add(sequence, 1), target)
    if pa.types.is_boolean(target):
        return pc.less(_uniform(rows, salt), 0.5)
    if pa.types.is_integer(target):
        high = {1: 100, 2: 10_000}.get(target.bit_width // 8, 1_000_000)
        return pc.cast(_ints(rows, salt, 0, high), target)
    if pa.types.is_floating(target):
        return pc.cast(pc.round(pc.multiply(_uniform(rows, salt), 1000.0), 2), target)
    if pa.types.is_decimal(target):
        # Amounts of a shop's orders (below 1,000), other decimals up to a million.
        whole = 10 ** min(target.precision - target.scale, 3 if lower == "amount" else 6)
        value = pc.round(pc.multiply(_uniform(rows, salt), float(whole)), target.scale)
        return pc.cast(value, target)
    if pa.types.is_date(target):
        days = pc.add(_ints(rows, salt, 0, DAYS), (EPOCH - date(1970, 1, 1)).days)
        return pc.cast(pc.cast(days, pa.int32()), pa.date32())
    if pa.types.is_timestamp(target):
        start_ms = (EPOCH - date(1970, 1, 1)).days * 86_400_000
        ms = pc.add(pc.multiply(_ints(rows, salt, 0, DAYS * 86_400), 1000), start_ms)
        return pc.cast(ms, target)
    labels = pc.cast(_ints(rows, salt, 0, 1000), pa.string())
    return pc.binary_join_element_wise(f"{lower}-", labels, "")


def generate_rows(
    columns: Sequence[Mapping[str, Any]], rows: int, seed: int, offset: int = 0
) -> pa.Table:
    """A table of the Glue ``columns`` (``Name``, ``Type``) with ``rows`` generated rows."""
    arrays = [generate_column(str(c["Name"]), str(c["Type"]), rows, seed, offset) for c in columns]
    schema = pa.schema([pa.field(str(c["Name"]), arrow_type(str(c["Type"]))) for c in columns])
    return pa.Table.from_arrays(arrays, schema=schema)


def _split(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def write_table_data(
    s3: Any,
    table: Mapping[str, Any],
    rows: int,
    *,
    seed: int = 0,
    partition_values: Mapping[str, Sequence[Any]] | None = None,
    files_per_partition: int = 1,
) -> WrittenData:
    """Write ``rows`` generated rows of the Glue ``table`` (as ``GetTable`` returns it, or a
    ``TableInput``) as Parquet under its ``StorageDescriptor.Location``, with ``s3`` (a client
    of the producer account; the bucket must exist).

    A partitioned table gets every combination of its keys' values (``partition_values`` per
    key, else :func:`default_partition_values`), the rows split evenly over them, and within a
    partition over ``files_per_partition`` files.
    """
    if rows < 0 or files_per_partition < 1:
        raise ValueError("rows must be >= 0 and files_per_partition >= 1")
    descriptor = table.get("StorageDescriptor") or {}
    location = S3Location.parse(str(descriptor.get("Location") or ""))
    columns = list(descriptor.get("Columns") or [])
    if not columns:
        raise ValueError(f"table {table.get('Name')!r} declares no columns")
    keys = list(table.get("PartitionKeys") or [])
    for column in [*columns, *keys]:  # every type checked before anything is written
        arrow_type(str(column["Type"]))
    chosen = dict(partition_values or {})
    value_lists = [
        list(chosen.get(str(k["Name"])) or [])
        or default_partition_values(str(k["Name"]), str(k["Type"]), PARTITIONS_PER_KEY)
        for k in keys
    ]
    combos: list[tuple[Any, ...]] = list(itertools.product(*value_lists)) if keys else [()]
    objects: list[WrittenObject] = []
    per_partition: dict[tuple[str, ...], int] = {}
    offset = 0
    for combo, partition_rows in zip(combos, _split(rows, len(combos)), strict=True):
        texts = tuple(partition_text(v) for v in combo)
        directory = "".join(
            f"{str(k['Name']).lower()}={text}/" for k, text in zip(keys, texts, strict=True)
        )
        per_partition[texts] = partition_rows
        for index, file_rows in enumerate(_split(partition_rows, files_per_partition)):
            data = generate_rows(columns, file_rows, seed, offset)
            offset += file_rows
            buffer = io.BytesIO()
            # Decimals of precision up to 18 as INT32/INT64, as the Parquet format recommends
            # ("int32: for 1 <= precision <= 9; int64: for 1 <= precision <= 18",
            # https://github.com/apache/parquet-format/blob/master/LogicalTypes.md#decimal) and as
            # Spark and Athena's writers do: readers decode them far faster than fixed-length
            # byte arrays.
            pq.write_table(data, buffer, store_decimal_as_integer=True)
            body = buffer.getvalue()
            key = f"{location.prefix}{directory}part-{index:05d}.parquet"
            s3.put_object(Bucket=location.bucket, Key=key, Body=body)
            objects.append(WrittenObject(key, file_rows, len(body), texts))
    return WrittenData(location.bucket, tuple(objects), per_partition)


def partition_inputs(table: Mapping[str, Any], written: WrittenData) -> list[dict[str, Any]]:
    """Glue ``PartitionInput``s for what was written (``BatchCreatePartition``), each pointing
    at its directory under the table's location."""
    descriptor = table.get("StorageDescriptor") or {}
    location = str(descriptor.get("Location") or "").rstrip("/")
    keys = [str(k["Name"]).lower() for k in table.get("PartitionKeys") or []]
    inputs = []
    for values in written.rows_per_partition:
        if not values:
            continue
        path = "/".join(f"{k}={v}" for k, v in zip(keys, values, strict=True))
        inputs.append(
            {
                "Values": [unquote(v) for v in values],
                "StorageDescriptor": {**descriptor, "Location": f"{location}/{path}/"},
            }
        )
    return inputs
