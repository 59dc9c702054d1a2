"""The posture report (pure): who can read what, through which request, until when; the drift.

Built from plain data (:class:`PostureInputs`) read by :mod:`meshgov.posture.reader`:

- **access**: every Lake Formation grant that reads data (tables, columns, every table of a
  database, LF-Tag policies on tables) and that a live request explains — central's grants to
  accounts (consumers; producers through their standing ``ownership`` request) and each consumer
  account's grants to its principals — with the request ids and the expiry;
- **drift**: every permission of a grant that no ``GRANTED``/``ACTIVE`` request explains, on the
  central side (central → an account) and on the consumer side (an account → its principal),
  database ``DESCRIBE`` and resource-link grants included. "Explains" is exactly what
  ``meshgov can-access`` uses (:func:`meshgov.access.effective.explaining`: the request recorded
  that principal, resource and permission); a request that *used to* explain it (expired,
  revoked) is named as a hint;
- **tag reach**: an explained ``LFTagPolicy`` grant that now reaches tables of a producer other
  than the one who approved it (ADR 0005: the expression was single-producer when approved, but
  tags given later can widen it);
- **pending** requests (waiting for a decision, or not yet routed) and **expiring** ones (holding
  grants and ending within N days, overdue ones included);
- **products** (published central tables) without ``meshgov:owner_contact`` or a
  classification — the one the approval policy and ``meshgov find`` use
  (:func:`meshgov.contracts.product_metadata.classification_of`: the LF-Tag ``classification``,
  else the ``meshgov:classification`` parameter);
- **catalog drift**: central databases, tables and partitions that differ from meshgov's
  projection of the published source (missing, changed or extra: changed by hand), as
  :mod:`meshgov.catalog.drift` decides, each with a hint (the next sweep puts it back);
- **last use** of each access row, when usage was read (``PostureInputs.usage``): the latest
  ``GetDataAccess`` of the grantee on the tables the grant covers (for a grant to an account, of
  any principal of that account), or ``never`` (issue 14). A grant nobody uses looks the same
  in Lake Formation as one used every hour: this is what tells them apart.
- **contracts** of data products (issue 15): each contracted table, its contract id and version
  in force, its status (``OK`` / ``BREACHED``) and its last breach (when, what), from the
  contract heads (:meth:`meshgov.contracts_odcs.store.ContractStore.heads`, one Query). A breach
  is the producer's broken promise, not drift of meshgov's grants: it does not make the report
  unclean (``--fail-on-drift``), it is counted in the summary.

``as_dict()`` for JSON, ``as_markdown()`` for the file an auditor keeps (rendered by
:mod:`meshgov.posture.render`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from meshgov.access.effective import Grant, canonical_resource, explaining, expression_text
from meshgov.access.filters import CellSpec, filter_name, spec_of
from meshgov.access.states import HOLDS_GRANTS, RequestState
from meshgov.access.store import RequestRecord
from meshgov.catalog.drift import CatalogDrift
from meshgov.catalog.projection import DOMAIN, SOURCE_ACCOUNT
from meshgov.contracts.product_metadata import (
    CLASSIFICATION_PARAMETER,
    OWNER_CONTACT,
    classification_of,
)
from meshgov.contracts_odcs.store import BREACHED, ContractHead
from meshgov.usage.report import last_use

PENDING = (RequestState.REQUESTED, RequestState.PENDING_APPROVAL)
CENTRAL_SIDE = "central"
CONSUMER_SIDE = "consumer"
NEVER = "never"


# --- inputs --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Product:
    """One published central table, its parameters and its effective LF-Tags (those the reader
    read: the ``classification`` key)."""

    database: str
    table: str
    parameters: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, Sequence[str]] = field(default_factory=dict)

    @property
    def classification(self) -> str:
        """The product's classification, as the approval policy and ``meshgov find`` see it."""
        return classification_of({"Parameters": self.parameters}, self.tags)

    @property
    def owner_account(self) -> str:
        return str(self.parameters.get(SOURCE_ACCOUNT, ""))


@dataclass(frozen=True)
class PostureInputs:
    """Everything the report needs, as read from central and the member accounts.

    ``central_grants``: grants central made to principals of other accounts. ``consumer_grants``:
    per member account, its grants to its own principals on central resources and on its links.
    ``tag_reach``: per explained LF-Tag policy (canonical JSON of its expression), the
    ``(database, table)`` it matches now — empty when not read.
    """

    central_account: str
    generated_at: datetime
    requests: tuple[RequestRecord, ...] = ()
    central_grants: tuple[Grant, ...] = ()
    consumer_grants: Mapping[str, Sequence[Grant]] = field(default_factory=dict)
    products: tuple[Product, ...] = ()
    expiring_days: int = 7
    tag_reach: Mapping[str, Sequence[tuple[str, str]]] = field(default_factory=dict)
    catalog_drift: tuple[CatalogDrift, ...] = ()
    cell_filters: tuple[Mapping[str, Any], ...] = ()  # central's data cells filters (TableData)
    # grantee (role ARN, or account id for central's grants) -> central "db.table" -> its last
    # use (the store's ISO time); None when usage was not read (last use then shown as "").
    usage: Mapping[str, Mapping[str, str]] | None = None
    # every contract head (ContractStore.heads()); empty when not read or none published
    contracts: tuple[ContractHead, ...] = ()


# --- report rows ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccessRow:
    grantee: str  # an account id (central's grant) or a principal ARN (the account's grant)
    side: str  # "central" or "consumer"
    account: str  # the catalog that made the grant
    resource: str
    permissions: tuple[str, ...]
    requests: tuple[str, ...]
    until: str  # an ISO time, or "never"
    last_used: str = ""  # an ISO time, "never", or "" when usage was not read


@dataclass(frozen=True)
class DriftRow:
    grantee: str
    side: str
    account: str
    resource: str
    permissions: tuple[str, ...]  # the permissions no live request explains
    grantable: bool
    hint: str  # e.g. "was explained by req-... (EXPIRED)"
    raw_resource: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FilterRow:
    """One data cells filter of central: what it lets through, and which request made it."""

    name: str
    table: str  # database.table
    columns: str  # "every column", "columns a, b", "every column but c"
    row_filter: str  # the PartiQL expression, or "every row"
    request: str  # the live request that made it, or "" (drift)
    hint: str = ""


@dataclass(frozen=True)
class CatalogDriftRow:
    """A central object that differs from the projection of the published source."""

    kind: str  # e.g. "table missing", "partitions changed" (meshgov.catalog.drift.DriftKind)
    resource: str  # "db.table" or "database db"
    detail: str  # the fields that differ, or the partition values
    hint: str


@dataclass(frozen=True)
class TagReachRow:
    request_id: str
    grantee: str
    expression: str
    approved_by: str
    foreign_tables: tuple[str, ...]  # database.table of other producers


@dataclass(frozen=True)
class RequestRow:
    request_id: str
    state: str
    consumer: str
    principal: str
    owner: str
    resource: str
    permissions: tuple[str, ...]
    created_at: str
    expires_at: str | None
    days_left: float | None
    warned: bool


@dataclass(frozen=True)
class ProductRow:
    database: str
    table: str
    owner_account: str
    domain: str
    missing: tuple[str, ...]


@dataclass(frozen=True)
class ContractRow:
    """One contracted data product: the contract in force and whether the table keeps it."""

    database: str  # the central database
    table: str
    owner_account: str
    contract_id: str
    version: str
    status: str  # "OK" or "BREACHED"
    breached_at: str  # the last breach's ISO time, "" when never breached
    breach: str  # what it broke ("column-removed customer; ..."), "" when never breached


@dataclass(frozen=True)
class PostureReport:
    central_account: str
    generated_at: str
    expiring_days: int
    access: tuple[AccessRow, ...]
    drift: tuple[DriftRow, ...]
    tag_reach: tuple[TagReachRow, ...]
    pending: tuple[RequestRow, ...]
    expiring: tuple[RequestRow, ...]
    products_missing: tuple[ProductRow, ...]
    products_total: int
    requests_total: int
    catalog_drift: tuple[CatalogDriftRow, ...] = ()
    filters: tuple[FilterRow, ...] = ()
    contracts: tuple[ContractRow, ...] = ()

    @property
    def filter_drift(self) -> tuple[FilterRow, ...]:
        """Filters no live request made."""
        return tuple(f for f in self.filters if not f.request)

    @property
    def summary(self) -> dict[str, int]:
        return {
            "filters": len(self.filters),
            "filter_drift": len(self.filter_drift),
            "grants_explained": len(self.access),
            "grantees": len({r.grantee for r in self.access}),
            "drift": len(self.drift),
            "tag_reach": len(self.tag_reach),
            "pending": len(self.pending),
            "expiring": len(self.expiring),
            "products": self.products_total,
            "products_missing_metadata": len(self.products_missing),
            "requests": self.requests_total,
            "catalog_drift": len(self.catalog_drift),
            "contracts": len(self.contracts),
            "contracts_breached": sum(1 for c in self.contracts if c.status == BREACHED),
        }

    @property
    def clean(self) -> bool:
        """No drift (grants or catalog) and no LF-Tag grant reaching a producer who did not
        approve it."""
        return (
            not self.drift
            and not self.tag_reach
            and not self.catalog_drift
            and not self.filter_drift
        )

    def as_dict(self) -> dict[str, Any]:
        def rows(items: Iterable[Any]) -> list[dict[str, Any]]:
            return [json.loads(json.dumps(asdict(item), default=str)) for item in items]

        return {
            "central_account": self.central_account,
            "generated_at": self.generated_at,
            "expiring_days": self.expiring_days,
            "summary": self.summary,
            "access": rows(self.access),
            "drift": rows(self.drift),
            "tag_reach": rows(self.tag_reach),
            "pending": rows(self.pending),
            "expiring": rows(self.expiring),
            "products_missing_metadata": rows(self.products_missing),
            "catalog_drift": rows(self.catalog_drift),
            "filters": rows(self.filters),
            "contracts": rows(self.contracts),
        }

    def as_markdown(self) -> str:
        from meshgov.posture.render import markdown  # render imports this module

        return markdown(self)


# --- building ------------------------------------------------------------------------------------


def resource_text(resource: Mapping[str, Any]) -> str:
    """A Lake Formation resource in a few words: ``db.t``, ``db.* (every table)``,
    ``db.t (columns a, b)``, ``database db``, ``LF-Tag policy on tables: k=v``."""
    table = resource.get("Table")
    if isinstance(table, Mapping):
        database = table.get("DatabaseName", "?")
        if "TableWildcard" in table:
            return f"{database}.* (every table)"
        return f"{database}.{table.get('Name', '?')}"
    columns = resource.get("TableWithColumns")
    if isinstance(columns, Mapping):
        name = f"{columns.get('DatabaseName', '?')}.{columns.get('Name', '?')}"
        if "ColumnWildcard" in columns:
            excluded = (columns.get("ColumnWildcard") or {}).get("ExcludedColumnNames") or []
            return name + (f" (all columns except {', '.join(excluded)})" if excluded else "")
        return f"{name} (columns {', '.join(str(c) for c in columns.get('ColumnNames') or [])})"
    database = resource.get("Database")
    if isinstance(database, Mapping):
        return f"database {database.get('Name', '?')}"
    cells = resource.get("DataCellsFilter")
    if isinstance(cells, Mapping):
        table_name = f"{cells.get('DatabaseName', '?')}.{cells.get('TableName', '?')}"
        return f"{table_name} (filter {cells.get('Name', '?')})"
    policy = resource.get("LFTagPolicy")
    if isinstance(policy, Mapping):
        kind = "tables" if policy.get("ResourceType") == "TABLE" else "databases"
        return f"LF-Tag policy on {kind}: {expression_text(policy.get('Expression') or [])}"
    return json.dumps(dict(resource), sort_keys=True)


def _reads_data(resource: Mapping[str, Any]) -> bool:
    """Grants on tables (not the database DESCRIBE or the link a request also needs)."""
    if "Table" in resource or "TableWithColumns" in resource or "DataCellsFilter" in resource:
        return True
    policy = resource.get("LFTagPolicy")
    return isinstance(policy, Mapping) and policy.get("ResourceType") == "TABLE"


def _until(ids: Sequence[str], requests: Mapping[str, RequestRecord]) -> str:
    """The access lasts as long as the last of its requests; "never" when one never expires."""
    ends = [requests[i].expires_at for i in ids if i in requests]
    if not ends or any(end is None for end in ends):
        return NEVER
    return max(str(end) for end in ends)


def covered_tables(resource: Mapping[str, Any], inputs: PostureInputs) -> tuple[str, ...]:
    """The central tables (``db.table``, as the usage store names them) a grant lets read: the
    table named (by name, with columns, or through a data cells filter), every published table of
    the database for ``TableWildcard``, the tables an LF-Tag policy matches now (``tag_reach``)."""
    table = resource.get("Table")
    if isinstance(table, Mapping):
        database = str(table.get("DatabaseName", ""))
        if "TableWildcard" in table:
            return tuple(
                sorted(f"{p.database}.{p.table}" for p in inputs.products if p.database == database)
            )
        return (f"{database}.{table.get('Name', '')}",)
    columns = resource.get("TableWithColumns")
    if isinstance(columns, Mapping):
        return (f"{columns.get('DatabaseName', '')}.{columns.get('Name', '')}",)
    cells = resource.get("DataCellsFilter")
    if isinstance(cells, Mapping):
        return (f"{cells.get('DatabaseName', '')}.{cells.get('TableName', '')}",)
    policy = resource.get("LFTagPolicy")
    if isinstance(policy, Mapping) and policy.get("ResourceType") == "TABLE":
        key = expression_key(policy.get("Expression") or [], inputs.central_account)
        return tuple(sorted(f"{db}.{name}" for db, name in inputs.tag_reach.get(key, ())))
    return ()


def _last_used(grant: Grant, inputs: PostureInputs) -> str:
    """When the grantee last read what ``grant`` covers; "" when usage was not read."""
    if inputs.usage is None:
        return ""
    return last_use(inputs.usage.get(grant.principal, {}), covered_tables(grant.resource, inputs))


def _permissions_of(grant: Grant) -> tuple[str, ...]:
    return tuple(sorted(set(grant.permissions) | set(grant.grantable)))


def _classify(
    grant: Grant,
    side: str,
    account: str,
    live: Sequence[RequestRecord],
    ended: Sequence[RequestRecord],
    by_id: Mapping[str, RequestRecord],
) -> tuple[AccessRow | None, DriftRow | None]:
    """Split one grant's permissions into those live requests explain and those none does."""

    def recorded(record: RequestRecord) -> Sequence[Mapping[str, Any]]:
        return record.central_grants if side == CENTRAL_SIDE else record.link_grants

    explained: dict[str, list[str]] = {}
    unexplained: list[str] = []
    hints: set[str] = set()
    for permission in _permissions_of(grant):
        ids = explaining(grant, permission, live, recorded, account)
        if ids:
            explained[permission] = ids
            continue
        unexplained.append(permission)
        # explaining() looks only at requests holding grants: ask it about ended ones as if
        # they still did, to say which request this grant outlived.
        as_if_live = [replace(r, state=RequestState.ACTIVE) for r in ended]
        hints.update(
            f"{i} ({by_id[i].state.value})"
            for i in explaining(grant, permission, as_if_live, recorded, account)
        )
    text = resource_text(grant.resource)
    access = None
    if explained and _reads_data(grant.resource):
        reasons = tuple(sorted({i for found in explained.values() for i in found}))
        access = AccessRow(
            grant.principal,
            side,
            account,
            text,
            tuple(sorted(explained)),
            reasons,
            _until(reasons, by_id),
        )
    drift = None
    if unexplained:
        hint = f"was explained by {', '.join(sorted(hints))}" if hints else ""
        drift = DriftRow(
            grant.principal,
            side,
            account,
            text,
            tuple(unexplained),
            bool(grant.grantable),
            hint,
            dict(grant.resource),
        )
    return access, drift


def _request_row(record: RequestRecord, now: datetime) -> RequestRow:
    days_left = None
    if record.expires_at:
        delta = datetime.fromisoformat(record.expires_at) - now
        days_left = round(delta.total_seconds() / 86400, 1)
    return RequestRow(
        request_id=record.request_id,
        state=record.state.value,
        consumer=record.consumer_account,
        principal=record.principal,
        owner=record.owner_account,
        resource=coverage_text(record),
        permissions=tuple(record.permissions),
        created_at=record.created_at,
        expires_at=record.expires_at,
        days_left=days_left,
        warned=record.warned,
    )


def coverage_text(record: RequestRecord) -> str:
    """What a request covers: ``db: t0, t1``, ``db (all tables)``, ``db: t0 (id, amount)``."""
    parts = []
    for cover in record.coverage:
        if cover.whole:
            parts.append(f"{cover.database} (all tables)")
        elif cover.columns:
            parts.append(f"{cover.database}: {cover.tables[0]} ({', '.join(cover.columns)})")
        else:
            parts.append(f"{cover.database}: {', '.join(cover.tables)}")
    text = "; ".join(parts)
    if record.tag_expression:
        conditions = [
            {"TagKey": c.get("key"), "TagValues": c.get("values")}
            for c in record.tag_expression.get("conditions", [])
        ]
        tags = f"tags {expression_text(conditions)}"
        return f"{tags} -> {text}" if text else tags
    return text or "-"


def expression_key(expression: Iterable[Mapping[str, Any]], catalog: str) -> str:
    """One LF-Tag policy expression, canonical (the key of ``PostureInputs.tag_reach``)."""
    shaped = canonical_resource(
        {"LFTagPolicy": {"CatalogId": catalog, "ResourceType": "TABLE", "Expression": expression}},
        catalog,
    )
    return json.dumps(shaped["LFTagPolicy"]["Expression"], sort_keys=True)


def tag_policies(grants: Iterable[Grant]) -> list[list[Mapping[str, Any]]]:
    """The expressions of the table LF-Tag policy grants among ``grants`` (for the reader)."""
    found: dict[str, list[Mapping[str, Any]]] = {}
    for grant in grants:
        policy = grant.resource.get("LFTagPolicy")
        if isinstance(policy, Mapping) and policy.get("ResourceType") == "TABLE":
            expression = list(policy.get("Expression") or [])
            found[json.dumps(expression, sort_keys=True)] = expression
    return list(found.values())


def _tag_reach(inputs: PostureInputs, live: Sequence[RequestRecord]) -> list[TagReachRow]:
    owner_of = {(p.database, p.table): p.owner_account for p in inputs.products}
    rows = []
    for grant in inputs.central_grants:
        policy = grant.resource.get("LFTagPolicy")
        if not isinstance(policy, Mapping) or policy.get("ResourceType") != "TABLE":
            continue
        matched = inputs.tag_reach.get(
            expression_key(policy.get("Expression") or [], inputs.central_account), ()
        )
        for permission in _permissions_of(grant):
            for rid in explaining(
                grant,
                permission,
                live,
                lambda r: r.central_grants,
                inputs.central_account,
            ):
                record = next(r for r in live if r.request_id == rid)
                foreign = sorted(
                    f"{db}.{table}"
                    for db, table in matched
                    if owner_of.get((db, table), record.owner_account) != record.owner_account
                )
                row = TagReachRow(
                    rid,
                    grant.principal,
                    expression_text(policy.get("Expression") or []),
                    record.owner_account,
                    tuple(foreign),
                )
                if foreign and row not in rows:
                    rows.append(row)
    return rows


def _filter_rows(inputs: PostureInputs, requests: Sequence[RequestRecord]) -> list[FilterRow]:
    """Each central filter with the live request that made it (by name: meshgov names filters
    per request, meshgov.access.filters.filter_name); one no live request made is drift."""
    made: dict[tuple[str, str, str], RequestRecord] = {}
    for record in requests:
        for spec in (CellSpec.from_dict(f) for f in record.filters):
            made[(spec.database, spec.table, filter_name(record.request_id, spec.table))] = record
    rows = []
    for data in inputs.cell_filters:
        spec = spec_of(data)
        name = str(data.get("Name", ""))
        maker = made.get((spec.database, spec.table, name))
        live = maker is not None and maker.state in HOLDS_GRANTS
        hint = ""
        if maker is None:
            hint = "no meshgov request made it"
        elif not live:
            hint = f"its request {maker.request_id} is {maker.state.value}, not live"
        rows.append(
            FilterRow(
                name,
                f"{spec.database}.{spec.table}",
                spec.text().partition("; ")[0],
                spec.row_filter or "every row",
                maker.request_id if maker is not None and live else "",
                hint,
            )
        )
    return sorted(rows, key=lambda r: (r.table, r.name))


def contract_row(head: ContractHead) -> ContractRow:
    """A contract head as the report shows it: the last breach's time and what it broke."""
    last = head.last_breach or {}
    broken = "; ".join(
        f"{b.get('kind', '?')} {b.get('column', '')}".strip() for b in last.get("breaches") or ()
    )
    return ContractRow(
        head.central_database,
        head.table,
        head.account_id,
        head.contract_id,
        head.version,
        head.status,
        str(last.get("at", "")),
        broken,
    )


def build_report(inputs: PostureInputs) -> PostureReport:
    """The whole report from what was read (pure; sorted so two runs compare equal)."""
    now = inputs.generated_at
    requests = list(inputs.requests)
    by_id = {r.request_id: r for r in requests}
    live = [r for r in requests if r.state in HOLDS_GRANTS]
    ended = [r for r in requests if r.state not in HOLDS_GRANTS]
    access: list[AccessRow] = []
    drift: list[DriftRow] = []
    sides: list[tuple[str, str, Sequence[Grant]]] = [
        (CENTRAL_SIDE, inputs.central_account, inputs.central_grants),
        *(
            (CONSUMER_SIDE, account, grants)
            for account, grants in sorted(inputs.consumer_grants.items())
        ),
    ]
    for side, account, grants in sides:
        mine = [r for r in live if side == CENTRAL_SIDE or r.consumer_account == account]
        gone = [r for r in ended if side == CENTRAL_SIDE or r.consumer_account == account]
        for grant in grants:
            row, drifted = _classify(grant, side, account, mine, gone, by_id)
            if row:
                access.append(replace(row, last_used=_last_used(grant, inputs)))
            if drifted:
                drift.append(drifted)
    horizon = now + timedelta(days=inputs.expiring_days)
    pending = [_request_row(r, now) for r in requests if r.state in PENDING]
    expiring = [
        _request_row(r, now)
        for r in live
        if r.expires_at and datetime.fromisoformat(r.expires_at) <= horizon
    ]
    missing = []
    for product in inputs.products:
        lacks = tuple(
            name
            for name, value in (
                (OWNER_CONTACT, str(product.parameters.get(OWNER_CONTACT, "")).strip()),
                (CLASSIFICATION_PARAMETER, product.classification),
            )
            if not value
        )
        if lacks:
            missing.append(
                ProductRow(
                    product.database,
                    product.table,
                    product.owner_account,
                    str(product.parameters.get(DOMAIN, "")),
                    lacks,
                )
            )
    return PostureReport(
        central_account=inputs.central_account,
        generated_at=now.isoformat(timespec="seconds"),
        expiring_days=inputs.expiring_days,
        access=tuple(sorted(access, key=lambda r: (r.grantee, r.resource, r.side))),
        drift=tuple(sorted(drift, key=lambda r: (r.side, r.grantee, r.resource))),
        tag_reach=tuple(_tag_reach(inputs, live)),
        pending=tuple(sorted(pending, key=lambda r: (r.created_at, r.request_id))),
        expiring=tuple(sorted(expiring, key=lambda r: (str(r.expires_at), r.request_id))),
        products_missing=tuple(sorted(missing, key=lambda r: (r.database, r.table))),
        products_total=len(inputs.products),
        requests_total=len(requests),
        catalog_drift=tuple(
            sorted(
                (
                    CatalogDriftRow(d.kind.value, d.resource, d.detail, d.hint)
                    for d in inputs.catalog_drift
                ),
                key=lambda r: (r.resource, r.kind),
            )
        ),
        filters=tuple(_filter_rows(inputs, requests)),
        contracts=tuple(
            sorted((contract_row(h) for h in inputs.contracts), key=lambda r: (r.database, r.table))
        ),
    )
