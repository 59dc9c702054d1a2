"""An EventBridge event as the access functions receive it: the body of an SQS message, or the
invocation event itself (the member function's schedule). One parser for both: a body is decoded
once and read as the event it holds, never re-serialized to be parsed again.

``account`` is the account the event was put in, set by EventBridge and kept across the one
forwarding hop: it is the only sender identity meshgov trusts (never an id inside ``detail``).
Envelope fields: https://docs.aws.amazon.com/eventbridge/latest/ref/overiew-event-structure.html
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
        """The event in an SQS message body."""
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise EventMalformedError(f"not an EventBridge event: {exc}") from exc
        return cls.from_event(data)

    @classmethod
    def from_event(cls, data: Any) -> Envelope:
        """An event already decoded (a body's JSON, or a scheduled invocation's event)."""
        try:
            return cls(
                event_id=str(data["id"]),
                source=str(data["source"]),
                detail_type=str(data["detail-type"]),
                account=str(data["account"]),
                detail=dict(data["detail"]),
                resources=tuple(str(r) for r in data.get("resources") or ()),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise EventMalformedError(f"not an EventBridge event: {exc}") from exc


def event_id_of(body: str) -> str | None:
    """The EventBridge event id in an SQS message body, if it has one: the correlation id of the
    records about that message, whether or not the rest of it parses."""
    try:
        value = json.loads(body).get("id")
    except (ValueError, AttributeError):
        return None
    return str(value) if value else None
