"""``meshgov usage``: who read which central table, how often, when and with which engine.

Reads the central usage table of a running local mesh as the central account (the way
``requests`` and ``posture`` reach it, :mod:`meshgov_cli.reach`): one query by table, by
principal or by account (``--domain``: one per central table of that producer domain, found in
the central catalog as ``find --domain`` finds them). :func:`meshgov.usage.report.summarize`
totals the days; this module parses the options and renders. Errors go to stderr (exit 1), so
``--output json`` prints nothing but JSON.

A "read" is one Lake Formation credential vending (``GetDataAccess``) to an integrated engine,
which CloudTrail records in the consumer account
(https://docs.aws.amazon.com/lake-formation/latest/dg/security-event-logging.html); an "engine"
is the event's ``requesterService``. Index reads are eventually consistent: the last seconds of
usage may be missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.markup import escape

from meshgov.discovery import tables_of_domain
from meshgov.usage.report import DayRange, UsageQuery, UsageQueryError, UsageSummary, summarize
from meshgov.usage.store import UsageDay, UsageStore
from meshgov_cli.access import central_table_hint
from meshgov_cli.access_views import short_principal, short_time
from meshgov_cli.console import err, fail, out, print_json, reaching, running_mesh
from meshgov_cli.options import Output, OutputOption, StateDirOption, WideOption
from meshgov_cli.reach import usage_store
from meshgov_cli.tables import Col, FitTable
from meshgov_local.observe import RunningMesh
from meshgov_local.standalone import DEFAULT_STATE_DIR


def read_days(
    store: UsageStore, query: UsageQuery, span: DayRange, domain_tables: Sequence[str] | None
) -> list[UsageDay]:
    """The items the query asks for: read by its most selective part (a table, a principal, an
    account, else each table of the domain), filtered by the others."""
    if query.table is not None:
        days = store.of_table(query.table, span.since, span.until)
    elif query.principal is not None:
        days = store.of_principal(query.principal, span.since, span.until)
    elif query.account is not None:
        days = store.of_account(query.account, span.since, span.until)
    else:
        days = [d for t in domain_tables or () for d in store.of_table(t, span.since, span.until)]
    return [d for d in days if query.keeps(d, domain_tables)]


def _domain_tables(running: RunningMesh, domain: str) -> list[str]:
    """The central tables of a producer domain of this mesh; an unknown domain is an error."""
    known = sorted({m.domain for m in running.state.members if m.domain})
    if domain not in known:
        fail(f"--domain {domain} is not a producer domain of this mesh: {', '.join(known)}")
    central = running.state.central_account
    return tables_of_domain(running.client(central, "glue"), central, domain)


def usage_table(summary: UsageSummary, title: str, *, wide: bool = False) -> FitTable:
    """One row per role and table; at 80 columns: principal, table, reads, last use."""
    table = FitTable(
        title,
        [
            Col("principal"),
            Col("account", 3, no_wrap=True),
            Col("table"),
            Col("reads", no_wrap=True, justify="right"),
            Col("days used", 4, justify="right"),
            Col("first use (UTC)", 2),
            Col("last use (UTC)"),
            Col("engines", 1),
        ],
        wide=wide,
        empty="no use recorded",
    )
    for row in summary.rows:
        table.add_row(
            escape(short_principal(row.principal)),
            row.consumer_account,
            escape(row.table),
            str(row.reads),
            str(row.days_used),
            short_time(row.first_use),
            short_time(row.last_use),
            escape(", ".join(row.engines) or "-"),
        )
    return table


def usage(
    table: Annotated[
        str | None,
        typer.Option("--table", metavar="DB.TABLE", help="A central table, e.g. sales_orders.t0."),
    ] = None,
    principal: Annotated[
        str | None,
        typer.Option("--principal", metavar="ROLE_ARN", help="A consumer's role (its ARN)."),
    ] = None,
    account: Annotated[
        str | None,
        typer.Option("--account", metavar="ACCOUNT", help="Every role of this consumer account."),
    ] = None,
    domain: Annotated[
        str | None,
        typer.Option("--domain", metavar="DOMAIN", help="Every central table of this domain."),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since", metavar="YYYY-MM-DD", help="First day (UTC); default 29 days before --until."
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", metavar="YYYY-MM-DD", help="Last day (UTC); default today."),
    ] = None,
    state_dir: StateDirOption = DEFAULT_STATE_DIR,
    output: OutputOption = Output.TABLE,
    wide: WideOption = False,
) -> None:
    """Show who read which central table: per role and table, the reads, the days with a read,
    the first and last use and the engines, over a range of days (default the last 30, today
    included).

    Say whose usage with `--table`, `--principal`, `--account` or `--domain`; given together,
    all must hold. Usage is what Lake Formation's `GetDataAccess` events of the consumer
    accounts recorded in the central usage table (one item per role, table and day).

    Examples: `meshgov usage --table sales_orders.t0`, `meshgov usage --account 333333333333
    --since 2026-12-01 -o json`. Exit code 1 on any error (printed to stderr).
    """
    try:
        query = UsageQuery(
            table=table.strip().lower() if table is not None else None,
            principal=principal,
            account=account,
            domain=domain.strip().lower() if domain is not None else None,
        )
        span = DayRange.of(since, until, datetime.now(UTC).date())
    except UsageQueryError as exc:
        fail(str(exc))
    running = running_mesh(state_dir)
    with reaching(running.state):
        domain_tables = _domain_tables(running, query.domain) if query.domain else None
        summary = summarize(read_days(usage_store(running), query, span, domain_tables), span)
        hint = ""
        if query.table is not None and not summary.rows:
            database, _, name = query.table.partition(".")
            hint = central_table_hint(running, database, name)
    if hint:  # no reads because there is no such table: say so, with the likely name
        err().print(f"note: {hint}", markup=False, highlight=False)
    if output is Output.JSON:
        print_json(summary.as_dict())
        return
    totals = summary.totals
    out().print(
        usage_table(
            summary,
            f"Usage from {summary.since} to {summary.until} (UTC): {totals['reads']} read(s) by "
            f"{totals['principals']} principal(s) of {totals['tables']} table(s)",
            wide=wide,
        )
    )
