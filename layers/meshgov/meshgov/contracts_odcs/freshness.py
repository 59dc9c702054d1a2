"""Freshness: a contracted table's newest data against its contract's SLA, checked by the
catalog sweep; a late product told once per breach (docs/adr/0016-data-contracts.md).

The SLA is the contract's ODCS v3 ``slaProperties``
(https://bitol-io.github.io/open-data-contract-standard/latest/service-level-agreement/):
``frequency`` (how often the data is refreshed) and ``latency`` (how long new data may take to
be available), each a ``value`` with a ``unit`` ("d, day, days for days; y, yr, years for
years"; meshgov also reads seconds, minutes, hours and weeks), optionally for one ``element``
(``table.column``; a bare column when the contract has one object). From the catalog meshgov
sees only when data arrived, so a product is *late* when its newest data is older than
``frequency + latency`` (either alone when only one is given): the next refresh was due one
period after the newest and may take ``latency`` to land.

The newest data, as the central catalog shows it: a partitioned table's newest partition
``CreationTime`` (https://docs.aws.amazon.com/glue/latest/webapi/API_Partition.html); otherwise
(or while it has no partition) :func:`meshgov.discovery.find.freshness` — ``meshgov:synced_at``,
when meshgov last wrote it from the producer's, else the table's ``UpdateTime``
(https://docs.aws.amazon.com/glue/latest/webapi/API_Table.html).

The check itself (reads, events, audit) is :mod:`meshgov.contracts_odcs.freshness_check`.
Breach state lives in the contract head (``freshness``): ``breachedAt`` set when a breach is
told, cleared (``freshness:restored``) when the product is on time again, so a new late period is
a new breach. A new contract version starts with no freshness state.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from meshgov.contracts_odcs.document import ContractRefusedError
from meshgov.contracts_odcs.store import ContractHead

FREQUENCY, LATENCY = "frequency", "latency"
_UNITS: dict[str, int] = {
    **dict.fromkeys(("s", "sec", "second", "seconds"), 1),
    **dict.fromkeys(("m", "min", "minute", "minutes"), 60),
    **dict.fromkeys(("h", "hr", "hour", "hours"), 3600),
    **dict.fromkeys(("d", "day", "days"), 86400),
    **dict.fromkeys(("w", "wk", "week", "weeks"), 7 * 86400),
    **dict.fromkeys(("y", "yr", "year", "years"), 365 * 86400),
}
_NUMBER = re.compile(r"^\d+(\.\d+)?$")


# --- pure decisions ----------------------------------------------------------------------------
def sla_of(document: Mapping[str, Any], table: str) -> dict[str, Any] | None:
    """The freshness SLA a validated ODCS document sets for ``table`` (None: none);
    ``ContractRefusedError`` (``ContractSlaInvalid``) for a value or unit meshgov cannot read,
    so a promise nobody could check is refused at publication rather than silently ignored."""
    seconds: dict[str, int] = {}
    text: list[str] = []
    for prop in document.get("slaProperties") or []:
        kind = str(prop.get("property") or "").strip().lower()
        if kind not in (FREQUENCY, LATENCY) or not _applies(prop.get("element"), table):
            continue
        value, unit = str(prop.get("value", "")).strip(), str(prop.get("unit") or "").strip()
        if not _NUMBER.match(value) or float(value) <= 0 or unit.lower() not in _UNITS:
            raise ContractRefusedError(
                "ContractSlaInvalid",
                f"SLA {kind}: value {value!r} unit {unit!r} is not a positive number of "
                f"{sorted(set(_UNITS))}",
            )
        seconds[kind] = int(float(value) * _UNITS[unit.lower()])
        text.append(f"{kind} {value} {unit}")
    if not seconds:
        return None
    return {
        "frequencySeconds": seconds.get(FREQUENCY),
        "latencySeconds": seconds.get(LATENCY),
        "text": ", ".join(text),
    }


def _applies(element: object, table: str) -> bool:
    """An SLA property without ``element``, or naming ``table.column`` (or a bare column, the
    contract's one object), applies to ``table``."""
    if not element:
        return True
    for part in str(element).split(","):
        obj, dot, _ = part.strip().lower().partition(".")
        if not dot or obj == table.lower():
            return True
    return False


def limit_seconds(sla: Mapping[str, Any]) -> int:
    """How old the newest data may be: frequency plus latency (either alone if one is given)."""
    return int(sla.get("frequencySeconds") or 0) + int(sla.get("latencySeconds") or 0)


def newest_data(
    partitions: Sequence[Mapping[str, Any]], table_time: datetime | None
) -> datetime | None:
    """The newest partition's ``CreationTime``, else ``table_time`` (the table's freshness,
    :func:`meshgov.discovery.find.freshness`)."""
    created = [p["CreationTime"] for p in partitions if isinstance(p.get("CreationTime"), datetime)]
    return max(created) if created else table_time


def late_by(sla: Mapping[str, Any], newest: datetime | None, now: datetime) -> timedelta | None:
    """How late the product is (None: on time, or no data time to judge)."""
    if newest is None:
        return None
    over = now - newest - timedelta(seconds=limit_seconds(sla))
    return over if over > timedelta() else None


def describe(head: ContractHead | None, now: datetime) -> str:
    """What ``find`` shows: ``no SLA``, ``unchecked`` (no sweep yet), ``fresh`` or ``late 3h``,
    from the newest data time the last sweep saw."""
    if head is None or not head.sla:
        return "no SLA"
    seen = (head.freshness or {}).get("newestAt")
    if not seen:
        return "unchecked"
    late = late_by(head.sla, datetime.fromisoformat(seen), now)
    return "fresh" if late is None else f"late {short_duration(late)}"


def short_duration(span: timedelta) -> str:
    """``45m``, ``3h``, ``2d`` (rounded down; at least ``1m``)."""
    seconds = int(span.total_seconds())
    if seconds >= 86400:
        return f"{seconds // 86400}d"
    if seconds >= 3600:
        return f"{seconds // 3600}h"
    return f"{max(seconds // 60, 1)}m"
