"""``meshgov accounts add|remove|list``: the platform team's registry of member accounts.

``add`` and ``remove`` put ``Member Add Requested`` / ``Member Remove Requested`` on the central
bus as the central account (:func:`meshgov.registry.requests.put_registry_change`); the central
access function checks, records and audits them (:mod:`meshgov.registry.members`) and the
command waits for that audit record (its correlation id is the event's id), so what it prints is
central's answer, refusals included. ``list`` reads the registry table. Nothing is redeployed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.markup import escape

from meshgov.audit import AuditOutcome, AuditRecord
from meshgov.audit.dynamodb import read_day
from meshgov.contracts.registry_events import (
    DEFAULT_GRACE_DAYS,
    MAX_GRACE_DAYS,
    MEMBER_ADD_REQUESTED,
    MEMBER_REMOVE_REQUESTED,
    MemberAddDetail,
    MemberKind,
    MemberRemoveDetail,
)
from meshgov.registry.requests import put_registry_change
from meshgov.registry.store import Member
from meshgov_cli.access import TimeoutOption, _poll, contract_error
from meshgov_cli.console import (
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_USAGE,
    fail,
    out,
    print_json,
    reaching,
    running_mesh,
)
from meshgov_cli.options import Output, OutputOption, StateDirOption, WideOption
from meshgov_cli.reach import registry_store
from meshgov_cli.tables import Col, FitTable
from meshgov_local.observe import RunningMesh
from meshgov_local.standalone import DEFAULT_STATE_DIR

accounts_app = typer.Typer(
    help="The registry of member accounts: producers (with their domain) and consumers.",
    no_args_is_help=True,
)

AccountArgument = Annotated[
    str, typer.Argument(metavar="ACCOUNT", help="The member's 12-digit AWS account id.")
]


@accounts_app.command("list")
def list_accounts(
    state_dir: StateDirOption = DEFAULT_STATE_DIR,
    output: OutputOption = Output.TABLE,
    wide: WideOption = False,
) -> None:
    """List the registered member accounts: kind, domain, state (ACTIVE, or REMOVING until
    the date its products are unpublished) and when each was registered.

    Example: `meshgov accounts list`
    """
    mesh = running_mesh(state_dir)
    with reaching(mesh.state):
        members = registry_store(mesh).members()
    if output is Output.JSON:
        print_json([m.as_dict() for m in members])
        return
    out().print(members_table(members, wide=wide))


def members_table(members: list[Member], *, wide: bool = False) -> FitTable:
    table = FitTable(
        "Member accounts",
        [
            Col("account", no_wrap=True),
            Col("kind", no_wrap=True),
            Col("domain", no_wrap=True),
            Col("state", no_wrap=True),
            Col("leaves after (UTC)", 1, no_wrap=True),
            Col("registered (UTC)", 2, no_wrap=True),
        ],
        wide=wide,
        empty="no member accounts: meshgov accounts add ACCOUNT --producer --domain NAME",
    )
    for member in members:
        table.add_row(
            member.account,
            member.kind.value,
            member.domain or "-",
            member.state.value,
            (member.remove_after or "-")[:19],
            member.registered_at[:19],
        )
    return table


@accounts_app.command("add")
def add(
    account: AccountArgument,
    producer: Annotated[
        bool, typer.Option("--producer", help="A producer: publishes its data products.")
    ] = False,
    consumer: Annotated[
        bool, typer.Option("--consumer", help="A consumer: asks for access to products.")
    ] = False,
    domain: Annotated[
        str | None,
        typer.Option(
            metavar="NAME",
            help="The producer's data domain, the prefix of its central databases "
            "(<domain>_<database>): lower-case letters and digits, a letter first, at most 32.",
            show_default=False,
        ),
    ] = None,
    timeout: TimeoutOption = 30.0,
    state_dir: StateDirOption = DEFAULT_STATE_DIR,
    output: OutputOption = Output.TABLE,
) -> None:
    """Register a member account with central (no redeploy): a producer with its domain, or
    a consumer. Central refuses an account registered already or a domain already taken;
    the command prints central's answer (exit code 1 when refused).

    Example: `meshgov accounts add 444444444444 --producer --domain hr`
    """
    if producer == consumer:
        fail("say what the account is: --producer (with --domain) or --consumer", EXIT_USAGE)
    raw: dict[str, Any] = {
        "account": account,
        "kind": (MemberKind.PRODUCER if producer else MemberKind.CONSUMER).value,
    }
    if domain is not None:
        raw["domain"] = domain
    try:
        detail = MemberAddDetail.model_validate(raw)
    except ValidationError as exc:
        fail(contract_error(exc), EXIT_USAGE)
    _request(
        state_dir,
        MEMBER_ADD_REQUESTED,
        detail.model_dump(mode="json", by_alias=True, exclude_none=True),
        timeout,
        output,
    )


@accounts_app.command("remove")
def remove(
    account: AccountArgument,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Remove it even though grants are live: a consumer's are revoked at once, "
            "the grants on a producer's products when they are unpublished.",
        ),
    ] = False,
    grace_days: Annotated[
        int,
        typer.Option(
            "--grace-days",
            min=0,
            max=MAX_GRACE_DAYS,
            help="A producer's products stay published this many days, then are unpublished "
            "(and the grants on them revoked) by the catalog sweep.",
        ),
    ] = DEFAULT_GRACE_DAYS,
    timeout: TimeoutOption = 30.0,
    state_dir: StateDirOption = DEFAULT_STATE_DIR,
    output: OutputOption = Output.TABLE,
) -> None:
    """Remove a member account. Refused while it holds live grants (as a consumer, or on its
    products as a producer) unless --force. A consumer is removed at once; a producer is
    REMOVING until its grace period ends, then its products are unpublished and it is
    forgotten.

    Example: `meshgov accounts remove 444444444444 --force --grace-days 0`
    """
    try:
        detail = MemberRemoveDetail.model_validate(
            {"account": account, "force": force, "graceDays": grace_days}
        )
    except ValidationError as exc:
        fail(contract_error(exc), EXIT_USAGE)
    _request(
        state_dir,
        MEMBER_REMOVE_REQUESTED,
        detail.model_dump(mode="json", by_alias=True),
        timeout,
        output,
    )


def _request(
    state_dir: Any, detail_type: str, detail: dict[str, Any], timeout: float, output: Output
) -> None:
    """Put the change on the central bus, then wait for central's audit record of it."""
    mesh = running_mesh(state_dir)
    state = mesh.state
    with reaching(state):
        event_id = put_registry_change(
            mesh.client(state.central_account, "events"), state.bus_name, detail_type, detail
        )
    started = datetime.now(UTC)

    def look() -> tuple[bool, AuditRecord | None]:
        answer = _answer(mesh, event_id, started)
        return answer is not None, answer

    with reaching(state):
        _, answer = _poll(f"Waiting for central to answer {detail_type}...", timeout, look)
    result: dict[str, Any] = {
        "event_id": event_id,
        "request": detail_type,
        "account": detail["account"],
        "outcome": answer.entry.outcome.value if answer else None,
        "reason": answer.entry.reason if answer else f"no answer within {timeout:g} s",
        "error_code": answer.entry.detail.get("error_code") if answer else None,
    }
    refused = answer is None or answer.entry.outcome is not AuditOutcome.SUCCEEDED
    if output is Output.JSON:
        print_json(result)
        raise typer.Exit(EXIT_REFUSED if refused else EXIT_OK)
    if refused:
        code = f" ({result['error_code']})" if result["error_code"] else ""
        fail(f"central refused{code}: {result['reason']}")
    out().print(f"account {escape(str(detail['account']))}: {escape(result['reason'])}")


def _answer(mesh: RunningMesh, event_id: str, started: datetime) -> AuditRecord | None:
    """Central's record of the registry event ``event_id`` (today's or, just after midnight,
    yesterday's part of the trail)."""
    state = mesh.state
    dynamodb = mesh.client(state.central_account, "dynamodb")
    days = {started.date(), datetime.now(UTC).date(), (started - timedelta(minutes=1)).date()}
    for day in sorted(days):
        for record in read_day(dynamodb, state.audit_table_name, day.isoformat()):
            entry = record.entry
            if entry.correlation_id == event_id and entry.action.startswith("registry:"):
                return record
    return None
