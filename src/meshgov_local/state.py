"""What ``meshgov mesh up`` leaves on disk so that other processes can use the running mesh.

``<state-dir>/mesh.json`` says where the mesh is (endpoint, region, accounts, table and bus names);
``meshgov watch`` and ``meshgov mesh verify`` read it. ``<state-dir>/aws-config`` and its sibling
``credentials`` are ordinary AWS CLI / boto3 shared files: profile ``operator`` holds the fake
``testing`` keys, and one profile per account (``central``, ``producer``, ``consumer``) assumes that
account's ``meshgov-local-admin`` role through the local endpoint, so ``aws --profile producer ...``
and ``boto3.Session(profile_name="producer")`` act as that account, as they would on AWS.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from meshgov_local.accounts import ADMIN_ROLE_NAME
from meshgov_local.config import MemberAccount, MemberKind, MeshConfig

if TYPE_CHECKING:
    from meshgov_local.mesh import LocalMesh

STATE_FILE = "mesh.json"
CONFIG_FILE = "aws-config"
CREDENTIALS_FILE = "credentials"
OPERATOR_PROFILE = "operator"
CENTRAL_PROFILE = "central"
# The fake keys moto accepts; never real credentials.
FAKE_ACCESS_KEY = "testing"
FAKE_SECRET_KEY = "testing"  # noqa: S105 - a fake credential for moto
STATE_VERSION = 1


class MeshStateError(Exception):
    """No usable state of a running local mesh in the state directory."""


@dataclass(frozen=True)
class MemberState:
    account_id: str
    name: str
    kind: str
    domain: str | None = None


@dataclass(frozen=True)
class MeshState:
    """Where a running local mesh is and what it is made of (``mesh.json``)."""

    endpoint_url: str
    region: str
    central_account: str
    members: tuple[MemberState, ...]
    audit_table_name: str
    ledger_table_name: str
    bus_name: str
    version: int = STATE_VERSION
    requests_table_name: str = ""
    digest_bucket_name: str = ""
    digest_key_id: str = ""
    usage_table_name: str = ""
    registry_table_name: str = ""
    # The process of ``mesh up``: a mesh.json whose process is gone (``kill -9``) is stale.
    pid: int = 0

    @classmethod
    def of(cls, mesh: LocalMesh) -> MeshState:
        if not mesh.endpoint_url:
            raise MeshStateError("an in-process mesh (no endpoint) cannot be used from elsewhere")
        deployment = mesh.deployment
        return cls(
            endpoint_url=mesh.endpoint_url,
            region=mesh.config.region,
            central_account=mesh.config.central_account,
            members=tuple(
                MemberState(m.account_id, m.name, m.kind.value, m.domain)
                for m in mesh.config.members
            ),
            audit_table_name=deployment.audit_table_name,
            ledger_table_name=deployment.ledger_table_name,
            bus_name=deployment.bus_name,
            requests_table_name=deployment.requests_table_name,
            digest_bucket_name=deployment.digest_bucket_name,
            digest_key_id=deployment.digest_key_id,
            usage_table_name=deployment.usage_table_name,
            registry_table_name=deployment.registry_table_name,
            pid=os.getpid(),
        )

    @property
    def accounts(self) -> dict[str, str]:
        """Profile name -> account id, central first."""
        members = {m.name: m.account_id for m in self.members}
        return {CENTRAL_PROFILE: self.central_account, **members}

    def config(self) -> MeshConfig:
        return MeshConfig(
            region=self.region,
            central_account=self.central_account,
            members=tuple(
                MemberAccount(m.account_id, m.name, MemberKind(m.kind), m.domain)
                for m in self.members
            ),
        )

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["members"] = [asdict(m) for m in self.members]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MeshState:
        try:
            return cls(
                endpoint_url=str(data["endpoint_url"]),
                region=str(data["region"]),
                central_account=str(data["central_account"]),
                members=tuple(MemberState(**m) for m in data["members"]),
                audit_table_name=str(data["audit_table_name"]),
                ledger_table_name=str(data["ledger_table_name"]),
                bus_name=str(data["bus_name"]),
                version=int(data.get("version", STATE_VERSION)),
                requests_table_name=str(data.get("requests_table_name", "")),
                digest_bucket_name=str(data.get("digest_bucket_name", "")),
                digest_key_id=str(data.get("digest_key_id", "")),
                usage_table_name=str(data.get("usage_table_name", "")),
                registry_table_name=str(data.get("registry_table_name", "")),
                pid=int(data.get("pid", 0)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise MeshStateError(f"mesh state is incomplete or malformed: {exc}") from exc


@dataclass(frozen=True)
class StatePaths:
    directory: Path

    @property
    def state(self) -> Path:
        return self.directory / STATE_FILE

    @property
    def aws_config(self) -> Path:
        return self.directory / CONFIG_FILE

    @property
    def credentials(self) -> Path:
        return self.directory / CREDENTIALS_FILE


def aws_config_text(state: MeshState) -> str:
    """The shared config file: one profile per account, each assuming its admin role locally."""
    lines = [
        "# Written by `meshgov mesh up`: the local mesh on moto. Fake credentials, local endpoint.",
        f"[profile {OPERATOR_PROFILE}]",
        f"region = {state.region}",
        f"endpoint_url = {state.endpoint_url}",
        "",
    ]
    for profile, account in state.accounts.items():
        lines += [
            f"[profile {profile}]",
            f"role_arn = arn:aws:iam::{account}:role/{ADMIN_ROLE_NAME}",
            f"source_profile = {OPERATOR_PROFILE}",
            f"role_session_name = meshgov-local-{profile}",
            f"region = {state.region}",
            f"endpoint_url = {state.endpoint_url}",
            "",
        ]
    return "\n".join(lines)


def credentials_text() -> str:
    return (
        "# Written by `meshgov mesh up`: the fake keys moto accepts (never real credentials).\n"
        f"[{OPERATOR_PROFILE}]\n"
        f"aws_access_key_id = {FAKE_ACCESS_KEY}\n"
        f"aws_secret_access_key = {FAKE_SECRET_KEY}\n"
    )


def write_state(directory: Path, state: MeshState) -> StatePaths:
    """Write mesh.json, aws-config and credentials into ``directory`` (created if needed)."""
    paths = StatePaths(directory)
    directory.mkdir(parents=True, exist_ok=True)
    _write(paths.aws_config, aws_config_text(state))
    _write(paths.credentials, credentials_text(), mode=0o600)
    # mesh.json last: its presence means the other two are complete.
    _write(paths.state, json.dumps(state.as_dict(), indent=2, sort_keys=True) + "\n")
    return paths


def read_state(directory: Path) -> MeshState:
    path = StatePaths(directory).state
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise MeshStateError(
            f"no running mesh described in {path}: start one with `meshgov mesh up`"
        ) from exc
    except json.JSONDecodeError as exc:
        raise MeshStateError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise MeshStateError(f"{path} does not describe a mesh")
    return MeshState.from_dict(data)


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` runs (0: unknown, taken as running: an older mesh.json)."""
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, as another user's
    return True


def mesh_running(directory: Path) -> bool:
    """Whether ``directory`` describes a running mesh: mesh.json there, its process alive."""
    try:
        return process_alive(read_state(directory).pid)
    except MeshStateError:
        return False


def clear_state(directory: Path) -> None:
    """Remove mesh.json (the mesh stopped); the AWS files stay for the next run to overwrite."""
    StatePaths(directory).state.unlink(missing_ok=True)


def shell_exports(paths: StatePaths) -> str:
    return (
        f"export AWS_CONFIG_FILE={paths.aws_config.resolve()} "
        f"AWS_SHARED_CREDENTIALS_FILE={paths.credentials.resolve()}"
    )


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.chmod(mode)
    temporary.replace(path)
