"""Events meshgov emits about the catalog (source ``meshgov.catalog``).

On the central bus: ``Breaking Schema Change`` and ``Database Published`` (the access function
acts on both). On a producer's own ``meshgov`` bus (one hop, as the access function re-publishes
access events; the member stack's bus policy lets the central account put events there):
``Name Refused``, which concerns that producer alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from meshgov.contracts.glue_events import (
    BREAKING_SCHEMA_CHANGE,
    DATABASE_PUBLISHED,
    NAME_REFUSED,
)
from meshgov.contracts.glue_events import CATALOG_SOURCE as SOURCE
from meshgov.errors import CatalogWriteError

# The names live in meshgov.contracts.glue_events; the emitters import them from here.
__all__ = [
    "BREAKING_SCHEMA_CHANGE",
    "DATABASE_PUBLISHED",
    "NAME_REFUSED",
    "SOURCE",
    "CatalogEventPublisher",
]


class CatalogEventPublisher:
    def __init__(
        self,
        events: Any,
        bus_name: str,
        member_bus: Callable[[str], str] | None = None,
    ) -> None:
        """``member_bus`` gives the ARN of an account's ``meshgov`` bus (needed by :meth:`tell`)."""
        self._events = events
        self._bus = bus_name
        self._member_bus = member_bus

    def publish(self, detail_type: str, detail: Mapping[str, Any], resources: list[str]) -> None:
        """Put an event on the central bus."""
        self._put(self._bus, detail_type, detail, resources)

    def tell(
        self, account_id: str, detail_type: str, detail: Mapping[str, Any], resources: list[str]
    ) -> None:
        """Put an event on ``account_id``'s own ``meshgov`` bus."""
        if self._member_bus is None:
            raise CatalogWriteError(f"PutEvents {detail_type}: no member bus configured")
        self._put(self._member_bus(account_id), detail_type, detail, resources)

    def _put(
        self, bus: str, detail_type: str, detail: Mapping[str, Any], resources: list[str]
    ) -> None:
        entry = {
            "Source": SOURCE,
            "DetailType": detail_type,
            "Detail": json.dumps(detail, sort_keys=True, default=str),
            "EventBusName": bus,
            "Resources": resources,
        }
        try:
            response = self._events.put_events(Entries=[entry])
        except ClientError as exc:
            raise CatalogWriteError(f"PutEvents {detail_type} failed: {exc}") from exc
        if response.get("FailedEntryCount"):
            raise CatalogWriteError(f"PutEvents {detail_type} failed: {response['Entries']}")
