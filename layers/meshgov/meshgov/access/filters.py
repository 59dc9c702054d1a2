"""Filtered access: the cells of a table a request covers, checked, narrowed and planned as one
Lake Formation data cells filter per (request, table) (pure; issue 13).

A consumer asks, per table, for a column set (the ``columns`` named, or every column but
``excludedColumns``) and a ``rowFilter``; the owning producer may approve it as asked or narrow
it, never widen it. Central turns each into a data cells filter
(https://docs.aws.amazon.com/lake-formation/latest/dg/data-filters-about.html: "a data filter
... a row filter expression ... a list of columns to include or exclude") named from the request
and the table, so a request's filters are its own: no other request ever needs them, and
withdrawing the request deletes them.

A filtered table is granted through its filter only (``SELECT`` on the ``DataCellsFilter``
resource): ``DESCRIBE`` on the table itself would show every column's name and type, the
excluded ones too.

The row filter's own rules (the PartiQL subset, its length, what "stricter" means) live in
:mod:`meshgov.access.row_filters`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from meshgov.access.resolve import AccessRequestRefusedError
from meshgov.access.row_filters import RowFilterInvalidError, narrows, parse_row_filter
from meshgov.contracts.access_events import TableFilter

# CreateDataCellsFilter TableData.Name: 1 to 255 characters
# (https://docs.aws.amazon.com/lake-formation/latest/APIReference/API_DataCellsFilter.html).
FILTER_NAME_MAX = 255
FILTER_PREFIX = "meshgov-"


@dataclass(frozen=True)
class CellSpec:
    """What one table's filter lets through. Exactly one of ``columns`` (include) and
    ``excluded`` may be non-empty; neither means every column. ``row_filter`` None means every
    row; else its canonical text (:func:`meshgov.access.row_filters.parse_row_filter`)."""

    database: str
    table: str
    columns: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    row_filter: str | None = None

    def visible(self, every: Sequence[str]) -> list[str]:
        """The table's columns this filter shows, in the table's order."""
        if self.columns:
            return [c for c in every if c in self.columns]
        return [c for c in every if c not in self.excluded]

    def as_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "table": self.table,
            "columns": list(self.columns),
            "excludedColumns": list(self.excluded),
            "rowFilter": self.row_filter,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CellSpec:
        return cls(
            database=str(data["database"]),
            table=str(data["table"]),
            columns=tuple(data.get("columns") or ()),
            excluded=tuple(data.get("excludedColumns") or ()),
            row_filter=data.get("rowFilter"),
        )

    def text(self) -> str:
        """In words, for ``can-access``, ``posture`` and the audit trail."""
        if self.columns:
            cols = f"columns {', '.join(self.columns)}"
        elif self.excluded:
            cols = f"every column but {', '.join(self.excluded)}"
        else:
            cols = "every column"
        rows = f"rows where {self.row_filter}" if self.row_filter else "every row"
        return f"{cols}; {rows}"


def table_columns(table: Mapping[str, Any]) -> list[str]:
    """A Glue table's columns and partition keys (lower case, as Glue stores them)."""
    descriptor = table.get("StorageDescriptor") or {}
    return [
        str(c["Name"]).lower()
        for c in [*(descriptor.get("Columns") or []), *(table.get("PartitionKeys") or [])]
    ]


def checked(database: str, asked: TableFilter, table: Mapping[str, Any]) -> CellSpec:
    """``asked`` against the table's schema: every column it names exists, it leaves at least
    one column, and its row filter is valid PartiQL of the subset over the table's columns."""
    every = table_columns(table)
    where = f"{database}.{asked.table}"
    named = [c.lower() for c in (asked.columns or asked.excluded_columns)]
    unknown = [c for c in named if c not in every]
    if unknown:
        raise AccessRequestRefusedError(
            "ColumnUnknown", f"{where} has no column {', '.join(unknown)}"
        )
    spec = CellSpec(
        database=database,
        table=str(table.get("Name", asked.table)).lower(),
        columns=tuple(c for c in every if c in named) if asked.columns else (),
        excluded=tuple(c for c in every if c in named) if asked.excluded_columns else (),
    )
    if not spec.visible(every):
        raise AccessRequestRefusedError(
            "FilterEmpty", f"the filter on {where} excludes every column of the table"
        )
    if asked.row_filter is None:
        return spec
    partitions = [str(k["Name"]).lower() for k in table.get("PartitionKeys") or []]
    try:
        row = parse_row_filter(asked.row_filter, every, partition_columns=partitions)
    except RowFilterInvalidError as exc:
        raise AccessRequestRefusedError(exc.code, f"row filter on {where}: {exc}") from exc
    return CellSpec(spec.database, spec.table, spec.columns, spec.excluded, row.text)


def requested_specs(
    database: str, filters: Sequence[TableFilter], tables: Mapping[str, Mapping[str, Any]]
) -> tuple[CellSpec, ...]:
    """The request's filters checked (``tables``: the central tables by lower-case name)."""
    return tuple(checked(database, f, tables[f.table.lower()]) for f in filters)


def narrowed(
    current: Sequence[CellSpec],
    decided: Sequence[TableFilter],
    covered: Mapping[str, Mapping[str, Any]],
    database: str,
) -> tuple[CellSpec, ...]:
    """The request's filters after a producer's approval that narrows some of them.

    ``covered``: the central tables the request covers, by lower-case name. A table the request
    covers unfiltered may get a filter (that narrows it); a filter's visible columns may only
    shrink and its row filter only get stricter (:func:`meshgov.access.row_filters.narrows`).
    Anything else is refused with ``DecisionWidens``.
    """
    by_table = {spec.table: spec for spec in current}
    for asked in decided:
        name = asked.table.lower()
        if name not in covered:
            raise AccessRequestRefusedError(
                "DecisionWidens", f"the request does not cover {database}.{asked.table}"
            )
        table = covered[name]
        spec = checked(database, asked, table)
        before = by_table.get(spec.table, CellSpec(database, spec.table))
        every = table_columns(table)
        wider = sorted(set(spec.visible(every)) - set(before.visible(every)))
        if wider:
            raise AccessRequestRefusedError(
                "DecisionWidens",
                f"{database}.{spec.table}: columns {', '.join(wider)} were not requested",
            )
        old = parse_row_filter(before.row_filter, every) if before.row_filter else None
        new = parse_row_filter(spec.row_filter, every) if spec.row_filter else None
        if not narrows(old, new):
            raise AccessRequestRefusedError(
                "DecisionWidens",
                f"{database}.{spec.table}: row filter {spec.row_filter or '(every row)'} is not "
                f"stricter than the requested {before.row_filter or '(every row)'}: keep every "
                "requested condition and add others with AND",
            )
        by_table[spec.table] = spec
    return tuple(sorted(by_table.values(), key=lambda s: (s.database, s.table)))


def filter_name(request_id: str, table: str) -> str:
    """The data cells filter of ``request_id`` on ``table``: deterministic, so a retried grant
    finds the filter it made, and unique per request, so no other request ever needs it."""
    name = f"{FILTER_PREFIX}{request_id}-{table}"
    if len(name) <= FILTER_NAME_MAX:
        return name
    digest = hashlib.sha256(table.encode()).hexdigest()[:16]
    return f"{FILTER_PREFIX}{request_id}-{table[:150]}-{digest}"


def table_data(central: str, request_id: str, spec: CellSpec) -> dict[str, Any]:
    """``CreateDataCellsFilter``'s ``TableData`` for ``spec``
    (https://docs.aws.amazon.com/lake-formation/latest/APIReference/API_CreateDataCellsFilter.html)."""
    data: dict[str, Any] = {
        "TableCatalogId": central,
        "DatabaseName": spec.database,
        "TableName": spec.table,
        "Name": filter_name(request_id, spec.table),
        "RowFilter": (
            {"FilterExpression": spec.row_filter} if spec.row_filter else {"AllRowsWildcard": {}}
        ),
    }
    if spec.columns:
        data["ColumnNames"] = list(spec.columns)
    else:
        data["ColumnWildcard"] = {"ExcludedColumnNames": list(spec.excluded)}
    return data


def filter_resource(central: str, request_id: str, spec: CellSpec) -> dict[str, Any]:
    """The ``DataCellsFilter`` resource of a grant on ``spec``'s filter."""
    return {
        "DataCellsFilter": {
            "TableCatalogId": central,
            "DatabaseName": spec.database,
            "TableName": spec.table,
            "Name": filter_name(request_id, spec.table),
        }
    }


def spec_of(data: Mapping[str, Any]) -> CellSpec:
    """A data cells filter as Lake Formation lists it (``TableData``), as a :class:`CellSpec`."""
    wildcard = data.get("ColumnWildcard")
    return CellSpec(
        database=str(data.get("DatabaseName", "")),
        table=str(data.get("TableName", "")),
        columns=tuple(str(c) for c in data.get("ColumnNames") or ()),
        excluded=tuple(str(c) for c in (wildcard or {}).get("ExcludedColumnNames") or ()),
        row_filter=(data.get("RowFilter") or {}).get("FilterExpression") or None,
    )
