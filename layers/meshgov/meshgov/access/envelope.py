"""An EventBridge event as the access functions receive it (the SQS message body).

``account`` is the account the event was put in, set by EventBridge and kept across the one
forwarding hop: it is the only sender identity meshgov trusts (never an id inside ``detail``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from meshgov.errors import EventMalformedError


@dataclass(frozen=True)
class Envelope:
    event_id: str
    source: str
    detail_type: str
    account: str
    detail: Mapping[str, Any]
    resources: tuple[str, ...] = ()  # e.g. the invitation and share ARNs of a RAM event

    @classmethod
    def parse(cls, body: str) -> Envelope:
        try:
            data = json.loads(body)
            return cls(
                event_id=str(data["id"]),
                source=str(data["source"]),
                detail_type=str(data["detail-type"]),
                account=str(data["account"]),
                detail=dict(data["detail"]),
                resources=tuple(str(r) for r in data.get("resources") or ()),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise EventMalformedError(f"not an EventBridge event: {exc}") from exc
