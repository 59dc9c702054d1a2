"""Acting as a producer in the local mesh: small, readable steps for the tests."""

from __future__ import annotations

from typing import Any

BUCKET = "s3://producer-data"


def columns(*spec: str) -> list[dict[str, str]]:
    """``columns("id:int", "name:string")``"""
    return [{"Name": s.split(":")[0], "Type": s.split(":")[1]} for s in spec]


def table_input(
    name: str,
    cols: list[dict[str, str]],
    keys: list[dict[str, str]] | None = None,
    **parameters: str,
) -> dict[str, Any]:
    return {
        "Name": name,
        "Description": f"{name} data product",
        "TableType": "EXTERNAL_TABLE",
        "StorageDescriptor": {
            "Columns": cols,
            "Location": f"{BUCKET}/{name}/",
            "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
            "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
            "SerdeInfo": {
                "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde."
                "ParquetHiveSerDe"
            },
        },
        "PartitionKeys": keys or [],
        "Parameters": {"classification": "parquet", **parameters},
    }


def partition_input(table: str, *values: str) -> dict[str, Any]:
    return {
        "Values": list(values),
        "StorageDescriptor": {
            "Columns": [],
            "Location": f"{BUCKET}/{table}/" + "/".join(values) + "/",
        },
    }


def create_published_database(glue: Any, name: str, published: bool = True) -> None:
    glue.create_database(
        DatabaseInput={
            "Name": name,
            "Description": f"{name} domain data",
            "Parameters": {"meshgov:publish": "true"} if published else {},
        }
    )
