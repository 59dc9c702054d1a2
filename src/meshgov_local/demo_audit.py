"""The audit half of ``make demo``: a signed digest, ``audit verify`` passing, a tampered copy
failing, and the compliance posture (with a grant made behind meshgov's back shown as drift)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from rich.markup import escape

from meshgov.audit.digests import load_digest_views
from meshgov.audit.dynamodb import chain_record, read_chain_items, verify_trail
from meshgov.audit.verify import ChainRecord, DigestView, Verdict, verify_chain
from meshgov_cli.tables import Col, FitTable

if TYPE_CHECKING:
    from meshgov_local.demo import Demo


class AuditStory:
    def __init__(self, demo: Demo) -> None:
        self.demo = demo
        self.mesh = demo.mesh
        self.failures: list[str] = []

    def verify(self) -> None:
        demo, mesh = self.demo, self.mesh
        deployment = mesh.deployment
        with demo.step("The audit trail: signed digest, verify, tamper", show_catalog=False):
            demo.did(
                "(meshgov) the scheduled AuditDigestFunction signs a digest of the new records "
                "(KMS, ECDSA P-256) into the S3 Object Lock bucket (compliance mode)"
            )
            written = mesh.write_digest() or {}
            demo.say(f"Digest written: [bold]{escape(str(written.get('digest')))}[/]")
            digests = self._digests()
            dynamodb = mesh.client(mesh.central, "dynamodb")
            verdict, _ = verify_trail(dynamodb, deployment.audit_table_name, digests)
            self._show("meshgov audit verify", verdict)
            if not verdict.ok:
                self.fail(f"the untouched trail does not verify: {verdict.problem}")
            records = [
                chain_record(item)
                for item in read_chain_items(dynamodb, deployment.audit_table_name)
            ]
            # A record in the middle that is not its shard's last (deleting a shard's last
            # record is a truncation, not a deletion: ADR 0019)
            half = len(records) // 2
            middle = next(
                (
                    i
                    for i in (*range(half, len(records) - 1), *range(half))
                    if records[i + 1].shard == records[i].shard
                ),
                half,
            )
            demo.did(
                f"A copy of the trail in which record {records[middle].seq} of shard "
                f"{records[middle].shard}'s reason was edited, then a copy in which it was "
                "deleted:"
            )
            edited = list(records)
            edited[middle] = _edited(records[middle])
            for label, copy, kind in (
                ("edited copy", edited, "edit"),
                (
                    "copy with a record deleted",
                    records[:middle] + records[middle + 1 :],
                    "deletion",
                ),
            ):
                tampered = verify_chain(copy, digests)
                self._show(f"verify, {label}", tampered)
                if tampered.ok or tampered.problem is None or tampered.problem.kind != kind:
                    self.fail(f"the {label} was not named {kind}: {tampered.problem}")

    def posture(self) -> None:
        demo, mesh = self.demo, self.mesh
        with demo.step("The compliance posture", show_catalog=False):
            consumer = mesh.consumer
            demo.did(
                f"An administrator grants account {consumer} SELECT on sales_sales.orders "
                "directly in Lake Formation, behind meshgov's back"
            )
            mesh.client(mesh.central, "lakeformation").grant_permissions(
                Principal={"DataLakePrincipalIdentifier": consumer},
                Resource={
                    "Table": {
                        "CatalogId": mesh.central,
                        "DatabaseName": demo.central_db,
                        "Name": "orders",
                    }
                },
                Permissions=["SELECT"],
                PermissionsWithGrantOption=["SELECT"],
            )
            report = mesh.posture()
            summary = FitTable(
                "meshgov posture: summary",
                ["measure", Col("count", justify="right")],
                wide=demo.wide,
            )
            for name, count in report.summary.items():
                summary.add_row(name.replace("_", " "), str(count))
            demo.console.print(summary)
            access = FitTable(
                "Who can read what, why, until when",
                [
                    "grantee",
                    Col("side", 2),
                    "resource",
                    Col("permissions", 3),
                    Col("request", 1),
                    "until",
                ],
                wide=demo.wide,
            )
            for granted in report.access:
                access.add_row(
                    granted.grantee,
                    granted.side,
                    granted.resource,
                    ",".join(granted.permissions),
                    ",".join(granted.requests),
                    granted.until,
                )
            demo.console.print(access)
            drift = FitTable(
                "Drift: grants no approved request explains",
                ["grantee", Col("side", 2), "resource", Col("permissions", 3), Col("hint", 1)],
                wide=demo.wide,
            )
            for row in report.drift:
                drift.add_row(
                    row.grantee, row.side, row.resource, ",".join(row.permissions), row.hint
                )
            demo.console.print(drift)
            if not any(r.grantee == consumer and "orders" in r.resource for r in report.drift):
                self.fail("the grant made behind meshgov's back is not reported as drift")
            demo.say(
                "`meshgov posture --markdown posture.md` writes the same report as a file an "
                "auditor keeps."
            )

    # --- helpers ---------------------------------------------------------------------------------
    def _digests(self) -> list[DigestView]:
        deployment = self.mesh.deployment
        return list(
            load_digest_views(
                self.mesh.client(self.mesh.central, "s3"),
                self.mesh.client(self.mesh.central, "kms"),
                deployment.digest_bucket_name,
                deployment.digest_key_id,
            )
        )

    def _show(self, title: str, verdict: Verdict) -> None:
        if verdict.ok:
            self.demo.say(
                f"{title}: [bold green]PASS[/] — {verdict.records_checked} records, "
                f"{verdict.digests_checked} signed digest(s), chain intact"
            )
        else:
            problem = verdict.problem
            self.demo.say(
                f"{title}: [bold red]FAIL[/] — {escape(problem.kind if problem else '?')} at "
                f"record {problem.seq if problem else '?'}: "
                f"{escape(problem.message if problem else '')}"
            )

    def fail(self, message: str) -> None:
        self.failures.append(message)
        self.demo.console.print(f"[bold red]Unexpected:[/] {escape(message)}")


def _edited(record: ChainRecord) -> ChainRecord:
    """The record with its canonical text changed (a reason rewritten), hash left as stored."""
    text = record.canonical.replace(b'"reason":"', b'"reason":"(edited) ', 1)
    if text == record.canonical:
        text = record.canonical + b" "
    return replace(record, canonical=text)
