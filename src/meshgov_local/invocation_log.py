"""What ``meshgov mesh up`` prints for each invocation: which function, in which account, did what.

The changes are read back from the central audit trail after each invocation, and the trail
says who wrote each record (its ``actor``), which is not always the function that just ran:

- a member's access function (``MemberAccessFunction`` of the producer or the consumer) writes
  nothing centrally: it reports its actions to central, whose ``AccessRequestsFunction`` records
  them later as ``member:<account>``. Those records are the member's, in *its* account — shown as
  ``MemberAccessFunction [<account>] reported``, never as central's doing;
- records of another process (``meshgov dlq replay``, ``meshgov decide``...), written between two
  invocations, carry their own actor (``operator:<arn>``): shown as such, not as the sweep's;
- a member invocation itself is therefore summed up by what it returned, not as "no change".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from meshgov.audit import AuditRecord
from meshgov_local.observe import describe_changes

MEMBER_ACTOR = "member:"
OPERATOR_ACTOR = "operator:"
MEMBER_FUNCTION = "MemberAccessFunction"
OPERATOR = "operator"


@dataclass(frozen=True)
class HandlerResult:
    """One line of the ``mesh up`` log: an invocation (or what a member reported, or what
    another process did), as text and as one JSON object."""

    at: datetime
    function: str
    summary: str
    failed: bool = False
    account: str = ""
    account_name: str = ""  # the account's profile: central, producer, consumer
    # True: the member's actions, as central recorded its report (after the member ran).
    reported: bool = False
    records: tuple[AuditRecord, ...] = field(default=(), compare=False)

    @property
    def where(self) -> str:
        """``[producer 222222222222]``, or '' when the account is not known."""
        if not self.account:
            return ""
        return f"[{self.account_name} {self.account}]" if self.account_name else f"[{self.account}]"

    def text(self) -> str:
        """The line without its time: function, account, what it did."""
        head = " ".join(bit for bit in (self.function, self.where) if bit)
        return f"{head} {self.summary}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "event": "invocation",
            "at": self.at.isoformat(),
            "function": self.function,
            "account": self.account,
            "account_name": self.account_name,
            "reported": self.reported,
            "failed": self.failed,
            "summary": self.summary,
            "records": [record.as_dict() for record in self.records],
        }


def _member_result_summary(result: Any) -> str:
    """A member invocation's own words: it writes its actions to central, not to the trail."""
    if isinstance(result, Mapping) and "actions" in result:
        count = int(result.get("actions") or 0)
        if not count:
            return "nothing to answer"
        return f"{count} action(s), reported to central (shown when central records them)"
    failures = result.get("batchItemFailures") if isinstance(result, Mapping) else None
    handled = "handled its messages" if not failures else "handled part of its messages"
    return f"{handled}; its actions are reported to central (shown when central records them)"


def attribute(
    at: datetime,
    function: str,
    account: str,
    records: Sequence[AuditRecord],
    accounts: Mapping[str, str],
    *,
    central: str,
    result: Any = None,
    note: str = "",
    failed: bool = False,
) -> list[HandlerResult]:
    """The log lines of one invocation of ``function`` in ``account`` that returned ``result``,
    given the audit records that appeared meanwhile. ``accounts``: account id -> profile name.

    ``function`` may be empty (records that appeared while nothing ran): then only the records'
    own writers get lines."""
    own: list[AuditRecord] = []
    members: dict[str, list[AuditRecord]] = {}
    operators: dict[str, list[AuditRecord]] = {}
    for record in records:
        actor = record.entry.actor
        if actor.startswith(MEMBER_ACTOR):
            members.setdefault(actor[len(MEMBER_ACTOR) :], []).append(record)
        elif actor.startswith(OPERATOR_ACTOR):
            operators.setdefault(actor[len(OPERATOR_ACTOR) :], []).append(record)
        else:
            own.append(record)
    lines: list[HandlerResult] = []
    if function:
        if own or account == central:
            summary = describe_changes(own)
        else:
            summary = _member_result_summary(result)
        if note:
            summary += note
        lines.append(
            HandlerResult(
                at,
                function,
                summary,
                failed,
                account,
                accounts.get(account, ""),
                records=tuple(own),
            )
        )
    elif own:
        lines.append(
            HandlerResult(at, "(outside mesh up)", describe_changes(own), records=tuple(own))
        )
    for member, group in members.items():
        lines.append(
            HandlerResult(
                at,
                MEMBER_FUNCTION,
                f"reported: {describe_changes(group)}",
                any(r.entry.outcome.value == "FAILED" for r in group),
                member,
                accounts.get(member, ""),
                reported=True,
                records=tuple(group),
            )
        )
    for operator, group in operators.items():
        lines.append(
            HandlerResult(
                at, f"{OPERATOR} {operator}", describe_changes(group), records=tuple(group)
            )
        )
    return lines
