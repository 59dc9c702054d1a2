"""Which real accounts the end-to-end tests may use: MESHGOV_AWS_PROFILES, parsed strictly, and
the bounded polling that stands for ``settle`` on AWS. No AWS here."""

from __future__ import annotations

from pathlib import Path

import botocore.session
import pytest

from meshgov_local.e2e_target import NotSettledError
from meshgov_local.real_accounts import poll_until
from meshgov_local.real_accounts_config import (
    PROFILES_VARIABLE,
    SETTLE_VARIABLE,
    RealAccountsConfigError,
    deploy_environments,
    parse_profiles,
    real_accounts_config,
)

REPO = Path(__file__).resolve().parents[2]
SAMCONFIG = REPO / "samconfig.toml"
GOOD = "central=gov-admin,producer=sales-admin,consumer=analytics-admin"


def test_three_profiles_are_read_by_role_in_any_order_and_spacing() -> None:
    assert parse_profiles(" consumer = c@x ,central=a.b, producer=arn:aws/sso-1 ") == {
        "central": "a.b",
        "producer": "arn:aws/sso-1",
        "consumer": "c@x",
    }


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("central:gov,producer=p,consumer=c", "is not <role>=<profile>"),
        ("central=,producer=p,consumer=c", "is not <role>=<profile>"),
        ("central=gov,producer=p", "lacks consumer"),
        ("central=gov", "lacks producer, consumer"),
        ("central=gov,producer=p,consumer=c,auditor=x", "unknown role 'auditor'"),
        ("central=gov,central=other,producer=p,consumer=c", "names role 'central' twice"),
        ("central=gov,,producer=p,consumer=c", "has an empty entry"),
        ("central=gov admin,producer=p,consumer=c", "is not an AWS CLI profile name"),
        ("central=gov;rm -rf,producer=p,consumer=c", "is not an AWS CLI profile name"),
        ("gov-admin sales-admin analytics-admin", "is not <role>=<profile>"),
    ],
)
def test_a_bad_variable_is_refused_naming_the_problem_and_the_format(
    raw: str, problem: str
) -> None:
    with pytest.raises(RealAccountsConfigError) as refused:
        parse_profiles(raw)
    message = str(refused.value)
    assert problem in message
    assert PROFILES_VARIABLE in message


@pytest.mark.parametrize("value", [None, "", "   "])
def test_unset_or_empty_means_local_only(value: str | None, tmp_path: Path) -> None:
    environ = {} if value is None else {PROFILES_VARIABLE: value}
    # (a samconfig that does not exist: it must not even be read)
    assert real_accounts_config(environ, tmp_path / "absent.toml") is None


def test_set_reads_stack_names_and_region_from_the_deploy_environments(tmp_path: Path) -> None:
    environ = {
        PROFILES_VARIABLE: GOOD,
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
    }
    config = real_accounts_config(environ, SAMCONFIG)
    assert config is not None
    assert config.region == "eu-west-1"
    assert {role: (a.profile, a.stack_name) for role, a in config.accounts.items()} == {
        "central": ("gov-admin", "meshgov-central"),
        "producer": ("sales-admin", "meshgov-member"),
        "consumer": ("analytics-admin", "meshgov-member"),
    }
    assert (config.config_file, config.credentials_file) == (
        tmp_path / "config",
        tmp_path / "credentials",
    )
    assert config.settle_seconds == 300


def test_a_set_but_wrong_variable_fails_instead_of_skipping() -> None:
    with pytest.raises(RealAccountsConfigError, match="lacks consumer"):
        real_accounts_config({PROFILES_VARIABLE: "central=a,producer=b"}, SAMCONFIG)


@pytest.mark.parametrize("value", ["soon", "0", "-5", "7200"])
def test_a_bad_settle_timeout_is_refused(value: str) -> None:
    with pytest.raises(RealAccountsConfigError, match=SETTLE_VARIABLE):
        real_accounts_config({PROFILES_VARIABLE: GOOD, SETTLE_VARIABLE: value}, SAMCONFIG)


def test_a_samconfig_without_a_deploy_environment_is_refused(tmp_path: Path) -> None:
    samconfig = tmp_path / "samconfig.toml"
    samconfig.write_text(
        'version = 0.1\n[central.deploy.parameters]\nstack_name = "c"\nregion = "eu-west-1"\n'
    )
    with pytest.raises(RealAccountsConfigError, match=r"\[producer.deploy.parameters\]"):
        deploy_environments(samconfig)


def test_a_mesh_spread_over_regions_is_refused(tmp_path: Path) -> None:
    samconfig = tmp_path / "samconfig.toml"
    samconfig.write_text(
        "".join(
            f'[{role}.deploy.parameters]\nstack_name = "s"\nregion = "{region}"\n'
            for role, region in (
                ("central", "eu-west-1"),
                ("producer", "eu-west-1"),
                ("consumer", "us-east-1"),
            )
        )
    )
    with pytest.raises(RealAccountsConfigError, match="several Regions"):
        deploy_environments(samconfig)


# --- the default run never reaches AWS -----------------------------------------------------------


def refuse_sessions(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a botocore session was created")

    monkeypatch.setattr(botocore.session.Session, "__init__", refuse)


def test_without_the_variable_the_real_parameter_skips_before_any_session(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.e2e.conftest import NOT_SET, real_target

    # Given botocore refuses to make any session (no client, no credentials, no request)
    refuse_sessions(monkeypatch)
    # When the e2e fixture is asked for the real accounts without the variable
    with pytest.raises(pytest.skip.Exception) as skipped:
        real_target({"AWS_PROFILE": "prod"})
    # Then it skips, saying why, and never made a session
    assert str(skipped.value) == NOT_SET


def test_with_the_variable_the_real_parameter_builds_sessions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.e2e.conftest import real_target

    # The same guard catches the real path: the switch is the variable, nothing else
    refuse_sessions(monkeypatch)
    with pytest.raises(AssertionError, match="a botocore session was created"):
        real_target({PROFILES_VARIABLE: GOOD})


# --- settle on AWS: bounded polling ------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_polling_stops_as_soon_as_the_state_is_reached() -> None:
    clock = FakeClock()
    answers = iter([False, False, True])
    checks = poll_until(lambda: next(answers), "x", 60, clock=clock, sleep=clock.sleep, interval=5)
    assert checks == 3
    assert clock.sleeps == [5, 5]


def test_polling_gives_up_at_the_timeout_naming_what_was_awaited() -> None:
    clock = FakeClock()
    with pytest.raises(NotSettledError, match="req-1 ACTIVE: not reached within 12 s"):
        poll_until(lambda: False, "req-1 ACTIVE", 12, clock=clock, sleep=clock.sleep, interval=5)
    # it never sleeps past the deadline
    assert clock.sleeps == [5, 5, 2]
    assert clock.now == 12
