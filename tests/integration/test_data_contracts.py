"""Data contracts (ODCS v3) through the local mesh: published by ``meshgov:contract`` or
``Contract Published``, kept per version, breaches told to exactly the consumer accounts holding
grants on the table (with their request ids) and to the producer; bad contracts refused,
audited, nothing stored (issue 15, item 1)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from meshgov.contracts.data_contract_events import (
    CONTRACT_BREACHED,
    CONTRACT_PUBLISHED,
    CONTRACT_REFUSED,
)
from meshgov.contracts.glue_events import CATALOG_SOURCE
from meshgov.contracts_odcs.store import BREACHED, OK, ContractHead, ContractStore
from meshgov.lineage.events import DETAIL_TYPE as LINEAGE_RUN
from meshgov.lineage.events import SOURCE as LINEAGE_SOURCE
from meshgov_local.config import MemberAccount, MemberKind, MeshConfig
from meshgov_local.emulator import controls
from meshgov_local.mesh import LocalMesh
from tests.integration.access_helpers import (
    CONSUMER,
    HR,
    SALES,
    Inbox,
    analyst_arn,
    audit,
    create_role,
    decide,
    publish_sales,
    request,
    request_id,
)
from tests.integration.helpers import columns, table_input
from tests.integration.test_lineage import arn, glue, run_event
from tests.meshes import MESHES

CONSUMER2 = "555555555555"
BUCKET = "producer-data"
DB = "sales_orders"
COLUMNS = ["id:int", "amount:double", "customer:string"]


def contracts_config() -> MeshConfig:
    """Two consumers (to see who is told) and a second producer (to forge a publication)."""
    return MeshConfig(
        members=(
            MemberAccount(SALES, "producer", MemberKind.PRODUCER, "sales", data_bucket=BUCKET),
            MemberAccount(HR, "producer2", MemberKind.PRODUCER, domain="hr"),
            MemberAccount(CONSUMER, "consumer", MemberKind.CONSUMER),
            MemberAccount(CONSUMER2, "consumer2", MemberKind.CONSUMER),
        )
    )


@pytest.fixture
def mesh() -> Iterator[LocalMesh]:
    controls.reset()
    with mock_aws():
        yield MESHES.mesh(contracts_config())
    controls.reset()


def odcs(version: str, cols: dict[str, dict[str, Any]], table: str = "t0") -> dict[str, Any]:
    return {
        "apiVersion": "v3.0.2",
        "kind": "DataContract",
        "id": f"urn:sales:{table}",
        "version": version,
        "status": "active",
        "schema": [
            {
                "name": table,
                "physicalType": "table",
                "properties": [{"name": n, **terms} for n, terms in cols.items()],
            }
        ],
    }


V1: dict[str, dict[str, Any]] = {
    "id": {"physicalType": "int", "required": True},
    "customer": {"physicalType": "string"},
}


def put_contract(mesh: LocalMesh, key: str, body: dict[str, Any] | bytes) -> str:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    key = f"meshgov-contracts/{key}"
    mesh.client(SALES, "s3").put_object(Bucket=BUCKET, Key=key, Body=raw)
    return f"s3://{BUCKET}/{key}"


def set_table(mesh: LocalMesh, name: str, spec: list[str], **parameters: str) -> None:
    mesh.client(SALES, "glue").update_table(
        DatabaseName="orders",
        TableInput=table_input(
            name, columns(*spec), **{"meshgov:classification": "internal", **parameters}
        ),
    )
    mesh.settle()


def heads(mesh: LocalMesh) -> dict[str, ContractHead]:
    store = ContractStore(mesh.client(mesh.central, "dynamodb"), mesh.deployment.ledger_table_name)
    return {h.table: h for h in store.heads()}


def versions(mesh: LocalMesh, table: str = "t0") -> list[str]:
    store = ContractStore(mesh.client(mesh.central, "dynamodb"), mesh.deployment.ledger_table_name)
    return [v["version"] for v in store.versions(SALES, "orders", table)]


class CatalogInbox(Inbox):
    """The producer's ``meshgov`` bus, for what the catalog function tells it."""

    def __init__(self, mesh: LocalMesh, account: str) -> None:
        sqs, events = mesh.client(account, "sqs"), mesh.client(account, "events")
        self._sqs = sqs
        self._url = sqs.create_queue(QueueName="test-catalog-inbox")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=self._url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        events.put_rule(
            Name="test-catalog-inbox",
            EventBusName="meshgov",
            EventPattern=json.dumps({"source": [CATALOG_SOURCE]}),
            State="ENABLED",
        )
        events.put_targets(
            Rule="test-catalog-inbox",
            EventBusName="meshgov",
            Targets=[{"Id": "inbox", "Arn": arn}],
        )
        self._seen = []


def approved(mesh: LocalMesh, consumer: str, token: str, tables: list[str]) -> str:
    create_role(mesh, consumer)
    request(mesh, token=token, tables=tables, database=DB, consumer=consumer)
    mesh.settle()
    rid = request_id(mesh, token, consumer=consumer)
    decide(mesh, rid)
    mesh.settle()
    return rid


def given_a_contracted_table(mesh: LocalMesh) -> str:
    """orders.t0 and orders.t1 published, t0 under contract 1.0.0 (its parameter)."""
    publish_sales(mesh, tables=2)
    location = put_contract(mesh, "t0-1.0.0.json", odcs("1.0.0", V1))
    set_table(mesh, "t0", COLUMNS, **{"meshgov:contract": location})
    return location


def test_a_breach_reaches_exactly_the_consumers_holding_grants_and_the_producer(
    mesh: LocalMesh,
) -> None:
    # Given t0 under contract, consumer 1 granted t0, consumer 2 granted only t1
    location = given_a_contracted_table(mesh)
    assert (heads(mesh)["t0"].version, heads(mesh)["t0"].status) == ("1.0.0", OK)
    assert [e.outcome for e in audit(mesh, "contract:published")] == ["SUCCEEDED"]
    on_t0 = approved(mesh, CONSUMER, "c1", ["t0"])
    approved(mesh, CONSUMER2, "c2", ["t1"])
    inboxes = {a: Inbox(mesh, a) for a in (CONSUMER, CONSUMER2)}
    producer = CatalogInbox(mesh, SALES)
    # And producer HR derives its own table people.headcount from t0 (an OpenLineage run)
    derive = run_event("headcount", [glue(mesh, SALES, "orders", "t0")],
                       [glue(mesh, HR, "people", "headcount")])  # fmt: skip
    mesh.put_event(HR, LINEAGE_SOURCE, LINEAGE_RUN, derive)
    mesh.settle()
    # When the producer adds a column (not contracted: nothing is bumped, nobody told)
    set_table(mesh, "t0", [*COLUMNS, "note:string"], **{"meshgov:contract": location})
    assert versions(mesh) == ["1.0.0"] and heads(mesh)["t0"].status == OK
    assert producer.events(CONTRACT_BREACHED) == []
    # And then drops the contracted column customer, without a new contract version
    set_table(mesh, "t0", ["id:int", "amount:double"], **{"meshgov:contract": location})
    # Then consumer 1 is told, naming its request; consumer 2 (no grant on t0) is not
    told = inboxes[CONSUMER].details(CONTRACT_BREACHED)
    assert [d["requestIds"] for d in told] == [[on_t0]]
    assert told[0]["breaches"] == [
        {"kind": "column-removed", "column": "customer", "expected": "string", "actual": ""}
    ]
    assert (told[0]["centralDatabase"], told[0]["table"], told[0]["contractVersion"]) == (
        DB,
        "t0",
        "1.0.0",
    )
    assert inboxes[CONSUMER2].details(CONTRACT_BREACHED) == []
    # And the news names what the breach reaches downstream: the central table, HR's derived
    # table through its job, consumer 1's link and its principal (not consumer 2's t1),
    # nearest first, then by name
    central, link = arn(mesh, mesh.central, DB, "t0"), arn(mesh, CONSUMER, DB, "t0")
    assert told[0]["downstream"] == [
        {"node": central, "kind": "central table", "distance": 1, "via": "catalog"},
        {"node": "job:etl/headcount", "kind": "job", "distance": 1, "via": "openlineage"},
        {"node": link, "kind": "table", "distance": 2, "via": "grant"},
        {"node": arn(mesh, HR, "people", "headcount"), "kind": "producer table",
         "distance": 2, "via": "openlineage"},
        {"node": analyst_arn(CONSUMER), "kind": "principal", "distance": 3, "via": "grant"},
    ]  # fmt: skip
    assert told[0]["downstreamTruncated"] is False
    # And the producer is told too (with the same reach), the head records the breach, and
    # it is audited once
    assert [d["table"] for d in producer.details(CONTRACT_BREACHED)] == ["t0"]
    assert producer.details(CONTRACT_BREACHED)[0]["downstream"] == told[0]["downstream"]
    head = heads(mesh)["t0"]
    assert head.status == BREACHED and head.last_breach is not None
    assert len(audit(mesh, "contract:breached")) == 1
    # When the table changes again in a way the contract does not cover: not reported twice
    set_table(mesh, "t0", ["id:int", "amount:double", "x:int"], **{"meshgov:contract": location})
    assert len(inboxes[CONSUMER].details(CONTRACT_BREACHED)) == 1


def test_a_new_major_version_accepts_the_change(mesh: LocalMesh) -> None:
    # Given t0 under contract 1.0.0, shared with consumer 1
    given_a_contracted_table(mesh)
    approved(mesh, CONSUMER, "c1", ["t0"])
    inbox = Inbox(mesh, CONSUMER)
    # When a minor version drops customer: refused (it breaks a promise of 1.0.0), 1.0.0 stays
    minor = put_contract(mesh, "t0-1.1.0.json", odcs("1.1.0", {"id": V1["id"]}))
    set_table(mesh, "t0", COLUMNS, **{"meshgov:contract": minor})
    refused = audit(mesh, "contract:published", "REFUSED")
    assert [e.detail.get("error_code") for e in refused] == ["ContractNotMajor"]
    assert versions(mesh) == ["1.0.0"]
    # When the producer drops customer together with contract 2.0.0 (without it)
    major = put_contract(mesh, "t0-2.0.0.json", odcs("2.0.0", {"id": V1["id"]}))
    set_table(mesh, "t0", ["id:int", "amount:double"], **{"meshgov:contract": major})
    # Then 2.0.0 is in force, both versions kept, and nobody is told of a breach
    assert versions(mesh) == ["1.0.0", "2.0.0"]
    assert (heads(mesh)["t0"].version, heads(mesh)["t0"].status) == ("2.0.0", OK)
    assert inbox.details(CONTRACT_BREACHED) == []
    assert audit(mesh, "contract:breached") == []


def test_required_made_nullable_and_retyped_are_breaches(mesh: LocalMesh) -> None:
    # Given t0 under contract (id required), shared with consumer 1
    location = given_a_contracted_table(mesh)
    approved(mesh, CONSUMER, "c1", ["t0"])
    inbox = Inbox(mesh, CONSUMER)
    # When the producer declares id optional (Iceberg's column parameter) and retypes customer
    cols = columns(*COLUMNS)
    cols[0]["Parameters"] = {"iceberg.field.optional": "true"}  # type: ignore[assignment]
    cols[2]["Type"] = "int"
    mesh.client(SALES, "glue").update_table(
        DatabaseName="orders",
        TableInput=table_input(
            "t0", cols, **{"meshgov:classification": "internal", "meshgov:contract": location}
        ),
    )
    mesh.settle()
    # Then both breaches are in the one event the consumer gets
    [detail] = inbox.details(CONTRACT_BREACHED)
    assert [(b["kind"], b["column"]) for b in detail["breaches"]] == [
        ("column-retyped", "customer"),
        ("required-made-nullable", "id"),
    ]


def _oversized() -> bytes:
    body = odcs("1.0.0", V1)
    body["description"] = {"purpose": "x" * (300 * 1024)}
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"kind": "DataContract", "id": "x", "version": "1.0.0"}, "ContractInvalid"),
        ({**odcs("1.0.0", V1), "unknownField": 1}, "ContractInvalid"),
        (odcs("1.0.0", {"missing_column": {}}), "ContractColumnUnknown"),
        (odcs("1.0.0", {"id": {"physicalType": "string"}}), "ContractColumnMismatch"),
        (_oversized(), "ContractTooLarge"),
        (None, "ContractMissing"),
    ],
    ids=["not-odcs", "unknown-field", "unknown-column", "other-type", "too-large", "missing"],
)
def test_bad_contracts_are_refused_audited_and_nothing_is_stored(
    mesh: LocalMesh, body: dict[str, Any] | bytes | None, code: str
) -> None:
    # Given published tables and a contract object (or none) at the parameter's location
    publish_sales(mesh, tables=1)
    producer = CatalogInbox(mesh, SALES)
    location = (
        put_contract(mesh, "t0.json", body)
        if body is not None
        else f"s3://{BUCKET}/meshgov-contracts/absent.json"
    )
    # When the producer names it on its table
    set_table(mesh, "t0", COLUMNS, **{"meshgov:contract": location})
    # Then it is refused with its code, audited, the producer told, nothing stored
    [refused] = audit(mesh, "contract:published", "REFUSED")
    assert refused.detail.get("error_code") == code
    assert [d["rule"] for d in producer.details(CONTRACT_REFUSED)] == [code]
    assert heads(mesh) == {}
    assert versions(mesh) == []


def test_a_contract_outside_the_contracts_prefix_cannot_be_read(mesh: LocalMesh) -> None:
    # Given a contract put in the data bucket, outside the reader role's contracts prefix
    publish_sales(mesh, tables=1)
    mesh.client(SALES, "s3").put_object(
        Bucket=BUCKET, Key="t0/contract.json", Body=json.dumps(odcs("1.0.0", V1)).encode()
    )
    # When the producer names it: the reader role's IAM policy refuses the read
    set_table(mesh, "t0", COLUMNS, **{"meshgov:contract": f"s3://{BUCKET}/t0/contract.json"})
    [refused] = audit(mesh, "contract:published", "REFUSED")
    assert refused.detail.get("error_code") == "ContractUnreadable"
    assert heads(mesh) == {}


def test_contract_published_by_event_and_refused_from_another_producer(mesh: LocalMesh) -> None:
    # Given published tables
    publish_sales(mesh, tables=1)
    location = put_contract(mesh, "t0-1.0.0.json", odcs("1.0.0", V1))
    # When another producer publishes a contract for sales' table
    forged = mesh.put_event(
        HR,
        CATALOG_SOURCE,
        CONTRACT_PUBLISHED,
        {"database": DB, "table": "t0", "location": location},
    )
    mesh.settle()
    # Then it is refused (not the owner), audited, nothing stored
    [refused] = audit(mesh, "event:received", "REFUSED", correlation=forged)
    assert refused.detail.get("error_code") == "ContractNotOwner"
    assert heads(mesh) == {}
    # When the owner publishes it by event
    mesh.put_event(
        SALES,
        CATALOG_SOURCE,
        CONTRACT_PUBLISHED,
        {"database": DB, "table": "t0", "location": location},
    )
    mesh.settle()
    # Then it is in force and kept
    assert heads(mesh)["t0"].version == "1.0.0"
    assert versions(mesh) == ["1.0.0"]


def test_posture_shows_each_contract_its_status_and_its_last_breach(mesh: LocalMesh) -> None:
    # Given t0 under contract 1.0.0, kept
    location = given_a_contracted_table(mesh)
    [kept] = mesh.posture().contracts
    assert (kept.database, kept.table, kept.owner_account) == (DB, "t0", SALES)
    assert (kept.contract_id, kept.version, kept.status, kept.breach) == (
        "urn:sales:t0",
        "1.0.0",
        OK,
        "",
    )
    # When the producer drops the contracted column customer
    set_table(mesh, "t0", ["id:int", "amount:double"], **{"meshgov:contract": location})
    # Then posture shows the breach: when, what; in JSON and in the auditor's Markdown too
    report = mesh.posture()
    [row] = report.contracts
    assert (row.status, row.breach) == (BREACHED, "column-removed customer")
    assert row.breached_at == heads(mesh)["t0"].last_breach["at"]  # type: ignore[index]
    assert report.summary["contracts_breached"] == 1
    assert report.as_dict()["contracts"][0]["status"] == BREACHED
    assert f"| {DB}.t0 | {SALES} | urn:sales:t0 | 1.0.0 | BREACHED |" in report.as_markdown()
    # When the table keeps its promises again: OK, the last breach still named
    set_table(mesh, "t0", COLUMNS, **{"meshgov:contract": location})
    [row] = mesh.posture().contracts
    assert (row.status, row.breach) == (OK, "column-removed customer")
