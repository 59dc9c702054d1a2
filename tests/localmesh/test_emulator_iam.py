"""IAM authorization in the local mesh (iam_policy.py, iam_requests.py, iam_enforcement.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from localmesh_support import CENTRAL, CONSUMER, PRODUCER, REGION, table_input
from moto.core import DEFAULT_ACCOUNT_ID

from meshgov_local.accounts import AccountSessions
from meshgov_local.emulator.iam_enforcement import decide, enforcement, role_session
from meshgov_local.emulator.iam_policy import Decision, Principal, conditions_hold, evaluate
from meshgov_local.emulator.iam_requests import Check, Where, checks

ROLE = "worker"
SESSION = Principal(
    CENTRAL, f"arn:aws:sts::{CENTRAL}:assumed-role/{ROLE}/s", f"arn:aws:iam::{CENTRAL}:role/{ROLE}"
)


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


# --- the pure evaluation -----------------------------------------------------------------------


def test_explicit_deny_wins_over_allow_and_no_allow_is_an_implicit_deny() -> None:
    allow = _policy(_allow("glue:*"))
    deny = _policy({"Effect": "Deny", "Action": "glue:DeleteTable", "Resource": "*"})
    assert evaluate([allow], "glue:GetTable", "arn:x", {}) is Decision.ALLOW
    assert evaluate([allow, deny], "glue:DeleteTable", "arn:x", {}) is Decision.DENY
    assert evaluate([allow], "s3:GetObject", "arn:x", {}) is Decision.NOT_APPLICABLE


def test_actions_match_without_case_and_resources_with_case_and_wildcards() -> None:
    policy = _policy(_allow("Glue:Get*", "arn:aws:glue:eu-west-1:1:table/sales/*"))
    assert evaluate([policy], "glue:GetTable", "arn:aws:glue:eu-west-1:1:table/sales/o", {}) == (
        Decision.ALLOW
    )
    assert evaluate([policy], "glue:GetTable", "arn:aws:glue:eu-west-1:1:table/Sales/o", {}) == (
        Decision.NOT_APPLICABLE
    )
    assert evaluate([policy], "glue:CreateTable", "arn:aws:glue:eu-west-1:1:table/sales/o", {}) == (
        Decision.NOT_APPLICABLE
    )


def test_not_action_and_not_resource() -> None:
    policy = _policy(
        {"Effect": "Allow", "NotAction": "iam:*", "NotResource": "arn:aws:s3:::secret/*"}
    )
    assert evaluate([policy], "s3:GetObject", "arn:aws:s3:::open/k", {}) is Decision.ALLOW
    assert evaluate([policy], "s3:GetObject", "arn:aws:s3:::secret/k", {}) is (
        Decision.NOT_APPLICABLE
    )
    assert evaluate([policy], "iam:PassRole", "arn:aws:s3:::open/k", {}) is (
        Decision.NOT_APPLICABLE
    )


def test_conditions_absent_keys_if_exists_negation_and_null() -> None:
    ctx = {"aws:principalarn": "arn:aws:iam::1:role/meshgov-central-x"}
    assert conditions_hold({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::1:role/meshgov-*"}}, ctx)
    assert not conditions_hold({"StringEquals": {"aws:PrincipalOrgID": "o-1"}}, ctx)
    assert conditions_hold({"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-1"}}, ctx)
    assert not conditions_hold(
        {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::1:role/meshgov-*"}}, ctx
    )
    assert conditions_hold({"Null": {"aws:PrincipalOrgID": "true"}}, ctx)
    assert not conditions_hold({"Null": {"aws:PrincipalArn": "true"}}, ctx)


def test_resource_policies_name_the_account_the_role_or_everyone() -> None:
    by_account = _policy(_allow("sqs:SendMessage", Principal={"AWS": CENTRAL}))
    by_other = _policy(
        _allow("sqs:SendMessage", Principal={"AWS": f"arn:aws:iam::{PRODUCER}:root"})
    )
    by_role = _policy(_allow("sqs:SendMessage", Principal={"AWS": SESSION.principal_arn}))
    for policy, expected in ((by_account, Decision.ALLOW), (by_other, Decision.NOT_APPLICABLE)):
        assert evaluate([policy], "sqs:SendMessage", "arn:q", {}, caller=SESSION) is expected
    assert evaluate([by_role], "sqs:SendMessage", "arn:q", {}, caller=SESSION) is Decision.ALLOW


# --- what a request is authorized as -------------------------------------------------------------

WHERE = Where(CENTRAL, REGION)
GLUE = f"arn:aws:glue:{REGION}:{CENTRAL}"


def test_a_glue_object_needs_permission_on_itself_and_its_ancestors() -> None:
    assert checks("glue", "GetTable", {"DatabaseName": "Sales", "Name": "Orders"}, WHERE) == (
        Check("glue:GetTable", f"{GLUE}:catalog"),
        Check("glue:GetTable", f"{GLUE}:database/sales"),
        Check("glue:GetTable", f"{GLUE}:table/sales/orders"),
    )
    assert checks("glue", "GetTables", {"DatabaseName": "sales"}, WHERE)[-1] == Check(
        "glue:GetTables", f"{GLUE}:table/sales/*"
    )
    producer = checks(
        "glue", "CreateDatabase", {"CatalogId": PRODUCER, "DatabaseInput": {"Name": "x"}}, WHERE
    )
    assert producer[-1].resource == f"arn:aws:glue:{REGION}:{PRODUCER}:database/x"
    dropped = checks(
        "glue", "BatchDeleteTable", {"DatabaseName": "d", "TablesToDelete": ["a", "b"]}, WHERE
    )
    assert [c.resource for c in dropped][-2:] == [f"{GLUE}:table/d/a", f"{GLUE}:table/d/b"]


def test_dynamodb_transactions_are_authorized_per_item_and_indexes_by_their_arn() -> None:
    items = [
        {"Put": {"TableName": "audit", "Item": {}}},
        {"ConditionCheck": {"TableName": "audit", "Key": {}}},
    ]
    table = f"arn:aws:dynamodb:{REGION}:{CENTRAL}:table/audit"
    assert checks("dynamodb", "TransactWriteItems", {"TransactItems": items}, WHERE) == (
        Check("dynamodb:PutItem", table),
        Check("dynamodb:ConditionCheckItem", table),
    )
    assert checks("dynamodb", "Query", {"TableName": "audit", "IndexName": "by-seq"}, WHERE) == (
        Check("dynamodb:Query", f"{table}/index/by-seq"),
    )


def test_queues_buses_and_roles_are_named_by_their_arns() -> None:
    url = f"https://sqs.{REGION}.amazonaws.com/{PRODUCER}/dlq"
    assert checks("sqs", "SendMessageBatch", {"QueueUrl": url}, WHERE) == (
        Check("sqs:SendMessage", f"arn:aws:sqs:{REGION}:{PRODUCER}:dlq"),
    )
    entries = [
        {"EventBusName": "meshgov"},
        {"EventBusName": f"arn:aws:events:{REGION}:{PRODUCER}:event-bus/meshgov"},
    ]
    assert {c.resource for c in checks("events", "PutEvents", {"Entries": entries}, WHERE)} == {
        f"arn:aws:events:{REGION}:{CENTRAL}:event-bus/meshgov",
        f"arn:aws:events:{REGION}:{PRODUCER}:event-bus/meshgov",
    }
    assert checks("sts", "GetCallerIdentity", {}, WHERE) == ()


# --- enforced on moto's requests ---------------------------------------------------------------


def _role(mesh: AccountSessions, account: str, *statements: dict[str, Any]) -> Any:
    """A role of ``account`` with ``statements`` as its only permissions; a boto3 session as it."""
    iam = mesh.client(account, "iam")
    # Trusted by the operator (moto's default account), who acts as each account in these tests.
    trust = _policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:root"},
            "Action": "sts:AssumeRole",
        }
    )
    iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=trust)
    if statements:
        iam.put_role_policy(RoleName=ROLE, PolicyName="p", PolicyDocument=_policy(*statements))
    return mesh.session(account, ROLE)


def _code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def test_a_role_reads_what_its_policy_names_and_nothing_else(mesh: AccountSessions) -> None:
    # Given two tables, and a role allowed to read one of them
    admin = mesh.client(CENTRAL, "glue")
    admin.create_database(DatabaseInput={"Name": "sales"})
    for name in ("orders", "payroll"):
        admin.create_table(DatabaseName="sales", TableInput=table_input(name))
    glue = _role(
        mesh,
        CENTRAL,
        _allow(
            "glue:GetTable",
            [f"{GLUE}:catalog", f"{GLUE}:database/sales", f"{GLUE}:table/sales/orders"],
        ),
    ).client("glue")

    # When it reads both, and writes
    assert glue.get_table(DatabaseName="sales", Name="orders")["Table"]["Name"] == "orders"
    with pytest.raises(ClientError) as read:
        glue.get_table(DatabaseName="sales", Name="payroll")
    with pytest.raises(ClientError) as write:
        glue.delete_table(DatabaseName="sales", Name="orders")

    # Then the other table and the write are refused with Glue's own error, naming who and what
    assert _code(read) == _code(write) == "AccessDeniedException"
    text = str(read.value)
    assert f"assumed-role/{ROLE}/" in text and "glue:GetTable" in text
    assert f"{GLUE}:table/sales/payroll" in text
    assert "no identity-based policy allows" in text
    # And nothing was deleted
    assert {t["Name"] for t in admin.get_tables(DatabaseName="sales")["TableList"]} == {
        "orders",
        "payroll",
    }


def test_an_explicit_deny_wins_and_names_itself(mesh: AccountSessions) -> None:
    session = _role(
        mesh,
        CENTRAL,
        _allow("sqs:*"),
        {"Effect": "Deny", "Action": "sqs:DeleteQueue", "Resource": "*"},
    )
    sqs = session.client("sqs")
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    with pytest.raises(ClientError) as error:
        sqs.delete_queue(QueueUrl=url)
    assert _code(error) == "AccessDenied"  # SQS's own code
    assert "explicit deny in an identity-based policy" in str(error.value)
    assert url in mesh.client(CENTRAL, "sqs").list_queues().get("QueueUrls", [])


def test_sts_assume_role_needs_the_callers_permission_too(mesh: AccountSessions) -> None:
    # Given a target role trusting the whole account, and a caller whose policy allows nothing
    mesh.client(CENTRAL, "iam").create_role(
        RoleName="target",
        AssumeRolePolicyDocument=_policy(
            {"Effect": "Allow", "Principal": {"AWS": CENTRAL}, "Action": "sts:AssumeRole"}
        ),
    )
    sts = _role(mesh, CENTRAL).client("sts")
    # When / Then only GetCallerIdentity answers ("no permissions are required")
    assert sts.get_caller_identity()["Account"] == CENTRAL
    with pytest.raises(ClientError) as error:
        sts.assume_role(RoleArn=f"arn:aws:iam::{CENTRAL}:role/target", RoleSessionName="xx")
    assert _code(error) == "AccessDenied"
    assert "sts:AssumeRole" in str(error.value)


def test_a_key_policy_decides_who_signs(mesh: AccountSessions) -> None:
    # Given a key whose policy lets the account administer and verify, and only "signer" sign
    kms = mesh.client(CENTRAL, "kms")
    signer = _role(mesh, CENTRAL).client("kms")  # no IAM permission at all
    key = kms.create_key(
        KeySpec="ECC_NIST_P256",
        KeyUsage="SIGN_VERIFY",
        Policy=_policy(
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{CENTRAL}:root"},
                "Action": ["kms:Describe*", "kms:Verify", "kms:GetPublicKey"],
                "Resource": "*",
            },
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{CENTRAL}:role/{ROLE}"},
                "Action": "kms:Sign",
                "Resource": "*",
            },
        ),
    )["KeyMetadata"]["KeyId"]
    message = {"Message": b"x" * 32, "MessageType": "DIGEST", "SigningAlgorithm": "ECDSA_SHA_256"}

    # When the role named by the key policy signs, and the account's administrator tries
    assert signer.sign(KeyId=key, **message)["Signature"]
    with pytest.raises(ClientError) as error:
        kms.sign(KeyId=key, **message)

    # Then the administrator's IAM "*" is not enough: no key policy statement allows it
    assert _code(error) == "AccessDeniedException"
    assert "kms:Sign" in str(error.value) and "resource-based policy" in str(error.value)
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyId"] == key


def test_s3_requests_are_authorized_per_bucket_and_object(mesh: AccountSessions) -> None:
    # Given a bucket, a role that may read it but not write, and a bucket policy denying writes
    # to everyone under locked/
    s3 = mesh.client(CENTRAL, "s3")
    s3.create_bucket(Bucket="digests", CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket="digests", Key="open/a", Body=b"a")
    s3.put_bucket_policy(
        Bucket="digests",
        Policy=_policy(
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": "arn:aws:s3:::digests/locked/*",
            }
        ),
    )
    reader = _role(mesh, CENTRAL, _allow(["s3:GetObject"], "arn:aws:s3:::digests/*")).client("s3")

    # When the role reads and writes, and the administrator writes under the denied prefix
    assert reader.get_object(Bucket="digests", Key="open/a")["Body"].read() == b"a"
    with pytest.raises(ClientError) as write:
        reader.put_object(Bucket="digests", Key="open/b", Body=b"b")
    with pytest.raises(ClientError) as denied:
        s3.put_object(Bucket="digests", Key="locked/c", Body=b"c")

    # Then the role's write is S3's AccessDenied; the explicit deny binds the administrator too
    # (moto answers that one itself, with a bare 403)
    assert _code(write) == "AccessDenied"
    assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="digests")["Contents"]] == ["open/a"]


def test_cross_account_needs_the_resource_policy_as_well(mesh: AccountSessions) -> None:
    # Given a producer queue, and a consumer role allowed by its own policy to send to it (moto
    # serves SQS per caller account, so the decision is asked directly)
    url = mesh.client(PRODUCER, "sqs").create_queue(QueueName="inbox")["QueueUrl"]
    _role(mesh, CONSUMER, _allow("sqs:SendMessage"))
    session = next(
        s
        for s in (role_session(k) for k in _temporary_keys(CONSUMER))
        if s is not None and s.role_name == ROLE
    )
    where = Where(CONSUMER, REGION)
    send = checks("sqs", "SendMessage", {"QueueUrl": url}, where)

    # When the queue's policy does not name the consumer, then allows it
    refused = decide(session, "sqs", send, where)
    mesh.client(PRODUCER, "sqs").set_queue_attributes(
        QueueUrl=url,
        Attributes={
            "Policy": _policy(
                _allow(
                    "sqs:SendMessage",
                    f"arn:aws:sqs:{REGION}:{PRODUCER}:inbox",
                    Principal={"AWS": f"arn:aws:iam::{CONSUMER}:root"},
                )
            )
        },
    )

    # Then both sides must allow
    assert refused is not None and "no resource-based policy allows" in refused.reason
    assert decide(session, "sqs", send, where) is None


def _temporary_keys(account: str) -> list[str]:
    from moto.iam.models import iam_backends

    return [k for k in iam_backends[account]["aws"].access_keys if k.startswith("ASIA")]


def test_enforcement_can_be_suspended_for_a_block(mesh: AccountSessions) -> None:
    glue = _role(mesh, CENTRAL).client("glue")
    with pytest.raises(ClientError):
        glue.get_databases()
    with enforcement(False):
        assert glue.get_databases()["DatabaseList"] == []
    with pytest.raises(ClientError):
        glue.get_databases()


def test_the_server_refuses_too(served_mesh: AccountSessions) -> None:
    glue = _role(served_mesh, PRODUCER).client("glue", endpoint_url=served_mesh.endpoint_url)
    with pytest.raises(ClientError) as error:
        glue.create_database(DatabaseInput={"Name": "nope"})
    assert _code(error) == "AccessDeniedException"
    assert served_mesh.client(PRODUCER, "glue").get_databases()["DatabaseList"] == []
