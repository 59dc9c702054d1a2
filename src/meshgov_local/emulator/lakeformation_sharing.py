"""Cross-account Lake Formation grants share the Data Catalog resources through AWS RAM.

Followed documents:

- Cross-account access: how it works,
  https://docs.aws.amazon.com/lake-formation/latest/dg/crosss-account-how-works.html: granting
  Lake Formation permissions on a Data Catalog resource to an external account "automatically
  shares those resources"; "Lake Formation uses the AWS Resource Access Manager (AWS RAM) service
  to share the resource. If the grantee account is in the same organization as the grantor
  account, the shared resource is available immediately to the grantee. If the grantee account
  is not in the same organization, AWS RAM sends an invitation to the grantee account".
- Accessing and viewing shared resources,
  https://docs.aws.amazon.com/lake-formation/latest/dg/viewing-shared-resources.html, and
  Accepting a resource share invitation,
  https://docs.aws.amazon.com/lake-formation/latest/dg/accepting-ram-invite.html (the invitation
  of a share named ``<grantor>-<grantee>-<suffix>``, ``PENDING`` until the grantee accepts it).
- Cross-account version settings,
  https://docs.aws.amazon.com/lake-formation/latest/dg/optimize-ram.html: from version 2 the named
  resource method maps "multiple cross-account permission grants with one AWS RAM resource share",
  and from version 3 the LF-TBAC method also "uses AWS RAM for cross-account grants" and the
  "recipient must accept resource share invitations". The emulator behaves as version 3 or later:
  one share per grantor and grantee account, reused by every grant, holding the Glue ARNs
  (https://docs.aws.amazon.com/glue/latest/dg/glue-specifying-resource-arns.html) of the granted
  databases and tables. A ``Database`` grant shares the database, a ``Table`` or
  ``TableWithColumns`` grant the table, a ``DataCellsFilter`` grant the filter's table
  (https://docs.aws.amazon.com/lake-formation/latest/dg/granting-filter-perms.html), a
  ``TableWildcard`` grant ``table/<database>/*``, an
  ``LFTagPolicy`` grant the databases or tables its expression matches when the grants change
  (the documents do not say which ARNs Lake Formation puts in the share; this is the emulator's
  choice).
- Revoking: when the grantee no longer holds any permission on a resource, the resource leaves the
  share, and an empty share is deleted, so the grantee loses it (RAM: "You can revoke access to
  shared resources by removing principals or resources from a resource share. If you revoke
  access, principals no longer have access to the shared resources",
  https://docs.aws.amazon.com/ram/latest/userguide/working-with-sharing-update.html).
- DetailsMap, https://docs.aws.amazon.com/lake-formation/latest/APIReference/API_DetailsMap.html:
  "If a catalog resource is shared through AWS RAM, then there will exist a corresponding AWS RAM
  resource share ARN" in ``AdditionalDetails.ResourceShare`` of ListPermissions.

Grantees are external accounts named by their 12-digit id. Not emulated: grants to organizations,
organizational units or IAM principals of other accounts, and validation of the permissions
granted cross-account. The Lake Formation documents found (the permissions reference, the
cross-account pages and the API reference) document no error for granting ``DROP`` or ``ALTER``
to an external account, nor for a cross-account grant without the grant option ("you grant Lake
Formation permissions with the grant option" is how cross-account access is set up, not a check),
so the emulator refuses neither: meshgov must enforce those rules itself.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.lakeformation.models import LakeFormationBackend

from . import ram_sharing
from ._patching import wrap_method

_ACCOUNT = re.compile(r"^\d{12}$")


def grantee_account(principal: dict[str, Any] | None, grantor: str) -> str | None:
    """The external account a grant goes to, if the principal is one."""
    identifier = str((principal or {}).get("DataLakePrincipalIdentifier") or "")
    if _ACCOUNT.match(identifier) and identifier != grantor:
        return identifier
    return None


def _glue_arn(backend: Any, catalog_id: str, path: str) -> str:
    return f"arn:aws:glue:{backend.region_name}:{catalog_id}:{path}"


def _tag_matches(backend: Any, catalog_id: str, policy: dict[str, Any]) -> list[str]:
    expression = policy.get("Expression") or []
    try:
        if str(policy.get("ResourceType")) == "DATABASE":
            return [
                _glue_arn(backend, catalog_id, f"database/{found['Database']['Name']}")
                for found in backend.search_databases_by_lf_tags(catalog_id, expression)
            ]
        return [
            _glue_arn(
                backend,
                catalog_id,
                f"table/{found['Table']['DatabaseName']}/{found['Table']['Name']}",
            )
            for found in backend.search_tables_by_lf_tags(catalog_id, expression)
        ]
    except JsonRESTError:
        return []  # an expression naming an unknown tag matches nothing


def shared_arns(backend: Any, resource: dict[str, Any]) -> list[str]:
    """The Glue ARNs a grant on ``resource`` shares, if it is in the grantor's own catalog."""
    owner = backend.account_id
    cells = resource.get("DataCellsFilter")
    if isinstance(cells, dict):
        # A grant on a data cells filter shares the filter's table, as a table grant does.
        if (cells.get("TableCatalogId") or owner) != owner:
            return []
        database, table = str(cells["DatabaseName"]).lower(), str(cells["TableName"]).lower()
        return [_glue_arn(backend, owner, f"table/{database}/{table}")]
    for kind in ("Database", "Table", "TableWithColumns", "LFTagPolicy"):
        part = resource.get(kind)
        if not isinstance(part, dict):
            continue
        if (part.get("CatalogId") or owner) != owner:
            return []  # sharing is not transitive: only the owner's resources are shared
        if kind == "Database":
            return [_glue_arn(backend, owner, f"database/{part['Name']}")]
        if kind == "LFTagPolicy":
            return _tag_matches(backend, owner, part)
        database = part["DatabaseName"]
        if kind == "Table" and ("TableWildcard" in part or not part.get("Name")):
            return [_glue_arn(backend, owner, f"table/{database}/*")]
        return [_glue_arn(backend, owner, f"table/{database}/{part['Name']}")]
    return []


def granted_arns(backend: Any, receiver: str) -> list[str]:
    """Every Glue ARN the grantor's current grants to ``receiver`` share."""
    catalog = backend.grants.get(backend.account_id)
    arns: list[str] = []
    for permission in list(catalog.permissions) if catalog is not None else []:
        if grantee_account(permission.principal, backend.account_id) == receiver:
            arns.extend(shared_arns(backend, permission.resource))
    return list(dict.fromkeys(arns))


def sync_share(backend: Any, receiver: str) -> str | None:
    """Bring the grantor's RAM share with ``receiver`` in line with the grants; its ARN."""
    return ram_sharing.share_with_account(
        backend.account_id, backend.region_name, receiver, granted_arns(backend, receiver)
    )


def _sharing(method: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap grant_permissions or revoke_permissions(catalog_id, principal, resource, ...)."""
    signature = inspect.signature(method)

    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = method(self, *args, **kwargs)
        arguments = signature.bind(self, *args, **kwargs).arguments
        catalog_id, resource = arguments["catalog_id"], arguments["resource"] or {}
        receiver = grantee_account(arguments["principal"], self.account_id)
        if receiver is not None and catalog_id == self.account_id:
            share = ram_sharing.lakeformation_share(self.account_id, self.region_name, receiver)
            if share is not None or shared_arns(self, resource):
                sync_share(self, receiver)
        return result

    return wrapper


def _with_share_details(method: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        listed: list[dict[str, Any]] = method(self, *args, **kwargs)
        for entry in listed:
            receiver = grantee_account(entry.get("Principal"), self.account_id)
            if receiver is None:
                continue
            share = ram_sharing.lakeformation_share(self.account_id, self.region_name, receiver)
            arns = shared_arns(self, entry.get("Resource") or {})
            if share is not None and any(arn in share.resource_arns for arn in arns):
                entry["AdditionalDetails"] = {"ResourceShare": [share.arn]}
        return listed

    return wrapper


def install() -> None:
    wrap_method(LakeFormationBackend, "grant_permissions", _sharing)
    wrap_method(LakeFormationBackend, "revoke_permissions", _sharing)
    wrap_method(LakeFormationBackend, "list_permissions", _with_share_details)
