"""Reading what the posture report needs (thin adapter; the caller builds the clients).

- central Lake Formation: every grant central made to a principal of *another* account
  (``ListPermissions`` by ``ResourceType`` — ``DATABASE``, ``TABLE``, ``LF_TAG_POLICY_DATABASE``,
  ``LF_TAG_POLICY_TABLE`` — filtered here: Lake Formation requires a ``Resource`` whenever a
  ``Principal`` is given, so "everything to anyone" is the only listing that finds grants made
  behind meshgov's back); for each LF-Tag policy granted, the tables it matches now
  (``SearchTablesByLFTags``);
- the central requests table (every request);
- the central catalog (``GetDatabases``/``GetTables``): the published products; and the tables
  an LF-Tag ``classification`` classifies (``ListLFTags``, then one ``SearchTablesByLFTags`` on
  that key when it exists), so that a product's classification is the policy's and ``find``'s
  (:func:`meshgov.contracts.product_metadata.classification_of`);
- each member account (in production through its reader role, ``meshgov-catalog-reader-<Region>``,
  which may ``ListPermissions`` as a read-only Lake Formation admin; the caller assumes it): its
  resource links to central, and its grants to its own principals on central tables and on those
  links;
- catalog drift (:mod:`meshgov.posture.catalog`), when producers are given: each producer's
  published catalog against central (``GetDatabases`` + ``SearchTables`` once, partitions of
  published partitioned tables on both sides);
- usage (:mod:`meshgov.usage.store`), when a store is given: one query per role granted
  (``last_used``) and one per account granted (``of_account``), over every day the store holds
  (its retention window) — never one per grant;
- contracts (:mod:`meshgov.contracts_odcs.store`), when a store is given: every contract head,
  one ``Query`` of the ledger table's ``CONTRACTS`` partition (more pages aside).

About 6 + 2 per member + 1 per central database + 1 per LF-Tag policy + 1 per grantee calls
(more pages aside).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from meshgov.access.effective import Grant
from meshgov.access.effective_reads import (
    CentralReaders,
    ConsumerReaders,
    list_permission_pages,
    paged_items,
    read_listing,
)
from meshgov.access.store import RequestStore
from meshgov.aws.arns import Arns
from meshgov.aws.session import error_code
from meshgov.catalog.central import CentralCatalog
from meshgov.catalog.drift import CatalogDrift
from meshgov.catalog.projection import SOURCE_ACCOUNT
from meshgov.catalog.tags import TagMap, effective_tags
from meshgov.contracts.product_metadata import CLASSIFICATION_TAG
from meshgov.contracts_odcs.store import ContractHead, ContractStore
from meshgov.errors import MeshgovError
from meshgov.posture.catalog import ProducerSource, catalog_drift
from meshgov.posture.report import (
    PostureInputs,
    PostureReport,
    Product,
    build_report,
    expression_key,
    tag_policies,
)
from meshgov.usage.report import EVERY_DAY, latest_by_table
from meshgov.usage.store import UsageStore

LIST_PAGE_SIZE = 1000
CENTRAL_RESOURCE_TYPES = ("DATABASE", "TABLE", "LF_TAG_POLICY_DATABASE", "LF_TAG_POLICY_TABLE")
MEMBER_RESOURCE_TYPES = ("DATABASE", "TABLE")
NOT_FOUND = "EntityNotFoundException"


class PostureReadError(MeshgovError):
    """An account could not be read for the posture report (denied, throttled, unreachable)."""


def _read(what: str, call: Callable[[], Any]) -> Any:
    return read_listing(what, call, PostureReadError)


def _listed(lakeformation: Any, what: str, **request: Any) -> list[Grant]:
    """Every page of one ``ListPermissions`` request."""
    return list_permission_pages(lakeformation, what, PostureReadError, **request)


def _pages(client: Any, operation: str, key: str, what: str, **request: Any) -> Iterator[Any]:
    return paged_items(client, operation, key, what, PostureReadError, **request)


def _unique(grants: Sequence[Grant]) -> list[Grant]:
    seen: dict[str, Grant] = {}
    for grant in grants:
        key = json.dumps(
            [grant.principal, grant.resource, sorted(grant.permissions)], sort_keys=True
        )
        seen.setdefault(key, grant)
    return list(seen.values())


def account_of(principal: str) -> str:
    """``123456789012`` -> itself; ``arn:aws:iam::123456789012:role/x`` -> ``123456789012``;
    anything else (``IAM_ALLOWED_PRINCIPALS``, a group) -> ``""``."""
    if len(principal) == 12 and principal.isdigit():
        return principal
    parts = principal.split(":")
    return parts[4] if principal.startswith("arn:") and len(parts) > 5 else ""


def central_filters(central: CentralReaders) -> list[dict[str, Any]]:
    """Every data cells filter of the central catalog (``ListDataCellsFilter``, ``TableData``)."""
    return [
        dict(f)
        for f in paged_items(
            central.lakeformation,
            "list_data_cells_filter",
            "DataCellsFilters",
            "lakeformation:ListDataCellsFilter (central)",
            PostureReadError,
        )
    ]


def filter_resource_of(data: Mapping[str, Any]) -> dict[str, Any]:
    """The ``DataCellsFilter`` resource naming a listed filter (grants on it are listed by it:
    ``ListPermissions`` has no resource type for filters,
    https://docs.aws.amazon.com/lake-formation/latest/dg/listing-filter-perms.html)."""
    return {
        "DataCellsFilter": {
            key: data[key] for key in ("TableCatalogId", "DatabaseName", "TableName", "Name")
        }
    }


def central_grants(
    central: CentralReaders, filters: Sequence[Mapping[str, Any]] = ()
) -> list[Grant]:
    """Grants central made to principals of other accounts (those on its filters included)."""
    what = "lakeformation:ListPermissions (central)"
    found = [
        grant
        for resource_type in CENTRAL_RESOURCE_TYPES
        for grant in _listed(
            central.lakeformation, what, CatalogId=central.account_id, ResourceType=resource_type
        )
    ]
    found.extend(
        grant
        for data in filters
        for grant in _listed(
            central.lakeformation,
            what,
            CatalogId=central.account_id,
            Resource=filter_resource_of(data),
        )
    )
    return _unique([g for g in found if account_of(g.principal) not in ("", central.account_id)])


def member_grants(
    member: ConsumerReaders, central_account: str, filters: Sequence[Mapping[str, Any]] = ()
) -> list[Grant]:
    """A member's grants to its own principals on central tables, on central's data cells
    filters and on its links to central."""
    own = member.account_id
    links = {
        str(d["Name"])
        for d in _pages(
            member.glue, "get_databases", "DatabaseList", "glue:GetDatabases", CatalogId=own
        )
        if (d.get("TargetDatabase") or {}).get("CatalogId") == central_account
    }
    what = f"lakeformation:ListPermissions ({own})"
    found = [
        grant
        for resource_type in MEMBER_RESOURCE_TYPES
        for grant in _listed(member.lakeformation, what, CatalogId=own, ResourceType=resource_type)
    ]
    found.extend(
        grant
        for data in filters
        for grant in _listed(
            member.lakeformation, what, CatalogId=own, Resource=filter_resource_of(data)
        )
    )

    def meshgov_business(grant: Grant) -> bool:
        if not grant.principal.startswith("arn:") or account_of(grant.principal) != own:
            return False
        resource = grant.resource
        cells = resource.get("DataCellsFilter")
        if isinstance(cells, Mapping):
            return cells.get("TableCatalogId") == central_account
        for kind in ("Table", "TableWithColumns"):
            part = resource.get(kind)
            if isinstance(part, Mapping):
                return part.get("CatalogId") == central_account
        database = resource.get("Database")
        return (
            isinstance(database, Mapping)
            and database.get("CatalogId", own) == own
            and database.get("Name") in links
        )

    return _unique([g for g in found if meshgov_business(g)])


def classified_by_tag(central: CentralReaders) -> dict[tuple[str, str], TagMap]:
    """``(database, table)`` -> effective LF-Tags of every central table that an LF-Tag
    ``classification`` (its own or its database's) classifies: one ``ListLFTags`` and, when the
    key exists, one ``SearchTablesByLFTags`` with all its values (an expression's values are
    alternatives, https://docs.aws.amazon.com/lake-formation/latest/dg/lf-tag-considerations.html).
    """
    catalog = central.account_id
    values = sorted(
        {
            str(value)
            for tag in _pages(
                central.lakeformation,
                "list_lf_tags",
                "LFTags",
                "lakeformation:ListLFTags",
                CatalogId=catalog,
            )
            if str(tag.get("TagKey", "")).lower() == CLASSIFICATION_TAG
            for value in tag.get("TagValues") or ()
        }
    )
    if not values:
        return {}
    return {
        (str(found["Table"]["DatabaseName"]), str(found["Table"]["Name"])): effective_tags(
            found.get("LFTagOnDatabase"), found.get("LFTagsOnTable")
        )
        for found in _pages(
            central.lakeformation,
            "search_tables_by_lf_tags",
            "TableList",
            "lakeformation:SearchTablesByLFTags",
            CatalogId=catalog,
            Expression=[{"TagKey": CLASSIFICATION_TAG, "TagValues": values}],
        )
    }


def products(central: CentralReaders) -> list[Product]:
    """Published central tables (their database or they carry ``meshgov:source_account``), with
    the LF-Tags that classify them."""
    classified = classified_by_tag(central)
    found = []
    for database in _pages(
        central.glue,
        "get_databases",
        "DatabaseList",
        "glue:GetDatabases",
        CatalogId=central.account_id,
    ):
        if database.get("TargetDatabase"):
            continue
        name = str(database["Name"])
        inherited = dict(database.get("Parameters") or {})
        for table in _pages(
            central.glue,
            "get_tables",
            "TableList",
            f"glue:GetTables {name}",
            CatalogId=central.account_id,
            DatabaseName=name,
        ):
            parameters = {**inherited, **(table.get("Parameters") or {})}
            if parameters.get(SOURCE_ACCOUNT) and not table.get("TargetTable"):
                ref = (name, str(table["Name"]))
                found.append(Product(*ref, parameters, classified.get(ref, {})))
    return found


def tables_matching(
    central: CentralReaders, expression: Sequence[Mapping[str, Any]]
) -> list[tuple[str, str]]:
    """``(database, table)`` the expression matches now; none when a tag key no longer exists."""
    matched: list[tuple[str, str]] = []
    request: dict[str, Any] = {"CatalogId": central.account_id, "Expression": list(expression)}
    try:
        while True:
            page = central.lakeformation.search_tables_by_lf_tags(**request)
            for found in page.get("TableList", []):
                table = found.get("Table", {})
                matched.append((str(table.get("DatabaseName")), str(table.get("Name"))))
            if not page.get("NextToken"):
                return matched
            request["NextToken"] = page["NextToken"]
    except ClientError as exc:
        if error_code(exc) == NOT_FOUND:
            return matched
        raise PostureReadError(f"lakeformation:SearchTablesByLFTags failed: {exc}") from exc
    except BotoCoreError as exc:
        raise PostureReadError(f"lakeformation:SearchTablesByLFTags failed: {exc}") from exc


def read_usage(
    usage: UsageStore,
    central_grants: Sequence[Grant],
    member_grants: Mapping[str, Sequence[Grant]],
) -> dict[str, dict[str, str]]:
    """grantee -> central table -> last use, over every day the store holds (its retention
    window): a role reads its own use (``last_used``, one query per role); an account reads the
    use of every principal of it (``of_account``, one query per account). Raises the store's
    ``UsageStoreError``."""
    grantees = {g.principal for g in central_grants} | {
        g.principal for grants in member_grants.values() for g in grants
    }
    found: dict[str, dict[str, str]] = {}
    for grantee in sorted(grantees):
        if grantee.startswith("arn:"):
            found[grantee] = usage.last_used(grantee, EVERY_DAY.since)
        elif account_of(grantee) == grantee:
            found[grantee] = latest_by_table(
                usage.of_account(grantee, EVERY_DAY.since, EVERY_DAY.until)
            )
    return found


def read_inputs(
    central: CentralReaders,
    members: Sequence[ConsumerReaders],
    store: RequestStore,
    now: datetime,
    expiring_days: int = 7,
    producers: Sequence[ProducerSource] = (),
    arns: Arns | None = None,
    usage: UsageStore | None = None,
    contracts: ContractStore | None = None,
) -> PostureInputs:
    filters = central_filters(central)
    grants = central_grants(central, filters)
    consumer_grants = {m.account_id: member_grants(m, central.account_id, filters) for m in members}
    drift: tuple[CatalogDrift, ...] = ()
    if producers:
        if arns is None:
            raise ValueError("catalog drift needs the ARNs of the central Region (arns=)")
        catalog = CentralCatalog(central.glue, central.lakeformation, central.account_id)
        try:
            drift = tuple(catalog_drift(producers, catalog, arns, now))
        except MeshgovError as exc:
            raise PostureReadError(f"catalog drift: {exc}") from exc
    return PostureInputs(
        central_account=central.account_id,
        generated_at=now,
        requests=tuple(store.all()),
        central_grants=tuple(grants),
        consumer_grants=consumer_grants,
        cell_filters=tuple(filters),
        products=tuple(products(central)),
        expiring_days=expiring_days,
        tag_reach={
            expression_key(expression, central.account_id): tables_matching(central, expression)
            for expression in tag_policies(grants)
        },
        catalog_drift=drift,
        usage=None if usage is None else read_usage(usage, grants, consumer_grants),
        contracts=() if contracts is None else _contract_heads(contracts),
    )


def _contract_heads(store: ContractStore) -> tuple[ContractHead, ...]:
    """Every contract head; the store's failure (it raises ``CatalogWriteError`` for reads
    too) is this report's :class:`PostureReadError`."""
    try:
        return tuple(store.heads())
    except MeshgovError as exc:
        raise PostureReadError(f"contracts: {exc}") from exc


def posture(
    central: CentralReaders,
    members: Sequence[ConsumerReaders],
    store: RequestStore,
    now: datetime,
    expiring_days: int = 7,
    producers: Sequence[ProducerSource] = (),
    arns: Arns | None = None,
    usage: UsageStore | None = None,
    contracts: ContractStore | None = None,
) -> PostureReport:
    """Read everything and build the report. Raises :class:`PostureReadError` (and the stores'
    ``RequestStoreError``, ``UsageStoreError``) when an account cannot be read. ``producers``
    (with ``arns``, the central Region's) adds the catalog drift; ``usage`` (the central usage
    store) the last use of each grant; ``contracts`` (the central contract store) each
    contracted product's status."""
    return build_report(
        read_inputs(central, members, store, now, expiring_days, producers, arns, usage, contracts)
    )
