"""The audit interface: every event received and every action taken or refused goes through here.

Callers build an :class:`AuditEntry` and hand it to an :class:`AuditTrail`. How records are stored
is the trail's business: one DynamoDB item each, hash-chained in one of the trail's shards
(:mod:`meshgov.audit.chain`, docs/adr/0006-audit-hash-chain.md,
docs/adr/0019-sharded-audit-trail.md), appended with conditional transactions so concurrent
writers never fork a chain, and a writer that lost a race moves to another shard instead of
waiting; :mod:`meshgov.audit.verify` checks it.
"""

from meshgov.audit.auditor import Auditor
from meshgov.audit.dynamodb import DynamoAuditTrail
from meshgov.audit.memory import MemoryAuditTrail
from meshgov.audit.model import AuditEntry, AuditOutcome, AuditRecord, AuditTrail
from meshgov.audit.verify import (
    ChainHead,
    ChainRecord,
    DigestView,
    ShardHead,
    Verdict,
    verify_chain,
)

__all__ = [
    "AuditEntry",
    "AuditOutcome",
    "AuditRecord",
    "AuditTrail",
    "Auditor",
    "ChainHead",
    "ChainRecord",
    "DigestView",
    "DynamoAuditTrail",
    "MemoryAuditTrail",
    "ShardHead",
    "Verdict",
    "verify_chain",
]
