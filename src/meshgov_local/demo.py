"""``make demo``: the governance loop of a data mesh, end to end, on a local moto server.

A producer account changes its Glue catalog; Glue's events travel the way template.yaml routes
them (producer default bus -> central bus -> queue); the catalog sync handler, running in this
process but talking to the server over HTTP, makes the central catalog follow; every action lands
in the central audit trail. Each step shows what the producer did, the central catalog after it and
the audit records it caused. The last step checks, independently of meshgov's own code, that the
central catalog equals what the producer publishes.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.markup import escape

from meshgov.audit import AuditOutcome, AuditRecord
from meshgov.contracts.registry_events import MEMBER_ADD_REQUESTED
from meshgov.registry.requests import put_registry_change
from meshgov_cli.accounts import members_table
from meshgov_cli.tables import FitTable
from meshgov_local.config import MeshConfig, registration_of
from meshgov_local.demo_audit import AuditStory
from meshgov_local.demo_contracts import ContractStory
from meshgov_local.demo_query import POLICY, QueryStory
from meshgov_local.demo_sharing import SharingStory
from meshgov_local.emulator import controls
from meshgov_local.mesh import LocalMesh, differences
from meshgov_local.observe import (
    AuditFollower,
    CentralTable,
    breaking_change_summary,
    central_catalog,
    plural,
    sweep_summary,
)
from meshgov_local.router import DeliveryReport
from meshgov_local.server import moto_server
from meshgov_local.views import audit_table, catalog_table

SOURCE_DB = "sales"

# The producer's own data bucket (MeshConfig: the local mesh creates it; its bucket policy lets
# central's DataLocationRole read it, so Lake Formation can vend credentials for its tables).
BUCKET = "s3://producer-data"
FINAL_STATEMENT = "central equals the published source"
STEPS = 24

# --------------------------------------------------------------------------------------------
# What the producer sends to Glue
# --------------------------------------------------------------------------------------------


def _columns(*spec: str) -> list[dict[str, str]]:
    return [{"Name": s.split(":")[0], "Type": s.split(":")[1]} for s in spec]


def _table(
    name: str,
    columns: list[dict[str, str]],
    *,
    partition_keys: list[dict[str, str]] | None = None,
    parameters: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "Name": name,
        "Description": f"{name} data product of the sales domain",
        "TableType": "EXTERNAL_TABLE",
        "StorageDescriptor": {
            "Columns": columns,
            "Location": f"{BUCKET}/{name}/",
            "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
            "SerdeInfo": {
                "SerializationLibrary": (
                    "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
                )
            },
        },
        "PartitionKeys": partition_keys or [],
        "Parameters": {"classification": "parquet", **(parameters or {})},
    }


ORDERS_KEYS = ("order_id:bigint", "customer_id:bigint", "email:string", "country:string")
ORDERS_V1 = (*ORDERS_KEYS, "amount:decimal(10,2)", "coupon:string")
ORDERS_V2 = (*ORDERS_V1, "currency:string")
ORDERS_V3 = (*ORDERS_KEYS, "amount:decimal(10,2)", "currency:string")
UNPUBLISHED = {"meshgov:publish": "false"}
ORDERS_PARAMS = {
    "meshgov:classification": "internal",
    "meshgov:owner_contact": "sales-data@example.com",
}


# --------------------------------------------------------------------------------------------
# The story
# --------------------------------------------------------------------------------------------


@dataclass
class _Flow:
    """Glue events of member accounts since the last delivery (central's own writes excluded)."""

    central: str
    emitted: int = 0
    dropped_before: int = 0

    def on_glue_event(self, account_id: str, entry: dict[str, Any]) -> None:
        if account_id != self.central:
            self.emitted += 1


class Demo:
    def __init__(self, console: Console, mesh: LocalMesh, *, wide: bool = False) -> None:
        self.console = console
        self.wide = wide  # every table with every column (`meshgov demo --wide`)
        self.mesh = mesh
        self.glue = mesh.client(mesh.producer, "glue")
        self.central_glue = mesh.client(mesh.central, "glue")
        self.central_db = f"{self._domain}_{SOURCE_DB}"
        self.audit = AuditFollower.from_now(
            mesh.client(mesh.central, "dynamodb"), mesh.deployment.audit_table_name
        )
        self.flow = _Flow(mesh.central, dropped_before=controls.glue_events_dropped)
        self._number = 0
        self.steps: list[dict[str, Any]] = []  # what `meshgov demo -o json` reports
        self.problems: list[str] = []
        self.registration_failures: list[str] = []

    @property
    def _domain(self) -> str:
        return self.mesh.config.producers[0].domain or "domain"

    # --- the steps ----------------------------------------------------------------------------
    def run(self) -> int:
        controls.add_listener(self.flow.on_glue_event)
        try:
            self.start()
            self.register()
            self.publish()
            self.schema_change()
            self.partitions()
            self.drop_table()
            self.unpublish()
            self.resilience()
            sharing = SharingStory(self)
            sharing.request()
            sharing.approve()
            query = QueryStory(self, sharing)
            query.query_granted()
            query.usage()
            query.filtered()
            query.revoke()
            contracts = ContractStory(self, sharing)
            contracts.publish()
            contracts.breach()
            contracts.quality()
            sharing.auto_approve()
            sharing.untrusted()
            sharing.expire()
            query.unused()
            audit = AuditStory(self)
            audit.verify()
            audit.posture()
            return self.finish([*self.registration_failures, *sharing.failures, *audit.failures])
        finally:
            controls.remove_listener(self.flow.on_glue_event)

    def start(self) -> None:
        with self.step("Start the local mesh"):
            mesh, config = self.mesh, self.mesh.config
            self.say(
                f"A moto server answers at [bold]{mesh.endpoint_url}[/]; template.yaml is deployed "
                "into three emulated AWS accounts. Every call below goes over HTTP, acting as an "
                "account through sts:AssumeRole of its meshgov-local-admin role."
            )
            table = FitTable("Accounts", ["account", "id", "role in the mesh"], wide=self.wide)
            table.add_row("central", config.central_account, "governance: central catalog, audit")
            for member in config.members:
                what = (
                    f"producer of the '{member.domain}' domain: owns its data and catalog"
                    if member.domain
                    else f"{member.kind.value}: queries what it was granted"
                )
                table.add_row(member.name, member.account_id, what)
            self.console.print(table)
            deployment = mesh.deployment
            self.say(
                f"Central bus [bold]{deployment.bus_name}[/], audit table "
                f"[bold]{deployment.audit_table_name}[/], handlers "
                f"{', '.join(sorted(deployment.functions))} (run in this process, as Lambda would: "
                "fed from their SQS queues, AWS_ENDPOINT_URL pointing at the server)."
            )

    def register(self) -> None:
        with self.step("The platform team registers the members", show_catalog=False):
            self.say(
                "Central serves only registered accounts, held in its registry table (no "
                "template parameter, nothing redeployed): one command per account puts "
                "[bold]Member Add Requested[/] on the central bus, as the central account."
            )
            events = self.mesh.client(self.mesh.central, "events")
            asked: dict[str, str] = {}
            for member in self.mesh.config.members:
                flags = f"--producer --domain {member.domain}" if member.domain else "--consumer"
                self.did(f"meshgov accounts add {member.account_id} {flags}")
                asked[
                    put_registry_change(
                        events,
                        self.mesh.deployment.bus_name,
                        MEMBER_ADD_REQUESTED,
                        registration_of(member),
                    )
                ] = member.account_id
            self.settle()
            answers = {
                r.entry.correlation_id: r.entry
                for r in self.mesh.audit_records()
                if r.entry.correlation_id in asked
            }
            for event_id, account in asked.items():
                entry = answers.get(event_id)
                if entry is None or entry.outcome is not AuditOutcome.SUCCEEDED:
                    failure = f"registering {account}: {entry.reason if entry else 'no answer'}"
                    self.registration_failures.append(failure)
                    self.console.print(f"[bold red]{escape(failure)}[/]")
                else:
                    self.say(f"central: account [bold]{account}[/] {escape(entry.reason)}")
            self.console.print(members_table(self.mesh.registry().members(), wide=self.wide))

    def publish(self) -> None:
        with self.step("A producer publishes data products"):
            self.did(
                f"CreateDatabase [bold]{SOURCE_DB}[/] with meshgov:publish=true "
                "(publish every table by default)"
            )
            self.glue.create_database(
                DatabaseInput={
                    "Name": SOURCE_DB,
                    "Description": "sales domain data products",
                    "Parameters": {"meshgov:publish": "true"},
                }
            )
            self.did(
                "CreateTable [bold]orders[/] (classification internal, owner contact), "
                "[bold]customers[/], and [bold]drafts[/] with meshgov:publish=false (opts out)"
            )
            self.glue.create_table(
                DatabaseName=SOURCE_DB,
                TableInput=_table("orders", _columns(*ORDERS_V1), parameters=ORDERS_PARAMS),
            )
            self.glue.create_table(
                DatabaseName=SOURCE_DB,
                TableInput=_table("customers", _columns("customer_id:bigint", "country:string")),
            )
            self.glue.create_table(
                DatabaseName=SOURCE_DB,
                TableInput=_table("drafts", _columns("id:bigint"), parameters=UNPUBLISHED),
            )
            self.settle()
            self.expect(
                {"orders", "customers"},
                f"Central database [bold]{self.central_db}[/] (domain_database: producers never "
                "collide) holds orders and customers; drafts stays private.",
            )
            params = self.central_glue.get_table(DatabaseName=self.central_db, Name="orders")[
                "Table"
            ]["Parameters"]
            shown = ("meshgov:source_account", "meshgov:classification", "meshgov:owner_contact")
            self.say(
                "Central orders points at the producer's S3 data (nothing is copied) and carries "
                + ", ".join(f"{k}=[bold]{escape(str(params.get(k, '-')))}[/]" for k in shown)
                + "."
            )

    def schema_change(self) -> None:
        with self.step("Schema changes: additive, then breaking"):
            self.did("UpdateTable orders: add column [bold]currency[/] (not breaking)")
            self.update_orders(ORDERS_V2)
            self.settle()
            self.did("UpdateTable orders: remove column [bold]coupon[/] (breaking for consumers)")
            self.update_orders(ORDERS_V3)
            self.settle()
            orders = self.central_table("orders")
            self.say(
                f"Central orders is at schema version [bold]{orders.schema_version}[/]; "
                "meshgov:last_breaking_change = "
                f"[bold]{escape(breaking_change_summary(orders.last_breaking_change))}[/], and a "
                "[bold]Breaking Schema Change[/] event went out on the central bus "
                "(events:PutEvents below) for consumers to react to."
            )

    def partitions(self) -> None:
        with self.step("Partitions, in batches"):
            self.did(
                "CreateTable [bold]events[/] partitioned by dt, then 300 partitions in 3 "
                "BatchCreatePartition calls of 100 (Glue's limit per call)"
            )
            self.glue.create_table(
                DatabaseName=SOURCE_DB,
                TableInput=_table(
                    "events",
                    _columns("event_id:string", "order_id:bigint", "kind:string"),
                    partition_keys=_columns("dt:string"),
                ),
            )
            days = [f"dt={n:03d}" for n in range(300)]
            for start in range(0, len(days), 100):
                self.glue.batch_create_partition(
                    DatabaseName=SOURCE_DB,
                    TableName="events",
                    PartitionInputList=[
                        {
                            "Values": [day.removeprefix("dt=")],
                            "StorageDescriptor": {"Location": f"{BUCKET}/events/{day}/"},
                        }
                        for day in days[start : start + 100]
                    ],
                )
            self.settle()
            events = self.central_table("events")
            self.say(f"Central events has [bold]{events.partitions}[/] partitions.")

    def drop_table(self) -> None:
        with self.step("The producer drops a table"):
            self.did("DeleteTable [bold]customers[/]")
            self.glue.delete_table(DatabaseName=SOURCE_DB, Name="customers")
            self.settle()
            self.expect({"orders", "events"}, "customers is gone from the central catalog too.")

    def unpublish(self) -> None:
        with self.step("The producer unpublishes a table"):
            self.did("UpdateTable [bold]events[/] with meshgov:publish=false")
            table = self.glue.get_table(DatabaseName=SOURCE_DB, Name="events")["Table"]
            self.glue.update_table(
                DatabaseName=SOURCE_DB,
                TableInput=_table(
                    "events",
                    table["StorageDescriptor"]["Columns"],
                    partition_keys=table["PartitionKeys"],
                    parameters=UNPUBLISHED,
                ),
            )
            self.settle()
            self.expect(
                {"orders"},
                "events and its 300 partitions left the central catalog; the producer keeps them.",
            )

    def resilience(self) -> None:
        with self.step("Resilience: a lost event, then the sweep"):
            self.say(
                "Glue delivers catalog events on a best-effort basis: they can go missing. "
                "The emulator's drop switch loses the next one on purpose."
            )
            controls.set_event_drop_rate(1.0)
            try:
                self.did("CreateTable [bold]returns[/] (its Glue event is lost)")
                self.glue.create_table(
                    DatabaseName=SOURCE_DB,
                    TableInput=_table("returns", _columns("order_id:bigint", "reason:string")),
                )
            finally:
                controls.set_event_drop_rate(0.0)
            self.settle()
            stale = "returns" not in self.central_names()
            self.say(
                "Central is [bold yellow]stale[/]: returns is missing (no event, nothing to do)."
                if stale
                else "[red]Central already has returns: the event was not dropped.[/]"
            )
            self.catalog_table("Central catalog before the sweep")
            self.did("(meshgov) the scheduled sweep runs: CatalogSweepFunction reads every source")
            self.sweep()
            self.expect({"orders", "returns"}, "The sweep found returns and converged.")

    def finish(self, sharing_failures: Sequence[str] = ()) -> int:
        with self.step("Verify: central equals the published source", show_catalog=False):
            self.did("(meshgov) a last sweep, then an independent comparison of both catalogs")
            self.sweep()
            problems = differences(self.mesh)
            compared = len(central_catalog(self.central_glue))
            self.say(
                f"Compared the central catalog ({plural(compared, 'table')}) with what the "
                f"producer publishes, partitions included: {plural(len(problems), 'difference')}."
            )
        self.problems = [*problems, *sharing_failures]
        if problems or sharing_failures:
            self.console.print(f"[bold red]{len(problems)} difference(s) found:[/]")
            for problem in [*problems, *sharing_failures]:
                self.console.print(f"  [red]-[/] {escape(problem)}")
            return 1
        self.console.print(f"[bold green]{FINAL_STATEMENT}[/]")
        return 0

    # --- acting and settling ---------------------------------------------------------------
    def create_table(self, name: str, columns: Sequence[str], *, public: bool = False) -> None:
        parameters = {"meshgov:classification": "public"} if public else None
        self.glue.create_table(
            DatabaseName=SOURCE_DB,
            TableInput=_table(name, _columns(*columns), parameters=parameters),
        )

    def update_orders(
        self, columns: Sequence[str], parameters: Mapping[str, str] | None = None
    ) -> None:
        """UpdateTable orders with ``columns`` ("name:type"), its parameters and ``parameters``."""
        self.glue.update_table(
            DatabaseName=SOURCE_DB,
            TableInput=_table(
                "orders", _columns(*columns), parameters={**ORDERS_PARAMS, **(parameters or {})}
            ),
        )

    def orders_columns(self) -> list[str]:
        """The producer's orders columns as they are now, as "name:type"."""
        table = self.glue.get_table(DatabaseName=SOURCE_DB, Name="orders")["Table"]
        return [f"{c['Name']}:{c['Type']}" for c in table["StorageDescriptor"]["Columns"]]

    def settle(self) -> None:
        started = time.monotonic()
        emitted = self.flow.emitted
        dropped = controls.glue_events_dropped - self.flow.dropped_before
        report = self.mesh.settle()
        self.flow.emitted, self.flow.dropped_before = 0, controls.glue_events_dropped
        self.flow_line(emitted, dropped, report, time.monotonic() - started)

    def sweep(self) -> None:
        started = time.monotonic()
        result = self.mesh.sweep() or {}
        self.console.print(
            f"    [dim]-> CatalogSweepFunction: {sweep_summary(result)} "
            f"({time.monotonic() - started:.1f} s)[/]"
        )

    # --- showing ---------------------------------------------------------------------------
    @contextmanager
    def step(self, title: str, show_catalog: bool = True) -> Iterator[None]:
        self._number += 1
        self.console.print()
        self.console.rule(f"[bold]Step {self._number}/{STEPS} · {title}", align="left")
        yield
        if self._number > 1 and show_catalog:
            self.catalog_table("Central catalog")
        records = self.audit.poll()
        self.audit_table(records)
        outcomes = Counter(record.entry.outcome.value for record in records)
        self.steps.append(
            {
                "step": self._number,
                "title": title,
                "audit_records": len(records),
                "outcomes": dict(sorted(outcomes.items())),
            }
        )

    def say(self, text: str) -> None:
        self.console.print(text)

    def did(self, text: str) -> None:
        self.console.print(f"  [bold cyan]>[/] {text}")

    def expect(self, names: set[str], text: str) -> None:
        have = self.central_names()
        if have == names:
            self.console.print(text)
        else:
            self.console.print(
                f"[bold red]Unexpected central tables:[/] {sorted(have)} (expected {sorted(names)})"
            )

    def flow_line(self, emitted: int, dropped: int, report: DeliveryReport, seconds: float) -> None:
        """How the producer's Glue events travelled: default bus -> central bus -> queue."""
        events = plural(emitted, "Glue event")
        lost = f" ([yellow]{dropped} lost[/])" if dropped else ""
        if report.messages:
            handled = (
                f"handlers: {plural(report.invocations, 'invocation')}, "
                f"{plural(report.messages, 'message')}"
            )
            if report.failed_messages:
                handled += f", [red]{report.failed_messages} failed[/]"
            for error in report.invocation_errors:
                handled += f", [red]{escape(error)}[/]"
        else:
            handled = "nothing reached a handler"
        self.console.print(
            f"    [dim]-> {events}{lost} -> central bus -> queue -> {handled} ({seconds:.1f} s)[/]"
        )

    def central_names(self) -> set[str]:
        return {t.table for t in central_catalog(self.central_glue)}

    def central_table(self, name: str) -> CentralTable:
        for table in central_catalog(self.central_glue):
            if table.table == name:
                return table
        raise LookupError(f"{name} is not in the central catalog")

    def catalog_table(self, title: str) -> None:
        rows = central_catalog(self.central_glue)
        title = f"{title} (account {self.mesh.central})"
        self.console.print(catalog_table(rows, title, wide=self.wide))

    def audit_table(self, records: Sequence[AuditRecord]) -> None:
        if records:
            title = "Audit records written in this step"
            self.console.print(audit_table(records, title, wide=self.wide))
        else:
            self.console.print("[dim]No audit records in this step.[/]")


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


@dataclass
class DemoReport:
    """What the demo did, step by step, and how it ended (``meshgov demo -o json``)."""

    code: int = 1
    steps: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "equal": self.code == 0,
            "exit_code": self.code,
            "steps": self.steps,
            "problems": self.problems,
            "seconds": round(self.seconds, 1),
        }


def run(
    console: Console | None = None,
    *,
    config: MeshConfig | None = None,
    on_endpoint: Callable[[str], None] | None = None,
) -> int:
    """Run the demo against its own moto server; 0 when central equals the published source.

    ``on_endpoint`` is told the server's URL once it listens (tests use it to check the port is
    closed afterwards). The server is stopped whatever happens.
    """
    return run_report(console, config=config, on_endpoint=on_endpoint).code


def run_report(
    console: Console | None = None,
    *,
    config: MeshConfig | None = None,
    on_endpoint: Callable[[str], None] | None = None,
    wide: bool = False,
) -> DemoReport:
    """:func:`run`, returning what each step did and what differed besides the exit code."""
    console = console or Console()
    started = time.monotonic()
    console.rule("[bold]meshgov demo[/] · data mesh governance on a local AWS (moto)")
    console.print(
        "A producer account changes its Glue catalog; meshgov keeps the central governance "
        "catalog in step from the events, and writes every decision and action to the audit trail."
    )
    drop_rate = controls.event_drop_rate
    try:
        with moto_server() as endpoint:
            if on_endpoint:
                on_endpoint(endpoint)
            with console.status("Deploying template.yaml into the local accounts..."):
                # The demo registers the members itself, with the command (its step 2).
                mesh = LocalMesh(
                    config,
                    endpoint_url=endpoint,
                    parameter_overrides=POLICY,
                    register_members=False,
                )
            story = Demo(console, mesh, wide=wide)
            code = story.run()
    finally:
        controls.set_event_drop_rate(drop_rate)
    console.print(f"[dim]Demo finished in {time.monotonic() - started:.0f} s; server stopped.[/]")
    return DemoReport(code, story.steps, story.problems, time.monotonic() - started)
