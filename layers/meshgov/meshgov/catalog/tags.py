"""LF-Tags as plain data, and the difference between two tag states.

LF-Tags cannot be attached across accounts, so central mirrors the producer's tags as its own
(DESIGN.md). Database tags go on the central database; a table's own tags (those that differ from
what it inherits from its database) go on the central table; column tags likewise on columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

TagMap = dict[str, list[str]]


def tag_map(pairs: Iterable[Mapping[str, Any]] | None) -> TagMap:
    """``[{TagKey, TagValues}]`` (as Lake Formation returns them) -> ``{key: sorted values}``."""
    result: TagMap = {}
    for pair in pairs or []:
        key = str(pair["TagKey"])
        result[key] = sorted({*result.get(key, []), *(str(v) for v in pair.get("TagValues", []))})
    return result


def tag_pairs(tags: Mapping[str, list[str]]) -> list[dict[str, Any]]:
    return [{"TagKey": k, "TagValues": list(v)} for k, v in sorted(tags.items())]


def effective_tags(
    database_tags: Iterable[Mapping[str, Any]] | None,
    table_tags: Iterable[Mapping[str, Any]] | None,
) -> TagMap:
    """A table's effective LF-Tags from ``[{TagKey, TagValues}]`` pairs: its own, and its
    database's for the keys it does not set itself ("you can override the inherited value",
    https://docs.aws.amazon.com/lake-formation/latest/dg/TBAC-assigning-tags.html). Lower case,
    as Lake Formation stores them. The one rule for ``can-access``, ``find`` and the access
    requests' classification (``SearchTablesByLFTags`` and ``GetResourceLFTags`` answers alike:
    ``LFTagOnDatabase`` and ``LFTagsOnTable``)."""

    def as_map(pairs: Iterable[Mapping[str, Any]] | None) -> TagMap:
        return {
            str(p["TagKey"]).lower(): sorted({str(v).lower() for v in p.get("TagValues") or ()})
            for p in pairs or ()
        }

    return {**as_map(database_tags), **as_map(table_tags)}


def expression_holds(
    expression: Iterable[Mapping[str, Any]], tags: Mapping[str, Sequence[str]]
) -> bool:
    """Whether a table with effective LF-Tags ``tags`` satisfies an LF-Tag expression: every
    condition holds — the table carries the key with one of the condition's values, ``*`` any
    value — ("every condition must hold, the values of one condition are alternatives",
    https://docs.aws.amazon.com/lake-formation/latest/dg/lf-tag-considerations.html). The one
    rule for tag-policy grants (``can-access``, ``find --as-account``) and ``find --tag``."""
    for condition in expression:
        have = {str(v).lower() for v in tags.get(str(condition.get("TagKey", "")).lower(), ())}
        wanted = {str(v).lower() for v in condition.get("TagValues") or ()}
        if not have or ("*" not in wanted and not have & wanted):
            return False
    return True


@dataclass(frozen=True)
class TableTags:
    """Tags a table carries beyond what it inherits from its database."""

    table: TagMap = field(default_factory=dict)
    columns: dict[str, TagMap] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"table": self.table, "columns": self.columns}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> TableTags:
        data = data or {}
        return cls(table=dict(data.get("table", {})), columns=dict(data.get("columns", {})))

    def required_values(self) -> dict[str, set[str]]:
        needed: dict[str, set[str]] = {}
        for tags in (self.table, *self.columns.values()):
            for key, values in tags.items():
                needed.setdefault(key, set()).update(values)
        return needed


def own_tags(
    database_tags: TagMap,
    on_table: Iterable[Mapping[str, Any]] | None,
    on_columns: Iterable[Mapping[str, Any]] | None,
) -> TableTags:
    """Reduce what Lake Formation reports for a table to the tags it carries itself.

    Whether a service reports inherited tags on the table or not, a tag equal to the inherited one
    changes nothing, so it is dropped: the mirror is the same either way.
    """
    table = {k: v for k, v in tag_map(on_table).items() if database_tags.get(k) != v}
    effective = {**database_tags, **table}
    columns: dict[str, TagMap] = {}
    for column in on_columns or []:
        own = {k: v for k, v in tag_map(column.get("LFTags")).items() if effective.get(k) != v}
        if own:
            columns[str(column["Name"]).lower()] = own
    return TableTags(table=table, columns=columns)


@dataclass(frozen=True)
class TagChange:
    add: TagMap
    remove: TagMap

    @property
    def empty(self) -> bool:
        return not self.add and not self.remove


def diff_tags(current: Mapping[str, list[str]], desired: Mapping[str, list[str]]) -> TagChange:
    """Adding a key replaces its value on the resource, so only removed keys need a remove."""
    add = {k: list(v) for k, v in desired.items() if sorted(current.get(k, [])) != sorted(v)}
    remove = {k: list(v) for k, v in current.items() if k not in desired}
    return TagChange(add=add, remove=remove)
