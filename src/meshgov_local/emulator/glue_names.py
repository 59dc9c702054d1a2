"""Glue Data Catalog database and table names stored and looked up in lower case (moto keeps case).

Followed documents (AWS Glue API reference):

- DatabaseInput, https://docs.aws.amazon.com/glue/latest/webapi/API_DatabaseInput.html: ``Name``
  "The name of the database. For Hive compatibility, this is folded to lowercase when it is stored."
- TableInput, https://docs.aws.amazon.com/glue/latest/webapi/API_TableInput.html: ``Name`` "The
  table name. For Hive compatibility, this is folded to lowercase when it is stored."
- The requests naming them, e.g. GetTable, https://docs.aws.amazon.com/glue/latest/webapi/API_GetTable.html:
  ``DatabaseName`` "The name of the database in the catalog in which the table resides. For Hive
  compatibility, this name is entirely lowercase." and ``Name`` "The name of the table for which to
  retrieve the definition. For Hive compatibility, this name is entirely lowercase." (the same
  words on DeleteTable, BatchDeleteTable, GetTables, UpdateTable and the partition operations), so
  a name given in any case reaches the one stored object: ``ORDERS`` and ``orders`` are one table.

Column names are *not* folded: the Column structure
(https://docs.aws.amazon.com/glue/latest/webapi/API_Column.html) says only "The name of the
Column."; lower-cased column names are documented for S3 Tables catalogs alone
(https://docs.aws.amazon.com/lake-formation/latest/dg/notes-s3-catalog.html), which the local mesh
does not emulate. Partition values are data, not names, and keep their case.

Names are folded with Unicode lower-casing (``str.lower``): a Cyrillic capital O (U+041E) becomes
a Cyrillic small o (U+043E), still distinct from the Latin ``o``. The patch folds the arguments
of ``GlueBackend`` methods before anything else sees them, so :mod:`.glue_events` (which it wraps)
names the stored objects in the events it emits, and the in-process mock and the moto server
behave alike.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from moto.glue.models import GlueBackend

from ._patching import wrap_method

NAME_ARGUMENTS = ("database_name", "table_name")
INPUT_ARGUMENTS = ("database_input", "table_input")
OPERATIONS = (
    "create_database",
    "get_database",
    "update_database",
    "delete_database",
    "create_table",
    "get_table",
    "get_tables",
    "update_table",
    "delete_table",
    "batch_delete_table",
    "get_table_version",
    "get_table_versions",
    "delete_table_version",
    "create_partition",
    "get_partition",
    "get_partitions",
    "update_partition",
    "delete_partition",
    "batch_create_partition",
    "batch_get_partition",
    "batch_update_partition",
    "batch_delete_partition",
)


def fold(name: Any) -> Any:
    """A catalog name as Glue stores it (anything not a string is left to moto's checks)."""
    return name.lower() if isinstance(name, str) else name


def folded_input(item: Any) -> Any:
    """A DatabaseInput or TableInput whose ``Name`` is folded (a copy: the caller's is kept)."""
    if not isinstance(item, dict) or not isinstance(item.get("Name"), str):
        return item
    return {**item, "Name": fold(item["Name"])}


def _folding(method: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(method)  # follows __wrapped__ through glue_events' wrapper

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs)
        arguments = bound.arguments
        for name in NAME_ARGUMENTS:
            if name in arguments:
                arguments[name] = fold(arguments[name])
        for name in INPUT_ARGUMENTS:
            if name in arguments:
                arguments[name] = folded_input(arguments[name])
        if isinstance(arguments.get("tables"), list):  # BatchDeleteTable's TablesToDelete
            arguments["tables"] = [fold(table) for table in arguments["tables"]]
        return method(*bound.args, **bound.kwargs)

    return wrapper


def install() -> None:
    for name in OPERATIONS:
        wrap_method(GlueBackend, name, _folding)
