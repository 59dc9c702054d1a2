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
- Data cells filters (:class:`DataCellsFilters` keeps them; :mod:`.lakeformation_filters` serves
  their API): ``SELECT`` on a filter gives the rows and columns the filter describes, and with it
  the principal may "View the actual table name in list of tables shared with their account"
  (https://docs.aws.amazon.com/lake-formation/latest/dg/granting-data-perms-for-filters.html);
  an external account granted ``SELECT`` on a filter passes it on to its principals
  (https://docs.aws.amazon.com/lake-formation/latest/dg/granting-filter-perms.html), each of
  which reads through the filters its account holds and it holds.
"""

from __future__ import annotations

import dataclasses
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
class CellFilter:
    """A data cells filter the principal holds ``SELECT`` on: the cells it lets the principal read.

    ``columns`` None means every column but ``excluded`` (``ColumnWildcard``); ``row_filter`` None
    means every row (``AllRowsWildcard``), else the filter's PartiQL ``FilterExpression``.
    """

    name: str
    table_catalog: str
    columns: frozenset[str] | None
    excluded: frozenset[str] = frozenset()
    row_filter: str | None = None

    def shows(self, column: str) -> bool:
        """Whether this filter lets its holder read ``column`` (lower case)."""
        if self.columns is None:
            return column not in self.excluded
        return column in self.columns

    @classmethod
    def of(cls, table_data: Mapping[str, Any]) -> CellFilter:
        """The filter a stored ``DataCellsFilter`` (the API's ``TableData``) describes."""
        row = table_data.get("RowFilter") or {}
        expression = row.get("FilterExpression")
        wildcard = table_data.get("ColumnWildcard")
        if isinstance(wildcard, dict):
            excluded = frozenset(str(c).lower() for c in wildcard.get("ExcludedColumnNames") or [])
            columns: frozenset[str] | None = None
        else:
            excluded = frozenset()
            columns = frozenset(str(c).lower() for c in table_data.get("ColumnNames") or [])
        return cls(
            name=str(table_data["Name"]),
            table_catalog=str(table_data["TableCatalogId"]),
            columns=columns,
            excluded=excluded,
            row_filter=str(expression) if expression else None,
        )


@dataclass(frozen=True)
class Access:
    """What a principal may do on one database or table.

    ``permissions`` hold on the whole table; ``column_select`` are the columns a column grant
    names (``SELECT`` on those columns only); ``cell_filters`` the data cells filters the
    principal may ``SELECT`` through (rows and columns each lets it read).
    """

    permissions: frozenset[str] = frozenset()
    column_select: frozenset[str] = frozenset()
    cell_filters: tuple[CellFilter, ...] = ()

    def allows(self, permission: str) -> bool:
        return SUPER in self.permissions or permission in self.permissions

    @property
    def visible(self) -> bool:
        return bool(self.permissions or self.column_select or self.cell_filters)

    def visible_columns(self, every: Iterable[str]) -> list[str]:
        """The table's columns this principal may see, in the table's order: those of its column
        grants and of every data cells filter it holds."""
        names = list(every)
        if self.permissions:
            return names
        return [
            name
            for name in names
            if name in self.column_select or any(f.shows(name) for f in self.cell_filters)
        ]

    def within(self, share: Access) -> Access:
        """This access limited to what ``share`` (the account's, for a cross-account object)
        allows: a data cells filter only if the account holds it too."""
        shared = {(f.table_catalog, f.name) for f in share.cell_filters}
        filters = tuple(f for f in self.cell_filters if (f.table_catalog, f.name) in shared)
        if SUPER in share.permissions:
            return dataclasses.replace(self, cell_filters=filters)
        mine, theirs = _expand(self.permissions), _expand(share.permissions)
        kept = mine & theirs
        if "SELECT" in theirs:
            columns = set(self.column_select)
        else:
            columns = set(self.column_select) & set(share.column_select)
            if "SELECT" in mine:
                columns |= set(share.column_select)
        return Access(frozenset(kept), frozenset(columns), filters)


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

    def entries(self) -> list[tuple[Any, str]]:
        """(moto Glue object, creator) pairs: :mod:`meshgov_local.snapshot` copies them in one
        pickle with moto's backends, so the copies key the copied objects."""
        with self._lock:
            return list(self._by_object.items())

    def replace(self, entries: list[tuple[Any, str]]) -> None:
        """Forget every creator, then record ``entries`` (a snapshot's, restored)."""
        with self._lock:
            self._by_object.clear()
            self._by_object.update(entries)


creators = Creators()


# --- data cells filters (the emulator's own state, apart from moto's objects) -------------------


FilterKey = tuple[str, str, str, str]
"""(table catalog, database, table, filter name); database and table in lower case."""


@dataclass
class StoredFilter:
    """A data cells filter as Lake Formation keeps it: its ``TableData`` and who created it."""

    table_data: dict[str, Any]
    creator: str | None


class DataCellsFilters:
    """Every data cells filter of one table catalog's account and Region, in creation order.

    Kept on the account's Lake Formation backend as the emulator's own attribute (moto knows
    nothing of filters), so a reset of moto, which clears a backend's attributes, forgets them."""

    _ATTRIBUTE = "_meshgov_data_cells_filters"

    def __init__(self) -> None:
        self._lock = threading.RLock()

    def _of(self, account: str, region: str) -> dict[FilterKey, StoredFilter]:
        backend = _backend(account, region)
        with self._lock:
            stored: dict[FilterKey, StoredFilter] | None = getattr(backend, self._ATTRIBUTE, None)
            if stored is None:
                stored = {}
                setattr(backend, self._ATTRIBUTE, stored)
            return stored

    def get(self, region: str, key: FilterKey) -> StoredFilter | None:
        with self._lock:
            return self._of(key[0], region).get(key)

    def put(self, region: str, key: FilterKey, stored: StoredFilter) -> None:
        with self._lock:
            self._of(key[0], region)[key] = stored

    def remove(self, region: str, key: FilterKey) -> StoredFilter | None:
        with self._lock:
            return self._of(key[0], region).pop(key, None)

    def in_catalog(self, account: str, region: str) -> list[tuple[FilterKey, StoredFilter]]:
        with self._lock:
            return list(self._of(account, region).items())

    def on_table(self, catalog: str, region: str, database: str, table: str) -> list[CellFilter]:
        return [
            CellFilter.of(stored.table_data)
            for (_, db, name, _), stored in self.in_catalog(catalog, region)
            if (db, name) == (database, table)
        ]


data_cells_filters = DataCellsFilters()


def filter_key(resource: Mapping[str, Any], default_catalog: str) -> FilterKey:
    """The key of a ``DataCellsFilter`` resource (``TableCatalogId`` defaults to the catalog)."""
    return (
        str(resource.get("TableCatalogId") or default_catalog),
        str(resource.get("DatabaseName") or "").lower(),
        str(resource.get("TableName") or "").lower(),
        str(resource.get("Name") or ""),
    )


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


def _filters_held(
    grants: Iterable[Any],
    principals: set[str],
    catalog: str,
    database: str,
    table: str,
    region: str,
) -> tuple[CellFilter, ...]:
    """The data cells filters on ``catalog``'s ``database.table`` that ``grants`` give one of
    ``principals`` ``SELECT`` on (filters that no longer exist give nothing)."""
    names: list[str] = []
    for grant in grants:
        cells = (grant.resource or {}).get("DataCellsFilter")
        if not isinstance(cells, dict) or _principal_of(grant) not in principals:
            continue
        key = filter_key(cells, catalog)
        held = set(grant.permissions or []) | set(grant.permissions_with_grant_options or [])
        if key[:3] == (catalog, database, table) and "SELECT" in held and key[3] not in names:
            names.append(key[3])
    found = []
    for name in names:
        stored = data_cells_filters.get(region, (catalog, database, table, name))
        if stored is not None:
            found.append(CellFilter.of(stored.table_data))
    return tuple(found)


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
        filters = _filters_held(
            _grants(catalog, region), principals, catalog, database, table, region
        )
        return Access(held.permissions | extra, held.column_select, filters)
    if not ram_sharing.share_accepted(catalog, region, caller.account):
        return Access()  # a share not (yet) accepted gives nothing
    owner_grants = _grants(catalog, region)
    share = _held_on_table(
        owner_grants, {caller.account}, catalog, database, table, region, columns
    )
    share = dataclasses.replace(
        share,
        cell_filters=_filters_held(
            owner_grants, {caller.account}, catalog, database, table, region
        ),
    )
    if not share.visible:
        return Access()
    local_grants = _grants(caller.account, region)
    local = _held_on_table(local_grants, {caller.arn}, catalog, database, table, region, columns)
    local = dataclasses.replace(
        local,
        cell_filters=_filters_held(local_grants, {caller.arn}, catalog, database, table, region),
    )
    if is_admin(caller, region) or is_read_only_admin(caller, region):
        local = dataclasses.replace(local, permissions=local.permissions | {DESCRIBE})
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
