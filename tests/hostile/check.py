"""Run a hostile case against a mesh: snapshot every account, inject, settle, compare.

A case passes when nothing changed in any account except the audit trail, the DLQs and the
parts the case names (``changes``), when the expected refusal is one new audit record with its
error code and a reason naming the problem, when a catalog event that can never succeed is parked
in ``CatalogEventsDLQ`` with ``meshgov-error-code``, and when nothing failed or was retried. No
pytest here: the bench runs the corpus too (:func:`run_corpus`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from moto import mock_aws

from meshgov.audit import AuditRecord
from meshgov.audit.dynamodb import read_day
from meshgov_local.emulator import controls
from meshgov_local.invoke import temporary_environment
from meshgov_local.mesh import LocalMesh
from tests.hostile.corpus import GROUPS, Group, HostileCase
from tests.integration.access_helpers import invitations, links, permissions, shares_with
from tests.meshes import MESHES

FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}
REMOVED = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "MOTO_ACCOUNT_ID")


def _dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def snapshot(mesh: LocalMesh) -> dict[str, Any]:
    """Everything a hostile input must not change, in every account."""
    members = [m.account_id for m in mesh.config.members]
    glue = mesh.client(mesh.central, "glue")
    catalog: dict[str, Any] = {}
    for database in glue.get_databases()["DatabaseList"]:
        name = database["Name"]
        tables = {}
        for table in glue.get_tables(DatabaseName=name)["TableList"]:
            parts = glue.get_partitions(DatabaseName=name, TableName=table["Name"])["Partitions"]
            tables[table["Name"]] = (_dump(table), sorted(_dump(p["Values"]) for p in parts))
        catalog[name] = (_dump(database), tables)
    return {
        "central_catalog": catalog,
        "lf_tags": _dump(mesh.client(mesh.central, "lakeformation").list_lf_tags()["LFTags"]),
        "grants": {
            account: sorted(_dump(g) for g in permissions(mesh, account))
            for account in (mesh.central, *members)
        },
        "requests": {r.request_id: (r.state.value, r.version) for r in mesh.requests()},
        "databases": {account: links(mesh, account) for account in members},
        "invitations": {
            account: sorted(
                (i["resourceShareInvitationArn"], i["status"]) for i in invitations(mesh, account)
            )
            for account in members
        },
        "shares": {
            account: sorted(s["resourceShareArn"] for s in shares_with(mesh, account))
            for account in members
        },
        **promises(mesh),
    }


def promises(mesh: LocalMesh) -> dict[str, Any]:
    """What issue 15 stores centrally: contract heads and versions (the sync ledger's
    ``CONTRACT*`` keys), quality results (their history table) and lineage items."""
    dynamodb = mesh.client(mesh.central, "dynamodb")

    def scan(table: str, **filters: Any) -> list[str]:
        pages = dynamodb.get_paginator("scan").paginate(TableName=table, **filters)
        return sorted(_dump(item) for page in pages for item in page.get("Items", []))

    found: dict[str, Any] = {
        "contracts": scan(
            mesh.deployment.ledger_table_name,
            FilterExpression="begins_with(pk, :c)",
            ExpressionAttributeValues={":c": {"S": "CONTRACT"}},
        )
    }
    for part, function, variable in (
        ("quality", "CatalogSyncFunction", "QUALITY_TABLE_NAME"),
        ("lineage", "LineageFunction", "LINEAGE_TABLE_NAME"),
    ):
        binding = mesh.binding(function)
        if binding is not None and variable in binding.environment:
            found[part] = scan(binding.environment[variable])
    return found


def dlq_depths(mesh: LocalMesh) -> dict[str, int]:
    depths = {}
    for queue in mesh.dead_letter_queues():
        attributes = mesh.client(queue.account_id, "sqs").get_queue_attributes(
            QueueUrl=queue.url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        depths[f"{queue.account_id}/{queue.name}"] = int(
            attributes["ApproximateNumberOfMessages"]
        ) + int(attributes["ApproximateNumberOfMessagesNotVisible"])
    return depths


def audit_records(mesh: LocalMesh) -> list[AuditRecord]:
    """Every record of today, on the wall clock and on the emulated clock (time may pass)."""
    days = {datetime.now(UTC).date().isoformat(), controls.now().date().isoformat()}
    dynamodb = mesh.client(mesh.central, "dynamodb")
    found = {
        r.record_id: r
        for day in days
        for r in read_day(dynamodb, mesh.deployment.audit_table_name, day)
    }
    return sorted(found.values(), key=lambda r: r.order)


def check_case(mesh: LocalMesh, case: HostileCase) -> list[str]:
    """The problems found running ``case`` on ``mesh`` (empty: it passed)."""
    if case.setup is not None:
        case.setup(mesh)
    before = snapshot(mesh)
    depths = dlq_depths(mesh)
    seen = {r.record_id for r in audit_records(mesh)}
    parked_before = (
        {m["MessageId"] for m in mesh.dead_letters(case.dead_letter)} if case.dead_letter else set()
    )
    try:
        said = case.inject(mesh)
        report = mesh.settle()
    except Exception as exc:  # a crash is a finding, not a test error
        return [f"injecting raised {type(exc).__name__}: {exc}"]
    problems: list[str] = []
    if report.failed_messages or report.invocation_errors:
        problems.append(
            f"{report.failed_messages} messages failed (retried), "
            f"errors: {report.invocation_errors[:2]}"
        )
    after = snapshot(mesh)
    for part, value in before.items():
        if part not in case.changes and after[part] != value:
            problems.append(f"state changed: {part}")
    if case.after is not None and (problem := case.after(mesh)):
        problems.append(problem)
    new = [r.entry for r in audit_records(mesh) if r.record_id not in seen]
    if case.expect_audit is None:
        if not said or case.says not in said:
            problems.append(f"refusal {said!r} does not say {case.says!r}")
        if any(e.outcome.value in ("REFUSED", "FAILED", "SUCCEEDED") for e in new):
            problems.append(f"unexpected audit records: {[e.action for e in new]}")
    else:
        matching = [
            e
            for e in new
            if case.expect_audit(e)
            and e.outcome.value == case.outcome
            and e.detail.get("error_code") == case.expect_code
        ]
        if len(matching) != 1:
            seen_codes = [(e.action, e.outcome.value, e.detail.get("error_code")) for e in new]
            problems.append(
                f"expected one {case.outcome} audit record with {case.expect_code}, "
                f"found {len(matching)} among {len(new)} new records: {seen_codes[:6]}"
            )
        elif case.says not in matching[0].reason:
            problems.append(f"reason {matching[0].reason[:300]!r} does not say {case.says!r}")
        if any(e.outcome.value == "FAILED" for e in new):
            problems.append("a FAILED audit record")
    depths_after = dlq_depths(mesh)
    for queue, depth in depths_after.items():
        grew = depth - depths.get(queue, 0)
        expected = 1 if case.dead_letter and queue.endswith(f"/{case.dead_letter}") else 0
        if grew != expected:
            problems.append(f"{queue}: {grew} new dead letters, expected {expected}")
    if case.dead_letter:
        parked = [
            m for m in mesh.dead_letters(case.dead_letter) if m["MessageId"] not in parked_before
        ]
        codes = [
            m.get("MessageAttributes", {}).get("meshgov-error-code", {}).get("StringValue")
            for m in parked
        ]
        if codes != [case.expect_code]:
            problems.append(f"parked in {case.dead_letter} with codes {codes}")
    return problems


@contextmanager
def group_mesh(group: Group) -> Iterator[LocalMesh]:
    """A mesh of its own for one entry point (moto reset before and after), set up."""
    controls.reset()
    try:
        with temporary_environment(FAKE_AWS, REMOVED), mock_aws():
            mesh = MESHES.mesh(group.config())
            group.setup(mesh)
            yield mesh
    finally:
        controls.reset()


def run_corpus(
    progress: Callable[[str], None] = lambda _: None,
) -> tuple[int, dict[str, list[str]]]:
    """Run every case, one mesh per entry point: (cases run, {case id: problems})."""
    failures: dict[str, list[str]] = {}
    count = 0
    for group in GROUPS:
        progress(f"hostile: {group.entry_point} ({len(group.cases)} cases)")
        with group_mesh(group) as mesh:
            for case in group.cases:
                count += 1
                problems = check_case(mesh, case)
                if problems:
                    failures[case.id] = problems
    return count, failures
