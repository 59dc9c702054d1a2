"""Checking the audit trail: its shards' hash chains, their heads and the signed digests (pure,
no AWS; docs/adr/0006-audit-hash-chain.md, docs/adr/0019-sharded-audit-trail.md).

The trail is ``N`` chains ("shards", N from the trail's metadata item). :func:`verify_chain`
takes the records shard by shard, each shard in ``seq`` order (as the ``by-seq`` index returns
them, one Query per shard), and stops at the first problem, which it names with its shard. Per
record it recomputes one SHA-256 over the stored canonical text (:mod:`meshgov.audit.chain`) and
reads the ``shard`` and ``seq`` the text states without parsing it; nothing else is computed
unless something is wrong. Nothing is re-serialized: the text is RFC 8785
(:mod:`meshgov.audit.canonical`) so that an outsider can rebuild it from the parsed fields, but
the hash is checked over the stored bytes as they are.

Rules, in the order they are applied to each record ``r`` of shard ``k`` (``e``: the seq the
shard's chain expects next, ``s``: the seq ``r``'s hashed canonical text states, ``last``: the
record before ``r`` in the shard):

- **edit**: ``SHA-256(r.prev_hash + "\\n" + r.canonical) != r.hash`` (the content was changed),
  or, once ``r`` is in its place, the item's plain attributes (its ``seq``, ``shard``, action,
  outcome...) disagree with the hashed canonical text they copy (``ChainRecord.copy_agrees``).
- **insertion** (moved): ``r``'s hashed text names another shard than the chain it is stored in.
- ``r`` is out of place when ``r.prev_hash != last.hash`` or ``s != e``. Then:

  - linked (``r.prev_hash == last.hash``) but numbered wrong: **insertion** (a record written
    with a valid hash that the trail never numbered so);
  - ``r`` and ``last`` both follow the same record: one of them is an **insertion**; the one the
    next record links to is genuine, the other is named;
  - ``r.prev_hash`` is the hash of a record stored further on in the shard: **reorder**;
  - ``s > e`` and ``r`` links to no record present: **deletion** of records ``e``..``s-1``;
  - ``s == e``, ``r`` links to no record present but the next record links to ``r``: ``last``
    was rewritten with a recomputed hash: **edit** of ``last``;
  - otherwise (``r`` links to no record present, and no seq is missing): **insertion**.

- The record at the shard's head item ``seq`` must have the head's hash (**edit** otherwise:
  the last record was rewritten with a recomputed hash).
- After a shard's last record: the shard ends before its head item's ``seq`` or before the
  head the last digest binds for it: **truncation** (of the records after the last one present).
  A shard with a head or a digested head but no record at all is truncated from seq 1.
- A head item for a shard outside ``0..N-1``, or records in such a shard, or a shard's records
  given twice: **shards** (the trail's metadata does not describe what is stored).

The verifier keeps only the previous record while walking; when something is wrong it reads
the rest of the shard's records to classify it. A problem is reported at the first record where
the chain breaks, with the ``seq`` stored on that record (for a deletion, the first missing seq)
and its shard.

Digests (:class:`DigestView`, read and checked against S3 and KMS by
:mod:`meshgov.audit.digests`) each bind the head (seq, hash) of every shard; they are checked
first, in order of the records they cover (the sum of the heads' seqs): a signature that does
not verify (**digest-signature**), a digest signed by a key that is not the trail's
(**digest-key**), a digest that does not follow the one before it, or in which a shard went
backwards (**digest-chain**), a digest that does not bind exactly one head per shard of the
trail (**digest-heads**). During the walk, the hash of the record at each digested head must
be the digest's (**digest-mismatch**: the shard's records up to there were rewritten, links
and all).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from itertools import chain, takewhile
from typing import Any, Protocol

from meshgov.audit.chain import GENESIS, SEQ_MARK, place_of, shard_mark

EDIT = "edit"
DELETION = "deletion"
INSERTION = "insertion"
REORDER = "reorder"
TRUNCATION = "truncation"
SHARDS_MISMATCH = "shards"
DIGEST_SIGNATURE = "digest-signature"
DIGEST_KEY = "digest-key"
DIGEST_CHAIN = "digest-chain"
DIGEST_HEADS = "digest-heads"
DIGEST_MISMATCH = "digest-mismatch"
KINDS = (
    EDIT,
    DELETION,
    INSERTION,
    REORDER,
    TRUNCATION,
    SHARDS_MISMATCH,
    DIGEST_SIGNATURE,
    DIGEST_KEY,
    DIGEST_CHAIN,
    DIGEST_HEADS,
    DIGEST_MISMATCH,
)


@dataclass(frozen=True, slots=True)
class ChainRecord:
    """One record as stored: its place (``seq``, the item's attribute; ``shard``, the chain it
    was read from), its links and the canonical text its hash covers. ``copy_agrees`` says
    whether the item's plain attributes (shown and filtered on) match the canonical text (the
    reader checks; True if not checked)."""

    seq: int
    prev_hash: str
    hash: str
    canonical: bytes
    copy_agrees: bool = True
    shard: int = 0


@dataclass(frozen=True, slots=True)
class ShardHead:
    """A shard's head as a digest binds it: the seq and hash of its last record (0 and GENESIS:
    none yet)."""

    shard: int
    seq: int
    hash: str


@dataclass(frozen=True)
class DigestView:
    """One digest as the verifier sees it (:mod:`meshgov.audit.digests` builds these)."""

    key: str
    shards: int  # the trail's N as the digest states it
    heads: tuple[ShardHead, ...]  # as the digest lists them
    previous_count: int  # the record count of the digest it names as previous (0: none)
    signature_ok: bool
    key_trusted: bool
    chain_ok: bool

    @property
    def record_count(self) -> int:
        """How many records the digest covers, all shards together (its place in the chain)."""
        return sum(head.seq for head in self.heads)


class DigestLike(Protocol):
    """Anything with a :class:`DigestView`'s attributes."""

    @property
    def key(self) -> str: ...
    @property
    def shards(self) -> int: ...
    @property
    def heads(self) -> tuple[ShardHead, ...]: ...
    @property
    def previous_count(self) -> int: ...
    @property
    def record_count(self) -> int: ...
    @property
    def signature_ok(self) -> bool: ...
    @property
    def key_trusted(self) -> bool: ...
    @property
    def chain_ok(self) -> bool: ...


@dataclass(frozen=True)
class ChainHead:
    """A shard's head item: the seq and hash of its last record (0 and GENESIS: none), and
    that record's time (the writer's floor for the next one; not verified)."""

    seq: int
    hash: str
    recorded_at: str = ""


@dataclass(frozen=True)
class Problem:
    kind: str  # one of KINDS
    seq: int  # the record it is about (for a digest problem: the digest's record count)
    message: str
    digest: str = ""  # the digest's key, for digest problems
    shard: int = 0  # the shard of the record it is about


@dataclass(frozen=True)
class Verdict:
    ok: bool
    records_checked: int
    digests_checked: int
    last_seq: int  # records found in place: the sum over shards of the last seq checked in place
    problem: Problem | None = None
    shards: int = 0  # the shards walked (with records)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# shard -> {seq: (hash, digest)}: the heads the digests bind, where the walk checks them
_Marks = dict[int, dict[int, tuple[str, DigestLike]]]


def verify_chain(
    records: Iterable[ChainRecord],
    digests: Sequence[DigestLike] = (),
    *,
    heads: Mapping[int, ChainHead] | None = None,
    shards: int | None = None,
) -> Verdict:
    """Check ``records`` (shard after shard, each in stored ``seq`` order from seq 1) against
    themselves, the shards' ``heads`` items and the ``digests``; the first problem, named (see
    the module's rules). ``shards``: the trail's N from its metadata (None: the digests' N,
    else any shard is accepted)."""
    ordered = sorted(digests, key=lambda d: (d.record_count, d.key))
    count = shards if shards is not None else (ordered[-1].shards if ordered else None)
    problem = _digest_problem(ordered, count)
    if problem:
        return Verdict(False, 0, len(ordered), 0, problem)
    head_of = dict(heads or {})
    stray = sorted(k for k in head_of if count is not None and not 0 <= k < count)
    if stray:
        return Verdict(False, 0, len(ordered), 0, _stray(stray[0], count, "has a head item"))
    marks = _marks(ordered)
    checked = in_place = walked = 0
    seen: set[int] = set()
    it: Iterator[ChainRecord] = iter(records)
    pending = next(it, None)
    while pending is not None:
        shard = pending.shard
        if shard in seen or shard < 0 or (count is not None and shard >= count):
            why = "is given twice" if shard in seen else "has records"
            return Verdict(False, checked, len(ordered), in_place, _stray(shard, count, why))
        seen.add(shard)
        walked += 1
        done, last_seq, problem, pending = _walk(
            shard, pending, it, head_of.get(shard), marks.get(shard, {})
        )
        checked += done
        in_place += last_seq
        problem = problem or _truncated(shard, last_seq, head_of.get(shard), marks, ordered)
        if problem:
            return Verdict(False, checked, len(ordered), in_place, problem, walked)
    for shard in sorted((set(head_of) | set(marks)) - seen):
        problem = _truncated(shard, 0, head_of.get(shard), marks, ordered)
        if problem:
            return Verdict(False, checked, len(ordered), in_place, problem, walked)
    return Verdict(True, checked, len(ordered), in_place, None, walked)


def _walk(
    shard: int,
    first: ChainRecord,
    it: Iterator[ChainRecord],
    head: ChainHead | None,
    marks: Mapping[int, tuple[str, DigestLike]],
) -> tuple[int, int, Problem | None, ChainRecord | None]:
    """Walk one shard's records from ``first``: ``(records checked, last seq in place,
    problem, the first record of the next shard)``."""
    sha256 = hashlib.sha256
    mark, width = SEQ_MARK, len(SEQ_MARK)
    tag = shard_mark(shard)
    head_seq, head_hash = (head.seq, head.hash) if head else (-1, "")
    ends = iter(sorted(marks))
    next_end = next(ends, 0)
    last_hash = GENESIS
    last: ChainRecord | None = None
    expected = 1
    checked = 0
    for r in chain((first,), it):
        if r.shard != shard:
            return checked, expected - 1, None, r
        checked += 1
        text = r.canonical
        if sha256(r.prev_hash.encode() + b"\n" + text).hexdigest() != r.hash:
            return checked, expected - 1, _edit(r), None
        # The seq and shard the text states, read in place (what place_of does, inlined: this
        # loop's cost is the verifier's throughput)
        start = text.rfind(mark) + width
        end = text.find(b",", start)
        try:
            s = int(text[start:end]) if start >= width and end > 0 else 0
        except ValueError:
            s = 0
        if r.prev_hash != last_hash or s != expected or not text.startswith(tag, end + 1):
            place = place_of(text)
            if place is not None and place[0] != shard:
                return checked, expected - 1, _moved(r, place[0]), None
            rest = takewhile(lambda x: x.shard == shard, it)
            stated = place[1] if place else None
            return checked, expected - 1, _out_of_place(r, stated, last, expected, rest), None
        if r.seq != expected or not r.copy_agrees:
            return checked, expected - 1, _copy_edit(r, expected), None
        if expected == head_seq and r.hash != head_hash:
            return checked, expected - 1, _head_edit(r), None
        if expected == next_end:
            signed, digest = marks[expected]
            if signed != r.hash:
                return checked, expected - 1, _mismatch(digest, shard, expected), None
            next_end = next(ends, 0)
        last_hash = r.hash
        last = r
        expected += 1
    return checked, expected - 1, None, None


def _marks(digests: Sequence[DigestLike]) -> _Marks:
    marks: _Marks = {}
    for d in digests:
        for head in d.heads:
            if head.seq > 0:
                marks.setdefault(head.shard, {}).setdefault(head.seq, (head.hash, d))
    return marks


def _truncated(
    shard: int,
    last_seq: int,
    head: ChainHead | None,
    marks: _Marks,
    digests: Sequence[DigestLike],
) -> Problem | None:
    digested = max(marks.get(shard, {0: None}))
    promised = max(digested, head.seq if head else 0)
    if last_seq >= promised:
        return None
    source = (
        f"the last digest binds its head at seq {digested}"
        if digested == promised and digests
        else f"its head item says {promised}"
    )
    return Problem(
        TRUNCATION,
        last_seq + 1,
        f"shard {shard} ends at seq {last_seq} but {source}: "
        f"records {last_seq + 1}..{promised} of shard {shard} are gone",
        shard=shard,
    )


def _stray(shard: int, count: int | None, why: str) -> Problem:
    return Problem(
        SHARDS_MISMATCH,
        0,
        f"shard {shard} {why}, but the trail's metadata says it has {count} shard(s) "
        "(0..N-1, each once)",
        shard=shard,
    )


def _moved(r: ChainRecord, stated: int) -> Problem:
    return Problem(
        INSERTION,
        r.seq,
        f"record {r.seq} of shard {r.shard} states shard {stated}: it was moved into this "
        "shard's chain, not appended to it",
        shard=r.shard,
    )


def _edit(r: ChainRecord) -> Problem:
    return Problem(
        EDIT,
        r.seq,
        f"record {r.seq} of shard {r.shard} was changed: its content does not hash to its "
        "stored hash",
        shard=r.shard,
    )


def _head_edit(r: ChainRecord) -> Problem:
    return Problem(
        EDIT,
        r.seq,
        f"record {r.seq} of shard {r.shard} is not the one the shard's head names: it was "
        "rewritten with a new hash",
        shard=r.shard,
    )


def _copy_edit(r: ChainRecord, s: int) -> Problem:
    if r.seq != s:
        return Problem(
            EDIT,
            r.seq,
            f"record {r.seq} of shard {r.shard}: its seq attribute was changed (its hashed seq "
            f"is {s})",
            shard=r.shard,
        )
    return Problem(
        EDIT,
        r.seq,
        f"record {r.seq} of shard {r.shard} was changed: its attributes disagree with the "
        "content its hash covers",
        shard=r.shard,
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
            shard=r.shard,
        )
    following = next(rest, None)
    continues = following is not None and following.prev_hash == r.hash
    if last is not None and r.prev_hash == last.prev_hash:
        inserted = last if continues else r
        return Problem(
            INSERTION,
            inserted.seq,
            f"records {last.seq} and {r.seq} both follow the same record: record "
            f"{inserted.seq} is not part of shard {r.shard}'s chain",
            shard=r.shard,
        )
    if following is not None:
        for later in chain([following], rest):
            if later.hash == r.prev_hash:
                return Problem(
                    REORDER,
                    r.seq,
                    f"record {r.seq} follows record {later.seq}, which is stored after it: "
                    f"records of shard {r.shard} were reordered",
                    shard=r.shard,
                )
    if s is not None and s > expected:
        missing = f"{expected}" if s == expected + 1 else f"{expected}..{s - 1}"
        return Problem(
            DELETION,
            expected,
            f"record(s) {missing} of shard {r.shard} missing: record {r.seq} follows a "
            "record that is gone",
            shard=r.shard,
        )
    if last is not None and s == expected and continues:
        return Problem(
            EDIT,
            last.seq,
            f"record {last.seq} of shard {r.shard} was rewritten with a new hash: record "
            f"{r.seq} does not link to it",
            shard=r.shard,
        )
    return Problem(
        INSERTION,
        r.seq,
        f"record {r.seq} of shard {r.shard} links to no record of the trail: it was not "
        "appended by the trail",
        shard=r.shard,
    )


def _mismatch(digest: DigestLike, shard: int, seq: int) -> Problem:
    return Problem(
        DIGEST_MISMATCH,
        seq,
        f"record {seq} of shard {shard}: its hash is not the one digest {digest.key} signed "
        f"for the shard's head: shard {shard}'s records up to {seq} were rewritten (content "
        "and links)",
        digest.key,
        shard,
    )


def _digest_problem(digests: Sequence[DigestLike], count: int | None) -> Problem | None:
    """The first digest that is not signed by the trail's key, does not follow the one before
    it, or does not bind the head of every shard exactly once; None if all are sound."""
    previous: DigestLike | None = None
    for d in digests:
        at = d.record_count
        if not d.signature_ok:
            return Problem(
                DIGEST_SIGNATURE, at, f"digest {d.key}: its signature does not verify", d.key
            )
        if not d.key_trusted:
            return Problem(
                DIGEST_KEY, at, f"digest {d.key} is signed by a key that is not the trail's", d.key
            )
        previous_count = previous.record_count if previous else 0
        if not d.chain_ok or d.previous_count != previous_count:
            return Problem(
                DIGEST_CHAIN,
                at,
                f"digest {d.key} (records up to {at}, following {d.previous_count}) does not "
                f"follow the digest before it (which covers {previous_count}): a digest is "
                "missing, replaced or moved",
                d.key,
            )
        shards = sorted(head.shard for head in d.heads)
        if d.shards != count or shards != list(range(d.shards)):
            missing = sorted(set(range(count or d.shards)) - set(shards))
            what = f"shard {missing[0]}'s head is missing" if missing else "its heads are wrong"
            return Problem(
                DIGEST_HEADS,
                at,
                f"digest {d.key} does not bind one head per shard of the trail ({count} "
                f"shard(s); the digest says {d.shards}): {what}",
                d.key,
                missing[0] if missing else 0,
            )
        problem = _went_back(previous, d)
        if problem:
            return problem
        previous = d
    return None


def _went_back(previous: DigestLike | None, d: DigestLike) -> Problem | None:
    """A shard whose head in ``d`` is behind (or, at the same seq, other than) its head in the
    digest before: a shard's chain only grows, so one of the two digests lies."""
    if previous is None:
        return None
    before = {head.shard: head for head in previous.heads}
    for head in d.heads:
        old = before.get(head.shard)
        if old is None:
            continue
        if head.seq < old.seq or (head.seq == old.seq and head.hash != old.hash):
            return Problem(
                DIGEST_CHAIN,
                d.record_count,
                f"digest {d.key}: shard {head.shard} went backwards (seq {old.seq} in "
                f"{previous.key}, {head.seq} here, or the same seq with another hash)",
                d.key,
                head.shard,
            )
    return None


def chain_records_of(records: Iterable[Any]) -> Iterator[ChainRecord]:
    """:class:`ChainRecord` s of :class:`~meshgov.audit.model.AuditRecord` s (memory trail)."""
    for record in records:
        yield ChainRecord(
            record.seq,
            record.prev_hash,
            record.hash,
            record.canonical().encode("utf-8"),
            shard=record.shard,
        )


__all__ = [
    "KINDS",
    "ChainHead",
    "ChainRecord",
    "DigestView",
    "Problem",
    "ShardHead",
    "Verdict",
    "verify_chain",
]
