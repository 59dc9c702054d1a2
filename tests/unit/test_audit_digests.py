"""The audit digest document: canonical bytes, chaining to the previous digest (pure, no AWS)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from meshgov.audit.canonical import canonical_json
from meshgov.audit.digests import (
    ZERO_HASH,
    DigestDocument,
    PreviousDigest,
    build_digest,
    claim_key,
    digest_hash,
    digest_key,
    follows,
)

KEY = "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)


def heads(*seqs: int, hash_: str = "a" * 64) -> list[dict[str, object]]:
    """One head per shard: shard k at seqs[k] (seq 0: GENESIS)."""
    return [
        {"shard": k, "seq": seq, "hash": hash_ if seq else ZERO_HASH} for k, seq in enumerate(seqs)
    ]


def first(*seqs: int, hash_: str = "a" * 64) -> DigestDocument:
    bound = heads(*(seqs or (2, 0, 1)), hash_=hash_)
    return build_digest(
        trail="meshgov-audit-table",
        shards=len(bound),
        heads=bound,
        previous=None,
        created_at=NOW,
        key_id=KEY,
    )


def previous_of(document: DigestDocument) -> PreviousDigest:
    body = document.canonical()
    return PreviousDigest(
        digest_key(document.record_count),
        digest_hash(body),
        document.record_count,
        document.shard_heads(),
    )


def second(after: DigestDocument, *seqs: int) -> DigestDocument:
    bound = heads(*(seqs or (4, 1, 2)), hash_="b" * 64)
    return build_digest(
        trail="meshgov-audit-table",
        shards=len(bound),
        heads=bound,
        previous=previous_of(after),
        created_at=NOW + timedelta(hours=1),
        key_id=KEY,
    )


# --------------------------------------------------------------------------------------------
# Canonical form
# --------------------------------------------------------------------------------------------


def test_the_canonical_form_is_sorted_compact_utf8_json() -> None:
    # Given the first digest of a trail
    document = first()

    # When it is made canonical
    body = document.canonical()

    # Then it is JSON with sorted keys and no whitespace, holding every field
    data = json.loads(body)
    assert list(data) == sorted(data)
    assert body == json.dumps(data, sort_keys=True, separators=(",", ":")).encode("utf-8")
    assert b" " not in body and b"\n" not in body
    assert data == {
        "version": 3,
        "trail": "meshgov-audit-table",
        "shards": 3,
        "heads": [
            {"shard": 0, "seq": 2, "hash": "a" * 64},
            {"shard": 1, "seq": 0, "hash": ZERO_HASH},
            {"shard": 2, "seq": 1, "hash": "a" * 64},
        ],
        "record_count": 3,
        "previous_record_count": 0,
        "previous_digest_key": None,
        "previous_digest_hash": ZERO_HASH,
        "created_at": "2026-11-25T12:00:00Z",
        "key_id": KEY,
        "signing_algorithm": "ECDSA_SHA_256",
    }


def test_canonical_bytes_do_not_depend_on_the_order_fields_were_given() -> None:
    assert canonical_json({"b": 1, "a": "é"}) == canonical_json({"a": "é", "b": 1})
    assert canonical_json({"a": "é"}) == '{"a":"é"}'.encode()


def test_a_document_reads_back_from_its_bytes_unchanged() -> None:
    document = second(first())
    assert DigestDocument.parse(document.canonical()) == document
    assert DigestDocument.parse(document.canonical()).canonical() == document.canonical()


@pytest.mark.parametrize("body", [b"not json", b'{"version": 1}', b"\xff\xfe", b"[]"])
def test_bytes_that_are_not_a_digest_are_refused(body: bytes) -> None:
    with pytest.raises(ValueError, match="not a digest document"):
        DigestDocument.parse(body)


def test_created_at_is_utc_whatever_the_clock_zone() -> None:
    # Given a clock two hours east of UTC
    local = NOW.astimezone(timezone(timedelta(hours=2)))

    # When / Then the digest states the UTC time
    document = build_digest(
        trail="t", shards=1, heads=heads(1), previous=None, created_at=local, key_id=KEY
    )
    assert document.created_at == "2026-11-25T12:00:00Z"


def test_nothing_new_is_no_digest_and_every_shard_is_bound_in_order() -> None:
    one = first()
    with pytest.raises(ValueError, match="nothing new"):
        second(one, 2, 0, 1)
    with pytest.raises(ValueError, match="one head per shard"):
        build_digest(
            trail="t",
            shards=3,
            heads=heads(1, 2, 3)[:2],
            previous=None,
            created_at=NOW,
            key_id=KEY,
        )


def test_an_earlier_version_is_not_read() -> None:
    old = json.dumps({**json.loads(first().canonical()), "version": 2}).encode()
    with pytest.raises(ValueError, match="version 3"):
        DigestDocument.parse(old)


def test_keys_are_zero_padded_so_they_list_in_seq_order() -> None:
    assert digest_key(42) == "digests/00000000000000000042.json"
    assert claim_key(0) == "claims/00000000000000000000.json"
    assert sorted(digest_key(n) for n in (100, 9, 10)) == [digest_key(n) for n in (9, 10, 100)]


# --------------------------------------------------------------------------------------------
# Chaining
# --------------------------------------------------------------------------------------------


def test_the_first_digest_has_no_previous_and_64_zeros() -> None:
    document = first()
    assert document.previous_digest_key is None
    assert document.previous_digest_hash == "0" * 64
    assert follows(document, None)


def test_the_next_digest_carries_the_sha256_of_the_previous_digests_bytes() -> None:
    # Given a first digest and the one after it
    one = first()
    two = second(one)

    # Then the second names the first and the SHA-256 of its exact bytes, and continues its range
    assert two.previous_digest_key == "digests/00000000000000000003.json"
    assert two.previous_digest_hash == hashlib.sha256(one.canonical()).hexdigest()
    assert (two.previous_record_count, two.record_count) == (3, 7)
    assert follows(two, previous_of(one))


def test_any_change_to_the_previous_digests_bytes_breaks_the_link() -> None:
    # Given two chained digests, and the first one's stored bytes changed by one byte
    one = first()
    two = second(one)
    changed = one.canonical().replace(b'"record_count":3', b'"record_count":4')
    altered = PreviousDigest(digest_key(3), digest_hash(changed), 3, one.shard_heads())

    # When / Then the second digest no longer follows it
    assert digest_hash(changed) != digest_hash(one.canonical())
    assert not follows(two, altered)


@pytest.mark.parametrize(
    "previous",
    [
        None,  # the second digest is not a first one
        PreviousDigest(digest_key(2), "f" * 64, 2),  # another digest
        PreviousDigest(digest_key(3), "f" * 64, 3),  # same key, other bytes
        PreviousDigest(digest_key(3), "", 1),  # another count than the one it names
    ],
)
def test_a_digest_follows_only_the_digest_it_names(previous: PreviousDigest | None) -> None:
    two = second(first())
    assert not follows(two, previous)


def test_a_first_digest_names_no_previous_one() -> None:
    late = replace(first(), previous_record_count=3)
    assert not follows(late, None)
