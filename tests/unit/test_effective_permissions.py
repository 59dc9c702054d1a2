"""Effective permissions, the pure part: which link of the chain holds, which request says so."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from meshgov.access.effective import (
    AccessFacts,
    AccessQuestion,
    AccessQuestionInvalidError,
    Grant,
    Missing,
    canonical_resource,
    coverage_of,
    decide,
    explaining,
    expression_holds,
)
from meshgov.access.grants import central_grant_entries, link_grant_entries
from meshgov.access.states import RequestState
from meshgov.access.store import Coverage, RequestRecord
from meshgov.catalog.tags import effective_tags
from meshgov.contracts.access_events import Permission, TagCondition, TagExpression

CENTRAL, CONSUMER, OTHER = "111111111111", "333333333333", "444444444444"
ANALYST = f"arn:aws:iam::{CONSUMER}:role/analyst"
INTERN = f"arn:aws:iam::{CONSUMER}:role/intern"
DB, TABLE = "sales_orders", "t0"
SHARE = f"arn:aws:ram:eu-west-1:{CENTRAL}:resource-share/abc"
OLD_SHARE = f"arn:aws:ram:eu-west-1:{CENTRAL}:resource-share/old"
SELECT = AccessQuestion(ANALYST, "SELECT", DB, TABLE)
T0 = Coverage(DB, (TABLE,))


def record(
    request_id: str = "req-1",
    *,
    principal: str = ANALYST,
    coverage: Coverage = T0,
    permissions: tuple[str, ...] = ("SELECT",),
    state: RequestState = RequestState.ACTIVE,
    expires_at: str | None = "2026-12-25T00:00:00+00:00",
    expression: TagExpression | None = None,
) -> RequestRecord:
    """A request as the central access function records it once granted (planner's entries)."""
    perms = [Permission(p) for p in permissions]
    return RequestRecord(
        request_id=request_id,
        kind="consumer",
        client_token=request_id,
        fingerprint="f",
        consumer_account=CONSUMER,
        principal=principal,
        owner_account="222222222222",
        domain="sales",
        permissions=permissions,
        resource=None,
        tag_expression=None,
        justification="quarterly revenue dashboard",
        duration_days=30,
        state=state,
        created_at="2026-11-25T00:00:00+00:00",
        updated_at="2026-11-25T00:00:00+00:00",
        coverage=(coverage,),
        expires_at=expires_at,
        central_grants=tuple(
            central_grant_entries(CENTRAL, CONSUMER, [coverage], perms, expression)
        ),
        link_grants=tuple(link_grant_entries(CENTRAL, principal, [coverage], perms)),
        links=(coverage.database,),
    )


def listed(
    principal: str,
    resource: dict[str, Any],
    permissions: tuple[str, ...] = ("SELECT",),
    *,
    grantable: bool = False,
    shares: tuple[str, ...] = (),
) -> Grant:
    """A grant as ListPermissions returns it (catalog ids filled in)."""
    return Grant(
        principal,
        canonical_resource(resource, CONSUMER if "Database" in resource else CENTRAL),
        permissions,
        permissions if grantable else (),
        shares,
    )


def table(name: str = TABLE, database: str = DB) -> dict[str, Any]:
    return {"Table": {"CatalogId": CENTRAL, "DatabaseName": database, "Name": name}}


def wildcard(database: str = DB) -> dict[str, Any]:
    return {"Table": {"CatalogId": CENTRAL, "DatabaseName": database, "TableWildcard": {}}}


def link(name: str = DB) -> dict[str, Any]:
    return {"Database": {"Name": name}}


def facts(**changes: Any) -> AccessFacts:
    """The whole chain in place for the analyst's SELECT on sales_orders.t0 (request req-1)."""
    base = AccessFacts(
        central_account=CENTRAL,
        central_grants=(listed(CONSUMER, table(), grantable=True, shares=(SHARE,)),),
        accepted_shares=frozenset({SHARE}),
        invitations={SHARE: "ACCEPTED"},
        principal_grants=(listed(ANALYST, table()),),
        links=(DB,),
        link_grants=(listed(ANALYST, link(), ("DESCRIBE",)),),
        requests=(record(),),
    )
    return replace(base, **changes)


# --- the question -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("principal", "action", "database", "table_name", "message"),
    [
        ("analyst", "SELECT", DB, TABLE, "IAM role ARN"),
        (f"arn:aws:iam::{CONSUMER}:user/bob", "SELECT", DB, TABLE, "IAM role ARN"),
        (ANALYST, "DROP", DB, TABLE, "action must be one of SELECT, DESCRIBE"),
        (ANALYST, "SELECT", "sales.orders", TABLE, "database 'sales.orders'"),
        (ANALYST, "SELECT", DB, "", "table ''"),
    ],
)
def test_a_question_that_cannot_be_asked_is_refused(
    principal: str, action: str, database: str, table_name: str, message: str
) -> None:
    with pytest.raises(AccessQuestionInvalidError, match=message):
        AccessQuestion(principal, action, database, table_name)


def test_the_consumer_account_is_the_principals() -> None:
    assert SELECT.consumer_account == CONSUMER
    assert SELECT.qualified_table == "sales_orders.t0"


# --- LF-Tags and coverage -----------------------------------------------------------------------


def test_table_tags_override_the_database_tags_of_the_same_key() -> None:
    tags = effective_tags(
        [{"TagKey": "Domain", "TagValues": ["Sales"]}, {"TagKey": "tier", "TagValues": ["gold"]}],
        [{"TagKey": "tier", "TagValues": ["bronze"]}],
    )
    assert tags == {"domain": ["sales"], "tier": ["bronze"]}


@pytest.mark.parametrize(
    ("expression", "holds"),
    [
        ([{"TagKey": "domain", "TagValues": ["sales"]}], True),
        ([{"TagKey": "DOMAIN", "TagValues": ["hr", "SALES"]}], True),
        (
            [{"TagKey": "domain", "TagValues": ["sales"]}, {"TagKey": "tier", "TagValues": ["*"]}],
            True,
        ),
        ([{"TagKey": "domain", "TagValues": ["hr"]}], False),
        (
            [{"TagKey": "domain", "TagValues": ["sales"]}, {"TagKey": "pii", "TagValues": ["*"]}],
            False,
        ),
    ],
)
def test_every_condition_of_an_expression_must_hold(
    expression: list[dict[str, Any]], holds: bool
) -> None:
    assert expression_holds(expression, {"domain": ["sales"], "tier": ["gold"]}) is holds


def policy(resource_type: str = "TABLE", value: str = "sales") -> dict[str, Any]:
    return {
        "LFTagPolicy": {
            "CatalogId": CENTRAL,
            "ResourceType": resource_type,
            "Expression": [{"TagKey": "domain", "TagValues": [value]}],
        }
    }


@pytest.mark.parametrize(
    ("resource", "how"),
    [
        (table(), "table sales_orders.t0"),
        (table("t1"), None),
        (table(database="hr_people"), None),
        ({"Table": {"CatalogId": OTHER, "DatabaseName": DB, "Name": TABLE}}, None),
        (wildcard(), "every table of sales_orders"),
        (wildcard("hr_people"), None),
        (
            {
                "TableWithColumns": {
                    "CatalogId": CENTRAL,
                    "DatabaseName": DB,
                    "Name": TABLE,
                    "ColumnNames": ["id", "amount"],
                }
            },
            "columns id, amount of sales_orders.t0",
        ),
        (
            {
                "TableWithColumns": {
                    "CatalogId": CENTRAL,
                    "DatabaseName": DB,
                    "Name": TABLE,
                    "ColumnWildcard": {"ExcludedColumnNames": ["customer"]},
                }
            },
            "table sales_orders.t0 except columns customer",
        ),
        (policy(), "LF-Tag policy domain=sales"),
        (policy(value="hr"), None),
        (policy("DATABASE"), None),
        ({"Database": {"CatalogId": CENTRAL, "Name": DB}}, None),
    ],
)
def test_which_grants_reach_the_table(resource: dict[str, Any], how: str | None) -> None:
    assert coverage_of(resource, CENTRAL, DB, TABLE, {"domain": ["sales"]}) == how


def test_a_recorded_resource_and_a_listed_one_compare_equal() -> None:
    recorded = {
        "TableWithColumns": {"DatabaseName": DB, "Name": TABLE, "ColumnNames": ["b", "a"]},
        "LFTagPolicy": {"Expression": [{"TagKey": "Tier", "TagValues": ["Gold", "Bronze"]}]},
    }
    assert canonical_resource(recorded, CENTRAL) == {
        "TableWithColumns": {
            "CatalogId": CENTRAL,
            "DatabaseName": DB,
            "Name": TABLE,
            "ColumnNames": ["a", "b"],
        },
        "LFTagPolicy": {
            "CatalogId": CENTRAL,
            "Expression": [{"TagKey": "tier", "TagValues": ["bronze", "gold"]}],
        },
    }


# --- explaining a grant -------------------------------------------------------------------------


def test_only_requests_holding_grants_explain_them() -> None:
    grant = listed(CONSUMER, table())
    live, revoked = record("req-live"), record("req-gone", state=RequestState.REVOKED)
    pending = record("req-wait", state=RequestState.PENDING_APPROVAL)
    found = explaining(
        grant, "SELECT", [live, revoked, pending], lambda r: r.central_grants, CENTRAL
    )
    assert found == ["req-live"]


def test_a_request_for_another_permission_or_table_explains_nothing() -> None:
    grant = listed(CONSUMER, table())
    describe = record("req-d", permissions=("DESCRIBE",))
    other = record("req-t1", coverage=Coverage(DB, ("t1",)))
    assert explaining(grant, "SELECT", [describe, other], lambda r: r.central_grants, CENTRAL) == []


def test_a_link_grant_is_explained_by_the_request_that_asked_for_it() -> None:
    grant = listed(ANALYST, link(), ("DESCRIBE",))
    found = explaining(grant, "DESCRIBE", [record()], lambda r: r.link_grants, CONSUMER)
    assert found == ["req-1"]


# --- deciding -----------------------------------------------------------------------------------


def test_with_the_whole_chain_in_place_the_request_explains_the_access() -> None:
    # When the analyst's SELECT is decided with every link of the chain in place
    answer = decide(SELECT, facts())
    # Then it is allowed, because of req-1, until req-1 expires
    assert answer.allowed and answer.missing == []
    assert answer.requests == ["req-1"]
    assert answer.expires_at == "2026-12-25T00:00:00+00:00"
    assert answer.reasons == [
        f"central ({CENTRAL}) granted SELECT on table sales_orders.t0 to account {CONSUMER} "
        "with grant option (request req-1)",
        f"account {CONSUMER} granted SELECT on table sales_orders.t0 to {ANALYST} (request req-1)",
        f"resource link sales_orders points at {CENTRAL}:sales_orders and {ANALYST} may "
        "DESCRIBE it",
    ]
    assert answer.as_dict()["allowed"] is True and answer.as_dict()["requests"] == ["req-1"]


def test_with_nothing_in_place_every_missing_link_is_named() -> None:
    answer = decide(SELECT, AccessFacts(central_account=CENTRAL))
    assert not answer.allowed
    assert answer.missing == [
        "no grant from central to the account",
        "no grant to the principal in the consumer account",
        "no resource link",
    ]
    assert answer.requests == [] and answer.expires_at is None
    assert len(answer.reasons) == 3


@pytest.mark.parametrize(
    ("changes", "missing"),
    [
        ({"central_grants": ()}, Missing.CENTRAL_GRANT),
        ({"accepted_shares": frozenset()}, Missing.SHARE),
        ({"principal_grants": ()}, Missing.PRINCIPAL_GRANT),
        ({"links": (), "link_grants": ()}, Missing.LINK),
        ({"link_grants": ()}, Missing.LINK_DESCRIBE),
    ],
    ids=lambda v: v.name if isinstance(v, Missing) else "",
)
def test_each_missing_link_alone_denies(changes: dict[str, Any], missing: Missing) -> None:
    answer = decide(SELECT, facts(**changes))
    assert not answer.allowed
    assert answer.missing == [missing.value]
    assert answer.requests == [] and answer.expires_at is None


def test_a_pending_invitation_is_why_the_share_is_not_usable() -> None:
    answer = decide(SELECT, facts(accepted_shares=frozenset(), invitations={SHARE: "PENDING"}))
    assert answer.missing == ["share not accepted"]
    assert answer.reasons[0].endswith("but the RAM share is not accepted (invitation PENDING)")


def test_a_grant_in_another_share_than_the_accepted_one_is_not_usable() -> None:
    answer = decide(SELECT, facts(accepted_shares=frozenset({OLD_SHARE})))
    assert answer.missing == ["share not accepted"]


def test_a_grant_naming_no_share_counts_when_a_share_from_central_is_accepted() -> None:
    unnamed = (listed(CONSUMER, table(), grantable=True),)
    assert decide(SELECT, facts(central_grants=unnamed)).allowed
    assert not decide(SELECT, facts(central_grants=unnamed, accepted_shares=frozenset())).allowed


def test_grants_to_other_accounts_other_principals_or_other_actions_do_not_count() -> None:
    answer = decide(
        SELECT,
        facts(
            central_grants=(
                listed(OTHER, table(), shares=(SHARE,)),
                listed(CONSUMER, table(), ("DESCRIBE",), shares=(SHARE,)),
            ),
            principal_grants=(listed(INTERN, table()), listed(ANALYST, table(), ("DESCRIBE",))),
        ),
    )
    assert answer.missing == [
        "no grant from central to the account",
        "no grant to the principal in the consumer account",
    ]


def test_describe_is_answered_strictly_and_all_gives_everything() -> None:
    describe = AccessQuestion(ANALYST, "DESCRIBE", DB, TABLE)
    assert not decide(describe, facts()).allowed
    everything = facts(
        central_grants=(listed(CONSUMER, table(), ("ALL",), shares=(SHARE,)),),
        principal_grants=(listed(ANALYST, table(), ("ALL",)),),
    )
    answer = decide(describe, everything)
    assert answer.allowed
    assert answer.requests == []  # req-1 asked for SELECT, not ALL: nobody explains ALL
    assert "no meshgov request explains it: drift?" in answer.reasons[0]


def test_a_grant_no_request_explains_is_reported_as_drift() -> None:
    answer = decide(SELECT, facts(requests=()))
    assert answer.allowed and answer.requests == [] and answer.expires_at is None
    assert all("drift?" in r for r in answer.reasons[:2])


def test_a_revoked_request_explains_nothing_that_is_left() -> None:
    answer = decide(SELECT, facts(requests=(record(state=RequestState.REVOKED),)))
    assert answer.allowed and answer.requests == []


def test_whole_database_access_through_wildcards_is_explained() -> None:
    whole = record("req-all", coverage=Coverage(DB, (), whole=True))
    answer = decide(
        SELECT,
        facts(
            central_grants=(listed(CONSUMER, wildcard(), grantable=True, shares=(SHARE,)),),
            principal_grants=(listed(ANALYST, wildcard()),),
            requests=(whole,),
        ),
    )
    assert answer.allowed and answer.requests == ["req-all"]
    assert "every table of sales_orders" in answer.reasons[0]


def test_lf_tag_policy_access_is_explained_when_the_table_carries_the_tags() -> None:
    expression = TagExpression(conditions=[TagCondition(key="Domain", values=["Sales"])])
    tagged = record("req-tag", expression=expression)
    policy_grant = listed(
        CONSUMER, policy(), grantable=True, shares=(SHARE,)
    )  # LF stores tag expressions in lower case
    chain = facts(central_grants=(policy_grant,), requests=(tagged,))
    allowed = decide(SELECT, replace(chain, table_tags={"domain": ["sales"]}))
    assert allowed.allowed and allowed.requests == ["req-tag"]
    assert "LF-Tag policy domain=sales" in allowed.reasons[0]
    untagged = decide(SELECT, replace(chain, table_tags={"domain": ["hr"]}))
    assert untagged.missing == ["no grant from central to the account"]


def test_access_lasts_as_long_as_the_last_request_and_forever_if_one_never_ends() -> None:
    early = record("req-a", expires_at="2026-12-01T00:00:00+00:00")
    late = record("req-b", expires_at="2027-01-01T00:00:00+00:00")
    assert decide(SELECT, facts(requests=(early, late))).expires_at == "2027-01-01T00:00:00+00:00"
    assert decide(SELECT, facts(requests=(early, late))).requests == ["req-a", "req-b"]
    forever = record("req-c", expires_at=None)
    assert decide(SELECT, facts(requests=(early, forever))).expires_at is None


def test_the_request_explaining_both_sides_wins_over_one_explaining_one_side() -> None:
    # Given the intern's request explains the account's grant, the analyst's both grants
    intern = record("req-intern", principal=INTERN)
    answer = decide(SELECT, facts(requests=(intern, record("req-analyst"))))
    assert answer.requests == ["req-analyst"]


def test_a_table_that_is_not_central_is_the_only_thing_missing() -> None:
    answer = decide(SELECT, AccessFacts(central_account=CENTRAL, table_exists=False))
    assert answer.missing == ["table not in the central catalog"]
    assert answer.reasons == [
        f"sales_orders.t0 is not a table of the central catalog (account {CENTRAL})"
    ]
