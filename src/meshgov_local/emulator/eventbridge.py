"""EventBridge delivery as AWS documents it, where moto differs.

Followed documents:

- Event structure, https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-events-structure.html
  ("the following fields appear in all events delivered to an event bus"): an event carries
  ``version, id, detail-type, source, account, time, region, resources, detail`` (moto's default
  delivery template drops ``account``).
- Targets' input, https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html
  and https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_Target.html: without
  ``Input``, ``InputPath`` or ``InputTransformer`` the whole event is passed; ``Input`` passes a
  constant JSON text, ``InputPath`` a part of the event.
- Cross-account delivery, https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-account.html:
  the receiving bus must have a resource policy allowing the sending account (or its
  organization) to put events; "If a receiver account sets up a rule that sends events received
  from a sender account on to a third account, these events are not sent to the third account",
  and the same holds for bus-to-bus forwarding inside one account: forwarding is one hop. The
  event keeps its envelope (the same ``id``, ``time``, ``resources`` and the ``account`` it
  originated in), which is why meshgov's central account can trust ``account``. moto instead
  re-puts a new event in the receiving account.
- PutEvents to another account's bus,
  https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-bus-perms.html: "With a
  resource-based policy, you can allow PutEvents, PutRule, and PutTargets API calls from another
  account"; ``EventBusName`` takes "the name or ARN of the event bus"
  (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEventsRequestEntry.html).
  moto keeps only the name of an ARN and puts the event on the *caller's* bus of that name; here
  an entry naming another account's bus ARN is delivered to that bus when its policy allows the
  caller, and fails with ``AccessDeniedException`` otherwise. meshgov's central account re-publishes
  to the members' ``meshgov`` buses this way.
- Rule state, https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html:
  "DISABLED: The rule is disabled. EventBridge does not match any events against the rule."
  (moto still fires them). Rules with only a ``ScheduleExpression`` "self-trigger based on the given
  schedule" and match no events (moto treats their empty pattern as match-all).
- Read-only management events delivered through CloudTrail, "Receiving read-only management events
  from AWS services",
  https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail-management.html:
  a rule in state ``ENABLED`` matches events "except for read-only AWS management events delivered
  through CloudTrail"; only a rule in state ``ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS``
  matches them too (moto stores that state, and fired every enabled rule). Such an event is an
  ``AWS API Call via CloudTrail`` whose ``detail`` says ``readOnly`` and ``managementEvent``
  (the CloudTrail record, e.g. Lake Formation's ``GetDataAccess``, :mod:`.lakeformation_vending`).
  The page speaks of rules "on your default or custom event bus": an event forwarded to another
  account's custom bus is still such an event, so the receiving bus's rules need that state too
  (meshgov's ``UsageEventsRule`` on central's bus, after the members' forwarding rule).

moto's pattern matcher already supports ``prefix`` (also on ``source``) and ``$or``
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html); the
tests pin that. Lambda, SNS and Step Functions targets cannot run here: matched events are handed
to :meth:`EmulatorControls.notify_target` instead of failing ``PutEvents``.
"""

from __future__ import annotations

import contextvars
import copy
import json
import logging
import uuid
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.core.utils import unix_time
from moto.events.models import EventsBackend, Rule, events_backends
from moto.utilities.arns import parse_arn

from ._patching import original, patch_attr
from .controls import controls

LOGGER = logging.getLogger(__name__)

ENVELOPE = (
    "version",
    "id",
    "detail-type",
    "source",
    "account",
    "time",
    "region",
    "resources",
    "detail",
)
UNSUPPORTED_TARGET_SERVICES = ("lambda", "sns", "states")
CLOUDTRAIL_DETAIL_TYPE = "AWS API Call via CloudTrail"
ALL_MANAGEMENT_EVENTS = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"

# True while an event that arrived through a bus target is being delivered (one hop only).
_FORWARDED: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "meshgov_forwarded_event", default=False
)


def envelope(event: dict[str, Any]) -> dict[str, Any]:
    """The event as EventBridge delivers it to a target."""
    return {key: copy.deepcopy(event[key]) for key in ENVELOPE if key in event}


def target_input(target: dict[str, Any], event: dict[str, Any]) -> Any:
    """What a target without ``InputTransformer`` receives."""
    if target.get("Input") is not None:
        return json.loads(target["Input"])
    if target.get("InputPath"):
        from jsonpath_ng.ext.parser import parse  # a dependency of moto's events

        matches = parse(target["InputPath"]).find(envelope(event))
        return matches[0].value if matches else None
    return envelope(event)


def _statement_principal_allows(principal: Any, account_id: str) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    values = principal.get("AWS")
    for value in values if isinstance(values, list) else [values]:
        if value in ("*", account_id, f"arn:aws:iam::{account_id}:root", "arn:aws:iam::*:root"):
            return True
    return False


def _statement_action_allows(action: Any) -> bool:
    actions = action if isinstance(action, list) else [action]
    return any(str(item).lower() in ("events:putevents", "events:*", "*") for item in actions)


def _statement_condition_allows(condition: Any, account_id: str) -> bool:
    if not condition:
        return True
    for clauses in condition.values():
        for key, expected in (clauses or {}).items():
            name = str(key).lower()
            if name == "aws:principalorgid":
                continue  # one organization holds every emulated account
            wanted = expected if isinstance(expected, list) else [expected]
            if name == "aws:principalaccount" and account_id in wanted:
                continue
            return False
    return True


def bus_policy_allows(bus: Any, sender_account: str) -> bool:
    """Whether ``bus``'s resource policy lets ``sender_account`` put events on it."""
    if bus.account_id == sender_account:
        return True
    allowed = False
    for statement in bus._statements.values():
        described = statement.describe()
        if not _statement_action_allows(described.get("Action")):
            continue
        if not _statement_principal_allows(described.get("Principal"), sender_account):
            continue
        if not _statement_condition_allows(described.get("Condition"), sender_account):
            continue
        if described.get("Effect", "Allow") == "Deny":
            return False
        allowed = True
    return allowed


def forward_to_bus(rule: Any, target_arn: str, event: dict[str, Any]) -> None:
    """Deliver ``event`` unchanged to the bus ``target_arn`` (one hop, policy permitting)."""
    if _FORWARDED.get():
        LOGGER.info("event %s not forwarded again to %s (one hop only)", event["id"], target_arn)
        return
    arn = parse_arn(target_arn)
    bus_name = arn.resource_id
    receiver = events_backends[arn.account][arn.region]
    bus = receiver.event_buses.get(bus_name)
    if bus is None:
        LOGGER.warning("event bus %s does not exist; event %s dropped", target_arn, event["id"])
        return
    if not bus_policy_allows(bus, rule.account_id):
        LOGGER.warning(
            "bus %s does not allow account %s; event %s dropped",
            target_arn,
            rule.account_id,
            event["id"],
        )
        return
    token = _FORWARDED.set(True)
    try:
        for receiving_rule in list(bus.rules.values()):
            receiving_rule.send_to_targets(copy.deepcopy(event))
    finally:
        _FORWARDED.reset(token)


def _send_with_moto(rule: Any, target: dict[str, Any], event: Any, transform: bool) -> None:
    single = copy.copy(rule)
    single.targets = [target]
    original(Rule, "send_to_targets")(single, event, transform)


def read_only_management_event(event: Any) -> bool:
    """Whether ``event`` is a read-only management event CloudTrail delivered (module doc)."""
    detail = event.get("detail") if isinstance(event, dict) else None
    return (
        isinstance(detail, dict)
        and event.get("detail-type") == CLOUDTRAIL_DETAIL_TYPE
        and detail.get("readOnly") is True
        and detail.get("managementEvent") is True
    )


def send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
    if self.state == "DISABLED":
        return
    if self.state != ALL_MANAGEMENT_EVENTS and read_only_management_event(original_event):
        return
    if self.scheduled_expression and not self.event_pattern.get_pattern():
        return
    if not self.event_pattern.matches_event(original_event):
        return
    for target in list(self.targets):
        arn = parse_arn(target["Arn"])
        if arn.service == "events" and arn.resource_type == "event-bus":
            forward_to_bus(self, target["Arn"], original_event)
        elif arn.service in UNSUPPORTED_TARGET_SERVICES:
            controls.notify_target(self.account_id, target["Arn"], envelope(original_event))
        elif target.get("InputTransformer") or not transform_input:
            _send_with_moto(self, target, original_event, transform_input)
        elif arn.service == "sqs":
            group_id = (target.get("SqsParameters") or {}).get("MessageGroupId")
            self._send_to_sqs_queue(arn.resource_id, target_input(target, original_event), group_id)
        elif arn.service == "logs" and arn.resource_type == "log-group":
            self._send_to_cw_log_group(arn.resource_id, target_input(target, original_event))
        else:
            _send_with_moto(self, target, original_event, transform_input)


def _foreign_bus(backend: Any, bus_name: Any) -> Any | None:
    """The ARN (parsed) of an entry's bus when it belongs to another account or Region."""
    if not isinstance(bus_name, str) or not bus_name.startswith("arn:"):
        return None
    arn = parse_arn(bus_name)
    if arn.account == backend.account_id and arn.region == backend.region_name:
        return None
    return arn


def put_events(self: Any, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Entries naming another account's bus go there (policy permitting); the rest as moto does."""
    foreign = [e for e in events if _foreign_bus(self, e.get("EventBusName"))]
    if not foreign:
        return list(original(EventsBackend, "put_events")(self, events))
    if len(events) > 10:
        return list(original(EventsBackend, "put_events")(self, events))  # moto's own error
    results: list[dict[str, Any]] = []
    for entry in events:
        arn = _foreign_bus(self, entry.get("EventBusName"))
        if arn is None:
            results.extend(original(EventsBackend, "put_events")(self, [entry]))
            continue
        results.append(_put_on_foreign_bus(self, arn, entry))
    return results


def _put_on_foreign_bus(sender: Any, arn: Any, entry: dict[str, Any]) -> dict[str, Any]:
    receiver = events_backends[arn.account][arn.region]
    bus = receiver.event_buses.get(arn.resource_id)
    if bus is None:
        return {"ErrorCode": "ResourceNotFoundException", "ErrorMessage": "Event bus not found."}
    if not bus_policy_allows(bus, sender.account_id):
        error = JsonRESTError(
            "AccessDeniedException",
            f"User: arn:aws:iam::{sender.account_id}:root is not authorized to perform: "
            f"events:PutEvents on resource: {entry['EventBusName']}",
        )
        raise error
    try:
        detail = json.loads(entry.get("Detail") or "")
    except ValueError:
        return {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}
    event_id = str(uuid.uuid4())
    event = {
        "version": "0",
        "id": event_id,
        "detail-type": entry.get("DetailType"),
        "source": entry.get("Source"),
        "account": sender.account_id,
        "time": unix_time(),  # moto's own events carry epoch seconds until delivered
        "region": sender.region_name,
        "resources": entry.get("Resources", []),
        "detail": detail,
    }
    for rule in list(bus.rules.values()):
        rule.send_to_targets(copy.deepcopy(event))
    return {"EventId": event_id}


def install() -> None:
    patch_attr(Rule, "send_to_targets", send_to_targets)
    patch_attr(EventsBackend, "put_events", put_events)
