"""Glue ``GetDatabase``/``GetDatabases`` follow a database resource link to its target.

Followed document: Resource link handling in AWS Glue APIs,
https://docs.aws.amazon.com/lake-formation/latest/dg/resource-links-glue-apis.html:

- ``GetDatabase``: "If the caller has permissions on the target, follows the link to return the
  target's properties. Otherwise, it returns the properties of the link."
- ``GetDatabases``: "Returns a list of databases, including resource links. For each resource link
  in the result set, the operation follows the link to get the properties of the link target."
- For all ``Get*`` operations, "when accessing a target database or table through a resource
  link, you must have both AWS Identity and Access Management (IAM) and Lake Formation permissions
  on both the target and the resource link".

moto 5.2.5 does not: it answers a link with its own (empty) properties. Here a link's
``Description``, ``LocationUri``, ``Parameters`` and ``CreateTableDefaultPermissions`` are the
target's when the target exists and the caller may read it; the link keeps its own ``Name``,
``CatalogId``, ``CreateTime`` and ``TargetDatabase`` (how a caller tells a link: API_Database,
https://docs.aws.amazon.com/glue/latest/webapi/API_Database.html). Both operations apply the same
permission rule (the documented one of ``GetDatabase``; ``GetDatabases`` needs the same
permissions on the target). "May read" is Lake Formation's own rule
(:mod:`.lakeformation_permissions`): for a role, what it may describe of the target (its grants,
within what the target's account shared with its account); for the account's root, what was
shared with the account.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.core.responses import ActionResult
from moto.glue.exceptions import EntityNotFoundException
from moto.glue.models import glue_backends
from moto.glue.responses import GlueResponse

from . import lakeformation_permissions as lf
from ._patching import wrap_method
from .iam_enforcement import caller_session

FOLLOWED = ("Description", "LocationUri", "Parameters", "CreateTableDefaultPermissions")


def may_read(caller: lf.Caller | str, target_account: str, region: str, database: str) -> bool:
    """Whether ``caller`` (a role as Lake Formation knows it, or an account for the root) may
    read ``database`` in ``target_account``'s catalog: decided by Lake Formation's rule
    (:mod:`.lakeformation_permissions`), for the role, or for any principal of the account."""
    if isinstance(caller, str):
        if caller == target_account:
            return True
        caller = lf.Caller(caller, caller)  # the account itself: what was shared with it
    tables = list(
        getattr(glue_backends[target_account][region].databases.get(database), "tables", {})
    )
    return bool(lf.database_access(caller, target_account, database, region, tables))


def followed(database: dict[str, Any], caller: lf.Caller | str, region: str) -> dict[str, Any]:
    """``database`` as ``GetDatabase(s)`` return it: a link shows its target's properties."""
    target = database.get("TargetDatabase") or {}
    name = target.get("DatabaseName")
    if not name:
        return database
    own = caller if isinstance(caller, str) else caller.account
    account = str(target.get("CatalogId") or own)
    target_region = str(target.get("Region") or region)
    if not may_read(caller, account, target_region, str(name)):
        return database
    try:
        found = glue_backends[account][target_region].get_database(str(name)).as_dict()
    except EntityNotFoundException:
        return database
    return {**database, **{key: found.get(key) for key in FOLLOWED}}


def _following(key: str, many: bool) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def make(call: Callable[..., Any]) -> Callable[..., Any]:
        def method(self: Any) -> Any:
            result = call(self)
            body = dict(result.result)
            session = caller_session(self)
            caller: lf.Caller | str = (
                lf.Caller(session.account, session.role_arn) if session else self.current_account
            )
            if many:
                body[key] = [followed(d, caller, self.region) for d in body[key]]
            else:
                body[key] = followed(body[key], caller, self.region)
            return ActionResult(body)

        return method

    return make


def install() -> None:
    # After glue_paging, which replaces GetDatabases (paging) and is wrapped here.
    wrap_method(GlueResponse, "get_database", _following("Database", many=False))
    wrap_method(GlueResponse, "get_databases", _following("DatabaseList", many=True))
