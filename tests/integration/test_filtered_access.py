"""Issue 13, filtered access in the local mesh: a request with a column set and a row filter
becomes one Lake Formation data cells filter in central, granted to the consumer account and
re-granted to the role; the producer may narrow it and never widen it; revocation deletes the
filter and its grants. Every assertion reads the emulated accounts (filters, grants, requests,
audit records)."""

from __future__ import annotations

from typing import Any

from meshgov.access.filters import filter_name
from meshgov.access.row_filters import parse_row_filter
from meshgov.access.states import RequestState
from meshgov.contracts.access_events import ACCESS_DECIDED, ACCESS_GRANTED, ACCESS_SOURCE
from meshgov_local.mesh import LocalMesh
from tests.integration.access_helpers import (
    Inbox,
    audit,
    central_grants,
    database_key,
    decide,
    local_grants,
    record,
    request,
    request_id,
    resource_key,
    revoke,
)
from tests.integration.test_access_flow import (
    CENTRAL,
    CONSUMER,
    DB,
    DESCRIBE,
    NONE,
    SELECT,
    given_a_consumer_and_published_sales,
)

S = RequestState
COLUMNS = ["id", "amount", "customer"]


def filtered(mesh: LocalMesh, token: str = "f-1", **cells: Any) -> str:  # noqa: S107
    """The consumer asks for SELECT on t0 through a filter (``cells``: the TableFilter)."""
    request(
        mesh,
        token=token,
        resource={"database": DB, "tables": ["t0"], "filters": [{"table": "t0", **cells}]},
    )
    mesh.settle()
    return request_id(mesh, token)


def filters_in_central(mesh: LocalMesh) -> dict[str, dict[str, Any]]:
    lf = mesh.client(mesh.central, "lakeformation")
    listed = lf.list_data_cells_filter(
        Table={"CatalogId": CENTRAL, "DatabaseName": DB, "Name": "t0"}
    )["DataCellsFilters"]
    return {f["Name"]: f for f in listed}


def filter_key(rid: str) -> str:
    return resource_key(
        {
            "DataCellsFilter": {
                "TableCatalogId": CENTRAL,
                "DatabaseName": DB,
                "TableName": "t0",
                "Name": filter_name(rid, "t0"),
            }
        }
    )


def canonical(text: str) -> str:
    return parse_row_filter(text, COLUMNS).text


def narrow(mesh: LocalMesh, rid: str, **cells: Any) -> str:
    return mesh.put_event(
        mesh.producer,
        ACCESS_SOURCE,
        ACCESS_DECIDED,
        {
            "requestId": rid,
            "decision": "APPROVE",
            "reason": "approved, narrowed",
            "filters": [{"table": "t0", **cells}],
        },
    )


def test_a_filtered_request_is_one_data_cells_filter_granted_through_to_the_role(
    local_mesh: LocalMesh,
) -> None:
    mesh = local_mesh
    analyst = given_a_consumer_and_published_sales(mesh)
    consumer_inbox = Inbox(mesh, mesh.consumer)
    # Given the consumer asks for t0 without customer, only rows with amount > 10
    rid = filtered(mesh, excludedColumns=["customer"], rowFilter="amount > 10")
    pending = record(mesh, rid)
    assert pending is not None and pending.state is S.PENDING_APPROVAL
    assert filters_in_central(mesh) == {}  # nothing is made before the producer decides
    # When the producer approves as asked
    decide(mesh, rid)
    mesh.settle()
    # Then central holds one data cells filter named for the request and the table
    (made,) = filters_in_central(mesh).values()
    assert made["Name"] == filter_name(rid, "t0")
    assert made["ColumnWildcard"] == {"ExcludedColumnNames": ["customer"]}
    assert made["RowFilter"] == {"FilterExpression": canonical("amount > 10")}
    # ... granted to the consumer account with the grant option, and t0 is not granted whole
    assert central_grants(mesh) == {
        database_key(CENTRAL, DB): (DESCRIBE, DESCRIBE),
        filter_key(rid): (SELECT, SELECT),
    }
    # ... re-granted by the consumer to its role, beside DESCRIBE on the link
    assert local_grants(mesh, analyst) == {
        database_key(CONSUMER, DB): (DESCRIBE, NONE),
        filter_key(rid): (SELECT, NONE),
    }
    active = record(mesh, rid)
    assert active is not None and active.state is S.ACTIVE
    # ... the consumer was told which filter it holds
    (granted,) = consumer_inbox.details(ACCESS_GRANTED)
    assert [f["Name"] for f in granted["dataCellsFilters"]] == [filter_name(rid, "t0")]
    # ... and can-access says the role reads t0 only through that filter
    answer = mesh.can_access(analyst, DB, "t0")
    assert answer.allowed and answer.requests == [rid]
    (through,) = answer.filters
    assert through["name"] == filter_name(rid, "t0")
    assert through["excludedColumns"] == ["customer"]
    assert through["rowFilter"] == canonical("amount > 10")
    assert audit(mesh, "lakeformation:CreateDataCellsFilter", "SUCCEEDED", rid)
    # When the consumer revokes it
    revoke(mesh, rid, mesh.consumer)
    mesh.settle()
    # Then the filter and every grant on it are gone, in central and in the consumer
    assert filters_in_central(mesh) == {}
    assert central_grants(mesh) == {}
    assert local_grants(mesh, analyst) == {}
    assert not mesh.can_access(analyst, DB, "t0").allowed
    assert audit(mesh, "lakeformation:DeleteDataCellsFilter", "SUCCEEDED", rid)


def test_the_producer_narrows_columns_and_rows(local_mesh: LocalMesh) -> None:
    mesh = local_mesh
    given_a_consumer_and_published_sales(mesh)
    rid = filtered(mesh, excludedColumns=["customer"], rowFilter="amount > 10")
    # When the producer approves only id, with a stricter row filter
    event = narrow(mesh, rid, columns=["id"], rowFilter="amount > 10 AND id < 100")
    mesh.settle()
    # Then the filter central made is the narrowed one
    (made,) = filters_in_central(mesh).values()
    assert made["ColumnNames"] == ["id"]
    assert made["RowFilter"] == {"FilterExpression": canonical("amount > 10 AND id < 100")}
    narrowed = record(mesh, rid)
    assert narrowed is not None and narrowed.state is S.ACTIVE
    assert narrowed.filters[0]["columns"] == ["id"]
    (entry,) = audit(mesh, "access:narrowed", "SUCCEEDED", rid)
    assert entry.detail["event_id"] == event


def test_a_widening_decision_is_refused_and_changes_nothing(local_mesh: LocalMesh) -> None:
    mesh = local_mesh
    analyst = given_a_consumer_and_published_sales(mesh)
    rid = filtered(mesh, excludedColumns=["customer"], rowFilter="amount > 10")
    # When the producer "narrows" to a filter that shows customer and drops the row condition
    narrow(mesh, rid, columns=["id", "customer"])
    mesh.settle()
    # Then the decision is refused and audited; the request still waits; nothing was made
    (refusal,) = audit(mesh, "access:access-decided", "REFUSED", rid)
    assert refusal.detail["error_code"] == "DecisionWidens"
    assert "customer" in refusal.reason
    waiting = record(mesh, rid)
    assert waiting is not None and waiting.state is S.PENDING_APPROVAL
    assert filters_in_central(mesh) == {}
    assert central_grants(mesh) == {} and local_grants(mesh, analyst) == {}


def test_bad_filters_are_refused_before_any_request_exists(local_mesh: LocalMesh) -> None:
    mesh = local_mesh
    given_a_consumer_and_published_sales(mesh)
    cases = {
        "bad-syntax": ({"rowFilter": "amount >"}, "RowFilterInvalid"),
        "unknown-col": ({"rowFilter": "salary > 1"}, "RowFilterColumnUnknown"),
        "too-long": ({"rowFilter": "customer = '" + "x" * 2100 + "'"}, "RowFilterTooLong"),
        "no-such-excl": ({"excludedColumns": ["salary"]}, "ColumnUnknown"),
    }
    for token, (cells, code) in cases.items():
        event = request(
            mesh,
            token=token,
            resource={"database": DB, "tables": ["t0"], "filters": [{"table": "t0", **cells}]},
        )
        mesh.settle()
        (refusal,) = audit(mesh, "access:request", "REFUSED", event)
        assert refusal.detail["error_code"] == code, token
        assert record(mesh, request_id(mesh, token)) is None
    assert filters_in_central(mesh) == {}
    assert central_grants(mesh) == {}


def test_the_policy_grants_confidential_tables_only_through_a_filter(
    local_mesh: LocalMesh,
) -> None:
    mesh = local_mesh
    # Given confidential tables (the local mesh's central stack requires filters for them)
    given_a_consumer_and_published_sales(mesh, classification="confidential")
    # When the consumer asks for t0 whole, then through a filter
    request(mesh, token="whole", tables=["t0"])
    mesh.settle()
    rid_filtered = filtered(mesh, token="cells", excludedColumns=["customer"])
    # Then the whole-table request is denied by the policy, naming the table
    whole = record(mesh, request_id(mesh, "whole"))
    assert whole is not None and whole.state is S.DENIED
    assert whole.decided_by == "meshgov:approval-policy"
    assert "t0 (confidential)" in whole.reason
    # ... and the filtered one goes to the producer
    cells = record(mesh, rid_filtered)
    assert cells is not None and cells.state is S.PENDING_APPROVAL


def test_posture_names_each_filter_and_reports_one_nobody_asked_for(local_mesh: LocalMesh) -> None:
    mesh = local_mesh
    given_a_consumer_and_published_sales(mesh)
    rid = filtered(mesh, excludedColumns=["customer"], rowFilter="amount > 10")
    decide(mesh, rid)
    mesh.settle()
    # Given someone makes a filter by hand in central and grants it to the consumer account
    lf = mesh.client(mesh.central, "lakeformation")
    lf.create_data_cells_filter(
        TableData={
            "TableCatalogId": CENTRAL,
            "DatabaseName": DB,
            "TableName": "t0",
            "Name": "by-hand",
            "RowFilter": {"AllRowsWildcard": {}},
            "ColumnWildcard": {"ExcludedColumnNames": []},
        }
    )
    hand = {
        "DataCellsFilter": {
            "TableCatalogId": CENTRAL,
            "DatabaseName": DB,
            "TableName": "t0",
            "Name": "by-hand",
        }
    }
    lf.grant_permissions(
        Principal={"DataLakePrincipalIdentifier": CONSUMER},
        Resource=hand,
        Permissions=["SELECT"],
    )
    report = mesh.posture()
    # Then posture lists meshgov's filter with its columns, rows and request
    rows = {r.name: r for r in report.filters}
    mine = rows[filter_name(rid, "t0")]
    assert (mine.table, mine.request) == (f"{DB}.t0", rid)
    assert mine.columns == "every column but customer"
    assert mine.row_filter == canonical("amount > 10")
    assert any(a.resource == f"{DB}.t0 (filter {mine.name})" for a in report.access)
    # ... and the one made by hand, and its grant, as drift
    assert [r.name for r in report.filter_drift] == ["by-hand"]
    assert rows["by-hand"].hint == "no meshgov request made it"
    assert any(d.resource == f"{DB}.t0 (filter by-hand)" for d in report.drift)
    assert not report.clean
