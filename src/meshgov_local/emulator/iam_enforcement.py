"""Every request signed with a role's credentials is authorized as IAM would (moto checks nothing).

moto authorizes each request in one place,
``ActionAuthenticatorMixin._authenticate_and_authorize_action`` (its responses call it for every
action; S3's per request with the bucket or object ARN), and only after
``INITIAL_NO_AUTH_ACTION_COUNT`` requests, with action-only matching. This module replaces that
seam: for a request signed with the temporary credentials of a role session (what
``sts:AssumeRole`` returns: the functions' execution roles, the member reader role, a consumer's
``analyst``, the local admin roles), it

1. finds the role (moto keeps the role ARN on the temporary access key) and its identity policies:
   inline and attached managed policies, as :mod:`meshgov_local.deploy` created them from
   ``template.yaml``;
2. asks :mod:`.iam_requests` which actions on which resources the request is (a Glue table read is
   ``glue:GetTable`` on the catalog, the database and the table);
3. evaluates each with :mod:`.iam_policy`: explicit deny over allow over implicit deny; within one
   account the identity policy or a resource policy naming the role allows; across accounts both
   must; a KMS key's policy must allow in any case ("no IAM policy by itself is sufficient to allow
   access to a KMS key", https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html,
   and https://docs.aws.amazon.com/kms/latest/developerguide/determining-access.html). Resource
   policies read: SQS queue policies, S3 bucket policies, KMS key policies. Event bus policies
   are evaluated where events cross accounts (:mod:`.eventbridge`); Glue catalogs are not shared
   by resource policy in the local mesh (:mod:`.glue_access`).
4. refuses with the service's own error: ``AccessDeniedException`` for JSON services,
   ``AccessDenied`` for query and XML services (STS, IAM, S3), with the message IAM writes
   ("User: <arn> is not authorized to perform: <action> on resource: <arn> because no
   identity-based policy allows the <action> action",
   https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html).

Session policies and session tags. The policy passed to ``AssumeRole`` (``Policy``) limits the
session: "The resulting session's permissions are the intersection of the role's identity-based
policy and the session policies"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access_assumerole.html);
an explicit deny in it denies, and without its allow the request is denied ("because no session
policy allows the <action> action"), except where a resource-based policy names the session's own
ARN, whose permissions "are not limited by the session policy"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session). Both the
session policy and the session tags (``Tags``, which moto drops) are recorded for the access key as
STS issues it: in moto's STS backend for the policy (so sessions the emulator issues itself, such as
Lake Formation's vended credentials, carry theirs), in the STS response for the tags
(:func:`session_tags`). ``s3:ListBucket`` requests carry ``s3:prefix`` in the request context
(https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html#amazons3-policy-keys).

Requests signed with anything else — the plain ``testing`` keys of moto's default account (the
operator who bootstraps the local admin roles) — are the account root's: allowed, as the root
user is ("the root user has full access to all AWS services and resources in the account",
https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user.html). Calls the emulator makes on
moto's backends directly (AWS's own deliveries) are not requests and are not authorized.

Authorization is on once :func:`install` ran; :func:`enforcement` turns it off for a block.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.exceptions import AccessDeniedError, JsonRESTError
from moto.iam.exceptions import NotFoundException
from moto.iam.models import iam_backends
from moto.kms.models import kms_backends
from moto.s3.models import s3_backends
from moto.sqs.models import sqs_backends
from moto.sts.models import STSBackend
from moto.sts.responses import TokenResponse
from moto.utilities.utils import get_partition

from . import iam_policy, iam_requests
from ._patching import patch_attr, wrap_method
from .controls import controls
from .iam_policy import Decision, Principal

LOGGER = logging.getLogger(__name__)
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/")
JSON_PROTOCOLS = frozenset({"json", "rest-json"})

_lock = threading.Lock()
_disabled_depth = 0


@contextmanager
def enforcement(enabled: bool) -> Iterator[None]:
    """Turn IAM authorization on or off (process-wide) for the duration of a block."""
    global _disabled_depth
    with _lock:
        _disabled_depth += 0 if enabled else 1
    try:
        yield
    finally:
        with _lock:
            _disabled_depth -= 0 if enabled else 1


def enforced() -> bool:
    return _disabled_depth == 0


# --- who signed ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoleSession:
    """The role behind temporary credentials, and where its policies live."""

    account: str
    partition: str
    role_arn: str
    role_name: str
    access_key: str

    def principal(self) -> Principal:
        session = _session_arn(self)
        return Principal(
            self.account,
            session,
            self.role_arn,
            organization_id=controls.organization_of(self.account),
        )

    def identity_policies(self) -> list[str]:
        """The role's inline and attached managed policies, as IAM holds them now."""
        backend = iam_backends[self.account][self.partition]
        try:
            role = backend.get_role(self.role_name)
        except NotFoundException:
            return []  # a deleted role grants nothing
        documents = [str(document) for document in role.policies.values()]
        for policy in role.managed_policies.values():
            documents.extend(
                str(version.document) for version in policy.versions if version.is_default
            )
        return documents


# Access key -> session ARN, recorded as STS issues the credentials (moto would find them by a
# scan of every assumed role: linear in the roles ever assumed, on every request). The emulator's
# own state, beside moto's; keys are random, so entries of a reset moto are never looked up again.
_SESSION_ARNS: dict[str, str] = {}
_KNOWN: dict[str, RoleSession] = {}
# Access key -> the session policy passed to AssumeRole, and -> the session tags (key -> value).
_SESSION_POLICIES: dict[str, str] = {}
_SESSION_TAGS: dict[str, dict[str, str]] = {}


SessionStores = tuple[
    dict[str, str], dict[str, RoleSession], dict[str, str], dict[str, dict[str, str]]
]


def session_stores() -> SessionStores:
    """The four stores above, by reference: what :mod:`meshgov_local.snapshot` copies with moto's
    backends (the credentials they describe live there) and puts back with
    :func:`replace_session_stores`."""
    return _SESSION_ARNS, _KNOWN, _SESSION_POLICIES, _SESSION_TAGS


def replace_session_stores(stores: SessionStores) -> None:
    """Make the stores hold exactly (copies of) ``stores``' entries, in place."""
    arns, known, policies, tags = stores
    _SESSION_ARNS.clear()
    _SESSION_ARNS.update(arns)
    _KNOWN.clear()
    _KNOWN.update(known)
    _SESSION_POLICIES.clear()
    _SESSION_POLICIES.update(policies)
    _SESSION_TAGS.clear()
    _SESSION_TAGS.update(tags)


def session_policy(access_key: str) -> str | None:
    """The session policy ``access_key``'s session was issued with (None: no session policy)."""
    return _SESSION_POLICIES.get(access_key)


def session_tags(access_key: str) -> dict[str, str]:
    """The session tags ``access_key``'s session was issued with (``AssumeRole``'s ``Tags``)."""
    return dict(_SESSION_TAGS.get(access_key, {}))


def role_session(access_key: str) -> RoleSession | None:
    """The role session ``access_key`` belongs to; None for anything else (root, users)."""
    known = _KNOWN.get(access_key)
    if known is not None:
        return known
    for account_id, account in list(iam_backends.items()):
        for partition in ("aws", "aws-cn", "aws-us-gov"):
            backend = account.get(partition)
            if backend is None:
                continue
            key = backend.access_keys.get(access_key)
            if key is not None and getattr(key, "role_arn", None):
                role_arn = str(key.role_arn)
                session = RoleSession(
                    account_id, partition, role_arn, role_arn.split("/")[-1], access_key
                )
                _KNOWN[access_key] = session
                return session
    return None


def _session_arn(session: RoleSession) -> str:
    return _SESSION_ARNS.get(session.access_key) or (
        f"arn:{session.partition}:sts::{session.account}:assumed-role/{session.role_name}/session"
    )


def _recording_sessions(assume_role: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        assumed = assume_role(self, *args, **kwargs)
        _SESSION_ARNS[str(assumed.access_key_id)] = str(assumed.arn)
        policy = getattr(assumed, "policy", None)
        if policy:
            _SESSION_POLICIES[str(assumed.access_key_id)] = str(policy)
        return assumed

    return wrapper


def _recording_tags(assume_role: Callable[..., Any]) -> Callable[..., Any]:
    """Keep the ``Tags`` of an ``AssumeRole`` request for the credentials it returns."""

    def wrapper(self: Any) -> Any:
        result = assume_role(self)
        tags = self._get_params().get("Tags") or []
        credentials = (getattr(result, "result", None) or {}).get("Credentials")
        if tags and credentials is not None:
            _SESSION_TAGS[str(credentials.access_key_id)] = {
                str(tag.get("Key")): str(tag.get("Value")) for tag in tags
            }
        return result

    return wrapper


# --- actions a service takes with the caller's rights ---------------------------------------------

OnBehalfListener = Callable[[str, str], None]
"""Called as ``fn(access_key, action)`` when a service authorizes an action it takes on behalf of
the request's signer (Lake Formation's RAM shares for a grant): the least-privilege recorder
counts it as the signer's."""

_on_behalf: list[OnBehalfListener] = []


def add_on_behalf_listener(listener: OnBehalfListener) -> None:
    _on_behalf.append(listener)


def remove_on_behalf_listener(listener: OnBehalfListener) -> None:
    if listener in _on_behalf:
        _on_behalf.remove(listener)


def notify_on_behalf(session: RoleSession, actions: Sequence[str]) -> None:
    for listener in list(_on_behalf):
        for action in actions:
            listener(session.access_key, action)


# --- resource policies --------------------------------------------------------------------------


def _resource_policy(prefix: str, resource: str, where: iam_requests.Where) -> str | None:
    """The resource policy AWS evaluates for ``resource``, if the service has one and it is set."""
    parts = resource.split(":", 5)
    if len(parts) < 6:
        return None
    account, region, name = parts[4], parts[3], parts[5]
    try:
        if prefix == "sqs":
            queue = sqs_backends[account][region].queues.get(name)
            return str(queue.policy) if queue is not None and queue.policy else None
        if prefix == "kms":
            key = kms_backends[account][region].keys.get(name.removeprefix("key/"))
            return str(key.policy) if key is not None else None
        if prefix == "s3":
            bucket_name = name.split("/", 1)[0]
            bucket = s3_backends[where.account][where.partition].get_bucket(bucket_name)
            return bucket.policy.decode() if bucket.policy else None
    except Exception:  # no such queue, key or bucket: the service answers NotFound itself
        return None
    return None


def _owner(prefix: str, resource: str, where: iam_requests.Where) -> str:
    parts = resource.split(":")
    if prefix == "s3":
        return where.account  # bucket ARNs name no account; the local mesh keeps buckets home
    if len(parts) > 4 and parts[4]:
        return parts[4]
    return where.account


# --- the decision -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Denial:
    action: str
    resource: str
    reason: str  # the tail of IAM's message


def decide(
    session: RoleSession,
    prefix: str,
    found: Sequence[iam_requests.Check],
    where: iam_requests.Where,
    context: Mapping[str, str] | None = None,
) -> Denial | None:
    """The first check of ``found`` that IAM refuses, or None when every one is allowed."""
    principal = session.principal()
    identity = session.identity_policies()
    limit = session_policy(session.access_key) if session.access_key else None
    ctx = {**principal.context(), **(context or {})}
    for check in found:
        denial = _decide_one(principal, identity, prefix, check, where, ctx, limit)
        if denial is not None:
            return denial
    return None


def _decide_one(
    principal: Principal,
    identity: Sequence[str],
    prefix: str,
    check: iam_requests.Check,
    where: iam_requests.Where,
    ctx: Mapping[str, str],
    limit: str | None = None,
) -> Denial | None:
    action, resource = check.action, check.resource
    by_identity = iam_policy.evaluate(identity, action, resource, ctx)
    if by_identity is Decision.DENY:
        return Denial(action, resource, "with an explicit deny in an identity-based policy")
    by_session = (
        Decision.ALLOW if limit is None else iam_policy.evaluate([limit], action, resource, ctx)
    )
    if by_session is Decision.DENY:
        return Denial(action, resource, "with an explicit deny in a session policy")
    policy = _resource_policy(prefix, resource, where)
    by_resource = Decision.NOT_APPLICABLE
    names_itself = names_session = False
    if policy is not None:
        by_resource = iam_policy.evaluate([policy], action, resource, ctx, caller=principal)
        if by_resource is Decision.DENY:
            return Denial(action, resource, "with an explicit deny in a resource-based policy")
        allowing = iam_policy.allowing_statements(policy, action, resource, ctx, principal)
        names_itself = any(
            iam_policy.names_principal_itself(statement.get("Principal"), principal)
            for statement in allowing
        )
        names_session = any(_names_session(statement, principal) for statement in allowing)
    if by_session is not Decision.ALLOW and not names_session:
        return Denial(action, resource, f"because no session policy allows the {action} action")
    if prefix == "kms":
        # The key policy decides; naming the account delegates to IAM policies. No key: KMS
        # itself answers NotFoundException.
        if policy is None or names_itself:
            return None
        if by_resource is Decision.ALLOW and by_identity is Decision.ALLOW:
            return None
        return Denial(action, resource, _no_policy("resource", action))
    cross_account = _owner(prefix, resource, where) != principal.account
    if cross_account and prefix not in {"events", "glue", "sts", "lakeformation", "ram"}:
        # Both sides must allow. (Event buses, Glue catalogs and role trust are checked by the
        # modules that emulate them; Lake Formation and RAM resources are "*".)
        if by_identity is not Decision.ALLOW:
            return Denial(
                action, resource, f"because no identity-based policy allows the {action} action"
            )
        if by_resource is not Decision.ALLOW:
            return Denial(
                action, resource, f"because no resource-based policy allows the {action} action"
            )
        return None
    if by_identity is Decision.ALLOW or names_itself:
        return None
    return Denial(action, resource, _no_policy("identity", action))


def _names_session(statement: Mapping[str, Any], principal: Principal) -> bool:
    """Whether a resource policy statement names the session's own ARN (not its role's)."""
    named = statement.get("Principal")
    return isinstance(named, dict) and principal.arn in iam_policy.as_list(named.get("AWS"))


def _no_policy(kind: str, action: str) -> str:
    return f"because no {kind}-based policy allows the {action} action"


def message(principal_arn: str, denial: Denial) -> str:
    """IAM's AccessDenied message."""
    return (
        f"User: {principal_arn} is not authorized to perform: {denial.action} on resource: "
        f"{denial.resource} {denial.reason}"
    )


# --- the moto seam ------------------------------------------------------------------------------


def _request_params(response: Any) -> dict[str, Any]:
    """The request's parameters: moto's parsed ones where it parsed them, else the JSON body or
    the query string."""
    for parsed in (getattr(response, "params", None), getattr(response, "body", None)):
        if isinstance(parsed, dict) and parsed:
            return parsed
    body = getattr(response, "body", None)
    if body:
        try:
            loaded = json.loads(body)
        except (TypeError, ValueError):
            loaded = None
        if isinstance(loaded, dict):
            return loaded
    params: dict[str, Any] = {}
    for key, value in (getattr(response, "querystring", None) or {}).items():
        params[key] = value[0] if isinstance(value, list) and value else value
    return params


def _protocol(response: Any) -> str:
    from moto.core.utils import get_service_model

    try:
        return str(get_service_model(response.boto3_service_name).protocol)
    except Exception:  # a service botocore does not model: answer as the query protocol does
        return "query"


def _refuse(response: Any, prefix: str, principal_arn: str, denial: Denial, s3: bool) -> None:
    """Raise the service's own AccessDenied error."""
    if s3:
        from moto.s3.exceptions import BucketAccessDeniedError, S3AccessDeniedError

        bucket = (getattr(response, "data", None) or {}).get("BucketName")
        raise BucketAccessDeniedError(bucket=bucket) if bucket else S3AccessDeniedError()
    if _protocol(response) in JSON_PROTOCOLS:
        # SQS's JSON protocol keeps its query error code (awsQueryCompatible).
        error = JsonRESTError(
            "AccessDenied" if prefix == "sqs" else "AccessDeniedException",
            message(principal_arn, denial),
        )
        error.code = 403 if prefix == "sqs" else 400
        raise error
    raise AccessDeniedError(
        user_arn=principal_arn,
        action=f"{denial.action} on resource: {denial.resource} {denial.reason}",
    )


def _signature(response: Any) -> tuple[str, str, str] | None:
    """(access key, region, service) of a signed request."""
    header = str((getattr(response, "headers", None) or {}).get("Authorization") or "")
    match = _CREDENTIAL.search(header)
    return None if match is None else (match.group(1), match.group(2), match.group(3))


def caller_session(response: Any) -> RoleSession | None:
    """The role session that signed the request moto is serving (None: root or unsigned)."""
    if not enforced():
        return None
    signature = _signature(response)
    return None if signature is None else role_session(signature[0])


_CHECKED = "_meshgov_iam_authorized"


def authorize(response: Any) -> None:
    """Authorize the request now (once): a service patch that checks more (Lake Formation) after
    IAM calls this first, as AWS evaluates IAM before Lake Formation."""
    _authorize(response, type(None))


def _authorize(self: Any, iam_request_cls: type, resource: str = "*") -> None:
    if not enforced() or getattr(self, _CHECKED, False):
        return
    signature = _signature(self)
    if signature is None:
        return  # unsigned: public operations only, as moto serves them
    access_key, region, prefix = signature
    session = role_session(access_key)
    if session is None:
        return  # the account root (the operator's plain credentials)
    setattr(self, _CHECKED, True)
    where = iam_requests.Where(session.account, region, get_partition(region))
    s3 = iam_request_cls.__name__ == "S3IAMRequest"
    context: dict[str, str] = {}
    if s3:
        operation = str((getattr(self, "data", None) or {}).get("Action") or "")
        found: Sequence[iam_requests.Check] = (
            (iam_requests.Check(f"s3:{operation}", resource),) if operation else ()
        )
        listed_prefix = (getattr(self, "querystring", None) or {}).get("prefix")
        if operation == "ListBucket" and listed_prefix:
            context["s3:prefix"] = str(listed_prefix[0])
    else:
        operation = str(self._get_action())
        found = iam_requests.checks(prefix, operation, _request_params(self), where)
    denial = decide(session, prefix, found, where, context)
    if denial is not None:
        principal_arn = session.principal().arn
        LOGGER.info("AccessDenied: %s", message(principal_arn, denial))
        _refuse(self, prefix, principal_arn, denial, s3)


def _resolve_key(account: str, region: str, key: str) -> str | None:
    try:
        backend = kms_backends[account][region]
        return str(backend.keys[backend.any_id_to_key_id(key)].arn)
    except Exception:  # an unknown key or alias: KMS answers NotFoundException itself
        return None


def install() -> None:
    patch_attr(ActionAuthenticatorMixin, "_authenticate_and_authorize_action", _authorize)
    wrap_method(STSBackend, "assume_role", _recording_sessions)
    wrap_method(TokenResponse, "assume_role", _recording_tags)
    iam_requests.set_key_resolver(_resolve_key)
