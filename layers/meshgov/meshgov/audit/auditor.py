"""One component's voice in the audit trail: it knows who is speaking, callers say the rest."""

from __future__ import annotations

from typing import Any

from meshgov.audit.model import AuditEntry, AuditOutcome, AuditRecord, AuditTrail


class Auditor:
    def __init__(self, trail: AuditTrail, actor: str) -> None:
        self.trail = trail
        self.actor = actor

    def record(
        self,
        action: str,
        outcome: AuditOutcome,
        target: str,
        correlation_id: str,
        reason: str = "",
        **detail: Any,
    ) -> AuditRecord:
        """Write one record; ``detail`` entries that are None are left out."""
        return self.trail.record(
            AuditEntry(
                action=action,
                outcome=outcome,
                actor=self.actor,
                target=target,
                correlation_id=correlation_id,
                reason=reason,
                detail={k: v for k, v in detail.items() if v is not None},
            )
        )
