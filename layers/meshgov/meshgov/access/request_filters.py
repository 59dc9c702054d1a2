"""A request's data cells filters in Lake Formation: made before anything is granted on them,
deleted once nothing is, each audited. The filters themselves (checked, narrowed, named) are
planned in :mod:`meshgov.access.filters`."""

from __future__ import annotations

from typing import Any

from meshgov.access.core import AccessContext
from meshgov.access.filters import CellSpec, filter_resource, table_data
from meshgov.access.store import RequestRecord
from meshgov.audit import AuditOutcome


class RequestFilters:
    def __init__(self, ctx: AccessContext) -> None:
        self._ctx = ctx

    def make(self, record: RequestRecord) -> dict[tuple[str, str], dict[str, Any]]:
        """The request's data cells filters, made (or found made) before anything is granted
        on them; the ``DataCellsFilter`` resource of each, by (database, table)."""
        filtered: dict[tuple[str, str], dict[str, Any]] = {}
        for spec, data in self.of(record):
            made = self._ctx.catalog.ensure_filter(data)
            self._audit(
                record,
                spec,
                "lakeformation:CreateDataCellsFilter",
                made,
                f"filter {data['Name']}: {spec.text()}"
                + ("" if made else " (it existed: updated to this definition)"),
                table_data=data,
            )
            filtered[(spec.database, spec.table)] = filter_resource(
                self._ctx.central, record.request_id, spec
            )
        return filtered

    def delete(self, record: RequestRecord) -> None:
        """The request's filters, once nothing is granted on them any more (they are its own:
        no other request needs them)."""
        for spec, data in self.of(record):
            deleted = self._ctx.catalog.delete_filter(data)
            self._audit(
                record,
                spec,
                "lakeformation:DeleteDataCellsFilter",
                deleted,
                f"filter {data['Name']}" + ("" if deleted else " was not there"),
            )

    def of(self, record: RequestRecord) -> list[tuple[CellSpec, dict[str, Any]]]:
        """Each filter of the request, with the ``TableData`` Lake Formation holds it as."""
        specs = [CellSpec.from_dict(f) for f in record.filters]
        return [(spec, table_data(self._ctx.central, record.request_id, spec)) for spec in specs]

    def _audit(
        self,
        record: RequestRecord,
        spec: CellSpec,
        action: str,
        done: bool,
        reason: str,
        **detail: Any,
    ) -> None:
        self._ctx.auditor.record(
            action,
            AuditOutcome.SUCCEEDED if done else AuditOutcome.SKIPPED,
            f"{spec.database}.{spec.table}",
            record.request_id,
            reason,
            **detail,
        )
