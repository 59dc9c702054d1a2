"""What the central copy of a producer object should be: pure functions of the source.

Central tables keep the producer's S3 location (no data is copied), its business metadata
(description, parameters such as ``meshgov:classification``, ``meshgov:owner_contact`` and
``meshgov:quality.*``) and carry provenance parameters saying where they came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from meshgov.aws.arns import Arns
from meshgov.catalog.canonical import SOURCE_VERSION, SYNCED_AT, prune
from meshgov.catalog.naming import Producer
from meshgov.quality.parameters import without_quality

SOURCE_ACCOUNT = "meshgov:source_account"
DOMAIN = "meshgov:domain"
SOURCE_ARN = "meshgov:source_arn"
SOURCE_DATABASE = "meshgov:source_database"

# TableInput fields copied from the source (GetTable returns more: ids, times, versions).
_TABLE_FIELDS = (
    "Description",
    "Owner",
    "Retention",
    "StorageDescriptor",
    "PartitionKeys",
    "ViewOriginalText",
    "ViewExpandedText",
    "TableType",
    "Parameters",
)
_DATABASE_FIELDS = ("Description", "LocationUri", "Parameters")
_PARTITION_FIELDS = ("Values", "StorageDescriptor", "Parameters")


def central_database_input(
    producer: Producer,
    source_database: Mapping[str, Any],
    central_name: str,
    arns: Arns,
    synced_at: datetime,
) -> dict[str, Any]:
    data = {k: source_database.get(k) for k in _DATABASE_FIELDS}
    params = dict(source_database.get("Parameters") or {})
    params.update(
        {
            SOURCE_ACCOUNT: producer.account_id,
            DOMAIN: producer.domain,
            SOURCE_DATABASE: str(source_database["Name"]),
            SOURCE_ARN: arns.glue_database(producer.account_id, str(source_database["Name"])),
            SYNCED_AT: synced_at.isoformat(timespec="seconds"),
        }
    )
    data["Parameters"] = params
    data["Name"] = central_name
    # Lake Formation governs the central catalog: no IAMAllowedPrincipals default grant
    # (https://docs.aws.amazon.com/lake-formation/latest/dg/change-settings.html).
    data["CreateTableDefaultPermissions"] = []
    result: dict[str, Any] = prune(data)
    result.setdefault("CreateTableDefaultPermissions", [])
    return result


def central_table_input(
    producer: Producer,
    source_table: Mapping[str, Any],
    arns: Arns,
    synced_at: datetime,
) -> dict[str, Any]:
    data = {k: source_table.get(k) for k in _TABLE_FIELDS}
    # A producer never sets its own quality score: those parameters are central's only.
    params = without_quality(source_table.get("Parameters") or {})
    params.update(
        {
            SOURCE_ACCOUNT: producer.account_id,
            DOMAIN: producer.domain,
            SOURCE_ARN: arns.glue_table(
                producer.account_id, str(source_table["DatabaseName"]), str(source_table["Name"])
            ),
            SOURCE_VERSION: str(source_table.get("VersionId", "")),
            SYNCED_AT: synced_at.isoformat(timespec="seconds"),
        }
    )
    data["Parameters"] = params
    data["Name"] = str(source_table["Name"])
    result: dict[str, Any] = prune(data)
    return result


def table_input_of(table: Mapping[str, Any]) -> dict[str, Any]:
    """The TableInput that describes an existing table (as GetTable returned it)."""
    data = {k: table.get(k) for k in _TABLE_FIELDS}
    data["Name"] = table["Name"]
    result: dict[str, Any] = prune(data)
    return result


def database_input_of(database: Mapping[str, Any]) -> dict[str, Any]:
    data = {k: database.get(k) for k in _DATABASE_FIELDS}
    data["Name"] = database["Name"]
    result: dict[str, Any] = prune(data)
    result.setdefault("CreateTableDefaultPermissions", [])
    return result


def partition_input(partition: Mapping[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = prune({k: partition.get(k) for k in _PARTITION_FIELDS})
    result["Values"] = list(partition.get("Values") or [])
    return result


def partition_key(partition: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(str(v) for v in partition.get("Values") or [])
