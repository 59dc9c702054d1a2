"""What the central access function asks of AWS: read the central catalog, grant, revoke, tell.

Thin: boto3 calls, paginators, and ``ClientError`` turned into meshgov's errors. Grants and
revokes go through ``BatchGrantPermissions``/``BatchRevokePermissions``
(https://docs.aws.amazon.com/lake-formation/latest/APIReference/API_BatchGrantPermissions.html),
in calls of at most 20 entries (:func:`meshgov.access.grants.grant_batches`);
a failed entry fails the whole step, which is retried (grants and revokes are idempotent).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from meshgov.access.grants import grant_batches
from meshgov.access.resolve import CLASSIFICATION_TAG, MatchedTable
from meshgov.aws.arns import Arns
from meshgov.aws.session import error_code
from meshgov.catalog.glue_reads import database_or_none
from meshgov.catalog.tags import effective_tags
from meshgov.contracts.access_events import ACCESS_SOURCE, TagCondition, TagExpression
from meshgov.errors import MeshgovError


class AccessActionError(MeshgovError):
    """A Lake Formation, Glue or EventBridge call of the access flow failed (retried)."""


def _fail(what: str, exc: Exception) -> AccessActionError:
    return AccessActionError(f"{what} failed: {exc}")


class CentralAccessCatalog:
    def __init__(self, glue: Any, lakeformation: Any, account_id: str) -> None:
        self._glue = glue
        self._lf = lakeformation
        self.account_id = account_id

    def database(self, name: str) -> dict[str, Any] | None:
        try:
            return database_or_none(self._glue, self.account_id, name)
        except (ClientError, BotoCoreError) as exc:
            raise _fail(f"GetDatabase {name}", exc) from exc

    def databases(self) -> list[dict[str, Any]]:
        try:
            pages = self._glue.get_paginator("get_databases").paginate(CatalogId=self.account_id)
            return [d for page in pages for d in page.get("DatabaseList", [])]
        except (ClientError, BotoCoreError) as exc:
            raise _fail("GetDatabases", exc) from exc

    def tables(self, database: str) -> list[dict[str, Any]]:
        try:
            pages = self._glue.get_paginator("get_tables").paginate(
                CatalogId=self.account_id, DatabaseName=database
            )
            return [t for page in pages for t in page.get("TableList", [])]
        except ClientError as exc:
            if error_code(exc) == "EntityNotFoundException":
                return []
            raise _fail(f"GetTables {database}", exc) from exc
        except BotoCoreError as exc:
            raise _fail(f"GetTables {database}", exc) from exc

    def tagged_tables(self, expression: TagExpression) -> list[MatchedTable]:
        """Tables the expression matches, with their database's parameters (owner, domain)."""
        conditions = [
            {"TagKey": c.key, "TagValues": [v.lower() for v in c.values]}
            for c in expression.conditions
        ]
        found: list[dict[str, Any]] = []
        try:
            token: str | None = None
            while True:
                kwargs: dict[str, Any] = {"CatalogId": self.account_id, "Expression": conditions}
                if token:
                    kwargs["NextToken"] = token
                page = self._lf.search_tables_by_lf_tags(**kwargs)
                found.extend(page.get("TableList", []))
                token = page.get("NextToken")
                if not token:
                    break
        except (ClientError, BotoCoreError) as exc:
            raise _fail("SearchTablesByLFTags", exc) from exc
        parameters: dict[str, Mapping[str, str]] = {}
        matches = []
        for tagged in found:
            table = tagged.get("Table", {})
            database = str(table.get("DatabaseName", ""))
            if database not in parameters:
                parameters[database] = (self.database(database) or {}).get("Parameters") or {}
            tags = effective_tags(tagged.get("LFTagOnDatabase"), tagged.get("LFTagsOnTable"))
            matches.append(
                MatchedTable(database, str(table.get("Name")), parameters[database], tags)
            )
        return matches

    def tables_classified(self, database: str, values: Collection[str]) -> dict[str, list[str]]:
        """Tables of ``database`` whose LF-Tag ``classification`` (their own, else their
        database's) is one of ``values``: table name (lower case) -> the values. One
        ``SearchTablesByLFTags`` for the whole request instead of one tag read per table; no such
        tag key defined means no table is classified by tag."""
        expression = TagExpression(
            conditions=[TagCondition(key=CLASSIFICATION_TAG, values=sorted(values))]
        )
        try:
            matches = self.tagged_tables(expression)
        except AccessActionError as exc:
            cause = exc.__cause__
            if isinstance(cause, ClientError) and error_code(cause) == "EntityNotFoundException":
                return {}
            raise
        return {
            m.table.lower(): [str(v).lower() for v in m.tags.get(CLASSIFICATION_TAG, [])]
            for m in matches
            if m.database == database
        }

    def ensure_filter(self, table_data: Mapping[str, Any]) -> bool:
        """Create the data cells filter; False when one of that name was already there (a
        retry, or what a failed attempt left), which is then updated to ``table_data`` — the
        same definition changes nothing. meshgov names filters per request
        (:func:`meshgov.access.filters.filter_name`): nobody else's filter is ever touched."""
        name = table_data.get("Name")
        try:
            self._lf.create_data_cells_filter(TableData=dict(table_data))
            return True
        except ClientError as exc:
            if error_code(exc) != "AlreadyExistsException":
                raise _fail(f"CreateDataCellsFilter {name}", exc) from exc
        except BotoCoreError as exc:
            raise _fail(f"CreateDataCellsFilter {name}", exc) from exc
        try:
            self._lf.update_data_cells_filter(TableData=dict(table_data))
        except (ClientError, BotoCoreError) as exc:
            raise _fail(f"UpdateDataCellsFilter {name}", exc) from exc
        return False

    def delete_filter(self, table_data: Mapping[str, Any]) -> bool:
        """Delete the data cells filter; False when it was already gone."""
        try:
            self._lf.delete_data_cells_filter(
                TableCatalogId=table_data["TableCatalogId"],
                DatabaseName=table_data["DatabaseName"],
                TableName=table_data["TableName"],
                Name=table_data["Name"],
            )
            return True
        except ClientError as exc:
            if error_code(exc) == "EntityNotFoundException":
                return False
            raise _fail(f"DeleteDataCellsFilter {table_data.get('Name')}", exc) from exc
        except BotoCoreError as exc:
            raise _fail(f"DeleteDataCellsFilter {table_data.get('Name')}", exc) from exc

    def grant(self, entries: Sequence[Mapping[str, Any]]) -> None:
        self._batch("batch_grant_permissions", entries)

    def revoke(self, entries: Sequence[Mapping[str, Any]]) -> None:
        self._batch("batch_revoke_permissions", entries)

    def _batch(self, operation: str, entries: Sequence[Mapping[str, Any]]) -> None:
        for chunk in grant_batches(entries):
            try:
                response = getattr(self._lf, operation)(
                    CatalogId=self.account_id, Entries=list(chunk)
                )
            except (ClientError, BotoCoreError) as exc:
                raise _fail(operation, exc) from exc
            failures = response.get("Failures") or []
            if failures:
                first = failures[0].get("Error", {})
                raise AccessActionError(
                    f"{operation}: {len(failures)} entries failed, first: "
                    f"{first.get('ErrorCode')}: {first.get('ErrorMessage')}"
                )


class MeshEvents:
    """Puts meshgov's access events on another account's ``meshgov`` bus (one hop, direct)."""

    def __init__(self, events: Any, arns: Arns, bus_name: str) -> None:
        self._events = events
        self.arns = arns  # central's partition and Region: the members' buses are in both
        self._bus = bus_name

    def bus_arn(self, account_id: str) -> str:
        return self.arns.event_bus(account_id, self._bus)

    def send(
        self, account_id: str, detail_type: str, detail: Mapping[str, Any], resources: list[str]
    ) -> None:
        entry = {
            "Source": ACCESS_SOURCE,
            "DetailType": detail_type,
            "Detail": json.dumps(detail, sort_keys=True, default=str),
            "EventBusName": self.bus_arn(account_id),
            "Resources": resources,
        }
        try:
            response = self._events.put_events(Entries=[entry])
        except (ClientError, BotoCoreError) as exc:
            raise _fail(f"PutEvents {detail_type} to {account_id}", exc) from exc
        if response.get("FailedEntryCount"):
            raise AccessActionError(f"PutEvents {detail_type}: {response.get('Entries')}")
