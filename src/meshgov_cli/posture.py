"""``meshgov posture``: who can read what, through which request, until when — and the drift.

Reads as the central account (Lake Formation grants, the requests table, the central catalog)
and as each member account (its grants to its principals and its links), the way the report
reads members through their reader role on AWS. The report is built by
:mod:`meshgov.posture`; this module parses options and renders.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from meshgov.access.effective_reads import CentralReaders, ConsumerReaders
from meshgov.aws.arns import Arns
from meshgov.contracts_odcs.store import ContractStore
from meshgov.posture import PostureReport, ProducerSource, posture
from meshgov_cli.access_views import short_principal, short_time
from meshgov_cli.console import out, print_json, reaching, running_mesh
from meshgov_cli.options import Output, OutputOption, StateDirOption, WideOption
from meshgov_cli.reach import request_store, usage_store
from meshgov_cli.tables import Col, FitTable
from meshgov_local.standalone import DEFAULT_STATE_DIR

# Exit codes (scripts and CI branch on them).
CLEAN, DRIFTED, NO_ANSWER = 0, 1, 2


def _table(
    title: str,
    headers: Sequence[Col | str],
    rows: Sequence[Sequence[Any]],
    empty: str,
    wide: bool = False,
) -> FitTable:
    """One section; a column with a priority is left out, lowest first, at a narrow width."""
    table = FitTable(title, headers, wide=wide, empty=empty)
    for row in rows:
        table.add_row(*(escape(_text(cell)) for cell in row))
    return table


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "-"
    return "-" if value in (None, "") else str(value)


def _until(value: str) -> str:
    return value if value == "never" else short_time(value)


def render(console: Console, report: PostureReport, *, wide: bool = False) -> None:
    summary = report.summary
    console.print(
        f"[bold]Posture of central account {report.central_account}[/] at "
        f"{short_time(report.generated_at)} UTC: {summary['grants_explained']} explained "
        f"grant(s) to {summary['grantees']} grantee(s), "
        + (f"[bold red]{summary['drift']} drift[/]" if summary["drift"] else "[green]no drift[/]")
        + ", "
        + (
            f"[bold red]{summary['catalog_drift']} catalog drift[/]"
            if summary["catalog_drift"]
            else "[green]no catalog drift[/]"
        )
        + f", {summary['pending']} pending, {summary['expiring']} expiring within "
        f"{report.expiring_days} days, {summary['products_missing_metadata']} of "
        f"{summary['products']} product(s) missing metadata, "
        + (
            f"[bold red]{summary['contracts_breached']} of {summary['contracts']} "
            "contract(s) breached[/]"
            if summary["contracts_breached"]
            else f"{summary['contracts']} contract(s) kept"
        )
    )
    console.print(
        _table(
            "Access: who can read what, through which request, until when, last used",
            [
                "grantee",
                Col("granted by", 2),
                "resource",
                Col("permissions", 3),
                Col("requests", 1),
                "until",
                Col("last used", 4),
            ],
            [
                (
                    short_principal(r.grantee),
                    f"{r.account} ({r.side})",
                    r.resource,
                    r.permissions,
                    r.requests,
                    _until(r.until),
                    _until(r.last_used),
                )
                for r in report.access
            ],
            "no access granted",
            wide,
        )
    )
    console.print(
        _table(
            "Drift: grants no approved request explains",
            [
                Col("side", 2),
                "granted by",
                "grantee",
                "resource",
                Col("permissions", 3),
                Col("hint", 1),
            ],
            [
                (r.side, r.account, short_principal(r.grantee), r.resource, r.permissions, r.hint)
                for r in report.drift
            ],
            "no drift",
            wide,
        )
    )
    console.print(
        _table(
            "Catalog drift: central objects that differ from the published source",
            ["resource", "drift", "detail", Col("hint", 1)],
            [(r.resource, r.kind, r.detail, r.hint) for r in report.catalog_drift],
            "no catalog drift",
            wide,
        )
    )
    if report.tag_reach:
        console.print(
            _table(
                "LF-Tag grants reaching another producer's tables",
                ["request", "grantee", "expression", Col("approved by", 1), "tables"],
                [
                    (r.request_id, r.grantee, r.expression, r.approved_by, r.foreign_tables)
                    for r in report.tag_reach
                ],
                "none",
                wide,
            )
        )
    console.print(
        _table(
            "Pending requests",
            [
                "request",
                "state",
                Col("consumer", 2),
                "principal",
                Col("owner", 3),
                "resource",
                Col("since", 1),
            ],
            [
                (
                    r.request_id,
                    r.state,
                    r.consumer,
                    short_principal(r.principal),
                    r.owner,
                    r.resource,
                    short_time(r.created_at),
                )
                for r in report.pending
            ],
            "none",
            wide,
        )
    )
    console.print(
        _table(
            f"Expiring within {report.expiring_days} days",
            [
                "request",
                Col("consumer", 2),
                "principal",
                "resource",
                "expires (UTC)",
                Col("days left", 1),
                Col("warned", 3),
            ],
            [
                (
                    r.request_id,
                    r.consumer,
                    short_principal(r.principal),
                    r.resource,
                    short_time(r.expires_at),
                    r.days_left,
                    "yes" if r.warned else "no",
                )
                for r in report.expiring
            ],
            "none",
            wide,
        )
    )
    console.print(
        _table(
            "Data contracts: the version in force, kept or breached, the last breach",
            [
                "table",
                Col("owner", 3),
                Col("contract", 2),
                "version",
                "status",
                Col("last breach", 1),
                "broke",
            ],
            [
                (
                    f"{r.database}.{r.table}",
                    r.owner_account,
                    r.contract_id,
                    r.version,
                    r.status,
                    short_time(r.breached_at),
                    r.breach,
                )
                for r in report.contracts
            ],
            "none",
            wide,
        )
    )
    console.print(
        _table(
            "Products missing owner contact or classification",
            ["table", Col("owner account", 1), Col("domain", 2), "missing"],
            [
                (f"{r.database}.{r.table}", r.owner_account, r.domain, r.missing)
                for r in report.products_missing
            ],
            "none",
            wide,
        )
    )


def posture_command(
    markdown: Annotated[
        Path | None,
        typer.Option(
            "--markdown",
            metavar="FILE",
            help="Also write the report as Markdown to FILE (for the auditor's records).",
            dir_okay=False,
        ),
    ] = None,
    expiring_days: Annotated[
        int,
        typer.Option(
            "--expiring-days", metavar="N", help="List requests ending within N days.", min=0
        ),
    ] = 7,
    fail_on_drift: Annotated[
        bool,
        typer.Option(
            "--fail-on-drift",
            help="Exit 1 when there is drift: grants or the catalog (or an LF-Tag grant "
            "reaching another producer).",
        ),
    ] = False,
    state_dir: StateDirOption = DEFAULT_STATE_DIR,
    output: OutputOption = Output.TABLE,
    wide: WideOption = False,
) -> None:
    """Report who can read what, through which request, until when, and what is out of line.

    Sections: **access** (every grant an approved request explains, central's to accounts
    and each account's to its roles, with the request, the expiry and when it was last used:
    the grantee's latest read of what the grant covers, any role of the account for a grant
    to an account, or "never"); **drift** (grants in
    Lake Formation no GRANTED/ACTIVE request explains, e.g. made by an admin by hand);
    **catalog drift** (central databases, tables and partitions missing, changed or extra
    against the published source: changed by hand; the next sweep puts them back);
    **pending** requests; requests **expiring** within `--expiring-days`; published
    **products** without `meshgov:owner_contact` or `meshgov:classification`; **data
    contracts**: each contracted product, its contract id and version, OK or BREACHED, and its
    last breach (when, what). A breach does not count as drift.

    `--markdown FILE` writes the same report as a Markdown document (title, time, summary,
    one table per section). Exit code **0**; **1** with `--fail-on-drift` when there is drift;
    **2** when the mesh cannot be read.
    """
    console = out()
    running = running_mesh(state_dir, NO_ANSWER)
    state = running.state
    central = state.central_account
    with reaching(state, NO_ANSWER):
        report = posture(
            CentralReaders.of(central, running.client),
            [ConsumerReaders.of(m.account_id, running.client) for m in state.members],
            request_store(running),
            datetime.now(UTC),
            expiring_days,
            producers=[
                ProducerSource.of(
                    m.account_id,
                    m.domain or "",
                    running.client(m.account_id, "glue"),
                    running.client(m.account_id, "lakeformation"),
                )
                for m in state.config().producers
            ],
            arns=Arns.for_region(state.region),
            usage=usage_store(running),
            contracts=ContractStore(running.client(central, "dynamodb"), state.ledger_table_name),
        )
    if markdown is not None:
        markdown.parent.mkdir(parents=True, exist_ok=True)
        markdown.write_text(report.as_markdown(), encoding="utf-8")
    if output is Output.JSON:
        print_json(report.as_dict())
    else:
        render(console, report, wide=wide)
        if markdown is not None:
            console.print(f"Markdown report written to [bold]{escape(str(markdown))}[/]")
    raise typer.Exit(DRIFTED if fail_on_drift and not report.clean else CLEAN)
