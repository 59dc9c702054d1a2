"""``meshgov request-access``, ``decide``, ``requests`` and ``can-access``: the access flow of a
running local mesh from the command line.

Consumers and producers act as their own accounts, the way they would with the AWS CLI: the
request and the decision are events put on the account's *default* bus, which the member stack
forwards to central (README "Event contracts"). Everything the command can check before sending
is checked first, against the central catalog and the requests table, with the same rules
central applies (:mod:`meshgov.access.resolve`), so a mistake is a clear local error instead of a
refusal in the audit trail. ``requests`` and ``can-access`` read as the central account
(:mod:`meshgov.access.effective` decides). The work is in the library; this module parses,
validates and renders.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from meshgov.access.central_adapter import CentralAccessCatalog
from meshgov.access.effective import AccessQuestion, AccessQuestionInvalidError
from meshgov.access.effective_reads import can_access_through
from meshgov.access.filters import CellSpec, narrowed, requested_specs
from meshgov.access.resolve import (
    AccessRequestRefusedError,
    Resolution,
    resolve_named,
    resolve_tagged,
)
from meshgov.access.states import RequestState
from meshgov.access.store import RequestRecord, fingerprint, request_id_for
from meshgov.audit import AuditOutcome
from meshgov.contracts.access_events import (
    ACCESS_DECIDED,
    ACCESS_REQUESTED,
    ACCESS_SOURCE,
    ROLE_ARN,
    AccessDecidedDetail,
    AccessRequestedDetail,
    NamedResource,
    Permission,
    TableFilter,
)
from meshgov.errors import MeshgovError
from meshgov_cli.access_views import answer_panel, requests_table, state_cell
from meshgov_cli.console import err, fail, out, print_json, reaching, running_mesh
from meshgov_cli.hints import database_hint, table_hint, unknown_request
from meshgov_cli.options import Output, OutputOption, StateDirOption, WideOption
from meshgov_cli.principal_check import missing_principal
from meshgov_cli.reach import member_name, registered_producers, request_store
from meshgov_local.observe import AuditFollower, RunningMesh
from meshgov_local.standalone import DEFAULT_STATE_DIR

if TYPE_CHECKING:
    from rich.console import Console

POLL_EVERY = 0.25
# Where a request or a decision has had its effect: nothing more happens without someone acting.
DECIDED = frozenset(RequestState) - {
    RequestState.REQUESTED,
    RequestState.PENDING_APPROVAL,
    RequestState.APPROVED,
    RequestState.GRANTED,
}
# Where a request ended without access: for `request-access --wait`, a refusal (exit code 1).
UNSUCCESSFUL = frozenset({RequestState.DENIED, RequestState.FAILED})
# Option names for the fields of the Access Requested contract (for error messages).
OPTION_OF = {
    "clientToken": "--client-token",
    "consumerAccount": "--as-account",
    "principal": "--principal",
    "resource": "--database",
    "database": "--database",
    "tables": "--table",
    "columns": "--column",
    "tagExpression": "--tag",
    "permissions": "--permission",
    "justification": "--justification",
    "durationDays": "--days",
}
# Exit codes of can-access (scripts branch on them).
ALLOWED, NOT_ALLOWED, NO_ANSWER = 0, 1, 2


class AccessOptionError(ValueError):
    """Options that do not make a valid request, decision or question."""


class EventSendError(MeshgovError):
    """EventBridge did not take the event (``FailedEntryCount``)."""


AsAccount = Annotated[
    str,
    typer.Option(
        "--as-account",
        metavar="ACCOUNT",
        help="The account (12 digits) that acts.",
        show_default=False,
    ),
]
ReasonOption = Annotated[
    str,
    typer.Option(
        metavar="TEXT",
        help="Why (the consumer and the audit trail see it).",
        show_default=False,
    ),
]
WaitOption = Annotated[
    bool, typer.Option("--wait", help="Poll the requests table until central has acted.")
]
TimeoutOption = Annotated[
    float, typer.Option("--timeout", help="Seconds --wait waits at most.", min=0.5)
]


# --------------------------------------------------------------------------------------------
# Parsing and checking (pure)
# --------------------------------------------------------------------------------------------


def parse_tag_conditions(options: Sequence[str]) -> list[dict[str, Any]]:
    """``["team=finance,ops", "tier=gold"]`` -> tag expression conditions (all must hold; the
    values of one key are alternatives; repeating a key adds alternatives)."""
    conditions: dict[str, list[str]] = {}
    for option in options:
        key, sep, values = option.partition("=")
        wanted = [v.strip() for v in values.split(",") if v.strip()]
        if not sep or not key.strip() or not wanted:
            raise AccessOptionError(f"--tag must be key=value[,value...], got {option!r}")
        known = conditions.setdefault(key.strip(), [])
        known.extend(v for v in wanted if v not in known)
    return [{"key": key, "values": values} for key, values in conditions.items()]


def contract_error(exc: ValidationError) -> str:
    """The first problem of a contract, named by the option that causes it."""
    first = exc.errors()[0]
    location = [str(part) for part in first.get("loc", ())]
    options = [OPTION_OF[part] for part in location if part in OPTION_OF]
    message = str(first.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{options[-1]}: {message}" if options else message


def table_filter_of(
    table: str,
    columns: Sequence[str],
    excluded_columns: Sequence[str],
    row_filter: str | None,
) -> dict[str, Any]:
    """One table's filter (``TableFilter``) from the command's options."""
    cells: dict[str, Any] = {"table": table}
    if columns:
        cells["columns"] = list(columns)
    if excluded_columns:
        cells["excludedColumns"] = list(excluded_columns)
    if row_filter is not None:
        cells["rowFilter"] = row_filter
    return cells


ExcludeColumnOption = Annotated[
    list[str] | None,
    typer.Option(
        "--exclude-column",
        metavar="COLUMN",
        help="Every column of the one --table but this one; repeat (not with --column).",
        show_default=False,
    ),
]
RowFilterOption = Annotated[
    str | None,
    typer.Option(
        "--row-filter",
        metavar="EXPRESSION",
        help="Only the rows of the one --table where this holds (PartiQL, as in a Lake "
        "Formation data cells filter), e.g. \"country = 'DE'\".",
        show_default=False,
    ),
]


def request_detail(
    *,
    consumer: str,
    principal: str,
    database: str | None,
    tables: Sequence[str],
    columns: Sequence[str],
    tags: Sequence[str],
    permissions: Sequence[Permission],
    justification: str,
    days: int,
    client_token: str,
    excluded_columns: Sequence[str] = (),
    row_filter: str | None = None,
) -> AccessRequestedDetail:
    """The ``Access Requested`` detail the options describe, or why they describe none."""
    if not re.match(ROLE_ARN, principal):
        raise AccessOptionError(
            f"--principal must be an IAM role ARN (arn:<partition>:iam::{consumer}:role/<name>), "
            f"got {principal!r}"
        )
    if principal.split(":")[4] != consumer:
        raise AccessOptionError(
            f"--principal {principal} is not in account {consumer} (--as-account): a consumer "
            "can only ask for access for its own roles"
        )
    if database and tags:
        raise AccessOptionError("name the resource with --database or with --tag, not both")
    if not database and not tags:
        raise AccessOptionError("name the resource: --database (with --table/--column) or --tag")
    if (tables or columns) and not database:
        raise AccessOptionError("--table and --column name parts of a --database")
    raw: dict[str, Any] = {
        "clientToken": client_token,
        "consumerAccount": consumer,
        "principal": principal,
        "permissions": [p.value for p in permissions],
        "justification": justification,
        "durationDays": days,
    }
    if (excluded_columns or row_filter) and len(tables) != 1:
        raise AccessOptionError("--exclude-column and --row-filter filter exactly one --table")
    if database and (excluded_columns or row_filter):
        cells = table_filter_of(tables[0], columns, excluded_columns, row_filter)
        raw["resource"] = {"database": database, "tables": list(tables), "filters": [cells]}
    elif database:
        raw["resource"] = {"database": database, "tables": list(tables), "columns": list(columns)}
    else:
        raw["tagExpression"] = {"conditions": parse_tag_conditions(tags)}
    try:
        return AccessRequestedDetail.model_validate(raw)
    except ValidationError as exc:
        raise AccessOptionError(contract_error(exc)) from exc


def _put(running: RunningMesh, account: str, detail_type: str, detail: Mapping[str, Any]) -> str:
    """Put one meshgov.access event on ``account``'s default bus (as that account); its id."""
    response = running.client(account, "events").put_events(
        Entries=[
            {
                "Source": ACCESS_SOURCE,
                "DetailType": detail_type,
                "Detail": json.dumps(detail, sort_keys=True),
            }
        ]
    )
    entry = response["Entries"][0]
    if response.get("FailedEntryCount") or "EventId" not in entry:
        raise EventSendError(f"PutEvents {detail_type} failed: {entry.get('ErrorMessage', entry)}")
    return str(entry["EventId"])


def _poll[Seen](
    what: str,
    timeout: float,
    look: Callable[[], tuple[bool, Seen | None]],
) -> tuple[bool, Seen | None]:
    """Call ``look`` until it says done or ``timeout`` seconds passed; its last answer. The
    spinner saying ``what`` is progress: it goes to stderr."""
    deadline = time.monotonic() + timeout
    with err().status(what):
        while True:
            done, record = look()
            if done or time.monotonic() >= deadline:
                return done, record
            time.sleep(POLL_EVERY)


def _refusal(follower: AuditFollower, token: str, consumer: str) -> str | None:
    """Why central refused the request of ``token`` (its audit record), if it did."""
    for record in follower.poll():
        entry = record.entry
        if (
            entry.action == "access:request"
            and entry.outcome is AuditOutcome.REFUSED
            and entry.target == consumer
            and entry.detail.get("client_token") == token
        ):
            return f"{entry.detail.get('error_code', 'refused')}: {entry.reason}"
    return None


# --------------------------------------------------------------------------------------------
# meshgov request-access
# --------------------------------------------------------------------------------------------


def request_access(
    as_account: AsAccount,
    principal: Annotated[
        str,
        typer.Option(
            metavar="ROLE_ARN",
            help="The role that will read (in the --as-account account).",
            show_default=False,
        ),
    ],
    justification: Annotated[
        str,
        typer.Option(
            metavar="TEXT",
            help="Why (10 to 2000 characters; the producer reads it).",
            show_default=False,
        ),
    ],
    days: Annotated[
        int,
        typer.Option(
            metavar="N",
            help="For how many days (1 to 3650); then it expires.",
            min=1,
            max=3650,
            show_default=False,
        ),
    ],
    database: Annotated[
        str | None,
        typer.Option(metavar="DATABASE", help="A central database, e.g. sales_orders."),
    ] = None,
    table: Annotated[
        list[str] | None,
        typer.Option(
            "--table",
            metavar="TABLE",
            help="A table of --database; repeat for more. "
            "Without --table: every table, now and later.",
            show_default=False,
        ),
    ] = None,
    column: Annotated[
        list[str] | None,
        typer.Option(
            "--column",
            metavar="COLUMN",
            help="Only these columns of the one --table; repeat.",
            show_default=False,
        ),
    ] = None,
    tag: Annotated[
        list[str] | None,
        typer.Option(
            "--tag",
            metavar="KEY=V1,V2",
            help="Instead of --database: an LF-Tag condition; "
            "repeat for more keys (all must hold), commas for alternative values.",
            show_default=False,
        ),
    ] = None,
    permission: Annotated[
        list[Permission] | None,
        typer.Option("--permission", help="SELECT (default) and/or DESCRIBE; repeat for both."),
    ] = None,
    exclude_column: ExcludeColumnOption = None,
    row_filter: RowFilterOption = None,
    client_token: Annotated[
        str | None,
        typer.Option(
            metavar="TOKEN",
            help="Makes a retry the same request (default: a new token).",
            show_default=False,
        ),
    ] = None,
    wait: WaitOption = False,
    timeout: TimeoutOption = 30.0,
    state_dir: StateDirOption = DEFAULT_STATE_DIR,
    output: OutputOption = Output.TABLE,
) -> None:
    """Ask for access, as a consumer account: puts `Access Requested` on its default bus.

    Name the resource by `--database` (optionally `--table`, and `--column` of one table) or
    by `--tag` (an LF-Tag expression). Filter one `--table` with `--exclude-column` (or
    `--column`) and `--row-filter`: central grants it through a Lake Formation data cells
    filter. Everything is checked before sending: the principal
    must be a role of `--as-account` that exists (iam GetRole), the database published, the
    tables and columns known,
    the tag expression matching published tables of one producer. Prints the request id
    (the same consumer and `--client-token` always give the same id).

    With `--wait`, polls until central has recorded it and routed it (usually
    `PENDING_APPROVAL`: the owning producer decides with `meshgov decide`).

    Exit code 0 sent (with `--wait`: recorded and routed); 1 a check failed, or with `--wait`
    central refused or denied it (e.g. by the approval policy) or nothing happened within
    `--timeout`; 2 a usage error. Errors go to stderr.

    Example: `meshgov request-access --as-account 333333333333 --principal
    arn:aws:iam::333333333333:role/analyst --database sales_orders --table orders
    --justification "quarterly revenue dashboard" --days 30 --wait`
    """
    console = out()
    token = client_token or f"cli-{uuid.uuid4().hex}"
    try:
        detail = request_detail(
            consumer=as_account,
            principal=principal,
            database=database,
            tables=table or [],
            columns=column or [],
            tags=tag or [],
            permissions=permission or [Permission.SELECT],
            justification=justification,
            days=days,
            client_token=token,
            excluded_columns=exclude_column or [],
            row_filter=row_filter,
        )
    except AccessOptionError as exc:
        fail(str(exc))
    running = running_mesh(state_dir, 1)
    member_name(running.state, as_account, "--as-account")
    request_id = request_id_for(as_account, token)
    content = detail.model_dump(mode="json", by_alias=True)
    ours = fingerprint(content)
    with reaching(running.state):
        missing = missing_principal(running.client(as_account, "iam"), principal, as_account)
        if missing:
            fail(missing)
        resolution = _resolve(running, detail)
        store = request_store(running)
        existing = store.get(request_id)
        if existing is not None and existing.fingerprint != ours:
            fail(
                f"--client-token {token} already names request {request_id} with other content: "
                "use another token",
            )
        follower = running.audit_follower()
        follower.poll()  # what is already there is not about this request
        event_id = _put(
            running,
            as_account,
            ACCESS_REQUESTED,
            detail.model_dump(mode="json", by_alias=True, exclude_none=True),
        )
    summary = {
        "request_id": request_id,
        "client_token": token,
        "event_id": event_id,
        "consumer_account": as_account,
        "principal": principal,
        "owner_account": resolution.owner_account,
        "domain": resolution.domain,
        "tables": resolution.table_names,
        "permissions": [p.value for p in detail.permissions],
        "repeated": existing is not None,
        "state": existing.state.value if existing else None,
    }
    if output is Output.TABLE:
        _print_requested(console, summary)
    if not wait:
        if output is Output.JSON:
            print_json(summary)
        return
    refused: list[str] = []

    def look() -> tuple[bool, RequestRecord | None]:
        record = store.get(request_id)
        if record is not None and record.fingerprint == ours:
            return record.state is not RequestState.REQUESTED, record
        why = _refusal(follower, token, as_account)
        if why:
            refused.append(why)
            return True, None
        return False, None

    with reaching(running.state):
        done, record = _poll(f"Waiting for central to act on {request_id}...", timeout, look)
    summary["state"] = record.state.value if record else None
    error = None
    if refused:
        error = f"central refused the request: {refused[0]}"
    elif record is not None and record.state in UNSUCCESSFUL:
        error = f"{request_id} is {record.state.value}: {record.reason}"
    elif not done or record is None:
        error = (
            f"{request_id} is {record.state.value if record else 'not recorded'} after "
            f"{timeout:g} s: is the mesh delivering events? (`meshgov watch` shows the audit "
            "trail)"
        )
    if output is Output.JSON:
        print_json({**summary, "error": error})
        raise typer.Exit(1 if error else 0)
    if error or record is None:
        fail(error or "no record")
    console.print(f"{request_id} is now {state_cell(record.state)}: {escape(record.reason)}")
    if record.state is RequestState.PENDING_APPROVAL:
        console.print(
            f"The producer {resolution.owner_account} decides: [bold]meshgov decide "
            f"{request_id} --as-account {resolution.owner_account} --approve --reason ...[/]"
        )


def _resolve(running: RunningMesh, detail: AccessRequestedDetail) -> Resolution:
    """What central will resolve the request to (owner, tables), or its refusal, now."""
    central = running.state.central_account
    catalog = CentralAccessCatalog(
        running.client(central, "glue"), running.client(central, "lakeformation"), central
    )
    producers = registered_producers(running)
    found: Mapping[str, Any] | None = None
    tables: list[dict[str, Any]] = []
    try:
        if detail.tag_expression is not None:
            return resolve_tagged(catalog.tagged_tables(detail.tag_expression), producers)
        assert detail.resource is not None  # the contract guarantees one of the two
        found = catalog.database(detail.resource.database)
        tables = catalog.tables(detail.resource.database) if found else []
        resolution = resolve_named(detail.resource, found, tables, producers)
        by_name = {str(t["Name"]).lower(): t for t in tables if not t.get("TargetTable")}
        requested_specs(detail.resource.database, detail.resource.filters, by_name)
        return resolution
    except AccessRequestRefusedError as exc:
        hint = ""
        if exc.code == "ResourceNotPublished" and detail.resource is not None:
            hint = _name_hint(catalog, producers, detail.resource, found, tables)
        fail(f"central would refuse this request ({exc.code}): {exc}{hint}")


def _name_hint(
    catalog: CentralAccessCatalog,
    producers: Mapping[str, str],
    resource: NamedResource,
    found: Mapping[str, Any] | None,
    tables: Sequence[Mapping[str, Any]],
) -> str:
    """A did-you-mean for the database (a producer's name: its central name) or the tables
    a request names that central does not publish (:mod:`meshgov_cli.hints`)."""
    if found is None:
        central = [str(d["Name"]) for d in catalog.databases()]
        return database_hint(resource.database, central, producers)
    names = [str(t["Name"]).lower() for t in tables if not t.get("TargetTable")]
    missing = [t for t in resource.tables if t.lower() not in names]
    if len(missing) == 1:
        return table_hint(missing[0], names)
    hints = [f"{t}{table_hint(t, names)}" for t in missing if table_hint(t, names)]
    return f"; {'; '.join(hints)}" if hints else ""


def central_table_hint(running: RunningMesh, database: str, table: str) -> str:
    """``""`` when central has ``database.table``; else what it lacks and the did-you-mean
    (a producer's database name answered with its central name), for commands that take a
    central table and would otherwise just say no."""
    central = running.state.central_account
    catalog = CentralAccessCatalog(
        running.client(central, "glue"), running.client(central, "lakeformation"), central
    )
    producers = registered_producers(running)
    if catalog.database(database) is None:
        known = [str(d["Name"]) for d in catalog.databases()]
        return f"central has no database {database}" + database_hint(database, known, producers)
    names = [str(t["Name"]).lower() for t in catalog.tables(database) if not t.get("TargetTable")]
    if table.lower() in names:
        return ""
    return f"central has no table {database}.{table}" + table_hint(table, names)


def _check_narrowing(
    running: RunningMesh, record: RequestRecord, decided: Sequence[TableFilter]
) -> None:
    """Refuse here what central would refuse as a widening (the same rule,
    :func:`meshgov.access.filters.narrowed`)."""
    central = running.state.central_account
    covers = [c for c in record.coverage if c.tables and not c.whole]
    if record.tag_expression is not None or len(covers) != 1 or covers[0].columns:
        fail("only a request for named tables can be narrowed: deny it instead")
    (cover,) = covers
    catalog = CentralAccessCatalog(
        running.client(central, "glue"), running.client(central, "lakeformation"), central
    )
    wanted = {n.lower() for n in cover.tables}
    tables = {
        str(t["Name"]).lower(): t
        for t in catalog.tables(cover.database)
        if str(t["Name"]).lower() in wanted
    }
    try:
        narrowed([CellSpec.from_dict(f) for f in record.filters], decided, tables, cover.database)
    except AccessRequestRefusedError as exc:
        fail(f"central would refuse this decision ({exc.code}): {exc}")


def _print_requested(console: Console, summary: Mapping[str, Any]) -> None:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    grid.add_row("request", str(summary["request_id"]))
    grid.add_row("client token", str(summary["client_token"]))
    grid.add_row("consumer", str(summary["consumer_account"]))
    grid.add_row("principal", escape(str(summary["principal"])))
    grid.add_row("tables", escape(", ".join(summary["tables"])))
    grid.add_row("permissions", ", ".join(summary["permissions"]))
    grid.add_row("decided by", f"producer {summary['owner_account']} (domain {summary['domain']})")
    verb = "Requested again (same token, same content)" if summary["repeated"] else "Requested"
    console.print(
        Panel(
            grid,
            title=f"{verb}: {summary['request_id']}",
            title_align="left",
            border_style="cyan",
            expand=False,
        )
    )


# --------------------------------------------------------------------------------------------
# meshgov decide
# --------------------------------------------------------------------------------------------


def decide(
    request_id: Annotated[
        str, typer.Argument(metavar="REQUEST_ID", help="The request to decide (req-...).")
    ],
    as_account: AsAccount,
    reason: ReasonOption,
    approve: Annotated[
        bool | None,
        typer.Option(
            "--approve/--deny",
            help="The decision (one of the two is required).",
            show_default=False,
        ),
    ] = None,
    table: Annotated[
        str | None,
        typer.Option(
            metavar="TABLE",
            help="The table --columns/--exclude-column/--row-filter narrow (default: the "
            "request's one table).",
            show_default=False,
        ),
    ] = None,
    columns: Annotated[
        str | None,
        typer.Option(
            metavar="A,B",
            help="Approve only these columns (comma-separated) of the table.",
            show_default=False,
        ),
    ] = None,
    exclude_column: ExcludeColumnOption = None,
    row_filter: RowFilterOption = None,
    wait: WaitOption = False,
    timeout: TimeoutOption = 30.0,
    state_dir: StateDirOption = DEFAULT_STATE_DIR,
    output: OutputOption = Output.TABLE,
) -> None:
    """Decide a request, as the owning producer: puts `Access Decided` on its default bus.

    Checked before sending: the request exists, `--as-account` owns the data it asks for, and
    it waits for a decision (`PENDING_APPROVAL`). With `--wait`, polls until the decision took
    effect (`ACTIVE` once the consumer's links and grants are in place, or `DENIED`).

    Exit code 0 sent (with `--wait`: in effect); 1 a check failed, or with `--wait` the
    decision did not take effect within `--timeout` or its grant `FAILED`; 2 a usage error.
    Errors go to stderr.

    An approval may narrow what was asked, on one table: `--columns` (fewer columns),
    `--exclude-column`, `--row-filter` (the requested filter AND more conditions). Anything
    wider is refused by central (`DecisionWidens`) and checked here first.

    Example: `meshgov decide req-0123 --as-account 222222222222 --approve --reason "ok for the
    dashboard" --wait`
    """
    console = out()
    if approve is None:
        fail("say --approve or --deny")
    decision = "APPROVE" if approve else "DENY"
    narrowing = bool(columns or exclude_column or row_filter)
    raw: dict[str, Any] = {"requestId": request_id, "decision": decision, "reason": reason}
    running = running_mesh(state_dir, 1)
    member_name(running.state, as_account, "--as-account")
    with reaching(running.state):
        store = request_store(running)
        record = store.get(request_id)
        if record is None:
            fail(unknown_request(request_id, store.all()))
        if narrowing:
            names = [t for c in record.coverage for t in c.tables]
            target = table or (names[0] if len(names) == 1 else None)
            if target is None:
                fail(f"name the table to narrow with --table (one of {names})")
            wanted = [c.strip() for c in (columns or "").split(",") if c.strip()]
            raw["filters"] = [table_filter_of(target, wanted, exclude_column or [], row_filter)]
        try:
            detail = AccessDecidedDetail.model_validate(raw)
        except ValidationError as exc:
            fail(contract_error(exc).replace("requestId", "REQUEST_ID"))
        if detail.filters:
            _check_narrowing(running, record, detail.filters)
        if record.owner_account != as_account:
            fail(
                f"account {as_account} does not own the data of {request_id}: its owner is "
                f"producer {record.owner_account} (domain {record.domain})",
            )
        if record.state is not RequestState.PENDING_APPROVAL:
            fail(f"{request_id} is {record.state.value}, not waiting for a decision")
        event_id = _put(
            running,
            as_account,
            ACCESS_DECIDED,
            detail.model_dump(mode="json", by_alias=True, exclude_defaults=True),
        )
    result: dict[str, Any] = {
        "request_id": request_id,
        "decision": decision,
        "event_id": event_id,
        "state": record.state.value,
    }
    if output is Output.TABLE:
        verb = "approved" if approve else "denied"
        console.print(f"{verb} {request_id} ({escape(reason)}); event {event_id}")
    if wait:

        def look() -> tuple[bool, RequestRecord | None]:
            current = store.get(request_id)
            return current is not None and current.state in DECIDED, current

        with reaching(running.state):
            done, current = _poll(f"Waiting for {request_id} to take effect...", timeout, look)
        result["state"] = current.state.value if current else None
        error = None
        if not done or current is None:
            error = f"{request_id} is still {result['state'] or 'gone'} after {timeout:g} s"
        elif current.state is RequestState.FAILED:
            error = f"{request_id} is FAILED: {current.reason}"
        if output is Output.JSON:
            print_json({**result, "error": error})
            raise typer.Exit(1 if error else 0)
        if error or current is None:
            fail(error or "gone")
        console.print(f"{request_id} is now {state_cell(current.state)}: {escape(current.reason)}")
        return
    if output is Output.JSON:
        print_json(result)


# --------------------------------------------------------------------------------------------
# meshgov requests
# --------------------------------------------------------------------------------------------


def requests(
    state: Annotated[
        list[RequestState] | None,
        typer.Option(
            "--state", help="Only requests in this state; repeat for more.", show_default=False
        ),
    ] = None,
    consumer: Annotated[
        str | None,
        typer.Option(metavar="ACCOUNT", help="Only the requests of this consumer account."),
    ] = None,
    state_dir: StateDirOption = DEFAULT_STATE_DIR,
    output: OutputOption = Output.TABLE,
    wide: WideOption = False,
) -> None:
    """List the access requests of the central requests table, oldest first.

    Each shows its consumer and principal, what it covers (tables, or the LF-Tag expression and
    the tables it matched), the permissions, its state, when it expires and who decided.
    `-o json` prints every recorded field (history and grants included).
    """
    console = out()
    if consumer is not None and not (len(consumer) == 12 and consumer.isdigit()):
        fail(f"--consumer must be a 12-digit account id, got {consumer!r}")
    running = running_mesh(state_dir, 1)
    with reaching(running.state):
        store = request_store(running)
        records = store.of_consumer(consumer) if consumer else store.all()
    wanted = set(state or RequestState)
    shown = sorted(
        (r for r in records if r.state in wanted), key=lambda r: (r.created_at, r.request_id)
    )
    if output is Output.JSON:
        print_json([r.as_dict() for r in shown])
        return
    title = f"{len(shown)} access request(s) in account {running.state.central_account}"
    if state:
        title += f", state {' or '.join(s.value for s in state)}"
    if consumer:
        title += f", consumer {consumer}"
    console.print(requests_table(shown, title, wide=wide))


# --------------------------------------------------------------------------------------------
# meshgov can-access
# --------------------------------------------------------------------------------------------


def can_access_command(
    principal: Annotated[
        str, typer.Argument(metavar="ROLE_ARN", help="A role of a consumer account.")
    ],
    table: Annotated[
        str, typer.Argument(metavar="DATABASE.TABLE", help="A central table, e.g. sales_orders.t0.")
    ],
    action: Annotated[
        Permission, typer.Option("--action", help="What the role wants to do.")
    ] = Permission.SELECT,
    state_dir: StateDirOption = DEFAULT_STATE_DIR,
    output: OutputOption = Output.TABLE,
) -> None:
    """Say whether a role can SELECT (or DESCRIBE) a central table, why, and until when.

    Follows the whole chain in Lake Formation: central's grant to the role's account, the RAM
    share accepted, the account's grant to the role, and a resource link (with DESCRIBE on it).
    Names the access requests that explain the grants, when the access ends, and what is
    missing otherwise.

    Exit code: **0** allowed, **1** not allowed, **2** no answer (bad input, the mesh not
    running). So scripts can write `meshgov can-access ROLE db.t && run-the-query`.
    """
    console = out()
    database, dot, name = table.partition(".")
    try:
        if not dot:
            raise AccessOptionError(f"name the table as DATABASE.TABLE, got {table!r}")
        question = AccessQuestion(principal, action.value, database, name)
    except (AccessOptionError, AccessQuestionInvalidError) as exc:
        fail(str(exc), NO_ANSWER)
    running = running_mesh(state_dir, NO_ANSWER)
    consumer = question.consumer_account
    member_name(running.state, consumer, "the role's account", NO_ANSWER)
    central = running.state.central_account
    with reaching(running.state, NO_ANSWER):
        answer = can_access_through(
            running.client,
            central,
            request_store(running),
            question.principal,
            question.action,
            question.database,
            question.table,
        )
    hint = ""
    if not answer.allowed:
        with reaching(running.state, NO_ANSWER):
            hint = central_table_hint(running, question.database, question.table)
    if output is Output.JSON:
        print_json({**answer.as_dict(), **({"hint": hint} if hint else {})})
    else:
        console.print(answer_panel(answer))
    if hint:
        err().print(f"note: {hint}", markup=False, highlight=False)
    raise typer.Exit(ALLOWED if answer.allowed else NOT_ALLOWED)
