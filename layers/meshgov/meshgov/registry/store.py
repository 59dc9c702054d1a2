"""The registry of member accounts in the central account's DynamoDB table (``RegistryTable``).

Producers and consumers live here, not in template parameters or environment variables: a
Lambda function's environment is at most 4 KB and a CloudFormation parameter value at most
4,096 bytes (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html,
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html), and
every onboarding would redeploy central (docs/adr/0020-member-registry.md).

Items (one partition each, so one Query reads every member: 200 members are one page):

- ``pk = MEMBER`` / ``sk = <account>``: ``kind``, ``domain`` (producers), ``state`` (``ACTIVE``
  or ``REMOVING``), ``registered_at``, ``remove_after`` (when a removed producer's products go);
- ``pk = DOMAIN`` / ``sk = <domain>``: ``account`` - the guard that keeps a domain to one producer.

A member and its domain are written and deleted together in one transaction, each conditioned on
the other side's absence or state (``TransactWriteItems`` succeeds or changes nothing,
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html): the
registry never holds a member without its domain guard or a guard without its member.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from meshgov.aws.session import error_code, error_text
from meshgov.contracts.registry_events import MemberKind
from meshgov.errors import MeshgovError

MEMBERS, DOMAINS = "MEMBER", "DOMAIN"


class MemberState(StrEnum):
    ACTIVE = "ACTIVE"
    # Removed by the platform team; a producer's products stay published until remove_after.
    REMOVING = "REMOVING"


class RegistryError(MeshgovError):
    """The registry table could not be read or written (retried: nothing was changed)."""


class RegistryConflictError(MeshgovError):
    """A write lost to the registry's current state: ``reason`` says which condition failed."""

    def __init__(self, reason: str, code: str) -> None:
        super().__init__(reason)
        self.code = code


@dataclass(frozen=True)
class Member:
    account: str
    kind: MemberKind
    domain: str | None
    state: MemberState
    registered_at: str
    remove_after: str | None = None
    # The Member Add Requested event that registered it: its redelivery changes nothing.
    event_id: str = ""

    @property
    def is_producer(self) -> bool:
        return self.kind is MemberKind.PRODUCER

    def as_dict(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "kind": self.kind.value,
            "domain": self.domain,
            "state": self.state.value,
            "registeredAt": self.registered_at,
            "removeAfter": self.remove_after,
        }


class RegistryStore:
    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self._dynamodb = dynamodb
        self._table = table_name

    # -- reads ---------------------------------------------------------------------------------
    def members(self) -> list[Member]:
        """Every registered member, in account order (consistent: a member just added or
        removed is seen by the next event)."""
        return [_member(item) for item in self._items(MEMBERS)]

    def get(self, account: str) -> Member | None:
        try:
            item = self._dynamodb.get_item(
                TableName=self._table,
                Key={"pk": {"S": MEMBERS}, "sk": {"S": account}},
                ConsistentRead=True,
            ).get("Item")
        except (ClientError, BotoCoreError) as exc:
            raise RegistryError(f"reading member {account}: {_text(exc)}") from exc
        return _member(item) if item else None

    # -- writes --------------------------------------------------------------------------------
    def add(self, member: Member) -> None:
        """Register ``member`` (and its domain), or raise :class:`RegistryConflictError` saying
        whether the account or the domain is taken; nothing is written then."""
        item: dict[str, Any] = {
            "pk": {"S": MEMBERS},
            "sk": {"S": member.account},
            "kind": {"S": member.kind.value},
            "state": {"S": member.state.value},
            "registered_at": {"S": member.registered_at},
            "event_id": {"S": member.event_id or "-"},
        }
        writes: list[dict[str, Any]] = [
            {"Put": {**self._new(item)}},
        ]
        if member.domain:
            item["domain"] = {"S": member.domain}
            guard = {"pk": {"S": DOMAINS}, "sk": {"S": member.domain}}
            writes.append({"Put": self._new({**guard, "account": {"S": member.account}})})
        try:
            self._dynamodb.transact_write_items(TransactItems=writes)
        except ClientError as exc:
            reasons = _cancellations(exc)
            if reasons[:1] == ["ConditionalCheckFailed"]:
                raise RegistryConflictError(
                    f"account {member.account} is already registered", "MemberAlreadyRegistered"
                ) from exc
            if reasons[1:2] == ["ConditionalCheckFailed"]:
                raise RegistryConflictError(
                    f"domain {member.domain!r} is already taken", "DomainTaken"
                ) from exc
            raise RegistryError(f"registering {member.account}: {_text(exc)}") from exc
        except BotoCoreError as exc:
            raise RegistryError(f"registering {member.account}: {_text(exc)}") from exc

    def mark_removing(self, account: str, remove_after: datetime) -> None:
        """An ACTIVE member becomes REMOVING until ``remove_after``."""
        try:
            self._dynamodb.update_item(
                TableName=self._table,
                Key={"pk": {"S": MEMBERS}, "sk": {"S": account}},
                UpdateExpression="SET #s = :removing, remove_after = :at",
                ConditionExpression="#s = :active",
                ExpressionAttributeNames={"#s": "state"},
                ExpressionAttributeValues={
                    ":removing": {"S": MemberState.REMOVING.value},
                    ":active": {"S": MemberState.ACTIVE.value},
                    ":at": {"S": remove_after.isoformat()},
                },
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise RegistryConflictError(
                    f"account {account} is not an active member", "MemberNotActive"
                ) from exc
            raise RegistryError(f"removing {account}: {_text(exc)}") from exc
        except BotoCoreError as exc:
            raise RegistryError(f"removing {account}: {_text(exc)}") from exc

    def delete(self, member: Member) -> None:
        """Forget ``member`` and its domain guard together (idempotent: gone is gone)."""
        writes: list[dict[str, Any]] = [
            {"Delete": {"TableName": self._table, "Key": _key(MEMBERS, member.account)}}
        ]
        if member.domain:
            writes.append(
                {
                    "Delete": {
                        "TableName": self._table,
                        "Key": _key(DOMAINS, member.domain),
                        "ConditionExpression": "attribute_not_exists(pk) OR account = :a",
                        "ExpressionAttributeValues": {":a": {"S": member.account}},
                    }
                }
            )
        try:
            self._dynamodb.transact_write_items(TransactItems=writes)
        except (ClientError, BotoCoreError) as exc:
            raise RegistryError(f"forgetting {member.account}: {_text(exc)}") from exc

    # -- helpers -------------------------------------------------------------------------------
    def _new(self, item: dict[str, Any]) -> dict[str, Any]:
        return {
            "TableName": self._table,
            "Item": item,
            "ConditionExpression": "attribute_not_exists(pk)",
        }

    def _items(self, pk: str) -> Iterator[dict[str, Any]]:
        try:
            pages = self._dynamodb.get_paginator("query").paginate(
                TableName=self._table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": pk}},
                ConsistentRead=True,
            )
            for page in pages:
                yield from page.get("Items", [])
        except (ClientError, BotoCoreError) as exc:
            raise RegistryError(f"reading the registry: {_text(exc)}") from exc


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _member(item: dict[str, Any]) -> Member:
    return Member(
        account=item["sk"]["S"],
        kind=MemberKind(item["kind"]["S"]),
        domain=item.get("domain", {}).get("S"),
        state=MemberState(item["state"]["S"]),
        registered_at=item["registered_at"]["S"],
        remove_after=item.get("remove_after", {}).get("S"),
        event_id=item.get("event_id", {}).get("S", ""),
    )


def _cancellations(exc: ClientError) -> list[str]:
    """The codes of a cancelled transaction's items, in order (``None`` for those that passed)."""
    if error_code(exc) != "TransactionCanceledException":
        return []
    return [str(r.get("Code") or "None") for r in exc.response.get("CancellationReasons") or []]


def _text(exc: Exception) -> str:
    return error_text(exc) if isinstance(exc, ClientError) else str(exc)


def member_target(account: str) -> str:
    """A member's name in the audit trail's ``target``."""
    return f"account/{account}"
