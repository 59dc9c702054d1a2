"""MemberAccess (member accounts): answer RAM invitations (trusted senders only), make resource
links and local grants for ``Access Granted``, undo them for ``Access Revoked``.

Fed by an SQS queue (the member's ``aws.ram`` events and central's access events) and by a
schedule (invitations can be missed and expire after about 12 hours). Either way each EventBridge
event is parsed once (:class:`meshgov.access.envelope.Envelope`): the schedule's is the
invocation event itself, a queued one the body of its message.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import SqsModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from meshgov.access.envelope import Envelope
from meshgov.access.wiring import build_member_service, process_batch
from meshgov.aws.session import AwsSessions, new_session
from meshgov.aws.sqs_batch import EachResult, dead_letters_for
from meshgov.settings import MemberSettings

logger = Logger()
tracer = Tracer()
metrics = Metrics()


def tally(result: EachResult) -> None:
    metrics.add_metric("MemberEventsHandled", MetricUnit.Count, result.handled)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = MemberSettings.from_env(os.environ)
    sessions = AwsSessions(new_session())
    service = build_member_service(settings, sessions)
    if "Records" not in event:  # the schedule: answer pending invitations
        scheduled = Envelope.from_event(event)
        report = service.handle(scheduled)
        metrics.add_metric("MemberActions", MetricUnit.Count, len(report.actions))
        return {"id": scheduled.event_id, "actions": len(report.actions)}
    parse(event=event, model=SqsModel)  # not Lambda's SQS event: the invocation fails whole
    dead_letters = dead_letters_for(sessions, settings.dead_letter_queue_url)
    return process_batch(event, context, service.handle, dead_letters, None, tally)
