"""Every quality result central received, per central table: the history (DynamoDB).

One item per result: partition key ``table`` (``<central database>.<table>``), sort key
``sk`` (``<evaluated at>#<result id>``, so a query reads a table's results in time order). The
put is conditional on the item not existing: a result delivered twice (EventBridge and SQS
deliver at least once) is kept once. Kept with the stack gone (template ``QualityResultsTable``,
ADR 0017): Glue keeps results for a limited time, central keeps the record.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from meshgov.aws.session import error_code
from meshgov.errors import MeshgovError
from meshgov.quality.parameters import QualitySummary

CONDITION_FAILED = "ConditionalCheckFailedException"


class QualityStoreError(MeshgovError):
    """The history table could not be written or read (retried as any AWS failure)."""


def sort_key(summary: QualitySummary) -> str:
    return f"{summary.evaluated_at}#{summary.result_id}"


class QualityHistory:
    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self._dynamodb = dynamodb
        self._table = table_name

    def add(self, central_table: str, summary: QualitySummary, **context: str) -> bool:
        """Keep one result; False when it was kept already (the same table, time and id)."""
        item: dict[str, Any] = {
            "table": {"S": central_table},
            "sk": {"S": sort_key(summary)},
            "score": {"N": str(Decimal(str(summary.score)))},
            "evaluated_at": {"S": summary.evaluated_at},
            "rules_passed": {"N": str(summary.rules_passed)},
            "rules_failed": {"N": str(summary.rules_failed)},
            "rules_skipped": {"N": str(summary.rules_skipped)},
            "rulesets": {"L": [{"S": name} for name in summary.rulesets]},
            "result_id": {"S": summary.result_id},
            "run_id": {"S": summary.run_id},
            "state": {"S": summary.state},
        }
        item.update({key: {"S": value} for key, value in context.items() if value})
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item=item,
                ConditionExpression="attribute_not_exists(sk)",
            )
        except ClientError as exc:
            if error_code(exc) == CONDITION_FAILED:
                return False
            raise QualityStoreError(f"PutItem {self._table}: {exc}") from exc
        return True

    def of_table(self, central_table: str) -> Iterator[dict[str, Any]]:
        """The table's results, oldest first, as plain values."""
        paginator = self._dynamodb.get_paginator("query")
        try:
            for page in paginator.paginate(
                TableName=self._table,
                KeyConditionExpression="#t = :t",
                ExpressionAttributeNames={"#t": "table"},
                ExpressionAttributeValues={":t": {"S": central_table}},
            ):
                for item in page.get("Items") or []:
                    yield {key: _plain(value) for key, value in item.items()}
        except ClientError as exc:
            raise QualityStoreError(f"Query {self._table}: {exc}") from exc


def _plain(value: dict[str, Any]) -> Any:
    if "S" in value:
        return value["S"]
    if "N" in value:
        number = Decimal(value["N"])
        return int(number) if number == number.to_integral_value() else float(number)
    if "L" in value:
        return [_plain(v) for v in value["L"]]
    return value
