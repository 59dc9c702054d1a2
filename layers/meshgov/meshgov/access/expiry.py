"""Time-bound access: the sweep revokes what expired (``withdraw`` to EXPIRED) and warns the
consumer once, ``ExpiryWarningHours`` ahead, of what soon will (``Access Expiring``). Expiry is
judged on the sweep's clock: the time the schedule fired, not a late or retried invocation's."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from meshgov.access.core import AccessContext, S, guarded
from meshgov.access.states import HOLDING_STATES
from meshgov.access.store import RequestRecord
from meshgov.access.transitions import Transitions
from meshgov.access.withdrawal import Withdrawal
from meshgov.contracts.access_events import ACCESS_EXPIRING


class Expiry:
    def __init__(
        self, ctx: AccessContext, transitions: Transitions, withdrawal: Withdrawal
    ) -> None:
        self._ctx = ctx
        self._transitions = transitions
        self._withdrawal = withdrawal

    def run(self, now: datetime, correlation: str, failures: list[str]) -> tuple[int, int]:
        """Expire every request whose time is up, warn each that expires within the warning
        window; (expired, warned). Only requests expiring before the window's end are read
        (the ``by-state`` index's ``expires_at``)."""
        expired = warned = 0
        stamp = now.isoformat(timespec="seconds")
        warn_until = (now + self._ctx.expiry_warning).isoformat(timespec="seconds")
        for state in HOLDING_STATES:
            for record in self._ctx.store.in_state(state, expiring_before=warn_until):
                if record.expires_at and record.expires_at <= stamp:
                    if guarded(record, failures, self._expire, correlation):
                        expired += 1
                elif not record.warned and guarded(record, failures, self._warn):
                    warned += 1
        return expired, warned

    def _expire(self, record: RequestRecord, correlation: str) -> RequestRecord:
        return self._withdrawal.withdraw(record, S.EXPIRED, "expired", correlation)

    def _warn(self, record: RequestRecord) -> RequestRecord:
        self._transitions.send(
            record.consumer_account,
            ACCESS_EXPIRING,
            {
                "requestId": record.request_id,
                "expiresAt": record.expires_at,
                "consumerAccount": record.consumer_account,
            },
            record,
        )
        return self._ctx.store.save(record, replace(record, warned=True))
