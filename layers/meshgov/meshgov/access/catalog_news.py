"""``meshgov.catalog`` events the access function acts on: their detail read (only from the
central account), and a breaking schema change told to every consumer holding a grant on the
table (``Shared Schema Changed``). ``Database Published`` is producer ownership's
(:mod:`meshgov.access.ownership`)."""

from __future__ import annotations

from pydantic import ValidationError

from meshgov.access.core import OWNERSHIP, AccessContext, CatalogDetail, Outcome
from meshgov.access.envelope import Envelope
from meshgov.access.states import HOLDING_STATES
from meshgov.access.transitions import Transitions
from meshgov.contracts.access_events import SHARED_SCHEMA_CHANGED
from meshgov.contracts.glue_events import BreakingSchemaChangeDetail
from meshgov.errors import validation_reason


def catalog_detail(
    ctx: AccessContext, transitions: Transitions, envelope: Envelope, model: type[CatalogDetail]
) -> CatalogDetail | Outcome:
    """The detail of a ``meshgov.catalog`` event, which only the central account emits; a
    refusal (audited) otherwise."""
    if envelope.account != ctx.central:
        return transitions.refuse(
            envelope, "CatalogEventForeign", "catalog events come from the central account"
        )
    try:
        return model.model_validate(envelope.detail)
    except ValidationError as exc:
        return transitions.refuse(envelope, "CatalogEventMalformed", validation_reason(exc))


class SchemaChanges:
    def __init__(self, ctx: AccessContext, transitions: Transitions) -> None:
        self._ctx = ctx
        self._transitions = transitions

    def breaking_change(self, envelope: Envelope) -> Outcome:
        detail = catalog_detail(self._ctx, self._transitions, envelope, BreakingSchemaChangeDetail)
        if isinstance(detail, Outcome):
            return detail
        told = []
        for state in HOLDING_STATES:
            for record in self._ctx.store.in_state(state):
                if record.kind != OWNERSHIP and any(
                    c.database == detail.central_database and (c.whole or detail.table in c.tables)
                    for c in record.coverage
                ):
                    change = detail.change
                    self._transitions.send(
                        record.consumer_account,
                        SHARED_SCHEMA_CHANGED,
                        {
                            "requestId": record.request_id,
                            "database": detail.central_database,
                            "table": detail.table,
                            "removedColumns": _names(change.get("removed_columns")),
                            "changedColumns": _names(change.get("retyped_columns")),
                            **detail.model_dump(
                                by_alias=True, include={"downstream", "downstream_truncated"}
                            ),
                        },
                        record,
                    )
                    told.append(record.request_id)
        return Outcome(events_sent=[SHARED_SCHEMA_CHANGED] * len(told))


def _names(value: object) -> list[str]:
    """Column names from a change summary (retyped columns are ``[name, before, after]``)."""
    if not isinstance(value, list):
        return []
    return [str(v[0]) if isinstance(v, list) and v else str(v) for v in value]
