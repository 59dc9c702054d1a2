"""DynamoDB TransactWriteItems honours ClientRequestToken, as AWS documents (see
meshgov_local.emulator.dynamodb_transactions): a retried transaction whose answer was lost
succeeds without writing twice."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from localmesh_support import CENTRAL

from meshgov_local.accounts import AccountSessions
from meshgov_local.emulator import controls

TABLE = "tokens"


def _table(mesh: AccountSessions) -> Any:
    ddb = mesh.client(CENTRAL, "dynamodb")
    ddb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": "counter"}, "n": {"N": "0"}})
    return ddb


def _bump(ddb: Any, token: str, by: int = 1) -> None:
    ddb.transact_write_items(
        TransactItems=[
            {
                "Update": {
                    "TableName": TABLE,
                    "Key": {"pk": {"S": "counter"}},
                    "UpdateExpression": "SET n = n + :by",
                    "ExpressionAttributeValues": {":by": {"N": str(by)}},
                }
            }
        ],
        ClientRequestToken=token,
    )


def _count(ddb: Any) -> int:
    item = ddb.get_item(TableName=TABLE, Key={"pk": {"S": "counter"}}, ConsistentRead=True)
    return int(item["Item"]["n"]["N"])


def test_the_same_token_within_ten_minutes_writes_once(mesh: AccountSessions) -> None:
    ddb = _table(mesh)
    _bump(ddb, "t-1")
    _bump(ddb, "t-1")  # the SDK's retry after a lost answer
    assert _count(ddb) == 1
    _bump(ddb, "t-2")
    assert _count(ddb) == 2


def test_the_same_token_with_other_items_is_refused(mesh: AccountSessions) -> None:
    ddb = _table(mesh)
    _bump(ddb, "t-1")
    with pytest.raises(ClientError) as caught:
        _bump(ddb, "t-1", by=5)
    assert caught.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"
    assert _count(ddb) == 1


def test_after_ten_minutes_a_token_is_new_again(mesh: AccountSessions) -> None:
    ddb = _table(mesh)
    _bump(ddb, "t-1")
    controls.advance_time(601)
    _bump(ddb, "t-1")
    assert _count(ddb) == 2


def test_a_cancelled_transaction_does_not_use_up_its_token(mesh: AccountSessions) -> None:
    ddb = _table(mesh)
    with pytest.raises(ClientError):
        ddb.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": TABLE,
                        "Item": {"pk": {"S": "counter"}, "n": {"N": "9"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            ],
            ClientRequestToken="t-1",
        )
    _bump(ddb, "t-2")
    assert _count(ddb) == 1
