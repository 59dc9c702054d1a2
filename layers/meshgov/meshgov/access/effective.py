"""Effective permissions: can a consumer's principal SELECT (or DESCRIBE) a central table, and why.

A role in a consumer account reaches a central table only when every link of the chain holds
(https://docs.aws.amazon.com/lake-formation/latest/dg/cross-account-permissions.html):

1. central granted the permission on the table to the consumer *account* (by name, on every
   table of its database, or through an ``LFTagPolicy`` whose expression the table's effective
   LF-Tags satisfy);
2. the consumer accepted the RAM share that grant travels in: outside an organization "AWS RAM
   sends an invitation to the grantee account" and the resource is usable only once accepted
   (https://docs.aws.amazon.com/lake-formation/latest/dg/crosss-account-how-works.html);
3. the consumer account granted the permission on the (central) table to the principal;
4. a resource link in the consumer catalog points at the table's central database, and the
   principal may DESCRIBE it — "Granting permissions on a resource link doesn't grant
   permissions on the target"
   (https://docs.aws.amazon.com/lake-formation/latest/dg/granting-link-permissions.html), and
   engines such as Athena reach shared tables through the link.

Each grant found is explained by the access requests that made it: a request explains a grant
when it holds grants (``GRANTED``/``ACTIVE``) and recorded that principal, resource and permission
(central: ``central_grants``; consumer: ``link_grants``). A grant no request explains is drift.

The decision (:func:`decide`) is pure, on :class:`AccessFacts`; the thin adapter that reads them
with injected clients (the caller assumes the roles), :func:`read_facts`, :func:`can_access` and
the readers, is :mod:`meshgov.access.effective_reads`. Not modelled: the
implicit permissions of data lake administrators and creators, ``IAMAllowedPrincipals``, and
column-level LF-Tags (a table-level tag match counts as access to the table). ``DESCRIBE`` is
answered strictly: only a ``DESCRIBE`` (or ``ALL``) grant gives it.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from meshgov.access.filters import spec_of
from meshgov.access.grants import grant_keys
from meshgov.access.states import HOLDS_GRANTS
from meshgov.access.store import RequestRecord
from meshgov.catalog.tags import expression_holds
from meshgov.contracts.access_events import ROLE_ARN
from meshgov.errors import MeshgovError

ACTIONS = ("SELECT", "DESCRIBE")
ALL = "ALL"
_GLUE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
_CATALOG_SCOPED = ("Database", "Table", "TableWithColumns", "LFTagPolicy")


class Missing(StrEnum):
    """The link of the chain that fails (the first four are the ones a request puts in place)."""

    TABLE = "table not in the central catalog"
    CENTRAL_GRANT = "no grant from central to the account"
    SHARE = "share not accepted"
    PRINCIPAL_GRANT = "no grant to the principal in the consumer account"
    LINK = "no resource link"
    LINK_DESCRIBE = "no DESCRIBE on the resource link for the principal"


class AccessQuestionInvalidError(MeshgovError):
    """The question cannot be asked: not a role ARN, an action other than SELECT/DESCRIBE, ..."""


# --- the question and the facts ------------------------------------------------------------------


@dataclass(frozen=True)
class AccessQuestion:
    """Can ``principal`` (a consumer account's role) do ``action`` on ``database.table``?"""

    principal: str
    action: str
    database: str
    table: str

    def __post_init__(self) -> None:
        if not re.match(ROLE_ARN, self.principal):
            raise AccessQuestionInvalidError(
                f"principal must be an IAM role ARN (arn:<partition>:iam::<account>:role/<name>), "
                f"got {self.principal!r}"
            )
        if self.action not in ACTIONS:
            raise AccessQuestionInvalidError(
                f"action must be one of {', '.join(ACTIONS)}, got {self.action!r}"
            )
        for what, name in (("database", self.database), ("table", self.table)):
            if not _GLUE_NAME.match(name):
                raise AccessQuestionInvalidError(f"{what} {name!r} is not a Glue name")

    @property
    def consumer_account(self) -> str:
        return self.principal.split(":")[4]

    @property
    def qualified_table(self) -> str:
        return f"{self.database}.{self.table}"


@dataclass(frozen=True)
class Grant:
    """One ``PrincipalResourcePermissions`` entry of ``ListPermissions``."""

    principal: str
    resource: Mapping[str, Any]
    permissions: tuple[str, ...]
    grantable: tuple[str, ...] = ()
    shares: tuple[str, ...] = ()  # RAM share ARNs (AdditionalDetails.ResourceShare)

    @classmethod
    def from_listing(cls, entry: Mapping[str, Any]) -> Grant:
        details = entry.get("AdditionalDetails") or {}
        return cls(
            principal=str((entry.get("Principal") or {}).get("DataLakePrincipalIdentifier", "")),
            resource=entry.get("Resource") or {},
            permissions=tuple(str(p) for p in entry.get("Permissions") or ()),
            grantable=tuple(str(p) for p in entry.get("PermissionsWithGrantOption") or ()),
            shares=tuple(str(s) for s in details.get("ResourceShare") or ()),
        )

    def gives(self, action: str) -> bool:
        return action in self.permissions or ALL in self.permissions


@dataclass(frozen=True)
class AccessFacts:
    """Everything the decision needs, as read from central and the consumer account.

    ``central_grants`` may hold grants to anyone on anything: :func:`decide` keeps those to the
    consumer account that cover the table. ``accepted_shares`` are the share ARNs from central
    the consumer can use (accepted, or received inside its organization); ``invitations`` the
    status of the consumer's invitations from central, by share ARN (to say *why* a share is not
    usable). ``links`` are the consumer databases whose ``TargetDatabase`` is the table's central
    database; ``link_grants`` the principal's grants on those links.
    """

    central_account: str
    table_exists: bool = True
    table_tags: Mapping[str, Sequence[str]] = field(default_factory=dict)
    central_grants: tuple[Grant, ...] = ()
    accepted_shares: frozenset[str] = frozenset()
    invitations: Mapping[str, str] = field(default_factory=dict)
    principal_grants: tuple[Grant, ...] = ()
    links: tuple[str, ...] = ()
    link_grants: tuple[Grant, ...] = ()
    requests: tuple[RequestRecord, ...] = ()
    # The table's data cells filters in central (ListDataCellsFilter ``TableData``), by name.
    cell_filters: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class AccessAnswer:
    allowed: bool
    principal: str
    action: str
    database: str
    table: str
    reasons: list[str]
    requests: list[str]  # the request ids that explain the access
    expires_at: str | None
    missing: list[str]
    # The data cells filters the access goes through (name, columns, excludedColumns, rowFilter);
    # empty when a grant on the whole table gives it.
    filters: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "filters": [dict(f) for f in self.filters],
            "allowed": self.allowed,
            "principal": self.principal,
            "action": self.action,
            "database": self.database,
            "table": self.table,
            "reasons": list(self.reasons),
            "requests": list(self.requests),
            "expires_at": self.expires_at,
            "missing": list(self.missing),
        }


# --- pure decisions ------------------------------------------------------------------------------


def expression_text(expression: Iterable[Mapping[str, Any]]) -> str:
    """``domain=sales AND sensitivity=(low OR pii)``."""
    parts = []
    for condition in expression:
        values = [str(v) for v in condition.get("TagValues") or ()]
        shown = values[0] if len(values) == 1 else f"({' OR '.join(values)})"
        parts.append(f"{condition.get('TagKey')}={shown}")
    return " AND ".join(parts)


def coverage_of(
    resource: Mapping[str, Any],
    central_account: str,
    database: str,
    table: str,
    tags: Mapping[str, Sequence[str]],
    filters: Mapping[str, Mapping[str, Any]] | None = None,
) -> str | None:
    """How a grant on ``resource`` reaches ``database.table`` of central, in words; None if not.
    ``filters``: the table's data cells filters by name (a grant on one of them reaches it)."""
    cells = resource.get("DataCellsFilter")
    if isinstance(cells, Mapping):
        name = str(cells.get("Name", ""))
        if (
            cells.get("TableCatalogId", central_account) != central_account
            or cells.get("DatabaseName") != database
            or cells.get("TableName") != table
            or filters is None
            or name not in filters
        ):
            return None
        return f"data cells filter {name} of {database}.{table} ({spec_of(filters[name]).text()})"
    named = resource.get("Table")
    if isinstance(named, Mapping) and _in(named, central_account, database):
        if "TableWildcard" in named:
            return f"every table of {database}"
        if named.get("Name") == table:
            return f"table {database}.{table}"
        return None
    columns = resource.get("TableWithColumns")
    if isinstance(columns, Mapping) and _in(columns, central_account, database):
        if columns.get("Name") != table:
            return None
        if "ColumnWildcard" in columns:
            excluded = list((columns.get("ColumnWildcard") or {}).get("ExcludedColumnNames") or ())
            suffix = f" except columns {', '.join(excluded)}" if excluded else ""
            return f"table {database}.{table}{suffix}"
        names = ", ".join(str(c) for c in columns.get("ColumnNames") or ())
        return f"columns {names} of {database}.{table}"
    policy = resource.get("LFTagPolicy")
    if (
        isinstance(policy, Mapping)
        and policy.get("CatalogId", central_account) == central_account
        and policy.get("ResourceType") == "TABLE"
        and policy.get("Expression")
        and expression_holds(policy["Expression"], tags)
    ):
        return f"LF-Tag policy {expression_text(policy['Expression'])}"
    return None


def _in(part: Mapping[str, Any], catalog: str, database: str) -> bool:
    return part.get("CatalogId", catalog) == catalog and part.get("DatabaseName") == database


def canonical_resource(resource: Mapping[str, Any], default_catalog: str) -> dict[str, Any]:
    """``resource`` as Lake Formation lists it: catalog ids filled in, LF-Tags in lower case,
    column names sorted (a request's record and a listed grant then compare equal)."""
    shaped: dict[str, Any] = copy.deepcopy(dict(resource))
    for kind in _CATALOG_SCOPED:
        part = shaped.get(kind)
        if isinstance(part, dict) and not part.get("CatalogId"):
            part["CatalogId"] = default_catalog
    columns = shaped.get("TableWithColumns")
    if isinstance(columns, dict) and columns.get("ColumnNames"):
        columns["ColumnNames"] = sorted(str(c) for c in columns["ColumnNames"])
    policy = shaped.get("LFTagPolicy")
    if isinstance(policy, dict) and policy.get("Expression"):
        policy["Expression"] = sorted(
            (
                {
                    "TagKey": str(c.get("TagKey", "")).lower(),
                    "TagValues": sorted(str(v).lower() for v in c.get("TagValues") or ()),
                }
                for c in policy["Expression"]
            ),
            key=lambda c: json.dumps(c, sort_keys=True),
        )
    return shaped


def _key_entries(
    entries: Iterable[Mapping[str, Any]], default_catalog: str
) -> list[dict[str, Any]]:
    """Batch entries or link grants with their resources in canonical form."""
    shaped = []
    for entry in entries:
        copied = dict(entry)
        for name in ("Resource", "resource"):
            if isinstance(entry.get(name), Mapping):
                copied[name] = canonical_resource(entry[name], default_catalog)
        shaped.append(copied)
    return shaped


def explaining(
    grant: Grant,
    action: str,
    requests: Iterable[RequestRecord],
    recorded: Callable[[RequestRecord], Sequence[Mapping[str, Any]]],
    default_catalog: str,
) -> list[str]:
    """Ids of the requests holding grants whose ``recorded`` entries contain ``grant``'s
    principal, resource and ``action`` (or ``ALL``)."""
    resource = canonical_resource(grant.resource, default_catalog)
    wanted = {
        (grant.principal, json.dumps(resource, sort_keys=True), permission)
        for permission in (action, ALL)
    }
    return sorted(
        record.request_id
        for record in requests
        if record.state in HOLDS_GRANTS
        and wanted & grant_keys(_key_entries(recorded(record), default_catalog))
    )


def _explained(ids: Sequence[str]) -> str:
    return f" (request {', '.join(ids)})" if ids else " (no meshgov request explains it: drift?)"


def _grant_option_note(grant: Grant) -> str:
    return " with grant option" if grant.grantable else ""


def decide(question: AccessQuestion, facts: AccessFacts) -> AccessAnswer:
    """Walk the chain (central grant, share, principal grant, link) and say what holds."""
    action, account, central = question.action, question.consumer_account, facts.central_account
    table = question.qualified_table
    reasons: list[str] = []
    missing: list[Missing] = []

    def answer(
        ids: Sequence[str] = (),
        expires: str | None = None,
        through: Sequence[dict[str, Any]] = (),
    ) -> AccessAnswer:
        return AccessAnswer(
            allowed=not missing,
            principal=question.principal,
            action=action,
            database=question.database,
            table=question.table,
            reasons=reasons,
            requests=list(ids) if not missing else [],
            expires_at=expires if not missing else None,
            missing=[m.value for m in missing],
            filters=list(through) if not missing else [],
        )

    if not facts.table_exists:
        missing.append(Missing.TABLE)
        reasons.append(f"{table} is not a table of the central catalog (account {central})")
        return answer()
    requests = [r for r in facts.requests if r.consumer_account == account]

    # 1. central -> the consumer account, 2. the share it travels in
    central_ids: set[str] = set()
    covering = [
        (grant, how)
        for grant in facts.central_grants
        if grant.principal == account and grant.gives(action)
        for how in [
            coverage_of(
                grant.resource,
                central,
                question.database,
                question.table,
                facts.table_tags,
                facts.cell_filters,
            )
        ]
        if how is not None
    ]
    usable = []
    for grant, how in covering:
        ids = explaining(grant, action, requests, lambda r: r.central_grants, central)
        accepted = _share_accepted(grant, facts.accepted_shares)
        if accepted:
            usable.append(grant)
            central_ids.update(ids)
        reasons.append(
            f"central ({central}) granted {action} on {how} to account {account}"
            f"{_grant_option_note(grant)}{_explained(ids)}"
            + ("" if accepted else f"; {_share_problem(grant, facts)}")
        )
    if not covering:
        missing.append(Missing.CENTRAL_GRANT)
        reasons.append(
            f"central ({central}) grants account {account} no {action} on {table}, by name, "
            "on its database's tables or through an LF-Tag policy"
        )
    elif not usable:
        missing.append(Missing.SHARE)

    # 3. the consumer account -> the principal
    principal_ids: set[str] = set()
    held = [
        (grant, how)
        for grant in facts.principal_grants
        if grant.principal == question.principal and grant.gives(action)
        for how in [
            coverage_of(
                grant.resource, central, question.database, question.table, {}, facts.cell_filters
            )
        ]
        if how is not None
    ]
    for grant, how in held:
        ids = explaining(grant, action, requests, lambda r: r.link_grants, account)
        principal_ids.update(ids)
        reasons.append(
            f"account {account} granted {action} on {how} to {question.principal}{_explained(ids)}"
        )
    if not held:
        missing.append(Missing.PRINCIPAL_GRANT)
        reasons.append(f"account {account} grants {question.principal} no {action} on {table}")

    # 4. the resource link, and DESCRIBE on it
    if not facts.links:
        missing.append(Missing.LINK)
        reasons.append(f"no database of account {account} links to {central}:{question.database}")
    else:
        described = [
            g
            for g in facts.link_grants
            if g.principal == question.principal
            and g.gives("DESCRIBE")
            and _link_name(g.resource, account) in facts.links
        ]
        names = sorted({_link_name(g.resource, account) or "" for g in described})
        if described:
            reasons.append(
                f"resource link {', '.join(names)} points at {central}:{question.database} and "
                f"{question.principal} may DESCRIBE it"
            )
        else:
            missing.append(Missing.LINK_DESCRIBE)
            reasons.append(
                f"resource link {', '.join(facts.links)} points at {central}:{question.database}"
                f", but {question.principal} has no DESCRIBE on it"
            )
    if missing:
        return answer()
    both = central_ids & principal_ids
    ids = sorted(both or (central_ids | principal_ids))
    return answer(ids, _expiry(ids, requests), _through_filters(usable, held, facts))


def _through_filters(
    usable: Sequence[Grant], held: Sequence[tuple[Grant, str]], facts: AccessFacts
) -> list[dict[str, Any]]:
    """The filters the principal reads through: those both central's share and the principal's
    grant name, unless a grant on the whole table (or its columns) reaches it on both sides —
    Lake Formation then returns the union, which is the whole grant."""

    def filter_names(grants: Iterable[Grant]) -> tuple[set[str], bool]:
        names, whole = set(), False
        for grant in grants:
            cells = grant.resource.get("DataCellsFilter")
            if isinstance(cells, Mapping):
                names.add(str(cells.get("Name", "")))
            else:
                whole = True
        return names, whole

    shared, shared_whole = filter_names(usable)
    mine, mine_whole = filter_names(g for g, _ in held)
    if shared_whole and mine_whole:
        return []
    return [
        {"name": name, **spec_of(facts.cell_filters[name]).as_dict()}
        for name in sorted(shared & mine)
        if name in facts.cell_filters
    ]


def _share_accepted(grant: Grant, accepted: frozenset[str]) -> bool:
    """The grant's share is accepted; a grant naming no share counts when any share from
    central is (Lake Formation names the share in ``AdditionalDetails`` only when it knows it)."""
    if grant.shares:
        return bool(set(grant.shares) & accepted)
    return bool(accepted)


def _share_problem(grant: Grant, facts: AccessFacts) -> str:
    statuses = sorted({facts.invitations[s] for s in grant.shares if s in facts.invitations})
    if not statuses and not grant.shares:
        statuses = sorted(set(facts.invitations.values()))
    if statuses:
        return f"but the RAM share is not accepted (invitation {'/'.join(statuses)})"
    return "but the RAM share is not accepted (no invitation received)"


def _link_name(resource: Mapping[str, Any], account: str) -> str | None:
    database = resource.get("Database")
    if isinstance(database, Mapping) and database.get("CatalogId", account) == account:
        return str(database.get("Name", ""))
    return None


def _expiry(ids: Sequence[str], requests: Sequence[RequestRecord]) -> str | None:
    """The access lasts as long as the last of its requests; None when one never expires."""
    ends = [r.expires_at for r in requests if r.request_id in ids]
    if not ends or any(end is None for end in ends):
        return None
    return max(str(end) for end in ends)
