"""An OpenLineage run event put on central's bus by a member's job, read as edges to keep (pure).

The event: source :data:`SOURCE`, detail-type :data:`DETAIL_TYPE`, detail = the OpenLineage
``RunEvent`` (https://openlineage.io/docs/spec/object-model). A member puts it on its own
default bus; its ``ForwardMeshgovEventsRule`` (``source`` prefix ``meshgov.``) forwards it to
central's bus with the envelope unchanged, ``account`` being the account it was put in
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-account.html): the only
sender identity meshgov trusts.

A run says: its job read each input and wrote each output. Kept as edges ``input -> job`` and
``job -> output`` (:class:`LineageRun`). Refused, audited, nothing stored:

- ``LineageMalformed``: not such an event, or a detail openlineage-python's models refuse
  (:mod:`meshgov.lineage.openlineage_models`).
- ``LineageTooLarge``: more than :data:`MAX_DATASETS` datasets, or a node name longer than
  :data:`MAX_NODE_CHARS` (a node is a DynamoDB sort key, at most 1,024 bytes:
  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html). 100
  datasets are 200 items, 8 ``BatchWriteItem`` calls of 25.
- ``LineageForeignOutput``: an output that is not a Glue table of the sending account
  (:mod:`meshgov.lineage.nodes`): a job may say what it read from anyone, but it can only claim
  to have written its own account's tables; another producer's table, a central table, or a
  dataset whose owner its name does not show (an S3 path) is refused, the whole event with it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from meshgov.lineage import nodes
from meshgov.lineage.openlineage_models import RunEventInvalidError, run_event

SOURCE = "meshgov.lineage"
DETAIL_TYPE = "OpenLineage Run Event"

MALFORMED = "LineageMalformed"
TOO_LARGE = "LineageTooLarge"
FOREIGN_OUTPUT = "LineageForeignOutput"

MAX_DATASETS = 100
MAX_NODE_CHARS = 512
ACCOUNT = re.compile(r"^\d{12}$")


@dataclass(frozen=True)
class Refusal:
    """An event not recorded, and why (audited as REFUSED)."""

    code: str
    reason: str
    event_id: str = ""
    account: str = ""
    job: str = ""


@dataclass(frozen=True)
class LineageRun:
    """What one run event says, as nodes."""

    event_id: str
    account: str  # the sending account (the envelope's)
    run_id: str
    event_type: str
    event_time: str
    job: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]

    @property
    def edges(self) -> list[tuple[str, str]]:
        """``(from, to)``: each input to the job, the job to each output."""
        return [(i, self.job) for i in self.inputs] + [(self.job, o) for o in self.outputs]


def parse(body: str) -> LineageRun | Refusal:
    """The SQS message body (a forwarded EventBridge event): the run to record, or a refusal."""
    try:
        event = json.loads(body)
    except ValueError:
        return Refusal(MALFORMED, "the message is not JSON")
    if not isinstance(event, Mapping):
        return Refusal(MALFORMED, "the event is not a JSON object")
    event_id, account = _text(event.get("id")), _text(event.get("account"))

    def refused(code: str, reason: str, job: str = "") -> Refusal:
        return Refusal(code, reason, event_id, account, job)

    if (event.get("source"), event.get("detail-type")) != (SOURCE, DETAIL_TYPE):
        return refused(MALFORMED, f"not a {SOURCE} {DETAIL_TYPE!r} event")
    if not ACCOUNT.match(account):
        return refused(MALFORMED, "the envelope names no account")
    detail = event.get("detail")
    counted = _count(detail)
    if counted > MAX_DATASETS:
        return refused(TOO_LARGE, f"{counted} datasets; at most {MAX_DATASETS} per run event")
    try:
        run = run_event(detail)
    except RunEventInvalidError as exc:
        return refused(MALFORMED, str(exc))
    job = nodes.job_node(run.job.namespace, run.job.name)
    inputs = tuple(dict.fromkeys(nodes.dataset_node(d.namespace, d.name) for d in run.inputs))
    outputs = tuple(dict.fromkeys(nodes.dataset_node(d.namespace, d.name) for d in run.outputs))
    longest = max((job, *inputs, *outputs), key=len)
    if len(longest) > MAX_NODE_CHARS:
        return refused(
            TOO_LARGE, f"a name of {len(longest)} characters; at most {MAX_NODE_CHARS}", job
        )
    foreign = [
        nodes.dataset_node(d.namespace, d.name)
        for d in run.outputs
        if nodes.dataset_account(d.namespace, d.name) != account
    ]
    if foreign:
        return refused(
            FOREIGN_OUTPUT,
            f"account {account} may only name Glue tables of its own account as outputs "
            f"(namespace arn:aws:glue:<region>:{account}, name table/<database>/<table>), "
            f"not {', '.join(sorted(foreign))}",
            job,
        )
    return LineageRun(
        event_id=event_id,
        account=account,
        run_id=run.run.runId,
        event_type=run.eventType.value if run.eventType is not None else "",
        event_time=run.eventTime,
        job=job,
        inputs=inputs,
        outputs=outputs,
    )


def _count(detail: Any) -> int:
    if not isinstance(detail, Mapping):
        return 0
    return sum(len(v) for v in (detail.get("inputs"), detail.get("outputs")) if isinstance(v, list))


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
