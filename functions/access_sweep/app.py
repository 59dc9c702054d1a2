"""AccessSweep: on a schedule, expire due grants, warn of coming expiries, revoke what was
unpublished, start and end access reviews, warn of and revoke unused grants."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from meshgov.access.wiring import build_access_service
from meshgov.aws.session import AwsSessions, new_session
from meshgov.settings import AccessSettings

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    scheduled = parse(event=event, model=EventBridgeModel)
    settings = AccessSettings.from_env(os.environ)
    service = build_access_service(settings, AwsSessions(new_session()), "meshgov:access-sweep")
    counts = service.sweep(scheduled.id, now=scheduled.time)
    for name, value in counts.items():
        metrics.add_metric(f"Access{name.capitalize()}", MetricUnit.Count, value)
    return counts
