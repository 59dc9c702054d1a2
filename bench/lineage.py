"""``lineage.query_ms_10000_nodes``: ``meshgov lineage`` over a 10,000-node graph (issue 15).

One in-process local mesh (template.yaml deployed: the real ``LineageTable``). A layered graph
of 10,000 nodes (smoke: 200) is put in the table as the items the lineage function writes (two
adjacency items per edge; setup, not timed, through moto's backend): 100 layers of 100 nodes,
alternately datasets and jobs, each node feeding 2 nodes of the next layer (19,800 edges).
Then an upstream query from a node of the last layer and a downstream query from one of the
first are timed at the CLI's default depth (5; 5 runs, median):
:func:`meshgov.lineage.graph.walk` over :meth:`meshgov.lineage.store.LineageStore.neighbours`
(one ``Query`` per node visited), so the cost follows the nodes visited, not the graph's size.
meshgov's own edges (:class:`meshgov.lineage.known.MeshEdges`) are left out: the synthetic
nodes are no Glue tables. moto's Query reads every item of the table (DynamoDB's reads one
partition), so on moto the time per Query grows with the graph: measured 2026-12-05, 9 ms per
Query at 200 nodes, 180 to 230 ms at 10,000 (a depth-50 walk, 1,326 Queries, took 5 to 7 min).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from moto import mock_aws
from moto.dynamodb.models import dynamodb_backends

from bench.scenarios import fake_aws_environment
from meshgov.lineage.graph import Direction, walk
from meshgov.lineage.query import DEFAULT_DEPTH
from meshgov.lineage.store import LineageStore
from meshgov_local.emulator import controls
from meshgov_local.mesh import LocalMesh

Progress = Callable[[str], None]
RUNS = 5
FAN_OUT = 2

TARGETS: dict[str, tuple[str, float]] = {
    # The issue asks for the figure and sets no bound on the time; what meshgov decides is how
    # many reads an answer costs: at most one Query per node it visits, whatever the graph's
    # size (DynamoDB's Query reads one partition). The milliseconds are moto's (see NOTES).
    "queries_per_node_visited": ("<=", 1.0),
}

NOTES = [
    "lineage.query_ms_10000_nodes: the slower of an upstream and a downstream lineage query at "
    "the CLI's default depth (5), median of 5, over a 10,000-node layered graph (100 layers of "
    "100 alternating datasets and jobs, each node feeding 2 of the next layer: 19,800 edges, "
    "39,600 adjacency items) in the deployed LineageTable of an in-process local mesh (moto). "
    "One DynamoDB Query per node visited (21 at depth 5): on DynamoDB the cost follows the "
    "answer, not the graph, but moto's Query scans the whole table, so this figure grows with "
    "the graph here (about 200 ms per Query at 10,000 nodes): no target on the milliseconds. "
    "queries_per_node_visited: DynamoDB Query calls (every page) per node the walk visited, "
    "both queries together: the cost follows the answer (target 1.0). bench/lineage.py",
]


def node(layer: int, index: int) -> str:
    return f"job:bench/l{layer}-{index}" if layer % 2 else f"s3://bench/l{layer}/{index}"


def graph_items(layers: int, width: int) -> list[dict[str, Any]]:
    items = []
    for layer in range(layers - 1):
        for index in range(width):
            for step in range(FAN_OUT):
                source, target = node(layer, index), node(layer + 1, (index + step) % width)
                for key, sk in ((source, f"out#{target}"), (target, f"in#{source}")):
                    items.append({"node": {"S": key}, "sk": {"S": sk}})
    return items


def measure(scale: str = "full", progress: Progress | None = None) -> dict[str, Any]:
    say = progress or (lambda _: None)
    layers, width = (100, 100) if scale == "full" else (10, 20)
    controls.reset()
    with fake_aws_environment(), mock_aws():
        mesh = LocalMesh()
        binding = mesh.binding("LineageFunction")
        assert binding is not None
        client = mesh.client(mesh.central, "dynamodb")
        store = LineageStore(client, binding.environment["LINEAGE_TABLE_NAME"])
        items = graph_items(layers, width)
        say(f"lineage: writing {layers * width} nodes ({len(items)} items)")
        # Setup, not measured: straight into moto's backend (BatchWriteItem through the API,
        # signed and authorized, takes minutes for 39,600 items on a loaded machine).
        backend = dynamodb_backends[mesh.central][mesh.config.region]
        for item in items:
            backend.put_item(binding.environment["LINEAGE_TABLE_NAME"], item)
        timings: dict[str, Any] = {}
        queries = [0]

        def count_query(**_: Any) -> None:
            queries[0] += 1

        client.meta.events.register("before-call.dynamodb.Query", count_query)
        visited_total = 0
        for name, start, direction in (
            ("upstream", node(layers - 1, 0), Direction.UPSTREAM),
            ("downstream", node(0, 0), Direction.DOWNSTREAM),
        ):
            for depth in (DEFAULT_DEPTH,):
                runs, visited = [], 0
                for _ in range(RUNS):
                    t0 = time.perf_counter()
                    result = walk(start, direction, depth, [store.neighbours])
                    runs.append((time.perf_counter() - t0) * 1000)
                    visited = len(result.distances)
                    visited_total += visited
                timings[f"{name}_depth_{depth}"] = {
                    "median_ms": round(statistics.median(runs), 1),
                    "nodes_visited": visited,
                }
    controls.reset()
    return {
        "query_ms_10000_nodes": max(
            timings[f"upstream_depth_{DEFAULT_DEPTH}"]["median_ms"],
            timings[f"downstream_depth_{DEFAULT_DEPTH}"]["median_ms"],
        ),
        "queries_per_node_visited": round(queries[0] / max(visited_total, 1), 3),
        "nodes": layers * width,
        "items": len(items),
        "queries": timings,
    }
