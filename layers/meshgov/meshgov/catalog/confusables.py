"""Names a consumer could be fooled by are never published (meshgov issue 12, item 6).

A pure decision: no AWS call. The reconciler asks it about each database or table name it is about
to *create* centrally (a "newcomer"); names already published keep their place, so a look-alike
arriving later is the one refused, and an event order never removes what consumers already use.

The rules, in order (the first one broken is the reason):

1. Athena must be able to query the name (:func:`meshgov.contracts.names.athena_name_problem`).
2. No compatibility characters: a name must be its own NFKC form, up to canonical equivalence
   (fullwidth ``o`` U+FF4F, ligatures, mathematical letters are look-alikes by construction;
   https://www.unicode.org/reports/tr31/#NFKC_Modifications).
3. Each ``_``-separated part of a name uses one script, or one of the combinations UTS #39 calls
   *Highly Restrictive* (Latin with Han and Hiragana/Katakana, Bopomofo or Hangul): a part mixing
   Latin and Cyrillic letters is how homograph names are made
   (https://www.unicode.org/reports/tr39/#Restriction_Level_Detection). Parts are checked apart
   because a central database name is ``<domain>_<database>``: ``sales_товары`` is fine.
4. A part that is not pure ASCII must not have a pure-ASCII *skeleton*: it would read as the ASCII
   word it looks like (``scope`` spelt in Cyrillic letters reads ``scope``; ``data`` with U+0251
   LATIN SMALL LETTER ALPHA reads ``data``). That is UTS #39's whole-script, mixed-script and
   single-script confusability with the ASCII names consumers type, decided without waiting for
   the ASCII twin to exist.
5. A name that is not pure ASCII must not share its skeleton with another name of its namespace
   (https://www.unicode.org/reports/tr39/#Confusable_Detection: X and Y are confusable when
   ``skeleton(X) == skeleton(Y)``): the producer's published databases for a database (other
   producers' central names start with another domain), the central database's tables for a
   table, plus the other newcomers of the same pass. Two newcomers that
   collide are both refused (neither can be preferred).

A pure-ASCII name is never refused for confusability - not with itself (a name is never compared
with its own central entry), nor with another ASCII name (``rn``/``m``, ``1``/``l`` are the
typography every SQL user reads already). Every look-alike of an ASCII name is non-ASCII and is
caught by rule 4, so rule 5 only ever decides between two non-ASCII names.

The confusable data (``confusables.txt``) and script data (``Scripts.txt``) of the Unicode
Consortium come from the ``confusable-homoglyphs`` package, imported on first need: the common
case, an ASCII name, costs no import at all.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any

from meshgov.contracts.names import athena_name_problem

# Scripts.txt values that belong to no script (digits, "_", combining marks).
_NO_SCRIPT = frozenset({"COMMON", "INHERITED"})
# UTS #39 section 5.2, "Highly Restrictive": one script, or covered by one of these sets.
_HIGHLY_RESTRICTIVE = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)
# confusables.txt shows right-to-left characters between LEFT-TO-RIGHT MARKs; the package keeps
# the marks in its keys, which are not part of any character.
_DISPLAY_MARKS = str.maketrans("", "", "\u200e\u200f")


class NameRule(StrEnum):
    """The audit ``error_code`` of a refused name (one per rule of the module docstring)."""

    NOT_QUERYABLE = "NameNotQueryable"
    COMPATIBILITY_FORM = "NameCompatibilityForm"
    MIXED_SCRIPT = "NameMixedScript"
    LOOKS_ASCII = "NameLooksLikeAscii"
    CONFUSABLE = "NameConfusable"


@dataclass(frozen=True)
class NameRefusal:
    name: str
    rule: NameRule
    reason: str
    confusable_with: str | None = None


def is_ascii(name: str) -> bool:
    return name.isascii()


def skeleton(text: str) -> str:
    """UTS #39 ``skeleton(X)``: NFD, each character replaced by its prototype, NFD again.

    Two strings are confusable exactly when their skeletons are equal. The prototypes stand for
    their classes (:func:`_prototypes`), which preserves that equality.
    """
    table = _prototypes()
    mapped = "".join(table.get(char, char) for char in unicodedata.normalize("NFD", text))
    return unicodedata.normalize("NFD", mapped)


def refusal(
    name: str, namespace: Iterable[str] = (), newcomers: Iterable[str] = ()
) -> NameRefusal | None:
    """Why ``name``, about to be published, must not be (None: it may).

    ``namespace`` holds the names already published beside it, ``newcomers`` the others being
    published in the same pass; ``name`` itself may be in either (it is never compared with
    itself).
    """
    problem = athena_name_problem(name)
    if problem is not None:
        return NameRefusal(name, NameRule.NOT_QUERYABLE, f"{name!r} {problem}")
    if is_ascii(name):
        return None
    if unicodedata.normalize("NFKC", name) != unicodedata.normalize("NFC", name):
        return NameRefusal(
            name,
            NameRule.COMPATIBILITY_FORM,
            f"{name!r} holds compatibility characters (its NFKC form is "
            f"{unicodedata.normalize('NFKC', name)!r}): look-alikes by construction (UAX #31)",
            confusable_with=unicodedata.normalize("NFKC", name),
        )
    for part in name.split("_"):
        if part.isascii():
            continue
        scripts = _scripts(part)
        if len(scripts) > 1 and not any(scripts <= allowed for allowed in _HIGHLY_RESTRICTIVE):
            return NameRefusal(
                name,
                NameRule.MIXED_SCRIPT,
                f"{name!r} mixes scripts in {part!r} ({', '.join(sorted(scripts))}): "
                "a homograph of another name (UTS #39 restriction level)",
            )
        twin = skeleton(part)
        if twin.isascii():
            return NameRefusal(
                name,
                NameRule.LOOKS_ASCII,
                f"{name!r} reads as {name.replace(part, twin)!r}: {part!r} is made of look-alikes "
                f"of the ASCII {twin!r} (UTS #39 confusables)",
                confusable_with=name.replace(part, twin),
            )
    mine = skeleton(name)
    for other in sorted({*namespace, *newcomers} - {name}):
        if skeleton(other) == mine:
            return NameRefusal(
                name,
                NameRule.CONFUSABLE,
                f"{name!r} looks like {other!r} (same UTS #39 skeleton)",
                confusable_with=other,
            )
    return None


def _scripts(text: str) -> frozenset[str]:
    categories = _categories()
    return frozenset(categories.alias(char) for char in text) - _NO_SCRIPT


@cache
def _categories() -> Any:
    from confusable_homoglyphs import categories  # type: ignore[import-untyped]

    return categories


@cache
def _prototypes() -> dict[str, str]:
    """Each confusable character mapped to the representative of its confusable class.

    ``confusables.txt`` maps every *source* character to one *prototype*; the package stores each
    pair both ways (source to prototype and back), without saying which is which. A class is
    therefore one connected group: its prototype is the member linked to all the others, or the
    one longer than a character (``m`` -> ``rn``: sources are single characters). In a class of
    two single characters either may be the prototype; one is taken, the same for every string,
    so skeletons stay equal exactly when the true ones are. Characters of a multi-character
    prototype are mapped too, so ``m`` and a typed ``rn`` meet.
    """
    from confusable_homoglyphs import confusables

    graph: dict[str, set[str]] = {}
    for key, entries in confusables.confusables_data.items():
        source = key.translate(_DISPLAY_MARKS)
        for entry in entries:
            target = str(entry["c"]).translate(_DISPLAY_MARKS)
            if source and target and source != target:
                graph.setdefault(source, set()).add(target)
                graph.setdefault(target, set()).add(source)
    single: dict[str, str] = {}
    long_prototypes: dict[str, str] = {}
    seen: set[str] = set()
    for start in graph:
        if start in seen:
            continue
        group = _component(graph, start)
        seen |= group
        representative = _representative(graph, group)
        for member in group:
            if len(member) != 1 or member == representative:
                continue
            if len(representative) == 1:
                single[member] = representative
            else:
                long_prototypes[member] = representative
    table = dict(single)
    for member, prototype in long_prototypes.items():
        table[member] = "".join(single.get(char, char) for char in prototype)
    return table


def _component(graph: dict[str, set[str]], start: str) -> set[str]:
    group: set[str] = set()
    pending = [start]
    while pending:
        node = pending.pop()
        if node not in group:
            group.add(node)
            pending.extend(graph[node] - group)
    return group


def _representative(graph: dict[str, set[str]], group: set[str]) -> str:
    longer = [m for m in group if len(m) > 1]
    if longer:
        return min(longer)
    if len(group) > 2:
        hubs = [m for m in group if len(graph[m]) == len(group) - 1]
        if len(hubs) == 1:
            return hubs[0]
    # Two characters: prefer one NFD leaves alone (the skeleton is NFD), then ASCII, then order.
    return min(
        group,
        key=lambda m: (unicodedata.normalize("NFD", m) != m, not m.isascii(), m),
    )
