"""Least privilege, measured (issue 6): what each function's code calls against its policy."""

from __future__ import annotations

from typing import Any

import pytest
from moto import mock_aws

from meshgov_local import actions, privilege
from meshgov_local.actions import ActionRecorder, iam_actions
from meshgov_local.emulator import controls
from meshgov_local.mesh import LocalMesh
from meshgov_local.template import Template

FUNCTION = "Fn"


def template(statements: list[dict[str, Any]], **function: Any) -> Template:
    """One function, its role with one inline policy of ``statements``."""
    return Template(
        {
            "Globals": {"Function": {"Tracing": "Active"}},
            "Resources": {
                "FnRole": {
                    "Type": "AWS::IAM::Role",
                    "Properties": {
                        "ManagedPolicyArns": [
                            {
                                "Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/"
                                "AWSLambdaBasicExecutionRole"
                            }
                        ],
                        "Policies": [
                            {
                                "PolicyName": "p",
                                "PolicyDocument": {"Statement": statements},
                            }
                        ],
                    },
                },
                FUNCTION: {
                    "Type": "AWS::Serverless::Function",
                    "Properties": {"Role": {"Fn::GetAtt": ["FnRole", "Arn"]}, **function},
                },
            },
        }
    )


def allow(*actions_: str, resource: Any = "arn:aws:glue:eu-west-1:1:catalog") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": list(actions_), "Resource": resource}


def findings(t: Template, called: set[str], **kwargs: Any) -> list[str]:
    reports = privilege.compare(t, {(FUNCTION, actions.EXECUTION_ROLE): called}, **kwargs)
    return sorted(str(f) for f in privilege.mismatches(reports))


# --- the comparison, on small templates -----------------------------------------------------------
def test_an_exact_policy_has_no_finding() -> None:
    t = template([allow("glue:GetTable", "glue:CreateTable")])
    assert findings(t, {"glue:GetTable", "glue:CreateTable"}) == []


def test_called_but_not_granted_is_a_finding() -> None:
    t = template([allow("glue:GetTable")])
    assert findings(t, {"glue:GetTable", "glue:DeleteTable"}) == [
        "FnRole: called-not-granted glue:DeleteTable"
    ]


def test_granted_but_never_called_is_a_finding() -> None:
    t = template([allow("glue:GetTable", "glue:DeleteDatabase")])
    assert findings(t, {"glue:GetTable"}) == ["FnRole: granted-not-called glue:DeleteDatabase"]


@pytest.mark.parametrize("action", ["*", "glue:*", "glue:Get*"])
def test_wildcard_actions_are_findings(action: str) -> None:
    t = template([allow("glue:GetTable", action)])
    assert f"FnRole: wildcard-action {action} (FnRole/p)" in findings(t, {"glue:GetTable"})


def test_resource_star_only_where_the_service_has_no_resource_types() -> None:
    t = template([allow("lakeformation:ListLFTags", "glue:GetTable", resource="*")])
    assert findings(t, {"lakeformation:ListLFTags", "glue:GetTable"}) == [
        "FnRole: resource-star glue:GetTable (FnRole/p)"
    ]


def test_statements_under_fn_if_are_measured_in_each_branch() -> None:
    # A statement some stacks deploy (Fn::If, else AWS::NoValue), and one chosen between two
    conditional = {"Fn::If": ["C", allow("s3:GetObject"), {"Ref": "AWS::NoValue"}]}
    either = {"Fn::If": ["D", allow("glue:GetTable"), allow("glue:GetTables", resource="*")]}
    t = template([allow("glue:GetDatabase"), conditional, either])
    assert findings(t, {"glue:GetDatabase", "s3:GetObject", "glue:GetTable"}) == [
        "FnRole: granted-not-called glue:GetTables",
        "FnRole: resource-star glue:GetTables (FnRole/p)",
    ]
    assert findings(t, {"glue:GetDatabase", "glue:GetTable", "glue:GetTables"}) == [
        "FnRole: granted-not-called s3:GetObject",
        "FnRole: resource-star glue:GetTables (FnRole/p)",
    ]


def test_what_the_lambda_service_uses_is_not_never_called() -> None:
    sqs = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
    t = template(
        [
            allow(*sqs, "sqs:ChangeMessageVisibility", resource="arn:aws:sqs:q"),
            allow("sqs:SendMessage", resource="arn:aws:sqs:dlq"),
            allow("xray:PutTraceSegments", "xray:PutTelemetryRecords", resource="*"),
        ],
        Events={"Q": {"Type": "SQS", "Properties": {"Queue": "arn:aws:sqs:q"}}},
        EventInvokeConfig={"DestinationConfig": {"OnFailure": {"Type": "SQS"}}},
    )
    assert findings(t, set()) == []
    (report,) = privilege.compare(t, {}).values()
    assert "logs:PutLogEvents" in report.platform  # AWSLambdaBasicExecutionRole
    # ... but without the event source, the queue actions are never used by anyone
    bare = template([allow(*sqs, resource="arn:aws:sqs:q")])
    assert len(findings(bare, set())) == 3


def test_customer_managed_policies_and_key_policies_grant_the_role() -> None:
    t = template([])
    resources = dict(t.document["Resources"])
    role = dict(resources["FnRole"])
    role["Properties"] = {**role["Properties"], "ManagedPolicyArns": [{"Ref": "Shared"}]}
    resources["FnRole"] = role
    resources["Shared"] = {
        "Type": "AWS::IAM::ManagedPolicy",
        "Properties": {"PolicyDocument": {"Statement": [allow("glue:GetTable")]}},
    }
    resources["Key"] = {
        "Type": "AWS::KMS::Key",
        "Properties": {
            "KeyPolicy": {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": {"Fn::GetAtt": ["FnRole", "Arn"]}},
                        "Action": ["kms:Sign"],
                        "Resource": "*",
                    }
                ]
            }
        },
    }
    t = Template({**t.document, "Resources": resources})
    assert findings(t, {"glue:GetTable", "kms:Sign"}) == []
    assert findings(t, {"glue:GetTable"}) == ["FnRole: granted-not-called kms:Sign"]


def test_calls_made_with_an_assumed_role_are_that_roles() -> None:
    t = template([allow("sts:AssumeRole", resource="arn:aws:iam::*:role/reader")])
    resources = dict(t.document["Resources"])
    resources["Reader"] = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "RoleName": {"Ref": "ReaderRoleName"},
            "Policies": [
                {"PolicyName": "r", "PolicyDocument": {"Statement": [allow("glue:GetTables")]}}
            ],
        },
    }
    t = Template(
        {
            **t.document,
            "Parameters": {"ReaderRoleName": {"Type": "String", "Default": "reader"}},
            "Resources": resources,
        }
    )
    called = {
        (FUNCTION, actions.EXECUTION_ROLE): {"sts:AssumeRole"},
        (FUNCTION, "arn:aws:iam::222222222222:role/reader"): {"glue:GetTables"},
    }
    reports = privilege.compare(t, called)
    assert privilege.mismatches(reports) == []
    assert reports["Reader"].functions == [FUNCTION]


# --- recording ------------------------------------------------------------------------------------
def test_operations_map_to_the_actions_iam_checks() -> None:
    put = {"TransactItems": [{"Put": {}}, {"Put": {}}, {"ConditionCheck": {}}]}
    assert iam_actions("dynamodb", "TransactWriteItems", put) == (
        "dynamodb:ConditionCheckItem",
        "dynamodb:PutItem",
    )
    assert iam_actions("s3", "ListObjectVersions", {}) == ("s3:ListBucketVersions",)
    assert iam_actions("s3", "GetObject", {"VersionId": "v"}) == ("s3:GetObjectVersion",)
    assert iam_actions("lakeformation", "ListLFTags", {}) == ("lakeformation:ListLFTags",)


def test_the_recorder_attributes_calls_by_credentials() -> None:
    controls.reset()
    recorder = ActionRecorder()
    with mock_aws(), actions.active(recorder):
        mesh = LocalMesh()
        # Glue events the sync function reads through the producer's reader role
        glue = mesh.client(mesh.producer, "glue")
        glue.create_database(
            DatabaseInput={"Name": "sales", "Parameters": {"meshgov:publish": "true"}}
        )
        mesh.settle()
        # ... and what the test does itself is nobody's
        mesh.client(mesh.central, "glue").get_databases()
    controls.reset()
    found = recorder.actions()
    own = found[("CatalogSyncFunction", actions.EXECUTION_ROLE)]
    assert {"sts:AssumeRole", "glue:CreateDatabase", "dynamodb:PutItem"} <= own
    assert "glue:GetDatabases" not in own
    reader = f"arn:aws:iam::{mesh.producer}:role/{mesh.config.reader_role}"
    assert "glue:GetDatabase" in found[("CatalogSyncFunction", reader)]
    assert "sts:AssumeRole" not in found[("CatalogSyncFunction", reader)]


# --- the real template ---------------------------------------------------------------------------
def test_template_yaml_grants_exactly_what_the_functions_call() -> None:
    from bench.privilege import measure

    result = measure()
    assert result["findings"] == []
    assert result["policy_mismatches"] == 0
    roles = result["roles"]
    # Every function and the assumed reader role were exercised
    exercised = {f for report in roles.values() for f in report["functions"] if report["called"]}
    assert exercised == {
        "CatalogSyncFunction",
        "CatalogSweepFunction",
        "CatalogSweepWorkerFunction",
        "AccessRequestsFunction",
        "AccessSweepFunction",
        "AuditDigestFunction",
        "MemberAccessFunction",
        "UsageFunction",
        "LineageFunction",
    }
    assert roles["CatalogReaderRole"]["called"]
    # The reader role's ReadContracts (under Fn::If) is measured and used: a contract was read
    assert "s3:GetObject" in roles["CatalogReaderRole"]["granted"]
    assert "s3:GetObject" in roles["CatalogReaderRole"]["called"]
