"""Targets (issue 3, section 6; issue 4 for sharing) and the shape of ``build/bench.json``."""

from __future__ import annotations

from typing import Any

# metric -> (comparison, bound)
TARGETS: dict[str, tuple[str, float]] = {
    "writes_per_changed_table": ("<=", 1.05),
    "noop_sweep_writes": ("<=", 0),
    "noop_sweep_reads": ("<=", 250),
    "partition_calls_per_10k": ("<=", 100),
    "calls_vs_naive": ("<=", 0.2),
    "import_vs_floor": ("<=", 1.3),
}

NOTES = [
    "Calls are counted at botocore's BaseClient._make_api_call while a handler runs (or the naive "
    "replicator): one count per request as AWS serves it, a paginator page being one request "
    "(the emulator serves Glue and Lake Formation pages of at most 100).",
    "Catalog calls are Glue, Lake Formation, STS and EventBridge. Writes are state-changing "
    "operations (Create/Update/Delete/Batch*/Add/Remove LF-Tags/PutEvents); reads are Get/List/"
    "Search/BatchGet and STS AssumeRole. Bookkeeping is DynamoDB (sync ledger and audit trail), "
    "always reported apart from catalog calls.",
    "writes_per_changed_table: central catalog writes (Glue, LF-Tags, PutEvents for breaking-"
    "change "
    "notices) during phase A of the mixed workload (updates, creates, drops delivered as events) "
    "divided by the tables the producer changed.",
    "partition_calls_per_10k counts central partition writes only. AWS caps BatchCreatePartition "
    "at 100 entries, so 10,000 new partitions need at least 100 writes, and reading them from the "
    "source needs at least 10 BatchGetPartition calls of 1,000: partition_total_calls_per_10k "
    "cannot be <= 100, which is why the write count is the target figure.",
    "calls_vs_naive: meshgov's catalog calls in every account (reads and writes, phases A and B, "
    "bookkeeping excluded) divided by those of a GDCR-style replicator run once on the resulting "
    "source (GetTable per table, Create/UpdateTable per table, one Create/UpdatePartition per "
    "partition, plus its listings). The naive run does not even propagate the drops.",
    "import_vs_floor: median cold import of functions/catalog_sync/app.py over the median cold "
    "import of the same handler without meshgov (its non-meshgov imports, boto3 and the "
    "Powertools modules it uses, whether its source or meshgov imports them, e.g. the batch "
    "utility meshgov.aws.sqs_batch builds its processor with, plus the Logger/Tracer/Metrics "
    "objects it builds at import), in fresh interpreters, bytecode cached for both: the "
    "cold-start cost that is meshgov's own. Powertools' Tracer() imports aws_xray_sdk.core "
    "(about 150 ms, even with POWERTOOLS_TRACE_DISABLED=true); that is Powertools' cost, so it "
    "is on both sides. import_vs_bare_import_floor reports the ratio against the imports alone "
    "(without building those objects) for comparison. Each timed region ends with gc.collect(), "
    "so each side pays for its own garbage (the floor leaves about 26,000 unreachable objects "
    "that CPython would otherwise collect during meshgov's import); import_vs_floor_unsettled "
    "is the ratio timed before that collection. 31 runs, alternating: one run varies by about "
    "15% on this VM.",
    "noop_sweep_reads includes central's pages (issue 12, item 5: central drift repaired): the "
    "sweep compares every central table with the projection of its source, not only the sync "
    "ledger. Central is read once per sweep with GetDatabases (pages of 100 databases) and Glue "
    "SearchTables (pages of up to 1,000 tables across every database, the service model's "
    "MaxResults maximum; GetTables stops at 100, which would cost 100 more reads), then canonical "
    "hashes are compared in memory: no per-table call. Measured 2026-12-04 at full scale: 217 = "
    "source 205 (100 GetTables + 100 SearchTablesByLFTags + GetDatabases + ListLFTags + 2 "
    "SearchDatabasesByLFTags + AssumeRole) + central 12 (10 SearchTables + 1 GetDatabases + 1 "
    "ListResources of the data-location sweep); writes 0; ledger reads 23 (apart). Central LF-Tags "
    "are not re-read (SearchTablesByLFTags on central would add 100 pages): a table recreated "
    "after a deletion by hand gets its mirrored tags again. Partitioned tables (none in this "
    "scenario) add one central GetPartitions page per 1,000 partitions, as at the source.",
    "Setup that is not measured goes through moto's backends or with Glue's events muted (the "
    "emulator's drop switch): the 10,000 tables of the no-op sweep, the naive replica's initial "
    "copy, and the mixed workload's initial tables (synced by one sweep). Every measured phase "
    "runs the real handlers (functions/catalog_sync, functions/catalog_sweep) in-process.",
]


# usage.<metric> -> (comparison, bound) (issue 14)
USAGE_TARGETS: dict[str, tuple[str, float]] = {
    # the floor: one write per distinct (principal, table, day) group, 10 x 20 x 1 day
    "writes_per_1000_events": ("<=", 200),
}

USAGE_NOTES = [
    "usage.writes_per_1000_events: DynamoDB UpdateItem requests UsageFunction sends to the usage "
    "table for 1,000 Lake Formation GetDataAccess events in CloudTrail's shape (10 principals x "
    "20 tables, 5 each, one day, shuffled) in the envelope central's bus delivers, handed to the "
    "deployed function as ONE SQS batch (the template's BatchSize, 1,000; the forwarding path is "
    "tested in tests/integration/test_usage.py). The target is the floor, the number of distinct "
    "(principal, table, day) groups (200): the store aggregates each group of a batch into ONE "
    "conditional "
    "UpdateItem (ADD reads, event-id digests, engines; first/last use), never a write per event. "
    "It is near the floor only while a batch holds many events of a group: with batches of 10 "
    "(the SQS default) the same events would cost up to 1,000 writes; more writes also come from "
    "a group over 64 events in a batch (the condition's size bound), a second delivery, or an "
    "out-of-order batch (a corrective write of first/last use). bench/usage.py",
]


# sharing.<metric> -> (comparison, bound)
SHARING_TARGETS: dict[str, tuple[str, float]] = {
    "grant_calls_per_100_tables": ("<=", 5),
    "request_to_link_calls": ("<=", 14),
    "request_to_link_calls_10_tables": ("<=", 20),
    # issue 13: one table through a data cells filter
    "request_to_link_calls_filtered": ("<=", 16),
}

SHARING_NOTES = [
    "Each sharing figure is one access request played end to end in a fresh local mesh with the "
    "real handlers: the consumer's PutEvents of Access Requested (its default bus forwards it to "
    "central), AccessRequestsFunction (validation, Access Approval Requested to the producer), "
    "the producer's PutEvents of Access Decided, AccessRequestsFunction again (BatchGrant"
    "Permissions to the consumer account, Access Granted to the consumer's bus), the consumer's "
    "MemberAccessFunction (RAM invitation, resource link, grants to the requesting role, report "
    "to central), until every queue is quiet, the request is ACTIVE and the link exists.",
    "Calls are counted at botocore's BaseClient._make_api_call in every account: every call of "
    "every function invoked meanwhile (central functions, and member functions in the account "
    "they run in), plus the two calls the people make themselves: the consumer's PutEvents of "
    "the request and the producer's PutEvents of the decision. RAM, SQS and the rest count like "
    "Glue and Lake Formation. What the router (SQS receive/delete, the Lambda service's work) "
    "and EventBridge's own rule deliveries do is not an API call and is not counted.",
    "request_to_link_calls excludes meshgov's own state and audit writes, reported as "
    "bookkeeping_calls: every DynamoDB call (requests table, audit trail) and the member's "
    "Member Actions Recorded PutEvents. Everything else is in, including side effects that are "
    "not needed for the link (see calls_by_function in the details: the consumer's resource "
    "link is a Glue database, its Glue event is forwarded to central, and CatalogSyncFunction "
    "refuses it as not from a producer and parks it in CatalogEventsDLQ: one sqs:SendMessage "
    "and one audit write per new link, central_catalog_dead_letters).",
    "grant_calls_per_100_tables: central's BatchGrantPermissions calls for one approved request "
    "covering 100 tables, asked as an LF-Tag expression (two LFTagPolicy entries: DESCRIBE on "
    "the databases, the permissions on the tables) and as a whole database (DESCRIBE on it, the "
    "permissions on its TableWildcard): the larger of the two is the figure, since that is how "
    "meshgov shares 100 tables. Both shapes are in scenarios.sharing.grant_shapes.",
    "grant_calls_per_100_named_tables: the same request naming the 100 tables one by one. Each "
    "named table is one entry, plus the database's DESCRIBE entry the consumer needs to see the "
    "database: 101 entries, and BatchGrantPermissions takes at most 20 entries a call, so "
    "ceil(101/20) = 6 calls is the floor for that shape. The consumer's own grants to its role "
    "follow the same arithmetic (also 101 entries for an LF-Tag request: LF-Tags cannot be "
    "attached to shared resources, so its role is granted the matched tables by name).",
    "request_to_link_calls_filtered (issue 13): the one-table flow again, from a consumer "
    "account of its own, asking for that table through a filter (every column but note, rows "
    "where id > 0), counted the same way. On top of the one-table flow central makes the "
    "request's data cells filter (CreateDataCellsFilter) and grants SELECT on it instead of on "
    "the table, and the consumer re-grants the filter to its role; the bench then checks that "
    "the filter in central has the cells approved (not counted). bookkeeping_calls_filtered is "
    "its bookkeeping, counted apart as for the other flows. Measured at full scale: 15 = the "
    "one-table flow's 14 + central's CreateDataCellsFilter (the same one BatchGrantPermissions "
    "in central and in the consumer, the filter taking the table's entry); bookkeeping 38 = 36 "
    "+ the audit record of the filter's creation (GetItem and TransactWriteItems).",
    "Published comparison (not measured here): aws-data-mesh-utils needs 28 calls from request "
    "to usable link for one table and 118 for ten tables.",
    "Setup that is not measured: the producer's database and tables (Glue's events muted, then "
    "one central sweep), and the consumer's IAM role.",
]


# audit.<metric> -> (comparison, bound) (issue 5, section 7)
AUDIT_TARGETS: dict[str, tuple[str, float]] = {
    "verify_records_per_s": (">=", 100_000),
}

# scale.<metric> -> (comparison, bound) (issue 16, "Benchmarks")
SCALE_TARGETS: dict[str, tuple[str, float]] = {
    "audit_attempts_per_append_32_writers": ("<=", 1.2),
    "max_calls_per_invocation": ("<=", 600),
}

SCALE_NOTES = [
    "audit_attempts_per_append_32_writers: 32 writer threads (each with its own boto3 session "
    "and DynamoAuditTrail) append to one audit table in in-process moto, whose "
    "TransactWriteItems the local mesh makes atomic and serialized (a condition that no longer "
    "holds cancels the transaction, as on DynamoDB); TransactWriteItems tried per record "
    "appended. Each writer starts on a random one of the trail's 64 shards and moves to "
    "another when it loses a race (docs/adr/0019-sharded-audit-trail.md); 1.0 means nobody "
    "ever lost. The full scale appends 50 records per writer, smoke 10. "
    "audit_32_writers_intact: every append stored once, each shard's seqs contiguous, "
    "verify_chain passes with the heads and the metadata's shard count.",
    "max_calls_per_invocation, sweep_*_10k_tables, onboard_calls (bench/scale.py): 10 producers "
    "x 1,000 published tables (databases of 100; smoke: 2 x 40 in databases of 20), their Glue "
    "events lost, registered with Member Add Requested and swept by the fan-out sweep: the "
    "planner, then the SweepQueue worked by 2 worker threads (the event source's maximum "
    "concurrency, docs/adr/0022-fan-out-sweeps.md). max_calls_per_invocation: the most AWS calls "
    "(every service, bookkeeping included) any one handler invocation made from registration to "
    "central converged (target 600: 60 s at 100 ms a call). sweep_invocations_10k_tables: the "
    "planner's and the workers' invocations; sweep_wall_s_10k_tables: the sweep's wall time on "
    "in-process moto (2 threads under one GIL: not faster than one). The *_single figures: the "
    "same tables swept by the one-invocation sweep, in the same run; "
    "calls_of_the_single_invocation is what that one invocation made. onboard_calls: every AWS "
    "call from the registration to central converged (the sweep's announcements delivered), "
    "per producer of 1,000 tables.",
]

AUDIT_NOTES = [
    "append_per_s: 8 writer threads, each with its own boto3 session and client, append to one "
    "audit table in in-process moto through DynamoAuditTrail (GetItem of a shard's head, then "
    "one TransactWriteItems putting the record and moving the head, both conditional; a writer "
    "that lost the race moves to another of the 64 shards). Appends per second of wall "
    "time; no target. moto spends a few ms per call under the GIL, so this measures the "
    "protocol's overhead on moto (two calls per record, retries), not DynamoDB's throughput. "
    "append_chain_intact: afterwards every append is stored once, each shard's seqs are 1..n "
    "without a gap and verify_chain passes (with the heads).",
    "verify_records_per_s: records as the audit table stores them (canonical text, prev_hash, "
    "hash), appended in turn to the trail's 64 shards and generated in memory (not timed), then "
    "verify_chain over all of them, shard after shard, one SHA-256 per record and one digest "
    "(binding all 64 heads) per 100,000 records; reading them from DynamoDB is not included. "
    "The full scale verifies 1,000,000 records.",
]


def evaluate(
    values: dict[str, float], targets_of: dict[str, tuple[str, float]] | None = None
) -> tuple[dict[str, Any], dict[str, bool], bool]:
    bounds = TARGETS if targets_of is None else targets_of
    targets = {name: f"{op} {bound:g}" for name, (op, bound) in bounds.items()}
    passed = {}
    for name, (op, bound) in bounds.items():
        value = values.get(name)
        passed[name] = value is not None and (value <= bound if op == "<=" else value >= bound)
    return targets, passed, all(passed.values())


# --- proof: hostile input (issue 6, item 3) ---
# proof.<metric> -> (comparison, bound); hostile_cases is a floor: the corpus must stay >= 60.
HOSTILE_TARGETS: dict[str, tuple[str, float]] = {
    "hostile_cases": (">=", 60),
    "hostile_failures": ("<=", 0),
}

HOSTILE_NOTES = [
    "hostile_cases / hostile_failures: the corpus of tests/hostile/corpus.py run by "
    "bench/hostile.py, one local mesh per entry point (Glue events as they reach "
    "CatalogEventsQueue with a chosen account, meshgov.catalog sync requests, access requests, "
    "decisions, revocations and member reports, the member's meshgov bus and RAM invitations, "
    "the CLI's checks). A case fails when anything changed in any account (central catalog, "
    "LF-Tags, Lake Formation grants everywhere, requests, member databases, RAM invitations and "
    "shares), when the refusal is not one audit record with the expected error code and a "
    "reason naming the problem, when a catalog event is not parked in CatalogEventsDLQ with "
    "meshgov-error-code, or when a message was retried. At smoke scale, one case per entry "
    "point, and hostile_cases has no floor.",
]
# --- end hostile input ---


# contracts.<metric> -> (comparison, bound) (issue 15, bench/contracts.py)
CONTRACTS_TARGETS: dict[str, tuple[str, float]] = {
    # validating a table whose contract did not change costs no AWS call
    "extra_calls_per_unchanged_table": ("<=", 0),
}

CONTRACTS_NOTES = [
    "contracts.extra_calls_per_unchanged_table: every AWS call of the real CatalogSyncFunction "
    "(Glue, Lake Formation, STS, S3, DynamoDB ledger and audit; a page is one call) reconciling "
    "a database of N tables (100; smoke 2) whose ODCS contracts (meshgov:contract) were accepted "
    "and did not change, minus the calls for the same N tables without contracts, divided by N. "
    "The sync ledger's table row keeps a digest of the contract's location and the contracted "
    "shape (ADR 0016), so an unchanged table costs no contract GetObject and no head GetItem. "
    "'touched' (details): each table's description changed, a change no contract is about, "
    "delivered as Glue events: the same 0 extra. Setup not measured: the publication, the "
    "contract objects, their acceptance (one head per table, checked). bench/contracts.py",
]
