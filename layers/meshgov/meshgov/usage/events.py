"""A forwarded CloudTrail ``GetDataAccess`` record, read as one data access to count (pure).

Lake Formation writes a ``GetDataAccess`` management event each time it vends credentials to an
integrated engine for a table, in the account of the principal that asked; EventBridge delivers it
to that account's default bus as ``AWS API Call via CloudTrail`` (a read-only management event,
for rules in state ``ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS``,
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail-management.html)
and the member's rule forwards it to central's bus with its envelope unchanged, the envelope's
``account`` being the account it happened in
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-account.html). Record fields:
https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html.

Through a resource link, one vending leaves the consumer TWO records
(src/meshgov_local/emulator/lakeformation_vending.py):

- the **link access**: ``requestParameters.tableArn`` in the consumer's own catalog
  (``arn:…:glue:<region>:<consumer>:table/<link db>/<table>``), ``userIdentity`` the role session,
  ``additionalEventData.lakeFormationPrincipal`` the role ARN. meshgov names every consumer link
  like the central database it targets, so ``<link db>.<table>`` is the central table. This one is
  counted.
- the **target access**: ``tableArn`` in central's catalog, ``userIdentity`` the account, the
  principal named only if the consumer lists central in ``TrustedResourceOwners``. It is the same
  vending seen from the shared table's side: counting it too would count every read twice, and it
  may not even name who read. It is skipped (:class:`Twin`), neither counted nor refused.

Everything else is refused with a code, audited by the service, and never counted:
``UsageMalformed`` (not such a record, or missing what a count needs; a failed call),
``UsageForged`` (the principal, the caller or the catalog is not of the account that forwarded
the event: a member can only report its own principals' reads of its own links), ``UsageTooOld``
(older than the retention window: its day's item may be gone already). ``UsageNotPublished`` is
decided by the service against central's catalog (:mod:`meshgov.usage.service`).

A time ahead of the function's clock is not refused: CloudTrail stamps ``eventTime``, no account
can put an ``aws.*`` event on a bus itself (``NotAuthorizedForSourceException``,
https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEventsResultEntry.html), and
the local mesh's emulated clock runs ahead of the wall clock when tests let time pass.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from meshgov.usage.model import UsageEvent, stamp

SOURCE = "aws.lakeformation"
DETAIL_TYPE = "AWS API Call via CloudTrail"
EVENT_SOURCE = "lakeformation.amazonaws.com"
EVENT_NAME = "GetDataAccess"

ACCOUNT = re.compile(r"^\d{12}$")
TABLE_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):glue:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"table/(?P<database>[^/]+)/(?P<table>[^/]+)$"
)
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(?P<account>\d{12}):role/.+$")

MALFORMED = "UsageMalformed"
FORGED = "UsageForged"
NOT_PUBLISHED = "UsageNotPublished"
TOO_OLD = "UsageTooOld"


@dataclass(frozen=True)
class Refusal:
    """An event that is not counted, and why (audited as REFUSED)."""

    code: str
    reason: str
    event_id: str = ""  # the envelope's id, when there is one
    account: str = ""  # the forwarding account, when known
    table: str = ""
    principal: str = ""


@dataclass(frozen=True)
class Twin:
    """The target-access record of a vending already counted through its link access."""

    event_id: str


Parsed = UsageEvent | Refusal | Twin


def parse(event: Any, central_account: str, now: datetime, retention_days: int) -> Parsed:
    """One forwarded EventBridge event: the access to count, the twin to skip, or a refusal."""
    if not isinstance(event, Mapping):
        return Refusal(MALFORMED, "the event is not a JSON object")
    envelope_id = _text(event.get("id"))
    account = _text(event.get("account"))
    detail = event.get("detail")

    def refused(code: str, reason: str, **about: str) -> Refusal:
        return Refusal(code, reason, envelope_id, account, **about)

    if (event.get("source"), event.get("detail-type")) != (SOURCE, DETAIL_TYPE):
        return refused(MALFORMED, f"not a {SOURCE} CloudTrail event")
    if not ACCOUNT.match(account):
        return refused(MALFORMED, "the envelope names no account")
    if not isinstance(detail, Mapping):
        return refused(MALFORMED, "the event has no CloudTrail record")
    if (detail.get("eventSource"), detail.get("eventName")) != (EVENT_SOURCE, EVENT_NAME):
        return refused(MALFORMED, f"not a {EVENT_NAME} record")
    if detail.get("errorCode"):
        return refused(MALFORMED, f"a refused call ({detail['errorCode']}) vends no data")
    event_id = _text(detail.get("eventID"))
    if not event_id:
        return refused(MALFORMED, "the record has no eventID")
    at = _time(detail.get("eventTime"))
    if at is None:
        return refused(MALFORMED, f"eventTime {detail.get('eventTime')!r} is not ISO 8601 UTC")
    table_arn = _text(_mapping(detail.get("requestParameters")).get("tableArn"))
    found = TABLE_ARN.match(table_arn)
    if found is None:
        return refused(MALFORMED, f"tableArn {table_arn!r} is not a Glue table ARN")
    table = f"{found['database']}.{found['table']}"
    if found["account"] == central_account and account != central_account:
        return Twin(event_id)
    extra = _mapping(detail.get("additionalEventData"))
    principal = _text(extra.get("lakeFormationPrincipal")) or _session_issuer(detail)
    role = ROLE_ARN.match(principal)
    if role is None:
        return refused(MALFORMED, "the record names no role", table=table)
    identity = _mapping(detail.get("userIdentity"))
    foreign = [
        f"{what} {value}"
        for what, value in (
            ("principal of account", role["account"]),
            ("caller of account", _text(identity.get("accountId"))),
            ("recipient account", _text(detail.get("recipientAccountId"))),
            ("catalog of account", found["account"]),
        )
        if value != account
    ]
    if foreign:
        return refused(
            FORGED,
            f"account {account} forwarded a data access of another account ({', '.join(foreign)})",
            table=table,
            principal=principal,
        )
    if at < now - timedelta(days=retention_days):
        return refused(
            TOO_OLD,
            f"eventTime {stamp(at)} is older than the {retention_days}-day retention window",
            table=table,
            principal=principal,
        )
    return UsageEvent(
        event_id=event_id,
        table=table,
        principal=principal,
        consumer_account=account,
        at=at,
        engine=_text(extra.get("requesterService")),
    )


def _session_issuer(detail: Mapping[str, Any]) -> str:
    identity = _mapping(detail.get("userIdentity"))
    issuer = _mapping(_mapping(identity.get("sessionContext")).get("sessionIssuer"))
    return _text(issuer.get("arn")) if issuer.get("type") == "Role" else ""


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.endswith("Z"):
        return None
    try:
        moment = datetime.fromisoformat(value[:-1] + "+00:00")
    except ValueError:
        return None
    return moment.astimezone(UTC)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
