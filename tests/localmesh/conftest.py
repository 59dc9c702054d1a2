"""Fixtures for the local mesh: three emulated accounts in one moto, never a real endpoint."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from localmesh_support import ACCOUNTS, REGION
from moto import mock_aws
from moto.server import ThreadedMotoServer

from meshgov_local.accounts import AccountSessions
from meshgov_local.config import MeshConfig
from meshgov_local.deploy import Deployment, deploy
from meshgov_local.emulator import controls, ensure_admin_role, install
from meshgov_local.template import Template


@pytest.fixture(autouse=True)
def fake_aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """Fake credentials only; no profile, config file or endpoint from the machine leaks in."""
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "MOTO_ACCOUNT_ID",  # it would override the accounts of assumed roles
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_SECURITY_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def mesh() -> Iterator[AccountSessions]:
    """Patched moto with an administrator role in each of the three accounts."""
    install()
    controls.reset()
    with mock_aws():
        for account in ACCOUNTS:
            ensure_admin_role(account)
        yield AccountSessions(REGION)
    controls.reset()


def _reset_server(endpoint: str) -> None:
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - local server
        assert response.status == 200


@pytest.fixture
def served_mesh() -> Iterator[AccountSessions]:
    """A moto server on a free local port, patched, with the three accounts' admin roles."""
    install()  # before the server builds its routes
    controls.reset()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        _reset_server(endpoint)
        for account in ACCOUNTS:
            ensure_admin_role(account)
        yield AccountSessions(REGION, endpoint_url=endpoint)
    finally:
        _reset_server(endpoint)
        server.stop()
        controls.reset()


# ============================================================================================
# template.yaml and its local deployment (test_template.py, test_deploy.py)
# ============================================================================================


@pytest.fixture(scope="session")
def mesh_template() -> Template:
    """template.yaml, loaded once: tests only read it."""
    return Template.load()


@pytest.fixture
def mesh_config() -> MeshConfig:
    """The default mesh: its accounts are the ones localmesh_support names."""
    config = MeshConfig(region=REGION)
    assert config.all_accounts == ACCOUNTS
    return config


@pytest.fixture
def deployed_mesh(
    mesh: AccountSessions, mesh_config: MeshConfig, mesh_template: Template
) -> Deployment:
    """Both stacks of template.yaml deployed into the patched moto of ``mesh``."""
    return deploy(mesh_config, mesh, mesh_template)
