"""Answering ``meshgov lineage TABLE --upstream|--downstream [--depth N]``.

A table is named as the central catalog names it (``<central db>.<table>``) or by any Glue table
ARN (a producer's table, a consumer's link, a consumer's own table). The answer walks
(:func:`meshgov.lineage.graph.walk`) two neighbour sources at once: the run events' graph
(:class:`meshgov.lineage.store.LineageStore`) and the edges meshgov knows itself
(:class:`meshgov.lineage.known.MeshEdges`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from meshgov.aws.arns import Arns
from meshgov.errors import MeshgovError
from meshgov.lineage import nodes
from meshgov.lineage.graph import MAX_DEPTH, MAX_NODES, Direction, Neighbours, Walk, walk

DEFAULT_DEPTH = 5


class LineageQueryInvalidError(MeshgovError):
    """The table or the depth asked for cannot be answered (the message says why)."""


def start_node(table: str, central_account: str, arns: Arns) -> str:
    """The node of ``table``: ``db.table`` in the central catalog, or a Glue table ARN."""
    text = table.strip()
    if nodes.glue_table(text) is not None:
        return text.lower()
    database, dot, name = text.lower().partition(".")
    if not dot or not database or not name or "." in name or "/" in text:
        raise LineageQueryInvalidError(
            f"{table!r} is neither a central table (<database>.<table>) nor a Glue table ARN"
        )
    return arns.glue_table(central_account, database, name)


def lineage(
    table: str,
    direction: Direction,
    depth: int,
    sources: list[Neighbours],
    central_account: str,
    arns: Arns,
    max_nodes: int = MAX_NODES,
) -> Walk:
    """The walk from ``table`` (:func:`start_node`); ``max_nodes`` lower than the graph's own
    limit keeps an answer that travels in an event small (:mod:`meshgov.lineage.reach`)."""
    if not 1 <= depth <= MAX_DEPTH:
        raise LineageQueryInvalidError(f"--depth must be 1 to {MAX_DEPTH}, not {depth}")
    return walk(start_node(table, central_account, arns), direction, depth, sources, max_nodes)


def answer_dict(result: Walk, central_account: str, producers: Mapping[str, str]) -> dict[str, Any]:
    """The answer as JSON (``-o json``): nodes with their kind and distance, edges with who
    says so."""
    return result.as_dict(lambda node: nodes.describe(node, central_account, producers))
