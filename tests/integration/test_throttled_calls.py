"""Throttled Glue calls inside a real invocation (issue 16 item 4, docs/adr/0021): the catalog
function's adaptive Glue client retries them and the invocation succeeds, with nothing parked and
nothing lost. The faults are the local mesh's client-layer injection (meshgov_local.faults), the
emulator untouched."""

from __future__ import annotations

from meshgov_local.faults import FaultInjector, FaultKind, FaultPlan
from meshgov_local.mesh import SYNC_FUNCTION, LocalMesh, differences
from tests.integration.helpers import columns, create_published_database, table_input


def test_throttled_glue_calls_are_retried_and_the_catalog_invocation_succeeds(
    local_mesh: LocalMesh,
) -> None:
    # Given a producer's new tables, and a third of the catalog function's requests throttled
    glue = local_mesh.client(local_mesh.producer, "glue")
    create_published_database(glue, "sales")
    for name in ("orders", "refunds"):
        glue.create_table(DatabaseName="sales", TableInput=table_input(name, columns("id:int")))
    injector = FaultInjector(FaultPlan(rate=0.3, kinds=(FaultKind.THROTTLE,), seed=5))

    # When the events are handled
    with injector.armed():
        report = local_mesh.settle()

    # Then Glue calls were throttled (in the producer's account and in central's)...
    throttled_glue = {
        op: n for op, n in injector.stats.by_operation.items() if op.startswith("glue:")
    }
    assert sum(throttled_glue.values()) >= 3, injector.stats.as_dict()
    # ...and every invocation succeeded all the same: botocore retried within the invocation
    assert report.invocations > 0
    assert report.failed_invocations == []
    assert report.failed_messages == 0
    assert {d.function for d in local_mesh.router.ledger.delivered} >= {SYNC_FUNCTION}
    assert local_mesh.router.ledger.unfinished() == set()
    # And central holds exactly what the producer published
    assert differences(local_mesh) == []
    central = local_mesh.client(local_mesh.central, "glue")
    tables = {
        t["Name"]
        for db in central.get_databases()["DatabaseList"]
        for t in central.get_tables(DatabaseName=db["Name"])["TableList"]
    }
    assert {"orders", "refunds"} <= tables
