"""How fast meshgov can call one service in one account, at worst: the budget's arithmetic.

Glue and Lake Formation throttle per account and Region
(https://repost.aws/knowledge-center/glue-throttling-rate-exceeded). Nothing in meshgov shares a
rate limiter between invocations: botocore's adaptive mode keeps its token bucket in the client
object, and clients are made per invocation (:mod:`meshgov.aws.session`). What bounds an
account's calls across invocations is therefore how many invocations can run at once (an SQS
event source's ``MaximumConcurrency``, a function's reserved concurrency, or 1 for a schedule,
https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html) times how fast one
invocation calls. A meshgov handler makes its calls one after another (no threads), so one
invocation sends at most ``1 / latency`` calls a second; after a throttle its adaptive client
sends fewer.

Pure functions, no AWS call: the paper model (docs/scale.md) sets these against the quotas the
account's Service Quotas console shows.
"""

from __future__ import annotations

import math


def sequential_rate(call_latency_s: float) -> float:
    """Calls a second one invocation sends when it waits for each answer before the next call."""
    if not call_latency_s > 0:
        raise ValueError(f"a call's latency must be positive, got {call_latency_s!r} s")
    return 1.0 / call_latency_s


def worst_case_calls_per_second(max_concurrency: int, per_invocation_rate: float) -> float:
    """An account's calls a second when ``max_concurrency`` invocations all call at
    ``per_invocation_rate`` at once: the bound that holds across invocations."""
    if max_concurrency < 1:
        raise ValueError(f"a function runs at least 1 invocation at once, got {max_concurrency}")
    if per_invocation_rate < 0:
        raise ValueError(f"a call rate cannot be negative, got {per_invocation_rate!r}")
    return max_concurrency * per_invocation_rate


def concurrency_within(quota_per_second: float, per_invocation_rate: float) -> int:
    """The most invocations that can run at once and stay within ``quota_per_second`` at worst
    (0 when even one invocation would exceed it)."""
    if quota_per_second < 0:
        raise ValueError(f"a quota cannot be negative, got {quota_per_second!r}")
    if not per_invocation_rate > 0:
        raise ValueError(f"a call rate must be positive, got {per_invocation_rate!r}")
    # A hair of tolerance: 6 / 0.2 is 29.999999999999996 in binary floating point.
    return math.floor(quota_per_second / per_invocation_rate + 1e-9)
