"""Issue 16's figures that grow with the mesh: onboarding producers through the registry and the
fan-out sweep (docs/adr/0020-member-registry.md, docs/adr/0022-fan-out-sweeps.md).

One scenario, twice:

- **fan-out**: N producers, each with T published tables (in databases of D tables, their Glue
  events lost: only a sweep sees them), are registered with ``Member Add Requested`` and swept:
  the planner, then the sweep's work items worked by ``WORKERS`` threads, as Lambda runs the
  ``SweepQueue`` event source with that maximum concurrency. Every AWS call is counted per
  handler invocation: ``max_calls_per_invocation`` is the most any one made (target ≤ 600: 60 s
  at 100 ms a call), ``sweep_invocations`` the planner's and workers' invocations,
  ``sweep_wall_s`` the sweep's wall time, ``onboard_calls`` every call from the registration to
  central converged, per producer;
- **single**: the same producers and tables swept by today's one-invocation sweep (the planner's
  function without its queue), for comparison in the same run.

Full scale: 10 producers x 1,000 tables (10,000 tables), the issue's figures; smoke: 2 x 40.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import threading
import time
from collections.abc import Callable
from typing import Any

from moto import mock_aws

from bench import counting as c
from bench.scenarios import cold_start, fake_aws_environment
from bench.workload import PUBLISH, table_input
from meshgov_local import router as router_module
from meshgov_local.config import MemberAccount, MemberKind, MeshConfig
from meshgov_local.emulator import controls
from meshgov_local.mesh import SWEEP_FUNCTION, LocalMesh, differences

WORKER = "CatalogSweepWorkerFunction"
WORKERS = 2
# (producers, tables per producer, tables per database)
SCALES = {"full": (10, 1000, 100), "smoke": (2, 40, 20)}
Progress = Callable[[str], None]


def config(producers: int) -> MeshConfig:
    members = tuple(
        MemberAccount(
            f"4{n:011d}",
            f"producer{n}",
            MemberKind.PRODUCER,
            domain=f"p{n:02d}",
            data_bucket=f"p{n:02d}-data",
        )
        for n in range(1, producers + 1)
    )
    return MeshConfig(
        members=(*members, MemberAccount("333333333333", "consumer", MemberKind.CONSUMER))
    )


def seed(mesh: LocalMesh, tables: int, per_database: int) -> int:
    """Every producer's published tables, created through moto's backends (setup: no events)."""
    previous = controls.event_drop_rate
    controls.set_event_drop_rate(1.0)  # setup: no Glue event, only a sweep sees them
    try:
        count = _create(mesh, tables, per_database)
    finally:
        controls.set_event_drop_rate(previous)
    return count


def _create(mesh: LocalMesh, tables: int, per_database: int) -> int:
    from moto.glue.models import glue_backends

    count = 0
    for producer in mesh.config.producers:
        glue = glue_backends[producer.account_id][mesh.config.region]
        for d in range(0, tables, per_database):
            db = f"db{d // per_database:02d}"
            glue.create_database(db, {"Name": db, "Parameters": PUBLISH})
            for t in range(d, min(d + per_database, tables)):
                name = f"t{t:05d}"
                table = table_input(name)
                table["StorageDescriptor"]["Location"] = f"s3://{producer.data_bucket}/{name}/"
                glue.create_table(db, name, table)
                count += 1
    return count


def _invoke() -> Callable[..., Any]:
    """The local mesh's Lambda invoke, as the router calls it (where the bench's call counter
    wraps it, :func:`bench.counting.counting`)."""
    return getattr(router_module, "invoke")  # type: ignore[no-any-return]  # noqa: B009


def drain(mesh: LocalMesh, workers: int) -> None:
    """Work the sweep queue with ``workers`` threads, one message an invocation, until it is
    empty and nothing is in flight (Lambda's SQS event source with that maximum concurrency)."""
    binding = mesh.deployment.functions[WORKER]
    url = binding.source_queue_url
    errors: list[BaseException] = []

    def work() -> None:
        sqs = mesh.sessions.client(mesh.central, "sqs")
        try:
            while not errors:  # one worker failing stops the others (its message stays in flight)
                messages = sqs.receive_message(
                    QueueUrl=url, MaxNumberOfMessages=1, AttributeNames=["All"]
                ).get("Messages", [])
                if not messages:
                    attributes = sqs.get_queue_attributes(
                        QueueUrl=url,
                        AttributeNames=[
                            "ApproximateNumberOfMessages",
                            "ApproximateNumberOfMessagesNotVisible",
                        ],
                    )["Attributes"]
                    if not any(int(v) for v in attributes.values()):
                        return
                    time.sleep(0.02)
                    continue
                (message,) = messages
                event = {"Records": [mesh.router._record(binding, message)]}
                result = _invoke()(binding, event, mesh.sessions, mesh.central, mesh.endpoint_url)
                failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
                if message["MessageId"] in failed:
                    sqs.change_message_visibility(
                        QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                    )
                else:
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        except BaseException as exc:  # reported by the caller
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"a sweep worker failed: {errors[0]!r}") from errors[0]


def fan_out(producers: int, tables: int, per_database: int, progress: Progress) -> dict[str, Any]:
    controls.reset()
    with fake_aws_environment(), mock_aws():
        mesh = LocalMesh(config(producers), register_members=False)
        cold_start(mesh)
        expected = seed(mesh, tables, per_database)
        counter = c.CallCounter(
            [p.account_id for p in mesh.config.producers],
            ledger_table=mesh.deployment.ledger_table_name,
            audit_table=mesh.deployment.audit_table_name,
            registry_table=mesh.deployment.registry_table_name,
        )
        progress(f"scale: {expected} tables of {producers} producers; registering and sweeping")
        with c.counting(counter), contextlib.redirect_stdout(io.StringIO()):
            started = time.perf_counter()
            mesh.register_members()
            registered = time.perf_counter()
            planned = mesh.router.run_schedule(SWEEP_FUNCTION)
            drain(mesh, WORKERS)
            swept = time.perf_counter()
            mesh.settle()  # what the sweep announced (Database Published: ownership grants)
            onboarded = time.perf_counter()
        if not isinstance(planned, dict) or "sweep" not in planned:
            raise RuntimeError(f"the sweep did not start: {planned}")
        diffs = differences(mesh)
        if diffs or counter.invocation_errors:
            raise RuntimeError(f"not converged: {diffs[:3]} {counter.invocation_errors[:3]}")
        sweep_sources = {f"{SWEEP_FUNCTION}@{mesh.central}", f"{WORKER}@{mesh.central}"}
        sweep_invocations = sum(n for s, n in counter.invoked.items() if s in sweep_sources)
        heaviest = max(counter.per_invocation, key=lambda sc: sc[1])
        calls = counter.snapshot()
    controls.reset()
    return {
        "producers": producers,
        "tables": expected,
        "workers": WORKERS,
        "max_calls_per_invocation": heaviest[1],
        "heaviest_invocation": heaviest[0],
        "sweep_invocations": sweep_invocations,
        "sweep_wall_s": round(swept - registered, 2),
        "register_wall_s": round(registered - started, 2),
        "onboard_wall_s": round(onboarded - started, 2),
        "onboard_calls": round(c.CallCounter.total(calls) / producers),
        "by_operation": c.CallCounter.breakdown(calls),
    }


def single(producers: int, tables: int, per_database: int, progress: Progress) -> dict[str, Any]:
    """The same initial sync by the sweep in one invocation (the planner's function, run
    without its queue: ``CatalogSyncService.sweep``)."""
    controls.reset()
    with fake_aws_environment(), mock_aws():
        mesh = LocalMesh(config(producers))
        cold_start(mesh)
        expected = seed(mesh, tables, per_database)
        binding = mesh.deployment.functions[SWEEP_FUNCTION]
        whole = dataclasses.replace(
            binding,
            environment={**binding.environment, "SWEEP_QUEUE_URL": ""},
        )
        progress(f"scale: the same {expected} tables swept in one invocation")
        counter = c.CallCounter([p.account_id for p in mesh.config.producers])
        event = {"id": "single-sweep", "time": controls.now().strftime("%Y-%m-%dT%H:%M:%SZ")}
        with c.counting(counter), contextlib.redirect_stdout(io.StringIO()):
            started = time.perf_counter()
            report = _invoke()(whole, event, mesh.sessions, mesh.central, mesh.endpoint_url)
            seconds = time.perf_counter() - started
        if report.get("tables_created") != expected or report.get("failed"):
            raise RuntimeError(f"the one-invocation sweep did not sync everything: {report}")
    controls.reset()
    return {
        "tables": expected,
        "sweep_invocations": 1,
        "sweep_wall_s": round(seconds, 2),
        "calls": max((n for _, n in counter.per_invocation), default=0),
    }


def measure(scale: str, progress: Progress) -> dict[str, Any]:
    producers, tables, per_database = SCALES["full" if scale == "full" else "smoke"]
    fanned = fan_out(producers, tables, per_database, progress)
    whole = single(producers, tables, per_database, progress)
    return {"fan_out": fanned, "single_invocation": whole}
