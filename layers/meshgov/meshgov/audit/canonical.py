"""The one canonical JSON of the audit trail: RFC 8785, the JSON Canonicalization Scheme (JCS).

The hash chain (:mod:`meshgov.audit.chain`) hashes it and the digests
(:mod:`meshgov.audit.digests`) sign it, so an outsider re-verifies the trail with any JCS
implementation, in any language (docs/adr/0006-audit-hash-chain.md). JCS is: no whitespace;
object members sorted by the UTF-16 code units of their names; strings as UTF-8 with only ``"``,
``\\`` and control characters escaped; numbers as ECMAScript prints an IEEE 754 double (``2.0``
is ``2``, ``1e-7`` is ``1e-7``, ``1e21`` is ``1e+21``); https://www.rfc-editor.org/rfc/rfc8785.
The serializer is Trail of Bits' ``rfc8785`` (pure Python, no dependencies), not a home-made one.

JCS refuses what I-JSON (RFC 7493) cannot hold: NaN and infinities, integers beyond
``±(2**53 - 1)`` and lone surrogates. :func:`jsonable` turns such values into text before they are
hashed (RFC 7493, section 2.2: "a number that requires greater precision ... encoded as a
string"), so an audit record is always writable and reading its canonical text back gives the
very values that were hashed.
"""

from __future__ import annotations

import json
import math
from typing import Any

import rfc8785

# The integers an IEEE 754 double holds exactly: I-JSON's range (RFC 7493, section 2.2).
MAX_EXACT_INT = 2**53 - 1
# From here on ECMAScript (so JCS) prints an integral double with an exponent, read back as a float.
_EXPONENT_FROM = 1e21
_NON_FINITE = {math.inf: "Infinity", -math.inf: "-Infinity"}


def canonical_json(value: Any) -> bytes:
    """``value`` in its RFC 8785 canonical form, UTF-8.

    Raises :class:`ValueError` (``rfc8785.CanonicalizationError``) naming what JCS cannot hold:
    pass values through :func:`jsonable` first when they come from outside.
    """
    try:
        return rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as exc:
        raise type(exc)(f"not canonical JSON (RFC 8785, JCS): {exc}") from exc


def jsonable(value: Any) -> Any:
    """``value`` as the canonical form holds it: JSON types only, and exactly what parsing its
    :func:`canonical_json` text gives back (``jsonable(v) == json.loads(canonical_json(
    jsonable(v)))``).

    What JSON has no type for becomes its ``str`` (datetimes, sets...), keys become text as
    ``json.dumps`` makes them, tuples lists; an integral float becomes the integer JCS prints;
    NaN and infinities, integers beyond :data:`MAX_EXACT_INT` (and integral floats JCS would
    print as such digits) become text; a lone surrogate becomes U+FFFD.
    """
    return _held(json.loads(json.dumps(value, default=str)))


def _held(value: Any) -> Any:
    if isinstance(value, dict):
        return {_text(key): _held(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_held(item) for item in value]
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value if abs(value) <= MAX_EXACT_INT else str(value)
    if isinstance(value, float):
        return _number(value)
    return str(value)  # json.loads gives nothing else; kept total for safety


def _number(value: float) -> int | float | str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return _NON_FINITE[value]
    if not value.is_integer() or abs(value) >= _EXPONENT_FROM:
        return value
    whole = int(value)
    return whole if abs(whole) <= MAX_EXACT_INT else str(whole)


def _text(value: str) -> str:
    """``value`` with any lone surrogate (not representable in UTF-8) replaced by U+FFFD."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        # Pairs written as two surrogates become their character; a lone one becomes U+FFFD.
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return value
