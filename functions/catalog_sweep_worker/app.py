"""CatalogSweepWorker: one work item of a fan-out catalog sweep (SweepQueue -> SQS).

Validate the SQS event (Powertools Parser), hand the batch to the library in one call, which
works each item (a producer's databases, or one page of a database) and reports the failed ones
for retry (Powertools batch processing); the queue dead-letters an item after its retries.
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
from meshgov.catalog.service import BatchResult, build_catalog_service
from meshgov.settings import CatalogSettings

logger = Logger()
tracer = Tracer()
metrics = Metrics()


def tally(result: BatchResult) -> None:
    report = result.report
    changed = report.tables_created + report.tables_updated + report.tables_deleted
    metrics.add_metric("SweepTablesChanged", MetricUnit.Count, changed)
    metrics.add_metric("SweepItemsFailed", MetricUnit.Count, len(result.failed))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    parse(event=event, model=SqsModel)  # not Lambda's SQS event: the invocation fails whole
    settings = CatalogSettings.from_env(os.environ)
    service = build_catalog_service(settings, AwsSessions(new_session()), "meshgov:catalog-sweep")
    return run_whole(event, context, service.work, tally)
