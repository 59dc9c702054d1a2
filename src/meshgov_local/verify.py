"""An independent oracle: does the central catalog equal what producers publish?

Written apart from meshgov's projection code on purpose: it reads both catalogs directly and
compares what a consumer would see (names, columns, partition keys, location, description,
business parameters, partitions, LF-Tags), so a bug in the projection cannot hide itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# Glue Data Quality results central attaches to its own copy (issue 15): central-only, never the
# source's (a producer's own values for these names are not carried), so not compared. The names
# are the contract of meshgov.quality, not projection code: the oracle stays independent.
from meshgov.quality.parameters import QUALITY_PARAMETERS

PUBLISH = "meshgov:publish"


def _published(db: dict[str, Any], table: dict[str, Any]) -> bool:
    if table.get("TargetTable"):
        return False
    own = (table.get("Parameters") or {}).get(PUBLISH)
    if own is not None:
        return str(own).lower() == "true"
    return str((db.get("Parameters") or {}).get(PUBLISH, "")).lower() == "true"


def _all(client: Any, op: str, key: str, **kwargs: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        response = client.__getattribute__(op)(**kwargs, **({"NextToken": token} if token else {}))
        items.extend(response.get(key, []))
        token = response.get("NextToken")
        if not token:
            return items


def _view(table: dict[str, Any]) -> dict[str, Any]:
    sd = table.get("StorageDescriptor") or {}
    params = {
        k: v
        for k, v in (table.get("Parameters") or {}).items()
        if not k.startswith("meshgov:")
        or k in ("meshgov:classification", "meshgov:owner_contact", PUBLISH)
        or (k.startswith("meshgov:quality") and k not in QUALITY_PARAMETERS)
    }
    return {
        "columns": [(c["Name"], c.get("Type")) for c in sd.get("Columns") or []],
        "partition_keys": [(c["Name"], c.get("Type")) for c in table.get("PartitionKeys") or []],
        "location": sd.get("Location"),
        "description": table.get("Description"),
        "parameters": params,
    }


def _partitions(glue: Any, catalog: str, db: str, table: str) -> dict[tuple[str, ...], Any]:
    parts = _all(
        glue, "get_partitions", "Partitions", CatalogId=catalog, DatabaseName=db, TableName=table
    )
    return {tuple(p["Values"]): (p.get("StorageDescriptor") or {}).get("Location") for p in parts}


def catalog_differences(
    producers: Iterable[tuple[str, str, Any]],
    central_glue: Any,
    central_account: str,
) -> list[str]:
    """``producers``: (account, domain, glue client in that account). Returns human-readable
    differences; empty means central equals the published source exactly."""
    problems: list[str] = []
    expected_dbs: set[str] = set()
    for account, domain, glue in producers:
        for db in _all(glue, "get_databases", "DatabaseList", CatalogId=account):
            if db.get("TargetDatabase"):
                # A resource link (the producer's link to its own central copy, say) is never
                # published; GetDatabases shows it with its target's parameters
                # (https://docs.aws.amazon.com/lake-formation/latest/dg/resource-links-glue-apis.html).
                continue
            tables = _all(
                glue, "get_tables", "TableList", CatalogId=account, DatabaseName=db["Name"]
            )
            published = [t for t in tables if _published(db, t)]
            db_flag = str((db.get("Parameters") or {}).get(PUBLISH, "")).lower() == "true"
            central_db = f"{domain}_{db['Name']}"
            if not published and not db_flag:
                continue
            expected_dbs.add(central_db)
            central_tables = {
                t["Name"]: t
                for t in _safe_tables(central_glue, central_account, central_db, problems)
            }
            for table in published:
                copy = central_tables.pop(table["Name"], None)
                where = f"{central_db}.{table['Name']}"
                if copy is None:
                    problems.append(f"missing centrally: {where}")
                    continue
                if _view(copy) != _view(table):
                    problems.append(f"differs: {where}: {_view(copy)} != {_view(table)}")
                if table.get("PartitionKeys"):
                    src = _partitions(glue, account, db["Name"], table["Name"])
                    dst = _partitions(central_glue, central_account, central_db, table["Name"])
                    if src != dst:
                        problems.append(
                            f"partitions differ: {where}: missing {sorted(set(src) - set(dst))[:5]}"
                            f" extra {sorted(set(dst) - set(src))[:5]}"
                        )
            problems.extend(f"not published but central: {central_db}.{n}" for n in central_tables)
    for db in _all(central_glue, "get_databases", "DatabaseList", CatalogId=central_account):
        if db["Name"] not in expected_dbs:
            problems.append(f"central database with nothing published: {db['Name']}")
    return problems


def _safe_tables(glue: Any, catalog: str, db: str, problems: list[str]) -> list[dict[str, Any]]:
    try:
        return _all(glue, "get_tables", "TableList", CatalogId=catalog, DatabaseName=db)
    except glue.exceptions.EntityNotFoundException:
        problems.append(f"missing central database: {db}")
        return []
