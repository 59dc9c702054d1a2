"""Issue 4, bad input: every request, decision, revocation, report or invitation meshgov must not
act on is refused with a clear error code in the central audit trail, the sender is told where it
asked for something (``Access Denied``), and nothing changes in any account.

"Nothing changes" is checked on a snapshot of every account taken before the bad input: the
request records (state and version), every Lake Formation grant in central and in each member,
the consumer's Glue databases (links) and its RAM invitations and shares. Inputs that change
nothing share one mesh (subtests): a case that wrongly changed something fails on its own
snapshot.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from meshgov.access.states import RequestState
from meshgov.contracts.access_events import (
    ACCESS_APPROVAL_REQUESTED,
    ACCESS_DECIDED,
    ACCESS_DENIED,
    ACCESS_GRANTED,
    ACCESS_SOURCE,
    MEMBER_ACTIONS,
)
from meshgov_local.emulator import controls
from meshgov_local.emulator.iam_bootstrap import ensure_admin_role
from meshgov_local.mesh import LocalMesh
from tests.integration.access_helpers import (
    CONSUMER,
    HR,
    Inbox,
    analyst_arn,
    audit,
    central_grants,
    create_role,
    decide,
    fresh_mesh,
    invitations,
    links,
    local_grants,
    permissions,
    publish_sales,
    record,
    request,
    request_id,
    revoke,
    shares_with,
    two_producer_config,
)
from tests.integration.helpers import create_published_database

S = RequestState
OUTSIDERS = ("555555555555", "666666666666")  # accounts with a Glue catalog, in no mesh
UNKNOWN_REQUEST = "req-000000000000000000000000"


def snapshot(mesh: LocalMesh) -> dict[str, Any]:
    def grants(account: str) -> list[str]:
        return sorted(
            json.dumps(g, sort_keys=True, default=str) for g in permissions(mesh, account)
        )

    members = [m.account_id for m in mesh.config.members]
    return {
        "requests": {r.request_id: (r.state, r.version) for r in mesh.requests()},
        "grants": {account: grants(account) for account in (mesh.central, *members)},
        "databases": links(mesh),
        "invitations": sorted(
            (i["resourceShareInvitationArn"], i["status"]) for i in invitations(mesh)
        ),
        "shares": [s["resourceShareArn"] for s in shares_with(mesh)],
    }


def refusals(mesh: LocalMesh, correlation: str) -> list[str]:
    """Error codes of the REFUSED audit records about one event or request."""
    return [
        str(e.detail.get("error_code"))
        for e in audit(mesh, outcome="REFUSED")
        if correlation in (e.correlation_id, e.detail.get("event_id"))
    ]


@pytest.fixture
def mesh(local_mesh: LocalMesh) -> LocalMesh:
    """A consumer role, and sales' orders database (t0, t1) published and synced."""
    create_role(local_mesh, local_mesh.consumer)
    publish_sales(local_mesh)
    return local_mesh


# --- requests that must be refused ----------------------------------------------------------------

REQUESTS: list[tuple[str, dict[str, Any], str]] = [
    ("unknown database", {"database": "sales_nothing"}, "ResourceNotPublished"),
    ("unpublished producer database", {"database": "sales_secret"}, "ResourceNotPublished"),
    ("central database meshgov did not make", {"database": "scratch"}, "ResourceNotPublished"),
    ("unknown table", {"tables": ["t0", "t9"]}, "ResourceNotPublished"),
    ("unknown column", {"tables": ["t0"], "columns": ["id", "salary"]}, "ColumnUnknown"),
    ("unknown permission", {"permissions": ["INSERT"]}, "PermissionNotGrantable"),
    ("DROP", {"permissions": ["SELECT", "DROP"]}, "PermissionNotGrantable"),
    ("ALTER", {"permissions": ["ALTER"]}, "PermissionNotGrantable"),
    ("ALL", {"permissions": ["ALL"]}, "PermissionNotGrantable"),
    ("duration beyond the contract", {"duration_days": 4000}, "RequestMalformed"),
    ("no duration", {"duration_days": 0}, "RequestMalformed"),
    ("principal of another account", {"principal": analyst_arn(HR)}, "RequestMalformed"),
    (
        "principal of another partition",
        {"principal": analyst_arn(CONSUMER).replace("arn:aws:", "arn:aws-cn:")},
        "RequestMalformed",
    ),
    ("no justification", {"justification": "because"}, "RequestMalformed"),
    ("columns of two tables", {"tables": ["t0", "t1"], "columns": ["id"]}, "RequestMalformed"),
    ("empty tag expression", {"tagExpression": {"conditions": []}}, "RequestMalformed"),
    (
        "unknown tag key",
        {"tagExpression": {"conditions": [{"key": "nosuchkey", "values": ["x"]}]}},
        "TagKeyUnknown",
    ),
    (
        "tag expression matching nothing",
        {"tagExpression": {"conditions": [{"key": "tier", "values": ["gold"]}]}},
        "ResourceNotPublished",
    ),
]


def test_bad_requests_are_refused_told_and_change_nothing(
    mesh: LocalMesh, subtests: pytest.Subtests
) -> None:
    # Given an unpublished producer database, a central database made by hand, and an LF-Tag
    # no published table carries
    create_published_database(mesh.client(mesh.producer, "glue"), "secret", published=False)
    mesh.client(mesh.central, "glue").create_database(DatabaseInput={"Name": "scratch"})
    mesh.client(mesh.central, "lakeformation").create_lf_tag(TagKey="tier", TagValues=["gold"])
    mesh.settle()
    inbox = Inbox(mesh, mesh.consumer)
    for name, overrides, code in REQUESTS:
        with subtests.test(msg=name):
            before, told_before = snapshot(mesh), len(inbox.details(ACCESS_DENIED))
            # When the consumer sends the bad request
            event_id = request(mesh, **overrides)
            report = mesh.settle()
            # Then it is refused with its code, in one audit record naming the sender
            (refused,) = audit(mesh, "access:request", "REFUSED", event_id)
            assert refused.detail["error_code"] == code
            assert refused.target == mesh.consumer
            # ... the consumer is told why, under the client token it used
            (denied,) = inbox.details(ACCESS_DENIED)[told_before:]
            assert denied["reason"].startswith(f"{code}: ")
            assert (denied["clientToken"], denied["decidedBy"]) == ("req-1", "meshgov:validation")
            (sent,) = audit(mesh, "events:PutEvents", "SUCCEEDED", event_id)
            assert sent.reason == ACCESS_DENIED
            assert sent.target.endswith(f":{mesh.consumer}:event-bus/meshgov")
            # ... nothing is recorded, granted, linked or shared; nothing failed or was parked
            assert snapshot(mesh) == before
            assert record(mesh, request_id(mesh)) is None
            assert report.failed_messages == 0
    assert mesh.dead_letters("AccessEventsDLQ") == []
    # ... and a refusal says what was wrong, e.g. the principal outside the consumer account
    (outside,) = [
        e
        for e in audit(mesh, "access:request", "REFUSED")
        if e.detail["error_code"] == "RequestMalformed" and HR in e.reason
    ]
    assert f"is not in the consumer account {mesh.consumer}" in outside.reason
    # ... or a role of the consumer's account id in another partition (accounts are per partition)
    (foreign,) = [
        e
        for e in audit(mesh, "access:request", "REFUSED")
        if e.detail["error_code"] == "RequestMalformed" and "arn:aws-cn:" in e.reason
    ]
    assert "is not in the mesh's partition 'aws'" in foreign.reason


def put(mesh: LocalMesh, account: str, detail_type: str, detail: dict[str, Any]) -> str:
    return mesh.put_event(account, ACCESS_SOURCE, detail_type, detail)


def test_foreign_malformed_and_unknown_input_is_refused_and_changes_nothing(
    mesh: LocalMesh, subtests: pytest.Subtests
) -> None:
    """Decisions, revocations and reports meshgov cannot act on; a forged Access Granted."""
    analyst = analyst_arn(mesh.consumer)
    producer, consumer = mesh.producer, mesh.consumer
    producer_inbox = Inbox(mesh, producer)
    forged = {
        "requestId": "req-forged",
        "consumerAccount": consumer,
        "principal": analyst,
        "centralAccount": mesh.central,
        "permissions": ["SELECT"],
        "links": ["sales_orders"],
        "grants": [
            {
                "principal": analyst,
                "resource": {"Database": {"Name": "sales_orders"}},
                "permissions": ["DESCRIBE"],
            }
        ],
    }

    def forge() -> str:
        """Something in the consumer account puts an Access Granted on its own meshgov bus."""
        response = mesh.client(consumer, "events").put_events(
            Entries=[
                {
                    "Source": ACCESS_SOURCE,
                    "DetailType": ACCESS_GRANTED,
                    "Detail": json.dumps(forged),
                    "EventBusName": "meshgov",
                }
            ]
        )
        return str(response["Entries"][0]["EventId"])

    cases: list[tuple[str, Callable[[], str], str]] = [
        (
            "request from another account in the consumer's name",
            lambda: request(mesh, sender=producer),
            "ConsumerMismatch",
        ),
        ("decision on an unknown request", lambda: decide(mesh, UNKNOWN_REQUEST), "RequestUnknown"),
        (
            "decision with an unknown verdict",
            lambda: put(
                mesh,
                producer,
                ACCESS_DECIDED,
                {"requestId": "x", "decision": "MAYBE", "reason": "r"},
            ),
            "DecisionMalformed",
        ),
        (
            "decision without a reason",
            lambda: put(mesh, producer, ACCESS_DECIDED, {"requestId": "x", "decision": "APPROVE"}),
            "DecisionMalformed",
        ),
        (
            "revocation of an unknown request",
            lambda: revoke(mesh, UNKNOWN_REQUEST, consumer),
            "RequestUnknown",
        ),
        (
            "revocation without a request id",
            lambda: put(mesh, consumer, "Access Revoke Requested", {"reason": "r"}),
            "RevocationMalformed",
        ),
        (
            "member report that is not one",
            lambda: put(mesh, consumer, MEMBER_ACTIONS, {"linked": "maybe"}),
            "MemberReportMalformed",
        ),
        ("forged Access Granted", forge, "EventNotFromCentral"),
    ]
    for name, send, code in cases:
        with subtests.test(msg=name):
            before = snapshot(mesh)
            event_id = send()
            report = mesh.settle()
            assert refusals(mesh, event_id) == [code]
            assert snapshot(mesh) == before
            assert report.failed_messages == 0
    # Only a request is answered with Access Denied, and only to the account that sent it
    (denied,) = producer_inbox.details(ACCESS_DENIED)
    assert denied["reason"].startswith("ConsumerMismatch: ")
    (member_refusal,) = [
        e for e in audit(mesh, outcome="REFUSED") if e.actor == f"member:{consumer}"
    ]
    assert member_refusal.action == "access:access-granted"
    assert local_grants(mesh, analyst) == {}


# --- requests recorded, never granted -------------------------------------------------------------


def test_over_long_reused_and_repeated_requests(mesh: LocalMesh) -> None:
    inbox, producer_inbox = Inbox(mesh, mesh.consumer), Inbox(mesh, mesh.producer)
    # When the consumer asks for longer than MaxDurationDays (90)
    request(mesh, token="long", tables=["t0"], duration_days=91)
    mesh.settle()
    # Then the policy denies it: recorded DENIED, never sent to the producer, nothing granted
    long = request_id(mesh, "long")
    denied = record(mesh, long)
    assert denied is not None and denied.state is S.DENIED
    assert denied.decided_by == "meshgov:approval-policy"
    assert "exceeds the policy's 90" in denied.reason
    (told,) = inbox.details(ACCESS_DENIED)
    assert (told["requestId"], told["decidedBy"]) == (long, "meshgov:approval-policy")
    assert producer_inbox.details(ACCESS_APPROVAL_REQUESTED) == []
    assert central_grants(mesh) == {} and links(mesh) == {}
    # When a request is sent, then its client token reused for another request
    request(mesh, tables=["t0"])
    mesh.settle()
    rid = request_id(mesh)
    before = snapshot(mesh)
    reused = request(mesh, tables=["t1"])
    mesh.settle()
    # Then the second is refused, and the first is untouched
    assert refusals(mesh, reused) == ["ClientTokenReused"]
    assert snapshot(mesh) == before
    pending = record(mesh, rid)
    assert pending is not None and [c.tables for c in pending.coverage] == [("t0",)]
    # When the same request is sent again
    again = request(mesh, tables=["t0"])
    mesh.settle()
    # Then it is the same one request, and the producer is asked again about it (as after a
    # failure to ask it the first time)
    assert refusals(mesh, again) == []
    assert audit(mesh, "access:request-repeated", "SKIPPED", rid)
    assert sorted(r.request_id for r in mesh.requests() if r.kind == "consumer") == sorted(
        [long, rid]
    )
    asks = producer_inbox.details(ACCESS_APPROVAL_REQUESTED)
    assert [d["requestId"] for d in asks] == [rid, rid]


# --- decisions and revocations out of turn --------------------------------------------------------


def test_replayed_and_out_of_order_decisions_and_revocations_change_nothing(
    mesh: LocalMesh,
) -> None:
    # Given a request approved and active
    request(mesh, tables=["t0"])
    mesh.settle()
    rid = request_id(mesh)
    decide(mesh, rid)
    mesh.settle()
    before = snapshot(mesh)
    # When the producer approves again, then denies (too late), and claims the consumer's
    # links are in place
    again = decide(mesh, rid)
    late_deny = decide(mesh, rid, "DENY")
    claim = put(
        mesh,
        mesh.producer,
        MEMBER_ACTIONS,
        {"requestId": rid, "correlationId": "c-1", "linked": True, "actions": []},
    )
    mesh.settle()
    # Then all are refused, and the request and its grants are as they were
    assert refusals(mesh, again) == ["DecisionOutOfOrder"]
    assert refusals(mesh, late_deny) == ["DecisionOutOfOrder"]
    assert refusals(mesh, claim) == ["LinkReportNotConsumer"]
    assert snapshot(mesh) == before
    # Given a second request, denied
    request(mesh, token="second", tables=["t1"])
    mesh.settle()
    second = request_id(mesh, "second")
    decide(mesh, second, "DENY")
    mesh.settle()
    before = snapshot(mesh)
    # When it is approved afterwards, or its revocation asked
    after_denial = decide(mesh, second)
    dead = revoke(mesh, second, mesh.consumer)
    mesh.settle()
    # Then both are refused, and nothing changes
    assert refusals(mesh, after_denial) == ["DecisionOutOfOrder"]
    assert refusals(mesh, dead) == ["RevocationOutOfOrder"]
    assert snapshot(mesh) == before


@pytest.fixture
def two_producers() -> Iterator[LocalMesh]:
    """Sales (222...) and HR (444...) both publish; a consumer with an analyst role."""
    with fresh_mesh(two_producer_config()) as mesh:
        create_role(mesh, mesh.consumer)
        publish_sales(mesh)
        publish_sales(mesh, database="people", producer=HR)
        yield mesh


def test_only_the_owning_producer_decides_and_one_request_has_one_owner(
    two_producers: LocalMesh,
) -> None:
    mesh = two_producers
    # Given a table of each producer carrying the same LF-Tag (mirrored centrally)
    for producer, database in ((mesh.producer, "orders"), (HR, "people")):
        lf = mesh.client(producer, "lakeformation")
        lf.create_lf_tag(TagKey="tier", TagValues=["gold"])
        lf.add_lf_tags_to_resource(
            Resource={"Table": {"DatabaseName": database, "Name": "t0"}},
            LFTags=[{"TagKey": "tier", "TagValues": ["gold"]}],
        )
    mesh.sweep()
    before = snapshot(mesh)
    # When the consumer asks by an expression matching tables of both producers
    spanning = request(mesh, tagExpression={"conditions": [{"key": "tier", "values": ["gold"]}]})
    mesh.settle()
    # Then it is refused: only one producer can decide one request
    assert refusals(mesh, spanning) == ["ExpressionSpansProducers"]
    assert snapshot(mesh) == before
    # Given a request on sales data
    request(mesh, token="sales", tables=["t0"])
    mesh.settle()
    rid = request_id(mesh, "sales")
    before = snapshot(mesh)
    # When HR (a registered producer, not the owner) approves, and the consumer approves its own
    by_hr = decide(mesh, rid, sender=HR)
    by_consumer = decide(mesh, rid, sender=mesh.consumer)
    mesh.settle()
    # Then both are refused and the request still waits for sales
    assert refusals(mesh, by_hr) == ["DeciderNotOwner"]
    assert refusals(mesh, by_consumer) == ["DeciderNotOwner"]
    assert snapshot(mesh) == before
    # When sales approves, it is granted; HR cannot revoke it
    decide(mesh, rid)
    mesh.settle()
    active = record(mesh, rid)
    assert active is not None and active.state is S.ACTIVE
    before = snapshot(mesh)
    by_stranger = revoke(mesh, rid, HR)
    mesh.settle()
    assert refusals(mesh, by_stranger) == ["RevokerUnrelated"]
    assert snapshot(mesh) == before


# --- the member: untrusted and expired invitations ------------------------------------------------


def invite_from_outsider(mesh: LocalMesh, outsider: str) -> str:
    """An account outside the mesh shares a database of its catalog with the consumer (a
    cross-account Lake Formation grant, which sends a RAM invitation); the invitation ARN."""
    ensure_admin_role(outsider)
    create_published_database(mesh.client(outsider, "glue"), "bait", published=False)
    mesh.client(outsider, "lakeformation").grant_permissions(
        Principal={"DataLakePrincipalIdentifier": mesh.consumer},
        Resource={"Database": {"Name": "bait"}},
        Permissions=["DESCRIBE"],
        PermissionsWithGrantOption=["DESCRIBE"],
    )
    (invitation,) = [i for i in invitations(mesh) if i["senderAccountId"] == outsider]
    assert invitation["status"] == "PENDING"
    return str(invitation["resourceShareInvitationArn"])


def lose_ram_events(mesh: LocalMesh) -> None:
    """RAM events are best effort: drop what the member function has not yet received."""
    binding = mesh.deployment.member_functions[mesh.consumer]["MemberAccessFunction"]
    mesh.client(mesh.consumer, "sqs").purge_queue(QueueUrl=binding.source_queue_url)


def test_invitations_from_untrusted_accounts_are_rejected_and_audited(mesh: LocalMesh) -> None:
    # Given one outsider's invitation that raises a RAM event, another whose event is lost
    by_event = invite_from_outsider(mesh, OUTSIDERS[0])
    mesh.settle()
    by_schedule = invite_from_outsider(mesh, OUTSIDERS[1])
    lose_ram_events(mesh)
    mesh.invitation_sweep(mesh.consumer)
    # Then both are rejected (the second by the scheduled run), the consumer gets no share
    for arn, outsider in ((by_event, OUTSIDERS[0]), (by_schedule, OUTSIDERS[1])):
        (invitation,) = [i for i in invitations(mesh) if i["resourceShareInvitationArn"] == arn]
        assert invitation["status"] == "REJECTED"
        # ... and each is one refusal in the central audit trail, reported by the member
        (refused,) = [e for e in audit(mesh, outcome="REFUSED") if e.target == arn]
        assert refused.action == "ram:RejectResourceShareInvitation"
        assert refused.actor == f"member:{mesh.consumer}"
        assert refused.detail["error_code"] == "InvitationUntrusted"
        assert outsider in refused.reason
    assert shares_with(mesh) == []
    assert links(mesh) == {}
    # ... and a later scheduled run has nothing to answer or record
    mesh.invitation_sweep(mesh.consumer)
    assert len([e for e in audit(mesh) if e.target in (by_event, by_schedule)]) == 2


def central_shares_directly(mesh: LocalMesh, table: str | None = None) -> None:
    """Central grants the consumer account outside meshgov's flow (no request): an invitation."""
    resource: dict[str, Any] = (
        {"Table": {"DatabaseName": "sales_orders", "Name": table}}
        if table
        else {"Database": {"Name": "sales_orders"}}
    )
    mesh.client(mesh.central, "lakeformation").grant_permissions(
        Principal={"DataLakePrincipalIdentifier": mesh.consumer},
        Resource=resource,
        Permissions=["DESCRIBE"],
        PermissionsWithGrantOption=["DESCRIBE"],
    )


def test_an_expired_invitation_is_audited_and_never_accepted(mesh: LocalMesh) -> None:
    # Given central shares with the consumer, and 13 hours pass before the member function gets
    # to the RAM event
    central_shares_directly(mesh)
    (pending,) = invitations(mesh)
    arn = pending["resourceShareInvitationArn"]
    controls.advance_time(13 * 3600)
    mesh.settle()
    # Then the invitation is expired, not accepted; the consumer has no share and no link
    (expired,) = invitations(mesh)
    assert expired["status"] == "EXPIRED"
    assert shares_with(mesh) == []
    assert links(mesh) == {}
    # ... and it is audited once, as a refusal with its code
    (refused,) = [e for e in audit(mesh, outcome="REFUSED") if e.target == arn]
    assert refused.detail["error_code"] == "InvitationExpired"
    assert refused.action == "ram:AcceptResourceShareInvitation"
    mesh.invitation_sweep(mesh.consumer)
    assert len([e for e in audit(mesh) if e.target == arn]) == 1
    # When central shares again (a new invitation) and its RAM event is lost
    central_shares_directly(mesh, table="t0")
    lose_ram_events(mesh)
    mesh.invitation_sweep(mesh.consumer)
    # Then the scheduled run leaves the new invitation pending: from central, only an Access
    # Granted that explains what it shares gets it accepted (issue 12, defect 8)
    statuses = sorted(i["status"] for i in invitations(mesh))
    assert statuses == ["EXPIRED", "PENDING"]
    assert shares_with(mesh) == []


# --- failures on the way: a retry finishes the work -----------------------------------------------


def approved_and_active(mesh: LocalMesh) -> str:
    request(mesh, tables=["t0"])
    mesh.settle()
    rid = request_id(mesh)
    decide(mesh, rid)
    mesh.settle()
    active = record(mesh, rid)
    assert active is not None and active.state is S.ACTIVE
    return rid


def test_a_revocation_the_consumer_could_not_be_told_of_is_finished_on_retry(
    mesh: LocalMesh,
) -> None:
    analyst = analyst_arn(mesh.consumer)
    rid = approved_and_active(mesh)
    # Given the consumer's meshgov bus refuses central for a while
    events = mesh.client(mesh.consumer, "events")
    policy = json.loads(events.describe_event_bus(Name="meshgov")["Policy"])
    events.remove_permission(EventBusName="meshgov", StatementId="meshgov-central-put-events")
    # When the consumer asks for revocation: central cannot tell the consumer's member
    revoke(mesh, rid, mesh.consumer)
    mesh.settle()
    # Then the request is not recorded as revoked: the consumer still holds links and grants
    unfinished = record(mesh, rid)
    assert unfinished is not None and unfinished.state is S.ACTIVE
    assert links(mesh) != {} and local_grants(mesh, analyst) != {}
    # When the bus accepts central again and the revocation is retried (asked again)
    events.put_permission(EventBusName="meshgov", Policy=json.dumps(policy))
    revoke(mesh, rid, mesh.consumer)
    mesh.settle()
    # Then it is finished everywhere
    done = record(mesh, rid)
    assert done is not None and done.state is S.REVOKED
    assert central_grants(mesh) == {} and links(mesh) == {}
    assert local_grants(mesh, analyst) == {}


def test_a_late_access_granted_after_revocation_is_undone(mesh: LocalMesh) -> None:
    analyst = analyst_arn(mesh.consumer)
    inbox = Inbox(mesh, mesh.consumer)
    rid = approved_and_active(mesh)
    (granted,) = inbox.events(ACCESS_GRANTED)
    revoke(mesh, rid, mesh.consumer)
    mesh.settle()
    assert links(mesh) == {}
    # When a late copy of the Access Granted reaches the member (delivery is at least once)
    mesh.client(mesh.central, "events").put_events(
        Entries=[
            {
                "Source": ACCESS_SOURCE,
                "DetailType": ACCESS_GRANTED,
                "Detail": json.dumps(granted["detail"]),
                "EventBusName": mesh.deployment.member_bus_arns[mesh.consumer],
            }
        ]
    )
    mesh.settle()
    # Then what it made is undone: central answers the member's report with Access Revoked
    assert links(mesh) == {}
    assert local_grants(mesh, analyst) == {}
    assert refusals(mesh, rid) == ["LinkedAfterWithdrawal"]
    done = record(mesh, rid)
    assert done is not None and done.state is S.REVOKED
