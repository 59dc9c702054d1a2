"""The ``mesh`` fixture: an end-to-end test body runs on the local mesh, and, when it is marked
``real_aws`` and ``MESHGOV_AWS_PROFILES`` names three deployed accounts, again on them.

Without the variable the real parameter is skipped with the reason, before anything is built:
the default run never reaches AWS (``tests/e2e/test_real_aws_switch.py`` proves it). A variable
that is set but wrong is an error, never a quiet skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from meshgov_local.e2e_target import LocalTarget, SharedTarget
from meshgov_local.emulator import controls
from meshgov_local.mesh import LocalMesh
from meshgov_local.real_accounts_config import PROFILES_VARIABLE, real_accounts_config
from meshgov_local.server import moto_server

REPO = Path(__file__).resolve().parents[2]
SAMCONFIG = REPO / "samconfig.toml"
LOCAL, REAL_AWS = "local", "real_aws"
NOT_SET = (
    f"real AWS accounts: {PROFILES_VARIABLE} is not set "
    "(README: 'End-to-end tests on real AWS accounts')"
)
# The environment as the run started: the root conftest's autouse fixture replaces credentials
# and config files with fakes for every test, after this module is imported.
STARTING_ENVIRONMENT: dict[str, str] = dict(os.environ)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test using ``mesh`` runs locally; those marked ``real_aws`` also on real AWS."""
    if "mesh" not in metafunc.fixturenames:
        return
    targets = [LOCAL]
    if metafunc.definition.get_closest_marker("real_aws"):
        targets.append(REAL_AWS)
    metafunc.parametrize("mesh", targets, indirect=True)


def real_target(environ: dict[str, str]) -> Any:
    """The real-account target for ``environ``, or a skip when the variable is not set. The
    backend module is imported only here, only then."""
    config = real_accounts_config(environ, SAMCONFIG)
    if config is None:
        pytest.skip(NOT_SET)
    from meshgov_local.real_accounts import RealAccountsTarget

    return RealAccountsTarget(config)


@pytest.fixture(scope="session")
def real_accounts() -> Any:
    """Built once per run (STS and CloudFormation lookups), only when a test asks for it."""
    return real_target(STARTING_ENVIRONMENT)


@contextmanager
def local_target() -> Iterator[LocalTarget]:
    """The local mesh on its own moto server (as ``make demo`` and ``meshgov mesh up`` run)."""
    controls.reset()
    try:
        with moto_server() as endpoint:
            yield LocalTarget(LocalMesh(endpoint_url=endpoint))
    finally:
        controls.reset()


@pytest.fixture
def mesh(request: pytest.FixtureRequest) -> Iterator[SharedTarget]:
    if request.param == REAL_AWS:
        target: SharedTarget = request.getfixturevalue("real_accounts")
        try:
            yield target
        finally:
            target.run_cleanups()
        return
    with local_target() as local:
        try:
            yield local
        finally:
            local.run_cleanups()
