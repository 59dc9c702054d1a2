"""The hash chains of the audit trail (docs/adr/0006-audit-hash-chain.md,
docs/adr/0019-sharded-audit-trail.md): pure, no AWS.

The trail is :data:`SHARDS` chains ("shards"), each numbered from seq 1 and linked from
:data:`GENESIS`; a record belongs to one shard and says which in its hashed text, so a record
moved to another shard no longer fits there. Records of all shards are ordered together by
:func:`order_key` (time, shard, seq), which is also their sort key in the table.

Every record's *canonical form* is its fields in the RFC 8785 canonical JSON (JCS) of
:mod:`meshgov.audit.canonical`, the one form the digests use too: sorted keys, no whitespace,
UTF-8 (non-ASCII characters as themselves), numbers as ECMAScript prints them::

    {"action":..,"actor":..,"correlation_id":..,"detail":{..},"outcome":..,"reason":..,
     "record_id":..,"recorded_at":..,"seq":..,"shard":..,"target":..}

``recorded_at`` is UTC ISO 8601 with microseconds (``2026-11-25T12:00:00.000000+00:00``), empty
strings stay empty, ``detail`` is the JSON the record stores, as the canonical form holds it
(:func:`meshgov.audit.canonical.jsonable`: values JSON cannot hold become their ``str``).
``hash = SHA-256(prev_hash + "\\n" + canonical)`` in hex; the first record's ``prev_hash`` is
:data:`GENESIS` (64 zeros). The canonical text is stored with the record, so a verifier
recomputes one SHA-256 per record and parses nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from meshgov.audit.canonical import canonical_json, jsonable

GENESIS = "0" * 64
# How many chains the trail has (ADR 0019). A writer picks a shard at random; with W writers
# appending at once a pick lands where another writer is about (W-1)/N of the time, and only
# then can it lose a race. N = 2 x 32 (the bench's writers, and the reserved concurrency that
# bounds the central functions) halves that: measured on the local mesh, 32 writers make
# 1.01-1.03 transactions per record with 64 shards and 1.06-1.22 with 32. The cost is small: a
# digest binds 64 heads (about 7 KiB), a verifier makes one Query per shard. Stored in the
# trail's metadata item with the first record of each shard: a verifier reads it there, never
# from this constant.
SHARDS = 64
CHAIN_PK = "CHAIN"  # the trail's own items: pk = CHAIN; its metadata and one head per shard
META_SK = "META"  # pk = CHAIN, sk = META: ``shards`` (N) and ``format``
HEAD_SK = "HEAD#"  # pk = CHAIN, sk = HEAD#<shard, 2 digits>: that shard's seq and hash
TRAIL_FORMAT = 2  # 1: the one chain of ADR 0006 (not read any more); 2: sharded (ADR 0019)
SEQ_INDEX = "by-seq"  # partition ``chain`` = shard-<ss>, sort ``seq``: one shard in order
SEQ_WIDTH = 20  # seqs in keys: zero-padded
SHARD_WIDTH = 2

FIELDS = (
    "seq",
    "shard",
    "record_id",
    "recorded_at",
    "action",
    "outcome",
    "actor",
    "target",
    "correlation_id",
    "reason",
    "detail",
)
_SEQ_KEY = b',"seq":'
_SHARD_KEY = b',"shard":'
SEQ_MARK = _SEQ_KEY  # what precedes the top-level seq in a canonical text (the last of them)


def shard_mark(shard: int) -> bytes:
    """What follows the top-level seq's ``,`` in the canonical text of a record of ``shard``
    (the verifier's fast check of :func:`place_of`)."""
    return b'"shard":%d,' % shard


def utc_text(moment: datetime) -> str:
    """The one text of a record's time: UTC, ISO 8601, microseconds."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def json_detail(detail: Mapping[str, Any]) -> dict[str, Any]:
    """``detail`` as the canonical form holds it (what is stored and hashed): reading the
    record's canonical text back gives exactly this."""
    held: dict[str, Any] = jsonable(dict(detail))
    return held


def canonical(fields: Mapping[str, Any]) -> str:
    """The canonical text of a record given its :data:`FIELDS` (extra keys are ignored).

    Raises :class:`KeyError` when a field is missing and :class:`ValueError` when one is not
    canonical JSON (``detail`` should have gone through :func:`json_detail`).
    """
    return canonical_json({name: fields[name] for name in FIELDS}).decode("utf-8")


def chain_hash(prev_hash: str, canonical_form: bytes | str) -> str:
    """``SHA-256(prev_hash + "\\n" + canonical)``, hex."""
    body = canonical_form.encode("utf-8") if isinstance(canonical_form, str) else canonical_form
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + body).hexdigest()


def place_of(canonical_form: bytes) -> tuple[int, int] | None:
    """The ``(shard, seq)`` a canonical text states, without parsing the JSON (None if it does
    not state both, as its last members but ``target``).

    Keys are sorted, so the top-level ``seq`` is the last ``,"seq":`` in the text and ``shard``
    comes right after it: only ``target``, a string, follows, and a JSON string cannot hold an
    unescaped ``"``.
    """
    start = canonical_form.rfind(_SEQ_KEY)
    if start < 0:
        return None
    start += len(_SEQ_KEY)
    middle = canonical_form.find(_SHARD_KEY, start)
    if middle < 0:
        return None
    end = canonical_form.find(b",", middle + len(_SHARD_KEY))
    try:
        seq = int(canonical_form[start:middle])
        shard = int(canonical_form[middle + len(_SHARD_KEY) : end if end >= 0 else None])
    except ValueError:
        return None
    return shard, seq


def seq_key(seq: int) -> str:
    """A seq (or a digest's record count) in a key: zero-padded to :data:`SEQ_WIDTH` digits."""
    return f"{seq:0{SEQ_WIDTH}d}"


def chain_name(shard: int) -> str:
    """The ``chain`` attribute (the ``by-seq`` index's partition) of a shard's records."""
    return f"shard-{shard:0{SHARD_WIDTH}d}"


def head_sk(shard: int) -> str:
    """The sort key of a shard's head item (partition :data:`CHAIN_PK`)."""
    return f"{HEAD_SK}{shard:0{SHARD_WIDTH}d}"


def order_key(recorded_at: str, shard: int, seq: int) -> str:
    """The global order of the trail's records, as text (a record's sort key): its time (UTC,
    microseconds, :func:`utc_text`), then shard and seq, which no two records share. Within a
    shard it follows the seq: a record's time is never before its predecessor's."""
    return f"{recorded_at}#{shard:0{SHARD_WIDTH}d}#{seq:0{SEQ_WIDTH}d}"
