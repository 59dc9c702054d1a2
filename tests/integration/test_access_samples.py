"""The access sample events in events/: they match their contracts, and the handlers act on them."""

from __future__ import annotations

import json
from pathlib import Path

from meshgov.access.envelope import Envelope
from meshgov.access.states import RequestState
from meshgov.access.store import request_id_for
from meshgov.contracts.access_events import (
    AccessGrantedDetail,
    AccessReviewedDetail,
    AccessReviewEscalatedDetail,
    AccessReviewRequestedDetail,
    AccessRevokedDetail,
    AccessRevokeRequestedDetail,
    AccessUnusedDetail,
    MemberActionsDetail,
)
from meshgov.contracts.glue_events import DatabasePublishedDetail
from meshgov_local.invoke import invoke
from meshgov_local.mesh import LocalMesh
from tests.integration.helpers import columns, create_published_database, table_input

EVENTS = Path(__file__).resolve().parents[2] / "events"


def sample(path: str) -> dict[str, object]:
    data: dict[str, object] = json.loads((EVENTS / path).read_text())
    return data


def test_the_emitted_event_samples_match_their_contracts() -> None:
    pairs = [
        ("access/access-granted.json", AccessGrantedDetail),
        ("access/access-revoked.json", AccessRevokedDetail),
        ("access/access-revoke-requested.json", AccessRevokeRequestedDetail),
        ("access/member-actions-recorded.json", MemberActionsDetail),
        ("access/access-review-requested.json", AccessReviewRequestedDetail),
        ("access/access-reviewed.json", AccessReviewedDetail),
        ("access/access-review-escalated.json", AccessReviewEscalatedDetail),
        ("access/access-unused.json", AccessUnusedDetail),
        ("catalog/database-published.json", DatabasePublishedDetail),
    ]
    for path, model in pairs:
        envelope = Envelope.parse((EVENTS / path).read_text())
        detail = model.model_validate(envelope.detail)
        assert detail.model_dump(by_alias=True, mode="json", exclude_unset=True)


def test_the_access_handler_records_the_sample_request(local_mesh: LocalMesh) -> None:
    # Given sales.orders is published centrally (central_db sales_sales)
    glue = local_mesh.client(local_mesh.producer, "glue")
    create_published_database(glue, "sales")
    glue.create_table(DatabaseName="sales", TableInput=table_input("orders", columns("id:int")))
    local_mesh.settle()
    # When the access function is invoked with events/lambda/access-requests-sqs.json
    binding = local_mesh.deployment.functions["AccessRequestsFunction"]
    event = sample("lambda/access-requests-sqs.json")
    result = invoke(binding, event, local_mesh.sessions, local_mesh.central, None)
    # Then no record failed and the request waits for the producer's decision
    assert result == {"batchItemFailures": []}
    wanted = request_id_for("333333333333", "q4-revenue-2026")
    (record,) = [r for r in local_mesh.requests() if r.request_id == wanted]
    assert record.state is RequestState.PENDING_APPROVAL
    assert record.owner_account == local_mesh.producer


def test_the_sweep_and_member_schedules_run_on_their_samples(local_mesh: LocalMesh) -> None:
    sweep = local_mesh.deployment.functions["AccessSweepFunction"]
    counts = invoke(
        sweep,
        sample("lambda/access-sweep-schedule.json"),
        local_mesh.sessions,
        local_mesh.central,
        None,
    )
    assert counts == {
        "expired": 0,
        "warned": 0,
        "reshared": 0,
        "failed_unaccepted": 0,
        "unpublished": 0,
        "reviews_requested": 0,
        "reviews_revoked_unanswered": 0,
        "reviews_escalated": 0,
        "unused_warned": 0,
        "unused_revoked": 0,
        "ownership_granted": 0,
    }
    member = local_mesh.deployment.member_functions[local_mesh.consumer]["MemberAccessFunction"]
    result = invoke(
        member,
        sample("lambda/member-access-schedule.json"),
        local_mesh.sessions,
        local_mesh.consumer,
        None,
    )
    assert result == {"id": "5f1a2b3c-0000-4000-8000-000000000003", "actions": 0}
    assert any(r.entry.action == "access:sweep" for r in local_mesh.audit_records())
