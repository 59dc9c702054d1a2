"""The audit interface: every event received and every action taken or refused goes through here.

Callers build an :class:`AuditEntry` and hand it to an :class:`AuditTrail`. How records are stored
(today: one DynamoDB item each, written conditionally so nothing is overwritten) is the trail's
business, so a later hash chain or signed digests change no caller.
"""

from meshgov.audit.auditor import Auditor
from meshgov.audit.dynamodb import DynamoAuditTrail
from meshgov.audit.memory import MemoryAuditTrail
from meshgov.audit.model import AuditEntry, AuditOutcome, AuditRecord, AuditTrail

__all__ = [
    "AuditEntry",
    "AuditOutcome",
    "AuditRecord",
    "AuditTrail",
    "Auditor",
    "DynamoAuditTrail",
    "MemoryAuditTrail",
]
