"""One canonical JSON for the whole audit trail: RFC 8785 (JCS), docs/adr/0006-audit-hash-chain.md.

The chain hashes it and the digests sign it, so anyone can re-verify the trail with any JCS
implementation; these tests pin both to the ``rfc8785`` library and to a hand-checked example.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import pytest
import rfc8785

from meshgov.audit.canonical import canonical_json, jsonable
from meshgov.audit.chain import GENESIS, canonical, chain_hash, json_detail
from meshgov.audit.digests import ZERO_HASH, build_digest
from meshgov.audit.dynamodb import chain_record, to_item
from meshgov.audit.memory import MemoryAuditTrail
from meshgov.audit.model import AuditEntry, AuditOutcome
from meshgov.audit.verify import verify_chain

T0 = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)

# Hand-checked against RFC 8785: members sorted by their UTF-16 code units (so U+1F600, stored
# as the surrogates D83D DE00, sorts before U+FF21, which code-point order would put first);
# numbers as ECMAScript prints them (2.0 -> 2, 1e-7 -> 1e-7, 1e21 -> 1e+21); non-ASCII text as
# UTF-8, not \u escapes; no whitespace.
SMALL = {"whole": 2.0, "\uff21": 1, "😀": 2, "name": "Zoë", "tiny": 1e-7, "big": 1e21, "ratio": 0.5}
SMALL_JCS = '{"big":1e+21,"name":"Zoë","ratio":0.5,"tiny":1e-7,"whole":2,"😀":2,"\uff21":1}'
SMALL_JCS_BYTES = SMALL_JCS.encode()


def entry(detail: dict[str, Any]) -> AuditEntry:
    return AuditEntry(
        action="access:granted",
        outcome=AuditOutcome.SUCCEEDED,
        actor="arn:aws:iam::333333333333:role/analyste-données",
        target="ventes_européennes.commandes",
        correlation_id="req-Ω",
        reason="approuvé par l'équipe « finance »",
        detail=detail,
    )


def test_the_canonical_form_is_rfc8785_byte_for_byte() -> None:
    # Given a small object with non-ASCII keys and text, floats and ints
    # When it is made canonical / Then it is the hand-checked JCS text, as rfc8785 writes it
    assert canonical_json(SMALL) == SMALL_JCS_BYTES
    assert rfc8785.dumps(SMALL) == SMALL_JCS_BYTES


def test_a_record_hashes_the_jcs_form_of_its_fields() -> None:
    # Given a record whose text is not ASCII and whose detail holds floats and ints
    detail = {"ratio": 0.25, "whole": 3.0, "tiny": 1e-7, "rows": 5000, "names": ["Zoë", "Łukasz"]}
    record = MemoryAuditTrail(clock=lambda: T0).record(entry(detail))

    # When its canonical text is compared with rfc8785's serialization of the same fields
    fields = {
        "seq": 1,
        "shard": 0,
        "record_id": record.record_id,
        "recorded_at": "2026-11-25T12:00:00.000000+00:00",
        "action": "access:granted",
        "outcome": "SUCCEEDED",
        "actor": "arn:aws:iam::333333333333:role/analyste-données",
        "target": "ventes_européennes.commandes",
        "correlation_id": "req-Ω",
        "reason": "approuvé par l'équipe « finance »",
        "detail": detail,
    }
    expected = rfc8785.dumps(fields)

    # Then they are the same bytes, and the hash covers exactly them
    assert record.canonical().encode("utf-8") == expected
    assert b'"whole":3}' in expected and b'"tiny":1e-7' in expected and "Zoë".encode() in expected
    assert record.hash == hashlib.sha256(GENESIS.encode() + b"\n" + expected).hexdigest()
    assert record.hash == chain_hash(GENESIS, expected)
    # And an outsider rebuilds the very bytes from the parsed text with any JCS implementation
    assert rfc8785.dumps(json.loads(record.canonical())) == expected


def test_digests_and_the_chain_write_the_same_form() -> None:
    # Given one mapping with non-ASCII text and numbers, canonicalized by each side
    fields = {
        "seq": 4,
        "shard": 0,
        "record_id": "r",
        "recorded_at": "2026-11-25T12:00:00.000000+00:00",
        "action": "a",
        "outcome": "SUCCEEDED",
        "actor": "x",
        "target": "t",
        "correlation_id": "c",
        "reason": "",
        "detail": SMALL,
    }
    document = build_digest(
        trail="piste-d'audit-é",
        shards=2,
        heads=[{"shard": 0, "seq": 4, "hash": "a" * 64}, {"shard": 1, "seq": 0, "hash": ZERO_HASH}],
        previous=None,
        created_at=T0,
        key_id="arn:aws:kms:eu-west-1:111111111111:key/k",
    )

    # Then the chain's text and the digest's bytes are both rfc8785's
    assert canonical(fields).encode("utf-8") == rfc8785.dumps(fields)
    assert SMALL_JCS_BYTES in canonical(fields).encode("utf-8")
    assert document.canonical() == rfc8785.dumps(asdict(document))
    assert "piste-d'audit-é".encode() in document.canonical()


def test_a_trail_with_non_ascii_text_and_floats_verifies() -> None:
    # Given records with non-ASCII text and numbers in their detail, stored as DynamoDB items
    memory = MemoryAuditTrail(clock=lambda: T0)
    for n in range(3):
        memory.record(entry({"n": n, "share": n / 3, "whole": float(n), "ville": "Zürich"}))
    records = [chain_record(to_item(r)) for r in memory.records]

    # When the chain is verified / Then it passes, every item's copies agreeing with its text
    assert all(r.copy_agrees for r in records)
    verdict = verify_chain(records)
    assert verdict.ok, verdict.problem
    assert verdict.records_checked == 3


@pytest.mark.parametrize(
    ("value", "held"),
    [
        (2.0, 2),  # JCS writes an integral float as an integer
        (-0.0, 0),
        (0.1, 0.1),
        (1e21, 1e21),  # written 1e+21, read back as a float
        (2**53 - 1, 2**53 - 1),
        (2**53, str(2**53)),  # beyond what a JSON number holds exactly: its text
        (-(2**60), str(-(2**60))),
        (2.0**60, "1152921504606846976"),  # an integral float JCS would write as digits
        (float("nan"), "NaN"),
        (float("inf"), "Infinity"),
        (float("-inf"), "-Infinity"),
        ("a\ud800b", "a\ufffdb"),  # a lone surrogate cannot be UTF-8
        ("😀", "😀"),
        ((1, "x"), [1, "x"]),
        (datetime(2026, 1, 2, tzinfo=UTC), "2026-01-02 00:00:00+00:00"),
    ],
)
def test_detail_values_become_what_the_canonical_form_holds(value: Any, held: Any) -> None:
    # When a detail value is made JSON as the trail stores it
    stored = json_detail({"v": value})

    # Then it is the value the canonical form holds, and reading the canonical text back gives
    # exactly it again (so the item's plain copies agree with the hashed text)
    assert stored == {"v": held}
    assert type(stored["v"]) is type(held)
    assert json.loads(canonical_json(stored)) == stored
    assert jsonable(stored) == stored


def test_keys_that_are_not_text_become_text() -> None:
    assert json_detail({1: "a", None: "b", "k": {2: [3.0]}}) == {
        "1": "a",
        "null": "b",
        "k": {"2": [3]},
    }


def test_what_json_cannot_hold_is_refused_with_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"not canonical JSON \(RFC 8785, JCS\)"):
        canonical_json({"v": float("nan")})
