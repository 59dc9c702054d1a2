"""``proof.faults_lost``: the fault proof of :mod:`meshgov_local.faultproof` on 3 seeds.

Each seed plays the soak's random operations (1,000 at full scale) while 5% of the requests
meshgov's functions send meet a fault (throttling, 5xx, connect and read timeouts, crashes
between two calls, in equal shares), then the recovery (sweeps and dead-letter replay, faults
still on), then the accounting with faults off. At full scale each seed runs in its own process
(its own in-process moto), two at a time; the smoke scale (run by the test suite) stays in one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.seeded import run_seeds

SEEDS = (101, 202, 303)
RATE = 0.05
OPERATIONS = {"full": 1_000, "smoke": 40}
TARGETS: dict[str, tuple[str, float]] = {
    "faults_lost": ("<=", 0),
    "faults_unrecovered": ("<=", 0),
    "faults_diffs": ("<=", 0),
    "faults_partial_state": ("<=", 0),
}
NOTES = [
    "faults_*: meshgov_local.faultproof on seeds 101, 202, 303: the soak's random producer and "
    "consumer operations (Glue events 10% dropped, deliveries shuffled and 20% duplicated) while "
    "meshgov_local.faults gives 5% of the HTTP requests meshgov's functions send (every attempt, "
    "in every account) one fault, in equal shares: throttling (each service's own error code and "
    "status), HTTP 500 (half of them after the service did the work), connect timeout (never "
    "reached the service), read timeout (after the service did the work), and a crash after a "
    "call succeeded (the invocation dies: SQS redelivers the batch, the redrive policy parks it "
    "after maxReceiveCount; a schedule is retried twice, then parked in its OnFailure DLQ). "
    "botocore's adaptive retries run unchanged; their waits are virtual (faults.virtual_wait_"
    "seconds). Then recovery with faults still on: catalog, access and invitation sweeps and a "
    "replay of every dead letter that is not a refusal, round after round (at most 12) until a "
    "round's sweeps succeed and nothing is left to replay. Then, faults off:",
    "faults_lost: deliveries of the router (per account, function and event id) never handled "
    "and neither queued nor parked in a DLQ. faults_unrecovered: dead letters other than "
    "refusals still parked. faults_diffs: central differs from the published source, or a "
    "Lake Formation grant no live request explains. faults_partial_state: a request left in "
    "REQUESTED, APPROVED or GRANTED, an audit chain that does not verify, or a further sweep that "
    "still changes something. Each is summed over the seeds; the per-seed runs (faults by kind, "
    "failed deliveries, dead letters replayed, recovery rounds) are in scenarios.faults.",
]


def _one(seed: int, operations: int) -> dict[str, Any]:
    from bench.scenarios import fake_aws_environment
    from meshgov_local.faultproof import fault_proof

    with fake_aws_environment():
        return fault_proof(seed, operations, RATE).as_dict()


def measure(scale: str, progress: Callable[[str], None]) -> dict[str, Any]:
    operations = OPERATIONS.get(scale, OPERATIONS["smoke"])
    seeds = SEEDS if scale == "full" else SEEDS[:1]
    progress(f"faults: {operations} operations at {RATE:.0%} faults on each of seeds {seeds}")
    runs = run_seeds(_one, seeds, operations, full=scale == "full")
    for run in runs:
        progress(
            f"faults seed {run['seed']}: {run['faults']['faults']} faults "
            f"{run['faults']['by_kind']}, {run['failed_deliveries']} failed deliveries, "
            f"{run['dead_letters_replayed']} dead letters replayed, "
            f"{run['counts']['lost']} lost, {run['counts']['diffs']} diffs"
        )
    return {
        "faults_lost": sum(run["counts"]["lost"] for run in runs),
        "faults_unrecovered": sum(run["counts"]["unrecovered"] for run in runs),
        "faults_diffs": sum(run["counts"]["diffs"] for run in runs),
        "faults_partial_state": sum(run["counts"]["partial_state"] for run in runs),
        "faults_injected": sum(run["faults"]["faults"] for run in runs),
        "faults_rate": RATE,
        "faults_operations": operations * len(seeds),
        "faults_seeds": list(seeds),
        "runs": runs,
    }
