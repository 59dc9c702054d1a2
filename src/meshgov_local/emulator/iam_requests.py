"""What IAM authorizes one request as: the actions, each on the resource ARNs it names.

One home for "which IAM action does this API operation need, on which resource": the emulator's
authorization (:mod:`.iam_enforcement`) and the least-privilege recorder
(:mod:`meshgov_local.actions`) both ask here.

Actions. The IAM prefix is the service's signing name; an operation is authorized as
``<prefix>:<Operation>`` unless the Service Authorization Reference
(https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html)
lists another action for it (:data:`ACTION_OF_OPERATION`). DynamoDB transactions are authorized
per item as the operation each item performs
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html).

Resources, by service:

- Glue Data Catalog: "Data Catalog resources have a hierarchical structure, with catalog as the
  root" and an operation on an object needs permission on the object *and its ancestors*: a table
  operation on ``catalog``, ``database/<db>`` and ``table/<db>/<table>``; an operation on every
  table of a database (``GetTables``) on ``table/<db>/*``; ``DeleteDatabase`` also on the
  database's tables and functions
  (https://docs.aws.amazon.com/glue/latest/dg/glue-specifying-resource-arns.html). The catalog is
  the request's ``CatalogId`` or the caller's account.
- DynamoDB: ``table/<name>`` and, with ``IndexName``, ``table/<name>/index/<index>``
  (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/using-identity-based-policies.html).
- SQS: the queue's ARN, from its URL (``https://sqs.<region>.../<account>/<name>``).
- EventBridge ``PutEvents``: each entry's event bus ("the name or ARN of the event bus",
  https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEventsRequestEntry.html;
  none means ``default``).
- KMS: the key's ARN (aliases resolved), https://docs.aws.amazon.com/kms/latest/developerguide/kms-api-permissions-reference.html.
- STS ``AssumeRole``: the role's ARN.
- Lake Formation and RAM invitations: ``*``: "Lake Formation does not support resource-level
  permissions" (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslakeformation.html).
- S3: moto names the bucket or object ARN itself (its S3 responses authorize per request).

An operation this module does not know is authorized on ``*``, which only a statement with
``Resource: "*"`` matches: unknown stays strict.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

# Operations whose IAM action is not "<prefix>:<OperationName>". Values are tuples: some
# operations need several actions.
ACTION_OF_OPERATION: dict[tuple[str, str], tuple[str, ...]] = {
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
    ("s3", "ListObjectsV2"): ("s3:ListBucket",),
    ("s3", "ListObjects"): ("s3:ListBucket",),
    ("s3", "ListObjectVersions"): ("s3:ListBucketVersions",),
    # HeadObject needs s3:GetObject; a missing key is a 404 (which the digest writer reads as
    # "not claimed yet") only with s3:ListBucket on the bucket, a 403 without
    # (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html, Permissions).
    ("s3", "HeadObject"): ("s3:GetObject", "s3:ListBucket"),
    ("s3", "HeadBucket"): ("s3:ListBucket",),
    # SendMessageBatch is authorized as SendMessage (there is no SendMessageBatch action).
    ("sqs", "SendMessageBatch"): ("sqs:SendMessage",),
    ("sqs", "DeleteMessageBatch"): ("sqs:DeleteMessage",),
    ("sqs", "ChangeMessageVisibilityBatch"): ("sqs:ChangeMessageVisibility",),
    # "For IAM authorization, the public IAM action associated with this API is glue:GetTable"
    # (https://docs.aws.amazon.com/glue/latest/webapi/API_GetUnfilteredTableMetadata.html).
    ("glue", "GetUnfilteredTableMetadata"): ("glue:GetTable",),
    # "To call this API, the role ... must have lakeformation:GetDataAccess permission"
    # (https://docs.aws.amazon.com/lake-formation/latest/APIReference/API_GetTemporaryGlueTableCredentials.html).
    ("lakeformation", "GetTemporaryGlueTableCredentials"): ("lakeformation:GetDataAccess",),
}

# DynamoDB transaction items -> the action each is authorized as.
_TRANSACT_ITEM_ACTION = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
    "Get": "dynamodb:GetItem",
}

# "No permissions are required to perform this operation."
# https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
UNAUTHORIZED_OPERATIONS = frozenset({("sts", "GetCallerIdentity")})


def iam_actions(prefix: str, operation: str, params: Mapping[str, Any]) -> tuple[str, ...]:
    """The IAM actions AWS checks for one request (``prefix`` is the signing name)."""
    if prefix == "dynamodb" and operation in {"TransactWriteItems", "TransactGetItems"}:
        items = params.get("TransactItems") or []
        return tuple(sorted({_TRANSACT_ITEM_ACTION[kind] for item in items for kind in item})) or (
            f"dynamodb:{operation}",
        )
    if prefix == "s3" and operation == "GetObject" and params.get("VersionId"):
        return ("s3:GetObjectVersion",)
    if prefix == "s3" and operation == "PutObject" and params.get("ObjectLockMode"):
        # Setting a retention on upload also needs s3:PutObjectRetention.
        return ("s3:PutObject", "s3:PutObjectRetention")
    return ACTION_OF_OPERATION.get((prefix, operation), (f"{prefix}:{operation}",))


@dataclass(frozen=True)
class Check:
    """One action on one resource: every check of a request must be allowed."""

    action: str
    resource: str


@dataclass(frozen=True)
class Where:
    """Where a request is made: the caller's account, the Region and the partition."""

    account: str
    region: str
    partition: str = "aws"

    def arn(self, service: str, resource: str, *, account: str | None = None) -> str:
        return f"arn:{self.partition}:{service}:{self.region}:{account or self.account}:{resource}"


def checks(
    prefix: str, operation: str, params: Mapping[str, Any], where: Where
) -> tuple[Check, ...]:
    """Every (action, resource) IAM evaluates for one request."""
    if (prefix, operation) in UNAUTHORIZED_OPERATIONS:
        return ()
    if prefix == "dynamodb" and operation in {"TransactWriteItems", "TransactGetItems"}:
        return _dynamodb_transaction(params, where)
    resources = _RESOURCES.get(prefix, _star)(operation, params, where)
    return tuple(
        Check(action, resource)
        for action in iam_actions(prefix, operation, params)
        for resource in resources
    )


# --- resources by service ------------------------------------------------------------------------


def _star(_operation: str, _params: Mapping[str, Any], _where: Where) -> tuple[str, ...]:
    return ("*",)


def _name(value: Any) -> str:
    # Glue stores names lower-case; its ARNs name the stored object.
    return str(value or "").lower()


_GLUE_DATABASE_OF_NAME = frozenset({"GetDatabase", "UpdateDatabase", "DeleteDatabase"})
_GLUE_TABLE_OF_NAME = frozenset({"GetTable", "DeleteTable", "GetTableVersions", "GetTableVersion"})
_GLUE_TABLE_OF_TABLE_NAME = frozenset(
    {
        "GetPartitions",
        "GetPartition",
        "BatchGetPartition",
        "CreatePartition",
        "UpdatePartition",
        "DeletePartition",
        "BatchCreatePartition",
        "BatchUpdatePartition",
        "BatchDeletePartition",
        "GetTableVersions",
        "GetTableVersion",
        "DeleteTableVersion",
        "BatchDeleteTableVersion",
    }
)


def _glue(operation: str, params: Mapping[str, Any], where: Where) -> tuple[str, ...]:
    catalog_id = str(params.get("CatalogId") or where.account)

    def arn(resource: str) -> str:
        return where.arn("glue", resource, account=catalog_id)

    catalog = arn("catalog")
    if operation in {"GetDatabases", "SearchTables"}:
        every_table = () if operation == "GetDatabases" else (arn("table/*/*"),)
        return (catalog, arn("database/*"), *every_table)
    if operation == "CreateDatabase":
        database = _name((params.get("DatabaseInput") or {}).get("Name"))
        return (catalog, arn(f"database/{database}"))
    if operation in _GLUE_DATABASE_OF_NAME:
        database = _name(params.get("Name"))
        owned = (
            (arn(f"table/{database}/*"), arn(f"userDefinedFunction/{database}/*"))
            if operation == "DeleteDatabase"
            else ()
        )
        return (catalog, arn(f"database/{database}"), *owned)
    database = _name(params.get("DatabaseName"))
    if not database:
        return (catalog,)
    in_database = (catalog, arn(f"database/{database}"))
    if operation == "GetTables":
        return (*in_database, arn(f"table/{database}/*"))
    if operation in {"CreateTable", "UpdateTable"}:
        table = _name((params.get("TableInput") or {}).get("Name"))
    elif operation == "BatchDeleteTable":
        tables = [_name(t) for t in params.get("TablesToDelete") or []]
        return (*in_database, *(arn(f"table/{database}/{t}") for t in tables))
    elif operation in _GLUE_TABLE_OF_NAME:
        table = _name(params.get("Name"))
    elif operation in _GLUE_TABLE_OF_TABLE_NAME:
        table = _name(params.get("TableName"))
    else:
        table = _name(params.get("TableName") or params.get("Name"))
    if not table:
        return in_database
    return (*in_database, arn(f"table/{database}/{table}"))


def _dynamodb_table(name: Any, where: Where, index: Any = None) -> str:
    text = str(name or "")
    table = text if text.startswith("arn:") else where.arn("dynamodb", f"table/{text}")
    return f"{table}/index/{index}" if index else table


def _dynamodb(operation: str, params: Mapping[str, Any], where: Where) -> tuple[str, ...]:
    if operation in {"BatchGetItem", "BatchWriteItem"}:
        return tuple(_dynamodb_table(name, where) for name in params.get("RequestItems") or {})
    if params.get("TableName"):
        return (_dynamodb_table(params["TableName"], where, params.get("IndexName")),)
    return ("*",)


def _dynamodb_transaction(params: Mapping[str, Any], where: Where) -> tuple[Check, ...]:
    found: list[Check] = []
    for item in params.get("TransactItems") or []:
        for kind, body in item.items():
            check = Check(
                _TRANSACT_ITEM_ACTION[kind], _dynamodb_table(body.get("TableName"), where)
            )
            if check not in found:
                found.append(check)
    return tuple(found)


def queue_arn(queue_url: str, where: Where) -> str:
    """``https://sqs.<region>.amazonaws.com/<account>/<name>`` -> the queue's ARN."""
    parts = [p for p in urlparse(queue_url).path.split("/") if p]
    if len(parts) >= 2:
        return where.arn("sqs", parts[-1], account=parts[-2])
    return where.arn("sqs", parts[-1] if parts else "*")


def _sqs(operation: str, params: Mapping[str, Any], where: Where) -> tuple[str, ...]:
    if params.get("QueueUrl"):
        return (queue_arn(str(params["QueueUrl"]), where),)
    if operation == "CreateQueue" and params.get("QueueName"):
        return (where.arn("sqs", str(params["QueueName"])),)
    return ("*",)


def event_bus_arn(name_or_arn: Any, where: Where) -> str:
    text = str(name_or_arn or "default")
    return text if text.startswith("arn:") else where.arn("events", f"event-bus/{text}")


def _events(operation: str, params: Mapping[str, Any], where: Where) -> tuple[str, ...]:
    if operation == "PutEvents":
        buses = {event_bus_arn(e.get("EventBusName"), where) for e in params.get("Entries") or []}
        return tuple(sorted(buses)) or (event_bus_arn(None, where),)
    return ("*",)


def _sts(operation: str, params: Mapping[str, Any], _where: Where) -> tuple[str, ...]:
    if operation == "AssumeRole" and params.get("RoleArn"):
        return (str(params["RoleArn"]),)
    return ("*",)


KeyResolver = Callable[[str, str, str], str | None]
"""``(account, region, key id or alias) -> key ARN``: set by :mod:`.iam_enforcement` (moto)."""

_key_resolvers: list[KeyResolver] = []


def set_key_resolver(resolver: KeyResolver) -> None:
    _key_resolvers[:] = [resolver]


def _kms(operation: str, params: Mapping[str, Any], where: Where) -> tuple[str, ...]:
    key = str(params.get("KeyId") or "")
    if not key:
        return ("*",)
    if key.startswith("arn:") and ":key/" in key:
        return (key,)
    for resolve in _key_resolvers:
        resolved = resolve(where.account, where.region, key)
        if resolved:
            return (resolved,)
    # An alias or id that names no key: KMS answers NotFoundException, the policy of no key.
    return (where.arn("kms", f"key/{key.removeprefix('alias/')}"),)


_RESOURCES: dict[str, Callable[[str, Mapping[str, Any], Where], tuple[str, ...]]] = {
    "glue": _glue,
    "dynamodb": _dynamodb,
    "sqs": _sqs,
    "events": _events,
    "sts": _sts,
    "kms": _kms,
}


def resource_accounts(found: Iterable[Check]) -> set[str]:
    """The accounts owning the resources of ``found`` (ARNs with an account field)."""
    accounts = set()
    for check in found:
        parts = check.resource.split(":")
        if len(parts) > 4 and parts[4]:
            accounts.add(parts[4])
    return accounts
