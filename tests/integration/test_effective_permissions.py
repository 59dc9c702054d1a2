"""Effective permissions on the local mesh: the whole access flow, asked of Lake Formation."""

from __future__ import annotations

from typing import Any

from meshgov.access.effective import AccessAnswer
from meshgov.access.effective_reads import CentralReaders, ConsumerReaders, can_access
from meshgov.access.states import RequestState
from meshgov.access.store import RequestStore, request_id_for
from meshgov.contracts.access_events import ACCESS_REVOKE_REQUESTED, ACCESS_SOURCE
from meshgov_local.mesh import LocalMesh
from tests.integration.access_helpers import create_role, decide, publish_sales, request

NOTHING_YET = [
    "no grant from central to the account",
    "no grant to the principal in the consumer account",
    "no resource link",
]


def ask(mesh: LocalMesh, principal: str, table: str = "t0", action: str = "SELECT") -> AccessAnswer:
    """What central answers, reading the consumer account as its reader role would."""
    central, consumer = mesh.central, mesh.consumer
    return can_access(
        CentralReaders(
            central, mesh.client(central, "glue"), mesh.client(central, "lakeformation")
        ),
        ConsumerReaders(
            consumer,
            mesh.client(consumer, "lakeformation"),
            mesh.client(consumer, "glue"),
            mesh.client(consumer, "ram"),
        ),
        RequestStore(mesh.client(central, "dynamodb"), mesh.deployment.requests_table_name),
        principal,
        action,
        "sales_orders",
        table,
    )


def approved(mesh: LocalMesh, token: str = "req-1", **request_args: Any) -> str:  # noqa: S107
    """The consumer asks, the producer approves, the mesh settles: the request id."""
    request(mesh, token=token, **request_args)
    mesh.settle()
    request_id = request_id_for(mesh.consumer, token)
    decide(mesh, request_id)
    mesh.settle()
    return request_id


def test_the_analyst_can_select_after_the_approved_flow_and_not_before(
    local_mesh: LocalMesh,
) -> None:
    # Given a published database and the consumer's analyst role
    mesh = local_mesh
    analyst = create_role(mesh, mesh.consumer)
    publish_sales(mesh)
    # When asked before any request, Then the analyst cannot, and every missing link is named
    before = ask(mesh, analyst)
    assert not before.allowed
    assert before.missing == NOTHING_YET
    assert before.requests == []
    # When the analyst's request for t0 was approved and the mesh settled
    request_id = approved(mesh, tables=["t0"])
    [record] = [r for r in mesh.requests() if r.request_id == request_id]
    assert record.state is RequestState.ACTIVE
    # Then the analyst can SELECT t0, because of that request, until it expires
    after = ask(mesh, analyst)
    assert after.allowed, after.reasons
    assert after.missing == []
    assert after.requests == [request_id]
    assert after.expires_at == record.expires_at
    assert any("resource link sales_orders" in r for r in after.reasons)
    # And not t1 (not requested), nor DESCRIBE t0 (SELECT was asked for)
    other_table = ask(mesh, analyst, table="t1")
    assert other_table.missing == [
        "no grant from central to the account",
        "no grant to the principal in the consumer account",
    ]
    assert not ask(mesh, analyst, action="DESCRIBE").allowed


def test_a_role_that_did_not_request_cannot(local_mesh: LocalMesh) -> None:
    # Given the analyst's request was approved
    mesh = local_mesh
    create_role(mesh, mesh.consumer)
    intern = create_role(mesh, mesh.consumer, "intern")
    publish_sales(mesh)
    request_id = approved(mesh, tables=["t0"])
    # When the intern (same account, no request) is asked about
    answer = ask(mesh, intern)
    # Then the account holds the grant (thanks to the analyst's request) but the intern does not
    assert not answer.allowed
    assert answer.missing == [
        "no grant to the principal in the consumer account",
        "no DESCRIBE on the resource link for the principal",
    ]
    assert answer.requests == []
    assert request_id in answer.reasons[0]


def test_after_revocation_the_analyst_cannot(local_mesh: LocalMesh) -> None:
    # Given the analyst could SELECT through an approved request
    mesh = local_mesh
    analyst = create_role(mesh, mesh.consumer)
    publish_sales(mesh)
    request_id = approved(mesh, tables=["t0"])
    assert ask(mesh, analyst).allowed
    # When the consumer asks to revoke it and the mesh settles
    mesh.put_event(
        mesh.consumer,
        ACCESS_SOURCE,
        ACCESS_REVOKE_REQUESTED,
        {"requestId": request_id, "reason": "dashboard retired"},
    )
    mesh.settle()
    # Then the request is REVOKED and nothing of the chain is left
    [record] = [r for r in mesh.requests() if r.request_id == request_id]
    assert record.state is RequestState.REVOKED
    answer = ask(mesh, analyst)
    assert not answer.allowed
    assert answer.missing == NOTHING_YET
    assert answer.requests == [] and answer.expires_at is None


def test_a_grant_whose_share_is_not_accepted_is_not_usable(local_mesh: LocalMesh) -> None:
    # Given central granted the consumer account SELECT on t0 directly (no request), and the
    # consumer has not answered the RAM invitation yet
    mesh = local_mesh
    analyst = create_role(mesh, mesh.consumer)
    publish_sales(mesh)
    mesh.client(mesh.central, "lakeformation").grant_permissions(
        Principal={"DataLakePrincipalIdentifier": mesh.consumer},
        Resource={"Table": {"DatabaseName": "sales_orders", "Name": "t0"}},
        Permissions=["SELECT"],
        PermissionsWithGrantOption=["SELECT"],
    )
    # When asked, Then the share is named as missing, with the invitation's status
    pending = ask(mesh, analyst)
    assert pending.missing[0] == "share not accepted"
    assert "invitation PENDING" in pending.reasons[0]
    assert "no meshgov request explains it: drift?" in pending.reasons[0]
    # When the consumer's scheduled run leaves it pending (no meshgov grant explains it), Then
    # the share is still missing
    mesh.invitation_sweep(mesh.consumer)
    assert ask(mesh, analyst).missing[0] == "share not accepted"
    # When the consumer's administrator accepts it by hand, Then the share is no longer missing
    ram = mesh.client(mesh.consumer, "ram")
    (invitation,) = ram.get_resource_share_invitations()["resourceShareInvitations"]
    ram.accept_resource_share_invitation(
        resourceShareInvitationArn=invitation["resourceShareInvitationArn"]
    )
    accepted = ask(mesh, analyst)
    assert "share not accepted" not in accepted.missing
    assert "no grant to the principal in the consumer account" in accepted.missing


def test_lf_tag_policy_access_is_explained_by_its_request(local_mesh: LocalMesh) -> None:
    # Given the producer tagged t1 domain=sales, and central mirrored it
    mesh = local_mesh
    analyst = create_role(mesh, mesh.consumer)
    publish_sales(mesh)
    producer_lf = mesh.client(mesh.producer, "lakeformation")
    producer_lf.create_lf_tag(TagKey="team", TagValues=["finance", "ops"])
    producer_lf.add_lf_tags_to_resource(
        Resource={"Table": {"DatabaseName": "orders", "Name": "t1"}},
        LFTags=[{"TagKey": "team", "TagValues": ["finance"]}],
    )
    mesh.sweep()
    mesh.settle()
    # When the analyst's LF-Tag request (team=finance) was approved
    request_id = approved(
        mesh,
        tagExpression={"conditions": [{"key": "team", "values": ["finance"]}]},
    )
    # Then the analyst can SELECT t1 through the LF-Tag policy, explained by that request
    answer = ask(mesh, analyst, table="t1")
    assert answer.allowed, answer.reasons
    assert answer.requests == [request_id]
    assert "LF-Tag policy team=finance" in answer.reasons[0]
    # And not t0, which does not carry the tag
    assert "no grant from central to the account" in ask(mesh, analyst).missing
