"""``proof.policy_mismatches``: least privilege, measured (issue 6).

One local mesh plays a short scenario that takes every function through the code paths that need
its granted actions (catalog sync and sweep with partitions, LF-Tags, a breaking change, a
rejected event, unpublishing; an access request approved, granted, linked, revoked; one by LF-Tag
expression; an expiry with its warning; a share never accepted and shared again; producer
ownership; an untrusted invitation; the member's schedule; an audit digest). The AWS actions each
function's code calls are recorded (:mod:`meshgov_local.actions`) and compared with what
template.yaml grants its role (:mod:`meshgov_local.privilege`). The figure is the number of
findings: called but not granted, granted but never called, wildcard actions, Resource "*" where
the service supports resource-level permissions. Target 0.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from moto import mock_aws

from meshgov.contracts.access_events import (
    ACCESS_DECIDED,
    ACCESS_REQUESTED,
    ACCESS_REVIEWED,
    ACCESS_REVOKE_REQUESTED,
    ACCESS_SOURCE,
)
from meshgov_local import actions, privilege
from meshgov_local.emulator import controls, ensure_admin_role
from meshgov_local.mesh import LocalMesh

Progress = Callable[[str], None]

# proof.<metric> -> (comparison, bound)
TARGETS: dict[str, tuple[str, float]] = {"policy_mismatches": ("<=", 0)}

NOTES = [
    "policy_mismatches: findings of meshgov_local.privilege over one scenario played with the "
    "real handlers in a local mesh (bench/privilege.py: scenario): every botocore call a "
    "function's code sends is recorded as the IAM action(s) AWS authorizes it as (DynamoDB "
    "transactions per item), attributed to the role whose credentials signed it (the execution "
    "role, or the member reader role it assumed), and compared with the Allow statements "
    "template.yaml gives that role (inline, customer managed, KMS key policy). Findings: called "
    "but not granted, granted but never called (less what the Lambda service uses on the "
    "function's behalf: SQS event source, OnFailure destination, X-Ray, logs; less the "
    "documented exceptions in privilege.UNEXERCISED), wildcard actions, Resource '*' where the "
    "service supports resource-level permissions. Per action, not per resource.",
]

DAY = 86_400
OUTSIDER = "999999999999"
# The approval policy's reviews and unused-grant rule, on (issue 14): long enough that steps 1-9
# (a day and a half) start none of them; step 10 lets the weeks pass.
REVIEW_POLICY = {
    "ReviewEveryDays": "30",
    "ReviewDeadlineDays": "7",
    "UnansweredReviewAction": "keep",
    "RevokeUnusedDays": "20",
    "UnusedWarningDays": "5",
    # Sweep workers write 2 tables an invocation here: the sweeps of the scenario continue
    # their work in further items (meshgov.catalog.fanout), as a large producer's would.
    "SweepPageTables": "2",
}
LOCATION = "s3://producer-data"


def _table(name: str, columns: list[str], keys: list[str] | None = None, **params: str) -> Any:
    return {
        "Name": name,
        "TableType": "EXTERNAL_TABLE",
        "StorageDescriptor": {
            "Columns": [{"Name": c.split(":")[0], "Type": c.split(":")[1]} for c in columns],
            "Location": f"{LOCATION}/{name}/",
        },
        "PartitionKeys": [{"Name": k, "Type": "string"} for k in keys or []],
        "Parameters": {"classification": "parquet", **params},
    }


def _partition(table: str, value: str) -> dict[str, Any]:
    return {
        "Values": [value],
        "StorageDescriptor": {"Columns": [], "Location": f"{LOCATION}/{table}/dt={value}/"},
    }


def _request(mesh: LocalMesh, token: str, **resource: Any) -> str:
    detail: dict[str, Any] = {
        "clientToken": token,
        "consumerAccount": mesh.consumer,
        "principal": f"arn:aws:iam::{mesh.consumer}:role/analyst",
        "permissions": ["SELECT"],
        "justification": "least-privilege scenario",
        "durationDays": resource.pop("days", 30),
        **resource,
    }
    mesh.put_event(mesh.consumer, ACCESS_SOURCE, ACCESS_REQUESTED, detail)
    mesh.settle()
    return _request_id(mesh, token)


def _filtered(database: str, table: str) -> dict[str, Any]:
    """A named request for ``table`` through a filter (every row with id > 0)."""
    return {
        "database": database,
        "tables": [table],
        "filters": [{"table": table, "rowFilter": "id > 0"}],
    }


def _stale_filter(mesh: LocalMesh, request_id: str, database: str, table: str) -> None:
    """The request's data cells filter as a failed earlier attempt could have left it."""
    from meshgov.access.filters import filter_name

    mesh.client(mesh.central, "lakeformation").create_data_cells_filter(
        TableData={
            "TableCatalogId": mesh.central,
            "DatabaseName": database,
            "TableName": table,
            "Name": filter_name(request_id, table),
            "RowFilter": {"AllRowsWildcard": {}},
            "ColumnWildcard": {"ExcludedColumnNames": []},
        }
    )


def _request_id(mesh: LocalMesh, token: str) -> str:
    from meshgov.access.store import request_id_for

    return request_id_for(mesh.consumer, token)


def _decide(mesh: LocalMesh, request_id: str) -> None:
    detail = {"requestId": request_id, "decision": "APPROVE", "reason": "ok"}
    mesh.put_event(mesh.producer, ACCESS_SOURCE, ACCESS_DECIDED, detail)
    mesh.settle()


def _sync_requested(mesh: LocalMesh, database: str) -> None:
    detail = {"databaseName": database, "tableNames": []}
    mesh.put_event(mesh.producer, "meshgov.catalog", "Catalog Sync Requested", detail)
    mesh.settle()


def _member_rules(mesh: LocalMesh, enabled: bool) -> None:
    """Switch the consumer's member access function's event rules off (or on again)."""
    events = mesh.client(mesh.consumer, "events")
    for name, bus in (
        ("meshgov-member-ram-events-rule", "default"),
        ("meshgov-member-access-events-rule", "meshgov"),
    ):
        switch = events.enable_rule if enabled else events.disable_rule
        switch(Name=name, EventBusName=bus)


def _publish(mesh: LocalMesh, database: str, tag: str) -> None:
    """A published database with a partitioned table, a public one and one to drop; LF-Tags on
    the database and a column."""
    glue = mesh.client(mesh.producer, "glue")
    lf = mesh.client(mesh.producer, "lakeformation")
    glue.create_database(
        DatabaseInput={"Name": database, "Parameters": {"meshgov:publish": "true"}}
    )
    sales = _table("sales", ["id:int", "amount:double", "note:string"], ["dt"])
    glue.create_table(DatabaseName=database, TableInput=sales)
    public = {"meshgov:classification": "public"}
    glue.create_table(
        DatabaseName=database, TableInput=_table("regions", ["id:int", "name:string"], **public)
    )
    glue.create_table(DatabaseName=database, TableInput=_table("scratch", ["id:int"]))
    glue.batch_create_partition(
        DatabaseName=database,
        TableName="sales",
        PartitionInputList=[_partition("sales", d) for d in ("2024-01-01", "2024-01-02")],
    )
    lf.create_lf_tag(TagKey=tag, TagValues=["sales"])
    lf.add_lf_tags_to_resource(
        Resource={"Database": {"Name": database}},
        LFTags=[{"TagKey": tag, "TagValues": ["sales"]}],
    )
    _column_tag(mesh, database, tag, "sales", add=True)
    lf.add_lf_tags_to_resource(
        Resource={"Table": {"DatabaseName": database, "Name": "sales"}},
        LFTags=[{"TagKey": tag, "TagValues": ["sales"]}],
    )
    glue.update_table(DatabaseName=database, TableInput=sales)  # the tags travel with an event


def _column_tag(
    mesh: LocalMesh, database: str, tag: str, value: str, add: bool, column: str = "note"
) -> None:
    lf = mesh.client(mesh.producer, "lakeformation")
    change = lf.add_lf_tags_to_resource if add else lf.remove_lf_tags_from_resource
    columns = {"DatabaseName": database, "Name": "sales", "ColumnNames": [column]}
    change(Resource={"TableWithColumns": columns}, LFTags=[{"TagKey": tag, "TagValues": [value]}])


def _change(mesh: LocalMesh, database: str, tag: str) -> None:
    """A new tag value moved onto the column, a breaking change, a partition changed and one
    dropped, a table dropped, the database's description changed."""
    glue = mesh.client(mesh.producer, "glue")
    lf = mesh.client(mesh.producer, "lakeformation")
    lf.update_lf_tag(TagKey=tag, TagValuesToAdd=["finance"])
    _column_tag(mesh, database, tag, "sales", add=False)
    _column_tag(mesh, database, tag, "finance", add=True, column="amount")
    lf.remove_lf_tags_from_resource(
        Resource={"Table": {"DatabaseName": database, "Name": "sales"}},
        LFTags=[{"TagKey": tag, "TagValues": ["sales"]}],
    )
    glue.update_table(
        DatabaseName=database,
        TableInput=_table("sales", ["id:bigint", "amount:double", "note:string"], ["dt"]),
    )
    glue.update_partition(
        DatabaseName=database,
        TableName="sales",
        PartitionValueList=["2024-01-01"],
        PartitionInput={**_partition("sales", "2024-01-01"), "Parameters": {"rows": "10"}},
    )
    glue.batch_delete_partition(
        DatabaseName=database, TableName="sales", PartitionsToDelete=[{"Values": ["2024-01-02"]}]
    )
    glue.delete_table(DatabaseName=database, Name="scratch")
    glue.update_database(
        Name=database,
        DatabaseInput={
            "Name": database,
            "Description": "changed",
            "Parameters": {"meshgov:publish": "true"},
        },
    )


def _lose_ledger(mesh: LocalMesh) -> None:
    """The sync ledger is derived state: empty it, as a stack replacing it would."""
    ddb = mesh.client(mesh.central, "dynamodb")
    table = mesh.deployment.ledger_table_name
    for item in ddb.scan(TableName=table).get("Items", []):
        ddb.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})


def scenario(mesh: LocalMesh) -> None:
    """Every function, through the paths that need each action its role is granted."""
    producer, consumer, central = mesh.producer, mesh.consumer, mesh.central
    glue = mesh.client(producer, "glue")
    mesh.create_role(consumer, "analyst")
    # 1. Catalog changes delivered as events (CatalogSyncFunction); a sync request for the
    #    database (UpdateDatabase emits no Glue event); then with the ledger lost.
    _publish(mesh, "orders", "domain")
    mesh.settle()
    _change(mesh, "orders", "domain")
    mesh.settle()
    _sync_requested(mesh, "orders")
    _lose_ledger(mesh)
    _sync_requested(mesh, "orders")
    # 2. The same changes with every Glue event lost: the sweep does the work (also after the
    #    ledger is lost).
    _publish(mesh, "stock", "unit")
    mesh.settle()
    controls.set_event_drop_rate(1.0)
    _change(mesh, "stock", "unit")
    _publish(mesh, "extra", "kind")
    controls.set_event_drop_rate(0.0)
    mesh.sweep()
    _lose_ledger(mesh)
    mesh.sweep()
    mesh.settle()
    # 3. Access: named tables (the producer approves), an LF-Tag expression, a public table
    #    (approved by policy); a breaking change on a shared table tells the consumer.
    named = _request(mesh, "named", resource={"database": "sales_orders", "tables": ["sales"]})
    _decide(mesh, named)
    tag = {"conditions": [{"key": "domain", "values": ["sales"]}]}
    tagged = _request(mesh, "tagged", tagExpression=tag)
    _decide(mesh, tagged)
    _request(mesh, "public", resource={"database": "sales_orders", "tables": ["regions"]}, days=1)
    # ... a filtered request whose data cells filter an earlier attempt left behind (updated to
    # the request's definition), revoked by the consumer (the filter deleted).
    cells = _request(mesh, "cells", resource=_filtered("sales_orders", "sales"))
    _stale_filter(mesh, cells, "sales_orders", "sales")
    _decide(mesh, cells)
    glue.update_table(DatabaseName="orders", TableInput=_table("sales", ["id:bigint"], ["dt"]))
    mesh.settle()
    # 4. Events that can never succeed: each function parks them in its DLQ itself.
    sqs = mesh.client(central, "sqs")
    for queue in ("CatalogEventsQueue", "AccessEventsQueue"):
        sqs.send_message(QueueUrl=mesh.deployment.queue_urls[queue], MessageBody="not json")
    member = mesh.deployment.member_functions[consumer]["MemberAccessFunction"]
    mesh.client(consumer, "sqs").send_message(
        QueueUrl=str(member.source_queue_url), MessageBody="not json"
    )
    mesh.settle()
    # 5. The consumer revokes one request; an outsider's invitation is rejected (by its event,
    #    then by the member's schedule).
    for done in (tagged, cells):
        detail = {"requestId": done, "reason": "done"}
        mesh.put_event(consumer, ACCESS_SOURCE, ACCESS_REVOKE_REQUESTED, detail)
    mesh.settle()
    ensure_admin_role(OUTSIDER)
    mesh.client(OUTSIDER, "glue").create_database(DatabaseInput={"Name": "bait"})
    mesh.client(OUTSIDER, "lakeformation").grant_permissions(
        Principal={"DataLakePrincipalIdentifier": consumer},
        Resource={"Database": {"Name": "bait"}},
        Permissions=["DESCRIBE"],
        PermissionsWithGrantOption=["DESCRIBE"],
    )
    mesh.settle()
    mesh.invitation_sweep(consumer)
    # 6. A share the consumer never accepts is shared again by the access sweep.
    _member_rules(mesh, enabled=False)
    away = _request(mesh, "away", resource={"database": "sales_stock", "tables": ["sales"]})
    # ... and a filtered one on the same database, withdrawn by the sweep when it is unpublished.
    _decide(mesh, _request(mesh, "stock-cells", resource=_filtered("sales_stock", "sales")))
    _decide(mesh, away)
    controls.advance_time(0.5 * DAY)  # the public request's expiry warning, too
    _member_rules(mesh, enabled=True)
    mesh.access_sweep()
    # 7. Time passes: the public request expires.
    controls.advance_time(1 * DAY)
    mesh.access_sweep()
    # 8. Unpublishing: a table dropped, a database deleted (events); a database unpublished
    #    (no event: the sweeps).
    glue.delete_table(DatabaseName="orders", Name="regions")
    mesh.settle()
    glue.delete_database(Name="stock")
    mesh.settle()
    glue.update_database(Name="orders", DatabaseInput={"Name": "orders", "Parameters": {}})
    # ... and the last published database too: the sweep deregisters the producer's data bucket.
    glue.update_database(Name="extra", DatabaseInput={"Name": "extra", "Parameters": {}})
    mesh.sweep()
    mesh.access_sweep()
    # 9. The audit digest, twice (the second chains from the first).
    mesh.write_digest()
    mesh.write_digest()
    # 10. Reviews and unused grants: the sweep reads the usage of the principals whose grants
    #     may be unused (the usage table's by-principal index), warns, then revokes; a review is
    #     asked, one answered by the producer (Access Reviewed), one unanswered kept and
    #     escalated on central's bus.
    _reviews(mesh)
    # 11. Data-access usage (UsageFunction): the consumer's Lake Formation GetDataAccess records,
    #     forwarded by its member rule, checked against the central catalog and counted; one
    #     delivered twice (the conditional write fails, the duplicate is dropped); one naming a
    #     table central does not hold, refused and audited.
    _usage(mesh)
    # 12. Lineage (LineageFunction): a producer job's OpenLineage run event, forwarded by the
    #     member rule and kept as edges (BatchWriteItem); one naming a central table as its
    #     output, refused and audited.
    _lineage(mesh)
    # 13. A data contract (issue 15): a newly published table names its ODCS contract
    #     (meshgov:contract), read through the producer's reader role (ReadContracts:
    #     s3:GetObject under the contracts prefix, ExpectedBucketOwner = the producer).
    _contract(mesh)
    # 14. The registry (issue 16): the platform team registers a producer and a consumer
    #     (a member and its domain guard in one transaction), removes the consumer at once and
    #     the producer with no grace period; the catalog sweep retires the producer.
    _registry(mesh)


def _registry(mesh: LocalMesh) -> None:
    from meshgov.contracts.registry_events import MEMBER_ADD_REQUESTED, MEMBER_REMOVE_REQUESTED

    producer, consumer = "444444444444", "555555555555"
    for detail in (
        {"account": producer, "kind": "producer", "domain": "hr"},
        {"account": consumer, "kind": "consumer"},
    ):
        mesh.request_registry_change(MEMBER_ADD_REQUESTED, detail)
    mesh.settle()
    for account in (consumer, producer):
        mesh.request_registry_change(MEMBER_REMOVE_REQUESTED, {"account": account, "graceDays": 0})
    mesh.settle()
    mesh.sweep()


def _contract(mesh: LocalMesh) -> None:
    bucket = LOCATION.removeprefix("s3://")
    key = "meshgov-contracts/contracted-t0-1.0.0.json"
    document = {
        "apiVersion": "v3.0.2",
        "kind": "DataContract",
        "id": "urn:sales:contracted:t0",
        "version": "1.0.0",
        "status": "active",
        "schema": [
            {
                "name": "t0",
                "physicalType": "table",
                "properties": [{"name": "id", "physicalType": "int", "required": True}],
            }
        ],
    }
    mesh.client(mesh.producer, "s3").put_object(
        Bucket=bucket, Key=key, Body=json.dumps(document).encode()
    )
    glue = mesh.client(mesh.producer, "glue")
    glue.create_database(
        DatabaseInput={"Name": "contracted", "Parameters": {"meshgov:publish": "true"}}
    )
    glue.create_table(
        DatabaseName="contracted",
        TableInput=_table("t0", ["id:int"], **{"meshgov:contract": f"{LOCATION}/{key}"}),
    )
    mesh.settle()


def _lineage(mesh: LocalMesh) -> None:
    import uuid

    from meshgov.lineage.events import DETAIL_TYPE, SOURCE

    namespace = f"arn:aws:glue:{mesh.config.region}"
    for account in (mesh.producer, mesh.central):
        mesh.put_event(
            mesh.producer,
            SOURCE,
            DETAIL_TYPE,
            {
                "eventType": "COMPLETE",
                "eventTime": "2026-12-05T10:00:00Z",
                "producer": "https://example.com/etl",
                "run": {"runId": str(uuid.uuid4())},
                "job": {"namespace": "etl", "name": "load_visits"},
                "inputs": [{"namespace": "s3://raw", "name": "visits"}],
                "outputs": [{"namespace": f"{namespace}:{account}", "name": "table/usage/visits"}],
            },
        )
    mesh.settle()


def _usage(mesh: LocalMesh) -> None:
    from bench.usage import access_record, put_as_cloudtrail

    glue = mesh.client(mesh.producer, "glue")
    glue.create_database(DatabaseInput={"Name": "usage", "Parameters": {"meshgov:publish": "true"}})
    glue.create_table(DatabaseName="usage", TableInput=_table("visits", ["id:int"]))
    mesh.settle()
    principal = f"arn:aws:iam::{mesh.consumer}:role/analyst"
    link = f"arn:aws:glue:{mesh.config.region}:{mesh.consumer}:table/sales_usage"
    counted = access_record(mesh.consumer, principal, f"{link}/visits", controls.now())
    unknown = access_record(mesh.consumer, principal, f"{link}/nothing", controls.now())
    put_as_cloudtrail(mesh.consumer, mesh.config.region, [counted, unknown])
    mesh.settle()
    put_as_cloudtrail(mesh.consumer, mesh.config.region, [counted])
    mesh.settle()


def _reviews(mesh: LocalMesh) -> None:
    """Step 10 (the emulated clock is about 1.5 days ahead): an idle grant warned about, then
    revoked; a used one reviewed twice, kept by its producer, then kept by the policy."""
    glue = mesh.client(mesh.producer, "glue")
    published = {"meshgov:publish": "true"}
    glue.create_database(DatabaseInput={"Name": "ledger", "Parameters": published})
    for name in ("entries", "accounts"):
        glue.create_table(DatabaseName="ledger", TableInput=_table(name, ["id:int"]))
    mesh.settle()
    mesh.create_role(mesh.consumer, "reporter")
    idle = _request(mesh, "idle", resource={"database": "sales_ledger", "tables": ["entries"]})
    _decide(mesh, idle)
    kept = _request(
        mesh,
        "kept",
        resource={"database": "sales_ledger", "tables": ["accounts"]},
        principal=f"arn:aws:iam::{mesh.consumer}:role/reporter",
        days=90,
    )
    _decide(mesh, kept)
    for days, sweep in ((20, False), (1, True), (6, True), (2.5, True)):
        controls.advance_time(days * DAY)
        _read_by_reporter(mesh)
        if sweep:  # idle warned, then revoked; then kept under review
            mesh.access_sweep()
    detail = {"requestId": kept, "decision": "KEEP", "reason": "still needed"}
    mesh.put_event(mesh.producer, ACCESS_SOURCE, ACCESS_REVIEWED, detail)
    mesh.settle()
    for days in (15, 16, 8):  # reviewed again (its last use read); unanswered: escalated
        controls.advance_time(days * DAY)
        _read_by_reporter(mesh)
        mesh.access_sweep()


def _read_by_reporter(mesh: LocalMesh) -> None:
    """The reporter reads sales_ledger.accounts now, as the usage function records it (setup:
    the usage path itself is exercised by the usage function's own steps)."""
    from meshgov.usage.model import UsageEvent

    principal = f"arn:aws:iam::{mesh.consumer}:role/reporter"
    at = controls.now()
    event = UsageEvent(
        f"read-{at.isoformat()}", "sales_ledger.accounts", principal, mesh.consumer, at, ""
    )
    mesh.usage_store().record([event])


def record(progress: Progress | None = None) -> tuple[actions.ActionRecorder, LocalMesh]:
    controls.reset()
    recorder = actions.ActionRecorder()
    try:
        with mock_aws(), actions.active(recorder):
            mesh = LocalMesh(parameter_overrides=REVIEW_POLICY)
            scenario(mesh)
    finally:
        controls.reset()
    if progress:
        progress(f"privilege: {sum(recorder.uses.values())} calls recorded")
    return recorder, mesh


def measure(progress: Progress | None = None) -> dict[str, Any]:
    recorder, mesh = record(progress)
    reports = privilege.compare(
        mesh.template,
        recorder.actions(),
        {"ReaderRoleName": mesh.config.reader_role_name},
        region=mesh.config.region,
    )
    findings = privilege.mismatches(reports)
    return {
        "policy_mismatches": len(findings),
        "findings": [str(f) for f in findings],
        "roles": {role: report.as_json() for role, report in reports.items()},
    }


def compare_recording(path: Path) -> dict[str, Any]:
    """The same comparison over what a whole test run recorded (``MESHGOV_RECORD_ACTIONS``)."""
    from meshgov_local.config import MeshConfig
    from meshgov_local.template import Template

    config = MeshConfig()
    reports = privilege.compare(
        Template.load(),
        actions.merge(path),
        {"ReaderRoleName": config.reader_role_name},
        region=config.region,
    )
    findings = privilege.mismatches(reports)
    return {"policy_mismatches": len(findings), "findings": [str(f) for f in findings]}


if __name__ == "__main__":
    # python -m bench.privilege            the scenario
    # python -m bench.privilege <path>     what MESHGOV_RECORD_ACTIONS=<path> pytest recorded
    if len(sys.argv) > 1:
        print(json.dumps(compare_recording(Path(sys.argv[1])), indent=1))
    else:
        print(json.dumps(measure(print), indent=1))
