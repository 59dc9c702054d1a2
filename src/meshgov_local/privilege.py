"""Least privilege, measured: what template.yaml grants each role against what its code calls.

Pure functions over the template (:class:`meshgov_local.template.Template`, unresolved: IAM
``Action`` lists are plain strings) and over recorded uses (:mod:`meshgov_local.actions`).

**What a role is granted** (:func:`granted_actions`): the ``Allow`` statements of its inline
``Policies`` and of the customer managed policies (``AWS::IAM::ManagedPolicy``) its
``ManagedPolicyArns`` reference (a statement under ``Fn::If``: each branch, as some stack may
deploy it), plus what *resource policies* of the template grant it by name:
a statement of a KMS ``KeyPolicy`` whose ``Principal.AWS`` is ``!GetAtt <Role>.Arn`` (the audit
digest key grants ``kms:Sign`` to AuditDigestRole that way: a key policy that names a role of the
key's account suffices, https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html).
AWS managed policies (``arn:...:iam::aws:policy/...``) are AWS's, not meshgov's: they are not
read, only named (:data:`AWS_MANAGED`).

**Who uses a role**: a function's role is the ``Role: !GetAtt <Role>.Arn`` of its
``AWS::Serverless::Function``. A role a function *assumes* (the member's ``CatalogReaderRole``)
is found by its ``RoleName`` (a literal, a ``!Ref`` to a parameter or a ``!Sub`` of parameters and
the Region, resolved with the parameter values and Region given: the reader role is
``${ReaderRoleName}-${AWS::Region}``); its calls are the calls made with the credentials the
``sts:AssumeRole`` returned.

**Used by the Lambda service on the function's behalf** (:func:`platform_actions`), never by the
code, hence never recorded, and not "granted but never called":

- the SQS event source mapping polls the function's queue with the execution role:
  ``sqs:ReceiveMessage``, ``sqs:DeleteMessage``, ``sqs:GetQueueAttributes`` (and
  ``sqs:ChangeMessageVisibility`` for partial batch failures),
  https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html#events-sqs-permissions;
- an asynchronous invocation's ``OnFailure`` SQS destination is sent with the execution role:
  ``sqs:SendMessage``, https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html;
- ``Tracing: Active``: the Lambda service and the X-Ray SDK send segments with the execution role:
  ``xray:PutTraceSegments``, ``xray:PutTelemetryRecords``,
  https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html (the local mesh disables
  tracing, as ``POWERTOOLS_TRACE_DISABLED`` does);
- CloudWatch Logs (``AWSLambdaBasicExecutionRole``): ``logs:CreateLogGroup``,
  ``logs:CreateLogStream``, ``logs:PutLogEvents``.

**Resource "*"**: allowed only for actions whose service defines no resource types for them in the
Service Authorization Reference (:data:`RESOURCE_STAR_ALLOWED`); a wildcard *action* (``*`` or
``service:*``, or any ``*`` in an action) in a role's policy is always a finding.

Limits, on purpose: the comparison is per action, not per resource (a role granted
``dynamodb:GetItem`` on two tables that reads one is not flagged; resource scoping is reviewed in
the template, with cfn-lint and checkov); conditions are not evaluated.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from meshgov_local.config import MeshConfig
from meshgov_local.template import Resolver, Template, TemplateResolveError

AWS_MANAGED = "arn:${AWS::Partition}:iam::aws:policy/"

# What AWS managed policies the template attaches grant, for the actions Lambda itself uses.
AWS_MANAGED_ACTIONS: dict[str, frozenset[str]] = {
    # https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaBasicExecutionRole.html
    "service-role/AWSLambdaBasicExecutionRole": frozenset(
        {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"}
    ),
}

SQS_EVENT_SOURCE_ACTIONS = frozenset(
    {
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:ChangeMessageVisibility",
    }
)
ON_FAILURE_SQS_ACTIONS = frozenset({"sqs:SendMessage"})
XRAY_ACTIONS = frozenset({"xray:PutTraceSegments", "xray:PutTelemetryRecords"})

# Actions allowed with Resource "*": their service defines no resource type for them, so "*" is
# the only valid Resource (Service Authorization Reference, "Resource types" column empty).
RESOURCE_STAR_ALLOWED: dict[str, str] = {
    # Every Lake Formation action: "Lake Formation does not support resource-level permissions"
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslakeformation.html
    "lakeformation:*": "list_awslakeformation.html",
    # RAM invitation and listing actions as meshgov uses them (the invitation ARN is only known
    # at run time and lives in the sender's account; the member checks the sender itself).
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsresourceaccessmanagerram.html
    "ram:GetResourceShareInvitations": "list_awsresourceaccessmanagerram.html",
    # Granted on "*" by AWS's own participant policy too:
    # https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSResourceAccessManagerResourceShareParticipantAccess.html
    "ram:ListPendingInvitationResources": "list_awsresourceaccessmanagerram.html",
    "ram:GetResourceShares": "list_awsresourceaccessmanagerram.html",
    "ram:AcceptResourceShareInvitation": "list_awsresourceaccessmanagerram.html",
    "ram:RejectResourceShareInvitation": "list_awsresourceaccessmanagerram.html",
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html
    "xray:PutTraceSegments": "list_awsx-ray.html",
    "xray:PutTelemetryRecords": "list_awsx-ray.html",
}

# Granted actions the recorded scenario cannot reach, each with its reason (keep it short: every
# entry is privilege that is not measured). Keyed by role logical id.
UNEXERCISED: dict[str, dict[str, str]] = {
    "AccessSweepRole": {
        # Re-sharing after an invitation expired (meshgov.access.reshare) grants again; Lake
        # Formation creates the RAM share with the grantor's rights when revoking emptied and
        # deleted it. The scenario's sweep re-grants into a share that still exists
        # (AssociateResourceShare).
        "ram:CreateResourceShare": "re-share into a deleted share (sweep), same grant code",
    },
    "CatalogReaderRole": {
        # Not a function's: the operator's `meshgov can-access` and `meshgov posture` read the
        # members' grants and accepted shares through this role (meshgov.access.effective,
        # meshgov.posture.reader); the local mesh's CLI reads as the account admin instead.
        "lakeformation:ListPermissions": "read by can-access/posture (operator), not a function",
        "ram:GetResourceShares": "read by can-access/posture (operator), not a function",
        "ram:GetResourceShareInvitations": "read by can-access/posture (operator), not a function",
    },
}


@dataclass(frozen=True)
class Statement:
    """One ``Allow`` statement granting a role actions, and where it comes from."""

    source: str  # "<Role>/<PolicyName>", the managed policy's logical id, or the key's
    sid: str
    actions: tuple[str, ...]
    resources: tuple[Any, ...]


@dataclass
class RoleGrants:
    role: str
    statements: list[Statement] = field(default_factory=list)
    aws_managed: list[str] = field(default_factory=list)

    @property
    def actions(self) -> set[str]:
        return {a for s in self.statements for a in s.actions}


@dataclass(frozen=True)
class Finding:
    role: str
    kind: str  # called-not-granted | granted-not-called | wildcard-action | resource-star
    action: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.role}: {self.kind} {self.action}" + (
            f" ({self.detail})" if self.detail else ""
        )


@dataclass
class RoleReport:
    role: str
    functions: list[str]
    called: set[str]
    granted: set[str]
    platform: dict[str, str]  # action -> why the Lambda service uses it
    unexercised: dict[str, str]
    findings: list[Finding]

    def as_json(self) -> dict[str, Any]:
        return {
            "functions": self.functions,
            "called": sorted(self.called),
            "granted": sorted(self.granted),
            "used_by_lambda_service": dict(sorted(self.platform.items())),
            "unexercised_justified": dict(sorted(self.unexercised.items())),
            "called_not_granted": _of(self.findings, "called-not-granted"),
            "granted_not_called": _of(self.findings, "granted-not-called"),
            "wildcard_actions": _of(self.findings, "wildcard-action"),
            "resource_star": _of(self.findings, "resource-star"),
        }


def _of(findings: Iterable[Finding], kind: str) -> list[str]:
    return sorted(f.action for f in findings if f.kind == kind)


# --- reading the template --------------------------------------------------------------------
def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _getatt_logical_id(value: Any) -> str | None:
    """``X`` for ``!GetAtt X.Arn`` (either form), else None."""
    if isinstance(value, dict) and len(value) == 1 and "Fn::GetAtt" in value:
        arg = value["Fn::GetAtt"]
        parts = arg.split(".", 1) if isinstance(arg, str) else list(arg)
        return str(parts[0])
    return None


def _ref(value: Any) -> str | None:
    if isinstance(value, dict) and len(value) == 1 and "Ref" in value:
        return str(value["Ref"])
    return None


def _branches(value: Any) -> list[Any]:
    """Every value a policy entry can take in some stack: both branches of an ``Fn::If``
    (nested ones too), none for ``AWS::NoValue``.

    A statement under ``Fn::If`` (the member reader role's ``ReadContracts``) is granted in every
    stack whose condition holds, and the template serves central and member stacks with any
    parameters: what any deployment may grant is what the role is granted here, so a branch
    granting what the code never calls is a finding like any other statement."""
    if isinstance(value, dict) and len(value) == 1:
        if "Fn::If" in value:
            _condition, when_true, when_false = value["Fn::If"]
            return _branches(when_true) + _branches(when_false)
        if value.get("Ref") == "AWS::NoValue":
            return []
    return [value]


def _allow_statements(source: str, document: Mapping[str, Any]) -> list[Statement]:
    found = []
    entries = _list(document.get("Statement") or [])
    for statement in (s for entry in entries for s in _branches(entry)):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        found.append(
            Statement(
                source=source,
                sid=str(statement.get("Sid", "")),
                actions=tuple(str(a) for a in _list(statement.get("Action") or [])),
                resources=tuple(_list(statement.get("Resource") or [])),
            )
        )
    return found


def function_roles(template: Template) -> dict[str, str]:
    """Function logical id -> the logical id of its execution role."""
    roles = {}
    for logical_id in template.resources_of_type("AWS::Serverless::Function"):
        role = _getatt_logical_id(template.properties(logical_id).get("Role"))
        if role:
            roles[logical_id] = role
    return roles


def role_grants(template: Template) -> dict[str, RoleGrants]:
    """Every ``AWS::IAM::Role`` -> its Allow statements (inline, customer managed, and what
    KMS key policies grant it by name) and the AWS managed policies it attaches."""
    grants: dict[str, RoleGrants] = {}
    for role in template.resources_of_type("AWS::IAM::Role"):
        props = template.properties(role)
        found = grants[role] = RoleGrants(role)
        for policy in props.get("Policies") or []:
            name = str(policy.get("PolicyName", "?"))
            found.statements += _allow_statements(f"{role}/{name}", policy["PolicyDocument"])
        for arn in props.get("ManagedPolicyArns") or []:
            managed = _ref(arn)
            if managed is not None:
                document = template.properties(managed)["PolicyDocument"]
                found.statements += _allow_statements(managed, document)
                continue
            text = arn.get("Fn::Sub", "") if isinstance(arn, dict) else str(arn)
            found.aws_managed.append(str(text).split(":policy/", 1)[-1])
    for key in template.resources_of_type("AWS::KMS::Key"):
        document = template.properties(key).get("KeyPolicy") or {}
        for statement in _list(document.get("Statement") or []):
            if statement.get("Effect") != "Allow":
                continue
            principals = (statement.get("Principal") or {}).get("AWS")
            for principal in _list(principals):
                named = _getatt_logical_id(principal)
                if named is not None and named in grants:
                    grants[named].statements += _allow_statements(
                        f"{key}/KeyPolicy", {"Statement": [statement]}
                    )
    return grants


def assumed_role_names(
    template: Template,
    parameters: Mapping[str, str] | None = None,
    region: str = MeshConfig().region,
) -> dict[str, str]:
    """Role name -> logical id, for the roles whose name the template sets from literals,
    parameters and the Region (the roles a function can assume by name, e.g. the member's
    reader role ``${ReaderRoleName}-${AWS::Region}``, which is named per Region)."""
    values = {**template.parameter_defaults(), **(parameters or {})}
    resolver = Resolver(template, values, account_id="", region=region)
    names = {}
    for role in template.resources_of_type("AWS::IAM::Role"):
        name = template.properties(role).get("RoleName")
        try:
            resolved = resolver.resolve(name) if name is not None else None
        except TemplateResolveError:
            continue  # named after another resource: never assumed by name
        if isinstance(resolved, str):
            names[resolved] = role
    return names


def platform_actions(template: Template, function: str) -> dict[str, str]:
    """Actions the Lambda service uses with ``function``'s execution role, and why."""
    props = template.properties(function)
    used: dict[str, str] = {}
    for event in (props.get("Events") or {}).values():
        if event.get("Type") == "SQS":
            for action in SQS_EVENT_SOURCE_ACTIONS:
                used[action] = "SQS event source mapping (Lambda polls the queue)"
    on_failure = ((props.get("EventInvokeConfig") or {}).get("DestinationConfig") or {}).get(
        "OnFailure"
    ) or {}
    if on_failure.get("Type") == "SQS":
        for action in ON_FAILURE_SQS_ACTIONS:
            used[action] = "OnFailure destination of asynchronous invocations"
    tracing = props.get("Tracing", _globals(template).get("Tracing"))
    if tracing == "Active":
        for action in XRAY_ACTIONS:
            used[action] = "Tracing: Active (X-Ray)"
    return used


def _globals(template: Template) -> Mapping[str, Any]:
    function_globals: Mapping[str, Any] = (template.document.get("Globals") or {}).get(
        "Function"
    ) or {}
    return function_globals


# --- comparing ---------------------------------------------------------------------------------
def _star_allowed(action: str) -> bool:
    prefix = action.split(":", 1)[0]
    return action in RESOURCE_STAR_ALLOWED or f"{prefix}:*" in RESOURCE_STAR_ALLOWED


def policy_findings(grants: RoleGrants) -> list[Finding]:
    """Wildcard actions, and Resource "*" on actions that support resource-level permissions
    (key policies excepted: there "*" means the key itself)."""
    found = []
    for statement in grants.statements:
        for action in statement.actions:
            if "*" in action:
                found.append(Finding(grants.role, "wildcard-action", action, statement.source))
            star = "*" in statement.resources
            if star and not statement.source.endswith("/KeyPolicy") and not _star_allowed(action):
                found.append(Finding(grants.role, "resource-star", action, statement.source))
    return found


def compare(
    template: Template,
    called: Mapping[tuple[str, str], set[str]],
    parameters: Mapping[str, str] | None = None,
    unexercised: Mapping[str, Mapping[str, str]] | None = None,
    region: str = MeshConfig().region,
) -> dict[str, RoleReport]:
    """Per role: what its functions called (``called``: ``(function, principal) -> actions``,
    principal ``execution-role`` or an assumed role's ARN) against what it is granted."""
    unexercised = UNEXERCISED if unexercised is None else unexercised
    grants = role_grants(template)
    by_function = function_roles(template)
    by_name = assumed_role_names(template, parameters, region)
    users: dict[str, list[str]] = {}
    calls: dict[str, set[str]] = {}
    platform: dict[str, dict[str, str]] = {}
    for function, role in by_function.items():
        users.setdefault(role, []).append(function)
        calls.setdefault(role, set())
        platform.setdefault(role, {}).update(platform_actions(template, function))
    for (function, principal), actions in called.items():
        if principal == "execution-role":
            role = by_function.get(function, f"?{function}")
        else:
            role = by_name.get(principal.rsplit("/", 1)[-1], f"?{principal}")
            if function not in users.setdefault(role, []):
                users[role].append(function)
        calls.setdefault(role, set()).update(actions)
    reports = {}
    for role in sorted(set(users) | set(calls)):
        granted = grants.get(role, RoleGrants(role))
        managed = {
            a for name in granted.aws_managed for a in AWS_MANAGED_ACTIONS.get(name, frozenset())
        }
        service = dict(platform.get(role, {}))
        service.update({a: "AWSLambdaBasicExecutionRole (Lambda writes the logs)" for a in managed})
        justified = dict(unexercised.get(role, {}))
        used = calls.get(role, set())
        findings = [
            Finding(role, "called-not-granted", a) for a in sorted(used - granted.actions - managed)
        ]
        findings += [
            Finding(role, "granted-not-called", a)
            for a in sorted(granted.actions - used - set(service) - set(justified))
        ]
        findings += policy_findings(granted)
        reports[role] = RoleReport(
            role=role,
            functions=sorted(users.get(role, [])),
            called=used,
            granted=granted.actions,
            platform={a: why for a, why in service.items() if a in granted.actions | managed},
            unexercised=justified,
            findings=findings,
        )
    # Wildcards anywhere in a role's policy, even a role no function uses (e.g. EventBridge's).
    for role, granted in grants.items():
        if role not in reports:
            extra = policy_findings(granted)
            if extra:
                reports[role] = RoleReport(role, [], set(), granted.actions, {}, {}, extra)
    return reports


def mismatches(reports: Mapping[str, RoleReport]) -> list[Finding]:
    return [f for report in reports.values() for f in report.findings]
