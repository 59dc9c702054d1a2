"""GetDatabase/GetDatabases follow a database resource link to its target (see glue_links.py)."""

from __future__ import annotations

from typing import Any

import pytest
from localmesh_support import CENTRAL, PRODUCER

from meshgov_local.accounts import ADMIN_ROLE_NAME, AccountSessions

TARGET_PARAMETERS = {"meshgov:publish": "true", "meshgov:domain": "sales"}


def central_database(mesh: AccountSessions) -> None:
    mesh.client(CENTRAL, "glue").create_database(
        DatabaseInput={
            "Name": "sales_sales",
            "Description": "central copy",
            "LocationUri": "s3://central/sales",
            "Parameters": TARGET_PARAMETERS,
        }
    )


def link(glue: Any, name: str, catalog_id: str, target: str) -> None:
    glue.create_database(
        DatabaseInput={
            "Name": name,
            "TargetDatabase": {"CatalogId": catalog_id, "DatabaseName": target},
        }
    )


def listed(glue: Any, name: str) -> dict[str, Any]:
    databases = glue.get_databases()["DatabaseList"]
    found: dict[str, Any] = next(d for d in databases if d["Name"] == name)
    return found


def test_a_link_in_the_same_account_shows_its_targets_properties(mesh: AccountSessions) -> None:
    # Given a database and a resource link to it in the same catalog
    glue = mesh.client(CENTRAL, "glue")
    central_database(mesh)
    link(glue, "sales_link", CENTRAL, "sales_sales")

    # When the link is read alone and in the list
    alone = glue.get_database(Name="sales_link")["Database"]
    in_list = listed(glue, "sales_link")

    # Then both show the target's properties, and the link's own name and TargetDatabase
    for database in (alone, in_list):
        assert database["Name"] == "sales_link"
        assert database["TargetDatabase"] == {"CatalogId": CENTRAL, "DatabaseName": "sales_sales"}
        assert database["Parameters"] == TARGET_PARAMETERS
        assert database["Description"] == "central copy"
        assert database["LocationUri"] == "s3://central/sales"


@pytest.mark.parametrize("granted", [True, False])
def test_a_cross_account_link_is_followed_only_with_a_permission_on_the_target(
    mesh: AccountSessions, granted: bool
) -> None:
    # Given central's database, maybe granted to the producer account, and the producer's link
    central_database(mesh)
    if granted:
        mesh.client(CENTRAL, "lakeformation").grant_permissions(
            Principal={"DataLakePrincipalIdentifier": PRODUCER},
            Resource={"Database": {"CatalogId": CENTRAL, "Name": "sales_sales"}},
            Permissions=["DESCRIBE"],
        )
    # (the producer's administrator is its data lake administrator, as the member stack makes it:
    # administrators describe what was shared with their account)
    mesh.client(PRODUCER, "lakeformation").put_data_lake_settings(
        DataLakeSettings={
            "DataLakeAdmins": [
                {"DataLakePrincipalIdentifier": f"arn:aws:iam::{PRODUCER}:role/{ADMIN_ROLE_NAME}"}
            ]
        }
    )
    if granted:  # the producer accepts central's share (RAM), as its member function would
        ram = mesh.client(PRODUCER, "ram")
        for invitation in ram.get_resource_share_invitations()["resourceShareInvitations"]:
            ram.accept_resource_share_invitation(
                resourceShareInvitationArn=invitation["resourceShareInvitationArn"]
            )
    glue = mesh.client(PRODUCER, "glue")
    link(glue, "sales_sales", CENTRAL, "sales_sales")

    # When the producer reads its link
    alone = glue.get_database(Name="sales_sales")["Database"]
    in_list = listed(glue, "sales_sales")

    # Then the target's properties show only where the producer may read the target
    for database in (alone, in_list):
        assert database["TargetDatabase"]["CatalogId"] == CENTRAL
        assert database["CatalogId"] == PRODUCER
        assert database.get("Parameters") == (TARGET_PARAMETERS if granted else None)


def test_a_link_to_a_missing_target_shows_its_own_properties(mesh: AccountSessions) -> None:
    glue = mesh.client(PRODUCER, "glue")
    link(glue, "dangling", PRODUCER, "gone")
    glue.create_database(DatabaseInput={"Name": "plain", "Parameters": {"k": "v"}})

    assert glue.get_database(Name="dangling")["Database"].get("Parameters") is None
    assert listed(glue, "dangling").get("Parameters") is None
    # and a database that is not a link is untouched
    assert listed(glue, "plain")["Parameters"] == {"k": "v"}
