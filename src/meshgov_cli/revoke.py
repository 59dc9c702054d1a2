"""``meshgov revoke``: end a grant before it expires, as its consumer or its owning producer.

It sends what the README's raw event does — ``Access Revoke Requested`` (``requestId``,
``reason``) on the acting account's default bus, which the member stack forwards to central —
the way ``meshgov decide`` sends its decision (:func:`meshgov_cli.access._put`). Checked first,
as central will check it (:mod:`meshgov.access.service`, ``_revoke_requested``): the request
exists, the acting account is its consumer or the owner of its data (``RevokerUnrelated``), and
its state may move to ``REVOKED`` (the state machine, :func:`meshgov.access.states.transition`;
``RevocationOutOfOrder``). Central then revokes the grants, deletes the request's data cells
filters and tells the consumer, whose member function removes what no other request needs.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.markup import escape

from meshgov.access.states import RequestState, TransitionInvalidError, transition
from meshgov.access.store import RequestRecord
from meshgov.contracts.access_events import ACCESS_REVOKE_REQUESTED, AccessRevokeRequestedDetail
from meshgov_cli.access import TimeoutOption, _poll, _put, contract_error
from meshgov_cli.access_views import state_cell
from meshgov_cli.console import EXIT_OK, EXIT_REFUSED, fail, out, print_json, reaching, running_mesh
from meshgov_cli.hints import unknown_request
from meshgov_cli.options import Output, OutputOption, StateDirOption
from meshgov_cli.reach import member_name, request_store
from meshgov_local.standalone import DEFAULT_STATE_DIR

DEFAULT_REASON = "revoked with meshgov revoke (no reason given)"


def revoker_role(record: RequestRecord, account: str) -> str | None:
    """``consumer`` or ``producer`` when ``account`` may revoke ``record`` (central's rule:
    only the consumer and the owning producer may), else None."""
    if account == record.consumer_account:
        return "consumer"
    if account == record.owner_account:
        return "producer"
    return None


def revoke(
    request_id: Annotated[
        str, typer.Argument(metavar="REQUEST_ID", help="The request to revoke (req-...).")
    ],
    reason: Annotated[
        str,
        typer.Option(
            metavar="TEXT",
            help="Why (the consumer and the audit trail see it).",
            show_default=False,
        ),
    ] = DEFAULT_REASON,
    as_account: Annotated[
        str | None,
        typer.Option(
            "--as-account",
            metavar="ACCOUNT",
            help="The account that revokes: the request's consumer (default) or the producer "
            "that owns its data.",
            show_default=False,
        ),
    ] = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="Poll the requests table until it is REVOKED.")
    ] = False,
    timeout: TimeoutOption = 30.0,
    state_dir: StateDirOption = DEFAULT_STATE_DIR,
    output: OutputOption = Output.TABLE,
) -> None:
    """Revoke a request's access before it expires: puts `Access Revoke Requested` on the
    acting account's default bus (the README's raw event, sent for you).

    Checked before sending: the request exists, `--as-account` (default: the request's
    consumer) is its consumer or the producer owning its data, and it still holds or is about
    to hold access (APPROVED, GRANTED, ACTIVE, UNDER_REVIEW). Central revokes the Lake
    Formation grants, deletes the request's filters and tells the consumer. With `--wait`,
    polls until the request is REVOKED; exit code 1 if it is not within `--timeout`, or if a
    check fails.

    Example: `meshgov revoke req-0123 --reason "the dashboard was retired"`
    """
    try:
        detail = AccessRevokeRequestedDetail.model_validate(
            {"requestId": request_id, "reason": reason}
        )
    except ValidationError as exc:
        fail(contract_error(exc).replace("requestId", "REQUEST_ID"))
    mesh = running_mesh(state_dir)
    with reaching(mesh.state):
        store = request_store(mesh)
        record = store.get(request_id)
        if record is None:
            fail(unknown_request(request_id, store.all()))
        account = as_account or record.consumer_account
        member_name(mesh.state, account, "--as-account")
        role = revoker_role(record, account)
        if role is None:
            fail(
                f"account {account} may not revoke {request_id}: only its consumer "
                f"{record.consumer_account} or the producer owning its data "
                f"{record.owner_account} may"
            )
        try:
            transition(record.state, RequestState.REVOKED)
        except TransitionInvalidError:
            fail(f"{request_id} is {record.state.value}: nothing to revoke")
        event_id = _put(
            mesh,
            account,
            ACCESS_REVOKE_REQUESTED,
            detail.model_dump(mode="json", by_alias=True),
        )
    result: dict[str, Any] = {
        "request_id": request_id,
        "revoked_by": role,
        "account": account,
        "reason": reason,
        "event_id": event_id,
        "state": record.state.value,
    }
    if output is Output.TABLE:
        out().print(
            f"asked central to revoke {request_id} as its {role} ({escape(reason)}); "
            f"event {event_id}"
        )
    if not wait:
        if output is Output.JSON:
            print_json(result)
        return

    def look() -> tuple[bool, RequestRecord | None]:
        current = store.get(request_id)
        return current is not None and current.state is RequestState.REVOKED, current

    with reaching(mesh.state):
        done, current = _poll(f"Waiting for {request_id} to be revoked...", timeout, look)
    result["state"] = current.state.value if current else None
    error = None if done else f"{request_id} is still {result['state']} after {timeout:g} s"
    if output is Output.JSON:
        print_json({**result, "error": error})
        raise typer.Exit(EXIT_REFUSED if error else EXIT_OK)
    if error or current is None:
        fail(error or "gone")
    out().print(f"{request_id} is now {state_cell(current.state)}: {escape(current.reason)}")
