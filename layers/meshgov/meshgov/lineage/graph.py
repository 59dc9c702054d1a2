"""Walking the lineage graph upstream or downstream, level by level (pure).

The walk asks its neighbour sources for a whole level at once (one call per source and level),
so a source that reads a store can batch; it never visits a node twice (a graph may have
cycles: a job that reads and writes one table), stops at ``depth`` hops and after
:data:`MAX_NODES` nodes (the answer says it was cut).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

MAX_DEPTH = 50
MAX_NODES = 10_000


class Direction(StrEnum):
    UPSTREAM = "upstream"
    DOWNSTREAM = "downstream"


@dataclass(frozen=True)
class Edge:
    """One hop of the answer, always written in the data's direction (``source -> target``)."""

    source: str
    target: str
    via: str  # who says so: "openlineage" (a run event), "catalog", "grant"


# nodes of one level -> each node's neighbours in that direction, with who says so
Neighbours = Callable[[Sequence[str], Direction], Mapping[str, Sequence[tuple[str, str]]]]


@dataclass
class Walk:
    start: str
    direction: Direction
    depth: int
    distances: dict[str, int] = field(default_factory=dict)  # node -> hops from the start
    edges: list[Edge] = field(default_factory=list)
    truncated: bool = False

    def reached(self) -> list[tuple[str, int, str]]:
        """``(node, distance, via)`` of every node but the start, nearest first (then by name),
        ``via`` of the edge that first reached it (the walk's news and ``find`` list these)."""
        via: dict[str, str] = {}
        for edge in self.edges:
            near, far = (
                (edge.source, edge.target)
                if self.direction is Direction.DOWNSTREAM
                else (edge.target, edge.source)
            )
            if near in self.distances and self.distances.get(far) == self.distances[near] + 1:
                via.setdefault(far, edge.via)
        ordered = sorted(self.distances.items(), key=lambda i: (i[1], i[0]))
        return [(node, hops, via.get(node, "")) for node, hops in ordered if hops > 0]

    def as_dict(self, describe: Callable[[str], str]) -> dict[str, Any]:
        return {
            "start": self.start,
            "direction": self.direction.value,
            "depth": self.depth,
            "truncated": self.truncated,
            "nodes": [
                {"node": node, "kind": describe(node), "distance": distance}
                for node, distance in sorted(self.distances.items(), key=lambda i: (i[1], i[0]))
            ],
            "edges": [
                {"from": e.source, "to": e.target, "via": e.via}
                for e in sorted(self.edges, key=lambda e: (e.source, e.target, e.via))
            ],
        }


def walk(
    start: str,
    direction: Direction,
    depth: int,
    sources: Sequence[Neighbours],
    max_nodes: int = MAX_NODES,
) -> Walk:
    """Every node within ``depth`` hops of ``start`` in ``direction``, and the edges found."""
    if not 1 <= depth <= MAX_DEPTH:
        raise ValueError(f"depth must be 1 to {MAX_DEPTH}, not {depth}")
    result = Walk(start, direction, depth, {start: 0})
    seen_edges: set[tuple[str, str]] = set()
    level = [start]
    for hop in range(1, depth + 1):
        following: list[str] = []
        for source in sources:
            for node, found in source(level, direction).items():
                for other, via in found:
                    pair = (node, other) if direction is Direction.DOWNSTREAM else (other, node)
                    if pair not in seen_edges:
                        seen_edges.add(pair)
                        result.edges.append(Edge(*pair, via))
                    if other in result.distances:
                        continue
                    if len(result.distances) >= max_nodes:
                        result.truncated = True
                        continue
                    result.distances[other] = hop
                    following.append(other)
        if not following:
            break
        level = following
    return result
