"""The access sweep: expire what is due, warn ahead, share again what was never accepted,
revoke what was unpublished, review live grants and revoke unused ones
(:mod:`meshgov.access.review_sweep`), and backstop producer ownership."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime

from meshgov.access.central_adapter import AccessActionError
from meshgov.access.core import INVITATION_LIFETIME, MAX_RESHARES, S
from meshgov.access.grants import still_unneeded
from meshgov.access.review_sweep import ReviewSweep
from meshgov.access.states import HOLDING_STATES, TransitionInvalidError
from meshgov.access.store import RequestConflictError, RequestRecord
from meshgov.audit import AuditOutcome
from meshgov.contracts.access_events import ACCESS_EXPIRING
from meshgov.errors import MeshgovError


class AccessSweepIncompleteError(MeshgovError):
    """Some requests could not be swept: the others were; the invocation fails so that Lambda
    retries it and, at last, parks it in the sweep's dead-letter queue."""


class AccessSweep(ReviewSweep):
    # --- the sweep -----------------------------------------------------------------------------
    def sweep(self, correlation: str, now: datetime | None = None) -> dict[str, int]:
        """Expire what is due, warn what soon will be, revoke what is no longer published.

        ``now``: the time the sweep was scheduled for (the scheduled event's ``time``), so that
        expiry is judged as of the schedule, not of a late or retried invocation."""
        now = now or self._clock()
        counts = {"expired": 0, "warned": 0, "unpublished": 0, "ownership_granted": 0}
        failures: list[str] = []
        stamp = now.isoformat(timespec="seconds")
        warn_until = (now + self._warning).isoformat(timespec="seconds")
        self._auditor.record("access:sweep", AuditOutcome.RECEIVED, "access", correlation)
        for state in HOLDING_STATES:
            for record in self._store.in_state(state, expiring_before=warn_until):
                try:
                    if record.expires_at and record.expires_at <= stamp:
                        self.withdraw(record, S.EXPIRED, "expired", correlation)
                        counts["expired"] += 1
                    elif not record.warned:
                        self._send(
                            record.consumer_account,
                            ACCESS_EXPIRING,
                            {
                                "requestId": record.request_id,
                                "expiresAt": record.expires_at,
                                "consumerAccount": record.consumer_account,
                            },
                            record,
                        )
                        self._store.save(record, replace(record, warned=True))
                        counts["warned"] += 1
                except (RequestConflictError, TransitionInvalidError):
                    continue  # moved meanwhile: the next sweep sees its new state
                except AccessActionError as exc:  # one consumer's failure stops no other
                    failures.append(f"{record.request_id}: {exc}")
        counts["reshared"], counts["failed_unaccepted"] = self._reshare_unaccepted(
            now, correlation, failures
        )
        # Read once for the two passes over every live request (10,000 grants are pages of
        # the requests table, not a read each).
        live = [r for state in HOLDING_STATES for r in self._store.in_state(state)]
        withdrawn = self._revoke_unpublished(live, correlation, failures)
        counts["unpublished"] = len(withdrawn)
        counts.update(
            self._reviews(
                [r for r in live if r.request_id not in withdrawn], now, correlation, failures
            )
        )
        counts["ownership_granted"] = self._ensure_all_ownership(correlation)
        self._auditor.record(
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

    def _reshare_unaccepted(
        self, now: datetime, correlation: str, failures: list[str]
    ) -> tuple[int, int]:
        """GRANTED but never linked after the invitation's 12 hours: RAM disassociated the
        consumer ("the originating account must share the resources again to generate a new
        invitation", https://docs.aws.amazon.com/ram/latest/userguide/working-with-shared-invitations.html).
        Revoke and grant again (a new share and invitation) and tell the consumer again, at
        most ``MAX_RESHARES`` times; then the request FAILED and its grants are withdrawn."""
        reshared = failed = 0
        due = (now - INVITATION_LIFETIME).isoformat(timespec="seconds")
        for record in self._store.in_state(S.GRANTED):
            if record.updated_at > due:
                continue
            try:
                if record.reshares >= MAX_RESHARES:
                    self.withdraw(
                        record,
                        S.FAILED,
                        f"the consumer accepted none of {record.reshares + 1} shares",
                        correlation,
                    )
                    failed += 1
                    continue
                others = self._others(record)
                again = still_unneeded(
                    record.central_grants, [g for r in others for g in r.central_grants]
                )
                if again:
                    self._catalog.revoke(again)
                    self._catalog.grant(again)
                self._auditor.record(
                    "lakeformation:BatchGrantPermissions",
                    AuditOutcome.SUCCEEDED,
                    record.consumer_account,
                    record.request_id,
                    f"shared again ({len(again)} grants revoked and granted): not linked "
                    f"{INVITATION_LIFETIME} after the grant, the invitation expired",
                    entries=again,
                )
                record = self._store.save(
                    record,
                    replace(
                        record,
                        reshares=record.reshares + 1,
                        updated_at=now.isoformat(timespec="seconds"),
                    ),
                )
                self._send_granted(record)
                reshared += 1
            except (RequestConflictError, TransitionInvalidError):
                continue
            except AccessActionError as exc:
                failures.append(f"{record.request_id}: {exc}")
        return reshared, failed

    def _revoke_unpublished(
        self, live: list[RequestRecord], correlation: str, failures: list[str]
    ) -> set[str]:
        """Withdraw each live request whose tables are no longer published; their ids."""
        present: dict[str, set[str] | None] = {}
        revoked: set[str] = set()
        for record in live:
            gone = []
            for cover in record.coverage:
                if cover.database not in present:
                    database = self._catalog.database(cover.database)
                    present[cover.database] = (
                        {str(t["Name"]) for t in self._catalog.tables(cover.database)}
                        if database
                        else None
                    )
                tables = present[cover.database]
                if tables is None or any(t not in tables for t in cover.tables):
                    gone.append(cover.database)
            if gone:
                try:
                    self.withdraw(record, S.REVOKED, f"unpublished: {', '.join(gone)}", correlation)
                    revoked.add(record.request_id)
                except (RequestConflictError, TransitionInvalidError):
                    continue
                except AccessActionError as exc:
                    failures.append(f"{record.request_id}: {exc}")
        return revoked
