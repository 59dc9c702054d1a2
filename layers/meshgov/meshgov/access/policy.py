"""The approval policy the platform team configures (pure; issue 4).

"All grants are authorized by the producer" (the blog): the policy can only *shorten* that path
where the platform team has said so — auto-approve data classified as public, auto-deny what
breaks a rule (too long a duration) — and otherwise routes the request to the owning producer.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from enum import StrEnum


class Verdict(StrEnum):
    AUTO_APPROVE = "AUTO_APPROVE"
    AUTO_DENY = "AUTO_DENY"
    ASK_PRODUCER = "ASK_PRODUCER"


@dataclass(frozen=True)
class ApprovalPolicy:
    max_duration_days: int = 90
    auto_approve_classifications: frozenset[str] = field(default_factory=lambda: frozenset())

    def evaluate(self, duration_days: int, classifications: Collection[str]) -> tuple[Verdict, str]:
        """``classifications``: the ``meshgov:classification`` of every table the request covers
        (an empty string for a table without one)."""
        if duration_days > self.max_duration_days:
            return (
                Verdict.AUTO_DENY,
                f"duration {duration_days} days exceeds the policy's {self.max_duration_days}",
            )
        labels = {c.strip().lower() for c in classifications}
        if labels and labels <= self.auto_approve_classifications:
            return Verdict.AUTO_APPROVE, f"every table is classified {sorted(labels)}"
        return Verdict.ASK_PRODUCER, "the owning producer decides"
