"""Unpublished data is no longer shared: the sweep withdraws (to REVOKED) each live request
whose central database or tables are gone (the catalog sweep removed them when their producer
unpublished them)."""

from __future__ import annotations

from meshgov.access.core import AccessContext, S, guarded
from meshgov.access.store import RequestRecord
from meshgov.access.withdrawal import Withdrawal


class Unpublished:
    def __init__(self, ctx: AccessContext, withdrawal: Withdrawal) -> None:
        self._ctx = ctx
        self._withdrawal = withdrawal

    def run(self, live: list[RequestRecord], correlation: str, failures: list[str]) -> set[str]:
        """Withdraw each live request whose tables are no longer published; their ids. Each
        central database is read once per sweep."""
        catalog = self._ctx.catalog
        present: dict[str, set[str] | None] = {}
        revoked: set[str] = set()
        for record in live:
            gone = []
            for cover in record.coverage:
                if cover.database not in present:
                    database = catalog.database(cover.database)
                    present[cover.database] = (
                        {str(t["Name"]) for t in catalog.tables(cover.database)}
                        if database
                        else None
                    )
                tables = present[cover.database]
                if tables is None or any(t not in tables for t in cover.tables):
                    gone.append(cover.database)
            if gone and guarded(record, failures, self._revoke, gone, correlation):
                revoked.add(record.request_id)
        return revoked

    def _revoke(self, record: RequestRecord, gone: list[str], correlation: str) -> RequestRecord:
        reason = f"unpublished: {', '.join(gone)}"
        return self._withdrawal.withdraw(record, S.REVOKED, reason, correlation)
