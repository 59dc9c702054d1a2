"""AccessRequests: access requests, producer decisions, revocations and member reports
(central bus -> SQS) become recorded state transitions, Lake Formation grants and events.

Validate the SQS event (Powertools Parser), hand it to the library in one call, which handles
each message in order and reports partial failures (Powertools batch processing) so only failed
messages are retried, then dead-lettered.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import SqsModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from meshgov.access.wiring import build_access_service, central_auditor, process_batch
from meshgov.aws.session import AwsSessions, new_session
from meshgov.aws.sqs_batch import EachResult, dead_letters_for
from meshgov.settings import AccessSettings

ACTOR = "meshgov:access-requests"
logger = Logger()
tracer = Tracer()
metrics = Metrics()


def tally(result: EachResult) -> None:
    metrics.add_metric("AccessEventsHandled", MetricUnit.Count, result.handled)
    metrics.add_metric("AccessEventsDeadLettered", MetricUnit.Count, len(result.dead_lettered))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    parse(event=event, model=SqsModel)  # not Lambda's SQS event: the invocation fails whole
    settings = AccessSettings.from_env(os.environ)
    sessions = AwsSessions(new_session())
    return process_batch(
        event,
        context,
        build_access_service(settings, sessions, ACTOR).handle,
        dead_letters_for(sessions, settings.dead_letter_queue_url),
        central_auditor(settings, sessions, ACTOR),
        tally,
    )
