"""The administrator role every emulated account starts with.

A real member account already has an administrator; in moto an account exists as soon as an id is
used, with nothing in it. ``ensure_admin_role`` writes that administrator straight into moto's IAM
backend, with a trust policy allowing moto's default account (123456789012, where the plain
``testing`` credentials land: the "operator"). An account is named as a principal either as
``arn:aws:iam::<account>:root`` or by its id alone, and "the account ARN and the shortened account
ID behave the same way"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html).
"""

from __future__ import annotations

import json

from moto.core import DEFAULT_ACCOUNT_ID
from moto.iam.models import iam_backends

ADMIN_ROLE_NAME = "meshgov-local-admin"


def admin_trust_policy(operator_account: str = DEFAULT_ACCOUNT_ID) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{operator_account}:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )


ADMIN_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
)


def ensure_admin_role(account_id: str, role_name: str = ADMIN_ROLE_NAME) -> str:
    """Create (once) an administrator role in ``account_id`` trusted by the operator; its ARN."""
    backend = iam_backends[account_id]["global"]
    for role in backend.get_roles():
        if role.name == role_name:
            return str(role.arn)
    role = backend.create_role(
        role_name=role_name,
        assume_role_policy_document=admin_trust_policy(),
        path="/",
        permissions_boundary=None,
        description="meshgov local mesh: stand-in for the account's administrator access",
        tags=[],
        max_session_duration=None,
    )
    backend.put_role_policy(role_name, "administrator", ADMIN_POLICY)
    return str(role.arn)
