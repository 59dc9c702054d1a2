"""Every statement of a function's policy is needed: take one away and the local mesh refuses the
call with AccessDenied, meshgov records a FAILED audit record naming the action and the role, and
nothing is half done (issue 12: "removing any one statement ... makes a test fail").
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import pytest

from meshgov_local.mesh import LocalMesh
from tests.integration.access_helpers import (
    central_grants,
    consumer_requests,
    create_role,
    decide,
    publish_sales,
    request,
    request_id,
)
from tests.integration.helpers import columns, create_published_database, table_input


def remove_statement(mesh: LocalMesh, account: str, role_prefix: str, sid: str) -> str:
    """Delete the statement ``sid`` from the policies of the role named ``role_prefix``* in
    ``account`` (inline or customer managed), as an edit of template.yaml would; the role's name."""
    iam = mesh.client(account, "iam")
    role = next(
        r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"].startswith(role_prefix)
    )
    removed = 0
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        document = _document(iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"])
        kept = [s for s in document["Statement"] if s.get("Sid") != sid]
        if len(kept) < len(document["Statement"]):
            removed += 1
            document["Statement"] = kept
            iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=json.dumps(document))
    for attached in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
        arn = attached["PolicyArn"]
        if ":aws:policy/" in arn:
            continue
        version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        got = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]
        document = _document(got["Document"])
        kept = [s for s in document["Statement"] if s.get("Sid") != sid]
        if len(kept) < len(document["Statement"]):
            removed += 1
            document["Statement"] = kept
            iam.create_policy_version(
                PolicyArn=arn, PolicyDocument=json.dumps(document), SetAsDefault=True
            )
    assert removed, f"no statement {sid} in the policies of {role}"
    return str(role)


def _document(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else json.loads(unquote(str(value)))


def failed_records(mesh: LocalMesh) -> list[str]:
    return [
        f"{r.entry.action} {r.entry.reason}"
        for r in mesh.audit_records()
        if r.entry.outcome.value == "FAILED"
    ]


def _publish(mesh: LocalMesh) -> None:
    glue = mesh.client(mesh.producer, "glue")
    create_published_database(glue, "orders")
    glue.create_table(DatabaseName="orders", TableInput=table_input("t0", columns("id:int")))
    mesh.settle()


def _central_databases(mesh: LocalMesh) -> list[str]:
    return [d["Name"] for d in mesh.client(mesh.central, "glue").get_databases()["DatabaseList"]]


def _published_without_location(mesh: LocalMesh) -> bool:
    """No central table t0, and no data location registered in central Lake Formation."""
    glue, lf = mesh.client(mesh.central, "glue"), mesh.client(mesh.central, "lakeformation")
    tables = (
        [t["Name"] for t in glue.get_tables(DatabaseName="sales_orders")["TableList"]]
        if "sales_orders" in _central_databases(mesh)
        else []
    )
    return "t0" not in tables and not lf.list_resources()["ResourceInfoList"]


def _request_approved(mesh: LocalMesh) -> None:
    create_role(mesh, mesh.consumer)
    request(mesh, tables=["t0"])
    mesh.settle()
    decide(mesh, request_id(mesh))
    mesh.settle()


Scenario = Callable[[LocalMesh], None]
CASES: list[tuple[str, str, str, str, Scenario, Callable[[LocalMesh], bool]]] = [
    # The catalog writer role may no longer read or write the central catalog: nothing centrally.
    (
        "central",
        "meshgov-central-catalog-writer",
        "CentralCatalog",
        "glue:GetDatabase",
        _publish,
        lambda mesh: "sales_orders" not in _central_databases(mesh),
    ),
    # The producer's reader role may no longer read its catalog: central copies nothing.
    (
        "producer",
        "meshgov-catalog-reader",
        "ReadCatalog",
        "glue:GetDatabase",
        _publish,
        lambda mesh: "sales_orders" not in _central_databases(mesh),
    ),
    # The catalog writer may no longer register the producer's data location (defect 4), or
    # pass the data location role to Lake Formation: the table is not published without it.
    (
        "central",
        "meshgov-central-catalog-writer",
        "DataLocations",
        "lakeformation:ListResources",  # the first of the statement's actions it calls
        _publish,
        _published_without_location,
    ),
    (
        "central",
        "meshgov-central-catalog-writer",
        "PassDataLocationRole",
        "iam:PassRole",
        _publish,
        _published_without_location,
    ),
    # Lake Formation may no longer share to the consumer with the access role's rights (defect 1).
    (
        "central",
        "meshgov-central-access-requests",
        "CrossAccountShares",
        "ram:GetResourceShares",
        _request_approved,
        lambda mesh: "ACTIVE" not in {s.value for s in consumer_requests(mesh).values()},
    ),
    # The consumer's member role may no longer read the shared central table it grants (defect 2).
    (
        "consumer",
        "meshgov-member-access",
        "ReadSharedCentralCatalog",
        "glue:GetTable",
        _request_approved,
        lambda mesh: "ACTIVE" not in {s.value for s in consumer_requests(mesh).values()},
    ),
    # The access function may no longer grant: an approved request grants nothing, is not ACTIVE.
    (
        "central",
        "meshgov-central-access-requests",
        "GrantAndRevoke",
        "lakeformation:BatchGrantPermissions",
        _request_approved,
        lambda mesh: (
            not central_grants(mesh)
            and "ACTIVE" not in {s.value for s in consumer_requests(mesh).values()}
        ),
    ),
]


@pytest.mark.parametrize(
    ("account", "role_prefix", "sid", "action", "scenario", "nothing_done"),
    CASES,
    ids=[case[2] for case in CASES],
)
def test_a_statement_removed_is_access_denied_audited_and_nothing_half_done(
    local_mesh: LocalMesh,
    account: str,
    role_prefix: str,
    sid: str,
    action: str,
    scenario: Scenario,
    nothing_done: Callable[[LocalMesh], bool],
) -> None:
    mesh = local_mesh
    if scenario is _request_approved:
        publish_sales(mesh, tables=1)  # something to ask for, before the statement goes
    # Given the deployed role without one statement of its template policy
    owner = {"central": mesh.central, "producer": mesh.producer, "consumer": mesh.consumer}[account]
    role = remove_statement(mesh, owner, role_prefix, sid)

    # When the function that uses it runs
    scenario(mesh)

    # Then the call was refused, and a FAILED audit record names the action and the role
    failures = [f for f in failed_records(mesh) if "AccessDenied" in f]
    assert any(action in f and role in f for f in failures), failures
    # And nothing half done
    assert nothing_done(mesh)
