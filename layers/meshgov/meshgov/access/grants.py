"""Plan the Lake Formation grants that an approved request becomes (pure; issue 4).

Grants go from the central account to the consumer *account* (cross-account), always with the
grant option so the consumer's administrators can pass them on to the requesting role — that is
how the consumer side uses cross-account grants
(https://docs.aws.amazon.com/lake-formation/latest/dg/cross-account-permissions.html). Only
``SELECT`` and ``DESCRIBE`` are ever planned: no AWS document promises that Lake Formation
refuses ``DROP`` or ``ALTER`` across accounts, so meshgov refuses them itself.
``BatchGrantPermissions`` takes "a list of up to 20 entries" per call (the API's own parameter
documentation, as published in the AWS Tools for PowerShell reference, Grant-LKFPermissionBatch).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from meshgov.catalog.plan import chunks
from meshgov.contracts.access_events import NamedResource, Permission, TagExpression
from meshgov.errors import MeshgovError

BATCH_GRANT_MAX = 20
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


def named_grants(
    central_account: str, resource: NamedResource, permissions: Sequence[Permission]
) -> list[GrantEntry]:
    """Database-level DESCRIBE so the consumer can see the database, then the tables (or the
    columns of one table) with the requested permissions."""
    perms = _checked(permissions)
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
        )
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
    conditions = [{"TagKey": c.key, "TagValues": list(c.values)} for c in expression.conditions]

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


def batches(entries: Sequence[GrantEntry], consumer_account: str) -> list[list[dict[str, Any]]]:
    """``BatchGrantPermissions`` requests of at most 20 entries each."""
    return [
        [entry.as_batch_entry(consumer_account) for entry in chunk]
        for chunk in chunks(list(entries), BATCH_GRANT_MAX)
    ]
