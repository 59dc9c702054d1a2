"""Cross-account catalog access and UpdateTable's SkipArchive (see glue_access.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from localmesh_support import CENTRAL, CONSUMER, PRODUCER, table_input

from meshgov_local.accounts import AccountSessions

READER_ROLE = "meshgov-catalog-reader"


@pytest.fixture
def producer_glue(mesh: AccountSessions) -> Any:
    glue = mesh.client(PRODUCER, "glue")
    glue.create_database(DatabaseInput={"Name": "sales"})
    glue.create_table(DatabaseName="sales", TableInput=table_input("orders"))
    return glue


def test_reading_another_accounts_catalog_by_catalog_id_is_denied(
    mesh: AccountSessions, producer_glue: Any
) -> None:
    # Given the producer's catalog and the central account's own credentials
    central_glue = mesh.client(CENTRAL, "glue")

    # When central reads or writes the producer's catalog by CatalogId
    calls = [
        lambda: central_glue.get_tables(CatalogId=PRODUCER, DatabaseName="sales"),
        lambda: central_glue.get_table(CatalogId=PRODUCER, DatabaseName="sales", Name="orders"),
        lambda: central_glue.get_databases(CatalogId=PRODUCER),
        lambda: central_glue.create_database(CatalogId=PRODUCER, DatabaseInput={"Name": "x"}),
    ]
    codes = []
    for call in calls:
        with pytest.raises(ClientError) as error:
            call()
        codes.append(error.value.response["Error"]["Code"])

    # Then every call is denied and nothing was written
    assert codes == ["AccessDeniedException"] * 4
    assert [db["Name"] for db in producer_glue.get_databases()["DatabaseList"]] == ["sales"]
    # And central's own catalog, named or implied, still answers
    assert central_glue.get_databases(CatalogId=CENTRAL)["DatabaseList"] == []
    assert central_glue.get_databases()["DatabaseList"] == []


def test_central_reads_the_producer_catalog_through_the_producers_reader_role(
    mesh: AccountSessions, producer_glue: Any
) -> None:
    # Given a reader role in the producer account trusting the central account
    mesh.client(PRODUCER, "iam").create_role(
        RoleName=READER_ROLE,
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{CENTRAL}:root"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )

    # And allowed to read the catalog (IAM: a role without a permissions policy reads nothing)
    mesh.client(PRODUCER, "iam").put_role_policy(
        RoleName=READER_ROLE,
        PolicyName="catalog-read-only",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["glue:GetTables", "glue:GetTable"],
                        "Resource": f"arn:aws:glue:*:{PRODUCER}:*",
                    }
                ],
            }
        ),
    )

    # When central assumes it and reads the producer's catalog
    credentials = mesh.client(CENTRAL, "sts").assume_role(
        RoleArn=f"arn:aws:iam::{PRODUCER}:role/{READER_ROLE}", RoleSessionName="reconcile"
    )["Credentials"]
    reader = mesh.session(CENTRAL).client(
        "glue",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )

    # Then the producer's tables are visible, by implied or explicit CatalogId
    assert [t["Name"] for t in reader.get_tables(DatabaseName="sales")["TableList"]] == ["orders"]
    table = reader.get_table(CatalogId=PRODUCER, DatabaseName="sales", Name="orders")["Table"]
    assert table["CatalogId"] == PRODUCER
    # And the consumer, not trusted by the role, cannot assume it
    with pytest.raises(ClientError) as error:
        mesh.client(CONSUMER, "sts").assume_role(
            RoleArn=f"arn:aws:iam::{PRODUCER}:role/{READER_ROLE}", RoleSessionName="nope"
        )
    assert error.value.response["Error"]["Code"] == "AccessDenied"


def test_update_table_archives_a_version_unless_skip_archive(producer_glue: Any) -> None:
    # Given a table at version 1
    def versions() -> list[str]:
        response = producer_glue.get_table_versions(DatabaseName="sales", TableName="orders")
        return sorted(version["VersionId"] for version in response["TableVersions"])

    # When it is updated normally, then with SkipArchive
    producer_glue.update_table(
        DatabaseName="sales", TableInput={**table_input("orders"), "Description": "v2"}
    )
    after_archiving_update = versions()
    producer_glue.update_table(
        DatabaseName="sales",
        TableInput={**table_input("orders"), "Description": "v2 fixed in place"},
        SkipArchive=True,
    )

    # Then the normal update archived version 1, the skipped one replaced version 2 in place
    assert after_archiving_update == ["1", "2"]
    assert versions() == ["1", "2"]
    table = producer_glue.get_table(DatabaseName="sales", Name="orders")["Table"]
    assert (table["VersionId"], table["Description"]) == ("2", "v2 fixed in place")
    archived = producer_glue.get_table_version(
        DatabaseName="sales", TableName="orders", VersionId="1"
    )["TableVersion"]["Table"]
    assert "Description" not in archived
