"""The approval policy the platform team configures (pure; issue 4).

"All grants are authorized by the producer" (the blog): the policy can only *shorten* that path
where the platform team has said so — auto-approve data classified as public, auto-deny what
breaks a rule (too long a duration) — and otherwise routes the request to the owning producer.

Once granted, access is kept only while it is wanted (issue 14): the owning producer reviews
each live grant every ``review_every_days`` and answers within ``review_deadline_days``, else
``unanswered_review_action`` applies; a grant unused for ``revoke_unused_days`` is announced to
the consumer and revoked ``unused_warning_days`` later if still unused. Zero turns a rule off.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from enum import StrEnum


class UnansweredReview(StrEnum):
    """What an unanswered review past its deadline does."""

    REVOKE = "revoke"  # the grant ends (the producer's silence is not consent)
    KEEP = "keep"  # the grant stays, and the platform team is told (Access Review Escalated)


class Verdict(StrEnum):
    AUTO_APPROVE = "AUTO_APPROVE"
    AUTO_DENY = "AUTO_DENY"
    ASK_PRODUCER = "ASK_PRODUCER"


@dataclass(frozen=True)
class ApprovalPolicy:
    max_duration_days: int = 90
    auto_approve_classifications: frozenset[str] = field(default_factory=lambda: frozenset())
    # Tables of these classifications are granted only through a filter (columns and/or rows):
    # a request that covers one without a filter is denied.
    filter_required_classifications: frozenset[str] = field(default_factory=lambda: frozenset())
    # Reviews and unused grants (issue 14); 0 days = the rule is off.
    review_every_days: int = 0
    review_deadline_days: int = 7
    unanswered_review_action: UnansweredReview = UnansweredReview.REVOKE
    revoke_unused_days: int = 0
    unused_warning_days: int = 7

    def evaluate(
        self,
        duration_days: int,
        classifications: Collection[str],
        unfiltered: Collection[tuple[str, str]] = (),
    ) -> tuple[Verdict, str]:
        """``classifications``: the ``meshgov:classification`` of every table the request covers
        (an empty string for a table without one); ``unfiltered``: (table, classification) of
        the covered tables the request asks for without a filter."""
        if duration_days > self.max_duration_days:
            return (
                Verdict.AUTO_DENY,
                f"duration {duration_days} days exceeds the policy's {self.max_duration_days}",
            )
        bare = sorted(
            f"{table} ({label})"
            for table, label in unfiltered
            if label.strip().lower() in self.filter_required_classifications
        )
        if bare:
            return (
                Verdict.AUTO_DENY,
                f"{', '.join(bare)} must be requested with a filter (columns or rowFilter): "
                f"the policy requires one for {sorted(self.filter_required_classifications)}",
            )
        labels = {c.strip().lower() for c in classifications}
        if labels and labels <= self.auto_approve_classifications:
            return Verdict.AUTO_APPROVE, f"every table is classified {sorted(labels)}"
        return Verdict.ASK_PRODUCER, "the owning producer decides"
