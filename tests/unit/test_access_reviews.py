"""The review and unused-grant rules (pure, meshgov.access.reviews) and their settings."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from meshgov.access.policy import ApprovalPolicy, UnansweredReview
from meshgov.access.reviews import (
    ReviewStatus,
    last_use_of,
    may_be_unused,
    review_due_at,
    review_status,
    text,
    unused_verdict,
)
from meshgov.access.states import (
    HOLDS_GRANTS,
    RequestState,
    TransitionInvalidError,
    transition,
)
from meshgov.access.store import Coverage, RequestRecord
from meshgov.errors import SettingsInvalidError
from meshgov.settings import AccessSettings

S = RequestState
GRANTED = datetime(2027, 1, 1, 9, tzinfo=UTC)
POLICY = ApprovalPolicy(
    review_every_days=30, review_deadline_days=7, revoke_unused_days=20, unused_warning_days=5
)


def active(**changes: object) -> RequestRecord:
    at = text(GRANTED)
    record = RequestRecord(
        request_id="req-1",
        kind="consumer",
        client_token="t",
        fingerprint="f",
        consumer_account="333333333333",
        principal="arn:aws:iam::333333333333:role/analyst",
        owner_account="222222222222",
        domain="sales",
        permissions=("SELECT",),
        resource=None,
        tag_expression=None,
        justification="dashboard",
        duration_days=90,
        state=S.ACTIVE,
        created_at=text(GRANTED - timedelta(hours=1)),
        updated_at=at,
        coverage=(Coverage("sales_orders", ("t0",)), Coverage("sales_hr", whole=True)),
        history=({"to": "GRANTED", "at": at}, {"to": "ACTIVE", "at": at}),
    )
    return replace(record, **changes)  # type: ignore[arg-type]


def days(n: float) -> datetime:
    return GRANTED + timedelta(days=n)


def test_under_review_holds_grants_and_moves_only_to_its_ends() -> None:
    assert S.UNDER_REVIEW in HOLDS_GRANTS
    assert transition(S.ACTIVE, S.UNDER_REVIEW) is S.UNDER_REVIEW
    for end in (S.ACTIVE, S.REVOKED, S.EXPIRED):
        assert transition(S.UNDER_REVIEW, end) is end
    for never in (S.GRANTED, S.DENIED, S.UNDER_REVIEW):
        with pytest.raises(TransitionInvalidError):
            transition(S.UNDER_REVIEW, never)
    with pytest.raises(TransitionInvalidError):
        transition(S.GRANTED, S.UNDER_REVIEW)  # only a linked (ACTIVE) grant is reviewed


def test_a_review_is_due_n_days_after_the_grant_then_after_each_review_start() -> None:
    assert review_due_at(active(), POLICY) == days(30)
    started = active(review_requested_at=text(days(31)))
    assert review_due_at(started, POLICY) == days(61)
    assert review_due_at(active(), replace(POLICY, review_every_days=0)) is None


def test_last_use_counts_only_covered_tables() -> None:
    used = {
        "sales_orders.t0": "2027-01-05T10:00:00+00:00",
        "sales_orders.t1": "2027-01-09T10:00:00+00:00",  # not covered
        "sales_hr.people": "2027-01-06T10:00:00+00:00",  # a whole database is covered
    }
    assert last_use_of(active(), used) == datetime(2027, 1, 6, 10, tzinfo=UTC)
    assert last_use_of(active(), {"sales_orders.t1": "2027-01-09T10:00:00+00:00"}) is None


def test_unused_warns_after_m_days_then_revokes_after_the_warning() -> None:
    record = active()
    # never used: warned 20 days after the grant, not before
    assert not unused_verdict(record, None, days(19.9), POLICY).warn
    assert unused_verdict(record, None, days(20), POLICY).warn
    # used on day 10: warned on day 30
    assert not unused_verdict(record, days(10), days(29), POLICY).warn
    assert unused_verdict(record, days(10), days(30), POLICY).warn
    # warned on day 20: revoked 5 days later unless used after the warning
    warned = active(unused_warned_at=text(days(20)))
    assert not unused_verdict(warned, None, days(24), POLICY).revoke
    assert unused_verdict(warned, None, days(25), POLICY).revoke
    assert unused_verdict(warned, days(19), days(25), POLICY).revoke  # a use before it: no
    again = unused_verdict(warned, days(22), days(25), POLICY)
    assert again.used_again and not again.revoke
    # off
    assert unused_verdict(record, None, days(999), replace(POLICY, revoke_unused_days=0)) == (
        unused_verdict(record, None, days(0), replace(POLICY, revoke_unused_days=0))
    )


def test_usage_is_read_only_for_grants_old_enough_or_warned() -> None:
    assert not may_be_unused(active(), days(19), POLICY)
    assert may_be_unused(active(), days(20), POLICY)
    assert may_be_unused(active(unused_warned_at=text(days(1))), days(2), POLICY)
    assert not may_be_unused(active(), days(999), replace(POLICY, revoke_unused_days=0))


def test_review_status() -> None:
    under = active(state=S.UNDER_REVIEW, review_deadline=text(days(38)))
    assert review_status(under, days(37)) is ReviewStatus.DUE
    assert review_status(under, days(38)) is ReviewStatus.OVERDUE
    decided = active(last_review={"decision": "KEEP", "by": "producer:222222222222"})
    assert review_status(decided, days(40)) is ReviewStatus.DECIDED
    assert review_status(active(), days(40)) is None


BASE = {
    "AWS_REGION": "eu-west-1",
    "CENTRAL_ACCOUNT_ID": "111111111111",
    "AUDIT_TABLE_NAME": "audit",
    "REQUESTS_TABLE_NAME": "requests",
    "REGISTRY_TABLE_NAME": "registry",
}


def test_review_settings_flow_from_the_environment() -> None:
    settings = AccessSettings.from_env(
        {
            **BASE,
            "REVIEW_EVERY_DAYS": "30",
            "REVIEW_DEADLINE_DAYS": "3",
            "UNANSWERED_REVIEW_ACTION": "keep",
            "REVOKE_UNUSED_DAYS": "60",
            "UNUSED_WARNING_DAYS": "10",
            "USAGE_TABLE_NAME": "usage",
        }
    )
    assert (settings.review_every_days, settings.review_deadline_days) == (30, 3)
    assert settings.unanswered_review_action is UnansweredReview.KEEP
    assert (settings.revoke_unused_days, settings.unused_warning_days) == (60, 10)
    defaults = AccessSettings.from_env(BASE)
    assert (defaults.review_every_days, defaults.revoke_unused_days) == (0, 0)
    assert defaults.unanswered_review_action is UnansweredReview.REVOKE


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"UNANSWERED_REVIEW_ACTION": "ignore"}, "ignore"),
        ({"REVIEW_EVERY_DAYS": "-1"}, "review_every_days"),
        ({"REVIEW_DEADLINE_DAYS": "0"}, "review_deadline_days"),
        ({"REVOKE_UNUSED_DAYS": "30"}, "USAGE_TABLE_NAME"),  # no usage: everything looks unused
    ],
)
def test_bad_review_settings_are_refused(extra: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsInvalidError, match=message):
        AccessSettings.from_env({**BASE, **extra})
