"""The event router: what the Lambda service's SQS event source and scheduler do, in-process.

Events reach the central queues through moto's EventBridge with the rules and patterns that
template.yaml declares (deployed by :mod:`meshgov_local.deploy`). The router plays the event
source mapping: it receives from each function's queue, invokes the handler with an SQS batch,
deletes what succeeded and makes failed messages visible again, so that SQS's redrive policy
moves a message that keeps failing to the dead-letter queue, as on AWS.

Chaos (for the tests that prove convergence): deliveries can be shuffled across batches and
duplicated (SQS standard queues are at-least-once); dropping happens earlier, at Glue, whose
delivery is best effort (:mod:`meshgov_local.emulator.controls`).

A failed invocation is an error the handler raised or a sandbox that died mid-way (an injected
crash, :mod:`meshgov_local.faults`); either way the whole batch is retried, as on AWS. The
router keeps a :class:`DeliveryLedger` of what it handed to each function and what succeeded:
with the dead-letter queues, that is how the fault proof counts what was lost.

Concurrency: the router runs one invocation at a time (:data:`CONCURRENCY`), across all
functions. An SQS event source's ``ScalingConfig.MaximumConcurrency`` is at least 2
(https://docs.aws.amazon.com/lambda/latest/dg/API_ScalingConfig.html) and a function's reserved
concurrency in template.yaml at least 1, so the local mesh never runs more invocations of a
function at once than AWS would; both values are on :class:`FunctionBinding` for the tests.
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
from meshgov_local.faults import InjectedCrashError
from meshgov_local.invoke import invoke

# What the Lambda service sees as a failed invocation: an error the handler raised, or a sandbox
# that died (an injected crash is not an Exception, so that no handler code can catch it).
INVOCATION_FAILURES: tuple[type[BaseException], ...] = (Exception, InjectedCrashError)

# How many invocations the router runs at once: one, in the caller's thread.
CONCURRENCY = 1


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
    # The same failures with the function and the account they happened in.
    failed_invocations: list[FailedInvocation] = field(default_factory=list)


@dataclass(frozen=True)
class FailedInvocation:
    function: str
    account_id: str
    error: str


ResultListener = Callable[[str, str, Any], None]
"""Called as ``fn(function logical id, account id, result)`` after each successful invocation."""


@dataclass(frozen=True, order=True)
class Delivery:
    """One event handed to one function: its retries, duplicates and replays are the same."""

    account_id: str
    function: str
    event_id: str


def event_id(body: Any, fallback: str) -> str:
    """The id an event is known by: an EventBridge event's ``id``, the ``requestPayload``'s for
    Lambda's failure record, else ``fallback`` (the SQS message id) — the dead-letter office's
    correlation id for the same message."""
    parsed = body
    if isinstance(body, str):
        try:
            parsed = json.loads(body)
        except ValueError:
            return fallback
    if not isinstance(parsed, dict):
        return fallback
    if "requestPayload" in parsed and "requestContext" in parsed:
        parsed = parsed["requestPayload"] if isinstance(parsed["requestPayload"], dict) else {}
    return str(parsed.get("id") or fallback)


@dataclass
class DeliveryLedger:
    """What the router delivered, and which deliveries a function handled successfully."""

    delivered: set[Delivery] = field(default_factory=set)
    succeeded: set[Delivery] = field(default_factory=set)
    failures: int = 0  # failed attempts: a message of a failed batch counts once per attempt

    def record(self, delivery: Delivery, ok: bool) -> None:
        self.delivered.add(delivery)
        if ok:
            self.succeeded.add(delivery)
        else:
            self.failures += 1

    def unfinished(self) -> set[Delivery]:
        """Delivered, never handled: each must still be queued or sit in a dead-letter queue."""
        return self.delivered - self.succeeded


class EventRouter:
    def __init__(
        self,
        deployment: Deployment,
        sessions: AccountSessions,
        endpoint_url: str | None = None,
        on_result: ResultListener | None = None,
    ) -> None:
        self.deployment = deployment
        self._sessions = sessions
        self._endpoint = endpoint_url
        self._on_result = on_result
        self.ledger = DeliveryLedger()

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
        error: BaseException | None = None
        for _ in range(attempts):
            try:
                result = self.invoke_async(binding, event, account)
            except INVOCATION_FAILURES as exc:
                error = exc
                continue
            if self._on_result:
                self._on_result(logical_id, account, result)
            return result
        if binding.on_failure_queue_url and error is not None:
            self._sqs(account).send_message(
                QueueUrl=binding.on_failure_queue_url,
                MessageBody=json.dumps(self._failure_record(binding, event, error, attempts)),
            )
        return None

    def invoke_async(
        self, binding: FunctionBinding, event: dict[str, Any], account_id: str | None = None
    ) -> Any:
        """One asynchronous invocation of ``binding`` with ``event`` (a schedule, or the replay
        of its failure record), recorded in the ledger; raises what the invocation raised."""
        account = account_id or binding.account_id or self._central
        delivery = Delivery(account, binding.logical_id, event_id(event, str(event.get("id"))))
        try:
            result = invoke(binding, event, self._sessions, account, self._endpoint)
        except INVOCATION_FAILURES:
            self.ledger.record(delivery, ok=False)
            raise
        self.ledger.record(delivery, ok=True)
        return result

    def _failure_record(
        self, binding: FunctionBinding, event: dict[str, Any], error: BaseException, attempts: int
    ) -> dict[str, Any]:
        return {
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(),
            "requestContext": {
                "requestId": event["id"],
                "functionArn": self._sessions.arns.arn(
                    "lambda",
                    binding.account_id or self._central,
                    f"function:{binding.logical_id}:$LATEST",
                ),
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
            except INVOCATION_FAILURES as exc:
                error = f"{type(exc).__name__}: {exc}"
                report.invocation_errors.append(error)
                report.failed_invocations.append(
                    FailedInvocation(binding.logical_id, binding.account_id or self._central, error)
                )
                bad = {m["MessageId"] for m in batch}
            else:
                report.results.append(result)
                if self._on_result:
                    self._on_result(binding.logical_id, binding.account_id or self._central, result)
                bad = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
            account = binding.account_id or self._central
            for message in batch:
                ok = message["MessageId"] not in bad
                target = succeeded if ok else failed
                target[message["MessageId"]] = message
                delivery = Delivery(
                    account, binding.logical_id, event_id(message["Body"], message["MessageId"])
                )
                self.ledger.record(delivery, ok)
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
            "eventSourceARN": self._sessions.arns.arn(
                "sqs", binding.account_id or self._central, queue_name
            ),
            "awsRegion": self.deployment.region,
        }
