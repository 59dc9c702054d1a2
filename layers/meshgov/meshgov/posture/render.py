"""The posture report as Markdown (``meshgov posture --markdown FILE``): the document an auditor
keeps. Rendering only: what the report says is :mod:`meshgov.posture.report`'s."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from meshgov.posture.report import PostureReport


def _cell(value: Any) -> str:
    if isinstance(value, list | tuple):
        value = ", ".join(str(v) for v in value)
    text = "-" if value is None or value == "" else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], empty: str) -> list[str]:
    if not rows:
        return [f"_{empty}_", ""]
    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join("---" for _ in headers) + "|",
    ]
    lines.extend("| " + " | ".join(_cell(v) for v in row) + " |" for row in rows)
    return [*lines, ""]


def markdown(report: PostureReport) -> str:
    """The report as the Markdown document an auditor keeps: title, time, summary, one table
    per section."""
    summary = report.summary
    lines = [
        "# meshgov posture report",
        "",
        f"- Central account: `{report.central_account}`",
        f"- Generated at: {report.generated_at}",
        f"- Expiring window: {report.expiring_days} days",
        "",
        "## Summary",
        "",
        *_table(
            ["what", "count"],
            [
                ("grants explained by a live request", summary["grants_explained"]),
                ("grantees (accounts and principals)", summary["grantees"]),
                ("drift: grants no live request explains", summary["drift"]),
                ("LF-Tag grants reaching another producer", summary["tag_reach"]),
                ("requests pending approval", summary["pending"]),
                (f"requests expiring within {report.expiring_days} days", summary["expiring"]),
                ("published products", summary["products"]),
                (
                    "products missing owner contact or classification",
                    summary["products_missing_metadata"],
                ),
                ("requests recorded", summary["requests"]),
                ("catalog drift: central objects changed by hand", summary["catalog_drift"]),
                ("data cells filters", summary["filters"]),
                ("filter drift: filters no live request made", summary["filter_drift"]),
                ("data contracts", summary["contracts"]),
                ("data contracts breached", summary["contracts_breached"]),
            ],
            "nothing",
        ),
        "## Access",
        "",
        "Who can read what, through which request, until when, and when it was last used "
        "(the grantee's latest data access to what the grant covers; for a grant to an account, "
        "any of its principals').",
        "",
        *_table(
            ["grantee", "granted by", "resource", "permissions", "requests", "until", "last used"],
            [
                (
                    r.grantee,
                    f"{r.account} ({r.side})",
                    r.resource,
                    r.permissions,
                    r.requests,
                    r.until,
                    r.last_used,
                )
                for r in report.access
            ],
            "no access granted",
        ),
        "## Drift",
        "",
        "Grants in Lake Formation that no approved (GRANTED or ACTIVE) request explains.",
        "",
        *_table(
            ["side", "granted by", "grantee", "resource", "permissions", "grant option", "hint"],
            [
                (
                    r.side,
                    r.account,
                    r.grantee,
                    r.resource,
                    r.permissions,
                    "yes" if r.grantable else "no",
                    r.hint,
                )
                for r in report.drift
            ],
            "no drift",
        ),
        "## Data cells filters",
        "",
        "The columns and rows each filtered grant lets through; a filter no live request made "
        "is drift.",
        "",
        *_table(
            ["filter", "table", "columns", "rows", "request", "hint"],
            [(r.name, r.table, r.columns, r.row_filter, r.request, r.hint) for r in report.filters],
            "no data cells filters",
        ),
        "## Catalog drift",
        "",
        "Central databases, tables and partitions that differ from the published source.",
        "",
        *_table(
            ["resource", "drift", "detail", "hint"],
            [(r.resource, r.kind, r.detail, r.hint) for r in report.catalog_drift],
            "no catalog drift",
        ),
        "## LF-Tag grants reaching another producer",
        "",
        *_table(
            ["request", "grantee", "expression", "approved by", "tables of other producers"],
            [
                (r.request_id, r.grantee, r.expression, r.approved_by, r.foreign_tables)
                for r in report.tag_reach
            ],
            "none",
        ),
        "## Pending requests",
        "",
        *_table(
            ["request", "state", "consumer", "principal", "owner", "resource", "since"],
            [
                (r.request_id, r.state, r.consumer, r.principal, r.owner, r.resource, r.created_at)
                for r in report.pending
            ],
            "no request waits for a decision",
        ),
        f"## Expiring within {report.expiring_days} days",
        "",
        *_table(
            ["request", "consumer", "principal", "resource", "expires at", "days left", "warned"],
            [
                (
                    r.request_id,
                    r.consumer,
                    r.principal,
                    r.resource,
                    r.expires_at,
                    r.days_left,
                    "yes" if r.warned else "no",
                )
                for r in report.expiring
            ],
            "nothing expires in that window",
        ),
        "## Data contracts",
        "",
        "Each contracted product, the contract in force, whether the table keeps it, and its "
        "last breach (it stays listed after the table keeps its promises again).",
        "",
        *_table(
            ["table", "owner account", "contract", "version", "status", "last breach", "broke"],
            [
                (
                    f"{r.database}.{r.table}",
                    r.owner_account,
                    r.contract_id,
                    r.version,
                    r.status,
                    r.breached_at,
                    r.breach,
                )
                for r in report.contracts
            ],
            "no data contract published",
        ),
        "## Products missing metadata",
        "",
        *_table(
            ["table", "owner account", "domain", "missing"],
            [
                (f"{r.database}.{r.table}", r.owner_account, r.domain, r.missing)
                for r in report.products_missing
            ],
            "every product has an owner contact and a classification",
        ),
    ]
    return "\n".join(lines).rstrip() + "\n"
