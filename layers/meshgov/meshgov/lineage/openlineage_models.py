"""The OpenLineage run event, validated by openlineage-python's own models (1.54.0).

``openlineage.client``'s package ``__init__`` imports the whole client (``OpenLineageClient``,
its HTTP transports: requests, httpx2, asyncio, PyYAML): about 190 ms and a dozen distributions a
Lambda function that only reads events does not need. The models themselves are
``openlineage.client.generated.base`` (what ``openlineage.client.event_v2`` re-exports), which
needs only ``attrs``, ``openlineage.client.constants`` and ``openlineage.client.utils``.
:func:`models` imports exactly those: ``openlineage`` is a namespace package (no code runs), and
``openlineage.client`` is stood in for by an empty package of the same path while the three
modules load, then removed, so a later ``import openlineage.client`` (the CLI's, a test's) runs
the real ``__init__`` and finds these same modules already imported.

:func:`run_event` builds the ``RunEvent`` the way the models' constructors check it (eventTime
ISO 8601 with a time, runId a UUID, eventType one of the spec's), after checking what attrs does
not (types, required fields: https://openlineage.io/apidocs/openapi/ ``RunEvent``).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

BASE = "openlineage.client.generated.base"
CLIENT = "openlineage.client"


class RunEventInvalidError(ValueError):
    """The detail is not an OpenLineage RunEvent the models accept (the reason says why)."""


def models() -> Any:
    """``openlineage.client.generated.base``, without the client's package ``__init__``."""
    if BASE in sys.modules:
        return sys.modules[BASE]
    if CLIENT in sys.modules:
        return importlib.import_module(BASE)
    spec = importlib.util.find_spec("openlineage")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    client = next(
        (Path(p) / "client" for p in locations if (Path(p) / "client/generated/base.py").exists()),
        None,
    )
    if client is None:
        raise ImportError("openlineage-python's models are not installed")
    shell = types.ModuleType(CLIENT)
    shell.__path__ = [str(client)]
    sys.modules[CLIENT] = shell
    try:
        return importlib.import_module(BASE)
    finally:
        if sys.modules.get(CLIENT) is shell:
            del sys.modules[CLIENT]
            parent = sys.modules.get("openlineage")
            if parent is not None and getattr(parent, "client", None) is shell:
                delattr(parent, "client")


def run_event(detail: Any) -> Any:
    """The ``RunEvent`` of an event's detail; :class:`RunEventInvalidError` if it is none."""
    base = models()
    if not isinstance(detail, Mapping):
        raise RunEventInvalidError("the detail is not a JSON object")
    run, job = _object(detail, "run"), _object(detail, "job")
    event_type = detail.get("eventType")
    inputs = [_dataset(d, "inputs") for d in _list(detail, "inputs")]
    outputs = [_dataset(d, "outputs") for d in _list(detail, "outputs")]
    # Built part by part, so a refusal names the field the models' validators rejected.
    built = _checked("run.runId", lambda: base.Run(runId=_text(run, "runId", "run.")))
    kind = _checked("eventType", lambda: None if event_type is None else base.EventType(event_type))
    return _checked(
        "eventTime",
        lambda: base.RunEvent(
            eventTime=_text(detail, "eventTime"),
            producer=_text(detail, "producer"),
            run=built,
            job=base.Job(
                namespace=_text(job, "namespace", "job."), name=_text(job, "name", "job.")
            ),
            eventType=kind,
            inputs=[base.InputDataset(*d) for d in inputs],
            outputs=[base.OutputDataset(*d) for d in outputs],
        ),
    )


def _checked(field: str, build: Callable[[], Any]) -> Any:
    try:
        return build()
    except RunEventInvalidError:
        raise
    except (ValueError, TypeError, OverflowError) as exc:  # the models' own validators
        raise RunEventInvalidError(f"{field} refused by the OpenLineage models: {exc}") from exc


def _object(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    if not isinstance(value, Mapping):
        raise RunEventInvalidError(f"{key} must be an object")
    return value


def _list(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key, [])
    if value is None:
        return []
    if not isinstance(value, list):
        raise RunEventInvalidError(f"{key} must be a list")
    return value


def _text(data: Mapping[str, Any], key: str, prefix: str = "") -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise RunEventInvalidError(f"{prefix}{key} must be a non-empty string")
    return value


def _dataset(data: Any, where: str) -> tuple[str, str]:
    if not isinstance(data, Mapping):
        raise RunEventInvalidError(f"each of {where} must be an object")
    return _text(data, "namespace", f"{where}[]."), _text(data, "name", f"{where}[].")
