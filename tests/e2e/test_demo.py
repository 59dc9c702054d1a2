"""`make demo` end to end: the whole story against its own moto server, on loopback."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest
from rich.console import Console

from meshgov_local import demo
from meshgov_local.emulator import controls

pytestmark = pytest.mark.e2e


def port_is_closed(endpoint: str) -> bool:
    parts = urlsplit(endpoint)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        return probe.connect_ex((parts.hostname or "127.0.0.1", parts.port or 0)) != 0


def test_demo_converges_and_says_so() -> None:
    # Given a console that records what the demo prints
    console = Console(record=True, width=140, color_system=None)
    endpoints: list[str] = []
    # When the demo runs against its own moto server
    code = demo.run(console, on_endpoint=endpoints.append)
    # Then it succeeds and ends with the statement that central equals the published source
    output = console.export_text()
    assert code == 0, output
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    assert lines[-2] == demo.FINAL_STATEMENT
    assert "0 differences" in output
    # And each step showed its real outcome
    for step in range(1, demo.STEPS + 1):
        assert f"Step {step}/{demo.STEPS}" in output
    assert "Central events has 300 partitions." in output
    assert "Breaking Schema Change" in output and "events:PutEvents" in output
    assert "meshgov:last_breaking_change = v3: removed coupon" in output
    assert "Central is stale: returns is missing" in output
    assert "The sweep found returns and converged." in output
    assert "Unexpected central tables" not in output
    # And the sharing story happened, in every account: refused, asked, approved, linked, readable
    assert "sales_sales.orders (before asking): no" in output
    assert "state PENDING_APPROVAL" in output
    assert "sales_sales.orders (after approval): yes, explained by req-" in output
    assert "111111111111:sales_sales" in output  # the consumer's resource link
    assert "approved it without asking the producer" in output
    assert "the invitation was rejected" in output and "REJECTED" in output
    assert "orders: EXPIRED" in output and "regions: ACTIVE" in output
    # And the analyst queried real Parquet data: every row, then German rows without email
    # through a data cells filter, a refused column, and nothing once revoked
    flat = " ".join(output.split())  # the console wraps long sentences
    assert "5,000 orders from 6 countries, every row." in flat
    assert "reads orders only through filter meshgov-req-" in flat
    assert "refused, as Athena would: COLUMN_NOT_FOUND: Column 'email'" in flat
    assert "(0 data cells filter(s) left in central)" in flat
    assert "refused, as Athena would: Insufficient Lake Formation permission(s)" in flat
    # And central counted the analyst's queries from the forwarded GetDataAccess events; the
    # never-queried regions grant was warned about, then revoked as unused
    assert "UsageFunction counts it per principal, table and day" in flat
    assert "regions: REVOKED by meshgov:unused-policy: unused: no use since the grant" in flat
    assert "can-access analyst SELECT sales_sales.regions (after the unused revocation): no" in flat
    assert "sales_sales.orders (after expiry): no" in output
    # And the producer's contract was accepted, broken (its grant holder told, naming its
    # request, and the producer), and a quality score reached central and find
    assert "| sales_sales.orders | urn:sales:orders | 1.0.0 | OK" in flat.replace("│", "|")
    assert "column-removed currency" in flat
    assert "| 1.0.0 | BREACHED |" in flat.replace("│", "|")
    assert "consumer (grant holder)" in flat and "producer" in flat
    assert "| sales_sales.orders | 0.6667 | 2 | 1 | FAILED |" in flat.replace("│", "|")
    # And the audit trail verifies, tampered copies are named, the posture shows the drift
    assert "meshgov audit verify: PASS" in output and "1 signed digest(s)" in output
    assert "verify, edited copy: FAIL — edit at record" in output
    assert "verify, copy with a record deleted: FAIL — deletion at record" in output
    assert "Drift: grants no approved request explains" in output
    assert "Unexpected:" not in output
    # And the server is gone, and the drop switch is back off
    assert len(endpoints) == 1
    assert port_is_closed(endpoints[0])
    assert controls.event_drop_rate == 0.0
