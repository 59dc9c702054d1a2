"""Lineage: OpenLineage run events put on central's bus by the members' jobs (central bus -> SQS)
are validated with openlineage-python's models and kept as a graph; malformed, too large and
foreign-output events are refused and audited, nothing stored.

Validate the SQS event (Powertools Parser), hand the batch to the library in one call, report
partial failures (Powertools batch processing) so only failed messages are retried.
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
from meshgov.lineage.service import LineageBatchResult, build_lineage_service
from meshgov.settings import LineageSettings

ACTOR = "meshgov:lineage"
logger = Logger()
tracer = Tracer()
metrics = Metrics()


def tally(result: LineageBatchResult) -> None:
    metrics.add_metric("LineageRunsRecorded", MetricUnit.Count, result.recorded)
    metrics.add_metric("LineageRunsRefused", MetricUnit.Count, sum(result.refused.values()))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    parse(event=event, model=SqsModel)  # not Lambda's SQS event: the invocation fails whole
    settings = LineageSettings.from_env(os.environ)
    service = build_lineage_service(settings, AwsSessions(new_session()), ACTOR)
    return run_whole(event, context, service.process, tally)
