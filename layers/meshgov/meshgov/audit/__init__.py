"""The audit interface: every event received and every action taken or refused goes through here.

Callers build an :class:`AuditEntry` and hand it to an :class:`AuditTrail`. How records are stored
is the trail's business: one DynamoDB item each, hash-chained (:mod:`meshgov.audit.chain`,
docs/adr/0006-audit-hash-chain.md), appended with conditional transactions so concurrent writers
never fork the chain; :mod:`meshgov.audit.verify` checks it.
"""

from meshgov.audit.auditor import Auditor
from meshgov.audit.dynamodb import DynamoAuditTrail
from meshgov.audit.memory import MemoryAuditTrail
from meshgov.audit.model import AuditEntry, AuditOutcome, AuditRecord, AuditTrail
from meshgov.audit.verify import ChainHead, ChainRecord, DigestView, Verdict, verify_chain

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
    "Verdict",
    "verify_chain",
]
