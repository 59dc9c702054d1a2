"""Waits between retries that boto3 does not make for us: exponential backoff, full jitter.

botocore retries whole requests that fail (:mod:`meshgov.aws.session`); a request that *succeeds*
with part of its work left over (Glue ``BatchGetPartition`` ``UnprocessedKeys``) is meshgov's to
retry. Same shape as the SDKs' own: "exponential backoff with full jitter"
(https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html,
https://aws.amazon.com/builders-library/timeouts-retries-and-backoff-with-jitter/).
"""

from __future__ import annotations

import random
from collections.abc import Callable


def full_jitter(
    retry: int,
    base: float,
    cap: float,
    draw: Callable[[float, float], float] = random.uniform,
) -> float:
    """Seconds to wait before retry number ``retry`` (1 = the first): uniform in
    [0, min(cap, base * 2 ** (retry - 1))], so concurrent callers do not retry in step."""
    if retry < 1:
        raise ValueError(f"retries are counted from 1, got {retry}")
    return draw(0.0, min(cap, base * 2 ** min(retry - 1, 30)))
