"""Options every meshgov command shares: one definition, so the flag and its help never drift."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer


class Output(StrEnum):
    TABLE = "table"
    JSON = "json"


StateDirOption = Annotated[
    Path,
    typer.Option(
        "--state-dir",
        help="Where `mesh up` writes mesh.json, aws-config and credentials.",
        file_okay=False,
    ),
]
WideOption = Annotated[
    bool,
    typer.Option(
        "--wide",
        help="Show every column, folding long cells (by default a narrow terminal leaves "
        "out the least important columns and says which).",
    ),
]
OutputOption = Annotated[
    Output, typer.Option("--output", "-o", help="Render as a table or as JSON.")
]
