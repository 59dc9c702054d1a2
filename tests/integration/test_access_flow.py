"""Issue 4, the access flow end to end in the local mesh: request, approval, grants, RAM, links,
local grants, revocation, expiry, unpublishing, schema-change news, and chaos in delivery.

Every test looks at the real state of the emulated accounts: the request records in central,
Lake Formation grants (central -> consumer account, consumer -> its role), Glue databases and
resource links in the consumer, RAM invitations, the audit trail and the events delivered.
"""

from __future__ import annotations

from typing import Any

from meshgov.access.states import RequestState
from meshgov.access.store import request_id_for
from meshgov.contracts.access_events import (
    ACCESS_APPROVAL_REQUESTED,
    ACCESS_DENIED,
    ACCESS_EXPIRING,
    ACCESS_GRANTED,
    ACCESS_REVOKED,
    SHARED_SCHEMA_CHANGED,
)
from meshgov_local.emulator import controls
from meshgov_local.mesh import LocalMesh
from meshgov_local.router import Chaos
from tests.integration.access_helpers import (
    OUTSIDER,
    Inbox,
    analyst_arn,
    audit,
    central_grants,
    consumer_requests,
    create_role,
    database_key,
    decide,
    fresh_mesh,
    invitation_records,
    invitations,
    links,
    local_grants,
    publish_sales,
    record,
    request,
    request_id,
    resource_key,
    revoke,
    share_subnet,
    shares_with,
    table_key,
    transitions,
)
from tests.integration.helpers import columns, table_input

S = RequestState
CENTRAL, CONSUMER = "111111111111", "333333333333"
DB = "sales_orders"
LINK = {DB: {"CatalogId": CENTRAL, "DatabaseName": DB}}
DAY = 24 * 3600
DESCRIBE, SELECT = frozenset({"DESCRIBE"}), frozenset({"SELECT"})
NONE: frozenset[str] = frozenset()


def given_a_consumer_and_published_sales(
    mesh: LocalMesh, tables: int = 2, classification: str = "internal"
) -> str:
    create_role(mesh, mesh.consumer)
    publish_sales(mesh, tables=tables, classification=classification)
    return analyst_arn(mesh.consumer)


def approved(mesh: LocalMesh, token: str = "req-1", **kwargs: Any) -> str:  # noqa: S107
    """Request (``kwargs`` as :func:`request`), let the producer approve, deliver everything."""
    request(mesh, token=token, **kwargs)
    mesh.settle()
    rid = request_id(mesh, token)
    decide(mesh, rid)
    mesh.settle()
    return rid


def state(mesh: LocalMesh, rid: str) -> RequestState | None:
    found = record(mesh, rid)
    return found.state if found else None


def assert_nothing_shared(mesh: LocalMesh, *principals: str) -> None:
    assert central_grants(mesh) == {}
    for principal in principals:
        assert local_grants(mesh, principal) == {}
    assert links(mesh) == {}


def set_table(mesh: LocalMesh, name: str, spec: list[str], **parameters: str) -> None:
    """The producer updates table ``orders.<name>`` (columns and parameters)."""
    mesh.client(mesh.producer, "glue").update_table(
        DatabaseName="orders", TableInput=table_input(name, columns(*spec), **parameters)
    )


# --- granting ------------------------------------------------------------------------------------


def test_named_tables_requested_approved_granted_linked_and_active(local_mesh: LocalMesh) -> None:
    mesh = local_mesh
    # Given a consumer role and a producer that published orders.t0 and orders.t1
    analyst = given_a_consumer_and_published_sales(mesh)
    producer_inbox, consumer_inbox = Inbox(mesh, mesh.producer), Inbox(mesh, mesh.consumer)
    # When the consumer asks for SELECT on t0 (internal data: the producer decides)
    event_id = request(mesh, tables=["t0"])
    mesh.settle()
    rid = request_id(mesh)
    # Then the request waits for the owning producer, who was asked on its own meshgov bus
    pending = record(mesh, rid)
    assert pending is not None and pending.state is S.PENDING_APPROVAL
    assert (pending.owner_account, pending.domain) == (mesh.producer, "sales")
    (asked,) = producer_inbox.details(ACCESS_APPROVAL_REQUESTED)
    assert (asked["requestId"], asked["consumerAccount"]) == (rid, mesh.consumer)
    assert asked["tables"] == [f"{DB}.t0"]
    assert consumer_inbox.events() == []
    assert audit(mesh, "access:request-received", "RECEIVED", event_id)
    # ... and nothing is granted yet
    assert central_grants(mesh) == {}
    # When the producer approves
    decide(mesh, rid)
    mesh.settle()
    # Then central granted the consumer account DESCRIBE on the database and SELECT on t0, both
    # with the grant option, and nothing else (never DROP, nothing on t1)
    assert central_grants(mesh) == {
        database_key(CENTRAL, DB): (DESCRIBE, DESCRIBE),
        table_key(CENTRAL, DB, "t0"): (SELECT, SELECT),
    }
    # ... the consumer accepted central's RAM invitation and holds the share
    (invitation,) = invitations(mesh)
    assert (invitation["senderAccountId"], invitation["status"]) == (CENTRAL, "ACCEPTED")
    assert len(shares_with(mesh)) == 1
    # ... made a resource link named as the central database, pointing at it
    assert links(mesh) == LINK
    # ... and granted its role DESCRIBE on the link and SELECT on the central table
    assert local_grants(mesh, analyst) == {
        database_key(CONSUMER, DB): (DESCRIBE, NONE),
        table_key(CENTRAL, DB, "t0"): (SELECT, NONE),
    }
    # ... the request is ACTIVE, every transition of the state machine audited in order
    active = record(mesh, rid)
    assert active is not None and active.state is S.ACTIVE
    assert active.decided_by == f"producer:{mesh.producer}"
    assert transitions(mesh, rid) == [
        (None, "REQUESTED"),
        ("REQUESTED", "PENDING_APPROVAL"),
        ("PENDING_APPROVAL", "APPROVED"),
        ("APPROVED", "GRANTED"),
        ("GRANTED", "ACTIVE"),
    ]
    # ... the consumer was told what its member function must make usable
    (granted,) = consumer_inbox.details(ACCESS_GRANTED)
    assert (granted["requestId"], granted["links"]) == (rid, [DB])
    assert granted["expiresAt"] == active.expires_at
    # ... each event central sent is an audited PutEvents to the member's meshgov bus
    sent = [
        (e.reason, e.target)
        for e in audit(mesh, "events:PutEvents", "SUCCEEDED", rid)
        if e.actor == "meshgov:access-requests"
    ]
    assert sent == [
        (ACCESS_APPROVAL_REQUESTED, f"arn:aws:events:eu-west-1:{mesh.producer}:event-bus/meshgov"),
        (ACCESS_GRANTED, f"arn:aws:events:eu-west-1:{mesh.consumer}:event-bus/meshgov"),
    ]
    # ... and what the consumer's member function did is in the central audit trail
    member_actions = {
        e.action for e in audit(mesh, outcome="SUCCEEDED") if e.actor == f"member:{CONSUMER}"
    }
    assert {
        "ram:AcceptResourceShareInvitation",
        "glue:CreateDatabase",
        "lakeformation:BatchGrantPermissions",
    } <= member_actions


def test_a_whole_database_and_columns_of_one_table(local_mesh: LocalMesh) -> None:
    mesh = local_mesh
    analyst = given_a_consumer_and_published_sales(mesh)
    auditor = create_role(mesh, mesh.consumer, "auditor")
    # When the analyst gets the whole database (no table named) with SELECT and DESCRIBE, and
    # the auditor two columns of t1
    whole = approved(mesh, token="whole", permissions=["SELECT", "DESCRIBE"])
    cols = approved(mesh, token="cols", tables=["t1"], columns=["id", "amount"], principal=auditor)
    # Then the whole database is granted through the table wildcard, the columns as
    # TableWithColumns (SELECT only), in central and in the consumer
    wildcard = resource_key(
        {"Table": {"CatalogId": CENTRAL, "DatabaseName": DB, "TableWildcard": {}}}
    )
    with_columns = resource_key(
        {
            "TableWithColumns": {
                "CatalogId": CENTRAL,
                "DatabaseName": DB,
                "Name": "t1",
                "ColumnNames": ["id", "amount"],
            }
        }
    )
    both = frozenset({"DESCRIBE", "SELECT"})
    assert central_grants(mesh) == {
        database_key(CENTRAL, DB): (DESCRIBE, DESCRIBE),
        wildcard: (both, both),
        with_columns: (SELECT, SELECT),
    }
    assert local_grants(mesh, analyst) == {
        database_key(CONSUMER, DB): (DESCRIBE, NONE),
        wildcard: (both, NONE),
    }
    assert local_grants(mesh, auditor) == {
        database_key(CONSUMER, DB): (DESCRIBE, NONE),
        with_columns: (SELECT, NONE),
    }
    assert consumer_requests(mesh) == {whole: S.ACTIVE, cols: S.ACTIVE}
    whole_record = record(mesh, whole)
    assert whole_record is not None and [c.whole for c in whole_record.coverage] == [True]
    # ... and one link serves both
    assert links(mesh) == LINK


def tag_producer_tables(mesh: LocalMesh, tagged: dict[str, str]) -> None:
    """The producer tags tables of ``orders`` with ``classification``; central mirrors them."""
    lf = mesh.client(mesh.producer, "lakeformation")
    lf.create_lf_tag(TagKey="classification", TagValues=["public", "internal"])
    for table, value in tagged.items():
        lf.add_lf_tags_to_resource(
            Resource={"Table": {"DatabaseName": "orders", "Name": table}},
            LFTags=[{"TagKey": "classification", "TagValues": [value]}],
        )
    mesh.sweep()  # Lake Formation has no events: the catalog sweep mirrors the tags


def test_an_lf_tag_expression_becomes_lf_tag_policy_grants(local_mesh: LocalMesh) -> None:
    mesh = local_mesh
    # Given three tables, t0 and t2 tagged classification=internal by the producer (mirrored)
    analyst = given_a_consumer_and_published_sales(mesh, tables=3)
    tag_producer_tables(mesh, {"t0": "internal", "t2": "internal", "t1": "public"})
    # When the consumer asks by LF-Tag expression (in upper case: LF stores lower case)
    upper = approved(
        mesh,
        token="upper",
        tagExpression={"conditions": [{"key": "Classification", "values": ["Internal"]}]},
    )
    # Then the request covers the matching tables, and central grants LF-Tag policies
    active = record(mesh, upper)
    assert active is not None and active.state is S.ACTIVE
    assert [(c.database, c.tables) for c in active.coverage] == [(DB, ("t0", "t2"))]

    def policy(kind: str) -> str:
        return resource_key(
            {
                "LFTagPolicy": {
                    "CatalogId": CENTRAL,
                    "ResourceType": kind,
                    "Expression": [{"TagKey": "classification", "TagValues": ["internal"]}],
                }
            }
        )

    expected = {policy("DATABASE"): (DESCRIBE, DESCRIBE), policy("TABLE"): (SELECT, SELECT)}
    assert central_grants(mesh) == expected
    # ... the consumer's role gets the link and the matched tables by name (LF-Tags cannot be
    # attached to resources shared from another account)
    named = {
        database_key(CONSUMER, DB): (DESCRIBE, NONE),
        table_key(CENTRAL, DB, "t0"): (SELECT, NONE),
        table_key(CENTRAL, DB, "t2"): (SELECT, NONE),
    }
    assert local_grants(mesh, analyst) == named
    assert links(mesh) == LINK
    # When the same expression is requested again in lower case, and the first one revoked
    lower = approved(
        mesh,
        token="lower",
        tagExpression={"conditions": [{"key": "classification", "values": ["internal"]}]},
    )
    revoke(mesh, upper, mesh.consumer)
    mesh.settle()
    # Then Lake Formation's one grant stays for the second request
    assert consumer_requests(mesh) == {upper: S.REVOKED, lower: S.ACTIVE}
    assert central_grants(mesh) == expected
    assert local_grants(mesh, analyst) == named


def test_public_data_is_approved_by_policy_without_asking_the_producer(
    local_mesh: LocalMesh,
) -> None:
    mesh = local_mesh
    # Given t0 classified Public by its table parameter, t1 by its LF-Tag only, t2 internal
    analyst = given_a_consumer_and_published_sales(mesh, tables=3, classification="")
    set_table(mesh, "t0", ["id:int"], **{"meshgov:classification": "Public"})
    set_table(mesh, "t2", ["id:int"], **{"meshgov:classification": "internal"})
    mesh.settle()
    tag_producer_tables(mesh, {"t1": "public"})
    producer_inbox = Inbox(mesh, mesh.producer)
    # When the consumer asks for t0 by name, t1 by name, and t1 by LF-Tag expression
    request(mesh, token="param", tables=["t0"])
    request(mesh, token="tag", tables=["t1"])
    expression = {"conditions": [{"key": "classification", "values": ["public"]}]}
    request(mesh, token="expr", tagExpression=expression)
    mesh.settle()
    # Then the approval policy approved all three: no approval was asked of the producer
    rids = [request_id(mesh, token) for token in ("param", "tag", "expr")]
    for rid in rids:
        active = record(mesh, rid)
        assert active is not None and active.state is S.ACTIVE, rid
        assert active.decided_by == "meshgov:approval-policy"
        assert ("REQUESTED", "APPROVED") in transitions(mesh, rid)
    assert producer_inbox.events() == []
    assert set(local_grants(mesh, analyst)) == {
        database_key(CONSUMER, DB),
        table_key(CENTRAL, DB, "t0"),
        table_key(CENTRAL, DB, "t1"),
    }
    # When the consumer asks for public t0 together with internal t2
    request(mesh, token="mixed", tables=["t0", "t2"])
    mesh.settle()
    # Then the producer decides
    assert state(mesh, request_id(mesh, "mixed")) is S.PENDING_APPROVAL
    (asked,) = producer_inbox.details(ACCESS_APPROVAL_REQUESTED)
    assert asked["tables"] == [f"{DB}.t0", f"{DB}.t2"]


# --- which invitations a member answers (issue 12, defect 8) --------------------------------------


def statuses_by_sender(mesh: LocalMesh) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for invitation in invitations(mesh):
        found.setdefault(invitation["senderAccountId"], []).append(invitation["status"])
    return found


def test_a_subnet_from_an_untrusted_sender_is_left_pending_and_reported(
    local_mesh: LocalMesh,
) -> None:
    mesh = local_mesh
    # Given an account outside the mesh sharing a subnet with the consumer (its network team's
    # business, not meshgov's)
    subnet = share_subnet(mesh, OUTSIDER, mesh.consumer)
    # When the member gets the RAM event, then runs its schedule
    mesh.settle()
    mesh.invitation_sweep(mesh.consumer)
    # Then the invitation is neither accepted nor rejected
    assert statuses_by_sender(mesh) == {OUTSIDER: ["PENDING"]}
    assert shares_with(mesh) == []
    # ... and the member reported it SKIPPED once (on the RAM event that named it), saying why
    [(outcome, code, target)] = invitation_records(mesh)
    assert (outcome, code) == ("SKIPPED", "NotDataCatalogShare")
    assert target == invitations(mesh)[0]["resourceShareInvitationArn"]
    [skipped] = [e for e in audit(mesh, "access:invitation") if e.target == target]
    assert "ec2:Subnet" in skipped.reason and OUTSIDER in skipped.reason
    assert subnet.startswith(f"arn:aws:ec2:eu-west-1:{OUTSIDER}:subnet/")


def test_a_data_catalog_share_from_an_untrusted_sender_is_rejected_even_mixed(
    local_mesh: LocalMesh,
) -> None:
    mesh = local_mesh
    # Given the producer sharing its own database directly (Lake Formation) and an outsider
    # sharing a subnet together with a Glue table of its catalog
    publish_sales(mesh, tables=1)
    mesh.client(mesh.producer, "lakeformation").grant_permissions(
        Principal={"DataLakePrincipalIdentifier": mesh.consumer},
        Resource={"Database": {"Name": "orders"}},
        Permissions=["DESCRIBE"],
        PermissionsWithGrantOption=["DESCRIBE"],
    )
    share_subnet(mesh, OUTSIDER, mesh.consumer, f"arn:aws:glue:eu-west-1:{OUTSIDER}:table/bait/t")
    # When the member answers
    mesh.settle()
    # Then both are rejected and audited as untrusted
    assert statuses_by_sender(mesh) == {mesh.producer: ["REJECTED"], OUTSIDER: ["REJECTED"]}
    assert sorted(o for o, c, _ in invitation_records(mesh) if c == "InvitationUntrusted") == [
        "REFUSED",
        "REFUSED",
    ]


def test_a_share_from_central_is_accepted_only_once_a_meshgov_grant_explains_it(
    local_mesh: LocalMesh,
) -> None:
    mesh = local_mesh
    # Given two published databases, and central's Lake Formation admin granting the consumer a
    # table of one of them behind meshgov's back
    analyst = given_a_consumer_and_published_sales(mesh)
    publish_sales(mesh, tables=1, database="returns")
    mesh.client(mesh.central, "lakeformation").grant_permissions(
        Principal={"DataLakePrincipalIdentifier": mesh.consumer},
        Resource={"Table": {"DatabaseName": "sales_returns", "Name": "t0"}},
        Permissions=["SELECT"],
        PermissionsWithGrantOption=["SELECT"],
    )
    # When the member gets the RAM event and runs its schedule
    mesh.settle()
    mesh.invitation_sweep(mesh.consumer)
    # Then central's invitation is left pending, reported as waiting for an Access Granted
    assert statuses_by_sender(mesh) == {CENTRAL: ["PENDING"]}
    assert [(o, c) for o, c, _ in invitation_records(mesh)] == [
        ("SKIPPED", "InvitationAwaitsGrant")
    ]
    # When meshgov then grants the consumer orders.t0 (the same share, one per account pair)
    rid = approved(mesh, tables=["t0"])
    # Then meshgov's grant explains the share, which is accepted (RAM keeps one share per account
    # pair: what else central put in it cannot be told from a grant made since), the request is
    # ACTIVE, and the acceptance names what no Access Granted in hand explained
    assert statuses_by_sender(mesh) == {CENTRAL: ["ACCEPTED"]}
    assert state(mesh, rid) is S.ACTIVE
    accepted = [
        e
        for e in audit(mesh)
        if "AcceptResourceShareInvitation" in e.action and e.outcome == "SUCCEEDED"
    ]
    assert accepted and "table/sales_returns/t0" in accepted[-1].reason
    # ... and the grant behind meshgov's back is drift in the posture report, nothing else is
    drift = {(d.grantee, d.resource) for d in mesh.posture().drift}
    assert any(
        grantee == mesh.consumer and "sales_returns" in resource for grantee, resource in drift
    )
    assert not any("sales_orders" in resource for _, resource in drift)
    assert mesh.dead_letters("MemberEventsDLQ", mesh.consumer) == []
    assert local_grants(mesh, analyst)


def test_grants_made_together_explain_one_invitation_across_their_events(
    local_mesh: LocalMesh,
) -> None:
    mesh = local_mesh
    # Given two requests on two databases, approved together: central grants both into one share
    # before the consumer's member handles either Access Granted
    analyst = given_a_consumer_and_published_sales(mesh)
    publish_sales(mesh, tables=1, database="returns")
    request(mesh, token="orders", tables=["t0"])
    request(mesh, token="returns", tables=["t0"], database="sales_returns")
    mesh.settle()
    for token in ("orders", "returns"):
        decide(mesh, request_id(mesh, token))
    # When everything is delivered
    mesh.settle()
    # Then the one invitation was accepted, and both requests are ACTIVE with their grants
    assert statuses_by_sender(mesh) == {CENTRAL: ["ACCEPTED"]}
    assert consumer_requests(mesh) == {
        request_id(mesh, "orders"): S.ACTIVE,
        request_id(mesh, "returns"): S.ACTIVE,
    }
    assert set(links(mesh)) == {DB, "sales_returns"}
    assert set(local_grants(mesh, analyst)) == {
        database_key(CONSUMER, DB),
        table_key(CENTRAL, DB, "t0"),
        database_key(CONSUMER, "sales_returns"),
        table_key(CENTRAL, "sales_returns", "t0"),
    }
    assert mesh.dead_letters("MemberEventsDLQ", mesh.consumer) == []
    # ... accepted on the first Access Granted, which explained part of it (the second request's
    # database joined the share before its own event arrived)
    decisions = [(o, c) for o, c, _ in invitation_records(mesh)]
    assert ("SUCCEEDED", "") in decisions
    assert ("SKIPPED", "InvitationUnexplained") not in decisions


def test_the_producer_denies(local_mesh: LocalMesh) -> None:
    mesh = local_mesh
    analyst = given_a_consumer_and_published_sales(mesh)
    consumer_inbox = Inbox(mesh, mesh.consumer)
    request(mesh, tables=["t0"])
    mesh.settle()
    rid = request_id(mesh)
    # When the owning producer denies
    decide(mesh, rid, "DENY")
    mesh.settle()
    # Then the request is DENIED, the consumer is told who decided, and nothing is shared
    denied = record(mesh, rid)
    assert denied is not None and denied.state is S.DENIED
    assert denied.decided_by == f"producer:{mesh.producer}"
    (told,) = consumer_inbox.details(ACCESS_DENIED)
    assert told == {
        "requestId": rid,
        "reason": "ok for the dashboard",
        "decidedBy": f"producer:{mesh.producer}",
    }
    assert_nothing_shared(mesh, analyst)
    assert invitations(mesh) == []
    assert transitions(mesh, rid)[-1] == ("PENDING_APPROVAL", "DENIED")


# --- revoking ------------------------------------------------------------------------------------


def test_revocation_by_the_consumer_or_the_producer(local_mesh: LocalMesh) -> None:
    mesh = local_mesh
    analyst = given_a_consumer_and_published_sales(mesh)
    consumer_inbox = Inbox(mesh, mesh.consumer)
    on_t0 = approved(mesh, token="t0", tables=["t0"])
    on_t1 = approved(mesh, token="t1", tables=["t1"])
    assert len(central_grants(mesh)) == 3 and len(local_grants(mesh, analyst)) == 3
    # When the consumer asks to revoke the first
    revoke(mesh, on_t0, mesh.consumer)
    mesh.settle()
    # Then its table grants go, in central and in the consumer; the database and link stay
    assert set(central_grants(mesh)) == {database_key(CENTRAL, DB), table_key(CENTRAL, DB, "t1")}
    assert set(local_grants(mesh, analyst)) == {
        database_key(CONSUMER, DB),
        table_key(CENTRAL, DB, "t1"),
    }
    assert links(mesh) == LINK
    # When the owning producer revokes the second
    revoke(mesh, on_t1, mesh.producer)
    mesh.settle()
    # Then nothing stays: grants, link, and central's RAM share (gone with its last grant)
    assert_nothing_shared(mesh, analyst)
    assert shares_with(mesh) == []
    for rid, who in ((on_t0, "consumer"), (on_t1, "producer")):
        revoked = record(mesh, rid)
        assert revoked is not None and revoked.state is S.REVOKED
        assert f"revoked on request of the {who}" in revoked.reason
        assert transitions(mesh, rid)[-1] == ("ACTIVE", "REVOKED")
        assert audit(mesh, "lakeformation:BatchRevokePermissions", "SUCCEEDED", rid)
    # ... the consumer was told what to undo each time
    told = {d["requestId"]: d for d in consumer_inbox.details(ACCESS_REVOKED)}
    assert (told[on_t0]["removeLinks"], len(told[on_t0]["revoke"])) == ([], 1)
    assert (told[on_t1]["removeLinks"], len(told[on_t1]["revoke"])) == ([DB], 2)
    assert any(
        e.actor == f"member:{CONSUMER}" and e.action == "glue:DeleteDatabase"
        for e in audit(mesh, outcome="SUCCEEDED", correlation=on_t1)
    )


def test_overlapping_requests_revoking_one_keeps_what_the_others_need(
    local_mesh: LocalMesh,
) -> None:
    mesh = local_mesh
    # Given request A (t0, the analyst), B (t0 and t1, the analyst) and C (t0, the auditor)
    analyst = given_a_consumer_and_published_sales(mesh)
    auditor = create_role(mesh, mesh.consumer, "auditor")
    a = approved(mesh, token="a", tables=["t0"])
    b = approved(mesh, token="b", tables=["t0", "t1"])
    c = approved(mesh, token="c", tables=["t0"], principal=auditor)
    everything_central = central_grants(mesh)
    analyst_grants, auditor_grants = local_grants(mesh, analyst), local_grants(mesh, auditor)
    assert len(everything_central) == 3 and len(analyst_grants) == 3 and len(auditor_grants) == 2
    # When A is revoked
    revoke(mesh, a, mesh.consumer)
    mesh.settle()
    # Then nothing changes in Lake Formation: B and C still explain every grant A had
    assert central_grants(mesh) == everything_central
    assert local_grants(mesh, analyst) == analyst_grants
    assert local_grants(mesh, auditor) == auditor_grants
    assert links(mesh) == LINK
    assert audit(mesh, "lakeformation:BatchRevokePermissions", "SKIPPED", a)
    # When B is revoked
    revoke(mesh, b, mesh.producer)
    mesh.settle()
    # Then t1 goes (only B explained it); t0 and the link stay for C; the analyst keeps nothing
    assert set(central_grants(mesh)) == {database_key(CENTRAL, DB), table_key(CENTRAL, DB, "t0")}
    assert local_grants(mesh, analyst) == {}
    assert local_grants(mesh, auditor) == auditor_grants
    assert links(mesh) == LINK
    # When C is revoked, everything goes
    revoke(mesh, c, mesh.consumer)
    mesh.settle()
    assert_nothing_shared(mesh, analyst, auditor)
    assert consumer_requests(mesh) == {a: S.REVOKED, b: S.REVOKED, c: S.REVOKED}


# --- time: expiry and warnings -------------------------------------------------------------------


def test_expiry_warns_once_then_revokes_keeping_what_longer_requests_need(
    local_mesh: LocalMesh,
) -> None:
    mesh = local_mesh
    analyst = given_a_consumer_and_published_sales(mesh)
    consumer_inbox = Inbox(mesh, mesh.consumer)
    # Given a 2-day request on t0 and a 5-day request on t0 and t1
    short = approved(mesh, token="short", tables=["t0"], duration_days=2)
    long = approved(mesh, token="long", tables=["t0", "t1"], duration_days=5)
    everything = (central_grants(mesh), local_grants(mesh, analyst))
    # When a day passes (less one hour): nothing is due, nothing is said
    controls.advance_time(1 * DAY - 3600)
    mesh.access_sweep()
    assert consumer_inbox.details(ACCESS_EXPIRING) == []
    # When the short one's expiry is less than a day away, the sweep warns the consumer, once
    controls.advance_time(2 * 3600)
    mesh.access_sweep()
    mesh.access_sweep()
    warned = record(mesh, short)
    assert warned is not None and warned.state is S.ACTIVE and warned.warned
    (warning,) = consumer_inbox.details(ACCESS_EXPIRING)
    assert warning["requestId"] == short
    assert warning["expiresAt"] == warned.expires_at
    # When its expiry passes, the sweep expires it; the long one still explains every grant
    controls.advance_time(1 * DAY)
    mesh.access_sweep()
    assert consumer_requests(mesh) == {short: S.EXPIRED, long: S.ACTIVE}
    assert transitions(mesh, short)[-1] == ("ACTIVE", "EXPIRED")
    assert (central_grants(mesh), local_grants(mesh, analyst)) == everything
    (told,) = consumer_inbox.details(ACCESS_REVOKED)
    assert (told["requestId"], told["reason"], told["revoke"]) == (short, "expired", [])
    # When the long one expires too, everything goes, after its own single warning
    controls.advance_time(3 * DAY)
    mesh.access_sweep()
    assert consumer_requests(mesh) == {short: S.EXPIRED, long: S.EXPIRED}
    assert_nothing_shared(mesh, analyst)
    assert [d["requestId"] for d in consumer_inbox.details(ACCESS_EXPIRING)] == [short]
    # ... (the sweep that expired it came after the warning window had passed unseen)
    mesh.access_sweep()
    assert [d["requestId"] for d in consumer_inbox.details(ACCESS_REVOKED)] == [short, long]


# --- unpublishing --------------------------------------------------------------------------------


def test_unpublishing_revokes_the_requests_on_what_was_unpublished(local_mesh: LocalMesh) -> None:
    mesh = local_mesh
    analyst = given_a_consumer_and_published_sales(mesh)
    publish_sales(mesh, tables=1, database="returns")
    consumer_inbox = Inbox(mesh, mesh.consumer)
    on_t0 = approved(mesh, token="t0", tables=["t0"])
    on_t1 = approved(mesh, token="t1", tables=["t1"])
    returns = approved(mesh, token="returns", database="sales_returns")
    # When the producer unpublishes table t0 (its parameter) and central follows
    set_table(
        mesh,
        "t0",
        ["id:int", "amount:double", "customer:string"],
        **{"meshgov:publish": "false", "meshgov:classification": "internal"},
    )
    mesh.settle()
    central_glue = mesh.client(mesh.central, "glue")
    assert [t["Name"] for t in central_glue.get_tables(DatabaseName=DB)["TableList"]] == ["t1"]
    # ... and the access sweep runs
    mesh.access_sweep()
    # Then the request on t0 is revoked, the others untouched
    assert consumer_requests(mesh) == {on_t0: S.REVOKED, on_t1: S.ACTIVE, returns: S.ACTIVE}
    gone = record(mesh, on_t0)
    assert gone is not None and gone.reason == f"unpublished: {DB}"
    assert table_key(CENTRAL, DB, "t0") not in central_grants(mesh)
    assert set(local_grants(mesh, analyst)) == {
        database_key(CONSUMER, DB),
        table_key(CENTRAL, DB, "t1"),
        database_key(CONSUMER, "sales_returns"),
        resource_key(
            {"Table": {"CatalogId": CENTRAL, "DatabaseName": "sales_returns", "TableWildcard": {}}}
        ),
    }
    (told,) = consumer_inbox.details(ACCESS_REVOKED)
    assert (told["requestId"], told["removeLinks"]) == (on_t0, [])
    # When the producer unpublishes the whole returns database (no Glue event: the catalog
    # sweep sees it), then the access sweep runs
    glue = mesh.client(mesh.producer, "glue")
    glue.update_database(
        Name="returns", DatabaseInput={"Name": "returns", "Parameters": {"meshgov:publish": "no"}}
    )
    mesh.sweep()
    mesh.access_sweep()
    # Then its request is revoked and its link removed; t1 stays
    assert consumer_requests(mesh) == {on_t0: S.REVOKED, on_t1: S.ACTIVE, returns: S.REVOKED}
    assert links(mesh) == LINK
    assert set(central_grants(mesh)) == {database_key(CENTRAL, DB), table_key(CENTRAL, DB, "t1")}


# --- schema changes ------------------------------------------------------------------------------


def test_breaking_changes_on_shared_tables_are_sent_to_their_consumers(
    local_mesh: LocalMesh,
) -> None:
    mesh = local_mesh
    analyst = given_a_consumer_and_published_sales(mesh, tables=3)
    consumer_inbox = Inbox(mesh, mesh.consumer)
    on_t0 = approved(mesh, token="t0", tables=["t0"])
    approved(mesh, token="t2", tables=["t2"])
    internal = {"meshgov:classification": "internal"}
    # When t0 gains a column (compatible) and t1, shared with nobody, loses one (breaking)
    set_table(mesh, "t0", ["id:int", "amount:double", "customer:string", "x:int"], **internal)
    set_table(mesh, "t1", ["id:int"], **internal)
    mesh.settle()
    # Then no consumer is told (the breaking change on t1 is still flagged centrally)
    assert consumer_inbox.details(SHARED_SCHEMA_CHANGED) == []
    assert [
        e.target for e in audit(mesh, "events:PutEvents") if e.reason == "Breaking Schema Change"
    ]
    # Given a request on the whole database, too
    whole = approved(mesh, token="whole")
    # When the producer drops a column of t0 and changes the type of another
    set_table(mesh, "t0", ["id:bigint", "amount:double", "x:int"], **internal)
    mesh.settle()
    # Then each live request covering t0 is told what changed; the request on t2 is not
    told = consumer_inbox.details(SHARED_SCHEMA_CHANGED)
    assert sorted(d["requestId"] for d in told) == sorted([on_t0, whole])
    for detail in told:
        assert (detail["database"], detail["table"]) == (DB, "t0")
        assert (detail["removedColumns"], detail["changedColumns"]) == (["customer"], ["id"])
        # ... and what the change reaches downstream: the central table, the link, the analyst
        table = f"arn:aws:glue:{mesh.config.region}:{{}}:table/{DB}/t0"
        assert [(n["node"], n["kind"], n["distance"], n["via"]) for n in detail["downstream"]] == [
            (table.format(CENTRAL), "central table", 1, "catalog"),
            (table.format(CONSUMER), "table", 2, "grant"),
            (analyst, "principal", 3, "grant"),
        ]
    # ... and grants are untouched
    assert consumer_requests(mesh)[on_t0] is S.ACTIVE
    assert table_key(CENTRAL, DB, "t0") in central_grants(mesh)


# --- chaos: duplicated and shuffled delivery -----------------------------------------------------


def chaos_scenario(mesh: LocalMesh, chaos: Chaos | None) -> tuple[dict[str, Any], int]:
    """Requests producer-approved, policy-approved and denied, then one revoked, every step
    delivered with ``chaos``; the resulting state of every account, and how many messages the
    functions were handed."""
    analyst = given_a_consumer_and_published_sales(mesh, tables=3)
    set_table(mesh, "t2", ["id:int"], **{"meshgov:classification": "public"})
    mesh.settle()
    delivered = 0

    def settle() -> None:
        nonlocal delivered
        delivered += mesh.settle(chaos).messages

    request(mesh, token="a", tables=["t0", "t1"])
    request(mesh, token="b", tables=["t1"])
    request(mesh, token="public", tables=["t2"])
    settle()
    a = request_id(mesh, "a")
    decide(mesh, a)
    decide(mesh, request_id(mesh, "b"), "DENY")
    settle()
    request(mesh, token="c", tables=["t0"])  # overlaps a
    settle()
    decide(mesh, request_id(mesh, "c"))
    settle()
    revoke(mesh, a, mesh.consumer)
    settle()
    mesh.settle()  # whatever chaos left for a retry
    state = {
        "requests": consumer_requests(mesh),
        "central": central_grants(mesh),
        "local": local_grants(mesh, analyst),
        "links": links(mesh),
        "invitations": sorted((i["senderAccountId"], i["status"]) for i in invitations(mesh)),
        "dead letters": len(mesh.dead_letters("AccessEventsDLQ")),
    }
    return state, delivered


def test_duplicated_and_shuffled_delivery_converges_to_the_same_state() -> None:
    # Given the scenario delivered in order
    with fresh_mesh() as mesh:
        expected, in_order = chaos_scenario(mesh, None)
    assert expected["requests"] == {
        request_id_for(CONSUMER, "a"): S.REVOKED,
        request_id_for(CONSUMER, "b"): S.DENIED,
        request_id_for(CONSUMER, "public"): S.ACTIVE,
        request_id_for(CONSUMER, "c"): S.ACTIVE,
    }
    assert set(expected["central"]) == {
        database_key(CENTRAL, DB),
        table_key(CENTRAL, DB, "t0"),  # for c
        table_key(CENTRAL, DB, "t2"),  # public
    }
    assert expected["links"] == LINK and expected["dead letters"] == 0
    # When it is delivered shuffled, half the messages twice
    with fresh_mesh() as mesh:
        chaotic, with_chaos = chaos_scenario(mesh, Chaos(seed=7, duplicate_rate=0.5))
    # Then chaos did happen, and every account ends in the same state
    assert with_chaos > in_order
    assert chaotic == expected
