"""Issue 12: links are never published, look-alike names are refused, no-op events say why.

Through the local mesh: the producer acts with Glue, Glue's events travel to central, the sync
function reads the producer through its reader role. Non-ASCII letters are written as escapes.
Names are compared as Glue stores them (lower case): no test relies on the emulator keeping case.
"""

from __future__ import annotations

import json
from typing import Any

from meshgov.audit import AuditEntry, AuditOutcome
from meshgov_local.mesh import LocalMesh
from tests.integration.helpers import columns, create_published_database, table_input

CYRILLIC_O = "\u043e"  # looks like the Latin o
SPOOF = f"{CYRILLIC_O}rders"  # looks like "orders"
CENTRAL_DB = "sales_sales"


def central_databases(mesh: LocalMesh) -> set[str]:
    glue = mesh.client(mesh.central, "glue")
    return {d["Name"] for d in glue.get_databases()["DatabaseList"]}


def central_tables(mesh: LocalMesh, database: str = CENTRAL_DB) -> dict[str, str]:
    """Each central table of ``database`` with its definition (to tell nothing was written)."""
    glue = mesh.client(mesh.central, "glue")
    tables = glue.get_tables(DatabaseName=database)["TableList"]
    return {t["Name"]: json.dumps(t, sort_keys=True, default=str) for t in tables}


def entries(mesh: LocalMesh, action: str, outcome: AuditOutcome | None = None) -> list[AuditEntry]:
    return [
        r.entry
        for r in mesh.audit_records()
        if r.entry.action == action and (outcome is None or r.entry.outcome is outcome)
    ]


def listen_on_producer_bus(mesh: LocalMesh) -> str:
    """A queue receiving what arrives on the producer's own meshgov bus (its owner listening)."""
    sqs = mesh.client(mesh.producer, "sqs")
    url: str = sqs.create_queue(QueueName="producer-listener")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events = mesh.client(mesh.producer, "events")
    events.put_rule(
        Name="listen",
        EventBusName="meshgov",
        EventPattern=json.dumps({"source": ["meshgov.catalog"]}),
    )
    events.put_targets(Rule="listen", EventBusName="meshgov", Targets=[{"Id": "q", "Arn": arn}])
    return url


def heard(mesh: LocalMesh, url: str) -> list[dict[str, Any]]:
    messages = mesh.client(mesh.producer, "sqs").receive_message(
        QueueUrl=url, MaxNumberOfMessages=10
    )
    return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


def publish_orders(mesh: LocalMesh) -> Any:
    glue = mesh.client(mesh.producer, "glue")
    create_published_database(glue, "sales")
    glue.create_table(DatabaseName="sales", TableInput=table_input("orders", columns("id:int")))
    mesh.settle()
    return glue


# --- defect 9: resource-link databases are never published -------------------------------------


def test_a_producers_links_to_central_are_never_published_back(local_mesh: LocalMesh) -> None:
    # Given 'sales' published: central shares sales_sales back to the producer, whose member
    # function links it; GetDatabases shows a link with its target's parameters, and the central
    # copy carries meshgov:publish=true
    glue = publish_orders(local_mesh)
    links = {
        d["Name"]: d
        for d in glue.get_databases()["DatabaseList"]
        if d.get("TargetDatabase", {}).get("CatalogId") == local_mesh.central
    }
    assert links, "the ownership link should exist in the producer account"
    assert all((d.get("Parameters") or {}).get("meshgov:publish") == "true" for d in links.values())
    # And the producer links the central database once more, under a name of its own
    glue.create_database(
        DatabaseInput={
            "Name": "mirror",
            "TargetDatabase": {"CatalogId": local_mesh.central, "DatabaseName": CENTRAL_DB},
        }
    )

    # When the producer asks for a sync of the link, and the scheduled sweeps run
    local_mesh.put_event(
        local_mesh.producer,
        "meshgov.catalog",
        "Catalog Sync Requested",
        {"databaseName": "mirror"},
    )
    local_mesh.settle()
    for _ in range(2):
        local_mesh.sweep()
        local_mesh.settle()

    # Then central holds the published database alone: no link came back under a new name
    assert central_databases(local_mesh) == {CENTRAL_DB}
    assert set(central_tables(local_mesh)) == {"orders"}
    # And the sync request that led to nothing says why
    skipped = [
        e
        for e in entries(local_mesh, "catalog:reconcile", AuditOutcome.SKIPPED)
        if e.target == f"{local_mesh.producer}:mirror"
    ]
    assert len(skipped) == 1 and "resource link" in skipped[0].reason


# --- item 6: names a consumer could be fooled by, or Athena cannot query ------------------------


def test_a_homoglyph_of_a_published_table_is_refused_audited_and_the_producer_told(
    local_mesh: LocalMesh,
) -> None:
    # Given 'orders' published, and the producer listening on its own meshgov bus
    glue = publish_orders(local_mesh)
    url = listen_on_producer_bus(local_mesh)
    before = central_tables(local_mesh)
    refused_before = len(entries(local_mesh, "catalog:name", AuditOutcome.REFUSED))

    # When the producer creates a table whose name is 'orders' with a Cyrillic o
    glue.create_table(DatabaseName="sales", TableInput=table_input(SPOOF, columns("id:int")))
    report = local_mesh.settle()

    # Then nothing was written centrally, and nothing failed or was retried
    assert central_tables(local_mesh) == before
    assert report.failed_messages == 0 and not report.invocation_errors
    # And the refusal is one audit record naming the rule and the reason
    refused = entries(local_mesh, "catalog:name", AuditOutcome.REFUSED)[refused_before:]
    assert len(refused) == 1
    assert refused[0].detail["error_code"] == "NameMixedScript"
    assert "mixes scripts" in refused[0].reason and "CYRILLIC, LATIN" in refused[0].reason
    assert refused[0].target.endswith(f":{local_mesh.producer}:table/sales/{SPOOF}")
    # And the producer was told, on its own bus, why
    [event] = heard(local_mesh, url)
    assert event["detail-type"] == "Name Refused"
    assert event["detail"]["table"] == SPOOF
    assert event["detail"]["centralName"] == f"{CENTRAL_DB}.{SPOOF}"
    assert event["detail"]["rule"] == "NameMixedScript"
    # And the event that led to nothing has its SKIPPED record with the reason
    skipped = entries(local_mesh, "catalog:reconcile", AuditOutcome.SKIPPED)
    assert any("name refused" in e.reason for e in skipped)

    # When the sweep runs, the name is still refused and never published
    local_mesh.sweep()
    local_mesh.settle()
    assert central_tables(local_mesh) == before


def test_a_whole_cyrillic_look_alike_and_a_name_athena_cannot_query_are_refused(
    local_mesh: LocalMesh,
) -> None:
    # Given 'orders' published
    glue = publish_orders(local_mesh)
    before = central_tables(local_mesh)
    # When the producer adds a table named 'copy' in Cyrillic letters, and one with a hyphen,
    # and one plain table
    cyrillic_copy = "\u0441\u043e\u0440\u0443"
    for name in (cyrillic_copy, "daily-totals", "returns"):
        glue.create_table(DatabaseName="sales", TableInput=table_input(name, columns("id:int")))
    local_mesh.settle()
    # Then only the plain table reaches central
    assert set(central_tables(local_mesh)) == {*before, "returns"}
    codes = {
        e.target.rsplit("/", 1)[-1]: e.detail["error_code"]
        for e in entries(local_mesh, "catalog:name", AuditOutcome.REFUSED)
    }
    assert codes == {cyrillic_copy: "NameLooksLikeAscii", "daily-totals": "NameNotQueryable"}


def test_a_homoglyph_database_is_refused_with_its_tables(local_mesh: LocalMesh) -> None:
    # Given 'sales' published
    glue = publish_orders(local_mesh)
    # When the producer publishes a database named 'sales' with a Cyrillic dze for the s
    spoof_db = "\u0455ales"
    create_published_database(glue, spoof_db)
    glue.create_table(DatabaseName=spoof_db, TableInput=table_input("orders", columns("id:int")))
    local_mesh.settle()
    local_mesh.sweep()
    local_mesh.settle()
    # Then central has no database for it (sales_<spoof> would read sales_sales)
    assert central_databases(local_mesh) == {CENTRAL_DB}
    refused = [
        e
        for e in entries(local_mesh, "catalog:name", AuditOutcome.REFUSED)
        if e.target.endswith(f":database/{spoof_db}")
    ]
    assert refused and {e.detail["error_code"] for e in refused} == {"NameMixedScript"}


def test_no_empty_central_database_for_a_database_whose_only_published_table_is_refused(
    local_mesh: LocalMesh,
) -> None:
    # Given an unpublished database whose one table opts in, under a look-alike name
    glue = publish_orders(local_mesh)
    create_published_database(glue, "staging", published=False)
    glue.create_table(
        DatabaseName="staging",
        TableInput=table_input(SPOOF, columns("id:int"), **{"meshgov:publish": "true"}),
    )
    # When its event and a sweep run
    local_mesh.settle()
    local_mesh.sweep()
    local_mesh.settle()
    # Then central has no (empty) copy of the database
    assert central_databases(local_mesh) == {CENTRAL_DB}


# --- item 3: every event that leads to nothing says why ------------------------------------------


def test_every_event_that_changes_nothing_has_a_skipped_record_with_the_reason(
    local_mesh: LocalMesh,
) -> None:
    glue = publish_orders(local_mesh)
    producer = local_mesh.producer
    create_published_database(glue, "drafts", published=False)

    # When events arrive that can change nothing: a table in an unpublished database, a sync
    # of a database that does not exist, and a sync of a table central already equals
    glue.create_table(DatabaseName="drafts", TableInput=table_input("t", columns("id:int")))
    local_mesh.put_event(
        producer, "meshgov.catalog", "Catalog Sync Requested", {"databaseName": "nowhere"}
    )
    local_mesh.put_event(
        producer,
        "meshgov.catalog",
        "Catalog Sync Requested",
        {"databaseName": "sales", "tableNames": ["orders"]},
    )
    local_mesh.settle()

    # Then each has one SKIPPED record saying why, correlated with the event received
    skipped = {e.target: e for e in entries(local_mesh, "catalog:reconcile", AuditOutcome.SKIPPED)}
    assert "not published" in skipped[f"{producer}:drafts"].reason
    assert "not found at the source" in skipped[f"{producer}:nowhere"].reason
    assert "already equal centrally" in skipped[f"{producer}:sales"].reason
    received = {
        e.correlation_id for e in entries(local_mesh, "event:received", AuditOutcome.RECEIVED)
    }
    assert all(e.correlation_id in received for e in skipped.values())
