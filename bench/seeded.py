"""Running one seeded long run per seed: in parallel processes at full scale, in-process else.

At full scale each seed gets its own process (its own in-process moto), two at a time on a
2-core machine. The smoke scale runs inside the test suite, so it stays in the one process
(pytest-xdist workers must not fork memory-heavy children).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

Run = Callable[[int, int], dict[str, Any]]  # (seed, operations) -> the run's report


def run_seeds(run: Run, seeds: Sequence[int], operations: int, full: bool) -> list[dict[str, Any]]:
    """``run`` must be a module-level function (it is pickled into the worker processes)."""
    if full:
        with ProcessPoolExecutor(max_workers=2) as pool:
            return list(pool.map(run, seeds, [operations] * len(seeds)))
    return [run(seed, operations) for seed in seeds]
