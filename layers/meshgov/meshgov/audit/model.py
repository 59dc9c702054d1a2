"""What an audit record says: who, what, when, why, the outcome and the correlation id."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from meshgov.audit.chain import canonical, json_detail, order_key, utc_text


class AuditOutcome(StrEnum):
    RECEIVED = "RECEIVED"  # an event or a request arrived
    SUCCEEDED = "SUCCEEDED"  # an action was taken and worked
    SKIPPED = "SKIPPED"  # nothing to do, and why (e.g. the source object vanished)
    REFUSED = "REFUSED"  # input refused on purpose (unknown producer, invalid name...)
    FAILED = "FAILED"  # an action was attempted and failed


@dataclass(frozen=True)
class AuditEntry:
    """One thing worth recording, as callers describe it."""

    action: str  # e.g. "glue:CreateTable", "event:received", "sweep:completed"
    outcome: AuditOutcome
    actor: str  # who caused it: the source account, or the meshgov function
    target: str  # what it was about: an ARN or a qualified name
    correlation_id: str  # the event id, request id or sweep id tying records together
    reason: str = ""
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AuditRecord:
    """An entry as stored: the entry plus its id and time, assigned by the trail, and its place
    in the hash chain of its shard (``shard``, ``seq``, ``prev_hash``, ``hash``;
    docs/adr/0006-audit-hash-chain.md, docs/adr/0019-sharded-audit-trail.md)."""

    record_id: str
    recorded_at: datetime
    entry: AuditEntry
    seq: int = 0
    prev_hash: str = ""
    hash: str = ""
    shard: int = 0

    @property
    def order(self) -> str:
        """Its place in the whole trail, all shards together (:func:`~meshgov.audit.chain.
        order_key`): sort records by it to list them oldest first."""
        return order_key(utc_text(self.recorded_at), self.shard, self.seq)

    def fields(self) -> dict[str, Any]:
        """The hashed fields (:data:`meshgov.audit.chain.FIELDS`) as the canonical form has them."""
        return {
            "seq": self.seq,
            "shard": self.shard,
            "record_id": self.record_id,
            "recorded_at": utc_text(self.recorded_at),
            "action": self.entry.action,
            "outcome": self.entry.outcome.value,
            "actor": self.entry.actor,
            "target": self.entry.target,
            "correlation_id": self.entry.correlation_id,
            "reason": self.entry.reason,
            "detail": json_detail(self.entry.detail),
        }

    def canonical(self) -> str:
        """The canonical text this record's ``hash`` covers."""
        return canonical(self.fields())

    def as_dict(self) -> dict[str, Any]:
        return {
            "record_id": self.record_id,
            "recorded_at": self.recorded_at.isoformat(),
            "action": self.entry.action,
            "outcome": self.entry.outcome.value,
            "actor": self.entry.actor,
            "target": self.entry.target,
            "correlation_id": self.entry.correlation_id,
            "reason": self.entry.reason,
            "detail": json_detail(self.entry.detail),
            "shard": self.shard,
            "seq": self.seq,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


class AuditTrail(Protocol):
    """Where audit entries go. ``record`` raises :class:`AuditWriteError` if it cannot write."""

    def record(self, entry: AuditEntry) -> AuditRecord: ...
