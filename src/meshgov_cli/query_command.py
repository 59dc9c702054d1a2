"""``meshgov query``: run SQL as a principal of a consumer account of a running local mesh, the
way an engine integrated with Lake Formation does (:mod:`meshgov_cli.query.engine`).

The principal's own credentials (the role assumed by its account's administrator, as
``AccountSessions.role_session`` does for the tests and the demo) make the Glue and Lake
Formation clients; the S3 client is made from the credentials Lake Formation vends, and from
nothing else. On AWS the same grants are enforced by Athena, Redshift Spectrum and EMR.
"""

from __future__ import annotations

import csv
import re
import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError
from rich.console import Console
from rich.markup import escape

from meshgov_cli.console import fail, out, print_json, running_mesh
from meshgov_cli.options import StateDirOption
from meshgov_cli.reach import member_name
from meshgov_cli.tables import FitTable
from meshgov_local.observe import RunningMesh
from meshgov_local.query_access import query_as
from meshgov_local.standalone import DEFAULT_STATE_DIR

if TYPE_CHECKING:
    from meshgov_cli.query.engine import QueryResult

ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/(?:[\w+=,.@-]+/)*([\w+=,.@-]{1,64})$")


class QueryOutput(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


def principal(as_: str, account: str | None, consumers: list[str]) -> tuple[str, str]:
    """``(account, role name)`` from ``--as`` (a role ARN or a role name) and ``--account``."""
    match = ROLE_ARN.match(as_)
    if match:
        if account and account != match.group(1):
            raise ValueError(f"--as {as_} is not in --account {account}")
        return match.group(1), match.group(2)
    if as_.startswith("arn:") or "/" in as_ or not as_:
        raise ValueError(f"--as must be a role name or an IAM role ARN, got {as_!r}")
    if account:
        return account, as_
    if len(consumers) != 1:
        raise ValueError(f"say which account --as {as_} is in: --account (one of {consumers})")
    return consumers[0], as_


def _execute(running: RunningMesh, account: str, role: str, sql: str) -> QueryResult:
    return query_as(
        running.client,
        running.sessions.arns,
        running.state.endpoint_url,
        running.state.region,
        account,
        role,
        sql,
    )


def _cell(value: Any) -> str:
    return "NULL" if value is None else str(value)


def render(result: QueryResult, output: QueryOutput, console: Console) -> None:
    if output is QueryOutput.JSON:
        print_json(
            {
                "columns": result.columns,
                "rows": [list(row) for row in result.rows()],
                "tables": [t.as_dict() for t in result.tables],
                "seconds": result.seconds,
            }
        )
        return
    if output is QueryOutput.CSV:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(result.columns)
        writer.writerows([_cell(v) for v in row] for row in result.rows())
        return
    rows = result.rows()
    # The result's columns are the answer: none is ever left out, long cells fold.
    table = FitTable(
        f"{len(rows)} row(s) in {result.seconds:.2f} s", [escape(c) for c in result.columns]
    )
    for row in rows:
        table.add_row(*(escape(_cell(v)) for v in row))
    console.print(table)
    for access in result.tables:
        filters = sorted({f for f in access.cell_filters.values() if f.upper() != "TRUE"})
        rows_filter = " OR ".join(filters) if filters else "every row"
        console.print(
            f"[dim]{escape(str(access.ref))}: columns {escape(', '.join(access.authorized))}; "
            f"rows {escape(rows_filter)}; {access.objects} object(s), {access.rows_read} rows "
            f"read, {access.rows_visible} visible[/]",
            highlight=False,
            soft_wrap=True,
        )


def query(
    sql: Annotated[str, typer.Argument(metavar="SQL", help="One SELECT over database.table.")],
    as_: Annotated[
        str,
        typer.Option(
            "--as",
            metavar="ROLE",
            help="The principal that queries: a role name or role ARN in a consumer account.",
            show_default=False,
        ),
    ],
    account: Annotated[
        str | None,
        typer.Option(
            metavar="ACCOUNT",
            help="The role's account (default: the ARN's, or the mesh's only consumer).",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        QueryOutput, typer.Option("--output", "-o", help="A table, JSON or CSV.")
    ] = QueryOutput.TABLE,
    state_dir: StateDirOption = DEFAULT_STATE_DIR,
) -> None:
    """Run SQL as a consumer's role, with exactly what Lake Formation grants it.

    Tables are named `database.table`, the database being a resource link of the role's
    account (e.g. `sales_sales.orders`). As Athena does, the query asks Lake Formation for the
    table's authorized columns and row filters and for temporary credentials, reads the
    Parquet objects with those credentials only, and runs the SQL in DuckDB on what the role
    may see. A column it may not read fails with `COLUMN_NOT_FOUND`; a table it may not read
    with `Insufficient Lake Formation permission(s)`. Exit code 0 answered, 1 on any error
    (printed to stderr), 2 a usage error.

    Example: `meshgov query "SELECT country, count(*) FROM sales_sales.orders GROUP BY 1"
    --as analyst`
    """
    console = out()
    running = running_mesh(state_dir)
    consumers = [m.account_id for m in running.state.members if m.kind == "consumer"]
    try:
        account_id, role = principal(as_, account, consumers)
    except ValueError as exc:
        fail(str(exc))
    member_name(running.state, account_id, "--account")
    from meshgov_cli.query.engine import QueryError

    try:
        result = _execute(running, account_id, role, sql)
    except QueryError as exc:
        fail(str(exc))
    except EndpointConnectionError:
        fail(
            f"no local mesh answers at {running.state.endpoint_url}: is `meshgov mesh up` running?"
        )
    except (ClientError, BotoCoreError) as exc:
        fail(f"cannot act as {role} in account {account_id}: {exc}")
    render(result, output, console)
