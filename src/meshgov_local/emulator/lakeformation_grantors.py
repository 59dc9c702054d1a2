"""Who may grant: Lake Formation checks the grantor of every grant and revoke (moto checks none).

For a request signed by a role session, each ``GrantPermissions``/``RevokePermissions`` (and each
entry of the batch operations, whose refused entries come back in ``Failures``) must pass:

1. Lake Formation. "Data lake administrators ... can grant or revoke access to any resources in
   the Data Catalog to any principal"; a table or database creator may grant on what it created
   to principals of its own account (https://docs.aws.amazon.com/lake-formation/latest/dg/implicit-permissions.html);
   anyone else needs the grant option on what it grants. On a resource another account shared,
   the recipient can grant on "only if it was granted with the grant option", which the
   recipient's administrators then pass on to its principals
   (https://docs.aws.amazon.com/lake-formation/latest/dg/cross-account-permissions.html).
   On a data cells filter, :func:`.lakeformation_filters.grant_refusal` decides.
2. IAM, for what Lake Formation reads and does on the grantor's behalf. A grant on a named
   database or table needs the grantor's Glue read of it (``glue:GetDatabase``,
   ``glue:GetTable``: "required permissions for grant",
   https://docs.aws.amazon.com/lake-formation/latest/dg/cross-account-prereqs.html). A grant to
   another account is shared through AWS RAM with the grantor's permissions (the actions of the
   managed policy ``AWSLakeFormationCrossAccountManager``,
   https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLakeFormationCrossAccountManager.html):
   ``ram:GetResourceShares`` and ``ram:CreateResourceShare`` (no share yet) or
   ``ram:AssociateResourceShare``; a revoke ``ram:DisassociateResourceShare``. With cross-account
   version 1 (the default when ``CROSS_ACCOUNT_VERSION`` is not set) Lake Formation shares by the
   catalog's resource policy instead, which needs ``glue:PutResourcePolicy``
   (https://docs.aws.amazon.com/lake-formation/latest/dg/optimize-ram.html).

Refused with ``AccessDeniedException``.
"""

from __future__ import annotations

import contextvars
import inspect
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.lakeformation.models import LakeFormationBackend
from moto.lakeformation.responses import LakeFormationResponse

from . import (
    iam_enforcement,
    iam_requests,
    lakeformation_filters,
    lakeformation_grants,
    ram_sharing,
)
from . import lakeformation_permissions as lf
from ._patching import wrap_method
from .lakeformation_grants import normalise_resource

_ACCOUNT = re.compile(r"^\d{12}$")
_GRANTOR: contextvars.ContextVar[iam_enforcement.RoleSession | None] = contextvars.ContextVar(
    "meshgov_lakeformation_grantor", default=None
)


def _denied(message: str) -> JsonRESTError:
    error = JsonRESTError("AccessDeniedException", message)
    error.code = 400
    return error


def _resource_catalog(resource: dict[str, Any], default: str) -> str:
    for part in resource.values():
        if isinstance(part, dict) and part.get("CatalogId"):
            return str(part["CatalogId"])
    return default


def _named(resource: dict[str, Any]) -> tuple[str, str | None] | None:
    """(database, table or "*" or None) of a named database or table resource."""
    if isinstance(resource.get("Database"), dict):
        return str(resource["Database"].get("Name", "")).lower(), None
    for kind in ("Table", "TableWithColumns"):
        part = resource.get(kind)
        if isinstance(part, dict):
            table = "*" if "TableWildcard" in part else str(part.get("Name", "")).lower()
            return str(part.get("DatabaseName", "")).lower(), table
    return None


def _held_with_grant_option(
    account: str, catalog: str, resource: dict[str, Any], region: str
) -> set[str]:
    """What ``catalog``'s account granted ``account`` on ``resource`` with the grant option."""
    named = _named(resource)
    if named is None:
        return set()
    database, table = named
    held: set[str] = set()
    for grant in lf.grants_to(catalog, region, account):
        granted = grant.resource or {}
        if table is None:
            applies = lf.database_grant_applies(granted, catalog, database, region)
        elif table == "*":
            wildcard = granted.get("Table") or {}
            applies = "TableWildcard" in wildcard and (
                str(wildcard.get("DatabaseName", "")).lower() == database
            )
        else:
            applies = lf.table_grant_applies(granted, catalog, database, table, region)
        if applies:
            held |= set(grant.permissions_with_grant_options or [])
    return held


def _lake_formation_refusal(
    grantor: lf.Caller,
    region: str,
    resource: dict[str, Any],
    permissions: list[str],
    revoking: bool,
) -> str | None:
    if isinstance(resource.get("DataCellsFilter"), dict):
        return lakeformation_filters.grant_refusal(grantor, region, resource, permissions, revoking)
    catalog = _resource_catalog(resource, grantor.account)
    if catalog == grantor.account:
        if lf.is_admin(grantor, region):
            return None
        named = _named(resource)
        key: tuple[str, ...]
        if named is not None and named[1] not in (None, "*"):
            key = (catalog, region, named[0], str(named[1]))
        elif named is not None:
            key = (catalog, region, named[0])
        else:
            key = ()
        if key and lf.creators.of(key) == grantor.arn:
            return None
        return "only a data lake administrator or the creator may grant or revoke on it"
    if revoking and lf.is_admin(grantor, region):
        return None
    if not ram_sharing.share_accepted(catalog, region, grantor.account):
        return f"account {grantor.account} has not accepted {catalog}'s share"
    held = _held_with_grant_option(grantor.account, catalog, resource, region)
    missing = [p for p in permissions if lf.SUPER not in held and p not in held]
    if lf.is_admin(grantor, region) and not missing:
        return None
    return (
        f"account {grantor.account} holds no grant option on it from {catalog} "
        f"(missing: {', '.join(missing) or 'administrator'})"
    )


def _iam_checks(
    session: iam_enforcement.RoleSession,
    region: str,
    catalog_id: str,
    principal: dict[str, Any],
    resource: dict[str, Any],
    revoking: bool,
) -> list[iam_requests.Check]:
    where = iam_requests.Where(session.account, region, session.partition)
    found: list[iam_requests.Check] = []
    named = _named(resource)
    if named is not None and not revoking:
        database, table = named
        catalog = _resource_catalog(resource, session.account)
        if table is None:
            params: dict[str, Any] = {"CatalogId": catalog, "Name": database}
            found += iam_requests.checks("glue", "GetDatabase", params, where)
        else:
            params = {"CatalogId": catalog, "DatabaseName": database, "Name": table}
            found += iam_requests.checks("glue", "GetTable", params, where)
    receiver = str((principal or {}).get("DataLakePrincipalIdentifier", ""))
    external = receiver != session.account and (
        bool(_ACCOUNT.match(receiver))
        or (receiver.startswith("arn:") and ":organizations:" in receiver)
    )
    if external and catalog_id == session.account:
        version = str(
            (lf.settings(session.account, region).get("Parameters") or {}).get(
                "CROSS_ACCOUNT_VERSION", "1"
            )
        )
        if version == "1":
            actions = ["glue:PutResourcePolicy"]
            share = where.arn("glue", "catalog")
        else:
            exists = ram_sharing.lakeformation_share(session.account, region, receiver)
            actions = ["ram:GetResourceShares"]
            if revoking:
                actions.append("ram:DisassociateResourceShare")
            else:
                actions.append(
                    "ram:AssociateResourceShare" if exists else "ram:CreateResourceShare"
                )
            share = f"arn:{session.partition}:ram:{region}:{session.account}:resource-share/*"
        found += [iam_requests.Check(action, share) for action in actions]
    return found


def check(
    backend: Any,
    catalog_id: str,
    principal: dict[str, Any],
    resource: dict[str, Any],
    permissions: list[str],
    revoking: bool,
) -> None:
    """Raise ``AccessDeniedException`` unless the current grantor may make this grant."""
    session = _GRANTOR.get()
    if session is None:
        return
    region = str(backend.region_name)
    grantor = lf.Caller(session.account, session.role_arn)
    stored = normalise_resource(resource, catalog_id)
    reason = _lake_formation_refusal(grantor, region, stored, permissions, revoking)
    if reason is not None:
        verb = "revoke" if revoking else "grant"
        raise _denied(
            f"Insufficient Lake Formation permission(s) to {verb} {permissions}: {reason}"
        )
    where = iam_requests.Where(session.account, region, session.partition)
    checks = _iam_checks(session, region, catalog_id, principal, stored, revoking)
    iam_enforcement.notify_on_behalf(session, sorted({c.action for c in checks}))
    denial = iam_enforcement.decide(session, "lakeformation", checks, where)
    if denial is not None:
        raise _denied(iam_enforcement.message(session.principal().arn, denial))


def _checked(revoking: bool) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Wrap grant_permissions or revoke_permissions(catalog_id, principal, resource, permissions
    or permissions_to_revoke, ...), however moto passes them (positions or keywords)."""

    # The parameters as moto names them (lakeformation_grants keeps moto's signatures; the
    # sharing wrapper between them takes *args).
    signature = inspect.signature(
        lakeformation_grants.revoke_permissions
        if revoking
        else lakeformation_grants.grant_permissions
    )
    names = list(signature.parameters)

    def make(method: Callable[..., Any]) -> Callable[..., Any]:

        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            arguments = signature.bind(self, *args, **kwargs).arguments
            permissions = arguments.get(names[4]) or []
            check(
                self,
                str(arguments["catalog_id"]),
                arguments.get("principal") or {},
                arguments.get("resource") or {},
                list(permissions),
                revoking,
            )
            return method(self, *args, **kwargs)

        return wrapper

    return make


@contextmanager
def _grantor(response: Any) -> Iterator[None]:
    token = _GRANTOR.set(iam_enforcement.caller_session(response))
    try:
        yield
    finally:
        _GRANTOR.reset(token)


def _with_grantor(call_action: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(self: Any) -> Any:
        with _grantor(self):
            return call_action(self)

    return wrapper


def install() -> None:
    # Outermost on the backend: the check runs before the store changes and before RAM shares.
    wrap_method(LakeFormationBackend, "grant_permissions", _checked(revoking=False))
    wrap_method(LakeFormationBackend, "revoke_permissions", _checked(revoking=True))
    wrap_method(LakeFormationResponse, "call_action", _with_grantor)
