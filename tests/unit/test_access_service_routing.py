"""The central access service routes each event to the collaborator that handles it (one
dispatch table), and a type it does not handle is malformed — checked without AWS: every
refusal here is decided before the requests table is read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from meshgov.access.central_adapter import CentralAccessCatalog
from meshgov.access.core import AccessContext
from meshgov.access.envelope import Envelope
from meshgov.access.policy import ApprovalPolicy
from meshgov.access.service import AccessService
from meshgov.audit import AuditOutcome, MemoryAuditTrail
from meshgov.errors import EventMalformedError

CENTRAL, PRODUCER = "111111111111", "222222222222"


class UntouchableStore:
    """A requests table that must not be read or written."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the requests table was used ({name})")


def service(trail: MemoryAuditTrail) -> AccessService:
    return AccessService(
        AccessContext.create(
            catalog=CentralAccessCatalog(None, None, CENTRAL),
            store=UntouchableStore(),  # type: ignore[arg-type]
            events=None,  # type: ignore[arg-type]
            audit=trail,
            policy=ApprovalPolicy(),
            producers={PRODUCER: "sales"},
            actor="meshgov:test",
            clock=lambda: datetime(2025, 1, 1, tzinfo=UTC),
        )
    )


def envelope(source: str, detail_type: str, detail: dict[str, Any]) -> Envelope:
    return Envelope("evt-1", source, detail_type, PRODUCER, detail)


def test_a_type_the_function_does_not_handle_is_malformed_and_changes_nothing() -> None:
    trail = MemoryAuditTrail()
    with pytest.raises(EventMalformedError, match=r"does not handle meshgov\.access / Whatever"):
        service(trail).handle(envelope("meshgov.access", "Whatever", {}))
    assert trail.records == []


@pytest.mark.parametrize(
    ("source", "detail_type", "code"),
    [
        ("meshgov.access", "Access Decided", "DecisionMalformed"),
        ("meshgov.access", "Access Revoke Requested", "RevocationMalformed"),
        ("meshgov.access", "Access Reviewed", "ReviewMalformed"),
        ("meshgov.access", "Member Actions Recorded", "MemberReportMalformed"),
        # catalog events come only from central: a producer's is refused before it is read
        ("meshgov.catalog", "Breaking Schema Change", "CatalogEventForeign"),
        ("meshgov.catalog", "Database Published", "CatalogEventForeign"),
    ],
)
def test_each_event_reaches_its_collaborator_which_refuses_a_bad_one(
    source: str, detail_type: str, code: str
) -> None:
    trail = MemoryAuditTrail()
    outcome = service(trail).handle(envelope(source, detail_type, {"unexpected": True}))
    assert outcome.refused == code
    (record,) = trail.records
    assert record.entry.outcome is AuditOutcome.REFUSED
    assert record.entry.action == f"access:{detail_type.lower().replace(' ', '-')}"
    assert record.entry.detail["error_code"] == code
    assert record.entry.detail["sender"] == PRODUCER
