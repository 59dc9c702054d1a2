"""How access requests and answers look in a terminal (rich tables and panels)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from meshgov.access.effective import AccessAnswer
from meshgov.access.filters import CellSpec
from meshgov.access.states import RequestState
from meshgov.access.store import RequestRecord
from meshgov.posture.report import coverage_text
from meshgov_cli.tables import Col, FitTable


def short_principal(principal: str) -> str:
    """``arn:aws:iam::333333333333:role/analyst`` -> ``role/analyst`` (the account has a column)."""
    return principal.split(":", 5)[5] if principal.startswith("arn:") else principal


def short_time(stamp: str | None) -> str:
    """``2026-12-25T07:06:07+00:00`` -> ``2026-12-25 07:06`` (UTC, as stored)."""
    return stamp[:16].replace("T", " ") if stamp else "-"


def requests_table(records: Sequence[RequestRecord], title: str, *, wide: bool = False) -> FitTable:
    """One row per request; at 80 columns: request, principal, resource, state (and what fits)."""
    table = FitTable(
        title,
        [
            Col("request", no_wrap=True),
            Col("consumer", 3, no_wrap=True),
            Col("principal"),
            Col("resource"),
            Col("permissions", 4),
            Col("state", no_wrap=True),
            Col("expires (UTC)", 2, no_wrap=True),
            Col("decided by", 1),
        ],
        wide=wide,
        empty="no requests",
    )
    for record in records:
        table.add_row(
            record.request_id,
            record.consumer_account,
            escape(short_principal(record.principal)),
            escape(coverage_text(record)),
            ", ".join(record.permissions),
            state_cell(record.state),
            short_time(record.expires_at),
            escape(record.decided_by or "-"),
        )
    return table


STATE_STYLE = {
    RequestState.ACTIVE: "green",
    RequestState.GRANTED: "green",
    RequestState.APPROVED: "cyan",
    RequestState.REQUESTED: "yellow",
    RequestState.PENDING_APPROVAL: "yellow",
    RequestState.DENIED: "red",
    RequestState.FAILED: "bold red",
    RequestState.REVOKED: "magenta",
    RequestState.EXPIRED: "dim",
}


def state_cell(state: RequestState) -> str:
    return f"[{STATE_STYLE[state]}]{state.value}[/]"


def answer_panel(answer: AccessAnswer) -> Panel:
    """The answer of can-access: yes/no, why, which request, until when, what is missing."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    grid.add_row("allowed", "[bold green]yes[/]" if answer.allowed else "[bold red]no[/]")
    grid.add_row("why", "\n".join(f"- {escape(r)}" for r in answer.reasons) or "-")
    grid.add_row("requests", ", ".join(answer.requests) or "-")
    if answer.filters:
        grid.add_row(
            "only through",
            "\n".join(
                f"- filter {escape(f['name'])}: {escape(CellSpec.from_dict(f).text())}"
                for f in answer.filters
            ),
        )
    grid.add_row("until", short_time(answer.expires_at) + (" UTC" if answer.expires_at else ""))
    grid.add_row("missing", "\n".join(f"- {m}" for m in answer.missing) or "-")
    title = f"can {escape(answer.principal)} {answer.action} {answer.database}.{answer.table}?"
    return Panel(
        grid,
        title=title,
        title_align="left",
        border_style="green" if answer.allowed else "red",
        expand=False,
    )
