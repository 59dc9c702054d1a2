"""Glue Data Catalog calls pass Lake Formation's permission check, as on AWS.

"When a principal makes a request to access Data Catalog resources ... it must pass permission
checks by both IAM and Lake Formation" (https://docs.aws.amazon.com/lake-formation/latest/dg/lf-permissions-overview.html).
IAM is :mod:`.iam_enforcement`; this module is the Lake Formation half, for requests signed by a
role session (the operator's root credentials are not Lake Formation principals here). What a
principal holds is decided in :mod:`.lakeformation_permissions`; here it meets the Glue API:

- Writes need their permission (https://docs.aws.amazon.com/lake-formation/latest/dg/lf-permissions-reference.html):
  ``CreateDatabase`` (a resource link too) ``CREATE_DATABASE`` on the catalog (every IAM
  principal holds it by default, see :meth:`_Check.refusal`); ``UpdateDatabase`` ``ALTER`` and
  ``DeleteDatabase`` ``DROP`` on the database;
  ``CreateTable`` ``CREATE_TABLE`` on the database; ``UpdateTable`` ``ALTER``, ``DeleteTable`` and
  ``BatchDeleteTable`` ``DROP`` on each table. Partition writes change table metadata: the emulator
  asks ``ALTER`` (``INSERT`` also adds, ``DELETE`` also removes them). Refused with
  ``AccessDeniedException`` "Insufficient Lake Formation permission(s): Required <P> on <name>".
- Reads show only what the caller may describe: ``GetDatabases``/``GetTables``/``SearchTables``
  leave out the rest, ``GetDatabase``/``GetTable`` and partition reads of an object it may not
  see are refused; a table read through a column grant shows the granted columns only
  ("Lake Formation column-level permissions ... the principal can see only those columns",
  https://docs.aws.amazon.com/lake-formation/latest/dg/granting-catalog-permissions.html).
- A new database gives its creator all permissions, a new table its creator
  (https://docs.aws.amazon.com/lake-formation/latest/dg/implicit-permissions.html); and
  ``IAMAllowedPrincipals`` gets the permissions of the account's
  ``CreateDatabaseDefaultPermissions`` on a new database and of the database's
  ``CreateTableDefaultPermissions`` (the account's, when the database names none) on a new table
  (https://docs.aws.amazon.com/lake-formation/latest/dg/change-settings.html,
  https://docs.aws.amazon.com/glue/latest/webapi/API_DatabaseInput.html).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.glue.models import glue_backends
from moto.glue.responses import GlueResponse

from . import lakeformation_permissions as lf
from ._patching import wrap_method
from .glue_access import error_response
from .iam_enforcement import authorize, caller_session

_WRITES: dict[str, tuple[str, str]] = {
    # operation -> (object kind, permission)
    "UpdateDatabase": ("database", "ALTER"),
    "DeleteDatabase": ("database", "DROP"),
    "CreateTable": ("database", "CREATE_TABLE"),
    "UpdateTable": ("table", "ALTER"),
    "DeleteTable": ("table", "DROP"),
    "BatchDeleteTable": ("tables", "DROP"),
    "CreatePartition": ("table", "ALTER|INSERT"),
    "BatchCreatePartition": ("table", "ALTER|INSERT"),
    "UpdatePartition": ("table", "ALTER"),
    "BatchUpdatePartition": ("table", "ALTER"),
    "DeletePartition": ("table", "ALTER|DELETE"),
    "BatchDeletePartition": ("table", "ALTER|DELETE"),
}
_TABLE_READS = frozenset(
    {"GetTable", "GetPartitions", "GetPartition", "BatchGetPartition", "GetTableVersions"}
)


def insufficient(permission: str, name: str) -> JsonRESTError:
    error = JsonRESTError(
        "AccessDeniedException",
        f"Insufficient Lake Formation permission(s): Required {permission} on {name}",
    )
    error.code = 400
    return error


def _params(body: Any) -> dict[str, Any]:
    try:
        loaded = json.loads(body or "{}")
    except (TypeError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _name(value: Any) -> str:
    return str(value or "").lower()


def _table_name(operation: str, params: dict[str, Any]) -> str:
    if operation in {"CreateTable", "UpdateTable"}:
        return _name((params.get("TableInput") or {}).get("Name"))
    if operation in {"GetTable", "DeleteTable"}:
        return _name(params.get("Name"))
    return _name(params.get("TableName"))


def _database_name(operation: str, params: dict[str, Any]) -> str:
    if operation in {"GetDatabase", "UpdateDatabase", "DeleteDatabase"}:
        return _name(params.get("Name"))
    if operation == "CreateDatabase":
        return _name((params.get("DatabaseInput") or {}).get("Name"))
    return _name(params.get("DatabaseName"))


def _columns(table: dict[str, Any]) -> list[str]:
    descriptor = table.get("StorageDescriptor") or {}
    return [
        str(c.get("Name", ""))
        for c in (descriptor.get("Columns") or []) + (table.get("PartitionKeys") or [])
    ]


class _Check:
    """The Lake Formation side of one Glue request."""

    def __init__(self, response: Any, caller: lf.Caller) -> None:
        self.caller = caller
        self.region = str(response.region)
        self.catalog = str(_params(response.body).get("CatalogId") or response.current_account)

    def table(self, database: str, table: str, columns: list[str] | None = None) -> lf.Access:
        if columns is None:
            columns = self._stored_columns(database, table)
        return lf.table_access(self.caller, self.catalog, database, table, self.region, columns)

    def database(self, database: str) -> frozenset[str]:
        return lf.database_access(
            self.caller, self.catalog, database, self.region, self._table_names(database)
        )

    def _glue(self) -> Any:
        return glue_backends[self.catalog][self.region]

    def _table_names(self, database: str) -> list[str]:
        found = self._glue().databases.get(database)
        return list(found.tables) if found is not None else []

    def _stored_columns(self, database: str, table: str) -> list[str]:
        found = self._glue().databases.get(database)
        stored = found.tables.get(table) if found is not None else None
        return _columns(stored.as_dict()) if stored is not None else []

    # --- before: writes ---------------------------------------------------------------------
    def refusal(self, operation: str, params: dict[str, Any]) -> JsonRESTError | None:
        if operation == "CreateDatabase":
            # Every IAM principal may: "the IAMAllowedPrincipals group has CREATE_DATABASE
            # permission on the Data Catalog" by default, and administrators hold it too
            # (https://docs.aws.amazon.com/lake-formation/latest/dg/upgrade-glue-lake-formation-background.html);
            # revoking that default grant is not emulated.
            return None
        wanted = _WRITES.get(operation)
        database = _database_name(operation, params)
        if wanted is not None:
            kind, permission = wanted
            choices = permission.split("|")
            if kind == "database":
                # A missing database is Glue's EntityNotFoundException to answer, not a refusal.
                if self._database_exists(database) and not any(
                    lf.allows(self.database(database), p) for p in choices
                ):
                    return insufficient(choices[0], database)
                return None
            tables = (
                [_name(t) for t in params.get("TablesToDelete") or []]
                if kind == "tables"
                else [_table_name(operation, params)]
            )
            for table in tables:
                if self._exists(database, table) and not any(
                    self.table(database, table).allows(p) for p in choices
                ):
                    return insufficient(choices[0], f"{database}.{table}")
            return None
        if (
            operation == "GetDatabase"
            and self._database_exists(database)
            and not self.database(database)
        ):
            return insufficient("DESCRIBE", database)
        if operation in _TABLE_READS and self._exists(database, _table_name(operation, params)):
            table = _table_name(operation, params)
            if not self.table(database, table).visible:
                return insufficient("DESCRIBE", f"{database}.{table}")
        return None

    def _database_exists(self, database: str) -> bool:
        return database in self._glue().databases

    def _exists(self, database: str, table: str) -> bool:
        found = self._glue().databases.get(database)
        return found is not None and table in found.tables

    # --- after: reads filtered, creators recorded -------------------------------------------
    def filtered(
        self, operation: str, params: dict[str, Any], body: dict[str, Any]
    ) -> dict[str, Any]:
        if operation == "GetDatabases":
            body["DatabaseList"] = [
                d for d in body.get("DatabaseList") or [] if self.database(_name(d.get("Name")))
            ]
        elif operation in {"GetTables", "SearchTables"}:
            body["TableList"] = [
                shown
                for table in body.get("TableList") or []
                if (shown := self._shown(table)) is not None
            ]
        elif operation == "GetTable" and isinstance(body.get("Table"), dict):
            shown = self._shown(body["Table"])
            if shown is not None:
                body["Table"] = shown
        return body

    def _shown(self, table: dict[str, Any]) -> dict[str, Any] | None:
        database, name = _name(table.get("DatabaseName")), _name(table.get("Name"))
        access = self.table(database, name, _columns(table))
        if not access.visible:
            return None
        if access.permissions:
            return table
        kept = set(access.visible_columns(c.lower() for c in _columns(table)))
        shown = dict(table)
        descriptor = dict(shown.get("StorageDescriptor") or {})
        descriptor["Columns"] = [
            c for c in descriptor.get("Columns") or [] if str(c.get("Name", "")).lower() in kept
        ]
        shown["StorageDescriptor"] = descriptor
        return shown

    def created(self, operation: str, params: dict[str, Any]) -> None:
        database = _database_name(operation, params)
        if operation == "CreateDatabase":
            record_creation(self.catalog, self.region, self.caller.arn, database)
        elif operation == "CreateTable":
            table = _table_name(operation, params)
            record_creation(self.catalog, self.region, self.caller.arn, database, table)


def record_creation(
    catalog: str, region: str, creator: str, database: str, table: str | None = None
) -> None:
    """What Lake Formation does when ``creator`` creates a database or table: the creator's
    implicit permissions, and ``IAMAllowedPrincipals``' defaults on it. Also for setups that write
    moto's backends directly (the bench's seeded replica), so they leave the state the API would."""
    if table is None:
        lf.creators.record((catalog, region, database), creator)
        defaults = lf.default_grants(catalog, region, "database")
        resource: dict[str, Any] = {"Database": {"Name": database}}
    else:
        lf.creators.record((catalog, region, database, table), creator)
        stored = glue_backends[catalog][region].databases.get(database)
        defaults = lf.default_grants(
            catalog, region, "table", stored.input if stored is not None else None
        )
        resource = {"Table": {"DatabaseName": database, "Name": table}}
    if defaults:
        lf.grant(catalog, region, lf.IAM_ALLOWED_PRINCIPALS, resource, defaults)


_LINK_READS = frozenset(
    {"GetTables", "GetTable", "GetPartitions", "GetPartition", "BatchGetPartition"}
)


def link_target(account: str, region: str, database: str) -> tuple[str, str] | None:
    """(catalog, database) a database resource link of ``account``'s catalog points at."""
    found = glue_backends[account][region].databases.get(database)
    target = (found.input or {}).get("TargetDatabase") if found is not None else None
    if not isinstance(target, dict) or not target.get("DatabaseName"):
        return None
    return str(target.get("CatalogId") or account), _name(target["DatabaseName"])


def _through_link(
    response: Any, caller: lf.Caller, operation: str, params: dict[str, Any]
) -> JsonRESTError | None:
    """Serve a table read named through a resource link from the link's target.

    "When accessing a target database or table through a resource link, you must have both IAM
    and Lake Formation permissions on both the target and the resource link" and the ``Get*``
    operations answer with the target's objects
    (https://docs.aws.amazon.com/lake-formation/latest/dg/resource-links-glue-apis.html): the link
    must be visible to the caller (``DESCRIBE`` on it alone shows nothing of the target), then the
    request is re-addressed to the target's catalog, where Lake Formation filters it as usual.
    """
    if operation not in _LINK_READS or params.get("CatalogId") not in (None, caller.account):
        return None
    link = _database_name(operation, params)
    target = link_target(str(response.current_account), str(response.region), link)
    if target is None:
        return None
    if not _Check(response, caller).database(link):
        return insufficient("DESCRIBE", link)
    catalog, database = target
    response.current_account = catalog
    response.body = json.dumps({**params, "DatabaseName": database, "CatalogId": catalog})
    return None


def _authorized(call_action: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(self: Any) -> Any:
        session = caller_session(self)
        if session is None:
            return call_action(self)
        try:
            authorize(self)  # IAM first, as AWS evaluates it before Lake Formation
        except JsonRESTError as denied:
            return error_response(self, denied)
        operation = str(self._get_action())
        caller = lf.Caller(session.account, session.role_arn)
        linked = _through_link(self, caller, operation, _params(self.body))
        if linked is not None:
            return error_response(self, linked)
        params = _params(self.body)
        check = _Check(self, caller)
        refusal = check.refusal(operation, params)
        if refusal is not None:
            return error_response(self, refusal)
        status, headers, body = call_action(self)
        if int(status) >= 300:
            return status, headers, body
        check.created(operation, params)
        if operation in {"GetDatabases", "GetTables", "SearchTables", "GetTable"}:
            shown = check.filtered(operation, params, _params(body))
            body = json.dumps(shown, default=str)
        return status, headers, body

    return wrapper


def install() -> None:
    wrap_method(GlueResponse, "call_action", _authorized)
