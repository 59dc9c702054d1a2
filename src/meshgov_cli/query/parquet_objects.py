"""Fetching only the bytes of a Parquet object that a query needs, as Athena's and Spark's
readers do: the footer first, then the column chunks of the columns read.

- An object no larger than :data:`WHOLE_OBJECT_BYTES` is fetched with one GET: a request costs
  more than the bytes it would save. AWS gives 8 MB or 16 MB as "typical sizes for byte-range
  requests" (https://docs.aws.amazon.com/whitepapers/latest/s3-optimizing-performance-best-practices/use-byte-range-fetches.html);
  an object of one such range is read whole (Trino reads small Parquet files in one request
  for the same reason, https://github.com/trinodb/trino/pull/19127).
- A larger object: one ranged GET of its tail (the footer: Thrift ``FileMetaData``, its length
  as 4 little-endian bytes and the magic ``PAR1``;
  https://parquet.apache.org/docs/file-format/), a second one only when the footer is longer
  than the first guess, then one ranged GET per run of needed column chunks (chunks closer than
  :data:`MERGE_GAP_BYTES` share a request; S3 serves one range per GET: "Amazon S3 doesn't
  support retrieving multiple ranges of data per GET request",
  https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html). pyarrow then decodes
  from those bytes only; a read outside them (a reader needing something the footer did not
  announce) is fetched on demand, so the result is always the object's own data.

Every GET is made with the S3 client the caller gives (the vended credentials), nothing else.
"""

from __future__ import annotations

import bisect
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

WHOLE_OBJECT_BYTES = 8 * 1024 * 1024
FOOTER_GUESS_BYTES = 64 * 1024  # the first tail read: most footers fit (one row group each)
MERGE_GAP_BYTES = 1024 * 1024  # a gap cheaper to transfer than another request's latency
MAGIC = b"PAR1"
TRAILER_BYTES = 8  # footer length (4 bytes, little-endian) + magic
# A column chunk whose data pages take at most this many bytes per value holds dictionary
# indices only (RLE_DICTIONARY indices are at most 32 bits wide); a chunk whose writer fell
# back to PLAIN pages (a dictionary past its size limit) holds the values themselves.
DICTIONARY_INDEX_BYTES = 4


class ParquetObjectError(ValueError):
    """An object under the table's location that is not a readable Parquet file."""


Fetch = Callable[[int, int], bytes]  # (first, last) byte, inclusive as HTTP Range says


def s3_fetch(s3: Any, bucket: str, key: str) -> Fetch:
    """Ranged GETs of one object with ``s3``."""

    def fetch(first: int, last: int) -> bytes:
        response = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes={first}-{last}")
        return bytes(response["Body"].read())

    return fetch


def whole_object(s3: Any, bucket: str, key: str) -> bytes:
    return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


@dataclass(frozen=True)
class Footer:
    metadata: pq.FileMetaData
    tail_start: int  # where the fetched tail begins in the object
    tail: bytes  # the object's last bytes, footer included: chunks in it need no other GET


def footer(fetch: Fetch, size: int) -> Footer:
    """The object's footer, from one ranged GET of its tail (two when the footer is longer
    than :data:`FOOTER_GUESS_BYTES`)."""
    if size < len(MAGIC) + TRAILER_BYTES:
        raise ParquetObjectError("too short to be a Parquet file")
    tail = fetch(max(0, size - FOOTER_GUESS_BYTES), size - 1)
    if tail[-len(MAGIC) :] != MAGIC:
        raise ParquetObjectError("no Parquet magic at its end")
    needed = int.from_bytes(tail[-TRAILER_BYTES : -len(MAGIC)], "little") + TRAILER_BYTES
    if needed + len(MAGIC) > size:
        raise ParquetObjectError("its footer length is larger than the object")
    if needed > len(tail):
        tail = fetch(size - needed, size - len(tail) - 1) + tail
    try:
        # The footer alone, behind a leading magic, is a file pyarrow can read metadata from.
        metadata = pq.read_metadata(pa.BufferReader(MAGIC + tail[-needed:]))
    except (OSError, pa.ArrowException) as exc:
        raise ParquetObjectError(f"its footer cannot be read: {exc}") from exc
    return Footer(metadata, size - len(tail), tail)


def _top_level(path: str) -> str:
    return path.split(".", 1)[0]


def chunk_span(chunk: pq.ColumnChunkMetaData) -> tuple[int, int]:
    """``[start, end)`` of a column chunk: from its dictionary page when it has one (as the
    Parquet reader computes it), ``total_compressed_size`` bytes long."""
    start = int(chunk.data_page_offset)
    dictionary = int(chunk.dictionary_page_offset or 0)
    if chunk.has_dictionary_page and 0 < dictionary < start:
        start = dictionary
    return start, start + int(chunk.total_compressed_size)


def needed_ranges(metadata: pq.FileMetaData, names: Iterable[str]) -> list[tuple[int, int]]:
    """``[start, end)`` byte ranges holding the chunks of the top-level columns ``names`` in
    every row group, sorted, runs closer than :data:`MERGE_GAP_BYTES` merged."""
    wanted = set(names)
    spans: list[tuple[int, int]] = []
    for group in range(metadata.num_row_groups):
        row_group = metadata.row_group(group)
        for index in range(row_group.num_columns):
            chunk = row_group.column(index)
            if _top_level(str(chunk.path_in_schema)) in wanted:
                spans.append(chunk_span(chunk))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start - merged[-1][1] <= MERGE_GAP_BYTES:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def dictionary_encoded(metadata: pq.FileMetaData, name: str) -> bool:
    """Whether every chunk of top-level column ``name`` is dictionary-encoded throughout (its
    data pages hold indices, not values), so that it can be read as an Arrow dictionary without
    building one: DuckDB then compares and groups each distinct value once, as it does reading
    Parquet itself. A heuristic from the footer (which does not list page encodings per page)."""
    found = False
    for group in range(metadata.num_row_groups):
        row_group = metadata.row_group(group)
        for index in range(row_group.num_columns):
            chunk = row_group.column(index)
            if str(chunk.path_in_schema) != name:
                continue
            found = True
            if not chunk.has_dictionary_page:
                return False
            start, _ = chunk_span(chunk)
            dictionary_bytes = int(chunk.data_page_offset) - start
            data_bytes = int(chunk.total_uncompressed_size) - dictionary_bytes
            if data_bytes > DICTIONARY_INDEX_BYTES * max(1, int(chunk.num_values)):
                return False
    return found


@dataclass
class RangedObject(io.RawIOBase):
    """A read-only file over the fetched ranges of an object of ``size`` bytes; a read outside
    them is fetched (and kept) on demand."""

    size: int
    fetch: Fetch
    ranges: dict[int, bytes] = field(default_factory=dict)  # start -> bytes
    position: int = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = max(0, base + offset)
        return self.position

    def read(self, size: int | None = -1) -> bytes:
        end = self.size if size is None or size < 0 else min(self.size, self.position + size)
        if end <= self.position:
            return b""
        data = self._bytes(self.position, end)
        self.position = end
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def _bytes(self, start: int, end: int) -> bytes:
        """``[start, end)`` from the held ranges, a missing stretch fetched (and kept)."""
        pieces: list[bytes] = []
        position = start
        while position < end:
            starts = sorted(self.ranges)
            at = bisect.bisect_right(starts, position) - 1
            held_start = starts[at] if at >= 0 else -1
            held = self.ranges[held_start] if at >= 0 else b""
            if held_start + len(held) > position:  # held: take what this range has
                stop = min(end, held_start + len(held))
                pieces.append(held[position - held_start : stop - held_start])
            else:  # a gap: fetch up to the next held range (or the end of the read)
                following = starts[at + 1] if at + 1 < len(starts) else end
                stop = min(end, following)
                self.ranges[position] = self.fetch(position, stop - 1)
                pieces.append(self.ranges[position])
            position = stop
        return b"".join(pieces)


@dataclass(frozen=True)
class OpenedObject:
    """A Parquet object ready to decode: its footer and a source holding the needed bytes."""

    metadata: pq.FileMetaData
    source: Any  # pa.BufferReader or pa.PythonFile


def open_object(
    s3: Any, bucket: str, key: str, size: int, columns: Callable[[pq.FileMetaData], Sequence[str]]
) -> OpenedObject:
    """Fetch what decoding the file columns ``columns(footer)`` needs: the whole object when
    small, else its footer and those columns' chunks."""
    if size <= WHOLE_OBJECT_BYTES:
        body = whole_object(s3, bucket, key)
        try:
            metadata = pq.read_metadata(pa.BufferReader(body))
        except (OSError, pa.ArrowException) as exc:
            raise ParquetObjectError(f"s3://{bucket}/{key} cannot be read: {exc}") from exc
        return OpenedObject(metadata, pa.BufferReader(body))
    fetch = s3_fetch(s3, bucket, key)
    try:
        found = footer(fetch, size)
    except ParquetObjectError as exc:
        raise ParquetObjectError(f"s3://{bucket}/{key}: {exc}") from exc
    ranges = {found.tail_start: found.tail}
    for start, end in needed_ranges(found.metadata, columns(found.metadata)):
        end = min(end, found.tail_start)  # what the tail holds is not fetched again
        if start < end:
            ranges[start] = fetch(start, end - 1)
    source = pa.PythonFile(RangedObject(size, fetch, ranges), mode="r")
    return OpenedObject(found.metadata, source)
