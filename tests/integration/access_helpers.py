"""Acting as consumers and producers of the access flow in the local mesh, and looking at what
the access flow did in each account (requests, Lake Formation grants, links, RAM, audit, events)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto import mock_aws

from meshgov.access.states import RequestState
from meshgov.access.store import RequestRecord, request_id_for
from meshgov.audit import AuditEntry
from meshgov.contracts.access_events import (
    ACCESS_DECIDED,
    ACCESS_REQUESTED,
    ACCESS_REVOKE_REQUESTED,
    ACCESS_SOURCE,
)
from meshgov_local.config import MemberAccount, MemberKind, MeshConfig
from meshgov_local.emulator import controls
from meshgov_local.emulator.iam_bootstrap import ensure_admin_role
from meshgov_local.mesh import LocalMesh
from tests.integration.helpers import columns, create_published_database, table_input
from tests.meshes import MESHES

ANALYST = "analyst"
SALES, CONSUMER, HR = "222222222222", "333333333333", "444444444444"


def analyst_arn(account: str, name: str = ANALYST) -> str:
    return f"arn:aws:iam::{account}:role/{name}"


def create_role(mesh: LocalMesh, account: str, name: str = ANALYST) -> str:
    return mesh.create_role(account, name)


def publish_sales(
    mesh: LocalMesh,
    tables: int = 2,
    classification: str = "internal",
    database: str = "orders",
    producer: str | None = None,
) -> list[str]:
    """The producer publishes ``database`` with ``tables`` tables; central follows."""
    glue = mesh.client(producer or mesh.producer, "glue")
    create_published_database(glue, database)
    names = []
    for index in range(tables):
        name = f"t{index}"
        glue.create_table(
            DatabaseName=database,
            TableInput=table_input(
                name,
                columns("id:int", "amount:double", "customer:string"),
                **{"meshgov:classification": classification},
            ),
        )
        names.append(name)
    mesh.settle()
    return names


def request(
    mesh: LocalMesh,
    *,
    token: str = "req-1",  # noqa: S107 - a client token, not a secret
    tables: list[str] | None = None,
    columns: list[str] | None = None,
    database: str = "sales_orders",
    principal: str | None = None,
    permissions: list[str] | None = None,
    duration_days: int = 30,
    consumer: str | None = None,
    sender: str | None = None,
    **extra: Any,
) -> str:
    """Put an ``Access Requested`` event as the consumer's CLI would; the EventBridge event id."""
    consumer = consumer or mesh.consumer
    detail: dict[str, Any] = {
        "clientToken": token,
        "consumerAccount": consumer,
        "principal": principal or analyst_arn(consumer),
        "permissions": permissions or ["SELECT"],
        "justification": "quarterly revenue dashboard",
        "durationDays": duration_days,
        **extra,
    }
    if "tagExpression" not in extra and "resource" not in extra:
        resource: dict[str, Any] = {"database": database, "tables": tables or []}
        if columns:
            resource["columns"] = columns
        detail["resource"] = resource
    return mesh.put_event(sender or consumer, ACCESS_SOURCE, ACCESS_REQUESTED, detail)


def decide(
    mesh: LocalMesh, request_id: str, decision: str = "APPROVE", sender: str | None = None
) -> str:
    return mesh.put_event(
        sender or mesh.producer,
        ACCESS_SOURCE,
        ACCESS_DECIDED,
        {"requestId": request_id, "decision": decision, "reason": "ok for the dashboard"},
    )


def revoke(mesh: LocalMesh, request_id: str, sender: str, reason: str = "no longer needed") -> str:
    return mesh.put_event(
        sender, ACCESS_SOURCE, ACCESS_REVOKE_REQUESTED, {"requestId": request_id, "reason": reason}
    )


# --- looking -------------------------------------------------------------------------------------


def request_id(mesh: LocalMesh, token: str = "req-1", consumer: str | None = None) -> str:  # noqa: S107
    return request_id_for(consumer or mesh.consumer, token)


def record(mesh: LocalMesh, rid: str) -> RequestRecord | None:
    return next((r for r in mesh.requests() if r.request_id == rid), None)


def consumer_requests(mesh: LocalMesh) -> dict[str, RequestState]:
    """State of every consumer request (not the producers' standing ownership records)."""
    return {r.request_id: r.state for r in mesh.requests() if r.kind == "consumer"}


def permissions(mesh: LocalMesh, catalog_account: str) -> list[dict[str, Any]]:
    """Every Lake Formation grant in ``catalog_account`` (ListPermissions, all pages)."""
    lf = mesh.client(catalog_account, "lakeformation")
    found: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {}
    while True:
        page = lf.list_permissions(**kwargs)
        found.extend(page.get("PrincipalResourcePermissions", []))
        if not page.get("NextToken"):
            return found
        kwargs["NextToken"] = page["NextToken"]


Grants = dict[str, tuple[frozenset[str], frozenset[str]]]


def grants_to(mesh: LocalMesh, catalog_account: str, principal: str) -> Grants:
    """``{resource as canonical JSON: (permissions, permissions with grant option)}`` that
    ``catalog_account`` gives ``principal`` (an account id or a role ARN)."""
    result: Grants = {}
    for grant in permissions(mesh, catalog_account):
        if grant["Principal"]["DataLakePrincipalIdentifier"] != principal:
            continue
        perms = frozenset(grant.get("Permissions") or [])
        if not perms:
            continue
        key = json.dumps(grant["Resource"], sort_keys=True)
        result[key] = (perms, frozenset(grant.get("PermissionsWithGrantOption") or []))
    return result


def central_grants(mesh: LocalMesh, consumer: str | None = None) -> Grants:
    """What central grants the consumer account."""
    return grants_to(mesh, mesh.central, consumer or mesh.consumer)


def local_grants(mesh: LocalMesh, principal: str, account: str | None = None) -> Grants:
    """What the consumer account grants one of its principals."""
    return grants_to(mesh, account or mesh.consumer, principal)


def resource_key(resource: dict[str, Any]) -> str:
    return json.dumps(resource, sort_keys=True)


def database_key(catalog: str, name: str) -> str:
    return resource_key({"Database": {"CatalogId": catalog, "Name": name}})


def table_key(catalog: str, database: str, table: str) -> str:
    return resource_key({"Table": {"CatalogId": catalog, "DatabaseName": database, "Name": table}})


def links(mesh: LocalMesh, account: str | None = None) -> dict[str, dict[str, str]]:
    """``{database: TargetDatabase}`` of every database in the account (links have a target)."""
    glue = mesh.client(account or mesh.consumer, "glue")
    return {d["Name"]: d.get("TargetDatabase", {}) for d in glue.get_databases()["DatabaseList"]}


def invitations(mesh: LocalMesh, account: str | None = None) -> list[dict[str, Any]]:
    ram = mesh.client(account or mesh.consumer, "ram")
    return list(ram.get_resource_share_invitations()["resourceShareInvitations"])


def shares_with(mesh: LocalMesh, account: str | None = None) -> list[dict[str, Any]]:
    """RAM shares other accounts share with ``account`` that it can use (accepted)."""
    ram = mesh.client(account or mesh.consumer, "ram")
    return list(ram.get_resource_shares(resourceOwner="OTHER-ACCOUNTS")["resourceShares"])


def audit(
    mesh: LocalMesh,
    action: str | None = None,
    outcome: str | None = None,
    correlation: str | None = None,
) -> list[AuditEntry]:
    return [
        r.entry
        for r in mesh.audit_records()
        if (action is None or r.entry.action == action)
        and (outcome is None or r.entry.outcome == outcome)
        and (correlation is None or r.entry.correlation_id == correlation)
    ]


def transitions(mesh: LocalMesh, rid: str) -> list[tuple[str | None, str]]:
    """The audited transitions of one request, in order: ``(from, to)``."""
    return [
        (e.detail.get("from_state"), str(e.detail["to_state"]))
        for e in audit(mesh, "access:transition", correlation=rid)
    ]


class Inbox:
    """A rule and a queue on a member's ``meshgov`` bus: every ``meshgov.access`` event central
    puts there, as the member receives it."""

    def __init__(self, mesh: LocalMesh, account: str) -> None:
        self._sqs = mesh.client(account, "sqs")
        events = mesh.client(account, "events")
        self._url = self._sqs.create_queue(QueueName="test-inbox")["QueueUrl"]
        arn = self._sqs.get_queue_attributes(QueueUrl=self._url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        events.put_rule(
            Name="test-inbox",
            EventBusName="meshgov",
            EventPattern=json.dumps({"source": [ACCESS_SOURCE]}),
            State="ENABLED",
        )
        events.put_targets(
            Rule="test-inbox", EventBusName="meshgov", Targets=[{"Id": "inbox", "Arn": arn}]
        )
        self._seen: list[dict[str, Any]] = []

    def events(self, detail_type: str | None = None) -> list[dict[str, Any]]:
        """Every event received so far (optionally of one detail-type), oldest first."""
        while True:
            batch = self._sqs.receive_message(QueueUrl=self._url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not batch:
                break
            for message in batch:
                self._seen.append(json.loads(message["Body"]))
                self._sqs.delete_message(QueueUrl=self._url, ReceiptHandle=message["ReceiptHandle"])
        return [e for e in self._seen if detail_type is None or e["detail-type"] == detail_type]

    def details(self, detail_type: str) -> list[dict[str, Any]]:
        return [e["detail"] for e in self.events(detail_type)]


# --- meshes with more accounts -------------------------------------------------------------------


def two_producer_config() -> MeshConfig:
    return MeshConfig(
        members=(
            MemberAccount(SALES, "producer", MemberKind.PRODUCER, domain="sales"),
            MemberAccount(HR, "producer2", MemberKind.PRODUCER, domain="hr"),
            MemberAccount(CONSUMER, "consumer", MemberKind.CONSUMER),
        )
    )


@contextmanager
def fresh_mesh(config: MeshConfig | None = None) -> Iterator[LocalMesh]:
    """A mesh of its own (moto reset before and after), for tests that need another layout or
    two meshes one after the other."""
    controls.reset()
    try:
        with mock_aws():
            yield MESHES.mesh(config)
    finally:
        controls.reset()


# --- RAM shares made outside meshgov -------------------------------------------------------------

OUTSIDER = "999999999999"  # an account in no mesh


def share_subnet(mesh: LocalMesh, owner: str, receiver: str, *extra_arns: str) -> str:
    """``owner`` creates a subnet and shares it (and ``extra_arns``) with ``receiver`` through
    RAM, as a network team would; the subnet's ARN."""
    ensure_admin_role(owner)
    ec2 = mesh.client(owner, "ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    arn = f"arn:aws:ec2:{mesh.config.region}:{owner}:subnet/{subnet}"
    mesh.client(owner, "ram").create_resource_share(
        name="network", resourceArns=[arn, *extra_arns], principals=[receiver]
    )
    return arn


def invitation_records(mesh: LocalMesh, account: str | None = None) -> list[tuple[str, str, str]]:
    """``(outcome, error code, target)`` of every invitation decision the member reported."""
    actor = f"member:{account or mesh.consumer}"
    return [
        (e.outcome.value, str(e.detail.get("error_code") or ""), e.target)
        for e in audit(mesh)
        if e.actor == actor and (e.action == "access:invitation" or "Invitation" in e.action)
    ]
