"""EventBridge delivery fidelity (see eventbridge.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from localmesh_support import (
    CENTRAL,
    CONSUMER,
    PRODUCER,
    REGION,
    capture_events,
    received,
)
from moto.events.models import events_backends

from meshgov_local.accounts import AccountSessions
from meshgov_local.emulator import controls

MESHGOV_BUS = "meshgov"


def _bus_arn(account: str, name: str = MESHGOV_BUS) -> str:
    return f"arn:aws:events:{REGION}:{account}:event-bus/{name}"


def _create_bus(mesh: AccountSessions, account: str, allow: str | None = None) -> None:
    events = mesh.client(account, "events")
    events.create_event_bus(Name=MESHGOV_BUS)
    if allow is not None:
        events.put_permission(
            EventBusName=MESHGOV_BUS, Action="events:PutEvents", Principal=allow, StatementId="m"
        )


def _forward(
    mesh: AccountSessions,
    account: str,
    pattern: dict[str, Any],
    target_bus: str,
    bus: str = "default",
    rule: str = "forward",
) -> None:
    events = mesh.client(account, "events")
    events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps(pattern))
    events.put_targets(
        Rule=rule,
        EventBusName=bus,
        Targets=[
            {
                "Id": "bus",
                "Arn": target_bus,
                "RoleArn": f"arn:aws:iam::{account}:role/meshgov-forwarder",
            }
        ],
    )


def _put(mesh: AccountSessions, account: str, source: str, bus: str = "default") -> str:
    response = mesh.client(account, "events").put_events(
        Entries=[
            {
                "Source": source,
                "DetailType": "Access Requested",
                "Detail": json.dumps({"request": "r-1"}),
                "EventBusName": bus,
            }
        ]
    )
    assert response["FailedEntryCount"] == 0
    return str(response["Entries"][0]["EventId"])


def test_delivered_events_carry_the_whole_envelope(mesh: AccountSessions) -> None:
    # Given a rule sending meshgov events to a queue
    queue = capture_events(mesh, PRODUCER, {"source": ["meshgov.test"]})
    when = datetime(2026, 5, 4, 3, 2, 1, tzinfo=UTC)

    # When the producer puts an event with resources and a time
    response = mesh.client(PRODUCER, "events").put_events(
        Entries=[
            {
                "Source": "meshgov.test",
                "DetailType": "Access Requested",
                "Detail": json.dumps({"request": "r-1"}),
                "Resources": ["arn:aws:glue:eu-west-1:222222222222:table/sales/orders"],
                "Time": when,
            }
        ]
    )

    # Then the queue receives it with every envelope field, account included
    [event] = received(mesh, PRODUCER, queue)
    assert event == {
        "version": "0",
        "id": response["Entries"][0]["EventId"],
        "detail-type": "Access Requested",
        "source": "meshgov.test",
        "account": PRODUCER,
        "time": "2026-05-04T03:02:01Z",
        "region": REGION,
        "resources": ["arn:aws:glue:eu-west-1:222222222222:table/sales/orders"],
        "detail": {"request": "r-1"},
    }


def test_input_path_and_constant_input_are_honoured(mesh: AccountSessions) -> None:
    # Given two targets, one passing $.detail, one a constant
    sqs = mesh.client(PRODUCER, "sqs")
    events = mesh.client(PRODUCER, "events")
    urls = [sqs.create_queue(QueueName=name)["QueueUrl"] for name in ("detail", "constant")]
    arns = [
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        for url in urls
    ]
    events.put_rule(Name="r", EventPattern=json.dumps({"source": ["meshgov.test"]}))
    events.put_targets(
        Rule="r",
        Targets=[
            {"Id": "detail", "Arn": arns[0], "InputPath": "$.detail"},
            {"Id": "constant", "Arn": arns[1], "Input": json.dumps({"sweep": True})},
        ],
    )

    # When an event matches
    _put(mesh, PRODUCER, "meshgov.test")

    # Then each target received its input
    assert received(mesh, PRODUCER, urls[0]) == [{"request": "r-1"}]
    assert received(mesh, PRODUCER, urls[1]) == [{"sweep": True}]


def test_disabled_rules_do_not_fire(mesh: AccountSessions) -> None:
    # Given a capture rule created DISABLED
    queue = capture_events(mesh, PRODUCER, {"source": ["meshgov.test"]})
    events = mesh.client(PRODUCER, "events")
    events.disable_rule(Name="capture")

    # When events are put while it is disabled, enabled, then disabled again
    _put(mesh, PRODUCER, "meshgov.test")
    events.enable_rule(Name="capture")
    enabled_id = _put(mesh, PRODUCER, "meshgov.test")
    events.disable_rule(Name="capture")
    _put(mesh, PRODUCER, "meshgov.test")

    # Then only the event put while it was enabled was delivered
    assert [event["id"] for event in received(mesh, PRODUCER, queue)] == [enabled_id]


def test_cross_account_delivery_keeps_the_original_envelope(mesh: AccountSessions) -> None:
    # Given the producer forwarding aws.glue events to central's bus, which allows it
    _create_bus(mesh, CENTRAL, allow=PRODUCER)
    producer_queue = capture_events(mesh, PRODUCER, {"source": ["aws.glue"]})
    _forward(mesh, PRODUCER, {"source": ["aws.glue"]}, _bus_arn(CENTRAL))
    central_queue = capture_events(mesh, CENTRAL, {"source": ["aws.glue"]}, bus=MESHGOV_BUS)

    # When a Glue change happens in the producer account
    mesh.client(PRODUCER, "glue").create_database(DatabaseInput={"Name": "sales"})

    # Then central receives the very same event: id, time, account and resources unchanged
    [original] = received(mesh, PRODUCER, producer_queue)
    [delivered] = received(mesh, CENTRAL, central_queue)
    assert delivered == original
    assert delivered["account"] == PRODUCER
    assert delivered["resources"] == [f"arn:aws:glue:{REGION}:{PRODUCER}:database/sales"]


def test_a_bus_only_receives_from_accounts_its_policy_allows(mesh: AccountSessions) -> None:
    # Given central's bus allowing only the consumer, and both members forwarding to it
    _create_bus(mesh, CENTRAL, allow=CONSUMER)
    for member in (PRODUCER, CONSUMER):
        _forward(mesh, member, {"source": ["meshgov.test"]}, _bus_arn(CENTRAL))
    central_queue = capture_events(mesh, CENTRAL, {"source": ["meshgov.test"]}, bus=MESHGOV_BUS)

    # When both members put an event
    _put(mesh, PRODUCER, "meshgov.test")
    consumer_id = _put(mesh, CONSUMER, "meshgov.test")

    # Then only the consumer's event arrived
    assert [(e["id"], e["account"]) for e in received(mesh, CENTRAL, central_queue)] == [
        (consumer_id, CONSUMER)
    ]


def test_an_organization_condition_allows_every_member(mesh: AccountSessions) -> None:
    # Given central's bus allowing principal * on condition of the organization id
    _create_bus(mesh, CENTRAL)
    mesh.client(CENTRAL, "events").put_permission(
        EventBusName=MESHGOV_BUS,
        Action="events:PutEvents",
        Principal="*",
        StatementId="organization",
        Condition={"Type": "StringEquals", "Key": "aws:PrincipalOrgID", "Value": "o-mesh"},
    )
    _forward(mesh, PRODUCER, {"source": ["meshgov.test"]}, _bus_arn(CENTRAL))
    central_queue = capture_events(mesh, CENTRAL, {"source": ["meshgov.test"]}, bus=MESHGOV_BUS)

    # When the producer puts an event
    event_id = _put(mesh, PRODUCER, "meshgov.test")

    # Then central receives it
    assert [e["id"] for e in received(mesh, CENTRAL, central_queue)] == [event_id]


def test_forwarding_is_one_hop(mesh: AccountSessions) -> None:
    # Given producer -> central's bus -> consumer's bus, every bus allowing its sender
    _create_bus(mesh, CENTRAL, allow=PRODUCER)
    _create_bus(mesh, CONSUMER, allow=CENTRAL)
    _forward(mesh, PRODUCER, {"source": ["meshgov.test"]}, _bus_arn(CENTRAL))
    _forward(
        mesh, CENTRAL, {"source": [{"prefix": "meshgov."}]}, _bus_arn(CONSUMER), bus=MESHGOV_BUS
    )
    central_queue = capture_events(mesh, CENTRAL, {"source": ["meshgov.test"]}, bus=MESHGOV_BUS)
    consumer_queue = capture_events(
        mesh, CONSUMER, {"source": [{"prefix": "meshgov."}]}, bus=MESHGOV_BUS
    )

    # When the producer puts an event, and central puts its own on its bus
    producer_id = _put(mesh, PRODUCER, "meshgov.test")
    central_id = _put(mesh, CENTRAL, "meshgov.central", bus=MESHGOV_BUS)

    # Then the producer's event stops at central; central's own event reaches the consumer
    assert [e["id"] for e in received(mesh, CENTRAL, central_queue)] == [producer_id]
    assert [(e["id"], e["account"]) for e in received(mesh, CONSUMER, consumer_queue)] == [
        (central_id, CENTRAL)
    ]


def test_prefix_on_source_and_or_patterns_match(mesh: AccountSessions) -> None:
    # Given a rule on a source prefix and a rule with $or
    prefix_queue = capture_events(
        mesh, PRODUCER, {"source": [{"prefix": "meshgov."}]}, name="prefix"
    )
    or_queue = capture_events(
        mesh,
        PRODUCER,
        {"$or": [{"source": ["aws.ram"]}, {"detail-type": ["Access Requested"]}]},
        name="either",
    )

    # When events from three sources are put
    meshgov_id = _put(mesh, PRODUCER, "meshgov.requests")
    other_id = _put(mesh, PRODUCER, "other.app")

    # Then the prefix rule matched meshgov.* only, the $or rule both (by detail-type)
    assert [e["id"] for e in received(mesh, PRODUCER, prefix_queue)] == [meshgov_id]
    assert [e["id"] for e in received(mesh, PRODUCER, or_queue)] == [meshgov_id, other_id]


def test_schedule_only_rules_match_no_events(mesh: AccountSessions) -> None:
    # Given a scheduled rule (no event pattern) targeting a queue
    sqs = mesh.client(PRODUCER, "sqs")
    url = sqs.create_queue(QueueName="sweep")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events = mesh.client(PRODUCER, "events")
    events.put_rule(Name="sweep", ScheduleExpression="rate(15 minutes)")
    events.put_targets(Rule="sweep", Targets=[{"Id": "q", "Arn": arn}])

    # When an event is put on the default bus
    _put(mesh, PRODUCER, "meshgov.test")

    # Then the scheduled rule did not receive it
    assert received(mesh, PRODUCER, url) == []


def test_lambda_targets_are_handed_to_the_target_listener(mesh: AccountSessions) -> None:
    # Given a rule targeting a Lambda function, and a target listener
    calls: list[tuple[str, str, dict[str, Any]]] = []
    controls.add_target_listener(lambda account, arn, event: calls.append((account, arn, event)))
    function_arn = f"arn:aws:lambda:{REGION}:{CENTRAL}:function:meshgov-propagate"
    events = mesh.client(CENTRAL, "events")
    events.put_rule(Name="propagate", EventPattern=json.dumps({"source": ["meshgov.test"]}))
    events.put_targets(Rule="propagate", Targets=[{"Id": "fn", "Arn": function_arn}])

    # When a matching event is put
    event_id = _put(mesh, CENTRAL, "meshgov.test")

    # Then PutEvents succeeded and the listener got the whole event for that function
    assert [(account, arn, event["id"]) for account, arn, event in calls] == [
        (CENTRAL, function_arn, event_id)
    ]
    assert calls[0][2]["account"] == CENTRAL


def test_a_forwarded_read_only_management_event_reaches_only_rules_asking_for_them(
    mesh: AccountSessions,
) -> None:
    # Given the producer forwarding Lake Formation's CloudTrail events to central's bus by a rule
    # in state ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS, and, on central's custom bus, one
    # rule in that state and one merely ENABLED
    all_management = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"
    pattern = {"source": ["aws.lakeformation"]}
    _create_bus(mesh, CENTRAL, allow=PRODUCER)
    _forward(mesh, PRODUCER, pattern, _bus_arn(CENTRAL))
    mesh.client(PRODUCER, "events").put_rule(
        Name="forward", EventPattern=json.dumps(pattern), State=all_management
    )
    asking = capture_events(mesh, CENTRAL, pattern, bus=MESHGOV_BUS, name="asking")
    plain = capture_events(mesh, CENTRAL, pattern, bus=MESHGOV_BUS, name="plain")
    mesh.client(CENTRAL, "events").put_rule(
        Name="asking",
        EventBusName=MESHGOV_BUS,
        EventPattern=json.dumps(pattern),
        State=all_management,
    )

    # When CloudTrail delivers a read-only GetDataAccess record on the producer's default bus
    record = {
        "eventSource": "lakeformation.amazonaws.com",
        "eventName": "GetDataAccess",
        "readOnly": True,
        "managementEvent": True,
        "eventID": "e-1",
    }
    events_backends[PRODUCER][REGION].put_events(
        [
            {
                "Source": "aws.lakeformation",
                "DetailType": "AWS API Call via CloudTrail",
                "Detail": json.dumps(record),
                "EventBusName": "default",
            }
        ]
    )

    # Then it is forwarded, and on central's custom bus only the rule asking for read-only
    # management events receives it (still one, from the producer's account)
    assert [(e["detail"]["eventID"], e["account"]) for e in received(mesh, CENTRAL, asking)] == [
        ("e-1", PRODUCER)
    ]
    assert received(mesh, CENTRAL, plain) == []
