"""Registered data locations: ``RegisterResource`` and friends as Lake Formation answers them.

moto 5.2.5 stores any ``ResourceArn`` with any ``RoleArn`` (or none), checks nothing and lists
everything at once. Followed documents:

- RegisterResource, https://docs.aws.amazon.com/lake-formation/latest/APIReference/API_RegisterResource.html:
  "If UseServiceLinkedRole is not set to true, you must provide or set the RoleArn"; a second
  registration of the same ARN is ``AlreadyExistsException`` (moto's); errors
  ``InvalidInputException`` ("The input provided was not valid": a ``ResourceArn`` that is no
  Amazon S3 location) and ``EntityNotFoundException`` ("A specified entity does not exist": the
  ``RoleArn`` names no role; which of the two AWS returns is not documented, this one is listed).
- Requirements for roles used to register locations,
  https://docs.aws.amazon.com/lake-formation/latest/dg/registration-role.html: "The data lake
  administrator who registers the location must have the iam:PassRole permission on the role".
  A request signed by a role session is authorized ``iam:PassRole`` on ``RoleArn`` with
  ``iam:PassedToService`` = ``lakeformation.amazonaws.com`` (the service the role is passed to,
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#ck_PassedToService),
  as :mod:`.iam_enforcement` decides; a role of another account cannot be passed ("The role in
  account A", https://docs.aws.amazon.com/lake-formation/latest/dg/register-cross-account.html).
  Refused with ``AccessDeniedException`` and IAM's message; nothing is registered.
- DescribeResource, https://docs.aws.amazon.com/lake-formation/latest/APIReference/API_DescribeResource.html,
  and DeregisterResource, https://docs.aws.amazon.com/lake-formation/latest/APIReference/API_DeregisterResource.html:
  ``EntityNotFoundException`` for an ARN not registered (moto's).
- ListResources, https://docs.aws.amazon.com/lake-formation/latest/APIReference/API_ListResources.html:
  ``MaxResults`` 1 to 1,000 with ``NextToken`` (the SDK has no paginator: a caller must follow
  the token). ``FilterConditionList`` is not emulated and refused rather than ignored.
- ResourceInfo, https://docs.aws.amazon.com/lake-formation/latest/APIReference/API_ResourceInfo.html:
  ``LastModified``, ``HybridAccessEnabled``, ``WithFederation``, and ``VerificationStatus``:
  "whether the registered role has sufficient permissions to access registered Amazon S3
  location": ``VERIFIED``, ``NOT_VERIFIED``, ``VERIFICATION_FAILED`` ("Unable to verify"). Here:
  the role's identity policies and the bucket's policy, evaluated as IAM would for the role
  (:func:`.iam_enforcement.decide`; across accounts both must allow,
  https://docs.aws.amazon.com/lake-formation/latest/dg/register-cross-account.html), allow
  ``s3:ListBucket`` on the bucket and ``s3:GetObject`` in the location; unable to verify when
  the role or the bucket does not exist. SSE-KMS key policies are not part of it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.iam.models import iam_backends
from moto.lakeformation.exceptions import EntityNotFound
from moto.lakeformation.models import LakeFormationBackend
from moto.lakeformation.responses import LakeFormationResponse
from moto.s3.models import s3_backends

from . import iam_enforcement, iam_requests
from ._patching import patch_attr, wrap_method
from .controls import controls
from .lakeformation_grants import MAX_LIST_RESULTS, invalid_input, page

LAKE_FORMATION = "lakeformation.amazonaws.com"
_S3_LOCATION = re.compile(r"^arn:(aws[a-z-]*):s3:::([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(/.*)?$")
_ROLE = re.compile(r"^arn:(aws[a-z-]*):iam::(\d{12}):role/(?:.*/)?([^/]+)$")

VERIFIED, NOT_VERIFIED, VERIFICATION_FAILED = "VERIFIED", "NOT_VERIFIED", "VERIFICATION_FAILED"


def _denied(message: str) -> JsonRESTError:
    error = JsonRESTError("AccessDeniedException", message)
    error.code = 400
    return error


def _role_exists(role_arn: str) -> bool:
    match = _ROLE.match(role_arn)
    if match is None:
        return False
    partition, account, name = match.groups()
    try:
        iam_backends[account][partition].get_role(name)
    except Exception:
        return False
    return True


def _check_registration(response: Any) -> None:
    """Refuse a registration AWS refuses, before moto stores it."""
    resource_arn = str(response._get_param("ResourceArn") or "")
    role_arn = str(response._get_param("RoleArn") or "")
    if not _S3_LOCATION.match(resource_arn):
        raise invalid_input(f"Unsupported resource ARN format: {resource_arn!r}")
    if not role_arn:
        if response._get_param("UseServiceLinkedRole") is True:
            return
        raise invalid_input("RoleArn is required when UseServiceLinkedRole is not true.")
    if not _role_exists(role_arn):
        raise EntityNotFound()
    session = iam_enforcement.caller_session(response)
    if session is None:
        return  # the account root passes any role of its account
    where = iam_requests.Where(session.account, response.region, session.partition)
    checks = [iam_requests.Check("iam:PassRole", role_arn)]
    iam_enforcement.notify_on_behalf(session, ["iam:PassRole"])
    denial = iam_enforcement.decide(
        session, "iam", checks, where, {"iam:passedtoservice": LAKE_FORMATION}
    )
    if denial is not None:
        raise _denied(iam_enforcement.message(session.principal().arn, denial))


def _registering(register: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(self: Any) -> Any:
        _check_registration(self)
        result = register(self)
        stored = self.lakeformation_backend.resources[str(self._get_param("ResourceArn"))]
        stored.last_modified = controls.now()
        stored.hybrid_access_enabled = bool(self._get_param("HybridAccessEnabled") or False)
        stored.with_federation = bool(self._get_param("WithFederation") or False)
        return result

    return wrapper


# --- what ResourceInfo says ----------------------------------------------------------------------


def verification_status(resource_arn: str, role_arn: str | None, region: str) -> str:
    """Whether ``role_arn`` may list the location's bucket and read its objects (module doc)."""
    location = _S3_LOCATION.match(resource_arn)
    role = _ROLE.match(role_arn or "")
    if location is None or role is None or not _role_exists(str(role_arn)):
        return VERIFICATION_FAILED
    partition, bucket, prefix = location.group(1), location.group(2), location.group(3) or ""
    owner = s3_backends.bucket_accounts.get(bucket)
    if owner is None:
        return VERIFICATION_FAILED
    bucket_partition, bucket_account = owner
    role_partition, role_account, role_name = role.groups()
    session = iam_enforcement.RoleSession(
        role_account, role_partition, str(role_arn), role_name, access_key=""
    )
    where = iam_requests.Where(bucket_account, region, bucket_partition)
    bucket_arn = f"arn:{partition}:s3:::{bucket}"
    checks = [
        iam_requests.Check("s3:ListBucket", bucket_arn),
        iam_requests.Check("s3:GetObject", f"{bucket_arn}{prefix.rstrip('/')}/*"),
    ]
    context = {"s3:resourceaccount": bucket_account, "aws:resourceaccount": bucket_account}
    organization = controls.organization_of(bucket_account)
    if organization:
        context["aws:resourceorgid"] = organization
    denial = iam_enforcement.decide(session, "s3", checks, where, context)
    return VERIFIED if denial is None else NOT_VERIFIED


def resource_info(resource: Any, region: str) -> dict[str, Any]:
    info: dict[str, Any] = {"ResourceArn": resource.arn}
    if resource.role_arn:
        info["RoleArn"] = resource.role_arn
    modified = getattr(resource, "last_modified", None)
    if modified is not None:
        info["LastModified"] = modified.timestamp()
    info["WithFederation"] = bool(getattr(resource, "with_federation", False))
    info["HybridAccessEnabled"] = bool(getattr(resource, "hybrid_access_enabled", False))
    info["VerificationStatus"] = verification_status(resource.arn, resource.role_arn, region)
    return info


def response_describe_resource(self: Any) -> str:
    backend: LakeFormationBackend = self.lakeformation_backend
    resource = backend.describe_resource(resource_arn=self._get_param("ResourceArn"))
    return json.dumps({"ResourceInfo": resource_info(resource, self.region)})


def response_list_resources(self: Any) -> str:
    if self._get_param("FilterConditionList"):
        raise invalid_input("FilterConditionList is not emulated by the local mesh.")
    backend: LakeFormationBackend = self.lakeformation_backend
    listed = sorted(backend.list_resources(), key=lambda r: str(r.arn))
    infos = [resource_info(resource, self.region) for resource in listed]
    selected, token = page(
        infos, self._get_param("MaxResults"), self._get_param("NextToken"), MAX_LIST_RESULTS
    )
    result: dict[str, Any] = {"ResourceInfoList": selected}
    if token:
        result["NextToken"] = token
    return json.dumps(result)


def install() -> None:
    response = LakeFormationResponse
    wrap_method(response, "register_resource", _registering)
    patch_attr(response, "describe_resource", response_describe_resource)
    patch_attr(response, "list_resources", response_list_resources)
