"""The paper model of issue 16, item 5: meshgov at 200 producers, derived from measured call counts.

``python -m bench.paper_model build/bench.json`` prints the model as markdown tables (the ones in
docs/scale.md); ``bench/__main__.py`` stores :func:`from_report` under ``scale.paper_model``.

Why a model: the local mesh cannot run 200 accounts x 5,000 tables, but the bench measures what
each operation costs (calls per changed table, per swept table, per synced table, per access
request, per 10,000 grants, per 1,000 data accesses). Everything here is arithmetic on those
per-operation counts, the template's settings (batch sizes, windows, timeouts, memory,
schedules, maximum concurrency) and a few stated assumptions (the latency of one AWS call, the
sweep's worker concurrency until the fan-out lands, item sizes). Each figure carries its formula
as text and the bench figures it read, so a reader can redo it by hand.

The module is pure: no AWS, no local mesh; only :func:`template_facts` reads ``template.yaml``.
Measured counts come from a report at whatever scale it was run: a smoke report gives smoke-scale
per-operation counts (fixed costs spread over few tables), and the output says which scale.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

MINUTES_PER_MONTH = 30 * 24 * 60  # a 30-day month, as AWS's pricing examples use
REGION = "eu-west-1"
# Glue returns at most 100 tables a GetTables page
# (https://docs.aws.amazon.com/glue/latest/webapi/API_GetTables.html, MaxResults 1-100).
GLUE_PAGE = 100
PRICES_AS_OF = "2026-12-05"


# --- inputs ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Mesh:
    """The mesh of issue 16, item 5."""

    producers: int = 200
    tables_per_producer: int = 5_000
    tables_per_database: int = 100  # so 50 databases a producer (not stated by the issue)
    changes_per_minute: float = 1_000  # schema changes, all producers together
    consumers: int = 50
    live_grants: int = 10_000


@dataclass(frozen=True)
class Assumptions:
    """What the bench cannot measure. Each is named in docs/scale.md."""

    # The issue's own yardstick for AWS ("60 s at 100 ms a call", scale.max_calls_per_invocation).
    call_latency_s: float = 0.1
    invocation_overhead_s: float = 0.05  # warm start, handler setup, logging
    # Fan-out sweep (issue 16 item 2): tables a worker writes at most (the template's
    # SweepPageTables when it has one) and the workers (its MaximumConcurrency when set).
    page_tables: int = 100
    sweep_workers: int = 10
    # Calls a work item makes besides its tables (AssumeRole, the registry Query, two audit
    # records = GetItem + TransactWriteItems each).
    item_fixed_calls: int = 6
    # Access: each live grant is renewed once a lifetime (MaxDurationDays' default).
    grant_lifetime_days: float = 90
    # Usage: GetDataAccess events a minute reaching central (each live grant read ~7 times a day).
    data_accesses_per_minute: float = 50
    # DynamoDB sizes (request units are per 1 KB written / 4 KB read).
    item_write_kb: float = 1.0
    batch_items: int = 25  # items in a BatchWriteItem / BatchGetItem (25 is BatchWriteItem's max)
    transact_items: int = 2  # an audit append: the record and its shard head (ADR 0019)
    requests_query_page_rru: float = 256  # an access sweep Query page: 1 MB strongly consistent
    audit_record_kb: float = 1.0
    ledger_row_kb: float = 1.0
    storage_months: int = 12  # DynamoDB storage priced after a year of audit records
    # Lambda's SQS poller: 5 long-polling pollers a queue, one ReceiveMessage each 20 s when idle.
    idle_receives_per_queue_per_minute: float = 15
    audit_digest_calls: int = 6  # query heads, sign, put the digest, its audit record
    # Requests a second per account and service the catalog work may use. AWS throttles Glue and
    # Lake Formation per account and Region but does not publish the default rates in its
    # endpoints-and-quotas pages (see QUOTAS): these are budgets to check against, not quotas.
    glue_budget_per_s: float = 50
    lakeformation_budget_per_s: float = 20


@dataclass(frozen=True)
class Price:
    usd: float
    unit: str
    url: str


# List prices, Region eu-west-1 (Europe, Ireland). The pricing pages render their per-Region
# rates client-side: the copies reachable from this machine did not show them, so the values are
# the published eu-west-1 rates as last known (DynamoDB on-demand after its November 2024
# halving); verify against the pages before quoting a bill.
PRICES: dict[str, Price] = {
    "lambda_request": Price(0.20 / 1e6, "request", "https://aws.amazon.com/lambda/pricing/"),
    "lambda_gb_s": Price(0.0000166667, "GB-s (x86_64)", "https://aws.amazon.com/lambda/pricing/"),
    "sqs_request": Price(
        0.40 / 1e6, "request (64 KB chunk)", "https://aws.amazon.com/sqs/pricing/"
    ),
    "events_custom": Price(
        1.00 / 1e6, "custom event (64 KB chunk)", "https://aws.amazon.com/eventbridge/pricing/"
    ),
    "ddb_wru": Price(
        0.7068 / 1e6,
        "on-demand write request unit",
        "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    ),
    "ddb_rru": Price(
        0.1413 / 1e6,
        "on-demand read request unit",
        "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    ),
    "ddb_storage_gb": Price(
        0.283, "GB-month (Standard)", "https://aws.amazon.com/dynamodb/pricing/on-demand/"
    ),
    "s3_put": Price(0.005 / 1000, "PUT request", "https://aws.amazon.com/s3/pricing/"),
    "kms_key": Price(1.00, "key-month", "https://aws.amazon.com/kms/pricing/"),
    "kms_sign": Price(
        0.15 / 10_000, "asymmetric (ECC) request", "https://aws.amazon.com/kms/pricing/"
    ),
}


@dataclass(frozen=True)
class Quota:
    value: float
    unit: str
    url: str


QUOTAS: dict[str, Quota] = {
    # Default, adjustable; the re:Post answer https://repost.aws/questions/QUe6knS_L0R9qJDKlO4YE4OA
    # quotes the page's table (10,000 databases, 1,000,000 tables an account, 200,000 a database).
    "glue_tables_per_account": Quota(
        1_000_000, "tables", "https://docs.aws.amazon.com/general/latest/gr/glue.html"
    ),
    "glue_databases_per_account": Quota(
        10_000, "databases", "https://docs.aws.amazon.com/general/latest/gr/glue.html"
    ),
    # Glue API requests are throttled per account and Region (no default rate published there).
    "glue_api_rate": Quota(
        math.nan,
        "requests/s (unpublished)",
        "https://repost.aws/knowledge-center/glue-throttling-rate-exceeded",
    ),
    "lakeformation_api_rate": Quota(
        math.nan,
        "requests/s (unpublished)",
        "https://docs.aws.amazon.com/general/latest/gr/lake-formation.html",
    ),
    "dynamodb_on_demand_table": Quota(
        40_000,
        "request units/s per table",
        "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html",
    ),
    "lambda_concurrency": Quota(
        1_000,
        "concurrent executions per account and Region",
        "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html",
    ),
    "sqs_in_flight": Quota(
        120_000,
        "in-flight messages per standard queue",
        "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-queues.html",
    ),
}


# --- the template ------------------------------------------------------------------------------
@dataclass(frozen=True)
class SqsSource:
    batch_size: int
    window_s: float
    max_concurrency: int | None  # ScalingConfig.MaximumConcurrency, when set


@dataclass(frozen=True)
class TemplateFacts:
    """What template.yaml says about the functions the model runs (defaults of parameters)."""

    memory_mb: dict[str, int] = field(default_factory=dict)
    timeout_s: dict[str, int] = field(default_factory=dict)
    sqs: dict[str, SqsSource] = field(default_factory=dict)  # function -> its SQS source
    schedule_minutes: dict[str, float] = field(default_factory=dict)  # function -> period
    parameters: dict[str, Any] = field(default_factory=dict)  # parameter -> its Default


def _rate_minutes(expression: str) -> float:
    """``rate(15 minutes)`` -> 15.0 (EventBridge rate expressions)."""
    value, unit = expression.strip()[len("rate(") : -1].split()
    return float(value) * {"minute": 1, "hour": 60, "day": 1440}[unit.rstrip("s")]


def template_facts(document: dict[str, Any] | None = None) -> TemplateFacts:
    if document is None:
        from meshgov_local.template import load_template_document

        document = load_template_document()
    defaults = document.get("Globals", {}).get("Function", {})
    parameters = document.get("Parameters", {})
    facts = TemplateFacts(
        parameters={k: v.get("Default") for k, v in parameters.items() if "Default" in v}
    )
    for name, resource in document.get("Resources", {}).items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = resource.get("Properties", {})
        facts.memory_mb[name] = int(props.get("MemorySize", defaults.get("MemorySize", 128)))
        facts.timeout_s[name] = int(props.get("Timeout", defaults.get("Timeout", 3)))
        for event in (props.get("Events") or {}).values():
            spec = event.get("Properties", {})
            if event.get("Type") == "SQS":
                scaling = spec.get("ScalingConfig") or {}
                maximum = scaling.get("MaximumConcurrency")
                facts.sqs[name] = SqsSource(
                    int(spec.get("BatchSize", 10)),
                    float(spec.get("MaximumBatchingWindowInSeconds", 0)),
                    int(maximum)
                    if isinstance(maximum, int | str) and str(maximum).isdigit()
                    else None,
                )
            elif event.get("Type") == "Schedule":
                schedule = spec.get("Schedule")
                if isinstance(schedule, dict) and "Ref" in schedule:
                    schedule = parameters.get(schedule["Ref"], {}).get("Default")
                if isinstance(schedule, str) and schedule.startswith("rate("):
                    facts.schedule_minutes[name] = _rate_minutes(schedule)
    return facts


# --- measured per-operation counts -------------------------------------------------------------
def _get(report: dict[str, Any], path: str, default: Any = None) -> Any:
    node: Any = report
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            if default is not None:
                return default
            raise KeyError(f"the bench report has no {path}")
        node = node[part]
    return node


def _operations(by_operation: dict[str, int]) -> Counter[tuple[str, str, str, str]]:
    """``CallCounter.breakdown`` keys (``kind access side service:op [table] [[label]]``) ->
    (service, operation, side, dynamodb table) -> calls."""
    found: Counter[tuple[str, str, str, str]] = Counter()
    for key, n in by_operation.items():
        parts = key.split(" ")
        service, operation = parts[3].split(":", 1)
        table = parts[4] if len(parts) > 4 and not parts[4].startswith("[") else ""
        found[(service, operation, parts[2], table)] += n
    return found


def _account_operations(
    by_account: dict[str, dict[str, int]],
) -> Counter[tuple[str, str, str, str]]:
    """``CallCounter.by_operation`` (account -> ``service:op (qualifier)`` -> calls) -> the same
    keys as :func:`_operations`, every account together (side: central)."""
    found: Counter[tuple[str, str, str, str]] = Counter()
    for operations in by_account.values():
        for key, n in operations.items():
            name, _, qualifier = key.partition(" (")
            service, operation = name.split(":", 1)
            table = qualifier.rstrip(")") if service == "dynamodb" else ""
            found[(service, operation, "central", table)] += n
    return found


def _service(ops: Mapping[tuple[str, str, str, str], float], service: str, side: str = "") -> float:
    return sum(n for (svc, _op, s, _t), n in ops.items() if svc == service and side in ("", s))


@dataclass(frozen=True)
class Measured:
    """Per-operation counts read from a bench report; ``sources`` names each figure read."""

    scale: str
    # a changed table, delivered as events (phase A of the mixed workload)
    change_ops: dict[tuple[str, str, str, str], float]
    messages_per_change: float
    # a swept table of the no-op sweep (the steady state of every SweepSchedule)
    sweep_ops: dict[tuple[str, str, str, str], float]
    # a table synced for the first time (the no-op scenario's first sweep)
    initial_calls_per_table: float
    initial_ops: dict[tuple[str, str, str, str], float]
    # one access request, end to end, the function invocations it takes, its DynamoDB calls
    request_calls: float
    request_invocations: float
    request_ops: dict[tuple[str, str, str, str], float]
    request_put_events: float
    # the access sweep over N live grants (nothing due)
    access_sweep_calls: float
    access_sweep_grants: float
    access_sweep_ops: dict[tuple[str, str, str, str], float]
    usage_writes_per_event: float
    audit_attempts_per_append: float
    onboard_calls_per_table: float | None
    sources: dict[str, str]


def measured(report: dict[str, Any]) -> Measured:
    mixed = "propagation.scenarios.mixed_workload"
    noop = "propagation.scenarios.noop_sweep"
    one = "sharing.scenarios.sharing.one_table"
    changed = float(_get(report, f"{mixed}.changed_tables"))
    tables = float(_get(report, f"{noop}.tables"))
    noop_databases = int(_get(report, f"{noop}.databases"))
    read_pages = noop_databases * math.ceil(tables / noop_databases / GLUE_PAGE)
    change = _operations(_get(report, f"{mixed}.phase_a.calls.by_operation"))
    sweep = _operations(_get(report, f"{noop}.calls.by_operation"))
    initial = _get(report, f"{noop}.initial_sync")
    initial_ops = _operations(initial.get("by_operation", {}))
    initial_total = (
        sum(initial_ops.values())
        if initial_ops
        else initial["catalog_writes"] + initial["catalog_reads"]
    )
    phases = _get(report, f"{one}.by_phase")
    invocations = sum(sum(phases[p]["invocations"].values()) for p in ("request", "decision"))
    onboard = _get(report, "scale.onboard_calls", default=-1)
    bookkeeping = _account_operations(_get(report, f"{one}.bookkeeping_by_account"))
    flow = _account_operations(_get(report, f"{one}.calls_by_account"))
    reviews = _operations(_get(report, "reviews.scenarios.reviews.nothing_due.by_operation"))
    sources = {
        "change_ops": f"{mixed}.phase_a.calls.by_operation / {mixed}.changed_tables",
        "messages_per_change": f"{mixed}.phase_a.delivery.messages / {mixed}.changed_tables",
        "sweep_ops": (
            f"{noop}.calls.by_operation / ({noop}.databases x ceil({noop}.tables / "
            f"{noop}.databases / 100)): per read page"
        ),
        "initial_calls_per_table": (
            f"{noop}.initial_sync.by_operation / {noop}.tables"
            if initial_ops
            else f"({noop}.initial_sync.catalog_writes + catalog_reads) / {noop}.tables"
        ),
        "request_calls": "sharing.request_to_link_calls + sharing.bookkeeping_calls",
        "request_invocations": f"{one}.by_phase.{{request,decision}}.invocations",
        "request_ops": f"{one}.bookkeeping_by_account (+ PutEvents of {one}.calls_by_account)",
        "access_sweep_ops": "reviews.scenarios.reviews.nothing_due.by_operation",
        "access_sweep_calls": "reviews.sweep_calls_per_10000_grants",
        "access_sweep_grants": "reviews.scenarios.reviews.grants",
        "usage_writes_per_event": "usage.writes_per_1000_events / 1000",
        "audit_attempts_per_append": "scale.audit_attempts_per_append_32_writers",
        "onboard_calls_per_table": "scale.onboard_calls / 1000 (absent: initial sync per table)",
    }
    return Measured(
        scale=str(_get(report, "meta.scale", default="unknown")),
        change_ops={k: v / changed for k, v in change.items()},
        messages_per_change=_get(report, f"{mixed}.phase_a.delivery.messages") / changed,
        sweep_ops={k: v / read_pages for k, v in sweep.items()},
        initial_calls_per_table=initial_total / tables,
        initial_ops={k: v / tables for k, v in initial_ops.items()},
        request_calls=float(
            _get(report, "sharing.request_to_link_calls")
            + _get(report, "sharing.bookkeeping_calls")
        ),
        request_invocations=float(invocations),
        request_ops=dict(bookkeeping),
        request_put_events=float(_service(flow, "events") + _service(bookkeeping, "events")),
        access_sweep_calls=float(_get(report, "reviews.sweep_calls_per_10000_grants")),
        access_sweep_grants=float(_get(report, "reviews.scenarios.reviews.grants")),
        access_sweep_ops=dict(reviews),
        usage_writes_per_event=_get(report, "usage.writes_per_1000_events") / 1000,
        audit_attempts_per_append=float(
            _get(report, "scale.audit_attempts_per_append_32_writers", default=1.0)
        ),
        onboard_calls_per_table=onboard / 1000 if onboard >= 0 else None,
        sources=sources,
    )


# --- the model ---------------------------------------------------------------------------------
Figure = dict[str, Any]  # {"value", "unit", "formula", "from"}


def _figure(value: float, unit: str, formula: str, *sources: str) -> Figure:
    # JSON has no infinity: an unbounded figure (a queue that keeps growing) is null.
    rounded = round(value, 4) if math.isfinite(value) else None
    return {"value": rounded, "unit": unit, "formula": formula, "from": list(sources)}


def _ddb_units(
    ops: dict[tuple[str, str, str, str], float], a: Assumptions, query_rru: float, attempts: float
) -> dict[str, dict[str, float]]:
    """table -> {"rru", "wru"} per operation, DynamoDB's request units per request
    (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html):
    a strongly consistent read of <= 4 KB is 1 RRU, a write of <= 1 KB 1 WRU, a transactional one
    2 per item. Audit calls are multiplied by the measured attempts per append (a lost race
    repeats the head read and the transaction)."""
    units: dict[str, dict[str, float]] = {}
    write_kb = math.ceil(a.item_write_kb)
    for (service, operation, _side, table), n in ops.items():
        if service != "dynamodb":
            continue
        n = n * (attempts if table == "audit" else 1.0)
        rru = wru = 0.0
        if operation == "GetItem":
            rru = 1
        elif operation == "BatchGetItem":
            rru = a.batch_items
        elif operation in ("Query", "Scan"):
            rru = query_rru
        elif operation == "TransactGetItems":
            rru = 2 * a.transact_items
        elif operation in ("PutItem", "UpdateItem", "DeleteItem"):
            wru = write_kb
        elif operation == "BatchWriteItem":
            wru = a.batch_items * write_kb
        elif operation == "TransactWriteItems":
            wru = 2 * a.transact_items * write_kb
        entry = units.setdefault(table or "other", {"rru": 0.0, "wru": 0.0})
        entry["rru"] += n * rru
        entry["wru"] += n * wru
    return units


def _invocations_per_minute(messages_per_minute: float, source: SqsSource) -> float:
    """A batch closes when it is full or its window ends (one batch a window at low rates)
    (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html#sqs-polling-behavior)."""
    if messages_per_minute <= 0:
        return 0.0
    per_window = messages_per_minute * source.window_s / 60 if source.window_s else 1.0
    return messages_per_minute / max(1.0, min(float(source.batch_size), per_window))


def model(
    m: Measured,
    facts: TemplateFacts,
    mesh: Mesh = Mesh(),
    a: Assumptions = Assumptions(),
) -> dict[str, Any]:
    """Every derived figure, each with its formula and the measured figures it used."""
    f: dict[str, Figure] = {}
    lat = a.call_latency_s
    # --- catalog events: CatalogSyncFunction ----------------------------------------------------
    sync = facts.sqs.get("CatalogSyncFunction", SqsSource(10, 5, None))
    messages = mesh.changes_per_minute * m.messages_per_change
    calls_per_change = sum(m.change_ops.values())
    calls_per_message = calls_per_change / m.messages_per_change
    sync_inv = _invocations_per_minute(messages, sync)
    per_batch = messages / sync_inv if sync_inv else 0.0
    sync_duration = per_batch * calls_per_message * lat + a.invocation_overhead_s
    sync_concurrency = sync_inv / 60 * sync_duration
    f["catalog_event_messages_per_min"] = _figure(
        messages,
        "messages/min",
        "changes/min x messages per change",
        m.sources["messages_per_change"],
    )
    f["catalog_sync_invocations_per_min"] = _figure(
        sync_inv,
        "invocations/min",
        f"messages/min / min(BatchSize {sync.batch_size}, messages in a "
        f"{sync.window_s:g} s window)",
        "template.yaml CatalogSyncFunction.Events",
    )
    f["catalog_sync_duration_s"] = _figure(
        sync_duration,
        "s",
        f"messages a batch x calls per message x {lat:g} s + {a.invocation_overhead_s:g} s",
        m.sources["change_ops"],
    )
    f["catalog_sync_concurrency"] = _figure(
        sync_concurrency, "executions", "invocations/s x duration (Little's law)"
    )
    sync_limit = float(sync.max_concurrency or QUOTAS["lambda_concurrency"].value)
    capacity = sync_limit * per_batch * 60 / sync_duration if sync_duration else math.inf
    central_glue_per_change = _service(m.change_ops, "glue", "central") + _service(
        m.change_ops, "lakeformation", "central"
    )
    # Budget bound: what central's Glue + Lake Formation budget lets the events through.
    budget = a.glue_budget_per_s + a.lakeformation_budget_per_s
    budget_messages = (
        budget * 60 / central_glue_per_change * m.messages_per_change
        if central_glue_per_change
        else math.inf
    )
    drained = min(capacity, budget_messages)
    growth = max(0.0, messages - drained)
    in_queue = messages / 60 * (sync.window_s + sync_duration) if not growth else math.inf
    f["catalog_events_drain_capacity_per_min"] = _figure(
        drained,
        "messages/min",
        f"min(MaximumConcurrency or account concurrency ({sync_limit:g}) x messages a batch x 60"
        " / duration, central Glue+LF budget x 60 / central catalog calls per change x messages"
        " per change)",
        m.sources["change_ops"],
    )
    f["catalog_events_backlog_messages"] = _figure(
        in_queue,
        "messages",
        "messages/s x (batching window + duration) when drained > arriving (Little's law); "
        "inf when the queue grows",
    )
    f["catalog_events_backlog_growth_per_min"] = _figure(
        growth, "messages/min", "max(0, arriving - drained)"
    )

    # --- the sweep: planner + fan-out workers ----------------------------------------------------
    # A no-op sweep reads, it does not write: its calls follow Glue's pages (GetTables and
    # SearchTablesByLFTags return at most 100 tables), so the measured no-op sweep is taken per
    # read page of a database; its fixed calls (AssumeRole, registry, audit) are spread over the
    # pages it read, an over-estimate at small scales.
    period = facts.schedule_minutes.get("CatalogSweepFunction", 15.0)
    total_tables = mesh.producers * mesh.tables_per_producer
    per_producer_dbs = math.ceil(mesh.tables_per_producer / mesh.tables_per_database)
    databases = mesh.producers * per_producer_dbs
    read_pages_per_db = math.ceil(mesh.tables_per_database / GLUE_PAGE)
    read_pages = databases * read_pages_per_db
    # A steady-state sweep writes nothing, and an item's bound counts the tables it *writes*
    # (SweepPageTables): one item per producer reads all its databases (ADR 0022). Writing
    # sweeps continue in further items: that is the onboarding below.
    items = mesh.producers
    worker = facts.sqs.get("CatalogSweepWorkerFunction")
    workers = worker.max_concurrency if worker and worker.max_concurrency else a.sweep_workers
    worker_batch = worker.batch_size if worker else 1
    per_page = sum(m.sweep_ops.values())
    item_calls = per_page * read_pages / items
    item_duration = item_calls * lat + a.invocation_overhead_s
    sweep_wall = math.ceil(items / workers) * item_duration
    f["sweep_work_items"] = _figure(
        items,
        "items",
        "producers (nothing to write: one item per producer reads all its databases)",
    )
    f["sweep_calls_per_item"] = _figure(
        item_calls,
        "calls",
        f"no-op sweep calls per read page x databases x ceil(tables per database / {GLUE_PAGE})"
        " / items",
        m.sources["sweep_ops"],
    )
    f["sweep_wall_s"] = _figure(
        sweep_wall,
        "s",
        f"ceil(items / {workers} workers) x (calls per item x {lat:g} s + "
        f"{a.invocation_overhead_s:g} s)",
        "template.yaml CatalogSweepWorkerFunction ScalingConfig.MaximumConcurrency",
    )
    f["sweep_fits_schedule"] = _figure(
        float(sweep_wall <= period * 60), "bool", f"sweep wall <= SweepSchedule ({period:g} min)"
    )
    sweep_inv = (items / worker_batch + 1) / period
    f["sweep_invocations_per_min"] = _figure(
        sweep_inv,
        "invocations/min",
        f"(items / BatchSize {worker_batch} + 1 planner) / {period:g} min",
    )
    f["sweep_concurrency"] = _figure(
        float(min(workers, items)),
        "executions",
        "min(MaximumConcurrency, items) while a sweep runs",
    )

    # --- onboarding one producer of 5,000 tables -------------------------------------------------
    onboard_per_table = (
        m.onboard_calls_per_table
        if m.onboard_calls_per_table is not None
        else m.initial_calls_per_table
    )
    # Writing is bounded per invocation: a worker writes at most SweepPageTables tables, then
    # queues the rest of its database.
    page = int(facts.parameters.get("SweepPageTables", a.page_tables))
    tables_per_item = min(page, mesh.tables_per_database)
    onboard_items = 1 + per_producer_dbs * math.ceil(mesh.tables_per_database / page)
    onboard_item_calls = onboard_per_table * tables_per_item + a.item_fixed_calls
    onboard_calls = onboard_items * onboard_item_calls
    onboard_workers = min(workers, onboard_items)
    by_workers = math.ceil(onboard_items / onboard_workers) * (
        onboard_item_calls * lat + a.invocation_overhead_s
    )
    central_writes_per_table = (
        sum(
            n
            for (svc, _o, side, _t), n in m.initial_ops.items()
            if side == "central" and svc in ("glue", "lakeformation")
        )
        if m.initial_ops
        else onboard_per_table / 2
    )
    by_budget = mesh.tables_per_producer * central_writes_per_table / budget
    onboard_wall = max(by_workers, by_budget)
    f["onboard_calls"] = _figure(
        onboard_calls,
        "calls",
        "items x (initial-sync calls per table x tables an item + fixed calls)",
        m.sources["onboard_calls_per_table"],
    )
    f["onboard_wall_s"] = _figure(
        onboard_wall,
        "s",
        "max(ceil(items / workers) x item duration, tables x central Glue+LF calls per table "
        "/ central Glue+LF budget)",
        m.sources["initial_calls_per_table"],
    )

    # --- access: requests, the access sweep, usage, digests --------------------------------------
    requests_per_min = mesh.live_grants / (a.grant_lifetime_days * 1440)
    access_inv = requests_per_min * m.request_invocations
    access_duration = (
        m.request_calls / m.request_invocations * lat + a.invocation_overhead_s
        if m.request_invocations
        else 0.0
    )
    access_period = facts.schedule_minutes.get("AccessSweepFunction", 60.0)
    access_sweep_calls = m.access_sweep_calls * mesh.live_grants / m.access_sweep_grants
    access_sweep_duration = access_sweep_calls * lat + a.invocation_overhead_s
    usage = facts.sqs.get("UsageFunction", SqsSource(1000, 30, None))
    usage_inv = _invocations_per_minute(a.data_accesses_per_minute, usage)
    usage_writes = a.data_accesses_per_minute * m.usage_writes_per_event
    usage_duration = (
        usage_writes / usage_inv if usage_inv else 0.0
    ) * lat + a.invocation_overhead_s
    digest_period = facts.schedule_minutes.get("AuditDigestFunction", 60.0)
    f["access_requests_per_min"] = _figure(
        requests_per_min, "requests/min", "live grants / (grant lifetime days x 1440)"
    )
    f["access_sweep_calls"] = _figure(
        access_sweep_calls,
        "calls a run",
        "sweep calls per measured grants x live grants / measured grants (linear: an upper bound,"
        " most calls are fixed)",
        m.sources["access_sweep_calls"],
        m.sources["access_sweep_grants"],
    )

    # --- Lambda, all functions -------------------------------------------------------------------
    functions = {
        "CatalogSyncFunction": (sync_inv, sync_duration),
        "CatalogSweepWorkerFunction": (items / worker_batch / period, item_duration),
        "CatalogSweepFunction": (1 / period, a.item_fixed_calls * lat + a.invocation_overhead_s),
        "AccessRequestsFunction": (access_inv, access_duration),
        "AccessSweepFunction": (1 / access_period, access_sweep_duration),
        "UsageFunction": (usage_inv, usage_duration),
        "AuditDigestFunction": (
            1 / digest_period,
            a.audit_digest_calls * lat + a.invocation_overhead_s,
        ),
    }
    memory = {name: facts.memory_mb.get(name, 512) / 1024 for name in functions}
    lambda_inv = sum(inv for inv, _d in functions.values())
    gb_s_per_min = sum(inv * d * memory[name] for name, (inv, d) in functions.items())
    f["lambda_invocations_per_min"] = _figure(
        lambda_inv, "invocations/min", "sum over functions of invocations/min"
    )
    f["lambda_concurrency"] = _figure(
        sum(inv / 60 * d for inv, d in functions.values()),
        "executions",
        "sum over functions of invocations/s x duration (average over a sweep period)",
    )
    f["lambda_gb_s_per_min"] = _figure(
        gb_s_per_min, "GB-s/min", "sum of invocations/min x duration x MemorySize/1024"
    )

    # --- Glue and Lake Formation per account per minute ------------------------------------------
    sweep_pages_per_min = read_pages / period
    central: dict[str, float] = {}
    producer: dict[str, float] = {}
    for service in ("glue", "lakeformation"):
        central[service] = mesh.changes_per_minute * _service(
            m.change_ops, service, "central"
        ) + sweep_pages_per_min * _service(m.sweep_ops, service, "central")
        producer[service] = mesh.changes_per_minute / mesh.producers * _service(
            m.change_ops, service, "source"
        ) + per_producer_dbs * read_pages_per_db / period * _service(m.sweep_ops, service, "source")
        f[f"{service}_calls_per_min_central"] = _figure(
            central[service],
            "calls/min",
            f"changes/min x central {service} calls per change + read pages/{period:g} min x "
            f"central {service} calls per read page",
            m.sources["change_ops"],
            m.sources["sweep_ops"],
        )
        f[f"{service}_calls_per_min_per_producer"] = _figure(
            producer[service],
            "calls/min",
            f"changes/min / producers x source {service} calls per change + a producer's read "
            f"pages / {period:g} min x source {service} calls per read page",
            m.sources["change_ops"],
            m.sources["sweep_ops"],
        )
        per_s_budget = getattr(a, f"{service}_budget_per_s")
        f[f"{service}_central_share_of_budget"] = _figure(
            central[service] / 60 / per_s_budget,
            "ratio",
            f"central {service} calls/s / assumed budget {per_s_budget:g}/s (no published default)",
        )
    f["central_tables_vs_quota"] = _figure(
        total_tables / QUOTAS["glue_tables_per_account"].value,
        "ratio",
        "producers x tables per producer / Glue tables per account (1,000,000)",
    )
    f["central_databases_vs_quota"] = _figure(
        databases / QUOTAS["glue_databases_per_account"].value,
        "ratio",
        "producers x databases per producer / Glue databases per account (10,000)",
    )

    # --- DynamoDB --------------------------------------------------------------------------------
    event_units = _ddb_units(m.change_ops, a, 1.0, m.audit_attempts_per_append)
    sweep_units = _ddb_units(
        m.sweep_ops, a, math.ceil(GLUE_PAGE * a.ledger_row_kb / 4), m.audit_attempts_per_append
    )
    ddb: dict[str, dict[str, float]] = {}
    request_units = _ddb_units(m.request_ops, a, 1.0, m.audit_attempts_per_append)
    access_sweep_units = _ddb_units(
        m.access_sweep_ops, a, a.requests_query_page_rru, m.audit_attempts_per_append
    )
    access_sweep_rate = mesh.live_grants / m.access_sweep_grants / access_period
    for units, rate in (
        (event_units, mesh.changes_per_minute),
        (sweep_units, sweep_pages_per_min),
        (request_units, requests_per_min),
        (access_sweep_units, access_sweep_rate),
    ):
        for table, u in units.items():
            entry = ddb.setdefault(table, {"rru": 0.0, "wru": 0.0})
            entry["rru"] += u["rru"] * rate
            entry["wru"] += u["wru"] * rate
    ddb.setdefault("usage", {"rru": 0.0, "wru": 0.0})["wru"] += usage_writes
    for table, u in sorted(ddb.items()):
        f[f"dynamodb_{table}_rru_per_min"] = _figure(
            u["rru"], "RRU/min", "sum of reads per operation x request units per read x rate"
        )
        f[f"dynamodb_{table}_wru_per_min"] = _figure(
            u["wru"], "WRU/min", "sum of writes per operation x request units per write x rate"
        )
    peak = max((max(u["rru"], u["wru"]) / 60 for u in ddb.values()), default=0.0)
    f["dynamodb_busiest_table_vs_quota"] = _figure(
        peak / QUOTAS["dynamodb_on_demand_table"].value,
        "ratio",
        "busiest table's request units/s / 40,000 (on-demand per-table default)",
    )

    # --- monthly cost ----------------------------------------------------------------------------
    p = PRICES
    month = MINUTES_PER_MONTH
    sqs_sources = len(facts.sqs) or 4
    sqs_requests = (
        messages
        + 2 * sync_inv
        + items / period
        + 2 * items / worker_batch / period
        + a.data_accesses_per_minute
        + 2 * usage_inv
        + requests_per_min * m.request_invocations * 3
        + sqs_sources * a.idle_receives_per_queue_per_minute
    )
    events = (
        mesh.changes_per_minute * (m.messages_per_change + _service(m.change_ops, "events"))
        + requests_per_min * m.request_put_events
    )
    rru = sum(u["rru"] for u in ddb.values())
    wru = sum(u["wru"] for u in ddb.values())
    audit_records_per_min = mesh.changes_per_minute * sum(
        n
        for (svc, op, _s, t), n in m.change_ops.items()
        if t == "audit" and op == "TransactWriteItems"
    )
    storage_gb = (
        audit_records_per_min * month * a.storage_months * a.audit_record_kb
        + total_tables * a.ledger_row_kb
    ) / (1024 * 1024)
    digests = month / digest_period
    costs = {
        "lambda_requests": lambda_inv * month * p["lambda_request"].usd,
        "lambda_compute": gb_s_per_min * month * p["lambda_gb_s"].usd,
        "sqs": sqs_requests * month * p["sqs_request"].usd,
        "eventbridge": events * month * p["events_custom"].usd,
        "dynamodb_writes": wru * month * p["ddb_wru"].usd,
        "dynamodb_reads": rru * month * p["ddb_rru"].usd,
        "dynamodb_storage": storage_gb * p["ddb_storage_gb"].usd,
        "s3_kms_digests": digests * (p["s3_put"].usd + p["kms_sign"].usd) + p["kms_key"].usd,
    }
    for name, usd in costs.items():
        f[f"cost_{name}_usd_month"] = _figure(usd, "USD/month", _COST_FORMULAS[name])
    f["cost_total_usd_month"] = _figure(sum(costs.values()), "USD/month", "sum of the above")
    return {
        "scale_of_measurements": m.scale,
        "mesh": asdict(mesh),
        "assumptions": asdict(a),
        "region": REGION,
        "prices_as_of": PRICES_AS_OF,
        "figures": f,
        "sources": m.sources,
    }


_COST_FORMULAS = {
    "lambda_requests": "invocations/min x 43,200 min x $0.20 per million",
    "lambda_compute": "GB-s/min x 43,200 x $0.0000166667 per GB-s",
    "sqs": "(sends + receive and delete per batch + idle long polls) x 43,200 x $0.40 per million",
    "eventbridge": "(forwarded Glue events + PutEvents entries) x 43,200 x $1.00 per million",
    "dynamodb_writes": "WRU/min x 43,200 x on-demand price per WRU",
    "dynamodb_reads": "RRU/min x 43,200 x on-demand price per RRU",
    "dynamodb_storage": "(audit records of storage_months + ledger rows) x size x $ per GB-month",
    "s3_kms_digests": "digests/month x (S3 PUT + KMS Sign) + 1 key-month",
}


def from_report(
    report: dict[str, Any], mesh: Mesh = Mesh(), a: Assumptions = Assumptions()
) -> dict[str, Any]:
    """``scale.paper_model`` of a bench report (the template read from the working tree)."""
    return model(measured(report), template_facts(), mesh, a)


# --- markdown ----------------------------------------------------------------------------------
def _number(value: Any) -> str:
    if value is None:
        return "unbounded"
    if isinstance(value, float) and abs(value) < 10 and value != int(value):
        return f"{value:.3g}"
    return f"{value:,.0f}"


def markdown(result: dict[str, Any]) -> str:
    lines = [
        f"Measured at **{result['scale_of_measurements']} scale**; Region {result['region']}, "
        f"prices as of {result['prices_as_of']}.",
        "",
        "| figure | value | unit | formula |",
        "|---|---:|---|---|",
    ]
    for name, fig in result["figures"].items():
        lines.append(f"| `{name}` | {_number(fig['value'])} | {fig['unit']} | {fig['formula']} |")
    lines += ["", "| measured input | bench figure |", "|---|---|"]
    lines += [f"| {k} | `{v}` |" for k, v in result["sources"].items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.paper_model", description=__doc__)
    parser.add_argument("report", type=Path, help="a bench report (build/bench.json)")
    args = parser.parse_args(argv)
    report = json.loads(args.report.read_text())
    print(markdown(from_report(report)), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
