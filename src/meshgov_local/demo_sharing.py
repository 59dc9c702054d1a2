"""The sharing half of ``make demo``: request, approve, link, query, reject, expire.

A consumer's analyst role cannot read the producer's ``orders``; the consumer asks for it; the
producer approves; central grants; the consumer's member function accepts the invitation and
makes the link; the role can read. A public table is approved by policy alone. An invitation from
an untrusted sender is rejected. Time passes and access expires, leaving what another live
request still explains.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from rich.markup import escape

from meshgov.access.store import RequestRecord, request_id_for
from meshgov.contracts.access_events import (
    ACCESS_DECIDED,
    ACCESS_REQUESTED,
    ACCESS_SOURCE,
)
from meshgov_cli.tables import Col, FitTable
from meshgov_local.emulator import controls

if TYPE_CHECKING:
    from meshgov_local.demo import Demo

DAY = 86_400
ANALYST = "analyst"


class SharingStory:
    def __init__(self, demo: Demo) -> None:
        self.demo = demo
        self.mesh = demo.mesh
        self.consumer = self.mesh.consumer
        self.analyst = f"arn:aws:iam::{self.consumer}:role/{ANALYST}"
        self.failures: list[str] = []

    # --- steps ----------------------------------------------------------------------------------
    def request(self) -> None:
        demo = self.demo
        with demo.step("A consumer asks for data", show_catalog=False):
            self._create_analyst_role()
            self.show_access("orders", "before asking")
            demo.did(
                f"The consumer puts [bold]Access Requested[/] on its default bus: role {ANALYST}, "
                f"SELECT on {demo.central_db}.orders, 30 days, with a justification"
            )
            self.put(
                self.consumer, ACCESS_REQUESTED, self._request("orders-dashboard", "orders", 30)
            )
            demo.settle()
            record = self.record("orders-dashboard")
            demo.say(
                f"Central validated it against the central catalog, recorded it as "
                f"[bold]{record.request_id}[/] and asked the owner, account "
                f"{record.owner_account}: "
                f"state [bold]{record.state.value}[/]."
            )
            self.expect_state(record, "PENDING_APPROVAL")
            self.requests_table()

    def approve(self) -> None:
        demo = self.demo
        with demo.step("The producer approves; the consumer gets a link", show_catalog=False):
            record = self.record("orders-dashboard")
            demo.did(f"The producer puts [bold]Access Decided[/] APPROVE for {record.request_id}")
            self.put(
                self.mesh.producer,
                ACCESS_DECIDED,
                {
                    "requestId": record.request_id,
                    "decision": "APPROVE",
                    "reason": "dashboard use agreed with the sales team",
                },
            )
            demo.settle()
            record = self.record("orders-dashboard")
            demo.say(
                "Central granted SELECT to the consumer account with the grant option "
                "(BatchGrantPermissions), which shared the table through a RAM invitation; the "
                "consumer's MemberAccessFunction accepted it (sender is the trusted central "
                "account), created the resource link and granted the role: state "
                f"[bold]{record.state.value}[/], expires {record.expires_at}."
            )
            self.expect_state(record, "ACTIVE")
            self.links_table()
            self.show_access("orders", "after approval")
            self.show_own_view("after approval", {"orders"})

    def auto_approve(self) -> None:
        demo = self.demo
        with demo.step("Public data: approved by the policy alone", show_catalog=False):
            demo.did(
                "The producer publishes [bold]regions[/] with meshgov:classification=public; the "
                "consumer asks for it for 90 days"
            )
            demo.create_table("regions", ("region:string", "country:string"), public=True)
            demo.settle()
            self.put(
                self.consumer, ACCESS_REQUESTED, self._request("regions-lookup", "regions", 90)
            )
            demo.settle()
            record = self.record("regions-lookup")
            demo.say(
                f"The approval policy (AutoApproveClassifications=public) approved it without "
                f"asking the producer: decided by [bold]{record.decided_by}[/], state "
                f"[bold]{record.state.value}[/]."
            )
            self.expect_state(record, "ACTIVE")
            self.show_access("regions", "auto-approved")

    def untrusted(self) -> None:
        demo = self.demo
        with demo.step("An invitation from an untrusted sender is rejected", show_catalog=False):
            producer = self.mesh.producer
            demo.did(
                f"Account {producer} shares its own database directly with the consumer "
                "(a cross-account Lake Formation grant outside meshgov: RAM sends an invitation)"
            )
            self.mesh.client(producer, "lakeformation").grant_permissions(
                Principal={"DataLakePrincipalIdentifier": self.consumer},
                Resource={"Database": {"CatalogId": producer, "Name": "sales"}},
                Permissions=["DESCRIBE"],
                PermissionsWithGrantOption=["DESCRIBE"],
            )
            demo.settle()
            invitations = self.mesh.client(self.consumer, "ram").get_resource_share_invitations()[
                "resourceShareInvitations"
            ]
            table = FitTable(
                f"RAM invitations of the consumer ({self.consumer})",
                ["sender", "share", "status"],
                wide=demo.wide,
            )
            for invitation in invitations:
                table.add_row(
                    invitation["senderAccountId"],
                    invitation["resourceShareName"],
                    invitation["status"],
                )
            demo.console.print(table)
            rejected = [i for i in invitations if i["senderAccountId"] == producer]
            if rejected and all(i["status"] == "REJECTED" for i in rejected):
                demo.say(
                    "Only the central account is trusted: the invitation was [bold]rejected[/] "
                    "and the rejection audited in central."
                )
            else:
                self.fail(f"the untrusted invitation was not rejected: {rejected}")

    def expire(self) -> None:
        demo = self.demo
        with demo.step("Time passes: access expires", show_catalog=False):
            demo.did("29½ days pass (the emulator's clock); the scheduled access sweep runs")
            controls.advance_time(29.5 * DAY)
            self.sweep()
            demo.did("2 more days pass; the access sweep runs again")
            controls.advance_time(2 * DAY)
            self.sweep()
            orders = self.record("orders-dashboard")
            regions = self.record("regions-lookup")
            demo.say(
                f"orders: [bold]{orders.state.value}[/] (an Access Expiring warning went out a day "
                f"ahead, then the grants were revoked); regions: [bold]{regions.state.value}[/] "
                "(90 days). The link stays: the live regions grant still needs it."
            )
            self.expect_state(orders, "EXPIRED")
            self.expect_state(regions, "ACTIVE")
            self.requests_table()
            self.show_access("orders", "after expiry")
            self.show_access("regions", "still granted")
            self.show_own_view("after expiry", {"regions"})

    # --- helpers ---------------------------------------------------------------------------------
    def _create_analyst_role(self) -> None:
        self.mesh.create_consumer_role(self.consumer, ANALYST)

    def _request(self, token: str, table: str, days: int) -> dict[str, Any]:
        return {
            "clientToken": token,
            "consumerAccount": self.consumer,
            "principal": self.analyst,
            "resource": {"database": self.demo.central_db, "tables": [table]},
            "permissions": ["SELECT"],
            "justification": f"{table} for the consumer's quarterly dashboard",
            "durationDays": days,
        }

    def put(self, account: str, detail_type: str, detail: dict[str, Any]) -> None:
        self.mesh.put_event(account, ACCESS_SOURCE, detail_type, detail)

    def record(self, token: str) -> RequestRecord:
        wanted = request_id_for(self.consumer, token)
        for record in self.mesh.requests():
            if record.request_id == wanted:
                return record
        raise LookupError(f"no request for client token {token}")

    def sweep(self) -> None:
        result = self.mesh.access_sweep() or {}
        self.demo.console.print(
            f"    [dim]-> AccessSweepFunction: {escape(json.dumps(result, sort_keys=True))}[/]"
        )

    def show_own_view(self, when: str, expected: set[str]) -> None:
        """What the analyst's own credentials list through the link (IAM and Lake Formation
        decide, as for the consumer's AWS CLI): exactly ``expected``."""
        database = self.demo.central_db
        glue = self.mesh.consumer_glue(self.consumer, ANALYST)
        names = {d["Name"] for d in glue.get_databases()["DatabaseList"]}
        tables = (
            {t["Name"] for t in glue.get_tables(DatabaseName=database)["TableList"]}
            if database in names
            else set()
        )
        self.demo.say(
            f"the analyst's own view ({when}): [bold]aws glue get-tables --database-name "
            f"{database}[/] -> {', '.join(sorted(tables)) or 'nothing'}"
        )
        if tables != expected:
            self.fail(f"the analyst sees {sorted(tables)} {when}, expected {sorted(expected)}")

    def show_access(self, table: str, when: str) -> None:
        answer = self.mesh.can_access(self.analyst, self.demo.central_db, table)
        if answer.allowed:
            self.demo.say(
                f"can-access {ANALYST} SELECT {self.demo.central_db}.{table} ({when}): "
                f"[bold green]yes[/], explained by {', '.join(answer.requests) or '-'}"
            )
        else:
            self.demo.say(
                f"can-access {ANALYST} SELECT {self.demo.central_db}.{table} ({when}): "
                f"[bold red]no[/] ({escape('; '.join(answer.missing))})"
            )

    def requests_table(self) -> None:
        table = FitTable(
            "Access requests (central)",
            [
                Col("request", no_wrap=True),
                Col("kind", 3),
                Col("consumer", 2, no_wrap=True),
                Col("resource"),
                Col("state", no_wrap=True),
                Col("expires", 1),
                Col("decided by", 4),
            ],
            wide=self.demo.wide,
        )
        for record in sorted(self.mesh.requests(), key=lambda r: r.created_at):
            resource = ", ".join(
                f"{c.database}.{'*' if c.whole else ','.join(c.tables)}" for c in record.coverage
            )
            table.add_row(
                record.request_id,
                record.kind,
                record.consumer_account,
                resource,
                record.state.value,
                record.expires_at or "-",
                record.decided_by or "-",
            )
        self.demo.console.print(table)

    def links_table(self) -> None:
        databases = self.mesh.client(self.consumer, "glue").get_databases()["DatabaseList"]
        table = FitTable(
            f"Consumer catalog ({self.consumer})",
            ["database", "resource link to"],
            wide=self.demo.wide,
        )
        for database in databases:
            target = database.get("TargetDatabase") or {}
            link = f"{target.get('CatalogId')}:{target.get('DatabaseName')}" if target else "-"
            table.add_row(database["Name"], link)
        self.demo.console.print(table)

    def expect_state(self, record: RequestRecord, state: str) -> None:
        if record.state.value != state:
            self.fail(f"{record.request_id} is {record.state.value}, expected {state}")

    def fail(self, message: str) -> None:
        self.failures.append(message)
        self.demo.console.print(f"[bold red]Unexpected:[/] {escape(message)}")
