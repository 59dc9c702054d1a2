"""Lineage through the local mesh (issue 15): members' jobs put OpenLineage run events on their
default bus, the member rule forwards them to central, the lineage function keeps the graph, and
a query joins it with what meshgov knows (producer table -> central table -> consumer link ->
principal). Bad events are refused, audited, and leave nothing in the lineage table."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from meshgov.aws.arns import Arns
from meshgov.discovery import FindQuery, find_products
from meshgov.lineage.events import DETAIL_TYPE, SOURCE
from meshgov.lineage.graph import Direction, Walk
from meshgov.lineage.known import MeshEdges
from meshgov.lineage.neighbours import ProductLineage
from meshgov.lineage.query import lineage
from meshgov.lineage.store import LineageStore
from meshgov_local.mesh import LocalMesh
from tests.integration.access_helpers import create_role, decide, publish_sales, request, request_id

RAW = "s3://raw-orders/landing"


def glue(mesh: LocalMesh, account: str, database: str, table: str) -> dict[str, str]:
    """An OpenLineage Glue dataset (openlineage.client.naming.dataset.AWSGlue)."""
    return {
        "namespace": f"arn:aws:glue:{mesh.config.region}:{account}",
        "name": f"table/{database}/{table}",
    }


def arn(mesh: LocalMesh, account: str, database: str, table: str) -> str:
    return f"arn:aws:glue:{mesh.config.region}:{account}:table/{database}/{table}"


def run_event(
    job: str, inputs: list[dict[str, str]], outputs: list[dict[str, str]]
) -> dict[str, Any]:
    return {
        "eventType": "COMPLETE",
        "eventTime": "2026-12-05T10:00:00.000Z",
        "producer": "https://example.com/etl",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": str(uuid.uuid4())},
        "job": {"namespace": "etl", "name": job},
        "inputs": inputs,
        "outputs": outputs,
    }


def put(mesh: LocalMesh, account: str, detail: dict[str, Any]) -> str:
    event_id = mesh.put_event(account, SOURCE, DETAIL_TYPE, detail)
    mesh.settle()
    return event_id


def store(mesh: LocalMesh) -> LineageStore:
    binding = mesh.binding("LineageFunction")
    assert binding is not None
    name = binding.environment["LINEAGE_TABLE_NAME"]
    return LineageStore(mesh.client(mesh.central, "dynamodb"), name)


def items(mesh: LocalMesh) -> list[dict[str, Any]]:
    binding = mesh.binding("LineageFunction")
    assert binding is not None
    dynamodb = mesh.client(mesh.central, "dynamodb")
    return list(dynamodb.scan(TableName=binding.environment["LINEAGE_TABLE_NAME"])["Items"])


def ask(mesh: LocalMesh, table: str, direction: Direction, depth: int = 10) -> Walk:
    arns = Arns.for_region(mesh.config.region)
    producers = {m.account_id: m.domain for m in mesh.config.members if m.domain}
    known = MeshEdges(
        mesh.client(mesh.central, "glue"), mesh.request_store(), mesh.central, producers, arns
    )
    return lineage(table, direction, depth, [store(mesh).neighbours, known], mesh.central, arns)


def edges(result: Walk) -> set[tuple[str, str, str]]:
    return {(e.source, e.target, e.via) for e in result.edges}


def refusals(mesh: LocalMesh) -> list[tuple[str, str, str]]:
    return [
        (r.entry.correlation_id, str(r.entry.detail.get("error_code")), r.entry.reason)
        for r in mesh.audit_records()
        if r.entry.action == "lineage:refused"
    ]


@pytest.fixture
def mesh(local_mesh: LocalMesh) -> LocalMesh:
    """orders.t0 published (central sales_orders.t0); the consumer's analyst granted it and
    linked; a producer job loads it from S3, a consumer job builds a report from the link."""
    mesh = local_mesh
    publish_sales(mesh, tables=1)
    create_role(mesh, mesh.consumer)
    request(mesh, database="sales_orders", tables=["t0"])
    mesh.settle()
    decide(mesh, request_id(mesh))
    mesh.settle()
    put(
        mesh,
        mesh.producer,
        run_event("load_orders", [{"namespace": "s3://raw-orders", "name": "landing"}],
                  [glue(mesh, mesh.producer, "orders", "t0")]),
    )  # fmt: skip
    put(
        mesh,
        mesh.consumer,
        run_event("revenue_report", [glue(mesh, mesh.consumer, "sales_orders", "t0")],
                  [glue(mesh, mesh.consumer, "analytics", "revenue")]),
    )  # fmt: skip
    return mesh


def test_downstream_reaches_the_central_table_the_consumer_link_its_principal_and_jobs(
    mesh: LocalMesh,
) -> None:
    # When the producer's table is asked downstream
    producer_t0 = arn(mesh, mesh.producer, "orders", "t0")
    result = ask(mesh, producer_t0, Direction.DOWNSTREAM)

    # Then the answer follows the catalog, the grant, and the consumer's own job
    central_t0 = arn(mesh, mesh.central, "sales_orders", "t0")
    link = arn(mesh, mesh.consumer, "sales_orders", "t0")
    analyst = f"arn:aws:iam::{mesh.consumer}:role/analyst"
    report = arn(mesh, mesh.consumer, "analytics", "revenue")
    assert edges(result) == {
        (producer_t0, central_t0, "catalog"),
        (central_t0, link, "grant"),
        (link, analyst, "grant"),
        (link, "job:etl/revenue_report", "openlineage"),
        ("job:etl/revenue_report", report, "openlineage"),
    }
    assert result.distances[analyst] == 3 and result.distances[report] == 4
    # And the run events were recorded once each, audited
    recorded = [r for r in mesh.audit_records() if r.entry.action == "lineage:recorded"]
    assert sorted(r.entry.target for r in recorded) == [
        "job:etl/load_orders",
        "job:etl/revenue_report",
    ]


def test_upstream_of_a_consumer_report_reaches_the_producer_job_and_its_raw_data(
    mesh: LocalMesh,
) -> None:
    report = arn(mesh, mesh.consumer, "analytics", "revenue")
    result = ask(mesh, report, Direction.UPSTREAM)

    assert result.distances == {
        report: 0,
        "job:etl/revenue_report": 1,
        arn(mesh, mesh.consumer, "sales_orders", "t0"): 2,
        arn(mesh, mesh.central, "sales_orders", "t0"): 3,
        arn(mesh, mesh.producer, "orders", "t0"): 4,
        "job:etl/load_orders": 5,
        f"{RAW}": 6,
    }
    # And a central table is named as the catalog names it
    assert ask(mesh, "sales_orders.t0", Direction.UPSTREAM).distances[RAW] == 3


def test_find_lists_each_products_lineage_neighbours_with_one_lineage_read(
    mesh: LocalMesh,
) -> None:
    # Given the lineage table read through a counter of its Queries
    arns = Arns.for_region(mesh.config.region)
    producers = {m.account_id: m.domain for m in mesh.config.members if m.domain}
    dynamodb = mesh.client(mesh.central, "dynamodb")
    queries: list[str] = []
    dynamodb.meta.events.register(
        "provide-client-params.dynamodb.Query",
        lambda params, **_: queries.append(params["TableName"]),
    )
    table = store(mesh)._table
    lineage_view = ProductLineage(
        LineageStore(dynamodb, table),
        MeshEdges(mesh.client(mesh.central, "glue"), mesh.request_store(), mesh.central,
                  producers, arns),
        mesh.central, producers, arns,
    )  # fmt: skip
    # When every product is found, with its lineage
    [product] = find_products(
        mesh.client(mesh.central, "glue"),
        mesh.client(mesh.central, "lakeformation"),
        mesh.central,
        FindQuery(),
        lineage=lineage_view,
    )
    # Then upstream: the producer's table and the job loading it; downstream: the consumer's
    # link and the principal reading it
    assert product.as_dict()["lineage"] == {
        "upstream": [
            {"node": arn(mesh, mesh.producer, "orders", "t0"), "kind": "producer table",
             "via": "catalog"},
            {"node": "job:etl/load_orders", "kind": "job", "via": "openlineage"},
        ],
        "downstream": [
            {"node": arn(mesh, mesh.consumer, "sales_orders", "t0"), "kind": "table",
             "via": "grant"},
            {"node": f"arn:aws:iam::{mesh.consumer}:role/analyst", "kind": "principal",
             "via": "grant"},
        ],
    }  # fmt: skip
    # And the lineage table was read once for the product
    assert queries.count(table) == 1


def test_find_says_lineage_unknown_without_a_lineage_table(mesh: LocalMesh) -> None:
    arns = Arns.for_region(mesh.config.region)
    dynamodb = mesh.client(mesh.central, "dynamodb")
    known = MeshEdges(
        mesh.client(mesh.central, "glue"), mesh.request_store(), mesh.central, {}, arns
    )
    lineage_view = ProductLineage(LineageStore(dynamodb, "no-such-table"), known, mesh.central,
                                  {}, arns)  # fmt: skip

    [product] = find_products(
        mesh.client(mesh.central, "glue"),
        mesh.client(mesh.central, "lakeformation"),
        mesh.central,
        FindQuery(),
        lineage=lineage_view,
    )

    assert product.lineage is None and product.name == "sales_orders.t0"


def test_depth_limits_the_walk(mesh: LocalMesh) -> None:
    result = ask(mesh, arn(mesh, mesh.producer, "orders", "t0"), Direction.DOWNSTREAM, depth=2)

    assert set(result.distances) == {
        arn(mesh, mesh.producer, "orders", "t0"),
        arn(mesh, mesh.central, "sales_orders", "t0"),
        arn(mesh, mesh.consumer, "sales_orders", "t0"),
    }


def test_a_revoked_grant_is_no_longer_a_downstream_edge(mesh: LocalMesh) -> None:
    from tests.integration.access_helpers import revoke

    revoke(mesh, request_id(mesh), mesh.consumer)
    mesh.settle()

    result = ask(mesh, "sales_orders.t0", Direction.DOWNSTREAM)
    assert {e.via for e in result.edges} == set()


@pytest.mark.parametrize(
    ("output", "code"),
    [
        # another producer's... here the consumer's table, named by the producer
        (lambda m: glue(m, m.consumer, "analytics", "revenue"), "LineageForeignOutput"),
        # central's copy: only meshgov writes it
        (lambda m: glue(m, m.central, "sales_orders", "t0"), "LineageForeignOutput"),
        # a dataset whose owner its name does not show
        (lambda m: {"namespace": "s3://someone-elses-bucket", "name": "x"}, "LineageForeignOutput"),
    ],
)
def test_an_event_naming_another_accounts_dataset_as_output_is_refused_and_stores_nothing(
    local_mesh: LocalMesh, output: Any, code: str
) -> None:
    mesh = local_mesh
    event = run_event("sneaky", [glue(mesh, mesh.producer, "orders", "t0")], [output(mesh)])

    event_id = put(mesh, mesh.producer, event)

    [(correlation, error, reason)] = refusals(mesh)
    assert (correlation, error) == (event_id, code)
    assert f"account {mesh.producer} may only name Glue tables of its own account" in reason
    assert items(mesh) == []


@pytest.mark.parametrize(
    ("change", "code", "says"),
    [
        ({"run": {"runId": "not-a-uuid"}}, "LineageMalformed", "run.runId refused"),
        (
            {"eventTime": "yesterday"},
            "LineageMalformed",
            "eventTime refused by the OpenLineage models",
        ),
        ({"eventType": "FINISHED"}, "LineageMalformed", "not a valid EventType"),
        ({"job": {"namespace": "etl"}}, "LineageMalformed", "job.name"),
        ({"inputs": "s3://x"}, "LineageMalformed", "inputs must be a list"),
        (
            {"inputs": [{"namespace": "s3://b", "name": f"p{i}"} for i in range(101)]},
            "LineageTooLarge",
            "102 datasets; at most 100",
        ),
        ({"job": {"namespace": "etl", "name": "j" * 600}}, "LineageTooLarge", "characters"),
    ],
)
def test_malformed_or_too_large_events_are_refused_and_store_nothing(
    local_mesh: LocalMesh, change: dict[str, Any], code: str, says: str
) -> None:
    mesh = local_mesh
    event = {**run_event("load", [], [glue(mesh, mesh.producer, "orders", "t0")]), **change}

    event_id = put(mesh, mesh.producer, event)

    [(correlation, error, reason)] = refusals(mesh)
    assert (correlation, error) == (event_id, code)
    assert says in reason
    assert items(mesh) == []
