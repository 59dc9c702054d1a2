"""The life of an access request, as an explicit state machine.

requested -> pending approval -> approved -> granted -> active -> expired | revoked;
requested/pending approval -> denied; any working state -> failed. A live grant is reviewed
(issue 14): active -> under review -> active (kept) | revoked (by the producer, or by the policy
past the deadline) | expired; under review it keeps its grants. Every transition is audited
by the caller; an impossible one is refused here, so a replayed or out-of-order decision can
change nothing.
"""

from __future__ import annotations

from enum import StrEnum

from meshgov.errors import MeshgovError


class RequestState(StrEnum):
    REQUESTED = "REQUESTED"
    PENDING_APPROVAL = "PENDING_APPROVAL"
    APPROVED = "APPROVED"
    GRANTED = "GRANTED"
    ACTIVE = "ACTIVE"
    UNDER_REVIEW = "UNDER_REVIEW"
    EXPIRED = "EXPIRED"
    REVOKED = "REVOKED"
    DENIED = "DENIED"
    FAILED = "FAILED"


S = RequestState
TRANSITIONS: dict[RequestState, frozenset[RequestState]] = {
    S.REQUESTED: frozenset({S.PENDING_APPROVAL, S.APPROVED, S.DENIED, S.FAILED}),
    S.PENDING_APPROVAL: frozenset({S.APPROVED, S.DENIED, S.FAILED}),
    S.APPROVED: frozenset({S.GRANTED, S.FAILED, S.REVOKED}),
    S.GRANTED: frozenset({S.ACTIVE, S.EXPIRED, S.REVOKED, S.FAILED}),
    S.ACTIVE: frozenset({S.EXPIRED, S.REVOKED, S.UNDER_REVIEW}),
    S.UNDER_REVIEW: frozenset({S.ACTIVE, S.EXPIRED, S.REVOKED}),
    S.EXPIRED: frozenset(),
    S.REVOKED: frozenset(),
    S.DENIED: frozenset(),
    S.FAILED: frozenset(),
}
TERMINAL = frozenset(state for state, targets in TRANSITIONS.items() if not targets)
# States in which Lake Formation grants exist (or may) and must be explained by this request
# (a request under review keeps its access until the review ends).
HOLDS_GRANTS = frozenset({S.GRANTED, S.ACTIVE, S.UNDER_REVIEW})
# The same, in the order the sweeps walk them (a frozenset has none).
HOLDING_STATES = (S.GRANTED, S.ACTIVE, S.UNDER_REVIEW)


class TransitionInvalidError(MeshgovError):
    """A request cannot move from its current state to the one asked for."""


def transition(current: RequestState, target: RequestState) -> RequestState:
    if target not in TRANSITIONS[current]:
        raise TransitionInvalidError(f"an access request cannot go from {current} to {target}")
    return target
