"""The platform team's side of the registry: a change requested as one event on the central bus.

``meshgov accounts add|remove`` and the local mesh put it; the access function obeys it
(:mod:`meshgov.registry.members`). Nothing else writes the registry.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from meshgov.contracts.registry_events import REGISTRY_SOURCE
from meshgov.errors import MeshgovError


class RegistryRequestError(MeshgovError):
    """EventBridge did not take the event (nothing was requested)."""


def put_registry_change(
    events: Any, bus_name: str, detail_type: str, detail: Mapping[str, Any]
) -> str:
    """Put one ``meshgov.registry`` event on ``bus_name``; its event id (the correlation id of
    the audit record that answers it)."""
    response = events.put_events(
        Entries=[
            {
                "Source": REGISTRY_SOURCE,
                "DetailType": detail_type,
                "Detail": json.dumps(dict(detail), sort_keys=True),
                "EventBusName": bus_name,
            }
        ]
    )
    entry = response["Entries"][0]
    if response.get("FailedEntryCount") or "EventId" not in entry:
        raise RegistryRequestError(
            f"PutEvents {detail_type} failed: {entry.get('ErrorMessage', entry)}"
        )
    return str(entry["EventId"])
