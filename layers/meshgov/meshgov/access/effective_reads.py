"""Effective permissions, the reads: what :func:`meshgov.access.effective.decide` needs, read with
injected clients (the caller assumes the roles; on AWS the consumer is read through its reader
role, ``meshgov-catalog-reader-<Region>``).

Split from the pure decision (:mod:`meshgov.access.effective`) so that the decision stays
testable on plain data, and so that the posture report reads the same listings through the
public helpers here (:func:`read_listing`, :func:`list_permission_pages`, :func:`paged_items`),
each with the caller's own read error.

``ListPermissions`` has no boto3 paginator, so its pages are followed by ``NextToken``
(MaxResults 1 to 1000,
https://docs.aws.amazon.com/lake-formation/latest/APIReference/API_ListPermissions.html).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from meshgov.access.effective import (
    AccessAnswer,
    AccessFacts,
    AccessQuestion,
    AccessQuestionInvalidError,
    Grant,
    decide,
)
from meshgov.access.store import RequestStore
from meshgov.aws.session import error_code
from meshgov.catalog.tags import effective_tags
from meshgov.errors import MeshgovError

LIST_PAGE_SIZE = 1000
NOT_FOUND = "EntityNotFoundException"


class PermissionsReadError(MeshgovError):
    """Lake Formation, Glue or RAM could not be read to answer (denied, throttled, unreachable)."""


ClientOf = Callable[[str, str], Any]
"""``client(account_id, service)``: a boto3 client acting in that account."""


@dataclass(frozen=True)
class CentralReaders:
    """Clients of the central account: Glue (does the table exist) and Lake Formation (grants,
    LF-Tags)."""

    account_id: str
    glue: Any
    lakeformation: Any

    @classmethod
    def of(cls, account_id: str, client: ClientOf) -> CentralReaders:
        """The readers from ``client(account, service)``, however the caller reaches accounts."""
        return cls(account_id, client(account_id, "glue"), client(account_id, "lakeformation"))


@dataclass(frozen=True)
class ConsumerReaders:
    """Clients of the consumer account (in production through its reader role,
    ``meshgov-catalog-reader-<Region>``): Lake Formation (its grants to the principal), Glue
    (its links), RAM (shares)."""

    account_id: str
    lakeformation: Any
    glue: Any
    ram: Any

    @classmethod
    def of(cls, account_id: str, client: ClientOf) -> ConsumerReaders:
        """The readers from ``client(account, service)``, however the caller reaches accounts."""
        return cls(
            account_id,
            client(account_id, "lakeformation"),
            client(account_id, "glue"),
            client(account_id, "ram"),
        )


def read_listing(
    what: str, call: Callable[[], Any], error: type[MeshgovError] = PermissionsReadError
) -> Any:
    """``call()``, its AWS errors raised as ``error`` (the caller's own read error)."""
    try:
        return call()
    except (ClientError, BotoCoreError) as exc:
        raise error(f"{what} failed: {exc}") from exc


def list_permission_pages(
    lakeformation: Any,
    what: str,
    error: type[MeshgovError] = PermissionsReadError,
    **request: Any,
) -> list[Grant]:
    """Every page of one ``ListPermissions`` request (boto3 has no paginator for it); AWS errors
    raised as ``error``."""
    request["MaxResults"] = LIST_PAGE_SIZE
    grants: list[Grant] = []
    while True:
        page = read_listing(what, lambda: lakeformation.list_permissions(**request), error)
        grants.extend(Grant.from_listing(e) for e in page.get("PrincipalResourcePermissions", []))
        if not page.get("NextToken"):
            return grants
        request["NextToken"] = page["NextToken"]


def paged_items(
    client: Any,
    operation: str,
    key: str,
    what: str,
    error: type[MeshgovError] = PermissionsReadError,
    **request: Any,
) -> Iterator[Any]:
    """Every item under ``key`` of every page of a boto3 paginator; AWS errors raised as
    ``error``."""
    pages = read_listing(
        what, lambda: list(client.get_paginator(operation).paginate(**request)), error
    )
    for page in pages:
        yield from page.get(key, [])


def _table_exists(central: CentralReaders, database: str, table: str) -> bool:
    try:
        central.glue.get_table(CatalogId=central.account_id, DatabaseName=database, Name=table)
    except ClientError as exc:
        if error_code(exc) == NOT_FOUND:
            return False
        raise PermissionsReadError(f"glue:GetTable {database}.{table} failed: {exc}") from exc
    except BotoCoreError as exc:
        raise PermissionsReadError(f"glue:GetTable {database}.{table} failed: {exc}") from exc
    return True


def _tags_of(central: CentralReaders, database: str, table: str) -> dict[str, list[str]]:
    catalog = central.account_id
    lf = central.lakeformation
    on_database = read_listing(
        "lakeformation:GetResourceLFTags",
        lambda: lf.get_resource_lf_tags(
            CatalogId=catalog, Resource={"Database": {"CatalogId": catalog, "Name": database}}
        ),
    )
    on_table = read_listing(
        "lakeformation:GetResourceLFTags",
        lambda: lf.get_resource_lf_tags(
            CatalogId=catalog,
            Resource={"Table": {"CatalogId": catalog, "DatabaseName": database, "Name": table}},
        ),
    )
    inherited = [*on_database.get("LFTagOnDatabase", []), *on_table.get("LFTagOnDatabase", [])]
    return effective_tags(inherited, on_table.get("LFTagsOnTable", []))


def read_facts(
    central: CentralReaders,
    consumer: ConsumerReaders,
    store: RequestStore,
    question: AccessQuestion,
) -> AccessFacts:
    """Read what :func:`decide` needs (about a dozen calls; LF-Tags only when a tag policy
    grant to the account exists)."""
    if consumer.account_id != question.consumer_account:
        raise AccessQuestionInvalidError(
            f"{question.principal} is not a principal of account {consumer.account_id}"
        )
    db, name, catalog = question.database, question.table, central.account_id
    if not _table_exists(central, db, name):
        return AccessFacts(central_account=catalog, table_exists=False)
    list_central = "lakeformation:ListPermissions (central)"
    table = {"CatalogId": catalog, "DatabaseName": db, "Name": name}
    wildcard = {"CatalogId": catalog, "DatabaseName": db, "TableWildcard": {}}
    central_grants = [
        *list_permission_pages(
            central.lakeformation, list_central, CatalogId=catalog, Resource={"Table": table}
        ),
        *list_permission_pages(
            central.lakeformation, list_central, CatalogId=catalog, Resource={"Table": wildcard}
        ),
        *list_permission_pages(
            central.lakeformation,
            list_central,
            CatalogId=catalog,
            ResourceType="LF_TAG_POLICY_TABLE",
        ),
    ]
    cell_filters = _cell_filters(central, db, name)
    filter_resources = [
        {
            "DataCellsFilter": {
                "TableCatalogId": catalog,
                "DatabaseName": db,
                "TableName": name,
                "Name": filter_name,
            }
        }
        for filter_name in sorted(cell_filters)
    ]
    central_grants.extend(
        grant
        for resource in filter_resources
        for grant in list_permission_pages(
            central.lakeformation, list_central, CatalogId=catalog, Resource=resource
        )
    )
    tags: dict[str, list[str]] = {}
    if any(
        "LFTagPolicy" in g.resource and g.principal == consumer.account_id for g in central_grants
    ):
        tags = _tags_of(central, db, name)

    shares = paged_items(
        consumer.ram,
        "get_resource_shares",
        "resourceShares",
        "ram:GetResourceShares",
        resourceOwner="OTHER-ACCOUNTS",
    )
    accepted = frozenset(
        str(s["resourceShareArn"])
        for s in shares
        if s.get("owningAccountId") == catalog and s.get("status") == "ACTIVE"
    )
    invitations = {
        str(i["resourceShareArn"]): str(i.get("status", ""))
        for i in paged_items(
            consumer.ram,
            "get_resource_share_invitations",
            "resourceShareInvitations",
            "ram:GetResourceShareInvitations",
        )
        if i.get("senderAccountId") == catalog
    }

    own = consumer.account_id
    principal = {"DataLakePrincipalIdentifier": question.principal}
    list_consumer = "lakeformation:ListPermissions (consumer)"
    principal_grants = [
        *list_permission_pages(
            consumer.lakeformation,
            list_consumer,
            CatalogId=own,
            Principal=principal,
            Resource={"Table": table},
        ),
        *list_permission_pages(
            consumer.lakeformation,
            list_consumer,
            CatalogId=own,
            Principal=principal,
            Resource={"Table": wildcard},
        ),
        *(
            grant
            for resource in filter_resources
            for grant in list_permission_pages(
                consumer.lakeformation,
                list_consumer,
                CatalogId=own,
                Principal=principal,
                Resource=resource,
            )
        ),
    ]
    links = tuple(
        sorted(
            str(d["Name"])
            for d in paged_items(
                consumer.glue,
                "get_databases",
                "DatabaseList",
                "glue:GetDatabases",
                CatalogId=own,
            )
            if (d.get("TargetDatabase") or {}).get("CatalogId") == catalog
            and (d.get("TargetDatabase") or {}).get("DatabaseName") == db
        )
    )
    link_grants = [
        grant
        for link in links
        for grant in list_permission_pages(
            consumer.lakeformation,
            list_consumer,
            CatalogId=own,
            Principal=principal,
            Resource={"Database": {"CatalogId": own, "Name": link}},
        )
    ]
    return AccessFacts(
        central_account=catalog,
        table_tags=tags,
        central_grants=tuple(central_grants),
        accepted_shares=accepted,
        invitations=invitations,
        principal_grants=tuple(principal_grants),
        links=links,
        link_grants=tuple(link_grants),
        requests=tuple(store.of_consumer(own)),
        cell_filters=cell_filters,
    )


def _cell_filters(central: CentralReaders, database: str, table: str) -> dict[str, dict[str, Any]]:
    """The table's data cells filters in central, by name (``ListDataCellsFilter``)."""
    found = paged_items(
        central.lakeformation,
        "list_data_cells_filter",
        "DataCellsFilters",
        "lakeformation:ListDataCellsFilter",
        Table={"CatalogId": central.account_id, "DatabaseName": database, "Name": table},
    )
    return {str(f["Name"]): dict(f) for f in found}


def can_access(
    central: CentralReaders,
    consumer: ConsumerReaders,
    store: RequestStore,
    principal: str,
    action: str,
    database: str,
    table: str,
) -> AccessAnswer:
    """Can ``principal`` do ``action`` on central ``database.table``, why, and until when.

    Raises :class:`AccessQuestionInvalidError` for a question that cannot be asked (checked
    before any call) and :class:`PermissionsReadError` when an account cannot be read.
    """
    question = AccessQuestion(principal, action, database, table)
    return decide(question, read_facts(central, consumer, store, question))


def can_access_through(
    client: ClientOf,
    central_account: str,
    store: RequestStore,
    principal: str,
    action: str,
    database: str,
    table: str,
) -> AccessAnswer:
    """:func:`can_access`, reading central and the principal's own account through
    ``client(account, service)`` — however the caller reaches accounts (CLI, local mesh, real
    accounts)."""
    parts = principal.split(":")
    member = parts[4] if len(parts) > 4 else ""
    return can_access(
        CentralReaders.of(central_account, client),
        ConsumerReaders.of(member, client),
        store,
        principal,
        action,
        database,
        table,
    )
