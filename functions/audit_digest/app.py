"""AuditDigest: on a schedule, sign a digest of the audit records appended since the last one
and write it to the Object Lock bucket (docs/adr/0006-audit-hash-chain.md)."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from meshgov.audit.digests import DigestWriter
from meshgov.aws.session import AwsSessions, new_session
from meshgov.settings import AuditDigestSettings

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    scheduled = parse(event=event, model=EventBridgeModel)
    settings = AuditDigestSettings.from_env(os.environ)
    writer = DigestWriter.from_settings(settings, AwsSessions(new_session()))
    key = writer.write_digest(now=scheduled.time)
    metrics.add_metric("AuditDigestsWritten", MetricUnit.Count, 1 if key else 0)
    logger.info("audit digest", extra={"digest": key})
    return {"digest": key}
