"""Glue (Hive) column types as Arrow types, and Hive partition path values as typed scalars.

One home for the mapping: the local mesh's producer writes its Parquet files with it
(:mod:`meshgov_local.parquet_data`) and the consumer's engine reads them back with it
(:mod:`meshgov_cli.query.engine`), so what is written is what is read.

The types are the Hive data types Glue tables declare for Parquet data, as Athena maps them
(https://docs.aws.amazon.com/athena/latest/ug/data-types.html): ``boolean``, ``tinyint``,
``smallint``, ``int``/``integer``, ``bigint``, ``float``, ``double``, ``decimal(p,s)``,
``char(n)``, ``varchar(n)``, ``string``, ``date``, ``timestamp``. Complex types (``array``,
``map``, ``struct``) are refused with a clear error: nothing here would read them correctly.

Hive-style partition directories are ``key=value`` with the value escaped (``%XX``) and
``__HIVE_DEFAULT_PARTITION__`` for a null
(https://docs.aws.amazon.com/athena/latest/ug/partitions.html).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote, unquote

import pyarrow as pa

HIVE_NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"

_SIMPLE: dict[str, pa.DataType] = {
    "boolean": pa.bool_(),
    "tinyint": pa.int8(),
    "smallint": pa.int16(),
    "int": pa.int32(),
    "integer": pa.int32(),
    "bigint": pa.int64(),
    "float": pa.float32(),
    "double": pa.float64(),
    "string": pa.string(),
    "date": pa.date32(),
    # Athena reads Hive timestamps with millisecond precision (data-types.html, timestamp).
    "timestamp": pa.timestamp("ms"),
}
_DECIMAL = re.compile(r"^decimal\s*\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)$")
_CHARS = re.compile(r"^(?:var)?char\s*\(\s*\d+\s*\)$")


class GlueTypeUnsupportedError(ValueError):
    """A Glue column type this reader and writer do not handle (complex or unknown)."""


def arrow_type(glue_type: str) -> pa.DataType:
    """``"decimal(10,2)"`` -> ``decimal128(10, 2)``; ``"bigint"`` -> ``int64``."""
    text = glue_type.strip().lower()
    if text in _SIMPLE:
        return _SIMPLE[text]
    if text == "decimal":  # Hive's default precision and scale
        return pa.decimal128(10, 0)
    match = _DECIMAL.match(text)
    if match:
        return pa.decimal128(int(match.group(1)), int(match.group(2) or 0))
    if _CHARS.match(text):
        return pa.string()
    raise GlueTypeUnsupportedError(f"Glue type {glue_type!r} is not supported (only scalar types)")


def partition_scalar(raw: str, glue_type: str) -> pa.Scalar:
    """A partition directory's ``value`` (still escaped) as a scalar of the key's type."""
    target = arrow_type(glue_type)
    text = unquote(raw)
    if text == HIVE_NULL_PARTITION:
        return pa.scalar(None, type=target)
    try:
        return pa.scalar(_parse(text, target), type=target)
    except (pa.ArrowInvalid, ArithmeticError, ValueError) as exc:
        raise ValueError(f"partition value {text!r} is not a {glue_type}") from exc


def _parse(text: str, target: pa.DataType) -> Any:
    if pa.types.is_boolean(target):
        return text.strip().lower() == "true"
    if pa.types.is_integer(target):
        return int(text)
    if pa.types.is_floating(target):
        return float(text)
    if pa.types.is_decimal(target):
        return Decimal(text)
    if pa.types.is_date(target):
        return date.fromisoformat(text)
    if pa.types.is_timestamp(target):
        return datetime.fromisoformat(text)
    return text


def partition_text(value: Any) -> str:
    """A value as a Hive partition directory writes it (``date`` ISO, escaped, null marker)."""
    if value is None:
        return HIVE_NULL_PARTITION
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, datetime):
        text = value.isoformat(sep=" ")
    else:
        text = str(value)
    return quote(text, safe=" -_.")
