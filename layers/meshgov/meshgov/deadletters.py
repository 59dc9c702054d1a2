"""Dead letters: what never got processed, why, and re-driving it through the same handlers.

Every asynchronous path of meshgov ends in a dead-letter queue:

=================== ============================================ ==================================
DLQ                 what lands there                             re-driven to
=================== ============================================ ==================================
``CatalogEventsDLQ`` catalog events failing 5 receives (redrive), ``CatalogEventsQueue``
                    events refused by the sync function (attri-
                    butes ``meshgov-error-code``/``meshgov-error``),
                    events EventBridge could not deliver
``AccessEventsDLQ``  the same for the access function            ``AccessEventsQueue``
``MemberEventsDLQ``  the same for a member's access function      ``MemberEventsQueue``
``SweepDLQ``         Lambda's ``OnFailure`` record of a failed    the function, invoked
                    scheduled sweep (``requestPayload``)          asynchronously with the payload
``MemberScheduleDLQ`` the same for a member's scheduled run       the member function, in its
                                                                 own account
``ForwardDLQ``       events a member's rule could not forward     the member's default bus (its
                    (EventBridge target DLQ: the event, with      forwarding rules send it on);
                    ``ERROR_CODE``/``ERROR_MESSAGE``)             ``aws.glue`` events as a
                                                                 ``Catalog Sync Requested``
=================== ============================================ ==================================

Listing never consumes: messages are received with a visibility timeout (so each receive
returns new ones), then made visible again. Replaying sends the original body to the target
first and deletes the dead letter only once that succeeded, so a failed send loses nothing;
``dry_run`` (the default) only says what would happen. Each message replayed — or that a dry
run would replay — is one audit record (action ``dlq:replay``) with the message id and the
target. The re-drive targets are pluggable (:class:`RedriveTarget`): SQS and EventBridge
clients here, ``lambda:Invoke`` (``InvocationType=Event``) in production for sweeps, the local
mesh's in-process function runner there.

**Why replay is safe.** Handlers are idempotent by design, so a replayed message — or one
delivered twice, or after newer ones — ends in the same state:

- catalog sync and sweeps *reconcile, never replay* (ADR 0001): an event only names what to look
  at, the handler reads the source's current state and writes only what differs. Replaying an
  old event converges to *today's* source, never to the event's past;
- access events go through the request's state machine with conditional writes on a version
  (ADR 0005): a request is keyed by consumer and client token, a decision counts only while the
  request waits for one (a redelivered decision finishes what a failure cut short), grants and
  revocations are computed from the record, and Lake Formation grants and revokes, RAM accepts,
  links and local grants are made idempotently;
- a replayed ``requestPayload`` of the access sweep is judged as of its scheduled ``time``: it
  expires and warns only what was due then; the next scheduled sweep catches up.

**Where it is not naturally idempotent: notifications.** ``PutEvents`` sends again what it sent
before when a replay (or an SQS duplicate) repeats an event whose effect was already recorded:
``Access Approval Requested`` to the producer (a request still ``PENDING_APPROVAL``) and
``Access Granted`` to the consumer (a request ``GRANTED``). The second is intended — it is how a
lost notification is repaired, and the member acts on it idempotently. The first may show a
person the same question twice; the decision itself is still taken once (a second one is refused
as ``DecisionOutOfOrder``). Warnings (``Access Expiring``) are sent once (the ``warned`` flag).
Powertools Idempotency (``aws_lambda_powertools.utilities.idempotency``, DynamoDB persistence)
is therefore not added: it would need its own table, cannot key the catalog function's batch
(messages are merged per database before any work), and would suppress the re-send that
repairs a lost notification. Should duplicate approval questions matter, the place is the
access function's per-record processing of ``Access Requested``, keyed on the EventBridge event
id with a short TTL (or, without a new table, a ``notified`` field on the request).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from meshgov.audit import Auditor, AuditOutcome
from meshgov.contracts.glue_events import CATALOG_SOURCE, CATALOG_SYNC_REQUESTED
from meshgov.errors import MeshgovError

ERROR_CODE_ATTRIBUTE = "meshgov-error-code"
ERROR_ATTRIBUTE = "meshgov-error"
# EventBridge's target DLQ attributes
# (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html).
EVENTBRIDGE_ERROR_CODE = "ERROR_CODE"
EVENTBRIDGE_ERROR_MESSAGE = "ERROR_MESSAGE"
RULE_ARN = "RULE_ARN"
# Where each DLQ's messages came from (template.yaml's logical ids).
SOURCE_QUEUES = {
    "CatalogEventsDLQ": "CatalogEventsQueue",
    "AccessEventsDLQ": "AccessEventsQueue",
    "MemberEventsDLQ": "MemberEventsQueue",
    # A fan-out sweep's work item (meshgov.catalog.fanout), after its retries.
    "SweepWorkDLQ": "SweepQueue",
}
SWEEP_DLQ = "SweepDLQ"
MEMBER_SCHEDULE_DLQ = "MemberScheduleDLQ"
# DLQs holding Lambda's OnFailure records: replayed by invoking the function again.
INVOCATION_DLQS = (SWEEP_DLQ, MEMBER_SCHEDULE_DLQ)
FORWARD_DLQ = "ForwardDLQ"
CENTRAL_DLQS = ("CatalogEventsDLQ", "AccessEventsDLQ", SWEEP_DLQ, "SweepWorkDLQ")
MEMBER_DLQS = ("MemberEventsDLQ", MEMBER_SCHEDULE_DLQ, FORWARD_DLQ)
ALL_DLQS = (*CENTRAL_DLQS, *MEMBER_DLQS)
HIDE_FOR = 120  # seconds a message stays invisible while being listed or replayed
REPLAY_ACTION = "dlq:replay"
HELD = "held"  # a refusal a replay left in its queue (DeadLetterOffice.replay, include_refused)


class DeadLetterError(MeshgovError):
    """A dead-letter queue could not be read or changed (denied, missing, unreachable)."""


class RedriveError(MeshgovError):
    """A dead letter could not be sent back (the target refused, or there is none)."""


class LetterKind(StrEnum):
    REFUSED = "refused"  # parked by a handler: it can never succeed as it is
    RETRIES_EXHAUSTED = "retries-exhausted"  # the queue's redrive policy moved it (maxReceiveCount)
    INVOCATION_FAILED = "invocation-failed"  # Lambda's OnFailure record of an async invocation
    DELIVERY_FAILED = "delivery-failed"  # EventBridge could not deliver it to the target


@dataclass(frozen=True)
class DeadLetterQueue:
    """One DLQ of one account: its logical id (template.yaml), account and URL."""

    name: str
    account_id: str
    url: str


@dataclass(frozen=True)
class DeadLetter:
    queue: str
    account_id: str
    message_id: str
    kind: LetterKind
    error_code: str
    reason: str
    source: str  # the source queue, function or rule
    summary: str  # what it is about, in a few words
    correlation_id: str  # the event id (or invocation id): the handlers' audit records share it
    sent_at: str
    receive_count: int = field(compare=False)  # listing receives too: it grows
    body: str = field(repr=False)
    receipt_handle: str = field(default="", repr=False, compare=False)

    @property
    def payload(self) -> Any:
        """The Lambda ``requestPayload`` for a failure record, else the body parsed (or text)."""
        parsed = _json(self.body)
        if self.kind is LetterKind.INVOCATION_FAILED and isinstance(parsed, dict):
            return parsed.get("requestPayload")
        return parsed if parsed is not None else self.body

    def as_dict(self) -> dict[str, Any]:
        return {
            "queue": self.queue,
            "account_id": self.account_id,
            "message_id": self.message_id,
            "kind": self.kind.value,
            "error_code": self.error_code,
            "reason": self.reason,
            "source": self.source,
            "summary": self.summary,
            "correlation_id": self.correlation_id,
            "sent_at": self.sent_at,
            "receive_count": self.receive_count,
            "body": self.payload,
        }


# --- classification (pure) ---------------------------------------------------------------------


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return None


def _attribute(message: Mapping[str, Any], name: str) -> str:
    value = (message.get("MessageAttributes") or {}).get(name) or {}
    return str(value.get("StringValue", ""))


def _event_summary(event: Mapping[str, Any]) -> str:
    detail = event.get("detail") if isinstance(event.get("detail"), Mapping) else {}
    assert isinstance(detail, Mapping)
    what = [f"{event.get('source', '?')} / {event.get('detail-type', '?')}"]
    if event.get("account"):
        what.append(f"from {event['account']}")
    names = [
        str(detail[key])
        for key in ("databaseName", "tableName", "requestId", "clientToken", "centralDatabase")
        if detail.get(key)
    ]
    if names:
        what.append(" ".join(names))
    return " ".join(what)


def _sent_at(milliseconds: Any) -> str:
    """SQS's ``SentTimestamp`` (epoch milliseconds) as an ISO time; "" when absent."""
    try:
        return datetime.fromtimestamp(int(milliseconds) / 1000, UTC).isoformat(timespec="seconds")
    except (TypeError, ValueError, OverflowError):
        return ""


def function_name(function_arn: str) -> str:
    """``arn:aws:lambda:r:a:function:Name:$LATEST`` -> ``Name``."""
    parts = function_arn.split(":")
    return parts[6] if len(parts) > 6 and parts[5] == "function" else function_arn


def classify(queue: DeadLetterQueue, message: Mapping[str, Any]) -> DeadLetter:
    """What a DLQ message is, where it came from and why it is there."""
    body = str(message.get("Body", ""))
    parsed = _json(body)
    attributes = message.get("Attributes") or {}
    event = parsed if isinstance(parsed, dict) else {}
    source = SOURCE_QUEUES.get(queue.name, queue.name)
    summary = _event_summary(event) if event else body[:80]
    correlation = str(event.get("id", ""))
    if "requestPayload" in event and "requestContext" in event:
        context = event.get("requestContext") or {}
        response = event.get("responsePayload")
        response = response if isinstance(response, dict) else {}
        payload = event.get("requestPayload")
        function = function_name(str(context.get("functionArn", "")))
        kind = LetterKind.INVOCATION_FAILED
        code = str(response.get("errorType") or context.get("condition") or "Unhandled")
        reason = str(response.get("errorMessage") or context.get("condition") or "")
        source = function
        summary = f"{function} invocation ({context.get('approximateInvokeCount', '?')} attempts)"
        correlation = str(payload.get("id", "")) if isinstance(payload, dict) else ""
        correlation = correlation or str(context.get("requestId", ""))
    elif _attribute(message, ERROR_CODE_ATTRIBUTE):
        kind = LetterKind.REFUSED
        code = _attribute(message, ERROR_CODE_ATTRIBUTE)
        reason = _attribute(message, ERROR_ATTRIBUTE)
    elif _attribute(message, EVENTBRIDGE_ERROR_CODE):
        kind = LetterKind.DELIVERY_FAILED
        code = _attribute(message, EVENTBRIDGE_ERROR_CODE)
        reason = _attribute(message, EVENTBRIDGE_ERROR_MESSAGE)
        source = _attribute(message, RULE_ARN).rsplit("/", 1)[-1] or source
    else:
        kind = LetterKind.RETRIES_EXHAUSTED
        code = "MaxReceiveCountExceeded"
        reason = (
            f"processing failed on every delivery from {source}; the handler's FAILED audit "
            f"records (correlation id {correlation or '?'}) say why"
        )
    return DeadLetter(
        queue=queue.name,
        account_id=queue.account_id,
        message_id=str(message.get("MessageId", "")),
        kind=kind,
        error_code=code,
        reason=reason,
        source=source,
        summary=summary,
        correlation_id=correlation,
        sent_at=_sent_at(attributes.get("SentTimestamp")),
        receive_count=int(attributes.get("ApproximateReceiveCount", 0) or 0),
        body=body,
        receipt_handle=str(message.get("ReceiptHandle", "")),
    )


# --- re-drive targets ----------------------------------------------------------------------------


class RedriveTarget(Protocol):
    """Where a dead letter goes back to (one per DLQ)."""

    def describe(self, letter: DeadLetter) -> str:
        """The target, in words (for the dry run and the audit record)."""
        ...

    def send(self, letter: DeadLetter) -> str:
        """Send it back; a reference to what was sent (message id, request id). Raises
        :class:`RedriveError`."""
        ...


def _sent(what: str, call: Callable[[], Any]) -> Any:
    try:
        return call()
    except (ClientError, BotoCoreError) as exc:
        raise RedriveError(f"{what} failed: {exc}") from exc


class SourceQueueTarget:
    """The SQS queue the DLQ's messages came from: the function's event source sees the
    original body again, without the error attributes."""

    def __init__(self, sqs: Any, queue_url: str) -> None:
        self._sqs = sqs
        self._url = queue_url

    def describe(self, letter: DeadLetter) -> str:
        return f"sqs:{self._url.rsplit('/', 1)[-1]}"

    def send(self, letter: DeadLetter) -> str:
        response = _sent(
            f"sqs:SendMessage to {self.describe(letter)}",
            lambda: self._sqs.send_message(QueueUrl=self._url, MessageBody=letter.body),
        )
        return str(response.get("MessageId", ""))


Invoke = Callable[[str, Any], str]  # (function name, payload) -> a reference


class AsyncInvokeTarget:
    """Re-invoke the function that failed with its ``requestPayload`` (asynchronously: its own
    retries and ``OnFailure`` destination apply again). ``invoke`` is pluggable: in production
    :func:`lambda_async_invoker`; in the local mesh the in-process runner. ``functions`` maps a
    failure record's function name to the name ``invoke`` takes (default: itself)."""

    def __init__(self, invoke: Invoke, functions: Mapping[str, str] | None = None) -> None:
        self._invoke = invoke
        self._functions = dict(functions or {})

    def _function(self, letter: DeadLetter) -> str:
        return self._functions.get(letter.source, letter.source)

    def describe(self, letter: DeadLetter) -> str:
        return f"lambda:{self._function(letter)} (async invoke with the recorded payload)"

    def send(self, letter: DeadLetter) -> str:
        if letter.kind is not LetterKind.INVOCATION_FAILED or letter.payload is None:
            raise RedriveError(f"{letter.message_id} is not a Lambda failure record")
        return self._invoke(self._function(letter), letter.payload)


def lambda_async_invoker(lambda_client: Any) -> Invoke:
    """``lambda:Invoke`` with ``InvocationType=Event`` (production)."""

    def invoke(function: str, payload: Any) -> str:
        response = _sent(
            f"lambda:Invoke {function}",
            lambda: lambda_client.invoke(
                FunctionName=function,
                InvocationType="Event",
                Payload=json.dumps(payload).encode(),
            ),
        )
        metadata = response.get("ResponseMetadata") or {}
        return str(metadata.get("RequestId", ""))

    return invoke


class DefaultBusTarget:
    """A member's forwarding DLQ: put the event back on the member's default bus, whose
    forwarding rules send it to central again. EventBridge refuses ``aws.*`` sources in
    ``PutEvents``, so a Glue event becomes the ``Catalog Sync Requested`` for its database (and
    tables) that converges the same way (reconcile, not replay)."""

    def __init__(self, events: Any) -> None:
        self._events = events

    def _entry(self, letter: DeadLetter) -> dict[str, Any]:
        event = letter.payload
        if not isinstance(event, dict) or "detail-type" not in event:
            raise RedriveError(f"{letter.message_id} is not an EventBridge event")
        detail = event.get("detail") or {}
        if str(event.get("source", "")).startswith("aws."):
            names = list(detail.get("changedTables") or [])
            if detail.get("tableName"):
                names.append(detail["tableName"])
            sync: dict[str, Any] = {"databaseName": detail.get("databaseName")}
            if names:
                sync["tableNames"] = sorted(set(names))[:100]
            return {
                "Source": CATALOG_SOURCE,
                "DetailType": CATALOG_SYNC_REQUESTED,
                "Detail": json.dumps(sync),
            }
        return {
            "Source": event.get("source"),
            "DetailType": event.get("detail-type"),
            "Detail": json.dumps(detail),
        }

    def describe(self, letter: DeadLetter) -> str:
        try:
            entry = self._entry(letter)
        except RedriveError as exc:
            return f"events:default bus (impossible: {exc})"
        return f"events:default bus as {entry['Source']} / {entry['DetailType']}"

    def send(self, letter: DeadLetter) -> str:
        entry = self._entry(letter)
        response = _sent("events:PutEvents", lambda: self._events.put_events(Entries=[entry]))
        first = (response.get("Entries") or [{}])[0]
        if response.get("FailedEntryCount") or "EventId" not in first:
            raise RedriveError(f"events:PutEvents refused: {first.get('ErrorMessage', first)}")
        return str(first["EventId"])


# --- listing and replaying -----------------------------------------------------------------------


@dataclass(frozen=True)
class ReplayResult:
    message_id: str
    queue: str
    account_id: str
    target: str
    outcome: str  # "replayed", "would replay", "held" (a refusal), "failed", "not found"
    reason: str = ""
    reference: str = ""  # the new message id / event id / invocation id
    letter: DeadLetter | None = None

    def as_dict(self) -> dict[str, Any]:
        data = {
            "message_id": self.message_id,
            "queue": self.queue,
            "account_id": self.account_id,
            "target": self.target,
            "outcome": self.outcome,
            "reason": self.reason,
            "reference": self.reference,
        }
        if self.letter is not None:
            data["error_code"] = self.letter.error_code
            data["summary"] = self.letter.summary
        return data


@dataclass(frozen=True)
class ReplayReport:
    replay_id: str
    dry_run: bool
    results: tuple[ReplayResult, ...]

    @property
    def failed(self) -> bool:
        return any(r.outcome in ("failed", "not found") for r in self.results)

    def as_dict(self) -> dict[str, Any]:
        return {
            "replay_id": self.replay_id,
            "dry_run": self.dry_run,
            "results": [r.as_dict() for r in self.results],
        }


class DeadLetterOffice:
    """Lists and replays the messages of DLQs. ``sqs`` gives the SQS client of an account."""

    def __init__(self, sqs: Callable[[str], Any]) -> None:
        self._sqs = sqs

    def _receive(self, queue: DeadLetterQueue) -> list[dict[str, Any]]:
        """Every message of the queue, hidden for :data:`HIDE_FOR` seconds."""
        sqs = self._sqs(queue.account_id)
        seen: dict[str, dict[str, Any]] = {}
        try:
            while True:
                batch = sqs.receive_message(
                    QueueUrl=queue.url,
                    MaxNumberOfMessages=10,
                    AttributeNames=["All"],
                    MessageAttributeNames=["All"],
                    VisibilityTimeout=HIDE_FOR,
                ).get("Messages", [])
                if not batch:
                    return list(seen.values())
                seen.update((m["MessageId"], m) for m in batch)
        except (ClientError, BotoCoreError) as exc:
            self._show(queue, seen.values())
            raise DeadLetterError(
                f"reading {queue.name} of {queue.account_id} failed: {exc}"
            ) from exc

    def _show(self, queue: DeadLetterQueue, messages: Iterable[Mapping[str, Any]]) -> None:
        """Make messages visible again (best effort: they reappear after HIDE_FOR anyway)."""
        sqs = self._sqs(queue.account_id)
        for message in messages:
            try:
                sqs.change_message_visibility(
                    QueueUrl=queue.url,
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=0,
                )
            except (ClientError, BotoCoreError):
                continue

    def list(self, queue: DeadLetterQueue) -> list[DeadLetter]:
        """Every message of ``queue``, classified, left in the queue (visible again)."""
        messages = self._receive(queue)
        self._show(queue, messages)
        letters = [classify(queue, m) for m in messages]
        return sorted(letters, key=lambda letter: (letter.sent_at, letter.message_id))

    def replay(
        self,
        queue: DeadLetterQueue,
        target: RedriveTarget,
        auditor: Auditor,
        message_ids: Sequence[str] = (),
        *,
        dry_run: bool = True,
        replay_id: str | None = None,
        include_refused: bool = True,
    ) -> ReplayReport:
        """Re-drive the messages of ``queue`` (all, or those of ``message_ids``) to ``target``.

        Sent first, deleted only after the send succeeded; a message whose send failed stays
        (visible again). With ``dry_run`` nothing is sent or deleted. Without
        ``include_refused``, a message a handler refused (:attr:`LetterKind.REFUSED`: it can
        never succeed as it is, so a replay is refused again until its cause is fixed) is held:
        left in the queue, outcome ``held``. Every message is one ``dlq:replay`` audit record
        (``SUCCEEDED``, ``FAILED``, or ``SKIPPED`` for a dry run, a held refusal or an id not in
        the queue), all sharing the replay id as correlation id.
        """
        replay_id = replay_id or f"replay-{uuid.uuid4().hex[:16]}"
        messages = self._receive(queue)
        wanted = set(message_ids)
        chosen = [m for m in messages if not wanted or m["MessageId"] in wanted]
        self._show(queue, [m for m in messages if m not in chosen])
        results: list[ReplayResult] = []
        for message in sorted(chosen, key=lambda m: str(m["MessageId"])):
            letter = classify(queue, message)
            if letter.kind is LetterKind.REFUSED and not include_refused:
                results.append(self._hold(queue, letter, target, auditor, dry_run, replay_id))
                self._show(queue, [message])
                continue
            results.append(self._replay_one(queue, letter, target, auditor, dry_run, replay_id))
            if dry_run:
                self._show(queue, [message])
        found = {m["MessageId"] for m in messages}
        for missing in sorted(wanted - found):
            auditor.record(
                REPLAY_ACTION,
                AuditOutcome.SKIPPED,
                f"{queue.name}/{missing}",
                replay_id,
                f"message {missing} is not in {queue.name} of {queue.account_id}",
                dlq=queue.name,
                account=queue.account_id,
                message_id=missing,
                dry_run=dry_run,
            )
            results.append(
                ReplayResult(
                    missing, queue.name, queue.account_id, "-", "not found", "not in the queue"
                )
            )
        return ReplayReport(replay_id, dry_run, tuple(results))

    def _hold(
        self,
        queue: DeadLetterQueue,
        letter: DeadLetter,
        target: RedriveTarget,
        auditor: Auditor,
        dry_run: bool,
        replay_id: str,
    ) -> ReplayResult:
        """A refusal left in the queue: replayed as it is, the handler refuses it again."""
        where = target.describe(letter)
        why = (
            f"{letter.error_code}: refused by {letter.source}, it would be refused again: "
            "fix the cause, then replay refusals explicitly"
        )
        auditor.record(
            REPLAY_ACTION,
            AuditOutcome.SKIPPED,
            where,
            replay_id,
            f"held {letter.summary}: {why}",
            dlq=queue.name,
            account=queue.account_id,
            message_id=letter.message_id,
            kind=letter.kind.value,
            error_code=letter.error_code,
            original_correlation_id=letter.correlation_id or None,
            dry_run=dry_run,
            held=True,
        )
        return ReplayResult(
            letter.message_id, queue.name, queue.account_id, where, HELD, why, letter=letter
        )

    def _replay_one(
        self,
        queue: DeadLetterQueue,
        letter: DeadLetter,
        target: RedriveTarget,
        auditor: Auditor,
        dry_run: bool,
        replay_id: str,
    ) -> ReplayResult:
        where = target.describe(letter)
        detail: dict[str, Any] = {
            "dlq": queue.name,
            "account": queue.account_id,
            "message_id": letter.message_id,
            "kind": letter.kind.value,
            "error_code": letter.error_code,
            "original_correlation_id": letter.correlation_id or None,
            "dry_run": dry_run,
        }
        result = ReplayResult(
            letter.message_id, queue.name, queue.account_id, where, "", letter=letter
        )
        if dry_run:
            auditor.record(
                REPLAY_ACTION,
                AuditOutcome.SKIPPED,
                where,
                replay_id,
                f"dry run: would re-drive {letter.summary}",
                **detail,
            )
            return _with(
                result, outcome="would replay", reason=f"{letter.error_code}: {letter.reason}"
            )
        try:
            reference = target.send(letter)
        except RedriveError as exc:
            self._show(queue, [{"ReceiptHandle": letter.receipt_handle}])
            auditor.record(REPLAY_ACTION, AuditOutcome.FAILED, where, replay_id, str(exc), **detail)
            return _with(result, outcome="failed", reason=str(exc))
        try:
            self._sqs(queue.account_id).delete_message(
                QueueUrl=queue.url, ReceiptHandle=letter.receipt_handle
            )
            note = ""
        except (ClientError, BotoCoreError) as exc:
            # Sent, not deleted: it shows up again and a second replay repeats an idempotent
            # re-drive. Said, not hidden.
            note = f"; deleting it from {queue.name} failed ({exc}): it will show again"
        auditor.record(
            REPLAY_ACTION,
            AuditOutcome.SUCCEEDED,
            where,
            replay_id,
            f"re-driven {letter.summary}{note}",
            reference=reference,
            **detail,
        )
        return _with(result, outcome="replayed", reference=reference, reason=note.lstrip("; "))


def _with(result: ReplayResult, **changes: Any) -> ReplayResult:
    return replace(result, **changes)
