"""Lake Formation grants kept and listed as AWS does, where moto 5.2.5 loses or crashes on them.

Followed documents (Lake Formation API reference):

- GrantPermissions, https://docs.aws.amazon.com/lake-formation/latest/APIReference/API_GrantPermissions.html
  and RevokePermissions, https://docs.aws.amazon.com/lake-formation/latest/APIReference/API_RevokePermissions.html:
  a principal holds, per resource, ``Permissions`` and ``PermissionsWithGrantOption``; a second
  grant adds to what the principal holds, a revoke takes the named permissions away. moto merges
  a second grant into an object stored in a hashed set without re-hashing it, so the next revoke
  on that principal and resource raises ``KeyError``. A resource's ``CatalogId`` defaults to the
  account ("By default, the account ID"), so a grant naming it and a revoke omitting it address the
  same resource.
- BatchGrantPermissions, https://docs.aws.amazon.com/lake-formation/latest/APIReference/API_BatchGrantPermissions.html,
  BatchRevokePermissions, https://docs.aws.amazon.com/lake-formation/latest/APIReference/API_BatchRevokePermissions.html
  and BatchPermissionsRequestEntry, https://docs.aws.amazon.com/lake-formation/latest/APIReference/API_BatchPermissionsRequestEntry.html:
  an entry carries ``PermissionsWithGrantOption`` (moto reads ``PermissionsWithGrantOptions`` and
  so drops the grant option); an entry that fails is reported in ``Failures``
  (BatchPermissionsFailureEntry: ``RequestEntry`` and ``Error`` {``ErrorCode``,
  ``ErrorMessage``}) while the other entries are applied.
- ListPermissions, https://docs.aws.amazon.com/lake-formation/latest/APIReference/API_ListPermissions.html:
  ``Principal``, ``Resource`` and ``ResourceType`` filter the grants (moto crashes on a table
  granted by name or with ``TableWildcard``, on LF-Tag resources and on most resource types);
  "This operation does not support getting privileges on a table with columns. Instead, call this
  operation on the table, and the operation returns the table and the table w columns";
  ``MaxResults`` from 1 to 1,000 with ``NextToken``. Grants are listed in the order they were
  first made. Not emulated: filtering by the caller's own permissions, and "effective
  permissions" when both ``Principal`` and ``Resource`` are given (explicit grants are returned).
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
from collections.abc import Iterable
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.lakeformation.models import LakeFormationBackend, Permission, PermissionCatalog
from moto.lakeformation.responses import LakeFormationResponse

from ._patching import patch_attr

MAX_LIST_RESULTS = 1000
CATALOG_SCOPED = ("Database", "Table", "TableWithColumns", "DataLocation", "LFTag", "LFTagPolicy")
RESOURCE_TYPE_FILTERS: dict[str, tuple[str, ...]] = {
    "CATALOG": ("Catalog",),
    "DATABASE": ("Database",),
    "TABLE": ("Table", "TableWithColumns"),
    "DATA_LOCATION": ("DataLocation",),
    "LF_TAG": ("LFTag",),
    "LF_TAG_POLICY": ("LFTagPolicy",),
    "LF_TAG_POLICY_DATABASE": ("LFTagPolicy",),
    "LF_TAG_POLICY_TABLE": ("LFTagPolicy",),
    "LF_NAMED_TAG_EXPRESSION": ("LFTagExpression",),
    "USER_DEFINED_FUNCTION": ("UserDefinedFunction",),
}


def invalid_input(message: str) -> JsonRESTError:
    error = JsonRESTError("InvalidInputException", message)
    error.code = 400
    return error


def _lower(values: Iterable[Any] | None) -> list[str]:
    return [str(value).lower() for value in values or []]


def normalise_resource(resource: dict[str, Any], catalog_id: str) -> dict[str, Any]:
    """``resource`` as Lake Formation stores it: catalog ids filled in, LF-Tags in lower case."""
    stored = copy.deepcopy(resource or {})
    for kind in CATALOG_SCOPED:
        part = stored.get(kind)
        if isinstance(part, dict) and not part.get("CatalogId"):
            part["CatalogId"] = catalog_id
    cells = stored.get("DataCellsFilter")
    if isinstance(cells, dict) and not cells.get("TableCatalogId"):
        cells["TableCatalogId"] = catalog_id  # a filter's table is named by TableCatalogId
    tag = stored.get("LFTag")
    if isinstance(tag, dict):
        tag["TagKey"] = str(tag.get("TagKey", "")).lower()
        tag["TagValues"] = _lower(tag.get("TagValues"))
    policy = stored.get("LFTagPolicy")
    if isinstance(policy, dict) and policy.get("Expression"):
        policy["Expression"] = [
            {"TagKey": str(c.get("TagKey", "")).lower(), "TagValues": _lower(c.get("TagValues"))}
            for c in policy["Expression"]
        ]
    return stored


def _union(current: list[str] | None, added: list[str] | None) -> list[str]:
    merged = list(current or [])
    merged.extend(value for value in added or [] if value not in merged)
    return merged


def _minus(current: list[str] | None, removed: list[str] | None) -> list[str]:
    gone = set(removed or [])
    return [value for value in current or [] if value not in gone]


# --- the permission store ----------------------------------------------------------------------


def _entries(catalog: Any) -> list[Any]:
    """The catalog's grants as a list in grant order (moto keeps a set of mutable objects)."""
    if not isinstance(catalog.permissions, list):
        catalog.permissions = list(catalog.permissions)
    entries: list[Any] = catalog.permissions
    return entries


def catalog_init(self: Any) -> None:
    self.permissions = []


def catalog_add_permission(self: Any, permission: Any) -> None:
    entries = _entries(self)
    for existing in entries:
        if existing.equal_principal_and_resouce(permission):
            existing.permissions = _union(existing.permissions, permission.permissions)
            existing.permissions_with_grant_options = _union(
                existing.permissions_with_grant_options, permission.permissions_with_grant_options
            )
            return
    entries.append(permission)


def catalog_remove_permission(self: Any, permission: Any) -> None:
    entries = _entries(self)
    for existing in entries:
        if existing.equal_principal_and_resouce(permission):
            existing.permissions = _minus(existing.permissions, permission.permissions)
            existing.permissions_with_grant_options = _minus(
                existing.permissions_with_grant_options, permission.permissions_with_grant_options
            )
            if existing.is_empty():
                self.permissions = [entry for entry in entries if entry is not existing]
            return


# --- backend -----------------------------------------------------------------------------------


def _permission(
    catalog_id: str,
    principal: dict[str, str],
    resource: dict[str, Any],
    permissions: list[str],
    grantable: list[str],
) -> Permission:
    return Permission(
        principal=dict(principal or {}),
        resource=normalise_resource(resource, catalog_id),
        permissions=list(permissions or []),
        permissions_with_grant_options=list(grantable or []),
    )


def grant_permissions(
    self: Any,
    catalog_id: str,
    principal: dict[str, str],
    resource: dict[str, Any],
    permissions: list[str],
    permissions_with_grant_options: list[str],
) -> None:
    catalog = self.grants.setdefault(catalog_id, PermissionCatalog())
    catalog.add_permission(
        _permission(catalog_id, principal, resource, permissions, permissions_with_grant_options)
    )


def revoke_permissions(
    self: Any,
    catalog_id: str,
    principal: dict[str, str],
    resource: dict[str, Any],
    permissions_to_revoke: list[str],
    permissions_with_grant_options_to_revoke: list[str],
) -> None:
    catalog = self.grants.get(catalog_id)
    if catalog is None:
        return
    catalog.remove_permission(
        _permission(
            catalog_id,
            principal,
            resource,
            permissions_to_revoke,
            permissions_with_grant_options_to_revoke,
        )
    )


def _failure(entry: dict[str, Any], error: JsonRESTError) -> dict[str, Any]:
    return {
        "RequestEntry": entry,
        "Error": {"ErrorCode": error.error_type, "ErrorMessage": error.message},
    }


def _each_entry(
    operation: Any, catalog_id: str, entries: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Apply a grant or revoke to each batch entry; failed entries come back as ``Failures``."""
    failures = []
    for entry in entries or []:
        try:
            operation(
                catalog_id,
                entry.get("Principal") or {},
                entry.get("Resource") or {},
                entry.get("Permissions") or [],
                entry.get("PermissionsWithGrantOption") or [],
            )
        except JsonRESTError as error:
            failures.append(_failure(entry, error))
    return failures


def batch_grant_permissions(
    self: Any, catalog_id: str, entries: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    return _each_entry(self.grant_permissions, catalog_id, entries)


def batch_revoke_permissions(
    self: Any, catalog_id: str, entries: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    return _each_entry(self.revoke_permissions, catalog_id, entries)


# --- listing -----------------------------------------------------------------------------------


def _same(query: dict[str, Any], granted: dict[str, Any], *keys: str) -> bool:
    return all(query.get(key) == granted.get(key) for key in keys)


def _expression(policy: dict[str, Any]) -> frozenset[tuple[str, frozenset[str]]]:
    return frozenset(
        (str(c.get("TagKey")), frozenset(c.get("TagValues") or []))
        for c in policy.get("Expression") or []
    )


def resource_matches(query: dict[str, Any], granted: dict[str, Any]) -> bool:
    """Whether a grant on ``granted`` is listed for ``ListPermissions(Resource=query)``."""
    if "Catalog" in query:
        return "Catalog" in granted
    if "Database" in query:
        database = granted.get("Database")
        return database is not None and _same(query["Database"], database, "CatalogId", "Name")
    if "Table" in query:
        table = query["Table"]
        if "TableWildcard" in table:
            other = granted.get("Table")
            return (
                other is not None
                and "TableWildcard" in other
                and _same(table, other, "CatalogId", "DatabaseName")
            )
        for kind in ("Table", "TableWithColumns"):
            other = granted.get(kind)
            if other is not None and _same(table, other, "CatalogId", "DatabaseName", "Name"):
                return True
        return False
    if "DataLocation" in query:
        location = granted.get("DataLocation")
        return location is not None and _same(
            query["DataLocation"], location, "CatalogId", "ResourceArn"
        )
    if "DataCellsFilter" in query:
        cells = granted.get("DataCellsFilter")
        return cells is not None and _same(
            query["DataCellsFilter"], cells, "TableCatalogId", "DatabaseName", "TableName", "Name"
        )
    if "LFTag" in query:
        tag = granted.get("LFTag")
        return (
            tag is not None
            and _same(query["LFTag"], tag, "CatalogId", "TagKey")
            and set(query["LFTag"].get("TagValues") or []) == set(tag.get("TagValues") or [])
        )
    if "LFTagPolicy" in query:
        policy = granted.get("LFTagPolicy")
        return (
            policy is not None
            and _same(query["LFTagPolicy"], policy, "CatalogId", "ResourceType")
            and _expression(query["LFTagPolicy"]) == _expression(policy)
        )
    if "LFTagExpression" in query:
        named = granted.get("LFTagExpression")
        return named is not None and _same(query["LFTagExpression"], named, "CatalogId", "Name")
    return False


def type_matches(resource_type: str, granted: dict[str, Any]) -> bool:
    """Whether a grant on ``granted`` is of ``ListPermissions``' ``ResourceType``."""
    if resource_type == "ANY_RESOURCE":
        return True
    kinds = RESOURCE_TYPE_FILTERS[resource_type]
    if not any(kind in granted for kind in kinds):
        return False
    if resource_type in ("LF_TAG_POLICY_DATABASE", "LF_TAG_POLICY_TABLE"):
        wanted = resource_type.removeprefix("LF_TAG_POLICY_")
        return str(granted["LFTagPolicy"].get("ResourceType")) == wanted
    return True


def list_permissions(
    self: Any,
    catalog_id: str,
    principal: dict[str, str] | None = None,
    resource: dict[str, Any] | None = None,
    resource_type: str | None = None,
) -> list[dict[str, Any]]:
    if principal is not None and resource is None:
        raise invalid_input("Resource is mandatory if Principal is set in the input.")
    if resource is not None and "TableWithColumns" in resource:
        raise invalid_input(
            "ListPermissions does not support a table with columns: list the table instead."
        )
    if resource_type is not None and resource_type not in (
        *RESOURCE_TYPE_FILTERS,
        "ANY_RESOURCE",
    ):
        raise invalid_input(f"Invalid ResourceType: {resource_type}")
    catalog = self.grants.get(catalog_id)
    if catalog is None:
        return []
    query = normalise_resource(resource, catalog_id) if resource is not None else None
    listed = []
    for permission in _entries(catalog):
        if principal is not None and permission.principal != principal:
            continue
        if query is not None and not resource_matches(query, permission.resource):
            continue
        if resource_type is not None and not type_matches(resource_type, permission.resource):
            continue
        listed.append(copy.deepcopy(permission.to_external_form()))
    return listed


# --- responses ---------------------------------------------------------------------------------


def page(
    items: list[dict[str, Any]], max_results: Any, next_token: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of ``items`` and the token of the next one (opaque: base64 of an offset)."""
    size = limit if max_results is None else int(max_results)
    if not 1 <= size <= limit:
        bound = f"less than or equal to {limit}" if size > limit else "greater than or equal to 1"
        error = JsonRESTError(
            "ValidationException",
            f"1 validation error detected: Value '{size}' at 'maxResults' failed to satisfy "
            f"constraint: Member must have value {bound}",
        )
        error.code = 400
        raise error
    offset = 0
    if next_token:
        try:
            offset = int(json.loads(base64.urlsafe_b64decode(next_token.encode()))["offset"])
        except (binascii.Error, ValueError, KeyError, TypeError) as error:
            raise invalid_input("Invalid NextToken.") from error
    selected = items[offset : offset + size]
    token = None
    if offset + size < len(items):
        token = base64.urlsafe_b64encode(json.dumps({"offset": offset + size}).encode()).decode()
    return selected, token


def response_list_permissions(self: Any) -> str:
    listed = self.lakeformation_backend.list_permissions(
        self._get_param("CatalogId") or self.current_account,
        principal=self._get_param("Principal"),
        resource=self._get_param("Resource"),
        resource_type=self._get_param("ResourceType"),
    )
    selected, token = page(
        listed, self._get_param("MaxResults"), self._get_param("NextToken"), MAX_LIST_RESULTS
    )
    result: dict[str, Any] = {"PrincipalResourcePermissions": selected}
    if token:
        result["NextToken"] = token
    return json.dumps(result, default=str)


def response_batch_grant_permissions(self: Any) -> str:
    failures = self.lakeformation_backend.batch_grant_permissions(
        self._get_param("CatalogId") or self.current_account, self._get_param("Entries") or []
    )
    return json.dumps({"Failures": failures})


def response_batch_revoke_permissions(self: Any) -> str:
    failures = self.lakeformation_backend.batch_revoke_permissions(
        self._get_param("CatalogId") or self.current_account, self._get_param("Entries") or []
    )
    return json.dumps({"Failures": failures})


def install() -> None:
    patch_attr(PermissionCatalog, "__init__", catalog_init)
    patch_attr(PermissionCatalog, "add_permission", catalog_add_permission)
    patch_attr(PermissionCatalog, "remove_permission", catalog_remove_permission)
    backend = LakeFormationBackend
    patch_attr(backend, "grant_permissions", grant_permissions)
    patch_attr(backend, "revoke_permissions", revoke_permissions)
    patch_attr(backend, "batch_grant_permissions", batch_grant_permissions)
    patch_attr(backend, "batch_revoke_permissions", batch_revoke_permissions)
    patch_attr(backend, "list_permissions", list_permissions)
    response = LakeFormationResponse
    patch_attr(response, "list_permissions", response_list_permissions)
    patch_attr(response, "batch_grant_permissions", response_batch_grant_permissions)
    patch_attr(response, "batch_revoke_permissions", response_batch_revoke_permissions)
