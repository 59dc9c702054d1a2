"""Access reviews and unused access (issue 14), through the local mesh: the access sweep asks the
owning producer to review a live grant, the producer keeps or revokes it, an unanswered review
follows the policy, an unused grant is warned about then revoked; bad answers change nothing."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from moto import mock_aws

from meshgov.access.states import RequestState
from meshgov.audit import AuditOutcome
from meshgov.contracts.access_events import (
    ACCESS_REVIEW_ESCALATED,
    ACCESS_REVIEW_REQUESTED,
    ACCESS_REVIEWED,
    ACCESS_REVOKED,
    ACCESS_SOURCE,
    ACCESS_UNUSED,
)
from meshgov.usage.model import UsageEvent
from meshgov_local.emulator import controls
from meshgov_local.mesh import LocalMesh
from tests.integration.access_helpers import (
    CONSUMER,
    SALES,
    Inbox,
    analyst_arn,
    audit,
    central_grants,
    create_role,
    decide,
    links,
    local_grants,
    publish_sales,
    record,
    request,
    request_id,
    transitions,
)
from tests.meshes import MESHES

DAY = 86_400
REVIEWS = {"ReviewEveryDays": "30", "ReviewDeadlineDays": "7"}
UNUSED = {"RevokeUnusedDays": "20", "UnusedWarningDays": "5"}
_events = itertools.count()
KEPT_FROM, KEPT_TO = ("ACTIVE", "UNDER_REVIEW"), ("UNDER_REVIEW", "ACTIVE")


@contextmanager
def mesh_with(**parameters: str) -> Iterator[LocalMesh]:
    """A fresh local mesh whose central stack has these approval policy parameters."""
    controls.reset()
    try:
        with mock_aws():
            yield MESHES.mesh(parameter_overrides=parameters)
    finally:
        controls.reset()


def active(mesh: LocalMesh, token: str = "req-1", table: str = "t0", role: str = "analyst") -> str:  # noqa: S107
    """A request of ``role`` for ``table``, approved by the producer, ACTIVE."""
    create_role(mesh, CONSUMER, role)
    request(
        mesh,
        token=token,
        tables=[table],
        principal=analyst_arn(CONSUMER, role),
        duration_days=90,  # the policy's maximum: reviews come before the expiry
    )
    mesh.settle()
    rid = request_id(mesh, token)
    decide(mesh, rid)
    mesh.settle()
    assert state(mesh, rid) is RequestState.ACTIVE
    return rid


def state(mesh: LocalMesh, rid: str) -> RequestState:
    found = record(mesh, rid)
    assert found is not None
    return found.state


def review(mesh: LocalMesh, rid: str, decision: str = "KEEP", sender: str = SALES) -> str:
    """The producer's answer, put on its default bus as ``meshgov review`` does."""
    detail = {"requestId": rid, "decision": decision, "reason": "still needed by finance"}
    event_id = mesh.put_event(sender, ACCESS_SOURCE, ACCESS_REVIEWED, detail)
    mesh.settle()
    return event_id


def days_pass(mesh: LocalMesh, days: float) -> None:
    controls.advance_time(days * DAY)
    mesh.access_sweep()


def used(mesh: LocalMesh, role: str, table: str) -> None:
    """``role`` reads ``table`` now (emulated clock), as the usage function records it."""
    mesh.usage_store().record(
        [
            UsageEvent(
                event_id=f"evt-{next(_events)}",
                table=f"sales_orders.{table}",
                principal=analyst_arn(CONSUMER, role),
                consumer_account=CONSUMER,
                at=controls.now(),
                engine="ATHENA",
            )
        ]
    )


def refusals(mesh: LocalMesh, code: str) -> list[Any]:
    return [
        e
        for e in audit(mesh, outcome=AuditOutcome.REFUSED.value)
        if e.detail.get("error_code") == code
    ]


# --- a review answered ---------------------------------------------------------------------------


def test_a_review_is_asked_after_n_days_and_kept_by_the_producer() -> None:
    with mesh_with(**REVIEWS) as mesh:
        # Given an ACTIVE request, and the producer listening on its meshgov bus
        publish_sales(mesh, tables=1)
        rid = active(mesh)
        producer = Inbox(mesh, SALES)
        granted = central_grants(mesh)
        # When 29 days pass, nothing is due; after 31 the sweep asks the producer
        days_pass(mesh, 29)
        assert state(mesh, rid) is RequestState.ACTIVE
        assert producer.details(ACCESS_REVIEW_REQUESTED) == []
        days_pass(mesh, 2)
        # Then the request is under review, the producer asked with what it covers and a deadline
        under = record(mesh, rid)
        assert under is not None and under.state is RequestState.UNDER_REVIEW
        (asked,) = producer.details(ACCESS_REVIEW_REQUESTED)
        assert asked["requestId"] == rid
        assert asked["tables"] == ["sales_orders.t0"]
        assert asked["principal"] == analyst_arn(CONSUMER)
        assert asked["lastUsed"] is None
        assert asked["deadline"] == under.review_deadline
        # And it keeps its access meanwhile, explained by the request
        answer = mesh.can_access(analyst_arn(CONSUMER), "sales_orders", "t0")
        assert answer.allowed and answer.requests == [rid]
        assert central_grants(mesh) == granted
        # When the producer keeps it
        review(mesh, rid, "KEEP")
        # Then it is ACTIVE again, its history kept, every step audited, its grants untouched
        kept = record(mesh, rid)
        assert kept is not None and kept.state is RequestState.ACTIVE
        assert [h["to"] for h in kept.history][-3:] == ["ACTIVE", "UNDER_REVIEW", "ACTIVE"]
        assert transitions(mesh, rid)[-2:] == [KEPT_FROM, KEPT_TO]
        assert kept.last_review is not None and kept.last_review["decision"] == "KEEP"
        assert kept.last_review["by"] == f"producer:{SALES}"
        assert central_grants(mesh) == granted
        assert mesh.can_access(analyst_arn(CONSUMER), "sales_orders", "t0").allowed
        # And the next review is due 30 days after this one started, not before
        days_pass(mesh, 29)
        assert state(mesh, rid) is RequestState.ACTIVE
        days_pass(mesh, 2)
        assert state(mesh, rid) is RequestState.UNDER_REVIEW


def test_a_review_answered_revoke_takes_the_access_away() -> None:
    with mesh_with(**REVIEWS) as mesh:
        # Given a request under review
        publish_sales(mesh, tables=1)
        rid = active(mesh)
        consumer = Inbox(mesh, CONSUMER)
        days_pass(mesh, 31)
        assert state(mesh, rid) is RequestState.UNDER_REVIEW
        # When the producer answers REVOKE
        review(mesh, rid, "REVOKE")
        # Then the request is REVOKED, central grants nothing, the consumer's link and grants are
        # gone and the consumer was told why
        final = record(mesh, rid)
        assert final is not None and final.state is RequestState.REVOKED
        assert final.last_review is not None and final.last_review["decision"] == "REVOKE"
        assert central_grants(mesh) == {}
        assert local_grants(mesh, analyst_arn(CONSUMER)) == {}
        assert "sales_orders" not in links(mesh)
        (revoked,) = consumer.details(ACCESS_REVOKED)
        assert revoked["requestId"] == rid and "review: revoked by producer" in revoked["reason"]
        assert not mesh.can_access(analyst_arn(CONSUMER), "sales_orders", "t0").allowed


# --- a review unanswered --------------------------------------------------------------------------


def test_an_unanswered_review_is_revoked_past_its_deadline_by_default() -> None:
    with mesh_with(**REVIEWS) as mesh:
        # Given a request under review the producer never answers
        publish_sales(mesh, tables=1)
        rid = active(mesh)
        days_pass(mesh, 31)
        # When 6 days pass it is still under review; after 8 (deadline 7) the policy revokes it
        days_pass(mesh, 6)
        assert state(mesh, rid) is RequestState.UNDER_REVIEW
        days_pass(mesh, 2)
        final = record(mesh, rid)
        assert final is not None and final.state is RequestState.REVOKED
        assert "review unanswered" in final.reason and "revoked by policy" in final.reason
        assert final.last_review is not None and final.last_review["by"] == "meshgov:review-policy"
        assert central_grants(mesh) == {}
        assert "sales_orders" not in links(mesh)
        # And a late answer is refused: nothing to review any more
        review(mesh, rid, "KEEP")
        assert state(mesh, rid) is RequestState.REVOKED
        assert [e.target for e in refusals(mesh, "ReviewOutOfOrder")] == [rid]


def test_an_unanswered_review_kept_by_policy_is_escalated() -> None:
    with mesh_with(**REVIEWS, UnansweredReviewAction="keep") as mesh:
        # Given a request under review the producer never answers, the platform team listening
        # on central's bus
        publish_sales(mesh, tables=1)
        rid = active(mesh)
        platform = Inbox(mesh, mesh.central)
        granted = central_grants(mesh)
        days_pass(mesh, 31)
        # When its deadline passes
        days_pass(mesh, 8)
        # Then it is kept (ACTIVE, grants untouched), escalated on central's bus and audited
        final = record(mesh, rid)
        assert final is not None and final.state is RequestState.ACTIVE
        assert final.last_review is not None and final.last_review["decision"] == "KEEP"
        assert central_grants(mesh) == granted
        (escalated,) = platform.details(ACCESS_REVIEW_ESCALATED)
        assert escalated["requestId"] == rid and escalated["ownerAccount"] == SALES
        (record_,) = audit(mesh, "access:review-escalated")
        assert record_.target == rid
        assert transitions(mesh, rid)[-2:] == [KEPT_FROM, KEPT_TO]


# --- unused access --------------------------------------------------------------------------------


def test_an_unused_grant_is_warned_about_then_revoked_and_a_used_one_is_not() -> None:
    with mesh_with(**UNUSED) as mesh:
        # Given two ACTIVE requests: the analyst's on t0 (never used), the reporter's on t1
        publish_sales(mesh, tables=2)
        idle = active(mesh, "req-1", "t0", "analyst")
        busy = active(mesh, "req-2", "t1", "reporter")
        consumer = Inbox(mesh, CONSUMER)
        # When 21 days pass, the reporter reading t1 the day before
        controls.advance_time(20 * DAY)
        used(mesh, "reporter", "t1")
        days_pass(mesh, 1)
        # Then the consumer is warned about the idle grant only, once
        (warning,) = consumer.details(ACCESS_UNUSED)
        assert warning["requestId"] == idle and warning["tables"] == ["sales_orders.t0"]
        warned = record(mesh, idle)
        assert warned is not None and warned.state is RequestState.ACTIVE
        assert warned.unused_warned_at is not None
        mesh.access_sweep()
        assert len(consumer.details(ACCESS_UNUSED)) == 1
        # When 4 more days pass it is still there; after the 5 days of the warning it is revoked
        days_pass(mesh, 4)
        assert state(mesh, idle) is RequestState.ACTIVE
        days_pass(mesh, 1.5)
        final = record(mesh, idle)
        assert final is not None and final.state is RequestState.REVOKED
        assert final.reason.startswith("unused") and final.decided_by == "meshgov:unused-policy"
        assert local_grants(mesh, analyst_arn(CONSUMER, "analyst")) == {}
        assert not mesh.can_access(analyst_arn(CONSUMER), "sales_orders", "t0").allowed
        # And the used grant is untouched
        assert state(mesh, busy) is RequestState.ACTIVE
        assert mesh.can_access(analyst_arn(CONSUMER, "reporter"), "sales_orders", "t1").allowed


def test_a_warned_grant_used_again_is_kept() -> None:
    with mesh_with(**UNUSED) as mesh:
        # Given a grant warned about as unused
        publish_sales(mesh, tables=1)
        rid = active(mesh)
        days_pass(mesh, 21)
        warned = record(mesh, rid)
        assert warned is not None and warned.unused_warned_at is not None
        # When its principal reads the table before the revocation
        controls.advance_time(2 * DAY)
        used(mesh, "analyst", "t0")
        days_pass(mesh, 4)
        # Then the warning is withdrawn and the grant kept past the warning's end
        kept = record(mesh, rid)
        assert kept is not None and kept.state is RequestState.ACTIVE
        assert kept.unused_warned_at is None
        assert any("used again" in e.reason for e in audit(mesh, "access:unused"))


# --- bad answers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sender", "detail", "code"),
    [
        ("consumer", {"decision": "KEEP"}, "ReviewerNotOwner"),
        ("producer", {"decision": "MAYBE"}, "ReviewMalformed"),
        ("producer", {"decision": "KEEP", "reason": ""}, "ReviewMalformed"),
        ("producer", {"decision": "KEEP", "extra": 1}, "ReviewMalformed"),
        ("producer", {"decision": "KEEP", "requestId": "req-nope"}, "RequestUnknown"),
        ("producer", {"decision": "KEEP", "requestId": "other"}, "ReviewOutOfOrder"),
    ],
)
def test_a_bad_review_is_refused_audited_and_changes_nothing(
    sender: str, detail: dict[str, Any], code: str
) -> None:
    with mesh_with(**REVIEWS) as mesh:
        # Given a request under review, and another one ACTIVE (not under review)
        publish_sales(mesh, tables=2)
        rid = active(mesh, "req-1", "t0")
        days_pass(mesh, 31)
        other = active(mesh, "req-2", "t1", "reporter")
        before = {r.request_id: r for r in mesh.requests()}
        granted = central_grants(mesh)
        assert before[rid].state is RequestState.UNDER_REVIEW
        # When a bad Access Reviewed arrives
        target = {"other": other}.get(str(detail.get("requestId")), detail.get("requestId", rid))
        body = {"reason": "because", **detail, "requestId": target}
        account = CONSUMER if sender == "consumer" else SALES
        mesh.put_event(account, ACCESS_SOURCE, ACCESS_REVIEWED, body)
        mesh.settle()
        # Then it is refused with its code, audited, and no request or grant changed
        (refused,) = refusals(mesh, code)
        assert refused.detail["sender"] == account
        after = {r.request_id: r for r in mesh.requests()}
        assert after == before
        assert central_grants(mesh) == granted
