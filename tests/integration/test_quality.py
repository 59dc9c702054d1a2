"""Data quality (issue 15): a producer's Glue Data Quality run, computed on its real Parquet data
by the local mesh, reaches central: the central table carries the score, the history keeps each
result, ``find`` shows it; results for unpublished or foreign tables, or malformed, are refused,
audited and stored nowhere."""

from __future__ import annotations

import json
from typing import Any

from meshgov.audit import AuditOutcome
from meshgov.discovery.find import FindQuery, find_products
from meshgov.quality.store import QualityHistory
from meshgov_local.mesh import LocalMesh, differences
from meshgov_local.parquet_data import write_table_data
from meshgov_local.quality_runs import run_quality_check
from tests.integration.helpers import columns, create_published_database, table_input

ROWS = 300
# RowCount and IsComplete pass on the generated rows; IsUnique "country" cannot (6 countries).
RULESET = 'Rules = [ RowCount = 300, IsComplete "id", IsUnique "country" ]'


def history(mesh: LocalMesh) -> QualityHistory:
    name = mesh.deployment.functions["CatalogSyncFunction"].environment["QUALITY_TABLE_NAME"]
    return QualityHistory(mesh.client(mesh.central, "dynamodb"), name)


def producer_table(mesh: LocalMesh, database: str = "sales", published: bool = True) -> None:
    glue = mesh.client(mesh.producer, "glue")
    if published:
        create_published_database(glue, database)
    else:
        glue.create_database(DatabaseInput={"Name": database})
    table = table_input("orders", columns("id:bigint", "country:string", "amount:double"))
    glue.create_table(DatabaseName=database, TableInput=table)
    write_table_data(mesh.client(mesh.producer, "s3"), table, ROWS)


def run_ruleset(mesh: LocalMesh, database: str = "sales", name: str = "orders-checks") -> str:
    run = run_quality_check(
        mesh, database=database, table="orders", ruleset_name=name, ruleset=RULESET
    )
    return run.run_id


def central_parameters(mesh: LocalMesh) -> dict[str, str]:
    glue = mesh.client(mesh.central, "glue")
    table = glue.get_table(DatabaseName="sales_sales", Name="orders")["Table"]
    return dict(table.get("Parameters") or {})


def refusals(mesh: LocalMesh, code: str) -> list[Any]:
    return [
        r
        for r in mesh.audit_records()
        if r.entry.outcome is AuditOutcome.REFUSED and r.entry.detail.get("error_code") == code
    ]


def test_a_ruleset_run_attaches_its_score_to_the_central_table(local_mesh: LocalMesh) -> None:
    # Given a published table with data, and a ruleset run on it in the producer account
    producer_table(local_mesh)
    local_mesh.settle()
    run_id = run_ruleset(local_mesh)
    # When the result event reaches central
    local_mesh.settle()
    # Then the central table carries the latest result: 2 of 3 rules passed
    params = central_parameters(local_mesh)
    assert params["meshgov:quality_score"] == "0.6667"
    assert params["meshgov:quality_rules_passed"] == "2"
    assert params["meshgov:quality_rules_failed"] == "1"
    assert params["meshgov:quality_rulesets"] == "orders-checks"
    assert params["meshgov:quality_run_id"] == run_id
    assert params["meshgov:quality_state"] == "FAILED"
    # ... the history keeps it
    kept = list(history(local_mesh).of_table("sales_sales.orders"))
    assert [(k["run_id"], k["rules_failed"]) for k in kept] == [(run_id, 1)]
    # ... and find shows it
    products = find_products(
        local_mesh.client(local_mesh.central, "glue"),
        local_mesh.client(local_mesh.central, "lakeformation"),
        local_mesh.central,
        FindQuery(text="orders"),
    )
    shown = {p.name: p.as_dict()["quality"] for p in products}
    assert shown["sales_sales.orders"]["score"] == 0.6667  # as central keeps it
    assert shown["sales_sales.orders"]["rules_failed"] == 1
    # And a later change of the table at the source keeps the result (central-only parameters)
    glue = local_mesh.client(local_mesh.producer, "glue")
    table = glue.get_table(DatabaseName="sales", Name="orders")["Table"]
    changed = table_input(
        "orders",
        columns("id:bigint", "country:string", "amount:double", "note:string"),
        **{"meshgov:quality_score": "1.0"},  # a producer cannot set its own score
    )
    glue.update_table(DatabaseName="sales", TableInput={**changed, "Name": table["Name"]})
    local_mesh.settle()
    after = central_parameters(local_mesh)
    assert after["meshgov:quality_score"] == "0.6667"
    assert after["meshgov:quality_run_id"] == run_id
    assert "note" in json.dumps(
        local_mesh.client(local_mesh.central, "glue").get_table(
            DatabaseName="sales_sales", Name="orders"
        )["Table"]["StorageDescriptor"]["Columns"]
    )


def test_a_result_for_an_unpublished_table_is_refused_and_stored_nowhere(
    local_mesh: LocalMesh,
) -> None:
    # Given a table in a database that is not published, scored by the producer
    producer_table(local_mesh, database="private", published=False)
    run_ruleset(local_mesh, database="private")
    # When the result reaches central
    local_mesh.settle()
    # Then it is refused with its reason, audited, parked, and nothing is kept
    refused = refusals(local_mesh, "QualityNotPublished")
    assert len(refused) == 1
    assert "private/orders is not published" in refused[0].entry.reason
    assert list(history(local_mesh).of_table("sales_private.orders")) == []
    codes = [
        m["MessageAttributes"]["meshgov-error-code"]["StringValue"]
        for m in local_mesh.dead_letters()
    ]
    assert codes == ["QualityNotPublished"]


def quality_event(mesh: LocalMesh, **context: Any) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "forged-1",
        "detail-type": "Data Quality Evaluation Results Available",
        "source": "aws.glue-dataquality",
        "account": mesh.producer,
        "time": "2026-01-01T00:00:00Z",
        "region": "eu-west-1",
        "resources": [],
        "detail": {
            "context": {
                "contextType": "GLUE_DATA_CATALOG",
                "runId": "dqrun-1",
                "databaseName": "sales",
                "tableName": "orders",
                "catalogId": mesh.producer,
                **context,
            },
            "resultID": "dqresult-1",
            "rulesetNames": ["r"],
            "state": "SUCCEEDED",
            "score": 1.0,
            "rulesSucceeded": 3,
            "rulesFailed": 0,
            "rulesSkipped": 0,
        },
    }


def test_a_result_for_another_accounts_table_or_malformed_is_refused(
    local_mesh: LocalMesh,
) -> None:
    # Given a published table
    producer_table(local_mesh)
    local_mesh.settle()
    # When the producer's forwarded results name another account's catalog, or no table
    sqs = local_mesh.client(local_mesh.central, "sqs")
    url = local_mesh.deployment.queue_urls["CatalogEventsQueue"]
    forged = quality_event(local_mesh, catalogId="444444444444")
    job = quality_event(local_mesh, contextType="GLUE_JOB", databaseName=None, tableName=None)
    job["id"] = "job-1"
    for body in (forged, job):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))
    local_mesh.settle()
    # Then both are refused with their reason and nothing is attached or kept
    assert len(refusals(local_mesh, "QualityForged")) == 1
    assert len(refusals(local_mesh, "QualityMalformed")) == 1
    assert "meshgov:quality_score" not in central_parameters(local_mesh)
    assert list(history(local_mesh).of_table("sales_sales.orders")) == []


def test_a_scored_table_still_equals_its_source_for_the_oracle(local_mesh: LocalMesh) -> None:
    # Given a published table with data, scored by a ruleset run whose result reached central
    producer_table(local_mesh)
    local_mesh.settle()
    run_ruleset(local_mesh)
    local_mesh.settle()
    assert "meshgov:quality_score" in central_parameters(local_mesh)
    # Then the independent oracle (meshgov demo's last step, `meshgov mesh verify`) sees no
    # difference: the score is central's own, not the source's
    assert differences(local_mesh) == []


CONTRACT_KEY = "meshgov-contracts/orders-1.0.0.json"


def contract_with_quality_rules() -> dict[str, Any]:
    """ODCS v3: orders' id must hold no null (a v3.0 ``nullCheck``) and orders more than 1000
    rows (a ``rowCount`` metric); a ``sql`` rule meshgov cannot run is listed, not dropped."""
    return {
        "apiVersion": "v3.0.2",
        "kind": "DataContract",
        "id": "urn:sales:orders",
        "version": "1.0.0",
        "status": "active",
        "schema": [
            {
                "name": "orders",
                "physicalType": "table",
                "quality": [
                    {"metric": "rowCount", "mustBeGreaterThan": 1000},
                    {"type": "sql", "query": "SELECT 1", "mustBe": 1, "name": "custom-sql"},
                ],
                "properties": [
                    {
                        "name": "id",
                        "physicalType": "bigint",
                        "quality": [{"rule": "nullCheck", "name": "id-not-null"}],
                    }
                ],
            }
        ],
    }


def test_a_run_checks_the_published_contracts_quality_rules_on_the_data(
    local_mesh: LocalMesh,
) -> None:
    # Given a published table of 300 rows (no null id) under a contract promising non-null ids
    # and more than 1000 rows
    producer_table(local_mesh)
    s3, glue = (
        local_mesh.client(local_mesh.producer, "s3"),
        local_mesh.client(local_mesh.producer, "glue"),
    )
    s3.put_object(
        Bucket="producer-data", Key=CONTRACT_KEY, Body=json.dumps(contract_with_quality_rules())
    )
    table = glue.get_table(DatabaseName="sales", Name="orders")["Table"]
    contracted = table_input(
        "orders",
        columns("id:bigint", "country:string", "amount:double"),
        **{"meshgov:contract": f"s3://producer-data/{CONTRACT_KEY}"},
    )
    glue.update_table(DatabaseName="sales", TableInput={**contracted, "Name": table["Name"]})
    local_mesh.settle()
    # When the producer runs a quality check, naming a ruleset of its own
    run = run_quality_check(
        local_mesh, database="sales", table="orders", ruleset_name="orders-contract",
        ruleset=RULESET,
    )  # fmt: skip
    local_mesh.settle()
    # Then the contract's rules ran, not the given ruleset, and the rule meshgov cannot run is
    # listed with its reason
    assert run.contract == "urn:sales:orders 1.0.0"
    assert run.ruleset == 'Rules = [ RowCount > 1000, IsComplete "id" ]'
    assert [(u.where, u.rule) for u in run.untranslated] == [("orders", "custom-sql")]
    # ... computed on the Parquet data: 1 passed (no null id), 1 failed (300 rows)
    result_id = glue.get_data_quality_ruleset_evaluation_run(RunId=run.run_id)["ResultIds"][0]
    outcomes = {
        r["Description"]: r["Result"]
        for r in glue.get_data_quality_result(ResultId=result_id)["RuleResults"]
    }
    assert outcomes == {"RowCount > 1000": "FAIL", 'IsComplete "id"': "PASS"}
    # ... and central stores the result naming the ruleset
    params = central_parameters(local_mesh)
    assert (params["meshgov:quality_rules_passed"], params["meshgov:quality_rules_failed"]) == (
        "1",
        "1",
    )
    assert params["meshgov:quality_rulesets"] == "orders-contract"
    kept = list(history(local_mesh).of_table("sales_sales.orders"))
    assert [(k["run_id"], k["rules_passed"], k["rules_failed"]) for k in kept] == [
        (run.run_id, 1, 1)
    ]
