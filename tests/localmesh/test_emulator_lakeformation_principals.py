"""Lake Formation grants only to IAM principals that exist (lakeformation_principals.py)."""

from __future__ import annotations

import json
from typing import Any

from localmesh_support import CENTRAL, CONSUMER, error_code

from meshgov_local.accounts import AccountSessions

TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{CENTRAL}:root"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def _principal(name: str, account: str = CENTRAL) -> dict[str, str]:
    return {"DataLakePrincipalIdentifier": f"arn:aws:iam::{account}:role/{name}"}


def _held(lf: Any) -> list[str]:
    return sorted(
        p["Principal"]["DataLakePrincipalIdentifier"]
        for p in lf.list_permissions()["PrincipalResourcePermissions"]
    )


def test_a_grant_to_a_role_that_does_not_exist_is_invalid_input_and_changes_nothing(
    mesh: AccountSessions,
) -> None:
    # Given a database in central and one role that exists
    mesh.client(CENTRAL, "glue").create_database(DatabaseInput={"Name": "sales"})
    mesh.client(CENTRAL, "iam").create_role(
        RoleName="analyst", AssumeRolePolicyDocument=json.dumps(TRUST)
    )
    lf = mesh.client(CENTRAL, "lakeformation")
    database = {"Database": {"CatalogId": CENTRAL, "Name": "sales"}}
    before = _held(lf)

    # When the administrator grants to a role that does not exist
    # Then Lake Formation refuses it as invalid input, naming the principal
    def grant() -> Any:
        return lf.grant_permissions(
            Principal=_principal("no-such-role"), Resource=database, Permissions=["DESCRIBE"]
        )

    assert error_code(grant) == "InvalidInputException"
    try:
        grant()
    except lf.exceptions.InvalidInputException as exc:
        assert "role/no-such-role" in str(exc)
    # And a batch applies the entry for the role that exists, and reports the other in Failures
    failures = lf.batch_grant_permissions(
        Entries=[
            {
                "Id": "ok",
                "Principal": _principal("analyst"),
                "Resource": database,
                "Permissions": ["DESCRIBE"],
            },
            {
                "Id": "ghost",
                "Principal": _principal("ghost", CONSUMER),
                "Resource": database,
                "Permissions": ["DESCRIBE"],
            },
        ]
    )["Failures"]
    assert [(f["RequestEntry"]["Id"], f["Error"]["ErrorCode"]) for f in failures] == [
        ("ghost", "InvalidInputException")
    ]
    # And nothing was granted to either principal that does not exist
    assert _held(lf) == sorted([*before, f"arn:aws:iam::{CENTRAL}:role/analyst"])
    # And an account id (a cross-account grant) is not an IAM principal: it is not refused
    lf.grant_permissions(
        Principal={"DataLakePrincipalIdentifier": CONSUMER},
        Resource=database,
        Permissions=["DESCRIBE"],
    )
