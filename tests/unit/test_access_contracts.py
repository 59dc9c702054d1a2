"""Access contracts and the request state machine (issue 4 foundation)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from meshgov.access.states import (
    HOLDS_GRANTS,
    TERMINAL,
    TRANSITIONS,
    RequestState,
    TransitionInvalidError,
    transition,
)
from meshgov.contracts.access_events import AccessDecidedDetail, AccessRequestedDetail, Permission

CONSUMER = "333333333333"


def request(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "clientToken": "req-1",
        "consumerAccount": CONSUMER,
        "principal": f"arn:aws:iam::{CONSUMER}:role/analyst",
        "resource": {"database": "sales_sales", "tables": ["orders"]},
        "permissions": ["SELECT", "DESCRIBE"],
        "justification": "quarterly revenue report",
        "durationDays": 30,
    }
    base.update(overrides)
    return base


def test_a_named_request_is_accepted() -> None:
    parsed = AccessRequestedDetail.model_validate(request())
    assert parsed.permissions == [Permission.SELECT, Permission.DESCRIBE]
    assert parsed.resource is not None and parsed.resource.tables == ["orders"]


def test_a_tag_expression_request_is_accepted() -> None:
    parsed = AccessRequestedDetail.model_validate(
        request(
            resource=None, tagExpression={"conditions": [{"key": "domain", "values": ["sales"]}]}
        )
    )
    assert parsed.tag_expression is not None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"permissions": ["DROP"]}, "permissions"),
        ({"permissions": ["ALTER"]}, "permissions"),
        ({"permissions": ["SELECT", "SELECT"]}, "repeat"),
        ({"principal": "arn:aws:iam::999999999999:role/x"}, "not in the consumer account"),
        ({"durationDays": 0}, "durationDays"),
        ({"resource": None}, "exactly one"),
        ({"tagExpression": {"conditions": [{"key": "k", "values": ["v"]}]}}, "exactly one"),
        ({"resource": {"database": "d", "tables": ["a", "b"], "columns": ["c"]}}, "one table"),
        ({"resource": {"database": "bad\nname"}}, "Glue name"),
        ({"unknown": "field"}, "unknown"),
        ({"clientToken": "no spaces allowed"}, "clientToken"),
    ],
)
def test_bad_requests_are_refused_with_a_clear_error(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        AccessRequestedDetail.model_validate(request(**overrides))


def test_a_decision_needs_a_known_verdict() -> None:
    with pytest.raises(ValidationError):
        AccessDecidedDetail.model_validate({"requestId": "r", "decision": "MAYBE", "reason": "x"})


def test_the_happy_path_and_its_ends() -> None:
    state = RequestState.REQUESTED
    for target in ("PENDING_APPROVAL", "APPROVED", "GRANTED", "ACTIVE", "EXPIRED"):
        state = transition(state, RequestState(target))
    assert state in TERMINAL


@pytest.mark.parametrize("terminal", sorted(TERMINAL))
def test_nothing_leaves_a_terminal_state(terminal: RequestState) -> None:
    for target in RequestState:
        with pytest.raises(TransitionInvalidError):
            transition(terminal, target)


def test_a_replayed_approval_after_denial_changes_nothing() -> None:
    with pytest.raises(TransitionInvalidError, match="DENIED to APPROVED"):
        transition(RequestState.DENIED, RequestState.APPROVED)
    assert set(TRANSITIONS) >= HOLDS_GRANTS


def test_the_sample_access_events_match_their_contracts() -> None:
    import json
    from pathlib import Path

    events = Path(__file__).resolve().parents[2] / "events" / "access"
    for path in sorted(events.glob("access-requested*.json")):
        AccessRequestedDetail.model_validate(json.loads(path.read_text())["detail"])
    AccessDecidedDetail.model_validate(
        json.loads((events / "access-decided.json").read_text())["detail"]
    )
