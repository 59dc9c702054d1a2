"""AccessRequests: access requests, producer decisions, revocations and member reports
(central bus -> SQS) become recorded state transitions, Lake Formation grants and events.

Parse the SQS batch (Powertools Parser), hand it to the library in one call, report partial
failures (Powertools batch processing) so only failed messages are retried, then dead-lettered.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import SqsModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from meshgov.access.wiring import (
    build_access_service,
    central_auditor,
    dead_letters_for,
    process_batch,
)
from meshgov.aws.session import AwsSessions, new_session
from meshgov.catalog.service import QueueMessage
from meshgov.settings import AccessSettings

ACTOR = "meshgov:access-requests"
logger = Logger()
tracer = Tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    batch = parse(event=event, model=SqsModel)
    settings = AccessSettings.from_env(os.environ)
    sessions = AwsSessions(new_session())
    service = build_access_service(settings, sessions, ACTOR)
    result = process_batch(
        [QueueMessage(r.messageId, str(r.body)) for r in batch.Records],
        service.handle,
        dead_letters_for(sessions, settings.dead_letter_queue_url),
        central_auditor(settings, sessions, ACTOR),
    )
    metrics.add_metric("AccessEventsHandled", MetricUnit.Count, result.handled)
    metrics.add_metric("AccessEventsDeadLettered", MetricUnit.Count, len(result.dead_lettered))

    def check(record: SQSRecord) -> None:
        result.check(record.message_id)

    return dict(
        process_partial_response(
            event=event, record_handler=check, processor=processor, context=context
        )
    )
