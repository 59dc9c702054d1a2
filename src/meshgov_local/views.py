"""Rich renderings of the central catalog and the audit trail (demo and CLI alike)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rich.markup import escape

from meshgov.audit import AuditOutcome, AuditRecord
from meshgov_cli.tables import Col, FitTable
from meshgov_local.observe import CentralTable, breaking_change_summary, detail_summary

OUTCOME_STYLE = {
    AuditOutcome.RECEIVED: "cyan",
    AuditOutcome.SUCCEEDED: "green",
    AuditOutcome.SKIPPED: "yellow",
    AuditOutcome.REFUSED: "magenta",
    AuditOutcome.FAILED: "bold red",
}


def tableless(rows: Sequence[CentralTable], databases: Sequence[str]) -> list[str]:
    """The ``databases`` no row is of: published, central, and without a table (yet)."""
    with_tables = {row.database for row in rows}
    return sorted(d for d in databases if d not in with_tables)


def catalog_dicts(
    rows: Sequence[CentralTable], databases: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """The central catalog as JSON: one object per table, then one per database without a
    table (``"table": null``), sorted by database (a table's own object first: the sort is
    stable)."""
    empty: list[dict[str, Any]] = [
        {
            "database": name,
            "table": None,
            "columns": [],
            "schema_version": None,
            "partitions": None,
            "synced_at": None,
            "last_breaking_change": None,
        }
        for name in tableless(rows, databases)
    ]
    return sorted([r.as_dict() for r in rows] + empty, key=lambda d: str(d["database"]))


def catalog_table(
    rows: Sequence[CentralTable],
    title: str,
    *,
    breaking: bool = False,
    databases: Sequence[str] = (),
    wide: bool = False,
) -> FitTable:
    """database, table, columns, schema version, partitions, sync time (and last break); a
    database of ``databases`` without a table gets a row of its own, "(no tables)"."""
    columns = [
        Col("database"),
        Col("table"),
        Col("columns"),
        Col("schema", 2, no_wrap=True),
        Col("partitions", 3),
        Col("synced (UTC)", 1, no_wrap=True),
    ]
    if breaking:
        columns.append(Col("last breaking change", 4))
    table = FitTable(title, columns, wide=wide)
    for row in rows:
        cells = [
            row.database,
            f"[bold]{escape(row.table)}[/]",
            escape(", ".join(row.columns)),
            f"v{row.schema_version}",
            "-" if row.partitions is None else str(row.partitions),
            short_time(row.synced_at),
        ]
        if breaking:
            cells.append(escape(breaking_change_summary(row.last_breaking_change)))
        table.add_row(*cells)
    for name in tableless(rows, databases):
        table.add_row(escape(name), "[dim](no tables)[/]", *[""] * (len(table.columns) - 2))
    if not rows and not databases:
        table.add_row("[dim](empty)[/]", *[""] * (len(table.columns) - 1))
    return table


def audit_table(
    records: Sequence[AuditRecord], title: str, *, times: bool = False, wide: bool = False
) -> FitTable:
    """action, outcome, target, reason (or the telling details), optionally the time (left
    out first when the terminal is narrow)."""
    columns = [Col("time", 1, no_wrap=True)] if times else []
    columns += [
        Col("action", no_wrap=True),
        Col("outcome", no_wrap=True),
        Col("target"),
        Col("reason / detail"),
    ]
    table = FitTable(title, columns, wide=wide)
    for record in records:
        table.add_row(*audit_cells(record, times=times))
    return table


def audit_cells(record: AuditRecord, *, times: bool = False) -> list[str]:
    entry = record.entry
    cells = [
        entry.action,
        f"[{OUTCOME_STYLE.get(entry.outcome, 'white')}]{entry.outcome.value}[/]",
        escape(short_target(entry.target)),
        escape(detail_summary(record)),
    ]
    if times:
        cells.insert(0, record.recorded_at.strftime("%H:%M:%S"))
    return cells


def audit_line(record: AuditRecord) -> str:
    """One audit record on one line, for following the trail live."""
    time_, action, outcome, target, detail = audit_cells(record, times=True)
    line = f"[dim]{time_}[/] {action:<22} {outcome} {target}"
    return f"{line} [dim]{detail}[/]" if detail else line


def as_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str)


def short_time(value: str) -> str:
    """``2026-01-01T12:00:00.123456+00:00`` -> ``12:00:00``."""
    if "T" in value:
        return value.split("T", 1)[1][:8]
    return value


def short_target(target: str) -> str:
    """Glue ARNs shown as ``account:table/db/name``: the region is always the mesh's."""
    if target.startswith("arn:aws:glue:"):
        parts = target.split(":", 5)
        return f"{parts[4]}:{parts[5]}"
    return target
