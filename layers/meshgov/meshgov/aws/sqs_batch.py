"""The one runner of meshgov's SQS-fed functions, on Powertools' partial batch processor.

Lambda reads a batch of messages from the queue; the function reports the ones that failed in
``batchItemFailures`` and Lambda returns only those to the queue (visible again, retried, then
moved to the dead-letter queue by the redrive policy), deleting the rest
(https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html). Powertools'
``BatchProcessor`` builds that response; when every message failed it raises instead, and the
whole batch comes back (https://docs.powertools.aws.dev/lambda/python/latest/utilities/batch/).

Two ways to run a batch, one response:

- :func:`run_each`: one message at a time, in order (an access request and its decision may share
  a batch); a message fails when its handling raises.
- :func:`run_whole`: the whole batch in one pass (the catalog groups events per table, usage
  counts per group with one write each), then each message is reported by the failures that
  pass returned.

A message that can never succeed is not retried five times: :func:`park` audits it (where the
caller has a trail) and sends it to the dead-letter queue at once, with the reason
(:class:`DeadLetters`), for ``meshgov dlq replay``.

Only this module of the layer imports Powertools, and only its batch utility (no handler
decorator): the domain stays testable without Lambda's runtime objects.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSEvent, SQSRecord
from botocore.exceptions import BotoCoreError, ClientError

from meshgov.aws.session import AwsSessions
from meshgov.errors import EventRejectedError, MeshgovError


@dataclass(frozen=True)
class QueueMessage:
    """An SQS message as meshgov reads it: its id (for ``batchItemFailures``) and its body."""

    message_id: str
    body: str
    # SQS's ApproximateReceiveCount: 1 on the first delivery (a work item's last try is known).
    receive_count: int = 1


class MessageFailedError(MeshgovError):
    """A message whose work failed: the runner reports it in ``batchItemFailures`` for retry."""


class Outcome(enum.Enum):
    """What became of a message that did not fail."""

    HANDLED = "handled"
    DEAD_LETTERED = "dead-lettered"  # refused: audited and parked, never retried


class HasFailures(Protocol):
    """A whole-batch pass's result: the messages that failed, by id, with the reason."""

    @property
    def failed(self) -> Mapping[str, str]: ...


@dataclass
class EachResult:
    """The tally of :func:`run_each` (for the handler's metrics)."""

    handled: int = 0
    dead_lettered: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # message id -> reason


class DeadLetters:
    """Sends a message that can never succeed straight to the dead-letter queue, with the reason.

    Retrying a malformed event five times changes nothing; the DLQ keeps it for ``dlq replay``.
    The reason travels as message attributes (``meshgov-error-code``, ``meshgov-error``), which
    :mod:`meshgov.deadletters` reads back.
    """

    def __init__(self, sqs: Any, queue_url: str) -> None:
        self._sqs = sqs
        self._url = queue_url

    def send(self, body: str, error: EventRejectedError) -> None:
        self._sqs.send_message(
            QueueUrl=self._url,
            MessageBody=body,
            MessageAttributes={
                "meshgov-error-code": {"DataType": "String", "StringValue": error.code},
                "meshgov-error": {"DataType": "String", "StringValue": str(error)[:1000]},
            },
        )


def dead_letters_for(sessions: AwsSessions, queue_url: str | None) -> DeadLetters | None:
    """The function's dead-letter queue, if it has one (its client is made only then)."""
    return DeadLetters(sessions.client("sqs"), queue_url) if queue_url else None


def park(
    message: QueueMessage,
    error: EventRejectedError,
    dead_letters: DeadLetters | None,
    audit: Callable[[], None] | None = None,
) -> Outcome:
    """Refuse a message for good: audit it (``audit``, if the function has a trail), then send it
    to the dead-letter queue. If either fails, or there is no queue to park it in, the message
    fails instead and stays on its queue: SQS redrive parks it after its retries."""
    try:
        if audit is not None:
            audit()
        if dead_letters is not None:
            dead_letters.send(message.body, error)
    except (MeshgovError, ClientError, BotoCoreError) as failure:
        raise MessageFailedError(f"{error}; then {failure}") from failure
    if dead_letters is None:
        raise MessageFailedError(f"{error} (no dead-letter queue: left to SQS redrive)")
    return Outcome.DEAD_LETTERED


def messages_of(event: Mapping[str, Any]) -> list[QueueMessage]:
    """The messages of Lambda's SQS event, in the order Lambda gave them."""
    return [_message(r) for r in SQSEvent(dict(event)).records]


def _message(record: SQSRecord) -> QueueMessage:
    count = record.attributes.approximate_receive_count
    return QueueMessage(record.message_id, record.body, int(count) if count else 1)


def run_each(
    event: dict[str, Any],
    context: Any,
    handle: Callable[[QueueMessage], Outcome],
    tally: Callable[[EachResult], None] = lambda _: None,
) -> dict[str, Any]:
    """Handle each message in order; a message whose handling raises is reported failed (and
    only it: the others are deleted from the queue). ``tally`` gets the counts once every message
    was handled, even when all failed and the invocation fails (the handler's metrics)."""
    result = EachResult()

    def record_handler(record: SQSRecord) -> None:
        message = _message(record)
        try:
            outcome = handle(message)
        except Exception as exc:
            result.failed[message.message_id] = f"{type(exc).__name__}: {exc}"
            raise
        if outcome is Outcome.DEAD_LETTERED:
            result.dead_lettered.append(message.message_id)
        else:
            result.handled += 1

    try:
        return _respond(event, context, record_handler)
    finally:
        tally(result)


def run_whole[R: HasFailures](
    event: dict[str, Any],
    context: Any,
    process: Callable[[Sequence[QueueMessage]], R],
    tally: Callable[[R], None] = lambda _: None,
) -> dict[str, Any]:
    """Process the whole batch in one pass, then report each message it says failed. ``tally``
    gets the pass's result first (the handler's metrics), as the batch is reported after it."""
    result = process(messages_of(event))
    tally(result)
    failed = result.failed

    def record_handler(record: SQSRecord) -> None:
        if record.message_id in failed:
            raise MessageFailedError(failed[record.message_id])

    return _respond(event, context, record_handler)


def _respond(
    event: dict[str, Any], context: Any, record_handler: Callable[[SQSRecord], None]
) -> dict[str, Any]:
    # A processor per invocation: nothing of one batch's outcome can leak into the next.
    processor = BatchProcessor(event_type=EventType.SQS)
    return dict(
        process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    )
