"""The rules of the code's shape, checked on the source so they cannot silently erode."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LIBRARY = REPO / "layers" / "meshgov" / "meshgov"
FUNCTIONS = REPO / "functions"
LAMBDA_CODE = [*LIBRARY.rglob("*.py"), *FUNCTIONS.rglob("*.py")]
FORBIDDEN_IN_LAMBDA = ("meshgov_local", "meshgov_cli", "moto", "pytest")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", LAMBDA_CODE, ids=lambda p: str(p.relative_to(REPO)))
def test_lambda_code_never_imports_the_local_mesh(path: Path) -> None:
    bad = {m for m in imported_modules(path) if m.split(".")[0] in FORBIDDEN_IN_LAMBDA}
    assert not bad, f"{path} imports {bad}"


@pytest.mark.parametrize("path", list(LIBRARY.rglob("*.py")), ids=lambda p: p.name)
def test_domain_code_reads_no_environment_and_uses_no_handler_decorators(path: Path) -> None:
    tree = ast.parse(path.read_text())
    env_reads = [
        node
        for node in ast.walk(tree)
        if (isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv"))
        or (isinstance(node, ast.Name) and node.id in ("environ", "getenv"))
    ]
    assert not env_reads, path
    modules = imported_modules(path)
    powertools = {m for m in modules if m.startswith("aws_lambda_powertools")}
    if path == SQS_BATCH_RUNNER:
        # The one runner of the SQS handlers is built on Powertools' partial batch processor:
        # its batch utility and SQS record, nothing else of Powertools.
        assert powertools == POWERTOOLS_BATCH, path
    else:
        assert not powertools, path


SQS_BATCH_RUNNER = LIBRARY / "aws" / "sqs_batch.py"
POWERTOOLS_BATCH = {
    "aws_lambda_powertools.utilities.batch",
    "aws_lambda_powertools.utilities.data_classes.sqs_event",
}
# Powertools' decorators: a handler's business (functions/*/app.py), never the library's.
POWERTOOLS_DECORATORS = {
    "batch_processor",
    "async_batch_processor",
    "event_source",
    "event_parser",
    "lambda_handler_decorator",
    "Logger",
    "Tracer",
    "Metrics",
}


def test_the_sqs_batch_runner_uses_no_powertools_decorator() -> None:
    tree = ast.parse(SQS_BATCH_RUNNER.read_text())
    names = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("aws_lambda_")
        for alias in node.names
    }
    assert names and not names & POWERTOOLS_DECORATORS, names


@pytest.mark.parametrize("path", list(FUNCTIONS.glob("*/app.py")), ids=lambda p: p.parent.name)
def test_sqs_handlers_run_their_batch_through_the_one_runner(path: Path) -> None:
    """No handler builds its own partial batch response: :mod:`meshgov.aws.sqs_batch` does."""
    batch = {
        m for m in imported_modules(path) if m.startswith("aws_lambda_powertools.utilities.batch")
    }
    assert not batch, path


def test_no_boto3_client_is_created_at_import_time() -> None:
    # Given botocore refuses to create any client
    script = textwrap.dedent(
        f"""
        import importlib.util, sys, traceback
        import botocore.session
        original = botocore.session.Session.create_client
        def refuse(*a, **k):
            stack = "".join(traceback.format_stack())
            # The X-Ray SDK (Powertools Tracer's dependency) makes its own sampling client.
            if "aws_xray_sdk" not in stack:
                raise SystemExit("client created at import time: " + stack)
            return original(*a, **k)
        botocore.session.Session.create_client = refuse
        for path in {[str(p) for p in FUNCTIONS.glob("*/app.py")]!r}:
            spec = importlib.util.spec_from_file_location("m" + str(abs(hash(path))), path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        print("ok")
        """
    )
    # When every handler module is imported
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=False,
        env={
            "PATH": "/usr/bin:/bin",
            "AWS_DEFAULT_REGION": "eu-west-1",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_SERVICE_NAME": "meshgov",
        },
    )
    # Then none created a client
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]


@pytest.mark.parametrize("path", list(FUNCTIONS.glob("*/app.py")), ids=lambda p: p.parent.name)
def test_handlers_stay_thin(path: Path) -> None:
    """A handler parses, makes one library call and returns: no branching on business data."""
    tree = ast.parse(path.read_text())
    handler = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "handler")
    branches = [n for n in ast.walk(handler) if isinstance(n, (ast.If, ast.For, ast.While))]
    assert len(branches) <= 1, f"{path}: {len(branches)} branches in the handler"
    assert len(path.read_text().splitlines()) < 80
