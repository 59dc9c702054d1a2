"""Rich renderings of the central catalog and the audit trail (demo and CLI alike)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rich.markup import escape
from rich.table import Table

from meshgov.audit import AuditOutcome, AuditRecord
from meshgov_local.observe import CentralTable, breaking_change_summary, detail_summary

OUTCOME_STYLE = {
    AuditOutcome.RECEIVED: "cyan",
    AuditOutcome.SUCCEEDED: "green",
    AuditOutcome.SKIPPED: "yellow",
    AuditOutcome.REFUSED: "magenta",
    AuditOutcome.FAILED: "bold red",
}


def catalog_table(rows: Sequence[CentralTable], title: str, *, breaking: bool = False) -> Table:
    """database, table, columns, schema version, partitions, sync time (and last break)."""
    table = Table(title=title, title_justify="left")
    for column in ("database", "table", "columns", "schema", "partitions", "synced (UTC)"):
        table.add_column(column)
    if breaking:
        table.add_column("last breaking change")
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
    if not rows:
        table.add_row("[dim](empty)[/]", *[""] * (len(table.columns) - 1))
    return table


def audit_table(records: Sequence[AuditRecord], title: str, *, times: bool = False) -> Table:
    """action, outcome, target, reason (or the telling details), optionally the time."""
    table = Table(title=title, title_justify="left")
    if times:
        table.add_column("time", no_wrap=True)
    table.add_column("action", no_wrap=True)
    table.add_column("outcome", no_wrap=True)
    table.add_column("target", overflow="fold")
    table.add_column("reason / detail")
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
