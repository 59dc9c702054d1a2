"""Every ARN meshgov builds is in the partition of its Region; the reader role is named per Region.

aws (eu-west-1), aws-cn (cn-north-1) and aws-us-gov (us-gov-west-1): a literal ``arn:aws:`` is
wrong in China and GovCloud (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from meshgov.access.central_adapter import MeshEvents
from meshgov.access.effective import AccessQuestion
from meshgov.aws.arns import Arns, partition_for_region, partition_of, regional_role_name
from meshgov.catalog.naming import Producer
from meshgov.catalog.projection import central_database_input, central_table_input
from meshgov.contracts.access_events import AccessRequestedDetail
from meshgov.errors import SettingsInvalidError
from meshgov.settings import AccessSettings, AuditDigestSettings, CatalogSettings, MemberSettings

REGIONS = {"eu-west-1": "aws", "cn-north-1": "aws-cn", "us-gov-west-1": "aws-us-gov"}
PRODUCER = Producer("222222222222", "sales")
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def catalog_env(region: str, **extra: str) -> dict[str, str]:
    return {
        "AWS_REGION": region,
        "CENTRAL_ACCOUNT_ID": "111111111111",
        "AUDIT_TABLE_NAME": "audit",
        "LEDGER_TABLE_NAME": "ledger",
        "CENTRAL_BUS_NAME": "meshgov",
        "REGISTRY_TABLE_NAME": "registry",
        **extra,
    }


@pytest.mark.parametrize(("region", "partition"), REGIONS.items())
def test_the_partition_is_the_regions(region: str, partition: str) -> None:
    assert partition_for_region(region) == partition


def test_a_region_of_no_partition_is_refused_not_guessed() -> None:
    with pytest.raises(ValueError, match="no AWS partition"):
        partition_for_region("moon-base-1")


@pytest.mark.parametrize(("region", "partition"), REGIONS.items())
def test_every_settings_object_carries_the_partition_of_its_region(
    region: str, partition: str
) -> None:
    env = {
        **catalog_env(region),
        "REQUESTS_TABLE_NAME": "requests",
        "ACCOUNT_ID": "333333333333",
        "AUDIT_DIGEST_BUCKET": "digests",
        "AUDIT_DIGEST_KEY_ID": "alias/digest",
    }
    for settings in (
        CatalogSettings.from_env(env),
        AccessSettings.from_env(env),
        MemberSettings.from_env(env),
        AuditDigestSettings.from_env(env),
    ):
        assert (settings.region, settings.partition) == (region, partition)
        assert settings.arns == Arns(partition, region)


def test_settings_in_a_region_of_no_partition_fail_at_the_handlers_entry() -> None:
    with pytest.raises(SettingsInvalidError, match="moon-base-1"):
        CatalogSettings.from_env(catalog_env("moon-base-1"))


@pytest.mark.parametrize(("region", "partition"), REGIONS.items())
def test_central_assumes_the_reader_role_of_its_own_region_in_its_partition(
    region: str, partition: str
) -> None:
    settings = CatalogSettings.from_env(catalog_env(region))
    assert settings.reader_role_arn("222222222222") == (
        f"arn:{partition}:iam::222222222222:role/meshgov-catalog-reader-{region}"
    )
    # READER_ROLE_NAME keeps its meaning: the base name every member's Region-scoped role carries
    custom = CatalogSettings.from_env(catalog_env(region, READER_ROLE_NAME="reader"))
    assert custom.reader_role_arn("222222222222").endswith(f":role/reader-{region}")


def test_a_reader_role_name_too_long_for_iam_is_a_settings_error() -> None:
    with pytest.raises(SettingsInvalidError, match="64"):
        CatalogSettings.from_env(catalog_env("eu-west-1", READER_ROLE_NAME="r" * 60))
    with pytest.raises(ValueError, match="not a valid IAM role name"):
        regional_role_name("bad name", "eu-west-1")


@pytest.mark.parametrize(("region", "partition"), REGIONS.items())
def test_provenance_arns_of_central_copies_are_in_the_partition(
    region: str, partition: str
) -> None:
    arns = CatalogSettings.from_env(catalog_env(region)).arns
    database = central_database_input(PRODUCER, {"Name": "sales"}, "sales_sales", arns, NOW)
    table = central_table_input(PRODUCER, {"DatabaseName": "sales", "Name": "orders"}, arns, NOW)
    assert database["Parameters"]["meshgov:source_arn"] == (
        f"arn:{partition}:glue:{region}:222222222222:database/sales"
    )
    assert table["Parameters"]["meshgov:source_arn"] == (
        f"arn:{partition}:glue:{region}:222222222222:table/sales/orders"
    )


@pytest.mark.parametrize(("region", "partition"), REGIONS.items())
def test_member_buses_are_addressed_in_the_partition(region: str, partition: str) -> None:
    sent: list[dict[str, Any]] = []

    class Events:
        def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
            sent.extend(Entries)
            return {"FailedEntryCount": 0, "Entries": [{"EventId": "1"}]}

    arns = AccessSettings.from_env({**catalog_env(region), "REQUESTS_TABLE_NAME": "requests"}).arns
    MeshEvents(Events(), arns, "meshgov").send("333333333333", "Access Granted", {}, [])
    assert sent[0]["EventBusName"] == (
        f"arn:{partition}:events:{region}:333333333333:event-bus/meshgov"
    )


@pytest.mark.parametrize("partition", sorted(set(REGIONS.values())))
def test_a_consumer_role_of_any_partition_may_ask(partition: str) -> None:
    principal = f"arn:{partition}:iam::333333333333:role/analyst"
    detail = AccessRequestedDetail.model_validate(
        {
            "clientToken": "t-1",
            "consumerAccount": "333333333333",
            "principal": principal,
            "resource": {"database": "sales_sales"},
            "permissions": ["SELECT"],
            "justification": "quarterly revenue report",
            "durationDays": 30,
        }
    )
    assert partition_of(detail.principal) == partition
    assert AccessQuestion(principal, "SELECT", "sales_sales", "orders").consumer_account == (
        "333333333333"
    )
