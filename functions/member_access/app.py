"""MemberAccess (member accounts): answer RAM invitations (trusted senders only), make resource
links and local grants for ``Access Granted``, undo them for ``Access Revoked``.

Fed by an SQS queue (the member's ``aws.ram`` events and central's access events) and by a
schedule (invitations can be missed and expire after about 12 hours).
"""

from __future__ import annotations

import json
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
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel, SqsModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from meshgov.access.envelope import Envelope
from meshgov.access.wiring import build_member_service, dead_letters_for, process_batch
from meshgov.aws.session import AwsSessions, new_session
from meshgov.catalog.service import QueueMessage
from meshgov.settings import MemberSettings

logger = Logger()
tracer = Tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = MemberSettings.from_env(os.environ)
    sessions = AwsSessions(new_session())
    service = build_member_service(settings, sessions)
    if "Records" not in event:  # the schedule: answer pending invitations
        scheduled = parse(event=event, model=EventBridgeModel)
        report = service.handle(Envelope.parse(json.dumps(event, default=str)))
        metrics.add_metric("MemberActions", MetricUnit.Count, len(report.actions))
        return {"id": scheduled.id, "actions": len(report.actions)}
    batch = parse(event=event, model=SqsModel)
    result = process_batch(
        [QueueMessage(r.messageId, str(r.body)) for r in batch.Records],
        service.handle,
        dead_letters_for(sessions, settings.dead_letter_queue_url),
        None,
    )
    metrics.add_metric("MemberEventsHandled", MetricUnit.Count, result.handled)

    def check(record: SQSRecord) -> None:
        result.check(record.message_id)

    return dict(
        process_partial_response(
            event=event, record_handler=check, processor=processor, context=context
        )
    )
