"""Issue 12, defect 8: which RAM invitations a member answers, and how (pure decision).

A member judges only Lake Formation (Data Catalog) shares; from the central account it accepts
only what grants meshgov made to the account explain.
"""

from __future__ import annotations

from typing import Any

import pytest

from meshgov.access.member import (
    ACCEPT,
    LEAVE,
    REJECT,
    awaits_central_grant,
    central_database,
    invitation_verdict,
)

CENTRAL, SALES, OUTSIDER = "111111111111", "222222222222", "999999999999"
TRUSTED = frozenset({CENTRAL, SALES})


def glue(account: str, path: str) -> dict[str, str]:
    kind = {"database": "glue:Database", "table": "glue:Table", "catalog": "glue:Catalog"}
    return {"arn": f"arn:aws:glue:eu-west-1:{account}:{path}", "type": kind[path.split("/")[0]]}


SUBNET = {"arn": f"arn:aws:ec2:eu-west-1:{OUTSIDER}:subnet/subnet-0abc", "type": "ec2:Subnet"}
GATEWAY = {
    "arn": f"arn:aws:ec2:eu-west-1:{OUTSIDER}:transit-gateway/tgw-0abc",
    "type": "ec2:TransitGateway",
}


def verdict(
    sender: str,
    resources: list[dict[str, Any]] | None,
    explained: set[str] | None = None,
    status: str = "PENDING",
) -> tuple[str, str] | None:
    found = invitation_verdict(
        {"status": status, "senderAccountId": sender},
        resources,
        trusted=TRUSTED,
        central=CENTRAL,
        explained=explained,
    )
    return (found.decision, found.code) if found else None


@pytest.mark.parametrize("sender", [OUTSIDER, SALES, CENTRAL])
@pytest.mark.parametrize("resources", [[SUBNET], [SUBNET, GATEWAY], []])
def test_a_share_of_no_data_catalog_resource_is_left_alone(
    sender: str, resources: list[dict[str, Any]]
) -> None:
    # A subnet or transit gateway is the account's network team's business, whoever sends it
    assert verdict(sender, resources, explained={"sales_a"}) == (LEAVE, "NotDataCatalogShare")


def test_the_reason_names_what_the_share_holds() -> None:
    found = invitation_verdict(
        {"status": "PENDING", "senderAccountId": OUTSIDER},
        [SUBNET],
        trusted=TRUSTED,
        central=CENTRAL,
        explained=None,
    )
    assert found is not None and "ec2:Subnet" in found.reason and OUTSIDER in found.reason


@pytest.mark.parametrize(
    "resources",
    [
        [glue(OUTSIDER, "database/bait")],
        [glue(OUTSIDER, "table/bait/t"), SUBNET],
        [glue(OUTSIDER, "catalog")],
    ],
)
def test_a_data_catalog_share_from_an_untrusted_sender_is_rejected(
    resources: list[dict[str, Any]],
) -> None:
    assert verdict(OUTSIDER, resources) == (REJECT, "InvitationUntrusted")


def test_a_trusted_sender_mixing_other_resources_is_left_for_the_administrators() -> None:
    # Accepting would accept the subnet too: not meshgov's decision
    assert verdict(SALES, [glue(SALES, "table/hr/t"), SUBNET]) == (LEAVE, "InvitationMixed")
    assert verdict(CENTRAL, [glue(CENTRAL, "table/sales_a/t"), SUBNET], {"sales_a"}) == (
        LEAVE,
        "InvitationMixed",
    )


def test_a_trusted_member_share_of_data_catalog_resources_is_accepted() -> None:
    assert verdict(SALES, [glue(SALES, "database/hr")]) == (ACCEPT, "")


def test_central_is_answered_only_with_an_access_granted_in_hand() -> None:
    # On a RAM event or the schedule nothing explains central's share: it is not even read
    pending = {"status": "PENDING", "senderAccountId": CENTRAL}
    assert awaits_central_grant(pending, CENTRAL, None)
    assert not awaits_central_grant(pending, CENTRAL, set())
    assert not awaits_central_grant({**pending, "senderAccountId": SALES}, CENTRAL, None)
    assert verdict(CENTRAL, None, explained=None) == (LEAVE, "InvitationAwaitsGrant")


@pytest.mark.parametrize(
    ("resources", "explained", "expected"),
    [
        # every resource in a granted database: accepted
        (
            [glue(CENTRAL, "database/sales_a"), glue(CENTRAL, "table/sales_a/t0")],
            {"sales_a"},
            (ACCEPT, ""),
        ),
        ([glue(CENTRAL, "table/sales_a/*")], {"sales_a", "hr_b"}, (ACCEPT, "")),
        # a database granted since, beside one this event explains (Lake Formation keeps one
        # share per account pair): accepted, its own Access Granted follows
        (
            [glue(CENTRAL, "table/sales_a/t0"), glue(CENTRAL, "table/secret/t")],
            {"sales_a"},
            (ACCEPT, ""),
        ),
        # nothing explained: left pending
        ([glue(CENTRAL, "database/sales_a")], set(), (LEAVE, "InvitationUnexplained")),
        (
            [glue(CENTRAL, "table/other/t0"), glue(CENTRAL, "table/secret/t")],
            {"sales_a"},
            (LEAVE, "InvitationUnexplained"),
        ),
        # meshgov never shares a whole catalog, nor another account's resources
        ([glue(CENTRAL, "catalog")], {"sales_a"}, (LEAVE, "InvitationUnexplained")),
        ([glue(SALES, "database/sales_a")], {"sales_a"}, (LEAVE, "InvitationUnexplained")),
    ],
)
def test_central_is_accepted_only_when_a_meshgov_grant_explains_the_share(
    resources: list[dict[str, Any]], explained: set[str], expected: tuple[str, str]
) -> None:
    assert verdict(CENTRAL, resources, explained) == expected


def test_the_unexplained_resources_are_named() -> None:
    secret = glue(CENTRAL, "table/secret/t")
    found = invitation_verdict(
        {"status": "PENDING", "senderAccountId": CENTRAL},
        [glue(CENTRAL, "table/sales_a/t0"), secret],
        trusted=TRUSTED,
        central=CENTRAL,
        explained={"sales_a"},
    )
    assert found is not None and secret["arn"] in found.reason and "sales_a/t0" not in found.reason


@pytest.mark.parametrize("status", ["ACCEPTED", "REJECTED", "EXPIRED"])
def test_answered_or_expired_invitations_need_nothing(status: str) -> None:
    assert verdict(OUTSIDER, [glue(OUTSIDER, "database/bait")], status=status) is None
    assert verdict(CENTRAL, None, status=status) is None


def test_resources_are_needed_unless_central_awaits_its_grant() -> None:
    with pytest.raises(ValueError, match="resources are needed"):
        verdict(OUTSIDER, None)


@pytest.mark.parametrize(
    ("arn", "database"),
    [
        (f"arn:aws:glue:eu-west-1:{CENTRAL}:database/sales_a", "sales_a"),
        (f"arn:aws:glue:eu-west-1:{CENTRAL}:table/sales_a/t0", "sales_a"),
        (f"arn:aws:glue:eu-west-1:{CENTRAL}:table/sales_a/*", "sales_a"),
        (f"arn:aws-cn:glue:cn-north-1:{CENTRAL}:table/sales_a/t0", "sales_a"),
        (f"arn:aws:glue:eu-west-1:{CENTRAL}:catalog", None),
        (f"arn:aws:glue:eu-west-1:{SALES}:database/sales_a", None),
        (f"arn:aws:ec2:eu-west-1:{CENTRAL}:subnet/subnet-1", None),
        (f"arn:aws:glue:eu-west-1:{CENTRAL}:database/", None),
        ("not-an-arn", None),
    ],
)
def test_the_central_database_of_a_resource(arn: str, database: str | None) -> None:
    assert central_database(arn, CENTRAL) == database
