"""``meshgov dlq list`` and ``meshgov dlq replay``: the dead letters of a running local mesh.

Listing never consumes a message; each shows why it is there in words (a handler's refusal
carries the contract's validation text: :func:`readable_reason` drops pydantic's markup).
Replaying is a dry run unless ``--yes``: it shows each message, why it is there and where it
would go, and changes nothing (the dry run itself is audited). A refusal (kind ``refused``: the
handler can never process it as it is) is held, not replayed, unless ``--include-refused``: fix
its cause first. With ``--yes`` each message is sent back through the same handlers — its source
queue, the function that failed (run in-process against the mesh, as an asynchronous invoke
would run it on AWS), or the member's default bus — and deleted from the DLQ only once sent;
every message replayed is one ``dlq:replay`` audit record. The work is in
:mod:`meshgov.deadletters`; this module finds the queues, parses and renders.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from botocore.exceptions import ClientError
from rich.markup import escape

from meshgov.audit import Auditor, DynamoAuditTrail
from meshgov.aws.session import error_code
from meshgov.deadletters import (
    ALL_DLQS,
    CENTRAL_DLQS,
    FORWARD_DLQ,
    HELD,
    INVOCATION_DLQS,
    SOURCE_QUEUES,
    AsyncInvokeTarget,
    DeadLetter,
    DeadLetterOffice,
    DeadLetterQueue,
    DefaultBusTarget,
    LetterKind,
    RedriveTarget,
    ReplayReport,
    SourceQueueTarget,
)
from meshgov_cli.access_views import short_time
from meshgov_cli.console import fail, out, print_json, reaching, running_mesh
from meshgov_cli.options import Output, OutputOption, StateDirOption, WideOption
from meshgov_cli.tables import Col, FitTable
from meshgov_local.deploy import default_physical_name
from meshgov_local.observe import RunningMesh
from meshgov_local.standalone import DEFAULT_STATE_DIR

if TYPE_CHECKING:
    from meshgov_local.mesh import LocalMesh

NO_QUEUE = ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")
# The markup of a pydantic ValidationError's text (pydantic 2): "N validation error(s) for
# Model", then per error its location, the message, "[type=..., input_value=...,
# input_type=...]" and "For further information visit <url>".
_PYDANTIC_HEADER = re.compile(r"\d+ validation errors? for \w+\s*")
_PYDANTIC_TYPE = re.compile(r"\s*\[type=[\w.]+, input_value=.*?, input_type=\w+\]")
_PYDANTIC_URL = re.compile(r"\s*For further information visit https?://\S+\s*")
_PYDANTIC_LOCATION = re.compile(r"(\S+) {3,}")  # "loc\n  msg", flattened to one line
REFUSALS_HELD = (
    "Refusals are held: the handler refused them and would refuse them again. Fix the cause "
    "(register the producer, correct the event), then replay with [bold]--include-refused[/]."
)


class QueueName(StrEnum):
    CATALOG_EVENTS = "CatalogEventsDLQ"
    ACCESS_EVENTS = "AccessEventsDLQ"
    SWEEP = "SweepDLQ"
    MEMBER_EVENTS = "MemberEventsDLQ"
    MEMBER_SCHEDULE = "MemberScheduleDLQ"
    FORWARD = "ForwardDLQ"


dlq_app = typer.Typer(
    help="Dead letters: list what never got processed and why; replay it (dry run first).",
    no_args_is_help=True,
    rich_markup_mode="markdown",
    context_settings={"help_option_names": ["--help", "-h"]},
)

AccountOption = Annotated[
    str | None,
    typer.Option(
        "--account",
        metavar="ACCOUNT",
        help="Only this account's queues (member DLQs exist in every member account).",
    ),
]


# --------------------------------------------------------------------------------------------
# Finding the queues and the targets of a running mesh
# --------------------------------------------------------------------------------------------


def _queue_url(running: RunningMesh, account: str, logical_id: str) -> str | None:
    try:
        response = running.client(account, "sqs").get_queue_url(
            QueueName=default_physical_name(logical_id)
        )
    except ClientError as exc:
        if error_code(exc) in NO_QUEUE:
            return None
        raise
    return str(response["QueueUrl"])


def dead_letter_queues(
    running: RunningMesh, names: Sequence[str], account: str | None = None
) -> list[DeadLetterQueue]:
    """The DLQs ``names`` in the accounts that have them (central's or every member's)."""
    state = running.state
    queues = []
    for name in names:
        accounts = (
            [state.central_account]
            if name in CENTRAL_DLQS
            else [m.account_id for m in state.members]
        )
        for owner in accounts:
            if account not in (None, owner):
                continue
            url = _queue_url(running, owner, name)
            if url:
                queues.append(DeadLetterQueue(name, owner, url))
    return queues


class _AttachedRunner:
    """Runs a function of the running mesh in-process (for SweepDLQ records), attaching to the
    mesh only when a replay needs it: re-deploying template.yaml onto it converges, no change."""

    def __init__(self, running: RunningMesh) -> None:
        self._running = running
        self._mesh: LocalMesh | None = None

    def __call__(self, function: str, payload: Any, account_id: str | None = None) -> str:
        if self._mesh is None:
            from meshgov_local.mesh import LocalMesh

            state = self._running.state
            self._mesh = LocalMesh(state.config(), endpoint_url=state.endpoint_url)
        return self._mesh.run_function(function, payload, account_id)


def redrive_target(
    running: RunningMesh, queue: DeadLetterQueue, runner: _AttachedRunner
) -> RedriveTarget:
    if queue.name in INVOCATION_DLQS:
        return AsyncInvokeTarget(
            lambda function, payload: runner(function, payload, queue.account_id)
        )
    if queue.name == FORWARD_DLQ:
        return DefaultBusTarget(running.client(queue.account_id, "events"))
    source = SOURCE_QUEUES[queue.name]
    url = _queue_url(running, queue.account_id, source)
    if url is None:
        raise typer.BadParameter(f"{source} does not exist in account {queue.account_id}")
    return SourceQueueTarget(running.client(queue.account_id, "sqs"), url)


def _office(running: RunningMesh) -> DeadLetterOffice:
    return DeadLetterOffice(lambda account: running.client(account, "sqs"))


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------


def readable_reason(text: str) -> str:
    """Why a message is parked, in words: a pydantic validation text (as handlers write it
    into ``meshgov-error``, one line) becomes ``location: message; ...``, without the error
    count, the types, the input echo and the documentation URLs. Other text is unchanged."""
    if "validation error" not in text:
        return text
    flat = text.replace("\n", " ")
    flat = _PYDANTIC_URL.sub("; ", flat)
    flat = _PYDANTIC_TYPE.sub("", flat)
    flat = _PYDANTIC_HEADER.sub("", flat)
    flat = flat.replace("Value error, ", "").replace("Assertion failed, ", "")
    flat = _PYDANTIC_LOCATION.sub(r"\1: ", flat)
    return re.sub(r"\s+", " ", flat).strip(" ;")


def letters_table(letters: Sequence[DeadLetter], title: str, *, wide: bool = False) -> FitTable:
    """One row per dead letter; at 80 columns: queue, error, about, why (and what fits)."""
    table = FitTable(
        title,
        [
            Col("queue"),
            Col("account", 3, no_wrap=True),
            Col("message id", 1, no_wrap=True),
            Col("kind", 4),
            Col("error"),
            Col("about"),
            Col("sent (UTC)", 2),
            Col("why"),
        ],
        wide=wide,
        empty="no dead letters",
    )
    for letter in letters:
        table.add_row(
            letter.queue,
            letter.account_id,
            letter.message_id,
            letter.kind.value,
            escape(letter.error_code),
            escape(letter.summary),
            short_time(letter.sent_at),
            escape(readable_reason(letter.reason)),
        )
    return table


def replay_table(reports: Sequence[ReplayReport], title: str, *, wide: bool = False) -> FitTable:
    """One row per message; at 80 columns: queue, outcome, why (and what fits)."""
    table = FitTable(
        title,
        [
            Col("queue"),
            Col("account", 3, no_wrap=True),
            Col("message id", 2, no_wrap=True),
            Col("outcome", no_wrap=True),
            Col("target", 1),
            Col("reference", 4),
            Col("why"),
        ],
        wide=wide,
        empty="nothing to replay",
    )
    style = {
        "replayed": "green",
        "would replay": "cyan",
        HELD: "yellow",
        "failed": "red",
        "not found": "red",
    }
    rows = [r for report in reports for r in report.results]
    for result in rows:
        table.add_row(
            result.queue,
            result.account_id,
            result.message_id,
            f"[{style.get(result.outcome, 'white')}]{result.outcome}[/]",
            escape(result.target),
            escape(result.reference or "-"),
            escape(readable_reason(result.reason) or "-"),
        )
    return table


# --------------------------------------------------------------------------------------------
# meshgov dlq list
# --------------------------------------------------------------------------------------------


@dlq_app.command("list")
def list_command(
    queue: Annotated[
        QueueName | None,
        typer.Option("--queue", help="Only this DLQ (template.yaml logical id)."),
    ] = None,
    all_queues: Annotated[
        bool, typer.Option("--all", help="Every DLQ of every account (the default).")
    ] = False,
    account: AccountOption = None,
    state_dir: StateDirOption = DEFAULT_STATE_DIR,
    output: OutputOption = Output.TABLE,
    wide: WideOption = False,
) -> None:
    """List the messages parked in dead-letter queues, without consuming them.

    Each shows where it came from, what it is about, why it is there (the handler's refusal
    code, Lambda's error for a failed sweep, or "retries exhausted": the handler's FAILED
    audit records with the same correlation id say why) and when it was sent.
    """
    console = out()
    if queue is not None and all_queues:
        fail("say --queue NAME or --all, not both")
    running = running_mesh(state_dir, 1)
    names = [queue.value] if queue is not None else list(ALL_DLQS)
    with reaching(running.state):
        office = _office(running)
        letters = [
            letter
            for dlq in dead_letter_queues(running, names, account)
            for letter in office.list(dlq)
        ]
    if output is Output.JSON:
        print_json([letter.as_dict() for letter in letters])
        return
    where = queue.value if queue is not None else "every DLQ"
    console.print(letters_table(letters, f"{len(letters)} dead letter(s) in {where}", wide=wide))
    if any(letter.kind is LetterKind.REFUSED for letter in letters):
        console.print(
            "[dim]refused: a handler refused it; it is refused again until its cause is fixed "
            "(then `meshgov dlq replay --include-refused`).[/]"
        )


# --------------------------------------------------------------------------------------------
# meshgov dlq replay
# --------------------------------------------------------------------------------------------


@dlq_app.command("replay")
def replay_command(
    queue: Annotated[
        QueueName, typer.Option("--queue", help="The DLQ to replay (template.yaml logical id).")
    ],
    message_id: Annotated[
        list[str] | None,
        typer.Option(
            "--message-id",
            metavar="ID",
            help="Only this message; repeat for more (default: every message of the queue).",
            show_default=False,
        ),
    ] = None,
    yes: Annotated[
        bool,
        typer.Option("--yes", help="Really replay (without it: a dry run that changes nothing)."),
    ] = False,
    include_refused: Annotated[
        bool,
        typer.Option(
            "--include-refused",
            help="Replay refusals too (kind `refused`): only once their cause is fixed, else "
            "they are refused again.",
        ),
    ] = False,
    account: AccountOption = None,
    state_dir: StateDirOption = DEFAULT_STATE_DIR,
    output: OutputOption = Output.TABLE,
    wide: WideOption = False,
) -> None:
    """Send dead letters back through the same handlers; a dry run unless `--yes`.

    `CatalogEventsDLQ`, `AccessEventsDLQ`, `MemberEventsDLQ`: back to the source queue (the
    function processes them again). `SweepDLQ`: the failed function runs again with the
    recorded payload. `ForwardDLQ`: back on the member's default bus (a Glue event as a
    `Catalog Sync Requested` for its database). A message is deleted from the DLQ only once
    sent. Safe because handlers are idempotent (they reconcile to the current state; requests
    follow a state machine). Fix the cause first: a message that fails again returns to the DLQ.

    A refusal (kind `refused`: malformed, from an unknown producer) can only be refused again
    as it is, so it is held in the DLQ unless `--include-refused` (after fixing its cause).

    Every message (also in a dry run) is one `dlq:replay` audit record. Exit code 1 when a
    message could not be sent or a `--message-id` is not in the queue.
    """
    console = out()
    running = running_mesh(state_dir, 1)
    state = running.state
    runner = _AttachedRunner(running)
    with reaching(state):
        sts = running.client(state.central_account, "sts")
        operator = str(sts.get_caller_identity().get("Arn", "operator"))
        auditor = Auditor(
            DynamoAuditTrail(
                running.client(state.central_account, "dynamodb"), state.audit_table_name
            ),
            f"operator:{operator}",
        )
        office = _office(running)
        reports = [
            office.replay(
                dlq,
                redrive_target(running, dlq, runner),
                auditor,
                message_id or (),
                dry_run=not yes,
                include_refused=include_refused,
            )
            for dlq in dead_letter_queues(running, [queue.value], account)
        ]
    failed = any(report.failed for report in reports)
    if output is Output.JSON:
        print_json({"dry_run": not yes, "reports": [r.as_dict() for r in reports]})
        raise typer.Exit(1 if failed else 0)
    title = (
        f"Dry run of {queue.value}: nothing was changed" if not yes else f"Replayed {queue.value}"
    )
    console.print(replay_table(reports, title, wide=wide))
    if any(r.outcome == HELD for report in reports for r in report.results):
        console.print(REFUSALS_HELD)
    if not yes and any(r.outcome == "would replay" for report in reports for r in report.results):
        console.print("Run again with [bold]--yes[/] to replay (fix the cause first).")
    raise typer.Exit(1 if failed else 0)
