"""Every accepted contract version, and each contracted table's current contract and status.

Kept in the sync ledger table (``LEDGER_TABLE_NAME``) under key prefixes of their own, beside the
rows the catalog sync already reads and writes there (docs/adr/0016-data-contracts.md): the
catalog role needs no new table or grant, and a contract's head sits with the table it governs.

- ``pk = CONTRACTS`` / ``sk = <account>#<source db>#<table>``: the head — the version in force,
  its terms (baseline), status (``OK`` / ``BREACHED``) and last breach, its freshness SLA and
  what the last freshness check saw (:mod:`meshgov.contracts_odcs.freshness`). One partition: the
  posture report reads every contracted product with one Query.
- ``pk = CONTRACT#<account>#<source db>#<table>`` / ``sk = V#<version>``: each accepted
  version, the validated document stored zlib-compressed (a contract is at most 256 KiB).
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field, replace
from typing import Any

from botocore.exceptions import ClientError

from meshgov.errors import CatalogWriteError

HEADS = "CONTRACTS"
OK, BREACHED = "OK", "BREACHED"


@dataclass(frozen=True)
class ContractHead:
    """The contract in force on one producer table."""

    account_id: str
    source_database: str
    table: str
    central_database: str
    contract_id: str
    version: str
    major: int
    digest: str
    location: str
    accepted_at: str
    baseline: dict[str, Any] = field(default_factory=dict)
    status: str = OK
    last_breach: dict[str, Any] | None = None
    # The version's freshness SLA (freshness.sla_of; None: it sets none) and the freshness
    # check's state: {"newestAt": ..., "breachedAt": ... (None: on time)}.
    sla: dict[str, Any] | None = None
    freshness: dict[str, Any] | None = None

    @property
    def key(self) -> str:
        return f"{self.account_id}#{self.source_database}#{self.table}"

    def breached(self, breach: dict[str, Any]) -> ContractHead:
        return replace(self, status=BREACHED, last_breach=breach)


class ContractStore:
    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self._ddb = dynamodb
        self._table = table_name

    def head(self, account_id: str, database: str, table: str) -> ContractHead | None:
        key = {"pk": {"S": HEADS}, "sk": {"S": f"{account_id}#{database}#{table}"}}
        try:
            item = self._ddb.get_item(TableName=self._table, Key=key, ConsistentRead=True).get(
                "Item"
            )
        except ClientError as exc:
            raise CatalogWriteError(f"contract store get: {exc}") from exc
        return _head(item) if item else None

    def heads(self) -> list[ContractHead]:
        """Every contracted table's head (the posture report)."""
        try:
            pages = self._ddb.get_paginator("query").paginate(
                TableName=self._table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": HEADS}},
            )
            return [_head(item) for page in pages for item in page.get("Items", [])]
        except ClientError as exc:
            raise CatalogWriteError(f"contract store query: {exc}") from exc

    def versions(self, account_id: str, database: str, table: str) -> list[dict[str, Any]]:
        """Every accepted version of a table's contract, oldest first, documents included."""
        try:
            pages = self._ddb.get_paginator("query").paginate(
                TableName=self._table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={
                    ":pk": {"S": f"CONTRACT#{account_id}#{database}#{table}"}
                },
            )
            items = [item for page in pages for item in page.get("Items", [])]
        except ClientError as exc:
            raise CatalogWriteError(f"contract store query: {exc}") from exc
        return sorted(
            (
                {
                    "version": item["version"]["S"],
                    "digest": item["digest"]["S"],
                    "location": item["location"]["S"],
                    "acceptedAt": item["accepted_at"]["S"],
                    "document": json.loads(zlib.decompress(item["document"]["B"])),
                }
                for item in items
            ),
            key=lambda v: str(v["acceptedAt"]),
        )

    def accept(self, head: ContractHead, document: dict[str, Any]) -> None:
        """Keep a new version, then make it the head (a version without a head is harmless)."""
        version = {
            "pk": {"S": f"CONTRACT#{head.key}"},
            "sk": {"S": f"V#{head.version}"},
            "version": {"S": head.version},
            "digest": {"S": head.digest},
            "location": {"S": head.location},
            "accepted_at": {"S": head.accepted_at},
            "document": {"B": zlib.compress(json.dumps(document, sort_keys=True).encode())},
        }
        try:
            self._ddb.put_item(TableName=self._table, Item=version)
        except ClientError as exc:
            raise CatalogWriteError(f"contract store put version: {exc}") from exc
        self.put_head(head)

    def put_head(self, head: ContractHead) -> None:
        try:
            self._ddb.put_item(TableName=self._table, Item=_item(head))
        except ClientError as exc:
            raise CatalogWriteError(f"contract store put head: {exc}") from exc

    def put_freshness(self, head: ContractHead, freshness: dict[str, Any]) -> bool:
        """Record what the freshness check saw, if the head is still the one it read (same
        version, same contract status: a PutItem condition, so a version accepted or a breach
        recorded meanwhile is not overwritten). False when it was not."""
        try:
            self._ddb.put_item(
                TableName=self._table,
                Item=_item(replace(head, freshness=freshness)),
                ConditionExpression="#d = :d AND #s = :s",
                ExpressionAttributeNames={"#d": "digest", "#s": "status"},
                ExpressionAttributeValues={":d": {"S": head.digest}, ":s": {"S": head.status}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise CatalogWriteError(f"contract store put freshness: {exc}") from exc
        return True


def _item(head: ContractHead) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": {"S": HEADS},
        "sk": {"S": head.key},
        "central_database": {"S": head.central_database},
        "contract_id": {"S": head.contract_id},
        "version": {"S": head.version},
        "major": {"N": str(head.major)},
        "digest": {"S": head.digest},
        "location": {"S": head.location},
        "accepted_at": {"S": head.accepted_at},
        "baseline": {"S": json.dumps(head.baseline, sort_keys=True)},
        "status": {"S": head.status},
    }
    if head.last_breach is not None:
        item["last_breach"] = {"S": json.dumps(head.last_breach, sort_keys=True)}
    for name, value in (("sla", head.sla), ("freshness", head.freshness)):
        if value is not None:
            item[name] = {"S": json.dumps(value, sort_keys=True)}
    return item


def _head(item: dict[str, Any]) -> ContractHead:
    account, database, table = item["sk"]["S"].split("#", 2)
    breach = item.get("last_breach", {}).get("S")
    sla, fresh = item.get("sla", {}).get("S"), item.get("freshness", {}).get("S")
    return ContractHead(
        account_id=account,
        source_database=database,
        table=table,
        central_database=item["central_database"]["S"],
        contract_id=item["contract_id"]["S"],
        version=item["version"]["S"],
        major=int(item["major"]["N"]),
        digest=item["digest"]["S"],
        location=item["location"]["S"],
        accepted_at=item["accepted_at"]["S"],
        baseline=json.loads(item["baseline"]["S"]),
        status=item["status"]["S"],
        last_breach=json.loads(breach) if breach else None,
        sla=json.loads(sla) if sla else None,
        freshness=json.loads(fresh) if fresh else None,
    )
