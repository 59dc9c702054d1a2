"""The versions the local mesh was written for: pinned once (pyproject.toml), checked on use."""

from __future__ import annotations

from collections.abc import Callable
from importlib import metadata

import botocore.handlers
import pytest

import meshgov_local.emulator as emulator
from meshgov_local import faults, pins
from meshgov_local.pins import PinMismatchError, pinned_version, require_pinned


def _installed_as(version: str, of: str) -> Callable[[str], str]:
    real = metadata.version

    def version_of(name: str) -> str:
        return version if name == of else real(name)

    return version_of


def test_the_pins_are_read_from_the_projects_metadata() -> None:
    # Given the installed project (pyproject.toml's dependencies) / Then its exact pins are known
    assert pinned_version("moto") == metadata.version("moto") == "5.2.5"
    assert pinned_version("botocore") == metadata.version("botocore")
    assert pinned_version("boto3") == metadata.version("boto3")
    assert require_pinned("moto", "x") == "5.2.5"


def test_a_range_is_not_a_pin() -> None:
    with pytest.raises(PinMismatchError, match="does not pin pyarrow with =="):
        pinned_version("pyarrow")


def test_the_emulator_refuses_a_moto_it_was_not_written_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given another moto installed than the one pinned (and the emulator not yet installed)
    monkeypatch.setattr(pins.metadata, "version", _installed_as("5.3.0", "moto"))
    monkeypatch.setattr(emulator, "_installed", False)

    # When the emulator is installed / Then it says which versions, and patches nothing
    with pytest.raises(PinMismatchError) as caught:
        emulator.install()
    assert "moto==5.2.5" in str(caught.value) and "moto 5.3.0 is installed" in str(caught.value)
    assert emulator._installed is False


def test_the_fault_injector_refuses_a_botocore_it_was_not_written_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given another botocore installed than the pinned one, and sessions without the hooks yet
    monkeypatch.setattr(pins.metadata, "version", _installed_as("1.99.0", "botocore"))
    before = [
        spec
        for spec in botocore.handlers.BUILTIN_HANDLERS
        if spec[1] not in (faults._transport, faults._remember_service)
    ]
    monkeypatch.setattr(botocore.handlers, "BUILTIN_HANDLERS", list(before))

    # When fault injection is installed / Then it refuses, registering nothing
    with pytest.raises(PinMismatchError, match=r"botocore 1\.99\.0 is installed"):
        faults.install()
    assert before == botocore.handlers.BUILTIN_HANDLERS
