"""A mesh of twenty producer accounts and two consumers, every one registered through the
registry (issue 16, "Done when"): each producer's products reach central under its own domain
with its own provenance, consumers of different producers get their grants, and removing one
producer retires exactly its products and the grants on them while the other nineteen stay.

The mesh is deployed once per test process (``MESHES``: the central stack and 22 member stacks);
a later test of the same layout would restore its snapshot."""

from __future__ import annotations

from typing import Any

from meshgov.access.states import RequestState
from meshgov.audit import AuditOutcome
from meshgov.contracts.registry_events import MEMBER_REMOVE_REQUESTED
from meshgov_local.config import MemberAccount, MemberKind, MeshConfig
from meshgov_local.mesh import LocalMesh
from tests.integration.access_helpers import (
    analyst_arn,
    central_grants,
    create_role,
    fresh_mesh,
    record,
    request,
    request_id,
    table_key,
)
from tests.integration.helpers import columns, create_published_database, table_input

PRODUCERS = 20
DATABASES = ("db0", "db1")
TABLES = ("t0", "t1", "t2")
CONSUMER_A, CONSUMER_B = "300000000001", "300000000002"


def producer_account(index: int) -> str:
    """``200000000001`` .. ``200000000020``: distinct, and none of the other tests' accounts."""
    return f"2000000000{index:02d}"


def domain(index: int) -> str:
    return f"p{index:02d}"


def twenty_producers() -> MeshConfig:
    """Twenty producers ``p01``..``p20``, each with its own data bucket, and two consumers."""
    producers = tuple(
        MemberAccount(
            producer_account(i),
            f"producer-{domain(i)}",
            MemberKind.PRODUCER,
            domain=domain(i),
            data_bucket=f"{domain(i)}-data",
        )
        for i in range(1, PRODUCERS + 1)
    )
    consumers = (
        MemberAccount(CONSUMER_A, "consumer-a", MemberKind.CONSUMER),
        MemberAccount(CONSUMER_B, "consumer-b", MemberKind.CONSUMER),
    )
    return MeshConfig(members=(*producers, *consumers))


def publish_everything(mesh: LocalMesh) -> None:
    """Each producer, as its own account, publishes 2 databases of 3 tables in its own bucket
    (public: a consumer's request is approved by policy); central follows."""
    for producer in mesh.config.producers:
        glue = mesh.client(producer.account_id, "glue")
        for database in DATABASES:
            create_published_database(glue, database)
            for table in TABLES:
                spec = table_input(
                    table,
                    columns("id:int", "amount:double"),
                    **{"meshgov:classification": "public"},
                )
                location = f"s3://{producer.data_bucket}/{database}/{table}/"
                spec["StorageDescriptor"]["Location"] = location
                glue.create_table(DatabaseName=database, TableInput=spec)
    delivered = mesh.settle()
    assert delivered.failed_invocations == [], delivered.invocation_errors[:3]
    mesh.sweep()


def central_tables(mesh: LocalMesh) -> dict[tuple[str, str], dict[str, Any]]:
    """``{(central database, table): the table as GetTables returns it}``, every page read."""
    glue = mesh.client(mesh.central, "glue")
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for page in glue.get_paginator("get_databases").paginate():
        for database in page["DatabaseList"]:
            for tables in glue.get_paginator("get_tables").paginate(DatabaseName=database["Name"]):
                found.update(((database["Name"], t["Name"]), t) for t in tables["TableList"])
    return found


def provenance(tables: dict[tuple[str, str], dict[str, Any]]) -> dict[tuple[str, str], str]:
    """``{(central database, table): the producer account its provenance names}``."""
    return {
        key: (table.get("Parameters") or {}).get("meshgov:source_account", "")
        for key, table in tables.items()
    }


def expected_catalog(mesh: LocalMesh, *, without: str = "") -> dict[tuple[str, str], str]:
    return {
        (f"{p.domain}_{database}", table): p.account_id
        for p in mesh.config.producers
        if p.account_id != without
        for database in DATABASES
        for table in TABLES
    }


def registry_answers(mesh: LocalMesh, event_id: str) -> list[tuple[str, str, AuditOutcome]]:
    """``(action, target, outcome)`` of central's registry records: the answer to the event
    ``event_id``, and every retirement (the audit trail read once: it holds ~1,000 records)."""
    return [
        (r.entry.action, r.entry.target, r.entry.outcome)
        for r in mesh.audit_records()
        if r.entry.action.startswith("registry:")
        and (r.entry.correlation_id == event_id or r.entry.action == "registry:retire")
    ]


def registry_accounts(mesh: LocalMesh) -> dict[str, tuple[str, str | None]]:
    return {m.account: (m.kind.value, m.domain) for m in mesh.registry().members()}


def ask(mesh: LocalMesh, consumer: str, database: str, table: str) -> str:
    """``consumer``'s analyst asks for one table; the request's id."""
    create_role(mesh, consumer)
    request(mesh, consumer=consumer, database=database, tables=[table])
    return request_id(mesh, consumer=consumer)


def test_twenty_producers_publish_through_the_registry_and_one_is_removed() -> None:
    with fresh_mesh(twenty_producers()) as mesh:
        config = mesh.config
        # Given twenty producers and two consumers, each registered as the platform team does
        assert registry_accounts(mesh) == {
            **{p.account_id: ("producer", p.domain) for p in config.producers},
            CONSUMER_A: ("consumer", None),
            CONSUMER_B: ("consumer", None),
        }
        assert len(mesh.registry().members()) == 22
        # When every producer publishes 2 databases of 3 tables
        publish_everything(mesh)
        # Then central holds exactly the 120 tables, each in its domain, naming its account
        published = central_tables(mesh)
        assert provenance(published) == expected_catalog(mesh)
        assert len(published) == 120

        # When two consumers each ask for a table of a different producer
        removed, kept = config.producers[2], config.producers[6]
        rid_a = ask(mesh, CONSUMER_A, f"{removed.domain}_db0", "t1")
        rid_b = ask(mesh, CONSUMER_B, f"{kept.domain}_db1", "t2")
        mesh.settle()
        # Then both grants land
        granted: dict[str, Any] = {}
        for rid, consumer, database, table in (
            (rid_a, CONSUMER_A, f"{removed.domain}_db0", "t1"),
            (rid_b, CONSUMER_B, f"{kept.domain}_db1", "t2"),
        ):
            found = record(mesh, rid)
            assert found is not None and found.state is RequestState.ACTIVE, rid
            grants = central_grants(mesh, consumer)
            assert table_key(mesh.central, database, table) in grants
            granted[consumer] = grants
            assert mesh.can_access(analyst_arn(consumer), database, table).allowed

        before = central_tables(mesh)
        # When the platform team removes one producer at once, with force (a grant is live)
        event_id = mesh.request_registry_change(
            MEMBER_REMOVE_REQUESTED, {"account": removed.account_id, "force": True, "graceDays": 0}
        )
        mesh.settle()
        # ... and the next scheduled sweep runs, in the very second of the removal (a schedule's
        # event ``time`` has whole seconds; the removal's date is kept to the second too)
        mesh.sweep()
        mesh.access_sweep()
        # Then exactly its six products are retired, the other nineteen producers' untouched
        after = central_tables(mesh)
        assert provenance(after) == expected_catalog(mesh, without=removed.account_id)
        assert after == {k: t for k, t in before.items() if k[0].split("_")[0] != removed.domain}
        target = f"account/{removed.account_id}"
        answered = registry_answers(mesh, event_id)
        assert answered == [
            ("registry:remove", target, AuditOutcome.SUCCEEDED),
            ("registry:retire", target, AuditOutcome.SUCCEEDED),
        ]
        assert removed.account_id not in registry_accounts(mesh)
        assert len(registry_accounts(mesh)) == 21
        # ... exactly the grant on its data is revoked; the other consumer keeps its own
        gone, still = record(mesh, rid_a), record(mesh, rid_b)
        assert gone is not None and gone.state is RequestState.REVOKED
        assert still is not None and still.state is RequestState.ACTIVE
        assert central_grants(mesh, CONSUMER_A) == {}
        assert central_grants(mesh, CONSUMER_B) == granted[CONSUMER_B]
        assert not mesh.can_access(analyst_arn(CONSUMER_A), f"{removed.domain}_db0", "t1").allowed
        assert mesh.can_access(analyst_arn(CONSUMER_B), f"{kept.domain}_db1", "t2").allowed
