"""Canonical forms of Glue inputs, so "differs" means a real difference and hashes are stable.

Glue echoes defaults (empty lists, empty maps) in some places and not in others; two inputs that
differ only by such empties describe the same object. Volatile provenance (sync time, the
source's version number, derived history counters) never counts as a difference: otherwise every
sweep would rewrite every table.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from meshgov.quality.parameters import QUALITY_PARAMETERS

SYNCED_AT = "meshgov:synced_at"
SOURCE_VERSION = "meshgov:source_version"
SCHEMA_VERSION = "meshgov:schema_version"
LAST_BREAKING_CHANGE = "meshgov:last_breaking_change"
# Central-only quality results (meshgov.quality.parameters) are not the source's either: carried
# over by the plan, never a difference (a table scored is not a table changed).
VOLATILE_PARAMETERS = (
    frozenset({SYNCED_AT, SOURCE_VERSION, SCHEMA_VERSION, LAST_BREAKING_CHANGE})
    | QUALITY_PARAMETERS
)


def prune(value: Any) -> Any:
    """Drop None, empty strings, empty lists and empty maps, recursively."""
    if isinstance(value, Mapping):
        pruned = {k: prune(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        return [prune(v) for v in value]
    return value


def comparable(table_or_database_input: Mapping[str, Any]) -> dict[str, Any]:
    """The input without volatile provenance, pruned."""
    data = dict(table_or_database_input)
    params = {
        k: v for k, v in (data.get("Parameters") or {}).items() if k not in VOLATILE_PARAMETERS
    }
    data["Parameters"] = params
    result: dict[str, Any] = prune(data)
    return result


def digest(value: Any) -> str:
    payload = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def content_hash(table_or_database_input: Mapping[str, Any]) -> str:
    return digest(comparable(table_or_database_input))
