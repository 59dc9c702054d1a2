"""CatalogSweep: on a schedule, plan the sweep that converges every published database (it
catches missed events): one work item per registered producer on the SweepQueue, worked by
CatalogSweepWorker (meshgov.catalog.fanout); without a queue, the whole sweep in this invocation."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from meshgov.aws.session import AwsSessions, new_session
from meshgov.catalog.service import build_catalog_service
from meshgov.settings import CatalogSettings

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = CatalogSettings.from_env(os.environ)
    service = build_catalog_service(settings, AwsSessions(new_session()), "meshgov:catalog-sweep")
    result = service.scheduled(str(event.get("id") or context.aws_request_id), _scheduled_at(event))
    metrics.add_metric("SweepProducersQueued", MetricUnit.Count, result.get("producers", 0))
    return result


def _scheduled_at(event: dict[str, Any]) -> datetime | None:
    """The scheduled event's ``time`` (when the schedule fired), the freshness check's "now";
    None (the clock) when it has none."""
    try:
        return datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return None
