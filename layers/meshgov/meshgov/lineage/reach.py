"""What a breaking schema change or a contract breach reaches downstream, computed when it is told.

The walk is ``meshgov lineage <producer table> --downstream`` (:func:`meshgov.lineage.query.lineage`
over the run events' graph and meshgov's own edges, :class:`meshgov.lineage.known.MeshEdges`),
started at the producer's table so that jobs reading it directly are reached as well as its
central copy. Nothing is stored: a revoked grant or a new job shows in the next event.

Bounds, because the answer travels inside an event (at most 256 KB, the EventBridge entry limit,
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html) and costs one
Query per node visited:

- :data:`DEPTH` 7 hops: producer table -> central table -> consumer link -> consumer job ->
  the consumer's own (derived) table -> its central copy, when that consumer also produces ->
  that product's consumer links -> their principals;
- :data:`MAX_NODES` 200 nodes (about 120 bytes each in the event); beyond, the event says
  ``downstreamTruncated``.

A lineage read that fails leaves ``downstream`` unknown (``None``) rather than holding back the
news itself: the change happened, and the consumers holding grants are found without lineage.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from meshgov.lineage.nodes import describe

if TYPE_CHECKING:  # the walk and its stores are imported when a reach is built: the catalog's
    # event path imports this module for every batch, and names downstream only on a breach
    from meshgov.aws.arns import Arns
    from meshgov.lineage.graph import Neighbours, Walk

DEPTH = 7
MAX_NODES = 200

logger = logging.getLogger(__name__)

# producer table ARN -> what it reaches (None: unknown); a DownstreamReach, or a test's stand-in
Reach = Callable[[str], "Reached | None"]


@dataclass(frozen=True)
class Reached:
    """The nodes downstream of a table (``DownstreamNode`` dicts, nearest first) and whether the
    walk was cut at :data:`MAX_NODES`."""

    nodes: list[dict[str, Any]]
    truncated: bool

    def detail(self) -> dict[str, Any]:
        """The event detail's ``downstream`` and ``downstreamTruncated``."""
        return {"downstream": self.nodes, "downstreamTruncated": self.truncated}


def reached(result: Walk, central_account: str, producers: Mapping[str, str]) -> Reached:
    """Every node of a downstream walk but its start, with its kind, distance and the edge that
    first reached it (pure)."""
    nodes = [
        {
            "node": node,
            "kind": describe(node, central_account, producers),
            "distance": distance,
            "via": via,
        }
        for node, distance, via in result.reached()
    ]
    return Reached(nodes, result.truncated)


class DownstreamReach:
    """``reach(producer_table_arn)``: what a change of that table reaches; ``None`` when the
    lineage cannot be read. ``sources`` makes the neighbour sources afresh for each call, so
    the grants read are those of the moment (a sweep may run for minutes)."""

    def __init__(
        self,
        sources: Callable[[], Sequence[Neighbours]],
        central_account: str,
        producers: Mapping[str, str],
        arns: Arns,
    ) -> None:
        self._sources = sources
        self._central = central_account
        self._producers = producers
        self._arns = arns

    def __call__(self, table_arn: str) -> Reached | None:
        from meshgov.lineage.graph import Direction
        from meshgov.lineage.known import LineageReadError
        from meshgov.lineage.query import lineage
        from meshgov.lineage.store import LineageStoreError

        try:
            result = lineage(
                table_arn,
                Direction.DOWNSTREAM,
                DEPTH,
                list(self._sources()),
                self._central,
                self._arns,
                MAX_NODES,
            )
        except (LineageStoreError, LineageReadError) as exc:
            logger.warning("downstream of %s unknown: %s", table_arn, exc)
            return None
        return reached(result, self._central, self._producers)


def downstream_detail(reach: Reach | None, table_arn: str) -> dict[str, Any]:
    """The ``downstream`` part of an event detail: computed by ``reach``, unknown without one."""
    found = reach(table_arn) if reach is not None else None
    return found.detail() if found is not None else {"downstream": None}


def build_downstream_reach(
    glue: Any,
    dynamodb: Any,
    *,
    lineage_table: str,
    requests_table: str,
    central_account: str,
    producers: Mapping[str, str],
    arns: Arns,
) -> DownstreamReach | None:
    """The reach of a function that has both tables (clients of the central account); None
    when it lacks either: its events then say ``downstream: null`` (unknown)."""
    if not lineage_table or not requests_table:
        return None

    def sources() -> list[Neighbours]:
        # Imported on a breach, not for every batch of catalog events.
        from meshgov.access.store import RequestStore
        from meshgov.lineage.known import MeshEdges
        from meshgov.lineage.store import LineageStore

        requests = RequestStore(dynamodb, requests_table)
        known = MeshEdges(glue, requests, central_account, producers, arns)
        return [LineageStore(dynamodb, lineage_table).neighbours, known]

    return DownstreamReach(sources, central_account, producers, arns)
