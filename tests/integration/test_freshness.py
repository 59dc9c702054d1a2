"""Freshness SLAs of data contracts through the local mesh: the catalog sweep judges each
contracted table's newest central partition against its contract's ODCS ``slaProperties``; a
late product is told once per breach to its producer and to exactly the consumer accounts
holding grants on it; back on time clears the breach; ``find`` shows it (issue 15, item 2)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from meshgov.contracts.data_contract_events import FRESHNESS_SLA_BREACHED
from meshgov.contracts_odcs.store import ContractStore
from meshgov.discovery import DataProduct, FindQuery, find_products
from meshgov_local.emulator import controls
from meshgov_local.mesh import LocalMesh
from tests.integration.access_helpers import CONSUMER, SALES, Inbox, audit, publish_sales
from tests.integration.helpers import columns, partition_input, table_input
from tests.integration.test_data_contracts import (
    CONSUMER2,
    CatalogInbox,
    approved,
    contracts_config,
    heads,
    odcs,
    put_contract,
)
from tests.meshes import MESHES

HOUR = 3600
# Refreshed daily, available within 2 hours: late once the newest partition is 26 hours old.
SLA = [
    {"property": "frequency", "value": 1, "unit": "d", "element": "events.day"},
    {"property": "latency", "value": 2, "unit": "h"},
]


@pytest.fixture
def mesh() -> Iterator[LocalMesh]:
    """Two consumers (to see who is told), as the contracts tests' mesh."""
    controls.reset()
    with mock_aws():
        yield MESHES.mesh(contracts_config())
    controls.reset()


def contracted_events(mesh: LocalMesh, sla: list[dict[str, Any]]) -> None:
    """orders.t0 and orders.events (partitioned by day, one partition) published, events under
    a contract with ``sla``."""
    publish_sales(mesh, tables=1)
    document = {
        **odcs("1.0.0", {"id": {"physicalType": "int", "required": True}}, table="events"),
        "slaProperties": sla,
    }
    location = put_contract(mesh, "events-1.0.0.json", document)
    glue = mesh.client(SALES, "glue")
    glue.create_table(
        DatabaseName="orders",
        TableInput=table_input(
            "events",
            columns("id:int", "amount:double"),
            keys=columns("day:string"),
            **{"meshgov:classification": "internal", "meshgov:contract": location},
        ),
    )
    add_partition(mesh, "2026-01-01")


def add_partition(mesh: LocalMesh, day: str) -> None:
    mesh.client(SALES, "glue").create_partition(
        DatabaseName="orders", TableName="events", PartitionInput=partition_input("events", day)
    )
    mesh.settle()


def found(mesh: LocalMesh) -> dict[str, DataProduct]:
    """``find`` as the CLI asks it, at the emulated time."""
    central = mesh.central
    products = find_products(
        mesh.client(central, "glue"),
        mesh.client(central, "lakeformation"),
        central,
        FindQuery(),
        contracts=ContractStore(
            mesh.client(central, "dynamodb"), mesh.deployment.ledger_table_name
        ),
        now=controls.now(),
    )
    return {p.table: p for p in products}


def sweep(mesh: LocalMesh) -> None:
    assert mesh.router.run_schedule("CatalogSweepFunction") is not None
    mesh.settle()


def test_a_late_product_is_told_once_per_breach_to_its_producer_and_its_consumers(
    mesh: LocalMesh,
) -> None:
    # Given events under an SLA (frequency 1 d + latency 2 h), consumer 1 granted events,
    # consumer 2 granted only t0
    contracted_events(mesh, SLA)
    head = heads(mesh)["events"]
    assert head.sla == {
        "frequencySeconds": 86400,
        "latencySeconds": 7200,
        "text": "frequency 1 d, latency 2 h",
    }
    on_events = approved(mesh, CONSUMER, "c1", ["events"])
    approved(mesh, CONSUMER2, "c2", ["t0"])
    inboxes = {a: Inbox(mesh, a) for a in (CONSUMER, CONSUMER2)}
    producer = CatalogInbox(mesh, SALES)
    # When the sweep runs while the newest partition is new: fresh, nobody told
    sweep(mesh)
    assert inboxes[CONSUMER].details(FRESHNESS_SLA_BREACHED) == []
    assert (heads(mesh)["events"].freshness or {}).get("newestAt")
    shown = found(mesh)
    assert shown["events"].contract is not None
    assert shown["events"].contract.as_dict() == {
        "id": "urn:sales:events",
        "version": "1.0.0",
        "status": "OK",
        "sla": "frequency 1 d, latency 2 h",
        "freshness": "fresh",
        "newest_at": heads(mesh)["events"].freshness["newestAt"],  # type: ignore[index]
    }
    assert shown["t0"].contract is None and shown["t0"].as_dict()["contract"] is None
    # When 27 hours pass with no new partition and the sweep runs twice
    controls.advance_time(27 * HOUR)
    sweep(mesh)
    sweep(mesh)
    # Then consumer 1 is told once, naming its request; consumer 2 (no grant) is not
    (told,) = inboxes[CONSUMER].details(FRESHNESS_SLA_BREACHED)
    assert told["requestIds"] == [on_events]
    assert (told["centralDatabase"], told["table"], told["limitSeconds"]) == (
        "sales_orders",
        "events",
        26 * HOUR,
    )
    # (the sweep's "now" is its schedule event's time, whole seconds: up to 1 s less)
    assert HOUR - 1 <= told["lateSeconds"] < 2 * HOUR
    assert inboxes[CONSUMER2].details(FRESHNESS_SLA_BREACHED) == []
    # And the producer is told once; the breach is audited once and kept in the head
    assert [d["table"] for d in producer.details(FRESHNESS_SLA_BREACHED)] == ["events"]
    assert len(audit(mesh, "freshness:breached")) == 1
    assert (heads(mesh)["events"].freshness or {}).get("breachedAt")
    # And find shows it late (27 h old, 26 h allowed)
    assert found(mesh)["events"].as_dict()["contract"]["freshness"] == "late 1h"
    # When the producer adds a partition: back on time, the breach cleared, nobody told
    add_partition(mesh, "2026-01-02")
    sweep(mesh)
    assert len(audit(mesh, "freshness:restored")) == 1
    assert not (heads(mesh)["events"].freshness or {}).get("breachedAt")
    assert found(mesh)["events"].as_dict()["contract"]["freshness"] == "fresh"
    assert len(inboxes[CONSUMER].details(FRESHNESS_SLA_BREACHED)) == 1
    # When it is late again: a new breach, told again
    controls.advance_time(27 * HOUR)
    sweep(mesh)
    assert len(inboxes[CONSUMER].details(FRESHNESS_SLA_BREACHED)) == 2
    assert len(producer.details(FRESHNESS_SLA_BREACHED)) == 2
    assert inboxes[CONSUMER2].details(FRESHNESS_SLA_BREACHED) == []
    assert len(audit(mesh, "freshness:breached")) == 2


def test_a_contract_with_an_sla_nobody_can_check_is_refused_and_nothing_stored(
    mesh: LocalMesh,
) -> None:
    # Given a contract whose latency unit is not a unit of time
    contracted_events(mesh, [{"property": "latency", "value": 2, "unit": "parsecs"}])
    # Then it is refused with a clear reason, audited, and no head is kept
    (refused,) = audit(mesh, "contract:published", "REFUSED")
    assert refused.detail.get("error_code") == "ContractSlaInvalid"
    assert "parsecs" in refused.reason
    assert "events" not in heads(mesh)
