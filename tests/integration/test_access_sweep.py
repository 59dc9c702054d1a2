"""The access sweep: one consumer it cannot reach stops no other, and fails loudly."""

from __future__ import annotations

import json

from meshgov.access.states import RequestState
from meshgov_local.config import MemberAccount, MemberKind, MeshConfig
from meshgov_local.emulator import controls
from meshgov_local.mesh import LocalMesh as LocalMeshType
from tests.integration.access_helpers import (
    CONSUMER,
    SALES,
    central_grants,
    create_role,
    decide,
    fresh_mesh,
    invitations,
    links,
    publish_sales,
    record,
    request,
    request_id,
)

OTHER = "555555555555"
DAY = 86_400


def test_an_unreachable_consumer_fails_the_sweep_but_the_others_expire() -> None:
    config = MeshConfig(
        members=(
            MemberAccount(SALES, "producer", MemberKind.PRODUCER, domain="sales"),
            MemberAccount(CONSUMER, "consumer", MemberKind.CONSUMER),
            MemberAccount(OTHER, "consumer2", MemberKind.CONSUMER),
        )
    )
    with fresh_mesh(config) as mesh:
        # Given two consumers, each with an approved 1-day request
        publish_sales(mesh, tables=1)
        for consumer in (CONSUMER, OTHER):
            create_role(mesh, consumer)
            request(mesh, tables=["t0"], duration_days=1, consumer=consumer)
            mesh.settle()
            decide(mesh, request_id(mesh, consumer=consumer))
            mesh.settle()
        first, second = request_id(mesh), request_id(mesh, consumer=OTHER)
        assert {record(mesh, rid).state for rid in (first, second)} == {RequestState.ACTIVE}  # type: ignore[union-attr]
        # And the first consumer's meshgov bus is gone (central cannot tell it anything)
        mesh.client(CONSUMER, "events").delete_event_bus(Name="meshgov")
        # When two days pass and the access sweep runs (three attempts, as Lambda retries)
        controls.advance_time(2 * DAY)
        result = mesh.router.run_schedule("AccessSweepFunction")
        mesh.settle()
        # Then the reachable consumer's request expired and its link is gone
        assert record(mesh, second).state is RequestState.EXPIRED  # type: ignore[union-attr]
        other_dbs = mesh.client(OTHER, "glue").get_databases()["DatabaseList"]
        assert [d["Name"] for d in other_dbs] == []
        # And the unreachable one is still recorded live: the next run finishes its revocation
        assert record(mesh, first).state is RequestState.ACTIVE  # type: ignore[union-attr]
        # And the sweep failed every attempt and was parked in the sweep DLQ with the reason
        assert result is None
        (parked,) = mesh.dead_letters("SweepDLQ")
        failure = json.loads(parked["Body"])
        assert failure["responsePayload"]["errorType"] == "AccessSweepIncompleteError"
        assert first in failure["responsePayload"]["errorMessage"]


def _member_rules(mesh: LocalMeshType, account: str, enabled: bool) -> None:
    """Switch the consumer's member access function's event rules off (or on again)."""
    events = mesh.client(account, "events")
    for name, bus in (
        ("meshgov-member-ram-events-rule", "default"),
        ("meshgov-member-access-events-rule", "meshgov"),
    ):
        if enabled:
            events.enable_rule(Name=name, EventBusName=bus)
        else:
            events.disable_rule(Name=name, EventBusName=bus)


def _granted_while_the_consumer_is_away(mesh: LocalMeshType) -> str:
    """An approved request granted while the consumer's member function does not run."""
    publish_sales(mesh, tables=1)
    create_role(mesh, CONSUMER)
    _member_rules(mesh, CONSUMER, enabled=False)
    request(mesh, tables=["t0"], duration_days=30)
    mesh.settle()
    rid = request_id(mesh)
    decide(mesh, rid)
    mesh.settle()
    return rid


def test_a_share_never_accepted_is_shared_again_then_given_up() -> None:
    with fresh_mesh() as mesh:
        # Given a granted request whose consumer did not react within the invitation's 12 hours
        rid = _granted_while_the_consumer_is_away(mesh)
        assert record(mesh, rid).state is RequestState.GRANTED  # type: ignore[union-attr]
        controls.advance_time(13 * 3600)
        (expired,) = invitations(mesh, CONSUMER)
        assert expired["status"] == "EXPIRED"
        # When the consumer is back and the access sweep runs
        _member_rules(mesh, CONSUMER, enabled=True)
        mesh.access_sweep()
        # Then central shared again: a new invitation, accepted, the link made, ACTIVE
        again = record(mesh, rid)
        assert again is not None and again.state is RequestState.ACTIVE and again.reshares == 1
        statuses = sorted(i["status"] for i in invitations(mesh, CONSUMER))
        assert statuses == ["ACCEPTED", "EXPIRED"]
        assert "sales_orders" in links(mesh, CONSUMER)


def test_a_consumer_that_never_accepts_ends_failed_with_nothing_granted() -> None:
    with fresh_mesh() as mesh:
        # Given a consumer whose member function never runs
        rid = _granted_while_the_consumer_is_away(mesh)
        # When the sweep shares again three times, 13 hours apart, then once more
        for _ in range(4):
            controls.advance_time(13 * 3600)
            mesh.access_sweep()
        # Then the request FAILED and central grants the consumer nothing
        final = record(mesh, rid)
        assert final is not None and final.state is RequestState.FAILED and final.reshares == 3
        assert central_grants(mesh, CONSUMER) == {}
        statuses = [i["status"] for i in invitations(mesh, CONSUMER)]
        assert statuses == ["EXPIRED"] * 4
