"""Checking the audit trail: the hash chain, the head and the signed digests (pure, no AWS).

:func:`verify_chain` walks the records in ``seq`` order (as the ``by-seq`` index returns them)
and stops at the first problem, which it names. Per record it recomputes one SHA-256 over the
stored canonical text (:mod:`meshgov.audit.chain`) and reads the ``seq`` the text states without
parsing it; nothing else is computed unless something is wrong. Nothing is re-serialized: the
text is RFC 8785 (:mod:`meshgov.audit.canonical`) so that an outsider can rebuild it from the
parsed fields, but the hash is checked over the stored bytes as they are.

Rules, in the order they are applied to each record ``r`` (``e``: the seq the chain expects next,
``s``: the seq ``r``'s hashed canonical text states, ``last``: the record before ``r``):

- **edit**: ``SHA-256(r.prev_hash + "\\n" + r.canonical) != r.hash`` (the content was changed),
  or, once ``r`` is in its place, the item's plain attributes (its ``seq``, action, outcome...)
  disagree with the hashed canonical text they copy (``ChainRecord.copy_agrees``).
- ``r`` is out of place when ``r.prev_hash != last.hash`` or ``s != e``. Then:

  - linked (``r.prev_hash == last.hash``) but numbered wrong: **insertion** (a record written
    with a valid hash that the trail never numbered so);
  - ``r`` and ``last`` both follow the same record: one of them is an **insertion**; the one the
    next record links to is genuine, the other is named;
  - ``r.prev_hash`` is the hash of a record stored further on: **reorder** (the records' links
    fit another order);
  - ``s > e`` and ``r`` links to no record present: **deletion** of records ``e``..``s-1``;
  - ``s == e``, ``r`` links to no record present but the next record links to ``r``: ``last``
    was rewritten with a recomputed hash: **edit** of ``last``;
  - otherwise (``r`` links to no record present, and no seq is missing): **insertion**.

- The record at the head item's ``seq`` must have the head's hash (**edit** otherwise: the last
  record was rewritten with a recomputed hash).
- After the last record: the trail ends before the head item's ``seq`` or before the last
  digest's ``to_seq``: **truncation** (of the records after the last one present).

The verifier keeps only the previous record while walking; when something is wrong it reads
the rest of the records to classify it. A problem is reported at the first record where the
chain breaks, with the ``seq`` stored on that record (for a deletion, the first missing seq).

Digests (:class:`DigestView`, read and checked against S3 and KMS by
:mod:`meshgov.audit.digests`) are checked first, in ``to_seq`` order: a signature that does not
verify (**digest-signature**), a digest signed by a key that is not the trail's
(**digest-key**), a digest that does not follow the one before it or leaves a gap
(**digest-chain**). During the walk, the hash of record ``to_seq`` must be the digest's
``last_hash`` (**digest-mismatch**: the records up to there were rewritten, links and all).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from itertools import chain
from typing import Any, Protocol

from meshgov.audit.chain import GENESIS, seq_of

EDIT = "edit"
DELETION = "deletion"
INSERTION = "insertion"
REORDER = "reorder"
TRUNCATION = "truncation"
DIGEST_SIGNATURE = "digest-signature"
DIGEST_KEY = "digest-key"
DIGEST_CHAIN = "digest-chain"
DIGEST_MISMATCH = "digest-mismatch"
KINDS = (
    EDIT,
    DELETION,
    INSERTION,
    REORDER,
    TRUNCATION,
    DIGEST_SIGNATURE,
    DIGEST_KEY,
    DIGEST_CHAIN,
    DIGEST_MISMATCH,
)


@dataclass(frozen=True, slots=True)
class ChainRecord:
    """One record as stored: its place (``seq``, the item's attribute), its links and the
    canonical text its hash covers. ``copy_agrees`` says whether the item's plain attributes
    (shown and filtered on) match the canonical text (the reader checks; True if not checked)."""

    seq: int
    prev_hash: str
    hash: str
    canonical: bytes
    copy_agrees: bool = True


@dataclass(frozen=True)
class DigestView:
    """One digest as the verifier sees it (:mod:`meshgov.audit.digests` builds these)."""

    key: str
    from_seq: int
    to_seq: int
    last_hash: str
    signature_ok: bool
    key_trusted: bool
    chain_ok: bool


class DigestLike(Protocol):
    """Anything with a :class:`DigestView`'s attributes."""

    @property
    def key(self) -> str: ...
    @property
    def from_seq(self) -> int: ...
    @property
    def to_seq(self) -> int: ...
    @property
    def last_hash(self) -> str: ...
    @property
    def signature_ok(self) -> bool: ...
    @property
    def key_trusted(self) -> bool: ...
    @property
    def chain_ok(self) -> bool: ...


@dataclass(frozen=True)
class ChainHead:
    """The head item: the seq and hash of the last record appended (0 and GENESIS: none)."""

    seq: int
    hash: str


@dataclass(frozen=True)
class Problem:
    kind: str  # one of KINDS
    seq: int  # the record it is about (for a digest problem: the digest's to_seq)
    message: str
    digest: str = ""  # the digest's key, for digest problems


@dataclass(frozen=True)
class Verdict:
    ok: bool
    records_checked: int
    digests_checked: int
    last_seq: int  # the seq of the last record checked in place (0: none)
    problem: Problem | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def verify_chain(
    records: Iterable[ChainRecord],
    digests: Sequence[DigestLike] = (),
    *,
    head: ChainHead | None = None,
) -> Verdict:
    """Check ``records`` (in stored ``seq`` order, from seq 1) against themselves, the ``head``
    item and the ``digests``; the first problem, named (see the module's rules)."""
    ordered = sorted(digests, key=lambda d: (d.to_seq, d.from_seq))
    problem = _digest_problem(ordered)
    if problem:
        return Verdict(False, 0, len(ordered), 0, problem)
    ends = {d.to_seq: d for d in ordered}
    next_end = ordered[0].to_seq if ordered else 0
    sha256 = hashlib.sha256
    read_seq = seq_of
    head_seq, head_hash = (head.seq, head.hash) if head else (-1, "")
    last_hash = GENESIS
    last: ChainRecord | None = None
    expected = 1
    checked = 0
    it: Iterator[ChainRecord] = iter(records)
    for r in it:
        checked += 1
        text = r.canonical
        if sha256(r.prev_hash.encode() + b"\n" + text).hexdigest() != r.hash:
            return _failed(checked, ordered, expected - 1, _edit(r))
        s = read_seq(text)
        if r.prev_hash != last_hash or s != expected:
            return _failed(checked, ordered, expected - 1, _out_of_place(r, s, last, expected, it))
        if r.seq != s or not r.copy_agrees:
            return _failed(checked, ordered, expected - 1, _copy_edit(r, s))
        if s == head_seq and r.hash != head_hash:
            return _failed(checked, ordered, expected - 1, _head_edit(r))
        if s == next_end:
            digest = ends[s]
            if digest.last_hash != r.hash:
                return _failed(checked, ordered, expected - 1, _mismatch(digest))
            later = [d.to_seq for d in ordered if d.to_seq > s]
            next_end = later[0] if later else 0
        last_hash = r.hash
        last = r
        expected += 1
    last_seq = expected - 1
    promised = max([d.to_seq for d in ordered] + [head.seq if head else 0])
    if last_seq < promised:
        source = (
            f"the last digest covers up to {ordered[-1].to_seq}"
            if ordered and ordered[-1].to_seq == promised
            else f"the chain's head says {promised}"
        )
        message = (
            f"the trail ends at seq {last_seq} but {source}: "
            f"records {last_seq + 1}..{promised} are gone"
        )
        return Verdict(
            False, checked, len(ordered), last_seq, Problem(TRUNCATION, last_seq + 1, message)
        )
    return Verdict(True, checked, len(ordered), last_seq)


def _failed(
    checked: int, digests: Sequence[DigestLike], last_seq: int, problem: Problem
) -> Verdict:
    return Verdict(False, checked, len(digests), last_seq, problem)


def _edit(r: ChainRecord) -> Problem:
    return Problem(
        EDIT,
        r.seq,
        f"record {r.seq} was changed: its content does not hash to its stored hash",
    )


def _head_edit(r: ChainRecord) -> Problem:
    return Problem(
        EDIT,
        r.seq,
        f"record {r.seq} is not the one the chain's head names: it was rewritten with a new hash",
    )


def _copy_edit(r: ChainRecord, s: int | None) -> Problem:
    if r.seq != s:
        return Problem(
            EDIT, r.seq, f"record {r.seq}'s seq attribute was changed (its hashed seq is {s})"
        )
    return Problem(
        EDIT,
        r.seq,
        f"record {r.seq} was changed: its attributes disagree with the content its hash covers",
    )


def _out_of_place(
    r: ChainRecord,
    s: int | None,
    last: ChainRecord | None,
    expected: int,
    rest: Iterator[ChainRecord],
) -> Problem:
    last_hash = last.hash if last else GENESIS
    if r.prev_hash == last_hash:
        return Problem(
            INSERTION,
            r.seq,
            f"record {r.seq} follows record {expected - 1} but states seq {s}: "
            "it was not appended by the trail",
        )
    following = next(rest, None)
    continues = following is not None and following.prev_hash == r.hash
    if last is not None and r.prev_hash == last.prev_hash:
        inserted = last if continues else r
        return Problem(
            INSERTION,
            inserted.seq,
            f"records {last.seq} and {r.seq} both follow the same record: record "
            f"{inserted.seq} is not part of the chain",
        )
    if following is not None:
        for later in chain([following], rest):
            if later.hash == r.prev_hash:
                return Problem(
                    REORDER,
                    r.seq,
                    f"record {r.seq} follows record {later.seq}, which is stored after it: "
                    "records were reordered",
                )
    if s is not None and s > expected:
        missing = f"{expected}" if s == expected + 1 else f"{expected}..{s - 1}"
        return Problem(
            DELETION,
            expected,
            f"record(s) {missing} missing: record {r.seq} follows a record that is gone",
        )
    if last is not None and s == expected and continues:
        return Problem(
            EDIT,
            last.seq,
            f"record {last.seq} was rewritten with a new hash: record {r.seq} does not link to it",
        )
    return Problem(
        INSERTION,
        r.seq,
        f"record {r.seq} links to no record of the trail: it was not appended by the trail",
    )


def _mismatch(digest: DigestLike) -> Problem:
    return Problem(
        DIGEST_MISMATCH,
        digest.to_seq,
        f"record {digest.to_seq}'s hash is not the one digest {digest.key} signed: records "
        f"{digest.from_seq}..{digest.to_seq} were rewritten (content and links)",
        digest.key,
    )


def _digest_problem(digests: Sequence[DigestLike]) -> Problem | None:
    previous_to = 0
    for d in digests:
        if not d.signature_ok:
            return Problem(
                DIGEST_SIGNATURE, d.to_seq, f"digest {d.key}: its signature does not verify", d.key
            )
        if not d.key_trusted:
            return Problem(
                DIGEST_KEY,
                d.to_seq,
                f"digest {d.key} is signed by a key that is not the trail's",
                d.key,
            )
        if not d.chain_ok or d.from_seq != previous_to + 1:
            return Problem(
                DIGEST_CHAIN,
                d.to_seq,
                f"digest {d.key} (records {d.from_seq}..{d.to_seq}) does not follow the digest "
                f"before it (which ends at {previous_to}): a digest is missing, replaced or moved",
                d.key,
            )
        previous_to = d.to_seq
    return None


def chain_records_of(records: Iterable[Any]) -> Iterator[ChainRecord]:
    """:class:`ChainRecord` s of :class:`~meshgov.audit.model.AuditRecord` s (memory trail)."""
    for record in records:
        yield ChainRecord(
            record.seq, record.prev_hash, record.hash, record.canonical().encode("utf-8")
        )


__all__ = [
    "KINDS",
    "ChainHead",
    "ChainRecord",
    "DigestView",
    "Problem",
    "Verdict",
    "verify_chain",
]
