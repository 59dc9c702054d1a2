"""The import figure's floor: Powertools modules count as the floor whichever file imports them."""

from __future__ import annotations

from pathlib import Path

from bench.imports import floor_statements, powertools_through_meshgov


def test_powertools_imported_by_a_loaded_meshgov_module_join_the_floor(tmp_path: Path) -> None:
    layer = tmp_path / "layer"
    (layer / "meshgov" / "aws").mkdir(parents=True)
    (layer / "meshgov" / "__init__.py").write_text("")
    (layer / "meshgov" / "aws" / "__init__.py").write_text("")
    (layer / "meshgov" / "aws" / "runner.py").write_text(
        "from aws_lambda_powertools.utilities.batch import BatchProcessor\n"
        "import json\n"
        "def f():\n    from aws_lambda_powertools.utilities.idempotency import x\n"
    )
    (layer / "meshgov" / "aws" / "unused.py").write_text(
        "from aws_lambda_powertools.utilities.feature_flags import FeatureFlags\n"
    )
    handler = tmp_path / "app.py"
    handler.write_text(
        "from __future__ import annotations\n"
        "from aws_lambda_powertools import Logger\n"
        "from meshgov.aws.runner import run\n"
    )

    through = powertools_through_meshgov(
        ["json", "meshgov", "meshgov.aws", "meshgov.aws.runner"], [str(layer)]
    )

    # only module-level imports of modules the handler loaded: not a function's, not unused.py's
    assert through == ["from aws_lambda_powertools.utilities.batch import BatchProcessor"]
    assert floor_statements(handler, through) == [
        "import boto3",
        "from aws_lambda_powertools import Logger",
        "from aws_lambda_powertools.utilities.batch import BatchProcessor",
    ]
