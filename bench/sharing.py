"""The sharing scenarios (issue 4): what one access request costs, in every account.

One local mesh with a producer and six consumer accounts; the producer publishes one database
(setup, not measured); then each measured request comes from a consumer account of its own, which
has never been granted anything (its first RAM invitation, its first link, as a fresh mesh would
have), and plays the whole flow with the real handlers:

1. the consumer puts ``Access Requested`` on its default bus (its forwarding rule takes it to
   central) - counted as the consumer's own call;
2. central's AccessRequestsFunction validates it (Glue and Lake Formation reads of the central
   catalog), records it and asks the owning producer (``Access Approval Requested``);
3. the producer puts ``Access Decided`` on its default bus - counted as the producer's own call;
4. central grants the consumer account (``BatchGrantPermissions``, at most 20 entries a call) and
   sends ``Access Granted`` to the consumer's bus;
5. the consumer's MemberAccessFunction (running in the consumer account) accepts the RAM
   invitation, makes the resource link and grants the requesting role, and reports
   ``Member Actions Recorded`` to central, which marks the request ACTIVE.

The ``one_table_filtered`` flow (issue 13) asks for one table through a data cells filter (a row
filter and an excluded column): central also makes the request's filter and grants ``SELECT`` on
it (with the grant option, as for an external account) instead of on the table, and the
consumer re-grants the filter to its role
(https://docs.aws.amazon.com/lake-formation/latest/dg/granting-filter-perms.html); the bench
then checks the filter in central holds the approved cells (not counted).

The measurement ends when every queue is quiet, the request is ACTIVE and the consumer's link
exists. Every call any function makes in any account during that time is counted (see
:mod:`bench.counting`), plus the consumer's and producer's PutEvents. *Bookkeeping* - meshgov's
own state and audit writes: DynamoDB (requests table, audit trail) and the member's
``Member Actions Recorded`` reports - is counted apart.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from moto import mock_aws

from bench import counting as c
from bench.scenarios import check_clean, check_converged, fake_aws_environment, settle, sweep
from bench.workload import Producer, table_input
from meshgov.access.filters import CellSpec, filter_name
from meshgov.access.grants import BATCH_GRANT_MAX
from meshgov.access.states import RequestState
from meshgov.access.store import RequestRecord, request_id_for
from meshgov.catalog.naming import Producer as NamedProducer
from meshgov.catalog.naming import central_database_name
from meshgov.contracts.access_events import (
    ACCESS_DECIDED,
    ACCESS_REQUESTED,
    ACCESS_SOURCE,
    MEMBER_ACTIONS,
)
from meshgov_local import invoke as lambda_runtime
from meshgov_local.config import MemberAccount, MemberKind, MeshConfig
from meshgov_local.emulator import controls
from meshgov_local.mesh import LocalMesh

Progress = Callable[[str], None]

SOURCE_DATABASE = "orders"
TAG_KEY = "domain"  # the producer's LF-Tag on the database, inherited by its tables
TAG_VALUE = "orders"
ROLE_NAME = "analyst"
CLASSIFICATION = "internal"  # not auto-approved: the producer decides
# The "100 tables" shapes: 100 at full scale; the smoke scale still needs more than 20 entries.
GRANT_SHAPE_TABLES = {"full": 100, "smoke": 21}
# Published figures of aws-data-mesh-utils for the same flow (stated, never measured here).
ADMU_ONE_TABLE = 28
ADMU_TEN_TABLES = 118


@dataclass(frozen=True)
class Shape:
    name: str
    description: str


NAMED = Shape("named_tables", "the tables named one by one")
WHOLE = Shape("whole_database", "the whole database (no table named)")
TAGGED = Shape("lf_tag_expression", f"the LF-Tag expression {TAG_KEY}={TAG_VALUE}")
# Issue 13: one table through a data cells filter, a row filter and an excluded column. The
# bench's tables have the columns id (bigint), amount and note (bench.workload.table_input).
FILTERED = "one_table_filtered"
FILTER_EXCLUDED = ["note"]
FILTER_ROWS = "id > 0"


# --- counting ------------------------------------------------------------------------------------
def detail_types(service: str, operation: str, params: dict[str, Any]) -> str:
    """Label each PutEvents with the detail types it carries (the member reports are told apart
    this way)."""
    if service == "events" and operation == "PutEvents":
        return ",".join(sorted({str(e.get("DetailType", "")) for e in params.get("Entries", [])}))
    return ""


def is_bookkeeping(call: c.Call) -> bool:
    """meshgov's own state and audit writes: DynamoDB, and the member's reports to central."""
    return call.service == "dynamodb" or call.label == MEMBER_ACTIONS


def is_flow(call: c.Call) -> bool:
    return not is_bookkeeping(call)


# The filtered flow comes last: each earlier flow keeps the consumer account it always had.
FLOWS = ("one_table", "ten_tables", *(shape.name for shape in (TAGGED, WHOLE, NAMED)), FILTERED)


def sharing_config() -> MeshConfig:
    """The default mesh (central, producer ``sales``, consumer) plus a consumer per other flow."""
    default = MeshConfig()
    extra = tuple(
        MemberAccount(f"{index + 4}" * 12, f"consumer{index + 2}", MemberKind.CONSUMER)
        for index in range(len(FLOWS) - len(default.consumers))
    )
    return replace(default, members=(*default.members, *extra))


@contextmanager
def sharing_mesh() -> Iterator[tuple[LocalMesh, c.CallCounter]]:
    """A fresh local mesh (in-process moto) with call counting on, every function cold."""
    controls.reset()
    with fake_aws_environment(), mock_aws():
        mesh = LocalMesh(sharing_config())
        lambda_runtime.cold_start(b.logical_id for b in mesh.deployment.all_functions())
        counter = c.CallCounter(
            [p.account_id for p in mesh.config.producers],
            ledger_table=mesh.deployment.ledger_table_name,
            audit_table=mesh.deployment.audit_table_name,
            requests_table=mesh.deployment.requests_table_name,
            registry_table=mesh.deployment.registry_table_name,
            labeller=detail_types,
        )
        with c.counting(counter):
            yield mesh, counter
    controls.reset()


def account_names(mesh: LocalMesh) -> dict[str, str]:
    """account id -> "<kind> <account id>" (central, producer, consumer)."""
    names = {mesh.central: f"central {mesh.central}"}
    names.update({m.account_id: f"{m.kind.value} {m.account_id}" for m in mesh.config.members})
    return names


def named(calls: c.AccountCalls, names: dict[str, str]) -> c.AccountCalls:
    """The same counts, keyed by "<role> <account id>" instead of the bare account id, or for a
    source "<function>@<account id>", by "<function> in <role> <account id>"."""
    out: c.AccountCalls = Counter()
    for (key, call), n in calls.items():
        function, _, account = key.rpartition("@")
        label = f"{function} in {names.get(account, account)}" if function else names.get(key, key)
        out[(label or "unknown", call)] += n
    return out


def invocations(invoked: Counter[str], names: dict[str, str]) -> dict[str, int]:
    out: Counter[str] = Counter()
    for key, n in invoked.items():
        function, _, account = key.rpartition("@")
        out[f"{function} in {names.get(account, account)}"] += n
    return dict(sorted(out.items()))


def total(calls: c.AccountCalls, predicate: c.Predicate = lambda _c: True) -> int:
    return sum(n for (_account, call), n in calls.items() if predicate(call))


def operation_count(calls: c.AccountCalls, account: str, service: str, operation: str) -> int:
    return sum(
        n
        for (acc, call), n in calls.items()
        if acc == account and call.service == service and call.operation == operation
    )


# --- acting as producer and consumer ----------------------------------------------------------
def publish(mesh: LocalMesh, tables: int) -> str:
    """The producer publishes ``orders`` (LF-Tag ``domain=orders``) with ``tables`` tables;
    central follows with one sweep (Glue's events muted: setup, not measured). Returns the
    central database's name."""
    producer = Producer(mesh)
    controls.set_event_drop_rate(1.0)
    try:
        producer.create_database(SOURCE_DATABASE, domain_tag=TAG_VALUE)
        for index in range(tables):
            table = table_input(table_name(index))
            table["Parameters"]["meshgov:classification"] = CLASSIFICATION
            producer.create_table(SOURCE_DATABASE, table)
    finally:
        controls.set_event_drop_rate(0.0)
    report = sweep(mesh)
    if report["tables_created"] != tables or report["failed"]:
        raise RuntimeError(f"the sweep did not publish the {tables} tables: {report}")
    settle(mesh)  # whatever the publication itself set off (not measured)
    check_converged(mesh)
    domain = mesh.config.producers[0].domain or ""
    return central_database_name(NamedProducer(mesh.producer, domain), SOURCE_DATABASE)


def table_name(index: int) -> str:
    return f"t{index:03d}"


def create_role(mesh: LocalMesh, account: str, name: str = ROLE_NAME) -> str:
    return mesh.create_role(account, name)


def put_event(events: Any, detail_type: str, detail: dict[str, Any]) -> None:
    """One PutEvents on the account's default bus, as a consumer's or producer's CLI sends it."""
    response = events.put_events(
        Entries=[{"Source": ACCESS_SOURCE, "DetailType": detail_type, "Detail": json.dumps(detail)}]
    )
    if response.get("FailedEntryCount"):
        raise RuntimeError(f"PutEvents failed: {response['Entries']}")


def request_detail(
    consumer: str, principal: str, token: str, target: dict[str, Any]
) -> dict[str, Any]:
    return {
        "clientToken": token,
        "consumerAccount": consumer,
        "principal": principal,
        "permissions": ["SELECT"],
        "justification": "quarterly revenue dashboard",
        "durationDays": 30,
        **target,
    }


def stored(mesh: LocalMesh, request_id: str) -> RequestRecord:
    found = [r for r in mesh.requests() if r.request_id == request_id]
    if not found:
        raise RuntimeError(f"request {request_id} was not recorded")
    return found[0]


# --- one flow ------------------------------------------------------------------------------------
def request_to_link(
    mesh: LocalMesh, counter: c.CallCounter, consumer: str, target: dict[str, Any]
) -> dict[str, Any]:
    """Play one request of ``consumer`` from its PutEvents to an ACTIVE request with its link."""
    producer = mesh.producer
    principal = create_role(mesh, consumer)
    token = "bench-1"  # noqa: S105 - a client token, not a secret
    request_id = request_id_for(consumer, token)
    # The clients (and the sessions behind them) exist before anything is counted.
    consumer_events = mesh.client(consumer, "events")
    producer_events = mesh.client(producer, "events")
    names = account_names(mesh)
    dead_letters_before = len(mesh.dead_letters("CatalogEventsDLQ"))

    counter.reset()
    with counter.window(consumer, "the consumer's request (bench)"):
        put_event(
            consumer_events, ACCESS_REQUESTED, request_detail(consumer, principal, token, target)
        )
    delivery_request = settle(mesh)
    check_clean(counter)
    after_request = counter.snapshot_by_account()
    sources_request = counter.snapshot_by_source()
    invoked_request = Counter(counter.invoked)
    pending = stored(mesh, request_id)
    if pending.state is not RequestState.PENDING_APPROVAL:
        raise RuntimeError(f"{request_id} is {pending.state}, not waiting for the producer")

    with counter.window(producer, "the producer's decision (bench)"):
        put_event(
            producer_events,
            ACCESS_DECIDED,
            {"requestId": request_id, "decision": "APPROVE", "reason": "ok for the dashboard"},
        )
    delivery_decision = settle(mesh)
    check_clean(counter)
    calls = counter.snapshot_by_account()
    sources = counter.snapshot_by_source()
    invoked_decision = Counter(counter.invoked) - invoked_request

    # Usable: ACTIVE, and the consumer's links point at central (not counted: the bench looks).
    record = stored(mesh, request_id)
    if record.state is not RequestState.ACTIVE:
        raise RuntimeError(f"{request_id} is {record.state}, not ACTIVE")
    consumer_glue = mesh.client(consumer, "glue")
    for database in record.links:
        link = consumer_glue.get_database(Name=database)["Database"].get("TargetDatabase") or {}
        if link.get("CatalogId") != mesh.central or link.get("DatabaseName") != database:
            raise RuntimeError(f"no resource link {database} -> {mesh.central} in {consumer}")
    cells_filters = check_filters(mesh, record)
    dead_letters = len(mesh.dead_letters("CatalogEventsDLQ")) - dead_letters_before

    decision = calls - after_request
    sources_decision = sources - sources_request
    by_name = named(calls, names)
    by_source = named(sources, names)
    return {
        "consumer_account": consumer,
        "request_id": request_id,
        "final_state": record.state.value,
        "links": list(record.links),
        "request_to_link_calls": total(calls, is_flow),
        "bookkeeping_calls": total(calls, is_bookkeeping),
        "central_batch_grant_calls": operation_count(
            calls, mesh.central, "lakeformation", "BatchGrantPermissions"
        ),
        "central_grant_entries": len(record.central_grants),
        "consumer_batch_grant_calls": operation_count(
            calls, consumer, "lakeformation", "BatchGrantPermissions"
        ),
        "consumer_link_grants": len(record.link_grants),
        "data_cells_filters": cells_filters,
        "calls_by_account": c.CallCounter.by_operation(by_name, is_flow),
        "bookkeeping_by_account": c.CallCounter.by_operation(by_name, is_bookkeeping),
        "calls_by_function": c.CallCounter.by_operation(by_source, is_flow),
        "bookkeeping_by_function": c.CallCounter.by_operation(by_source, is_bookkeeping),
        "by_phase": {
            "request": {
                "calls": total(after_request, is_flow),
                "bookkeeping_calls": total(after_request, is_bookkeeping),
                "calls_by_function": c.CallCounter.by_operation(
                    named(sources_request, names), is_flow
                ),
                "invocations": invocations(invoked_request, names),
                "delivery": delivery_request,
            },
            "decision": {
                "calls": total(decision, is_flow),
                "bookkeeping_calls": total(decision, is_bookkeeping),
                "calls_by_function": c.CallCounter.by_operation(
                    named(sources_decision, names), is_flow
                ),
                "invocations": invocations(invoked_decision, names),
                "delivery": delivery_decision,
            },
        },
        "central_catalog_dead_letters": dead_letters,
    }


def check_filters(mesh: LocalMesh, record: RequestRecord) -> list[str]:
    """Each filtered table of an ACTIVE request has its data cells filter in central, with the
    cells approved (the bench looks; not counted). Returns the filters' names."""
    lf = mesh.client(mesh.central, "lakeformation")
    made: list[str] = []
    for spec in map(CellSpec.from_dict, record.filters):
        name = filter_name(record.request_id, spec.table)
        found = lf.get_data_cells_filter(
            TableCatalogId=mesh.central,
            DatabaseName=spec.database,
            TableName=spec.table,
            Name=name,
        )["DataCellsFilter"]
        # Every row is RowFilter.AllRowsWildcard: no FilterExpression, as a spec without one.
        made_cells = (
            tuple((found.get("ColumnWildcard") or {}).get("ExcludedColumnNames", [])),
            tuple(found.get("ColumnNames", [])),
            (found.get("RowFilter") or {}).get("FilterExpression"),
        )
        if made_cells != (spec.excluded, spec.columns, spec.row_filter):
            raise RuntimeError(f"{name} in {mesh.central} is not the filter approved: {found}")
        made.append(name)
    return made


def target_of(flow: str, database: str, tables: int) -> tuple[str, int, dict[str, Any]]:
    """(what is asked, how many tables it covers, the request's resource or tag expression)."""
    if flow == TAGGED.name:
        expression = {"conditions": [{"key": TAG_KEY, "values": [TAG_VALUE]}]}
        return TAGGED.description, tables, {"tagExpression": expression}
    if flow == WHOLE.name:
        return WHOLE.description, tables, {"resource": {"database": database, "tables": []}}
    if flow == FILTERED:
        cells = {
            "table": table_name(0),
            "excludedColumns": FILTER_EXCLUDED,
            "rowFilter": FILTER_ROWS,
        }
        resource = {"database": database, "tables": [table_name(0)], "filters": [cells]}
        asked = f"one table without {', '.join(FILTER_EXCLUDED)}, rows where {FILTER_ROWS}"
        return asked, 1, {"resource": resource}
    count = {"one_table": 1, "ten_tables": 10}.get(flow, tables)
    names = [table_name(i) for i in range(count)]
    return NAMED.description, count, {"resource": {"database": database, "tables": names}}


# --- the scenario --------------------------------------------------------------------------------
def sharing(scale_name: str, progress: Progress) -> dict[str, Any]:
    tables = GRANT_SHAPE_TABLES.get(scale_name, GRANT_SHAPE_TABLES["full"])
    flows: dict[str, dict[str, Any]] = {}
    with sharing_mesh() as (mesh, counter):
        database = publish(mesh, tables)
        progress(f"published {database} with {tables} tables; {len(FLOWS)} requests...")
        for flow, consumer in zip(
            FLOWS, (m.account_id for m in mesh.config.consumers), strict=True
        ):
            asked, covered, target = target_of(flow, database, tables)
            result = request_to_link(mesh, counter, consumer, target)
            flows[flow] = {"request": asked, "tables": covered, "database_tables": tables, **result}
            progress(
                f"{flow} ({covered} tables): {result['request_to_link_calls']} calls, "
                f"{result['bookkeeping_calls']} bookkeeping, {result['central_batch_grant_calls']}"
                f" BatchGrantPermissions in central ({result['central_grant_entries']} entries)"
            )
    one, ten, filtered = flows["one_table"], flows["ten_tables"], flows[FILTERED]
    shapes = {shape.name: flows[shape.name] for shape in (TAGGED, WHOLE, NAMED)}
    return {
        # How meshgov shares 100 tables: a tag expression or the whole database (the larger).
        "grant_calls_per_100_tables": max(
            shapes[TAGGED.name]["central_batch_grant_calls"],
            shapes[WHOLE.name]["central_batch_grant_calls"],
        ),
        "grant_calls_per_100_named_tables": shapes[NAMED.name]["central_batch_grant_calls"],
        "request_to_link_calls": one["request_to_link_calls"],
        "request_to_link_calls_10_tables": ten["request_to_link_calls"],
        "request_to_link_calls_filtered": filtered["request_to_link_calls"],
        "bookkeeping_calls": one["bookkeeping_calls"],
        "bookkeeping_calls_10_tables": ten["bookkeeping_calls"],
        "bookkeeping_calls_filtered": filtered["bookkeeping_calls"],
        "grant_shape_tables": tables,
        "named_entries_floor": {
            "entries": tables + 1,
            "batch_max": BATCH_GRANT_MAX,
            "minimum_calls": math.ceil((tables + 1) / BATCH_GRANT_MAX),
        },
        "published_comparison": {
            "aws_data_mesh_utils": {
                "request_to_link_calls": ADMU_ONE_TABLE,
                "request_to_link_calls_10_tables": ADMU_TEN_TABLES,
                "measured": False,
            }
        },
        "one_table": one,
        "ten_tables": ten,
        FILTERED: filtered,
        "grant_shapes": shapes,
    }
