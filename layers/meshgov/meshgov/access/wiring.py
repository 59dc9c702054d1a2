"""Build the access services for one invocation, and run an SQS batch through them.

A message that can never succeed (not an event, a type the function does not handle) is audited
where an audit trail exists and parked in the dead-letter queue at once with its reason; any
other failure is reported for retry, and SQS redrive parks it after five receives
(:mod:`meshgov.aws.sqs_batch` runs the batch and reports the failures).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from meshgov.access.central_adapter import CentralAccessCatalog, MeshEvents
from meshgov.access.core import AccessContext
from meshgov.access.envelope import Envelope, event_id_of
from meshgov.access.member import MemberAccessService
from meshgov.access.policy import ApprovalPolicy
from meshgov.access.service import AccessService, TableTagsReader
from meshgov.access.store import RequestStore
from meshgov.audit import Auditor, AuditOutcome, DynamoAuditTrail
from meshgov.aws.session import AwsSessions
from meshgov.aws.sqs_batch import (
    DeadLetters,
    EachResult,
    MessageFailedError,
    Outcome,
    QueueMessage,
    park,
    run_each,
)
from meshgov.catalog.central import CentralCatalog
from meshgov.catalog.tags import TagMap
from meshgov.errors import EventRejectedError, MeshgovError
from meshgov.registry.directory import RegisteredProducers
from meshgov.registry.store import RegistryStore
from meshgov.settings import AccessSettings, MemberSettings
from meshgov.usage.store import UsageStore

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


def build_access_service(
    settings: AccessSettings, sessions: AwsSessions, actor: str, clock: Clock = _now
) -> AccessService:
    registry = RegistryStore(sessions.client("dynamodb"), settings.registry_table_name)
    producers = RegisteredProducers(registry)
    context = AccessContext.create(
        catalog=CentralAccessCatalog(
            sessions.client("glue"), sessions.client("lakeformation"), settings.central_account_id
        ),
        store=RequestStore(sessions.client("dynamodb"), settings.requests_table_name),
        events=MeshEvents(sessions.client("events"), settings.arns, settings.member_bus_name),
        audit=DynamoAuditTrail(sessions.client("dynamodb"), settings.audit_table_name, clock),
        policy=ApprovalPolicy(
            max_duration_days=settings.max_duration_days,
            auto_approve_classifications=settings.auto_approve_classifications,
            filter_required_classifications=settings.filter_required_classifications,
            review_every_days=settings.review_every_days,
            review_deadline_days=settings.review_deadline_days,
            unanswered_review_action=settings.unanswered_review_action,
            revoke_unused_days=settings.revoke_unused_days,
            unused_warning_days=settings.unused_warning_days,
        ),
        producers=producers,
        members=lambda: {m.account for m in producers.members()},
        actor=actor,
        clock=clock,
        expiry_warning=timedelta(hours=settings.expiry_warning_hours),
        table_tags=central_table_tags(
            CentralCatalog(
                sessions.client("glue"),
                sessions.client("lakeformation"),
                settings.central_account_id,
            )
        ),
        usage=(
            UsageStore(sessions.client("dynamodb"), settings.usage_table_name)
            if settings.usage_table_name
            else None
        ),
    )
    return AccessService(context, registry, producers.refresh)


def central_table_tags(catalog: CentralCatalog) -> TableTagsReader:
    """A central table's effective LF-Tags: its database's, overridden by its own (one call per
    table, one per database and invocation)."""
    databases: dict[str, TagMap] = {}

    def read(database: str, table: str) -> TagMap:
        if database not in databases:
            databases[database] = catalog.resource_tags(catalog.database_resource(database))[0]
        own, _ = catalog.resource_tags(catalog.table_resource(database, table))
        return {**databases[database], **own}

    return read


def build_member_service(
    settings: MemberSettings, sessions: AwsSessions, clock: Clock = _now
) -> MemberAccessService:
    return MemberAccessService(
        ram=sessions.client("ram"),
        glue=sessions.client("glue"),
        lakeformation=sessions.client("lakeformation"),
        events=sessions.client("events"),
        account_id=settings.account_id,
        central_account=settings.central_account_id,
        trusted_accounts=settings.trusted_accounts,
        clock=clock,
    )


def process_batch(
    event: dict[str, Any],
    context: Any,
    handle: Callable[[Envelope], Any],
    dead_letters: DeadLetters | None,
    auditor: Auditor | None,
    tally: Callable[[EachResult], None] = lambda _: None,
) -> dict[str, Any]:
    """Lambda's SQS event, one message at a time, in order (a request and its decision may share
    a batch): each body is parsed once into an :class:`Envelope` and handled. Returns Lambda's
    partial batch response; ``tally`` gets the counts (the handler's metrics)."""

    def each(message: QueueMessage) -> Outcome:
        try:
            handle(Envelope.parse(message.body))
        except EventRejectedError as exc:
            return park(message, exc, dead_letters, _refusal_record(auditor, message, exc))
        except (MeshgovError, ClientError, BotoCoreError) as exc:
            reason = f"{type(exc).__name__}: {exc}"
            _record_failure(auditor, message, reason)
            raise MessageFailedError(reason) from exc
        return Outcome.HANDLED

    return run_each(event, context, each, tally)


def _refusal_record(
    auditor: Auditor | None, message: QueueMessage, exc: EventRejectedError
) -> Callable[[], None] | None:
    """The ``REFUSED`` record of a message parked for good (none where there is no trail)."""
    if auditor is None:
        return None

    def record() -> None:
        auditor.record(
            "event:received",
            AuditOutcome.REFUSED,
            "access",
            message.message_id,
            str(exc),
            error_code=exc.code,
        )

    return record


def _record_failure(auditor: Auditor | None, message: QueueMessage, reason: str) -> None:
    """One ``FAILED`` record per failed handling, with AWS's own words (an AccessDenied names the
    action and the role): the message goes back to its queue and is retried, then dead-lettered;
    an audit outage shows in the logs only."""
    if auditor is None:
        return
    with contextlib.suppress(MeshgovError, ClientError, BotoCoreError):
        auditor.record(
            "event:handled",
            AuditOutcome.FAILED,
            "access",
            event_id_of(message.body) or message.message_id,
            reason,
        )


def central_auditor(settings: AccessSettings, sessions: AwsSessions, actor: str) -> Auditor:
    return Auditor(DynamoAuditTrail(sessions.client("dynamodb"), settings.audit_table_name), actor)
