"""A restored snapshot of the deployed mesh is the deployed mesh (meshgov_local.snapshot).

Two independent observations: what every service answers through its API in every account
(:func:`api_view`), and :func:`state_digest` (every attribute of every moto backend and emulator
store). Both must be equal between a freshly deployed mesh and its restored copy, and nothing one
test does may be seen by the mesh the next test restores.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from tests.integration.helpers import columns, create_published_database, table_input

from meshgov_local.emulator import controls
from meshgov_local.mesh import LocalMesh
from meshgov_local.snapshot import MeshSnapshots, state_digest

# Values that name the caller's own session or are stamped when read, not stored state.
_VOLATILE = {"RoleLastUsed", "ResponseMetadata", "UserId", "LastAccessedDate"}


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if k not in _VOLATILE}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _ask(call: Callable[..., Any], **kwargs: Any) -> Any:
    try:
        return _clean(call(**kwargs))
    except ClientError as exc:
        return {"error": exc.response["Error"]["Code"]}


def _account_view(mesh: LocalMesh, account: str) -> dict[str, Any]:
    """What every service of the mesh answers in ``account``, as its administrator reads it."""
    view: dict[str, Any] = {}
    iam = mesh.client(account, "iam")
    roles = iam.list_roles()["Roles"]
    view["iam.roles"] = {
        r["RoleName"]: {
            "role": _clean(r),
            "inline": {
                name: _ask(iam.get_role_policy, RoleName=r["RoleName"], PolicyName=name)
                for name in iam.list_role_policies(RoleName=r["RoleName"])["PolicyNames"]
            },
            "attached": _ask(iam.list_attached_role_policies, RoleName=r["RoleName"]),
        }
        for r in roles
    }
    view["iam.policies"] = [
        (
            p["Arn"],
            _ask(iam.get_policy_version, PolicyArn=p["Arn"], VersionId=p["DefaultVersionId"]),
        )
        for p in iam.list_policies(Scope="Local")["Policies"]
    ]
    sqs = mesh.client(account, "sqs")
    view["sqs"] = {
        url: _ask(sqs.get_queue_attributes, QueueUrl=url, AttributeNames=["All"])
        for url in sqs.list_queues().get("QueueUrls", [])
    }
    events = mesh.client(account, "events")
    buses = events.list_event_buses()["EventBuses"]
    view["events"] = {
        bus["Name"]: {
            "bus": _ask(events.describe_event_bus, Name=bus["Name"]),
            "rules": {
                rule["Name"]: {
                    "rule": _clean(rule),
                    "targets": _ask(
                        events.list_targets_by_rule, Rule=rule["Name"], EventBusName=bus["Name"]
                    ),
                }
                for rule in events.list_rules(EventBusName=bus["Name"])["Rules"]
            },
        }
        for bus in buses
    }
    dynamodb = mesh.client(account, "dynamodb")
    view["dynamodb"] = {
        name: {
            "table": _ask(dynamodb.describe_table, TableName=name),
            "items": _ask(dynamodb.scan, TableName=name),
        }
        for name in dynamodb.list_tables()["TableNames"]
    }
    s3 = mesh.client(account, "s3")
    view["s3"] = {}
    for bucket in s3.list_buckets()["Buckets"]:
        name = bucket["Name"]
        versions = s3.list_object_versions(Bucket=name).get("Versions", [])
        view["s3"][name] = {
            "policy": _ask(s3.get_bucket_policy, Bucket=name),
            "lock": _ask(s3.get_object_lock_configuration, Bucket=name),
            "versioning": _ask(s3.get_bucket_versioning, Bucket=name),
            "objects": {
                (v["Key"], v["VersionId"]): hashlib.sha256(
                    s3.get_object(Bucket=name, Key=v["Key"], VersionId=v["VersionId"])[
                        "Body"
                    ].read()
                ).hexdigest()
                for v in versions
            },
        }
    kms = mesh.client(account, "kms")
    view["kms"] = {
        key["KeyId"]: {
            "key": _ask(kms.describe_key, KeyId=key["KeyId"]),
            "policy": _ask(kms.get_key_policy, KeyId=key["KeyId"], PolicyName="default"),
        }
        for key in kms.list_keys()["Keys"]
    }
    view["kms.aliases"] = _ask(kms.list_aliases)
    lakeformation = mesh.client(account, "lakeformation")
    view["lakeformation"] = {
        "settings": _ask(lakeformation.get_data_lake_settings),
        "permissions": _ask(lakeformation.list_permissions),
        "tags": _ask(lakeformation.list_lf_tags),
        "resources": _ask(lakeformation.list_resources),
    }
    glue = mesh.client(account, "glue")
    view["glue"] = {
        db["Name"]: {"db": _clean(db), "tables": _ask(glue.get_tables, DatabaseName=db["Name"])}
        for db in glue.get_databases()["DatabaseList"]
    }
    ram = mesh.client(account, "ram")
    view["ram"] = [
        _ask(ram.get_resource_shares, resourceOwner=owner) for owner in ("SELF", "OTHER-ACCOUNTS")
    ]
    view["sts"] = _ask(mesh.client(account, "sts").get_caller_identity)
    return view


def api_view(mesh: LocalMesh) -> str:
    """Every account's view, as canonical JSON (so a difference is printable)."""
    accounts = sorted({mesh.central, *mesh.config.all_accounts})
    return json.dumps(
        {account: _account_view(mesh, account) for account in accounts},
        default=str,
        sort_keys=True,
        indent=1,
    )


@pytest.fixture
def snapshots() -> Iterator[MeshSnapshots]:
    """A snapshot cache of its own (the first mesh deploys, the next are restored)."""
    controls.reset()
    yield MeshSnapshots()
    controls.reset()


def test_a_restored_mesh_equals_the_deployed_one_service_by_service(
    snapshots: MeshSnapshots,
) -> None:
    # Given a mesh deployed from template.yaml, its state digest and its API view, taken first
    with mock_aws():
        deployed = snapshots.mesh()
        deployed_digest = state_digest()
        deployed_view = api_view(deployed)
    # When a later test (moto reset in between) gets its mesh from the snapshot
    controls.reset()
    with mock_aws():
        restored = snapshots.mesh()
        restored_digest = state_digest()
        restored_view = api_view(restored)
    # Then it was restored, not deployed, and every service in every account holds the same
    assert (snapshots.deploys, snapshots.restores) == (1, 1)
    assert restored.deployment == deployed.deployment
    assert restored_digest == deployed_digest
    assert restored_view == deployed_view
    # And the view covers what the deploy made (roles, queues, rules, tables, the locked bucket)
    view = json.loads(restored_view)
    central = view[deployed.central]
    assert central["iam.roles"] and central["sqs"] and central["dynamodb"] and central["kms"]
    assert any(b["lock"].get("ObjectLockConfiguration") for b in central["s3"].values())
    assert len(central["events"]) >= 2
    assert view[deployed.producer]["events"]["default"]["rules"]


def test_what_one_test_changes_the_next_restored_mesh_does_not_see(
    snapshots: MeshSnapshots,
) -> None:
    # Given a first test that changes the mesh in several services and works through it
    with mock_aws():
        first = snapshots.mesh()
        pristine = state_digest()
        registered = first.audit_records()  # the deploy's registration of the members
        first.create_consumer_role(first.consumer, "analyst")
        first.client(first.producer, "glue").create_database(
            DatabaseInput={"Name": "sales", "Parameters": {"meshgov:publish": "true"}}
        )
        first.settle()
        audit = first.client(first.central, "dynamodb")
        audit.put_item(
            TableName=first.deployment.audit_table_name,
            Item={"pk": {"S": "x"}, "sk": {"S": "y"}},
        )
        assert first.audit_records()  # the database's propagation was audited
        assert state_digest() != pristine
    # When the next test gets its mesh
    controls.reset()
    with mock_aws():
        second = snapshots.mesh()
        # Then it starts from the deployed state: no role, no database, no record but the
        # deploy's own (the members registered)
        assert state_digest() == pristine
        iam = second.client(second.consumer, "iam")
        assert "analyst" not in {r["RoleName"] for r in iam.list_roles()["Roles"]}
        assert second.client(second.central, "glue").get_databases()["DatabaseList"] == []
        assert second.audit_records() == registered
        assert {r.entry.action for r in registered} == {"registry:add"}
        # And its own changes work as on a deployed mesh (the snapshot is not consumed): a
        # published table's bucket is registered, and verified readable by the location role
        # (which needs moto's S3 bucket -> account index, kept beside the backends)
        glue = second.client(second.producer, "glue")
        create_published_database(glue, "sales")
        glue.create_table(DatabaseName="sales", TableInput=table_input("orders", columns("id:int")))
        second.settle()
        assert second.client(second.central, "glue").get_databases()["DatabaseList"]
        resources = second.client(second.central, "lakeformation").list_resources()
        assert [r["VerificationStatus"] for r in resources["ResourceInfoList"]] == ["VERIFIED"]
    controls.reset()
    with mock_aws():
        snapshots.mesh()
        assert state_digest() == pristine
    assert (snapshots.deploys, snapshots.restores) == (1, 2)


def test_a_mesh_asked_for_under_other_emulator_settings_is_deployed_not_restored(
    snapshots: MeshSnapshots,
) -> None:
    # Given a snapshot of the default mesh
    with mock_aws():
        snapshots.mesh()
    # When a test moves the clock before asking for its mesh
    controls.reset()
    controls.advance_time(86_400)
    with mock_aws():
        snapshots.mesh()
    # Then it is deployed under its own settings (a snapshot's timestamps are of another time)
    assert (snapshots.deploys, snapshots.restores) == (2, 0)


class _Message:
    """Stands for a moto object kept in a set (hashed by identity, so ordered by address)."""

    def __init__(self, body: str) -> None:
        self.body = body


def test_the_digest_of_a_state_does_not_depend_on_the_order_of_its_sets() -> None:
    from meshgov_local.snapshot import _hash

    bodies = [f"m{i}" for i in range(40)]
    forwards = {"pending": set(map(_Message, bodies)), "deleted": set(bodies)}
    backwards = {"pending": set(map(_Message, reversed(bodies))), "deleted": set(bodies[::-1])}
    # the same values, held in sets whose iteration orders differ
    assert [m.body for m in forwards["pending"]] != [m.body for m in backwards["pending"]]
    assert _hash(forwards) == _hash(backwards)
    # and a different value still digests differently
    backwards["pending"].pop()
    assert _hash(forwards) != _hash(backwards)
