"""The query half of ``make demo`` (issue 13): the consumer's analyst runs SQL on real Parquet data
and gets exactly what Lake Formation grants — every row, then, through a data cells filter, only
German orders without ``email``, then nothing once the filtered request is revoked.

The producer writes the Parquet files itself (:mod:`meshgov_local.parquet_data`) under the S3
location its ``orders`` table points at; the analyst's query goes through
:meth:`meshgov_local.mesh.LocalMesh.query` (``meshgov query``), which reads S3 only with the
credentials Lake Formation vends for the table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.markup import escape

from meshgov.access.filters import filter_name
from meshgov.contracts.access_events import (
    ACCESS_DECIDED,
    ACCESS_REQUESTED,
    ACCESS_REVOKE_REQUESTED,
)
from meshgov.usage.report import DayRange, UsageRow, summarize
from meshgov_cli.tables import Col, FitTable
from meshgov_local.emulator import controls
from meshgov_local.parquet_data import write_table_data

if TYPE_CHECKING:
    from meshgov_cli.query.engine import QueryResult
    from meshgov_local.demo import Demo
    from meshgov_local.demo_sharing import SharingStory

ORDERS_ROWS = 5_000
DAY = 86_400
# The approval policy of the demo's central stack: unused grants are warned about after 14 days
# without use and revoked 7 days later (template parameters RevokeUnusedDays, UnusedWarningDays).
POLICY = {"RevokeUnusedDays": "14", "UnusedWarningDays": "7"}
DE_ANALYST = "de_analyst"
BY_COUNTRY = (
    "SELECT country, count(*) AS orders, round(sum(amount), 2) AS revenue "
    "FROM {db}.orders GROUP BY country ORDER BY country"
)
SAMPLE = "SELECT * FROM {db}.orders ORDER BY order_id LIMIT 3"
EMAIL = "SELECT email FROM {db}.orders LIMIT 1"


class QueryStory:
    def __init__(self, demo: Demo, sharing: SharingStory) -> None:
        self.demo = demo
        self.sharing = sharing
        self.mesh = demo.mesh
        self.consumer = self.mesh.consumer
        self.de_analyst = f"arn:aws:iam::{self.consumer}:role/{DE_ANALYST}"

    @property
    def failures(self) -> list[str]:
        return self.sharing.failures

    def sql(self, template: str) -> str:
        return template.format(db=self.demo.central_db)

    # --- steps ----------------------------------------------------------------------------------
    def query_granted(self) -> None:
        demo = self.demo
        with demo.step("The analyst queries real data", show_catalog=False):
            table = demo.glue.get_table(DatabaseName="sales", Name="orders")["Table"]
            written = write_table_data(
                self.mesh.client(self.mesh.producer, "s3"), table, ORDERS_ROWS
            )
            demo.did(
                f"The producer writes {written.rows:,} orders as Parquet "
                f"({len(written.objects)} object(s)) under "
                f"{escape(table['StorageDescriptor']['Location'])}"
            )
            demo.did(f'The analyst runs [bold]meshgov query "{escape(self.sql(BY_COUNTRY))}"[/]')
            result = self.run("analyst", BY_COUNTRY)
            if result is not None:
                self.show(result)
                countries = {row[0] for row in result.rows()}
                total = sum(int(row[1]) for row in result.rows())
                demo.say(
                    "Lake Formation vended credentials for orders' S3 prefix only; the engine read "
                    f"the Parquet objects with them: [bold]{total:,}[/] orders from "
                    f"{len(countries)} countries, every row."
                )
                if total != written.rows:
                    self.sharing.fail(f"the analyst counted {total} orders of {written.rows}")

    def filtered(self) -> None:
        demo = self.demo
        with demo.step("Filtered access: German orders, without email", show_catalog=False):
            self.mesh.create_consumer_role(self.consumer, DE_ANALYST)
            demo.did(
                f"The consumer asks for orders for role {DE_ANALYST} with a filter: "
                "[bold]excludedColumns: email[/], [bold]rowFilter: country = 'DE'[/]"
            )
            self.sharing.put(self.consumer, ACCESS_REQUESTED, self._request())
            demo.settle()
            record = self.sharing.record("orders-de")
            demo.did(f"The producer approves {record.request_id} as asked")
            self.sharing.put(
                self.mesh.producer,
                ACCESS_DECIDED,
                {
                    "requestId": record.request_id,
                    "decision": "APPROVE",
                    "reason": "German market analysis, no personal data",
                },
            )
            demo.settle()
            record = self.sharing.record("orders-de")
            self.sharing.expect_state(record, "ACTIVE")
            name = filter_name(record.request_id, "orders")
            demo.say(
                f"Central made the data cells filter [bold]{name}[/] and granted SELECT on it "
                "(not on orders) to the consumer account; the consumer granted it to "
                f"{DE_ANALYST}. can-access says:"
            )
            answer = self.mesh.can_access(self.de_analyst, demo.central_db, "orders")
            for through in answer.filters:
                demo.say(
                    f"  {DE_ANALYST} reads orders only through filter {escape(through['name'])}: "
                    f"every column but {', '.join(through['excludedColumns'])}; rows where "
                    f"{escape(str(through['rowFilter']))}"
                )
            if not answer.allowed or not answer.filters:
                self.sharing.fail(f"can-access for {DE_ANALYST}: {answer.as_dict()}")
            for template in (BY_COUNTRY, SAMPLE):
                demo.did(f'{DE_ANALYST}: [bold]meshgov query "{escape(self.sql(template))}"[/]')
                result = self.run(DE_ANALYST, template)
                if result is None:
                    continue
                self.show(result)
                if "email" in result.columns:
                    self.sharing.fail(f"{DE_ANALYST} saw the email column")
                if template == BY_COUNTRY and {r[0] for r in result.rows()} != {"DE"}:
                    self.sharing.fail(f"{DE_ANALYST} saw other countries: {result.rows()}")
            demo.did(f'{DE_ANALYST}: [bold]meshgov query "{escape(self.sql(EMAIL))}"[/]')
            self.refused(DE_ANALYST, EMAIL, "COLUMN_NOT_FOUND")

    def revoke(self) -> None:
        demo = self.demo
        with demo.step("The filtered access is revoked", show_catalog=False):
            record = self.sharing.record("orders-de")
            demo.did(f"The consumer puts [bold]Access Revoke Requested[/] for {record.request_id}")
            self.sharing.put(
                self.consumer,
                ACCESS_REVOKE_REQUESTED,
                {"requestId": record.request_id, "reason": "analysis done"},
            )
            demo.settle()
            record = self.sharing.record("orders-de")
            self.sharing.expect_state(record, "REVOKED")
            left = self.mesh.client(self.mesh.central, "lakeformation").list_data_cells_filter()[
                "DataCellsFilters"
            ]
            demo.say(
                f"{record.request_id} is [bold]{record.state.value}[/]: central revoked the grant "
                f"and deleted the filter ({len(left)} data cells filter(s) left in central); the "
                f"consumer revoked its grant to {DE_ANALYST}."
            )
            if left:
                self.sharing.fail(f"filters left after revocation: {[f['Name'] for f in left]}")
            demo.did(f'{DE_ANALYST}: [bold]meshgov query "{escape(self.sql(BY_COUNTRY))}"[/]')
            self.refused(DE_ANALYST, BY_COUNTRY, "Insufficient Lake Formation permission")

    def usage(self) -> None:
        demo = self.demo
        with demo.step("Usage, in one central place", show_catalog=False):
            demo.did("The analyst runs two more queries on orders")
            for _ in range(2):
                self.run("analyst", BY_COUNTRY)
            demo.settle()
            demo.say(
                "Each query's credential vending is a CloudTrail GetDataAccess event in the "
                "consumer account; its member rule (state ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_"
                "EVENTS) forwards it to central, where UsageFunction counts it per principal, "
                f"table and day. [bold]meshgov usage --table {demo.central_db}.orders[/]:"
            )
            rows = self.usage_rows("orders")
            self.usage_table(rows)
            reads = sum(row.reads for row in rows if row.principal.endswith(":role/analyst"))
            if reads != 3:
                self.sharing.fail(f"central counted {reads} reads by the analyst, expected 3")

    def unused(self) -> None:
        demo = self.demo
        with demo.step("Unused access is warned about, then revoked", show_catalog=False):
            regions = self.sharing.record("regions-lookup")
            demo.say(
                f"regions ({regions.request_id}) was granted but never queried: the sweep at "
                f"day 29½ sent [bold]Access Unused[/] to the consumer (RevokeUnusedDays="
                f"{POLICY['RevokeUnusedDays']}), warned at {regions.unused_warned_at or '-'}."
            )
            self.posture_rows("before the revocation")
            demo.did("7 more days pass without a query; the access sweep runs")
            controls.advance_time(7 * DAY)
            self.sharing.sweep()
            regions = self.sharing.record("regions-lookup")
            self.sharing.expect_state(regions, "REVOKED")
            demo.say(
                f"regions: [bold]{regions.state.value}[/] by {regions.decided_by or '-'}: "
                f"{escape(regions.reason)}"
            )
            self.sharing.requests_table()
            self.sharing.show_access("regions", "after the unused revocation")

    # --- helpers ---------------------------------------------------------------------------------
    def usage_rows(self, table: str) -> list[UsageRow]:
        store = self.mesh.usage_store()
        qualified = f"{self.demo.central_db}.{table}"
        span = DayRange(since="0001-01-01", until="9999-12-31")
        return list(summarize(store.of_table(qualified, span.since, span.until), span).rows)

    def usage_table(self, rows: list[UsageRow]) -> None:
        table = FitTable(
            "Usage (central UsageTable)",
            [
                "principal",
                "table",
                Col("reads", justify="right"),
                Col("first use", 2),
                "last use",
                Col("engines", 1),
            ],
            wide=self.demo.wide,
        )
        for row in rows:
            table.add_row(
                escape(row.principal.rsplit(":", 1)[-1]),
                row.table,
                str(row.reads),
                _minute(row.first_use),
                _minute(row.last_use),
                ", ".join(row.engines) or "-",
            )
        self.demo.console.print(table)

    def posture_rows(self, when: str) -> None:
        """The posture report's access rows: each grant, and when it was last used."""
        report = self.mesh.posture()
        table = FitTable(
            f"meshgov posture: access ({when})",
            ["grantee", "resource", Col("requests", 1), "last used"],
            wide=self.demo.wide,
        )
        for row in report.access:
            table.add_row(
                escape(row.grantee.rsplit(":", 1)[-1]),
                escape(row.resource),
                ", ".join(row.requests),
                _minute(row.last_used) if row.last_used else "-",
            )
        self.demo.console.print(table)

    def _request(self) -> dict[str, Any]:
        return {
            "clientToken": "orders-de",
            "consumerAccount": self.consumer,
            "principal": self.de_analyst,
            "resource": {
                "database": self.demo.central_db,
                "tables": ["orders"],
                "filters": [
                    {"table": "orders", "excludedColumns": ["email"], "rowFilter": "country = 'DE'"}
                ],
            },
            "permissions": ["SELECT"],
            "justification": "German market analysis without personal data",
            "durationDays": 30,
        }

    def run(self, role: str, template: str) -> QueryResult | None:
        from meshgov_cli.query.engine import QueryError

        try:
            return self.mesh.query(self.consumer, role, self.sql(template))
        except QueryError as exc:
            self.sharing.fail(f"{role}'s query failed: {exc}")
            return None

    def refused(self, role: str, template: str, expected: str) -> None:
        from meshgov_cli.query.engine import QueryError

        try:
            result = self.mesh.query(self.consumer, role, self.sql(template))
        except QueryError as exc:
            self.demo.say(f"[bold red]refused[/], as Athena would: {escape(str(exc))}")
            if expected not in str(exc):
                self.sharing.fail(f"{role}'s query was refused for another reason: {exc}")
            return
        self.sharing.fail(f"{role}'s query returned {len(result.rows())} rows, expected a refusal")

    def show(self, result: QueryResult) -> None:
        rows = result.rows()
        # The result's columns are the answer: none is ever left out, long cells fold.
        table = FitTable(
            f"{len(rows)} row(s)", [escape(c) for c in result.columns], wide=self.demo.wide
        )
        for row in rows:
            table.add_row(*("NULL" if v is None else escape(str(v)) for v in row))
        self.demo.console.print(table)


def _minute(stamp: str) -> str:
    """An ISO time to the minute (``2026-12-05 03:02``), anything else as it is ("never")."""
    return stamp[:16].replace("T", " ") if stamp[:4].isdigit() else stamp
