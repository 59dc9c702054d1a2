"""Faults in every AWS call meshgov's functions make (issue 6, item 2): at 5%, nothing is lost,
replay converges, and nothing is left half done. The targeted cases show each link of that claim
on its own: a message that keeps failing is parked, replay finishes it, the accounting notices a
loss, and a lost answer does not write twice. ``make bench`` runs the long version."""

from __future__ import annotations

from collections import Counter

from meshgov.deadletters import LetterKind
from meshgov_local.faultproof import FaultProof, fault_proof
from meshgov_local.faults import FaultKind, FaultPlan
from meshgov_local.mesh import SYNC_FUNCTION, LocalMesh, differences
from tests.integration.helpers import columns, create_published_database, table_input


def test_at_five_percent_nothing_is_lost_and_the_mesh_converges() -> None:
    # Given the soak's random operations with 5% of meshgov's requests failing
    result = fault_proof(seed=6, operations=80, rate=0.05)
    # Then every kind of fault happened, and invocations really failed
    assert set(result.faults["by_kind"]) == {kind.value for kind in FaultKind}, result.faults
    assert result.failed_deliveries > 0
    # And nothing was lost, nothing is left parked, the mesh converged, nothing is half done
    assert result.lost == []
    assert result.unrecovered == []
    assert result.diffs == []
    assert result.partial_state == []
    assert sum(result.requests.values()) > 0  # the access flow was exercised too


def _publish_one_table(mesh: LocalMesh) -> None:
    glue = mesh.client(mesh.producer, "glue")
    create_published_database(glue, "sales")
    glue.create_table(DatabaseName="sales", TableInput=table_input("orders", columns("id:int")))


def _central_tables(mesh: LocalMesh) -> set[str]:
    glue = mesh.client(mesh.central, "glue")
    names: set[str] = set()
    for database in glue.get_databases()["DatabaseList"]:
        tables = glue.get_tables(DatabaseName=database["Name"])["TableList"]
        names |= {f"{database['Name']}.{t['Name']}" for t in tables}
    return names


def _parked(proof: FaultProof) -> list[str]:
    return [
        letter.kind.value
        for queue, letters in proof.letters()
        if queue.name == "CatalogEventsDLQ"
        for letter in letters
    ]


def test_a_message_that_keeps_crashing_is_parked_then_replay_finishes_it(
    local_mesh: LocalMesh,
) -> None:
    # Given a producer's new table, and a catalog function that crashes on its first call
    proof = FaultProof(local_mesh, 1, FaultPlan(rate=1.0, kinds=(FaultKind.CRASH,)))
    _publish_one_table(local_mesh)
    with proof.injector.armed():
        local_mesh.settle()
    # Then each event was retried until SQS's redrive policy parked it: nothing handled, nothing
    # lost, every undelivered event accounted for by its dead letter
    assert "sales_sales.orders" not in _central_tables(local_mesh)
    parked = _parked(proof)
    assert parked and set(parked) == {LetterKind.RETRIES_EXHAUSTED.value}
    accounting = proof.account()
    assert accounting.lost == []
    assert len(accounting.unrecovered) == len(parked)
    assert {d.function for d in local_mesh.router.ledger.unfinished()} == {SYNC_FUNCTION}
    # When the operator replays the dead letters once the faults are gone
    local_mesh.replay_dead_letters("CatalogEventsDLQ", dry_run=False)
    local_mesh.settle()
    # Then the table is central, the DLQ is empty and every delivery was handled
    assert "sales_sales.orders" in _central_tables(local_mesh)
    assert differences(local_mesh) == []
    assert _parked(proof) == []
    assert local_mesh.router.ledger.unfinished() == set()


def test_the_accounting_notices_an_event_that_vanished(local_mesh: LocalMesh) -> None:
    # Given events parked in the DLQ after crashes
    proof = FaultProof(local_mesh, 1, FaultPlan(rate=1.0, kinds=(FaultKind.CRASH,)))
    _publish_one_table(local_mesh)
    with proof.injector.armed():
        local_mesh.settle()
    parked = len(_parked(proof))
    assert parked > 0
    # When the dead letters disappear (as if a handler had acknowledged a failure)
    sqs = local_mesh.client(local_mesh.central, "sqs")
    sqs.purge_queue(QueueUrl=local_mesh.deployment.queue_urls["CatalogEventsDLQ"])
    # Then the accounting reports each of them as lost
    lost = proof.account().lost
    assert len(lost) == parked
    assert {d.function for d in lost} == {SYNC_FUNCTION}


def test_a_lost_answer_is_retried_without_writing_twice(local_mesh: LocalMesh) -> None:
    # Given a third of the requests time out after the service did the work
    proof = FaultProof(local_mesh, 3, FaultPlan(rate=0.3, kinds=(FaultKind.READ_TIMEOUT,), seed=3))
    glue = local_mesh.client(local_mesh.producer, "glue")
    create_published_database(glue, "sales")
    for i in range(8):
        glue.create_table(DatabaseName="sales", TableInput=table_input(f"t{i}", columns("id:int")))
    # When the events are handled
    with proof.injector.armed():
        local_mesh.settle()
    # Then retries met their own earlier work (AlreadyExists, idempotent transactions) and
    # converged: every table central, no audit record written twice, the chain intact
    assert proof.injector.stats.injected["read-timeout"] > 10
    assert differences(local_mesh) == []
    records = local_mesh.audit_records()
    duplicates = [rid for rid, n in Counter(r.record_id for r in records).items() if n > 1]
    assert duplicates == []
    assert proof.audit_problems() == []
    assert proof.account().lost == []
