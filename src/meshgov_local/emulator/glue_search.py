"""Glue ``SearchTables``, which moto 5.2.5 does not implement (it raises ``NotImplementedError``).

Followed documents (AWS Glue API reference):

- SearchTables, https://docs.aws.amazon.com/glue/latest/webapi/API_SearchTables.html:
  "Searches a set of tables based on properties in the table metadata as well as on the parent
  database. You can search against text or filter conditions." "If you have access to the
  columns but not the data in the columns, those columns and the associated metadata for those
  columns will be included in the search." ``SearchText``: "A string used for a text search.
  Specifying a value in quotes filters based on an exact match to the value." ``Filters``: "The
  ``Comparator`` member of the ``PropertyPredicate`` struct is used only for time fields, and can
  be omitted for other field types. Also, when comparing string values, such as when
  ``Key=Name``, a fuzzy match algorithm is used. The ``Key`` field (for example, the value of the
  ``Name`` field) is split on certain punctuation characters, for example, -, :, #, etc. into
  tokens. Then each token is exact-match compared with the ``Value`` member of
  ``PropertyPredicate``. For example, if ``Key=Name`` and ``Value=link``, tables named
  ``customer-link`` and ``xx-link-yy`` are returned, but ``xxlinkyy`` is not returned."
  ``MaxResults``: "The maximum number of tables to return in a single response", a ``PageSize``
  from 1 to 1000. ``NextToken``: "A continuation token, included if this is a continuation
  call"; in the response "present if the current list segment is not the last".
  ``ResourceShareType``: "If set to ``FOREIGN``, will search the tables shared with your
  account. If set to ``ALL``, will search the tables shared with your account, as well as the
  tables in your local account." Errors: ``InvalidInputException`` ("The input provided was not
  valid"), ``InternalServiceException``, ``OperationTimeoutException``.
- PropertyPredicate, https://docs.aws.amazon.com/glue/latest/webapi/API_PropertyPredicate.html:
  ``Comparator`` one of ``EQUALS | GREATER_THAN | LESS_THAN | GREATER_THAN_EQUALS |
  LESS_THAN_EQUALS``; ``Key`` and ``Value`` strings of 1 to 1024 characters.
- SortCriterion, https://docs.aws.amazon.com/glue/latest/webapi/API_SortCriterion.html:
  ``FieldName`` "The name of the field on which to sort", ``Sort`` "An ascending or descending
  sort" (``ASC | DESC``); the request's ``SortCriteria`` holds at most one criterion (the service
  model's list constraint, ``max: 1``).
- Searching for tables (Lake Formation console),
  https://docs.aws.amazon.com/lake-formation/latest/dg/searching-for-tables.html: tables are
  searched "by name, location, containing database, and more"; the properties offered are Name,
  Classification, Database, Location and Catalog ID. ``Classification`` is the table parameter
  ``classification``: so table parameters are searchable properties, and here a filter ``Key``
  that is not a table field names a table parameter.

What is emulated, and the choices where the documents are silent:

- ``SearchText`` is matched against the table's name, description and owner, the parent
  database's name and description ("as well as on the parent database"), the names and comments
  of its columns and partition keys ("those columns and the associated metadata ... included in
  the search") and the *values* of its parameters ("properties in the table metadata"). Column
  types are not searched (a search for ``string`` would return almost every table), nor are
  parameter keys (every table carries ``classification``). Quoted text (``"..."``) matches a
  table one of whose searched values equals it exactly (case-sensitive). Unquoted text is split
  on white space and matches a table when every word occurs, case-insensitively, somewhere in
  its searched values (the documents do not say how unquoted text matches; AWS uses a search
  index whose analyzer is not documented).
- ``Filters``: all predicates must hold. Keys ``Name``, ``DatabaseName``, ``Description``,
  ``Owner``, ``TableType``, ``CatalogId`` and ``Location`` (the storage location) are table
  fields; ``CreateTime``, ``UpdateTime``, ``LastAccessTime`` and ``LastAnalyzedTime`` are time
  fields, compared with the ``Comparator`` (default ``EQUALS``; ``Value`` an ISO 8601 time or
  epoch seconds); any other key names a table parameter (a table without it does not match).
  String values are split into tokens on every character that is not a letter, a digit or
  ``_`` (the document's "-, :, #, etc."; ``_`` stays inside a token as in common search
  analyzers), and match when the ``Value`` equals one token or the whole value, compared
  case-insensitively (Glue stores names in lower case). As documented, the ``Comparator`` is
  used only for time fields: on string fields and parameters it is ignored. A predicate
  without ``Key`` or ``Value`` cannot be evaluated and is refused with ``InvalidInputException``.
- ``SortCriteria``: ``FieldName`` is any filter key; values compare case-insensitively (times as
  times), tables without the field come last in both orders, ties are broken by database and
  table name. Without criteria, tables come by database name then table name (AWS orders by
  relevance, which is not documented: a fixed order keeps pages stable).
- Paging: ``MaxResults`` defaults to 100 (the default is not documented); outside 1..1000 the
  request fails with ``ValidationException`` like the other Glue constraints (see
  :mod:`.glue_paging`). ``NextToken`` is opaque (base64 of the offset and a digest of the
  search): a token that does not decode, or that belongs to another search, fails with
  ``InvalidInputException: Invalid pagination token``.
- ``ResourceShareType``: the local catalog holds only the caller's own tables, and Glue reads of
  another account's catalog are denied (:mod:`.glue_access`), so ``FOREIGN`` and ``FEDERATED``
  find nothing and ``ALL`` (or no value) searches the caller's own tables.
- ``CatalogId``: another account's id is denied by :mod:`.glue_access` before this code runs.
- Resource links (tables with ``TargetTable``) are tables of the catalog and are returned like
  any other, as ``GetTables`` returns them. Each table is returned as ``GetTable`` returns it
  (``DatabaseName``, ``CatalogId``, ``VersionId``, times, the current ``TableInput``).
- Not emulated: Lake Formation filtering ("You can only get tables that you have access to")
  — the local mesh's callers are account administrators — and ``IncludeStatusDetails`` (no
  views), which is accepted and ignored.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from moto.core.responses import ActionResult
from moto.glue.responses import GlueResponse

from ._patching import patch_attr
from .glue_paging import invalid_input, validation_error

OPERATION = "SearchTables"
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
MAX_VALUE_LENGTH = 1024
MAX_SORT_CRITERIA = 1
COMPARATORS = ("EQUALS", "GREATER_THAN", "LESS_THAN", "GREATER_THAN_EQUALS", "LESS_THAN_EQUALS")
SORT_ORDERS = ("ASC", "DESC")
RESOURCE_SHARE_TYPES = ("FOREIGN", "ALL", "FEDERATED")
TIME_FIELDS = ("CreateTime", "UpdateTime", "LastAccessTime", "LastAnalyzedTime")
_TOKEN_SPLIT = re.compile(r"[^0-9A-Za-z_]+")

Table = Mapping[str, Any]


# --- the searched table ------------------------------------------------------------------------


class Candidate:
    """One table of the catalog as ``GetTable`` returns it, with its parent database."""

    def __init__(self, table: Table, database: Mapping[str, Any]) -> None:
        self.table = table
        self.database = database

    @property
    def order(self) -> tuple[str, str]:
        return (str(self.table.get("DatabaseName", "")), str(self.table.get("Name", "")))


def _columns(table: Table) -> list[Mapping[str, Any]]:
    storage = table.get("StorageDescriptor") or {}
    return [*(storage.get("Columns") or []), *(table.get("PartitionKeys") or [])]


def searched_values(candidate: Candidate) -> list[str]:
    """The values ``SearchText`` is matched against (see the module docstring)."""
    table, database = candidate.table, candidate.database
    values: list[Any] = [
        table.get("Name"),
        table.get("Description"),
        table.get("Owner"),
        table.get("DatabaseName"),
        database.get("Description"),
    ]
    for column in _columns(table):
        values.extend((column.get("Name"), column.get("Comment")))
    values.extend((table.get("Parameters") or {}).values())
    return [str(value) for value in values if value not in (None, "")]


def text_matches(search_text: str | None, candidate: Candidate) -> bool:
    if not search_text:
        return True
    values = searched_values(candidate)
    text = search_text.strip()
    if len(text) >= 2 and text.startswith('"') and text.endswith('"'):
        return text[1:-1] in values
    haystack = [value.lower() for value in values]
    return all(any(word in value for value in haystack) for word in text.lower().split())


def _string_field(key: str) -> Callable[[Candidate], Any] | None:
    fields: dict[str, Callable[[Candidate], Any]] = {
        "Name": lambda c: c.table.get("Name"),
        "DatabaseName": lambda c: c.table.get("DatabaseName"),
        "Description": lambda c: c.table.get("Description"),
        "Owner": lambda c: c.table.get("Owner"),
        "TableType": lambda c: c.table.get("TableType"),
        "CatalogId": lambda c: c.table.get("CatalogId"),
        "Location": lambda c: (c.table.get("StorageDescriptor") or {}).get("Location"),
    }
    return fields.get(key)


def field_value(candidate: Candidate, key: str) -> Any:
    """The value of a filter or sort key on a table: a field, a time or a parameter (or None)."""
    if key in TIME_FIELDS:
        return as_time(candidate.table.get(key))
    getter = _string_field(key)
    value = getter(candidate) if getter else (candidate.table.get("Parameters") or {}).get(key)
    return None if value is None else str(value)


def as_time(value: Any) -> datetime | None:
    """A table time (datetime, epoch seconds or ISO 8601) as an aware UTC datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), tz=UTC)
    text = str(value)
    try:
        return datetime.fromtimestamp(float(text), tz=UTC)
    except ValueError:
        pass
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def tokens(value: str) -> set[str]:
    return {token.lower() for token in _TOKEN_SPLIT.split(value) if token}


def predicate_matches(predicate: Mapping[str, Any], candidate: Candidate) -> bool:
    key, wanted = str(predicate["Key"]), str(predicate["Value"])
    actual = field_value(candidate, key)
    if actual is None:
        return False
    if key in TIME_FIELDS:
        limit = _time_value(wanted)
        return _compare(actual, limit, str(predicate.get("Comparator") or "EQUALS"))
    return wanted.lower() == str(actual).lower() or wanted.lower() in tokens(str(actual))


def _time_value(value: str) -> datetime:
    try:
        parsed = as_time(value)
    except ValueError as error:
        raise invalid_input(f"Invalid time value in filter: {value}") from error
    if parsed is None:
        raise invalid_input("Empty time value in filter")
    return parsed


def _compare(actual: datetime, limit: datetime, comparator: str) -> bool:
    return {
        "EQUALS": actual == limit,
        "GREATER_THAN": actual > limit,
        "LESS_THAN": actual < limit,
        "GREATER_THAN_EQUALS": actual >= limit,
        "LESS_THAN_EQUALS": actual <= limit,
    }[comparator]


def sort_candidates(
    candidates: Sequence[Candidate], criteria: Sequence[Mapping[str, Any]]
) -> list[Candidate]:
    """Sorted by the criterion (missing values last), ties by database and table name."""
    ordered = sorted(candidates, key=lambda c: c.order)
    if not criteria:
        return ordered
    field = str(criteria[0]["FieldName"])
    descending = str(criteria[0].get("Sort") or "ASC") == "DESC"

    def value(candidate: Candidate) -> Any:
        raw = field_value(candidate, field)
        return raw.lower() if isinstance(raw, str) else raw

    present = [c for c in ordered if value(c) is not None]
    missing = [c for c in ordered if value(c) is None]
    present.sort(key=value, reverse=descending)  # stable: ties keep the name order
    return present + missing


def search(
    candidates: Iterable[Candidate],
    search_text: str | None,
    filters: Sequence[Mapping[str, Any]],
    sort_criteria: Sequence[Mapping[str, Any]],
) -> list[Candidate]:
    matching = [
        candidate
        for candidate in candidates
        if text_matches(search_text, candidate)
        and all(predicate_matches(predicate, candidate) for predicate in filters)
    ]
    return sort_candidates(matching, sort_criteria)


# --- request validation ------------------------------------------------------------------------


def _check_length(member: str, value: Any) -> None:
    if value is None:
        return
    text = str(value)
    if len(text) > MAX_VALUE_LENGTH:
        raise validation_error(
            f"Value '{text}' at '{member}' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_VALUE_LENGTH}"
        )
    if not text:
        raise validation_error(
            f"Value '{text}' at '{member}' failed to satisfy constraint: "
            "Member must have length greater than or equal to 1"
        )


def _check_enum(member: str, value: Any, allowed: Sequence[str]) -> None:
    if value is not None and value not in allowed:
        raise validation_error(
            f"Value '{value}' at '{member}' failed to satisfy constraint: "
            f"Member must satisfy enum value set: [{', '.join(allowed)}]"
        )


def page_size(max_results: Any) -> int:
    if max_results is None:
        return DEFAULT_PAGE_SIZE
    value = int(max_results)
    if value > MAX_PAGE_SIZE:
        raise validation_error(
            f"Value '{value}' at 'maxResults' failed to satisfy constraint: "
            f"Member must have value less than or equal to {MAX_PAGE_SIZE}"
        )
    if value < 1:
        raise validation_error(
            f"Value '{value}' at 'maxResults' failed to satisfy constraint: "
            "Member must have value greater than or equal to 1"
        )
    return value


def validate(params: Mapping[str, Any]) -> None:
    """The request's constraints, as the service model states them."""
    _check_length("searchText", params.get("SearchText"))
    _check_enum("resourceShareType", params.get("ResourceShareType"), RESOURCE_SHARE_TYPES)
    for index, predicate in enumerate(params.get("Filters") or [], start=1):
        member = f"filters.{index}.member"
        _check_length(f"{member}.key", predicate.get("Key"))
        _check_length(f"{member}.value", predicate.get("Value"))
        _check_enum(f"{member}.comparator", predicate.get("Comparator"), COMPARATORS)
        if predicate.get("Key") is None or predicate.get("Value") is None:
            raise invalid_input("A filter needs both a Key and a Value.")
    criteria = params.get("SortCriteria") or []
    if len(criteria) > MAX_SORT_CRITERIA:
        raise validation_error(
            f"Value '{criteria}' at 'sortCriteria' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_SORT_CRITERIA}"
        )
    for index, criterion in enumerate(criteria, start=1):
        member = f"sortCriteria.{index}.member"
        _check_length(f"{member}.fieldName", criterion.get("FieldName"))
        _check_enum(f"{member}.sort", criterion.get("Sort"), SORT_ORDERS)
        if criterion.get("FieldName") is None:
            raise invalid_input("A sort criterion needs a FieldName.")
    page_size(params.get("MaxResults"))


# --- paging ------------------------------------------------------------------------------------


def search_digest(params: Mapping[str, Any]) -> str:
    """What identifies a search across its pages (everything but the paging members)."""
    identity = {
        key: params.get(key)
        for key in ("CatalogId", "SearchText", "Filters", "SortCriteria", "ResourceShareType")
    }
    payload = json.dumps(identity, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def encode_token(offset: int, digest: str) -> str:
    raw = json.dumps({"op": OPERATION, "offset": offset, "search": digest}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_token(token: str | None, digest: str) -> int:
    if not token:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise invalid_input("Invalid pagination token") from error
    if (
        not isinstance(data, dict)
        or data.get("op") != OPERATION
        or data.get("search") != digest
        or not isinstance(data.get("offset"), int)
        or data["offset"] < 0
    ):
        raise invalid_input("Invalid pagination token")
    offset: int = data["offset"]
    return offset


def page_of[T](items: Sequence[T], params: Mapping[str, Any]) -> tuple[list[T], str | None]:
    size = page_size(params.get("MaxResults"))
    digest = search_digest(params)
    offset = decode_token(params.get("NextToken"), digest)
    page = list(items[offset : offset + size])
    token = encode_token(offset + size, digest) if offset + size < len(items) else None
    return page, token


# --- the operation -----------------------------------------------------------------------------


def candidates_of(glue_backend: Any) -> list[Candidate]:
    """Every table of the caller's own catalog, as ``GetTable`` returns it.

    The catalog is copied before it is described (``list()`` of a dict view runs without
    releasing the GIL): another request served meanwhile on another thread (the bench's sweep
    workers) may create a database or a table, as it may on AWS, and must not break this one."""
    found = []
    for database in list(glue_backend.databases.values()):
        described = database.as_dict()
        for table in list(database.tables.values()):
            found.append(Candidate(table.as_dict(), described))
    return found


def search_tables(self: Any) -> ActionResult:
    params: dict[str, Any] = self.parameters
    validate(params)
    share_type = params.get("ResourceShareType") or "ALL"
    own = candidates_of(self.glue_backend) if share_type == "ALL" else []
    found = search(
        own,
        params.get("SearchText"),
        params.get("Filters") or [],
        params.get("SortCriteria") or [],
    )
    page, token = page_of(found, params)
    result: dict[str, Any] = {"TableList": [candidate.table for candidate in page]}
    if token:
        result["NextToken"] = token
    return ActionResult(result)


def install() -> None:
    patch_attr(GlueResponse, "search_tables", search_tables)
