"""Usage: Lake Formation data accesses forwarded by members (central bus -> SQS) are counted per
central table, principal and day; forged, unpublished and stale ones are refused and audited.

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

from meshgov.aws.session import AwsSessions, new_session
from meshgov.catalog.service import QueueMessage
from meshgov.settings import UsageSettings
from meshgov.usage.service import build_usage_service

ACTOR = "meshgov:usage"
logger = Logger()
tracer = Tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    batch = parse(event=event, model=SqsModel)
    settings = UsageSettings.from_env(os.environ)
    service = build_usage_service(settings, AwsSessions(new_session()), ACTOR)
    result = service.process([QueueMessage(r.messageId, str(r.body)) for r in batch.Records])
    metrics.add_metric("DataAccessesCounted", MetricUnit.Count, result.counted)
    metrics.add_metric("DataAccessesRefused", MetricUnit.Count, sum(result.refused.values()))

    def check(record: SQSRecord) -> None:
        result.check(record.message_id)

    return dict(
        process_partial_response(
            event=event, record_handler=check, processor=processor, context=context
        )
    )
