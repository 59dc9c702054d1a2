"""Reaching a running local mesh from the command line: its state, its accounts, its tables,
and one readable line (and an exit code) when it is not there or refuses."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError
from rich.console import Console

from meshgov.access.store import RequestStore
from meshgov.errors import MeshgovError
from meshgov.usage.store import UsageStore
from meshgov_local.deploy import default_physical_name
from meshgov_local.observe import RunningMesh
from meshgov_local.state import MeshState, MeshStateError, read_state

REQUESTS_TABLE = "AccessRequestsTable"
USAGE_TABLE = "UsageTable"


def member_accounts(state: MeshState) -> dict[str, str]:
    """account id -> profile name, for the member accounts of the mesh."""
    return {m.account_id: m.name for m in state.members}


def requests_table_name(state: MeshState) -> str:
    """The central requests table, as ``mesh.json`` records it; a ``mesh.json`` written before
    it did gets the name the local deployer gives it (``meshgov-access-requests-table``)."""
    return state.requests_table_name or default_physical_name(REQUESTS_TABLE)


def usage_table_name(state: MeshState) -> str:
    """The central usage table, as ``mesh.json`` records it; a ``mesh.json`` written before it
    did gets the name the local deployer gives it (``meshgov-usage-table``)."""
    return state.usage_table_name or default_physical_name(USAGE_TABLE)


def running_mesh(console: Console, state_dir: Path, code: int) -> RunningMesh:
    from meshgov_cli.main import _fail

    try:
        return RunningMesh(read_state(state_dir))
    except MeshStateError as exc:
        _fail(console, str(exc), code)


@contextmanager
def reaching(console: Console, state: MeshState, code: int = 1) -> Iterator[None]:
    """Say "the mesh is not there" or "it refused" in one readable line, and exit ``code``."""
    from meshgov_cli.main import _fail

    absent = f"no local mesh answers at {state.endpoint_url}: is `meshgov mesh up` running?"
    try:
        yield
    except EndpointConnectionError:
        _fail(console, absent, code)
    except MeshgovError as exc:  # the library's adapters wrap what botocore raised
        _fail(
            console,
            absent if isinstance(exc.__cause__, EndpointConnectionError) else str(exc),
            code,
        )
    except (ClientError, BotoCoreError) as exc:
        _fail(console, f"the local mesh at {state.endpoint_url} refused: {exc}", code)


def member_name(
    console: Console, state: MeshState, account: str, option: str, code: int = 1
) -> str:
    from meshgov_cli.main import _fail

    members = member_accounts(state)
    if account not in members:
        known = ", ".join(f"{a} ({n})" for a, n in members.items())
        _fail(console, f"{option} {account} is not a member account of this mesh: {known}", code)
    return members[account]


def request_store(running: RunningMesh) -> RequestStore:
    central = running.state.central_account
    return RequestStore(running.client(central, "dynamodb"), requests_table_name(running.state))


def usage_store(running: RunningMesh) -> UsageStore:
    """The central usage store, read as the central account (reads only)."""
    central = running.state.central_account
    return UsageStore(running.client(central, "dynamodb"), usage_table_name(running.state))
