"""Data cells filters in the local mesh (lakeformation_filters.py, lakeformation_permissions.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from localmesh_support import CENTRAL, CONSUMER, PRODUCER, REGION, error_code, table_input
from moto.core import DEFAULT_ACCOUNT_ID
from moto.moto_api._internal.models import moto_api_backend

from meshgov_local.accounts import ADMIN_ROLE_NAME, AccountSessions
from meshgov_local.emulator import ensure_admin_role
from meshgov_local.emulator import lakeformation_permissions as lf

COLUMNS = ("id", "country", "email", "amount")
LF_AND_GLUE = {"Effect": "Allow", "Action": ["glue:*", "lakeformation:*"], "Resource": "*"}


def _arn(account: str, name: str) -> str:
    return f"arn:aws:iam::{account}:role/{name}"


def _role(mesh: AccountSessions, account: str, name: str) -> Any:
    """A role IAM allows every Glue and Lake Formation action: Lake Formation decides."""
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
        PolicyName="lf",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [LF_AND_GLUE]}),
    )
    return mesh.session(account, name).client("lakeformation")


def _central_catalog(mesh: AccountSessions) -> Any:
    """Central as meshgov's stack sets it up: its administrator the data lake administrator, no
    IAMAllowedPrincipals defaults, cross-account version 4; sales.orders created by it."""
    lakeformation = mesh.client(CENTRAL, "lakeformation")
    lakeformation.put_data_lake_settings(
        DataLakeSettings={
            "DataLakeAdmins": [{"DataLakePrincipalIdentifier": _arn(CENTRAL, ADMIN_ROLE_NAME)}],
            "CreateDatabaseDefaultPermissions": [],
            "CreateTableDefaultPermissions": [],
            "Parameters": {"CROSS_ACCOUNT_VERSION": "4"},
        }
    )
    glue = mesh.client(CENTRAL, "glue")
    glue.create_database(DatabaseInput={"Name": "sales"})
    glue.create_table(DatabaseName="sales", TableInput=table_input("orders", COLUMNS))
    return lakeformation


@pytest.fixture
def central(mesh: AccountSessions) -> Any:
    return _central_catalog(mesh)


def _data(name: str = "mg-de", **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "TableCatalogId": CENTRAL,
        "DatabaseName": "sales",
        "TableName": "orders",
        "Name": name,
        "RowFilter": {"FilterExpression": "country = 'DE'"},
        "ColumnWildcard": {"ExcludedColumnNames": ["email"]},
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _key(name: str = "mg-de", catalog: str = CENTRAL) -> dict[str, str]:
    return {"TableCatalogId": catalog, "DatabaseName": "sales", "TableName": "orders", "Name": name}


def _on(name: str = "mg-de") -> dict[str, Any]:
    return {"DataCellsFilter": _key(name)}


def _names(client: Any, **kwargs: Any) -> list[str]:
    return [f["Name"] for f in client.list_data_cells_filter(**kwargs)["DataCellsFilters"]]


def _access(account: str, role: str) -> lf.Access:
    return lf.table_access(
        lf.Caller(account, _arn(account, role)), CENTRAL, "sales", "orders", REGION, COLUMNS
    )


def _filter_grants(client: Any, name: str = "mg-de") -> list[tuple[str, list[str], list[str]]]:
    listed = client.list_permissions(Resource=_on(name))["PrincipalResourcePermissions"]
    return [
        (
            g["Principal"]["DataLakePrincipalIdentifier"],
            sorted(g["Permissions"]),
            sorted(g["PermissionsWithGrantOption"]),
        )
        for g in listed
    ]


# --- the API ----------------------------------------------------------------------------------


def test_create_get_list_update_and_delete(central: Any) -> None:
    # Given a cell filter (rows and excluded columns) and a column filter on every row
    central.create_data_cells_filter(TableData=_data())
    central.create_data_cells_filter(
        TableData=_data(
            "mg-ids",
            ColumnWildcard=None,
            ColumnNames=["id", "amount"],
            RowFilter={"AllRowsWildcard": {}},
        )
    )

    # When they are read back
    got = central.get_data_cells_filter(**_key())["DataCellsFilter"]
    version = got.pop("VersionId")

    # Then each is as created, with a version
    assert got == _data()
    assert version
    assert _names(central) == ["mg-de", "mg-ids"]
    table = {"CatalogId": CENTRAL, "DatabaseName": "sales", "Name": "orders"}
    assert _names(central, Table=table) == ["mg-de", "mg-ids"]
    assert _names(central, Table={**table, "Name": "other"}) == []
    assert _names(central, Table={"DatabaseName": "sales", "TableWildcard": {}}) == [
        "mg-de",
        "mg-ids",
    ]
    first = central.list_data_cells_filter(MaxResults=1)
    second = central.list_data_cells_filter(MaxResults=1, NextToken=first["NextToken"])
    assert [f["Name"] for f in first["DataCellsFilters"] + second["DataCellsFilters"]] == [
        "mg-de",
        "mg-ids",
    ]
    assert "NextToken" not in second

    # When one is updated: a new version; the old version can no longer update it
    central.update_data_cells_filter(
        TableData=_data(RowFilter={"FilterExpression": "country = 'FR'"}, VersionId=version)
    )
    updated = central.get_data_cells_filter(**_key())["DataCellsFilter"]
    assert updated["RowFilter"] == {"FilterExpression": "country = 'FR'"}
    assert updated["VersionId"] != version
    assert (
        error_code(lambda: central.update_data_cells_filter(TableData=_data(VersionId=version)))
        == "ConcurrentModificationException"
    )

    # When one is deleted, it is gone
    central.delete_data_cells_filter(**_key())
    assert error_code(lambda: central.get_data_cells_filter(**_key())) == "EntityNotFoundException"
    assert _names(central) == ["mg-ids"]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (_data(), "AlreadyExistsException"),  # the name is taken on this table
        (_data("x", TableName="nope"), "EntityNotFoundException"),
        (_data("x", DatabaseName="nope"), "EntityNotFoundException"),
        (_data("x", ColumnNames=["id"]), "InvalidInputException"),  # and ColumnWildcard
        (_data("x", ColumnWildcard=None), "InvalidInputException"),  # neither
        (_data("x", ColumnWildcard=None, ColumnNames=[]), "InvalidInputException"),
        (_data("x", ColumnWildcard=None, ColumnNames=["id", "ssn"]), "InvalidInputException"),
        (_data("x", ColumnWildcard={"ExcludedColumnNames": ["ssn"]}), "InvalidInputException"),
        (
            _data("x", ColumnWildcard=None, ColumnNames=['"a"."b"."c"."d"."e"."f"']),
            "InvalidInputException",
        ),
        (_data("x", RowFilter=None), "InvalidInputException"),
        (_data("x", RowFilter={}), "InvalidInputException"),
        (_data("x", RowFilter={"FilterExpression": ""}), "InvalidInputException"),
        (_data("x", RowFilter={"FilterExpression": "   "}), "InvalidInputException"),
        (
            _data("x", RowFilter={"FilterExpression": "id = 1", "AllRowsWildcard": {}}),
            "InvalidInputException",
        ),
        # "Total length of the expression must be less than 2048 characters"
        (_data("x", RowFilter={"FilterExpression": "x" * 2048}), "InvalidInputException"),
        (_data("x", RowFilter={"FilterExpression": "x" * 2049}), "ValidationException"),
        (_data("x" * 256), "ValidationException"),
        (_data("x", TableCatalogId=PRODUCER), "InvalidInputException"),  # not emulated
    ],
)
def test_bad_table_data_is_refused_and_stores_nothing(
    central: Any, data: dict[str, Any], code: str
) -> None:
    central.create_data_cells_filter(TableData=_data())
    assert error_code(lambda: central.create_data_cells_filter(TableData=data)) == code
    assert _names(central) == ["mg-de"]
    # An update with the same bad shape is refused too, and changes nothing
    if code not in {"AlreadyExistsException", "EntityNotFoundException"}:
        bad = {**data, "Name": "mg-de"} if data["Name"] == "x" else data
        if bad.get("TableCatalogId") == CENTRAL:
            assert error_code(lambda: central.update_data_cells_filter(TableData=bad)) == code
    assert central.get_data_cells_filter(**_key())["DataCellsFilter"]["RowFilter"] == {
        "FilterExpression": "country = 'DE'"
    }


def test_unknown_filters_and_tables(central: Any) -> None:
    assert error_code(lambda: central.get_data_cells_filter(**_key())) == "EntityNotFoundException"
    assert (
        error_code(lambda: central.delete_data_cells_filter(**_key())) == "EntityNotFoundException"
    )
    assert (
        error_code(lambda: central.update_data_cells_filter(TableData=_data()))
        == "EntityNotFoundException"
    )
    assert (
        error_code(lambda: central.list_data_cells_filter(Table={"DatabaseName": "sales"}))
        == "InvalidInputException"
    )


def test_who_may_create_view_update_and_drop(mesh: AccountSessions, central: Any) -> None:
    # Given a filter by the administrator and a role that holds nothing yet
    central.create_data_cells_filter(TableData=_data())
    analyst = _role(mesh, CENTRAL, "analyst")

    # Then it may not create, see or drop filters
    assert (
        error_code(lambda: analyst.create_data_cells_filter(TableData=_data("mine")))
        == "AccessDeniedException"
    )
    assert error_code(lambda: analyst.get_data_cells_filter(**_key())) == "AccessDeniedException"
    assert _names(analyst) == []
    assert error_code(lambda: analyst.delete_data_cells_filter(**_key())) == "AccessDeniedException"

    # When it holds SELECT with the grant option on the table: it creates and sees filters
    central.grant_permissions(
        Principal={"DataLakePrincipalIdentifier": _arn(CENTRAL, "analyst")},
        Resource={"Table": {"DatabaseName": "sales", "Name": "orders"}},
        Permissions=["SELECT"],
        PermissionsWithGrantOption=["SELECT"],
    )
    analyst.create_data_cells_filter(TableData=_data("mine"))
    assert _names(analyst) == ["mg-de", "mine"]
    # but it may not change the administrator's filter, which the administrator may drop
    assert (
        error_code(lambda: analyst.update_data_cells_filter(TableData=_data()))
        == "AccessDeniedException"
    )
    assert error_code(lambda: analyst.delete_data_cells_filter(**_key())) == "AccessDeniedException"

    # When another role is granted DESCRIBE, then DROP, on the administrator's filter
    viewer = _role(mesh, CENTRAL, "viewer")
    viewer_principal = {"DataLakePrincipalIdentifier": _arn(CENTRAL, "viewer")}
    central.grant_permissions(Principal=viewer_principal, Resource=_on(), Permissions=["DESCRIBE"])
    assert viewer.get_data_cells_filter(**_key())["DataCellsFilter"]["Name"] == "mg-de"
    assert _names(viewer) == ["mg-de"]
    assert error_code(lambda: viewer.delete_data_cells_filter(**_key())) == "AccessDeniedException"
    central.grant_permissions(Principal=viewer_principal, Resource=_on(), Permissions=["DROP"])
    viewer.delete_data_cells_filter(**_key())
    assert _names(central) == ["mine"]


# --- grants on filters --------------------------------------------------------------------------


def test_grants_on_a_filter_name_one_that_exists_and_filter_permissions(
    mesh: AccountSessions, central: Any
) -> None:
    central.create_data_cells_filter(TableData=_data())
    _role(mesh, CENTRAL, "analyst")  # Lake Formation grants only to principals that exist
    analyst = {"DataLakePrincipalIdentifier": _arn(CENTRAL, "analyst")}

    assert (
        error_code(
            lambda: central.grant_permissions(
                Principal=analyst, Resource=_on("nope"), Permissions=["SELECT"]
            )
        )
        == "EntityNotFoundException"
    )
    for permissions in (["ALTER"], ["ALL"], ["SELECT", "INSERT"]):
        assert (
            error_code(
                lambda p=permissions: central.grant_permissions(
                    Principal=analyst, Resource=_on(), Permissions=p
                )
            )
            == "InvalidInputException"
        )
    # A batch applies the good entry and reports the bad one
    failures = central.batch_grant_permissions(
        Entries=[
            {"Id": "ok", "Principal": analyst, "Resource": _on(), "Permissions": ["SELECT"]},
            {"Id": "bad", "Principal": analyst, "Resource": _on(), "Permissions": ["ALTER"]},
        ]
    )["Failures"]
    assert [(f["RequestEntry"]["Id"], f["Error"]["ErrorCode"]) for f in failures] == [
        ("bad", "InvalidInputException")
    ]
    assert _filter_grants(central) == [(_arn(CENTRAL, "analyst"), ["SELECT"], [])]

    # A role holding nothing on the filter may not grant it; the grant omitting TableCatalogId is
    # the grant on the account's table
    other = _role(mesh, CENTRAL, "other")
    assert (
        error_code(
            lambda: other.grant_permissions(
                Principal=analyst, Resource=_on(), Permissions=["DESCRIBE"]
            )
        )
        == "AccessDeniedException"
    )
    no_catalog = {"DataCellsFilter": {k: v for k, v in _key().items() if k != "TableCatalogId"}}
    central.revoke_permissions(Principal=analyst, Resource=no_catalog, Permissions=["SELECT"])
    assert _filter_grants(central) == []


def test_select_on_a_filter_shows_its_columns_only(mesh: AccountSessions, central: Any) -> None:
    # Given a filter keeping id and country of German rows, and an analyst with no grant
    central.create_data_cells_filter(
        TableData=_data(ColumnWildcard=None, ColumnNames=["id", "country"])
    )
    _role(mesh, CENTRAL, "analyst")
    glue = mesh.session(CENTRAL, "analyst").client("glue")
    assert not _access(CENTRAL, "analyst").visible
    assert error_code(lambda: glue.get_table(DatabaseName="sales", Name="orders")) == (
        "AccessDeniedException"
    )

    # When it is granted SELECT on the filter
    principal = {"DataLakePrincipalIdentifier": _arn(CENTRAL, "analyst")}
    central.grant_permissions(Principal=principal, Resource=_on(), Permissions=["SELECT"])

    # Then its access names the filter, and Glue shows the table with the filter's columns only
    access = _access(CENTRAL, "analyst")
    assert access.cell_filters == (
        lf.CellFilter("mg-de", CENTRAL, frozenset({"id", "country"}), row_filter="country = 'DE'"),
    )
    assert access.permissions == frozenset() and access.visible
    shown = glue.get_table(DatabaseName="sales", Name="orders")["Table"]
    assert [c["Name"] for c in shown["StorageDescriptor"]["Columns"]] == ["id", "country"]
    assert [t["Name"] for t in glue.get_tables(DatabaseName="sales")["TableList"]] == ["orders"]

    # When it is revoked, nothing is left
    central.revoke_permissions(Principal=principal, Resource=_on(), Permissions=["SELECT"])
    assert _access(CENTRAL, "analyst") == lf.Access()


def _consumer_holds_the_filter(mesh: AccountSessions, central: Any) -> Any:
    """Central grants the consumer account SELECT with the grant option on mg-de; the consumer's
    administrator is its data lake administrator and has a link to sales; an analyst role."""
    central.create_data_cells_filter(TableData=_data())
    central.grant_permissions(
        Principal={"DataLakePrincipalIdentifier": CONSUMER},
        Resource=_on(),
        Permissions=["SELECT"],
        PermissionsWithGrantOption=["SELECT"],
    )
    consumer = mesh.client(CONSUMER, "lakeformation")
    consumer.put_data_lake_settings(
        DataLakeSettings={
            "DataLakeAdmins": [{"DataLakePrincipalIdentifier": _arn(CONSUMER, ADMIN_ROLE_NAME)}]
        }
    )
    mesh.client(CONSUMER, "glue").create_database(
        DatabaseInput={
            "Name": "sales",
            "TargetDatabase": {"CatalogId": CENTRAL, "DatabaseName": "sales"},
        }
    )
    _role(mesh, CONSUMER, "analyst")
    consumer.grant_permissions(
        Principal={"DataLakePrincipalIdentifier": _arn(CONSUMER, "analyst")},
        Resource={"Database": {"Name": "sales"}},
        Permissions=["DESCRIBE"],
    )
    return consumer


def _accept(mesh: AccountSessions) -> None:
    ram = mesh.client(CONSUMER, "ram")
    for invitation in ram.get_resource_share_invitations()["resourceShareInvitations"]:
        ram.accept_resource_share_invitation(
            resourceShareInvitationArn=invitation["resourceShareInvitationArn"]
        )


def _shared_with_consumer(mesh: AccountSessions) -> list[str]:
    ram = mesh.client(CONSUMER, "ram")
    return sorted(r["arn"] for r in ram.list_resources(resourceOwner="OTHER-ACCOUNTS")["resources"])


def test_a_consumer_regrants_a_central_filter_to_its_role(
    mesh: AccountSessions, central: Any
) -> None:
    consumer = _consumer_holds_the_filter(mesh, central)
    analyst = {"DataLakePrincipalIdentifier": _arn(CONSUMER, "analyst")}

    # Before the share is accepted: nothing to re-grant, nothing held
    assert (
        error_code(
            lambda: consumer.grant_permissions(
                Principal=analyst, Resource=_on(), Permissions=["SELECT"]
            )
        )
        == "AccessDeniedException"
    )
    assert _access(CONSUMER, "analyst") == lf.Access()

    # When the consumer accepts: the filter's table is shared, and its administrator sees the filter
    _accept(mesh)
    assert _shared_with_consumer(mesh) == [f"arn:aws:glue:{REGION}:{CENTRAL}:table/sales/orders"]
    assert _names(
        consumer, Table={"CatalogId": CENTRAL, "DatabaseName": "sales", "Name": "orders"}
    ) == ["mg-de"]
    # and DESCRIBE on a filter shared from another account cannot be granted
    assert (
        error_code(
            lambda: consumer.grant_permissions(
                Principal=analyst, Resource=_on(), Permissions=["DESCRIBE"]
            )
        )
        == "InvalidInputException"
    )

    # When the consumer's administrator grants the analyst SELECT on it
    consumer.grant_permissions(Principal=analyst, Resource=_on(), Permissions=["SELECT"])

    # Then the analyst reads through that filter, and through the link sees its columns only
    (held,) = _access(CONSUMER, "analyst").cell_filters
    assert (held.name, held.table_catalog, held.columns, held.excluded, held.row_filter) == (
        "mg-de",
        CENTRAL,
        None,
        frozenset({"email"}),
        "country = 'DE'",
    )
    glue = mesh.session(CONSUMER, "analyst").client("glue")
    shown = glue.get_table(DatabaseName="sales", Name="orders")["Table"]
    assert [c["Name"] for c in shown["StorageDescriptor"]["Columns"]] == ["id", "country", "amount"]

    # When the consumer revokes it, nothing is left
    consumer.revoke_permissions(Principal=analyst, Resource=_on(), Permissions=["SELECT"])
    assert _access(CONSUMER, "analyst") == lf.Access()
    assert glue.get_tables(DatabaseName="sales")["TableList"] == []


def test_deleting_a_filter_removes_every_grant_on_it(mesh: AccountSessions, central: Any) -> None:
    # Given the consumer's analyst reads through central's filter
    consumer = _consumer_holds_the_filter(mesh, central)
    _accept(mesh)
    analyst = {"DataLakePrincipalIdentifier": _arn(CONSUMER, "analyst")}
    consumer.grant_permissions(Principal=analyst, Resource=_on(), Permissions=["SELECT"])
    assert _access(CONSUMER, "analyst").cell_filters

    # When central deletes the filter
    central.delete_data_cells_filter(**_key())

    # Then no grant on it is left in either account, the table is no longer shared, and a
    # filter created again under the name gives nobody anything
    assert _filter_grants(central) == []
    assert _filter_grants(consumer) == []
    assert _shared_with_consumer(mesh) == []
    central.create_data_cells_filter(TableData=_data())
    assert _access(CONSUMER, "analyst") == lf.Access()


def test_a_moto_reset_forgets_the_filters(mesh: AccountSessions, central: Any) -> None:
    central.create_data_cells_filter(TableData=_data())
    moto_api_backend.reset()
    ensure_admin_role(CENTRAL)
    again = _central_catalog(AccountSessions(REGION))  # new credentials: the old ones are gone
    assert _names(again) == []
    assert lf.data_cells_filters.in_catalog(CENTRAL, REGION) == []


def test_the_filter_api_is_served_by_the_moto_server(served_mesh: AccountSessions) -> None:
    central = _central_catalog(served_mesh)
    central.create_data_cells_filter(TableData=_data())
    assert _names(central) == ["mg-de"]
    central.update_data_cells_filter(TableData=_data(RowFilter={"AllRowsWildcard": {}}))
    assert central.get_data_cells_filter(**_key())["DataCellsFilter"]["RowFilter"] == {
        "AllRowsWildcard": {}
    }
    central.delete_data_cells_filter(**_key())
    assert _names(central) == []
