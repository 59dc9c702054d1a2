"""The local mesh's Glue Data Quality (emulator.glue_dataquality): DQDL rules evaluated on the
table's real Parquet objects, unsupported rules refused by name, the run's role must read data."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from tests.integration.helpers import columns, create_published_database, table_input

from meshgov_local.emulator.iam_bootstrap import ADMIN_ROLE_NAME
from meshgov_local.mesh import LocalMesh
from meshgov_local.parquet_data import write_table_data


def orders(mesh: LocalMesh, rows: int = 120) -> None:
    glue = mesh.client(mesh.producer, "glue")
    create_published_database(glue, "sales")
    table = table_input("orders", columns("id:bigint", "country:string"))
    glue.create_table(DatabaseName="sales", TableInput=table)
    write_table_data(mesh.client(mesh.producer, "s3"), table, rows)


def start(mesh: LocalMesh, ruleset: str, role: str = ADMIN_ROLE_NAME) -> dict[str, Any]:
    glue = mesh.client(mesh.producer, "glue")
    glue.create_data_quality_ruleset(Name="checks", Ruleset=ruleset)
    run_id = glue.start_data_quality_ruleset_evaluation_run(
        DataSource={"GlueTable": {"DatabaseName": "sales", "TableName": "orders"}},
        Role=f"arn:aws:iam::{mesh.producer}:role/{role}",
        RulesetNames=["checks"],
    )["RunId"]
    return glue.get_data_quality_ruleset_evaluation_run(RunId=run_id)


def test_rules_are_evaluated_on_the_parquet_data(local_mesh: LocalMesh) -> None:
    orders(local_mesh, rows=120)
    run = start(
        local_mesh,
        'Rules = [ RowCount = 120, IsUnique "id", ColumnValues "country" in ["DE"], '
        'Completeness "country" > 0.99 ]',
    )
    assert run["Status"] == "SUCCEEDED"
    glue = local_mesh.client(local_mesh.producer, "glue")
    result = glue.get_data_quality_result(ResultId=run["ResultIds"][0])
    outcomes = {r["Description"]: r["Result"] for r in result["RuleResults"]}
    # 120 rows, unique ids, complete countries; but not every country is DE
    assert outcomes == {
        "RowCount = 120": "PASS",
        'IsUnique "id"': "PASS",
        'ColumnValues "country" in ["DE"]': "FAIL",
        'Completeness "country" > 0.99': "PASS",
    }
    assert result["Score"] == 0.75
    # A row count the data does not have fails
    glue.create_data_quality_ruleset(Name="more", Ruleset="Rules = [ RowCount > 120 ]")
    again = glue.start_data_quality_ruleset_evaluation_run(
        DataSource={"GlueTable": {"DatabaseName": "sales", "TableName": "orders"}},
        Role=f"arn:aws:iam::{local_mesh.producer}:role/{ADMIN_ROLE_NAME}",
        RulesetNames=["more"],
    )
    run = glue.get_data_quality_ruleset_evaluation_run(RunId=again["RunId"])
    assert glue.get_data_quality_result(ResultId=run["ResultIds"][0])["Score"] == 0.0


def test_a_rule_the_local_mesh_cannot_evaluate_is_refused(local_mesh: LocalMesh) -> None:
    orders(local_mesh)
    glue = local_mesh.client(local_mesh.producer, "glue")
    with pytest.raises(ClientError) as refused:
        glue.create_data_quality_ruleset(
            Name="custom", Ruleset='Rules = [ CustomSql "select count(*) from primary" > 0 ]'
        )
    assert refused.value.response["Error"]["Code"] == "InvalidInputException"
    assert "CustomSql is not emulated" in refused.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as duplicate:
        glue.create_data_quality_ruleset(Name="a", Ruleset="Rules = [ RowCount > 0 ]")
        glue.create_data_quality_ruleset(Name="a", Ruleset="Rules = [ RowCount > 0 ]")
    assert duplicate.value.response["Error"]["Code"] == "AlreadyExistsException"


def test_a_run_whose_role_cannot_read_the_data_fails(local_mesh: LocalMesh) -> None:
    orders(local_mesh)
    local_mesh.create_role(local_mesh.producer, "no-data")  # trusted, but no policy at all
    run = start(local_mesh, "Rules = [ RowCount > 0 ]", role="no-data")
    assert run["Status"] == "FAILED"
    assert "s3:ListBucket" in run["ErrorString"]
    assert run["ResultIds"] == []
