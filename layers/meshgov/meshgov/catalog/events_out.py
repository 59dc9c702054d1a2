"""Events meshgov emits about the catalog (source ``meshgov.catalog``) on the central bus."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from meshgov.errors import CatalogWriteError

SOURCE = "meshgov.catalog"
BREAKING_SCHEMA_CHANGE = "Breaking Schema Change"
DATABASE_PUBLISHED = "Database Published"


class CatalogEventPublisher:
    def __init__(self, events: Any, bus_name: str) -> None:
        self._events = events
        self._bus = bus_name

    def publish(self, detail_type: str, detail: Mapping[str, Any], resources: list[str]) -> None:
        entry = {
            "Source": SOURCE,
            "DetailType": detail_type,
            "Detail": json.dumps(detail, sort_keys=True, default=str),
            "EventBusName": self._bus,
            "Resources": resources,
        }
        try:
            response = self._events.put_events(Entries=[entry])
        except ClientError as exc:
            raise CatalogWriteError(f"PutEvents {detail_type} failed: {exc}") from exc
        if response.get("FailedEntryCount"):
            raise CatalogWriteError(f"PutEvents {detail_type} failed: {response['Entries']}")
