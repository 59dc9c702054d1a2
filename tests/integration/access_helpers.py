"""Acting as consumers and producers of the access flow in the local mesh."""

from __future__ import annotations

import json
from typing import Any

from meshgov.contracts.access_events import (
    ACCESS_DECIDED,
    ACCESS_REQUESTED,
    ACCESS_SOURCE,
)
from meshgov_local.mesh import LocalMesh
from tests.integration.helpers import columns, create_published_database, table_input

ANALYST = "analyst"


def analyst_arn(account: str, name: str = ANALYST) -> str:
    return f"arn:aws:iam::{account}:role/{name}"


def create_role(mesh: LocalMesh, account: str, name: str = ANALYST) -> str:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    mesh.client(account, "iam").create_role(
        RoleName=name, AssumeRolePolicyDocument=json.dumps(trust)
    )
    return analyst_arn(account, name)


def publish_sales(mesh: LocalMesh, tables: int = 2, classification: str = "internal") -> list[str]:
    """The producer publishes database ``orders`` with ``tables`` tables; central follows."""
    glue = mesh.client(mesh.producer, "glue")
    create_published_database(glue, "orders")
    names = []
    for index in range(tables):
        name = f"t{index}"
        glue.create_table(
            DatabaseName="orders",
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
    database: str = "sales_orders",
    principal: str | None = None,
    permissions: list[str] | None = None,
    duration_days: int = 30,
    consumer: str | None = None,
    sender: str | None = None,
    **extra: Any,
) -> str:
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
    if "tagExpression" not in extra:
        detail["resource"] = {"database": database, "tables": tables or []}
    return mesh.put_event(sender or consumer, ACCESS_SOURCE, ACCESS_REQUESTED, detail)


def decide(
    mesh: LocalMesh, request_id: str, decision: str = "APPROVE", sender: str | None = None
) -> None:
    mesh.put_event(
        sender or mesh.producer,
        ACCESS_SOURCE,
        ACCESS_DECIDED,
        {"requestId": request_id, "decision": decision, "reason": "ok for the dashboard"},
    )
