"""``reviews.sweep_calls_per_10000_grants`` (issue 14): what reviewing and watching for unused
access costs the access sweep.

One local mesh (in-process moto) with reviews and the unused-grant rule on
(``ReviewEveryDays=90``, ``RevokeUnusedDays=30``); the producer publishes one database of 20
tables; 10,000 ACTIVE requests (10 per principal, 1,000 principals) are written straight into
the requests table through :class:`~meshgov.access.store.RequestStore` (setup, not counted: no
10,000 request flows). Then the real ``AccessSweepFunction`` runs once per case and every AWS
call it makes is counted (:mod:`bench.counting`: botocore requests, a page being one):

- ``nothing_due`` (the figure): every grant 10 days old — none is due for review, none can be
  unused for 30 days, so no usage is read;
- ``reviews_due``: 100 more requests (principals and tables of the first 100 grants, used the
  day before) granted 91 days ago: their reviews are due;
- ``checked_for_use``: 30 days later (those 100 removed), every grant 40 days old and its
  principal's last use a day ago — usage is read once per distinct principal, nothing is done.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from moto import mock_aws

from bench import counting as c
from bench.scenarios import fake_aws_environment
from meshgov.access.states import RequestState
from meshgov.access.store import Coverage, RequestRecord
from meshgov.usage.model import UsageEvent
from meshgov_local import invoke as lambda_runtime
from meshgov_local.emulator import controls
from meshgov_local.mesh import LocalMesh

Progress = Callable[[str], None]
POLICY = {"ReviewEveryDays": "90", "RevokeUnusedDays": "30", "UnusedWarningDays": "7"}
TABLES = 20
PER_PRINCIPAL = 10
DATABASE = "orders"
CENTRAL_DATABASE = "sales_orders"

# reviews.<metric> -> (comparison, bound)
TARGETS: dict[str, tuple[str, float]] = {"sweep_calls_per_10000_grants": ("<=", 40)}

NOTES = [
    "sweep_calls_per_10000_grants: every AWS call (Glue, Lake Formation, EventBridge, DynamoDB, "
    "SQS; a page is one call) of one AccessSweepFunction run over 10,000 ACTIVE grants (1,000 "
    "principals, 20 tables of one database) with reviews every 90 days and the unused-grant rule "
    "at 30 days, when nothing is due. Every rule is judged from the request records alone: the "
    "requests table is read by its by-state index, 8 queries (expiring ones per state by the "
    "index's range key, the GRANTED ones for the re-share, every live one per state, the "
    "producer's ownership records) of which the live ACTIVE read takes one page of DynamoDB's "
    "1 MB per about 700 records; the covered database and its tables once (unpublished data), "
    "the central databases once (ownership backstop), and two audit records (the sweep's start "
    "and outcome, GetItem + TransactWriteItems each) — nothing per grant, no usage read. "
    "Measured 2026-12-04 at full scale: 28 = 21 requests-table queries + GetDatabase + "
    "GetTables + GetDatabases + 4 audit calls. Target 40: the floor is these 14 fixed calls plus "
    "the pages of 10,000 records; 40 leaves room for records that grow (a longer history).",
    "reviews_due: each due review costs 6 calls — PutEvents (Access Review Requested to the "
    "producer), a conditional PutItem (UNDER_REVIEW), two audit records (the PutEvents and the "
    "transition) — plus one usage Query per distinct principal of a due grant (its lastUsed). "
    "Measured at full scale with 100 due: 638 = 28 + 100 x 6 + 10 usage queries.",
    "checked_for_use: once the grants are older than RevokeUnusedDays, the unused-grant rule "
    "reads usage: one UsageStore.last_used Query (the usage table's by-principal index) per "
    "distinct principal, never per grant: 1,000 here (measured 1,028 = 28 + 1,000), and no "
    "write when every grant was used. Principals with only younger grants are not read at all.",
    "Setup that is not measured: the producer's database (its events delivered), the request "
    "records (RequestStore.create) and the usage items (UsageStore.record).",
]


@contextmanager
def reviewing_mesh() -> Iterator[tuple[LocalMesh, c.CallCounter]]:
    controls.reset()
    with fake_aws_environment(), mock_aws():
        mesh = LocalMesh(parameter_overrides=POLICY)
        lambda_runtime.cold_start(mesh.deployment.functions)
        counter = c.CallCounter(
            [p.account_id for p in mesh.config.producers],
            audit_table=mesh.deployment.audit_table_name,
            requests_table=mesh.deployment.requests_table_name,
            registry_table=mesh.deployment.registry_table_name,
            functions=("AccessSweepFunction",),
        )
        with c.counting(counter):
            yield mesh, counter
    controls.reset()


def _publish(mesh: LocalMesh) -> None:
    glue = mesh.client(mesh.producer, "glue")
    glue.create_database(
        DatabaseInput={"Name": DATABASE, "Parameters": {"meshgov:publish": "true"}}
    )
    for index in range(TABLES):
        glue.create_table(
            DatabaseName=DATABASE,
            TableInput={
                "Name": f"t{index}",
                "StorageDescriptor": {
                    "Columns": [{"Name": "id", "Type": "int"}],
                    "Location": f"s3://producer-data/t{index}/",
                },
            },
        )
    with contextlib.redirect_stdout(io.StringIO()):
        mesh.settle()


def _principal(mesh: LocalMesh, index: int) -> str:
    return f"arn:aws:iam::{mesh.consumer}:role/r{index // PER_PRINCIPAL:04d}"


def _record(
    mesh: LocalMesh, index: int, granted: datetime, now: datetime, prefix: str = "req-bench"
) -> RequestRecord:
    """An ACTIVE request of grant ``index``'s principal and table, as the access function leaves
    it (granted ``granted``)."""
    table = f"t{index % TABLES}"
    at = granted.isoformat(timespec="seconds")
    return RequestRecord(
        request_id=f"{prefix}-{index:05d}",
        kind="consumer",
        client_token=f"{prefix}-{index}",
        fingerprint=f"{prefix}-{index}",
        consumer_account=mesh.consumer,
        principal=_principal(mesh, index),
        owner_account=mesh.producer,
        domain="sales",
        permissions=("SELECT",),
        resource={"database": CENTRAL_DATABASE, "tables": [table]},
        tag_expression=None,
        justification="bench: reviews",
        duration_days=90,
        state=RequestState.ACTIVE,
        created_at=at,
        updated_at=at,
        coverage=(Coverage(CENTRAL_DATABASE, (table,)),),
        expires_at=(now + timedelta(days=60)).isoformat(timespec="seconds"),
        decided_by=f"producer:{mesh.producer}",
        history=(
            {"to": "REQUESTED", "at": at},
            {"from": "APPROVED", "to": "GRANTED", "at": at, "reason": "grants made"},
            {"from": "GRANTED", "to": "ACTIVE", "at": at, "reason": "linked"},
        ),
    )


def _write(mesh: LocalMesh, indexes: range, age_days: float, prefix: str = "req-bench") -> None:
    """ACTIVE requests for grants ``indexes``, granted ``age_days`` ago (RequestStore.create)."""
    store = mesh.request_store()
    now = controls.now()
    for index in indexes:
        store.create(_record(mesh, index, now - timedelta(days=age_days), now, prefix))


def _delete(mesh: LocalMesh, indexes: range, prefix: str) -> None:
    dynamodb = mesh.client(mesh.central, "dynamodb")
    for index in indexes:
        dynamodb.delete_item(
            TableName=mesh.deployment.requests_table_name,
            Key={"request_id": {"S": f"{prefix}-{index:05d}"}},
        )


def _use(mesh: LocalMesh, indexes: range) -> None:
    """The principal of each grant in ``indexes`` read its table a day ago."""
    usage = mesh.usage_store()
    at = controls.now() - timedelta(days=1)
    for index in indexes:
        table = f"{CENTRAL_DATABASE}.t{index % TABLES}"
        principal = _principal(mesh, index)
        usage.record([UsageEvent(f"bench-{index}", table, principal, mesh.consumer, at, "")])


def _sweep(mesh: LocalMesh, counter: c.CallCounter) -> dict[str, Any]:
    counter.reset()
    with contextlib.redirect_stdout(io.StringIO()):
        result = mesh.access_sweep()
    if result is None or counter.invocation_errors:
        raise RuntimeError(f"the access sweep failed: {counter.invocation_errors[:3]}")
    calls = counter.snapshot()
    return {
        "calls": c.CallCounter.total(calls),
        "by_operation": c.CallCounter.breakdown(calls),
        "sweep_result": result,
    }


def measure(
    scale_name: str, progress: Progress | None = None, grants: int | None = None
) -> dict[str, Any]:
    grants = grants or (10_000 if scale_name == "full" else 200)
    say = progress or (lambda _m: None)
    due_count = max(1, grants // 100)
    with reviewing_mesh() as (mesh, counter):
        _publish(mesh)
        _write(mesh, range(grants), 10)
        say(f"reviews: {grants} request records written")
        nothing = _sweep(mesh, counter)
        # reviews due: as many more requests, for the first grants' principals and tables (used
        # yesterday), granted 91 days ago; then removed again
        _write(mesh, range(due_count), 91, prefix="req-due")
        _use(mesh, range(due_count))
        due = _sweep(mesh, counter)
        under = sum(1 for r in mesh.requests() if r.state is RequestState.UNDER_REVIEW)
        _delete(mesh, range(due_count), "req-due")
        # 30 days later every grant is 40 days old: its principal's usage is read
        controls.advance_time(30 * 86_400)
        _use(mesh, range(grants))
        say("reviews: usage of every grant written")
        checked = _sweep(mesh, counter)
    return {
        # at smoke scale, the same count over fewer grants (no target then)
        "sweep_calls_per_10000_grants": nothing["calls"],
        "grants": grants,
        "principals": grants // PER_PRINCIPAL,
        "nothing_due": nothing,
        "checked_for_use": checked,
        "reviews_due": {**due, "due": due_count, "under_review_after": under},
    }
