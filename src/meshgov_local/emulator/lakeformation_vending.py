"""Lake Formation for integrated engines: unfiltered metadata, vended credentials, GetDataAccess.

moto 5.2.5 implements neither ``glue:GetUnfilteredTableMetadata`` nor
``lakeformation:GetTemporaryGlueTableCredentials``. What the caller may read is
:func:`.lakeformation_permissions.table_access`'s answer (table, column and data cells filter
grants, cross-account shares); here it meets the application integration API. Followed documents:

- Workflow, https://docs.aws.amazon.com/lake-formation/latest/dg/api-overview.html: the engine
  calls ``GetUnfilteredTableMetadata``; "If the user doesn't have appropriate permissions on the
  table, then AccessDeniedException is thrown"; "the query engine sends the filtering it supports
  ... If the query engine doesn't support any of these features, and a policy exists on the table
  for the feature, then a PermissionTypeMismatchException is thrown"; the response holds "the
  entire schema for the table" (``Table``: unfiltered, as the API's name says), "a list of
  authorized columns ... If the authorized column list is empty, it indicates that the user has
  DESCRIBE permissions but not SELECT", ``IsRegisteredWithLakeFormation`` ("whether Lake Formation
  can vend credentials for this resource data") and ``CellFilters`` ("columns and expressions to
  evaluate each row. Only populated when CELL_FILTER_PERMISSION is sent as part of the request and
  there are table data filters applicable to the calling user"). Then the engine calls
  ``GetTemporaryGlueTableCredentials``.
- GetUnfilteredTableMetadata, https://docs.aws.amazon.com/glue/latest/webapi/API_GetUnfilteredTableMetadata.html:
  "the public IAM action associated with this API is glue:GetTable" (:mod:`.iam_requests`);
  ``Permissions`` "used to authorize the call": each named permission must be held.
- GetTemporaryGlueTableCredentials, https://docs.aws.amazon.com/lake-formation/latest/APIReference/API_GetTemporaryGlueTableCredentials.html:
  "Lake Formation assumes the role associated with a registered location ... with a scope down
  policy which restricts the access to a single prefix"; IAM action ``lakeformation:GetDataAccess``;
  ``DurationSeconds`` "between 900 and 21,600 seconds" (default here: 3600, the STS default);
  ``Permissions`` "filters the request based on the user having been granted" them;
  ``PermissionTypeMismatchException``: "if you call ... with SupportedPermissionType equal to
  ColumnPermission, but cell-level permissions exist on the table, this exception is thrown".
  The credentials are a real STS session of the registered location's role whose session policy
  allows ``s3:GetObject`` under the table's prefix and ``s3:ListBucket`` with ``s3:prefix`` in it:
  "The resulting session's permissions are the intersection of the role's identity-based policy
  and the session policies" (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access_assumerole.html;
  enforced by :mod:`.iam_enforcement`). Session name ``AWSLF-00-NA-<account>-<suffix>``
  ("AWSLF-<version-number>-<query-engine-code>-<account-id>-<suffix>",
  https://docs.aws.amazon.com/lake-formation/latest/dg/cross-account-logging.html; ``NA`` is what
  a third-party engine gets in AWS's own samples). A table outside every location registered in
  its account is refused with ``InvalidInputException`` (the API lists it; which code AWS uses is
  not documented).
- Who may call, https://docs.aws.amazon.com/lake-formation/latest/dg/using-cred-vending.html:
  "These API operations are disabled by default": either the account that owns the table sets
  ``AllowExternalDataFiltering``, lists the caller's account in ``ExternalDataFilteringAllowList``
  and the caller's session carries the session tag ``LakeFormationAuthorizedCaller`` with a value
  of ``AuthorizedSessionTagValueList``
  (https://docs.aws.amazon.com/lake-formation/latest/dg/permitting-third-party-call.html,
  https://docs.aws.amazon.com/lake-formation/latest/dg/register-query-engine.html), or it sets
  ``AllowFullTableExternalDataAccess`` and the caller has full table access ("get credentials
  without IAM session tags if the user has full table access"). The operations "require the
  calling principal to assume an IAM role" (register-query-engine): the account root is refused.
  Session tags are what ``AssumeRole`` was given (:func:`.iam_enforcement.session_tags`); the role
  trust policy's ``sts:TagSession`` is not checked.
- Resource links (https://docs.aws.amazon.com/lake-formation/latest/dg/resource-links-glue-apis.html):
  a request naming a database resource link of the caller's catalog is served from its target,
  once the caller may describe the link.
- ``GetDataAccess`` in CloudTrail, https://docs.aws.amazon.com/lake-formation/latest/dg/logging-using-cloudtrail.html:
  "GetDataAccess is logged whenever a principal or integrated AWS service requests temporary
  credentials", a read-only management event with ``additionalEventData`` ``requesterService``,
  ``lakeFormationPrincipal`` and ``lakeFormationRoleSessionName``; shapes as AWS's samples
  (https://aws.github.io/aws-lakeformation-best-practices/auditing/lake-formation-cloudtrail/:
  ``userIdentity`` the caller's assumed-role session, ``requestParameters`` ``tableArn``,
  ``durationSeconds``, ``permissions``, ``supportedPermissionTypes``, ``auditContext``;
  ``requesterService`` ``UNKNOWN`` for a third-party engine). Cross-account
  (https://docs.aws.amazon.com/lake-formation/latest/dg/cross-account-logging.html): the event for
  a shared table names the caller by "only the AWS principal ID" (``userIdentity`` of type
  ``AWSAccount``) and carries ``lakeFormationPrincipal`` only once the caller's account opted in
  for the owner (data lake setting ``TrustedResourceOwners``); "If the data access occurs through
  a resource link, two events are logged in the shared resource recipient account ... The event
  for the resource link access does include the principal ARN." Events go, as CloudTrail delivers
  them to EventBridge ("AWS API Call via CloudTrail", source ``aws.lakeformation``,
  https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-lakeformation.html), to the
  caller's default bus, where only rules in state ``ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS``
  receive them (:mod:`.eventbridge`). The copy to the owner's trail is not emulated.

Not emulated: ``GetUnfilteredPartitionsMetadata``, ``GetTemporaryGluePartitionCredentials``, views
(``SupportedDialect``, ``RootResourceArn``), nested permission types (accepted, never needed),
table resource links, ``QueryAuthorizationId``, and the service-linked role as a location's role.
"""

from __future__ import annotations

import json
import re
import secrets
import string
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.events.models import events_backends
from moto.glue.models import glue_backends
from moto.glue.responses import GlueResponse
from moto.iam.models import iam_backends
from moto.lakeformation import urls as lf_urls
from moto.lakeformation.models import lakeformation_backends
from moto.lakeformation.responses import LakeFormationResponse
from moto.sts.models import sts_backends

from . import iam_enforcement
from . import lakeformation_permissions as lf
from ._patching import patch_attr
from .glue_lakeformation import insufficient, link_target

COLUMN_PERMISSION = "COLUMN_PERMISSION"
CELL_FILTER_PERMISSION = "CELL_FILTER_PERMISSION"
AUTHORIZED_CALLER_TAG = "LakeFormationAuthorizedCaller"
MIN_DURATION, MAX_DURATION, DEFAULT_DURATION = 900, 21_600, 3_600
ALL_ROWS = "TRUE"
SOURCE = "aws.lakeformation"
DETAIL_TYPE = "AWS API Call via CloudTrail"
NEW_ROUTES = ("GetTemporaryGlueTableCredentials",)
_TABLE_ARN = re.compile(r"^arn:(aws[a-z-]*):glue:([a-z0-9-]+):(\d{12}):table/([^/]+)/([^/]+)$")
_S3_URI = re.compile(r"^s3a?://([^/]+)/?(.*)$")
_S3_ARN = re.compile(r"^arn:aws[a-z-]*:s3:::([^/]+)/?(.*)$")


def _error(code: str, message: str) -> JsonRESTError:
    error = JsonRESTError(code, message)
    error.code = 400
    return error


# --- the table the request names ------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """The table a request reaches: its catalog, names and stored metadata; ``link`` is the
    database resource link of the caller's catalog the request named, if any."""

    catalog: str
    region: str
    database: str
    name: str
    table: dict[str, Any]
    link: str | None = None

    @property
    def arn(self) -> str:
        return f"arn:aws:glue:{self.region}:{self.catalog}:table/{self.database}/{self.name}"

    @property
    def columns(self) -> list[str]:
        descriptor = self.table.get("StorageDescriptor") or {}
        every = (descriptor.get("Columns") or []) + (self.table.get("PartitionKeys") or [])
        return [str(column.get("Name", "")).lower() for column in every]

    @property
    def location(self) -> str:
        return str((self.table.get("StorageDescriptor") or {}).get("Location") or "")


def resolve(caller: lf.Caller, catalog: str, region: str, database: str, name: str) -> Target:
    """The table ``catalog``'s ``database.name`` reaches, following a database resource link of
    the caller's own catalog (the caller must be able to describe the link)."""
    database, name = database.lower(), name.lower()
    link: str | None = None
    if catalog == caller.account:
        target = link_target(catalog, region, database)
        if target is not None:
            if not lf.database_access(caller, catalog, database, region):
                raise insufficient("DESCRIBE", database)
            link = database
            catalog, database = target
    found = glue_backends[catalog][region].databases.get(database)
    table = found.tables.get(name) if found is not None else None
    if table is None:
        raise _error("EntityNotFoundException", f"Table {name} not found in {database}.")
    shown = dict(table.as_dict())
    shown["CatalogId"] = catalog
    return Target(catalog, region, database, name, shown, link)


# --- what the caller may read -------------------------------------------------------------------


@dataclass(frozen=True)
class Authorization:
    """The caller's reading rights on a table: its permissions, the columns it may read and, per
    column, the row condition under which it may (``TRUE``: every row)."""

    permissions: tuple[str, ...]
    columns: tuple[str, ...]
    rows: Mapping[str, str]
    every: tuple[str, ...]
    filtered: bool  # a data cells filter applies to the caller

    @property
    def select(self) -> bool:
        return bool(self.columns)

    @property
    def column_restricted(self) -> bool:
        return set(self.columns) != set(self.every)

    @property
    def row_restricted(self) -> bool:
        return any(condition != ALL_ROWS for condition in self.rows.values())

    @property
    def full_table(self) -> bool:
        return self.select and not self.column_restricted and not self.row_restricted

    def holds(self, permission: str) -> bool:
        if permission == "SELECT":
            return self.select
        return lf.SUPER in self.permissions or permission in self.permissions


def authorization(access: lf.Access, every: Iterable[str]) -> Authorization:
    """What ``access`` (:func:`.lakeformation_permissions.table_access`) lets its holder read of a
    table whose columns are ``every``: grants add up (a column readable through a whole-table or
    column grant, or a filter of all rows, is readable in every row; else in the rows of any
    filter that includes it)."""
    columns = tuple(every)
    conditions: dict[str, list[str]] = {}
    if access.allows("SELECT"):
        conditions = {column: [ALL_ROWS] for column in columns}
    else:
        for column in access.column_select:
            conditions.setdefault(column, []).append(ALL_ROWS)
        for cell_filter in access.cell_filters:
            for column in filter(cell_filter.shows, columns):
                conditions.setdefault(column, []).append(cell_filter.row_filter or ALL_ROWS)
    rows = {column: _any_of(found) for column, found in conditions.items() if column in columns}
    readable = tuple(column for column in columns if column in rows)
    held = set(access.permissions) | ({"SELECT"} if readable else set())
    return Authorization(
        tuple(sorted(held)), readable, rows, columns, bool(access.cell_filters) and bool(readable)
    )


def _any_of(conditions: list[str]) -> str:
    unique = list(dict.fromkeys(conditions))
    if ALL_ROWS in unique:
        return ALL_ROWS
    return unique[0] if len(unique) == 1 else " OR ".join(f"({c})" for c in unique)


def mismatch(rights: Authorization, supported: Iterable[str]) -> JsonRESTError | None:
    """``PermissionTypeMismatchException`` when the engine cannot enforce what the caller's grants
    need: a row condition needs ``CELL_FILTER_PERMISSION``; a column subset needs
    ``COLUMN_PERMISSION`` (or ``CELL_FILTER_PERMISSION``: a cell filter is rows and columns)."""
    declared = set(supported)
    needed: str | None = None
    if rights.row_restricted and CELL_FILTER_PERMISSION not in declared:
        needed = CELL_FILTER_PERMISSION
    elif rights.column_restricted and not declared & {COLUMN_PERMISSION, CELL_FILTER_PERMISSION}:
        needed = COLUMN_PERMISSION
    if needed is None:
        return None
    return _error(
        "PermissionTypeMismatchException",
        "The engine does not support filtering data based on the enforced permissions: "
        f"{needed} is required.",
    )


def _identifiers(entries: Any) -> set[str]:
    return {
        str(entry.get("DataLakePrincipalIdentifier") if isinstance(entry, dict) else entry)
        for entry in entries or []
    }


def integration_refusal(
    session: iam_enforcement.RoleSession, owner: str, region: str, full_table: bool
) -> JsonRESTError | None:
    """Why the owner's application integration settings refuse this caller (module doc)."""
    settings = lf.settings(owner, region)
    if settings.get("AllowExternalDataFiltering") and session.account in _identifiers(
        settings.get("ExternalDataFilteringAllowList")
    ):
        tag = iam_enforcement.session_tags(session.access_key).get(AUTHORIZED_CALLER_TAG)
        if tag is not None and tag in (settings.get("AuthorizedSessionTagValueList") or []):
            return None
    if full_table and settings.get("AllowFullTableExternalDataAccess"):
        return None
    return _error(
        "AccessDeniedException",
        f"Access is not allowed: account {owner} does not allow external data filtering for "
        f"account {session.account} with session tag {AUTHORIZED_CALLER_TAG} "
        "(AllowExternalDataFiltering, ExternalDataFilteringAllowList, "
        "AuthorizedSessionTagValueList), nor full table access without it.",
    )


@dataclass(frozen=True)
class Decision:
    """One authorized request: who asked, the table reached, and what the caller may read."""

    session: iam_enforcement.RoleSession
    caller: lf.Caller
    target: Target
    rights: Authorization


def decide(
    response: Any,
    catalog: str,
    database: str,
    name: str,
    supported: Iterable[str],
    permissions: Iterable[str],
    need_select: bool,
) -> Decision:
    """Every check both operations share, in the order the service makes them; raises the
    refusal. ``need_select``: DESCRIBE alone is refused (credentials), or answered with no
    authorized column (metadata)."""
    session = iam_enforcement.caller_session(response)
    if session is None:
        raise _error(
            "AccessDeniedException",
            "Lake Formation application integration API operations require the calling "
            "principal to assume an IAM role.",
        )
    caller = lf.Caller(session.account, session.role_arn)
    region = str(response.region)
    target = resolve(caller, catalog, region, database, name)
    access = lf.table_access(
        caller, target.catalog, target.database, target.name, region, target.columns
    )
    rights = authorization(access, target.columns)
    qualified = f"{target.database}.{target.name}"
    if not rights.select and (need_select or not access.permissions):
        raise insufficient("SELECT" if need_select else "DESCRIBE", qualified)
    refusal = integration_refusal(session, target.catalog, region, rights.full_table)
    if refusal is not None:
        raise refusal
    for permission in permissions:
        if not rights.holds(str(permission)):
            raise insufficient(str(permission), qualified)
    if rights.select:
        wrong = mismatch(rights, supported)
        if wrong is not None:
            raise wrong
    return Decision(session, caller, target, rights)


# --- registered locations -----------------------------------------------------------------------


def _s3(uri: str) -> tuple[str, str] | None:
    match = _S3_URI.match(uri) or _S3_ARN.match(uri)
    return None if match is None else (match.group(1), match.group(2))


def registration(owner: str, region: str, location: str) -> Any | None:
    """The location registered in ``owner``'s Lake Formation that holds ``location``."""
    table = _s3(location)
    if table is None:
        return None
    bucket, key = table
    for arn, resource in list(lakeformation_backends[owner][region].resources.items()):
        registered = _s3(str(arn))
        if registered is None or registered[0] != bucket:
            continue
        prefix = registered[1].rstrip("/")
        if not prefix or key.rstrip("/") == prefix or key.startswith(prefix + "/"):
            return resource
    return None


def scope_down_policy(bucket: str, prefix: str, partition: str = "aws") -> str:
    """The session policy of vended credentials: read objects under ``prefix`` and list it."""
    under = prefix.rstrip("/")
    objects = (
        f"arn:{partition}:s3:::{bucket}/{under}/*" if under else f"arn:{partition}:s3:::{bucket}/*"
    )
    listing = [f"{under}/*", f"{under}/"] if under else ["*"]
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": objects},
                {
                    "Effect": "Allow",
                    "Action": "s3:ListBucket",
                    "Resource": f"arn:{partition}:s3:::{bucket}",
                    "Condition": {"StringLike": {"s3:prefix": listing}},
                },
            ],
        }
    )


# --- glue:GetUnfilteredTableMetadata --------------------------------------------------------------


def get_unfiltered_table_metadata(self: Any) -> ActionResult:
    params: dict[str, Any] = json.loads(self.body or "{}")
    supported = list(params.get("SupportedPermissionTypes") or [])
    decision = decide(
        self,
        str(params.get("CatalogId") or self.current_account),
        str(params.get("DatabaseName") or ""),
        str(params.get("Name") or ""),
        supported,
        params.get("Permissions") or [],
        need_select=False,
    )
    target, rights = decision.target, decision.rights
    result: dict[str, Any] = {
        "Table": target.table,
        "AuthorizedColumns": list(rights.columns),
        "IsRegisteredWithLakeFormation": registration(
            target.catalog, target.region, target.location
        )
        is not None,
        "Permissions": list(rights.permissions),
    }
    if rights.filtered and CELL_FILTER_PERMISSION in supported:
        result["CellFilters"] = [
            {"ColumnName": column, "RowFilterExpression": rights.rows[column]}
            for column in rights.columns
        ]
        conditions = set(rights.rows.values())
        if len(conditions) == 1 and ALL_ROWS not in conditions:
            result["RowFilter"] = conditions.pop()
    if params.get("ParentResourceArn"):
        result["ResourceArn"] = params["ParentResourceArn"]
    return ActionResult(result)


# --- lakeformation:GetTemporaryGlueTableCredentials ---------------------------------------------


def _duration(value: Any) -> int:
    if value is None:
        return DEFAULT_DURATION
    duration = int(value)
    if not MIN_DURATION <= duration <= MAX_DURATION:
        raise _error(
            "InvalidInputException",
            f"DurationSeconds must be between {MIN_DURATION} and {MAX_DURATION} seconds.",
        )
    return duration


def _session_name(account: str) -> str:
    alphabet = string.ascii_letters + string.digits
    return f"AWSLF-00-NA-{account}-" + "".join(secrets.choice(alphabet) for _ in range(10))


def get_temporary_glue_table_credentials(self: Any) -> str:
    params: dict[str, Any] = json.loads(self.body or "{}")
    table_arn = str(params.get("TableArn") or "")
    match = _TABLE_ARN.match(table_arn)
    if match is None or match.group(2) != self.region:
        raise _error("InvalidInputException", f"Invalid table ARN: {table_arn!r}.")
    duration = _duration(params.get("DurationSeconds"))
    partition, _, catalog, database, name = match.groups()
    permissions = params.get("Permissions") or []
    supported = params.get("SupportedPermissionTypes") or []
    decision = decide(self, catalog, database, name, supported, permissions, need_select=True)
    target = decision.target
    registered = registration(target.catalog, target.region, target.location)
    if registered is None:
        raise _error(
            "InvalidInputException",
            f"The location {target.location} of table {target.database}.{target.name} is not "
            "registered with Lake Formation.",
        )
    if not registered.role_arn:
        raise _error(
            "InvalidInputException",
            "A location registered with the service-linked role is not emulated.",
        )
    scope = _scope(target.location, params.get("S3Path"))
    bucket, prefix = scope
    session_name = _session_name(decision.caller.account)
    role_account = str(registered.role_arn).split(":")[4]
    assumed = sts_backends[role_account][partition].assume_role(
        region_name=target.region,
        role_session_name=session_name,
        role_arn=str(registered.role_arn),
        policy=scope_down_policy(bucket, prefix, partition),
        duration=duration,
        external_id="",
    )
    vended = f"s3://{bucket}/{prefix}"
    record_data_access(decision, params, session_name)
    return json.dumps(
        {
            "AccessKeyId": assumed.access_key_id,
            "SecretAccessKey": assumed.secret_access_key,
            "SessionToken": assumed.session_token,
            "Expiration": assumed.expiration.timestamp(),
            "VendedS3Path": [vended],
        }
    )


def _scope(location: str, s3_path: Any) -> tuple[str, str]:
    """(bucket, prefix) the credentials read: the table's location, or ``S3Path`` within it."""
    table = _s3(location)
    if table is None:
        raise _error(
            "InvalidInputException", f"The table location {location!r} is not in Amazon S3."
        )
    if not s3_path:
        return table[0], table[1]
    asked = _s3(str(s3_path))
    base = table[1].rstrip("/")
    if (
        asked is None
        or asked[0] != table[0]
        or not (not base or asked[1].rstrip("/") == base or asked[1].startswith(base + "/"))
    ):
        raise _error(
            "InvalidInputException", f"S3Path {s3_path} is not within the table's location."
        )
    return asked


# --- GetDataAccess, as CloudTrail records it ---------------------------------------------------


def _user_identity(session: iam_enforcement.RoleSession, assumed_role: bool) -> dict[str, Any]:
    session_arn = session.principal().arn
    session_name = session_arn.rsplit("/", 1)[-1]
    try:
        role_id = str(
            iam_backends[session.account][session.partition].get_role(session.role_name).id
        )
    except Exception:  # a role deleted since the session began
        role_id = "AROA" + session.access_key[-16:]
    principal_id = f"{role_id}:{session_name}"
    if not assumed_role:
        return {"type": "AWSAccount", "principalId": principal_id, "accountId": session.account}
    return {
        "type": "AssumedRole",
        "principalId": principal_id,
        "arn": session_arn,
        "accountId": session.account,
        "accessKeyId": session.access_key,
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": role_id,
                "arn": session.role_arn,
                "accountId": session.account,
                "userName": session.role_name,
            },
            "attributes": {"mfaAuthenticated": "false"},
        },
    }


def _request_parameters(table_arn: str, params: Mapping[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {"tableArn": table_arn}
    if params.get("DurationSeconds") is not None:
        found["durationSeconds"] = int(params["DurationSeconds"])
    if params.get("Permissions"):
        found["permissions"] = list(params["Permissions"])
    if params.get("AuditContext"):
        context = params["AuditContext"]
        found["auditContext"] = {"additionalAuditContext": context.get("AdditionalAuditContext")}
    if params.get("SupportedPermissionTypes"):
        found["supportedPermissionTypes"] = list(params["SupportedPermissionTypes"])
    return found


def data_access_records(
    decision: Decision, params: Mapping[str, Any], session_name: str
) -> list[dict[str, Any]]:
    """The ``GetDataAccess`` CloudTrail records the caller's account gets for one vending."""
    session, target = decision.session, decision.target
    opted_in = target.catalog in _identifiers(
        lf.settings(session.account, target.region).get("TrustedResourceOwners")
    )
    own = target.catalog == session.account
    accesses: list[tuple[str, bool]] = []
    if target.link is not None and not own:
        link_arn = (
            f"arn:aws:glue:{target.region}:{session.account}:table/{target.link}/{target.name}"
        )
        accesses.append((link_arn, True))
    accesses.append((target.arn, own or opted_in))
    records = []
    for table_arn, names_principal in accesses:
        extra: dict[str, Any] = {"requesterService": "UNKNOWN"}
        if names_principal:
            extra["lakeFormationPrincipal"] = session.role_arn
        extra["lakeFormationRoleSessionName"] = session_name
        records.append(
            _trail_record(
                session,
                target.region,
                "lakeformation.amazonaws.com",
                "GetDataAccess",
                _user_identity(session, own or table_arn != target.arn),
                requestParameters=_request_parameters(table_arn, params),
                additionalEventData=extra,
            )
        )
    return records


def _trail_record(
    session: iam_enforcement.RoleSession,
    region: str,
    event_source: str,
    event_name: str,
    identity: Mapping[str, Any],
    **fields: Any,
) -> dict[str, Any]:
    """A CloudTrail record of a read-only management call (``fields`` add or replace fields:
    ``requestParameters``, ``additionalEventData``, ``errorCode``...;
    https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html)."""
    return {
        "eventVersion": "1.11",
        "userIdentity": dict(identity),
        "eventTime": utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": event_source,
        "eventName": event_name,
        "awsRegion": region,
        "sourceIPAddress": "127.0.0.1",
        "userAgent": "meshgov-local",
        "requestParameters": {},
        "responseElements": None,
        "requestID": str(uuid.uuid4()),
        "eventID": str(uuid.uuid4()),
        "readOnly": True,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": session.account,
        "eventCategory": "Management",
        **fields,
    }


def _deliver(account: str, region: str, source: str, record: Mapping[str, Any]) -> None:
    """Put a CloudTrail record on ``account``'s default bus, as CloudTrail delivers it."""
    events_backends[account][region].put_events(
        [
            {
                "Source": source,
                "DetailType": DETAIL_TYPE,
                "Detail": json.dumps(record),
                "Resources": [],
                "EventBusName": "default",
            }
        ]
    )


def record_data_access(decision: Decision, params: Mapping[str, Any], session_name: str) -> None:
    """Deliver the records to the caller's default bus, as CloudTrail delivers them."""
    for record in data_access_records(decision, params, session_name):
        _deliver(decision.session.account, decision.target.region, SOURCE, record)


# --- refused calls, as CloudTrail records them ---------------------------------------------------


def refusal_record(
    session: iam_enforcement.RoleSession,
    region: str,
    event_source: str,
    event_name: str,
    request: Mapping[str, Any],
    error: JsonRESTError,
) -> dict[str, Any]:
    """The CloudTrail record of a call the service refused: CloudTrail logs failed calls too,
    with ``errorCode`` and ``errorMessage`` ("If the request returns an error, the AWS service
    error", https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html).
    A consumer's query that Lake Formation refuses therefore leaves a trace in its account."""
    return _trail_record(
        session,
        region,
        event_source,
        event_name,
        _user_identity(session, True),
        errorCode=error.error_type,
        errorMessage=error.message,
        requestParameters={
            key[:1].lower() + key[1:]: value
            for key, value in request.items()
            if key in ("CatalogId", "DatabaseName", "Name", "TableArn", "Permissions")
        },
    )


def _recording_refusals(
    handler: Callable[[Any], Any], source: str, event_source: str, event_name: str
) -> Callable[[Any], Any]:
    """``handler``, with each refusal it raises to a role session put on that session's default
    bus as CloudTrail's record of the failed call, then raised as before."""

    def serve(self: Any) -> Any:
        try:
            return handler(self)
        except JsonRESTError as error:
            session = iam_enforcement.caller_session(self)
            if session is not None:
                request = json.loads(self.body or "{}")
                record = refusal_record(
                    session, self.region, event_source, event_name, request, error
                )
                _deliver(session.account, self.region, source, record)
            raise

    return serve


def install() -> None:
    patch_attr(
        GlueResponse,
        "get_unfiltered_table_metadata",
        _recording_refusals(
            get_unfiltered_table_metadata,
            "aws.glue",
            "glue.amazonaws.com",
            "GetUnfilteredTableMetadata",
        ),
    )
    patch_attr(
        LakeFormationResponse,
        "get_temporary_glue_table_credentials",
        _recording_refusals(
            get_temporary_glue_table_credentials,
            SOURCE,
            "lakeformation.amazonaws.com",
            "GetTemporaryGlueTableCredentials",
        ),
    )
    for operation in NEW_ROUTES:
        lf_urls.url_paths.setdefault(f"{{0}}/{operation}$", LakeFormationResponse.dispatch)
