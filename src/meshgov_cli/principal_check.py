"""Does the role a request names exist in the consumer account? Asked before sending, as the
consumer: Lake Formation grants only to IAM roles and users that exist
(https://docs.aws.amazon.com/lake-formation/latest/APIReference/API_DataLakePrincipal.html), so a
request for a role that does not exist could never be granted."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from meshgov.aws.session import error_code


def role_name(principal: str) -> str:
    """``arn:aws:iam::333333333333:role/path/analyst`` -> ``analyst``."""
    return principal.rsplit(":", 1)[-1].split("/")[-1]


def missing_principal(iam: Any, principal: str, account: str) -> str | None:
    """Why ``principal`` cannot be granted (it does not exist), or None when it exists.

    ``iam`` is a client of ``account`` (the consumer's own view: ``iam:GetRole``). Errors other
    than ``NoSuchEntity`` are raised for the caller's usual handling."""
    try:
        iam.get_role(RoleName=role_name(principal))
    except ClientError as exc:
        if error_code(exc) != "NoSuchEntity":
            raise
        return (
            f"--principal {principal} does not exist in account {account}: Lake Formation "
            "grants only to roles that exist; create the role first (`meshgov mesh up` creates "
            "the README's `analyst`)"
        )
    return None
