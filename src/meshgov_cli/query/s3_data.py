"""Reading a table's Parquet objects from S3 as an integrated engine does: with the S3 client
it is given (made from the credentials Lake Formation vended for that table, nothing else),
listing under the table's location and restoring the partition columns from Hive-style
``key=value/`` path segments (https://docs.aws.amazon.com/athena/latest/ug/partitions.html).

Objects whose name starts with ``_`` or ``.`` (``_SUCCESS``, ``.crc`` files) and folder markers
are skipped, as Hive and Athena skip them
(https://docs.aws.amazon.com/athena/latest/ug/tables-location-format.html).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from meshgov_cli.query.glue_types import arrow_type, partition_scalar
from meshgov_cli.query.parquet_objects import OpenedObject, dictionary_encoded, open_object

DECODERS = os.cpu_count() or 1  # objects decoded at once


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str  # "" or ending with "/"

    @classmethod
    def parse(cls, location: str) -> S3Location:
        """``s3://bucket/a/b`` -> bucket ``bucket``, prefix ``a/b/``."""
        if not location.startswith("s3://"):
            raise ValueError(f"the table's location {location!r} is not an s3:// location")
        bucket, _, key = location.removeprefix("s3://").partition("/")
        if not bucket:
            raise ValueError(f"the table's location {location!r} names no bucket")
        prefix = key.strip("/")
        return cls(bucket, f"{prefix}/" if prefix else "")


@dataclass(frozen=True)
class Column:
    name: str
    glue_type: str

    @property
    def arrow(self) -> pa.DataType:
        return arrow_type(self.glue_type)


@dataclass(frozen=True)
class DataObject:
    key: str
    size: int  # bytes, as the listing says


def data_objects(s3: Any, location: S3Location) -> Iterator[DataObject]:
    """Every data object under the location with its size (``list_objects_v2``, all pages)."""
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=location.bucket, Prefix=location.prefix):
        for item in page.get("Contents") or []:
            key = str(item["Key"])
            name = key.rsplit("/", 1)[-1]
            if not name or name.startswith(("_", ".")):
                continue
            yield DataObject(key, int(item.get("Size") or 0))


def partition_values(
    key: str, location: S3Location, partition_keys: Sequence[Column]
) -> dict[str, pa.Scalar] | None:
    """The typed partition values of an object from its ``k=v/`` segments below the location;
    None when the object is not inside a complete partition directory (Athena ignores it)."""
    if not partition_keys:
        return {}
    segments = key.removeprefix(location.prefix).split("/")[:-1]
    found: dict[str, str] = {}
    for segment in segments:
        name, sep, value = segment.partition("=")
        if sep:
            found[name.lower()] = value
    if any(k.name not in found for k in partition_keys):
        return None
    return {k.name: partition_scalar(found[k.name], k.glue_type) for k in partition_keys}


def _file_columns(metadata: pq.FileMetaData, wanted: Sequence[Column]) -> list[str]:
    """The file's names of the ``wanted`` columns it holds."""
    present = _present(metadata)
    return [present[c.name] for c in wanted if c.name in present]


def fetch_object(
    s3: Any, bucket: str, item: DataObject, columns: Sequence[Column], partitions: Mapping[str, Any]
) -> OpenedObject:
    """The bytes of one object that reading ``columns`` needs (:mod:`.parquet_objects`): the
    whole object when small, else its footer and those columns' chunks."""
    wanted = [c for c in columns if c.name not in partitions]
    return open_object(
        s3, bucket, item.key, item.size, lambda metadata: _file_columns(metadata, wanted)
    )


def decode_object(
    opened: OpenedObject,
    columns: Sequence[Column],
    partitions: Mapping[str, pa.Scalar],
    use_threads: bool = True,
) -> pa.Table:
    """One fetched Parquet object as a table of exactly ``columns`` (in that order, of their
    Glue types): columns missing from the file are nulls, partition columns are the path's
    values. A string column the file keeps dictionary-encoded stays an Arrow dictionary of
    strings (the same values; DuckDB compares and groups each distinct value once)."""
    wanted = [c for c in columns if c.name not in partitions]
    present = _present(opened.metadata)
    names = _file_columns(opened.metadata, wanted)
    dictionaries = [
        present[c.name]
        for c in wanted
        if c.name in present
        and pa.types.is_string(c.arrow)
        and dictionary_encoded(opened.metadata, present[c.name])
    ]
    parquet = pq.ParquetFile(opened.source, metadata=opened.metadata, read_dictionary=dictionaries)
    data = parquet.read(columns=names, use_threads=use_threads)
    rows = data.num_rows if names else opened.metadata.num_rows
    arrays: list[pa.Array | pa.ChunkedArray] = []
    for column in columns:
        if column.name in partitions:
            arrays.append(pa.repeat(partitions[column.name], rows))
        elif column.name in present:
            arrays.append(_typed(data.column(present[column.name]), column.arrow))
        else:
            arrays.append(pa.nulls(rows, type=column.arrow))
    return pa.Table.from_arrays(arrays, names=[c.name for c in columns])


def read_object(
    s3: Any,
    bucket: str,
    item: DataObject,
    columns: Sequence[Column],
    partitions: Mapping[str, pa.Scalar],
) -> pa.Table:
    """One Parquet object, fetched and decoded (:func:`fetch_object`, :func:`decode_object`)."""
    return decode_object(fetch_object(s3, bucket, item, columns, partitions), columns, partitions)


def _present(metadata: pq.FileMetaData) -> dict[str, str]:
    """The file's top-level column names, by lower-cased name."""
    return {name.lower(): name for name in metadata.schema.to_arrow_schema().names}


def _typed(values: pa.ChunkedArray, target: pa.DataType) -> pa.ChunkedArray:
    """``values`` as ``target``; a dictionary whose values already are ``target`` is kept."""
    if pa.types.is_dictionary(values.type) and values.type.value_type == target:
        return values
    return values.cast(target)


def schema(columns: Sequence[Column]) -> pa.Schema:
    return pa.schema([pa.field(c.name, c.arrow) for c in columns])


def _unified(parts: Sequence[pa.Table], columns: Sequence[Column]) -> list[pa.Table]:
    """The parts with one schema: a column read as a dictionary in one object and as plain
    values in another becomes plain values everywhere."""
    first = parts[0].schema
    if all(part.schema.equals(first) for part in parts):
        return list(parts)
    fields = []
    for column in columns:
        types = {part.schema.field(column.name).type for part in parts}
        fields.append(pa.field(column.name, types.pop() if len(types) == 1 else column.arrow))
    target = pa.schema(fields)
    return [part.cast(target) for part in parts]


def read_table(
    s3: Any, location: S3Location, columns: Sequence[Column], partition_keys: Sequence[Column]
) -> tuple[pa.Table, int]:
    """Every object under the location, as one table of ``columns``; and how many objects.

    The calling thread fetches the objects one after the other while :data:`DECODERS` threads
    decode those already fetched (Parquet decoding releases the GIL). Against the local mesh a
    request is Python work under the GIL (botocore, moto), so more fetching threads only take
    turns with each other and with the decoders' hand-overs; measured in ``bench/query.py``.
    The parts are concatenated in listing order."""
    found = [
        (item, values)
        for item in data_objects(s3, location)
        if (values := partition_values(item.key, location, partition_keys)) is not None
    ]
    if not found:
        return schema(columns).empty_table(), 0
    # One object: pyarrow's own threads decode its columns; several: one object per thread.
    threads = len(found) == 1
    with ThreadPoolExecutor(max_workers=min(DECODERS, len(found))) as decoders:
        pending = [
            decoders.submit(
                decode_object,
                fetch_object(s3, location.bucket, item, columns, values),
                columns,
                values,
                threads,
            )
            for item, values in found
        ]
        parts = [part.result() for part in pending]
    return pa.concat_tables(_unified(parts, columns)), len(parts)
