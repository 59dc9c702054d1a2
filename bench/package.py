"""The Lambda package (issue 12): meshgov's layer built as ``sam build`` builds it, its zipped
size against Lambda's quotas, and each handler's cold import with exactly what Lambda gives it.

What a function has on Lambda (template.yaml): the python3.12 runtime, which includes boto3 and
botocore (https://docs.aws.amazon.com/lambda/latest/dg/lambda-python.html#python-sdk-included);
AWS's public Powertools layer, ``aws-lambda-powertools[all]`` of one release with the runtime's
packages removed (its build: layer_v3/docker/Dockerfile in aws-powertools/powertools-lambda-python;
https://docs.aws.amazon.com/powertools/python/latest/#lambda-layer); and ``MeshgovLayer``: the
``meshgov`` package plus ``layers/meshgov/requirements.txt``, which must name only what the other
two do not provide (``PROVIDED``), each pinned ``==``.

How this module builds them (nothing but pip from the configured index):

- *meshgov's layer*, as ``sam build`` does with ``layers/meshgov/Makefile``: ``pip install
  --no-deps --no-compile --target python/ -r layers/meshgov/requirements.txt`` (the lock is
  complete: no dependency is added behind it) beside a copy of ``layers/meshgov`` (no
  ``__pycache__``, no Makefile, no pip ``bin/`` scripts), zipped with sorted entries,
  a fixed timestamp and fixed permissions: the same input gives the same bytes. Layer content
  goes under ``python/`` (https://docs.aws.amazon.com/lambda/latest/dg/packaging-layers.html).
- *the Powertools layer*: ``pip install --target python/ aws-lambda-powertools[all]==<release>``
  (the release template.yaml deploys), then the runtime's packages removed as AWS's build does.
  pip compiles its bytecode: AWS's layer build checks its layer ships bytecode (its canary's
  ``bytecode_monitor``).
- *the runtime's SDK*: this virtualenv's boto3, botocore and their dependencies, linked into one
  directory (with their bytecode, as the runtime image has it).

The cold import runs ``import app`` for each handler in a fresh ``python -S -B``: no site-packages
(so a module missing from the layers fails the import instead of coming from this virtualenv),
no bytecode written, and sys.path = the function code, the two layers, the runtime's SDK, in
Lambda's order (code in /var/task before /opt/python before the runtime). meshgov's layer and the
function code ship no bytecode, and /opt and /var/task are read-only on Lambda: their sources are
compiled at every cold start, and here too. The timed region is ``imports.CHILD``'s (ADR 0008):
the imports plus a final ``gc.collect()``, interpreter start-up excluded.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from bench import imports
from meshgov_local.template import Template

REPO = Path(__file__).resolve().parent.parent
LAYER_DIR = REPO / "layers" / "meshgov"
REQUIREMENTS = LAYER_DIR / "requirements.txt"
CACHE = REPO / "build" / "bench-package"
MIB = 1024 * 1024

# Lambda's quotas (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html):
# 50 MB zipped for a direct upload, 250 MB unzipped for a function and all its layers together
# (Lambda's error says "Unzipped size must be smaller than 262144000 bytes": MiB).
ZIPPED_QUOTA_MIB = 50
UNZIPPED_QUOTA_MIB = 250

# What the python3.12 runtime provides, by distribution and the modules they install; AWS's
# Powertools layer build removes exactly these ("already available in Lambda Runtime").
RUNTIME_MODULES: dict[str, tuple[str, ...]] = {
    "boto3": ("boto3",),
    "botocore": ("botocore",),
    "s3transfer": ("s3transfer",),
    "jmespath": ("jmespath",),
    "urllib3": ("urllib3",),
    "python-dateutil": ("dateutil",),
    "six": ("six",),
}
RUNTIME_PROVIDED = frozenset(RUNTIME_MODULES)
# What AWS's Powertools layer provides: aws-lambda-powertools, its own requirement, every
# ``[all]`` extra (tests/unit/test_layer_requirements.py checks this against the installed
# release's metadata), and their dependencies meshgov uses or could name.
POWERTOOLS_LAYER_PROVIDED = frozenset(
    {
        "aws-lambda-powertools",
        "typing-extensions",
        # [all]
        "aws-encryption-sdk",
        "aws-xray-sdk",
        "cryptography",
        "fastjsonschema",
        "jsonpath-ng",
        "pydantic",
        "pydantic-settings",
        "pyjwt",
        # their dependencies
        "annotated-types",
        "pydantic-core",
        "typing-inspection",
        "wrapt",
    }
)
PROVIDED = RUNTIME_PROVIDED | POWERTOOLS_LAYER_PROVIDED

# The Powertools release template.yaml deploys: its Globals name the version-pinned public SSM
# parameter of AWS's layer (https://docs.aws.amazon.com/powertools/python/latest/getting-started/install/#using-ssm-parameter-store).
_POWERTOOLS_SSM = re.compile(
    r"\{\{resolve:ssm:/aws/service/powertools/python/x86_64/python3\.12/(\d+\.\d+\.\d+)\}\}"
)
_PIN = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([0-9][0-9A-Za-z.+!-]*)")

# metric -> (comparison, bound)
TARGETS: dict[str, tuple[str, float]] = {
    # A tenth of the 50 MiB direct-upload quota: the layer stays a library, and the 250 MiB
    # unzipped budget is left to the function code and the Powertools layer.
    "layer_zip_mb": ("<=", 5),
    # The slowest handler's cold import with exactly what Lambda gives it. Lambda's Init phase
    # (extensions, runtime bootstrap, the handler module's import) is limited to 10 s
    # (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html), and a
    # 512 MB function has 512/1769 of a vCPU
    # (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html): 1.5 s on one
    # core here is about 5 s there, half the Init limit, the rest left to the runtime's
    # bootstrap and to noise. Measured 550 to 760 ms per handler (median, 2026-12-04).
    "cold_import_ms": ("<=", 1500),
}

NOTES = [
    "layer_zip_mb: MeshgovLayer as sam build builds it with layers/meshgov/Makefile (pip "
    "install --no-deps --no-compile --target python/ -r layers/meshgov/requirements.txt beside "
    "a copy of layers/meshgov, no __pycache__: the same files as sam build's, but pip's INSTALLER, "
    "REQUESTED and RECORD in the dist-info), zipped deterministically (sorted entries, fixed "
    "timestamps and permissions, zlib's default level as sam's packaging), in MiB: Lambda's "
    "quotas are 50 MiB zipped and 250 MiB unzipped for a function with all its layers "
    "(gettingstarted-limits).",
    "The layer carries only what neither the python3.12 runtime (boto3, botocore and their "
    "dependencies) nor AWS's public Powertools layer (aws-lambda-powertools[all]: pydantic, the "
    "X-Ray SDK, ...) provides; template.yaml adds that layer to every function, pinned to the "
    "release the project installs (3.37.0).",
    "cold_import_ms: the slowest handler's median cold import (import app, its module body "
    "included, then gc.collect()) in a fresh python -S -B whose sys.path holds only the function "
    "code, meshgov's built layer, a Powertools layer built from the same release "
    "(aws-lambda-powertools[all], the runtime's packages removed, with bytecode) and this "
    "virtualenv's boto3/botocore standing for the runtime's: a module missing from the layers "
    "fails the run. meshgov's layer and the function code ship no bytecode and Lambda cannot "
    "write any to /opt or /var/task, so their sources are compiled at every cold start, here "
    "too. cold_import_ms_by_handler gives each handler's median; runs alternate handlers.",
    "Measured on this VM (2 cores, shared); a 512 MB function has 512/1769 of a vCPU "
    "(configuration-memory), so Lambda's Init duration is several times the figure: the target "
    "(1,500 ms) is about half of Lambda's 10 s Init limit once scaled.",
]

Progress = Callable[[str], None]


# --- what the layer may name ------------------------------------------------------------------
def canonical(name: str) -> str:
    """A distribution name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_lines(path: Path = REQUIREMENTS) -> list[str]:
    """The requirement lines of ``path``: comments and blank lines dropped."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def pins(path: Path = REQUIREMENTS) -> dict[str, str]:
    """``{canonical name: version}`` of every ``name==version`` line; a clear error otherwise."""
    found: dict[str, str] = {}
    for line in requirement_lines(path):
        match = _PIN.fullmatch(line)
        if match is None:
            raise ValueError(f"{path.name}: {line!r} is not pinned as name==version")
        found[canonical(match.group(1))] = match.group(2)
    return found


def powertools_release(template: Template | None = None) -> str:
    """The aws-lambda-powertools release of the layer template.yaml gives every function."""
    template = template or Template.load()
    layers = template.document.get("Globals", {}).get("Function", {}).get("Layers", [])
    releases = set(_POWERTOOLS_SSM.findall(repr(layers)))
    if len(releases) != 1:
        raise ValueError(f"template.yaml's Globals name no single Powertools layer: {layers!r}")
    return releases.pop()


# --- building ---------------------------------------------------------------------------------
def _pip_target(target: Path, *arguments: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--target", str(target), *arguments],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    if done.returncode:
        raise RuntimeError(f"pip install {' '.join(arguments)} failed: {done.stderr[-2000:]}")


def _installed(name: str, key: Iterable[bytes], *arguments: str) -> Path:
    """``pip install --target`` once per distinct input (cached under build/): the directory."""
    digest = hashlib.sha256()
    for part in (sys.version.encode(), *key, *(a.encode() for a in arguments)):
        digest.update(part)
    root = CACHE / f"{name}-{digest.hexdigest()[:16]}"
    if not (root / ".complete").exists():
        shutil.rmtree(root, ignore_errors=True)
        _pip_target(root / "python", *arguments)
        shutil.rmtree(root / "python" / "bin", ignore_errors=True)
        (root / ".complete").touch()
    return root / "python"


_NO_BYTECODE = shutil.ignore_patterns("__pycache__", "*.pyc")


def build_layer(work: Path) -> Path:
    """MeshgovLayer's content as ``sam build`` lays it out: ``<root>/python/...``."""
    deps = _installed(
        "meshgov-deps",
        [REQUIREMENTS.read_bytes(), b"--no-deps"],
        "--no-deps",
        "--no-compile",
        "-r",
        str(REQUIREMENTS),
    )
    root = work / "meshgov-layer"
    shutil.copytree(deps, root / "python", ignore=_NO_BYTECODE)
    # layers/meshgov/Makefile copies the package and the lock, not itself
    shutil.copytree(
        LAYER_DIR,
        root / "python",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "Makefile"),
        dirs_exist_ok=True,
    )
    return root


_RUNTIME_NAMES = RUNTIME_PROVIDED | {m for ms in RUNTIME_MODULES.values() for m in ms}


def powertools_layer(release: str) -> Path:
    """A Powertools layer built as AWS builds it (``[all]``, without the runtime's packages):
    ``<root>/python/...``, with bytecode."""
    python = _installed("powertools", [], f"aws-lambda-powertools[all]=={release}")
    for entry in python.iterdir():
        # "botocore/", "six.py", "python_dateutil-2.9.0.post0.dist-info", ...
        if canonical(entry.name.split("-")[0].removesuffix(".py")) in _RUNTIME_NAMES:
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    return python.parent


def runtime_sdk(work: Path) -> Path:
    """The runtime's boto3, botocore and their dependencies: this virtualenv's, linked."""
    root = work / "runtime"
    root.mkdir()
    for modules in RUNTIME_MODULES.values():
        for module in modules:
            spec = importlib.util.find_spec(module)
            if spec is None or spec.origin is None:
                raise RuntimeError(f"{module} is not installed in this virtualenv")
            origin = Path(spec.origin)
            source = origin.parent if origin.name == "__init__.py" else origin
            (root / source.name).symlink_to(source)
    return root


def deterministic_zip(root: Path, archive: Path) -> tuple[int, int, int]:
    """Zip ``root``'s files (sorted, 1980-01-01, mode 644): ``(zipped, unzipped, files)``."""
    files = sorted(p for p in root.rglob("*") if p.is_file())
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in files:
            info = zipfile.ZipInfo(
                path.relative_to(root).as_posix(), date_time=(1980, 1, 1, 0, 0, 0)
            )
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            bundle.writestr(info, path.read_bytes())
    return archive.stat().st_size, sum(p.stat().st_size for p in files), len(files)


def _size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


# --- measuring --------------------------------------------------------------------------------
def cold_imports(
    bindings: dict[str, dict[str, Any]], paths_of: Callable[[Path], list[str]], runs: int
) -> dict[str, list[float]]:
    """Each handler's cold import (ms), ``runs`` times, alternating handlers. Several runs start
    with a warm-up run of each (the file cache); the first run of each proves every import
    resolves within the given sys.path (a missing module fails it)."""
    children = {}
    for logical_id, binding in bindings.items():
        handler = Path(binding["handler_file"])
        code = imports.CHILD.format(paths=paths_of(handler.parent), statements="import app")
        env = imports.child_environment(binding["environment"])
        # The layers' bytecode lies beside their sources (or nowhere): no cache prefix.
        env.pop("PYTHONPYCACHEPREFIX")
        env["AWS_LAMBDA_FUNCTION_NAME"] = logical_id
        children[logical_id] = (code, env)
    for code, env in children.values() if runs > 1 else ():
        imports._run(code, env, "-S", "-B")
    timings: dict[str, list[float]] = {logical_id: [] for logical_id in children}
    for _ in range(runs):
        for logical_id, (code, env) in children.items():
            timings[logical_id].append(imports._run(code, env, "-S", "-B")[0]["ms"])
    return timings


def measure(runs: int, progress: Progress = print) -> dict[str, Any]:
    """Build the layer, zip it, and time every handler's cold import with it."""
    from bench.scenarios import function_environments  # moto: only when measuring

    release = powertools_release()
    bindings = function_environments()
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="meshgov-package-") as tmp:
        work = Path(tmp)
        progress("package: building the layers (pip, cached under build/bench-package)")
        layer = build_layer(work)
        zipped, unzipped, files = deterministic_zip(layer, work / "meshgov-layer.zip")
        digest = hashlib.sha256((work / "meshgov-layer.zip").read_bytes()).hexdigest()
        powertools = powertools_layer(release)
        runtime = runtime_sdk(work)
        code_root = work / "functions"

        def paths_of(function_dir: Path) -> list[str]:
            code = code_root / function_dir.name
            if not code.exists():
                shutil.copytree(function_dir, code, ignore=_NO_BYTECODE)
            return [str(code), str(layer / "python"), str(powertools / "python"), str(runtime)]

        progress(f"package: {len(bindings)} handlers x {runs} cold imports")
        timings = cold_imports(bindings, paths_of, runs)
        powertools_unzipped = _size(powertools)
    by_handler = {lid: round(statistics.median(ms), 1) for lid, ms in timings.items()}
    slowest = max(by_handler, key=by_handler.__getitem__)
    return {
        "layer_zip_mb": round(zipped / MIB, 3),
        "cold_import_ms": by_handler[slowest],
        "layer_unzipped_mb": round(unzipped / MIB, 3),
        "layer_files": files,
        "layer_zip_sha256": digest,
        "layer_requirements": pins(),
        "powertools_release": release,
        # Ours is built with pip's bytecode; AWS's may differ a little (its build strips some).
        "powertools_layer_unzipped_mb": round(powertools_unzipped / MIB, 3),
        "layers_unzipped_mb": round((unzipped + powertools_unzipped) / MIB, 3),
        "quotas_mib": {"zipped": ZIPPED_QUOTA_MIB, "unzipped": UNZIPPED_QUOTA_MIB},
        "cold_import_ms_by_handler": by_handler,
        "slowest_handler": slowest,
        "runs": runs,
        "runs_ms": {lid: [round(v, 1) for v in ms] for lid, ms in timings.items()},
    }
