"""The audit hash chain on the local mesh: a real flow's records verify, each tamper of the
stored items is detected and named, and concurrent writers neither fork nor lose the chain."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from meshgov.audit import AuditEntry, AuditOutcome, DynamoAuditTrail
from meshgov.audit.chain import chain_hash
from meshgov.audit.dynamodb import (
    chain_record,
    read_chain,
    read_chain_items,
    read_heads,
    read_shard_items,
    verify_trail,
)
from meshgov.audit.verify import Verdict
from meshgov_local.mesh import LocalMesh
from tests.integration.access_helpers import publish_sales

Item = dict[str, Any]


def trail(mesh: LocalMesh) -> tuple[Any, str]:
    return mesh.client(mesh.central, "dynamodb"), mesh.deployment.audit_table_name


def verdict(mesh: LocalMesh) -> Verdict:
    dynamodb, table = trail(mesh)
    return verify_trail(dynamodb, table)[0]


def items(mesh: LocalMesh) -> list[Item]:
    dynamodb, table = trail(mesh)
    return list(read_chain_items(dynamodb, table))


SHARD = 5  # where the tamper tests append records of their own


def shard_items(mesh: LocalMesh, shard: int = SHARD) -> list[Item]:
    dynamodb, table = trail(mesh)
    return list(read_shard_items(dynamodb, table, shard))


def append_to(mesh: LocalMesh, shard: int, count: int) -> None:
    dynamodb, table = trail(mesh)
    audit = DynamoAuditTrail(dynamodb, table, pick=lambda _n: shard)
    for n in range(count):
        audit.record(AuditEntry("test:pinned", AuditOutcome.SUCCEEDED, "t", f"r{n}", f"c{n}"))


def key(item: Item) -> Item:
    return {"pk": item["pk"], "sk": item["sk"]}


def put(mesh: LocalMesh, item: Item) -> None:
    dynamodb, table = trail(mesh)
    dynamodb.put_item(TableName=table, Item=item)


def delete(mesh: LocalMesh, item: Item) -> None:
    dynamodb, table = trail(mesh)
    dynamodb.delete_item(TableName=table, Key=key(item))


@pytest.fixture
def flowed(local_mesh: LocalMesh) -> LocalMesh:
    """A mesh where a producer published a database of three tables (central followed)."""
    publish_sales(local_mesh, tables=3)
    assert len(items(local_mesh)) >= 6
    append_to(local_mesh, SHARD, 6)  # one shard with at least six records for the tampers
    return local_mesh


def test_the_records_of_a_real_flow_form_chains_that_verify(flowed: LocalMesh) -> None:
    stored = items(flowed)
    dynamodb, table = trail(flowed)
    state = read_heads(dynamodb, table)
    assert state.shards == 64 and state.record_count == len(stored)
    for shard, head in state.heads.items():
        mine = [i for i in stored if i["chain"]["S"] == f"shard-{shard:02d}"]
        assert [int(i["seq"]["N"]) for i in mine] == list(range(1, head.seq + 1))
        assert head.hash == mine[-1]["hash"]["S"]
    result = verdict(flowed)
    assert result.ok and result.records_checked == len(stored)
    # what readers show is what the hash covers, all shards in the trail's one order, the
    # order a day's Query returns (time, shard, seq)
    records = list(read_chain(dynamodb, table))
    assert [r.record_id for r in records] == [r.record_id for r in flowed.audit_records()]
    assert [r.order for r in records] == sorted(r.order for r in records)
    assert any(r.entry.action == "glue:CreateTable" for r in records)


def edit_canonical(item: Item) -> Item:
    text = item["canonical"]["S"].replace('"target":"', '"target":"tampered-', 1)
    assert text != item["canonical"]["S"]
    return {**item, "canonical": {"S": text}}


def edit_copy(item: Item) -> Item:
    return {**item, "target": {"S": "tampered"}}


def reseq(item: Item, seq: int) -> Item:
    return {**item, "seq": {"N": str(seq)}}


def swap(mesh: LocalMesh, a: Item, b: Item) -> None:
    """Each item takes the other's content; keys and seq stay (the order is the index's)."""
    keep = ("pk", "sk", "seq")
    put(mesh, {**{k: v for k, v in b.items() if k not in keep}, **{k: a[k] for k in keep}})
    put(mesh, {**{k: v for k, v in a.items() if k not in keep}, **{k: b[k] for k in keep}})


def insert_forged(mesh: LocalMesh, after: Item) -> None:
    """A fabricated record numbered like an existing one, with a valid hash."""
    canonical = after["canonical"]["S"].replace('"target":"', '"target":"forged-', 1)
    forged = {
        **after,
        "pk": {"S": "AUDIT#2000-01-01"},
        "canonical": {"S": canonical},
        "target": {"S": "forged-" + after["target"]["S"]},
        "hash": {"S": chain_hash(after["prev_hash"]["S"], canonical)},
    }
    put(mesh, forged)


Tamper = Callable[[LocalMesh, list[Item]], None]
TAMPERS: dict[str, tuple[Tamper, str, Callable[[list[Item]], int]]] = {
    "edit-canonical": (lambda m, s: put(m, edit_canonical(s[2])), "edit", lambda s: 3),
    "edit-attribute": (lambda m, s: put(m, edit_copy(s[3])), "edit", lambda s: 4),
    "delete": (lambda m, s: delete(m, s[2]), "deletion", lambda s: 3),
    "insert": (lambda m, s: insert_forged(m, s[3]), "insertion", lambda s: 4),
    "reorder": (lambda m, s: swap(m, s[1], s[2]), "reorder", lambda s: 2),
    "truncate": (
        lambda m, s: [delete(m, i) for i in s[-2:]],  # type: ignore[func-returns-value]
        "truncation",
        lambda s: len(s) - 1,
    ),
}


@pytest.mark.parametrize("name", list(TAMPERS))
def test_each_tamper_of_the_stored_items_is_detected_and_named(
    flowed: LocalMesh, name: str
) -> None:
    tamper, expected_kind, expected_seq = TAMPERS[name]
    stored = shard_items(flowed)
    assert verdict(flowed).ok
    tamper(flowed, stored)
    result = verdict(flowed)
    assert not result.ok
    assert result.problem is not None
    problem = (result.problem.kind, result.problem.shard, result.problem.seq)
    assert problem == (expected_kind, SHARD, expected_seq(stored)), result.problem.message


def test_moving_a_record_by_its_seq_attribute_is_detected(flowed: LocalMesh) -> None:
    stored = shard_items(flowed)
    put(flowed, reseq(stored[1], len(stored) + 5))
    result = verdict(flowed)
    assert result.problem is not None and result.problem.kind == "reorder"


def test_a_record_moved_to_another_shard_is_detected(flowed: LocalMesh) -> None:
    # Given record 3 of shard 5 moved, attributes and all, to the end of shard 9's chain
    append_to(flowed, 9, 2)
    moved = shard_items(flowed)[2]
    delete(flowed, moved)
    put(flowed, {**moved, "chain": {"S": "shard-09"}, "shard": {"N": "9"}, "seq": {"N": "3"}})

    # Then verify names the hole it left in shard 5 (shard 5 is walked first)
    result = verdict(flowed)
    assert result.problem is not None
    assert (result.problem.kind, result.problem.shard, result.problem.seq) == ("deletion", 5, 3)


def test_a_head_or_the_metadata_tampered_with_is_detected(flowed: LocalMesh) -> None:
    dynamodb, table = trail(flowed)
    # the metadata gone while heads exist: the verifier cannot know N, and says so
    meta = {"pk": {"S": "CHAIN"}, "sk": {"S": "META"}}
    saved = dynamodb.get_item(TableName=table, Key=meta)["Item"]
    dynamodb.delete_item(TableName=table, Key=meta)
    result = verdict(flowed)
    assert result.problem is not None and result.problem.kind == "shards"
    # the metadata says fewer shards than hold records
    put(flowed, {**saved, "shards": {"N": "4"}})
    result = verdict(flowed)
    assert result.problem is not None and result.problem.kind == "shards"


def test_32_concurrent_writers_never_fork_lose_or_queue(local_mesh: LocalMesh) -> None:
    # Given 32 writers, each with its own boto3 session and client on the same audit table
    dynamodb, table = trail(local_mesh)
    before = len(items(local_mesh))
    credentials = local_mesh.sessions.session(local_mesh.central).get_credentials()
    assert credentials is not None
    frozen = credentials.get_frozen_credentials()
    writers, appends = 32, 8  # the bench runs 32 x 50
    failures: list[BaseException] = []
    trails: list[DynamoAuditTrail] = []
    start = threading.Barrier(writers)

    def write(writer: int) -> None:
        session = boto3.session.Session(
            aws_access_key_id=frozen.access_key,
            aws_secret_access_key=frozen.secret_key,
            aws_session_token=frozen.token,
            region_name=local_mesh.config.region,
        )
        audit = DynamoAuditTrail(session.client("dynamodb"), table)
        trails.append(audit)
        start.wait(timeout=60)
        try:
            for n in range(appends):
                audit.record(
                    AuditEntry(
                        "test:append",
                        AuditOutcome.SUCCEEDED,
                        f"writer-{writer}",
                        f"record-{n}",
                        f"w{writer}-{n}",
                    )
                )
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then every append is there exactly once, each shard numbered without a gap, the trail
    # verifies, and a writer rarely had to try twice (it moves to another shard when it loses)
    assert not failures, failures
    stored = items(local_mesh)
    assert len(stored) == before + writers * appends
    for shard, head in read_heads(dynamodb, table).heads.items():
        seqs = [int(i["seq"]["N"]) for i in stored if i["chain"]["S"] == f"shard-{shard:02d}"]
        assert seqs == list(range(1, head.seq + 1))
    assert sum(t.attempts for t in trails) <= 1.5 * writers * appends
    appended = [chain_record(i) for i in stored if '"action":"test:append"' in i["canonical"]["S"]]
    assert len(appended) == writers * appends == len({r.hash for r in appended})
    assert verify_trail(dynamodb, table)[0].ok
