"""``proof.soak_diffs``: the convergence soak of :mod:`meshgov_local.soak` on 3 seeds.

At full scale each seed runs in its own process (its own in-process moto), two at a time on a
2-core machine (the smoke scale, run by the test suite, is one small seed in one process):
random producer and consumer operations, Glue events 10% dropped, deliveries shuffled and 20%
duplicated; then the sweeps; then the two properties. ``soak_diffs`` adds, over the seeds, the
catalog differences and the grants no live request explains (target 0).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.seeded import run_seeds

SEEDS = (101, 202, 303)
TARGETS: dict[str, tuple[str, float]] = {"soak_diffs": ("<=", 0)}
OPERATIONS = {"full": 10_000, "smoke": 40}
NOTES = [
    "soak_diffs: meshgov_local.soak on seeds 101, 202, 303, 10,000 operations each: random "
    "producer operations (create, alter with added and dropped columns, drop, partitions, publish "
    "flips, LF-Tags; 80%) and consumer operations (access requests, producer decisions, "
    "revocations, time passing by half a day to 8 days with the access sweep; 20%); Glue's events "
    "10% dropped before EventBridge, deliveries settled every 200 operations, shuffled and 20% "
    "duplicated. Then the catalog sweep, the access sweep and the member's invitation sweep, "
    "then two properties read from the accounts: central equals the published source exactly "
    "(meshgov_local.verify, an oracle independent of meshgov's projection), and the posture "
    "report finds no Lake Formation grant (central or consumer) that no live request explains "
    "and no tag policy reaching another producer's tables. soak_diffs adds both over the seeds.",
]


def _one(seed: int, operations: int) -> dict[str, Any]:
    from bench.scenarios import fake_aws_environment
    from meshgov_local.soak import soak

    with fake_aws_environment():
        return soak(seed, operations).as_dict()


def measure(scale: str, progress: Callable[[str], None]) -> dict[str, Any]:
    operations = OPERATIONS.get(scale, OPERATIONS["smoke"])
    # the smoke scale checks the wiring (the property test in tests/integration runs the soak)
    seeds = SEEDS if scale == "full" else SEEDS[:1]
    progress(f"soak: {operations} operations on each of seeds {seeds}")
    runs = run_seeds(_one, seeds, operations, full=scale == "full")
    for run in runs:
        progress(
            f"soak seed {run['seed']}: {run['diffs']} diffs, "
            f"{run['events_dropped']} Glue events dropped, requests {run['requests_by_state']}"
        )
    return {
        "soak_diffs": sum(run["diffs"] for run in runs),
        "soak_operations": operations * len(seeds),
        "soak_seeds": list(seeds),
        "runs": runs,
    }
