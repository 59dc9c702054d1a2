"""The files `mesh up` leaves for other processes: mesh.json, aws-config, credentials."""

from __future__ import annotations

import configparser
import stat
from pathlib import Path

import pytest

from meshgov_local.state import (
    MemberState,
    MeshState,
    MeshStateError,
    clear_state,
    read_state,
    write_state,
)

STATE = MeshState(
    endpoint_url="http://127.0.0.1:4566",
    region="eu-west-1",
    central_account="111111111111",
    members=(
        MemberState("222222222222", "producer", "producer", "sales"),
        MemberState("333333333333", "consumer", "consumer", None),
    ),
    audit_table_name="meshgov-audit",
    ledger_table_name="meshgov-ledger",
    bus_name="meshgov",
)


def test_state_round_trips_and_rebuilds_the_mesh_config(tmp_path: Path) -> None:
    # Given the state of a running mesh written to disk
    write_state(tmp_path, STATE)
    # When it is read back, Then it is the same, and gives the same accounts
    assert read_state(tmp_path) == STATE
    config = read_state(tmp_path).config()
    assert config.producer_domains() == {"222222222222": "sales"}
    assert config.all_accounts == ("111111111111", "222222222222", "333333333333")


def test_aws_files_give_each_account_a_profile_assuming_its_admin_role(tmp_path: Path) -> None:
    paths = write_state(tmp_path, STATE)
    config = configparser.ConfigParser()
    config.read(paths.aws_config)
    assert config["profile operator"]["endpoint_url"] == STATE.endpoint_url
    for profile, account in (
        ("central", "111111111111"),
        ("producer", "222222222222"),
        ("consumer", "333333333333"),
    ):
        section = config[f"profile {profile}"]
        assert section["role_arn"] == f"arn:aws:iam::{account}:role/meshgov-local-admin"
        assert section["source_profile"] == "operator"
        assert section["endpoint_url"] == STATE.endpoint_url
        assert section["region"] == "eu-west-1"
    credentials = configparser.ConfigParser()
    credentials.read(paths.credentials)
    assert dict(credentials["operator"]) == {
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    assert stat.S_IMODE(paths.credentials.stat().st_mode) == 0o600


def test_missing_or_broken_state_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(MeshStateError, match="meshgov mesh up"):
        read_state(tmp_path)
    (tmp_path / "mesh.json").write_text("{}")
    with pytest.raises(MeshStateError, match="incomplete"):
        read_state(tmp_path)
    write_state(tmp_path, STATE)
    clear_state(tmp_path)
    with pytest.raises(MeshStateError):
        read_state(tmp_path)
