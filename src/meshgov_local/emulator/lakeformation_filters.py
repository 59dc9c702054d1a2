"""Data cells filters: their API, who may use it, and grants on them (moto 5.2.5 has none of it).

Filters are kept by :class:`.lakeformation_permissions.DataCellsFilters` (the emulator's own
state, forgotten with a moto reset); what a principal reads through them is decided there
(:func:`.lakeformation_permissions.table_access` fills ``Access.cell_filters``). Followed
documents:

- The API (https://docs.aws.amazon.com/lake-formation/latest/dg/aws-lake-formation-api-data-filter.html):
  CreateDataCellsFilter (https://docs.aws.amazon.com/lake-formation/latest/APIReference/API_CreateDataCellsFilter.html),
  GetDataCellsFilter, UpdateDataCellsFilter, DeleteDataCellsFilter and ListDataCellsFilter
  (https://docs.aws.amazon.com/lake-formation/latest/APIReference/API_ListDataCellsFilter.html:
  ``Table`` a ``TableResource``, "At least one of TableResource$Name or
  TableResource$TableWildcard is required"; ``MaxResults`` 1 to 1,000 with ``NextToken``).
  ``AlreadyExistsException`` for a second filter of one name on one table,
  ``EntityNotFoundException`` for an unknown table or filter, ``InvalidInputException`` ("The
  input provided was not valid"), ``AccessDeniedException`` (HTTP 403);
  ``ConcurrentModificationException`` on an update naming a ``VersionId`` that is no longer the
  filter's (each create and update gives the filter a new ``VersionId``).
- The ``TableData`` shape, DataCellsFilter
  (https://docs.aws.amazon.com/lake-formation/latest/APIReference/API_DataCellsFilter.html):
  ``TableCatalogId``, ``DatabaseName``, ``TableName``, ``Name`` required, each 1 to 255
  characters; "You must specify either a ColumnNames list or the ColumnWildCard" (both, or
  neither, is refused); ``ColumnNames`` may name nested attributes ("address"."zip", "may not
  exceed a depth of 5"), each must be a column of the table (the top-level name is checked);
  RowFilter (https://docs.aws.amazon.com/lake-formation/latest/APIReference/API_RowFilter.html):
  ``FilterExpression`` (at most 2,048 characters) or ``AllRowsWildcard``, exactly one; a filter
  without a ``RowFilter`` is refused (the emulator's reading: every document shows one, and a
  caller that always sends one works on AWS either way). A value longer than its documented
  constraint is ``ValidationException``, the common error for "The input fails to satisfy the
  constraints specified by an AWS service"
  (https://docs.aws.amazon.com/lake-formation/latest/APIReference/CommonErrors.html).
- Row filter expressions, "PartiQL support in row filter expressions"
  (https://docs.aws.amazon.com/lake-formation/latest/dg/partiql-support.html): "Total length of
  the expression must be less than 2048 characters". The emulator refuses an empty expression
  and one of 2,048 characters; it does not parse the PartiQL (meshgov validates its own
  expressions with sqlglot).
- Who may: "You require SELECT permission with the grant option to create or view a data
  filter. To allow principals in your account to view and use a data filter, you can grant the
  DESCRIBE permission on it" (https://docs.aws.amazon.com/lake-formation/latest/dg/managing-filters.html);
  "To view data filters, you must be a Data Lake administrator or have the required permissions
  on the data filters" (https://docs.aws.amazon.com/lake-formation/latest/dg/view-data-filters.html);
  "At first, only you can view the data filters that you create" and "You can grant the SELECT,
  DESCRIBE and DROP Lake Formation permissions on data filters"; another principal may view and
  grant with a filter once granted ``SELECT`` on the table with the grant option, or
  ``DESCRIBE`` or ``DROP`` on the filter; an external account's data lake administrator may
  grant ``SELECT`` on a filter granted to the account with the grant option
  (https://docs.aws.amazon.com/lake-formation/latest/dg/granting-filter-perms.html); "Lake
  Formation doesn't support granting Describe permission on a data filter, which is shared from
  another account" (managing-filters). The documents name no permission for updating a filter
  (there is no ``ALTER`` on filters): the emulator lets administrators and the filter's creator
  update, and those plus holders of ``DROP`` on the filter delete.
- Deleting a filter: the documents do not say what becomes of the grants on it. The emulator
  removes them, in every account, and stops sharing the table through them (a filter created
  again under the same name must not inherit grants made on the old one).

Not emulated (refused with ``InvalidInputException`` saying so): creating a filter on a table of
another account's catalog ("Create data filters on the shared table",
https://docs.aws.amazon.com/lake-formation/latest/dg/granting-data-perms-for-filters.html).
IAM authorizes each operation as ``lakeformation:<Operation>`` on ``*``
(:mod:`.iam_requests`), like every Lake Formation call. A request not signed by a role session
(the operator's root credentials) is not a Lake Formation principal here: it passes the checks.
"""

from __future__ import annotations

import inspect
import json
import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import moto.lakeformation.urls as lf_urls
from moto.core.exceptions import JsonRESTError
from moto.glue.models import glue_backends
from moto.lakeformation.models import LakeFormationBackend, lakeformation_backends
from moto.lakeformation.responses import LakeFormationResponse

from . import iam_enforcement, lakeformation_grants, lakeformation_sharing, ram_sharing
from . import lakeformation_permissions as lf
from ._patching import patch_attr, wrap_method
from .lakeformation_grants import MAX_LIST_RESULTS, invalid_input, page

NEW_ROUTES = (
    "CreateDataCellsFilter",
    "GetDataCellsFilter",
    "UpdateDataCellsFilter",
    "DeleteDataCellsFilter",
)
FILTER_PERMISSIONS = frozenset({"SELECT", "DESCRIBE", "DROP"})
MAX_NAME = 255
MAX_PREDICATE = 2048
MAX_NESTING = 5
_NAME_PATTERN = re.compile(r"^[\u0020-\uD7FF\uE000-\uFFFD\U00010000-\U0010FFFF\t]*$")
_PREDICATE_PATTERN = re.compile(r"^[\u0020-\uD7FF\uE000-\uFFFD\U00010000-\U0010FFFF\r\n\t]*$")


def _error(code: str, message: str, status: int = 400) -> JsonRESTError:
    error = JsonRESTError(code, message)
    error.code = status
    return error


def denied(message: str) -> JsonRESTError:
    return _error("AccessDeniedException", message, 403)


def not_found(message: str) -> JsonRESTError:
    return _error("EntityNotFoundException", message)


def _constraint(value: Any, field: str, limit: int, pattern: re.Pattern[str]) -> None:
    """``ValidationException`` for a string outside its documented length or pattern."""
    text = str(value)
    failed = None
    if len(text) > limit:
        failed = f"Member must have length less than or equal to {limit}"
    elif not pattern.match(text):
        failed = f"Member must satisfy regular expression pattern: {pattern.pattern}"
    if failed is not None:
        raise _error(
            "ValidationException",
            f"1 validation error detected: Value at '{field}' failed to satisfy constraint: "
            f"{failed}",
        )


# --- who may ----------------------------------------------------------------------------------


def _caller(response: Any) -> lf.Caller | None:
    session = iam_enforcement.caller_session(response)
    return None if session is None else lf.Caller(session.account, session.role_arn)


def _on_filter(grants: Iterable[Any], key: lf.FilterKey) -> tuple[set[str], set[str]]:
    """(everything held, what is held with the grant option) on the filter ``key``."""
    held: set[str] = set()
    grantable: set[str] = set()
    for grant in grants:
        cells = (grant.resource or {}).get("DataCellsFilter")
        if isinstance(cells, dict) and lf.filter_key(cells, key[0]) == key:
            held |= set(grant.permissions or [])
            grantable |= set(grant.permissions_with_grant_options or [])
    return held | grantable, grantable


def _table_grant_option(caller: lf.Caller, region: str, key: lf.FilterKey) -> bool:
    """Whether ``caller`` holds ``SELECT`` with the grant option on the whole table."""
    catalog, database, table, _ = key
    for grant in lf.grants_to(catalog, region, caller.arn):
        resource = grant.resource or {}
        if "TableWithColumns" in resource:
            continue  # SELECT on some columns is not SELECT on the table
        if lf.table_grant_applies(resource, catalog, database, table, region) and {
            "SELECT",
            lf.SUPER,
        } & set(grant.permissions_with_grant_options or []):
            return True
    return False


def _admin(caller: lf.Caller, region: str) -> bool:
    return lf.is_admin(caller, region)


def may_create(caller: lf.Caller, region: str, key: lf.FilterKey) -> bool:
    catalog, database, table, _ = key
    return (
        _admin(caller, region)
        or lf.creators.of((catalog, region, database, table)) == caller.arn
        or _table_grant_option(caller, region, key)
    )


def may_view(caller: lf.Caller, region: str, key: lf.FilterKey, stored: lf.StoredFilter) -> bool:
    catalog = key[0]
    if caller.account == catalog:
        return (
            _admin(caller, region)
            or lf.is_read_only_admin(caller, region)
            or stored.creator == caller.arn
            or _table_grant_option(caller, region, key)
            or bool(_on_filter(lf.grants_to(catalog, region, caller.arn), key)[0])
        )
    if not ram_sharing.share_accepted(catalog, region, caller.account):
        return False
    if not _on_filter(lf.grants_to(catalog, region, caller.account), key)[0]:
        return False
    return (
        _admin(caller, region)
        or lf.is_read_only_admin(caller, region)
        or bool(_on_filter(lf.grants_to(caller.account, region, caller.arn), key)[0])
    )


def _may_change(
    caller: lf.Caller, region: str, key: lf.FilterKey, stored: lf.StoredFilter, dropping: bool
) -> bool:
    if caller.account != key[0]:
        return False
    if _admin(caller, region) or stored.creator == caller.arn:
        return True
    return dropping and "DROP" in _on_filter(lf.grants_to(key[0], region, caller.arn), key)[0]


# --- the TableData shape ------------------------------------------------------------------------


def _table_columns(catalog: str, region: str, database: str, table: str) -> list[str]:
    """The table's column and partition key names, lower case; EntityNotFound if it is none."""
    found = glue_backends[catalog][region].databases.get(database)
    stored = found.tables.get(table) if found is not None else None
    if stored is None:
        raise not_found(f"Table {database}.{table} not found in catalog {catalog}.")
    as_dict = stored.as_dict()
    descriptor = as_dict.get("StorageDescriptor") or {}
    columns = (descriptor.get("Columns") or []) + (as_dict.get("PartitionKeys") or [])
    return [str(c.get("Name", "")).lower() for c in columns]


def _top_level(column: str) -> str:
    """``"address"."zip"`` -> ``address``; raises for a nesting deeper than documented."""
    parts = [p.strip().strip('"') for p in column.split(".")]
    if len(parts) > MAX_NESTING:
        raise invalid_input(f"Column {column!r} is nested deeper than {MAX_NESTING} levels.")
    return parts[0].lower()


def _checked_columns(names: Any, field: str, every: list[str]) -> list[str]:
    if not isinstance(names, list):
        raise invalid_input(f"{field} must be a list of column names.")
    for index, name in enumerate(names):
        _constraint(name, f"{field}.{index + 1}.member", MAX_NAME, _NAME_PATTERN)
        if not str(name) or _top_level(str(name)) not in every:
            raise invalid_input(f"Column {name!r} is not a column of the table.")
    return [str(name) for name in names]


def _row_filter(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid_input("RowFilter is required: a FilterExpression or the AllRowsWildcard.")
    has_expression = value.get("FilterExpression") is not None
    if has_expression == ("AllRowsWildcard" in value):
        raise invalid_input("RowFilter takes exactly one of FilterExpression and AllRowsWildcard.")
    if not has_expression:
        return {"AllRowsWildcard": {}}
    expression = str(value["FilterExpression"])
    _constraint(
        expression, "tableData.rowFilter.filterExpression", MAX_PREDICATE, _PREDICATE_PATTERN
    )
    if not expression.strip():
        raise invalid_input("The row filter expression is empty.")
    if len(expression) >= MAX_PREDICATE:
        raise invalid_input(
            f"The row filter expression must be less than {MAX_PREDICATE} characters."
        )
    return {"FilterExpression": expression}


def table_data(given: Any, region: str) -> tuple[lf.FilterKey, dict[str, Any]]:
    """The filter's key and ``TableData`` as stored, or the error Lake Formation answers."""
    if not isinstance(given, dict):
        raise invalid_input("TableData is required.")
    for field in ("TableCatalogId", "DatabaseName", "TableName", "Name"):
        if not given.get(field):
            raise invalid_input(f"TableData.{field} is required.")
        key_field = f"tableData.{field[0].lower()}{field[1:]}"
        _constraint(given[field], key_field, MAX_NAME, _NAME_PATTERN)
    if given.get("VersionId") is not None:
        _constraint(given["VersionId"], "tableData.versionId", MAX_NAME, _NAME_PATTERN)
    key = lf.filter_key(given, "")
    catalog, database, table, name = key
    every = _table_columns(catalog, region, database, table)
    stored: dict[str, Any] = {
        "TableCatalogId": catalog,
        "DatabaseName": database,
        "TableName": table,
        "Name": name,
        "RowFilter": _row_filter(given.get("RowFilter")),
    }
    names, wildcard = given.get("ColumnNames"), given.get("ColumnWildcard")
    if (names is None) == (wildcard is None):
        raise invalid_input("Specify either a ColumnNames list or the ColumnWildcard.")
    if wildcard is not None:
        if not isinstance(wildcard, dict):
            raise invalid_input("ColumnWildcard must be a structure.")
        excluded = _checked_columns(
            wildcard.get("ExcludedColumnNames") or [], "ExcludedColumnNames", every
        )
        stored["ColumnWildcard"] = {"ExcludedColumnNames": excluded}
    else:
        stored["ColumnNames"] = _checked_columns(names, "ColumnNames", every)
        if not stored["ColumnNames"]:
            raise invalid_input("ColumnNames names no column.")
    return key, stored


# --- the API ----------------------------------------------------------------------------------


def _found(region: str, key: lf.FilterKey) -> lf.StoredFilter:
    stored = lf.data_cells_filters.get(region, key)
    if stored is None:
        raise not_found(f"Data cells filter {key[3]!r} not found on {key[1]}.{key[2]}.")
    return stored


def _request_key(response: Any) -> lf.FilterKey:
    for field in ("TableCatalogId", "DatabaseName", "TableName", "Name"):
        if not response._get_param(field):
            raise invalid_input(f"{field} is required.")
    return lf.filter_key(
        {
            f: response._get_param(f)
            for f in ("TableCatalogId", "DatabaseName", "TableName", "Name")
        },
        "",
    )


def response_create_data_cells_filter(self: Any) -> str:
    caller, region = _caller(self), str(self.region)
    given = self._get_param("TableData")
    account = caller.account if caller is not None else str(self.current_account)
    if isinstance(given, dict) and given.get("TableCatalogId") not in (None, "", account):
        raise invalid_input(
            "Creating a data cells filter on a table of another account is not emulated by the "
            "local mesh."
        )
    key, stored = table_data(given, region)
    if caller is not None and not may_create(caller, region, key):
        raise denied(
            f"Insufficient Lake Formation permission(s) on {key[1]}.{key[2]}: creating a data "
            "cells filter needs a data lake administrator, the table's creator or SELECT with "
            "the grant option on the table."
        )
    if lf.data_cells_filters.get(region, key) is not None:
        raise _error(
            "AlreadyExistsException",
            f"A data cells filter named {key[3]!r} already exists on {key[1]}.{key[2]}.",
        )
    stored["VersionId"] = str(uuid.uuid4())
    creator = caller.arn if caller is not None else None
    lf.data_cells_filters.put(region, key, lf.StoredFilter(stored, creator))
    return "{}"


def response_get_data_cells_filter(self: Any) -> str:
    caller, region = _caller(self), str(self.region)
    key = _request_key(self)
    stored = _found(region, key)
    if caller is not None and not may_view(caller, region, key, stored):
        raise denied(f"Insufficient Lake Formation permission(s) on data cells filter {key[3]!r}.")
    return json.dumps({"DataCellsFilter": stored.table_data})


def response_update_data_cells_filter(self: Any) -> str:
    caller, region = _caller(self), str(self.region)
    given = self._get_param("TableData")
    key, replacement = table_data(given, region)
    stored = _found(region, key)
    if caller is not None and not _may_change(caller, region, key, stored, dropping=False):
        raise denied(
            f"Insufficient Lake Formation permission(s) to update data cells filter {key[3]!r}: "
            "only a data lake administrator or its creator may."
        )
    version = given.get("VersionId")
    if version is not None and version != stored.table_data.get("VersionId"):
        raise _error(
            "ConcurrentModificationException",
            f"Data cells filter {key[3]!r} changed since version {version}.",
        )
    replacement["VersionId"] = str(uuid.uuid4())
    lf.data_cells_filters.put(region, key, lf.StoredFilter(replacement, stored.creator))
    return "{}"


def response_delete_data_cells_filter(self: Any) -> str:
    caller, region = _caller(self), str(self.region)
    key = _request_key(self)
    stored = _found(region, key)
    if caller is not None and not _may_change(caller, region, key, stored, dropping=True):
        raise denied(
            f"Insufficient Lake Formation permission(s): Required DROP on data cells filter "
            f"{key[3]!r}."
        )
    lf.data_cells_filters.remove(region, key)
    forget_grants(region, key)
    return "{}"


def _listed_catalogs(response: Any, table: dict[str, Any] | None) -> list[str]:
    own = str(response.current_account)
    if table is not None:
        return [str(table.get("CatalogId") or own)]
    return list(dict.fromkeys([own, *lakeformation_backends.keys()]))


def response_list_data_cells_filter(self: Any) -> str:
    caller, region = _caller(self), str(self.region)
    table = self._get_param("Table")
    if table is not None and not table.get("Name") and "TableWildcard" not in table:
        raise invalid_input("At least one of Table.Name or Table.TableWildcard is required.")
    listed: list[dict[str, Any]] = []
    for catalog in _listed_catalogs(self, table):
        if caller is None and catalog != self.current_account and table is None:
            continue
        for key, stored in lf.data_cells_filters.in_catalog(catalog, region):
            if table is not None and (
                key[1] != str(table.get("DatabaseName") or "").lower()
                or ("TableWildcard" not in table and key[2] != str(table["Name"]).lower())
            ):
                continue
            if caller is None or may_view(caller, region, key, stored):
                listed.append(stored.table_data)
    selected, token = page(
        listed, self._get_param("MaxResults"), self._get_param("NextToken"), MAX_LIST_RESULTS
    )
    result: dict[str, Any] = {"DataCellsFilters": selected}
    if token:
        result["NextToken"] = token
    return json.dumps(result)


# --- grants on filters --------------------------------------------------------------------------


def _checked_grant(method: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap grant_permissions(catalog_id, principal, resource, permissions,
    permissions_with_grant_options), however moto passes them: a grant on a filter names one
    that exists and only the permissions a filter takes."""
    signature = inspect.signature(lakeformation_grants.grant_permissions)
    names = list(signature.parameters)

    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        arguments = signature.bind(self, *args, **kwargs).arguments
        cells = (arguments.get("resource") or {}).get("DataCellsFilter")
        if isinstance(cells, dict):
            check_grant(
                str(self.region_name),
                str(arguments["catalog_id"]),
                cells,
                [*(arguments.get(names[4]) or []), *(arguments.get(names[5]) or [])],
            )
        return method(self, *args, **kwargs)

    return wrapper


def check_grant(
    region: str, catalog_id: str, cells: dict[str, Any], permissions: list[str]
) -> None:
    """Refuse a grant on a data cells filter that Lake Formation refuses (module doc)."""
    invalid = sorted(set(permissions) - FILTER_PERMISSIONS)
    if invalid:
        raise invalid_input(
            f"Permissions {invalid} are not valid on a data cells filter "
            f"(valid: {sorted(FILTER_PERMISSIONS)})."
        )
    key = lf.filter_key(cells, catalog_id)
    _found(region, key)
    if key[0] != catalog_id and "DESCRIBE" in permissions:
        raise invalid_input(
            "Granting DESCRIBE on a data cells filter shared from another account is not supported."
        )


def grant_refusal(
    grantor: lf.Caller,
    region: str,
    resource: dict[str, Any],
    permissions: list[str],
    revoking: bool,
) -> str | None:
    """Why ``grantor`` may not grant or revoke ``permissions`` on a data cells filter, if so
    (for :mod:`.lakeformation_grantors`)."""
    key = lf.filter_key(resource["DataCellsFilter"], grantor.account)
    catalog = key[0]
    if catalog == grantor.account:
        if lf.is_admin(grantor, region):
            return None
        stored = lf.data_cells_filters.get(region, key)
        if stored is not None and stored.creator == grantor.arn:
            return None
        held = _on_filter(lf.grants_to(catalog, region, grantor.arn), key)[1]
        if not revoking and _table_grant_option(grantor, region, key):
            held |= {"SELECT", "DESCRIBE"}
        if permissions and all(p in held for p in permissions):
            return None
        return (
            "only a data lake administrator, the filter's creator or a holder of the grant "
            "option may grant or revoke on it"
        )
    if revoking and lf.is_admin(grantor, region):
        return None
    if not ram_sharing.share_accepted(catalog, region, grantor.account):
        return f"account {grantor.account} has not accepted {catalog}'s share"
    held = _on_filter(lf.grants_to(catalog, region, grantor.account), key)[1]
    missing = [p for p in permissions if p not in held]
    if lf.is_admin(grantor, region) and not missing:
        return None
    return (
        f"account {grantor.account} holds no grant option on it from {catalog} "
        f"(missing: {', '.join(missing) or 'administrator'})"
    )


def forget_grants(region: str, key: lf.FilterKey) -> None:
    """Remove every grant on the filter ``key``, in every account, and share no more of the
    table through them."""
    for account in list(lakeformation_backends.keys()):
        backend = lakeformation_backends[account][region]
        receivers: set[str] = set()
        for catalog_id, catalog in list(backend.grants.items()):
            entries = list(catalog.permissions)
            kept = []
            for entry in entries:
                cells = (entry.resource or {}).get("DataCellsFilter")
                if isinstance(cells, dict) and lf.filter_key(cells, catalog_id) == key:
                    receiver = lakeformation_sharing.grantee_account(entry.principal, account)
                    if receiver is not None:
                        receivers.add(receiver)
                else:
                    kept.append(entry)
            catalog.permissions = kept
        for receiver in sorted(receivers):
            lakeformation_sharing.sync_share(backend, receiver)


def install() -> None:
    # Outermost on the backend (after lakeformation_grantors): a grant on a filter that does not
    # exist is EntityNotFound before anyone asks who may grant it.
    wrap_method(LakeFormationBackend, "grant_permissions", _checked_grant)
    response = LakeFormationResponse
    patch_attr(response, "create_data_cells_filter", response_create_data_cells_filter)
    patch_attr(response, "get_data_cells_filter", response_get_data_cells_filter)
    patch_attr(response, "update_data_cells_filter", response_update_data_cells_filter)
    patch_attr(response, "delete_data_cells_filter", response_delete_data_cells_filter)
    patch_attr(response, "list_data_cells_filter", response_list_data_cells_filter)
    for operation in NEW_ROUTES:
        lf_urls.url_paths.setdefault(f"{{0}}/{operation}$", LakeFormationResponse.dispatch)
