"""One home for Lake Formation's batch size: ``BatchGrantPermissions`` and
``BatchRevokePermissions`` take at most 20 entries per call, and central's adapter and the
members' service both cut their entries with :func:`meshgov.access.grants.grant_batches`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from meshgov.access.central_adapter import CentralAccessCatalog
from meshgov.access.grants import BATCH_GRANT_MAX, grant_batches
from meshgov.access.member import MemberAccessService, MemberReport
from meshgov.contracts.access_events import LinkGrant

CENTRAL, CONSUMER = "111111111111", "333333333333"
ROLE = f"arn:aws:iam::{CONSUMER}:role/analyst"


class RecordingLakeFormation:
    """Records the ``Entries`` of every batch call, per operation."""

    def __init__(self, catalog_id: str) -> None:
        self.catalog_id = catalog_id
        self.calls: dict[str, list[list[dict[str, Any]]]] = {}

    def _record(self, operation: str, catalog_id: str, entries: list[Any]) -> dict[str, Any]:
        assert catalog_id == self.catalog_id
        self.calls.setdefault(operation, []).append(list(entries))
        return {"Failures": []}

    def batch_grant_permissions(self, CatalogId: str, Entries: list[Any]) -> dict[str, Any]:  # noqa: N803
        return self._record("grant", CatalogId, Entries)

    def batch_revoke_permissions(self, CatalogId: str, Entries: list[Any]) -> dict[str, Any]:  # noqa: N803
        return self._record("revoke", CatalogId, Entries)


def table(name: str) -> dict[str, Any]:
    return {"Table": {"CatalogId": CENTRAL, "DatabaseName": "sales_sales", "Name": name}}


def test_the_limit_is_lake_formations_twenty_and_order_is_kept() -> None:
    assert BATCH_GRANT_MAX == 20
    assert [len(b) for b in grant_batches(list(range(41)))] == [20, 20, 1]
    assert [x for b in grant_batches(list(range(41))) for x in b] == list(range(41))
    assert list(grant_batches([])) == []


def test_central_revokes_in_batches_of_at_most_twenty() -> None:
    entries = [
        {
            "Id": str(i),
            "Principal": {"DataLakePrincipalIdentifier": CONSUMER},
            "Resource": table(f"t{i}"),
            "Permissions": ["SELECT"],
            "PermissionsWithGrantOption": ["SELECT"],
        }
        for i in range(21)
    ]
    lf = RecordingLakeFormation(CENTRAL)
    CentralAccessCatalog(None, lf, CENTRAL).revoke(entries)
    assert [len(call) for call in lf.calls["revoke"]] == [20, 1]
    assert [e for call in lf.calls["revoke"] for e in call] == entries


@pytest.mark.parametrize(
    ("operation", "name", "recorded"),
    [
        ("batch_grant_permissions", "GrantPermissions", "grant"),
        ("batch_revoke_permissions", "RevokePermissions", "revoke"),
    ],
)
def test_a_member_grants_and_revokes_in_batches_of_at_most_twenty(
    operation: str, name: str, recorded: str
) -> None:
    grants = [
        LinkGrant.model_validate(
            {"principal": ROLE, "resource": table(f"t{i}"), "permissions": ["SELECT"]}
        )
        for i in range(45)
    ]
    lf = RecordingLakeFormation(CONSUMER)
    member = MemberAccessService(
        ram=None,
        glue=None,
        lakeformation=lf,
        events=None,
        account_id=CONSUMER,
        central_account=CENTRAL,
        trusted_accounts={CENTRAL},
        clock=lambda: datetime(2025, 1, 1, tzinfo=UTC),
    )
    report = MemberReport("corr")
    member._batch(operation, grants, report, name)
    calls = lf.calls[recorded]
    assert [len(call) for call in calls] == [20, 20, 5]
    assert [e["Resource"] for call in calls for e in call] == [g.resource for g in grants]
    assert [(a.action, a.outcome) for a in report.actions] == [
        (f"lakeformation:Batch{name}", "SUCCEEDED")
    ]
