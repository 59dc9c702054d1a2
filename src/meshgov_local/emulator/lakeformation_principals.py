"""Lake Formation grants only to IAM principals that exist (moto 5.2.5 grants to any string).

"The AWS Lake Formation principal. Supported principals are IAM users or IAM roles"
(DataLakePrincipal, https://docs.aws.amazon.com/lake-formation/latest/APIReference/API_DataLakePrincipal.html).
A ``GrantPermissions`` (and each ``BatchGrantPermissions`` entry) naming an IAM role or user ARN
that does not exist is refused with ``InvalidInputException``, "The input provided was not valid"
(https://docs.aws.amazon.com/lake-formation/latest/APIReference/API_GrantPermissions.html#API_GrantPermissions_Errors;
a batch reports it in ``Failures``,
https://docs.aws.amazon.com/lake-formation/latest/APIReference/API_BatchGrantPermissions.html).
AWS's documents give the code, not the message: the message here is the one the service is
publicly reported to answer ("Invalid principal, arn: arn:aws:iam::...:role/...", Error Code:
InvalidInputException; github.com/aws-samples/data-lake-as-code/issues/17).

Checked: IAM role and user ARNs (``arn:<partition>:iam::<account>:role/[path/]name``, ``user/``),
in whichever account they name. Not checked: account ids, organizations, ``IAMAllowedPrincipals``,
SAML and Identity Center principals (their existence is not IAM's). Revokes are not checked: a
grant to a role deleted since can still be revoked.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

from moto.iam.models import iam_backends
from moto.lakeformation.models import LakeFormationBackend

from . import lakeformation_grants
from ._patching import wrap_method
from .lakeformation_grants import invalid_input

_IAM_PRINCIPAL = re.compile(r"^arn:(aws[a-z-]*):iam::(\d{12}):(role|user)/(?:.*/)?([^/]+)$")


def principal_exists(identifier: str) -> bool:
    """Whether an IAM role or user ARN names one that exists; True for any other principal."""
    match = _IAM_PRINCIPAL.match(identifier)
    if match is None:
        return True
    partition, account, kind, name = match.groups()
    backend = iam_backends[account][partition]
    try:
        if kind == "role":
            backend.get_role(name)
        else:
            backend.get_user(name)
    except Exception:  # moto's IAMNotFoundException / NoSuchEntity
        return False
    return True


def check_principal(principal: dict[str, Any]) -> None:
    """Raise ``InvalidInputException`` for an IAM principal that does not exist."""
    identifier = str((principal or {}).get("DataLakePrincipalIdentifier") or "")
    if not principal_exists(identifier):
        raise invalid_input(f"Invalid principal, arn: {identifier}")


def _checked_grant(method: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap grant_permissions(catalog_id, principal, ...), however moto passes its arguments."""
    signature = inspect.signature(lakeformation_grants.grant_permissions)

    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        arguments = signature.bind(self, *args, **kwargs).arguments
        check_principal(arguments.get("principal") or {})
        return method(self, *args, **kwargs)

    return wrapper


def install() -> None:
    # Outermost on grant_permissions (after lakeformation_filters): an invalid input is refused
    # before anyone asks who may grant it.
    wrap_method(LakeFormationBackend, "grant_permissions", _checked_grant)
