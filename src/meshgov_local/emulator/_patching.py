"""Idempotent monkeypatching of moto classes (pinned: moto==5.2.5).

Patches replace attributes of moto's backend and response *classes*, which ``mock_aws()`` and
``ThreadedMotoServer`` share in one process, so one ``install()`` serves both modes. Several
patches may layer on one attribute (``glue_access`` replaces ``GlueBackend.update_table``,
``glue_events`` wraps it); each is applied once, identified by the module that applies it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

_ORIGINALS: dict[tuple[type[Any], str], Any] = {}
_APPLIED: set[tuple[type[Any], str, str]] = set()


def _caller_module() -> str:
    return str(sys._getframe(2).f_globals.get("__name__", "?"))


def _apply(cls: type[Any], name: str, owner: str, replacement: Any) -> bool:
    key = (cls, name, owner)
    if key in _APPLIED:
        return False
    _ORIGINALS.setdefault((cls, name), getattr(cls, name, None))
    setattr(cls, name, replacement)
    _APPLIED.add(key)
    return True


def patch_attr(cls: type[Any], name: str, replacement: Any) -> bool:
    """Set ``cls.name`` to ``replacement`` once per patching module; False if already done."""
    return _apply(cls, name, _caller_module(), replacement)


def wrap_method(
    cls: type[Any], name: str, make: Callable[[Callable[..., Any]], Callable[..., Any]]
) -> bool:
    """Replace ``cls.name`` by ``make(current_method)``, once per patching module."""
    owner = _caller_module()
    if (cls, name, owner) in _APPLIED:
        return False
    wrapped = make(getattr(cls, name))
    wrapped.__name__ = name
    wrapped.__qualname__ = f"{cls.__name__}.{name}"
    return _apply(cls, name, owner, wrapped)


def original(cls: type[Any], name: str) -> Any:
    """The attribute as moto defined it, before any patch."""
    return _ORIGINALS.get((cls, name), getattr(cls, name, None))
