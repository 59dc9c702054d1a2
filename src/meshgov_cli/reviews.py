"""``meshgov reviews`` and ``meshgov review``: access reviews (issue 14) from the command line.

``reviews`` lists, from the central requests table, the reviews waiting for a producer (due),
those past their deadline (overdue: the next access sweep applies the policy) and those decided
(kept or revoked, by the producer or by the policy). ``review`` answers one as the owning
producer: it puts ``Access Reviewed`` on the producer's default bus, which the member stack
forwards to central, as ``meshgov decide`` does — after checking, as central will, that the
account owns the data and that the request is under review. The rules are the library's
(:mod:`meshgov.access.reviews`); this module parses, checks and renders.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.markup import escape

from meshgov.access.reviews import ReviewStatus, covered_tables, review_status
from meshgov.access.states import RequestState
from meshgov.access.store import RequestRecord
from meshgov.contracts.access_events import ACCESS_REVIEWED, AccessReviewedDetail
from meshgov_cli.access import AsAccount, ReasonOption, _put, contract_error
from meshgov_cli.access_views import short_principal, short_time
from meshgov_cli.console import fail, out, print_json, reaching, running_mesh
from meshgov_cli.hints import unknown_request
from meshgov_cli.options import Output, OutputOption, StateDirOption, WideOption
from meshgov_cli.reach import member_name, request_store
from meshgov_cli.tables import Col, FitTable
from meshgov_local.standalone import DEFAULT_STATE_DIR

STATUS_STYLE = {
    ReviewStatus.DUE: "yellow",
    ReviewStatus.OVERDUE: "bold red",
    ReviewStatus.DECIDED: "green",
}


def review_row(record: RequestRecord, status: ReviewStatus) -> dict[str, Any]:
    """One review as ``-o json`` prints it."""
    return {
        "request_id": record.request_id,
        "status": status.value,
        "state": record.state.value,
        "owner_account": record.owner_account,
        "consumer_account": record.consumer_account,
        "principal": record.principal,
        "tables": covered_tables(record),
        "review_requested_at": record.review_requested_at,
        "deadline": record.review_deadline,
        "last_review": dict(record.last_review) if record.last_review else None,
    }


def reviews(
    status: Annotated[
        list[ReviewStatus] | None,
        typer.Option(
            "--status", help="Only reviews in this status; repeat for more.", show_default=False
        ),
    ] = None,
    owner: Annotated[
        str | None,
        typer.Option(metavar="ACCOUNT", help="Only the reviews of this producer's data."),
    ] = None,
    at: Annotated[
        datetime | None,
        typer.Option(
            "--at",
            metavar="TIME",
            help="Judge deadlines as of this time (ISO 8601, UTC; default now).",
            show_default=False,
        ),
    ] = None,
    state_dir: StateDirOption = DEFAULT_STATE_DIR,
    output: OutputOption = Output.TABLE,
    wide: WideOption = False,
) -> None:
    """List access reviews: due (waiting for the producer), overdue, decided.

    A review is asked by the access sweep every `ReviewEveryDays` of a grant; the producer
    answers with `meshgov review` before the deadline (`ReviewDeadlineDays`); past it, the
    sweep revokes the grant or keeps it and escalates (`UnansweredReviewAction`).
    """
    console = out()
    if owner is not None and not (len(owner) == 12 and owner.isdigit()):
        fail(f"--owner must be a 12-digit account id, got {owner!r}")
    now = at or datetime.now(UTC)
    now = now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=UTC)
    running = running_mesh(state_dir, 1)
    with reaching(running.state):
        records = request_store(running).all()
    wanted = set(status or ReviewStatus)
    rows = sorted(
        (
            (record, found)
            for record in records
            if (found := review_status(record, now)) in wanted
            and (owner is None or record.owner_account == owner)
        ),
        key=lambda pair: (list(ReviewStatus).index(pair[1]), pair[0].review_deadline or ""),
    )
    if output is Output.JSON:
        print_json([review_row(record, found) for record, found in rows])
        return
    table = FitTable(
        f"{len(rows)} access review(s) as of {short_time(now.isoformat())} UTC",
        [
            Col("request", no_wrap=True),
            Col("status", no_wrap=True),
            Col("owner", 3, no_wrap=True),
            Col("consumer", 4, no_wrap=True),
            Col("principal", 2),
            Col("tables"),
            Col("asked (UTC)", 5),
            Col("deadline (UTC)"),
            Col("decision", 1),
        ],
        wide=wide,
        empty="no reviews",
    )
    for record, found in rows:
        last = record.last_review or {}
        decision = f"{last.get('decision', '')} by {last.get('by', '')}" if last else "-"
        table.add_row(
            record.request_id,
            f"[{STATUS_STYLE[found]}]{found.value}[/]",
            record.owner_account,
            record.consumer_account,
            escape(short_principal(record.principal)),
            escape(", ".join(covered_tables(record))),
            short_time(record.review_requested_at),
            short_time(record.review_deadline),
            escape(decision),
        )
    console.print(table)


def review(
    request_id: Annotated[
        str, typer.Argument(metavar="REQUEST_ID", help="The request under review (req-...).")
    ],
    as_account: AsAccount,
    reason: ReasonOption,
    keep: Annotated[
        bool | None,
        typer.Option(
            "--keep/--revoke",
            help="The answer (one of the two is required).",
            show_default=False,
        ),
    ] = None,
    state_dir: StateDirOption = DEFAULT_STATE_DIR,
    output: OutputOption = Output.TABLE,
) -> None:
    """Answer an access review, as the owning producer: puts `Access Reviewed` on its default
    bus.

    Checked before sending: the request exists, `--as-account` owns its data, and it is under
    review. `--keep` makes it ACTIVE again until the next review; `--revoke` takes the access
    away (the consumer is told, with the reason).

    Example: `meshgov review req-0123 --as-account 222222222222 --keep --reason "still needed"`
    """
    console = out()
    if keep is None:
        fail("say --keep or --revoke")
    decision = "KEEP" if keep else "REVOKE"
    try:
        detail = AccessReviewedDetail.model_validate(
            {"requestId": request_id, "decision": decision, "reason": reason}
        )
    except ValidationError as exc:
        fail(contract_error(exc).replace("requestId", "REQUEST_ID"))
    running = running_mesh(state_dir, 1)
    member_name(running.state, as_account, "--as-account")
    with reaching(running.state):
        store = request_store(running)
        record = store.get(request_id)
        if record is None:
            fail(unknown_request(request_id, store.all()))
        if record.owner_account != as_account:
            fail(
                f"account {as_account} does not own the data of {request_id}: its owner is "
                f"producer {record.owner_account} (domain {record.domain})",
            )
        if record.state is not RequestState.UNDER_REVIEW:
            fail(f"{request_id} is {record.state.value}, not under review")
        event_id = _put(
            running, as_account, ACCESS_REVIEWED, detail.model_dump(mode="json", by_alias=True)
        )
    if output is Output.JSON:
        print_json({"request_id": request_id, "decision": decision, "event_id": event_id})
        return
    verb = "kept" if keep else "revoked"
    console.print(f"{verb} {request_id} ({escape(reason)}); event {event_id}")
