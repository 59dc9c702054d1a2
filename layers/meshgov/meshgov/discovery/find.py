"""Find data products in the central catalog: pure decisions beside a thin adapter.

A consumer asks "what is there about customers, owned by whom, how fresh, tagged how, and can my
account already read it?". The central catalog answers all of it: meshgov writes provenance and
business metadata on every central table (:mod:`meshgov.catalog.projection`) and mirrors the
producers' LF-Tags as central LF-Tags.

How each part of a :class:`FindQuery` is answered, and why:

- ``text``: Glue ``SearchTables`` ``SearchText`` in the central catalog
  (https://docs.aws.amazon.com/glue/latest/webapi/API_SearchTables.html): Glue searches "based on
  properties in the table metadata as well as on the parent database", columns included. boto3
  has no paginator for ``SearchTables``, so pages are followed by ``NextToken``.
- ``domain`` and ``owner``: the central table parameters ``meshgov:domain`` and
  ``meshgov:source_account``, matched here, exactly. The SearchTables document does not say that a
  table parameter can be a ``PropertyPredicate`` ``Key`` (its one example is ``Key=Name``), and it
  says string filters are a "fuzzy match" on tokens (``Value=link`` matches ``customer-link``), so
  a domain ``sales`` would also match ``sales-eu``: ``Filters`` are not used.
- ``column``: a column or partition key of that name (case-insensitive; Glue stores names in
  lower case), matched here: ``SearchText`` would also match descriptions and values.
- ``tags``: Lake Formation ``SearchTablesByLFTags`` with the expression ``key=(v1 OR v2) AND ...``
  (https://docs.aws.amazon.com/lake-formation/latest/APIReference/API_SearchTablesByLFTags.html),
  intersected with the Glue results. Without a tag query the tags shown are read key by key (one
  search per LF-Tag key), as the propagation's source adapter does. ``classification`` is not
  searched in Lake Formation: it matches the classification each product shows, which is the
  approval policy's (:func:`meshgov.contracts.product_metadata.classification_of`: the LF-Tag
  ``classification``, else the ``meshgov:classification`` parameter) — a producer may classify
  by parameter alone, and no LF-Tag key ``classification`` need exist.
- ``viewer_account``: Lake Formation ``ListPermissions`` of the central catalog, by resource type
  (``TABLE``, which includes ``TableWildcard`` grants, and ``LF_TAG_POLICY_TABLE``). A
  ``Principal`` filter without a ``Resource`` is refused ("Resource is mandatory if Principal is
  set in the input", as the local mesh answers; the API reference does not say it is allowed),
  with both "the response returns effective permissions rather than the explicitly granted
  permissions"
  (https://docs.aws.amazon.com/lake-formation/latest/APIReference/API_ListPermissions.html), and
  one call per table would not scale: so the grants are listed by type, the viewer's picked out
  here. The viewer has access to a table when it holds ``SELECT`` (or ``ALL``) on it by name, on
  some of its columns, on every table of its database (``TableWildcard``), or through an LF-Tag
  policy on tables whose expression the table's tags satisfy ("every condition must hold, the
  values of one condition are alternatives",
  https://docs.aws.amazon.com/lake-formation/latest/dg/lf-tag-considerations.html). Grants to
  roles of the viewer account and policies naming a saved expression (``ExpressionName``) are not
  counted: central grants to accounts, with literal expressions (:mod:`meshgov.access.grants`).
- contracts (issue 15), when the contract store is given: each product's contract in force
  (version, status) and its freshness against the contract's SLA
  (:func:`meshgov.contracts_odcs.freshness.describe`: ``fresh``, ``late 3h``, ``no SLA``,
  ``unchecked``, from the newest data time the catalog sweep last saw), one Query for every
  product (``ContractStore.heads``: one partition).
- lineage neighbours (issue 15), when a :class:`meshgov.lineage.neighbours.ProductLineage` is
  given: each product's direct upstream and downstream nodes (the jobs that write and read the
  producer's table, the producer's table, the consumers' links and their principals), one
  lineage-table Query per product. A lineage table that does not exist (a mesh deployed
  before it) leaves every product's lineage unknown (``None``) and ``find`` answers the rest.
- consumers (issue 14), when a usage store is given: each product's distinct principals that
  read it within a range of days (the CLI: the last 30), one usage-store query per product found
  (``UsageStore.of_table``: the table is the store's partition key).

Resource links (tables with ``TargetTable``) are not data products: they point at one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from meshgov.aws.session import error_code
from meshgov.catalog.canonical import SYNCED_AT
from meshgov.catalog.projection import DOMAIN, SOURCE_ACCOUNT
from meshgov.catalog.tags import TagMap, effective_tags, expression_holds
from meshgov.contracts.product_metadata import (
    CLASSIFICATION_TAG,
    OWNER_CONTACT,
    classification_labels,
    classification_of,
)
from meshgov.contracts_odcs.freshness import describe
from meshgov.contracts_odcs.store import ContractHead, ContractStore
from meshgov.errors import MeshgovError
from meshgov.lineage.known import LineageReadError
from meshgov.lineage.neighbours import Neighbourhood, ProductLineage
from meshgov.lineage.store import LineageStoreError
from meshgov.quality.parameters import QualitySummary, summary_of
from meshgov.usage.report import DayRange, consumers
from meshgov.usage.store import UsageStore, UsageStoreError

# SearchTables: MaxResults is a PageSize from 1 to 1000 (the service model); the fewest calls.
SEARCH_PAGE_SIZE = 1000
# ListPermissions: MaxResults from 1 to 1000.
LIST_PERMISSIONS_PAGE_SIZE = 1000
# Permissions that let the viewer read the data (DESCRIBE only shows the metadata).
READ_PERMISSIONS = frozenset({"SELECT", "ALL"})
PERMISSION_RESOURCE_TYPES = ("TABLE", "LF_TAG_POLICY_TABLE")
MAX_SEARCH_TEXT = 1024
NOT_FOUND = "EntityNotFoundException"
_ACCOUNT = re.compile(r"^\d{12}$")

TableRef = tuple[str, str]  # (database, table)


class DiscoveryError(MeshgovError):
    """The central catalog or Lake Formation could not be searched (access denied, throttled)."""


class FindQueryInvalidError(DiscoveryError):
    """A query that can never be answered: a malformed account id, an LF-Tag key that does not
    exist in the central catalog, a search text longer than Glue accepts."""


# --------------------------------------------------------------------------------------------
# The question and the answer
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FindQuery:
    """What a consumer looks for; every given part must hold (AND). Nothing given: everything.

    ``tags`` maps an LF-Tag key to the values accepted for it (any one of them will do).
    ``viewer_account`` is the account whose access is reported, not a filter.
    """

    text: str | None = None
    column: str | None = None
    tags: dict[str, list[str]] = field(default_factory=dict)
    domain: str | None = None
    owner: str | None = None
    viewer_account: str | None = None

    def __post_init__(self) -> None:
        for label, account in (("owner", self.owner), ("viewer account", self.viewer_account)):
            if account is not None and not _ACCOUNT.match(account):
                raise FindQueryInvalidError(f"{label} must be a 12-digit account id: {account!r}")
        if self.text is not None and len(self.text) > MAX_SEARCH_TEXT:
            raise FindQueryInvalidError(f"search text longer than {MAX_SEARCH_TEXT} characters")
        for key, values in self.tags.items():
            if not key.strip() or not [v for v in values if v.strip()]:
                raise FindQueryInvalidError(f"LF-Tag {key!r} needs a key and at least one value")


@dataclass(frozen=True)
class DataProduct:
    """One central table as a consumer sees it."""

    database: str
    table: str
    domain: str
    owner_account: str
    classification: str  # classification_of: the LF-Tag, else the parameter; "" when none
    owner_contact: str  # "" when the producer set none
    freshness: datetime | None  # when meshgov last wrote it (else Glue's UpdateTime)
    columns: tuple[str, ...]  # columns, then partition keys
    tags: TagMap  # effective LF-Tags of the table: its own, and its database's for other keys
    viewer_has_access: bool | None  # None: no viewer was named
    # The distinct principals (role ARNs) that read it in the range asked; None: not read.
    consumers: tuple[str, ...] | None = None
    # The latest Glue Data Quality result central attached (meshgov.quality); None: never scored.
    quality: QualitySummary | None = None
    # The data contract in force (meshgov.contracts_odcs); None: not asked, or no contract.
    contract: ContractView | None = None
    # Direct lineage neighbours (meshgov.lineage.neighbours); None: not asked, or unknown.
    lineage: Neighbourhood | None = None

    @property
    def name(self) -> str:
        return f"{self.database}.{self.table}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "product": self.name,
            "database": self.database,
            "table": self.table,
            "domain": self.domain,
            "owner_account": self.owner_account,
            "classification": self.classification,
            "owner_contact": self.owner_contact,
            "freshness": self.freshness.isoformat() if self.freshness else None,
            "columns": list(self.columns),
            "tags": {key: list(values) for key, values in sorted(self.tags.items())},
            "viewer_has_access": self.viewer_has_access,
            "consumers": None if self.consumers is None else list(self.consumers),
            "quality": None if self.quality is None else self.quality.as_dict(),
            "contract": None if self.contract is None else self.contract.as_dict(),
            "lineage": None if self.lineage is None else self.lineage.as_dict(),
        }


@dataclass(frozen=True)
class ContractView:
    """What ``find`` shows of a product's contract: its version, its status (``OK``,
    ``BREACHED``) and its freshness against its SLA."""

    contract_id: str
    version: str
    status: str
    sla: str | None  # as the contract states it; None: no freshness SLA
    freshness: str  # fresh, late 3h, no SLA, unchecked
    newest_at: str | None  # the newest data time the last freshness check saw

    @classmethod
    def of(cls, head: ContractHead, now: datetime) -> ContractView:
        return cls(
            contract_id=head.contract_id,
            version=head.version,
            status=head.status,
            sla=(head.sla or {}).get("text"),
            freshness=describe(head, now),
            newest_at=(head.freshness or {}).get("newestAt"),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.contract_id,
            "version": self.version,
            "status": self.status,
            "sla": self.sla,
            "freshness": self.freshness,
            "newest_at": self.newest_at,
        }


def with_contracts(
    products: Sequence[DataProduct], heads: Iterable[ContractHead], now: datetime
) -> list[DataProduct]:
    """Each product with the contract in force on it (heads are keyed by the producer's names,
    matched here by the central database and table a head records)."""
    by_table = {(h.central_database, h.table): h for h in heads}
    return [
        replace(p, contract=ContractView.of(by_table[(p.database, p.table)], now))
        if (p.database, p.table) in by_table
        else p
        for p in products
    ]


def with_lineage(
    products: Sequence[DataProduct], tables: Iterable[Mapping[str, Any]], lineage: ProductLineage
) -> list[DataProduct]:
    """Each product with its lineage neighbours; all unknown when there is no lineage table."""
    listed = {(p.database, p.table) for p in products}
    try:
        found = lineage.of(t for t in tables if table_ref(t) in listed)
    except LineageStoreError as exc:
        cause = exc.__cause__
        if isinstance(cause, ClientError) and error_code(cause) == "ResourceNotFoundException":
            return list(products)
        raise DiscoveryError(f"reading the lineage failed: {exc}") from exc
    except LineageReadError as exc:
        raise DiscoveryError(f"reading the lineage failed: {exc}") from exc
    return [replace(p, lineage=found.get((p.database, p.table))) for p in products]


# --------------------------------------------------------------------------------------------
# Pure decisions
# --------------------------------------------------------------------------------------------


def table_ref(table: Mapping[str, Any]) -> TableRef:
    return (str(table["DatabaseName"]), str(table["Name"]))


def is_resource_link(table: Mapping[str, Any]) -> bool:
    return bool(table.get("TargetTable"))


def column_names(table: Mapping[str, Any]) -> tuple[str, ...]:
    storage = table.get("StorageDescriptor") or {}
    columns = [*(storage.get("Columns") or []), *(table.get("PartitionKeys") or [])]
    return tuple(str(column["Name"]) for column in columns)


def tag_expression(tags: Mapping[str, Sequence[str]]) -> list[dict[str, Any]]:
    """``{key: [values]}`` as a Lake Formation expression; LF-Tags are stored in lower case
    (keys differing only by case are one key)."""
    merged: dict[str, set[str]] = {}
    for key, values in tags.items():
        wanted = {v.strip().lower() for v in values if v.strip()}
        if key.strip() and wanted:
            merged.setdefault(key.strip().lower(), set()).update(wanted)
    return [{"TagKey": key, "TagValues": sorted(values)} for key, values in sorted(merged.items())]


def lake_formation_part(expression: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The conditions of a tag query Lake Formation searches: all but ``classification``, which
    is matched here against each product's classification (:func:`matching_tags`)."""
    return [dict(c) for c in expression if c["TagKey"] != CLASSIFICATION_TAG]


def matching_tags(table: Mapping[str, Any], tags: Mapping[str, Sequence[str]]) -> TagMap:
    """The tags a tag query is matched against: the table's effective LF-Tags, with
    ``classification`` the one the product shows (its LF-Tag, else its parameter)."""
    labels = classification_labels(classification_of(table, tags))
    return {**{k: list(v) for k, v in tags.items()}, CLASSIFICATION_TAG: labels}


def tagged_tags(tagged_table: Mapping[str, Any]) -> TagMap:
    """The effective LF-Tags of a ``TaggedTable`` of SearchTablesByLFTags
    (:func:`meshgov.catalog.tags.effective_tags`)."""
    return effective_tags(tagged_table.get("LFTagOnDatabase"), tagged_table.get("LFTagsOnTable"))


def freshness(table: Mapping[str, Any]) -> datetime | None:
    """``meshgov:synced_at`` (when meshgov last wrote the table), else Glue's ``UpdateTime``."""
    synced = (table.get("Parameters") or {}).get(SYNCED_AT)
    if synced:
        try:
            parsed = datetime.fromisoformat(str(synced))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except ValueError:
            pass
    updated = table.get("UpdateTime")
    return updated if isinstance(updated, datetime) else None


def matches(table: Mapping[str, Any], query: FindQuery) -> bool:
    """The parts of the query answered here rather than by Glue: domain, owner, column."""
    params = table.get("Parameters") or {}
    if query.domain is not None and (
        str(params.get(DOMAIN, "")).casefold() != query.domain.strip().casefold()
    ):
        return False
    if query.owner is not None and str(params.get(SOURCE_ACCOUNT, "")) != query.owner:
        return False
    if query.column is not None:
        wanted = query.column.strip().casefold()
        if wanted not in {name.casefold() for name in column_names(table)}:
            return False
    return True


@dataclass(frozen=True)
class AccessIndex:
    """What one account may read in the central catalog, from its Lake Formation grants."""

    tables: frozenset[TableRef] = frozenset()
    databases: frozenset[str] = frozenset()  # every table of these (TableWildcard)
    policies: tuple[tuple[tuple[str, tuple[str, ...]], ...], ...] = ()  # LF-Tag expressions

    def allows(self, ref: TableRef, tags: Mapping[str, Any]) -> bool:
        if ref in self.tables or ref[0] in self.databases:
            return True
        return any(
            expression_holds(
                ({"TagKey": key, "TagValues": list(values)} for key, values in policy), tags
            )
            for policy in self.policies
        )


def access_index(
    permissions: Iterable[Mapping[str, Any]], viewer_account: str, catalog_id: str
) -> AccessIndex:
    """The viewer's read grants among ``PrincipalResourcePermissions`` of ``catalog_id``."""
    tables: set[TableRef] = set()
    databases: set[str] = set()
    policies: list[tuple[tuple[str, tuple[str, ...]], ...]] = []
    for entry in permissions:
        principal = (entry.get("Principal") or {}).get("DataLakePrincipalIdentifier")
        held = {*(entry.get("Permissions") or []), *(entry.get("PermissionsWithGrantOption") or [])}
        if principal != viewer_account or not held & READ_PERMISSIONS:
            continue
        resource = entry.get("Resource") or {}
        named = resource.get("Table") or resource.get("TableWithColumns")
        policy = resource.get("LFTagPolicy")
        if named is not None and named.get("CatalogId", catalog_id) == catalog_id:
            if "TableWildcard" in named:
                databases.add(str(named["DatabaseName"]))
            elif named.get("Name"):
                tables.add((str(named["DatabaseName"]), str(named["Name"])))
        elif (
            policy is not None
            and policy.get("CatalogId", catalog_id) == catalog_id
            and policy.get("ResourceType") == "TABLE"
            and policy.get("Expression")
        ):
            policies.append(
                tuple(
                    (str(c["TagKey"]).lower(), tuple(str(v).lower() for v in c["TagValues"]))
                    for c in policy["Expression"]
                )
            )
    return AccessIndex(frozenset(tables), frozenset(databases), tuple(policies))


def select_products(
    tables: Iterable[Mapping[str, Any]],
    query: FindQuery,
    tags: Mapping[TableRef, TagMap],
    access: AccessIndex | None,
) -> list[DataProduct]:
    """The data products among Glue's search results, by database then table.

    ``tags`` holds the effective LF-Tags of the tables that carry any; when the query names tags
    other than ``classification`` it holds only the tables Lake Formation found for them, so the
    check below is the intersection of both searches. ``classification`` is matched against the
    classification each product shows (:func:`matching_tags`).
    """
    expression = tag_expression(query.tags)
    products: dict[TableRef, DataProduct] = {}
    for table in tables:
        ref = table_ref(table)
        table_tags = tags.get(ref, {})
        if is_resource_link(table) or not matches(table, query):
            continue
        if expression and not expression_holds(expression, matching_tags(table, table_tags)):
            continue
        params = table.get("Parameters") or {}
        products[ref] = DataProduct(
            database=ref[0],
            table=ref[1],
            domain=str(params.get(DOMAIN, "")),
            owner_account=str(params.get(SOURCE_ACCOUNT, "")),
            classification=classification_of(table, table_tags),
            owner_contact=str(params.get(OWNER_CONTACT, "")),
            freshness=freshness(table),
            columns=column_names(table),
            tags={key: sorted(values) for key, values in sorted(table_tags.items())},
            viewer_has_access=None if access is None else access.allows(ref, table_tags),
            quality=summary_of(params),
        )
    return [products[ref] for ref in sorted(products)]


# --------------------------------------------------------------------------------------------
# The adapter: Glue and Lake Formation clients of the central account
# --------------------------------------------------------------------------------------------


def find_products(
    glue: Any,
    lakeformation: Any,
    central_account: str,
    query: FindQuery,
    usage: UsageStore | None = None,
    span: DayRange | None = None,
    contracts: ContractStore | None = None,
    now: datetime | None = None,
    lineage: ProductLineage | None = None,
) -> list[DataProduct]:
    """Search the central catalog of ``central_account`` (clients of that account); with
    ``usage`` (the central usage store) and ``span``, each product's consumers in that span;
    with ``contracts`` (the contract store), each product's contract and freshness at ``now``;
    with ``lineage``, each product's lineage neighbours."""
    if usage is not None and span is None:
        raise ValueError("the consumers of a product need the days to look at (span=)")
    try:
        found = [
            table
            for table in _search_tables(glue, central_account, query.text)
            if not is_resource_link(table) and matches(table, query)
        ]
        wanted = {table_ref(table) for table in found}
        if not wanted:
            return []
        expression = lake_formation_part(tag_expression(query.tags))
        if expression:
            tags = _tables_matching(lakeformation, central_account, expression)
        else:
            tags = _tags_of(lakeformation, central_account, wanted)
        access = None
        if query.viewer_account is not None:
            access = access_index(
                _table_permissions(lakeformation, central_account),
                query.viewer_account,
                central_account,
            )
    except ClientError as exc:
        raise DiscoveryError(
            f"searching the central catalog failed: {error_code(exc)}: {exc}"
        ) from exc
    products = select_products(found, query, tags, access)
    if contracts is not None:
        try:
            products = with_contracts(products, contracts.heads(), now or datetime.now(UTC))
        except MeshgovError as exc:
            raise DiscoveryError(f"reading the data contracts failed: {exc}") from exc
    if lineage is not None:
        products = with_lineage(products, found, lineage)
    if usage is None or span is None:
        return products
    try:
        return [
            replace(p, consumers=consumers(usage.of_table(p.name, span.since, span.until)))
            for p in products
        ]
    except UsageStoreError as exc:
        raise DiscoveryError(f"reading who used the products failed: {exc}") from exc


def tables_of_domain(glue: Any, central_account: str, domain: str) -> list[str]:
    """``db.table`` of every central table of producer domain ``domain`` (its
    ``meshgov:domain``, as ``find --domain`` matches it), resource links left out; sorted."""
    query = FindQuery(domain=domain)
    try:
        return sorted(
            f"{db}.{name}"
            for db, name in (
                table_ref(table)
                for table in _search_tables(glue, central_account, None)
                if not is_resource_link(table) and matches(table, query)
            )
        )
    except ClientError as exc:
        raise DiscoveryError(
            f"searching the central catalog failed: {error_code(exc)}: {exc}"
        ) from exc


def _search_tables(glue: Any, catalog_id: str, text: str | None) -> Iterator[dict[str, Any]]:
    request: dict[str, Any] = {"CatalogId": catalog_id, "MaxResults": SEARCH_PAGE_SIZE}
    if text and text.strip():
        request["SearchText"] = text.strip()
    while True:
        page = glue.search_tables(**request)
        yield from page.get("TableList", [])
        if not page.get("NextToken"):
            return
        request["NextToken"] = page["NextToken"]


def _tagged_tables(
    lakeformation: Any, catalog_id: str, expression: list[dict[str, Any]]
) -> Iterator[dict[str, Any]]:
    pages = lakeformation.get_paginator("search_tables_by_lf_tags").paginate(
        CatalogId=catalog_id, Expression=expression
    )
    for page in pages:
        yield from page.get("TableList", [])


def _ref_of(tagged: Mapping[str, Any]) -> TableRef:
    return (str(tagged["Table"]["DatabaseName"]), str(tagged["Table"]["Name"]))


def _tables_matching(
    lakeformation: Any, catalog_id: str, expression: list[dict[str, Any]]
) -> dict[TableRef, TagMap]:
    """Effective tags of every table the expression matches; an unknown key matches nothing
    that could ever exist, so it is the query's fault."""
    try:
        return {
            _ref_of(tagged): tagged_tags(tagged)
            for tagged in _tagged_tables(lakeformation, catalog_id, expression)
        }
    except ClientError as exc:
        if error_code(exc) == NOT_FOUND:
            keys = ", ".join(c["TagKey"] for c in expression)
            raise FindQueryInvalidError(
                f"an LF-Tag key of {keys} does not exist in the central catalog"
            ) from exc
        raise


def _tags_of(lakeformation: Any, catalog_id: str, wanted: set[TableRef]) -> dict[TableRef, TagMap]:
    """Effective tags of the ``wanted`` tables that carry any, one search per LF-Tag key.

    ``SearchTablesByLFTags`` returns each matching table with all its tags, so the search stops
    as soon as every wanted table has been seen.
    """
    keys = [
        (str(tag["TagKey"]), list(tag.get("TagValues") or []))
        for page in lakeformation.get_paginator("list_lf_tags").paginate(CatalogId=catalog_id)
        for tag in page.get("LFTags", [])
    ]
    found: dict[TableRef, TagMap] = {}
    for key, values in keys:
        if not wanted - set(found):
            break
        if not values:
            continue
        for tagged in _tagged_tables(
            lakeformation, catalog_id, [{"TagKey": key, "TagValues": values}]
        ):
            ref = _ref_of(tagged)
            if ref in wanted and ref not in found:
                found[ref] = tagged_tags(tagged)
    return found


def _table_permissions(lakeformation: Any, catalog_id: str) -> Iterator[dict[str, Any]]:
    """Every grant on tables of the catalog: by name, by wildcard, by LF-Tag policy."""
    for resource_type in PERMISSION_RESOURCE_TYPES:
        request: dict[str, Any] = {
            "CatalogId": catalog_id,
            "ResourceType": resource_type,
            "MaxResults": LIST_PERMISSIONS_PAGE_SIZE,
        }
        while True:
            page = lakeformation.list_permissions(**request)
            yield from page.get("PrincipalResourcePermissions", [])
            if not page.get("NextToken"):
                break
            request["NextToken"] = page["NextToken"]
