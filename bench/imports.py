"""Cold import of the CatalogSync handler against the floor it cannot go below.

Both sides run in a fresh ``python`` (this venv's) with the Lambda function's environment (as
template.yaml resolves it locally, tracing and metrics flushing disabled as on the local mesh) and
the same ``sys.path`` (the layer and the function code). Each child times only its imports with
``time.perf_counter`` (interpreter start-up is the same on both sides and excluded):

- *handler*: ``import app`` from ``functions/catalog_sync`` (its module body included: the
  Powertools Logger/Tracer/Metrics/BatchProcessor it builds at import);
- *floor* (the target's denominator): the same handler without meshgov — the non-meshgov imports
  its source makes (read from its AST: ``import boto3`` and the Powertools modules), the Powertools
  modules it loads through meshgov (read from the AST of every meshgov module the handler loads:
  since issue 17 the handler's SQS batch processor is built in ``meshgov.aws.sqs_batch``, and
  Powertools' batch utility, about 33 ms, is the same Powertools module it imported itself before),
  plus the
  Powertools objects it builds at module level (``Logger()``, ``Tracer()``, ``Metrics()``,
  ``BatchProcessor(...)``). Powertools' ``Tracer()`` loads the X-Ray SDK (about 150 ms, even with
  tracing disabled): that is a Powertools module the handler uses, not meshgov's cost, and the
  target measures "the cold-start cost that is meshgov's own" (issue 3). The imports-only floor is
  reported beside it (``bare_import_floor_ms``, ``import_vs_bare_import_floor``).

Bytecode: the children write and read ``.pyc`` under one cache prefix in ``build/`` (a warm-up run
of each side first), so both sides load compiled code and neither pays compilation.
Runs alternate (floor, handler, floor, ...) and the medians are compared.

**The collector's debt is settled on both sides.** Each child's timed region ends with
``gc.collect()``. Without it, the figure charges meshgov for the floor's garbage: the floor's
imports and Powertools objects leave about 26,000 unreachable objects and a full collection due,
and CPython's collector runs them (a generation-1 collection freeing those objects, then a full one
over about 79,000 objects; 60 to 95 ms together, measured 2026-12-03) during whichever import comes
next, which in the handler is meshgov's. On Lambda those collections are part of the cold start
whatever follows the floor (the first invocation pays them otherwise). Ending both sides with the
collector settled charges each side its own garbage; the handler still pays the full collection it
triggered and the final one, so the comparison leans against meshgov, not for it. The unsettled
figures (imports only, as the collector happened to run) are reported beside it
(``handler_unsettled_ms``, ``floor_unsettled_ms``, ``import_vs_floor_unsettled``).
"""

from __future__ import annotations

import ast
import json
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CACHE_PREFIX = REPO / "build" / "bench-pycache"

CHILD = """
import gc, json, sys, time
sys.path[:0] = {paths!r}
t0 = time.perf_counter()
{statements}
imported = time.perf_counter()
gc.collect()
elapsed = (time.perf_counter() - t0) * 1000
unsettled = (imported - t0) * 1000
print(json.dumps({{"ms": elapsed, "unsettled_ms": unsettled, "modules": sorted(sys.modules)}}))
"""


def powertools_through_meshgov(loaded: list[str], layer_paths: list[str]) -> list[str]:
    """The module-level Powertools imports of the meshgov modules the handler loaded.

    They are the Powertools modules the handler uses, whichever file names them: a handler that
    builds its batch processor itself imports the same modules (issue 3's floor: "a bare import
    boto3 plus the Powertools modules")."""
    statements: list[str] = []
    for module in sorted(m for m in loaded if m.split(".")[0] == "meshgov"):
        relative = Path(*module.split("."))
        for root in layer_paths:
            source = next(
                (
                    f
                    for f in (Path(root) / f"{relative}.py", Path(root) / relative / "__init__.py")
                    if f.is_file()
                ),
                None,
            )
            if source is None:
                continue
            for node in ast.parse(source.read_text()).body:
                if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == (
                    "aws_lambda_powertools"
                ):
                    statement = ast.unparse(node)
                    if statement not in statements:
                        statements.append(statement)
            break
    return statements


def floor_statements(handler_file: Path, through_meshgov: list[str] | None = None) -> list[str]:
    """The handler's own imports, minus meshgov's and ``__future__``, and the Powertools modules it
    loads through meshgov: what no handler avoids."""
    tree = ast.parse(handler_file.read_text())
    statements = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names = [a for a in node.names if a.name.split(".")[0] != "meshgov"]
            if names:
                statements.append(ast.unparse(ast.Import(names=names)))
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if module.split(".")[0] in {"meshgov", "__future__"} or node.level:
                continue
            statements.append(ast.unparse(node))
    # The target's floor is "a bare import boto3 plus the Powertools modules" (issue 3), whether
    # the handler imports boto3 itself or through meshgov.
    if "import boto3" not in statements:
        statements.insert(0, "import boto3")
    statements.extend(s for s in through_meshgov or [] if s not in statements)
    return statements


def powertools_objects(handler_file: Path) -> list[str]:
    """The module-level ``x = Powertools(...)`` statements of the handler (Logger(), Tracer(),
    Metrics(), BatchProcessor(...)): Powertools' own import-time cost, for the diagnostic floor."""
    tree = ast.parse(handler_file.read_text())
    powertools_names = {
        alias.asname or alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom)
        and (node.module or "").startswith("aws_lambda_powertools")
        for alias in node.names
    }
    return [
        ast.unparse(node)
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
        and node.value.func.id in powertools_names
    ]


def child_environment(function_env: dict[str, str]) -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(function_env)
    env.update(
        {
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_DEV": "false",
            "AWS_REGION": "eu-west-1",
            "AWS_DEFAULT_REGION": "eu-west-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_LAMBDA_FUNCTION_NAME": "CatalogSyncFunction",
            "PYTHONPYCACHEPREFIX": str(CACHE_PREFIX),
        }
    )
    return env


def _run(code: str, env: dict[str, str], *flags: str) -> tuple[dict[str, Any], str]:
    done = subprocess.run(
        [sys.executable, *flags, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO / "build",
        timeout=120,
    )
    if done.returncode:
        raise RuntimeError(f"import child failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


_IMPORTTIME = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def import_profile(
    handler_code: str, env: dict[str, str], module: str, floor_modules: set[str], top: int = 12
) -> dict[str, Any]:
    """``python -X importtime`` of the handler: what only the handler loads, by its own time,
    and the cumulative time of meshgov's modules the handler imports directly."""
    _, stderr = _run(handler_code, env, "-X", "importtime")
    rows = []
    for line in stderr.splitlines():
        match = _IMPORTTIME.match(line)
        if match:
            rows.append(
                {
                    "module": match.group(4),
                    "self_us": int(match.group(1)),
                    "cumulative_us": int(match.group(2)),
                    "depth": (len(match.group(3)) - 1) // 2,
                }
            )
    app_depth = next((r["depth"] for r in rows if r["module"] == module), 0)
    meshgov_direct = [
        r for r in rows if r["depth"] == app_depth + 1 and r["module"].split(".")[0] == "meshgov"
    ]
    extra = [r for r in rows if r["module"] not in floor_modules]
    extra.sort(key=lambda r: r["self_us"], reverse=True)
    return {
        "slowest_handler_only_imports": [
            {k: v for k, v in r.items() if k != "depth"} for r in extra[:top]
        ],
        "meshgov_import_ms": round(sum(r["cumulative_us"] for r in meshgov_direct) / 1000, 1),
        "meshgov_direct_imports": [r["module"] for r in meshgov_direct],
    }


def measure(binding: dict[str, Any], runs: int) -> dict[str, Any]:
    handler_file = Path(binding["handler_file"])
    paths = [*binding["layer_paths"], binding["code_path"]]
    module = handler_file.stem
    handler_code = CHILD.format(paths=paths, statements=f"import {module}")
    env = child_environment(binding["environment"])
    CACHE_PREFIX.mkdir(parents=True, exist_ok=True)
    handler_result, _ = _run(handler_code, env)  # warm-up: compile and cache bytecode
    through_meshgov = powertools_through_meshgov(handler_result["modules"], binding["layer_paths"])
    statements = floor_statements(handler_file, through_meshgov)
    floor_code = CHILD.format(paths=paths, statements="\n".join(statements))
    objects = powertools_objects(handler_file)
    objects_code = CHILD.format(paths=paths, statements="\n".join([*statements, *objects]))
    floor_result, _ = _run(floor_code, env)
    objects_result, _ = _run(objects_code, env)
    floor_ms: list[float] = []
    handler_ms: list[float] = []
    objects_ms: list[float] = []
    handler_unsettled: list[float] = []
    objects_unsettled: list[float] = []
    for _ in range(runs):
        floor_ms.append(_run(floor_code, env)[0]["ms"])
        handler_run = _run(handler_code, env)[0]
        handler_ms.append(handler_run["ms"])
        handler_unsettled.append(handler_run["unsettled_ms"])
        objects_run = _run(objects_code, env)[0]
        objects_ms.append(objects_run["ms"])
        objects_unsettled.append(objects_run["unsettled_ms"])
    floor_modules = set(floor_result["modules"])
    extra = sorted(set(handler_result["modules"]) - floor_modules)
    handler_median = statistics.median(handler_ms)
    floor_median = statistics.median(floor_ms)
    objects_median = statistics.median(objects_ms)
    profile = import_profile(handler_code, env, module, floor_modules)
    heaviest = profile["slowest_handler_only_imports"][0]
    diagnosis = (
        f"meshgov's own modules take {profile['meshgov_import_ms']} ms of the handler's "
        f"{handler_median:.0f} ms; the Powertools objects the handler builds at import "
        f"({', '.join(objects)}) take {objects_median - floor_median:.0f} ms more than importing "
        f"their modules; the handler-only module with the most own time is {heaviest['module']} "
        f"({heaviest['self_us'] / 1000:.0f} ms)."
    )
    return {
        "handler_import_ms": round(handler_median, 1),
        # The target: the handler against the same handler without meshgov (module docstring).
        "floor_import_ms": round(objects_median, 1),
        "import_vs_floor": round(handler_median / objects_median, 3),
        "runs": runs,
        "handler_runs_ms": [round(v, 1) for v in handler_ms],
        "floor_runs_ms": [round(v, 1) for v in objects_ms],
        "floor_statements": [*statements, *objects],
        "floor_powertools_through_meshgov": through_meshgov,
        # Beside it: the same runs timed before gc.collect() (module docstring).
        "handler_unsettled_ms": round(statistics.median(handler_unsettled), 1),
        "floor_unsettled_ms": round(statistics.median(objects_unsettled), 1),
        "import_vs_floor_unsettled": round(
            statistics.median(handler_unsettled) / statistics.median(objects_unsettled), 3
        ),
        # Beside it: imports only, without building the Powertools objects. Tracer() loads
        # aws_xray_sdk.core even with POWERTOOLS_TRACE_DISABLED=true (Powertools'
        # Tracer.__build_config calls _patch_xray_provider unconditionally).
        "bare_import_floor_ms": round(floor_median, 1),
        "import_vs_bare_import_floor": round(handler_median / floor_median, 3),
        "powertools_objects": objects,
        "modules_loaded_by_powertools_objects": len(
            set(objects_result["modules"]) - set(floor_result["modules"])
        ),
        "meshgov_only_modules": sorted(
            set(handler_result["modules"]) - set(objects_result["modules"])
        )[:60],
        "handler": str(handler_file.relative_to(REPO)),
        "modules_only_in_handler": len(extra),
        "meshgov_modules": [m for m in extra if m.split(".")[0] == "meshgov"],
        "other_modules_only_in_handler": [
            m for m in extra if m.split(".")[0] not in {"meshgov", module}
        ][:40],
        **profile,
        "diagnosis": diagnosis,
    }
