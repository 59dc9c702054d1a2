"""The budget's arithmetic (meshgov.aws.pacing): an account's calls a second at worst, across
invocations, from a function's maximum concurrency and one invocation's rate."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from meshgov.aws.pacing import concurrency_within, sequential_rate, worst_case_calls_per_second
from meshgov.aws.session import PACED_SERVICES, AwsSessions, new_session


def test_one_sequential_invocation_sends_one_call_per_latency() -> None:
    # Given calls answered in 50 ms, one after another / Then 20 calls a second at most
    assert sequential_rate(0.05) == pytest.approx(20.0)
    assert sequential_rate(0.2) == pytest.approx(5.0)


def test_the_account_bound_is_concurrency_times_one_invocations_rate() -> None:
    # Given the catalog writers' 16 invocations at 20 calls a second each
    # Then the account sees 320 calls a second at worst; one invocation alone, 20
    assert worst_case_calls_per_second(16, 20.0) == pytest.approx(320.0)
    assert worst_case_calls_per_second(1, 20.0) == pytest.approx(20.0)
    assert worst_case_calls_per_second(2, 0.0) == 0.0


def test_the_concurrency_a_quota_allows() -> None:
    # Given a quota of 100 calls a second / Then 5 invocations at 20 a second fit, 6 do not
    assert concurrency_within(100.0, 20.0) == 5
    assert worst_case_calls_per_second(concurrency_within(100.0, 20.0), 20.0) <= 100.0
    assert worst_case_calls_per_second(concurrency_within(100.0, 20.0) + 1, 20.0) > 100.0
    # exact quotients are not lost to floating point; a quota below one invocation allows none
    assert concurrency_within(6.0, 0.2) == 30
    assert concurrency_within(10.0, 20.0) == 0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: sequential_rate(0.0), "latency must be positive"),
        (lambda: worst_case_calls_per_second(0, 1.0), "at least 1 invocation"),
        (lambda: worst_case_calls_per_second(1, -1.0), "cannot be negative"),
        (lambda: concurrency_within(-1.0, 1.0), "quota cannot be negative"),
        (lambda: concurrency_within(10.0, 0.0), "rate must be positive"),
    ],
)
def test_impossible_inputs_are_refused_by_name(call: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize(
    ("service", "mode"),
    [
        ("glue", "adaptive"),
        ("lakeformation", "adaptive"),
        ("dynamodb", "standard"),
        ("sqs", "standard"),
        ("s3", "standard"),
        ("sts", "standard"),
    ],
)
def test_glue_and_lake_formation_clients_pace_themselves_the_others_retry_standard(
    service: str, mode: str
) -> None:
    # Given meshgov's client factory / When it makes a client of ``service``
    client = AwsSessions(new_session(region_name="eu-west-1")).client(service)

    # Then the client retries 8 times, in adaptive mode (client-side rate limiting) only for the
    # services throttled per account and Region
    assert client.meta.config.retries["mode"] == mode
    assert client.meta.config.retries["total_max_attempts"] == 1 + 8
    assert (service in PACED_SERVICES) == (mode == "adaptive")
