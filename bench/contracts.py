"""``contracts.extra_calls_per_unchanged_table`` (issue 15): what data contracts cost a reconcile
of tables whose contract did not change. Target 0.

One local mesh (in-process moto). The producer publishes two databases of the same N tables
(100; smoke: 2): ``plain`` without contracts, ``contracted`` with each table naming its own ODCS
contract (``meshgov:contract``, the object under the reader role's contracts prefix). Setup, not
counted: the publication, the contracts accepted (one head per table, checked).

Then each database is reconciled again with nothing changed (``Catalog Sync Requested``, the
real CatalogSyncFunction), and every AWS call the function makes is counted
(:mod:`bench.counting`: botocore requests, a page being one; the ledger and audit writes
included). The figure is (calls for ``contracted`` - calls for ``plain``) / N: the ledger's
table row keeps the contract digest (docs/adr/0016-data-contracts.md), so an unchanged table's
contract is neither re-read (S3) nor its head fetched (DynamoDB).

``touched`` (details, no target): each table of both databases gets a new description (a change
the contract is not about, delivered as Glue events): the extra calls per touched table.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from moto import mock_aws

from bench import counting as c
from bench.scenarios import fake_aws_environment
from meshgov.contracts_odcs.store import OK, ContractStore
from meshgov_local import invoke as lambda_runtime
from meshgov_local.emulator import controls
from meshgov_local.mesh import LocalMesh

Progress = Callable[[str], None]
PLAIN, CONTRACTED = "plain", "contracted"
PREFIX = "meshgov-contracts/"  # template.yaml ContractsPrefix default

# contracts.<metric> -> (comparison, bound): CONTRACTS_TARGETS in bench/report.py


def contract(database: str, table: str) -> dict[str, Any]:
    """An ODCS v3 contract promising the table's ``id`` column (int, required)."""
    return {
        "apiVersion": "v3.0.2",
        "kind": "DataContract",
        "id": f"urn:bench:{database}:{table}",
        "version": "1.0.0",
        "status": "active",
        "schema": [
            {
                "name": table,
                "physicalType": "table",
                "properties": [{"name": "id", "physicalType": "int", "required": True}],
            }
        ],
    }


def _table(mesh: LocalMesh, database: str, name: str, description: str = "") -> dict[str, Any]:
    bucket = _bucket(mesh)
    parameters = {"meshgov:classification": "internal"}
    if database == CONTRACTED:
        parameters["meshgov:contract"] = f"s3://{bucket}/{PREFIX}{database}/{name}.json"
    return {
        "Name": name,
        "Description": description,
        "StorageDescriptor": {
            "Columns": [{"Name": "id", "Type": "int"}, {"Name": "note", "Type": "string"}],
            "Location": f"s3://{bucket}/{database}/{name}/",
        },
        "Parameters": parameters,
    }


def _bucket(mesh: LocalMesh) -> str:
    bucket = next(p.data_bucket for p in mesh.config.producers if p.account_id == mesh.producer)
    if not bucket:
        raise RuntimeError("the bench mesh's producer has no data bucket")
    return bucket


def _quiet(step: Callable[[], Any]) -> Any:
    with contextlib.redirect_stdout(io.StringIO()):
        return step()


def _publish(mesh: LocalMesh, database: str, tables: int) -> None:
    glue, s3 = mesh.client(mesh.producer, "glue"), mesh.client(mesh.producer, "s3")
    glue.create_database(
        DatabaseInput={"Name": database, "Parameters": {"meshgov:publish": "true"}}
    )
    for index in range(tables):
        name = f"t{index}"
        if database == CONTRACTED:
            body = json.dumps(contract(database, name)).encode()
            s3.put_object(Bucket=_bucket(mesh), Key=f"{PREFIX}{database}/{name}.json", Body=body)
        glue.create_table(DatabaseName=database, TableInput=_table(mesh, database, name))
    _quiet(mesh.settle)


def _counted(counter: c.CallCounter, step: Callable[[], Any]) -> dict[str, Any]:
    counter.reset()
    _quiet(step)
    if counter.invocation_errors:
        raise RuntimeError(f"the catalog sync failed: {counter.invocation_errors[:3]}")
    calls = counter.snapshot()
    return {"calls": c.CallCounter.total(calls), "by_operation": c.CallCounter.breakdown(calls)}


def _sync_requested(mesh: LocalMesh, database: str) -> None:
    detail = {"databaseName": database, "tableNames": []}
    mesh.put_event(mesh.producer, "meshgov.catalog", "Catalog Sync Requested", detail)
    mesh.settle()


def _touch(mesh: LocalMesh, database: str, tables: int) -> None:
    glue = mesh.client(mesh.producer, "glue")
    for index in range(tables):
        table = _table(mesh, database, f"t{index}", description="touched")
        glue.update_table(DatabaseName=database, TableInput=table)
    mesh.settle()


@contextmanager
def contracts_mesh() -> Iterator[tuple[LocalMesh, c.CallCounter]]:
    controls.reset()
    with fake_aws_environment(), mock_aws():
        mesh = LocalMesh()
        lambda_runtime.cold_start(mesh.deployment.functions)
        counter = c.CallCounter(
            [p.account_id for p in mesh.config.producers],
            ledger_table=mesh.deployment.ledger_table_name,
            audit_table=mesh.deployment.audit_table_name,
            registry_table=mesh.deployment.registry_table_name,
            functions=("CatalogSyncFunction",),
        )
        with c.counting(counter):
            yield mesh, counter
    controls.reset()


def measure(
    scale_name: str, progress: Progress | None = None, tables: int | None = None
) -> dict[str, Any]:
    tables = tables or (100 if scale_name == "full" else 2)
    say = progress or (lambda _m: None)
    with contracts_mesh() as (mesh, counter):
        _publish(mesh, PLAIN, tables)
        _publish(mesh, CONTRACTED, tables)
        store = ContractStore(
            mesh.client(mesh.central, "dynamodb"), mesh.deployment.ledger_table_name
        )
        heads = [h for h in store.heads() if h.source_database == CONTRACTED and h.status == OK]
        if len(heads) != tables:
            raise RuntimeError(f"{len(heads)} of {tables} contracts accepted in the setup")
        say(f"contracts: {tables} tables published twice, {len(heads)} contracts accepted")
        plain = _counted(counter, lambda: _sync_requested(mesh, PLAIN))
        contracted = _counted(counter, lambda: _sync_requested(mesh, CONTRACTED))
        touched_plain = _counted(counter, lambda: _touch(mesh, PLAIN, tables))
        touched_contracted = _counted(counter, lambda: _touch(mesh, CONTRACTED, tables))
        versions = sum(len(store.versions(h.account_id, CONTRACTED, h.table)) for h in heads)
    return {
        "extra_calls_per_unchanged_table": (contracted["calls"] - plain["calls"]) / tables,
        "tables": tables,
        "unchanged": {"without_contracts": plain, "with_contracts": contracted},
        "touched": {
            "extra_calls_per_touched_table": (
                (touched_contracted["calls"] - touched_plain["calls"]) / tables
            ),
            "without_contracts": touched_plain,
            "with_contracts": touched_contracted,
        },
        "contract_versions_after": versions,
    }
