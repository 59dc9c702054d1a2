"""The exact versions the local mesh was written for, checked against what is installed.

The emulator patches moto's internals and the fault injector leans on botocore's event order and
retry clocks: both hold only for the versions they were written for. Each is pinned ``==`` in one
place, pyproject.toml's ``[project] dependencies``; this module reads that pin back from the
installed project's metadata (``Requires-Dist``) and the installed version from the
distribution's own (:mod:`importlib.metadata`), so the check can never disagree with the pin.
"""

from __future__ import annotations

import re
from importlib import metadata

PROJECT = "meshgov"
# "moto[server]==5.2.5", "botocore==1.44.8"; a line with a marker (an extra) is not a pin of ours.
_PIN = re.compile(
    r"^\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*==\s*(?P<v>[^\s;,]+)\s*$"
)


class PinMismatchError(RuntimeError):
    """The installed version of a distribution is not the one the local mesh was written for."""


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned_version(distribution: str) -> str:
    """The version pyproject.toml pins ``distribution`` to (``==``); :class:`PinMismatchError`
    when the project is not installed or does not pin it exactly."""
    try:
        requirements = metadata.requires(PROJECT) or []
    except metadata.PackageNotFoundError as exc:
        raise PinMismatchError(
            f"{PROJECT} is not installed, so the versions it pins are unknown: run `make setup`"
        ) from exc
    for line in requirements:
        match = _PIN.match(line)
        if match and _canonical(match["name"]) == _canonical(distribution):
            return match["v"]
    raise PinMismatchError(f"pyproject.toml does not pin {distribution} with == ({PROJECT})")


def require_pinned(distribution: str, user: str) -> str:
    """The installed version of ``distribution``, which must be the pinned one: ``user`` (what
    depends on it) names itself in the error otherwise."""
    expected = pinned_version(distribution)
    try:
        installed = metadata.version(distribution)
    except metadata.PackageNotFoundError as exc:
        raise PinMismatchError(
            f"{user} needs {distribution}=={expected}, which is not installed: run `make setup`"
        ) from exc
    if installed != expected:
        raise PinMismatchError(
            f"{user} was written for {distribution}=={expected} (pinned in pyproject.toml) but "
            f"{distribution} {installed} is installed: reinstall the pinned version (`make "
            f"setup`), or move the pin only after checking {user} against the new version"
        )
    return installed
