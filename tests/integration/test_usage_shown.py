"""Usage shown on the local mesh (issue 14): each posture grant's last use, each product's
consumers in `find`, read from the central usage table once per grantee or per product."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from meshgov.access.effective_reads import CentralReaders, ConsumerReaders
from meshgov.discovery import FindQuery, find_products
from meshgov.posture import posture
from meshgov.usage.model import UsageEvent, stamp
from meshgov.usage.report import NEVER, DayRange
from meshgov.usage.store import UsageDay, UsageStore
from meshgov_local.emulator import controls
from meshgov_local.mesh import LocalMesh
from tests.integration.access_helpers import create_role, publish_sales
from tests.integration.test_posture import approved


def used(
    store: UsageStore, principal: str, table: str, at: datetime, event_id: str, engine: str = ""
) -> None:
    """One counted GetDataAccess of ``principal`` on the central ``table`` at ``at``."""
    account = principal.split(":")[4]
    store.record([UsageEvent(event_id, table, principal, account, at, engine)])


class CountingStore(UsageStore):
    """The mesh's usage store, counting its reads."""

    def __init__(self, store: UsageStore) -> None:
        self.__dict__.update(store.__dict__)
        self.calls: list[tuple[str, str]] = []

    def of_table(self, table: str, since_day: str, until_day: str) -> list[UsageDay]:
        self.calls.append(("of_table", table))
        return super().of_table(table, since_day, until_day)

    def of_account(self, account: str, since_day: str, until_day: str) -> list[UsageDay]:
        self.calls.append(("of_account", account))
        return super().of_account(account, since_day, until_day)

    def of_principal(self, principal: str, since_day: str, until_day: str) -> list[UsageDay]:
        self.calls.append(("of_principal", principal))
        return super().of_principal(principal, since_day, until_day)

    def last_used(self, principal: str, since_day: str) -> dict[str, str]:
        self.calls.append(("last_used", principal))
        return super().last_used(principal, since_day)


def test_posture_shows_when_each_grant_was_last_used(local_mesh: LocalMesh) -> None:
    # Given the analyst's approved requests for t0 and for t1, and an intern of the same account
    # (no grant of its own)
    mesh = local_mesh
    analyst = create_role(mesh, mesh.consumer)
    intern = create_role(mesh, mesh.consumer, "intern")
    publish_sales(mesh, tables=3)
    approved(mesh, tables=["t0"])
    approved(mesh, token="req-2", tables=["t1"])
    # And usage recorded: the analyst read t0 three days ago, the intern read t0 yesterday
    # (through some grant of its own), nobody read t1; the analyst read t2 (not granted) today
    now = controls.now()
    store = mesh.usage_store()
    used(store, analyst, "sales_orders.t0", now - timedelta(days=3), "e-1", "ATHENA")
    used(store, intern, "sales_orders.t0", now - timedelta(days=1), "e-2")
    used(store, analyst, "sales_orders.t2", now, "e-3")

    # When the posture report is built
    report = mesh.posture()

    # Then the analyst's grant on t0 was last used three days ago, its grant on t1 never
    rows = {(r.grantee, r.resource): r.last_used for r in report.access}
    assert rows[(analyst, "sales_orders.t0")] == stamp(now - timedelta(days=3))
    assert rows[(analyst, "sales_orders.t1")] == NEVER
    # And central's grant of t0 to the account was last used by any of its roles: the intern
    assert rows[(mesh.consumer, "sales_orders.t0")] == stamp(now - timedelta(days=1))
    assert rows[(mesh.consumer, "sales_orders.t1")] == NEVER
    # And the JSON and the Markdown carry it
    assert {a["last_used"] for a in report.as_dict()["access"]} >= {NEVER}
    assert "| last used |" in report.as_markdown()


def test_posture_reads_usage_once_per_grantee_not_per_grant(local_mesh: LocalMesh) -> None:
    # Given the analyst holds three grants (t0, t1, t2), through two requests
    mesh = local_mesh
    analyst = create_role(mesh, mesh.consumer)
    publish_sales(mesh, tables=3)
    approved(mesh, tables=["t0", "t1"])
    approved(mesh, token="req-2", tables=["t2"])
    store = CountingStore(mesh.usage_store())
    read_at = controls.now()  # the clock runs on: the time of the read, taken once
    used(store, analyst, "sales_orders.t2", read_at, "e-1")
    # (and read t1 months ago: the whole retention window counts, not the last 30 days)
    long_ago = controls.now() - timedelta(days=200)
    used(store, analyst, "sales_orders.t1", long_ago, "e-2")

    # When the posture report is read with the usage store
    report = posture(
        CentralReaders.of(mesh.central, mesh.client),
        [ConsumerReaders.of(m.account_id, mesh.client) for m in mesh.config.members],
        mesh.request_store(),
        controls.now(),
        usage=store,
    )

    # Then usage was read once for the analyst and once for each account central granted to
    granted_accounts = {r.grantee for r in report.access if r.side == "central"}
    assert sorted(store.calls) == sorted(
        [("last_used", analyst), *(("of_account", a) for a in granted_accounts)]
    )
    assert len([r for r in report.access if r.grantee == analyst]) == 3
    assert {r.resource: r.last_used for r in report.access if r.grantee == analyst} == {
        "sales_orders.t0": NEVER,
        "sales_orders.t1": stamp(long_ago),
        "sales_orders.t2": stamp(read_at),
    }


def find_with_usage(mesh: LocalMesh, store: UsageStore, **query: Any) -> dict[str, Any]:
    products = find_products(
        mesh.client(mesh.central, "glue"),
        mesh.client(mesh.central, "lakeformation"),
        mesh.central,
        FindQuery(**query),
        usage=store,
        span=DayRange.last(controls.now().date()),
    )
    return {p.name: p.consumers for p in products}


def test_find_shows_each_products_consumers_of_the_last_30_days(local_mesh: LocalMesh) -> None:
    # Given three published tables; the analyst read t0 twice and t1 once, the intern t0, all
    # within the last 30 days; an auditor read t2 40 days ago only
    mesh = local_mesh
    analyst = create_role(mesh, mesh.consumer)
    intern = create_role(mesh, mesh.consumer, "intern")
    auditor = create_role(mesh, mesh.consumer, "auditor")
    publish_sales(mesh, tables=3)
    now = controls.now()
    store = CountingStore(mesh.usage_store())
    used(store, analyst, "sales_orders.t0", now - timedelta(days=29), "e-1")
    used(store, analyst, "sales_orders.t0", now, "e-2")
    used(store, intern, "sales_orders.t0", now - timedelta(days=2), "e-3")
    used(store, analyst, "sales_orders.t1", now - timedelta(days=10), "e-4")
    used(store, auditor, "sales_orders.t2", now - timedelta(days=40), "e-5")

    # When the central catalog is searched with the usage store
    found = find_with_usage(mesh, store)

    # Then each product lists its distinct consumers within the window, one query per product
    assert found == {
        "sales_orders.t0": (analyst, intern),
        "sales_orders.t1": (analyst,),
        "sales_orders.t2": (),
    }
    assert sorted(store.calls) == [("of_table", f"sales_orders.t{i}") for i in range(3)]


def test_find_without_a_usage_store_reads_no_usage(local_mesh: LocalMesh) -> None:
    publish_sales(local_mesh, tables=1)
    [product] = find_products(
        local_mesh.client(local_mesh.central, "glue"),
        local_mesh.client(local_mesh.central, "lakeformation"),
        local_mesh.central,
        FindQuery(),
    )
    assert product.consumers is None
