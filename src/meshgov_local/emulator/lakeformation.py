"""Lake Formation LF-Tag behaviour that moto lacks or gets wrong.

Followed documents:

- SearchTablesByLFTags, https://docs.aws.amazon.com/lake-formation/latest/APIReference/API_SearchTablesByLFTags.html
  and SearchDatabasesByLFTags, https://docs.aws.amazon.com/lake-formation/latest/APIReference/API_SearchDatabasesByLFTags.html:
  ``Expression`` is a list of LFTag conditions, ``MaxResults`` from 1 to 100, ``NextToken``
  paging; a result is a ``TaggedTable`` (Table, LFTagOnDatabase, LFTagsOnTable, LFTagsOnColumns,
  https://docs.aws.amazon.com/lake-formation/latest/APIReference/API_TaggedTable.html) or a
  ``TaggedDatabase`` (Database, LFTags).
- Expressions, https://docs.aws.amazon.com/lake-formation/latest/dg/lf-tag-considerations.html:
  ``module=sales AND division=(consumer OR commercial)``: every condition must hold, the values of
  one condition are alternatives.
- Inheritance, https://docs.aws.amazon.com/lake-formation/latest/dg/TBAC-assigning-tags.html:
  "If a table inherits a LF-Tag from a database ... you can override the inherited value by
  assigning a new value to the LF-Tag key": a table's effective tags are its own plus its
  database's for the keys it does not set.
- Notes and restrictions, https://docs.aws.amazon.com/lake-formation/latest/dg/TBAC-notes.html:
  "Tags keys and values are converted to all lower case when they are stored" and "Only one value
  for a LF-Tag can be assigned to a particular resource": AddLFTagsToResource
  (https://docs.aws.amazon.com/lake-formation/latest/APIReference/API_AddLFTagsToResource.html,
  "attaches one or more LF-tags to an existing resource") adds to the resource's tags, and a key
  already on the resource takes the new value. moto replaces the whole list instead.
- GetResourceLFTags on a resource without tags answers empty lists (moto raises KeyError).

The new operations are routed through moto's Lake Formation URL table (a REST-JSON protocol:
``POST /SearchTablesByLFTags``), so boto3 reaches them in-process and in server mode. Install
before the moto server receives its first Lake Formation request (it builds its routes then).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable
from typing import Any

import moto.lakeformation.urls as lf_urls
from moto.core.exceptions import JsonRESTError
from moto.glue.models import glue_backends
from moto.lakeformation.models import LakeFormationBackend
from moto.lakeformation.responses import LakeFormationResponse

from ._patching import patch_attr, wrap_method

MAX_RESULTS = 100
NEW_ROUTES = ("SearchTablesByLFTags", "SearchDatabasesByLFTags")

TagList = list[dict[str, Any]]


def _error(code: str, message: str) -> JsonRESTError:
    error = JsonRESTError(code, message)
    error.code = 400
    return error


def _lower_values(values: Iterable[Any] | None) -> list[str]:
    return [str(value).lower() for value in values or []]


def normalise_tag(tag: dict[str, Any], catalog_id: str) -> dict[str, Any]:
    """An LFTagPair as stored: lower-case key and values, with its catalog id."""
    return {
        "CatalogId": tag.get("CatalogId") or catalog_id,
        "TagKey": str(tag["TagKey"]).lower(),
        "TagValues": _lower_values(tag.get("TagValues")),
    }


def merge_tags(existing: TagList, added: TagList) -> TagList:
    """``existing`` with ``added`` applied: new keys appended, known keys take the new value."""
    merged = {tag["TagKey"]: dict(tag) for tag in existing}
    for tag in added:
        merged[tag["TagKey"]] = dict(tag)
    return list(merged.values())


def effective_tags(inherited: TagList, own: TagList) -> TagList:
    """Own tags, plus the inherited ones whose key the resource does not set itself."""
    own_keys = {tag["TagKey"] for tag in own}
    return [dict(tag) for tag in own] + [
        dict(tag) for tag in inherited if tag["TagKey"] not in own_keys
    ]


def expression_matches(expression: list[dict[str, Any]], tags: TagList) -> bool:
    """Every condition holds; a condition holds when the key carries one of its values."""
    values = {tag["TagKey"]: set(tag.get("TagValues") or []) for tag in tags}
    for condition in expression:
        key = str(condition["TagKey"]).lower()
        wanted = set(_lower_values(condition.get("TagValues")))
        if key not in values:
            return False
        if "*" not in wanted and not values[key] & wanted:
            return False
    return True


# --- backend: tag storage ----------------------------------------------------------------------


def _resource_keys(backend: Any, resource: dict[str, Any]) -> list[tuple[dict[str, Any], Any]]:
    """(storage dict, key) for each part of a Lake Formation ``Resource``."""
    keys: list[tuple[dict[str, Any], Any]] = []
    if "Database" in resource:
        database = resource["Database"]
        keys.append(
            (
                backend.lf_database_tags,
                (database.get("CatalogId", backend.account_id), database["Name"]),
            )
        )
    if "Table" in resource:
        table = resource["Table"]
        keys.append(
            (
                backend.lf_table_tags,
                (table.get("CatalogId", backend.account_id), table["DatabaseName"], table["Name"]),
            )
        )
    if "TableWithColumns" in resource:
        table = resource["TableWithColumns"]
        catalog = table.get("CatalogId", backend.account_id)
        for column in table.get("ColumnNames") or []:
            keys.append(
                (
                    backend.lf_columns_tags,
                    (catalog, table["DatabaseName"], table["Name"], column),
                )
            )
    return keys


def add_lf_tags_to_resource(
    self: Any, catalog_id: str, resource: dict[str, Any], tags: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    defined = self.list_lf_tags(catalog_id)
    normalised = [normalise_tag(tag, catalog_id) for tag in tags or []]
    failures = [
        {
            "LFTag": tag,
            "Error": {
                "ErrorCode": "EntityNotFoundException",
                "ErrorMessage": "Tag or tag value does not exist.",
            },
        }
        for tag in normalised
        if tag["TagKey"] not in defined
        or not set(tag["TagValues"]) <= set(_lower_values(defined[tag["TagKey"]]))
    ]
    if failures:
        return failures
    for storage, key in _resource_keys(self, resource):
        storage[key] = merge_tags(storage.get(key, []), normalised)
    return []


def remove_lf_tags_from_resource(
    self: Any, catalog_id: str, resource: dict[str, Any], tags: list[dict[str, Any]]
) -> None:
    removed = {normalise_tag(tag, catalog_id)["TagKey"] for tag in tags or []}
    for storage, key in _resource_keys(self, resource):
        if key in storage:
            storage[key] = [tag for tag in storage[key] if tag["TagKey"] not in removed]


def get_resource_lf_tags(
    self: Any, catalog_id: str, resource: dict[str, Any]
) -> tuple[TagList, TagList, list[dict[str, Any]]]:
    database_tags: TagList = []
    table_tags: TagList = []
    column_tags: list[dict[str, Any]] = []
    for storage, key in _resource_keys(self, resource):
        tags = [dict(tag) for tag in storage.get(key, [])]
        if storage is self.lf_database_tags:
            database_tags = tags
        elif storage is self.lf_table_tags:
            table_tags = tags
        elif tags:
            column_tags.append({"Name": key[-1], "LFTags": tags})
    return database_tags, table_tags, column_tags


def _lowercasing(
    *positions: int, lists: tuple[int, ...] = ()
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Lower-case the string arguments at ``positions`` and the lists at ``lists``."""

    def make(method: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            values = list(args)
            for index in positions:
                if index < len(values) and isinstance(values[index], str):
                    values[index] = values[index].lower()
            for index in lists:
                if index < len(values) and values[index] is not None:
                    values[index] = _lower_values(values[index])
            return method(self, *values, **kwargs)

        return wrapper

    return make


# --- backend: search ---------------------------------------------------------------------------


def _tables_of(backend: Any, catalog_id: str) -> list[tuple[str, Any]]:
    glue = glue_backends[catalog_id][backend.region_name]
    return [
        (database_name, table)
        for database_name, database in sorted(glue.databases.items())
        for _, table in sorted(database.tables.items())
    ]


def _columns_of(table: Any) -> list[str]:
    current = table.as_dict()
    columns = (current.get("StorageDescriptor") or {}).get("Columns") or []
    return [column["Name"] for column in columns + (current.get("PartitionKeys") or [])]


def search_tables_by_lf_tags(
    self: Any, catalog_id: str, expression: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    _check_keys(self, catalog_id, expression)
    results = []
    for database_name, table in _tables_of(self, catalog_id):
        database_tags = self.lf_database_tags.get((catalog_id, database_name), [])
        own_tags = self.lf_table_tags.get((catalog_id, database_name, table.name), [])
        table_tags = effective_tags(database_tags, own_tags)
        if not expression_matches(expression, table_tags):
            continue
        tagged: dict[str, Any] = {
            "Table": {"CatalogId": catalog_id, "DatabaseName": database_name, "Name": table.name}
        }
        if database_tags:
            tagged["LFTagOnDatabase"] = [dict(tag) for tag in database_tags]
        if table_tags:
            tagged["LFTagsOnTable"] = table_tags
        columns = []
        for column in _columns_of(table):
            own = self.lf_columns_tags.get((catalog_id, database_name, table.name, column), [])
            column_tags = effective_tags(table_tags, own)
            if column_tags:
                columns.append({"Name": column, "LFTags": column_tags})
        if columns:
            tagged["LFTagsOnColumns"] = columns
        results.append(tagged)
    return results


def search_databases_by_lf_tags(
    self: Any, catalog_id: str, expression: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    _check_keys(self, catalog_id, expression)
    glue = glue_backends[catalog_id][self.region_name]
    results = []
    for database_name in sorted(glue.databases):
        tags = self.lf_database_tags.get((catalog_id, database_name), [])
        if expression_matches(expression, tags):
            results.append(
                {
                    "Database": {"CatalogId": catalog_id, "Name": database_name},
                    "LFTags": [dict(tag) for tag in tags],
                }
            )
    return results


def _check_keys(backend: Any, catalog_id: str, expression: list[dict[str, Any]]) -> None:
    if not expression:
        raise _error("InvalidInputException", "Expression must not be empty.")
    defined = backend.list_lf_tags(catalog_id)
    for condition in expression:
        if str(condition.get("TagKey", "")).lower() not in defined:
            raise _error("EntityNotFoundException", "Tag key does not exist.")


# --- responses ---------------------------------------------------------------------------------


def _page(
    operation: str, items: list[dict[str, Any]], max_results: Any, next_token: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    size = MAX_RESULTS if max_results is None else int(max_results)
    if size > MAX_RESULTS or size < 1:
        bound = "less than or equal to 100" if size > MAX_RESULTS else "greater than or equal to 1"
        raise _error(
            "ValidationException",
            f"1 validation error detected: Value '{size}' at 'maxResults' failed to satisfy "
            f"constraint: Member must have value {bound}",
        )
    offset = 0
    if next_token:
        try:
            data = json.loads(base64.urlsafe_b64decode(next_token.encode()))
            if data.get("op") != operation:
                raise ValueError(operation)
            offset = int(data["offset"])
        except (binascii.Error, ValueError, KeyError, TypeError, AttributeError) as error:
            raise _error("InvalidInputException", "Invalid NextToken.") from error
    page = items[offset : offset + size]
    token = None
    if offset + size < len(items):
        raw = json.dumps({"op": operation, "offset": offset + size})
        token = base64.urlsafe_b64encode(raw.encode()).decode()
    return page, token


def response_search_tables_by_lf_tags(self: Any) -> str:
    catalog_id = self._get_param("CatalogId") or self.current_account
    tables = self.lakeformation_backend.search_tables_by_lf_tags(
        catalog_id, self._get_param("Expression") or []
    )
    page, token = _page(
        "SearchTablesByLFTags", tables, self._get_param("MaxResults"), self._get_param("NextToken")
    )
    result: dict[str, Any] = {"TableList": page}
    if token:
        result["NextToken"] = token
    return json.dumps(result)


def response_search_databases_by_lf_tags(self: Any) -> str:
    catalog_id = self._get_param("CatalogId") or self.current_account
    databases = self.lakeformation_backend.search_databases_by_lf_tags(
        catalog_id, self._get_param("Expression") or []
    )
    page, token = _page(
        "SearchDatabasesByLFTags",
        databases,
        self._get_param("MaxResults"),
        self._get_param("NextToken"),
    )
    result: dict[str, Any] = {"DatabaseList": page}
    if token:
        result["NextToken"] = token
    return json.dumps(result)


def response_get_resource_lf_tags(self: Any) -> str:
    catalog_id = self._get_param("CatalogId") or self.current_account
    resource = self._get_param("Resource") or {}
    database, table, columns = self.lakeformation_backend.get_resource_lf_tags(catalog_id, resource)
    result: dict[str, Any] = {}
    if "Database" in resource:
        result["LFTagOnDatabase"] = database
    if "Table" in resource:
        result["LFTagsOnTable"] = table
    if "TableWithColumns" in resource:
        result["LFTagsOnColumns"] = columns
    return json.dumps(result)


def response_get_lf_tag(self: Any) -> str:
    catalog_id = self._get_param("CatalogId") or self.current_account
    key = str(self._get_param("TagKey") or "").lower()
    values = self.lakeformation_backend.get_lf_tag(catalog_id, key)
    return json.dumps({"CatalogId": catalog_id, "TagKey": key, "TagValues": values})


def install() -> None:
    backend = LakeFormationBackend
    patch_attr(backend, "add_lf_tags_to_resource", add_lf_tags_to_resource)
    patch_attr(backend, "remove_lf_tags_from_resource", remove_lf_tags_from_resource)
    patch_attr(backend, "get_resource_lf_tags", get_resource_lf_tags)
    patch_attr(backend, "search_tables_by_lf_tags", search_tables_by_lf_tags)
    patch_attr(backend, "search_databases_by_lf_tags", search_databases_by_lf_tags)
    # create_lf_tag(catalog_id, key, values); get/delete_lf_tag(catalog_id, key);
    # update_lf_tag(catalog_id, tag_key, to_delete, to_add)
    wrap_method(backend, "create_lf_tag", _lowercasing(1, lists=(2,)))
    wrap_method(backend, "get_lf_tag", _lowercasing(1))
    wrap_method(backend, "delete_lf_tag", _lowercasing(1))
    wrap_method(backend, "update_lf_tag", _lowercasing(1, lists=(2, 3)))

    response = LakeFormationResponse
    patch_attr(response, "search_tables_by_lf_tags", response_search_tables_by_lf_tags)
    patch_attr(response, "search_databases_by_lf_tags", response_search_databases_by_lf_tags)
    patch_attr(response, "get_resource_lf_tags", response_get_resource_lf_tags)
    patch_attr(response, "get_lf_tag", response_get_lf_tag)
    for operation in NEW_ROUTES:
        lf_urls.url_paths.setdefault(f"{{0}}/{operation}$", LakeFormationResponse.dispatch)
