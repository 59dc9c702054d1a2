"""Publication is opt-in: nothing leaves a producer account until its owner says so.

A database parameter ``meshgov:publish=true`` publishes every table in it; a table parameter
``meshgov:publish`` (``true``/``false``) overrides its database either way. Anything else (absent,
misspelt) means "not published". Resource links are never published: they are someone else's data.
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


def database_published(database: Mapping[str, Any]) -> bool:
    return _flag(database.get("Parameters")) is True


def table_published(database_is_published: bool, table: Mapping[str, Any]) -> bool:
    if table.get("TargetTable"):
        return False
    own = _flag(table.get("Parameters"))
    return database_is_published if own is None else own
