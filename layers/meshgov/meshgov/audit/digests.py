"""Signed digests of the audit chain, in the spirit of CloudTrail log-file integrity validation.

On a schedule, a digest covers the records appended since the previous digest (``from_seq`` to
``to_seq``, the hash of record ``to_seq``), names the previous digest and carries the SHA-256 of
its bytes, so digests form their own chain (docs/adr/0006-audit-hash-chain.md). The digest is
signed with a KMS asymmetric key (``ECDSA_SHA_256``) and written to an S3 bucket with Object Lock
in compliance mode. As CloudTrail does, the signature travels in the object's metadata, not in
the body: "The signature for the current digest file is stored in the metadata properties of the
digest file object" (x-amz-meta-signature;
https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-validation-digest-file-structure.html,
https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-custom-validation.html).

Layout of the bucket:

- ``digests/<to_seq, 20 digits>.json``: the digest's canonical JSON (RFC 8785, the one form of
  the trail: :mod:`meshgov.audit.canonical`); metadata ``signature`` (base64 of the DER ECDSA
  signature of the body's SHA-256), ``signing-algorithm`` and ``key-id`` (the signing key's
  ARN). Keys sort in ``to_seq`` order, so the latest digest is the last key listed: the
  previous digest is found in the bucket itself, no pointer item is kept anywhere else.
- ``claims/<previous to_seq, 20 digits>.json``: which range the successor of a digest covers.
  Created with ``If-None-Match: *``, so two writers racing (a duplicated scheduled invocation)
  cannot both extend the digest chain from the same digest and fork it: the loser finishes the
  winner's digest instead (or finds it written). A writer that failed after its claim leaves
  the digest for the next run to write, over exactly the claimed range.

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
from meshgov.audit.dynamodb import read_chain_items, read_head
from meshgov.audit.verify import DigestView
from meshgov.aws.session import error_code
from meshgov.errors import DigestReadError, DigestWriteError

if TYPE_CHECKING:
    from meshgov.aws.session import AwsSessions
    from meshgov.settings import AuditDigestSettings

# 2: the digest, and the records it covers, are in RFC 8785 canonical JSON (issue 17); 1 was
# Python's sorted compact json.dumps (docs/adr/0006-audit-hash-chain.md). Both are read.
DIGEST_VERSION = 2
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
    from_seq: int
    to_seq: int
    first_prev_hash: str  # prev_hash of record from_seq (links the range to what came before)
    last_hash: str  # hash of record to_seq
    record_count: int
    previous_digest_key: str | None  # None for the first digest
    previous_digest_hash: str  # SHA-256 of the previous digest's bytes; 64 zeros for the first
    created_at: str  # UTC, ISO 8601 with a Z
    key_id: str  # ARN of the KMS key that signs it
    signing_algorithm: str = SIGNING_ALGORITHM

    def canonical(self) -> bytes:
        return canonical_json(asdict(self))

    @classmethod
    def parse(cls, body: bytes) -> DigestDocument:
        """The document stored as ``body``; :class:`ValueError` if it is not one."""
        try:
            data = json.loads(body.decode("utf-8"))
            return cls(**data)
        except (UnicodeDecodeError, json.JSONDecodeError, TypeError) as exc:
            raise ValueError(f"not a digest document: {exc}") from exc


def digest_hash(body: bytes) -> str:
    """Hex SHA-256 of a digest's stored bytes (what the next digest carries)."""
    return hashlib.sha256(body).hexdigest()


def digest_key(to_seq: int) -> str:
    return f"{DIGEST_PREFIX}{seq_key(to_seq)}.json"


def claim_key(previous_to_seq: int) -> str:
    return f"{CLAIM_PREFIX}{seq_key(previous_to_seq)}.json"


def created_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class PreviousDigest:
    """The digest a new one follows: its key, its bytes' hash and the range it ended."""

    key: str
    hash: str
    to_seq: int
    last_hash: str


def build_digest(
    *,
    trail: str,
    from_seq: int,
    to_seq: int,
    first_prev_hash: str,
    last_hash: str,
    previous: PreviousDigest | None,
    created_at: datetime,
    key_id: str,
) -> DigestDocument:
    """The digest of records ``from_seq``..``to_seq``, chained to ``previous``."""
    if to_seq < from_seq:
        raise ValueError(f"empty range {from_seq}..{to_seq}")
    return DigestDocument(
        version=DIGEST_VERSION,
        trail=trail,
        from_seq=from_seq,
        to_seq=to_seq,
        first_prev_hash=first_prev_hash,
        last_hash=last_hash,
        record_count=to_seq - from_seq + 1,
        previous_digest_key=previous.key if previous else None,
        previous_digest_hash=previous.hash if previous else ZERO_HASH,
        created_at=created_text(created_at),
        key_id=key_id,
    )


def follows(document: DigestDocument, previous: PreviousDigest | None) -> bool:
    """Whether ``document`` is the digest that comes right after ``previous`` (None: the first).

    It must name the previous digest and its hash, and cover the records right after it: starting
    at the next ``seq`` and linking to the hash the previous digest ended with.
    """
    if previous is None:
        return (
            document.previous_digest_key is None
            and document.previous_digest_hash == ZERO_HASH
            and document.from_seq == 1
            and document.first_prev_hash == ZERO_HASH
        )
    return (
        document.previous_digest_key == previous.key
        and document.previous_digest_hash == previous.hash
        and document.from_seq == previous.to_seq + 1
        and document.first_prev_hash == previous.last_hash
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
        """Write the digest of the records appended since the previous one; its key, or None
        when there is nothing new. Raises :class:`DigestWriteError` when AWS refuses."""
        try:
            head = read_head(self._dynamodb, self._table, consistent=True)
            previous = self._previous()
            previous_to = previous.to_seq if previous else 0
            if head is None or head.seq <= previous_to:
                return None
            to_seq = self._claim(previous_to, head.seq)
            key = digest_key(to_seq)
            if self._exists(key):
                return key
            last = self._record(to_seq)
            if to_seq == head.seq and last["hash"] != head.hash:
                raise DigestWriteError(
                    f"audit record {to_seq} does not have the hash the chain's head holds: "
                    "the trail was changed, no digest is signed over it"
                )
            document = build_digest(
                trail=self._table,
                from_seq=previous_to + 1,
                to_seq=to_seq,
                first_prev_hash=self._record(previous_to + 1)["prev_hash"],
                last_hash=last["hash"],
                previous=previous,
                created_at=now,
                key_id=self._key_arn(),
            )
            self._put_signed(key, document.canonical())
            return key
        except (ClientError, BotoCoreError) as exc:
            raise DigestWriteError(f"digest not written to {self._bucket}: {exc}") from exc

    # --- reads ---------------------------------------------------------------------------------
    def _record(self, seq: int) -> dict[str, str]:
        """``hash`` and ``prev_hash`` of record ``seq`` (through the ``by-seq`` index)."""
        items = list(read_chain_items(self._dynamodb, self._table, seq, seq))
        if len(items) != 1:
            raise DigestWriteError(f"audit record {seq} found {len(items)} times, not once")
        return {"hash": items[0]["hash"]["S"], "prev_hash": items[0]["prev_hash"]["S"]}

    def _previous(self) -> PreviousDigest | None:
        # Versions, not the listing: a digest hidden by a delete marker is still the last one.
        found = list(_digest_versions(self._s3, self._bucket))
        if not found:
            return None
        key, version, _ = found[-1]
        obj = self._s3.get_object(Bucket=self._bucket, Key=key, VersionId=version)
        body = obj["Body"].read()
        document = DigestDocument.parse(body)
        return PreviousDigest(key, digest_hash(body), document.to_seq, document.last_hash)

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
    def _claim(self, previous_to: int, head: int) -> int:
        """Claim the range after digest ``previous_to`` up to ``head``; the range's end that
        holds (another writer's, when it claimed first)."""
        key = claim_key(previous_to)
        body = canonical_json({"from_seq": previous_to + 1, "to_seq": head})
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
            return int(json.loads(claimed)["to_seq"])
        return head

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
    """Every digest in ``to_seq`` order, each with its signature checked by KMS, whether the
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
                document.to_seq if document else -1,
                document.last_hash if document else "",
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
    return DigestView(
        key=key,
        from_seq=document.from_seq if document else 0,
        to_seq=document.to_seq if document else 0,
        last_hash=document.last_hash if document else "",
        signature_ok=signature_ok,
        key_trusted=names_trusted and signature_ok,
        chain_ok=document is not None
        and key == digest_key(document.to_seq)
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
    """``(key, version id, hidden)`` of every digest in ``to_seq`` order (S3 lists keys in UTF-8
    binary order; the sequence numbers are zero-padded): its newest version that is an object,
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
