"""Signed audit digests in the local mesh: written on a schedule over records real flows appended,
chained, signed with the trail's KMS key, locked in compliance mode; and what tampering looks
like to a verifier."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from meshgov.audit.digests import (
    META_KEY_ID,
    META_SIGNATURE,
    SIGNING_ALGORITHM,
    DigestDocument,
    DigestWriter,
    PreviousDigest,
    all_heads,
    build_digest,
    claim_key,
    digest_key,
    load_digest_views,
)
from meshgov.audit.dynamodb import chain_record, read_chain_items, read_heads
from meshgov.audit.verify import (
    DIGEST_CHAIN,
    DIGEST_KEY,
    DIGEST_SIGNATURE,
    ChainHead,
    DigestView,
    verify_chain,
)
from meshgov_local.mesh import AUDIT_DIGEST_FUNCTION, LocalMesh
from tests.integration.access_helpers import publish_sales

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


# --------------------------------------------------------------------------------------------
# Looking at the central account
# --------------------------------------------------------------------------------------------


def s3(mesh: LocalMesh) -> Any:
    return mesh.client(mesh.central, "s3")


def kms(mesh: LocalMesh) -> Any:
    return mesh.client(mesh.central, "kms")


def bucket(mesh: LocalMesh) -> str:
    return mesh.deployment.digest_bucket_name


def views(mesh: LocalMesh) -> list[DigestView]:
    return load_digest_views(s3(mesh), kms(mesh), bucket(mesh), mesh.deployment.digest_key_id)


def head_seq(mesh: LocalMesh) -> int:
    """How many records the trail's heads say it holds (all shards)."""
    state = read_heads(mesh.client(mesh.central, "dynamodb"), mesh.deployment.audit_table_name)
    assert state.heads
    return state.record_count


def verdict(mesh: LocalMesh) -> Any:
    dynamodb = mesh.client(mesh.central, "dynamodb")
    table = mesh.deployment.audit_table_name
    state = read_heads(dynamodb, table)
    records = (chain_record(item) for item in read_chain_items(dynamodb, table))
    return verify_chain(records, views(mesh), heads=state.heads, shards=state.shards)


def as_digest_function(mesh: LocalMesh, service: str) -> Any:
    """A client with AuditDigestRole's credentials: only that role may sign with the trail's key
    (its key policy), as the digest function does."""
    return mesh.function_client(AUDIT_DIGEST_FUNCTION, service)


def writer(mesh: LocalMesh, key_id: str | None = None, *, as_admin: bool = False) -> DigestWriter:
    """The digest function's writer; ``as_admin``: run by an account administrator instead (who
    may sign with keys of the account that the trail's key policy does not reserve)."""
    client = (
        (lambda service: mesh.client(mesh.central, service))
        if as_admin
        else (lambda service: as_digest_function(mesh, service))
    )
    return DigestWriter(
        client("dynamodb"),
        client("s3"),
        client("kms"),
        mesh.deployment.audit_table_name,
        bucket(mesh),
        key_id or mesh.deployment.digest_key_id,
    )


def versions(mesh: LocalMesh, key: str) -> list[dict[str, Any]]:
    listed = s3(mesh).list_object_versions(Bucket=bucket(mesh), Prefix=key)
    return [v for v in listed.get("Versions", []) if v["Key"] == key]


def stored(mesh: LocalMesh, key: str) -> tuple[bytes, dict[str, str]]:
    obj = s3(mesh).get_object(Bucket=bucket(mesh), Key=key)
    return obj["Body"].read(), dict(obj["Metadata"])


def put_version(mesh: LocalMesh, key: str, body: bytes, metadata: dict[str, str]) -> None:
    """What someone with s3:PutObject on the bucket can do to a digest: put a new version."""
    s3(mesh).put_object(
        Bucket=bucket(mesh), Key=key, Body=body, Metadata=metadata, ChecksumAlgorithm="SHA256"
    )


def signed_metadata(
    mesh: LocalMesh, body: bytes, key_id: str, signer: Any | None = None
) -> dict[str, str]:
    """Metadata of ``body`` signed with ``key_id`` (by ``signer``, a KMS client; the account
    administrator by default), as the digest function writes it."""
    signed = (signer or kms(mesh)).sign(
        KeyId=key_id,
        Message=hashlib.sha256(body).digest(),
        MessageType="DIGEST",
        SigningAlgorithm=SIGNING_ALGORITHM,
    )
    return {
        META_SIGNATURE: base64.b64encode(signed["Signature"]).decode(),
        "signing-algorithm": SIGNING_ALGORITHM,
        META_KEY_ID: signed["KeyId"],
    }


def another_key(mesh: LocalMesh) -> str:
    key = kms(mesh).create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")
    return str(key["KeyMetadata"]["KeyId"])


@pytest.fixture
def mesh(local_mesh: LocalMesh) -> LocalMesh:
    """The local mesh with a published database: the audit trail holds records."""
    publish_sales(local_mesh, tables=1)
    return local_mesh


@pytest.fixture
def two_digests(mesh: LocalMesh) -> tuple[str, str]:
    """Two digests: one over the first records, one over those a second publication added."""
    first = mesh.write_digest()["digest"]
    publish_sales(mesh, tables=2, database="returns")
    second = mesh.write_digest()["digest"]
    return first, second


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def test_two_digests_cover_the_trail_verify_and_chain(
    mesh: LocalMesh, two_digests: tuple[str, str]
) -> None:
    # Given two digests written on the schedule, records appended in between
    first, second = two_digests

    # When the digests are read back and checked
    one, two = views(mesh)

    # Then both verify with the trail's key and follow each other, covering the whole trail
    assert (one.key, two.key) == (first, second)
    assert all(v.signature_ok and v.key_trusted and v.chain_ok for v in (one, two))
    assert one.previous_count == 0 and one.shards == 64 == len(one.heads)
    assert two.previous_count == one.record_count < two.record_count == head_seq(mesh)
    assert first == digest_key(one.record_count)
    # every shard's head is bound, and none went backwards
    assert [h.shard for h in two.heads] == list(range(64))
    assert all(b.seq >= a.seq for a, b in zip(one.heads, two.heads, strict=True))
    # And the second names the first and the SHA-256 of its exact bytes
    document = DigestDocument.parse(stored(mesh, second)[0])
    assert document.previous_digest_key == first
    assert document.previous_digest_hash == hashlib.sha256(stored(mesh, first)[0]).hexdigest()
    assert document.trail == mesh.deployment.audit_table_name
    assert document.record_count == sum(h["seq"] for h in document.heads)
    # And the whole trail verifies against them
    assert verdict(mesh).ok, verdict(mesh).problem


def test_the_signature_and_key_travel_in_the_objects_metadata(
    mesh: LocalMesh, two_digests: tuple[str, str]
) -> None:
    # Given a digest
    body, metadata = stored(mesh, two_digests[0])
    key_arn = kms(mesh).describe_key(KeyId=mesh.deployment.digest_key_id)["KeyMetadata"]["Arn"]

    # When / Then its metadata holds the base64 signature, the algorithm and the key's ARN
    assert metadata[META_KEY_ID] == key_arn == DigestDocument.parse(body).key_id
    assert metadata["signing-algorithm"] == "ECDSA_SHA_256"
    assert kms(mesh).verify(
        KeyId=key_arn,
        Message=hashlib.sha256(body).digest(),
        MessageType="DIGEST",
        Signature=base64.b64decode(metadata[META_SIGNATURE]),
        SigningAlgorithm="ECDSA_SHA_256",
    )["SignatureValid"]


def test_nothing_new_writes_no_digest(mesh: LocalMesh) -> None:
    # Given a digest over every record so far
    key = mesh.write_digest()["digest"]

    # When the schedule runs again with no new record
    again = mesh.write_digest()

    # Then no digest is written
    assert key is not None
    assert again == {"digest": None}
    assert [v.key for v in views(mesh)] == [key]


def test_an_empty_trail_has_no_digest(local_mesh: LocalMesh) -> None:
    # Given a trail with no record (the deploy's own, the members registered, taken away)
    dynamodb = local_mesh.client(local_mesh.central, "dynamodb")
    table = local_mesh.deployment.audit_table_name
    for item in dynamodb.scan(TableName=table)["Items"]:
        dynamodb.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})
    assert local_mesh.audit_records() == []
    assert local_mesh.write_digest() == {"digest": None}
    assert views(local_mesh) == []


def test_a_writer_with_a_stale_view_does_not_fork_the_digest_chain(mesh: LocalMesh) -> None:
    # Given a digest over records 1..n, and a second writer (a duplicated scheduled invocation)
    # that read the bucket before it was written, and that sees more records
    key = writer(mesh).write_digest(NOW)
    assert key is not None
    n = DigestDocument.parse(stored(mesh, key)[0]).record_count
    publish_sales(mesh, tables=1, database="returns")

    class Stale(DigestWriter):
        def _previous(self) -> PreviousDigest | None:
            return None

    late = Stale(
        as_digest_function(mesh, "dynamodb"),
        as_digest_function(mesh, "s3"),
        as_digest_function(mesh, "kms"),
        mesh.deployment.audit_table_name,
        bucket(mesh),
        mesh.deployment.digest_key_id,
    )

    # When the late writer runs
    again = late.write_digest(NOW + timedelta(minutes=1))

    # Then it finds the heads after "no digest" claimed (n records) and that digest written: it
    # writes nothing, the digest is not replaced, and no second "first digest" exists
    assert again == key == digest_key(n)
    assert len(versions(mesh, key)) == 1
    assert [v.key for v in views(mesh)] == [key]
    # And the next regular run continues the chain
    nxt = writer(mesh).write_digest(NOW + timedelta(hours=1))
    assert [v.chain_ok for v in views(mesh)] == [True, True]
    assert nxt == digest_key(head_seq(mesh))


def test_a_claimed_range_whose_digest_was_never_written_is_written_by_the_next_run(
    mesh: LocalMesh,
) -> None:
    # Given a writer claimed the head of the trail's first record after "no digest" and failed
    # before writing it
    dynamodb = mesh.client(mesh.central, "dynamodb")
    table = mesh.deployment.audit_table_name
    earliest = min(
        (chain_record(i) for i in read_chain_items(dynamodb, table)),
        key=lambda r: json.loads(r.canonical)["recorded_at"],
    )
    assert earliest.seq == 1
    early = {earliest.shard: ChainHead(1, earliest.hash)}
    s3(mesh).put_object(
        Bucket=bucket(mesh),
        Key=claim_key(0),
        Body=json.dumps({"heads": all_heads(64, early)}).encode(),
        ChecksumAlgorithm="SHA256",
    )

    # When the schedule runs (with more records in the trail than that)
    key = mesh.write_digest()["digest"]

    # Then the claimed heads are written exactly, and the next run covers the rest
    assert key == digest_key(1)
    (view,) = views(mesh)
    assert (view.previous_count, view.record_count, view.chain_ok) == (0, 1, True)
    rest = mesh.write_digest()["digest"]
    assert rest == digest_key(head_seq(mesh))
    assert verdict(mesh).ok


# --------------------------------------------------------------------------------------------
# Object Lock
# --------------------------------------------------------------------------------------------


def test_every_digest_is_locked_in_compliance_mode(
    mesh: LocalMesh, two_digests: tuple[str, str]
) -> None:
    for key in two_digests:
        # Given a digest
        head = s3(mesh).head_object(Bucket=bucket(mesh), Key=key)

        # Then it is locked in compliance mode for the retention the template sets (365 days)
        assert head["ObjectLockMode"] == "COMPLIANCE"
        until = head["ObjectLockRetainUntilDate"]
        assert until > datetime.now(UTC) + timedelta(days=364)


def test_a_locked_digest_version_cannot_be_deleted_not_even_bypassing_governance(
    mesh: LocalMesh, two_digests: tuple[str, str]
) -> None:
    # Given a digest's one version
    key = two_digests[0]
    (version,) = versions(mesh, key)

    # When someone deletes that version, with or without the governance bypass
    for bypass in (False, True):
        with pytest.raises(ClientError) as refused:
            s3(mesh).delete_object(
                Bucket=bucket(mesh),
                Key=key,
                VersionId=version["VersionId"],
                BypassGovernanceRetention=bypass,
            )
        # Then S3 refuses: compliance mode binds everyone
        assert refused.value.response["Error"]["Code"] == "AccessDenied"
    assert len(versions(mesh, key)) == 1


# --------------------------------------------------------------------------------------------
# Tampering, as the verifier sees it
# --------------------------------------------------------------------------------------------


def test_an_edited_digest_put_as_a_new_version_fails_its_signature(
    mesh: LocalMesh, two_digests: tuple[str, str]
) -> None:
    # Given someone puts an edited first digest on top of it (a new version: S3 allows that,
    # Object Lock only keeps the locked version from being deleted or overwritten in place)
    first, _ = two_digests
    body, metadata = stored(mesh, first)
    edited = body.replace(b'"previous_record_count":0', b'"previous_record_count":1')
    assert edited != body
    put_version(mesh, first, edited, metadata)

    # When the digests are read (the latest version of each, what anyone reading gets)
    one, two = views(mesh)

    # Then the edited digest fails its signature and the next no longer follows it
    assert not one.signature_ok and not one.key_trusted
    assert two.signature_ok and not two.chain_ok
    problem = verdict(mesh).problem
    assert (problem.kind, problem.digest) == (DIGEST_SIGNATURE, first)
    # And the original, locked version is still there for the investigation
    assert len(versions(mesh, first)) == 2
    oldest = versions(mesh, first)[-1]
    original = s3(mesh).get_object(Bucket=bucket(mesh), Key=first, VersionId=oldest["VersionId"])
    assert original["Body"].read() == body


def test_a_digest_signed_by_another_key_is_authentic_but_not_trusted(mesh: LocalMesh) -> None:
    # Given a digest by the trail's key, then one signed by another KMS key of the account
    writer(mesh).write_digest(NOW)
    publish_sales(mesh, tables=1, database="returns")
    other = another_key(mesh)
    key = writer(mesh, key_id=other, as_admin=True).write_digest(NOW + timedelta(hours=1))

    # When the digests are checked against the trail's key
    one, two = views(mesh)

    # Then the second's signature verifies (with its own key) but the key is not the trail's
    assert two.key == key
    assert one.key_trusted and one.chain_ok
    assert two.signature_ok and two.chain_ok and not two.key_trusted
    assert verdict(mesh).problem.kind == DIGEST_KEY


def test_metadata_naming_the_trails_key_over_another_keys_signature_fails(
    mesh: LocalMesh, two_digests: tuple[str, str]
) -> None:
    # Given the first digest re-signed with another key, its metadata claiming the trail's key
    first, _ = two_digests
    body, metadata = stored(mesh, first)
    forged = signed_metadata(mesh, body, another_key(mesh))
    forged[META_KEY_ID] = metadata[META_KEY_ID]
    put_version(mesh, first, body, forged)

    # When / Then the signature does not verify with the key it names
    one, _ = views(mesh)
    assert not one.signature_ok and not one.key_trusted and one.chain_ok


def test_a_digest_that_does_not_follow_the_previous_breaks_the_digest_chain(
    mesh: LocalMesh,
) -> None:
    # Given a first digest, then a properly signed one that claims to be the first again
    # (someone holding the signing key rewrote history from record 1)
    first = writer(mesh).write_digest(NOW)
    assert first is not None
    publish_sales(mesh, tables=1, database="returns")
    dynamodb = mesh.client(mesh.central, "dynamodb")
    table = mesh.deployment.audit_table_name
    state = read_heads(dynamodb, table)
    key_arn = kms(mesh).describe_key(KeyId=mesh.deployment.digest_key_id)["KeyMetadata"]["Arn"]
    rogue = build_digest(
        trail=table,
        shards=64,
        heads=all_heads(64, state.heads),
        previous=None,
        created_at=NOW + timedelta(hours=1),
        key_id=key_arn,
    ).canonical()
    rogue_key = digest_key(state.record_count)
    signer = as_digest_function(mesh, "kms")  # only the digest role may sign with the key
    put_version(mesh, rogue_key, rogue, signed_metadata(mesh, rogue, key_arn, signer))

    # When the digests are checked
    one, two = views(mesh)

    # Then both are signed by the trail's key, but the second does not follow the first
    assert (one.key, two.key) == (first, rogue_key)
    assert one.chain_ok and two.signature_ok and two.key_trusted
    assert not two.chain_ok
    assert verdict(mesh).problem.kind == DIGEST_CHAIN


def test_a_body_that_is_not_a_digest_fails_everything_but_is_listed(
    mesh: LocalMesh, two_digests: tuple[str, str]
) -> None:
    # Given the second digest's latest version replaced by garbage
    _, second = two_digests
    put_version(mesh, second, b"not a digest", stored(mesh, second)[1])

    # When / Then it is still listed, failing signature and chain
    _, two = views(mesh)
    assert (two.key, two.signature_ok, two.key_trusted, two.chain_ok) == (
        second,
        False,
        False,
        False,
    )


def test_a_digest_hidden_by_a_delete_marker_still_counts_and_breaks_the_chain(
    mesh: LocalMesh, two_digests: tuple[str, str]
) -> None:
    # Given someone "deletes" the last digest without a version id: S3 adds a delete marker
    # (allowed even in compliance mode) and listings no longer show the digest
    _, last = two_digests
    s3(mesh).delete_object(Bucket=bucket(mesh), Key=last)
    listed = s3(mesh).list_objects_v2(Bucket=bucket(mesh), Prefix="digests/").get("Contents", [])
    assert last not in {item["Key"] for item in listed}

    # When the digests are read
    one, two = views(mesh)

    # Then the hidden digest is still read (its locked version) and verifies, but the attempt
    # to hide it is named as a break of the digest chain
    assert two.key == last and two.signature_ok and two.key_trusted
    assert one.chain_ok and not two.chain_ok
    problem = verdict(mesh).problem
    assert (problem.kind, problem.digest) == (DIGEST_CHAIN, last)
    # And the writer still chains from it: no second digest over the same records
    assert writer(mesh).write_digest(NOW) is None
