"""The hostile input corpus (issue 6): input meshgov must refuse, at every entry point.

Each :class:`HostileCase` is data: how the input is injected into a running local mesh, the error
code the refusal must carry, which audit record says so and a phrase the reason must contain.
:mod:`tests.hostile.check` runs a case against a snapshot of every account; the cases of one
entry point share one mesh (:data:`GROUPS`), built by its setup.

Entry points: Glue catalog events as they arrive in central (the SQS message body sent straight to
``CatalogEventsQueue``: EventBridge refuses ``aws.*`` sources in PutEvents, so the envelope's
``account`` is set here — how a spoofed account is simulated), ``meshgov.catalog`` sync requests
and access requests, decisions, revocations and member reports (a member's default bus, forwarded
to central), events on a member's ``meshgov`` bus and RAM invitations (the member function), and
the CLI's own checks. No pytest here: ``bench/hostile.py`` runs the corpus too.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError
from typer.testing import CliRunner

from meshgov.audit import AuditEntry
from meshgov.contracts.access_events import (
    ACCESS_DECIDED,
    ACCESS_GRANTED,
    ACCESS_REQUESTED,
    ACCESS_REVIEWED,
    ACCESS_REVOKE_REQUESTED,
    ACCESS_REVOKED,
    ACCESS_SOURCE,
    MEMBER_ACTIONS,
)
from meshgov.contracts.data_contract_events import CONTRACT_PUBLISHED
from meshgov.contracts.glue_events import (
    CATALOG_SOURCE,
    DATABASE_STATE_CHANGE,
    TABLE_STATE_CHANGE,
)
from meshgov.contracts_odcs.document import MAX_CONTRACT_BYTES
from meshgov.lineage.events import DETAIL_TYPE as LINEAGE_DETAIL_TYPE
from meshgov.lineage.events import SOURCE as LINEAGE_SOURCE
from meshgov_local.config import MeshConfig
from meshgov_local.emulator import controls
from meshgov_local.emulator.iam_bootstrap import ensure_admin_role
from meshgov_local.mesh import LocalMesh
from meshgov_local.parquet_data import write_table_data
from meshgov_local.quality_runs import run_quality_check
from tests.integration.access_helpers import (
    HR,
    analyst_arn,
    create_role,
    decide,
    invitations,
    publish_sales,
    request,
    request_id,
    two_producer_config,
)
from tests.integration.helpers import columns, create_published_database, table_input
from tests.integration.test_data_contracts import BUCKET as CONTRACTS_BUCKET
from tests.integration.test_data_contracts import V1 as CONTRACT_V1
from tests.integration.test_data_contracts import contracts_config, odcs, put_contract

OUTSIDER = "555555555555"  # an account in no mesh
OUTSIDER2 = "666666666666"
UNKNOWN_REQUEST = "req-000000000000000000000000"
PENDING, ACTIVE, DENIED = "standing-pending", "standing-active", "standing-denied"
DELETE = object()  # a field to leave out of a detail

Inject = Callable[[LocalMesh], str | None]
Check = Callable[[LocalMesh], str | None]


@dataclass(frozen=True)
class HostileCase:
    """One hostile input and what meshgov must do with it.

    ``inject`` returns text the refusal must appear in when no audit record can exist (the CLI's
    local checks, a bus policy refusing PutEvents); ``expect_audit`` is None exactly then.
    ``setup`` is the attacker's own doing outside meshgov (an outsider's Lake Formation grant),
    done before the snapshot; ``changes`` names the snapshot parts the defence itself changes
    (an invitation rejected), which ``after`` then checks.
    """

    id: str
    entry_point: str
    kind: str
    description: str
    inject: Inject
    expect_code: str | None
    expect_audit: Callable[[AuditEntry], bool] | None
    says: str
    outcome: str = "REFUSED"
    dead_letter: str | None = None
    setup: Callable[[LocalMesh], None] | None = None
    changes: frozenset[str] = frozenset()
    after: Check | None = None


def audited(action: str, actor: str | None = None) -> Callable[[AuditEntry], bool]:
    def match(entry: AuditEntry) -> bool:
        return entry.action == action and (actor is None or entry.actor.startswith(actor))

    return match


# --- Glue catalog events, as they reach central's CatalogEventsQueue -------------------------

SALES = "222222222222"
CONSUMER = "333333333333"
CENTRAL = "111111111111"


def glue_body(
    account: Any = SALES,
    detail_type: Any = DATABASE_STATE_CHANGE,
    detail: Any = None,
    **envelope: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "version": "0",
        "id": f"hostile-{uuid.uuid4()}",
        "detail-type": detail_type,
        "source": "aws.glue",
        "account": account,
        "time": "2026-11-25T10:00:00Z",
        "region": "eu-west-1",
        "resources": [],
        "detail": detail
        if detail is not None
        else {"databaseName": "sales", "typeOfChange": "CreateTable", "changedTables": ["t0"]},
    }
    if account is DELETE:
        del body["account"]
    for key, value in envelope.items():
        key = key.replace("_", "-")
        if value is DELETE:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def send_body(mesh: LocalMesh, body: Any) -> str | None:
    text = body if isinstance(body, str) else json.dumps(body)
    mesh.client(mesh.central, "sqs").send_message(
        QueueUrl=mesh.deployment.queue_urls["CatalogEventsQueue"], MessageBody=text
    )
    return None


def glue(
    id: str,
    kind: str,
    description: str,
    body: Callable[[], Any],
    code: str,
    says: str,
) -> HostileCase:
    return HostileCase(
        id=f"glue-{id}",
        entry_point="glue-events",
        kind=kind,
        description=description,
        inject=lambda mesh: send_body(mesh, body()),
        expect_code=code,
        expect_audit=audited("event:received", "meshgov:catalog-sync"),
        says=says,
        dead_letter="CatalogEventsDLQ",
    )


def table_detail(**changes: Any) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "databaseName": "sales",
        "tableName": "t0",
        "typeOfChange": "BatchCreatePartition",
        "changedPartitions": ["2026"],
    }
    return _apply(detail, changes)


def db_detail(**changes: Any) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "databaseName": "sales",
        "typeOfChange": "CreateTable",
        "changedTables": ["t0"],
    }
    return _apply(detail, changes)


def _apply(detail: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    for key, value in changes.items():
        if value is DELETE:
            detail.pop(key, None)
        else:
            detail[key] = value
    return detail


M, U = "EventMalformed", "ProducerUnknown"
GLUE_CASES = [
    glue(
        "consumer-account",
        "spoofed-account",
        "a consumer's Glue event (not a producer)",
        lambda: glue_body(CONSUMER),
        U,
        "333333333333 is not a registered producer",
    ),
    glue(
        "outsider-account",
        "spoofed-account",
        "an account in no mesh",
        lambda: glue_body(OUTSIDER),
        U,
        "555555555555 is not a registered producer",
    ),
    glue(
        "central-account",
        "spoofed-account",
        "central's own account as the sender",
        lambda: glue_body(CENTRAL),
        U,
        "111111111111 is not a registered producer",
    ),
    glue(
        "account-not-digits",
        "spoofed-account",
        "an account id that is not 12 digits",
        lambda: glue_body("22222222222x"),
        M,
        "account",
    ),
    glue(
        "account-missing",
        "spoofed-account",
        "no account in the envelope",
        lambda: glue_body(account=DELETE),
        M,
        "account",
    ),
    glue(
        "account-number",
        "wrong-type",
        "the account as a JSON number",
        lambda: glue_body(222222222222),
        M,
        "account",
    ),
    glue(
        "not-json",
        "malformed",
        "a body that is not JSON",
        lambda: "{not json",
        M,
        "not an EventBridge event",
    ),
    glue(
        "json-array",
        "wrong-type",
        "a JSON array instead of an event",
        lambda: "[1, 2, 3]",
        M,
        "not an EventBridge event",
    ),
    glue(
        "source-s3",
        "malformed",
        "a source meshgov does not take",
        lambda: glue_body(source="aws.s3"),
        M,
        "source",
    ),
    glue(
        "unknown-detail-type",
        "malformed",
        "a Glue detail-type meshgov does not know",
        lambda: glue_body(detail_type="Glue Data Catalog Column Statistics"),
        M,
        "unexpected event",
    ),
    glue(
        "unknown-change",
        "malformed",
        "typeOfChange DropEverything",
        lambda: glue_body(detail=db_detail(typeOfChange="DropEverything")),
        M,
        "typeOfChange",
    ),
    glue(
        "newline-name",
        "bad-name",
        "a database name with a line break (Glue refuses it)",
        lambda: glue_body(detail=db_detail(databaseName="sales\nDROP")),
        M,
        "not a valid Glue name",
    ),
    glue(
        "name-256",
        "bad-name",
        "a database name of 256 characters",
        lambda: glue_body(detail=db_detail(databaseName="d" * 256)),
        M,
        "not a valid Glue name",
    ),
    glue(
        "empty-name",
        "bad-name",
        "an empty database name",
        lambda: glue_body(detail=db_detail(databaseName="")),
        M,
        "not a valid Glue name",
    ),
    glue(
        "nul-table",
        "bad-name",
        "a table name with a NUL character",
        lambda: glue_body(detail_type=TABLE_STATE_CHANGE, detail=table_detail(tableName="t0\x00x")),
        M,
        "not a valid Glue name",
    ),
    glue(
        "lone-surrogate",
        "unicode",
        "a table name with a lone UTF-16 surrogate",
        lambda: glue_body(detail_type=TABLE_STATE_CHANGE, detail=table_detail(tableName="t\ud800")),
        M,
        "not a valid Glue name",
    ),
    glue(
        "trailing-newline",
        "bad-name",
        "a table name ending in a line break (a regex '$' lets it through)",
        lambda: glue_body(detail=db_detail(changedTables=["t0\n"])),
        M,
        "not a valid Glue name",
    ),
    glue(
        "name-number",
        "wrong-type",
        "databaseName as a number",
        lambda: glue_body(detail=db_detail(databaseName=42)),
        M,
        "databaseName",
    ),
    glue(
        "tables-string",
        "wrong-type",
        "changedTables as a string",
        lambda: glue_body(detail=db_detail(changedTables="t0")),
        M,
        "changedTables",
    ),
    glue(
        "detail-string",
        "wrong-type",
        "detail as a string",
        lambda: glue_body(detail="DROP DATABASE sales"),
        M,
        "detail",
    ),
    glue(
        "no-table-named",
        "malformed",
        "CreateTable naming no table",
        lambda: glue_body(detail=db_detail(changedTables=[])),
        M,
        "names no table",
    ),
    glue(
        "too-many-tables",
        "oversized",
        "changedTables of 5,000 names (Glue sends at most 100)",
        lambda: glue_body(detail=db_detail(changedTables=[f"t{i}" for i in range(5000)])),
        M,
        "changedTables",
    ),
    glue(
        "id-oversized",
        "oversized",
        "an event id of 1,000 characters",
        lambda: glue_body(id="x" * 1000),
        M,
        "id",
    ),
    glue("id-missing", "malformed", "no event id", lambda: glue_body(id=DELETE), M, "id"),
]


# --- meshgov.catalog sync requests from a member's default bus -------------------------------


def sync(sender: str, detail: Any) -> Inject:
    def inject(mesh: LocalMesh) -> str | None:
        mesh.put_event(sender, "meshgov.catalog", "Catalog Sync Requested", detail)
        return None

    return inject


def sync_case(
    id: str, kind: str, description: str, sender: str, detail: Any, code: str, says: str
) -> HostileCase:
    return HostileCase(
        id=f"sync-{id}",
        entry_point="glue-events",
        kind=kind,
        description=description,
        inject=sync(sender, detail),
        expect_code=code,
        expect_audit=audited("event:received", "meshgov:catalog-sync"),
        says=says,
        dead_letter="CatalogEventsDLQ",
    )


SYNC_CASES = [
    sync_case(
        "from-consumer",
        "spoofed-account",
        "a consumer asks central to sync 'sales'",
        CONSUMER,
        {"databaseName": "sales"},
        U,
        "not a registered producer",
    ),
    sync_case(
        "unknown-field",
        "unknown-fields",
        "an unknown field next to the database",
        SALES,
        {"databaseName": "sales", "drop": "everything"},
        M,
        "Extra inputs",
    ),
    sync_case(
        "too-many-tables",
        "oversized",
        "101 tableNames (at most 100)",
        SALES,
        {"databaseName": "sales", "tableNames": [f"t{i}" for i in range(101)]},
        M,
        "tableNames",
    ),
    sync_case(
        "name-list",
        "wrong-type",
        "databaseName as a list",
        SALES,
        {"databaseName": ["sales"]},
        M,
        "databaseName",
    ),
    sync_case(
        "no-name", "malformed", "no databaseName", SALES, {"tableNames": ["t0"]}, M, "databaseName"
    ),
    sync_case(
        "newline-table",
        "bad-name",
        "a table name with a line break",
        SALES,
        {"databaseName": "sales", "tableNames": ["t0\r\nx"]},
        M,
        "not a valid Glue name",
    ),
    sync_case(
        "name-300",
        "bad-name",
        "a database name of 300 characters",
        SALES,
        {"databaseName": "s" * 300},
        M,
        "not a valid Glue name",
    ),
]


# --- names the producer's own Glue accepts and consumers could be fooled by (issue 12) -------
# Glue stores these names; meshgov refuses to publish them: one catalog:name record, the producer
# told on its own bus (not in the snapshot), nothing central, nothing parked (the event was fine).
# The producer's CreateTable is its own doing (setup, before the snapshot: Lake Formation gives
# the creator its permissions); the Glue event it emitted is the input, delivered by the settle.


def producer_table(name: str) -> Callable[[LocalMesh], None]:
    def create(mesh: LocalMesh) -> None:
        mesh.client(mesh.producer, "glue").create_table(
            DatabaseName="sales",
            TableInput={
                "Name": name,
                "StorageDescriptor": {"Columns": [{"Name": "id", "Type": "int"}]},
            },
        )

    return create


def _queued(_: LocalMesh) -> str | None:
    return None  # the Glue event of the setup's CreateTable is already on its way


def name_case(id: str, kind: str, description: str, name: str, code: str, says: str) -> HostileCase:
    return HostileCase(
        id=f"name-{id}",
        entry_point="glue-events",
        kind=kind,
        description=description,
        inject=_queued,
        expect_code=code,
        expect_audit=audited("catalog:name", "meshgov:catalog-sync"),
        says=says,
        setup=producer_table(name),
    )


NAME_CASES = [
    name_case(
        "homoglyph-mixed-script",
        "unicode",
        "a table 't', Cyrillic o, '0': Latin and Cyrillic letters in one name",
        "t\u043e0",
        "NameMixedScript",
        "mixes scripts",
    ),
    name_case(
        "homoglyph-whole-script",
        "unicode",
        "a table named 'copy' in Cyrillic letters only",
        "\u0441\u043e\u0440\u0443",
        "NameLooksLikeAscii",
        "reads as 'copy'",
    ),
    name_case(
        "homoglyph-fullwidth",
        "unicode",
        "a table 't0' in fullwidth letters (compatibility characters)",
        "\uff54\uff10",
        "NameCompatibilityForm",
        "compatibility characters",
    ),
    name_case(
        "zero-width",
        "unicode",
        "a table 't0' with a zero-width space inside",
        "t\u200b0",
        "NameNotQueryable",
        "ZERO WIDTH SPACE",
    ),
]


# --- access requests, decisions, revocations and reports (member default bus -> central) -----


def ask(sender: str | None = None, **changes: Any) -> Inject:
    """An Access Requested from the consumer (or ``sender``), base detail with ``changes``."""

    def inject(mesh: LocalMesh) -> str | None:
        consumer = mesh.consumer
        detail: dict[str, Any] = {
            "clientToken": f"hostile-{uuid.uuid4().hex[:12]}",
            "consumerAccount": consumer,
            "principal": analyst_arn(consumer),
            "resource": {"database": "sales_orders", "tables": ["t0"]},
            "permissions": ["SELECT"],
            "justification": "quarterly revenue dashboard",
            "durationDays": 30,
        }
        mesh.put_event(sender or consumer, ACCESS_SOURCE, ACCESS_REQUESTED, _apply(detail, changes))
        return None

    return inject


def put(sender: str, detail_type: str, detail: Callable[[LocalMesh], Any]) -> Inject:
    def inject(mesh: LocalMesh) -> str | None:
        mesh.put_event(sender, ACCESS_SOURCE, detail_type, detail(mesh))
        return None

    return inject


def req(id: str, kind: str, description: str, inject: Inject, code: str, says: str) -> HostileCase:
    return HostileCase(
        id=f"request-{id}",
        entry_point="access",
        kind=kind,
        description=description,
        inject=inject,
        expect_code=code,
        expect_audit=audited("access:request", "meshgov:access-requests"),
        says=says,
    )


def on(
    action: str, id: str, kind: str, description: str, inject: Inject, code: str, says: str
) -> HostileCase:
    return HostileCase(
        id=id,
        entry_point="access",
        kind=kind,
        description=description,
        inject=inject,
        expect_code=code,
        expect_audit=audited(action, "meshgov:access-requests"),
        says=says,
    )


def standing(token: str) -> Callable[[LocalMesh], str]:
    return lambda mesh: request_id(mesh, token)


RM, PNG = "RequestMalformed", "PermissionNotGrantable"
REQUEST_CASES = [
    req(
        "consumer-spoofed",
        "spoofed-account",
        "the producer asks in the consumer's name",
        ask(SALES),
        "ConsumerMismatch",
        "came from account 222222222222",
    ),
    req(
        "consumer-spoofed-hr",
        "spoofed-account",
        "another producer asks in the consumer's name",
        ask(HR),
        "ConsumerMismatch",
        "came from account 444444444444",
    ),
    req(
        "principal-elsewhere",
        "spoofed-account",
        "a principal of another account",
        ask(principal=analyst_arn(HR)),
        RM,
        "is not in the consumer account",
    ),
    req(
        "principal-user",
        "malformed",
        "an IAM user instead of a role",
        ask(principal=f"arn:aws:iam::{CONSUMER}:user/analyst"),
        RM,
        "principal",
    ),
    req(
        "drop",
        "cross-account-drop",
        "DROP across accounts",
        ask(permissions=["SELECT", "DROP"]),
        PNG,
        "not DROP",
    ),
    req(
        "all", "cross-account-drop", "ALL (implies DROP)", ask(permissions=["ALL"]), PNG, "not ALL"
    ),
    req("alter", "cross-account-drop", "ALTER", ask(permissions=["ALTER"]), PNG, "not ALTER"),
    req(
        "grant-option",
        "cross-account-drop",
        "DATA_LOCATION_ACCESS",
        ask(permissions=["DATA_LOCATION_ACCESS"]),
        PNG,
        "not DATA_LOCATION_ACCESS",
    ),
    req(
        "unknown-field",
        "unknown-fields",
        "an unknown field asking for admin rights",
        ask(admin=True),
        RM,
        "Extra inputs",
    ),
    req(
        "unknown-resource-field",
        "unknown-fields",
        "an unknown field inside the resource",
        ask(resource={"database": "sales_orders", "catalogId": SALES}),
        RM,
        "Extra inputs",
    ),
    req(
        "permissions-string",
        "wrong-type",
        "permissions as a string",
        ask(permissions="SELECT"),
        RM,
        "permissions",
    ),
    req(
        "duration-text",
        "wrong-type",
        "durationDays as words",
        ask(durationDays="thirty"),
        RM,
        "durationDays",
    ),
    req(
        "duration-negative",
        "malformed",
        "a negative duration",
        ask(durationDays=-1),
        RM,
        "durationDays",
    ),
    req(
        "duration-oversized",
        "oversized",
        "a duration of 4,000 days",
        ask(durationDays=4000),
        RM,
        "durationDays",
    ),
    req(
        "justification-oversized",
        "oversized",
        "a justification of 5,000 characters",
        ask(justification="x" * 5000),
        RM,
        "justification",
    ),
    req(
        "tables-oversized",
        "oversized",
        "101 tables",
        ask(resource={"database": "sales_orders", "tables": [f"t{i}" for i in range(101)]}),
        RM,
        "tables",
    ),
    req(
        "token-injection",
        "injection",
        "a client token carrying SQL",
        ask(clientToken="x'; DROP TABLE requests;--"),
        RM,
        "clientToken",
    ),
    req(
        "database-injection",
        "injection",
        "a database name carrying SQL",
        ask(resource={"database": "sales_orders'; DROP DATABASE sales_orders;--"}),
        "ResourceNotPublished",
        "published",
    ),
    req(
        "table-path",
        "injection",
        "a table name that is a path",
        ask(resource={"database": "sales_orders", "tables": ["../../t0"]}),
        "ResourceNotPublished",
        "published",
    ),
    req(
        "database-newline",
        "bad-name",
        "a database name with a line break",
        ask(resource={"database": "sales_orders\nx"}),
        RM,
        "not a valid Glue name",
    ),
    req(
        "table-surrogate",
        "unicode",
        "a table name with a lone surrogate",
        ask(resource={"database": "sales_orders", "tables": ["t\udc00"]}),
        RM,
        "not a valid Glue name",
    ),
    req(
        "homoglyph-database",
        "unicode",
        "a Cyrillic 's' in the database name",
        ask(resource={"database": "\u0455ales_orders"}),
        "ResourceNotPublished",
        "published",
    ),
    req(
        "unknown-database",
        "malformed",
        "a database nobody published",
        ask(resource={"database": "hr_people"}),
        "ResourceNotPublished",
        "published",
    ),
    req(
        "both-resource-and-tags",
        "malformed",
        "a resource and a tag expression",
        ask(tagExpression={"conditions": [{"key": "classification", "values": ["public"]}]}),
        RM,
        "exactly one of resource or tagExpression",
    ),
    req(
        "unknown-tag-key",
        "malformed",
        "an LF-Tag key that does not exist",
        ask(resource=DELETE, tagExpression={"conditions": [{"key": "nope", "values": ["x"]}]}),
        "TagKeyUnknown",
        "unknown tag key",
    ),
    req(
        "token-reused",
        "forged-decision",
        "a standing request's token with other content",
        ask(clientToken=PENDING, resource={"database": "sales_orders", "tables": ["t1"]}),
        "ClientTokenReused",
        "with other content",
    ),
    # Filtered requests (issue 13): the row filter and the column set are checked against the
    # table before anything is recorded.
    *(
        req(
            f"filter-{name}",
            kind,
            description,
            ask(
                resource={
                    "database": "sales_orders",
                    "tables": ["t0"],
                    "filters": [{"table": "t0", **cells}],
                }
            ),
            code,
            says,
        )
        for name, kind, description, cells, code, says in (
            (
                "injection",
                "injection",
                "a row filter that ends a statement and starts another",
                {"rowFilter": "amount > 0; DROP TABLE t0"},
                "RowFilterInvalid",
                "row filter on sales_orders.t0",
            ),
            (
                "subquery",
                "injection",
                "a row filter with a subquery reading another table",
                {"rowFilter": "customer IN (SELECT customer FROM sales_orders.t1)"},
                "RowFilterUnsupported",
                "row filter on sales_orders.t0",
            ),
            (
                "function",
                "malformed",
                "a row filter calling a function Lake Formation does not list",
                {"rowFilter": "lower(customer) = 'x'"},
                "RowFilterUnsupported",
                "row filter on sales_orders.t0",
            ),
            (
                "unknown-column",
                "unknown-resource",
                "a row filter on a column the table does not have",
                {"rowFilter": "salary > 100"},
                "RowFilterColumnUnknown",
                "salary",
            ),
            (
                "too-long",
                "oversized",
                "a row filter longer than Lake Formation takes",
                {"rowFilter": "customer = '" + "x" * 2100 + "'"},
                "RowFilterTooLong",
                "fewer than 2048",
            ),
            (
                "excluded-unknown",
                "unknown-resource",
                "excluding a column the table does not have",
                {"excludedColumns": ["salary"]},
                "ColumnUnknown",
                "has no column salary",
            ),
            (
                "excludes-all",
                "malformed",
                "a filter that excludes every column",
                {"excludedColumns": ["id", "amount", "customer"]},
                "FilterEmpty",
                "excludes every column",
            ),
        )
    ),
    req(
        "filter-stray-table",
        "malformed",
        "a filter on a table the request does not name",
        ask(
            resource={
                "database": "sales_orders",
                "tables": ["t0"],
                "filters": [{"table": "t1", "columns": ["id"]}],
            }
        ),
        RM,
        "filters name tables the request does not",
    ),
    req(
        "filter-describe-only",
        "malformed",
        "a filter on a DESCRIBE-only request",
        ask(
            permissions=["DESCRIBE"],
            resource={
                "database": "sales_orders",
                "tables": ["t0"],
                "filters": [{"table": "t0", "rowFilter": "amount > 0"}],
            },
        ),
        "FilterWithoutSelect",
        "restricts SELECT",
    ),
]


def decided(
    request: Callable[[LocalMesh], str], decision: str = "APPROVE", **extra: Any
) -> Callable[[LocalMesh], Any]:
    def detail(mesh: LocalMesh) -> Any:
        return _apply({"requestId": request(mesh), "decision": decision, "reason": "ok"}, extra)

    return detail


def reviewed(
    request: Callable[[LocalMesh], str], decision: str = "KEEP", **extra: Any
) -> Callable[[LocalMesh], Any]:
    def detail(mesh: LocalMesh) -> Any:
        return _apply({"requestId": request(mesh), "decision": decision, "reason": "ok"}, extra)

    return detail


def revoked(request: Callable[[LocalMesh], str], **extra: Any) -> Callable[[LocalMesh], Any]:
    return lambda mesh: _apply({"requestId": request(mesh), "reason": "not needed"}, extra)


DECIDED, REVOKE = "access:access-decided", "access:access-revoke-requested"
REVIEWED = "access:access-reviewed"
REPORT = "access:member-actions-recorded"


def unknown(_: LocalMesh) -> str:
    return UNKNOWN_REQUEST


DECISION_CASES = [
    on(
        DECIDED,
        "decide-by-consumer",
        "forged-decision",
        "the consumer approves its own request",
        put(CONSUMER, ACCESS_DECIDED, decided(standing(PENDING))),
        "DeciderNotOwner",
        "does not own",
    ),
    on(
        DECIDED,
        "decide-by-other-producer",
        "forged-decision",
        "a producer approves another producer's data",
        put(HR, ACCESS_DECIDED, decided(standing(PENDING))),
        "DeciderNotOwner",
        "does not own",
    ),
    on(
        DECIDED,
        "decide-unknown",
        "forged-decision",
        "a decision on no request",
        put(SALES, ACCESS_DECIDED, decided(unknown)),
        "RequestUnknown",
        "no request",
    ),
    on(
        DECIDED,
        "decide-denied",
        "forged-decision",
        "approving a denied request",
        put(SALES, ACCESS_DECIDED, decided(standing(DENIED))),
        "DecisionOutOfOrder",
        "not waiting for a decision",
    ),
    on(
        DECIDED,
        "decide-active-deny",
        "forged-decision",
        "denying an active request afterwards",
        put(SALES, ACCESS_DECIDED, decided(standing(ACTIVE), "DENY")),
        "DecisionOutOfOrder",
        "not waiting for a decision",
    ),
    on(
        DECIDED,
        "decide-maybe",
        "wrong-type",
        "a verdict that is neither APPROVE nor DENY",
        put(SALES, ACCESS_DECIDED, decided(standing(PENDING), "MAYBE")),
        "DecisionMalformed",
        "APPROVE",
    ),
    on(
        DECIDED,
        "decide-unknown-field",
        "unknown-fields",
        "a decision granting extra rights",
        put(SALES, ACCESS_DECIDED, decided(standing(PENDING), permissions=["DROP"])),
        "DecisionMalformed",
        "Extra inputs",
    ),
    on(
        DECIDED,
        "decide-id-oversized",
        "oversized",
        "a request id of 1,000 characters",
        put(SALES, ACCESS_DECIDED, decided(lambda _: "r" * 1000)),
        "DecisionMalformed",
        "at most 128",
    ),
    on(
        REVIEWED,
        "review-by-other-producer",
        "forged-decision",
        "a producer keeps another producer's grant in its review",
        put(HR, ACCESS_REVIEWED, reviewed(standing(ACTIVE))),
        "ReviewerNotOwner",
        "does not own",
    ),
    on(
        REVIEWED,
        "review-by-consumer",
        "forged-decision",
        "the consumer keeps its own grant",
        put(CONSUMER, ACCESS_REVIEWED, reviewed(standing(ACTIVE))),
        "ReviewerNotOwner",
        "does not own",
    ),
    on(
        REVIEWED,
        "review-not-under-review",
        "forged-decision",
        "revoking by review a grant no review was asked for",
        put(SALES, ACCESS_REVIEWED, reviewed(standing(ACTIVE), "REVOKE")),
        "ReviewOutOfOrder",
        "not under review",
    ),
    on(
        REVIEWED,
        "review-maybe",
        "wrong-type",
        "a review answer that is neither KEEP nor REVOKE",
        put(SALES, ACCESS_REVIEWED, reviewed(standing(ACTIVE), "MAYBE")),
        "ReviewMalformed",
        "KEEP",
    ),
    on(
        REVIEWED,
        "review-unknown-field",
        "unknown-fields",
        "a review answer extending the grant",
        put(SALES, ACCESS_REVIEWED, reviewed(standing(ACTIVE), durationDays=3650)),
        "ReviewMalformed",
        "Extra inputs",
    ),
    on(
        REVOKE,
        "revoke-unrelated",
        "spoofed-account",
        "a producer revokes another's grant",
        put(HR, ACCESS_REVOKE_REQUESTED, revoked(standing(ACTIVE))),
        "RevokerUnrelated",
        "neither consumer nor owner",
    ),
    on(
        REVOKE,
        "revoke-unknown",
        "forged-decision",
        "revoking no request",
        put(CONSUMER, ACCESS_REVOKE_REQUESTED, revoked(unknown)),
        "RequestUnknown",
        "no request",
    ),
    on(
        REVOKE,
        "revoke-denied",
        "forged-decision",
        "revoking a denied request",
        put(CONSUMER, ACCESS_REVOKE_REQUESTED, revoked(standing(DENIED))),
        "RevocationOutOfOrder",
        "nothing to revoke",
    ),
    on(
        REVOKE,
        "revoke-no-reason",
        "malformed",
        "a revocation without a reason",
        put(CONSUMER, ACCESS_REVOKE_REQUESTED, revoked(standing(ACTIVE), reason=DELETE)),
        "RevocationMalformed",
        "Field required",
    ),
    on(
        REVOKE,
        "revoke-id-number",
        "wrong-type",
        "a request id as a number",
        put(CONSUMER, ACCESS_REVOKE_REQUESTED, revoked(lambda _: 12345)),  # type: ignore[arg-type,return-value]
        "RevocationMalformed",
        "string",
    ),
    on(
        REPORT,
        "report-not-consumer",
        "forged-decision",
        "the producer claims links for the consumer's request",
        put(
            SALES,
            MEMBER_ACTIONS,
            lambda mesh: {
                "requestId": request_id(mesh, PENDING),
                "correlationId": "c",
                "linked": True,
                "actions": [],
            },
        ),
        "LinkReportNotConsumer",
        "not its request",
    ),
    on(
        REPORT,
        "report-linked-text",
        "wrong-type",
        "linked as a word",
        put(CONSUMER, MEMBER_ACTIONS, lambda _: {"correlationId": "c", "linked": "maybe"}),
        "MemberReportMalformed",
        "boolean",
    ),
    on(
        REPORT,
        "report-oversized",
        "oversized",
        "a report of 201 actions",
        put(
            CONSUMER,
            MEMBER_ACTIONS,
            lambda _: {
                "correlationId": "c",
                "actions": [
                    {"action": "glue:CreateTable", "outcome": "SUCCEEDED", "target": f"t{i}"}
                    for i in range(201)
                ],
            },
        ),
        "MemberReportMalformed",
        "at most 200",
    ),
    on(
        REPORT,
        "report-bad-outcome",
        "malformed",
        "an action whose outcome is not one",
        put(
            CONSUMER,
            MEMBER_ACTIONS,
            lambda _: {
                "correlationId": "c",
                "actions": [{"action": "glue:CreateTable", "outcome": "PWNED", "target": "t"}],
            },
        ),
        "MemberReportMalformed",
        "pattern",
    ),
    on(
        "access:database-published",
        "forged-database-published",
        "forged-decision",
        "a producer claims central published a database (ownership grants)",
        lambda mesh: (
            mesh.put_event(
                SALES,
                "meshgov.catalog",
                "Database Published",
                {"centralDatabase": "hr_people", "producerAccount": SALES, "domain": "sales"},
            ),
            None,
        )[1],
        "CatalogEventForeign",
        "come from the central account",
    ),
    on(
        DECIDED,
        "decide-filter-uncovered",
        "widening",
        "an approval that adds a filter on a table the request does not cover",
        put(
            SALES,
            ACCESS_DECIDED,
            decided(standing(PENDING), filters=[{"table": "t1", "columns": ["id"]}]),
        ),
        "DecisionWidens",
        "does not cover",
    ),
    on(
        DECIDED,
        "decide-filter-invalid",
        "injection",
        "an approval narrowing with a row filter that is not PartiQL",
        put(
            SALES,
            ACCESS_DECIDED,
            decided(standing(PENDING), filters=[{"table": "t0", "rowFilter": "1=1 --"}]),
        ),
        "RowFilterInvalid",
        "row filter on sales_orders.t0",
    ),
    on(
        DECIDED,
        "decide-deny-with-filters",
        "malformed",
        "a denial carrying filters",
        put(
            SALES,
            ACCESS_DECIDED,
            decided(standing(PENDING), "DENY", filters=[{"table": "t0", "columns": ["id"]}]),
        ),
        "DecisionMalformed",
        "only an approval",
    ),
]


# --- the member: its meshgov bus and RAM invitations ----------------------------------------


def forged_granted(mesh: LocalMesh) -> dict[str, Any]:
    analyst = analyst_arn(mesh.consumer)
    return {
        "requestId": "req-forged",
        "consumerAccount": mesh.consumer,
        "principal": analyst,
        "centralAccount": mesh.central,
        "permissions": ["SELECT"],
        "links": ["sales_orders"],
        "grants": [
            {
                "principal": analyst,
                "resource": {
                    "Table": {
                        "CatalogId": mesh.central,
                        "DatabaseName": "sales_orders",
                        "Name": "t0",
                    }
                },
                "permissions": ["SELECT"],
            }
        ],
    }


def forged_revoked(mesh: LocalMesh) -> dict[str, Any]:
    return {
        "requestId": request_id(mesh, "x"),
        "reason": "expired",
        "consumerAccount": mesh.consumer,
        "centralAccount": mesh.central,
        "removeLinks": ["sales_orders"],
    }


def on_member_bus(sender: str, detail_type: str, detail: Callable[[LocalMesh], Any]) -> Inject:
    """``sender`` puts an event on the consumer's ``meshgov`` bus (its own, or by ARN)."""

    def inject(mesh: LocalMesh) -> str | None:
        bus = (
            "meshgov" if sender == mesh.consumer else mesh.deployment.member_bus_arns[mesh.consumer]
        )
        try:
            mesh.client(sender, "events").put_events(
                Entries=[
                    {
                        "Source": ACCESS_SOURCE,
                        "DetailType": detail_type,
                        "Detail": json.dumps(detail(mesh)),
                        "EventBusName": bus,
                    }
                ]
            )
        except ClientError as exc:
            return f"{exc.response['Error']['Code']}: {exc}"
        return None

    return inject


def on_central_bus(sender: str) -> Inject:
    def inject(mesh: LocalMesh) -> str | None:
        arn = f"arn:aws:events:{mesh.config.region}:{mesh.central}:event-bus/meshgov"
        try:
            mesh.client(sender, "events").put_events(
                Entries=[
                    {
                        "Source": ACCESS_SOURCE,
                        "DetailType": ACCESS_DECIDED,
                        "Detail": json.dumps(
                            {"requestId": UNKNOWN_REQUEST, "decision": "APPROVE", "reason": "ok"}
                        ),
                        "EventBusName": arn,
                    }
                ]
            )
        except ClientError as exc:
            return f"{exc.response['Error']['Code']}: {exc}"
        return None

    return inject


def outsider_invites(outsider: str, database: str = "bait") -> Callable[[LocalMesh], None]:
    """An account shares a database of its catalog with the consumer: a RAM invitation."""

    def setup(mesh: LocalMesh) -> None:
        ensure_admin_role(outsider)
        glue_client = mesh.client(outsider, "glue")
        if database not in {d["Name"] for d in glue_client.get_databases()["DatabaseList"]}:
            create_published_database(glue_client, database, published=False)
        mesh.client(outsider, "lakeformation").grant_permissions(
            Principal={"DataLakePrincipalIdentifier": mesh.consumer},
            Resource={"Database": {"Name": database}},
            Permissions=["DESCRIBE"],
            PermissionsWithGrantOption=["DESCRIBE"],
        )

    return setup


def central_invites_then_time_passes(mesh: LocalMesh) -> None:
    mesh.client(mesh.central, "lakeformation").grant_permissions(
        Principal={"DataLakePrincipalIdentifier": mesh.consumer},
        Resource={"Table": {"DatabaseName": "sales_orders", "Name": "t1"}},
        Permissions=["DESCRIBE"],
        PermissionsWithGrantOption=["DESCRIBE"],
    )
    controls.advance_time(13 * 3600)


def then_expired_outsider(outsider: str) -> Callable[[LocalMesh], None]:
    def setup(mesh: LocalMesh) -> None:
        outsider_invites(outsider, "late")(mesh)
        controls.advance_time(13 * 3600)

    return setup


def invitation_from(sender: str, status: str) -> Check:
    def check(mesh: LocalMesh) -> str | None:
        found = sorted(i["status"] for i in invitations(mesh) if i["senderAccountId"] == sender)
        if status not in found or "ACCEPTED" in found:
            return f"invitations from {sender}: {found}, expected one {status} and none accepted"
        return None

    return check


def nothing(_: LocalMesh) -> str | None:
    return None


def lose_ram_events_then_schedule(mesh: LocalMesh) -> str | None:
    binding = mesh.deployment.member_functions[mesh.consumer]["MemberAccessFunction"]
    mesh.client(mesh.consumer, "sqs").purge_queue(QueueUrl=binding.source_queue_url)
    mesh.invitation_sweep(mesh.consumer)
    return None


MEMBER_ACTOR = "member:"
INVITATIONS = frozenset({"invitations"})
MEMBER_CASES = [
    HostileCase(
        "member-granted-forged-locally",
        "member",
        "forged-decision",
        "something in the consumer account puts Access Granted on its own meshgov bus",
        on_member_bus(CONSUMER, ACCESS_GRANTED, forged_granted),
        "EventNotFromCentral",
        audited("access:access-granted", MEMBER_ACTOR),
        "not the central account",
    ),
    HostileCase(
        "member-revoked-forged-locally",
        "member",
        "forged-decision",
        "something in the consumer account puts Access Revoked on its own meshgov bus",
        on_member_bus(CONSUMER, ACCESS_REVOKED, forged_revoked),
        "EventNotFromCentral",
        audited("access:access-revoked", MEMBER_ACTOR),
        "not the central account",
    ),
    HostileCase(
        "member-granted-by-producer",
        "member",
        "untrusted-sender",
        "the producer puts Access Granted on the consumer's meshgov bus (the policy admits only "
        "central: PutEvents is refused, there is nothing for meshgov to record)",
        on_member_bus(SALES, ACCESS_GRANTED, forged_granted),
        None,
        None,
        "AccessDenied",
    ),
    HostileCase(
        "member-granted-by-outsider",
        "member",
        "untrusted-sender",
        "an account in no mesh puts Access Granted on the consumer's meshgov bus",
        on_member_bus(OUTSIDER, ACCESS_GRANTED, forged_granted),
        None,
        None,
        "AccessDenied",
    ),
    HostileCase(
        "central-bus-by-outsider",
        "member",
        "untrusted-sender",
        "an account in no mesh puts a decision on central's meshgov bus (MemberAccounts only)",
        on_central_bus(OUTSIDER),
        None,
        None,
        "AccessDenied",
    ),
    HostileCase(
        "invitation-outsider",
        "member",
        "untrusted-sender",
        "an account in no mesh shares a database: the RAM invitation",
        nothing,
        "InvitationUntrusted",
        audited("ram:RejectResourceShareInvitation", MEMBER_ACTOR),
        "not a trusted account",
        setup=outsider_invites(OUTSIDER),
        changes=INVITATIONS,
        after=invitation_from(OUTSIDER, "REJECTED"),
    ),
    HostileCase(
        "invitation-producer",
        "member",
        "untrusted-sender",
        "a producer of the mesh shares its own database directly, bypassing central",
        nothing,
        "InvitationUntrusted",
        audited("ram:RejectResourceShareInvitation", MEMBER_ACTOR),
        "not a trusted account",
        setup=outsider_invites(SALES, "orders"),
        changes=INVITATIONS,
        after=invitation_from(SALES, "REJECTED"),
    ),
    HostileCase(
        "invitation-outsider-event-lost",
        "member",
        "untrusted-sender",
        "an outsider's invitation whose RAM event is lost: the schedule rejects it",
        lose_ram_events_then_schedule,
        "InvitationUntrusted",
        audited("ram:RejectResourceShareInvitation", MEMBER_ACTOR),
        "not a trusted account",
        setup=outsider_invites(OUTSIDER2),
        changes=INVITATIONS,
        after=invitation_from(OUTSIDER2, "REJECTED"),
    ),
    # Time passes from here on: the expired cases come last in their mesh.
    HostileCase(
        "invitation-expired-trusted",
        "member",
        "expired-invitation",
        "central's invitation, 13 hours old when the member gets to it",
        nothing,
        "InvitationExpired",
        audited("ram:AcceptResourceShareInvitation", MEMBER_ACTOR),
        "expired before",
        setup=central_invites_then_time_passes,
        changes=INVITATIONS,
        after=invitation_from(CENTRAL, "EXPIRED"),
    ),
    HostileCase(
        "invitation-expired-outsider",
        "member",
        "expired-invitation",
        "an outsider's invitation, 13 hours old",
        nothing,
        "InvitationExpired",
        audited("ram:RejectResourceShareInvitation", MEMBER_ACTOR),
        "expired before",
        setup=then_expired_outsider(OUTSIDER),
        changes=INVITATIONS,
        after=invitation_from(OUTSIDER, "EXPIRED"),
    ),
]


# --- the CLI's own checks (nothing is sent: the refusal is the command's) ---------------------

_runner = CliRunner()
NO_STATE = "/nonexistent/meshgov-hostile-state"
ANALYST = f"arn:aws:iam::{CONSUMER}:role/analyst"


def cli(*args: str) -> Inject:
    def inject(_: LocalMesh) -> str | None:
        from meshgov_cli.main import app

        result = _runner.invoke(app, [*args, "--state-dir", NO_STATE], env={"COLUMNS": "250"})
        if result.exit_code == 0:
            return "exit code 0"
        return f"exit {result.exit_code}: {result.output}"

    return inject


def ask_cli(*changes: str, principal: str = ANALYST, account: str = CONSUMER) -> Inject:
    return cli(
        "request-access",
        "--as-account",
        account,
        "--principal",
        principal,
        "--justification",
        "quarterly revenue dashboard",
        "--days",
        "30",
        *changes,
    )


def cli_case(id: str, kind: str, description: str, inject: Inject, says: str) -> HostileCase:
    return HostileCase(f"cli-{id}", "cli", kind, description, inject, None, None, says)


CLI_CASES = [
    cli_case(
        "principal-elsewhere",
        "spoofed-account",
        "a role of another account",
        ask_cli("--database", "sales_orders", principal=analyst_arn(HR)),
        "can only ask for access for its own roles",
    ),
    cli_case(
        "principal-user",
        "malformed",
        "an IAM user",
        ask_cli("--database", "sales_orders", principal=f"arn:aws:iam::{CONSUMER}:user/x"),
        "must be an IAM role ARN",
    ),
    cli_case(
        "drop",
        "cross-account-drop",
        "--permission DROP",
        ask_cli("--database", "sales_orders", "--permission", "DROP"),
        "DROP",
    ),
    cli_case(
        "days-zero",
        "wrong-type",
        "--days 0",
        cli(
            "request-access",
            "--as-account",
            CONSUMER,
            "--principal",
            ANALYST,
            "--justification",
            "quarterly revenue dashboard",
            "--days",
            "0",
            "--database",
            "sales_orders",
        ),
        "--days",
    ),
    cli_case(
        "database-and-tag",
        "malformed",
        "--database and --tag",
        ask_cli("--database", "sales_orders", "--tag", "classification=public"),
        "not both",
    ),
    cli_case(
        "tag-no-value",
        "malformed",
        "--tag without =",
        ask_cli("--tag", "classification"),
        "key=value",
    ),
    cli_case(
        "token-injection",
        "injection",
        "a client token carrying shell",
        ask_cli("--database", "sales_orders", "--client-token", "$(rm -rf /)"),
        "--client-token",
    ),
    cli_case(
        "database-newline",
        "bad-name",
        "a database name with a line break",
        ask_cli("--database", "sales\norders"),
        "not a valid Glue name",
    ),
    cli_case(
        "decide-no-verdict",
        "forged-decision",
        "decide with neither --approve nor --deny",
        cli("decide", UNKNOWN_REQUEST, "--as-account", SALES, "--reason", "ok"),
        "--approve or --deny",
    ),
]


# --- issue 15's bad input: contracts, lineage and quality events (the promises) --------------
# A contract arrives by ``Contract Published`` (the producer names an S3 object under its contracts
# prefix); an OpenLineage run event and a Glue Data Quality result from a member's default bus.
# Nothing may be stored: no contract head or version, no lineage item, no quality result (the
# snapshot has them), besides the catalog and grants.

PROMISES_DB, PROMISES_TABLE = "sales_orders", "t0"


def contract_event(sender: str, key: str, body: dict[str, Any] | bytes | None) -> Inject:
    """``body`` put at ``meshgov-contracts/<key>`` in sales' bucket (None: none), then
    ``sender`` publishes it for sales_orders.t0."""

    def inject(mesh: LocalMesh) -> str | None:
        location = (
            put_contract(mesh, key, body)
            if body is not None
            else f"s3://{CONTRACTS_BUCKET}/meshgov-contracts/{key}"
        )
        mesh.put_event(
            sender,
            CATALOG_SOURCE,
            CONTRACT_PUBLISHED,
            {"database": PROMISES_DB, "table": PROMISES_TABLE, "location": location},
        )
        return None

    return inject


def oversized_contract() -> bytes:
    """A valid ODCS document padded past the 256 KiB meshgov reads."""
    body = odcs("1.0.0", CONTRACT_V1)
    body["description"] = {"purpose": "x" * (MAX_CONTRACT_BYTES + 1)}
    return json.dumps(body).encode()


def lineage_output_of(owner: str) -> Inject:
    """sales' job claims to write ``owner``'s Glue table."""

    def inject(mesh: LocalMesh) -> str | None:
        region = mesh.config.region
        event = {
            "eventType": "COMPLETE",
            "eventTime": "2026-12-05T10:00:00.000Z",
            "producer": "https://example.com/etl",
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
            "run": {"runId": str(uuid.uuid4())},
            "job": {"namespace": "etl", "name": "sneaky"},
            "inputs": [{"namespace": f"arn:aws:glue:{region}:{SALES}", "name": "table/orders/t0"}],
            "outputs": [{"namespace": f"arn:aws:glue:{region}:{owner}", "name": "table/people/t0"}],
        }
        mesh.put_event(SALES, LINEAGE_SOURCE, LINEAGE_DETAIL_TYPE, event)
        return None

    return inject


def quality_run_on_unpublished(mesh: LocalMesh) -> str | None:
    """sales runs a ruleset on a table of its unpublished database: the emulated Glue Data
    Quality puts the result on its default bus, the member stack forwards it."""
    run_quality_check(
        mesh,
        database="secret",
        table="orders",
        ruleset_name="secret-checks",
        ruleset="Rules = [ RowCount > 0 ]",
    )
    return None


PROMISE_CASES = [
    HostileCase(
        "contract-not-odcs",
        "promises",
        "malformed",
        "a Contract Published naming an object that is not ODCS v3 (no apiVersion)",
        contract_event(SALES, "t0-not-odcs.json", {"kind": "DataContract", "id": "x"}),
        "ContractInvalid",
        audited("contract:published", "meshgov:catalog-sync"),
        "not a valid ODCS v3 contract",
    ),
    HostileCase(
        "contract-unknown-column",
        "promises",
        "bad-name",
        "a contract naming a column the table does not have",
        contract_event(
            SALES, "t0-unknown.json", odcs("1.0.0", {**CONTRACT_V1, "ssn": {"required": True}})
        ),
        "ContractColumnUnknown",
        audited("contract:published", "meshgov:catalog-sync"),
        "does not have: ssn",
    ),
    HostileCase(
        "contract-not-owner",
        "promises",
        "spoofed-account",
        "hr publishes a contract for sales' table (a valid document in sales' bucket)",
        contract_event(HR, "t0-by-hr.json", odcs("1.0.0", CONTRACT_V1)),
        "ContractNotOwner",
        audited("event:received", "meshgov:catalog-sync"),
        f"not published by account {HR}",
        dead_letter="CatalogEventsDLQ",
    ),
    HostileCase(
        "contract-too-large",
        "promises",
        "oversized",
        "a contract object over 256 KiB",
        contract_event(SALES, "t0-huge.json", oversized_contract()),
        "ContractTooLarge",
        audited("contract:published", "meshgov:catalog-sync"),
        f"over the {MAX_CONTRACT_BYTES}",
    ),
    HostileCase(
        "lineage-foreign-output",
        "promises",
        "spoofed-account",
        "sales' OpenLineage run event naming hr's table as its output",
        lineage_output_of(HR),
        "LineageForeignOutput",
        audited("lineage:refused", "meshgov:lineage"),
        f"account {SALES} may only name Glue tables of its own account",
    ),
    HostileCase(
        "quality-unpublished",
        "promises",
        "untrusted-sender",
        "a Glue Data Quality result for a table of an unpublished database",
        quality_run_on_unpublished,
        "QualityNotPublished",
        audited("event:received", "meshgov:catalog-sync"),
        "secret/orders is not published",
        dead_letter="CatalogEventsDLQ",
    ),
]


# --- the groups: one mesh each ----------------------------------------------------------------


def setup_catalog(mesh: LocalMesh) -> None:
    """sales publishes 'sales' (t0) and keeps 'secret' unpublished; central follows."""
    publish_sales(mesh, tables=1, database="sales")
    create_published_database(mesh.client(mesh.producer, "glue"), "secret", published=False)
    mesh.settle()


def setup_access(mesh: LocalMesh) -> None:
    """sales' orders (t0, t1) published; a pending, a denied and an active request."""
    create_role(mesh, mesh.consumer)
    publish_sales(mesh)
    for token, table in ((PENDING, "t0"), (DENIED, "t1"), (ACTIVE, "t1")):
        request(mesh, token=token, tables=[table])
    mesh.settle()
    decide(mesh, request_id(mesh, DENIED), "DENY")
    decide(mesh, request_id(mesh, ACTIVE))
    mesh.settle()
    states = {r.client_token: r.state.value for r in mesh.requests() if r.kind == "consumer"}
    assert states == {PENDING: "PENDING_APPROVAL", DENIED: "DENIED", ACTIVE: "ACTIVE"}, states


def setup_member(mesh: LocalMesh) -> None:
    create_role(mesh, mesh.consumer)
    publish_sales(mesh)


def setup_nothing(_: LocalMesh) -> None:
    return None


def setup_promises(mesh: LocalMesh) -> None:
    """sales publishes orders (t0) and keeps 'secret' (orders, with data) unpublished."""
    publish_sales(mesh, tables=1)
    glue = mesh.client(SALES, "glue")
    create_published_database(glue, "secret", published=False)
    secret = table_input("orders", columns("id:bigint", "country:string"))
    glue.create_table(DatabaseName="secret", TableInput=secret)
    write_table_data(mesh.client(SALES, "s3"), secret, 20)
    mesh.settle()


@dataclass(frozen=True)
class Group:
    entry_point: str
    config: Callable[[], MeshConfig | None]
    setup: Callable[[LocalMesh], None]
    cases: list[HostileCase] = field(default_factory=list)


GROUPS: list[Group] = [
    Group("glue-events", lambda: None, setup_catalog, [*GLUE_CASES, *SYNC_CASES, *NAME_CASES]),
    Group("access", two_producer_config, setup_access, [*REQUEST_CASES, *DECISION_CASES]),
    Group("member", lambda: None, setup_member, MEMBER_CASES),
    Group("cli", lambda: None, setup_nothing, CLI_CASES),
    Group("promises", contracts_config, setup_promises, PROMISE_CASES),
]

CORPUS: list[HostileCase] = [case for group in GROUPS for case in group.cases]
