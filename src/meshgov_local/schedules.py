"""The scheduled functions of template.yaml, as ``meshgov mesh up`` runs them.

One home: the list is read from the template (every ``AWS::Serverless::Function`` with an event of
``Type: Schedule``) and from the deployment (which accounts hold the function, the expression its
parameter resolved to). A schedule is named by the template parameter its expression comes from
(``SweepSchedule``, ``AccessSweepSchedule``, ``AuditDigestSchedule``,
``InvitationSweepSchedule``), else by its function's logical id; a member function's schedule runs
in every member account.

Rate expressions are ``rate(value unit)``: a positive whole number, ``minute``/``minutes``,
``hour``/``hours``, ``day``/``days``, singular exactly when the value is 1
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rate-expressions.html). ``mesh up``
runs each rate-scheduled function ``scale`` times as often as the template says; a ``cron(...)``
schedule has no fixed period, so it runs only when asked (``meshgov mesh run-schedule``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from meshgov_local.deploy import Deployment
from meshgov_local.template import Template

_RATE = re.compile(r"^rate\((?P<value>[1-9][0-9]*) (?P<unit>minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_DURATION = re.compile(r"(?P<value>[0-9]+(?:\.[0-9]+)?)(?P<unit>[smhd])")
_DURATION_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# Longer than any expiry, review or retention meshgov knows (UsageRetentionDays max 3650).
MAX_DURATION_SECONDS = 3660 * 86400


class ScheduleError(ValueError):
    """A schedule or duration that cannot be used (unknown name, malformed text)."""


@dataclass(frozen=True)
class Schedule:
    """One scheduled function of the template, in the accounts whose stack holds it."""

    name: str  # the template parameter (e.g. "AccessSweepSchedule"), else the function's id
    function: str  # the function's logical id
    expression: str  # as deployed, e.g. "rate(1 hour)"
    accounts: tuple[str, ...]

    @property
    def period(self) -> float | None:
        """Seconds between two runs on AWS; None for an expression with no fixed period."""
        return rate_seconds(self.expression)

    def every(self, scale: float) -> float | None:
        """Seconds between two runs in ``mesh up`` (``scale`` times as often); None: never."""
        period = self.period
        return None if period is None or scale <= 0 else period / scale


def rate_seconds(expression: str) -> float | None:
    """The period of a ``rate(...)`` expression in seconds; None for ``cron(...)``/``at(...)``.

    Raises ScheduleError for a malformed rate (``rate(1 hours)``, ``rate(0 minutes)``).
    """
    text = expression.strip()
    if not text.startswith("rate("):
        return None
    match = _RATE.match(text)
    if match is None:
        raise ScheduleError(f"not a rate expression: {expression!r}")
    value, unit = int(match["value"]), match["unit"]
    if (value == 1) != (not unit.endswith("s")):
        raise ScheduleError(f"{expression!r}: the unit is singular exactly when the value is 1")
    return float(value * _UNIT_SECONDS[unit.rstrip("s")])


def schedules_of(template: Template, deployment: Deployment) -> list[Schedule]:
    """Every scheduled function the deployment holds, in template order."""
    found = []
    for spec in template.functions():
        if spec.schedule is None:
            continue
        bindings = [
            b for b in deployment.all_functions() if b.logical_id == spec.logical_id and b.schedule
        ]
        if not bindings:
            continue  # a function of the other stack role's condition
        reference = spec.schedule.get("Ref") if isinstance(spec.schedule, Mapping) else None
        found.append(
            Schedule(
                name=str(reference or spec.logical_id),
                function=spec.logical_id,
                expression=str(bindings[0].schedule),
                accounts=tuple(b.account_id or deployment.central_account for b in bindings),
            )
        )
    return found


def find_schedule(schedules: Sequence[Schedule], name: str) -> Schedule:
    """The schedule called ``name`` (its parameter or its function's logical id)."""
    for schedule in schedules:
        if name in (schedule.name, schedule.function):
            return schedule
    known = ", ".join(s.name for s in schedules) or "none"
    raise ScheduleError(f"no schedule {name!r} in template.yaml (schedules: {known})")


def parse_duration(text: str) -> float:
    """Seconds in a duration such as ``25h``, ``90m``, ``7d``, ``1d12h`` or ``30s``.

    Raises ScheduleError for anything else (no unit, a negative or zero duration, other text)."""
    compact = text.strip().lower()
    position, total = 0, 0.0
    for match in _DURATION.finditer(compact):
        if match.start() != position:
            break
        total += float(match["value"]) * _DURATION_SECONDS[match["unit"]]
        position = match.end()
    if not compact or position != len(compact):
        raise ScheduleError(
            f"not a duration: {text!r} (a number and a unit s, m, h or d, e.g. 25h, 90m, 7d, 1d12h)"
        )
    if total <= 0:
        raise ScheduleError(f"{text!r}: the clock only moves forward, by more than nothing")
    if total > MAX_DURATION_SECONDS:
        raise ScheduleError(f"{text!r}: more than {MAX_DURATION_SECONDS // 86400} days at once")
    return total
