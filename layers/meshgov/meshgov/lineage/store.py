"""The lineage graph from OpenLineage run events, in the central ``LineageTable`` (DynamoDB).

Adjacency items, two per edge, so each direction is one Query of one partition:

- ``node`` (partition key): a node (:mod:`meshgov.lineage.nodes`);
- ``sk`` (sort key): ``out#<node>`` for an edge leaving it, ``in#<node>`` for one arriving;
- ``run_id``, ``event_time``, ``account``, ``job``: the last run event that said so.

Writing a run is ``BatchWriteItem`` of 25 puts at a time (the API's maximum,
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html); a put
of an edge already there overwrites it with the newer run (the same edge, said again). What the
service leaves unprocessed (throttling) is sent again, a bounded number of times, then the
message fails and is retried whole (putting the same items twice is harmless).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from meshgov.errors import MeshgovError
from meshgov.lineage.events import LineageRun
from meshgov.lineage.graph import Direction

BATCH = 25
MAX_UNPROCESSED_ROUNDS = 5
OPENLINEAGE = "openlineage"
_PREFIX = {Direction.DOWNSTREAM: "out#", Direction.UPSTREAM: "in#"}


class LineageStoreError(MeshgovError):
    """The lineage table could not be read or written (transient: the message is retried)."""


def edge_items(run: LineageRun) -> list[dict[str, Any]]:
    """The two adjacency items of each edge of ``run``."""
    items: dict[tuple[str, str], dict[str, Any]] = {}
    about = {
        "run_id": {"S": run.run_id},
        "event_time": {"S": run.event_time},
        "account": {"S": run.account},
        "job": {"S": run.job},
    }
    for source, target in run.edges:
        for node, sk in ((source, f"out#{target}"), (target, f"in#{source}")):
            items[(node, sk)] = {"node": {"S": node}, "sk": {"S": sk}, **about}
    return list(items.values())


class LineageStore:
    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self._dynamodb = dynamodb
        self._table = table_name

    def record(self, run: LineageRun) -> int:
        """Put every edge of ``run``; the number of items written."""
        items = edge_items(run)
        for start in range(0, len(items), BATCH):
            self._write([{"PutRequest": {"Item": i}} for i in items[start : start + BATCH]])
        return len(items)

    def put_items(self, items: Sequence[Mapping[str, Any]]) -> None:
        """Adjacency items as they are (the benchmark builds a graph with it)."""
        for start in range(0, len(items), BATCH):
            self._write([{"PutRequest": {"Item": dict(i)}} for i in items[start : start + BATCH]])

    def _write(self, requests: list[dict[str, Any]]) -> None:
        pending = {self._table: requests}
        for _ in range(MAX_UNPROCESSED_ROUNDS):
            try:
                response = self._dynamodb.batch_write_item(RequestItems=pending)
            except (ClientError, BotoCoreError) as exc:
                raise LineageStoreError(f"BatchWriteItem on {self._table} failed: {exc}") from exc
            pending = response.get("UnprocessedItems") or {}
            if not pending:
                return
        raise LineageStoreError(f"BatchWriteItem on {self._table}: items still unprocessed")

    def neighbours(
        self, level: Sequence[str], direction: Direction
    ) -> dict[str, list[tuple[str, str]]]:
        """Each node's neighbours in ``direction`` that run events named (one Query per node)."""
        prefix = _PREFIX[direction]
        found: dict[str, list[tuple[str, str]]] = {}
        for node in level:
            others = [
                (item["sk"]["S"][len(prefix) :], OPENLINEAGE)
                for page in self._pages(node, prefix)
                for item in page.get("Items", [])
            ]
            if others:
                found[node] = others
        return found

    def adjacent(self, node: str) -> dict[Direction, list[tuple[str, str]]]:
        """Both directions of ``node`` in one Query (its whole partition: ``in#`` and ``out#``
        items), for a caller that asks one node both ways (``find``:
        :class:`meshgov.lineage.neighbours.OneReadPerNode`)."""
        found: dict[Direction, list[tuple[str, str]]] = {d: [] for d in Direction}
        for page in self._pages(node, ""):
            for item in page.get("Items", []):
                sk = item["sk"]["S"]
                for direction, prefix in _PREFIX.items():
                    if sk.startswith(prefix):
                        found[direction].append((sk[len(prefix) :], OPENLINEAGE))
        return found

    def _pages(self, node: str, prefix: str) -> Any:
        # No prefix: the whole partition, without begins_with (key attributes take no empty
        # string, https://aws.amazon.com/about-aws/whats-new/2020/05/amazon-dynamodb-now-supports-empty-values-for-non-key-string-and-binary-attributes-in-dynamodb-tables/)
        condition, values = "#n = :n", {":n": {"S": node}}
        if prefix:
            condition, values = (
                f"{condition} AND begins_with(#s, :p)",
                {**values, ":p": {"S": prefix}},
            )
        try:
            yield from self._dynamodb.get_paginator("query").paginate(
                TableName=self._table,
                KeyConditionExpression=condition,
                ExpressionAttributeNames={"#n": "node", "#s": "sk"},
                ExpressionAttributeValues=values,
                ProjectionExpression="#s",
            )
        except (ClientError, BotoCoreError) as exc:
            raise LineageStoreError(f"query of {self._table} failed: {exc}") from exc
