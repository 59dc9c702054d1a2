"""When a live grant is due for review, when a review is overdue, and when a grant counts as
unused (pure; issue 14). The sweep (:mod:`meshgov.access.review_sweep`) acts on these answers;
``meshgov reviews`` shows them.

Times are the ISO 8601 UTC texts the requests table holds. A review's cycle is counted on the
sweep's clock — from the grant, then from each review's start — so it never drifts by how long
a producer took to answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol

from meshgov.access.policy import ApprovalPolicy
from meshgov.access.states import RequestState
from meshgov.access.store import RequestRecord

S = RequestState


class UsageReader(Protocol):
    """What the sweep reads of the usage store (meshgov.usage.store.UsageStore.last_used)."""

    def last_used(self, principal: str, since_day: str) -> dict[str, str]: ...


class ReviewStatus(StrEnum):
    """Where a request stands in its review (``meshgov reviews``)."""

    DUE = "due"  # asked, the producer's deadline not passed
    OVERDUE = "overdue"  # asked, deadline passed: the next sweep applies the policy
    DECIDED = "decided"  # the last review ended (kept or revoked, by the producer or the policy)


def parse(stamp: str) -> datetime:
    moment = datetime.fromisoformat(stamp)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def day_of(moment: datetime) -> str:
    return moment.astimezone(UTC).date().isoformat()


def granted_at(record: RequestRecord) -> datetime:
    """When the request's grants were made (its last move to GRANTED; its creation for a record
    written before the history said so)."""
    for entry in reversed(record.history):
        if entry.get("to") == S.GRANTED.value and entry.get("at"):
            return parse(entry["at"])
    return parse(record.created_at)


def review_due_at(record: RequestRecord, policy: ApprovalPolicy) -> datetime | None:
    """When the next review of a live grant is due (None: reviews are off)."""
    if policy.review_every_days <= 0:
        return None
    base = parse(record.review_requested_at) if record.review_requested_at else granted_at(record)
    return base + timedelta(days=policy.review_every_days)


def review_window_start(record: RequestRecord) -> datetime:
    """Since when a review's ``lastUsed`` looks: the previous review's start, else the grant."""
    return parse(record.review_requested_at) if record.review_requested_at else granted_at(record)


def covered_tables(record: RequestRecord) -> list[str]:
    """``<database>.<table>`` of each table the request names (``<database>.*`` for a whole
    database), as events show them."""
    return [f"{c.database}.{t}" for c in record.coverage for t in c.tables] or [
        f"{c.database}.*" for c in record.coverage
    ]


def last_use_of(record: RequestRecord, used: Mapping[str, str]) -> datetime | None:
    """The latest use of a table the request covers, from ``table -> last use`` (usage keys
    central tables as ``<database>.<table>``, as Glue names them: lower case)."""
    latest: datetime | None = None
    for key, stamp in used.items():
        database, _, table = key.partition(".")
        if any(
            c.database.lower() == database.lower()
            and (c.whole or not c.tables or table.lower() in {t.lower() for t in c.tables})
            for c in record.coverage
        ):
            moment = parse(stamp)
            latest = moment if latest is None or moment > latest else latest
    return latest


@dataclass(frozen=True)
class UnusedVerdict:
    """What the unused-grant rule says of one request now."""

    warn: bool = False  # tell the consumer (Access Unused), once
    revoke: bool = False  # warned long enough ago and still unused
    used_again: bool = False  # warned, then used: the warning is withdrawn
    unused_since: datetime | None = None


def unused_verdict(
    record: RequestRecord, last_use: datetime | None, now: datetime, policy: ApprovalPolicy
) -> UnusedVerdict:
    """``RevokeUnusedDays``: unused since max(granted, last use) for that many days -> warn;
    ``UnusedWarningDays`` after the warning, still no use -> revoke."""
    if policy.revoke_unused_days <= 0:
        return UnusedVerdict()
    since = max(granted_at(record), last_use) if last_use else granted_at(record)
    if record.unused_warned_at:
        warned = parse(record.unused_warned_at)
        if last_use is not None and last_use > warned:
            return UnusedVerdict(used_again=True, unused_since=since)
        return UnusedVerdict(
            revoke=now >= warned + timedelta(days=policy.unused_warning_days), unused_since=since
        )
    return UnusedVerdict(
        warn=now >= since + timedelta(days=policy.revoke_unused_days), unused_since=since
    )


def may_be_unused(record: RequestRecord, now: datetime, policy: ApprovalPolicy) -> bool:
    """Whether the rule could act on ``record`` now — only then is its principal's usage read:
    warned already, or granted at least ``RevokeUnusedDays`` ago (younger grants cannot be
    unused that long, whatever the usage says)."""
    if policy.revoke_unused_days <= 0:
        return False
    return bool(record.unused_warned_at) or now >= granted_at(record) + timedelta(
        days=policy.revoke_unused_days
    )


def usage_since(record: RequestRecord, now: datetime, policy: ApprovalPolicy) -> datetime:
    """The earliest use that matters for ``record``'s unused verdict: a use within the last
    ``RevokeUnusedDays`` (or after a warning) is all the rule needs to see."""
    since = now - timedelta(days=policy.revoke_unused_days)
    if record.unused_warned_at:
        since = min(since, parse(record.unused_warned_at))
    return since


def review_status(record: RequestRecord, now: datetime) -> ReviewStatus | None:
    if record.state is S.UNDER_REVIEW:
        deadline = parse(record.review_deadline) if record.review_deadline else None
        overdue = deadline is not None and deadline <= now
        return ReviewStatus.OVERDUE if overdue else ReviewStatus.DUE
    if record.last_review:
        return ReviewStatus.DECIDED
    return None
