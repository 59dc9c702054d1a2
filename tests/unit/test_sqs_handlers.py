"""The four SQS handlers as Lambda calls them (functions/*/app.py), their services stubbed.

Each returns Lambda's partial batch response naming exactly the messages to retry
(https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html): a message that
fails for a reason meshgov did not foresee (a bug in one event's handling) goes back alone, not
with the whole batch; every other message is deleted from the queue.
"""

from __future__ import annotations

import importlib.util
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from meshgov.access.envelope import Envelope
from meshgov.audit import Auditor, MemoryAuditTrail
from meshgov.catalog.reconcile import ReconcileReport
from meshgov_local.invoke import FakeContext
from tests.unit.test_sqs_batch import EVENT, body, failures, sqs_event

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
_names = itertools.count()


def load(function: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """A fresh (cold) import of the handler, in a Lambda-like environment."""
    for name, value in {
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "meshgov",
        "POWERTOOLS_SERVICE_NAME": "meshgov",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location(
        f"handler_{function}_{next(_names)}", FUNCTIONS / function / "app.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def context(function: str) -> FakeContext:
    return FakeContext(
        function, "req-1", f"arn:aws:lambda:eu-west-1:111111111111:function:{function}"
    )


class Settings:
    @staticmethod
    def from_env(env: Any) -> Any:
        return SimpleNamespace(dead_letter_queue_url=None)


class Service:
    """Handles envelopes; the event ``evt-bug`` hits a bug (an error nobody foresaw)."""

    def __init__(self) -> None:
        self.handled: list[str] = []

    def handle(self, envelope: Envelope) -> Any:
        if envelope.event_id == "evt-bug":
            raise KeyError("requestId")
        self.handled.append(envelope.event_id)
        return SimpleNamespace(actions=[], event_id=envelope.event_id)


BATCH = (body(id="evt-1"), body(id="evt-bug"), body(id="evt-3"))


def test_access_requests_retry_only_the_message_that_hit_a_bug(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the access function, one of three queued events hitting a bug in its handling
    app, service = load("access_requests", monkeypatch), Service()
    monkeypatch.setattr(app, "AccessSettings", Settings)
    monkeypatch.setattr(app, "build_access_service", lambda *a: service)
    monkeypatch.setattr(app, "central_auditor", lambda *a: Auditor(MemoryAuditTrail(), "t"))

    # When Lambda invokes it with the batch
    response = app.handler(sqs_event(*BATCH), context("AccessRequestsFunction"))

    # Then only that message goes back to the queue; the other two were handled, once
    assert failures(response) == ["m-2"]
    assert service.handled == ["evt-1", "evt-3"]


def test_member_access_retries_only_the_message_that_hit_a_bug(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app, service = load("member_access", monkeypatch), Service()
    monkeypatch.setattr(app, "MemberSettings", Settings)
    monkeypatch.setattr(app, "build_member_service", lambda *a: service)

    response = app.handler(sqs_event(*BATCH), context("MemberAccessFunction"))

    assert failures(response) == ["m-2"]
    assert service.handled == ["evt-1", "evt-3"]


def test_member_access_schedule_handles_the_invocation_event_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app, service = load("member_access", monkeypatch), Service()
    monkeypatch.setattr(app, "MemberSettings", Settings)
    monkeypatch.setattr(app, "build_member_service", lambda *a: service)
    scheduled = {**EVENT, "id": "schedule-1", "source": "aws.events", "detail": {}}
    scheduled["detail-type"] = "Scheduled Event"

    assert app.handler(scheduled, context("MemberAccessFunction")) == {
        "id": "schedule-1",
        "actions": 0,
    }
    assert service.handled == ["schedule-1"]


@dataclass
class WholeResult:
    failed: dict[str, str]
    dead_lettered: list[str] = field(default_factory=list)
    report: ReconcileReport = field(default_factory=ReconcileReport)
    counted: int = 0
    refused: dict[str, int] = field(default_factory=dict)


class WholeService:
    """Processes a batch in one pass; fails the messages named in ``failing``."""

    def __init__(self, failing: Sequence[str]) -> None:
        self.batches: list[list[str]] = []
        self.failing = failing

    def process(self, messages: Sequence[Any]) -> WholeResult:
        self.batches.append([m.message_id for m in messages])
        return WholeResult({m: "throttled" for m in self.failing})


@pytest.mark.parametrize(
    ("function", "settings", "build"),
    [
        ("catalog_sync", "CatalogSettings", "build_catalog_service"),
        ("usage", "UsageSettings", "build_usage_service"),
    ],
)
def test_whole_batch_handlers_process_once_and_report_their_failures(
    monkeypatch: pytest.MonkeyPatch, function: str, settings: str, build: str
) -> None:
    app, service = load(function, monkeypatch), WholeService(["m-3"])
    monkeypatch.setattr(app, settings, Settings)
    monkeypatch.setattr(app, build, lambda *a: service)

    response = app.handler(sqs_event(*BATCH), context(function))

    assert failures(response) == ["m-3"]
    assert service.batches == [["m-1", "m-2", "m-3"]]
