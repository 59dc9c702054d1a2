"""Registered data locations as Lake Formation answers them (emulator/lakeformation_locations.py).

RegisterResource: https://docs.aws.amazon.com/lake-formation/latest/APIReference/API_RegisterResource.html;
the registering principal needs iam:PassRole on the role,
https://docs.aws.amazon.com/lake-formation/latest/dg/registration-role.html; a bucket of
another account must allow the role, https://docs.aws.amazon.com/lake-formation/latest/dg/register-cross-account.html.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from localmesh_support import CENTRAL, PRODUCER, REGION, error_code
from moto.core import DEFAULT_ACCOUNT_ID

from meshgov_local.accounts import AccountSessions

DATA_ROLE = "data-location"
DATA_ROLE_ARN = f"arn:aws:iam::{CENTRAL}:role/{DATA_ROLE}"
REGISTRAR = "registrar"
BUCKET = "producer-data"
LOCATION = f"arn:aws:s3:::{BUCKET}"


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def _role(mesh: AccountSessions, name: str, trusted: str, *statements: dict[str, Any]) -> None:
    iam = mesh.client(CENTRAL, "iam")
    principal = {"Service": trusted} if "." in trusted else {"AWS": trusted}
    trust = _policy({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"})
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)
    if statements:
        iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=_policy(*statements))


def _registrar(mesh: AccountSessions, *statements: dict[str, Any]) -> Any:
    """Central's Lake Formation, as a role allowed RegisterResource and ``statements``."""
    register = _allow(["lakeformation:RegisterResource", "lakeformation:ListResources"])
    _role(mesh, REGISTRAR, f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:root", register, *statements)
    return mesh.session(CENTRAL, REGISTRAR).client("lakeformation")


def _pass_role(service: str = "lakeformation.amazonaws.com") -> dict[str, Any]:
    condition = {"StringEquals": {"iam:PassedToService": service}}
    return _allow("iam:PassRole", DATA_ROLE_ARN, Condition=condition)


def _reads_producer_data() -> list[dict[str, Any]]:
    return [
        _allow("s3:ListBucket", "arn:aws:s3:::*"),
        _allow("s3:GetObject", "arn:aws:s3:::*/*"),
    ]


def _producer_bucket(mesh: AccountSessions, trusting: str | None) -> None:
    s3 = mesh.client(PRODUCER, "s3")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    if trusting:
        principal = {"AWS": trusting}
        policy = _policy(
            {"Effect": "Allow", "Principal": principal, "Action": "s3:ListBucket",
             "Resource": LOCATION},
            {"Effect": "Allow", "Principal": principal, "Action": "s3:GetObject",
             "Resource": f"{LOCATION}/*"},
        )  # fmt: skip
        s3.put_bucket_policy(Bucket=BUCKET, Policy=policy)


def _registered(mesh: AccountSessions) -> list[str]:
    infos = mesh.client(CENTRAL, "lakeformation").list_resources()["ResourceInfoList"]
    return [info["ResourceArn"] for info in infos]


def test_registering_passes_the_role_only_with_iam_pass_role_for_lake_formation(
    mesh: AccountSessions,
) -> None:
    _role(mesh, DATA_ROLE, "lakeformation.amazonaws.com", *_reads_producer_data())
    # Given a registrar without iam:PassRole, one allowed to pass it to another service only
    lf = _registrar(mesh)
    with pytest.raises(Exception) as refused:
        lf.register_resource(ResourceArn=LOCATION, RoleArn=DATA_ROLE_ARN)
    # Then AccessDeniedException names the action and the role, and nothing is registered
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"  # type: ignore[attr-defined]
    assert "iam:PassRole" in str(refused.value) and DATA_ROLE_ARN in str(refused.value)
    assert _registered(mesh) == []
    mesh.client(CENTRAL, "iam").put_role_policy(
        RoleName=REGISTRAR,
        PolicyName="pass",
        PolicyDocument=_policy(_pass_role("glue.amazonaws.com")),
    )
    fresh = mesh.session(CENTRAL, REGISTRAR).client("lakeformation")
    assert error_code(
        lambda: fresh.register_resource(ResourceArn=LOCATION, RoleArn=DATA_ROLE_ARN)
    ) == ("AccessDeniedException")
    assert _registered(mesh) == []

    # When it may pass the role to Lake Formation
    mesh.client(CENTRAL, "iam").put_role_policy(
        RoleName=REGISTRAR, PolicyName="pass", PolicyDocument=_policy(_pass_role())
    )
    fresh.register_resource(ResourceArn=LOCATION, RoleArn=DATA_ROLE_ARN)

    # Then the location is registered with that role; a second registration already exists
    assert _registered(mesh) == [LOCATION]
    info = fresh.list_resources()["ResourceInfoList"][0]
    assert info["RoleArn"] == DATA_ROLE_ARN and "LastModified" in info
    assert error_code(
        lambda: fresh.register_resource(ResourceArn=LOCATION, RoleArn=DATA_ROLE_ARN)
    ) == ("AlreadyExistsException")


def test_a_role_of_another_account_cannot_be_passed(mesh: AccountSessions) -> None:
    other = mesh.client(PRODUCER, "iam")
    trust = _policy(
        {"Effect": "Allow", "Principal": {"Service": "lakeformation.amazonaws.com"},
         "Action": "sts:AssumeRole"}
    )  # fmt: skip
    other.create_role(RoleName=DATA_ROLE, AssumeRolePolicyDocument=trust)
    foreign = f"arn:aws:iam::{PRODUCER}:role/{DATA_ROLE}"
    lf = _registrar(mesh, _allow("iam:PassRole", "*"))
    assert error_code(lambda: lf.register_resource(ResourceArn=LOCATION, RoleArn=foreign)) == (
        "AccessDeniedException"
    )
    assert _registered(mesh) == []


def test_bad_registrations_are_refused_with_lake_formations_errors(mesh: AccountSessions) -> None:
    lf = mesh.client(CENTRAL, "lakeformation")  # the account root: passes any role it has
    _role(mesh, DATA_ROLE, "lakeformation.amazonaws.com")
    missing = f"arn:aws:iam::{CENTRAL}:role/nobody"
    assert error_code(lambda: lf.register_resource(ResourceArn=LOCATION, RoleArn=missing)) == (
        "EntityNotFoundException"
    )
    for bad in ("arn:aws:glue:eu-west-1:1:table/a/b", "s3://producer-data", "arn:aws:s3:::Bad_B"):
        assert error_code(
            lambda bad=bad: lf.register_resource(ResourceArn=bad, RoleArn=DATA_ROLE_ARN)
        ) == ("InvalidInputException"), bad
    assert error_code(lambda: lf.register_resource(ResourceArn=LOCATION)) == (
        "InvalidInputException"
    )
    assert _registered(mesh) == []
    for call in (lf.describe_resource, lf.deregister_resource):
        assert error_code(lambda call=call: call(ResourceArn=LOCATION)) == "EntityNotFoundException"


def test_list_resources_pages_and_describe_and_deregister(mesh: AccountSessions) -> None:
    lf = mesh.client(CENTRAL, "lakeformation")
    _role(mesh, DATA_ROLE, "lakeformation.amazonaws.com")
    arns = [f"arn:aws:s3:::bucket-{i}" for i in range(3)]
    for arn in arns:
        lf.register_resource(ResourceArn=arn, RoleArn=DATA_ROLE_ARN)
    seen, kwargs = [], {"MaxResults": 2}
    while True:
        page = lf.list_resources(**kwargs)
        assert len(page["ResourceInfoList"]) <= 2
        seen += [info["ResourceArn"] for info in page["ResourceInfoList"]]
        if "NextToken" not in page:
            break
        kwargs["NextToken"] = page["NextToken"]
    assert seen == arns
    assert lf.describe_resource(ResourceArn=arns[1])["ResourceInfo"]["RoleArn"] == DATA_ROLE_ARN
    lf.deregister_resource(ResourceArn=arns[1])
    assert _registered(mesh) == [arns[0], arns[2]]


@pytest.mark.parametrize(
    ("role_reads", "bucket_trusts", "status"),
    [
        (True, True, "VERIFIED"),
        (True, False, "NOT_VERIFIED"),  # across accounts the bucket policy must allow too
        (False, True, "NOT_VERIFIED"),  # ... and the role's own policy
    ],
)
def test_verification_status_says_whether_the_role_can_read_the_location(
    mesh: AccountSessions, role_reads: bool, bucket_trusts: bool, status: str
) -> None:
    statements = _reads_producer_data() if role_reads else []
    _role(mesh, DATA_ROLE, "lakeformation.amazonaws.com", *statements)
    _producer_bucket(mesh, DATA_ROLE_ARN if bucket_trusts else None)
    lf = mesh.client(CENTRAL, "lakeformation")
    lf.register_resource(ResourceArn=LOCATION, RoleArn=DATA_ROLE_ARN)
    assert lf.describe_resource(ResourceArn=LOCATION)["ResourceInfo"]["VerificationStatus"] == (
        status
    )


def test_verification_fails_when_the_bucket_does_not_exist(mesh: AccountSessions) -> None:
    _role(mesh, DATA_ROLE, "lakeformation.amazonaws.com", *_reads_producer_data())
    lf = mesh.client(CENTRAL, "lakeformation")
    lf.register_resource(ResourceArn="arn:aws:s3:::nowhere", RoleArn=DATA_ROLE_ARN)
    info = lf.describe_resource(ResourceArn="arn:aws:s3:::nowhere")["ResourceInfo"]
    assert info["VerificationStatus"] == "VERIFICATION_FAILED"
