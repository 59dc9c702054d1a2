"""The event router: what the Lambda service's SQS event source and scheduler do, in-process.

Events reach the central queues through moto's EventBridge with the rules and patterns that
template.yaml declares (deployed by :mod:`meshgov_local.deploy`). The router plays the event
source mapping: it receives from each function's queue, invokes the handler with an SQS batch,
deletes what succeeded and makes failed messages visible again, so that SQS's redrive policy
moves a message that keeps failing to the dead-letter queue, as on AWS.

Chaos (for the tests that prove convergence): deliveries can be shuffled across batches and
duplicated (SQS standard queues are at-least-once); dropping happens earlier, at Glue, whose
delivery is best effort (:mod:`meshgov_local.emulator.controls`).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from meshgov_local.accounts import AccountSessions
from meshgov_local.deploy import Deployment, FunctionBinding
from meshgov_local.emulator import controls
from meshgov_local.invoke import invoke


@dataclass(frozen=True)
class Chaos:
    seed: int = 0
    shuffle: bool = True
    duplicate_rate: float = 0.0


@dataclass
class DeliveryReport:
    invocations: int = 0
    messages: int = 0
    failed_messages: int = 0
    results: list[Any] = field(default_factory=list)
    # A handler that raises fails its whole batch, as on AWS: every message is retried.
    invocation_errors: list[str] = field(default_factory=list)


class EventRouter:
    def __init__(
        self,
        deployment: Deployment,
        sessions: AccountSessions,
        endpoint_url: str | None = None,
        on_result: Callable[[str, Any], None] | None = None,
    ) -> None:
        self.deployment = deployment
        self._sessions = sessions
        self._endpoint = endpoint_url
        self._on_result = on_result

    @property
    def _central(self) -> str:
        return self.deployment.central_account

    def _sqs(self, account_id: str | None = None) -> Any:
        return self._sessions.client(account_id or self._central, "sqs")

    def deliver(self, chaos: Chaos | None = None, max_rounds: int = 20) -> DeliveryReport:
        """Drain every queue-fed function until its queue stays empty."""
        report = DeliveryReport()
        rng = random.Random(chaos.seed if chaos else 0)
        # Central and member functions feed each other (a grant makes a member link, whose report
        # goes back to central): go round until every queue stayed empty for one whole pass.
        for _ in range(max_rounds):
            busy = False
            for binding in self.deployment.all_functions():
                if not binding.source_queue_url:
                    continue
                for _ in range(max_rounds):
                    messages = self._receive_all(binding.source_queue_url, binding.account_id)
                    if not messages:
                        break
                    busy = True
                    self._deliver_batch_set(binding, messages, chaos, rng, report)
            if not busy:
                break
        return report

    def run_schedule(self, logical_id: str, account_id: str | None = None) -> Any:
        """Invoke a scheduled function once, asynchronously as EventBridge Scheduler does.

        As for any asynchronous invocation, a function error is retried
        ``MaximumRetryAttempts`` times, then the event goes to the ``OnFailure`` destination
        with Lambda's invocation record
        (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html).
        Returns the handler's result, or None when every attempt failed.
        """
        if account_id and account_id != self._central:
            binding = self.deployment.member_functions[account_id][logical_id]
        else:
            binding = self.deployment.functions[logical_id]
        account = binding.account_id or self._central
        event = {
            "version": "0",
            "id": f"schedule-{random.getrandbits(64):016x}",
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": account,
            # The emulated clock: tests and the demo let time pass for expiries.
            "time": controls.now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.deployment.region,
            "resources": [],
            "detail": {},
        }
        attempts = 1 + (binding.maximum_retry_attempts or 0)
        error: Exception | None = None
        for _ in range(attempts):
            try:
                result = invoke(binding, event, self._sessions, account, self._endpoint)
            except Exception as exc:
                error = exc
                continue
            if self._on_result:
                self._on_result(logical_id, result)
            return result
        if binding.on_failure_queue_url and error is not None:
            self._sqs(account).send_message(
                QueueUrl=binding.on_failure_queue_url,
                MessageBody=json.dumps(self._failure_record(binding, event, error, attempts)),
            )
        return None

    def _failure_record(
        self, binding: FunctionBinding, event: dict[str, Any], error: Exception, attempts: int
    ) -> dict[str, Any]:
        return {
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(),
            "requestContext": {
                "requestId": event["id"],
                "functionArn": f"arn:aws:lambda:{self.deployment.region}:"
                f"{binding.account_id or self._central}:"
                f"function:{binding.logical_id}:$LATEST",
                "condition": "RetriesExhausted",
                "approximateInvokeCount": attempts,
            },
            "requestPayload": event,
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            },
            "responsePayload": {"errorMessage": str(error), "errorType": type(error).__name__},
        }

    # --- the SQS event source mapping -------------------------------------------------------
    def _receive_all(self, queue_url: str, account_id: str = "") -> list[dict[str, Any]]:
        received: list[dict[str, Any]] = []
        while True:
            response = self._sqs(account_id).receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=10,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            batch = response.get("Messages", [])
            if not batch:
                return received
            received.extend(batch)

    def _deliver_batch_set(
        self,
        binding: FunctionBinding,
        messages: list[dict[str, Any]],
        chaos: Chaos | None,
        rng: random.Random,
        report: DeliveryReport,
    ) -> None:
        deliveries = list(messages)
        if chaos and chaos.duplicate_rate:
            deliveries += [m for m in messages if rng.random() < chaos.duplicate_rate]
        if chaos and chaos.shuffle:
            rng.shuffle(deliveries)
        size = binding.batch_size or 10
        failed: dict[str, dict[str, Any]] = {}
        succeeded: dict[str, dict[str, Any]] = {}
        for start in range(0, len(deliveries), size):
            batch = deliveries[start : start + size]
            event = {"Records": [self._record(binding, m) for m in batch]}
            report.invocations += 1
            report.messages += len(batch)
            try:
                result = invoke(
                    binding,
                    event,
                    self._sessions,
                    binding.account_id or self._central,
                    self._endpoint,
                )
            except Exception as exc:
                report.invocation_errors.append(f"{type(exc).__name__}: {exc}")
                bad = {m["MessageId"] for m in batch}
            else:
                report.results.append(result)
                if self._on_result:
                    self._on_result(binding.logical_id, result)
                bad = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
            for message in batch:
                target = failed if message["MessageId"] in bad else succeeded
                target[message["MessageId"]] = message
        sqs = self._sqs(binding.account_id)
        for message_id, message in succeeded.items():
            if message_id not in failed:
                sqs.delete_message(
                    QueueUrl=binding.source_queue_url, ReceiptHandle=message["ReceiptHandle"]
                )
        for message in failed.values():
            report.failed_messages += 1
            sqs.change_message_visibility(
                QueueUrl=binding.source_queue_url,
                ReceiptHandle=message["ReceiptHandle"],
                VisibilityTimeout=0,
            )

    def _record(self, binding: FunctionBinding, message: dict[str, Any]) -> dict[str, Any]:
        queue_name = (binding.source_queue_url or "").rsplit("/", 1)[-1]
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": message.get("MessageAttributes", {}),
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": (
                f"arn:aws:sqs:{self.deployment.region}:{binding.account_id or self._central}:"
                f"{queue_name}"
            ),
            "awsRegion": self.deployment.region,
        }
