"""AWS RAM invitations from cross-account Lake Formation grants (see ram_sharing.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from localmesh_support import (
    ACCOUNTS,
    CENTRAL,
    CONSUMER,
    PRODUCER,
    REGION,
    capture_events,
    error_code,
    received,
    table_input,
)

from meshgov_local.accounts import AccountSessions
from meshgov_local.emulator import controls

TWELVE_HOURS = 12 * 3600
RAM_EVENTS = {"source": ["aws.ram"], "detail-type": ["Resource Sharing State Change"]}


def _table(account: str, database: str, name: str) -> dict[str, Any]:
    return {"Table": {"CatalogId": account, "DatabaseName": database, "Name": name}}


def _grant_select(mesh: AccountSessions, grantor: str, database: str, table: str) -> None:
    mesh.client(grantor, "lakeformation").grant_permissions(
        Principal={"DataLakePrincipalIdentifier": CONSUMER},
        Resource=_table(grantor, database, table),
        Permissions=["SELECT", "DESCRIBE"],
        PermissionsWithGrantOption=["SELECT", "DESCRIBE"],
    )


def _invitations(mesh: AccountSessions, **kwargs: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = mesh.client(CONSUMER, "ram").get_resource_share_invitations(
        **kwargs
    )["resourceShareInvitations"]
    return found


def _shared_with_consumer(mesh: AccountSessions) -> tuple[list[str], list[str]]:
    """(names of the shares, ARNs of the resources) shared with the consumer."""
    ram = mesh.client(CONSUMER, "ram")
    shares = ram.get_resource_shares(resourceOwner="OTHER-ACCOUNTS")["resourceShares"]
    resources = ram.list_resources(resourceOwner="OTHER-ACCOUNTS")["resources"]
    return [s["name"] for s in shares], [r["arn"] for r in resources]


def _arn(account: str, path: str) -> str:
    return f"arn:aws:glue:{REGION}:{account}:{path}"


@pytest.fixture
def catalogs(mesh: AccountSessions) -> AccountSessions:
    """Central holds sales (orders, customers); the producer holds hr (staff)."""
    for account, database, tables in (
        (CENTRAL, "sales", ("orders", "customers")),
        (PRODUCER, "hr", ("staff",)),
    ):
        glue = mesh.client(account, "glue")
        glue.create_database(DatabaseInput={"Name": database})
        for name in tables:
            glue.create_table(DatabaseName=database, TableInput=table_input(name))
    return mesh


def test_a_cross_account_grant_invites_an_account_outside_the_organization(
    catalogs: AccountSessions,
) -> None:
    mesh = catalogs
    # Given a rule capturing RAM events on the consumer's default bus
    queue = capture_events(mesh, CONSUMER, RAM_EVENTS)

    # When central grants SELECT on a table to the consumer account (no organization)
    before = datetime.now(UTC)
    _grant_select(mesh, CENTRAL, "sales", "orders")

    # Then the consumer holds one PENDING invitation from central, to a share central owns
    [invitation] = _invitations(mesh)
    [share] = mesh.client(CENTRAL, "ram").get_resource_shares(resourceOwner="SELF")[
        "resourceShares"
    ]
    assert invitation["status"] == "PENDING"
    assert (invitation["senderAccountId"], invitation["receiverAccountId"]) == (CENTRAL, CONSUMER)
    assert invitation["resourceShareArn"] == share["resourceShareArn"]
    assert invitation["resourceShareName"] == share["name"]
    assert share["name"].startswith(f"{CENTRAL}-{CONSUMER}-")
    assert invitation["resourceShareInvitationArn"].startswith(
        f"arn:aws:ram:{REGION}:{CENTRAL}:resource-share-invitation/"
    )
    assert before - timedelta(seconds=1) <= invitation["invitationTimestamp"] <= datetime.now(UTC)
    # And the share holds the table, the consumer being ASSOCIATING until it answers
    central_ram = mesh.client(CENTRAL, "ram")
    resources = central_ram.list_resources(resourceOwner="SELF")["resources"]
    assert [(r["arn"], r["type"]) for r in resources] == [
        (_arn(CENTRAL, "table/sales/orders"), "glue:Table")
    ]
    [association] = central_ram.get_resource_share_associations(associationType="PRINCIPAL")[
        "resourceShareAssociations"
    ]
    assert (association["associatedEntity"], association["status"]) == (CONSUMER, "ASSOCIATING")
    # And nothing is shared with the consumer yet
    assert _shared_with_consumer(mesh) == ([], [])
    # And RAM told the consumer's default bus
    [event] = received(mesh, CONSUMER, queue)
    assert (event["source"], event["account"]) == ("aws.ram", CONSUMER)
    assert event["detail"] == {"event": "Resource Share Invitation", "status": "pending"}
    assert invitation["resourceShareInvitationArn"] in event["resources"]


def test_further_grants_reuse_the_share_and_its_invitation(catalogs: AccountSessions) -> None:
    mesh = catalogs
    # Given a pending invitation for orders
    _grant_select(mesh, CENTRAL, "sales", "orders")

    # When central grants the database and, in a batch, another table
    lf = mesh.client(CENTRAL, "lakeformation")
    lf.grant_permissions(
        Principal={"DataLakePrincipalIdentifier": CONSUMER},
        Resource={"Database": {"Name": "sales"}},
        Permissions=["DESCRIBE"],
        PermissionsWithGrantOption=["DESCRIBE"],
    )
    lf.batch_grant_permissions(
        Entries=[
            {
                "Id": "1",
                "Principal": {"DataLakePrincipalIdentifier": CONSUMER},
                "Resource": _table(CENTRAL, "sales", "customers"),
                "Permissions": ["SELECT"],
                "PermissionsWithGrantOption": ["SELECT"],
            }
        ]
    )

    # Then one share holds the three resources and one invitation covers them
    assert len(_invitations(mesh)) == 1
    central_ram = mesh.client(CENTRAL, "ram")
    assert len(central_ram.get_resource_shares(resourceOwner="SELF")["resourceShares"]) == 1
    assert {r["arn"] for r in central_ram.list_resources(resourceOwner="SELF")["resources"]} == {
        _arn(CENTRAL, "table/sales/orders"),
        _arn(CENTRAL, "database/sales"),
        _arn(CENTRAL, "table/sales/customers"),
    }


def test_accepting_the_invitation_shares_the_resources(catalogs: AccountSessions) -> None:
    mesh = catalogs
    # Given a pending invitation for a table and its database
    _grant_select(mesh, CENTRAL, "sales", "orders")
    mesh.client(CENTRAL, "lakeformation").grant_permissions(
        Principal={"DataLakePrincipalIdentifier": CONSUMER},
        Resource={"Database": {"CatalogId": CENTRAL, "Name": "sales"}},
        Permissions=["DESCRIBE"],
    )
    [invitation] = _invitations(mesh)

    # When the consumer accepts it
    ram = mesh.client(CONSUMER, "ram")
    accepted = ram.accept_resource_share_invitation(
        resourceShareInvitationArn=invitation["resourceShareInvitationArn"]
    )["resourceShareInvitation"]

    # Then the invitation is ACCEPTED and the share and its resources are shared with it
    assert accepted["status"] == "ACCEPTED"
    assert _invitations(mesh)[0]["status"] == "ACCEPTED"
    names, arns = _shared_with_consumer(mesh)
    assert names == [invitation["resourceShareName"]]
    assert sorted(arns) == [_arn(CENTRAL, "database/sales"), _arn(CENTRAL, "table/sales/orders")]
    # And the resources can be filtered by type and owner
    tables = ram.list_resources(resourceOwner="OTHER-ACCOUNTS", resourceType="glue:Table")
    assert [r["arn"] for r in tables["resources"]] == [_arn(CENTRAL, "table/sales/orders")]
    assert ram.list_resources(resourceOwner="OTHER-ACCOUNTS", principal=PRODUCER)["resources"] == (
        []
    )
    # And central sees the consumer ASSOCIATED
    [association] = mesh.client(CENTRAL, "ram").get_resource_share_associations(
        associationType="PRINCIPAL"
    )["resourceShareAssociations"]
    assert association["status"] == "ASSOCIATED"


@pytest.mark.parametrize("sharing_enabled", [True, False])
def test_inside_the_organization_no_invitation_is_sent(
    catalogs: AccountSessions, sharing_enabled: bool
) -> None:
    mesh = catalogs
    # Given the three accounts in one organization, RAM sharing with it enabled or not
    controls.set_organization("o-meshgov1234", ACCOUNTS, sharing_enabled=sharing_enabled)
    queue = capture_events(mesh, CONSUMER, RAM_EVENTS)

    # When central grants a table to the consumer
    _grant_select(mesh, CENTRAL, "sales", "orders")

    # Then with sharing enabled the table is shared at once, without invitation
    events = received(mesh, CONSUMER, queue)
    if sharing_enabled:
        assert _invitations(mesh) == []
        assert _shared_with_consumer(mesh)[1] == [_arn(CENTRAL, "table/sales/orders")]
        assert [e["detail"] for e in events] == [
            {"event": "Resource Share Association", "status": "associated"}
        ]
    # And without it the consumer is invited like an outside account
    else:
        assert [i["status"] for i in _invitations(mesh)] == ["PENDING"]
        assert _shared_with_consumer(mesh) == ([], [])
        assert [e["detail"]["event"] for e in events] == ["Resource Share Invitation"]


def test_an_invitation_expires_after_12_hours(catalogs: AccountSessions) -> None:
    mesh = catalogs
    # Given a pending invitation
    _grant_select(mesh, CENTRAL, "sales", "orders")
    [invitation] = _invitations(mesh)
    arn = invitation["resourceShareInvitationArn"]
    ram = mesh.client(CONSUMER, "ram")

    # When almost 12 hours pass it is still PENDING (the emulated clock is the wall clock moved
    # on: leave the test ten real minutes, however loaded the machine)
    controls.advance_time(TWELVE_HOURS - 600)
    assert _invitations(mesh)[0]["status"] == "PENDING"

    # When the 12 hours are over
    controls.advance_time(600)

    # Then it is EXPIRED and can be neither accepted nor rejected
    assert _invitations(mesh)[0]["status"] == "EXPIRED"
    accept = error_code(
        lambda: ram.accept_resource_share_invitation(resourceShareInvitationArn=arn)
    )
    reject = error_code(
        lambda: ram.reject_resource_share_invitation(resourceShareInvitationArn=arn)
    )
    assert accept == reject == "ResourceShareInvitationExpiredException"
    # And the consumer was disassociated from the share, which shares nothing with it
    associations = mesh.client(CENTRAL, "ram").get_resource_share_associations(
        associationType="PRINCIPAL"
    )["resourceShareAssociations"]
    assert associations == []
    assert _shared_with_consumer(mesh) == ([], [])
    # And granting again sends a new invitation, which can be accepted
    _grant_select(mesh, CENTRAL, "sales", "customers")
    fresh = [i for i in _invitations(mesh) if i["status"] == "PENDING"]
    assert len(fresh) == 1 and fresh[0]["resourceShareInvitationArn"] != arn
    ram.accept_resource_share_invitation(
        resourceShareInvitationArn=fresh[0]["resourceShareInvitationArn"]
    )
    assert sorted(_shared_with_consumer(mesh)[1]) == [
        _arn(CENTRAL, "table/sales/customers"),
        _arn(CENTRAL, "table/sales/orders"),
    ]


def test_answering_an_invitation_twice_fails_as_documented(catalogs: AccountSessions) -> None:
    mesh = catalogs
    # Given an invitation from central, accepted, and one from the producer, rejected
    _grant_select(mesh, CENTRAL, "sales", "orders")
    _grant_select(mesh, PRODUCER, "hr", "staff")
    by_sender = {i["senderAccountId"]: i["resourceShareInvitationArn"] for i in _invitations(mesh)}
    ram = mesh.client(CONSUMER, "ram")
    ram.accept_resource_share_invitation(resourceShareInvitationArn=by_sender[CENTRAL])
    rejected = ram.reject_resource_share_invitation(resourceShareInvitationArn=by_sender[PRODUCER])
    assert rejected["resourceShareInvitation"]["status"] == "REJECTED"

    def accept(arn: str, ram: Any = ram) -> Any:
        return lambda: ram.accept_resource_share_invitation(resourceShareInvitationArn=arn)

    def reject(arn: str) -> Any:
        return lambda: ram.reject_resource_share_invitation(resourceShareInvitationArn=arn)

    # When they are answered again, and unknown, malformed or foreign invitations are answered
    unknown = by_sender[CENTRAL][:-4] + "0000"
    producer_ram = mesh.client(PRODUCER, "ram")

    # Then each fails with the error AcceptResourceShareInvitation documents
    assert error_code(accept(by_sender[CENTRAL])) == (
        "ResourceShareInvitationAlreadyAcceptedException"
    )
    assert error_code(reject(by_sender[CENTRAL])) == (
        "ResourceShareInvitationAlreadyAcceptedException"
    )
    assert error_code(accept(by_sender[PRODUCER])) == (
        "ResourceShareInvitationAlreadyRejectedException"
    )
    assert error_code(accept(unknown)) == "ResourceShareInvitationArnNotFoundException"
    assert error_code(accept("not-an-arn")) == "MalformedArnException"
    assert error_code(accept(by_sender[CENTRAL], producer_ram)) == (
        "ResourceShareInvitationArnNotFoundException"
    )
    # And only central's share is shared with the consumer
    assert _shared_with_consumer(mesh)[1] == [_arn(CENTRAL, "table/sales/orders")]


def test_a_client_token_makes_an_answer_idempotent(catalogs: AccountSessions) -> None:
    mesh = catalogs
    # Given a pending invitation
    _grant_select(mesh, CENTRAL, "sales", "orders")
    arn = _invitations(mesh)[0]["resourceShareInvitationArn"]
    ram = mesh.client(CONSUMER, "ram")

    # When it is accepted twice with one client token, then rejected with that token
    first = ram.accept_resource_share_invitation(resourceShareInvitationArn=arn, clientToken="t-1")
    again = ram.accept_resource_share_invitation(resourceShareInvitationArn=arn, clientToken="t-1")
    mismatch = error_code(
        lambda: ram.reject_resource_share_invitation(
            resourceShareInvitationArn=arn, clientToken="t-1"
        )
    )

    # Then the retry answers like the first call and the other operation is refused
    assert again["resourceShareInvitation"] == first["resourceShareInvitation"]
    assert again["clientToken"] == "t-1"
    assert mismatch == "IdempotentParameterMismatchException"


def test_rejecting_shares_nothing_and_a_new_grant_invites_again(
    catalogs: AccountSessions,
) -> None:
    mesh = catalogs
    # Given an invitation the consumer rejected
    _grant_select(mesh, CENTRAL, "sales", "orders")
    arn = _invitations(mesh)[0]["resourceShareInvitationArn"]
    mesh.client(CONSUMER, "ram").reject_resource_share_invitation(resourceShareInvitationArn=arn)

    # When central grants again
    _grant_select(mesh, CENTRAL, "sales", "customers")

    # Then nothing is shared and a new invitation is pending
    assert _shared_with_consumer(mesh) == ([], [])
    assert sorted(i["status"] for i in _invitations(mesh)) == ["PENDING", "REJECTED"]


def test_invitations_are_filtered_and_paged(catalogs: AccountSessions) -> None:
    mesh = catalogs
    # Given invitations from central and from the producer
    _grant_select(mesh, CENTRAL, "sales", "orders")
    _grant_select(mesh, PRODUCER, "hr", "staff")
    everything = _invitations(mesh)
    central = next(i for i in everything if i["senderAccountId"] == CENTRAL)
    ram = mesh.client(CONSUMER, "ram")

    # When they are read by invitation ARN, by share ARN, and one per page
    by_arn = _invitations(mesh, resourceShareInvitationArns=[central["resourceShareInvitationArn"]])
    by_share = _invitations(mesh, resourceShareArns=[central["resourceShareArn"]])
    first = ram.get_resource_share_invitations(maxResults=1)
    second = ram.get_resource_share_invitations(maxResults=1, nextToken=first["nextToken"])
    pages = ram.get_paginator("get_resource_share_invitations").paginate(
        PaginationConfig={"PageSize": 1}
    )

    # Then the filters and pages hold what they should
    assert len(everything) == 2
    assert by_arn == by_share == [central]
    assert "nextToken" not in second
    assert first["resourceShareInvitations"] + second["resourceShareInvitations"] == everything
    assert [len(page["resourceShareInvitations"]) for page in pages] == [1, 1]
    # And bad arguments fail as documented
    unknown = central["resourceShareInvitationArn"][:-4] + "0000"
    assert error_code(
        lambda: ram.get_resource_share_invitations(resourceShareInvitationArns=[unknown])
    ) == ("ResourceShareInvitationArnNotFoundException")
    assert error_code(lambda: ram.get_resource_share_invitations(maxResults=501)) == (
        "InvalidMaxResultsException"
    )
    assert error_code(lambda: ram.get_resource_share_invitations(nextToken="garbage")) == (
        "InvalidNextTokenException"
    )


def test_invitations_through_the_moto_server(served_mesh: AccountSessions) -> None:
    mesh = served_mesh
    # Given central's catalog served by a moto server, and a capture of the consumer's RAM events
    glue = mesh.client(CENTRAL, "glue")
    glue.create_database(DatabaseInput={"Name": "sales"})
    glue.create_table(DatabaseName="sales", TableInput=table_input("orders"))
    queue = capture_events(mesh, CONSUMER, RAM_EVENTS)

    # When central grants the table to the consumer, which accepts the invitation it received
    _grant_select(mesh, CENTRAL, "sales", "orders")
    [invitation] = _invitations(mesh)
    mesh.client(CONSUMER, "ram").accept_resource_share_invitation(
        resourceShareInvitationArn=invitation["resourceShareInvitationArn"]
    )

    # Then the table is shared with the consumer, which was told by an aws.ram event
    assert invitation["status"] == "PENDING"
    assert _shared_with_consumer(mesh)[1] == [_arn(CENTRAL, "table/sales/orders")]
    assert [e["detail"]["event"] for e in received(mesh, CONSUMER, queue)] == [
        "Resource Share Invitation"
    ]
    # And an invitation from the producer expires on the emulator's clock there too
    producer_glue = mesh.client(PRODUCER, "glue")
    producer_glue.create_database(DatabaseInput={"Name": "hr"})
    producer_glue.create_table(DatabaseName="hr", TableInput=table_input("staff"))
    _grant_select(mesh, PRODUCER, "hr", "staff")
    controls.advance_time(TWELVE_HOURS)
    statuses = {i["senderAccountId"]: i["status"] for i in _invitations(mesh)}
    assert statuses == {CENTRAL: "ACCEPTED", PRODUCER: "EXPIRED"}


def _subnet(mesh: AccountSessions, account: str) -> str:
    """A subnet in ``account``, by its ARN (what RAM shares)."""
    ec2 = mesh.client(account, "ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    return f"arn:aws:ec2:{REGION}:{account}:subnet/{subnet}"


def _pending(mesh: AccountSessions, arn: str, **kwargs: Any) -> list[tuple[str, str]]:
    resources = mesh.client(CONSUMER, "ram").list_pending_invitation_resources(
        resourceShareInvitationArn=arn, **kwargs
    )["resources"]
    return [(r["arn"], r["type"]) for r in resources]


def test_a_subnet_shared_with_an_outside_account_is_an_invitation(mesh: AccountSessions) -> None:
    # Given a subnet in the producer account and a capture of the consumer's RAM events
    subnet = _subnet(mesh, PRODUCER)
    queue = capture_events(mesh, CONSUMER, RAM_EVENTS)

    # When the producer shares it with the consumer account (no organization)
    share = mesh.client(PRODUCER, "ram").create_resource_share(
        name="network", resourceArns=[subnet], principals=[CONSUMER]
    )["resourceShare"]

    # Then the consumer holds a PENDING invitation to that share, and was told on its bus
    [invitation] = _invitations(mesh)
    assert (invitation["senderAccountId"], invitation["status"]) == (PRODUCER, "PENDING")
    assert invitation["resourceShareArn"] == share["resourceShareArn"]
    [event] = received(mesh, CONSUMER, queue)
    assert invitation["resourceShareInvitationArn"] in event["resources"]
    # ... whose resources it can read before answering, typed as RAM types them
    arn = invitation["resourceShareInvitationArn"]
    assert _pending(mesh, arn) == [(subnet, "ec2:Subnet")]
    assert _pending(mesh, arn, resourceRegionScope="GLOBAL") == []
    # ... while nothing is shared with it yet, the producer seeing it ASSOCIATING
    assert _shared_with_consumer(mesh) == ([], [])
    [association] = mesh.client(PRODUCER, "ram").get_resource_share_associations(
        associationType="PRINCIPAL"
    )["resourceShareAssociations"]
    assert (association["associatedEntity"], association["status"]) == (CONSUMER, "ASSOCIATING")

    # When the consumer accepts it
    mesh.client(CONSUMER, "ram").accept_resource_share_invitation(resourceShareInvitationArn=arn)

    # Then the subnet is shared with it, and the invitation has no pending resources any more
    assert _shared_with_consumer(mesh) == (["network"], [subnet])
    ram = mesh.client(CONSUMER, "ram")
    listed = ram.list_resources(resourceOwner="OTHER-ACCOUNTS", resourceType="ec2:Subnet")
    assert [r["type"] for r in listed["resources"]] == ["ec2:Subnet"]
    assert error_code(
        lambda: ram.list_pending_invitation_resources(resourceShareInvitationArn=arn)
    ) == ("InvalidParameterException")


def test_a_subnet_shared_inside_the_organization_needs_no_invitation(
    mesh: AccountSessions,
) -> None:
    # Given the accounts in one organization with RAM sharing enabled
    controls.set_organization("o-meshgov1234", ACCOUNTS, sharing_enabled=True)
    subnet = _subnet(mesh, PRODUCER)

    # When the producer shares a subnet with the consumer
    mesh.client(PRODUCER, "ram").create_resource_share(
        name="network", resourceArns=[subnet], principals=[CONSUMER]
    )

    # Then it is shared at once, without invitation
    assert _invitations(mesh) == []
    assert _shared_with_consumer(mesh) == (["network"], [subnet])


def test_pending_invitation_resources_are_paged_and_fail_as_documented(
    catalogs: AccountSessions,
) -> None:
    mesh = catalogs
    # Given central's invitation for two tables, the producer's (rejected) and an expired one
    _grant_select(mesh, CENTRAL, "sales", "orders")
    _grant_select(mesh, CENTRAL, "sales", "customers")
    _grant_select(mesh, PRODUCER, "hr", "staff")
    by_sender = {i["senderAccountId"]: i["resourceShareInvitationArn"] for i in _invitations(mesh)}
    ram = mesh.client(CONSUMER, "ram")
    ram.reject_resource_share_invitation(resourceShareInvitationArn=by_sender[PRODUCER])

    # When central's is read one resource per page
    first = ram.list_pending_invitation_resources(
        resourceShareInvitationArn=by_sender[CENTRAL], maxResults=1
    )
    second = ram.list_pending_invitation_resources(
        resourceShareInvitationArn=by_sender[CENTRAL], maxResults=1, nextToken=first["nextToken"]
    )

    # Then the pages hold the two tables
    assert "nextToken" not in second
    assert [r["arn"] for r in first["resources"] + second["resources"]] == [
        _arn(CENTRAL, "table/sales/orders"),
        _arn(CENTRAL, "table/sales/customers"),
    ]
    assert {r["type"] for r in first["resources"] + second["resources"]} == {"glue:Table"}

    # And bad or answered invitations fail with the documented errors
    def listing(arn: str, **kwargs: Any) -> str:
        return error_code(
            lambda: ram.list_pending_invitation_resources(resourceShareInvitationArn=arn, **kwargs)
        )

    assert listing(by_sender[PRODUCER]) == "ResourceShareInvitationAlreadyRejectedException"
    assert listing(by_sender[CENTRAL][:-4] + "0000") == (
        "ResourceShareInvitationArnNotFoundException"
    )
    assert listing("not-an-arn") == "MalformedArnException"
    assert listing(by_sender[CENTRAL], maxResults=501) == "InvalidParameterException"
    controls.advance_time(TWELVE_HOURS)
    assert listing(by_sender[CENTRAL]) == "ResourceShareInvitationExpiredException"
