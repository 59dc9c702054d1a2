"""An in-memory trail: for unit tests of decisions that audit, and for dry runs."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from meshgov.audit.model import AuditEntry, AuditRecord


class MemoryAuditTrail:
    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._clock = clock
        self.records: list[AuditRecord] = []

    def record(self, entry: AuditEntry) -> AuditRecord:
        stored = AuditRecord(record_id=uuid.uuid4().hex, recorded_at=self._clock(), entry=entry)
        self.records.append(stored)
        return stored
