"""``proof.hostile_cases`` and ``proof.hostile_failures``: the hostile input corpus (issue 6).

Runs :data:`tests.hostile.corpus.CORPUS` with :func:`tests.hostile.check.check_case`, outside
pytest, one local mesh per entry point: every case is injected where it arrives, the mesh settles,
and the case fails if anything changed in any account, the refusal is not audited with its code
and a reason naming the problem, a catalog event is not parked in ``CatalogEventsDLQ``, or
anything was retried. ``smoke`` runs the first case of each entry point only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from tests.hostile.check import check_case, group_mesh
from tests.hostile.corpus import GROUPS


def measure(progress: Callable[[str], None], smoke: bool = False) -> dict[str, Any]:
    started = time.perf_counter()
    failures: list[dict[str, Any]] = []
    by_entry_point: dict[str, int] = {}
    count = 0
    for group in GROUPS:
        cases = group.cases[:1] if smoke else group.cases
        progress(f"hostile: {group.entry_point}, {len(cases)} cases")
        with group_mesh(replace(group, cases=cases)) as mesh:
            for case in cases:
                count += 1
                problems = check_case(mesh, case)
                if problems:
                    failures.append({"case": case.id, "problems": problems})
        by_entry_point[group.entry_point] = len(cases)
    return {
        "hostile_cases": count,
        "hostile_failures": len(failures),
        "failures": failures,
        "cases_by_entry_point": by_entry_point,
        "seconds": round(time.perf_counter() - started, 2),
    }
