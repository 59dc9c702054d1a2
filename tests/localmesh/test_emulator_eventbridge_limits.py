"""A customer's PutEvents: entries, total entry size, reserved sources (eventbridge_limits.py).

The numbers are AWS's, written out here rather than imported, so the tests pin the documents:
10 entries, total entry size less than 1 MB (1,048,576 bytes), ``Time`` counting 14 bytes, the
other fields their UTF-8 bytes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError
from localmesh_support import CENTRAL, PRODUCER, REGION, capture_events, received

from meshgov_local.accounts import AccountSessions
from meshgov_local.emulator import controls

LIMIT = 1_048_576
SOURCE = "meshgov.test"
DETAIL_TYPE = "Big"


def _entry(detail_bytes: int, **extra: Any) -> dict[str, Any]:
    """An entry whose Detail is ``{"x":"aa…"}`` of exactly ``detail_bytes`` UTF-8 bytes."""
    padding = detail_bytes - len('{"x":""}')
    return {
        "Source": SOURCE,
        "DetailType": DETAIL_TYPE,
        "Detail": json.dumps({"x": "a" * padding}, separators=(",", ":")),
        **extra,
    }


def _sized(total: int) -> dict[str, Any]:
    """One entry of exactly ``total`` bytes as EventBridge counts them."""
    return _entry(total - len(SOURCE) - len(DETAIL_TYPE))


def _put(mesh: AccountSessions, entries: list[dict[str, Any]]) -> dict[str, Any]:
    response: dict[str, Any] = mesh.client(PRODUCER, "events").put_events(Entries=entries)
    return response


def _refusal(mesh: AccountSessions, entries: list[dict[str, Any]]) -> tuple[str, str]:
    try:
        _put(mesh, entries)
    except ClientError as error:
        return str(error.response["Error"]["Code"]), str(error.response["Error"]["Message"])
    raise AssertionError("PutEvents was accepted")


def _deliveries(mesh: AccountSessions) -> list[dict[str, Any]]:
    """Events of the test source matched on the producer's default bus (a Lambda target, whose
    deliveries the emulator hands to a listener: SQS cannot hold a 1 MB event's envelope)."""
    delivered: list[dict[str, Any]] = []
    controls.add_target_listener(lambda _account, _arn, event: delivered.append(event))
    events = mesh.client(PRODUCER, "events")
    events.put_rule(Name="big", EventPattern=json.dumps({"source": [SOURCE]}))
    function = f"arn:aws:lambda:{REGION}:{PRODUCER}:function:big"
    events.put_targets(Rule="big", Targets=[{"Id": "fn", "Arn": function}])
    return delivered


def test_a_request_just_under_the_size_limit_is_delivered(mesh: AccountSessions) -> None:
    # Given a rule on the test source
    delivered = _deliveries(mesh)

    # When the producer puts one entry of 1,048,575 bytes
    response = _put(mesh, [_sized(LIMIT - 1)])

    # Then it is accepted and delivered whole
    assert response["FailedEntryCount"] == 0
    [event] = delivered
    assert event["id"] == response["Entries"][0]["EventId"]
    assert len(event["detail"]["x"]) == LIMIT - 1 - len(SOURCE) - len(DETAIL_TYPE) - 8


def test_a_request_at_the_size_limit_fails_as_a_whole(mesh: AccountSessions) -> None:
    # Given a rule on the test source
    delivered = _deliveries(mesh)

    # When the producer puts one entry of exactly 1 MB, then two entries that only together reach it
    single = _refusal(mesh, [_sized(LIMIT)])
    half = LIMIT // 2
    pair = _refusal(mesh, [_sized(half), _sized(LIMIT - half)])

    # Then both requests fail with AWS's ValidationException, and nothing was delivered
    expected = (
        "ValidationException",
        "Total size of the entries in the request is over the limit.",
    )
    assert single == expected
    assert pair == expected
    assert delivered == []


def test_the_size_counts_time_as_14_bytes_and_text_as_utf8_bytes(mesh: AccountSessions) -> None:
    # Given entries with a Time, two resources and a Detail of two-byte characters ("é")
    resources = [f"arn:aws:glue:{REGION}:{PRODUCER}:table/sales/orders", "r"]
    fixed = 14 + len(SOURCE) + len(DETAIL_TYPE) + sum(len(r) for r in resources)
    text_bytes = LIMIT - 1 - fixed - len('{"x":""}')  # the largest accepted entry's text

    def entry(text_bytes: int) -> dict[str, Any]:
        text = "é" * (text_bytes // 2) + "a" * (text_bytes % 2)
        return {
            "Source": SOURCE,
            "DetailType": DETAIL_TYPE,
            "Detail": '{"x":"' + text + '"}',
            "Resources": resources,
            "Time": datetime(2026, 5, 4, tzinfo=UTC),
        }

    # When one is put at 1,048,575 bytes, then one a byte larger
    accepted = _put(mesh, [entry(text_bytes)])
    refused = _refusal(mesh, [entry(text_bytes + 1)])

    # Then the first is accepted and the second refused: bytes are counted, not characters
    assert accepted["FailedEntryCount"] == 0
    assert refused[0] == "ValidationException"


def test_aws_sources_are_refused_per_entry_and_the_rest_delivered(mesh: AccountSessions) -> None:
    # Given rules capturing the test source and Glue's source on the producer's default bus
    queue = capture_events(mesh, PRODUCER, {"source": [SOURCE, "awsome.app"]})
    glue_queue = capture_events(mesh, PRODUCER, {"source": ["aws.glue"]}, name="glue")

    # When a customer puts its own event between two claiming AWS sources, and one whose source
    # merely starts with "aws" (no dot)
    response = _put(
        mesh,
        [
            {
                "Source": "aws.glue",
                "DetailType": "Glue Data Catalog Table State Change",
                "Detail": json.dumps({"databaseName": "sales"}),
            },
            _entry(20),
            {"Source": "aws.ram", "DetailType": "x", "Detail": "{}"},
            {"Source": "awsome.app", "DetailType": "x", "Detail": "{}"},
        ],
    )

    # Then the two aws.* entries fail with NotAuthorizedForSourceException, the others succeed
    refused = {
        "ErrorCode": "NotAuthorizedForSourceException",
        "ErrorMessage": "Not authorized for the source.",
    }
    assert response["FailedEntryCount"] == 2
    entries = response["Entries"]
    assert [entries[0], entries[2]] == [refused, refused]
    assert all("EventId" in entries[i] and "ErrorCode" not in entries[i] for i in (1, 3))
    # And only the customer's own events were delivered; no forged Glue event exists
    assert [e["id"] for e in received(mesh, PRODUCER, queue)] == [
        entries[1]["EventId"],
        entries[3]["EventId"],
    ]
    assert received(mesh, PRODUCER, glue_queue) == []


def test_aws_sources_are_refused_on_another_accounts_bus_too(mesh: AccountSessions) -> None:
    # Given central's meshgov bus allowing the producer to put events on it
    events = mesh.client(CENTRAL, "events")
    events.create_event_bus(Name="meshgov")
    events.put_permission(
        EventBusName="meshgov", Action="events:PutEvents", Principal=PRODUCER, StatementId="p"
    )
    queue = capture_events(mesh, CENTRAL, {"source": ["aws.glue"]}, bus="meshgov")

    # When the producer puts an aws.glue event straight onto it
    bus_arn = f"arn:aws:events:{REGION}:{CENTRAL}:event-bus/meshgov"
    response = _put(
        mesh,
        [{"Source": "aws.glue", "DetailType": "x", "Detail": "{}", "EventBusName": bus_arn}],
    )

    # Then the entry is refused and central received nothing
    assert response["FailedEntryCount"] == 1
    assert response["Entries"][0]["ErrorCode"] == "NotAuthorizedForSourceException"
    assert received(mesh, CENTRAL, queue) == []


def test_more_than_ten_entries_fail_as_a_whole_even_with_refused_sources(
    mesh: AccountSessions,
) -> None:
    # Given a rule capturing the test source
    queue = capture_events(mesh, PRODUCER, {"source": [SOURCE]})

    # When eleven entries are put, two of them claiming an AWS source
    entries = [_entry(20) for _ in range(9)] + [
        {"Source": "aws.glue", "DetailType": "x", "Detail": "{}"} for _ in range(2)
    ]
    code, message = _refusal(mesh, entries)

    # Then the request fails as a whole and nothing is delivered
    assert code == "ValidationException"
    assert "Member must have length less than or equal to 10" in message
    assert received(mesh, PRODUCER, queue) == []


def test_glue_still_puts_its_own_events(mesh: AccountSessions) -> None:
    # Given a rule capturing aws.glue events (AWS's own, not a customer's PutEvents)
    queue = capture_events(mesh, PRODUCER, {"source": ["aws.glue"]})

    # When the producer creates a database
    mesh.client(PRODUCER, "glue").create_database(DatabaseInput={"Name": "sales"})

    # Then Glue's event is delivered
    [event] = received(mesh, PRODUCER, queue)
    assert (event["source"], event["detail"]["databaseName"]) == ("aws.glue", "sales")
