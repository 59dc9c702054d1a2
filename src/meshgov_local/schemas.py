"""Export meshgov's event contracts as JSON Schema into ``events/schemas/``.

``python -m meshgov_local.schemas`` rewrites them; a test fails when they are out of date.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pydantic import BaseModel

from meshgov.contracts.access_events import (
    AccessApprovalRequestedDetail,
    AccessDecidedDetail,
    AccessDeniedDetail,
    AccessExpiringDetail,
    AccessGrantedDetail,
    AccessRequestedDetail,
    AccessReviewedDetail,
    AccessReviewEscalatedDetail,
    AccessReviewRequestedDetail,
    AccessRevokedDetail,
    AccessRevokeRequestedDetail,
    AccessUnusedDetail,
    MemberActionsDetail,
    SharedSchemaChangedDetail,
)
from meshgov.contracts.data_contract_events import (
    ContractBreachedDetail,
    ContractPublishedDetail,
    ContractRefusedDetail,
    FreshnessSlaBreachedDetail,
)
from meshgov.contracts.glue_events import (
    BreakingSchemaChangeDetail,
    CatalogSyncRequestedDetail,
    DatabasePublishedDetail,
    DatabaseStateChangeDetail,
    EventEnvelope,
    NameRefusedDetail,
    TableStateChangeDetail,
)
from meshgov.contracts.quality_events import QualityResultsDetail

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "events" / "schemas"

CONTRACTS: dict[str, type[BaseModel]] = {
    "eventbridge-envelope": EventEnvelope,
    "aws.glue.database-state-change.detail": DatabaseStateChangeDetail,
    "aws.glue.table-state-change.detail": TableStateChangeDetail,
    "aws.glue-dataquality.evaluation-results-available.detail": QualityResultsDetail,
    "meshgov.catalog.catalog-sync-requested.detail": CatalogSyncRequestedDetail,
    "meshgov.catalog.breaking-schema-change.detail": BreakingSchemaChangeDetail,
    "meshgov.access.access-requested.detail": AccessRequestedDetail,
    "meshgov.access.access-decided.detail": AccessDecidedDetail,
    "meshgov.access.access-granted.detail": AccessGrantedDetail,
    "meshgov.access.access-denied.detail": AccessDeniedDetail,
    "meshgov.access.access-revoked.detail": AccessRevokedDetail,
    "meshgov.access.access-expiring.detail": AccessExpiringDetail,
    "meshgov.access.access-approval-requested.detail": AccessApprovalRequestedDetail,
    "meshgov.access.access-revoke-requested.detail": AccessRevokeRequestedDetail,
    "meshgov.access.member-actions-recorded.detail": MemberActionsDetail,
    "meshgov.access.shared-table-schema-changed.detail": SharedSchemaChangedDetail,
    "meshgov.access.access-review-requested.detail": AccessReviewRequestedDetail,
    "meshgov.access.access-reviewed.detail": AccessReviewedDetail,
    "meshgov.access.access-review-escalated.detail": AccessReviewEscalatedDetail,
    "meshgov.access.access-unused.detail": AccessUnusedDetail,
    "meshgov.catalog.database-published.detail": DatabasePublishedDetail,
    "meshgov.catalog.name-refused.detail": NameRefusedDetail,
    "meshgov.catalog.contract-published.detail": ContractPublishedDetail,
    "meshgov.catalog.contract-breached.detail": ContractBreachedDetail,
    "meshgov.catalog.freshness-sla-breached.detail": FreshnessSlaBreachedDetail,
    "meshgov.catalog.contract-refused.detail": ContractRefusedDetail,
}


def render() -> dict[str, str]:
    return {
        f"{name}.schema.json": json.dumps(
            model.model_json_schema(by_alias=True), indent=2, sort_keys=True
        )
        + "\n"
        for name, model in CONTRACTS.items()
    }


def export(directory: Path = SCHEMA_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, text in render().items():
        path = directory / filename
        path.write_text(text)
        written.append(path)
    return written


if __name__ == "__main__":
    for path in export(Path(sys.argv[1]) if len(sys.argv) > 1 else SCHEMA_DIR):
        print(path)
