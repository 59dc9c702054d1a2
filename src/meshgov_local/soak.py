"""The convergence soak: random producer and consumer operations, events shuffled, duplicated and
dropped, then the two properties meshgov promises (issue 6).

- **The catalog converges**: after a sweep, central equals what producers publish, exactly
  (:func:`meshgov_local.mesh.differences`, an independent comparison).
- **Every grant is explained**: after the access sweep, the posture report finds no drift — no
  Lake Formation grant, in central or in a consumer, that no live request explains.

Used by the property-based test (hypothesis draws the seeds; few steps) and by ``make bench``
(10,000 operations on 3 seeds, ``proof.soak_diffs``). Operations are the ones a producer and a
consumer can do: create, alter, drop, partitions, publish and unpublish, LF-Tags; access
requests, decisions, revocations, and time passing (expiry).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from meshgov.access.store import request_id_for
from meshgov.contracts.access_events import (
    ACCESS_DECIDED,
    ACCESS_REQUESTED,
    ACCESS_REVOKE_REQUESTED,
    ACCESS_SOURCE,
)
from meshgov_local.emulator import controls
from meshgov_local.mesh import LocalMesh, differences
from meshgov_local.router import Chaos

DATABASES = ("sales", "staging")
ROLE = "soak-analyst"
DAY = 86_400
PRODUCER_OPS = ("create", "create", "alter", "drop", "partitions", "flip", "tag")
ACCESS_OPS = ("request", "decide", "decide", "revoke", "time")


@dataclass
class SoakResult:
    seed: int
    operations: int
    events_dropped: int
    catalog_differences: list[str] = field(default_factory=list)
    unexplained_grants: list[str] = field(default_factory=list)
    requests: dict[str, int] = field(default_factory=dict)

    @property
    def diffs(self) -> int:
        return len(self.catalog_differences) + len(self.unexplained_grants)

    def as_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "operations": self.operations,
            "events_dropped": self.events_dropped,
            "diffs": self.diffs,
            "catalog_differences": self.catalog_differences[:20],
            "unexplained_grants": self.unexplained_grants[:20],
            "requests_by_state": self.requests,
        }


def _columns(*names: str) -> list[dict[str, str]]:
    return [{"Name": n, "Type": "string"} for n in names]


def _table(name: str, cols: list[str], keyed: bool, params: dict[str, str]) -> dict[str, Any]:
    return {
        "Name": name,
        "TableType": "EXTERNAL_TABLE",
        "StorageDescriptor": {
            "Columns": _columns(*cols),
            "Location": f"s3://soak-data/{name}/",
        },
        "PartitionKeys": _columns("dt") if keyed else [],
        "Parameters": {"meshgov:classification": "internal", **params},
    }


class Soak:
    """One seeded run on one mesh."""

    def __init__(self, mesh: LocalMesh, seed: int, drop_rate: float = 0.10) -> None:
        self.mesh = mesh
        self.rng = random.Random(seed)
        self.seed = seed
        self.drop_rate = drop_rate
        self.glue = mesh.client(mesh.producer, "glue")
        self.lf = mesh.client(mesh.producer, "lakeformation")
        self.live: dict[tuple[str, str], tuple[list[str], bool]] = {}
        self.tokens = 0
        self.principal = ""

    def setup(self) -> None:
        for database in DATABASES:
            params = {"meshgov:publish": "true"} if database == "sales" else {}
            self.glue.create_database(DatabaseInput={"Name": database, "Parameters": params})
        self.lf.create_lf_tag(TagKey="tier", TagValues=["gold", "silver"])
        self.principal = self.mesh.create_role(self.mesh.consumer, ROLE)

    def run(
        self,
        operations: int,
        settle_every: int = 200,
        progress: Callable[[str], None] | None = None,
    ) -> SoakResult:
        self.drive(operations, settle_every, progress)
        return self.finish(operations)

    def drive(
        self,
        operations: int,
        settle_every: int = 200,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        """The random operations, Glue events dropped, deliveries settled every so often."""
        controls.set_event_drop_rate(self.drop_rate, seed=self.seed)
        try:
            for step in range(operations):
                if self.rng.random() < 0.8:
                    self.producer_op(step)
                else:
                    self.access_op(step)
                if (step + 1) % settle_every == 0:
                    self.settle()
                if progress and (step + 1) % 1000 == 0:
                    progress(f"seed {self.seed}: {step + 1} operations")
        finally:
            controls.set_event_drop_rate(0.0)
        self.settle()

    def settle(self) -> None:
        chaos = Chaos(seed=self.rng.randrange(1 << 30), shuffle=True, duplicate_rate=0.2)
        self.mesh.settle(chaos)

    def finish(self, operations: int) -> SoakResult:
        """The sweeps the schedule would run, then the two properties."""
        self.mesh.sweep()
        self.mesh.settle()
        self.mesh.access_sweep()
        self.mesh.invitation_sweep(self.mesh.consumer)
        return self.check(operations)

    def check(self, operations: int) -> SoakResult:
        """The two properties, read from the accounts as they are now."""
        report = self.mesh.posture()
        states: dict[str, int] = {}
        for record in self.mesh.requests():
            states[record.state.value] = states.get(record.state.value, 0) + 1
        return SoakResult(
            seed=self.seed,
            operations=operations,
            events_dropped=controls.glue_events_dropped,
            catalog_differences=differences(self.mesh),
            unexplained_grants=[
                f"{row.side} {row.grantee} {row.resource} {','.join(row.permissions)}"
                for row in report.drift
            ]
            + [f"tag policy reaching {row}" for row in report.tag_reach],
            requests=states,
        )

    # --- the producer ----------------------------------------------------------------------
    def producer_op(self, step: int) -> None:
        rng = self.rng
        database = rng.choice(DATABASES)
        existing = [t for (d, t) in self.live if d == database]
        op = rng.choice(PRODUCER_OPS)
        if op == "create" or not existing:
            name = f"t{step}"
            keyed = rng.random() < 0.3
            flag = (
                {"meshgov:publish": "true"} if database == "staging" and rng.random() < 0.5 else {}
            )
            self.glue.create_table(
                DatabaseName=database, TableInput=_table(name, ["id"], keyed, flag)
            )
            self.live[(database, name)] = (["id"], keyed)
            return
        name = rng.choice(existing)
        cols, keyed = self.live[(database, name)]
        current = self.glue.get_table(DatabaseName=database, Name=name)["Table"]
        params = dict(current.get("Parameters") or {})
        if op == "alter":
            cols = cols[:-1] if len(cols) > 1 and rng.random() < 0.4 else [*cols, f"c{step}"]
            self.live[(database, name)] = (cols, keyed)
            self.glue.update_table(
                DatabaseName=database, TableInput=_table(name, cols, keyed, params)
            )
        elif op == "drop":
            self.glue.delete_table(DatabaseName=database, Name=name)
            del self.live[(database, name)]
        elif op == "partitions" and keyed:
            values = [f"d{step}-{i}" for i in range(rng.randint(1, 30))]
            self.glue.batch_create_partition(
                DatabaseName=database,
                TableName=name,
                PartitionInputList=[
                    {
                        "Values": [v],
                        "StorageDescriptor": {"Location": f"s3://soak-data/{name}/{v}/"},
                    }
                    for v in values
                ],
            )
        elif op == "flip":
            params["meshgov:publish"] = (
                "false" if params.get("meshgov:publish") == "true" else "true"
            )
            self.glue.update_table(
                DatabaseName=database, TableInput=_table(name, cols, keyed, params)
            )
        elif op == "tag":
            self.lf.add_lf_tags_to_resource(
                Resource={"Table": {"DatabaseName": database, "Name": name}},
                LFTags=[{"TagKey": "tier", "TagValues": [rng.choice(["gold", "silver"])]}],
            )

    # --- the consumer and the producer's decisions --------------------------------------------
    def access_op(self, step: int) -> None:
        rng, mesh = self.rng, self.mesh
        op = rng.choice(ACCESS_OPS)
        if op == "request":
            published = [
                (d, t)
                for (d, t) in self.live
                if d == "sales" or rng.random() < 0.5  # some staging tables are unpublished
            ]
            if not published:
                return
            database, table = rng.choice(published)
            self.tokens += 1
            mesh.put_event(
                mesh.consumer,
                ACCESS_SOURCE,
                ACCESS_REQUESTED,
                {
                    "clientToken": f"soak-{self.seed}-{self.tokens}",
                    "consumerAccount": mesh.consumer,
                    "principal": self.principal,
                    "resource": {"database": f"sales_{database}", "tables": [table]},
                    "permissions": ["SELECT"],
                    "justification": "soak test of the mesh",
                    "durationDays": rng.choice([1, 7, 30]),
                },
            )
            return
        if not self.tokens:
            return
        token = rng.randint(1, self.tokens)
        request_id = request_id_for(mesh.consumer, f"soak-{self.seed}-{token}")
        if op == "decide":
            mesh.put_event(
                mesh.producer,
                ACCESS_SOURCE,
                ACCESS_DECIDED,
                {
                    "requestId": request_id,
                    "decision": "APPROVE" if rng.random() < 0.8 else "DENY",
                    "reason": "soak decision",
                },
            )
        elif op == "revoke":
            mesh.put_event(
                mesh.consumer,
                ACCESS_SOURCE,
                ACCESS_REVOKE_REQUESTED,
                {"requestId": request_id, "reason": "soak revocation"},
            )
        elif op == "time":
            self.settle()
            controls.advance_time(rng.choice([0.5, 2, 8]) * DAY)
            mesh.access_sweep()


def soak(seed: int, operations: int, progress: Callable[[str], None] | None = None) -> SoakResult:
    """One seeded soak on a fresh in-process mesh (moto reset before and after)."""
    from moto import mock_aws

    controls.reset()
    try:
        with mock_aws():
            run = Soak(LocalMesh(), seed)
            run.setup()
            return run.run(operations, progress=progress)
    finally:
        controls.reset()


__all__ = ["Soak", "SoakResult", "soak"]
