"""The hash chain of the audit trail (docs/adr/0006-audit-hash-chain.md): pure, no AWS.

Every record's *canonical form* is its fields in the RFC 8785 canonical JSON (JCS) of
:mod:`meshgov.audit.canonical`, the one form the digests use too: sorted keys, no whitespace,
UTF-8 (non-ASCII characters as themselves), numbers as ECMAScript prints them::

    {"action":..,"actor":..,"correlation_id":..,"detail":{..},"outcome":..,"reason":..,
     "record_id":..,"recorded_at":..,"seq":..,"target":..}

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
CHAIN_NAME = "main"  # the one chain of the trail (item attribute ``chain``)
CHAIN_PK = "CHAIN"  # the head item: pk = CHAIN, sk = HEAD, with seq and hash
HEAD_SK = "HEAD"
SEQ_INDEX = "by-seq"
SEQ_WIDTH = 20  # record sort keys: the seq, zero-padded

FIELDS = (
    "seq",
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


def seq_of(canonical_form: bytes) -> int | None:
    """The ``seq`` a canonical text states, without parsing the JSON (None if it states none).

    Keys are sorted, so the top-level ``seq`` is the last ``,"seq":`` in the text: only
    ``target``, a string, follows it, and a JSON string cannot hold an unescaped ``"``.
    """
    start = canonical_form.rfind(_SEQ_KEY)
    if start < 0:
        return None
    start += len(_SEQ_KEY)
    end = canonical_form.find(b",", start)
    try:
        return int(canonical_form[start : end if end >= 0 else None])
    except ValueError:
        return None


def seq_key(seq: int) -> str:
    """A record's sort key: its seq, zero-padded to :data:`SEQ_WIDTH` digits."""
    return f"{seq:0{SEQ_WIDTH}d}"
