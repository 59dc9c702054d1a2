r"""What EventBridge refuses in a customer's ``PutEvents`` request, which moto accepts.

Followed documents:

- Entries per request, https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html
  (``Entries``: "Array Members: Minimum number of 1 item. Maximum number of 10 items."). A request
  over it fails as a whole with ``ValidationException`` (moto's own text, kept here).
- Entry size, "Calculating Amazon EventBridge PutEvents event entry size",
  https://docs.aws.amazon.com/eventbridge/latest/userguide/calculate-putevents-entry-size.html:
  ``Time``, if specified, is 14 bytes; ``Source`` and ``DetailType`` the bytes of their UTF-8
  encoded forms; ``Detail`` and each ``Resources`` item, if specified, the same. "You can batch
  multiple event entries into one request for efficiency. However, the total entry size must be
  less than" the limit, so the sum over the request's entries is checked, and a request at or over
  it fails as a whole: ``ValidationException: Total size of the entries in the request is over the
  limit.`` (the text AWS returns, as reported in
  https://github.com/awslabs/aws-service-catalog-puppet/issues/537).
- The limit itself: 1 MB. "AWS has raised the maximum payload size from 256 KB to 1 MB for
  asynchronous AWS Lambda function invocations, Amazon SQS, and Amazon EventBridge"
  (https://aws.amazon.com/blogs/compute/more-room-to-build-serverless-services-now-support-payloads-up-to-1-mb,
  29 January 2026); the current PutEvents reference says "the total entry size must be less than
  1MB" (https://docs.aws.amazon.com/cli/latest/reference/events/put-events.html). Pages not yet
  updated still say 256 KB. 1 MB is read as 1 MiB (1,048,576 bytes), as for SQS's 1 MiB.
- Reserved sources. Sources starting with ``aws.`` belong to AWS services: the PutEvents
  templates of EventBridge Scheduler refuse them outright (``Source`` pattern
  ``(?=[/\.\-_A-Za-z0-9]+)((?!aws\.).*)|...``,
  https://docs.aws.amazon.com/scheduler/latest/APIReference/API_EventBridgeParameters.html) and a
  customer's ``PutEvents`` entry with such a source fails, alone, with
  ``NotAuthorizedForSourceException`` ("You do not have permissions to publish events with this
  source onto this event bus",
  https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEventsResultEntry.html),
  message ``Not authorized for the source.`` (as AWS answers it, reported on
  https://repost.aws/questions/QU9O1i3AITRTqn32Kf6yTxFA/eventbridge-to-lambda-notauthorizedforsourceexception).
  "By default, if an individual entry within a request fails, EventBridge continues processing the
  rest of the entries in the request" (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevents.html),
  and the failed entry counts in ``FailedEntryCount``.

Only the *API* is checked (moto's ``EventsHandler.put_events``): the events AWS services put
themselves (:mod:`.glue_events`, :mod:`.ram_sharing`) and cross-account forwarding
(:mod:`.eventbridge`) go to the backend directly, as on AWS, where no customer request carries them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from moto.events.exceptions import ValidationException
from moto.events.models import events_backends
from moto.events.responses import EventsHandler

from ._patching import patch_attr

MAX_ENTRIES = 10
MAX_REQUEST_ENTRY_BYTES = 1024 * 1024
"""The request's total entry size must be *less than* this (see the module docstring)."""
TIME_BYTES = 14
RESERVED_SOURCE_PREFIX = "aws."

TOO_MANY_ENTRIES = (
    "1 validation error detected: Value '[PutEventsRequestEntry]' at 'entries' failed to "
    "satisfy constraint: Member must have length less than or equal to 10"
)
OVER_SIZE_LIMIT = "Total size of the entries in the request is over the limit."
NOT_AUTHORIZED_FOR_SOURCE = {
    "ErrorCode": "NotAuthorizedForSourceException",
    "ErrorMessage": "Not authorized for the source.",
}


def _utf8_len(value: Any) -> int:
    return len(str(value).encode("utf-8"))


def entry_size(entry: Mapping[str, Any]) -> int:
    """The size of one ``PutEventsRequestEntry`` as EventBridge calculates it."""
    size = TIME_BYTES if entry.get("Time") is not None else 0
    size += _utf8_len(entry.get("Source") or "") + _utf8_len(entry.get("DetailType") or "")
    if entry.get("Detail") is not None:
        size += _utf8_len(entry["Detail"])
    for resource in entry.get("Resources") or []:
        if resource is not None:
            size += _utf8_len(resource)
    return size


def request_size(entries: Sequence[Mapping[str, Any]]) -> int:
    """The total entry size of a ``PutEvents`` request."""
    return sum(entry_size(entry) for entry in entries)


def check_request(entries: Sequence[Mapping[str, Any]]) -> None:
    """Refuse, as a whole, a request AWS refuses as a whole."""
    if len(entries) > MAX_ENTRIES:
        raise ValidationException(TOO_MANY_ENTRIES)
    if request_size(entries) >= MAX_REQUEST_ENTRY_BYTES:
        raise ValidationException(OVER_SIZE_LIMIT)


def reserved_source(entry: Mapping[str, Any]) -> bool:
    """Whether the entry claims a source only AWS services may use."""
    return str(entry.get("Source") or "").startswith(RESERVED_SOURCE_PREFIX)


def put_events(self: Any) -> str:
    """``PutEvents`` as a customer calls it: request limits, then per-entry source refusal."""
    entries: list[dict[str, Any]] = list(self._get_param("Entries") or [])
    check_request(entries)
    allowed = [entry for entry in entries if not reserved_source(entry)]
    results: Iterator[dict[str, Any]] = iter(
        self.events_backend.put_events(allowed) if allowed else []
    )
    answered = [
        dict(NOT_AUTHORIZED_FOR_SOURCE) if reserved_source(entry) else next(results)
        for entry in entries
    ]
    failed = sum(1 for result in answered if "ErrorCode" in result)
    return json.dumps({"FailedEntryCount": failed, "Entries": answered})


def put_service_event(account_id: str, region: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    """Put ``entry`` on a bus of ``account_id`` as an AWS service does (its ``aws.*`` source is
    its own): straight to the bus, past the customer API's checks. For events the emulator has no
    service to emit (a Glue job's state, say); catalog changes come from :mod:`.glue_events`."""
    [result] = events_backends[account_id][region].put_events([dict(entry)])
    return dict(result)


def install() -> None:
    patch_attr(EventsHandler, "put_events", put_events)
