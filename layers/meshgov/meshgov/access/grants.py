"""Plan the Lake Formation grants that an approved request becomes (pure; issue 4).

Grants go from the central account to the consumer *account* (cross-account), always with the
grant option so the consumer's administrators can pass them on to the requesting role — that is
how the consumer side uses cross-account grants
(https://docs.aws.amazon.com/lake-formation/latest/dg/cross-account-permissions.html). Only
``SELECT`` and ``DESCRIBE`` are ever planned: no AWS document promises that Lake Formation
refuses ``DROP`` or ``ALTER`` across accounts, so meshgov refuses them itself.

``BatchGrantPermissions`` and ``BatchRevokePermissions`` each take "a list of up to 20 entries"
per call (their ``Entries`` parameter, as the AWS SDK references publish the API's model:
https://docs.aws.amazon.com/AWSJavaSDK/latest/javadoc/com/amazonaws/services/lakeformation/model/BatchGrantPermissionsRequest.html,
https://docs.aws.amazon.com/sdk-for-kotlin/api/latest/lakeformation/aws.sdk.kotlin.services.lakeformation.model/-batch-revoke-permissions-request).
:func:`grant_batches` is the one place entries are cut to that size, in central and in members.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from meshgov.access.store import Coverage
from meshgov.catalog.plan import chunks
from meshgov.contracts.access_events import NamedResource, Permission, TagExpression
from meshgov.errors import MeshgovError

BATCH_GRANT_MAX = 20  # entries per BatchGrantPermissions / BatchRevokePermissions call
GRANTABLE = frozenset({Permission.SELECT, Permission.DESCRIBE})


class GrantRefusedError(MeshgovError):
    """A grant meshgov will never make (a permission beyond SELECT/DESCRIBE, an empty request)."""


@dataclass(frozen=True)
class GrantEntry:
    entry_id: str
    resource: dict[str, Any]
    permissions: tuple[str, ...]

    def as_batch_entry(self, consumer_account: str) -> dict[str, Any]:
        return {
            "Id": self.entry_id,
            "Principal": {"DataLakePrincipalIdentifier": consumer_account},
            "Resource": self.resource,
            "Permissions": list(self.permissions),
            "PermissionsWithGrantOption": list(self.permissions),
        }


def _checked(permissions: Sequence[Permission]) -> tuple[str, ...]:
    wanted = set(permissions)
    if not wanted:
        raise GrantRefusedError("no permission requested")
    if not wanted <= GRANTABLE:
        raise GrantRefusedError(f"meshgov never grants {sorted(wanted - GRANTABLE)}")
    return tuple(sorted(p.value for p in wanted))


# (database, table) -> the DataCellsFilter resource of the request's filter on that table.
Filtered = Mapping[tuple[str, str], Mapping[str, Any]]


def _filter_entries(
    prefix: str, database: str, tables: Sequence[str], filtered: Filtered
) -> list[GrantEntry]:
    """``SELECT`` on each filtered table's data cells filter (the only grant on that table:
    meshgov.access.filters says why)."""
    return [
        GrantEntry(f"{prefix}f-{index}", dict(filtered[(database, table)]), ("SELECT",))
        for index, table in enumerate(tables)
        if (database, table) in filtered
    ]


def named_grants(
    central_account: str,
    resource: NamedResource,
    permissions: Sequence[Permission],
    filtered: Filtered | None = None,
) -> list[GrantEntry]:
    """Database-level DESCRIBE so the consumer can see the database, then the tables (or the
    columns of one table) with the requested permissions; a filtered table through its filter."""
    perms = _checked(permissions)
    filtered = filtered or {}
    database = {"Database": {"CatalogId": central_account, "Name": resource.database}}
    entries = [GrantEntry("db", database, ("DESCRIBE",))]
    if resource.columns:
        (table,) = resource.tables
        entries.append(
            GrantEntry(
                f"cols-{table}",
                {
                    "TableWithColumns": {
                        "CatalogId": central_account,
                        "DatabaseName": resource.database,
                        "Name": table,
                        "ColumnNames": list(resource.columns),
                    }
                },
                tuple(p for p in perms if p == "SELECT") or perms,
            )
        )
    elif resource.tables:
        entries.extend(
            GrantEntry(
                f"t-{index}",
                {
                    "Table": {
                        "CatalogId": central_account,
                        "DatabaseName": resource.database,
                        "Name": table,
                    }
                },
                perms,
            )
            for index, table in enumerate(resource.tables)
            if (resource.database, table) not in filtered
        )
        entries.extend(_filter_entries("", resource.database, resource.tables, filtered))
    else:
        entries.append(
            GrantEntry(
                "all-tables",
                {
                    "Table": {
                        "CatalogId": central_account,
                        "DatabaseName": resource.database,
                        "TableWildcard": {},
                    }
                },
                perms,
            )
        )
    return entries


def tag_policy_grants(
    central_account: str, expression: TagExpression, permissions: Sequence[Permission]
) -> list[GrantEntry]:
    """``LFTagPolicy`` grants: DESCRIBE on matching databases, the permissions on their tables."""
    perms = _checked(permissions)
    # As Lake Formation stores it (keys and values in lower case), in one canonical order: two
    # requests for the same expression plan the same grant, so revoking one keeps the other's.
    conditions = [
        {"TagKey": key, "TagValues": sorted(values)}
        for key, values in sorted(
            (c.key.lower(), {v.lower() for v in c.values}) for c in expression.conditions
        )
    ]

    def policy(resource_type: str) -> dict[str, Any]:
        return {
            "LFTagPolicy": {
                "CatalogId": central_account,
                "ResourceType": resource_type,
                "Expression": conditions,
            }
        }

    return [
        GrantEntry("tag-db", policy("DATABASE"), ("DESCRIBE",)),
        GrantEntry("tag-tables", policy("TABLE"), perms),
    ]


def grant_batches[T](entries: Sequence[T]) -> Iterator[list[T]]:
    """``entries`` cut into the ``Entries`` of successive ``BatchGrantPermissions`` or
    ``BatchRevokePermissions`` calls: at most ``BATCH_GRANT_MAX`` each, in order."""
    return chunks(entries, BATCH_GRANT_MAX)


def batches(entries: Sequence[GrantEntry], consumer_account: str) -> list[list[dict[str, Any]]]:
    """``BatchGrantPermissions`` requests of at most 20 entries each."""
    return [
        [entry.as_batch_entry(consumer_account) for entry in chunk]
        for chunk in grant_batches(entries)
    ]


def central_grant_entries(
    central_account: str,
    consumer_account: str,
    coverage: Sequence[Coverage],
    permissions: Sequence[Permission],
    expression: TagExpression | None = None,
    filtered: Filtered | None = None,
) -> list[dict[str, Any]]:
    """The ``BatchGrantPermissions`` entries of one request (ids unique within the request)."""
    if expression is not None:
        planned = tag_policy_grants(central_account, expression, permissions)
    else:
        planned = []
        for index, cover in enumerate(coverage):
            named = NamedResource(
                database=cover.database, tables=list(cover.tables), columns=list(cover.columns)
            )
            for entry in named_grants(central_account, named, permissions, filtered):
                planned.append(
                    GrantEntry(f"{index}-{entry.entry_id}", entry.resource, entry.permissions)
                )
    return [entry.as_batch_entry(consumer_account) for entry in planned]


def link_grant_entries(
    central_account: str,
    principal: str,
    coverage: Sequence[Coverage],
    permissions: Sequence[Permission],
    filtered: Filtered | None = None,
) -> list[dict[str, Any]]:
    """What the consumer grants its principal: ``DESCRIBE`` on each database link (named as the
    central database) and the permissions on the targets. "Granting permissions on a resource
    link doesn't grant permissions on the target"
    (https://docs.aws.amazon.com/lake-formation/latest/dg/granting-link-permissions.html), and
    LF-Tags cannot be attached to shared resources, so targets are named resources even when
    the request was an LF-Tag expression."""
    perms = list(_checked(permissions))
    filtered = filtered or {}
    grants: list[dict[str, Any]] = []
    for cover in coverage:
        grants.append(
            {
                "principal": principal,
                "resource": {"Database": {"Name": cover.database}},
                "permissions": ["DESCRIBE"],
            }
        )
        if cover.columns:
            (table,) = cover.tables
            target: list[dict[str, Any]] = [
                {
                    "TableWithColumns": {
                        "CatalogId": central_account,
                        "DatabaseName": cover.database,
                        "Name": table,
                        "ColumnNames": list(cover.columns),
                    }
                }
            ]
        elif cover.whole:
            target = [
                {
                    "Table": {
                        "CatalogId": central_account,
                        "DatabaseName": cover.database,
                        "TableWildcard": {},
                    }
                }
            ]
        else:
            target = [
                {"Table": {"CatalogId": central_account, "DatabaseName": cover.database, "Name": t}}
                for t in cover.tables
                if (cover.database, t) not in filtered
            ]
        grants.extend({"principal": principal, "resource": r, "permissions": perms} for r in target)
        grants.extend(
            {"principal": principal, "resource": dict(entry.resource), "permissions": ["SELECT"]}
            for entry in _filter_entries("", cover.database, cover.tables, filtered)
        )
    return grants


GrantKey = tuple[str, str, str]  # (principal, resource as canonical JSON, permission)


def _principal_of(entry: Mapping[str, Any]) -> str:
    principal = entry.get("Principal", {}).get("DataLakePrincipalIdentifier")
    return str(principal if principal is not None else entry.get("principal", ""))


def grant_keys(entries: Iterable[Mapping[str, Any]]) -> set[GrantKey]:
    """Entries (batch entries or link grants) as one key per principal, resource, permission."""
    keys: set[GrantKey] = set()
    for entry in entries:
        resource = json.dumps(entry.get("Resource") or entry.get("resource"), sort_keys=True)
        for permission in entry.get("Permissions") or entry.get("permissions") or []:
            keys.add((_principal_of(entry), resource, str(permission)))
    return keys


def still_unneeded(
    entries: Sequence[Mapping[str, Any]], kept: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """``entries`` without the permissions that live requests (``kept``) still need.

    Lake Formation holds one grant per principal, resource and permission: revoking an expired
    request's grant would also take away an identical grant another request still explains.
    """
    needed = grant_keys(kept)
    result: list[dict[str, Any]] = []
    for entry in entries:
        remaining = [
            p for key in sorted(grant_keys([entry])) if key not in needed for p in [key[2]]
        ]
        if not remaining:
            continue
        trimmed = dict(entry)
        if "Permissions" in entry:
            trimmed["Permissions"] = remaining
            trimmed["PermissionsWithGrantOption"] = [
                p for p in entry.get("PermissionsWithGrantOption", []) if p in remaining
            ]
        else:
            trimmed["permissions"] = remaining
        result.append(trimmed)
    return result
