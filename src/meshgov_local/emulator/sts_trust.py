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

The check runs in ``TokenResponse.assume_role``, where the caller's credentials are known, so it
applies in-process and in server mode alike.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from moto.core.exceptions import AccessDeniedError
from moto.iam.models import iam_backends
from moto.sts.models import sts_backends
from moto.sts.responses import TokenResponse

from ._patching import wrap_method

_ASSUMED_ROLE = re.compile(r"^arn:[^:]+:sts::(\d{12}):assumed-role/([^/]+)/.+$")
_ROLE_ARN = re.compile(r"^arn:[^:]+:iam::(\d{12}):role/(?:.*/)?([^/]+)$")


@dataclass(frozen=True)
class Caller:
    account: str
    arn: str  # the caller's identity ARN (user, or assumed-role session)
    principal_arn: str  # aws:PrincipalArn: the role ARN for a role session

    @classmethod
    def of(cls, account: str, arn: str) -> Caller:
        session = _ASSUMED_ROLE.match(arn)
        if session is None:
            return cls(account, arn, arn)
        role_account, role_name = session.groups()
        principal = f"arn:aws:iam::{role_account}:role/{role_name}"
        for role in iam_backends[role_account]["global"].get_roles():
            if role.name == role_name:
                principal = str(role.arn)
                break
        return cls(account, arn, principal)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _action_matches(statement: dict[str, Any]) -> bool:
    return any(
        fnmatchcase("sts:assumerole", str(action).lower())
        for action in _as_list(statement.get("Action"))
    )


def _principal_matches(principal: Any, caller: Caller) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    accepted = {
        "*",
        caller.account,
        f"arn:aws:iam::{caller.account}:root",
        caller.arn,
        caller.principal_arn,
    }
    return any(str(value) in accepted for value in _as_list(principal.get("AWS")))


def _context(caller: Caller, external_id: str | None) -> dict[str, str]:
    context = {"aws:principalarn": caller.principal_arn, "aws:principalaccount": caller.account}
    if external_id is not None:
        context["sts:externalid"] = external_id
    return context


def _operator_matches(operator: str, actual: str, expected: str) -> bool:
    if operator in ("StringEquals", "ArnEquals"):
        return actual == expected
    if operator in ("StringLike", "ArnLike"):
        return fnmatchcase(actual, expected)
    if operator == "StringNotEquals":
        return actual != expected
    if operator in ("StringNotLike", "ArnNotLike"):
        return not fnmatchcase(actual, expected)
    return False


def _conditions_hold(conditions: Any, context: dict[str, str]) -> bool:
    if not conditions:
        return True
    if not isinstance(conditions, dict):
        return False
    for raw_operator, clauses in conditions.items():
        operator = str(raw_operator)
        if_exists = operator.endswith("IfExists")
        operator = operator.removesuffix("IfExists")
        for key, expected in (clauses or {}).items():
            actual = context.get(str(key).lower())
            if actual is None:
                if if_exists:
                    continue
                return False
            if not any(_operator_matches(operator, actual, str(e)) for e in _as_list(expected)):
                return False
    return True


def trust_allows(policy: Any, caller: Caller, external_id: str | None = None) -> bool:
    """Whether a role trust policy lets ``caller`` call sts:AssumeRole."""
    document = _load(policy)
    context = _context(caller, external_id)
    allowed = False
    for statement in _as_list(document.get("Statement")):
        if not isinstance(statement, dict) or not _action_matches(statement):
            continue
        if not _principal_matches(statement.get("Principal"), caller):
            continue
        if not _conditions_hold(statement.get("Condition"), context):
            continue
        if statement.get("Effect") == "Deny":
            return False
        if statement.get("Effect") == "Allow":
            allowed = True
    return allowed


def _load(policy: Any) -> dict[str, Any]:
    if isinstance(policy, dict):
        return policy
    text = str(policy or "{}")
    try:
        loaded = json.loads(text)
    except ValueError:
        loaded = json.loads(urllib.parse.unquote(text))
    return loaded if isinstance(loaded, dict) else {}


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
        caller = Caller.of(self.current_account, str(caller_arn))
        check_assume_role(self._get_param("RoleArn"), caller, self._get_param("ExternalId"))
        return assume_role(self)

    return wrapper


def install() -> None:
    wrap_method(TokenResponse, "assume_role", _trusting)
