"""IAM policy evaluation: one pure home for how a policy document answers a request.

Used for identity policies, resource policies (SQS queues, S3 buckets, KMS keys, event buses) and
role trust policies alike. Followed documents:

- Policy evaluation logic,
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html:
  "An explicit deny in any of these policies overrides the allow"; without an allow the request
  is implicitly denied. Within one account "if an action is allowed by an identity-based policy,
  a resource-based policy, or both, then AWS allows the action" (a resource policy that names the
  role or session itself); across accounts "the identity-based policy and the resource-based
  policy must both allow" (cross-account policy evaluation logic,
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html).
- Action, NotAction, Resource, NotResource: action names are case-insensitive, resources are
  case-sensitive; ``*`` and ``?`` are wildcards in both
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html,
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html).
- Principal: an account is ``arn:aws:iam::<id>:root`` or its 12-digit id ("the account ARN and
  the shortened account ID behave the same way"); a role principal names the role's ARN and
  matches its sessions; an assumed-role session ARN matches that session; ``"*"`` is everyone
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html).
- Condition operators (String*, Arn*, Bool, Null, with ``IfExists``) and the rule that a
  condition on a key absent from the request context is not met (except ``...IfExists`` and
  ``Null``), https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html.
  Several values of one key are ORed, several keys and operators ANDed.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from fnmatch import fnmatchcase
from functools import lru_cache
from typing import Any

_ASSUMED_ROLE = re.compile(r"^arn:([^:]+):sts::(\d{12}):assumed-role/([^/]+)/.+$")


class Decision(Enum):
    """What one policy (or a set of them) says of a request."""

    NOT_APPLICABLE = "not-applicable"  # no statement matched: implicit deny
    ALLOW = "allow"
    DENY = "deny"  # an explicit deny


@dataclass(frozen=True)
class Principal:
    """Who signed a request: an account, the identity ARN, and ``aws:PrincipalArn``."""

    account: str
    arn: str  # the caller's identity ARN (user, root, or assumed-role session)
    principal_arn: str  # aws:PrincipalArn: for a role session, the role's ARN
    organization_id: str | None = None

    @property
    def is_root(self) -> bool:
        return self.arn.endswith(":root")

    @classmethod
    def of_session(cls, account: str, arn: str, role_arn: str | None = None) -> Principal:
        """A principal from its identity ARN (``role_arn`` is the role of a role session)."""
        session = _ASSUMED_ROLE.match(arn)
        if session is None:
            return cls(account, arn, arn)
        partition, role_account, role_name = session.groups()
        return cls(
            account, arn, role_arn or f"arn:{partition}:iam::{role_account}:role/{role_name}"
        )

    def context(self) -> dict[str, str]:
        """The global condition keys every request carries for this principal."""
        found = {"aws:principalarn": self.principal_arn, "aws:principalaccount": self.account}
        if self.organization_id:
            found["aws:principalorgid"] = self.organization_id
        return found


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def load(policy: Any) -> dict[str, Any]:
    """A policy document from a dict or JSON text (URL-encoded, as IAM returns it, or plain)."""
    if isinstance(policy, dict):
        return policy
    return dict(_load_text(str(policy or "{}")))


@lru_cache(maxsize=4096)
def _load_text(text: str) -> tuple[tuple[str, Any], ...]:
    try:
        loaded = json.loads(text)
    except ValueError:
        loaded = json.loads(urllib.parse.unquote(text))
    return tuple(loaded.items()) if isinstance(loaded, dict) else ()


def action_matches(patterns: Iterable[Any], action: str) -> bool:
    lowered = action.lower()
    return any(fnmatchcase(lowered, str(pattern).lower()) for pattern in patterns)


def resource_matches(patterns: Iterable[Any], resource: str) -> bool:
    return any(str(pattern) == "*" or fnmatchcase(resource, str(pattern)) for pattern in patterns)


def principal_matches(principal: Any, caller: Principal) -> bool:
    """Whether a statement's ``Principal`` names ``caller``."""
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    partition = caller.principal_arn.split(":")[1] if ":" in caller.principal_arn else "aws"
    accepted = {
        "*",
        caller.arn,
        caller.principal_arn,
        # The account (root or id) names every principal of the account: the account then
        # delegates to its own IAM policies (checked separately by the caller of this module).
        caller.account,
        f"arn:{partition}:iam::{caller.account}:root",
    }
    return any(str(value) in accepted for value in as_list(principal.get("AWS")))


def names_principal_itself(principal: Any, caller: Principal) -> bool:
    """Whether ``Principal`` names the role or session itself (not just its account or ``*``).

    Within one account, a resource policy that names the account only delegates to IAM; one that
    names the role (or ``*``) allows on its own.
    """
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    named = {str(value) for value in as_list(principal.get("AWS"))}
    return bool(named & {"*", caller.arn, caller.principal_arn})


def _operator_matches(operator: str, actual: str, expected: str) -> bool:
    if operator in ("StringEquals", "ArnEquals"):
        return actual == expected
    if operator == "StringEqualsIgnoreCase":
        return actual.lower() == expected.lower()
    if operator in ("StringLike", "ArnLike"):
        return fnmatchcase(actual, expected)
    if operator == "Bool":
        return actual.lower() == expected.lower()
    return False


_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}


def conditions_hold(conditions: Any, context: Mapping[str, str]) -> bool:
    """Whether every condition of a statement holds in ``context`` (keys lower-cased)."""
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
            values = [str(value) for value in as_list(expected)]
            if operator == "Null":
                if (actual is None) != (values[0].lower() == "true"):
                    return False
                continue
            if actual is None:
                if if_exists:
                    continue
                return False
            if operator in _NEGATED:
                if any(_operator_matches(_NEGATED[operator], actual, v) for v in values):
                    return False
            elif not any(_operator_matches(operator, actual, v) for v in values):
                return False
    return True


def _statement_applies(
    statement: Mapping[str, Any],
    action: str,
    resource: str,
    context: Mapping[str, str],
    caller: Principal | None,
) -> bool:
    if "NotAction" in statement:
        if action_matches(as_list(statement["NotAction"]), action):
            return False
    elif not action_matches(as_list(statement.get("Action")), action):
        return False
    if "NotResource" in statement:
        if resource_matches(as_list(statement["NotResource"]), resource):
            return False
    elif "Resource" in statement and not resource_matches(as_list(statement["Resource"]), resource):
        return False
    if caller is not None and not principal_matches(statement.get("Principal"), caller):
        return False
    return conditions_hold(statement.get("Condition"), context)


def statements(policy: Any) -> list[dict[str, Any]]:
    return [s for s in as_list(load(policy).get("Statement")) if isinstance(s, dict)]


def evaluate(
    policies: Sequence[Any],
    action: str,
    resource: str,
    context: Mapping[str, str],
    caller: Principal | None = None,
) -> Decision:
    """What ``policies`` say of ``action`` on ``resource``.

    ``caller`` is given for resource policies (their statements name principals) and omitted for
    identity policies (they apply to whoever holds them).
    """
    allowed = False
    for policy in policies:
        for statement in statements(policy):
            if not _statement_applies(statement, action, resource, context, caller):
                continue
            if statement.get("Effect") == "Deny":
                return Decision.DENY
            if statement.get("Effect") == "Allow":
                allowed = True
    return Decision.ALLOW if allowed else Decision.NOT_APPLICABLE


def allowing_statements(
    policy: Any, action: str, resource: str, context: Mapping[str, str], caller: Principal
) -> list[dict[str, Any]]:
    """The ``Allow`` statements of a resource policy that apply to ``caller``'s request."""
    return [
        statement
        for statement in statements(policy)
        if statement.get("Effect") == "Allow"
        and _statement_applies(statement, action, resource, context, caller)
    ]
