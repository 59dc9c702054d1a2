"""Publication is opt-in: nothing leaves a producer account until its owner says so.

A database parameter ``meshgov:publish=true`` publishes every table in it; a table parameter
``meshgov:publish`` (``true``/``false``) overrides its database either way. Anything else (absent,
misspelt) means "not published". Resource links are never published: they are someone else's data.

That holds for database links as much as table links, whatever their parameters say: Glue
``GetDatabase``/``GetDatabases`` follow a database resource link and return "the properties of the
link target" (https://docs.aws.amazon.com/lake-formation/latest/dg/resource-links-glue-apis.html),
so a producer's link to its own central copy (the ownership share, ``access/ownership.py``) shows
the central database's parameters, and ``GetTables`` through it lists the target's tables. A
database is a link when it has a ``TargetDatabase``
(https://docs.aws.amazon.com/glue/latest/webapi/API_Database.html); none of its tables is
published either.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PUBLISH_KEY = "meshgov:publish"


def _flag(parameters: Mapping[str, str] | None) -> bool | None:
    value = (parameters or {}).get(PUBLISH_KEY)
    if value is None:
        return None
    return value.strip().lower() == "true"


def is_resource_link(database: Mapping[str, Any]) -> bool:
    return bool(database.get("TargetDatabase"))


def database_published(database: Mapping[str, Any]) -> bool:
    return not is_resource_link(database) and _flag(database.get("Parameters")) is True


def table_published_in(database: Mapping[str, Any], table: Mapping[str, Any]) -> bool:
    """Whether ``table``, read from ``database``, is published (never through a link)."""
    if is_resource_link(database):
        return False
    return table_published(database_published(database), table)


def table_published(database_is_published: bool, table: Mapping[str, Any]) -> bool:
    if table.get("TargetTable"):
        return False
    own = _flag(table.get("Parameters"))
    return database_is_published if own is None else own
