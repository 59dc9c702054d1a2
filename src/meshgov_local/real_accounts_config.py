"""Which real AWS accounts the end-to-end tests may also run against: read, never guessed.

Nothing here talks to AWS. :func:`real_accounts_config` returns None unless
``MESHGOV_AWS_PROFILES`` is set, and the real-account backend (:mod:`.real_accounts`) is built
only from what it returns, so the default run (the variable unset) cannot reach AWS.

The variable names one AWS CLI profile per ``samconfig.toml`` deploy environment::

    MESHGOV_AWS_PROFILES="central=gov-admin,producer=sales-admin,consumer=analytics-admin"

Each profile is used exactly as the AWS CLI would use it (shared config and credentials files,
SSO, ``role_arn``/``source_profile``, ``credential_process``). Stack names and the Region come
from the same ``samconfig.toml`` environments ``sam deploy --config-env <role>`` used, so the
tests find the stacks that were deployed. Optional: ``MESHGOV_AWS_SAMCONFIG`` (another
samconfig file), ``MESHGOV_AWS_SETTLE_SECONDS`` (how long ``settle`` polls, default 300).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PROFILES_VARIABLE = "MESHGOV_AWS_PROFILES"
SAMCONFIG_VARIABLE = "MESHGOV_AWS_SAMCONFIG"
SETTLE_VARIABLE = "MESHGOV_AWS_SETTLE_SECONDS"
ROLES = ("central", "producer", "consumer")
FORMAT = f'{PROFILES_VARIABLE}="central=<profile>,producer=<profile>,consumer=<profile>"'
DEFAULT_SETTLE_SECONDS = 300.0
# Profile names as the AWS CLI writes them in [profile NAME]; no separators of this format.
PROFILE_NAME = re.compile(r"^[A-Za-z0-9_.@+:/-]+$")


class RealAccountsConfigError(ValueError):
    """The real-account settings are present but wrong: the message says what and how to fix."""


@dataclass(frozen=True)
class AccountTarget:
    """One account of the real mesh: its role, the profile to act as it, its deployed stack."""

    role: str
    profile: str
    stack_name: str


@dataclass(frozen=True)
class RealAccountsConfig:
    region: str
    accounts: Mapping[str, AccountTarget]
    # The shared AWS config and credentials files, as the environment named them when the test
    # run started (the root conftest later points the variables at empty files for every test).
    config_file: Path
    credentials_file: Path
    settle_seconds: float = DEFAULT_SETTLE_SECONDS

    def account(self, role: str) -> AccountTarget:
        return self.accounts[role]


def parse_profiles(raw: str) -> dict[str, str]:
    """``"central=a,producer=b,consumer=c"`` -> ``{"central": "a", ...}``; every role exactly
    once, nothing else. Raises :class:`RealAccountsConfigError` naming the problem."""
    found: dict[str, str] = {}
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            raise RealAccountsConfigError(
                f"{PROFILES_VARIABLE} has an empty entry; expected {FORMAT}"
            )
        role, sep, profile = (s.strip() for s in item.partition("="))
        if not sep or not role or not profile:
            raise RealAccountsConfigError(
                f"{PROFILES_VARIABLE} entry {item!r} is not <role>=<profile>; expected {FORMAT}"
            )
        if role not in ROLES:
            raise RealAccountsConfigError(
                f"{PROFILES_VARIABLE} names an unknown role {role!r}; roles are {', '.join(ROLES)}"
            )
        if role in found:
            raise RealAccountsConfigError(f"{PROFILES_VARIABLE} names role {role!r} twice")
        if not PROFILE_NAME.match(profile):
            raise RealAccountsConfigError(
                f"{PROFILES_VARIABLE}: {profile!r} (role {role}) is not an AWS CLI profile name"
            )
        found[role] = profile
    missing = [role for role in ROLES if role not in found]
    if missing:
        raise RealAccountsConfigError(
            f"{PROFILES_VARIABLE} lacks {', '.join(missing)}; expected {FORMAT}"
        )
    return found


def deploy_environments(samconfig: Path) -> dict[str, tuple[str, str]]:
    """``{role: (stack_name, region)}`` from the ``<role>.deploy.parameters`` of samconfig."""
    try:
        data = tomllib.loads(samconfig.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RealAccountsConfigError(f"cannot read {samconfig}: {exc}") from exc
    default_region = str(
        data.get("default", {}).get("global", {}).get("parameters", {}).get("region", "")
    )
    environments: dict[str, tuple[str, str]] = {}
    for role in ROLES:
        parameters = data.get(role, {}).get("deploy", {}).get("parameters", {})
        stack, region = parameters.get("stack_name"), parameters.get("region", default_region)
        if not stack or not region:
            raise RealAccountsConfigError(
                f"{samconfig} has no [{role}.deploy.parameters] stack_name and region: the "
                f"environment `sam deploy --config-env {role}` deployed"
            )
        environments[role] = (str(stack), str(region))
    regions = {region for _, region in environments.values()}
    if len(regions) != 1:
        raise RealAccountsConfigError(
            f"{samconfig} deploys the mesh to several Regions {sorted(regions)}; the end-to-end "
            "tests need central and members in one Region"
        )
    return environments


def settle_seconds(environ: Mapping[str, str]) -> float:
    raw = environ.get(SETTLE_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_SETTLE_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not 0 < value <= 3600:
        raise RealAccountsConfigError(
            f"{SETTLE_VARIABLE} must be a number of seconds in (0, 3600], not {raw!r}"
        )
    return value


def real_accounts_config(
    environ: Mapping[str, str], default_samconfig: Path
) -> RealAccountsConfig | None:
    """The real accounts to run against, or None when ``MESHGOV_AWS_PROFILES`` is unset or
    empty (the default: local only). Raises :class:`RealAccountsConfigError` when it is set but
    wrong: a typo must fail loudly, never quietly skip the real run."""
    raw = environ.get(PROFILES_VARIABLE, "").strip()
    if not raw:
        return None
    profiles = parse_profiles(raw)
    samconfig = Path(environ.get(SAMCONFIG_VARIABLE) or default_samconfig)
    environments = deploy_environments(samconfig)
    home = Path.home() / ".aws"
    return RealAccountsConfig(
        region=environments["central"][1],
        accounts={
            role: AccountTarget(role, profiles[role], environments[role][0]) for role in ROLES
        },
        config_file=Path(environ.get("AWS_CONFIG_FILE") or home / "config").expanduser(),
        credentials_file=Path(
            environ.get("AWS_SHARED_CREDENTIALS_FILE") or home / "credentials"
        ).expanduser(),
        settle_seconds=settle_seconds(environ),
    )
