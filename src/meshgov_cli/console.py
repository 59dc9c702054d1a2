"""Where every ``meshgov`` command writes, and with which exit code: one home for the CLI's
output discipline.

- **stdout** (:func:`out`) carries the result and nothing else: a table, or with
  ``--output json`` exactly one JSON document (or one JSON document per line for a command that
  follows something live), so ``meshgov ... -o json | jq`` always parses.
- **stderr** (:func:`err`) carries everything else: errors, progress (spinners, "waiting for"),
  banners and hints.
- **Exit codes**: :data:`EXIT_OK` (0) done / yes; :data:`EXIT_REFUSED` (1) refused, failed, "no",
  or an error; :data:`EXIT_USAGE` (2) a usage error (typer/click's own code for a bad option)
  or, for the commands whose ``--help`` says so (``can-access``, ``posture``, ``audit verify``),
  "no answer": the question could not be answered at all. Each command's ``--help`` states its
  codes; :func:`fail` is how every one of them ends with an error.

Subcommand modules import these at module top; nothing imports back from :mod:`meshgov_cli.main`
(which imports every subcommand module to register it).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import typer
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError
from rich.console import Console
from rich.markup import escape

from meshgov.errors import MeshgovError
from meshgov_local.observe import RunningMesh
from meshgov_local.state import MeshState, MeshStateError, read_state
from meshgov_local.views import as_json

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2


def out() -> Console:
    """The console for results (stdout). Made per call: the width is the terminal's now."""
    return Console()


def err() -> Console:
    """The console for errors, progress and banners (stderr): never mixed into results."""
    return Console(stderr=True)


def fail(message: str, code: int = EXIT_REFUSED) -> NoReturn:
    """Print ``error: message`` to stderr (as text, never as markup) and exit ``code``."""
    err().print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def print_json(value: Any) -> None:
    """One JSON document on stdout (indented, keys sorted): the whole ``-o json`` output."""
    typer.echo(as_json(value))


def print_json_line(value: Any) -> None:
    """One JSON document on one stdout line, for commands that follow something live."""
    typer.echo(json.dumps(value, sort_keys=True, default=str))


def running_mesh(state_dir: Path, code: int = EXIT_REFUSED) -> RunningMesh:
    """The mesh ``meshgov mesh up`` runs from ``state_dir``; without one, exit ``code``."""
    try:
        return RunningMesh(read_state(state_dir))
    except MeshStateError as exc:
        fail(str(exc), code)


@contextmanager
def reaching(state: MeshState, code: int = EXIT_REFUSED) -> Iterator[None]:
    """Say "the mesh is not there" or "it refused" in one line on stderr, and exit ``code``."""
    absent = f"no local mesh answers at {state.endpoint_url}: is `meshgov mesh up` running?"
    try:
        yield
    except EndpointConnectionError:
        fail(absent, code)
    except MeshgovError as exc:  # the library's adapters wrap what botocore raised
        fail(absent if isinstance(exc.__cause__, EndpointConnectionError) else str(exc), code)
    except (ClientError, BotoCoreError) as exc:
        fail(f"the local mesh at {state.endpoint_url} refused: {exc}", code)
