"""Glue timestamps follow the emulator's clock (:meth:`EmulatorControls.now`).

Glue stamps what it stores with the time of the call: a partition's ``CreationTime`` ("The time
at which the partition was created", https://docs.aws.amazon.com/glue/latest/webapi/API_Partition.html),
a table's ``CreateTime``/``UpdateTime`` (https://docs.aws.amazon.com/glue/latest/webapi/API_Table.html).
moto reads the wall clock (``moto.glue.models.utcnow``), so after
:meth:`EmulatorControls.advance_time` a partition created "now" would look as old as the offset,
and a freshness check (:mod:`meshgov.contracts_odcs.freshness`) could never see a product back on
time. This patch makes moto's Glue models read the emulated clock instead (naive UTC, as moto's
own ``utcnow``), and so does :mod:`.glue_access`'s ``UpdateTable``.
"""

from __future__ import annotations

from datetime import datetime

from moto.glue import models as glue_models

from . import glue_access
from ._patching import patch_attr
from .controls import controls


def emulated_utcnow() -> datetime:
    """The emulated time, naive UTC (what moto's ``utcnow`` returns)."""
    return controls.now().replace(tzinfo=None)


def install() -> None:
    patch_attr(glue_models, "utcnow", emulated_utcnow)
    # glue_access's UpdateTable stamps UpdateTime with its own import of moto's utcnow.
    patch_attr(glue_access, "utcnow", emulated_utcnow)  # type: ignore[arg-type]
