"""Parsing and trusting events; reading settings."""

from __future__ import annotations

import json
from typing import Any

import pytest

from meshgov.catalog.messages import WorkItem, parse_event, parse_partitions
from meshgov.catalog.naming import Producer
from meshgov.errors import EventMalformedError, ProducerUnknownError, SettingsInvalidError
from meshgov.settings import CatalogSettings

PRODUCERS = {"222222222222": Producer("222222222222", "sales")}


def envelope(detail_type: str, detail: dict[str, Any], account: str = "222222222222") -> str:
    return json.dumps(
        {
            "version": "0",
            "id": "e-1",
            "source": "aws.glue",
            "account": account,
            "region": "eu-west-1",
            "time": "2026-01-01T00:00:00Z",
            "resources": [],
            "detail-type": detail_type,
            "detail": detail,
        }
    )


def test_database_event_names_tables() -> None:
    body = envelope(
        "Glue Data Catalog Database State Change",
        {"databaseName": "Sales", "typeOfChange": "BatchDeleteTable", "changedTables": ["A", "b"]},
    )
    event = parse_event(body, PRODUCERS)
    assert event.database == "sales" and event.tables == ("a", "b") and not event.whole_database


def test_partition_event_carries_partition_hints() -> None:
    body = envelope(
        "Glue Data Catalog Table State Change",
        {
            "databaseName": "sales",
            "tableName": "orders",
            "typeOfChange": "BatchCreatePartition",
            "changedPartitions": ["2026-01-01,eu", "[2026-01-02, us]"],
        },
    )
    event = parse_event(body, PRODUCERS)
    assert event.partitions == (("2026-01-01", "eu"), ("2026-01-02", "us"))


def test_unreadable_partition_hints_mean_all_partitions() -> None:
    assert parse_partitions(["2026-01-01"]) == (("2026-01-01",),)
    assert parse_partitions([" "]) is None
    assert parse_partitions([]) is None


def test_account_is_trusted_from_the_envelope_only() -> None:
    body = envelope(
        "Glue Data Catalog Database State Change",
        {"databaseName": "d", "typeOfChange": "CreateDatabase", "account": "222222222222"},
        account="999999999999",
    )
    with pytest.raises(ProducerUnknownError, match="999999999999"):
        parse_event(body, PRODUCERS)


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        json.dumps({"detail-type": "x"}),
        envelope("Glue Data Catalog Database State Change", {"databaseName": "d"}),
        envelope(
            "Glue Data Catalog Database State Change",
            {"databaseName": "bad\nname", "typeOfChange": "CreateDatabase"},
        ),
        envelope(
            "Glue Data Catalog Database State Change",
            {"databaseName": "d", "typeOfChange": "CreateTable", "changedTables": []},
        ),
        envelope("Glue Job State Change", {"jobName": "j"}),
        "x" * (256 * 1024 + 1),
    ],
)
def test_malformed_events_are_rejected_with_a_clear_error(body: str) -> None:
    with pytest.raises(EventMalformedError):
        parse_event(body, PRODUCERS)


def test_work_item_merges_partition_scopes_and_all_wins() -> None:
    item = WorkItem(Producer("222222222222", "sales"), "sales")
    base = {"databaseName": "sales", "tableName": "t", "typeOfChange": "CreatePartition"}
    item.add(
        parse_event(
            envelope(
                "Glue Data Catalog Table State Change", {**base, "changedPartitions": ["[1]"]}
            ),
            PRODUCERS,
        ),
        "m1",
    )
    item.add(
        parse_event(
            envelope("Glue Data Catalog Table State Change", {**base, "changedPartitions": ["2"]}),
            PRODUCERS,
        ),
        "m2",
    )
    assert item.partition_scopes["t"] == frozenset({("1",), ("2",)})
    item.add(
        parse_event(
            envelope("Glue Data Catalog Table State Change", {**base, "changedPartitions": [""]}),
            PRODUCERS,
        ),
        "m3",
    )
    assert item.partition_scopes["t"] is None
    assert item.message_ids == ["m1", "m2", "m3"]


def test_settings_from_env() -> None:
    env = {
        "AWS_REGION": "eu-west-1",
        "CENTRAL_ACCOUNT_ID": "111111111111",
        "AUDIT_TABLE_NAME": "audit",
        "LEDGER_TABLE_NAME": "ledger",
        "CENTRAL_BUS_NAME": "meshgov",
        "REGISTRY_TABLE_NAME": "registry",
    }
    settings = CatalogSettings.from_env(env)
    assert settings.registry_table_name == "registry"
    with pytest.raises(SettingsInvalidError, match="audit_table_name"):
        CatalogSettings.from_env({**env, "AUDIT_TABLE_NAME": ""})
    # Producers are registered in central storage, never read from the environment.
    with pytest.raises(SettingsInvalidError, match="registry_table_name"):
        CatalogSettings.from_env({**env, "REGISTRY_TABLE_NAME": ""})
