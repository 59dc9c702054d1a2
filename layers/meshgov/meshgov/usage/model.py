"""One counted data access, as :mod:`meshgov.usage.events` parses it and the store aggregates it.

Kept apart from the parser so the store (which readers import) depends on nothing but this.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime


def stamp(moment: datetime) -> str:
    """The one text of a usage time: UTC, ISO 8601, seconds (compared as text in DynamoDB)."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def event_digest(event_id: str) -> str:
    """What the store keeps of a CloudTrail ``eventID`` to recognise a second delivery of it:
    the first 16 hex digits of its SHA-256 (64 bits; a collision within one principal's day on
    one table is out of reach)."""
    return hashlib.sha256(event_id.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class UsageEvent:
    """One Lake Formation credential vending (``GetDataAccess``) to count."""

    event_id: str  # CloudTrail's eventID: the same access delivered twice has the same one
    table: str  # "<central db>.<table>" (central catalog)
    principal: str  # the role ARN that read
    consumer_account: str  # the account of that role (the one that forwarded the event)
    at: datetime  # eventTime, UTC
    engine: str  # additionalEventData.requesterService (e.g. ATHENA), "" when absent

    @property
    def day(self) -> str:
        return self.at.astimezone(UTC).date().isoformat()

    @property
    def digest(self) -> str:
        return event_digest(self.event_id)

    @property
    def key(self) -> tuple[str, str, str]:
        """The group it is aggregated in: one store item per (table, principal, day)."""
        return (self.table, self.principal, self.day)
