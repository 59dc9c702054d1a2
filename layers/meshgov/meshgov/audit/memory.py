"""An in-memory trail: for unit tests of decisions that audit, and for dry runs.

It chains its records exactly as :class:`~meshgov.audit.dynamodb.DynamoAuditTrail` does
(:mod:`meshgov.audit.chain`), one append at a time under a lock: with no contention to spread,
every record goes to shard 0.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from meshgov.audit.chain import GENESIS, chain_hash
from meshgov.audit.model import AuditEntry, AuditRecord


class MemoryAuditTrail:
    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.records: list[AuditRecord] = []

    def record(self, entry: AuditEntry) -> AuditRecord:
        with self._lock:
            last = self.records[-1] if self.records else None
            draft = AuditRecord(
                record_id=uuid.uuid4().hex,
                recorded_at=self._clock(),
                entry=entry,
                seq=last.seq + 1 if last else 1,
                prev_hash=last.hash if last else GENESIS,
            )
            stored = replace(draft, hash=chain_hash(draft.prev_hash, draft.canonical()))
            self.records.append(stored)
            return stored
