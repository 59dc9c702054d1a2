"""Reaching a running local mesh from the command line: its accounts and its tables. (Finding
the mesh, and the one readable line when it is not there or refuses, are
:func:`meshgov_cli.console.running_mesh` and :func:`meshgov_cli.console.reaching`.)"""

from __future__ import annotations

from collections.abc import Mapping

from meshgov.access.store import RequestStore
from meshgov.lineage.store import LineageStore
from meshgov.registry.directory import RegisteredProducers
from meshgov.registry.store import RegistryStore
from meshgov.usage.store import UsageStore
from meshgov_cli.console import EXIT_REFUSED, fail
from meshgov_local.deploy import default_physical_name
from meshgov_local.observe import RunningMesh
from meshgov_local.state import MeshState

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


def member_name(state: MeshState, account: str, option: str, code: int = EXIT_REFUSED) -> str:
    """The profile name of member ``account``; any other account fails (``option`` named)."""
    members = member_accounts(state)
    if account not in members:
        known = ", ".join(f"{a} ({n})" for a, n in members.items())
        fail(f"{option} {account} is not a member account of this mesh: {known}", code)
    return members[account]


def request_store(running: RunningMesh) -> RequestStore:
    central = running.state.central_account
    return RequestStore(running.client(central, "dynamodb"), requests_table_name(running.state))


def usage_store(running: RunningMesh) -> UsageStore:
    """The central usage store, read as the central account (reads only)."""
    central = running.state.central_account
    return UsageStore(running.client(central, "dynamodb"), usage_table_name(running.state))


def lineage_store(running: RunningMesh) -> LineageStore:
    """The central lineage table (issue 15), read as the central account: the name the local
    deployer gives ``LineageTable`` (``mesh.json`` does not record it)."""
    central = running.state.central_account
    return LineageStore(running.client(central, "dynamodb"), default_physical_name("LineageTable"))


def registry_store(running: RunningMesh) -> RegistryStore:
    """Central's registry table, as the central account (``mesh.json`` records its name; one
    written before it did gets the local deployer's name)."""
    state = running.state
    table = state.registry_table_name or default_physical_name("RegistryTable")
    return RegistryStore(running.client(state.central_account, "dynamodb"), table)


def registered_producers(running: RunningMesh) -> Mapping[str, str]:
    """``producer account -> domain`` as central serves them (what its functions read)."""
    return RegisteredProducers(registry_store(running))
