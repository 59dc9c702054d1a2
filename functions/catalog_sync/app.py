"""CatalogSync: Glue catalog events (EventBridge -> SQS) -> the central catalog converges.

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
from meshgov.catalog.service import QueueMessage, build_catalog_service
from meshgov.settings import CatalogSettings

logger = Logger()
tracer = Tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    batch = parse(event=event, model=SqsModel)
    settings = CatalogSettings.from_env(os.environ)
    service = build_catalog_service(settings, AwsSessions(new_session()), "meshgov:catalog-sync")
    result = service.process([QueueMessage(r.messageId, str(r.body)) for r in batch.Records])
    report = result.report
    metrics.add_metric(
        "TablesChanged",
        MetricUnit.Count,
        report.tables_created + report.tables_updated + report.tables_deleted,
    )
    metrics.add_metric("EventsDeadLettered", MetricUnit.Count, len(result.dead_lettered))

    def check(record: SQSRecord) -> None:
        result.check(record.message_id)

    return dict(
        process_partial_response(
            event=event, record_handler=check, processor=processor, context=context
        )
    )
