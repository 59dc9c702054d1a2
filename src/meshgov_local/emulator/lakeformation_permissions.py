"""What Lake Formation lets a principal do on a Data Catalog object: one pure-ish home for it.

Reads the grants the Lake Formation backends hold (:mod:`.lakeformation_grants` keeps them as AWS
does), the data lake settings and the emulator's own record of who created what
(:class:`Creators`), and answers :func:`database_access` and :func:`table_access`. The Glue side
(:mod:`.glue_lakeformation`) turns the answers into filtered reads and refused writes.

Followed documents:

- Implicit permissions, https://docs.aws.amazon.com/lake-formation/latest/dg/implicit-permissions.html:
  data lake administrators "have Describe access to all resources in the Data Catalog except for
  resources shared from another account directly to a different principal", "can create
  databases", and "do not have implicit permissions to drop databases or alter/drop tables
  created by others"; database creators "have all database permissions on databases that they
  create" and "no implicit permissions on tables that others create in the database"; table
  creators "have all permissions on tables that they create" and "can view databases that contain
  tables that they create". Read-only administrators (``ReadOnlyAdmins``) describe, and nothing
  else (https://docs.aws.amazon.com/lake-formation/latest/dg/permissions-reference.html, "Lake
  Formation personas": "read-only administrator ... can view, but not change").
- Permissions per resource, https://docs.aws.amazon.com/lake-formation/latest/dg/lf-permissions-reference.html:
  database ``ALL``, ``ALTER``, ``CREATE_TABLE``, ``DESCRIBE``, ``DROP``; table ``ALL``, ``ALTER``,
  ``DELETE``, ``DESCRIBE``, ``DROP``, ``INSERT``, ``SELECT``; a table with a column filter carries
  ``SELECT`` on its columns only; ``ALL`` ("Super") is every permission. Grants by LF-Tag policy
  apply to the databases or tables whose effective LF-Tags satisfy the expression
  (https://docs.aws.amazon.com/lake-formation/latest/dg/tag-based-access-control.html).
- ``IAMAllowedPrincipals``: "a group that includes any IAM users and roles that are allowed
  access to your Data Catalog resources by your IAM policies"; a resource on which it holds
  permissions is governed by IAM alone, for principals of the account
  (https://docs.aws.amazon.com/lake-formation/latest/dg/change-settings.html).
- Cross-account: a grant to an external account lets that account's administrators grant the
  shared resource on to its own principals, once the account accepted the RAM share; a
  principal's access is what its account's grant gives it, within what was shared with the account
  (https://docs.aws.amazon.com/lake-formation/latest/dg/cross-account-permissions.html).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from moto.glue.models import glue_backends
from moto.lakeformation.models import lakeformation_backends

from . import ram_sharing
from .lakeformation import effective_tags, expression_matches

SUPER = "ALL"
IAM_ALLOWED_PRINCIPALS = "IAM_ALLOWED_PRINCIPALS"
DESCRIBE = "DESCRIBE"


@dataclass(frozen=True)
class Caller:
    """A principal as Lake Formation knows it: its account and its ARN (a role's, for a role
    session: Lake Formation grants name roles, never sessions)."""

    account: str
    arn: str


@dataclass(frozen=True)
class Access:
    """What a principal may do on one database or table.

    ``permissions`` hold on the whole table; ``column_select`` are the columns a column grant
    names (``SELECT`` on those columns only).
    """

    permissions: frozenset[str] = frozenset()
    column_select: frozenset[str] = frozenset()

    def allows(self, permission: str) -> bool:
        return SUPER in self.permissions or permission in self.permissions

    @property
    def visible(self) -> bool:
        return bool(self.permissions or self.column_select)

    def visible_columns(self, every: Iterable[str]) -> list[str]:
        """The table's columns this principal may see, in the table's order."""
        names = list(every)
        if self.permissions:
            return names
        return [name for name in names if name in self.column_select]

    def within(self, share: Access) -> Access:
        """This access limited to what ``share`` (the account's, for a cross-account object)
        allows."""
        if SUPER in share.permissions:
            return self
        mine, theirs = _expand(self.permissions), _expand(share.permissions)
        kept = mine & theirs
        if "SELECT" in theirs:
            columns = set(self.column_select)
        else:
            columns = set(self.column_select) & set(share.column_select)
            if "SELECT" in mine:
                columns |= set(share.column_select)
        return Access(frozenset(kept), frozenset(columns))


TABLE_PERMISSIONS = frozenset({"ALTER", "DELETE", "DESCRIBE", "DROP", "INSERT", "SELECT"})
DATABASE_PERMISSIONS = frozenset({"ALTER", "CREATE_TABLE", "DESCRIBE", "DROP"})


def _expand(permissions: Iterable[str]) -> set[str]:
    held = set(permissions)
    return held | TABLE_PERMISSIONS | DATABASE_PERMISSIONS if SUPER in held else held


# --- who created what (the emulator's own state, apart from moto's objects) --------------------


class Creators:
    """Who created each database and table. Kept beside moto's Glue objects (weakly keyed by
    them), so a reset of moto, or a database dropped and created again, forgets its creator."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_object: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()

    @staticmethod
    def _object(key: tuple[str, ...]) -> Any | None:
        catalog, region, database, *table = key
        found = glue_backends[catalog][region].databases.get(database)
        if found is None or not table:
            return found
        return found.tables.get(table[0])

    def record(self, key: tuple[str, ...], principal_arn: str) -> None:
        """``key``: (catalog, region, database[, table]) of an object that exists now."""
        target = self._object(key)
        if target is not None:
            with self._lock:
                self._by_object[target] = principal_arn

    def of(self, key: tuple[str, ...]) -> str | None:
        target = self._object(key)
        return None if target is None else self._by_object.get(target)


creators = Creators()


# --- settings and grants ------------------------------------------------------------------------


def _backend(account: str, region: str) -> Any:
    return lakeformation_backends[account][region]


def settings(account: str, region: str) -> Mapping[str, Any]:
    found: Mapping[str, Any] = _backend(account, region).settings[account]
    return found


def grant(
    account: str, region: str, principal: str, resource: dict[str, Any], permissions: list[str]
) -> None:
    """Record a grant as Lake Formation itself makes it (a default permission on a new object)."""
    _backend(account, region).grant_permissions(
        account, {"DataLakePrincipalIdentifier": principal}, resource, permissions, []
    )


def _identifiers(entries: Any) -> set[str]:
    return {
        str((entry.get("DataLakePrincipalIdentifier") if isinstance(entry, dict) else entry) or "")
        for entry in entries or []
    }


def is_admin(caller: Caller, region: str) -> bool:
    return caller.arn in _identifiers(settings(caller.account, region).get("DataLakeAdmins"))


def is_read_only_admin(caller: Caller, region: str) -> bool:
    return caller.arn in _identifiers(settings(caller.account, region).get("ReadOnlyAdmins"))


def _grants(account: str, region: str) -> list[Any]:
    catalog = _backend(account, region).grants.get(account)
    return list(catalog.permissions) if catalog is not None else []


def _principal_of(grant: Any) -> str:
    return str((grant.principal or {}).get("DataLakePrincipalIdentifier", ""))


def _tags(account: str, region: str, database: str, table: str | None) -> list[dict[str, Any]]:
    backend = _backend(account, region)
    database_tags = backend.lf_database_tags.get((account, database), [])
    if table is None:
        return list(database_tags)
    own = backend.lf_table_tags.get((account, database, table), [])
    return effective_tags(database_tags, own)


# --- one grant against one object --------------------------------------------------------------


def _database_grant(resource: Mapping[str, Any], catalog: str, database: str, region: str) -> bool:
    named = resource.get("Database")
    if isinstance(named, dict):
        return named.get("CatalogId") == catalog and str(named.get("Name")).lower() == database
    policy = resource.get("LFTagPolicy")
    if isinstance(policy, dict) and policy.get("ResourceType") == "DATABASE":
        return policy.get("CatalogId") == catalog and expression_matches(
            policy.get("Expression") or [], _tags(catalog, region, database, None)
        )
    return False


def _table_grant(
    resource: Mapping[str, Any], catalog: str, database: str, table: str, region: str
) -> tuple[bool, frozenset[str] | None, frozenset[str]]:
    """(applies, whole-table?, columns) of one grant's resource for ``database.table``."""
    named = resource.get("Table")
    if isinstance(named, dict):
        if named.get("CatalogId") != catalog or str(named.get("DatabaseName")).lower() != database:
            return False, None, frozenset()
        if "TableWildcard" in named or str(named.get("Name") or "").lower() == table:
            return True, None, frozenset()
        return False, None, frozenset()
    with_columns = resource.get("TableWithColumns")
    if isinstance(with_columns, dict):
        if (
            with_columns.get("CatalogId") != catalog
            or str(with_columns.get("DatabaseName")).lower() != database
            or str(with_columns.get("Name") or "").lower() != table
        ):
            return False, None, frozenset()
        wildcard = with_columns.get("ColumnWildcard")
        if isinstance(wildcard, dict):
            excluded = frozenset(str(c).lower() for c in wildcard.get("ExcludedColumnNames") or [])
            return True, excluded, frozenset()
        names = frozenset(str(c).lower() for c in with_columns.get("ColumnNames") or [])
        return True, frozenset(), names
    policy = resource.get("LFTagPolicy")
    if isinstance(policy, dict) and policy.get("ResourceType") == "TABLE":
        applies = policy.get("CatalogId") == catalog and expression_matches(
            policy.get("Expression") or [], _tags(catalog, region, database, table)
        )
        return applies, None, frozenset()
    return False, None, frozenset()


def _held_on_table(
    grants: Iterable[Any],
    principals: set[str],
    catalog: str,
    database: str,
    table: str,
    region: str,
    columns: Iterable[str],
) -> Access:
    permissions: set[str] = set()
    column_select: set[str] = set()
    every = [c.lower() for c in columns]
    for grant in grants:
        if _principal_of(grant) not in principals:
            continue
        applies, excluded, named = _table_grant(grant.resource, catalog, database, table, region)
        if not applies:
            continue
        held = set(grant.permissions or []) | set(grant.permissions_with_grant_options or [])
        if excluded is None:
            permissions |= held
        elif not excluded and not named:
            permissions |= held & {"SELECT", SUPER}
        elif named:
            column_select |= {c for c in every if c in named} if every else set(named)
        else:
            column_select |= {c for c in every if c not in excluded}
    return Access(frozenset(permissions), frozenset(column_select))


def _held_on_database(
    grants: Iterable[Any], principals: set[str], catalog: str, database: str, region: str
) -> set[str]:
    held: set[str] = set()
    for grant in grants:
        if _principal_of(grant) in principals and _database_grant(
            grant.resource, catalog, database, region
        ):
            held |= set(grant.permissions or []) | set(grant.permissions_with_grant_options or [])
    return held


def grants_to(catalog: str, region: str, principal: str) -> list[Any]:
    """The grants of ``catalog``'s account to ``principal`` (a role ARN or an account id)."""
    return [g for g in _grants(catalog, region) if _principal_of(g) == principal]


def database_grant_applies(
    resource: Mapping[str, Any], catalog: str, database: str, region: str
) -> bool:
    return _database_grant(resource, catalog, database.lower(), region)


def table_grant_applies(
    resource: Mapping[str, Any], catalog: str, database: str, table: str, region: str
) -> bool:
    return _table_grant(resource, catalog, database.lower(), table.lower(), region)[0]


# --- the answers ------------------------------------------------------------------------------


def table_access(
    caller: Caller,
    catalog: str,
    database: str,
    table: str,
    region: str,
    columns: Iterable[str] = (),
) -> Access:
    """What ``caller`` may do on ``catalog``'s table ``database.table``."""
    database, table = database.lower(), table.lower()
    columns = list(columns)
    if caller.account == catalog:
        principals = {caller.arn, IAM_ALLOWED_PRINCIPALS}
        held = _held_on_table(
            _grants(catalog, region), principals, catalog, database, table, region, columns
        )
        extra: set[str] = set()
        if creators.of((catalog, region, database, table)) == caller.arn:
            extra.add(SUPER)
        if is_admin(caller, region) or is_read_only_admin(caller, region):
            extra.add(DESCRIBE)
        return Access(held.permissions | extra, held.column_select)
    if not ram_sharing.share_accepted(catalog, region, caller.account):
        return Access()  # a share not (yet) accepted gives nothing
    share = _held_on_table(
        _grants(catalog, region), {caller.account}, catalog, database, table, region, columns
    )
    if not share.visible:
        return Access()
    local = _held_on_table(
        _grants(caller.account, region), {caller.arn}, catalog, database, table, region, columns
    )
    if is_admin(caller, region) or is_read_only_admin(caller, region):
        local = Access(local.permissions | {DESCRIBE}, local.column_select)
    return local.within(share)


def database_access(
    caller: Caller, catalog: str, database: str, region: str, tables: Iterable[str] = ()
) -> frozenset[str]:
    """What ``caller`` may do on ``catalog``'s database (``DESCRIBE`` when it may see a table of
    it, as a table creator "can view databases that contain tables that they create")."""
    database = database.lower()
    if caller.account == catalog:
        held = _held_on_database(
            _grants(catalog, region),
            {caller.arn, IAM_ALLOWED_PRINCIPALS},
            catalog,
            database,
            region,
        )
        if creators.of((catalog, region, database)) == caller.arn:
            held.add(SUPER)
        if is_admin(caller, region) or is_read_only_admin(caller, region):
            held.add(DESCRIBE)
    elif not ram_sharing.share_accepted(catalog, region, caller.account):
        held = set()
    else:
        shared = _held_on_database(
            _grants(catalog, region), {caller.account}, catalog, database, region
        )
        local = _held_on_database(
            _grants(caller.account, region), {caller.arn}, catalog, database, region
        )
        if is_admin(caller, region) or is_read_only_admin(caller, region):
            local.add(DESCRIBE)
        held = local if SUPER in shared else _expand(local) & _expand(shared)
    if not held and any(
        table_access(caller, catalog, database, name, region).visible for name in tables
    ):
        held.add(DESCRIBE)
    return frozenset(held)


def allows(held: Iterable[str], permission: str) -> bool:
    granted = set(held)
    return SUPER in granted or permission in granted


def default_grants(
    account: str, region: str, kind: str, database_input: Mapping[str, Any] | None = None
) -> list[str]:
    """The permissions ``IAMAllowedPrincipals`` gets on a new database (``kind="database"``) or
    table: the account's ``CreateDatabaseDefaultPermissions``, or the database's
    ``CreateTableDefaultPermissions`` (which a new database takes from the account's)."""
    if kind == "database":
        entries = settings(account, region).get("CreateDatabaseDefaultPermissions")
    else:
        entries = (database_input or {}).get("CreateTableDefaultPermissions")
        if entries is None:
            entries = settings(account, region).get("CreateTableDefaultPermissions")
    found: list[str] = []
    for entry in entries or []:
        principal = (entry.get("Principal") or {}).get("DataLakePrincipalIdentifier")
        if principal == IAM_ALLOWED_PRINCIPALS:
            found.extend(entry.get("Permissions") or [])
    return found
