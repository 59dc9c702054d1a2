"""Issue 4's pure decisions: what a request resolves to (or why it is refused), the grants it
becomes in central and in the consumer, what a revocation may take away, which RAM invitations
a member accepts, which grants it refuses to make, and the access functions' settings."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from meshgov.access.central_adapter import AccessActionError, CentralAccessCatalog
from meshgov.access.envelope import Envelope
from meshgov.access.grants import (
    GrantRefusedError,
    central_grant_entries,
    grant_keys,
    link_grant_entries,
    still_unneeded,
)
from meshgov.access.member import Action, grant_refusal, invitation_verdict
from meshgov.access.resolve import (
    AccessRequestRefusedError,
    MatchedTable,
    Resolution,
    classification_of,
    resolve_named,
    resolve_tagged,
)
from meshgov.access.states import RequestState, TransitionInvalidError
from meshgov.access.store import Coverage, RequestRecord, request_id_for
from meshgov.contracts.access_events import (
    LinkGrant,
    MemberAction,
    NamedResource,
    Permission,
    TagExpression,
)
from meshgov.errors import EventMalformedError, SettingsInvalidError
from meshgov.settings import AccessSettings, MemberSettings

CENTRAL, SALES, HR, CONSUMER = "111111111111", "222222222222", "444444444444", "333333333333"
PRODUCERS = {SALES: "sales", HR: "hr"}
ANALYST = f"arn:aws:iam::{CONSUMER}:role/analyst"
SELECT, DESCRIBE = Permission.SELECT, Permission.DESCRIBE


def central_db(owner: str | None = SALES, domain: str = "sales") -> dict[str, Any]:
    parameters = {"meshgov:domain": domain}
    if owner:
        parameters["meshgov:source_account"] = owner
    return {"Name": "sales_orders", "Parameters": parameters}


def table(name: str, classification: str | None = None, **extra: Any) -> dict[str, Any]:
    parameters = {} if classification is None else {"meshgov:classification": classification}
    return {
        "Name": name,
        "StorageDescriptor": {"Columns": [{"Name": "id"}, {"Name": "Amount"}]},
        "PartitionKeys": [{"Name": "day"}],
        "Parameters": parameters,
        **extra,
    }


TABLES = [
    table("orders", "Internal "),
    table("returns", "public"),
    table("link", "public", TargetTable={"CatalogId": HR, "DatabaseName": "x", "Name": "y"}),
]


def named(**kwargs: Any) -> NamedResource:
    return NamedResource.model_validate({"database": "sales_orders", **kwargs})


def refused(call: Any) -> AccessRequestRefusedError:
    with pytest.raises(AccessRequestRefusedError) as caught:
        call()
    return caught.value


# --- resolve_named ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("database", "message"),
    [
        (None, "is not a database published in the central catalog"),
        (central_db(owner=None), "is not a database published in the central catalog"),
        (central_db(owner="999999999999"), "belongs to no registered producer"),
        (central_db(domain="hr"), "belongs to no registered producer"),  # owner/domain disagree
    ],
    ids=["missing", "not-made-by-meshgov", "unregistered-producer", "domain-mismatch"],
)
def test_only_databases_meshgov_published_for_a_registered_producer_resolve(
    database: dict[str, Any] | None, message: str
) -> None:
    error = refused(lambda: resolve_named(named(), database, TABLES, PRODUCERS))
    assert error.code == "ResourceNotPublished"
    assert message in str(error)


def test_missing_tables_are_named_in_the_refusal() -> None:
    error = refused(
        lambda: resolve_named(named(tables=["zz", "orders", "aa"]), central_db(), TABLES, PRODUCERS)
    )
    assert error.code == "ResourceNotPublished"
    assert str(error).endswith("has no published table aa, zz")


def test_a_resource_link_is_not_a_published_table() -> None:
    error = refused(lambda: resolve_named(named(tables=["link"]), central_db(), TABLES, PRODUCERS))
    assert error.code == "ResourceNotPublished"
    only_links = [TABLES[2]]
    error = refused(lambda: resolve_named(named(), central_db(), only_links, PRODUCERS))
    assert str(error) == "sales_orders has no published table"


def test_unknown_columns_are_refused_and_partition_keys_are_columns() -> None:
    error = refused(
        lambda: resolve_named(
            named(tables=["orders"], columns=["id", "salary", "bonus"]),
            central_db(),
            TABLES,
            PRODUCERS,
        )
    )
    assert (error.code, str(error)) == (
        "ColumnUnknown",
        "sales_orders.orders has no column salary, bonus",
    )
    resolution = resolve_named(
        named(tables=["orders"], columns=["day", "amount"]), central_db(), TABLES, PRODUCERS
    )
    assert resolution.coverage[0].columns == ("day", "amount")


def test_named_tables_resolve_to_their_owner_and_stored_names() -> None:
    resolution = resolve_named(named(tables=["RETURNS", "orders"]), central_db(), TABLES, PRODUCERS)
    assert (resolution.owner_account, resolution.domain) == (SALES, "sales")
    assert resolution.coverage == (
        Coverage(database="sales_orders", tables=("orders", "returns"), whole=False),
    )
    assert resolution.classifications == ("public", "internal")  # in request order
    assert resolution.table_names == ["sales_orders.orders", "sales_orders.returns"]


def test_a_whole_database_covers_every_table_but_links() -> None:
    resolution = resolve_named(named(), central_db(), TABLES, PRODUCERS)
    assert resolution.coverage == (Coverage(database="sales_orders", whole=True),)
    assert sorted(resolution.classifications) == ["internal", "public"]
    assert resolution.table_names == ["sales_orders.*"]


def test_an_lf_tag_classification_counts_before_the_parameter() -> None:
    tags = {"orders": {"classification": ["PUBLIC"]}, "returns": {"other": ["x"]}}
    resolution = resolve_named(named(), central_db(), TABLES, PRODUCERS, tags)
    assert sorted(resolution.classifications) == ["public", "public"]


@pytest.mark.parametrize(
    ("parameters", "tags", "expected"),
    [
        ({"meshgov:classification": " Public "}, None, "public"),
        ({}, None, ""),
        ({"meshgov:classification": "public"}, {"classification": ["Internal"]}, "internal"),
        ({}, {"classification": ["b", "A"]}, "a,b"),
        ({"meshgov:classification": "public"}, {"classification": []}, "public"),
    ],
)
def test_classification_of(
    parameters: dict[str, str], tags: dict[str, list[str]] | None, expected: str
) -> None:
    assert classification_of({"Parameters": parameters}, tags) == expected


# --- resolve_tagged ---------------------------------------------------------------------------


def match(database: str, name: str, owner: str | None, **tags: list[str]) -> MatchedTable:
    parameters = {"meshgov:source_account": owner} if owner else {}
    return MatchedTable(database, name, parameters, tags)


@pytest.mark.parametrize(
    "matches",
    [[], [match("scratch", "t", None)], [match("x_y", "t", "999999999999")]],
    ids=["nothing", "not-made-by-meshgov", "unregistered-producer"],
)
def test_an_expression_must_match_published_tables(matches: list[MatchedTable]) -> None:
    error = refused(lambda: resolve_tagged(matches, PRODUCERS))
    assert error.code == "ResourceNotPublished"


def test_an_expression_spanning_producers_is_refused_naming_them() -> None:
    matches = [match("sales_a", "t", SALES), match("hr_b", "t", HR)]
    error = refused(lambda: resolve_tagged(matches, PRODUCERS))
    assert error.code == "ExpressionSpansProducers"
    assert "(sales, hr)" in str(error)


def test_tagged_matches_are_grouped_by_database_and_sorted() -> None:
    matches = [
        match("sales_b", "z", SALES, classification=["public"]),
        match("sales_a", "y", SALES),
        match("sales_b", "a", SALES, classification=["internal"]),
        match("scratch", "q", None),  # unpublished: ignored
    ]
    resolution = resolve_tagged(matches, PRODUCERS)
    assert (resolution.owner_account, resolution.domain) == (SALES, "sales")
    assert resolution.coverage == (
        Coverage(database="sales_a", tables=("y",)),
        Coverage(database="sales_b", tables=("a", "z")),
    )
    assert resolution.classifications == ("public", "", "internal")
    assert Resolution(SALES, "sales", resolution.coverage, ()).table_names == [
        "sales_a.y",
        "sales_b.a",
        "sales_b.z",
    ]


# --- link_grant_entries -----------------------------------------------------------------------


def test_link_grants_describe_the_link_and_grant_the_targets() -> None:
    coverage = [
        Coverage(database="sales_a", tables=("t1", "t2")),
        Coverage(database="sales_b", whole=True),
        Coverage(database="sales_c", tables=("t",), columns=("id",)),
    ]
    grants = link_grant_entries(CENTRAL, ANALYST, coverage, [SELECT, DESCRIBE])
    assert all(g["principal"] == ANALYST for g in grants)
    links = [g for g in grants if "Database" in g["resource"]]
    assert [g["resource"] for g in links] == [
        {"Database": {"Name": "sales_a"}},  # the link, in the consumer's own catalog
        {"Database": {"Name": "sales_b"}},
        {"Database": {"Name": "sales_c"}},
    ]
    assert all(g["permissions"] == ["DESCRIBE"] for g in links)
    targets = [g["resource"] for g in grants if "Database" not in g["resource"]]
    assert targets == [
        {"Table": {"CatalogId": CENTRAL, "DatabaseName": "sales_a", "Name": "t1"}},
        {"Table": {"CatalogId": CENTRAL, "DatabaseName": "sales_a", "Name": "t2"}},
        {"Table": {"CatalogId": CENTRAL, "DatabaseName": "sales_b", "TableWildcard": {}}},
        {
            "TableWithColumns": {
                "CatalogId": CENTRAL,
                "DatabaseName": "sales_c",
                "Name": "t",
                "ColumnNames": ["id"],
            }
        },
    ]
    assert {tuple(g["permissions"]) for g in grants if g not in links} == {("DESCRIBE", "SELECT")}
    # Each one is a grant the member accepts to make
    names = [g["resource"]["Database"]["Name"] for g in links]
    for grant in grants:
        assert grant_refusal(LinkGrant.model_validate(grant), CONSUMER, CENTRAL, names) == ""


@pytest.mark.parametrize("permissions", [["DROP"], ["SELECT", "ALTER"], []])
def test_link_and_central_grants_never_carry_more_than_select_and_describe(
    permissions: list[str],
) -> None:
    coverage = [Coverage(database="d", whole=True)]
    with pytest.raises(GrantRefusedError):
        link_grant_entries(CENTRAL, ANALYST, coverage, permissions)  # type: ignore[arg-type]
    with pytest.raises(GrantRefusedError):
        central_grant_entries(CENTRAL, CONSUMER, coverage, permissions)  # type: ignore[arg-type]


# --- central_grant_entries --------------------------------------------------------------------


def test_central_grants_go_to_the_consumer_account_with_the_grant_option() -> None:
    coverage = [
        Coverage(database="sales_a", tables=("t1", "t2")),
        Coverage(database="sales_b", whole=True),
    ]
    entries = central_grant_entries(CENTRAL, CONSUMER, coverage, [SELECT, DESCRIBE])
    ids = [e["Id"] for e in entries]
    assert len(ids) == len(set(ids)) == 5  # 2 x database DESCRIBE, t1, t2, the wildcard
    for entry in entries:
        assert entry["Principal"] == {"DataLakePrincipalIdentifier": CONSUMER}
        assert entry["PermissionsWithGrantOption"] == entry["Permissions"]
        assert set(entry["Permissions"]) <= {"SELECT", "DESCRIBE"}
        assert next(iter(entry["Resource"].values()))["CatalogId"] == CENTRAL


def test_an_expression_is_granted_as_canonical_lf_tag_policies() -> None:
    expression = TagExpression.model_validate(
        {
            "conditions": [
                {"key": "Tier", "values": ["Gold", "silver", "GOLD"]},
                {"key": "domain", "values": ["Sales"]},
            ]
        }
    )
    entries = central_grant_entries(CENTRAL, CONSUMER, [], [SELECT], expression)
    assert [e["Resource"]["LFTagPolicy"]["ResourceType"] for e in entries] == ["DATABASE", "TABLE"]
    assert [e["Permissions"] for e in entries] == [["DESCRIBE"], ["SELECT"]]
    # Lake Formation stores tags in lower case: so does the plan, in one order, so the same
    # expression written differently is the same grant (and one revocation cannot take away
    # another request's)
    assert entries[1]["Resource"]["LFTagPolicy"]["Expression"] == [
        {"TagKey": "domain", "TagValues": ["sales"]},
        {"TagKey": "tier", "TagValues": ["gold", "silver"]},
    ]
    same = TagExpression.model_validate(
        {
            "conditions": [
                {"key": "DOMAIN", "values": ["sales"]},
                {"key": "tier", "values": ["silver", "gold"]},
            ]
        }
    )
    assert central_grant_entries(CENTRAL, CONSUMER, [], [SELECT], same) == entries


class RecordingLakeFormation:
    def __init__(self, fail_on_call: int | None = None) -> None:
        self.calls: list[list[dict[str, Any]]] = []
        self._fail_on = fail_on_call

    def batch_grant_permissions(self, CatalogId: str, Entries: list[Any]) -> dict[str, Any]:  # noqa: N803
        assert CatalogId == CENTRAL
        self.calls.append(Entries)
        if self._fail_on == len(self.calls):
            return {"Failures": [{"Error": {"ErrorCode": "InvalidInputException"}}]}
        return {"Failures": []}


def test_grants_are_made_in_batches_of_at_most_twenty() -> None:
    tables = tuple(f"t{i}" for i in range(44))
    entries = central_grant_entries(
        CENTRAL, CONSUMER, [Coverage(database="d", tables=tables)], [SELECT]
    )
    assert len(entries) == 45
    lf = RecordingLakeFormation()
    CentralAccessCatalog(None, lf, CENTRAL).grant(entries)
    assert [len(call) for call in lf.calls] == [20, 20, 5]
    assert [e for call in lf.calls for e in call] == entries


def test_a_failed_batch_entry_fails_the_grant() -> None:
    entries = central_grant_entries(
        CENTRAL, CONSUMER, [Coverage(database="d", tables=("a", "b"))], [SELECT]
    )
    with pytest.raises(AccessActionError, match="InvalidInputException"):
        CentralAccessCatalog(None, RecordingLakeFormation(fail_on_call=1), CENTRAL).grant(entries)


# --- still_unneeded ---------------------------------------------------------------------------


def batch_entry(resource: dict[str, Any], *permissions: str, principal: str = CONSUMER) -> Any:
    return {
        "Id": "x",
        "Principal": {"DataLakePrincipalIdentifier": principal},
        "Resource": resource,
        "Permissions": list(permissions),
        "PermissionsWithGrantOption": list(permissions),
    }


T0 = {"Table": {"CatalogId": CENTRAL, "DatabaseName": "d", "Name": "t0"}}
T1 = {"Table": {"DatabaseName": "d", "Name": "t1", "CatalogId": CENTRAL}}


def test_what_other_requests_need_is_not_revoked() -> None:
    mine = [batch_entry(T0, "DESCRIBE", "SELECT"), batch_entry(T1, "SELECT")]
    theirs = [batch_entry(dict(reversed(list(T0.items()))), "SELECT")]  # same resource
    left = still_unneeded(mine, theirs)
    assert left == [
        {**mine[0], "Permissions": ["DESCRIBE"], "PermissionsWithGrantOption": ["DESCRIBE"]},
        mine[1],
    ]
    assert mine[0]["Permissions"] == ["DESCRIBE", "SELECT"]  # inputs untouched


def test_everything_needed_elsewhere_leaves_nothing_and_nothing_needed_leaves_all() -> None:
    mine = [batch_entry(T0, "SELECT")]
    assert still_unneeded(mine, mine) == []
    assert still_unneeded(mine, []) == mine


def test_another_principal_or_resource_does_not_explain_a_grant() -> None:
    mine = [batch_entry(T0, "SELECT")]
    assert still_unneeded(mine, [batch_entry(T0, "SELECT", principal=HR)]) == mine
    assert still_unneeded(mine, [batch_entry(T1, "SELECT")]) == mine
    wildcard = {"Table": {"CatalogId": CENTRAL, "DatabaseName": "d", "TableWildcard": {}}}
    assert still_unneeded(mine, [batch_entry(wildcard, "SELECT")]) == mine


def test_link_grants_are_compared_per_principal() -> None:
    link = {"Database": {"Name": "d"}}
    mine = [
        {"principal": ANALYST, "resource": link, "permissions": ["DESCRIBE"]},
        {"principal": ANALYST, "resource": T0, "permissions": ["DESCRIBE", "SELECT"]},
    ]
    auditor = ANALYST.replace("analyst", "auditor")
    theirs = [
        {"principal": auditor, "resource": link, "permissions": ["DESCRIBE"]},
        {"principal": ANALYST, "resource": T0, "permissions": ["SELECT"]},
    ]
    assert still_unneeded(mine, theirs) == [
        mine[0],
        {"principal": ANALYST, "resource": T0, "permissions": ["DESCRIBE"]},
    ]
    assert grant_keys(theirs) == {
        (auditor, json.dumps(link, sort_keys=True), "DESCRIBE"),
        (ANALYST, json.dumps(T0, sort_keys=True), "SELECT"),
    }


# --- the member's decisions -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "sender", "verdict"),
    [
        ("PENDING", CENTRAL, "accept"),
        ("PENDING", HR, "reject"),
        ("PENDING", "", "reject"),
        ("ACCEPTED", CENTRAL, None),
        ("REJECTED", HR, None),
        ("EXPIRED", CENTRAL, None),
        ("EXPIRED", HR, None),
    ],
)
def test_only_pending_invitations_from_trusted_senders_are_accepted(
    status: str, sender: str, verdict: str | None
) -> None:
    invitation = {"status": status, "senderAccountId": sender}
    shared = [{"arn": f"arn:aws:glue:eu-west-1:{CENTRAL}:table/sales_a/t", "type": "glue:Table"}]
    answer = invitation_verdict(
        invitation, shared, trusted={CENTRAL}, central=CENTRAL, explained={"sales_a"}
    )
    assert (answer.decision if answer else None) == verdict
    if answer:
        assert sender in answer.reason or not sender


@pytest.mark.parametrize(
    ("principal", "resource", "why"),
    [
        (ANALYST, {"Database": {"Name": "sales_a"}}, ""),
        (ANALYST, {"Database": {"CatalogId": CONSUMER, "Name": "sales_a"}}, ""),
        (ANALYST, {"Database": {"Name": "private"}}, "not on one of the request's links"),
        (
            ANALYST,
            {"Database": {"CatalogId": CENTRAL, "Name": "sales_a"}},
            "not on one of the request's links",
        ),
        (f"arn:aws:iam::{HR}:role/x", {"Database": {"Name": "sales_a"}}, "not in this account"),
        (ANALYST, {"Table": {"CatalogId": CENTRAL, "DatabaseName": "a", "Name": "t"}}, ""),
        (
            ANALYST,
            {"TableWithColumns": {"CatalogId": CENTRAL, "DatabaseName": "a", "Name": "t"}},
            "",
        ),
        (
            ANALYST,
            {"Table": {"CatalogId": CONSUMER, "DatabaseName": "mine", "Name": "t"}},
            "must target the central catalog",
        ),
        (ANALYST, {"Table": {"DatabaseName": "mine", "Name": "t"}}, "central catalog"),
        (ANALYST, {"DataLocation": {"ResourceArn": "arn:aws:s3:::b"}}, "is not a link"),
        (ANALYST, {"Catalog": {}}, "is not a link"),
        (ANALYST, {**T0, "Database": {"Name": "sales_a"}}, "is not a link"),
    ],
)
def test_a_member_grants_only_on_its_links_and_central_tables_to_its_own_principals(
    principal: str, resource: dict[str, Any], why: str
) -> None:
    grant = LinkGrant(principal=principal, resource=resource, permissions=[SELECT])
    refusal = grant_refusal(grant, CONSUMER, CENTRAL, ["sales_a"])
    assert (refusal == "") if not why else (why in refusal)


def test_a_member_refusal_code_travels_in_its_own_field() -> None:
    reported = Action(
        "ram:Reject", "REFUSED", "arn", "sender 4 is not trusted", "InvitationUntrusted"
    )
    as_sent = reported.as_dict()
    assert as_sent["reason"] == "sender 4 is not trusted"
    assert MemberAction.model_validate(as_sent).code == "InvitationUntrusted"
    plain = Action("glue:CreateDatabase", "SUCCEEDED", "d", "resource link").as_dict()
    assert "code" not in plain and MemberAction.model_validate(plain).code is None


# --- envelope and store -----------------------------------------------------------------------


def test_the_envelope_keeps_the_events_resources() -> None:
    body = {
        "id": "e-1",
        "source": "aws.ram",
        "detail-type": "Resource Sharing State Change",
        "account": CONSUMER,
        "resources": ["arn:aws:ram:eu-west-1:1:resource-share-invitation/x"],
        "detail": {},
    }
    envelope = Envelope.parse(json.dumps(body))
    assert envelope.resources == ("arn:aws:ram:eu-west-1:1:resource-share-invitation/x",)
    assert Envelope.parse(json.dumps({**body, "resources": None})).resources == ()
    with pytest.raises(EventMalformedError):
        Envelope.parse(json.dumps({k: v for k, v in body.items() if k != "account"}))


def test_request_ids_are_per_consumer_and_token() -> None:
    assert request_id_for(CONSUMER, "a") == request_id_for(CONSUMER, "a")
    assert request_id_for(CONSUMER, "a") != request_id_for(HR, "a")
    assert request_id_for(CONSUMER, "a") != request_id_for(CONSUMER, "b")


def test_a_record_moves_only_as_the_state_machine_allows() -> None:
    record = RequestRecord(
        request_id="r",
        kind="consumer",
        client_token="t",
        fingerprint="f",
        consumer_account=CONSUMER,
        principal=ANALYST,
        owner_account=SALES,
        domain="sales",
        permissions=("SELECT",),
        resource=None,
        tag_expression=None,
        justification="j",
        duration_days=1,
        state=RequestState.ACTIVE,
        created_at="c",
        updated_at="u",
    )
    revoked = record.moved(RequestState.REVOKED, datetime(2030, 1, 1, tzinfo=UTC), "r" * 400)
    assert revoked.state is RequestState.REVOKED
    assert revoked.history[-1] == {
        "from": "ACTIVE",
        "to": "REVOKED",
        "at": "2030-01-01T00:00:00+00:00",
        "reason": "r" * 300,
    }
    with pytest.raises(TransitionInvalidError):
        revoked.moved(RequestState.ACTIVE, datetime(2030, 1, 2, tzinfo=UTC), "again")


# --- settings ---------------------------------------------------------------------------------

ACCESS_ENV = {
    "AWS_REGION": "eu-west-1",
    "CENTRAL_ACCOUNT_ID": CENTRAL,
    "AUDIT_TABLE_NAME": "audit",
    "REQUESTS_TABLE_NAME": "requests",
    "REGISTRY_TABLE_NAME": "registry",
}


def test_access_settings_defaults_and_parsing() -> None:
    settings = AccessSettings.from_env(ACCESS_ENV)
    assert (settings.max_duration_days, settings.expiry_warning_hours) == (90, 24)
    assert settings.auto_approve_classifications == frozenset()
    assert settings.member_bus_name == "meshgov"
    assert settings.registry_table_name == "registry"
    tuned = AccessSettings.from_env(
        {
            **ACCESS_ENV,
            "AUTO_APPROVE_CLASSIFICATIONS": " Public, internal ,,",
            "MAX_DURATION_DAYS": "30",
            "EXPIRY_WARNING_HOURS": "6",
        }
    )
    assert tuned.auto_approve_classifications == {"public", "internal"}
    assert (tuned.max_duration_days, tuned.expiry_warning_hours) == (30, 6)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"CENTRAL_ACCOUNT_ID": ""}, "central_account_id"),
        ({"AUDIT_TABLE_NAME": ""}, "audit_table_name"),
        ({"REQUESTS_TABLE_NAME": ""}, "requests_table_name"),
        ({"AWS_REGION": ""}, "region"),
        ({"REGISTRY_TABLE_NAME": ""}, "registry_table_name"),
        ({"MAX_DURATION_DAYS": "ninety"}, "ninety"),
        ({"EXPIRY_WARNING_HOURS": "1.5"}, "1.5"),
    ],
)
def test_bad_access_settings_are_refused(change: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsInvalidError, match=message):
        AccessSettings.from_env({**ACCESS_ENV, **change})


MEMBER_ENV = {"AWS_REGION": "eu-west-1", "ACCOUNT_ID": CONSUMER, "CENTRAL_ACCOUNT_ID": CENTRAL}


def test_member_settings_trust_central_first_then_the_listed_accounts() -> None:
    assert MemberSettings.from_env(MEMBER_ENV).trusted_accounts == (CENTRAL,)
    settings = MemberSettings.from_env({**MEMBER_ENV, "TRUSTED_ACCOUNTS": f" {HR},{CENTRAL} ,"})
    assert settings.trusted_accounts == (CENTRAL, HR)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ACCOUNT_ID": ""}, "account_id"),
        ({"CENTRAL_ACCOUNT_ID": ""}, "central_account_id"),
        ({"CENTRAL_ACCOUNT_ID": "central"}, "12-digit"),
        ({"TRUSTED_ACCOUNTS": "1234"}, "TRUSTED_ACCOUNTS"),
        ({"AWS_REGION": ""}, "region"),
    ],
)
def test_bad_member_settings_are_refused(change: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsInvalidError, match=message):
        MemberSettings.from_env({**MEMBER_ENV, **change})
