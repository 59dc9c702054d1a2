"""STS AssumeRole honours the role's trust policy (moto lets anyone assume any ARN).

Followed documents:

- AssumeRole, https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html: the role's
  trust policy must allow the caller ("a role trust policy ... specifies who can assume the
  role"); otherwise the call fails with ``AccessDenied`` ("User: ... is not authorized to perform:
  sts:AssumeRole on resource: ...").
- Principal element,
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html:
  an account is ``arn:aws:iam::<id>:root`` or its 12-digit id ("the account ARN and the shortened
  account ID behave the same way"); a role principal names the role's ARN and matches its
  sessions; ``"*"`` is everyone.
- Condition keys, https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html:
  ``aws:PrincipalArn`` is, for a role session, the ARN of the role; ``aws:PrincipalAccount`` the
  caller's account; ``sts:ExternalId`` the ExternalId passed to AssumeRole. ``StringLike`` and
  ``ArnLike`` match ``*`` and ``?`` wildcards
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html).
  A condition on any other key is not satisfied (the key is absent from the request context).
- Policy evaluation: an explicit Deny wins, and without an Allow the request is denied
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).

The evaluation itself is :mod:`.iam_policy`'s (one home for policies, trust policies included).
The check runs in ``TokenResponse.assume_role``, where the caller's credentials are known, so it
applies in-process and in server mode alike.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from moto.core.exceptions import AccessDeniedError
from moto.iam.models import iam_backends
from moto.sts.models import sts_backends
from moto.sts.responses import TokenResponse

from . import iam_policy
from ._patching import wrap_method
from .iam_policy import Decision, Principal

_ASSUMED_ROLE = re.compile(r"^arn:[^:]+:sts::(\d{12}):assumed-role/([^/]+)/.+$")
_ROLE_ARN = re.compile(r"^arn:[^:]+:iam::(\d{12}):role/(?:.*/)?([^/]+)$")


# A caller is a principal as IAM evaluates it (iam_policy.Principal: account, identity ARN,
# aws:PrincipalArn); one home for how a trust policy answers it.
Caller = Principal


def caller_of(account: str, arn: str) -> Principal:
    """The principal of ``arn``; for a role session, ``aws:PrincipalArn`` is the role's ARN with
    its path, as IAM keeps it."""
    session = _ASSUMED_ROLE.match(arn)
    if session is None:
        return Principal(account, arn, arn)
    role_account, role_name = session.groups()
    for role in iam_backends[role_account]["global"].get_roles():
        if role.name == role_name:
            return Principal.of_session(account, arn, str(role.arn))
    return Principal.of_session(account, arn)


def trust_allows(policy: Any, caller: Principal, external_id: str | None = None) -> bool:
    """Whether a role trust policy lets ``caller`` call sts:AssumeRole (:mod:`.iam_policy`)."""
    context = caller.context()
    if external_id is not None:
        context["sts:externalid"] = external_id
    decision = iam_policy.evaluate([policy], "sts:AssumeRole", "*", context, caller=caller)
    return decision is Decision.ALLOW


def find_role(role_arn: str) -> Any | None:
    match = _ROLE_ARN.match(role_arn or "")
    if match is None:
        return None
    account, role_name = match.groups()
    for role in iam_backends[account]["global"].get_roles():
        if role.name == role_name:
            return role
    return None


def check_assume_role(role_arn: str, caller: Caller, external_id: str | None = None) -> None:
    """Raise ``AccessDenied`` unless the role exists and trusts ``caller``."""
    role = find_role(role_arn)
    if role is None or not trust_allows(role.assume_role_policy_document, caller, external_id):
        raise AccessDeniedError(caller.arn, f"sts:AssumeRole on resource: {role_arn}")


def _trusting(assume_role: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(self: Any) -> Any:
        backend = sts_backends[self.current_account][self.partition]
        _, caller_arn, _ = backend.get_caller_identity(self.get_access_key(), self.region)
        caller = caller_of(self.current_account, str(caller_arn))
        check_assume_role(self._get_param("RoleArn"), caller, self._get_param("ExternalId"))
        return assume_role(self)

    return wrapper


def install() -> None:
    wrap_method(TokenResponse, "assume_role", _trusting)
