"""The same patches through a moto server in this process (ThreadedMotoServer), as `make demo`."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from localmesh_support import (
    CENTRAL,
    CONSUMER,
    PRODUCER,
    REGION,
    capture_events,
    received,
    table_input,
)

from meshgov_local.accounts import AccountSessions


def _error_code(call: Any) -> str:
    with pytest.raises(ClientError) as error:
        call()
    return str(error.value.response["Error"]["Code"])


def test_patches_work_through_the_moto_server(served_mesh: AccountSessions) -> None:
    mesh = served_mesh
    # Given central's bus allowing the producer, which forwards its Glue events there
    central_events = mesh.client(CENTRAL, "events")
    central_events.create_event_bus(Name="meshgov")
    central_events.put_permission(
        EventBusName="meshgov", Action="events:PutEvents", Principal=PRODUCER, StatementId="p"
    )
    mesh.client(PRODUCER, "events").put_rule(
        Name="forward", EventPattern=json.dumps({"source": ["aws.glue"]})
    )
    mesh.client(PRODUCER, "events").put_targets(
        Rule="forward",
        Targets=[{"Id": "central", "Arn": f"arn:aws:events:{REGION}:{CENTRAL}:event-bus/meshgov"}],
    )
    queue = capture_events(mesh, CENTRAL, {"source": ["aws.glue"]}, bus="meshgov")

    # When the producer creates a database and two tables through the server
    glue = mesh.client(PRODUCER, "glue")
    glue.create_database(DatabaseInput={"Name": "sales"})
    for name in ("orders", "customers"):
        glue.create_table(DatabaseName="sales", TableInput=table_input(name))

    # Then central received the three Glue events, from the producer's account
    events = received(mesh, CENTRAL, queue)
    assert [(e["account"], e["detail"]["typeOfChange"]) for e in events] == [
        (PRODUCER, "CreateDatabase"),
        (PRODUCER, "CreateTable"),
        (PRODUCER, "CreateTable"),
    ]
    # And GetTables pages
    first = glue.get_tables(DatabaseName="sales", MaxResults=1)
    assert [t["Name"] for t in first["TableList"]] == ["customers"] and first["NextToken"]
    # And central cannot read the producer's catalog by CatalogId
    central_glue = mesh.client(CENTRAL, "glue")
    denied = _error_code(lambda: central_glue.get_tables(CatalogId=PRODUCER, DatabaseName="sales"))
    assert denied == "AccessDeniedException"
    # And a role that does not exist cannot be assumed
    sts = mesh.client(CONSUMER, "sts")
    no_role = _error_code(
        lambda: sts.assume_role(RoleArn=f"arn:aws:iam::{PRODUCER}:role/ghost", RoleSessionName="x1")
    )
    assert no_role == "AccessDenied"
    # And Lake Formation's tag search answers
    lf = mesh.client(PRODUCER, "lakeformation")
    lf.create_lf_tag(TagKey="Domain", TagValues=["Sales"])
    lf.add_lf_tags_to_resource(
        Resource={"Database": {"CatalogId": PRODUCER, "Name": "sales"}},
        LFTags=[{"TagKey": "domain", "TagValues": ["sales"]}],
    )
    found = lf.search_tables_by_lf_tags(Expression=[{"TagKey": "domain", "TagValues": ["sales"]}])
    assert [t["Table"]["Name"] for t in found["TableList"]] == ["customers", "orders"]
