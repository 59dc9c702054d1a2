"""The posture report, the pure part: access explained by requests, drift, pending and expiring
requests, products missing metadata, and the Markdown an auditor keeps."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from meshgov.access.effective import Grant
from meshgov.access.grants import central_grant_entries, link_grant_entries
from meshgov.access.states import RequestState
from meshgov.access.store import Coverage, RequestRecord
from meshgov.contracts.access_events import Permission, TagCondition, TagExpression
from meshgov.posture import PostureInputs, Product, build_report
from meshgov.posture.report import expression_key, resource_text

CENTRAL, PRODUCER, CONSUMER, HR = "111111111111", "222222222222", "333333333333", "444444444444"
ANALYST = f"arn:aws:iam::{CONSUMER}:role/analyst"
INTERN = f"arn:aws:iam::{CONSUMER}:role/intern"
DB = "sales_orders"
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def record(
    request_id: str = "req-1",
    *,
    tables: tuple[str, ...] = ("t0",),
    state: RequestState = RequestState.ACTIVE,
    expires_in_days: float | None = 30,
    permissions: tuple[str, ...] = ("SELECT",),
    expression: TagExpression | None = None,
    principal: str = ANALYST,
    kind: str = "consumer",
    consumer: str = CONSUMER,
) -> RequestRecord:
    """A request as the central access function records it once granted (the planner's
    entries), expiring ``expires_in_days`` after NOW."""
    perms = [Permission(p) for p in permissions]
    coverage = (Coverage(DB, tables, whole=not tables),)
    expires = (
        (NOW + timedelta(days=expires_in_days)).isoformat(timespec="seconds")
        if expires_in_days is not None
        else None
    )
    return RequestRecord(
        request_id=request_id,
        kind=kind,
        client_token=request_id,
        fingerprint="f",
        consumer_account=consumer,
        principal=principal,
        owner_account=PRODUCER,
        domain="sales",
        permissions=permissions,
        resource=None,
        tag_expression=expression.model_dump(mode="json") if expression else None,
        justification="quarterly revenue dashboard",
        duration_days=30,
        state=state,
        created_at="2026-11-20T00:00:00+00:00",
        updated_at="2026-11-20T00:00:00+00:00",
        coverage=coverage,
        expires_at=expires,
        central_grants=tuple(central_grant_entries(CENTRAL, consumer, coverage, perms, expression)),
        link_grants=(
            tuple(link_grant_entries(CENTRAL, principal, coverage, perms))
            if kind == "consumer"
            else ()
        ),
    )


def listed(entries: Any) -> list[Grant]:
    """What ListPermissions shows for the entries a request recorded (batch or link form)."""
    grants = []
    for entry in entries:
        principal = (entry.get("Principal") or {}).get("DataLakePrincipalIdentifier") or entry.get(
            "principal"
        )
        resource = entry.get("Resource") or entry.get("resource")
        database = resource.get("Database")
        if database is not None and "CatalogId" not in database:  # a link, in the consumer
            resource = {"Database": {"CatalogId": CONSUMER, **database}}
        permissions = entry.get("Permissions") or entry.get("permissions")
        grants.append(
            Grant(
                principal=principal,
                resource=resource,
                permissions=tuple(permissions),
                grantable=tuple(entry.get("PermissionsWithGrantOption") or ()),
            )
        )
    return grants


def table_grant(principal: str, table: str, *permissions: str, grantable: bool = False) -> Grant:
    perms = permissions or ("SELECT",)
    return Grant(
        principal=principal,
        resource={"Table": {"CatalogId": CENTRAL, "DatabaseName": DB, "Name": table}},
        permissions=perms,
        grantable=perms if grantable else (),
    )


def inputs(
    requests: list[RequestRecord],
    *,
    extra_central: tuple[Grant, ...] = (),
    extra_consumer: tuple[Grant, ...] = (),
    products: tuple[Product, ...] = (),
    expiring_days: int = 7,
    tag_reach: dict[str, list[tuple[str, str]]] | None = None,
    granted: list[RequestRecord] | None = None,
) -> PostureInputs:
    """Lake Formation holding exactly what ``granted`` (default: the live ``requests``)
    recorded, plus the extra grants."""
    holding = (
        granted
        if granted is not None
        else [r for r in requests if r.state in (RequestState.GRANTED, RequestState.ACTIVE)]
    )
    return PostureInputs(
        central_account=CENTRAL,
        generated_at=NOW,
        requests=tuple(requests),
        central_grants=tuple(
            [g for r in holding for g in listed(r.central_grants)] + list(extra_central)
        ),
        consumer_grants={
            CONSUMER: [g for r in holding for g in listed(r.link_grants)] + list(extra_consumer)
        },
        products=products,
        expiring_days=expiring_days,
        tag_reach=tag_reach or {},
    )


# --- access and drift ----------------------------------------------------------------------------


def test_grants_an_approved_request_made_are_access_and_no_drift() -> None:
    # Given Lake Formation holds exactly what req-1 granted (central and the consumer's side)
    req = record()
    # When the report is built
    report = build_report(inputs([req]))
    # Then the account and the analyst read t0 through req-1 until its expiry, and nothing drifts
    assert not report.drift and report.clean
    assert [(r.grantee, r.side, r.resource, r.permissions, r.requests) for r in report.access] == [
        (CONSUMER, "central", "sales_orders.t0", ("SELECT",), ("req-1",)),
        (ANALYST, "consumer", "sales_orders.t0", ("SELECT",), ("req-1",)),
    ]
    assert {r.until for r in report.access} == {req.expires_at}


def test_a_grant_made_behind_meshgovs_back_is_central_drift() -> None:
    # Given an admin granted the consumer account SELECT on t1 by hand, no request asking
    report = build_report(
        inputs([record()], extra_central=(table_grant(CONSUMER, "t1", grantable=True),))
    )
    # Then it is drift on the central side, with the grant option noted; t0 is still access
    [drift] = report.drift
    assert (drift.side, drift.grantee, drift.resource, drift.permissions, drift.grantable) == (
        "central",
        CONSUMER,
        "sales_orders.t1",
        ("SELECT",),
        True,
    )
    assert not drift.hint and not report.clean
    assert [r.resource for r in report.access if r.side == "central"] == ["sales_orders.t0"]


def test_a_role_granted_by_the_consumer_without_a_request_is_consumer_drift() -> None:
    # Given the consumer's admin granted the intern SELECT on t0 (only the analyst asked)
    report = build_report(inputs([record()], extra_consumer=(table_grant(INTERN, "t0"),)))
    # Then the intern's grant is drift on the consumer side
    assert [(d.side, d.account, d.grantee) for d in report.drift] == [
        ("consumer", CONSUMER, INTERN)
    ]


def test_only_the_permissions_no_request_explains_drift() -> None:
    # Given the analyst's t0 grant was widened by hand to SELECT and DESCRIBE
    req = record()
    widened = table_grant(ANALYST, "t0", "SELECT", "DESCRIBE")
    base = inputs([req])
    consumer = [
        widened if g.principal == ANALYST and "Table" in g.resource else g
        for g in base.consumer_grants[CONSUMER]
    ]
    report = build_report(replace(base, consumer_grants={CONSUMER: consumer}))
    # Then SELECT is access through req-1 and DESCRIBE is drift
    [drift] = report.drift
    assert drift.permissions == ("DESCRIBE",)
    assert ("SELECT",) in [r.permissions for r in report.access if r.grantee == ANALYST]


def test_a_grant_that_outlived_its_request_is_drift_naming_the_request() -> None:
    # Given req-1 expired but its grants are still in Lake Formation (the revoke failed)
    expired = record(state=RequestState.EXPIRED, expires_in_days=-1)
    report = build_report(inputs([expired], granted=[expired]))
    # Then every grant is drift, and the hint names the request it outlived
    assert report.drift and not report.access
    assert {d.hint for d in report.drift} == {"was explained by req-1 (EXPIRED)"}
    assert {d.side for d in report.drift} == {"central", "consumer"}


def test_two_requests_explaining_one_grant_last_as_long_as_the_later() -> None:
    # Given two live requests of the analyst for t0, ending in 10 and 40 days
    early, late = record("req-a", expires_in_days=10), record("req-b", expires_in_days=40)
    report = build_report(inputs([early, late], granted=[early]))
    # Then the access names both and lasts until the later expiry
    row = next(r for r in report.access if r.grantee == ANALYST)
    assert row.requests == ("req-a", "req-b") and row.until == late.expires_at


def test_producer_ownership_is_access_that_never_expires() -> None:
    owned = record(
        "req-own",
        tables=(),
        kind="ownership",
        principal=PRODUCER,
        consumer=PRODUCER,
        permissions=("DESCRIBE", "SELECT"),
        expires_in_days=None,
    )
    report = build_report(replace(inputs([owned]), consumer_grants={}))
    assert [(r.grantee, r.resource, r.until) for r in report.access] == [
        (PRODUCER, "sales_orders.* (every table)", "never")
    ]
    assert not report.drift


def test_a_tag_policy_reaching_another_producers_table_is_flagged() -> None:
    # Given an approved LF-Tag request (team=finance) of the sales producer, and an HR table
    # tagged team=finance since
    expression = TagExpression(conditions=[TagCondition(key="team", values=["finance"])])
    req = record(tables=("t0",), expression=expression)
    key = expression_key([{"TagKey": "team", "TagValues": ["finance"]}], CENTRAL)
    products = (
        Product(DB, "t0", {"meshgov:source_account": PRODUCER}),
        Product("hr_people", "salaries", {"meshgov:source_account": HR}),
    )
    report = build_report(
        inputs(
            [req],
            products=products,
            tag_reach={key: [(DB, "t0"), ("hr_people", "salaries")]},
        )
    )
    # Then the report says the request approved by sales reaches an HR table
    [reach] = report.tag_reach
    assert (reach.request_id, reach.approved_by, reach.foreign_tables) == (
        "req-1",
        PRODUCER,
        ("hr_people.salaries",),
    )
    assert not report.clean


# --- requests and products -----------------------------------------------------------------------


def test_pending_and_expiring_requests_within_the_window() -> None:
    pending = record("req-p", state=RequestState.PENDING_APPROVAL, expires_in_days=None)
    soon = record("req-soon", expires_in_days=2)
    overdue = record("req-overdue", expires_in_days=-0.5)
    later = record("req-later", expires_in_days=20)
    denied = record("req-denied", state=RequestState.DENIED)
    report = build_report(inputs([pending, soon, overdue, later, denied], expiring_days=7))
    assert [r.request_id for r in report.pending] == ["req-p"]
    assert [(r.request_id, r.days_left) for r in report.expiring] == [
        ("req-overdue", -0.5),
        ("req-soon", 2.0),
    ]
    assert report.summary["requests"] == 5


def test_products_without_owner_contact_or_classification() -> None:
    products = (
        Product(DB, "complete", {"meshgov:owner_contact": "a@b", "meshgov:classification": "x"}),
        Product(DB, "no_owner", {"meshgov:classification": "internal"}),
        Product(DB, "nothing", {"meshgov:source_account": PRODUCER, "meshgov:domain": "sales"}),
        Product(DB, "blank", {"meshgov:owner_contact": " ", "meshgov:classification": "public"}),
    )
    report = build_report(inputs([], products=products))
    assert [(p.table, p.missing) for p in report.products_missing] == [
        ("blank", ("meshgov:owner_contact",)),
        ("no_owner", ("meshgov:owner_contact",)),
        ("nothing", ("meshgov:owner_contact", "meshgov:classification")),
    ]
    assert report.products_missing[2].domain == "sales"
    assert report.summary["products"] == 4


def test_resource_text() -> None:
    assert resource_text({"Database": {"Name": "d"}}) == "database d"
    assert (
        resource_text(
            {"TableWithColumns": {"DatabaseName": "d", "Name": "t", "ColumnNames": ["a"]}}
        )
        == "d.t (columns a)"
    )
    policy = {
        "LFTagPolicy": {
            "ResourceType": "TABLE",
            "Expression": [{"TagKey": "team", "TagValues": ["finance", "ops"]}],
        }
    }
    assert resource_text(policy) == "LF-Tag policy on tables: team=(finance OR ops)"


# --- output --------------------------------------------------------------------------------------


def test_markdown_has_title_time_summary_and_one_table_per_section() -> None:
    report = build_report(
        inputs(
            [record(), record("req-p", state=RequestState.PENDING_APPROVAL)],
            extra_central=(table_grant(CONSUMER, "t|1"),),
            products=(Product(DB, "t0", {}),),
        )
    )
    text = report.as_markdown()
    assert text.startswith("# meshgov posture report\n")
    assert "Generated at: 2026-12-01T00:00:00+00:00" in text
    for section in (
        "## Summary",
        "## Access",
        "## Drift",
        "## Pending requests",
        "## Expiring within 7 days",
        "## Products missing metadata",
    ):
        assert section in text
    assert "| drift: grants no live request explains | 1 |" in text
    assert "sales_orders.t\\|1" in text  # cells are escaped
    data = report.as_dict()
    assert data["summary"]["drift"] == 1 and data["drift"][0]["resource"] == "sales_orders.t|1"
    assert data["access"][0]["requests"] == ["req-1"]


def test_the_report_is_the_same_whatever_the_listing_order() -> None:
    base = inputs([record("req-a", tables=("t0", "t1")), record("req-b", tables=("t2",))])
    shuffled = replace(
        base,
        central_grants=tuple(reversed(base.central_grants)),
        consumer_grants={CONSUMER: list(reversed(base.consumer_grants[CONSUMER]))},
    )
    assert build_report(base) == build_report(shuffled)


def test_a_product_classified_by_its_lf_tag_lacks_no_classification() -> None:
    # Given products classified by the LF-Tag classification only (their own or their
    # database's, as the reader reads them), and one whose tag and parameter are both blank
    products = (
        Product(DB, "tagged", {"meshgov:owner_contact": "a@b"}, {"classification": ["internal"]}),
        Product(DB, "untagged", {"meshgov:owner_contact": "a@b"}, {"domain": ["sales"]}),
    )
    report = build_report(PostureInputs(CENTRAL, NOW, products=products))
    # Then only the product neither classifies is missing one: the policy's and find's notion
    # (issue 17, item 7)
    assert [(p.table, p.missing) for p in report.products_missing] == [
        ("untagged", ("meshgov:classification",))
    ]
    assert [p.classification for p in products] == ["internal", ""]
