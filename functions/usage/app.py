"""Usage: Lake Formation data accesses forwarded by members (central bus -> SQS) are counted per
central table, principal and day; forged, unpublished and stale ones are refused and audited.

Validate the SQS event (Powertools Parser), hand it to the library in one call, which counts the
batch whole and reports partial failures (Powertools batch processing) so only failed messages
are retried, then dead-lettered.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import SqsModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from meshgov.aws.session import AwsSessions, new_session
from meshgov.aws.sqs_batch import run_whole
from meshgov.settings import UsageSettings
from meshgov.usage.service import UsageBatchResult, build_usage_service

ACTOR = "meshgov:usage"
logger = Logger()
tracer = Tracer()
metrics = Metrics()


def tally(result: UsageBatchResult) -> None:
    metrics.add_metric("DataAccessesCounted", MetricUnit.Count, result.counted)
    metrics.add_metric("DataAccessesRefused", MetricUnit.Count, sum(result.refused.values()))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    parse(event=event, model=SqsModel)  # not Lambda's SQS event: the invocation fails whole
    settings = UsageSettings.from_env(os.environ)
    service = build_usage_service(settings, AwsSessions(new_session()), ACTOR)
    return run_whole(event, context, service.process, tally)
