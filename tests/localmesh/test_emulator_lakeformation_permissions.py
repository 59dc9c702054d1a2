"""Lake Formation on Glue calls (lakeformation_permissions.py and glue_lakeformation.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from localmesh_support import CENTRAL, CONSUMER, table_input
from moto.core import DEFAULT_ACCOUNT_ID

from meshgov_local.accounts import ADMIN_ROLE_NAME, AccountSessions

GLUE_ALL = {"Effect": "Allow", "Action": ["glue:*", "lakeformation:*"], "Resource": "*"}


def _role(mesh: AccountSessions, name: str) -> Any:
    """A role of the central account allowed every Glue and Lake Formation action by IAM: what it
    may do on the catalog is Lake Formation's to say."""
    return _role_in(mesh, CENTRAL, name)


def _role_in(mesh: AccountSessions, account: str, name: str) -> Any:
    iam = mesh.client(account, "iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(
        RoleName=name,
        PolicyName="glue",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [GLUE_ALL]}),
    )
    return mesh.session(account, name)


def _arn(name: str) -> str:
    return f"arn:aws:iam::{CENTRAL}:role/{name}"


def _lake_formation_governs(mesh: AccountSessions, *admins: str) -> None:
    """The account's settings as meshgov's central stack sets them: no IAMAllowedPrincipals
    default, the named data lake administrators."""
    mesh.client(CENTRAL, "lakeformation").put_data_lake_settings(
        DataLakeSettings={
            # The account's administrator too: it grants in these tests (LakeFormationAdminArn).
            "DataLakeAdmins": [
                {"DataLakePrincipalIdentifier": _arn(a)} for a in (*admins, ADMIN_ROLE_NAME)
            ],
            "CreateDatabaseDefaultPermissions": [],
            "CreateTableDefaultPermissions": [],
        }
    )


def _denied(call: Any) -> str:
    with pytest.raises(ClientError) as error:
        call()
    assert error.value.response["Error"]["Code"] == "AccessDeniedException"
    return str(error.value)


def test_with_iam_only_defaults_every_iam_principal_reads_and_writes(
    mesh: AccountSessions,
) -> None:
    # Given the account's default settings (IAMAllowedPrincipals on new databases and tables)
    writer, reader = _role(mesh, "writer"), _role(mesh, "reader")
    glue = writer.client("glue")
    glue.create_database(DatabaseInput={"Name": "sales"})
    glue.create_table(DatabaseName="sales", TableInput=table_input("orders"))

    # When another role reads and alters, then / Then IAM alone decides
    other = reader.client("glue")
    assert [t["Name"] for t in other.get_tables(DatabaseName="sales")["TableList"]] == ["orders"]
    other.update_table(DatabaseName="sales", TableInput=table_input("orders"))
    grants = mesh.client(CENTRAL, "lakeformation").list_permissions()
    holders = {
        g["Principal"]["DataLakePrincipalIdentifier"]
        for g in grants["PrincipalResourcePermissions"]
    }
    assert holders == {"IAM_ALLOWED_PRINCIPALS"}


def test_creators_own_what_they_create_and_administrators_only_describe(
    mesh: AccountSessions,
) -> None:
    # Given Lake Formation governing the catalog; "sync" created a database and a table;
    # "sweep" and "admin" are data lake administrators too
    _lake_formation_governs(mesh, "sync", "sweep")
    sync, sweep = _role(mesh, "sync").client("glue"), _role(mesh, "sweep").client("glue")
    sync.create_database(DatabaseInput={"Name": "sales"})
    sync.create_table(DatabaseName="sales", TableInput=table_input("orders"))

    # When the other administrator reads, alters and drops the table
    assert [t["Name"] for t in sweep.get_tables(DatabaseName="sales")["TableList"]] == ["orders"]
    altered = _denied(
        lambda: sweep.update_table(DatabaseName="sales", TableInput=table_input("orders"))
    )
    dropped = _denied(lambda: sweep.delete_table(DatabaseName="sales", Name="orders"))
    db_dropped = _denied(lambda: sweep.delete_database(Name="sales"))

    # Then it describes everything but alters or drops nothing created by the other
    assert "Required ALTER on sales.orders" in altered
    assert "Required DROP on sales.orders" in dropped
    assert "Required DROP on sales" in db_dropped
    # And the creator may, and once granted DROP the other may too
    sync.update_table(DatabaseName="sales", TableInput=table_input("orders"))
    mesh.client(CENTRAL, "lakeformation").grant_permissions(
        Principal={"DataLakePrincipalIdentifier": _arn("sweep")},
        Resource={"Table": {"DatabaseName": "sales", "Name": "orders"}},
        Permissions=["DROP"],
    )
    sweep.delete_table(DatabaseName="sales", Name="orders")
    assert sync.get_tables(DatabaseName="sales")["TableList"] == []


def test_without_a_grant_a_role_sees_nothing_with_one_it_sees_what_was_granted(
    mesh: AccountSessions,
) -> None:
    # Given Lake Formation governing the catalog, two tables by "owner", and an analyst that IAM
    # allows every Glue action
    _lake_formation_governs(mesh, "owner")
    owner = _role(mesh, "owner").client("glue")
    owner.create_database(DatabaseInput={"Name": "sales"})
    for name in ("orders", "payroll"):
        owner.create_table(
            DatabaseName="sales", TableInput=table_input(name, ("id", "amount", "email"))
        )
    analyst = _role(mesh, "analyst").client("glue")

    # When it looks before any grant
    assert analyst.get_databases()["DatabaseList"] == []
    assert analyst.get_tables(DatabaseName="sales")["TableList"] == []
    assert "Insufficient Lake Formation permission(s)" in _denied(
        lambda: analyst.get_table(DatabaseName="sales", Name="orders")
    )

    # And after SELECT on two columns of orders
    mesh.client(CENTRAL, "lakeformation").grant_permissions(
        Principal={"DataLakePrincipalIdentifier": _arn("analyst")},
        Resource={
            "TableWithColumns": {
                "DatabaseName": "sales",
                "Name": "orders",
                "ColumnNames": ["id", "amount"],
            }
        },
        Permissions=["SELECT"],
    )

    # Then it sees the database, that table only, and those columns only
    assert [d["Name"] for d in analyst.get_databases()["DatabaseList"]] == ["sales"]
    (table,) = analyst.get_tables(DatabaseName="sales")["TableList"]
    assert table["Name"] == "orders"
    shown = analyst.get_table(DatabaseName="sales", Name="orders")["Table"]
    assert [c["Name"] for c in shown["StorageDescriptor"]["Columns"]] == ["id", "amount"]
    assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]] == ["id", "amount"]
    # And it may not change what it reads; a table in a database that does not exist is Glue's
    # EntityNotFoundException, not a Lake Formation refusal
    _denied(lambda: analyst.update_table(DatabaseName="sales", TableInput=table_input("orders")))
    with pytest.raises(ClientError) as missing:
        analyst.create_table(DatabaseName="nope", TableInput=table_input("t"))
    assert missing.value.response["Error"]["Code"] == "EntityNotFoundException"


def test_an_lf_tag_policy_grant_reaches_the_tables_whose_tags_match(mesh: AccountSessions) -> None:
    _lake_formation_governs(mesh, "owner")
    owner_session = _role(mesh, "owner")
    owner = owner_session.client("glue")
    owner.create_database(DatabaseInput={"Name": "sales"})
    for name in ("orders", "payroll"):
        owner.create_table(DatabaseName="sales", TableInput=table_input(name))
    lf = mesh.client(CENTRAL, "lakeformation")
    lf.create_lf_tag(TagKey="classification", TagValues=["public", "confidential"])
    for name, value in (("orders", "public"), ("payroll", "confidential")):
        lf.add_lf_tags_to_resource(
            Resource={"Table": {"DatabaseName": "sales", "Name": name}},
            LFTags=[{"TagKey": "classification", "TagValues": [value]}],
        )
    analyst = _role(mesh, "analyst").client("glue")
    lf.grant_permissions(
        Principal={"DataLakePrincipalIdentifier": _arn("analyst")},
        Resource={
            "LFTagPolicy": {
                "ResourceType": "TABLE",
                "Expression": [{"TagKey": "classification", "TagValues": ["public"]}],
            }
        },
        Permissions=["SELECT", "DESCRIBE"],
    )
    assert [t["Name"] for t in analyst.get_tables(DatabaseName="sales")["TableList"]] == ["orders"]


def test_a_database_without_table_defaults_keeps_new_tables_under_lake_formation(
    mesh: AccountSessions,
) -> None:
    # Given the account's IAM-only defaults, but a database created with no table defaults
    writer = _role(mesh, "writer").client("glue")
    writer.create_database(DatabaseInput={"Name": "sales", "CreateTableDefaultPermissions": []})
    writer.create_table(DatabaseName="sales", TableInput=table_input("orders"))
    # When / Then another role, that IAM allows, cannot see the new table
    other = _role(mesh, "other").client("glue")
    assert other.get_tables(DatabaseName="sales")["TableList"] == []


def test_through_a_link_a_role_sees_the_targets_it_was_granted_once_the_share_is_accepted(
    mesh: AccountSessions,
) -> None:
    # Given central's table shared with the consumer account (with the grant option), the
    # consumer's administrator (its data lake administrator), its link, and an analyst allowed by
    # IAM and granted DESCRIBE on the link only
    _lake_formation_governs(mesh)
    central = mesh.client(CENTRAL, "glue")
    central.create_database(DatabaseInput={"Name": "sales"})
    central.create_table(DatabaseName="sales", TableInput=table_input("orders"))
    table = {"Table": {"CatalogId": CENTRAL, "DatabaseName": "sales", "Name": "orders"}}
    mesh.client(CENTRAL, "lakeformation").grant_permissions(
        Principal={"DataLakePrincipalIdentifier": CONSUMER},
        Resource=table,
        Permissions=["SELECT", "DESCRIBE"],
        PermissionsWithGrantOption=["SELECT", "DESCRIBE"],
    )
    admin = f"arn:aws:iam::{CONSUMER}:role/{ADMIN_ROLE_NAME}"
    consumer_lf = mesh.client(CONSUMER, "lakeformation")
    consumer_lf.put_data_lake_settings(
        DataLakeSettings={"DataLakeAdmins": [{"DataLakePrincipalIdentifier": admin}]}
    )
    mesh.client(CONSUMER, "glue").create_database(
        DatabaseInput={
            "Name": "sales",
            "TargetDatabase": {"CatalogId": CENTRAL, "DatabaseName": "sales"},
        }
    )
    analyst = _role_in(mesh, CONSUMER, "analyst")
    analyst_arn = {"DataLakePrincipalIdentifier": f"arn:aws:iam::{CONSUMER}:role/analyst"}
    consumer_lf.grant_permissions(
        Principal=analyst_arn, Resource={"Database": {"Name": "sales"}}, Permissions=["DESCRIBE"]
    )
    glue = analyst.client("glue")

    # When the share is not accepted yet: the link shows nothing, the target cannot be granted
    assert glue.get_tables(DatabaseName="sales")["TableList"] == []
    refused = _denied(
        lambda: consumer_lf.grant_permissions(
            Principal=analyst_arn, Resource=table, Permissions=["SELECT"]
        )
    )
    assert "has not accepted" in refused

    # When the consumer accepts and grants the analyst the target
    ram = mesh.client(CONSUMER, "ram")
    for invitation in ram.get_resource_share_invitations()["resourceShareInvitations"]:
        ram.accept_resource_share_invitation(
            resourceShareInvitationArn=invitation["resourceShareInvitationArn"]
        )
    assert glue.get_tables(DatabaseName="sales")["TableList"] == []  # DESCRIBE on the link alone
    consumer_lf.grant_permissions(Principal=analyst_arn, Resource=table, Permissions=["SELECT"])

    # Then through the link it sees the target table, as central's catalog holds it
    (shown,) = glue.get_tables(DatabaseName="sales")["TableList"]
    assert (shown["Name"], shown["CatalogId"]) == ("orders", CENTRAL)
