"""AssumeRole honours role existence and trust policies (see sts_trust.py)."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError
from localmesh_support import CENTRAL, CONSUMER, PRODUCER

from meshgov_local.accounts import AccountSessions
from meshgov_local.emulator.sts_trust import Caller, trust_allows


def _trust(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _allow(principal: Any, condition: dict[str, Any] | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": principal,
        "Action": "sts:AssumeRole",
    }
    if condition:
        statement["Condition"] = condition
    return statement


def _create_role(mesh: AccountSessions, name: str, policy: str) -> str:
    iam = mesh.client(PRODUCER, "iam")
    return str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=policy)["Role"]["Arn"])


def _assume(mesh: AccountSessions, account: str, role_arn: str) -> str:
    """The account the assumed credentials act in, or the error code."""
    try:
        mesh.client(account, "sts").assume_role(RoleArn=role_arn, RoleSessionName="test")
    except ClientError as error:
        return str(error.response["Error"]["Code"])
    return "assumed"


def test_a_role_that_does_not_exist_cannot_be_assumed(mesh: AccountSessions) -> None:
    # Given no role named ghost in the producer account
    # When central assumes it
    outcome = _assume(mesh, CENTRAL, f"arn:aws:iam::{PRODUCER}:role/ghost")

    # Then AccessDenied
    assert outcome == "AccessDenied"


def test_account_principal_trusts_that_account_only(mesh: AccountSessions) -> None:
    # Given a role trusting the central account by its short id
    role = _create_role(mesh, "reader", _trust(_allow({"AWS": CENTRAL})))

    # When central and the consumer assume it
    # Then only central succeeds, with credentials acting in the producer account
    assert _assume(mesh, CENTRAL, role) == "assumed"
    assert _assume(mesh, CONSUMER, role) == "AccessDenied"
    credentials = mesh.client(CENTRAL, "sts").assume_role(RoleArn=role, RoleSessionName="session")
    assert credentials["AssumedRoleUser"]["Arn"].startswith(f"arn:aws:sts::{PRODUCER}:")


def test_role_principal_trusts_sessions_of_that_role(mesh: AccountSessions) -> None:
    # Given a role trusting the central account's admin role by ARN
    admin = f"arn:aws:iam::{CENTRAL}:role/meshgov-local-admin"
    role = _create_role(mesh, "reader", _trust(_allow({"AWS": [admin]})))

    # When sessions of central's and the consumer's admin roles assume it
    # Then only central's succeeds
    assert _assume(mesh, CENTRAL, role) == "assumed"
    assert _assume(mesh, CONSUMER, role) == "AccessDenied"


def test_principal_arn_condition_is_honoured(mesh: AccountSessions) -> None:
    # Given a role open to everyone whose principal ARN is like a central meshgov role
    condition = {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{CENTRAL}:role/meshgov-*"}}
    role = _create_role(mesh, "reader", _trust(_allow("*", condition)))

    # When central (meshgov-local-admin) and the consumer assume it
    # Then only central matches the condition
    assert _assume(mesh, CENTRAL, role) == "assumed"
    assert _assume(mesh, CONSUMER, role) == "AccessDenied"


def test_an_explicit_deny_wins(mesh: AccountSessions) -> None:
    # Given a role allowing everyone but denying the consumer
    deny = {**_allow({"AWS": f"arn:aws:iam::{CONSUMER}:root"}), "Effect": "Deny"}
    role = _create_role(mesh, "reader", _trust(_allow({"AWS": "*"}), deny))

    # When central and the consumer assume it
    # Then the consumer is denied
    assert _assume(mesh, CENTRAL, role) == "assumed"
    assert _assume(mesh, CONSUMER, role) == "AccessDenied"


def test_trust_evaluation_rules() -> None:
    # Given callers: a user of the operator account and a session of central's admin role
    operator = Caller(
        "123456789012", "arn:aws:sts::123456789012:user/moto", "arn:aws:sts::123456789012:user/moto"
    )
    session = Caller(
        CENTRAL,
        f"arn:aws:sts::{CENTRAL}:assumed-role/meshgov-local-admin/s",
        f"arn:aws:iam::{CENTRAL}:role/meshgov-local-admin",
    )  # fmt: skip

    # When policies are evaluated
    # Then account root and id forms are equivalent, services and other actions do not count,
    # unknown condition keys fail, and ExternalId is compared
    assert trust_allows(_trust(_allow({"AWS": "arn:aws:iam::123456789012:root"})), operator)
    assert not trust_allows(_trust(_allow({"Service": "lambda.amazonaws.com"})), operator)
    assert not trust_allows(
        _trust({**_allow({"AWS": CENTRAL}), "Action": "sts:TagSession"}), session
    )
    assert not trust_allows(
        _trust(_allow("*", {"StringEquals": {"aws:SourceVpc": "vpc-1"}})), session
    )
    external = _trust(_allow({"AWS": CENTRAL}, {"StringEquals": {"sts:ExternalId": "e-1"}}))
    assert trust_allows(external, session, external_id="e-1")
    assert not trust_allows(external, session)
