"""``Contract Breached`` (from the catalog function, on the central bus) told to every consumer
account holding grants on the table: one event per account, naming its requests
(``requestIds``), with the contract and the breaches. The consumers are found exactly as for a
breaking schema change (:mod:`meshgov.access.catalog_news`): requests in a holding state whose
coverage includes the table; the producer's own ownership grant is not a consumer's.

``Freshness SLA Breached`` (from the catalog sweep's freshness check) reaches the same consumers
the same way (:meth:`ContractBreaches.freshness_breached`)."""

from __future__ import annotations

from meshgov.access.catalog_news import catalog_detail
from meshgov.access.core import OWNERSHIP, AccessContext, Outcome
from meshgov.access.envelope import Envelope
from meshgov.access.states import HOLDING_STATES
from meshgov.access.store import RequestRecord
from meshgov.access.transitions import Transitions
from meshgov.contracts.data_contract_events import (
    CONTRACT_BREACHED,
    FRESHNESS_SLA_BREACHED,
    ContractBreachedDetail,
    FreshnessSlaBreachedDetail,
)


class ContractBreaches:
    def __init__(self, ctx: AccessContext, transitions: Transitions) -> None:
        self._ctx = ctx
        self._transitions = transitions

    def breached(self, envelope: Envelope) -> Outcome:
        detail = catalog_detail(self._ctx, self._transitions, envelope, ContractBreachedDetail)
        if isinstance(detail, Outcome):
            return detail
        return self._tell_holders(CONTRACT_BREACHED, detail)

    def freshness_breached(self, envelope: Envelope) -> Outcome:
        detail = catalog_detail(self._ctx, self._transitions, envelope, FreshnessSlaBreachedDetail)
        if isinstance(detail, Outcome):
            return detail
        return self._tell_holders(FRESHNESS_SLA_BREACHED, detail)

    def _tell_holders(
        self, detail_type: str, detail: ContractBreachedDetail | FreshnessSlaBreachedDetail
    ) -> Outcome:
        """One ``detail_type`` event per consumer account holding grants on the table."""
        holders: dict[str, list[RequestRecord]] = {}
        for state in HOLDING_STATES:
            for record in self._ctx.store.in_state(state):
                if record.kind != OWNERSHIP and any(
                    c.database == detail.central_database and (c.whole or detail.table in c.tables)
                    for c in record.coverage
                ):
                    holders.setdefault(record.consumer_account, []).append(record)
        for account, records in sorted(holders.items()):
            ids = sorted({r.request_id for r in records})
            told = detail.model_copy(update={"request_ids": ids}).model_dump(by_alias=True)
            # One event per account; its audit record's correlation is the first request's.
            self._transitions.send(account, detail_type, told, records[0])
        return Outcome(events_sent=[detail_type] * len(holders))
