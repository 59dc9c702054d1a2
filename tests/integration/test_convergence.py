"""Events dropped, duplicated and shuffled: the sweep still ends with central == source."""

from __future__ import annotations

import random

from meshgov_local.emulator import controls
from meshgov_local.mesh import LocalMesh, differences
from tests.integration.helpers import (
    columns,
    create_published_database,
    partition_input,
    table_input,
)


def random_operations(mesh: LocalMesh, seed: int, steps: int) -> None:
    """A producer's day: creates, schema changes, drops, partitions, publish flips."""
    rng = random.Random(seed)
    glue = mesh.client(mesh.producer, "glue")
    create_published_database(glue, "sales")
    create_published_database(glue, "staging", published=False)
    live: dict[tuple[str, str], list[str]] = {}
    for step in range(steps):
        db = rng.choice(["sales", "staging"])
        existing = [t for (d, t) in live if d == db]
        op = rng.choice(["create", "create", "alter", "drop", "partitions", "flip"])
        if op == "create" or not existing:
            name = f"t{step}"
            keyed = rng.random() < 0.3
            flag = {"meshgov:publish": "true"} if db == "staging" and rng.random() < 0.5 else {}
            glue.create_table(
                DatabaseName=db,
                TableInput=table_input(
                    name, columns("id:int"), keys=columns("dt:string") if keyed else None, **flag
                ),
            )
            live[(db, name)] = ["id"]
            continue
        name = rng.choice(existing)
        current = glue.get_table(DatabaseName=db, Name=name)["Table"]
        keys = current.get("PartitionKeys") or None
        params = {k: v for k, v in current.get("Parameters", {}).items() if k != "classification"}
        if op == "alter":
            cols = live[(db, name)]
            cols = cols[:-1] if len(cols) > 1 and rng.random() < 0.4 else [*cols, f"c{step}"]
            live[(db, name)] = cols
            glue.update_table(
                DatabaseName=db,
                TableInput=table_input(
                    name, columns(*(f"{c}:string" for c in cols)), keys=keys, **params
                ),
            )
        elif op == "drop":
            glue.delete_table(DatabaseName=db, Name=name)
            del live[(db, name)]
        elif op == "partitions" and keys:
            values = [f"d{step}-{i}" for i in range(rng.randint(1, 120))]
            for start in range(0, len(values), 100):
                glue.batch_create_partition(
                    DatabaseName=db,
                    TableName=name,
                    PartitionInputList=[
                        partition_input(name, v) for v in values[start : start + 100]
                    ],
                )
        elif op == "flip":
            params["meshgov:publish"] = (
                "false" if params.get("meshgov:publish") == "true" else "true"
            )
            glue.update_table(
                DatabaseName=db,
                TableInput=table_input(
                    name, columns(*(f"{c}:string" for c in live[(db, name)])), keys=keys, **params
                ),
            )


def test_shuffled_duplicated_and_dropped_events_converge_after_a_sweep(
    local_mesh: LocalMesh,
) -> None:
    # Given 10% of Glue's events are lost on the way (best-effort delivery)
    controls.set_event_drop_rate(0.10, seed=7)
    random_operations(local_mesh, seed=11, steps=80)
    controls.set_event_drop_rate(0.0)
    assert controls.glue_events_dropped > 0
    # When what did arrive is delivered shuffled across batches, 30% of it twice
    report = local_mesh.settle(local_mesh.chaos(seed=3, duplicate_rate=0.3))
    assert report.messages > 0
    # Then, with events alone, central may lag; after the sweep it equals the published source
    local_mesh.sweep()
    assert differences(local_mesh) == []
    # And a second sweep finds nothing to do
    result = local_mesh.sweep()
    assert result["tables_created"] == result["tables_updated"] == result["tables_deleted"] == 0


def test_without_drops_events_alone_converge(local_mesh: LocalMesh) -> None:
    # Given every event arrives, but shuffled and duplicated
    random_operations(local_mesh, seed=5, steps=60)
    local_mesh.settle(local_mesh.chaos(seed=9, duplicate_rate=0.5))
    # Then no sweep is needed
    assert differences(local_mesh) == []
