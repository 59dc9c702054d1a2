"""layers/meshgov/requirements.txt: pinned, and only what Lambda does not already provide.

The python3.12 runtime provides boto3 and botocore; AWS's Powertools layer (template.yaml's
Globals) provides aws-lambda-powertools with every extra (pydantic, the X-Ray SDK, ...). What
meshgov's layer installs beyond that must be pinned ``==``, whole (its own dependencies pinned
too), so that ``sam build`` gives the same layer every time (bench/package.py).
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest
from bench.package import (
    POWERTOOLS_LAYER_PROVIDED,
    PROVIDED,
    REQUIREMENTS,
    canonical,
    pins,
    requirement_lines,
)
from packaging.requirements import Requirement


def test_every_requirement_is_pinned_exactly() -> None:
    # Given / When the layer's requirement lines are read
    lines = requirement_lines()

    # Then each is name==version (no range, no extra, no marker, no URL) and they parse as pins
    assert lines
    assert len(pins()) == len(lines)


def test_the_layer_names_nothing_the_runtime_or_the_powertools_layer_provides() -> None:
    # Given / When the names the layer installs are compared with what Lambda already gives
    names = {canonical(Requirement(line).name) for line in requirement_lines()}
    provided = sorted(names & PROVIDED)

    # Then none is shipped twice (a second boto3 or pydantic would shadow or fight Lambda's)
    assert not provided, f"{REQUIREMENTS.name} ships what Lambda provides: {provided}"


def test_the_pins_are_a_whole_lock() -> None:
    # Given each pinned distribution as installed in this virtualenv
    pinned = pins()
    for name, version in pinned.items():
        # Then the installed one is the pinned one (the local mesh runs what the layer ships)
        assert metadata.version(name) == version, name
        # And each of its own requirements is pinned too or provided by Lambda: pip resolves
        # nothing at build time that the file does not fix
        for line in metadata.requires(name) or []:
            requirement = Requirement(line)
            if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
                continue
            dependency = canonical(requirement.name)
            assert dependency in pinned or dependency in PROVIDED, (name, dependency)


def test_what_counts_as_provided_covers_every_powertools_extra() -> None:
    # Given the installed Powertools release (the one template.yaml's layer is built from)
    requirements = [Requirement(line) for line in metadata.requires("aws-lambda-powertools") or []]

    # When its base requirements and its [all] extra are listed
    layer = {
        canonical(r.name)
        for r in requirements
        if r.marker is None or r.marker.evaluate({"extra": "all"})
    }

    # Then each is in the provided list, except the runtime's own packages that AWS's layer build
    # removes (they come from the runtime)
    assert layer - POWERTOOLS_LAYER_PROVIDED <= PROVIDED - POWERTOOLS_LAYER_PROVIDED


@pytest.mark.parametrize(
    "line",
    [
        "pydantic>=2.7,<3",
        "boto3",
        "aws-lambda-powertools[tracer,parser]==3.37.0",
        "confusable-homoglyphs==3.3.1; python_version > '3'",
        "confusable-homoglyphs @ https://example.com/c.whl",
    ],
)
def test_an_unpinned_line_is_refused_by_name(tmp_path: Path, line: str) -> None:
    # Given a requirements file with a line that does not pin one exact version
    path = tmp_path / "requirements.txt"
    path.write_text(f"# comment\nconfusable-homoglyphs==3.3.1\n{line}\n")

    # When / Then reading its pins names the line
    with pytest.raises(ValueError, match="not pinned"):
        pins(path)
