"""The promises half of ``make demo`` (issue 15, item 6): a data contract and a quality score.

The producer publishes an ODCS v3 contract for ``orders`` (a YAML object under its member stack's
``ContractsPrefix`` in its data bucket, named by the table parameter ``meshgov:contract``) and
central accepts it; the producer then drops a contracted column without a new major version, and
central tells the consumer account holding grants on ``orders`` (naming its requests) and the
producer, and posture shows the contract BREACHED; finally a Glue Data Quality ruleset run on
``orders`` (the emulated Glue Data Quality API, computed on the real Parquet data) reaches
central and ``find`` shows its score. The run checks the contract's own quality rules (ODCS
``quality``, translated into DQDL by :func:`meshgov_local.quality_runs.run_quality_check`).

Who was told is read as the members receive it: a rule and a queue on each member's ``meshgov``
bus (as tests/integration/test_data_contracts.py does), created before the breach.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import yaml
from rich.markup import escape

from meshgov.contracts.data_contract_events import CONTRACT_BREACHED
from meshgov.discovery.find import FindQuery, find_products
from meshgov_cli.tables import Col, FitTable
from meshgov_local.quality_runs import run_quality_check

if TYPE_CHECKING:
    from meshgov_local.demo import Demo
    from meshgov_local.demo_sharing import SharingStory

# The member stack's default ContractsPrefix (template.yaml): the only prefix of the data bucket
# central's contract reader role may read.
CONTRACTS_PREFIX = "meshgov-contracts/"
CONTRACT_VERSION = "1.0.0"
# The columns orders promises (ODCS v3 schema properties; physicalType as Glue types them).
# Their quality rules (ODCS v3 library metrics): no null order_id and no duplicate country;
# with the table's "more than no rows", they run as RowCount > 0, IsComplete "order_id" and
# IsUnique "country": the first two hold on the demo's rows, the last cannot (6 countries), so
# the score is 2/3.
PROMISED: dict[str, dict[str, Any]] = {
    "order_id": {
        "physicalType": "bigint",
        "required": True,
        "quality": [{"metric": "nullValues", "mustBe": 0}],
    },
    "country": {"physicalType": "string", "quality": [{"metric": "duplicateValues", "mustBe": 0}]},
    "currency": {"physicalType": "string"},
}
TABLE_QUALITY = [{"metric": "rowCount", "mustBeGreaterThan": 0}]
DROPPED = "currency"
RULESET_NAME = "orders-checks"
# What the run would check for a table whose contract has no quality rule (Glue DQDL).
RULESET = 'Rules = [ RowCount > 0, IsComplete "order_id", IsUnique "country" ]'
INBOX = "demo-contract-inbox"


class _Inbox:
    """A rule and a queue on a member's ``meshgov`` bus catching ``Contract Breached``."""

    def __init__(self, demo: Demo, account: str) -> None:
        self.account = account
        self._sqs = demo.mesh.client(account, "sqs")
        events = demo.mesh.client(account, "events")
        self._url = self._sqs.create_queue(QueueName=INBOX)["QueueUrl"]
        arn = self._sqs.get_queue_attributes(QueueUrl=self._url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        events.put_rule(
            Name=INBOX,
            EventBusName="meshgov",
            EventPattern=json.dumps({"detail-type": [CONTRACT_BREACHED]}),
            State="ENABLED",
        )
        events.put_targets(Rule=INBOX, EventBusName="meshgov", Targets=[{"Id": "in", "Arn": arn}])

    def details(self) -> list[dict[str, Any]]:
        received: list[dict[str, Any]] = []
        while batch := self._sqs.receive_message(QueueUrl=self._url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            for message in batch:
                received.append(json.loads(message["Body"])["detail"])
                self._sqs.delete_message(QueueUrl=self._url, ReceiptHandle=message["ReceiptHandle"])
        return received


class ContractStory:
    def __init__(self, demo: Demo, sharing: SharingStory) -> None:
        self.demo = demo
        self.sharing = sharing
        self.mesh = demo.mesh
        bucket = demo.mesh.config.producers[0].data_bucket or "producer-data"
        self.key = f"{CONTRACTS_PREFIX}orders-{CONTRACT_VERSION}.yaml"
        self.location = f"s3://{bucket}/{self.key}"
        self.bucket = bucket

    @property
    def contract(self) -> dict[str, str]:
        return {"meshgov:contract": self.location}

    # --- steps ----------------------------------------------------------------------------------
    def publish(self) -> None:
        demo = self.demo
        with demo.step("The producer promises: a data contract", show_catalog=False):
            body = {
                "apiVersion": "v3.0.2",
                "kind": "DataContract",
                "id": "urn:sales:orders",
                "version": CONTRACT_VERSION,
                "status": "active",
                "schema": [
                    {
                        "name": "orders",
                        "physicalType": "table",
                        "quality": TABLE_QUALITY,
                        "properties": [{"name": n, **terms} for n, terms in PROMISED.items()],
                    }
                ],
            }
            self.mesh.client(self.mesh.producer, "s3").put_object(
                Bucket=self.bucket, Key=self.key, Body=yaml.safe_dump(body, sort_keys=False)
            )
            demo.did(
                f"PutObject [bold]{escape(self.location)}[/]: ODCS v3 contract "
                f"{CONTRACT_VERSION} promising {', '.join(PROMISED)} (order_id required)"
            )
            demo.did(f"UpdateTable orders: meshgov:contract = {escape(self.location)}")
            demo.update_orders(demo.orders_columns(), parameters=self.contract)
            demo.settle()
            self.heads_table()

    def breach(self) -> None:
        demo = self.demo
        with demo.step("The producer breaks its promise", show_catalog=False):
            inboxes = [_Inbox(demo, self.mesh.consumer), _Inbox(demo, self.mesh.producer)]
            kept = [c for c in demo.orders_columns() if not c.startswith(f"{DROPPED}:")]
            demo.did(
                f"UpdateTable orders: drop the contracted column [bold]{DROPPED}[/], "
                f"contract still {CONTRACT_VERSION} (no new major version)"
            )
            demo.update_orders(kept, parameters=self.contract)
            demo.settle()
            told = FitTable(
                f"Who was told: {CONTRACT_BREACHED} (members' meshgov buses)",
                [
                    "account",
                    Col("role", 2),
                    Col("table", 3),
                    Col("requests", no_wrap=True),
                    "breaches",
                ],
                wide=demo.wide,
            )
            roles = {self.mesh.consumer: "consumer (grant holder)", self.mesh.producer: "producer"}
            for inbox in inboxes:
                details = inbox.details()
                if not details:
                    self.sharing.fail(f"account {inbox.account} was not told of the breach")
                for detail in details:
                    told.add_row(
                        inbox.account,
                        roles[inbox.account],
                        escape(f"{detail.get('centralDatabase')}.{detail.get('table')}"),
                        ", ".join(detail.get("requestIds") or []) or "-",
                        escape(
                            "; ".join(
                                f"{b['kind']} {b['column']}" for b in detail.get("breaches", [])
                            )
                        ),
                    )
            demo.console.print(told)
            self.heads_table()

    def quality(self) -> None:
        demo = self.demo
        with demo.step("The producer measures quality; find shows it", show_catalog=False):
            run = run_quality_check(
                self.mesh,
                database="sales",
                table="orders",
                ruleset_name=RULESET_NAME,
                ruleset=RULESET,
            )
            source = f"contract {run.contract}'s quality rules" if run.contract else "its own"
            demo.did(
                f"CreateDataQualityRuleset [bold]{RULESET_NAME}[/] ({escape(source)}): "
                f"{escape(run.ruleset)}"
            )
            for left_out in run.untranslated:
                demo.did(f"not run: {escape(left_out.where)} {escape(left_out.reason)}")
            demo.did("StartDataQualityRulesetEvaluationRun on sales.orders (its Parquet data)")
            demo.settle()
            products = find_products(
                self.mesh.client(self.mesh.central, "glue"),
                self.mesh.client(self.mesh.central, "lakeformation"),
                self.mesh.central,
                FindQuery(text="orders"),
            )
            table = FitTable(
                "meshgov find orders",
                ["product", "score", "rules passed", "failed", "state"],
                wide=demo.wide,
            )
            for product in products:
                q = product.quality
                table.add_row(
                    product.name,
                    f"{q.score:.4f}" if q else "-",
                    str(q.rules_passed) if q else "-",
                    str(q.rules_failed) if q else "-",
                    q.state if q else "never scored",
                )
            demo.console.print(table)
            scored = [p for p in products if p.table == "orders" and p.quality is not None]
            if not scored:
                self.sharing.fail("the quality result did not reach central orders")

    # --- showing --------------------------------------------------------------------------------
    def heads_table(self) -> None:
        """posture's contracts section: each contract in force, its status, its last breach."""
        table = FitTable(
            "meshgov posture: contracts",
            ["product", "contract", "version", "status", Col("last breach", 1)],
            wide=self.demo.wide,
        )
        for row in self.mesh.posture().contracts:
            table.add_row(
                escape(f"{row.database}.{row.table}"),
                escape(row.contract_id),
                row.version,
                row.status,
                escape(row.breach) or "-",
            )
        self.demo.console.print(table)
