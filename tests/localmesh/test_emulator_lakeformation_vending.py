"""Lake Formation for integrated engines (emulator/lakeformation_vending.py).

Workflow: https://docs.aws.amazon.com/lake-formation/latest/dg/api-overview.html; who may call:
https://docs.aws.amazon.com/lake-formation/latest/dg/permitting-third-party-call.html; session
policies: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access_assumerole.html;
GetDataAccess in CloudTrail: https://docs.aws.amazon.com/lake-formation/latest/dg/cross-account-logging.html;
read-only management events on EventBridge:
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail-management.html.

The mesh: central owns ``sales.orders`` and ``sales.payments`` under a registered location (its
``lf-data`` role), and ``sales.logs`` outside it; the consumer account received ``orders`` through
a share, links ``sales`` to central's database, and grants its ``analyst``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from localmesh_support import CENTRAL, CONSUMER, REGION, error_code, received
from moto.core import DEFAULT_ACCOUNT_ID

from meshgov_local.accounts import ADMIN_ROLE_NAME, AccountSessions

BUCKET = "central-data"
ENGINE_TAG = "meshgov-query"
ANALYST = f"arn:aws:iam::{CONSUMER}:role/analyst"
ORDERS_ARN = f"arn:aws:glue:{REGION}:{CENTRAL}:table/sales/orders"
ORDERS_OBJECT = b"PAR1 orders rows PAR1"
TRAIL_PATTERN = {
    "source": ["aws.lakeformation", "aws.glue"],
    "detail-type": ["AWS API Call via CloudTrail"],
}


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _allow(action: Any, resource: Any = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def _table(name: str, bucket: str = BUCKET) -> dict[str, Any]:
    columns = ("id", "amount", "email", "country")
    return {
        "Name": name,
        "StorageDescriptor": {
            "Columns": [{"Name": column, "Type": "string"} for column in columns],
            "Location": f"s3://{bucket}/{name}/",
        },
        "TableType": "EXTERNAL_TABLE",
    }


def _role(
    mesh: AccountSessions, account: str, name: str, trusted: dict[str, Any], *allowed: Any
) -> None:
    iam = mesh.client(account, "iam")
    trust = {
        "Effect": "Allow",
        "Principal": trusted,
        "Action": ["sts:AssumeRole", "sts:TagSession"],
    }
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=_policy(trust))
    iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=_policy(*allowed))


def _analyst(tags: dict[str, str] | None = None, policy: str | None = None) -> boto3.Session:
    """A fresh session of the consumer's analyst, assumed by the operator (with session tags)."""
    sts = boto3.client("sts", region_name=REGION)
    extra: dict[str, Any] = {}
    if tags is not None:
        extra["Tags"] = [{"Key": key, "Value": value} for key, value in tags.items()]
    if policy is not None:
        extra["Policy"] = policy
    creds = sts.assume_role(RoleArn=ANALYST, RoleSessionName="analyst", **extra)["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=REGION,
    )


@dataclass
class Mesh:
    sessions: AccountSessions

    def engine(self, tagged: bool = True) -> boto3.Session:
        return _analyst({"LakeFormationAuthorizedCaller": ENGINE_TAG} if tagged else None)

    def grant(self, resource: dict[str, Any], permissions: list[str]) -> None:
        self.sessions.client(CONSUMER, "lakeformation").grant_permissions(
            Principal={"DataLakePrincipalIdentifier": ANALYST},
            Resource=resource,
            Permissions=permissions,
        )

    def grant_orders(self, columns: list[str] | None = None) -> None:
        table = {"CatalogId": CENTRAL, "DatabaseName": "sales", "Name": "orders"}
        if columns is None:
            self.grant({"Table": table}, ["SELECT"])
        else:
            self.grant({"TableWithColumns": {**table, "ColumnNames": columns}}, ["SELECT"])

    def trail_rules(self) -> tuple[str, str]:
        """Queues behind two rules of the consumer's default bus: one asking for read-only
        management events, one merely ENABLED."""
        sqs, events = (
            self.sessions.client(CONSUMER, "sqs"),
            self.sessions.client(CONSUMER, "events"),
        )
        urls = []
        for name, state in (
            ("all-mgmt", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"),
            ("plain", "ENABLED"),
        ):
            url = sqs.create_queue(QueueName=name)["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
            events.put_rule(Name=name, EventPattern=json.dumps(TRAIL_PATTERN), State=state)
            events.put_targets(Rule=name, Targets=[{"Id": "q", "Arn": arn}])
            assert events.describe_rule(Name=name)["State"] == state
            urls.append(url)
        return urls[0], urls[1]


@pytest.fixture
def shared(mesh: AccountSessions) -> Mesh:
    central_admin = f"arn:aws:iam::{CENTRAL}:role/{ADMIN_ROLE_NAME}"
    mesh.client(CENTRAL, "lakeformation").put_data_lake_settings(
        DataLakeSettings={
            "DataLakeAdmins": [{"DataLakePrincipalIdentifier": central_admin}],
            "CreateDatabaseDefaultPermissions": [],
            "CreateTableDefaultPermissions": [],
            "AllowExternalDataFiltering": True,
            "ExternalDataFilteringAllowList": [{"DataLakePrincipalIdentifier": CONSUMER}],
            "AuthorizedSessionTagValueList": [ENGINE_TAG],
        }
    )
    s3 = mesh.client(CENTRAL, "s3")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket=BUCKET, Key="orders/part-0.parquet", Body=ORDERS_OBJECT)
    s3.put_object(Bucket=BUCKET, Key="payments/part-0.parquet", Body=b"PAR1 payments PAR1")
    # The location's role may read and write the whole bucket: the session policy narrows it.
    bucket = f"arn:aws:s3:::{BUCKET}"
    reads_and_writes = _allow(
        ["s3:GetObject", "s3:PutObject", "s3:ListBucket"], [bucket, f"{bucket}/*"]
    )
    _role(mesh, CENTRAL, "lf-data", {"Service": "lakeformation.amazonaws.com"}, reads_and_writes)
    central_lf = mesh.client(CENTRAL, "lakeformation")
    central_lf.register_resource(ResourceArn=bucket, RoleArn=f"arn:aws:iam::{CENTRAL}:role/lf-data")
    glue = mesh.client(CENTRAL, "glue")
    glue.create_database(DatabaseInput={"Name": "sales"})
    for name in ("orders", "payments"):
        glue.create_table(DatabaseName="sales", TableInput=_table(name))
    glue.create_table(DatabaseName="sales", TableInput=_table("logs", bucket="unregistered-data"))
    for name in ("orders", "logs"):
        central_lf.grant_permissions(
            Principal={"DataLakePrincipalIdentifier": CONSUMER},
            Resource={"Table": {"CatalogId": CENTRAL, "DatabaseName": "sales", "Name": name}},
            Permissions=["SELECT", "DESCRIBE"],
            PermissionsWithGrantOption=["SELECT", "DESCRIBE"],
        )
    consumer_admin = f"arn:aws:iam::{CONSUMER}:role/{ADMIN_ROLE_NAME}"
    mesh.client(CONSUMER, "lakeformation").put_data_lake_settings(
        DataLakeSettings={"DataLakeAdmins": [{"DataLakePrincipalIdentifier": consumer_admin}]}
    )
    ram = mesh.client(CONSUMER, "ram")
    for invitation in ram.get_resource_share_invitations()["resourceShareInvitations"]:
        ram.accept_resource_share_invitation(
            resourceShareInvitationArn=invitation["resourceShareInvitationArn"]
        )
    mesh.client(CONSUMER, "glue").create_database(
        DatabaseInput={
            "Name": "sales",
            "TargetDatabase": {"CatalogId": CENTRAL, "DatabaseName": "sales"},
        }
    )
    engine_rights = _allow(["glue:GetTable", "glue:GetDatabase", "lakeformation:GetDataAccess"])
    _role(
        mesh, CONSUMER, "analyst", {"AWS": f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:root"}, engine_rights
    )
    found = Mesh(mesh)
    found.grant({"Database": {"Name": "sales"}}, ["DESCRIBE"])  # the link
    return found


def _metadata(session: boto3.Session, name: str = "orders", *types: str) -> dict[str, Any]:
    answer: dict[str, Any] = session.client("glue").get_unfiltered_table_metadata(
        CatalogId=CONSUMER,
        DatabaseName="sales",
        Name=name,
        SupportedPermissionTypes=list(types or ["COLUMN_PERMISSION"]),
    )
    return answer


def _credentials(
    session: boto3.Session, table_arn: str = ORDERS_ARN, **extra: Any
) -> dict[str, Any]:
    answer: dict[str, Any] = session.client("lakeformation").get_temporary_glue_table_credentials(
        TableArn=table_arn, SupportedPermissionTypes=["COLUMN_PERMISSION"], **extra
    )
    return answer


def _s3_with(credentials: dict[str, Any]) -> Any:
    return boto3.client(
        "s3",
        region_name=REGION,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def _refusal(call: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as error:
        call()
    return str(error.value.response["Error"]["Code"]), str(error.value)


# --- GetUnfilteredTableMetadata -------------------------------------------------------------------


def test_a_full_grant_authorizes_every_column_of_the_target_through_the_link(shared: Mesh) -> None:
    shared.grant_orders()
    answer = _metadata(shared.engine())
    assert answer["AuthorizedColumns"] == ["id", "amount", "email", "country"]
    assert answer["Table"]["CatalogId"] == CENTRAL and answer["Table"]["DatabaseName"] == "sales"
    assert answer["IsRegisteredWithLakeFormation"] is True
    assert "SELECT" in answer["Permissions"]
    assert "CellFilters" not in answer


def test_a_column_grant_authorizes_those_columns_and_the_table_keeps_its_whole_schema(
    shared: Mesh,
) -> None:
    shared.grant_orders(columns=["id", "amount"])
    answer = _metadata(shared.engine())
    assert answer["AuthorizedColumns"] == ["id", "amount"]
    schema = [c["Name"] for c in answer["Table"]["StorageDescriptor"]["Columns"]]
    assert schema == ["id", "amount", "email", "country"]  # "the entire schema for the table"


def test_an_engine_that_cannot_filter_columns_gets_a_permission_type_mismatch(
    shared: Mesh,
) -> None:
    shared.grant_orders(columns=["id", "amount"])
    code, _ = _refusal(lambda: _metadata(shared.engine(), "orders", "NESTED_PERMISSION"))
    assert code == "PermissionTypeMismatchException"
    code, _ = _refusal(
        lambda: (
            shared.engine()
            .client("lakeformation")
            .get_temporary_glue_table_credentials(
                TableArn=ORDERS_ARN, SupportedPermissionTypes=["NESTED_PERMISSION"]
            )
        )
    )
    assert code == "PermissionTypeMismatchException"


def test_without_a_grant_or_without_the_engine_tag_the_caller_is_refused(shared: Mesh) -> None:
    code, message = _refusal(lambda: _metadata(shared.engine()))
    assert code == "AccessDeniedException"
    assert "Insufficient Lake Formation permission(s)" in message
    shared.grant_orders()
    code, message = _refusal(lambda: _metadata(shared.engine(tagged=False)))
    assert code == "AccessDeniedException" and "LakeFormationAuthorizedCaller" in message
    wrong_tag = _analyst({"LakeFormationAuthorizedCaller": "someone-else"})
    assert error_code(lambda: _metadata(wrong_tag)) == "AccessDeniedException"
    # The operator's root credentials are no role session: refused as well
    root = boto3.client("glue", region_name=REGION)
    with pytest.raises(ClientError) as error:
        root.get_unfiltered_table_metadata(
            CatalogId=DEFAULT_ACCOUNT_ID, DatabaseName="x", Name="y",
            SupportedPermissionTypes=["COLUMN_PERMISSION"],
        )  # fmt: skip
    assert error.value.response["Error"]["Code"] == "AccessDeniedException"


def test_a_link_the_caller_may_not_describe_leads_nowhere(shared: Mesh) -> None:
    shared.grant_orders()
    shared.sessions.client(CONSUMER, "lakeformation").revoke_permissions(
        Principal={"DataLakePrincipalIdentifier": ANALYST},
        Resource={"Database": {"Name": "sales"}},
        Permissions=["DESCRIBE"],
    )
    code, message = _refusal(lambda: _metadata(shared.engine()))
    assert code == "AccessDeniedException" and "Required DESCRIBE on sales" in message


# --- GetTemporaryGlueTableCredentials -------------------------------------------------------------


def test_vended_credentials_read_the_tables_objects_and_nothing_else(shared: Mesh) -> None:
    shared.grant_orders()
    credentials = _credentials(shared.engine(), DurationSeconds=900)
    assert credentials["VendedS3Path"] == [f"s3://{BUCKET}/orders/"]
    s3 = _s3_with(credentials)

    body = s3.get_object(Bucket=BUCKET, Key="orders/part-0.parquet")["Body"].read()
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="orders/")["Contents"]
    assert body == ORDERS_OBJECT
    assert [o["Key"] for o in listed] == ["orders/part-0.parquet"]

    # Another table's prefix, the whole bucket, and any write are refused
    assert error_code(lambda: s3.get_object(Bucket=BUCKET, Key="payments/part-0.parquet")) == (
        "AccessDenied"
    )
    assert error_code(lambda: s3.list_objects_v2(Bucket=BUCKET, Prefix="payments/")) == (
        "AccessDenied"
    )
    assert error_code(lambda: s3.list_objects_v2(Bucket=BUCKET)) == "AccessDenied"
    assert error_code(
        lambda: s3.put_object(Bucket=BUCKET, Key="orders/evil.parquet", Body=b"x")
    ) == ("AccessDenied")
    keys = shared.sessions.client(CENTRAL, "s3").list_objects_v2(Bucket=BUCKET)["Contents"]
    assert "orders/evil.parquet" not in [k["Key"] for k in keys]


def test_credentials_need_select_a_registered_location_and_a_documented_duration(
    shared: Mesh,
) -> None:
    engine = shared.engine()
    rule_queue, _ = shared.trail_rules()
    code, message = _refusal(lambda: _credentials(engine))
    assert code == "AccessDeniedException" and "Required SELECT" in message
    shared.grant_orders()
    shared.grant(
        {"Table": {"CatalogId": CENTRAL, "DatabaseName": "sales", "Name": "logs"}}, ["SELECT"]
    )
    logs = f"arn:aws:glue:{REGION}:{CENTRAL}:table/sales/logs"
    code, message = _refusal(lambda: _credentials(engine, logs))
    assert code == "InvalidInputException" and "not registered with Lake Formation" in message
    code, _ = _refusal(lambda: _credentials(engine, DurationSeconds=21_601))
    assert code == "InvalidInputException"
    code, _ = _refusal(lambda: _credentials(engine, Permissions=["INSERT"]))
    assert code == "AccessDeniedException"
    # Nothing was vended, so no GetDataAccess was recorded: only the four refused calls, each
    # with its error
    events = [e["detail"] for e in received(shared.sessions, CONSUMER, rule_queue)]
    assert [e["eventName"] for e in events] == ["GetTemporaryGlueTableCredentials"] * 4
    assert [e["errorCode"] for e in events] == [
        "AccessDeniedException", "InvalidInputException", "InvalidInputException",
        "AccessDeniedException",
    ]  # fmt: skip


# --- GetDataAccess --------------------------------------------------------------------------------


def test_each_vending_is_a_get_data_access_event_for_rules_asking_for_read_only_events(
    shared: Mesh,
) -> None:
    shared.grant_orders()
    all_management, enabled = shared.trail_rules()
    link_arn = f"arn:aws:glue:{REGION}:{CONSUMER}:table/sales/orders"

    # When the engine asks for credentials through the link, with an audit context
    credentials = _credentials(
        shared.engine(), link_arn, AuditContext={"AdditionalAuditContext": "query-1"}
    )

    # Then the consumer's rule in state ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS gets two
    # events (the link access and the target access), the plain ENABLED rule none
    assert received(shared.sessions, CONSUMER, enabled) == []
    events = received(shared.sessions, CONSUMER, all_management)
    assert [e["detail"]["requestParameters"]["tableArn"] for e in events] == [link_arn, ORDERS_ARN]
    for event in events:
        assert (event["source"], event["detail-type"], event["account"]) == (
            "aws.lakeformation", "AWS API Call via CloudTrail", CONSUMER,
        )  # fmt: skip
        detail = event["detail"]
        assert (detail["eventSource"], detail["eventName"]) == (
            "lakeformation.amazonaws.com", "GetDataAccess",
        )  # fmt: skip
        assert detail["readOnly"] is True and detail["managementEvent"] is True
        assert (detail["eventType"], detail["eventCategory"]) == ("AwsApiCall", "Management")
        assert detail["recipientAccountId"] == CONSUMER and detail["awsRegion"] == REGION
        assert detail["requestParameters"]["auditContext"] == {"additionalAuditContext": "query-1"}
        extra = detail["additionalEventData"]
        assert extra["requesterService"] == "UNKNOWN"
        assert extra["lakeFormationRoleSessionName"].startswith(f"AWSLF-00-NA-{CONSUMER}-")
    link_event, target_event = (e["detail"] for e in events)
    # The link access names the principal; the shared target's only once the consumer opts in
    assert link_event["userIdentity"]["type"] == "AssumedRole"
    assert link_event["userIdentity"]["arn"].startswith(
        f"arn:aws:sts::{CONSUMER}:assumed-role/analyst/"
    )
    assert link_event["additionalEventData"]["lakeFormationPrincipal"] == ANALYST
    assert target_event["userIdentity"]["type"] == "AWSAccount"
    assert "lakeFormationPrincipal" not in target_event["additionalEventData"]
    assert credentials["AccessKeyId"]


# --- session policies (iam_enforcement.py) ------------------------------------------------------


def test_a_session_policy_limits_a_role_session_to_the_intersection(shared: Mesh) -> None:
    # Given the analyst allowed glue:GetTable by its role, and a session policy allowing only
    # glue:GetDatabase (and explicitly denying lakeformation:GetDataAccess)
    shared.grant_orders()
    limit = _policy(
        _allow("glue:GetDatabase"),
        {"Effect": "Deny", "Action": "lakeformation:GetDataAccess", "Resource": "*"},
    )
    limited = _analyst({"LakeFormationAuthorizedCaller": ENGINE_TAG}, policy=limit)
    code, message = _refusal(lambda: _metadata(limited))
    assert code == "AccessDeniedException"
    assert "because no session policy allows the glue:GetTable action" in message
    code, message = _refusal(lambda: _credentials(limited))
    assert "with an explicit deny in a session policy" in message
    # And what both allow still works
    limited.client("glue").get_database(Name="sales")


# --- data cells filters (lakeformation_filters.py) ----------------------------------------------


def test_a_row_filter_needs_an_engine_that_filters_cells_and_comes_back_as_cell_filters(
    shared: Mesh,
) -> None:
    # Given a filter on orders (German rows, without email) shared with the consumer and granted
    # by it to the analyst, who holds nothing else on orders
    central_lf = shared.sessions.client(CENTRAL, "lakeformation")
    central_lf.create_data_cells_filter(
        TableData={
            "TableCatalogId": CENTRAL,
            "DatabaseName": "sales",
            "TableName": "orders",
            "Name": "de_only",
            "RowFilter": {"FilterExpression": "country = 'DE'"},
            "ColumnWildcard": {"ExcludedColumnNames": ["email"]},
        }
    )
    cells = {
        "DataCellsFilter": {
            "TableCatalogId": CENTRAL, "DatabaseName": "sales", "TableName": "orders",
            "Name": "de_only",
        }
    }  # fmt: skip
    central_lf.grant_permissions(
        Principal={"DataLakePrincipalIdentifier": CONSUMER},
        Resource=cells,
        Permissions=["SELECT"],
        PermissionsWithGrantOption=["SELECT"],
    )
    shared.grant(cells, ["SELECT"])
    engine = shared.engine()

    # When an engine declares column filtering only, then it may not have the table
    code, _ = _refusal(lambda: _metadata(engine, "orders", "COLUMN_PERMISSION"))
    assert code == "PermissionTypeMismatchException"
    assert error_code(lambda: _credentials(engine)) == "PermissionTypeMismatchException"

    # When it declares cell filtering, then it learns the columns and the row condition
    answer = _metadata(engine, "orders", "CELL_FILTER_PERMISSION")
    assert answer["AuthorizedColumns"] == ["id", "amount", "country"]
    assert answer["CellFilters"] == [
        {"ColumnName": column, "RowFilterExpression": "country = 'DE'"}
        for column in ("id", "amount", "country")
    ]
    assert answer["RowFilter"] == "country = 'DE'"
    credentials = engine.client("lakeformation").get_temporary_glue_table_credentials(
        TableArn=ORDERS_ARN, SupportedPermissionTypes=["CELL_FILTER_PERMISSION"]
    )
    assert _s3_with(credentials).get_object(Bucket=BUCKET, Key="orders/part-0.parquet")


def test_full_table_access_needs_no_session_tag_and_an_opted_in_consumer_is_named(
    shared: Mesh,
) -> None:
    # Given central allows full-table credentials without session tags, and the consumer opted in
    # to share its principals' ARNs with central (TrustedResourceOwners)
    for account, change in (
        (CENTRAL, {"AllowFullTableExternalDataAccess": True}),
        (CONSUMER, {"TrustedResourceOwners": [CENTRAL]}),
    ):
        lf = shared.sessions.client(account, "lakeformation")
        settings = lf.get_data_lake_settings()["DataLakeSettings"]
        lf.put_data_lake_settings(DataLakeSettings={**settings, **change})
    all_management, _ = shared.trail_rules()
    untagged = shared.engine(tagged=False)

    # When the analyst holds only some columns, then an untagged engine is refused
    shared.grant_orders(columns=["id"])
    assert error_code(lambda: _credentials(untagged)) == "AccessDeniedException"

    # When it holds the whole table, then the untagged engine gets credentials, and the event of
    # the target access names the analyst
    shared.grant_orders()
    _credentials(untagged)
    refused, event = received(shared.sessions, CONSUMER, all_management)
    assert refused["detail"]["errorCode"] == "AccessDeniedException"
    assert event["detail"]["additionalEventData"]["lakeFormationPrincipal"] == ANALYST
    assert event["detail"]["requestParameters"]["tableArn"] == ORDERS_ARN


def test_a_refused_call_is_recorded_with_its_error_as_cloudtrail_does(shared: Mesh) -> None:
    # Given rules on the consumer's default bus for read-only management events
    all_management, enabled = shared.trail_rules()
    # When the analyst's engine asks for a table it holds nothing on
    code, message = _refusal(lambda: _metadata(shared.engine()))
    assert code == "AccessDeniedException"
    # Then CloudTrail's record of the failed call reaches the rule asking for such events
    assert received(shared.sessions, CONSUMER, enabled) == []
    (event,) = received(shared.sessions, CONSUMER, all_management)
    assert (event["source"], event["detail-type"]) == ("aws.glue", "AWS API Call via CloudTrail")
    detail = event["detail"]
    assert (detail["eventSource"], detail["eventName"]) == (
        "glue.amazonaws.com", "GetUnfilteredTableMetadata",
    )  # fmt: skip
    assert detail["errorCode"] == "AccessDeniedException"
    assert message.endswith(detail["errorMessage"])
    assert detail["requestParameters"]["name"] == "orders"
    assert detail["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"] == ANALYST
