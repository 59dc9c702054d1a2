"""Lake Formation grants: revoke, batches, ListPermissions, and the RAM share they drive
(see lakeformation_grants.py and lakeformation_sharing.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from localmesh_support import CENTRAL, CONSUMER, PRODUCER, REGION, error_code, table_input

from meshgov_local.accounts import ADMIN_ROLE_NAME, AccountSessions

ROLE = {"DataLakePrincipalIdentifier": f"arn:aws:iam::{CENTRAL}:role/analyst"}
ANALYST_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{CENTRAL}:root"},
            "Action": "sts:AssumeRole",
        }
    ],
}
CONSUMER_ACCOUNT = {"DataLakePrincipalIdentifier": CONSUMER}
PRODUCER_ACCOUNT = {"DataLakePrincipalIdentifier": PRODUCER}


def _table(name: str, database: str = "sales") -> dict[str, Any]:
    return {"Table": {"CatalogId": CENTRAL, "DatabaseName": database, "Name": name}}


def _database(name: str = "sales") -> dict[str, Any]:
    return {"Database": {"CatalogId": CENTRAL, "Name": name}}


def _tag_policy(resource_type: str, key: str, *values: str) -> dict[str, Any]:
    return {
        "LFTagPolicy": {
            "CatalogId": CENTRAL,
            "ResourceType": resource_type,
            "Expression": [{"TagKey": key, "TagValues": list(values)}],
        }
    }


def _held(lf: Any, **filters: Any) -> list[tuple[str, dict[str, Any], list[str], list[str]]]:
    """(principal, resource, permissions, grantable) of each listed grant, lists sorted."""
    listed = lf.list_permissions(**filters)["PrincipalResourcePermissions"]
    return [
        (
            p["Principal"]["DataLakePrincipalIdentifier"],
            p["Resource"],
            sorted(p["Permissions"]),
            sorted(p["PermissionsWithGrantOption"]),
        )
        for p in listed
    ]


def _arn(path: str) -> str:
    return f"arn:aws:glue:{REGION}:{CENTRAL}:{path}"


@pytest.fixture
def lf(mesh: AccountSessions) -> Any:
    """Central's catalog: sales (orders, customers, refunds), hr (staff); central's LF client.

    Settings as meshgov's central stack makes them: the account's administrator is a data lake
    administrator, and Lake Formation (not IAMAllowedPrincipals) governs new objects."""
    lakeformation = mesh.client(CENTRAL, "lakeformation")
    lakeformation.put_data_lake_settings(
        DataLakeSettings={
            "DataLakeAdmins": [
                {"DataLakePrincipalIdentifier": f"arn:aws:iam::{CENTRAL}:role/{ADMIN_ROLE_NAME}"}
            ],
            "CreateDatabaseDefaultPermissions": [],
            "CreateTableDefaultPermissions": [],
            "Parameters": {"CROSS_ACCOUNT_VERSION": "4"},
        }
    )
    # The role the tests grant to (Lake Formation grants only to principals that exist).
    mesh.client(CENTRAL, "iam").create_role(
        RoleName="analyst", AssumeRolePolicyDocument=json.dumps(ANALYST_TRUST)
    )
    glue = mesh.client(CENTRAL, "glue")
    for database, tables in {"sales": ["orders", "customers", "refunds"], "hr": ["staff"]}.items():
        glue.create_database(DatabaseInput={"Name": database})
        for name in tables:
            glue.create_table(DatabaseName=database, TableInput=table_input(name, ("id", "email")))
    return mesh.client(CENTRAL, "lakeformation")


def test_revoke_after_two_grants_on_one_principal_and_resource(lf: Any) -> None:
    # Given two grants to one role on one database
    lf.grant_permissions(Principal=ROLE, Resource=_database(), Permissions=["DESCRIBE"])
    lf.grant_permissions(
        Principal=ROLE,
        Resource=_database(),
        Permissions=["ALTER"],
        PermissionsWithGrantOption=["ALTER"],
    )

    # When ALTER is revoked, with its grant option
    lf.revoke_permissions(
        Principal=ROLE,
        Resource=_database(),
        Permissions=["ALTER"],
        PermissionsWithGrantOption=["ALTER"],
    )

    # Then DESCRIBE remains, and revoking it leaves nothing
    assert _held(lf) == [(ROLE["DataLakePrincipalIdentifier"], _database(), ["DESCRIBE"], [])]
    lf.revoke_permissions(Principal=ROLE, Resource=_database(), Permissions=["DESCRIBE"])
    assert _held(lf) == []


def test_a_grant_without_catalog_id_is_the_grant_on_the_account_catalog(lf: Any) -> None:
    # Given a grant naming the table without its CatalogId
    lf.grant_permissions(
        Principal=ROLE,
        Resource={"Table": {"DatabaseName": "sales", "Name": "orders"}},
        Permissions=["SELECT"],
    )

    # When it is listed, then revoked naming the catalog
    listed = _held(lf)
    lf.revoke_permissions(Principal=ROLE, Resource=_table("orders"), Permissions=["SELECT"])

    # Then it was stored on the account's catalog and the revoke removed it
    assert [resource for _, resource, _, _ in listed] == [_table("orders")]
    assert _held(lf) == []


def test_batch_grant_keeps_the_grant_option_and_batch_revoke_removes_it(lf: Any) -> None:
    # Given a batch granting SELECT with grant option on two tables
    entries = [
        {
            "Id": str(index),
            "Principal": ROLE,
            "Resource": _table(name),
            "Permissions": ["SELECT"],
            "PermissionsWithGrantOption": ["SELECT"],
        }
        for index, name in enumerate(("orders", "customers"))
    ]
    granted = lf.batch_grant_permissions(Entries=entries)

    # When a batch revokes only the grant option on the first table
    revoked = lf.batch_revoke_permissions(
        Entries=[{**entries[0], "Permissions": [], "PermissionsWithGrantOption": ["SELECT"]}]
    )

    # Then both batches succeeded and only the second table keeps the grant option
    assert granted["Failures"] == revoked["Failures"] == []
    assert _held(lf) == [
        (ROLE["DataLakePrincipalIdentifier"], _table("orders"), ["SELECT"], []),
        (ROLE["DataLakePrincipalIdentifier"], _table("customers"), ["SELECT"], ["SELECT"]),
    ]


def test_list_permissions_filters(mesh: AccountSessions, lf: Any) -> None:
    # Given grants on a database, a table, some columns of it, all tables, and an LF-Tag policy
    lf.create_lf_tag(TagKey="domain", TagValues=["sales", "hr"])
    columns = {
        "TableWithColumns": {
            "CatalogId": CENTRAL,
            "DatabaseName": "sales",
            "Name": "orders",
            "ColumnNames": ["id"],
        }
    }
    wildcard = {"Table": {"CatalogId": CENTRAL, "DatabaseName": "hr", "TableWildcard": {}}}
    for principal, resource, permissions in (
        (ROLE, _database(), ["DESCRIBE"]),
        (ROLE, _table("orders"), ["SELECT"]),
        (PRODUCER_ACCOUNT, columns, ["SELECT"]),
        (ROLE, wildcard, ["SELECT"]),
        (ROLE, _tag_policy("TABLE", "Domain", "Sales"), ["SELECT"]),
        (ROLE, _tag_policy("DATABASE", "domain", "hr"), ["DESCRIBE"]),
    ):
        lf.grant_permissions(Principal=principal, Resource=resource, Permissions=permissions)

    def resources(**filters: Any) -> list[dict[str, Any]]:
        return [resource for _, resource, _, _ in _held(lf, **filters)]

    # When grants are listed by resource, by principal and resource, and by resource type
    # Then a table lists its own and its columns' grants, and each filter selects its grants
    assert resources(Resource=_table("orders")) == [_table("orders"), columns]
    assert resources(Principal=ROLE, Resource=_table("orders")) == [_table("orders")]
    assert resources(Resource=wildcard) == [wildcard]
    assert resources(Resource=_database()) == [_database()]
    assert resources(Resource=_tag_policy("TABLE", "domain", "sales")) == [
        _tag_policy("TABLE", "domain", "sales")
    ]
    assert resources(ResourceType="TABLE") == [_table("orders"), columns, wildcard]
    assert resources(ResourceType="DATABASE") == [_database()]
    assert resources(ResourceType="LF_TAG_POLICY") == [
        _tag_policy("TABLE", "domain", "sales"),
        _tag_policy("DATABASE", "domain", "hr"),
    ]
    assert resources(ResourceType="LF_TAG_POLICY_DATABASE") == [
        _tag_policy("DATABASE", "domain", "hr")
    ]
    assert _held(lf, Principal=PRODUCER_ACCOUNT, Resource=_table("orders")) == [
        (PRODUCER, columns, ["SELECT"], [])
    ]
    # And a table with columns, or a principal without resource, is refused as documented
    assert error_code(lambda: lf.list_permissions(Resource=columns)) == "InvalidInputException"
    assert error_code(lambda: lf.list_permissions(Principal=ROLE)) == "InvalidInputException"


def test_list_permissions_pages(lf: Any) -> None:
    # Given five grants
    for name in ("orders", "customers", "refunds"):
        lf.grant_permissions(Principal=ROLE, Resource=_table(name), Permissions=["SELECT"])
    lf.grant_permissions(Principal=ROLE, Resource=_database(), Permissions=["DESCRIBE"])
    lf.grant_permissions(Principal=ROLE, Resource=_database("hr"), Permissions=["DESCRIBE"])

    # When they are listed two per page, following NextToken
    pages = [lf.list_permissions(MaxResults=2)]
    while "NextToken" in pages[-1]:
        pages.append(lf.list_permissions(MaxResults=2, NextToken=pages[-1]["NextToken"]))

    # Then pages of 2, 2 and 1 hold every grant once, in grant order
    assert [len(page["PrincipalResourcePermissions"]) for page in pages] == [2, 2, 1]
    assert [p["Resource"] for page in pages for p in page["PrincipalResourcePermissions"]] == [
        _table("orders"),
        _table("customers"),
        _table("refunds"),
        _database(),
        _database("hr"),
    ]
    assert error_code(lambda: lf.list_permissions(MaxResults=1001)) == "ValidationException"


def test_revoking_a_cross_account_grant_removes_the_resource_from_the_share(
    mesh: AccountSessions, lf: Any
) -> None:
    # Given the consumer accepted a share of a database and two of its tables
    lf.grant_permissions(
        Principal=CONSUMER_ACCOUNT,
        Resource=_database(),
        Permissions=["DESCRIBE"],
        PermissionsWithGrantOption=["DESCRIBE"],
    )
    for name in ("orders", "customers"):
        lf.grant_permissions(
            Principal=CONSUMER_ACCOUNT,
            Resource=_table(name),
            Permissions=["SELECT", "DESCRIBE"],
            PermissionsWithGrantOption=["SELECT", "DESCRIBE"],
        )
    ram = mesh.client(CONSUMER, "ram")
    [invitation] = ram.get_resource_share_invitations()["resourceShareInvitations"]
    ram.accept_resource_share_invitation(
        resourceShareInvitationArn=invitation["resourceShareInvitationArn"]
    )

    def shared() -> list[str]:
        resources = ram.list_resources(resourceOwner="OTHER-ACCOUNTS")["resources"]
        return sorted(resource["arn"] for resource in resources)

    # When only the grant option on orders is revoked, the table stays shared
    lf.revoke_permissions(
        Principal=CONSUMER_ACCOUNT,
        Resource=_table("orders"),
        Permissions=[],
        PermissionsWithGrantOption=["SELECT", "DESCRIBE"],
    )
    assert _arn("table/sales/orders") in shared()

    # When everything on orders is revoked
    lf.revoke_permissions(
        Principal=CONSUMER_ACCOUNT, Resource=_table("orders"), Permissions=["SELECT", "DESCRIBE"]
    )

    # Then orders left the share and the rest is still shared
    assert shared() == [_arn("database/sales"), _arn("table/sales/customers")]

    # When the remaining grants are revoked in a batch
    lf.batch_revoke_permissions(
        Entries=[
            {
                "Id": "db",
                "Principal": CONSUMER_ACCOUNT,
                "Resource": _database(),
                "Permissions": ["DESCRIBE"],
                "PermissionsWithGrantOption": ["DESCRIBE"],
            },
            {
                "Id": "customers",
                "Principal": CONSUMER_ACCOUNT,
                "Resource": _table("customers"),
                "Permissions": ["SELECT", "DESCRIBE"],
                "PermissionsWithGrantOption": ["SELECT", "DESCRIBE"],
            },
        ]
    )

    # Then the share is deleted and the consumer has nothing shared
    [share] = mesh.client(CENTRAL, "ram").get_resource_shares(resourceOwner="SELF")[
        "resourceShares"
    ]
    assert share["status"] == "DELETED"
    assert shared() == []
    assert ram.get_resource_shares(resourceOwner="OTHER-ACCOUNTS")["resourceShares"] == []


def test_list_permissions_names_the_resource_share(mesh: AccountSessions, lf: Any) -> None:
    # Given a cross-account grant and a grant to a role of central
    lf.grant_permissions(Principal=CONSUMER_ACCOUNT, Resource=_database(), Permissions=["DESCRIBE"])
    lf.grant_permissions(Principal=ROLE, Resource=_database(), Permissions=["DESCRIBE"])

    # When the grants on the database are listed
    listed = lf.list_permissions(Resource=_database())["PrincipalResourcePermissions"]

    # Then the cross-account grant names its RAM share, the local one none
    [share] = mesh.client(CENTRAL, "ram").get_resource_shares(resourceOwner="SELF")[
        "resourceShares"
    ]
    details = {
        p["Principal"]["DataLakePrincipalIdentifier"]: p.get("AdditionalDetails") for p in listed
    }
    assert details == {
        CONSUMER: {"ResourceShare": [share["resourceShareArn"]]},
        ROLE["DataLakePrincipalIdentifier"]: None,
    }


def test_an_lf_tag_policy_grant_shares_the_matching_tables(mesh: AccountSessions, lf: Any) -> None:
    # Given orders and customers tagged domain=sales, staff tagged domain=hr
    lf.create_lf_tag(TagKey="domain", TagValues=["sales", "hr"])
    for resource, value in (
        (_table("orders"), "sales"),
        (_table("customers"), "sales"),
        (_table("staff", "hr"), "hr"),
    ):
        lf.add_lf_tags_to_resource(
            Resource=resource, LFTags=[{"TagKey": "domain", "TagValues": [value]}]
        )

    # When central grants SELECT on domain=sales tables to the consumer, which accepts
    lf.grant_permissions(
        Principal=CONSUMER_ACCOUNT,
        Resource=_tag_policy("TABLE", "domain", "sales"),
        Permissions=["SELECT"],
        PermissionsWithGrantOption=["SELECT"],
    )
    ram = mesh.client(CONSUMER, "ram")
    [invitation] = ram.get_resource_share_invitations()["resourceShareInvitations"]
    ram.accept_resource_share_invitation(
        resourceShareInvitationArn=invitation["resourceShareInvitationArn"]
    )

    # Then the two sales tables are shared with it, not staff
    resources = ram.list_resources(resourceOwner="OTHER-ACCOUNTS")["resources"]
    assert sorted(r["arn"] for r in resources) == [
        _arn("table/sales/customers"),
        _arn("table/sales/orders"),
    ]


def test_grants_inside_the_account_create_no_share(mesh: AccountSessions, lf: Any) -> None:
    # Given a grant to a role of central and one to the consumer on hr's tables (wildcard)
    lf.grant_permissions(Principal=ROLE, Resource=_table("orders"), Permissions=["SELECT"])
    wildcard = {"Table": {"CatalogId": CENTRAL, "DatabaseName": "hr", "TableWildcard": {}}}
    lf.grant_permissions(Principal=CONSUMER_ACCOUNT, Resource=wildcard, Permissions=["SELECT"])

    # When central lists what it shares
    resources = mesh.client(CENTRAL, "ram").list_resources(resourceOwner="SELF")["resources"]

    # Then only the cross-account grant is shared, as all of hr's tables
    assert [r["arn"] for r in resources] == [_arn("table/hr/*")]
