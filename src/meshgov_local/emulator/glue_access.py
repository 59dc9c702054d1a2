"""Cross-account Data Catalog access and ``UpdateTable``'s ``SkipArchive``, which moto ignores.

Catalog ownership. Every Glue catalog request names the catalog in ``CatalogId``; "if none is
provided, the AWS account ID is used by default" (for example
https://docs.aws.amazon.com/glue/latest/webapi/API_GetTables.html). Reading or writing another
account's catalog needs that account to grant it (a Glue resource policy or Lake Formation
cross-account permissions, https://docs.aws.amazon.com/glue/latest/dg/cross-account-access.html);
without a grant AWS answers ``AccessDeniedException`` ("Access to a resource was denied", the
Glue common error). The local mesh grants nothing cross-account on catalogs, so any request whose
``CatalogId`` is not the caller's account fails: meshgov's central account must read a producer
catalog by assuming the producer's reader role, as in production.

Table versions. "By default, UpdateTable always creates an archived version of the table before
updating it. However, if skipArchive is set to true, UpdateTable does not create the archived
version." (https://docs.aws.amazon.com/glue/latest/webapi/API_UpdateTable.html). moto adds a
version on every call; with ``SkipArchive`` the current version is now replaced in place.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.core.responses import EmptyResult
from moto.core.utils import utcnow
from moto.glue.models import GlueBackend
from moto.glue.responses import GlueResponse

from ._patching import patch_attr, wrap_method


def requested_catalog_id(body: Any) -> str | None:
    """The top-level ``CatalogId`` of a Glue JSON request body, if any."""
    if not body:
        return None
    try:
        params = json.loads(body)
    except (TypeError, ValueError):
        return None
    if isinstance(params, dict) and params.get("CatalogId"):
        return str(params["CatalogId"])
    return None


def access_denied(caller_account: str, region: str, action: str, catalog_id: str) -> JsonRESTError:
    error = JsonRESTError(
        "AccessDeniedException",
        f"User in account {caller_account} is not authorized to perform: glue:{action} on "
        f"resource: arn:aws:glue:{region}:{catalog_id}:catalog because no resource-based policy "
        f"allows the glue:{action} action",
    )
    error.code = 400
    return error


def error_response(response: Any, error: JsonRESTError) -> tuple[Any, Any, Any]:
    """``error`` as moto's Glue answers an error: (status, headers, body)."""
    headers = dict(error.get_headers() or [])
    headers["status"] = error.code
    status, out_headers, body = response._transform_response(
        response.response_headers, (error.description, headers)
    )
    out_headers, body = response._enrich_response(out_headers, body)
    return status, out_headers, body


def _guarded(call_action: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(self: Any) -> Any:
        catalog_id = requested_catalog_id(self.body)
        if catalog_id is not None and catalog_id != self.current_account:
            error = access_denied(self.current_account, self.region, self._get_action(), catalog_id)
            return error_response(self, error)
        return call_action(self)

    return wrapper


def backend_update_table(
    self: Any,
    database_name: str,
    table_name: str,
    table_input: dict[str, Any],
    skip_archive: bool = False,
) -> None:
    table = self.get_table(database_name, table_name)
    if skip_archive:
        table.versions[str(table._current_version)] = table_input
        table.updated_time = utcnow()
    else:
        table.update(table_input)


def response_update_table(self: Any) -> EmptyResult:
    params: dict[str, Any] = self.parameters
    table_input = params.get("TableInput") or {}
    self.glue_backend.update_table(
        params.get("DatabaseName"),
        table_input.get("Name"),
        table_input,
        skip_archive=bool(params.get("SkipArchive", False)),
    )
    return EmptyResult()


def install() -> None:
    wrap_method(GlueResponse, "call_action", _guarded)
    patch_attr(GlueBackend, "update_table", backend_update_table)
    patch_attr(GlueResponse, "update_table", response_update_table)
