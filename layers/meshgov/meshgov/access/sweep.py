"""The access sweep, on a schedule: each of its rules lives with its collaborator, and this
module only runs them in order and reports —

1. expire what is due and warn ahead (:mod:`meshgov.access.expiry`);
2. share again what was never accepted (:mod:`meshgov.access.reshare`);
3. revoke what was unpublished (:mod:`meshgov.access.unpublished`);
4. review live grants and revoke unused ones (:mod:`meshgov.access.review_sweep`);
5. backstop producer ownership (:mod:`meshgov.access.ownership`).

A request one rule could not handle (an AWS action failed) stops no other; the sweep then fails,
so that Lambda retries it.
"""

from __future__ import annotations

import json
from datetime import datetime

from meshgov.access.core import AccessContext
from meshgov.access.expiry import Expiry
from meshgov.access.ownership import OwnershipGrants
from meshgov.access.reshare import Reshares
from meshgov.access.review_sweep import Reviews
from meshgov.access.states import HOLDING_STATES
from meshgov.access.unpublished import Unpublished
from meshgov.audit import AuditOutcome
from meshgov.errors import MeshgovError


class AccessSweepIncompleteError(MeshgovError):
    """Some requests could not be swept: the others were; the invocation fails so that Lambda
    retries it and, at last, parks it in the sweep's dead-letter queue."""


class AccessSweep:
    def __init__(
        self,
        ctx: AccessContext,
        *,
        expiry: Expiry,
        reshares: Reshares,
        unpublished: Unpublished,
        reviews: Reviews,
        ownership: OwnershipGrants,
    ) -> None:
        self._ctx = ctx
        self._expiry = expiry
        self._reshares = reshares
        self._unpublished = unpublished
        self._reviews = reviews
        self._ownership = ownership

    def run(self, correlation: str, now: datetime | None = None) -> dict[str, int]:
        """Expire what is due, warn what soon will be, revoke what is no longer published.

        ``now``: the time the sweep was scheduled for (the scheduled event's ``time``), so that
        expiry is judged as of the schedule, not of a late or retried invocation."""
        ctx = self._ctx
        now = now or ctx.clock()
        counts = {"expired": 0, "warned": 0, "unpublished": 0, "ownership_granted": 0}
        failures: list[str] = []
        ctx.auditor.record("access:sweep", AuditOutcome.RECEIVED, "access", correlation)
        counts["expired"], counts["warned"] = self._expiry.run(now, correlation, failures)
        counts["reshared"], counts["failed_unaccepted"] = self._reshares.run(
            now, correlation, failures
        )
        # Read once for the two passes over every live request (10,000 grants are pages of
        # the requests table, not a read each).
        live = [r for state in HOLDING_STATES for r in ctx.store.in_state(state)]
        withdrawn = self._unpublished.run(live, correlation, failures)
        counts["unpublished"] = len(withdrawn)
        counts.update(
            self._reviews.sweep(
                [r for r in live if r.request_id not in withdrawn], now, correlation, failures
            )
        )
        counts["ownership_granted"] = self._ownership.ensure_all(correlation)
        ctx.auditor.record(
            "access:sweep",
            AuditOutcome.FAILED if failures else AuditOutcome.SUCCEEDED,
            "access",
            correlation,
            json.dumps(counts),
            failures=failures[:50] or None,
        )
        if failures:
            raise AccessSweepIncompleteError(
                f"{len(failures)} requests not swept (retried by the next run): {failures[:5]}"
            )
        return counts
