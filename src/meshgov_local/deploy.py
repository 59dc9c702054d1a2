"""Deploys template.yaml into moto: the central stack and one member stack per member account.

CloudFormation cannot run here (moto's CloudFormation does not run the SAM transform, and Lambda
needs docker), so this is a small, explicit deployer of the template's own resources: buses, bus
policies, rules (patterns and targets as the template declares them), queues (redrive and
visibility from the template), tables (key schema and indexes), IAM roles and policies, Lake
Formation admins, KMS keys, S3 buckets and bucket policies. Functions are not created in moto:
the local mesh runs their handlers in-process, and :class:`FunctionBinding` tells it how (code
path, handler, resolved environment, event source).

Every step reads the current state first and changes only what differs, so deploying twice is a
no-op, as a CloudFormation update without changes is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from meshgov.aws.arns import Arns
from meshgov.aws.session import error_code
from meshgov_local.accounts import ADMIN_ROLE_NAME, AccountSessions
from meshgov_local.config import MeshConfig
from meshgov_local.emulator import ensure_admin_role
from meshgov_local.query_access import allow_query_engine
from meshgov_local.template import (
    FunctionSpec,
    Resolver,
    Template,
    TemplateError,
    checked_maximum_concurrency,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_lakeformation import LakeFormationClient
    from mypy_boto3_sqs import SQSClient

# The resources of the central stack the local mesh addresses directly (logical ids).
CENTRAL_BUS = "MeshgovBus"
AUDIT_TABLE = "AuditTable"
LEDGER_TABLE = "SyncLedgerTable"
REQUESTS_TABLE = "AccessRequestsTable"
USAGE_TABLE = "UsageTable"
REGISTRY_TABLE = "RegistryTable"
MEMBER_BUS = "MemberMeshgovBus"
DIGEST_BUCKET = "AuditDigestBucket"
DIGEST_KEY = "AuditDigestKey"

NAME_PREFIX = "meshgov-"

# Resource types that exist only through the local mesh, not as moto resources.
NOT_DEPLOYED_LOCALLY = {
    # moto runs Lambda only in docker: the local mesh calls the handlers in-process.
    "AWS::Serverless::Function": "run in-process (see FunctionBinding)",
    # Layer code is put on sys.path by the local mesh (FunctionBinding.layer_paths).
    "AWS::Serverless::LayerVersion": "put on sys.path",
}


class DeploymentError(Exception):
    """The local deployment cannot reach the state template.yaml describes."""


class DeploymentConflictError(DeploymentError):
    """A resource exists with settings that cannot be changed in place (e.g. a key schema)."""


@dataclass(frozen=True)
class FunctionBinding:
    """How the local mesh runs one function of template.yaml in-process."""

    logical_id: str
    code_path: Path
    # The handler: import ``handler_module`` from ``handler_file`` (with ``code_path`` and
    # ``layer_paths`` on sys.path) and call its ``handler_attribute``.
    handler_file: Path
    handler_module: str
    handler_attribute: str
    layer_paths: tuple[Path, ...]
    # Environment variables resolved to the physical names of this deployment.
    environment: Mapping[str, str]
    timeout: int
    role_arn: str | None
    source_queue_logical_id: str | None
    source_queue_url: str | None
    batch_size: int | None
    schedule: str | None
    on_failure_queue_url: str | None = None
    maximum_retry_attempts: int | None = None
    # The account whose stack holds the function (the central account or a member).
    account_id: str = ""
    # The SQS event source's ScalingConfig.MaximumConcurrency: the most invocations the source
    # runs at once. The router runs one batch at a time, so it never exceeds it (>= 2).
    maximum_concurrency: int | None = None
    # ReservedConcurrentExecutions: the most invocations of the function at once, from any source.
    reserved_concurrency: int | None = None


@dataclass(frozen=True)
class Deployment:
    """What deploy() created, by the names the local mesh and the tests need."""

    region: str
    central_account: str
    bus_name: str
    bus_arn: str
    audit_table_name: str
    ledger_table_name: str
    functions: Mapping[str, FunctionBinding]
    # Central queues (incl. DLQs) by logical id.
    queue_urls: Mapping[str, str]
    # Member account -> names of its forwarding rules (on its default bus).
    member_forwarding_rules: Mapping[str, tuple[str, ...]]
    # Member account -> its queues (the forwarding DLQ) by logical id.
    member_queue_urls: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # Member account -> ARN of its own meshgov bus (central re-publishes there).
    member_bus_arns: Mapping[str, str] = field(default_factory=dict)
    # Rule logical id -> physical name and the pattern deployed (the template's).
    rule_names: Mapping[str, str] = field(default_factory=dict)
    event_patterns: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # Member account -> its functions (the member access function), by logical id.
    member_functions: Mapping[str, Mapping[str, FunctionBinding]] = field(default_factory=dict)
    requests_table_name: str = ""
    # The audit digests' Object Lock bucket and the KMS key that signs them (central).
    digest_bucket_name: str = ""
    digest_key_id: str = ""
    # The central usage table (issue 14): per principal, table and day.
    usage_table_name: str = ""
    # The registry of member accounts (issue 16): producers and consumers, by account.
    registry_table_name: str = ""

    def all_functions(self) -> list[FunctionBinding]:
        """Central functions first, then every member's."""
        return [
            *self.functions.values(),
            *(b for functions in self.member_functions.values() for b in functions.values()),
        ]


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def deploy(
    config: MeshConfig,
    sessions: AccountSessions,
    template: Template,
    *,
    parameter_overrides: Mapping[str, str] | None = None,
) -> Deployment:
    """Create (or converge) the central stack and every member stack in moto.

    ``parameter_overrides`` (e.g. ``{"LogLevel": "DEBUG"}``) apply to every stack, over the values
    derived from ``config``.
    """
    for account_id in config.all_accounts:
        ensure_admin_role(account_id)
    overrides = dict(parameter_overrides or {})
    central_values = {**central_parameters(config), **overrides}
    central = _Stack.plan(template, sessions, config.central_account, central_values)
    central.apply()
    # The platform team's one-time opt-in for third-party engines such as `meshgov query` (README
    # "Querying"): Athena, Redshift Spectrum and EMR need none of it.
    allow_query_engine(
        sessions.client(config.central_account, "lakeformation"),
        [m.account_id for m in config.members],
    )
    members = {}
    for member in config.members:
        if member.data_bucket:
            ensure_data_bucket(sessions, member.account_id, member.data_bucket)
        member_values = {**member_parameters(config, member.account_id), **overrides}
        stack = _Stack.plan(template, sessions, member.account_id, member_values)
        stack.apply()
        members[member.account_id] = stack
    return _deployment(config, template, central, members)


def central_parameters(config: MeshConfig) -> dict[str, str]:
    """The central stack's parameter values, as samconfig.toml's ``central`` environment sets.

    The local admin role stands in for the platform team's Lake Formation admin.
    """
    return {
        "StackRole": "central",
        "MemberAccounts": ",".join(m.account_id for m in config.members),
        "ReaderRoleName": config.reader_role_name,
        "LakeFormationAdminArn": Arns.for_region(config.region).iam_role(
            config.central_account, ADMIN_ROLE_NAME
        ),
        # Approval policy: confidential tables only through a filter (samconfig.toml too).
        "FilterRequiredClassifications": "confidential",
    }


def member_parameters(config: MeshConfig, account_id: str = "") -> dict[str, str]:
    """A member stack's parameter values, as samconfig.toml's member environments set.

    The local admin role stands in for the member's platform Lake Formation admin.
    """
    values = {
        "StackRole": "member",
        "CentralAccountId": config.central_account,
        "ReaderRoleName": config.reader_role_name,
    }
    if account_id:
        values["LakeFormationAdminArn"] = Arns.for_region(config.region).iam_role(
            account_id, ADMIN_ROLE_NAME
        )
        producer = any(p.account_id == account_id for p in config.producers)
        values["ForwardCatalogEvents"] = "true" if producer else "false"
        bucket = next((m.data_bucket for m in config.members if m.account_id == account_id), None)
        if bucket:
            values["DataBucketName"] = bucket
    return values


def ensure_data_bucket(sessions: AccountSessions, account_id: str, bucket: str) -> None:
    """Create a producer's data bucket if missing: the producer's own, not the stack's (the stack
    only sets its policy, DataBucketPolicy), as it exists before the member stack on AWS."""
    s3: Any = sessions.client(account_id, "s3")
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as error:
        if error_code(error) not in {"404", "NoSuchBucket", "NotFound"}:
            raise
        request: dict[str, Any] = {"Bucket": bucket}
        if sessions.region != "us-east-1":
            request["CreateBucketConfiguration"] = {"LocationConstraint": sessions.region}
        s3.create_bucket(**request)


# --------------------------------------------------------------------------------------------
# Physical names
# --------------------------------------------------------------------------------------------


def default_physical_name(logical_id: str) -> str:
    """``meshgov-`` + the logical id in kebab case (CatalogEventsDLQ -> meshgov-catalog-events-dlq).

    CloudFormation would generate a random suffix; stable names keep local runs readable.
    """
    kebab = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", logical_id)
    return NAME_PREFIX + kebab.lower()


# The property holding a resource's explicit name, by type.
_NAME_PROPERTY = {
    "AWS::Events::EventBus": "Name",
    "AWS::Events::Rule": "Name",
    "AWS::SQS::Queue": "QueueName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::Serverless::Function": "FunctionName",
    "AWS::Serverless::LayerVersion": "LayerName",
}


# --------------------------------------------------------------------------------------------
# One stack
# --------------------------------------------------------------------------------------------


@dataclass
class _Stack:
    """One stack (central, or one member) being deployed: its parameters, names and clients.

    ``names`` holds what ``Ref`` returns and ``attributes`` what ``Fn::GetAtt`` returns, so the
    template's intrinsics resolve to this deployment's physical resources.
    """

    template: Template
    sessions: AccountSessions
    account_id: str
    parameters: dict[str, str]
    logical_ids: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, str] = field(default_factory=dict)

    @classmethod
    def plan(
        cls,
        template: Template,
        sessions: AccountSessions,
        account_id: str,
        parameters: Mapping[str, str],
    ) -> _Stack:
        """The stack's active resources (Conditions evaluated) and their physical names."""
        stack = cls(template, sessions, account_id, {**template.parameter_defaults(), **parameters})
        resolver = stack.resolver()
        stack.logical_ids = [
            lid
            for lid, res in template.resources.items()
            if resolver.condition(res.get("Condition"))
        ]
        for lid in stack.logical_ids:
            stack._name(lid)
        for lid in stack.of_type("AWS::Events::Rule"):  # rule ARNs name their bus
            stack._rule_arn(lid)
        return stack

    @property
    def region(self) -> str:
        return self.sessions.region

    def resolver(self) -> Resolver:
        return Resolver(
            self.template,
            self.parameters,
            self.account_id,
            self.region,
            physical=self.names,
            attributes=self.attributes,
            partition=self.sessions.arns.partition,
        )

    def resolve(self, value: Any) -> Any:
        return self.resolver().resolve(value)

    def client(self, service: str) -> Any:
        return self.sessions.client(self.account_id, service)

    def of_type(self, resource_type: str) -> list[str]:
        return [
            lid
            for lid in self.logical_ids
            if self.template.resource(lid).get("Type") == resource_type
        ]

    def props(self, logical_id: str) -> Mapping[str, Any]:
        return self.template.properties(logical_id)

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        return self.sessions.arns.arn(service, self.account_id, resource, regional=regional)

    def _name(self, logical_id: str) -> None:
        """Record what Ref and GetAtt return for one resource (queue URLs: once created)."""
        resource_type = str(self.template.resource(logical_id).get("Type"))
        name_property = _NAME_PROPERTY.get(resource_type)
        explicit = self.props(logical_id).get(name_property) if name_property else None
        name = str(self.resolve(explicit)) if explicit else default_physical_name(logical_id)
        if resource_type == "AWS::S3::Bucket" and not explicit:
            name = f"{name}-{self.account_id}"  # bucket names are global: one per account
        if resource_type != "AWS::SQS::Queue":  # Ref on a queue is its URL: known once created
            self.names[logical_id] = name  # (Ref on a KMS key, its id: set once created)
        arn = {
            "AWS::Events::EventBus": self.arn("events", f"event-bus/{name}"),
            "AWS::SQS::Queue": self.arn("sqs", name),
            "AWS::DynamoDB::Table": self.arn("dynamodb", f"table/{name}"),
            "AWS::IAM::Role": self.arn("iam", f"role/{name}", regional=False),
            "AWS::IAM::ManagedPolicy": self.arn("iam", f"policy/{name}", regional=False),
            "AWS::Serverless::Function": self.arn("lambda", f"function:{name}"),
            "AWS::S3::Bucket": self.sessions.arns.arn("s3", "", name, regional=False),
        }.get(resource_type)
        if arn:
            self.attributes[f"{logical_id}.Arn"] = arn
        if resource_type == "AWS::Events::EventBus":
            self.attributes[f"{logical_id}.Name"] = name
        if resource_type == "AWS::SQS::Queue":
            self.attributes[f"{logical_id}.QueueName"] = name
        if resource_type == "AWS::S3::Bucket":
            self.attributes[f"{logical_id}.DomainName"] = f"{name}.s3.amazonaws.com"
        if resource_type == "AWS::IAM::ManagedPolicy":
            self.names[logical_id] = str(arn)  # Ref on a managed policy returns its ARN

    def _rule_arn(self, logical_id: str) -> None:
        bus = self.rule_bus(logical_id)
        path = f"rule/{bus}/{self.names[logical_id]}" if bus else f"rule/{self.names[logical_id]}"
        self.attributes[f"{logical_id}.Arn"] = self.arn("events", path)

    def rule_bus(self, logical_id: str) -> str | None:
        """The bus name of a rule, or None for the default bus."""
        bus = self.props(logical_id).get("EventBusName")
        if bus is None:
            return None
        name = str(self.resolve(bus)).rsplit("/", 1)[-1]
        return None if name == "default" else name

    def apply(self) -> None:
        """Create or converge every active resource, in dependency order."""
        types_present = {str(self.template.resource(lid).get("Type")) for lid in self.logical_ids}
        unknown = types_present - set(_APPLIERS) - set(NOT_DEPLOYED_LOCALLY)
        if unknown:
            raise TemplateError(f"the local deployer cannot create {sorted(unknown)}")
        for resource_type, applier in _APPLIERS.items():
            for logical_id in _ordered(self, resource_type):
                applier(self, logical_id)


def _ordered(stack: _Stack, resource_type: str) -> list[str]:
    """Resources of one type in creation order: dead-letter queues before their sources."""
    logical_ids = stack.of_type(resource_type)
    if resource_type == "AWS::SQS::Queue":
        logical_ids.sort(key=lambda lid: "RedrivePolicy" in stack.props(lid))
    return logical_ids


# --------------------------------------------------------------------------------------------
# EventBridge
# --------------------------------------------------------------------------------------------


def _apply_event_bus(stack: _Stack, logical_id: str) -> None:
    events: EventBridgeClient = stack.client("events")
    name = stack.names[logical_id]
    try:
        events.describe_event_bus(Name=name)
    except ClientError as error:
        if error_code(error) != "ResourceNotFoundException":
            raise
        events.create_event_bus(Name=name)


def _apply_event_bus_policy(stack: _Stack, logical_id: str) -> None:
    """Put the policy's one statement (``Statement`` + ``StatementId``) unless already there."""
    events: EventBridgeClient = stack.client("events")
    props = stack.resolve(stack.props(logical_id))
    if "Statement" not in props:
        raise TemplateError(f"{logical_id}: only the Statement form of EventBusPolicy is supported")
    bus = str(props["EventBusName"])
    statement = {"Sid": props["StatementId"], **props["Statement"]}
    current = events.describe_event_bus(Name=bus).get("Policy")
    statements = json.loads(current)["Statement"] if current else []
    if statement in statements:
        return
    policy = {"Version": "2012-10-17", "Statement": [statement]}
    events.put_permission(EventBusName=bus, Policy=json.dumps(policy))


def _apply_rule(stack: _Stack, logical_id: str) -> None:
    """Put the rule with the template's pattern, then its targets (each only when different)."""
    events: EventBridgeClient = stack.client("events")
    props = stack.resolve(stack.props(logical_id))
    name, bus = stack.names[logical_id], stack.rule_bus(logical_id) or "default"
    wanted = {
        "EventPattern": props["EventPattern"],
        "State": props.get("State", "ENABLED"),
        "Description": props.get("Description", ""),
    }
    if _current_rule(events, name, bus) != wanted:
        events.put_rule(
            Name=name,
            EventBusName=bus,
            EventPattern=json.dumps(wanted["EventPattern"]),
            State=wanted["State"],
            Description=wanted["Description"],
        )
    _apply_targets(events, name, bus, props.get("Targets", []))


def _current_rule(events: EventBridgeClient, name: str, bus: str) -> dict[str, Any] | None:
    try:
        rule = events.describe_rule(Name=name, EventBusName=bus)
    except ClientError as error:
        if error_code(error) != "ResourceNotFoundException":
            raise
        return None
    return {
        "EventPattern": json.loads(rule.get("EventPattern", "null")),
        "State": rule.get("State"),
        "Description": rule.get("Description", ""),
    }


def _apply_targets(
    events: EventBridgeClient, rule: str, bus: str, targets: list[dict[str, Any]]
) -> None:
    current = events.list_targets_by_rule(Rule=rule, EventBusName=bus)["Targets"]
    current_by_id = {str(t["Id"]): dict(t) for t in current}
    stale = sorted(set(current_by_id) - {str(t["Id"]) for t in targets})
    if stale:
        events.remove_targets(Rule=rule, EventBusName=bus, Ids=stale)
    changed = [t for t in targets if current_by_id.get(str(t["Id"])) != t]
    if changed:
        events.put_targets(Rule=rule, EventBusName=bus, Targets=changed)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# SQS
# --------------------------------------------------------------------------------------------

# CloudFormation property -> SQS attribute, for the properties that are queue attributes.
_QUEUE_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "SqsManagedSseEnabled",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "FifoQueue",
    "ContentBasedDeduplication",
)


def queue_attributes(props: Mapping[str, Any]) -> dict[str, str]:
    """The SQS attributes a (resolved) AWS::SQS::Queue's properties ask for, as SQS spells them."""
    attributes = {name: _attribute_text(props[name]) for name in _QUEUE_ATTRIBUTES if name in props}
    redrive = props.get("RedrivePolicy")
    if redrive is not None:
        attributes["RedrivePolicy"] = json.dumps(
            {
                "deadLetterTargetArn": redrive["deadLetterTargetArn"],
                "maxReceiveCount": int(redrive["maxReceiveCount"]),
            }
        )
    return attributes


def _attribute_text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _apply_queue(stack: _Stack, logical_id: str) -> None:
    """Create the queue, or set the attributes that differ from the template's."""
    sqs: SQSClient = stack.client("sqs")
    name = stack.attributes[f"{logical_id}.QueueName"]
    wanted = queue_attributes(stack.resolve(stack.props(logical_id)))
    try:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except ClientError as error:
        if error_code(error) not in {
            "AWS.SimpleQueueService.NonExistentQueue",
            "QueueDoesNotExist",
        }:
            raise
        url = sqs.create_queue(QueueName=name, Attributes=wanted)["QueueUrl"]  # type: ignore[arg-type]
    else:
        listed = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        current = {str(name): value for name, value in listed.items()}
        changed = {k: v for k, v in wanted.items() if not _same_attribute(k, current.get(k), v)}
        if changed:
            sqs.set_queue_attributes(QueueUrl=url, Attributes=changed)  # type: ignore[arg-type]
    stack.names[logical_id] = url  # Ref on a queue returns its URL
    stack.attributes[f"{logical_id}.QueueUrl"] = url


def _same_attribute(name: str, current: str | None, wanted: str) -> bool:
    if current is None:
        return False
    if name in {"RedrivePolicy", "Policy"}:
        return bool(json.loads(current) == json.loads(wanted))
    return current.lower() == wanted.lower()


def _apply_queue_policy(stack: _Stack, logical_id: str) -> None:
    sqs: SQSClient = stack.client("sqs")
    props = stack.resolve(stack.props(logical_id))
    policy = json.dumps(props["PolicyDocument"])
    for url in props["Queues"]:
        current = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])
        if not _same_attribute("Policy", current.get("Attributes", {}).get("Policy"), policy):
            sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy})


# --------------------------------------------------------------------------------------------
# DynamoDB
# --------------------------------------------------------------------------------------------


def table_request(name: str, props: Mapping[str, Any]) -> dict[str, Any]:
    """CreateTable arguments for a (resolved) AWS::DynamoDB::Table's properties."""
    request: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PROVISIONED"),
    }
    for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes", "ProvisionedThroughput"):
        if key in props:
            request[key] = props[key]
    sse = props.get("SSESpecification")
    if sse is not None:  # CloudFormation's SSEEnabled is the API's Enabled
        request["SSESpecification"] = {"Enabled": bool(sse.get("SSEEnabled", False))}
    return request


def _apply_table(stack: _Stack, logical_id: str) -> None:
    """Create the table; an existing one must have the template's keys and indexes."""
    dynamodb: DynamoDBClient = stack.client("dynamodb")
    props = stack.resolve(stack.props(logical_id))
    request = table_request(stack.names[logical_id], props)
    try:
        table = dynamodb.describe_table(TableName=request["TableName"])["Table"]
    except ClientError as error:
        if error_code(error) != "ResourceNotFoundException":
            raise
        dynamodb.create_table(**request)
    else:
        _check_table(logical_id, table, request)
    pitr = props.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled")
    if pitr:
        _enable_pitr(dynamodb, request["TableName"])
    ttl = props.get("TimeToLiveSpecification", {})
    if _boolean(ttl.get("Enabled", False)):
        _enable_ttl(dynamodb, request["TableName"], str(ttl["AttributeName"]))


def _check_table(logical_id: str, table: Mapping[str, Any], request: Mapping[str, Any]) -> None:
    """Key schema and index names cannot change in place: refuse to pretend they did."""
    indexes = {i["IndexName"] for i in table.get("GlobalSecondaryIndexes", [])}
    wanted_indexes = {i["IndexName"] for i in request.get("GlobalSecondaryIndexes", [])}
    if table["KeySchema"] != request["KeySchema"] or indexes != wanted_indexes:
        raise DeploymentConflictError(
            f"{logical_id}: table {request['TableName']} exists with other keys or indexes"
        )


def _enable_ttl(dynamodb: DynamoDBClient, table_name: str, attribute: str) -> None:
    """The template's TimeToLiveSpecification (the usage table's retention window): TTL on the
    attribute, set once (UpdateTimeToLive refuses to repeat a setting,
    https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateTimeToLive.html)."""
    current = dynamodb.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"]
    if current.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
        if current.get("AttributeName") == attribute:
            return
        raise DeploymentConflictError(
            f"table {table_name} has TTL on {current.get('AttributeName')}, the template wants "
            f"{attribute}"
        )
    dynamodb.update_time_to_live(
        TableName=table_name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute},
    )


def _enable_pitr(dynamodb: DynamoDBClient, table_name: str) -> None:
    backups = dynamodb.describe_continuous_backups(TableName=table_name)
    status = backups["ContinuousBackupsDescription"].get("PointInTimeRecoveryDescription", {})
    if status.get("PointInTimeRecoveryStatus") != "ENABLED":
        dynamodb.update_continuous_backups(
            TableName=table_name,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )


# --------------------------------------------------------------------------------------------
# IAM
# --------------------------------------------------------------------------------------------


def _apply_managed_policy(stack: _Stack, logical_id: str) -> None:
    """Create the customer managed policy, or make the template's document its default."""
    iam: IAMClient = stack.client("iam")
    arn = stack.names[logical_id]
    props = stack.resolve(stack.props(logical_id))
    document = props["PolicyDocument"]
    try:
        policy = iam.get_policy(PolicyArn=arn)["Policy"]
    except ClientError as error:
        if error_code(error) != "NoSuchEntity":
            raise
        iam.create_policy(
            PolicyName=arn.rsplit("/", 1)[-1],
            PolicyDocument=json.dumps(document),
            Description=props.get("Description", ""),
        )
        return
    version = str(policy.get("DefaultVersionId"))
    current = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]
    if _document(current.get("Document")) != document:
        iam.create_policy_version(
            PolicyArn=arn, PolicyDocument=json.dumps(document), SetAsDefault=True
        )
        iam.delete_policy_version(PolicyArn=arn, VersionId=version)


def _apply_role(stack: _Stack, logical_id: str) -> None:
    """Create the role with the template's trust policy, inline and customer managed policies.

    AWS managed policies (``arn:aws:iam::aws:policy/...``) are not attached: moto loads them
    only when MOTO_IAM_LOAD_MANAGED_POLICIES is set, and nothing local depends on them.
    """
    iam: IAMClient = stack.client("iam")
    name = stack.names[logical_id]
    props = stack.resolve(stack.props(logical_id))
    trust = props["AssumeRolePolicyDocument"]
    try:
        role = iam.get_role(RoleName=name)["Role"]
    except ClientError as error:
        if error_code(error) != "NoSuchEntity":
            raise
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    else:
        if _document(role.get("AssumeRolePolicyDocument")) != trust:
            iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(trust))
    for policy in props.get("Policies", []):
        _put_inline_policy(iam, name, policy["PolicyName"], policy["PolicyDocument"])
    _attach_customer_policies(iam, name, props.get("ManagedPolicyArns", []))


def _put_inline_policy(iam: IAMClient, role: str, policy: str, document: Any) -> None:
    try:
        current = iam.get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"]
    except ClientError as error:
        if error_code(error) != "NoSuchEntity":
            raise
        current = None
    if _document(current) != document:
        iam.put_role_policy(RoleName=role, PolicyName=policy, PolicyDocument=json.dumps(document))


def _attach_customer_policies(iam: IAMClient, role: str, arns: list[str]) -> None:
    attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    present = {p.get("PolicyArn") for p in attached}
    for arn in arns:
        if ":iam::aws:policy/" not in arn and arn not in present:
            iam.attach_role_policy(RoleName=role, PolicyArn=arn)


def _document(value: Any) -> Any:
    """A policy document as a dict (boto3 decodes some, returns others as JSON text)."""
    return json.loads(value) if isinstance(value, str) else value


# --------------------------------------------------------------------------------------------
# Lake Formation
# --------------------------------------------------------------------------------------------


# Template property -> DataLakeSettings field, for the settings a stack may set.
_DATA_LAKE_SETTINGS = {
    "CreateDatabaseDefaultPermissions": "CreateDatabaseDefaultPermissions",
    "CreateTableDefaultPermissions": "CreateTableDefaultPermissions",
    "Parameters": "Parameters",
}


def _apply_data_lake_settings(stack: _Stack, logical_id: str) -> None:
    """Set the data lake admins and read-only admins (the template replaces both lists), and the
    default permissions and parameters the template names, keeping the other settings."""
    lakeformation: LakeFormationClient = stack.client("lakeformation")
    props = stack.resolve(stack.props(logical_id))
    wanted = {
        "DataLakeAdmins": props.get("Admins", []),
        "ReadOnlyAdmins": props.get("ReadOnlyAdmins", []),
        **{field: props[name] for name, field in _DATA_LAKE_SETTINGS.items() if name in props},
    }
    settings = dict(lakeformation.get_data_lake_settings()["DataLakeSettings"])
    if all(
        settings.get(field, [] if field.endswith("Admins") else None) == value
        for field, value in wanted.items()
    ):
        return
    settings.update(wanted)
    lakeformation.put_data_lake_settings(DataLakeSettings=settings)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# KMS
# --------------------------------------------------------------------------------------------


def key_alias(logical_id: str) -> str:
    """The alias the local deployer finds a key of the template by (CloudFormation keeps the
    key id in the stack; here the alias is that memory, so deploying twice makes one key)."""
    return f"alias/{default_physical_name(logical_id)}"


def _apply_kms_key(stack: _Stack, logical_id: str) -> None:
    """Create the key once (spec, usage, policy), found again by its alias; converge the policy.

    KeySpec and KeyUsage cannot change in place: a key that differs is a conflict.
    """
    kms: Any = stack.client("kms")
    props = stack.resolve(stack.props(logical_id))
    alias = key_alias(logical_id)
    spec = props.get("KeySpec", "SYMMETRIC_DEFAULT")
    usage = props.get("KeyUsage", "ENCRYPT_DECRYPT")
    policy = props.get("KeyPolicy")
    try:
        key = kms.describe_key(KeyId=alias)["KeyMetadata"]
    except ClientError as error:
        if error_code(error) != "NotFoundException":
            raise
        request: dict[str, Any] = {
            "KeySpec": spec,
            "KeyUsage": usage,
            "Description": props.get("Description", ""),
        }
        if policy is not None:
            request["Policy"] = json.dumps(policy)
        key = kms.create_key(**request)["KeyMetadata"]
        kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    else:
        if (key.get("KeySpec"), key.get("KeyUsage")) != (spec, usage):
            raise DeploymentConflictError(f"{logical_id}: {alias} is a key of another kind")
        if policy is not None:
            current = kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"]
            if _document(current) != policy:
                kms.put_key_policy(
                    KeyId=key["KeyId"], PolicyName="default", Policy=json.dumps(policy)
                )
    stack.names[logical_id] = str(key["KeyId"])  # Ref on a key returns its id
    stack.attributes[f"{logical_id}.KeyId"] = str(key["KeyId"])
    stack.attributes[f"{logical_id}.Arn"] = str(key["Arn"])


# --------------------------------------------------------------------------------------------
# S3
# --------------------------------------------------------------------------------------------


def _apply_bucket(stack: _Stack, logical_id: str) -> None:
    """Create the bucket (Object Lock only at creation, as S3 allows), then converge versioning,
    the Object Lock default retention, the public access block and default encryption."""
    s3: Any = stack.client("s3")
    name = stack.names[logical_id]
    props = stack.resolve(stack.props(logical_id))
    lock = bool(props.get("ObjectLockEnabled", False))
    try:
        s3.head_bucket(Bucket=name)
    except ClientError as error:
        if error_code(error) not in {"404", "NoSuchBucket", "NotFound"}:
            raise
        request: dict[str, Any] = {"Bucket": name, "ObjectLockEnabledForBucket": lock}
        if stack.region != "us-east-1":
            request["CreateBucketConfiguration"] = {"LocationConstraint": stack.region}
        s3.create_bucket(**request)
    else:
        current_lock = _object_lock(s3, name)
        if lock != (current_lock.get("ObjectLockEnabled") == "Enabled"):
            raise DeploymentConflictError(
                f"{logical_id}: bucket {name} exists with another Object Lock setting"
            )
    versioning = props.get("VersioningConfiguration")
    if versioning and s3.get_bucket_versioning(Bucket=name).get("Status") != versioning["Status"]:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration=versioning)
    _apply_object_lock(s3, name, props.get("ObjectLockConfiguration"))
    block = props.get("PublicAccessBlockConfiguration")
    if block is not None:
        wanted = {k: _boolean(v) for k, v in block.items()}
        try:
            current = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
        except ClientError as error:
            if error_code(error) != "NoSuchPublicAccessBlockConfiguration":
                raise
            current = {}
        if dict(current) != wanted:
            s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=wanted)
    encryption = props.get("BucketEncryption")
    if encryption is not None:
        _apply_bucket_encryption(s3, name, encryption)


def object_lock_request(configuration: Mapping[str, Any]) -> dict[str, Any]:
    """PutObjectLockConfiguration's argument for a (resolved) ObjectLockConfiguration property."""
    request: dict[str, Any] = {"ObjectLockEnabled": configuration.get("ObjectLockEnabled")}
    retention = configuration.get("Rule", {}).get("DefaultRetention")
    if retention:
        rule: dict[str, Any] = {"Mode": retention["Mode"]}
        for unit in ("Days", "Years"):
            if unit in retention:
                rule[unit] = int(retention[unit])
        request["Rule"] = {"DefaultRetention": rule}
    return request


def _object_lock(s3: Any, name: str) -> dict[str, Any]:
    try:
        return dict(s3.get_object_lock_configuration(Bucket=name)["ObjectLockConfiguration"])
    except ClientError as error:
        if error_code(error) != "ObjectLockConfigurationNotFoundError":
            raise
        return {}


def _apply_object_lock(s3: Any, name: str, configuration: Any) -> None:
    if not configuration:
        return
    wanted = object_lock_request(configuration)
    current = _object_lock(s3, name)
    retention = current.get("Rule", {}).get("DefaultRetention", {})
    current_rule = {k: v for k, v in retention.items() if v}  # moto reports the unset unit as 0
    if (current.get("ObjectLockEnabled"), current_rule) != (
        wanted["ObjectLockEnabled"],
        wanted.get("Rule", {}).get("DefaultRetention", {}),
    ):
        s3.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration=wanted)


def _apply_bucket_encryption(s3: Any, name: str, encryption: Mapping[str, Any]) -> None:
    """CloudFormation's ServerSideEncryptionByDefault is the API's
    ApplyServerSideEncryptionByDefault."""
    wanted = [
        {"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"]}
        for rule in encryption["ServerSideEncryptionConfiguration"]
    ]
    try:
        current = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]
    except ClientError as error:
        if error_code(error) != "ServerSideEncryptionConfigurationNotFoundError":
            raise
        current = {"Rules": []}
    rules = [
        {"ApplyServerSideEncryptionByDefault": r.get("ApplyServerSideEncryptionByDefault")}
        for r in current.get("Rules", [])
    ]
    if rules != wanted:
        s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": wanted})


def local_bucket_policy(policy: Mapping[str, Any]) -> dict[str, Any] | None:
    """The part of a bucket policy the local mesh can hold: without its TLS-only statements.

    Locally the endpoint is plain HTTP (``meshgov mesh up`` serves moto on http://127.0.0.1),
    so ``aws:SecureTransport`` is false for every request. Moreover moto 5.2.5 never sets that
    key and evaluates a statement whose Condition does not hold as an explicit deny, whatever
    its Effect (``moto/iam/access_control.py``, ``IAMPolicyStatement.is_action_permitted``):
    a "deny unless TLS" statement refuses every request, in-process too. Such statements are
    left out (None: nothing is left to put); the template keeps them for AWS.
    """
    statements = policy.get("Statement", [])
    if isinstance(statements, Mapping):
        statements = [statements]
    kept = [s for s in statements if not _tests_secure_transport(s.get("Condition", {}))]
    return {**policy, "Statement": kept} if kept else None


def _tests_secure_transport(condition: Mapping[str, Any]) -> bool:
    return any("aws:securetransport" in {k.lower() for k in c} for c in condition.values())


def _apply_bucket_policy(stack: _Stack, logical_id: str) -> None:
    """Put the bucket policy (as :func:`local_bucket_policy` keeps it), when it differs."""
    s3: Any = stack.client("s3")
    props = stack.resolve(stack.props(logical_id))
    bucket, policy = str(props["Bucket"]), local_bucket_policy(props["PolicyDocument"])
    try:
        current = _document(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    except ClientError as error:
        if error_code(error) != "NoSuchBucketPolicy":
            raise
        current = None
    if current == policy:
        return
    if policy is None:
        s3.delete_bucket_policy(Bucket=bucket)
    else:
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))


def _boolean(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).lower() == "true"


# Creation order: what a resource references is created before it.
_APPLIERS: dict[str, Callable[[_Stack, str], None]] = {
    "AWS::Events::EventBus": _apply_event_bus,
    "AWS::SQS::Queue": _apply_queue,
    "AWS::DynamoDB::Table": _apply_table,
    "AWS::IAM::ManagedPolicy": _apply_managed_policy,
    "AWS::IAM::Role": _apply_role,
    # After the roles: a key policy names them (KMS refuses principals that do not exist).
    "AWS::KMS::Key": _apply_kms_key,
    "AWS::S3::Bucket": _apply_bucket,
    "AWS::S3::BucketPolicy": _apply_bucket_policy,
    "AWS::Events::EventBusPolicy": _apply_event_bus_policy,
    "AWS::Events::Rule": _apply_rule,
    "AWS::SQS::QueuePolicy": _apply_queue_policy,
    "AWS::LakeFormation::DataLakeSettings": _apply_data_lake_settings,
}


# --------------------------------------------------------------------------------------------
# The result
# --------------------------------------------------------------------------------------------


def _deployment(
    config: MeshConfig, template: Template, central: _Stack, members: Mapping[str, _Stack]
) -> Deployment:
    rules = central.of_type("AWS::Events::Rule")
    return Deployment(
        region=config.region,
        central_account=config.central_account,
        bus_name=central.names[CENTRAL_BUS],
        bus_arn=central.attributes[f"{CENTRAL_BUS}.Arn"],
        audit_table_name=central.names[AUDIT_TABLE],
        ledger_table_name=central.names[LEDGER_TABLE],
        functions={
            spec.logical_id: _binding(central, spec)
            for spec in template.functions()
            if central.resolver().condition(spec.condition)
        },
        queue_urls={lid: central.names[lid] for lid in central.of_type("AWS::SQS::Queue")},
        member_forwarding_rules={
            account: tuple(
                stack.names[lid]
                for lid in stack.of_type("AWS::Events::Rule")
                if _forwards_to_a_bus(stack, lid)
            )
            for account, stack in members.items()
        },
        member_queue_urls={
            account: {lid: stack.names[lid] for lid in stack.of_type("AWS::SQS::Queue")}
            for account, stack in members.items()
        },
        member_bus_arns={
            account: stack.attributes[f"{MEMBER_BUS}.Arn"]
            for account, stack in members.items()
            if MEMBER_BUS in stack.names
        },
        rule_names={lid: central.names[lid] for lid in rules},
        event_patterns={lid: template.event_pattern(lid) for lid in rules},
        member_functions={
            account: {
                spec.logical_id: _binding(stack, spec)
                for spec in template.functions()
                if stack.resolver().condition(spec.condition)
            }
            for account, stack in members.items()
        },
        requests_table_name=central.names.get(REQUESTS_TABLE, ""),
        digest_bucket_name=central.names.get(DIGEST_BUCKET, ""),
        digest_key_id=central.names.get(DIGEST_KEY, ""),
        usage_table_name=central.names.get(USAGE_TABLE, ""),
        registry_table_name=central.names.get(REGISTRY_TABLE, ""),
    )


def _forwards_to_a_bus(stack: _Stack, logical_id: str) -> bool:
    """Whether a member rule forwards to another bus (central's), rather than to a queue."""
    targets = stack.resolve(stack.props(logical_id)).get("Targets", [])
    return any(":event-bus/" in str(t.get("Arn", "")) for t in targets)


def _binding(stack: _Stack, spec: FunctionSpec) -> FunctionBinding:
    """How to run one function against this deployment (names resolved, as Lambda would see)."""
    props = stack.props(spec.logical_id)
    invoke = props.get("EventInvokeConfig", {})
    on_failure = invoke.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
    failure_queue = _queue_url_of(stack, on_failure)
    return FunctionBinding(
        logical_id=spec.logical_id,
        code_path=spec.code_uri,
        handler_file=spec.handler_file,
        handler_module=spec.handler_module,
        handler_attribute=spec.handler_function,
        layer_paths=tuple(stack.template.layer_content_uri(layer) for layer in spec.layers),
        environment={k: str(stack.resolve(v)) for k, v in spec.environment.items()},
        timeout=spec.timeout,
        role_arn=str(stack.resolve(spec.role)) if spec.role is not None else None,
        source_queue_logical_id=spec.sqs_queue,
        source_queue_url=stack.names[spec.sqs_queue] if spec.sqs_queue else None,
        batch_size=spec.batch_size,
        schedule=str(stack.resolve(spec.schedule)) if spec.schedule is not None else None,
        on_failure_queue_url=failure_queue,
        maximum_retry_attempts=invoke.get("MaximumRetryAttempts"),
        account_id=stack.account_id,
        maximum_concurrency=(
            None
            if spec.maximum_concurrency is None
            else checked_maximum_concurrency(stack.resolve(spec.maximum_concurrency))
        ),
        reserved_concurrency=spec.reserved_concurrency,
    )


def _queue_url_of(stack: _Stack, reference: Any) -> str | None:
    """The URL of the queue a destination ARN (``!GetAtt Queue.Arn``) points at, if any."""
    if isinstance(reference, dict) and "Fn::GetAtt" in reference:
        return stack.names.get(str(reference["Fn::GetAtt"][0]))
    return None
