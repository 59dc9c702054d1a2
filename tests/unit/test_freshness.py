"""Freshness SLAs (meshgov.contracts_odcs.freshness): the ODCS ``slaProperties`` read, the
lateness judged, what ``find`` shows of it, in its table at 80 columns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rich.console import Console

from meshgov.contracts_odcs.document import ContractRefusedError
from meshgov.contracts_odcs.freshness import describe, late_by, newest_data, sla_of
from meshgov.contracts_odcs.store import ContractHead
from meshgov.discovery.find import ContractView, DataProduct
from meshgov_cli.find import products_table

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)


def sla(*props: dict[str, object]) -> dict[str, object]:
    return {"slaProperties": list(props)}


def test_frequency_and_latency_add_up_for_the_table_they_name() -> None:
    found = sla_of(
        sla(
            {"property": "frequency", "value": 1, "unit": "days", "element": "events.day"},
            {"property": "latency", "value": "90", "unit": "min"},
            {"property": "latency", "value": 9, "unit": "d", "element": "other.day"},
            {"property": "retention", "value": 3, "unit": "y"},
        ),
        "events",
    )
    assert found == {
        "frequencySeconds": 86400,
        "latencySeconds": 5400,
        "text": "frequency 1 days, latency 90 min",
    }
    assert sla_of(sla({"property": "retention", "value": 3, "unit": "y"}), "events") is None


@pytest.mark.parametrize(
    "prop",
    [
        {"property": "latency", "value": 4, "unit": "fortnights"},
        {"property": "latency", "value": -1, "unit": "d"},
        {"property": "frequency", "value": "daily", "unit": "d"},
    ],
)
def test_an_sla_that_cannot_be_checked_is_refused(prop: dict[str, object]) -> None:
    with pytest.raises(ContractRefusedError) as refused:
        sla_of(sla(prop), "events")
    assert refused.value.code == "ContractSlaInvalid"


def test_late_only_past_frequency_plus_latency_from_the_newest_partition() -> None:
    terms = {"frequencySeconds": 86400, "latencySeconds": 7200}
    partitions = [
        {"CreationTime": NOW - timedelta(hours=30)},
        {"CreationTime": NOW - timedelta(hours=27)},
    ]
    newest = newest_data(partitions, table_time=NOW)
    assert newest == NOW - timedelta(hours=27)
    assert late_by(terms, newest, NOW) == timedelta(hours=1)
    assert late_by(terms, NOW - timedelta(hours=25), NOW) is None
    assert newest_data([], table_time=NOW) == NOW  # no partition: the table's time


def head(**fields: object) -> ContractHead:
    base = ContractHead(
        "111111111111",
        "orders",
        "events",
        "sales_orders",
        "urn:e",
        "2.1.0",
        2,
        "d",
        "s3://b/k",
        NOW.isoformat(),
    )
    return ContractHead(**{**vars(base), **fields})


def test_what_find_shows() -> None:
    terms = {"frequencySeconds": 3600, "latencySeconds": None, "text": "frequency 1 h"}
    assert describe(None, NOW) == "no SLA"
    assert describe(head(), NOW) == "no SLA"
    assert describe(head(sla=terms), NOW) == "unchecked"
    seen = {"newestAt": (NOW - timedelta(hours=4, minutes=10)).isoformat()}
    assert describe(head(sla=terms, freshness=seen), NOW) == "late 3h"
    assert describe(head(sla=terms, freshness=seen), NOW - timedelta(hours=3, minutes=30)) == (
        "fresh"
    )


def test_the_find_table_fits_80_columns_and_shows_sla_and_contract() -> None:
    late = head(
        sla={"frequencySeconds": 3600, "latencySeconds": None, "text": "frequency 1 h"},
        freshness={"newestAt": (NOW - timedelta(days=2, hours=1)).isoformat()},
        status="BREACHED",
    )
    product = DataProduct(
        database="sales_orders",
        table="events",
        domain="sales",
        owner_account="111111111111",
        classification="internal",
        owner_contact="",
        freshness=NOW,
        columns=("id", "amount", "day"),
        tags={},
        viewer_has_access=True,
        contract=ContractView.of(late, NOW),
    )
    console = Console(width=80, record=True, color_system=None)
    console.print(products_table([product], "1 data product(s)"))
    text = console.export_text()
    # At 80 columns the SLA state stays; the contract version is named as left out
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "late 2d" in text and "contract" in text.split("not shown at this width")[1]
    console = Console(width=200, record=True, color_system=None)
    console.print(products_table([product], "1 data product(s)"))
    assert "2.1.0 BREACHED" in console.export_text()
    assert product.as_dict()["contract"]["freshness"] == "late 2d"
