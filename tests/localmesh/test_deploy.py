"""The local deployment of template.yaml: what exists where, routing, redrive, idempotency."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from botocore.exceptions import ClientError
from localmesh_support import CENTRAL, CONSUMER, PRODUCER, REGION

from meshgov_local.accounts import AccountSessions
from meshgov_local.config import MeshConfig
from meshgov_local.deploy import (
    Deployment,
    DeploymentConflictError,
    default_physical_name,
    deploy,
    local_bucket_policy,
)
from meshgov_local.emulator.eventbridge_limits import put_service_event
from meshgov_local.router import CONCURRENCY as ROUTER_CONCURRENCY
from meshgov_local.template import Template

MEMBERS = (PRODUCER, CONSUMER)


def rules_on(sessions: AccountSessions, account: str, bus: str) -> dict[str, dict[str, Any]]:
    """Rule name -> its pattern (parsed) and state, on one bus of one account."""
    rules = sessions.client(account, "events").list_rules(EventBusName=bus)["Rules"]
    return {
        r["Name"]: {"pattern": json.loads(r["EventPattern"]), "state": r["State"]} for r in rules
    }


def targets_of(sessions: AccountSessions, account: str, rule: str, bus: str) -> list[Any]:
    events = sessions.client(account, "events")
    return list(events.list_targets_by_rule(Rule=rule, EventBusName=bus)["Targets"])


def queue_attributes(sessions: AccountSessions, account: str, url: str) -> dict[str, str]:
    sqs = sessions.client(account, "sqs")
    return dict(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"])


def drain(sessions: AccountSessions, account: str, url: str) -> list[dict[str, Any]]:
    """The events waiting on a queue (bodies parsed), removed from it."""
    sqs = sessions.client(account, "sqs")
    bodies = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def put_event(sessions: AccountSessions, account: str, source: str, detail_type: str) -> None:
    """An event on ``account``'s default bus, as a meshgov client would put it."""
    response = sessions.client(account, "events").put_events(
        Entries=[{"Source": source, "DetailType": detail_type, "Detail": json.dumps({"n": 1})}]
    )
    assert response["FailedEntryCount"] == 0


def snapshot(sessions: AccountSessions, accounts: tuple[str, ...]) -> dict[str, Any]:
    """Everything deploy() manages, per account, as the APIs describe it (timestamps included)."""
    state: dict[str, Any] = {}
    for account in accounts:
        events = sessions.client(account, "events")
        sqs = sessions.client(account, "sqs")
        dynamodb = sessions.client(account, "dynamodb")
        iam = sessions.client(account, "iam")
        buses = events.list_event_buses()["EventBuses"]
        state[account] = {
            "buses": buses,
            "rules": {
                b["Name"]: {
                    name: (rule, targets_of(sessions, account, name, b["Name"]))
                    for name, rule in rules_on(sessions, account, b["Name"]).items()
                }
                for b in buses
            },
            "queues": {
                url: queue_attributes(sessions, account, url)
                for url in sqs.list_queues().get("QueueUrls", [])
            },
            "tables": {
                name: (
                    dynamodb.describe_table(TableName=name)["Table"],
                    dynamodb.describe_continuous_backups(TableName=name)[
                        "ContinuousBackupsDescription"
                    ],
                )
                for name in dynamodb.list_tables()["TableNames"]
            },
            "roles": {
                r["RoleName"]: (
                    r["AssumeRolePolicyDocument"],
                    iam.list_role_policies(RoleName=r["RoleName"])["PolicyNames"],
                    iam.list_attached_role_policies(RoleName=r["RoleName"])["AttachedPolicies"],
                )
                for r in iam.list_roles()["Roles"]
            },
            "policies": iam.list_policies(Scope="Local")["Policies"],
            "lake_formation": sessions.client(account, "lakeformation").get_data_lake_settings()[
                "DataLakeSettings"
            ],
        }
    return state


# --------------------------------------------------------------------------------------------
# What exists where
# --------------------------------------------------------------------------------------------


def test_default_physical_names_are_kebab_case_with_the_meshgov_prefix() -> None:
    # Given / When / Then logical ids become readable, stable names
    assert default_physical_name("CatalogEventsDLQ") == "meshgov-catalog-events-dlq"
    assert default_physical_name("SyncLedgerTable") == "meshgov-sync-ledger-table"
    assert default_physical_name("SweepDLQ") == "meshgov-sweep-dlq"


def test_central_holds_the_bus_rules_queues_and_tables(
    mesh: AccountSessions, deployed_mesh: Deployment
) -> None:
    # Given the deployed mesh
    central_events = mesh.client(CENTRAL, "events")

    # When central's resources are listed
    buses = {b["Name"] for b in central_events.list_event_buses()["EventBuses"]}
    rules = rules_on(mesh, CENTRAL, deployed_mesh.bus_name)
    queues = set(mesh.client(CENTRAL, "sqs").list_queues()["QueueUrls"])
    tables = set(mesh.client(CENTRAL, "dynamodb").list_tables()["TableNames"])

    # Then the bus, its rules (enabled), the queues and the three tables exist
    assert deployed_mesh.bus_arn == f"arn:aws:events:{REGION}:{CENTRAL}:event-bus/meshgov"
    assert {"default", "meshgov"} <= buses
    assert set(rules) == set(deployed_mesh.rule_names.values())
    # (the usage rule asks for read-only management events: forwarded GetDataAccess records)
    usage_rule = deployed_mesh.rule_names["UsageEventsRule"]
    assert rules[usage_rule]["state"] == "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"
    assert {r["state"] for name, r in rules.items() if name != usage_rule} == {"ENABLED"}
    assert set(deployed_mesh.queue_urls) == {
        "CatalogEventsQueue",
        "CatalogEventsDLQ",
        "SweepDLQ",
        "AccessEventsQueue",
        "AccessEventsDLQ",
        "UsageQueue",
        "UsageDLQ",
        "LineageQueue",
        "LineageDLQ",
        "SweepQueue",
        "SweepWorkDLQ",
    }
    assert queues == set(deployed_mesh.queue_urls.values())
    assert tables == {
        deployed_mesh.audit_table_name,
        deployed_mesh.ledger_table_name,
        deployed_mesh.requests_table_name,
        deployed_mesh.usage_table_name,
        default_physical_name("LineageTable"),
        default_physical_name("QualityResultsTable"),
        deployed_mesh.registry_table_name,
    }


def test_central_bus_policy_admits_exactly_the_member_accounts(
    mesh: AccountSessions, deployed_mesh: Deployment
) -> None:
    # Given / When the central bus's policy is read
    bus = mesh.client(CENTRAL, "events").describe_event_bus(Name=deployed_mesh.bus_name)
    (statement,) = json.loads(bus["Policy"])["Statement"]

    # Then the members may put events, nobody else
    assert statement["Principal"] == {"AWS": list(MEMBERS)}
    assert statement["Action"] == "events:PutEvents"
    assert statement["Resource"] == deployed_mesh.bus_arn


def test_central_function_roles_exist_and_are_lake_formation_admins(
    mesh: AccountSessions, deployed_mesh: Deployment
) -> None:
    # Given the roles the function bindings name (the audit digest function touches no catalog:
    # least privilege keeps it out of the Lake Formation admins, and so does the lineage
    # function, which only writes its own table; the usage function only reads the catalog: a
    # read-only admin)
    role_arns = {
        b.role_arn
        for b in deployed_mesh.functions.values()
        if b.logical_id not in ("AuditDigestFunction", "UsageFunction", "LineageFunction")
    }
    usage_role = deployed_mesh.functions["UsageFunction"].role_arn
    lineage_role = deployed_mesh.functions["LineageFunction"].role_arn
    iam = mesh.client(CENTRAL, "iam")

    # When the roles and the Lake Formation admins are read
    existing = {r["Arn"] for r in iam.list_roles()["Roles"]}
    settings = mesh.client(CENTRAL, "lakeformation").get_data_lake_settings()
    admins = {
        a["DataLakePrincipalIdentifier"] for a in settings["DataLakeSettings"]["DataLakeAdmins"]
    }
    attached = iam.list_attached_role_policies(RoleName=f"meshgov-central-catalog-writer-{REGION}")

    # Then both roles exist, carry the shared governance policy and administer Lake Formation
    assert role_arns <= existing
    assert role_arns <= admins
    assert usage_role not in admins
    assert lineage_role in existing and lineage_role not in admins
    assert [
        a["DataLakePrincipalIdentifier"] for a in settings["DataLakeSettings"]["ReadOnlyAdmins"]
    ] == [usage_role]
    assert [p["PolicyName"] for p in attached["AttachedPolicies"]] == [
        "meshgov-catalog-governance-policy"
    ]


@pytest.mark.parametrize("member", MEMBERS)
def test_each_member_forwards_to_the_central_bus_with_a_role_and_a_dlq(
    mesh: AccountSessions, deployed_mesh: Deployment, member: str
) -> None:
    # Given a member account of the deployed mesh
    forward_role = f"arn:aws:iam::{member}:role/meshgov-forward-to-central-role"
    dlq_arn = f"arn:aws:sqs:{REGION}:{member}:meshgov-forward-dlq"

    # When its default bus's rules and their targets are listed
    rules = rules_on(mesh, member, "default")
    targets = {name: targets_of(mesh, member, name, "default") for name in rules}

    # Then the forwarding rules exist, each targeting central's bus with a RoleArn (the one
    # other rule on the default bus queues the member's own RAM events)
    forwarding = set(deployed_mesh.member_forwarding_rules[member])
    # (a consumer-only account forwards no Glue catalog events: ForwardCatalogEvents=false)
    expected = {
        "meshgov-forward-meshgov-events-rule",
        "meshgov-forward-data-access-events-rule",
    } | (
        {"meshgov-forward-glue-catalog-events-rule", "meshgov-forward-quality-results-rule"}
        if member == PRODUCER
        else set()
    )
    assert forwarding == expected
    assert set(rules) == forwarding | {"meshgov-member-ram-events-rule"}
    for name in forwarding:
        (target,) = targets[name]
        assert target["Arn"] == deployed_mesh.bus_arn
        assert target["RoleArn"] == forward_role
        assert target["DeadLetterConfig"] == {"Arn": dlq_arn}
    role = mesh.client(member, "iam").get_role(RoleName="meshgov-forward-to-central-role")
    assert role["Role"]["Arn"] == forward_role


@pytest.mark.parametrize("member", MEMBERS)
def test_each_member_has_the_reader_role_and_its_own_meshgov_bus(
    mesh: AccountSessions, deployed_mesh: Deployment, member: str, mesh_config: MeshConfig
) -> None:
    # Given a member account of the deployed mesh
    iam, events = mesh.client(member, "iam"), mesh.client(member, "events")

    # When the reader role and the member bus are read
    role = iam.get_role(RoleName=f"meshgov-catalog-reader-{REGION}")["Role"]
    inline = iam.get_role_policy(RoleName=mesh_config.reader_role, PolicyName="catalog-read-only")
    bus = events.describe_event_bus(Name="meshgov")

    # Then central's function roles (only) may assume the reader role, which can only read
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"AWS": f"arn:aws:iam::{CENTRAL}:root"}
    assert trust["Condition"] == {
        "ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{CENTRAL}:role/meshgov-central-*"}
    }
    actions = [
        a
        for s in inline["PolicyDocument"]["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    ]
    assert all(a.split(":")[1].startswith(("Get", "BatchGet", "List", "Search")) for a in actions)
    # and central may put events on the member's own meshgov bus
    assert bus["Arn"] == deployed_mesh.member_bus_arns[member]
    (statement,) = json.loads(bus["Policy"])["Statement"]
    assert statement["Principal"] == {"AWS": f"arn:aws:iam::{CENTRAL}:root"}


# --------------------------------------------------------------------------------------------
# Patterns come from template.yaml
# --------------------------------------------------------------------------------------------


def test_central_rule_patterns_in_moto_equal_template_yaml(
    mesh: AccountSessions, deployed_mesh: Deployment, mesh_template: Template
) -> None:
    # Given the central rules declared in template.yaml
    declared = {
        lid: mesh_template.event_pattern(lid)
        for lid in mesh_template.resources_of_type("AWS::Events::Rule")
        if mesh_template.resource(lid).get("Condition") == "IsCentral"
    }

    # When the rules moto holds are read back
    in_moto = rules_on(mesh, CENTRAL, deployed_mesh.bus_name)

    # Then each declared pattern is exactly the deployed one (this fails on any drift)
    assert declared, "template.yaml declares no central rule"
    for logical_id, pattern in declared.items():
        assert in_moto[deployed_mesh.rule_names[logical_id]]["pattern"] == pattern
    assert deployed_mesh.event_patterns == declared


@pytest.mark.parametrize("member", MEMBERS)
def test_member_rule_patterns_in_moto_equal_template_yaml(
    mesh: AccountSessions, deployed_mesh: Deployment, mesh_template: Template, member: str
) -> None:
    # Given the member rules declared in template.yaml
    conditions = {"IsMember", "ForwardsCatalogEvents"} if member == PRODUCER else {"IsMember"}
    declared = {
        default_physical_name(lid): mesh_template.event_pattern(lid)
        for lid in mesh_template.resources_of_type("AWS::Events::Rule")
        if mesh_template.resource(lid).get("Condition") in conditions
    }

    # When / Then the member's rules in moto (default bus and its meshgov bus) carry exactly those
    in_moto = {**rules_on(mesh, member, "default"), **rules_on(mesh, member, "meshgov")}
    assert {name: rule["pattern"] for name, rule in in_moto.items()} == declared


def test_a_changed_pattern_in_the_template_is_what_gets_deployed(
    mesh: AccountSessions, mesh_config: MeshConfig, tmp_path: Path, mesh_template: Template
) -> None:
    # Given a copy of template.yaml whose sync-request rule matches another detail-type
    source = (mesh_template.base_dir / "template.yaml").read_text()
    changed = source.replace(
        "detail-type: [Catalog Sync Requested, Contract Published]", "detail-type: [Other]"
    )
    assert changed != source
    (tmp_path / "template.yaml").write_text(changed)
    template = Template.load(tmp_path / "template.yaml")

    # When it is deployed
    deployment = deploy(mesh_config, mesh, template)

    # Then moto routes with the changed pattern: nothing is copied from elsewhere
    rules = rules_on(mesh, CENTRAL, deployment.bus_name)
    rule = rules[deployment.rule_names["CatalogSyncRequestRule"]]
    assert rule["pattern"]["detail-type"] == ["Other"]
    assert yaml.safe_load(json.dumps(deployment.event_patterns["CatalogSyncRequestRule"])) == {
        "source": ["meshgov.catalog"],
        "detail-type": ["Other"],
    }


# --------------------------------------------------------------------------------------------
# Routing through the deployed rules
# --------------------------------------------------------------------------------------------


def test_glue_events_and_sync_requests_from_members_reach_the_central_queue(
    mesh: AccountSessions, deployed_mesh: Deployment
) -> None:
    # Given the deployed mesh and its central catalog events queue
    queue = deployed_mesh.queue_urls["CatalogEventsQueue"]

    # ... and a producer table whose creation events are already consumed
    glue = mesh.client(PRODUCER, "glue")
    glue.create_database(DatabaseInput={"Name": "sales"})
    glue.create_table(DatabaseName="sales", TableInput={"Name": "orders"})
    drain(mesh, CENTRAL, queue)

    # When the producer's Glue emits a table change (an UpdateTable), a consumer requests a sync,
    # and Glue emits an unrelated event (Glue's own events never come from a customer PutEvents,
    # which refuses aws.* sources)
    glue.update_table(DatabaseName="sales", TableInput={"Name": "orders", "Description": "d"})
    put_event(mesh, CONSUMER, "meshgov.catalog", "Catalog Sync Requested")
    job_event = {"Source": "aws.glue", "DetailType": "Glue Job State Change", "Detail": "{}"}
    assert "EventId" in put_service_event(PRODUCER, REGION, job_event)

    # Then exactly the two catalog events wait on the queue, each naming its origin account
    received = drain(mesh, CENTRAL, queue)
    assert sorted((e["account"], e["detail-type"]) for e in received) == [
        (PRODUCER, "Glue Data Catalog Table State Change"),
        (CONSUMER, "Catalog Sync Requested"),
    ]


def test_a_message_failing_five_times_moves_to_the_dlq(
    mesh: AccountSessions, deployed_mesh: Deployment
) -> None:
    # Given a message on the catalog events queue
    sqs = mesh.client(CENTRAL, "sqs")
    queue, dlq = (deployed_mesh.queue_urls[q] for q in ("CatalogEventsQueue", "CatalogEventsDLQ"))
    sqs.send_message(QueueUrl=queue, MessageBody="poison")

    # When it is received (and not deleted) five times, then received again
    for _ in range(5):
        assert sqs.receive_message(QueueUrl=queue, VisibilityTimeout=0).get("Messages")
    again = sqs.receive_message(QueueUrl=queue, VisibilityTimeout=0).get("Messages")

    # Then the sixth receive finds it in the DLQ, not in the queue
    assert not again
    moved = sqs.receive_message(QueueUrl=dlq).get("Messages", [])
    assert [m["Body"] for m in moved] == ["poison"]


# --------------------------------------------------------------------------------------------
# Settings from the template
# --------------------------------------------------------------------------------------------


def test_queue_redrive_and_visibility_match_the_template(
    mesh: AccountSessions, deployed_mesh: Deployment, mesh_template: Template
) -> None:
    for logical_id, url in deployed_mesh.queue_urls.items():
        # Given a central queue of the deployment
        # When its attributes are read
        attributes = queue_attributes(mesh, CENTRAL, url)

        # Then visibility timeout and redrive are the template's
        assert int(attributes["VisibilityTimeout"]) == mesh_template.queue_visibility_timeout(
            logical_id
        )
        assert attributes["SqsManagedSseEnabled"] == "true"
        redrive = mesh_template.queue_redrive(logical_id)
        if redrive is None:
            assert "RedrivePolicy" not in attributes
            continue
        dlq_id, max_receive = redrive
        dlq_arn = queue_attributes(mesh, CENTRAL, deployed_mesh.queue_urls[dlq_id])["QueueArn"]
        assert json.loads(attributes["RedrivePolicy"]) == {
            "deadLetterTargetArn": dlq_arn,
            "maxReceiveCount": max_receive,
        }


def test_tables_have_the_template_keys_indexes_and_pitr(
    mesh: AccountSessions, deployed_mesh: Deployment, mesh_template: Template
) -> None:
    dynamodb = mesh.client(CENTRAL, "dynamodb")
    for logical_id, name in (
        ("AuditTable", deployed_mesh.audit_table_name),
        ("SyncLedgerTable", deployed_mesh.ledger_table_name),
    ):
        # Given a table declared in the template
        declared = mesh_template.properties(logical_id)

        # When the deployed table is described
        table = dynamodb.describe_table(TableName=name)["Table"]
        backups = dynamodb.describe_continuous_backups(TableName=name)

        # Then keys, indexes, billing and point-in-time recovery are the template's
        assert table["KeySchema"] == declared["KeySchema"]
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        assert [
            (i["IndexName"], i["KeySchema"]) for i in table.get("GlobalSecondaryIndexes", [])
        ] == [(i["IndexName"], i["KeySchema"]) for i in declared.get("GlobalSecondaryIndexes", [])]
        pitr = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
        assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"


def test_the_usage_table_has_the_templates_indexes_pitr_and_ttl(
    mesh: AccountSessions, deployed_mesh: Deployment, mesh_template: Template
) -> None:
    # Given the usage table declared with a TTL attribute (issue 14, the retention window)
    declared = mesh_template.properties("UsageTable")
    dynamodb = mesh.client(CENTRAL, "dynamodb")

    # When the deployed table is described
    name = deployed_mesh.usage_table_name
    table = dynamodb.describe_table(TableName=name)["Table"]
    ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    backups = dynamodb.describe_continuous_backups(TableName=name)

    # Then keys, indexes (with their projections), PITR and TTL are the template's
    assert table["KeySchema"] == declared["KeySchema"]
    assert [
        (i["IndexName"], i["KeySchema"], i["Projection"]) for i in table["GlobalSecondaryIndexes"]
    ] == [
        (i["IndexName"], i["KeySchema"], i["Projection"])
        for i in declared["GlobalSecondaryIndexes"]
    ]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expires_at")
    pitr = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"


def test_every_function_has_a_binding_with_resolved_environment(
    deployed_mesh: Deployment, mesh_template: Template
) -> None:
    # Given the functions template.yaml declares
    declared = {f.logical_id for f in mesh_template.functions()}

    # When / Then each has a binding (central or in every member) whose environment names this
    # deployment's resources
    member_functions = {"MemberAccessFunction"}
    assert set(deployed_mesh.functions) == declared - member_functions
    for account in MEMBERS:
        (member,) = deployed_mesh.member_functions[account].values()
        assert member.logical_id in member_functions
        assert member.account_id == account
        assert member.environment["ACCOUNT_ID"] == account
        assert member.environment["CENTRAL_ACCOUNT_ID"] == CENTRAL
        assert (
            member.source_queue_url == deployed_mesh.member_queue_urls[account]["MemberEventsQueue"]
        )
    for logical_id in ("AccessRequestsFunction", "AccessSweepFunction"):
        access = deployed_mesh.functions[logical_id]
        assert access.environment["REQUESTS_TABLE_NAME"] == deployed_mesh.requests_table_name
        assert access.environment["AUDIT_TABLE_NAME"] == deployed_mesh.audit_table_name
    for binding in (
        deployed_mesh.functions["CatalogSyncFunction"],
        deployed_mesh.functions["CatalogSweepFunction"],
    ):
        assert binding.handler_file.is_file()
        assert binding.handler_file.parent == binding.code_path
        assert all(path.is_dir() for path in binding.layer_paths)
        assert binding.environment["AUDIT_TABLE_NAME"] == deployed_mesh.audit_table_name
        assert binding.environment["LEDGER_TABLE_NAME"] == deployed_mesh.ledger_table_name
        assert binding.environment["CENTRAL_BUS_NAME"] == deployed_mesh.bus_name
        assert binding.environment["REGISTRY_TABLE_NAME"] == deployed_mesh.registry_table_name
        assert binding.environment["READER_ROLE_NAME"] == "meshgov-catalog-reader"
        assert binding.environment["POWERTOOLS_LOG_LEVEL"] == "INFO"
    sync = deployed_mesh.functions["CatalogSyncFunction"]
    sweep = deployed_mesh.functions["CatalogSweepFunction"]
    assert sync.source_queue_url == deployed_mesh.queue_urls["CatalogEventsQueue"]
    assert sync.batch_size == 10
    assert (sweep.schedule, sweep.source_queue_url) == ("rate(15 minutes)", None)
    assert sweep.on_failure_queue_url == deployed_mesh.queue_urls["SweepDLQ"]
    assert sweep.maximum_retry_attempts == 2


def test_bindings_carry_the_concurrency_the_router_stays_within(deployed_mesh: Deployment) -> None:
    # Given / When the deployment's bindings are read
    bindings = deployed_mesh.all_functions()

    # Then every queue consumer carries its source's maximum concurrency (and the member's its
    # own, in every member), the digest function its reserved concurrency of 1
    consumers = {b.logical_id: b.maximum_concurrency for b in bindings if b.source_queue_url}
    assert None not in consumers.values(), consumers
    assert {
        "CatalogSyncFunction": 12,
        "AccessRequestsFunction": 8,
        "UsageFunction": 4,
        "LineageFunction": 4,
        "MemberAccessFunction": 2,
    }.items() <= consumers.items()
    assert {b.account_id for b in bindings if b.logical_id == "MemberAccessFunction"} == set(
        MEMBERS
    )
    assert deployed_mesh.functions["AuditDigestFunction"].reserved_concurrency == 1
    # And the router, which runs one invocation at a time, never runs more than either allows
    for binding in bindings:
        for limit in (binding.maximum_concurrency, binding.reserved_concurrency):
            assert limit is None or limit >= ROUTER_CONCURRENCY, binding.logical_id


# --------------------------------------------------------------------------------------------
# Idempotency and drift
# --------------------------------------------------------------------------------------------


def test_deploying_twice_changes_nothing(
    mesh: AccountSessions,
    deployed_mesh: Deployment,
    mesh_config: MeshConfig,
    mesh_template: Template,
) -> None:
    # Given a deployed mesh and a snapshot of everything it manages
    before = snapshot(mesh, mesh_config.all_accounts)

    # When it is deployed again
    again = deploy(mesh_config, mesh, mesh_template)

    # Then no error, the same deployment, and no resource changed (not even a timestamp)
    assert again == deployed_mesh
    assert snapshot(mesh, mesh_config.all_accounts) == before


def test_redeploying_restores_a_drifted_queue_setting(
    mesh: AccountSessions,
    deployed_mesh: Deployment,
    mesh_config: MeshConfig,
    mesh_template: Template,
) -> None:
    # Given someone changed the catalog events queue's visibility timeout
    url = deployed_mesh.queue_urls["CatalogEventsQueue"]
    mesh.client(CENTRAL, "sqs").set_queue_attributes(
        QueueUrl=url, Attributes={"VisibilityTimeout": "5"}
    )

    # When the mesh is deployed again
    deploy(mesh_config, mesh, mesh_template)

    # Then the template's value is back
    attributes = queue_attributes(mesh, CENTRAL, url)
    assert int(attributes["VisibilityTimeout"]) == mesh_template.queue_visibility_timeout(
        "CatalogEventsQueue"
    )


def test_an_existing_table_with_other_keys_is_a_conflict(
    mesh: AccountSessions, mesh_config: MeshConfig, mesh_template: Template
) -> None:
    # Given the audit table's name is taken by a table with another key schema
    mesh.client(CENTRAL, "dynamodb").create_table(
        TableName=default_physical_name("AuditTable"),
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )

    # When / Then deploying refuses to pretend the table is right
    with pytest.raises(DeploymentConflictError, match="AuditTable"):
        deploy(mesh_config, mesh, mesh_template)


# --------------------------------------------------------------------------------------------
# Audit digests: the KMS signing key, the Object Lock bucket and its policy
# --------------------------------------------------------------------------------------------


def test_the_digest_key_is_an_ecc_signing_key_with_the_templates_policy(
    mesh: AccountSessions, deployed_mesh: Deployment
) -> None:
    # Given the deployed digest key
    kms = mesh.client(CENTRAL, "kms")
    key = kms.describe_key(KeyId=deployed_mesh.digest_key_id)["KeyMetadata"]
    policy = json.loads(kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"])

    # Then it signs with P-256, is found by its alias, and only the digest role may sign
    assert (key["KeySpec"], key["KeyUsage"]) == ("ECC_NIST_P256", "SIGN_VERIFY")
    alias = kms.describe_key(KeyId="alias/meshgov-audit-digest-key")["KeyMetadata"]
    assert alias["KeyId"] == deployed_mesh.digest_key_id
    signers = [s for s in policy["Statement"] if "kms:Sign" in s["Action"]]
    assert [s["Principal"] for s in signers] == [
        {"AWS": f"arn:aws:iam::{CENTRAL}:role/meshgov-central-audit-digest-{REGION}"}
    ]
    assert not any(s["Action"] == "kms:*" for s in policy["Statement"])


def test_the_digest_bucket_locks_in_compliance_mode_versioned_private_encrypted(
    mesh: AccountSessions, deployed_mesh: Deployment
) -> None:
    # Given the deployed digest bucket (named per account: S3 names are global)
    s3 = mesh.client(CENTRAL, "s3")
    name = deployed_mesh.digest_bucket_name
    assert name == f"meshgov-audit-digest-bucket-{CENTRAL}"

    # When its settings are read
    lock = s3.get_object_lock_configuration(Bucket=name)["ObjectLockConfiguration"]
    block = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
    sse = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]

    # Then Object Lock holds every new object 365 days in compliance mode, versioning is on,
    # all public access is blocked and objects are encrypted
    assert lock["ObjectLockEnabled"] == "Enabled"
    assert lock["Rule"]["DefaultRetention"]["Mode"] == "COMPLIANCE"
    assert lock["Rule"]["DefaultRetention"]["Days"] == 365
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
    assert all(block.values()) and len(block) == 4
    assert sse["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


def test_the_digest_function_binding_names_the_bucket_key_and_table(
    deployed_mesh: Deployment,
) -> None:
    binding = deployed_mesh.functions["AuditDigestFunction"]
    assert binding.environment["AUDIT_DIGEST_BUCKET"] == deployed_mesh.digest_bucket_name
    assert binding.environment["AUDIT_DIGEST_KEY_ID"] == deployed_mesh.digest_key_id
    assert binding.environment["AUDIT_TABLE_NAME"] == deployed_mesh.audit_table_name
    assert (binding.schedule, binding.maximum_retry_attempts) == ("rate(1 hour)", 2)
    assert binding.on_failure_queue_url == deployed_mesh.queue_urls["SweepDLQ"]
    assert binding.role_arn == f"arn:aws:iam::{CENTRAL}:role/meshgov-central-audit-digest-{REGION}"


def test_deploying_twice_keeps_one_digest_key_and_bucket_unchanged(
    mesh: AccountSessions,
    deployed_mesh: Deployment,
    mesh_config: MeshConfig,
    mesh_template: Template,
) -> None:
    # Given a deployed mesh, its keys and its bucket's settings
    kms, s3 = mesh.client(CENTRAL, "kms"), mesh.client(CENTRAL, "s3")
    name = deployed_mesh.digest_bucket_name
    keys = kms.list_keys()["Keys"]
    lock = s3.get_object_lock_configuration(Bucket=name)["ObjectLockConfiguration"]

    # When it is deployed again
    again = deploy(mesh_config, mesh, mesh_template)

    # Then the same key (no second one), the same bucket and settings
    assert (again.digest_key_id, again.digest_bucket_name) == (
        deployed_mesh.digest_key_id,
        name,
    )
    assert kms.list_keys()["Keys"] == keys
    assert s3.get_object_lock_configuration(Bucket=name)["ObjectLockConfiguration"] == lock


def test_the_retention_parameter_reaches_the_bucket(
    mesh: AccountSessions, mesh_config: MeshConfig, mesh_template: Template
) -> None:
    # Given the template deployed with a 30-day audit retention
    deployment = deploy(
        mesh_config, mesh, mesh_template, parameter_overrides={"AuditRetentionDays": "30"}
    )

    # When / Then new digests are locked 30 days
    lock = mesh.client(CENTRAL, "s3").get_object_lock_configuration(
        Bucket=deployment.digest_bucket_name
    )["ObjectLockConfiguration"]
    assert lock["Rule"]["DefaultRetention"] == {"Mode": "COMPLIANCE", "Days": 30, "Years": 0}


def test_the_tls_only_bucket_policy_is_kept_for_aws_and_left_out_locally(
    mesh: AccountSessions, deployed_mesh: Deployment, mesh_template: Template
) -> None:
    # Given the template's bucket policy (deny every request not made over TLS)
    declared = mesh_template.properties("AuditDigestBucketPolicy")["PolicyDocument"]
    (statement,) = declared["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}

    # When / Then the local deployment holds no policy (the local endpoint is plain HTTP and moto
    # 5.2.5 turns any condition it cannot evaluate into a deny) ...
    s3 = mesh.client(CENTRAL, "s3")
    with pytest.raises(ClientError, match="NoSuchBucketPolicy"):
        s3.get_bucket_policy(Bucket=deployed_mesh.digest_bucket_name)
    assert local_bucket_policy(declared) is None

    # ... as measured: with that policy on a bucket, moto refuses even a TLS request
    s3.create_bucket(Bucket="tls-probe", CreateBucketConfiguration={"LocationConstraint": REGION})
    probe = {
        **statement,
        "Resource": ["arn:aws:s3:::tls-probe", "arn:aws:s3:::tls-probe/*"],
    }
    policy = {"Version": "2012-10-17", "Statement": [probe]}
    s3.put_bucket_policy(Bucket="tls-probe", Policy=json.dumps(policy))
    with pytest.raises(ClientError):
        s3.put_object(Bucket="tls-probe", Key="k", Body=b"x")
