"""Sharing again what was never accepted: a GRANTED request not linked 12 hours after its grant
lost its RAM invitation ("the originating account must share the resources again to generate a
new invitation",
https://docs.aws.amazon.com/ram/latest/userguide/working-with-shared-invitations.html). Its
grants are revoked and made again (a new share and invitation) and the consumer told again, at
most ``MAX_RESHARES`` times; then the request FAILED and its grants are withdrawn."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from meshgov.access.core import INVITATION_LIFETIME, MAX_RESHARES, AccessContext, S, guarded
from meshgov.access.granting import Granting
from meshgov.access.grants import still_unneeded
from meshgov.access.store import RequestRecord
from meshgov.access.withdrawal import Withdrawal
from meshgov.audit import AuditOutcome


class Reshares:
    def __init__(self, ctx: AccessContext, granting: Granting, withdrawal: Withdrawal) -> None:
        self._ctx = ctx
        self._granting = granting
        self._withdrawal = withdrawal

    def run(self, now: datetime, correlation: str, failures: list[str]) -> tuple[int, int]:
        """(shared again, failed) of the GRANTED requests whose invitation expired."""
        reshared = failed = 0
        due = (now - INVITATION_LIFETIME).isoformat(timespec="seconds")
        for record in self._ctx.store.in_state(S.GRANTED):
            if record.updated_at > due:
                continue
            if record.reshares >= MAX_RESHARES:
                if guarded(record, failures, self._give_up, correlation):
                    failed += 1
            elif guarded(record, failures, self._share_again, now):
                reshared += 1
        return reshared, failed

    def _give_up(self, record: RequestRecord, correlation: str) -> RequestRecord:
        return self._withdrawal.withdraw(
            record,
            S.FAILED,
            f"the consumer accepted none of {record.reshares + 1} shares",
            correlation,
        )

    def _share_again(self, record: RequestRecord, now: datetime) -> RequestRecord:
        ctx = self._ctx
        others = self._withdrawal.others(record)
        again = still_unneeded(record.central_grants, [g for r in others for g in r.central_grants])
        if again:
            ctx.catalog.revoke(again)
            ctx.catalog.grant(again)
        ctx.auditor.record(
            "lakeformation:BatchGrantPermissions",
            AuditOutcome.SUCCEEDED,
            record.consumer_account,
            record.request_id,
            f"shared again ({len(again)} grants revoked and granted): not linked "
            f"{INVITATION_LIFETIME} after the grant, the invitation expired",
            entries=again,
        )
        record = ctx.store.save(
            record,
            replace(
                record,
                reshares=record.reshares + 1,
                updated_at=now.isoformat(timespec="seconds"),
            ),
        )
        self._granting.send_granted(record)
        return record
