"""A data product's lineage neighbours, as ``find`` lists them: cheap, one lineage read each.

A product is two nodes, the producer's table ``P`` and its central copy ``C`` (joined by the
``catalog`` edge). Members' OpenLineage run events attach to ``P`` (a run's outputs are the
sending account's own Glue tables, docs/adr/0018-lineage.md; a consumer's job names its
resource link, not ``C``), and meshgov's own edges to ``C``. So the neighbours are, each from
one depth-1 walk of :func:`meshgov.lineage.query.lineage` (no other walker):

- **upstream**: ``P`` (``catalog``), and the jobs that write ``P`` (``openlineage``);
- **downstream**: the jobs that read ``P`` (``openlineage``), the consumers' resource links of
  ``C`` (``grant``) and, one hop further through meshgov's own edges only, the principals
  reading each link (``grant``).

Cost per product: one Query of the lineage table (``P``'s whole partition, both directions:
:meth:`meshgov.lineage.store.LineageStore.adjacent`); ``C``'s parameters come from the search
results (:meth:`meshgov.lineage.known.MeshEdges.know`) and the holding requests are read once
for every product. OpenLineage edges that name ``C`` itself (a job reading the central table
directly) are not read here; ``meshgov lineage`` shows them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from meshgov.aws.arns import Arns
from meshgov.catalog.projection import SOURCE_ARN
from meshgov.lineage import nodes
from meshgov.lineage.graph import Direction, Neighbours, Walk
from meshgov.lineage.known import MeshEdges
from meshgov.lineage.query import lineage
from meshgov.lineage.store import LineageStore


@dataclass(frozen=True)
class Neighbour:
    node: str
    kind: str  # as meshgov.lineage.nodes.describe says
    via: str  # catalog, grant, openlineage

    def as_dict(self) -> dict[str, str]:
        return {"node": self.node, "kind": self.kind, "via": self.via}


@dataclass(frozen=True)
class Neighbourhood:
    upstream: tuple[Neighbour, ...]
    downstream: tuple[Neighbour, ...]

    def as_dict(self) -> dict[str, list[dict[str, str]]]:
        return {
            "upstream": [n.as_dict() for n in self.upstream],
            "downstream": [n.as_dict() for n in self.downstream],
        }


class OneReadPerNode:
    """A neighbour source over the lineage table that reads each node once, both directions in
    one Query, whichever direction is asked first."""

    def __init__(self, store: LineageStore) -> None:
        self._store = store
        self._read: dict[str, dict[Direction, list[tuple[str, str]]]] = {}

    def __call__(
        self, level: Sequence[str], direction: Direction
    ) -> dict[str, list[tuple[str, str]]]:
        found: dict[str, list[tuple[str, str]]] = {}
        for node in level:
            if node not in self._read:
                self._read[node] = self._store.adjacent(node)
            if self._read[node][direction]:
                found[node] = self._read[node][direction]
        return found


def hops(result: Walk) -> list[tuple[str, str]]:
    """``(node, via)`` of every node a walk reached, nearest first (:meth:`Walk.reached`)."""
    return [(node, via) for node, _, via in result.reached()]


class ProductLineage:
    """The neighbours of each product ``find`` lists (see the module docstring)."""

    def __init__(
        self,
        store: LineageStore,
        known: MeshEdges,
        central_account: str,
        producers: Mapping[str, str],
        arns: Arns,
    ) -> None:
        self._events: Neighbours = OneReadPerNode(store)
        self._known = known
        self._central = central_account
        self._producers = producers
        self._arns = arns

    def of(self, tables: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], Neighbourhood]:
        """Each central table's neighbours, by ``(database, table)``."""
        listed = list(tables)
        self._known.know(listed)
        return {(str(t["DatabaseName"]), str(t["Name"])): self._neighbourhood(t) for t in listed}

    def _neighbourhood(self, table: Mapping[str, Any]) -> Neighbourhood:
        central = self._arns.glue_table(
            self._central, str(table["DatabaseName"]), str(table["Name"])
        )
        source = str((table.get("Parameters") or {}).get(SOURCE_ARN, "")).lower()
        both: list[Neighbours] = [self._events, self._known]
        up = hops(self._walk(central, Direction.UPSTREAM, 1, [self._known]))
        down = hops(self._walk(central, Direction.DOWNSTREAM, 2, [self._known]))
        if nodes.glue_table(source) is not None:
            up += hops(self._walk(source, Direction.UPSTREAM, 1, both))
            down = [h for h in hops(self._walk(source, Direction.DOWNSTREAM, 1, both))
                    if h[0] != central.lower()] + down  # fmt: skip
        return Neighbourhood(self._described(up), self._described(down))

    def _walk(
        self, start: str, direction: Direction, depth: int, sources: list[Neighbours]
    ) -> Walk:
        return lineage(start, direction, depth, sources, self._central, self._arns)

    def _described(self, found: list[tuple[str, str]]) -> tuple[Neighbour, ...]:
        seen: dict[str, Neighbour] = {}
        for node, via in found:
            kind = nodes.describe(node, self._central, self._producers)
            seen.setdefault(node, Neighbour(node, kind, via))
        return tuple(seen.values())
