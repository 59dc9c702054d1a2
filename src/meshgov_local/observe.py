"""Looking at a local mesh from the central account: its catalog, its audit trail, its drift.

Shared by the demo, ``meshgov mesh up``, ``meshgov watch`` and ``meshgov mesh verify``. Everything
here reads through boto3 clients of the central account (and, for the drift check, the producers'
own catalogs), so it works the same on an in-process mesh and against a running ``mesh up``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from meshgov.audit import AuditOutcome, AuditRecord
from meshgov.audit.dynamodb import from_item
from meshgov_local.accounts import AccountSessions
from meshgov_local.state import MeshState
from meshgov_local.verify import catalog_differences

SCHEMA_VERSION = "meshgov:schema_version"
SYNCED_AT = "meshgov:synced_at"
BREAKING = "meshgov:last_breaking_change"


# --------------------------------------------------------------------------------------------
# The central catalog
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CentralTable:
    """One table of the central catalog, as a governance user would want to see it."""

    database: str
    table: str
    columns: tuple[str, ...]
    schema_version: str
    partitions: int | None  # None: the table is not partitioned
    synced_at: str
    last_breaking_change: str | None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["columns"] = list(self.columns)
        return data


def central_catalog(glue: Any) -> list[CentralTable]:
    """Every table of every central database (``glue`` is a central account client), sorted."""
    rows: list[CentralTable] = []
    for page in glue.get_paginator("get_databases").paginate():
        for database in page["DatabaseList"]:
            rows.extend(_tables(glue, str(database["Name"])))
    return sorted(rows, key=lambda r: (r.database, r.table))


def central_databases(glue: Any) -> list[str]:
    return sorted(
        str(d["Name"])
        for page in glue.get_paginator("get_databases").paginate()
        for d in page["DatabaseList"]
    )


def _tables(glue: Any, database: str) -> list[CentralTable]:
    rows = []
    for page in glue.get_paginator("get_tables").paginate(DatabaseName=database):
        for table in page["TableList"]:
            params = table.get("Parameters") or {}
            partitioned = bool(table.get("PartitionKeys"))
            rows.append(
                CentralTable(
                    database=database,
                    table=str(table["Name"]),
                    columns=tuple(
                        f"{c['Name']}:{c.get('Type', '?')}"
                        for c in (table.get("StorageDescriptor") or {}).get("Columns") or []
                    ),
                    schema_version=str(params.get(SCHEMA_VERSION, "-")),
                    partitions=(
                        _count_partitions(glue, database, str(table["Name"]))
                        if partitioned
                        else None
                    ),
                    synced_at=str(params.get(SYNCED_AT, "-")),
                    last_breaking_change=params.get(BREAKING),
                )
            )
    return rows


def _count_partitions(glue: Any, database: str, table: str) -> int:
    paginator = glue.get_paginator("get_partitions")
    return sum(
        len(page["Partitions"])
        for page in paginator.paginate(DatabaseName=database, TableName=table)
    )


def breaking_change_summary(raw: str | None) -> str:
    """``meshgov:last_breaking_change`` (JSON) in a few words."""
    if not raw:
        return ""
    try:
        change = json.loads(raw)
    except json.JSONDecodeError:
        return raw
    if not isinstance(change, dict):
        return raw
    version = change.get("schema_version")
    words = schema_change_words(change) or "breaking"
    return f"v{version}: {words}" if version is not None else words


def schema_change_words(change: Any) -> str:
    """A schema change summary (:meth:`meshgov.catalog.schema.SchemaChange.summary`) in words."""
    if not isinstance(change, dict):
        return str(change)
    words = []
    if change.get("added_columns"):
        words.append("added " + ", ".join(map(str, change["added_columns"])))
    if change.get("removed_columns"):
        words.append("removed " + ", ".join(map(str, change["removed_columns"])))
    for retyped in change.get("retyped_columns") or []:
        if isinstance(retyped, list | tuple) and len(retyped) == 3:
            words.append(f"{retyped[0]} {retyped[1]} -> {retyped[2]}")
    for widened in change.get("widened_columns") or []:
        if isinstance(widened, list | tuple) and len(widened) == 3:
            words.append(f"{widened[0]} widened {widened[1]} -> {widened[2]}")
    if change.get("partition_keys_changed"):
        before = ",".join(str(k[0]) for k in change.get("partition_keys_before") or [])
        after = ",".join(str(k[0]) for k in change.get("partition_keys_after") or [])
        words.append(f"partition keys ({before}) -> ({after})")
    return "; ".join(words)


# --------------------------------------------------------------------------------------------
# The audit trail
# --------------------------------------------------------------------------------------------


class AuditFollower:
    """Reads the records added to the central audit table since the last poll, oldest first.

    Items are keyed ``pk = AUDIT#<day>``, ``sk = <time>#<shard>#<seq>`` (the trail's order,
    :mod:`meshgov.audit.dynamodb`), so "new" is one Query per day on ``sk > last seen``; until a
    record has been seen, records at or before ``since`` are filtered out by their
    ``recorded_at``.
    """

    def __init__(
        self,
        dynamodb: Any,
        table_name: str,
        since: datetime | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._dynamodb = dynamodb
        self._table = table_name
        self._clock = clock
        start = (since or clock()).astimezone(UTC)
        self._day: date = start.date()
        # Records at or before ``since`` count as seen; None: everything of the day is new.
        self._since: str | None = start.isoformat(timespec="microseconds") if since else None
        self._after: str | None = None  # the sort key of the last record seen

    @classmethod
    def from_start_of_day(cls, dynamodb: Any, table_name: str) -> AuditFollower:
        return cls(dynamodb, table_name)

    @classmethod
    def from_now(cls, dynamodb: Any, table_name: str) -> AuditFollower:
        return cls(dynamodb, table_name, since=datetime.now(UTC))

    def poll(self) -> list[AuditRecord]:
        today = self._clock().astimezone(UTC).date()
        records: list[AuditRecord] = []
        day = self._day
        while day <= today:
            for item in self._query(day):
                records.append(from_item(item))
                self._after = str(item["sk"]["S"])
                self._since = None
            day += timedelta(days=1)
        self._day = today
        return records

    def _query(self, day: date) -> Iterable[dict[str, Any]]:
        values: dict[str, Any] = {":pk": {"S": f"AUDIT#{day.isoformat()}"}}
        condition = "pk = :pk"
        if self._after:
            condition += " AND sk > :after"
            values[":after"] = {"S": self._after}
        extra: dict[str, Any] = {}
        if self._since and not self._after:
            extra["FilterExpression"] = "recorded_at > :since"
            values[":since"] = {"S": self._since}
        paginator = self._dynamodb.get_paginator("query")
        for page in paginator.paginate(
            TableName=self._table,
            KeyConditionExpression=condition,
            ExpressionAttributeValues=values,
            **extra,
        ):
            yield from page.get("Items", [])


def detail_summary(record: AuditRecord) -> str:
    """The reason of a record, or its most telling details when it has no reason."""
    entry = record.entry
    detail = dict(entry.detail)
    if entry.action == "event:received" and detail.get("tables"):
        return f"{entry.reason} {', '.join(map(str, detail['tables']))}".strip()
    bits: list[str] = []
    if entry.reason:
        bits.append(entry.reason)
    if entry.action == "glue:SyncPartitions":
        counts = {k: detail.get(k) for k in ("created", "updated", "deleted")}
        bits.append(", ".join(f"{v} {k}" for k, v in counts.items() if v))
    elif entry.action == "glue:UpdateTable" and detail.get("schema_change"):
        bits.append(schema_change_words(detail["schema_change"]))
    elif entry.action == "events:PutEvents" and detail.get("change"):
        bits.append(schema_change_words(detail["change"]))
    elif entry.action == "glue:BatchDeleteTable" and detail.get("tables"):
        bits.append("tables " + ", ".join(map(str, detail["tables"])))
    return "; ".join(b for b in bits if b)


BOOKKEEPING = frozenset({"event:received", "sweep:started", "sweep:completed"})


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def sweep_summary(report: Mapping[str, Any]) -> str:
    """A sweep's :class:`ReconcileReport` (as a dict) in a few words."""
    changed = [
        f"{value} {key.replace('_', ' ')}"
        for key, value in report.items()
        if isinstance(value, int) and value and key not in ("tables_unchanged", "tables_skipped")
    ]
    for key in ("breaking_changes", "refused", "failed"):
        if report.get(key):
            changed.append(f"{len(report[key])} {key.replace('_', ' ')}")
    unchanged = int(report.get("tables_unchanged") or 0)
    what = ", ".join(changed) or "nothing to change"
    return f"{what}; {plural(unchanged, 'table')} already in step"


def describe_changes(records: Sequence[AuditRecord]) -> str:
    """One line about what a handler invocation did, from the audit records it wrote."""
    received = [r for r in records if r.entry.action == "event:received"]
    actions = [r for r in records if r.entry.action not in BOOKKEEPING]
    parts: list[str] = []
    if received:
        refused = sum(1 for r in received if r.entry.outcome is AuditOutcome.REFUSED)
        changes = sorted(
            {
                r.entry.reason
                for r in received
                if r.entry.reason and r.entry.outcome is AuditOutcome.RECEIVED
            }
        )
        text = plural(len(received), "event")
        if changes:
            text += f" ({', '.join(changes)})"
        if refused:
            text += f", {refused} refused"
        parts.append(text)
    changed = []
    for record in actions:
        entry = record.entry
        text = f"{entry.action} {entry.target}"
        if entry.outcome is not AuditOutcome.SUCCEEDED:
            text += f" [{entry.outcome.value.lower()}]"
        detail = detail_summary(record)
        if detail and entry.action != "catalog:table":
            text += f" ({detail})"
        changed.append(text)
    parts.append("; ".join(changed) if changed else "no change")
    return " -> ".join(parts)


# --------------------------------------------------------------------------------------------
# A running mesh, from its state file
# --------------------------------------------------------------------------------------------


class RunningMesh:
    """A ``mesh up`` reached through its endpoint, acting as its accounts (sts.assume_role)."""

    def __init__(self, state: MeshState) -> None:
        self.state = state
        self.sessions = AccountSessions(state.region, state.endpoint_url)

    def client(self, account_id: str, service: str) -> Any:
        return self.sessions.client(account_id, service)

    def central_glue(self) -> Any:
        return self.client(self.state.central_account, "glue")

    def audit_follower(self, since_now: bool = False) -> AuditFollower:
        dynamodb = self.client(self.state.central_account, "dynamodb")
        if since_now:
            return AuditFollower.from_now(dynamodb, self.state.audit_table_name)
        return AuditFollower.from_start_of_day(dynamodb, self.state.audit_table_name)

    def differences(self) -> list[str]:
        """Empty when the central catalog equals what the producers publish."""
        config = self.state.config()
        producers = [
            (p.account_id, p.domain or "", self.client(p.account_id, "glue"))
            for p in config.producers
        ]
        return catalog_differences(producers, self.central_glue(), self.state.central_account)
