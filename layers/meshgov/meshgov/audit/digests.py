"""Signed digests of the audit trail, in the spirit of CloudTrail log-file integrity validation.

On a schedule, a digest binds the head (seq and hash of the last record) of *every* shard of the
trail (docs/adr/0019-sharded-audit-trail.md): the records it covers are, in each shard, those up
to that head. It names the previous digest and carries the SHA-256 of its bytes, so digests form
one chain of their own over all shards, as CloudTrail keeps one digest chain per Region and
account over all its log files ("Each digest file contains the names of the log files that were
delivered ... the hash values for those log files, and the digital signature of the previous
digest file"). The digest is signed with a KMS asymmetric key (``ECDSA_SHA_256``) and written to
an S3 bucket with Object Lock in compliance mode. As CloudTrail does, the signature travels in
the object's metadata, not in the body: "The signature for the current digest file is stored in
the metadata properties of the digest file object" (x-amz-meta-signature;
https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-validation-digest-file-structure.html,
https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-custom-validation.html).

Layout of the bucket:

- ``digests/<record count, 20 digits>.json``: the digest's canonical JSON (RFC 8785, the one form of
  the trail: :mod:`meshgov.audit.canonical`); metadata ``signature`` (base64 of the DER ECDSA
  signature of the body's SHA-256), ``signing-algorithm`` and ``key-id`` (the signing key's
  ARN). The record count (the sum of the heads' seqs) only grows, as every shard's head only
  moves forward, so keys sort in digest order and the latest digest is the last key listed:
  the previous digest is found in the bucket itself, no pointer item is kept anywhere else.
- ``claims/<previous record count, 20 digits>.json``: which heads the successor of a digest
  binds.
  Created with ``If-None-Match: *``, so two writers racing (a duplicated scheduled invocation)
  cannot both extend the digest chain from the same digest and fork it: the loser finishes the
  winner's digest instead (or finds it written). A writer that failed after its claim leaves
  the digest for the next run to write, over exactly the claimed heads.

Writing is idempotent: the digest for a ``to_seq`` that exists is left alone. Verification reads
the *latest* version of each digest (what anyone reading the key gets): Object Lock keeps the
version first written, but S3 lets a new version be put on top of it; such a version fails its
signature unless it was signed with the trail's key, which only the digest function may use.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from meshgov.audit.canonical import canonical_json
from meshgov.audit.chain import GENESIS, seq_key
from meshgov.audit.dynamodb import read_heads, read_shard_items
from meshgov.audit.verify import ChainHead, DigestView, ShardHead
from meshgov.aws.session import error_code
from meshgov.errors import DigestReadError, DigestWriteError

if TYPE_CHECKING:
    from meshgov.aws.session import AwsSessions
    from meshgov.settings import AuditDigestSettings

# 3: one head per shard (docs/adr/0019-sharded-audit-trail.md). 2 (one chain, RFC 8785) and 1
# (one chain, json.dumps) covered the single chain of ADR 0006 and are not read any more.
DIGEST_VERSION = 3
SIGNING_ALGORITHM = "ECDSA_SHA_256"
ZERO_HASH = GENESIS  # 64 zeros: the previous digest hash of the first digest
DIGEST_PREFIX = "digests/"
CLAIM_PREFIX = "claims/"

# Object metadata (sent as x-amz-meta-<name>).
META_SIGNATURE = "signature"
META_ALGORITHM = "signing-algorithm"
META_KEY_ID = "key-id"


# --------------------------------------------------------------------------------------------
# The document (pure)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestDocument:
    """What a digest says; its canonical bytes are what is hashed, signed and stored."""

    version: int
    trail: str  # the audit table's name
    shards: int  # the trail's N
    heads: list[dict[str, Any]]  # one {"shard", "seq", "hash"} per shard, in shard order
    record_count: int  # sum of the heads' seqs: every record the digest covers
    previous_record_count: int  # the previous digest's record_count; 0 for the first
    previous_digest_key: str | None  # None for the first digest
    previous_digest_hash: str  # SHA-256 of the previous digest's bytes; 64 zeros for the first
    created_at: str  # UTC, ISO 8601 with a Z
    key_id: str  # ARN of the KMS key that signs it
    signing_algorithm: str = SIGNING_ALGORITHM

    def canonical(self) -> bytes:
        return canonical_json(asdict(self))

    def shard_heads(self) -> tuple[ShardHead, ...]:
        """The heads as the verifier reads them; :class:`ValueError` if one is malformed."""
        try:
            return tuple(
                ShardHead(int(h["shard"]), int(h["seq"]), str(h["hash"])) for h in self.heads
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a digest's heads: {exc}") from exc

    @classmethod
    def parse(cls, body: bytes) -> DigestDocument:
        """The document stored as ``body``; :class:`ValueError` if it is not one (an earlier
        version's included)."""
        try:
            data = json.loads(body.decode("utf-8"))
            document = cls(**data)
        except (UnicodeDecodeError, json.JSONDecodeError, TypeError) as exc:
            raise ValueError(f"not a digest document: {exc}") from exc
        if document.version != DIGEST_VERSION or not isinstance(document.heads, list):
            raise ValueError(f"not a version {DIGEST_VERSION} digest document")
        document.shard_heads()
        return document


def digest_hash(body: bytes) -> str:
    """Hex SHA-256 of a digest's stored bytes (what the next digest carries)."""
    return hashlib.sha256(body).hexdigest()


def digest_key(record_count: int) -> str:
    return f"{DIGEST_PREFIX}{seq_key(record_count)}.json"


def claim_key(previous_count: int) -> str:
    return f"{CLAIM_PREFIX}{seq_key(previous_count)}.json"


def created_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class PreviousDigest:
    """The digest a new one follows: its key, its bytes' hash and the records it covers."""

    key: str
    hash: str
    record_count: int
    heads: tuple[ShardHead, ...] = ()


def all_heads(shards: int, heads: dict[int, ChainHead]) -> list[dict[str, Any]]:
    """One head per shard ``0..shards-1`` (seq 0 and GENESIS for a shard without records)."""
    return [
        {
            "shard": shard,
            "seq": heads[shard].seq if shard in heads else 0,
            "hash": heads[shard].hash if shard in heads else GENESIS,
        }
        for shard in range(shards)
    ]


def build_digest(
    *,
    trail: str,
    shards: int,
    heads: list[dict[str, Any]],
    previous: PreviousDigest | None,
    created_at: datetime,
    key_id: str,
) -> DigestDocument:
    """The digest binding ``heads`` (one per shard, :func:`all_heads`), chained to
    ``previous``."""
    if [h["shard"] for h in heads] != list(range(shards)):
        raise ValueError(f"a digest binds one head per shard 0..{shards - 1}, in order")
    count = sum(int(h["seq"]) for h in heads)
    previous_count = previous.record_count if previous else 0
    if count <= previous_count:
        raise ValueError(f"nothing new: {count} record(s), {previous_count} already digested")
    return DigestDocument(
        version=DIGEST_VERSION,
        trail=trail,
        shards=shards,
        heads=heads,
        record_count=count,
        previous_record_count=previous_count,
        previous_digest_key=previous.key if previous else None,
        previous_digest_hash=previous.hash if previous else ZERO_HASH,
        created_at=created_text(created_at),
        key_id=key_id,
    )


def follows(document: DigestDocument, previous: PreviousDigest | None) -> bool:
    """Whether ``document`` is the digest that comes right after ``previous`` (None: the first).

    It must name the previous digest, its hash and its record count, and cover more records.
    (That no shard went backwards is the verifier's check, with both digests' heads.)
    """
    if previous is None:
        return (
            document.previous_digest_key is None
            and document.previous_digest_hash == ZERO_HASH
            and document.previous_record_count == 0
        )
    return (
        document.previous_digest_key == previous.key
        and document.previous_digest_hash == previous.hash
        and document.previous_record_count == previous.record_count
        and document.record_count > previous.record_count
    )


# --------------------------------------------------------------------------------------------
# The adapter
# --------------------------------------------------------------------------------------------


class DigestWriter:
    """Writes the next digest of the audit chain, when there are new records."""

    def __init__(
        self, dynamodb: Any, s3: Any, kms: Any, table: str, bucket: str, key_id: str
    ) -> None:
        self._dynamodb = dynamodb
        self._s3 = s3
        self._kms = kms
        self._table = table
        self._bucket = bucket
        self._key_id = key_id

    @classmethod
    def from_settings(cls, settings: AuditDigestSettings, sessions: AwsSessions) -> DigestWriter:
        return cls(
            sessions.client("dynamodb"),
            sessions.client("s3"),
            sessions.client("kms"),
            settings.audit_table_name,
            settings.digest_bucket_name,
            settings.digest_key_id,
        )

    def write_digest(self, now: datetime) -> str | None:
        """Write the digest binding every shard's head, when any moved since the previous
        digest; its key, or None when there is nothing new. Raises :class:`DigestWriteError`
        when AWS refuses, or when the trail contradicts itself or the previous digest."""
        try:
            state = read_heads(self._dynamodb, self._table, consistent=True)
            if state.shards is None:
                if state.heads:
                    raise DigestWriteError(
                        "the audit trail's metadata (how many shards) is gone while shard heads "
                        "exist: the trail was changed, no digest is signed over it"
                    )
                return None
            previous = self._previous()
            heads = all_heads(state.shards, state.heads)
            if sum(h["seq"] for h in heads) <= (previous.record_count if previous else 0):
                return None
            heads = self._claim(previous, heads)
            count = sum(int(h["seq"]) for h in heads)
            key = digest_key(count)
            if self._exists(key):
                return key
            self._check_heads(heads, previous)
            document = build_digest(
                trail=self._table,
                shards=len(heads),
                heads=heads,
                previous=previous,
                created_at=now,
                key_id=self._key_arn(),
            )
            self._put_signed(key, document.canonical())
            return key
        except (ClientError, BotoCoreError) as exc:
            raise DigestWriteError(f"digest not written to {self._bucket}: {exc}") from exc

    # --- reads ---------------------------------------------------------------------------------
    def _check_heads(self, heads: list[dict[str, Any]], previous: PreviousDigest | None) -> None:
        """Refuse to sign heads that contradict the previous digest (a shard behind it) or the
        records (a moved head whose record does not have its hash): the trail was changed."""
        before = {h.shard: h for h in previous.heads} if previous else {}
        for head in heads:
            shard, seq, hash_ = int(head["shard"]), int(head["seq"]), str(head["hash"])
            old = before.get(shard)
            if old is not None and (seq < old.seq or (seq == old.seq and hash_ != old.hash)):
                raise DigestWriteError(
                    f"shard {shard}'s head (seq {seq}) is behind the previous digest's (seq "
                    f"{old.seq}): the trail was changed, no digest is signed over it"
                )
            if seq == 0 or (old is not None and seq == old.seq):
                continue
            items = list(read_shard_items(self._dynamodb, self._table, shard, seq, seq))
            if len(items) != 1 or items[0]["hash"]["S"] != hash_:
                raise DigestWriteError(
                    f"audit record {seq} of shard {shard} is not there once with the hash the "
                    "shard's head holds: the trail was changed, no digest is signed over it"
                )

    def _previous(self) -> PreviousDigest | None:
        # Versions, not the listing: a digest hidden by a delete marker is still the last one.
        found = list(_digest_versions(self._s3, self._bucket))
        if not found:
            return None
        key, version, _ = found[-1]
        obj = self._s3.get_object(Bucket=self._bucket, Key=key, VersionId=version)
        body = obj["Body"].read()
        try:
            document = DigestDocument.parse(body)
        except ValueError as exc:
            raise DigestWriteError(f"the last digest {key} cannot be read: {exc}") from exc
        return PreviousDigest(key, digest_hash(body), document.record_count, document.shard_heads())

    def _exists(self, key: str) -> bool:
        try:
            self._s3.head_object(Bucket=self._bucket, Key=key)
        except ClientError as exc:
            if error_code(exc) in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise
        return True

    def _key_arn(self) -> str:
        return str(self._kms.describe_key(KeyId=self._key_id)["KeyMetadata"]["Arn"])

    # --- writes ---------------------------------------------------------------------------------
    def _claim(
        self, previous: PreviousDigest | None, heads: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Claim ``heads`` as what the successor of ``previous`` binds; the heads that hold
        (another writer's, when it claimed first)."""
        key = claim_key(previous.record_count if previous else 0)
        body = canonical_json({"heads": heads})
        try:
            self._s3.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=body,
                ContentType="application/json",
                ChecksumAlgorithm="SHA256",  # Object Lock buckets want a checksum on every put
                IfNoneMatch="*",
            )
        except ClientError as exc:
            if error_code(exc) not in {"PreconditionFailed", "ConditionalRequestConflict"}:
                raise
            claimed = self._s3.get_object(Bucket=self._bucket, Key=key)["Body"].read()
            try:
                held: list[dict[str, Any]] = list(json.loads(claimed)["heads"])
            except (ValueError, KeyError, TypeError) as bad:
                raise DigestWriteError(f"the claim {key} cannot be read: {bad}") from bad
            return held
        return heads

    def _put_signed(self, key: str, body: bytes) -> None:
        signed = self._kms.sign(
            KeyId=self._key_id,
            Message=hashlib.sha256(body).digest(),
            MessageType="DIGEST",
            SigningAlgorithm=SIGNING_ALGORITHM,
        )
        try:
            self._s3.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=body,
                ContentType="application/json",
                ChecksumAlgorithm="SHA256",
                IfNoneMatch="*",
                Metadata={
                    META_SIGNATURE: base64.b64encode(signed["Signature"]).decode("ascii"),
                    META_ALGORITHM: SIGNING_ALGORITHM,
                    META_KEY_ID: str(signed["KeyId"]),
                },
            )
        except ClientError as exc:
            if error_code(exc) not in {"PreconditionFailed", "ConditionalRequestConflict"}:
                raise  # else another writer wrote this very digest first: nothing to do


# --------------------------------------------------------------------------------------------
# Reading digests back (the verifier's side)
# --------------------------------------------------------------------------------------------


def load_digest_views(s3: Any, kms: Any, bucket: str, trusted_key_id: str) -> list[DigestView]:
    """Every digest in key (record count) order, each with its signature checked by KMS, whether the
    trail's key (``trusted_key_id``: id, ARN or alias) signed it, and whether it follows the
    digest before it. Raises :class:`DigestReadError` when the bucket or the key cannot be read.

    ``key_trusted``: the metadata and the signed document both name the trail's key, and the
    signature verifies with it. ``signature_ok``: the signature verifies with the key the
    metadata names (a digest signed by another key can be authentic and still not trusted).
    """
    try:
        trusted = str(kms.describe_key(KeyId=trusted_key_id)["KeyMetadata"]["Arn"])
        views: list[DigestView] = []
        previous: PreviousDigest | None = None
        for key, version, hidden in _digest_versions(s3, bucket):
            obj = s3.get_object(Bucket=bucket, Key=key, VersionId=version)
            body = obj["Body"].read()
            view = _view(kms, key, body, obj.get("Metadata", {}), trusted, previous)
            # A delete marker hides a locked digest from listings but cannot remove it: the
            # digest still counts, and hiding it is reported as a break of the digest chain.
            views.append(replace(view, chain_ok=False) if hidden else view)
            document = _parsed(body)
            previous = PreviousDigest(
                key,
                digest_hash(body),
                document.record_count if document else -1,
                document.shard_heads() if document else (),
            )
    except (ClientError, BotoCoreError) as exc:
        raise DigestReadError(f"digests not readable from {bucket}: {exc}") from exc
    return views


def _view(
    kms: Any,
    key: str,
    body: bytes,
    metadata: dict[str, str],
    trusted: str,
    previous: PreviousDigest | None,
) -> DigestView:
    document = _parsed(body)
    signed_by = metadata.get(META_KEY_ID, "")
    signature = metadata.get(META_SIGNATURE, "")
    signature_ok = bool(signed_by) and _verifies(kms, signed_by, body, signature)
    names_trusted = signed_by == trusted and document is not None and document.key_id == trusted
    heads = document.shard_heads() if document else ()
    return DigestView(
        key=key,
        shards=document.shards if document else 0,
        heads=heads,
        previous_count=document.previous_record_count if document else -1,
        signature_ok=signature_ok,
        key_trusted=names_trusted and signature_ok,
        chain_ok=document is not None
        and key == digest_key(document.record_count)
        and document.record_count == sum(h.seq for h in heads)
        and follows(document, previous),
    )


def _parsed(body: bytes) -> DigestDocument | None:
    try:
        return DigestDocument.parse(body)
    except ValueError:
        return None


def _verifies(kms: Any, key_id: str, body: bytes, signature: str) -> bool:
    """Whether KMS says ``signature`` (base64) signs ``body``'s SHA-256 with ``key_id``.

    A key that does not exist, is disabled or is not a signing key verifies nothing; any other
    error (access denied, throttling) is raised: the answer is unknown, not "no".
    """
    try:
        raw = base64.b64decode(signature, validate=True)
    except ValueError:
        return False
    if not raw:
        return False
    try:
        result = kms.verify(
            KeyId=key_id,
            Message=hashlib.sha256(body).digest(),
            MessageType="DIGEST",
            Signature=raw,
            SigningAlgorithm=SIGNING_ALGORITHM,
        )
    except ClientError as exc:
        if error_code(exc) in {
            "KMSInvalidSignatureException",
            "NotFoundException",
            "DisabledException",
            "KMSInvalidStateException",
            "InvalidKeyUsageException",
            "InvalidArnException",
            "ValidationException",
        }:
            return False
        raise
    return bool(result.get("SignatureValid"))


def _digest_versions(s3: Any, bucket: str) -> Iterator[tuple[str, str, bool]]:
    """``(key, version id, hidden)`` of every digest in record-count order (S3 lists keys in
    UTF-8 binary order; the counts are zero-padded): its newest version that is an object,
    and whether a delete marker is newer (someone tried to delete it: Object Lock kept it)."""
    versions: dict[str, list[tuple[bool, str, str]]] = {}
    hidden: set[str] = set()
    paginator = s3.get_paginator("list_object_versions")
    for page in paginator.paginate(Bucket=bucket, Prefix=DIGEST_PREFIX):
        for marker in page.get("DeleteMarkers", []):
            if marker.get("IsLatest"):
                hidden.add(str(marker["Key"]))
        for version in page.get("Versions", []):
            versions.setdefault(str(version["Key"]), []).append(
                (
                    bool(version.get("IsLatest")),
                    str(version.get("LastModified", "")),
                    str(version["VersionId"]),
                )
            )
    for key in sorted(versions):
        _, _, newest = max(versions[key])  # the latest version, else the most recent one
        yield key, newest, key in hidden
