"""What usage says, the pure part: per (principal, table) totals over a range of days, and the
last use of a grant.

Built from the items of the usage store (:class:`meshgov.usage.store.UsageDay`, one per
principal, central table and UTC day); ``meshgov usage``, ``posture`` and ``find`` read the store
and hand the items here. Days are ``YYYY-MM-DD`` (UTC), as the store keys them; times are the
store's ISO 8601 UTC texts, which compare as text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from meshgov.contracts.access_events import ROLE_ARN
from meshgov.errors import MeshgovError
from meshgov.usage.store import UsageDay

DEFAULT_DAYS = 30
NEVER = "never"
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ACCOUNT = re.compile(r"^\d{12}$")
_ROLE = re.compile(ROLE_ARN)


class UsageQueryError(MeshgovError):
    """A question that cannot be answered: a range of days not ``YYYY-MM-DD`` or ending before it
    starts, a table not ``db.table``, a principal not a role ARN, an account not 12 digits."""


@dataclass(frozen=True)
class UsageQuery:
    """Whose use of what: every part given must hold (AND); at least one is needed (the store
    is read by table, by principal or by account, never scanned)."""

    table: str | None = None  # "db.table" of the central catalog
    principal: str | None = None  # a role ARN
    account: str | None = None  # the consumer account of the principals
    domain: str | None = None  # a producer domain: its central tables (resolved by the caller)

    def __post_init__(self) -> None:
        if not any((self.table, self.principal, self.account, self.domain)):
            raise UsageQueryError("say whose usage: --table, --principal, --account or --domain")
        if self.table is not None:
            database, dot, name = self.table.partition(".")
            if not dot or not database.strip() or not name.strip():
                raise UsageQueryError(f"--table must be database.table, got {self.table!r}")
        role = _ROLE.match(self.principal) if self.principal is not None else None
        if self.principal is not None and role is None:
            raise UsageQueryError(f"--principal must be an IAM role ARN, got {self.principal!r}")
        if self.account is not None and not _ACCOUNT.match(self.account):
            raise UsageQueryError(f"--account must be a 12-digit account id, got {self.account!r}")
        if role is not None and self.account is not None and role.group(1) != self.account:
            raise UsageQueryError(
                f"--principal {self.principal} is not in --account {self.account}"
            )
        if self.domain is not None and not self.domain.strip():
            raise UsageQueryError("--domain must not be empty")

    def keeps(self, item: UsageDay, domain_tables: Iterable[str] | None = None) -> bool:
        """Whether an item read by one part of the query holds for the others too
        (``domain_tables``: the tables of :attr:`domain`, when it is given)."""
        if self.table is not None and item.table != self.table:
            return False
        if self.principal is not None and item.principal != self.principal:
            return False
        if self.account is not None and item.consumer_account != self.account:
            return False
        return domain_tables is None or item.table in set(domain_tables)


@dataclass(frozen=True)
class DayRange:
    """From ``since`` to ``until``, both included (UTC days)."""

    since: str
    until: str

    @classmethod
    def last(cls, today: date, days: int = DEFAULT_DAYS) -> DayRange:
        """The last ``days`` days, today included (``days=30``: today and the 29 before)."""
        return cls((today - timedelta(days=days - 1)).isoformat(), today.isoformat())

    @classmethod
    def of(cls, since: str | None, until: str | None, today: date) -> DayRange:
        """``--since``/``--until`` as given; ``until`` defaults to today and ``since`` to 29 days
        before ``until`` (the last 30 days)."""
        end = _day(until, "--until") if until else today
        start = _day(since, "--since") if since else end - timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            raise UsageQueryError(f"--since {start} is after --until {end}")
        return cls(start.isoformat(), end.isoformat())


# Every day the store may hold: its TTL (the retention window) is the only bound.
EVERY_DAY = DayRange("0001-01-01", "9999-12-31")


def _day(text: str, option: str) -> date:
    if not _ISO_DAY.match(text.strip()):
        raise UsageQueryError(f"{option} must be an ISO date (YYYY-MM-DD), got {text!r}")
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise UsageQueryError(f"{option} is not a date: {text!r} ({exc})") from exc


@dataclass(frozen=True)
class UsageRow:
    """A principal's use of one central table over the range."""

    principal: str
    table: str
    consumer_account: str
    reads: int
    first_use: str
    last_use: str
    engines: tuple[str, ...]
    days_used: int


@dataclass(frozen=True)
class UsageSummary:
    since: str
    until: str
    rows: tuple[UsageRow, ...]

    @property
    def totals(self) -> dict[str, int]:
        return {
            "reads": sum(r.reads for r in self.rows),
            "principals": len({r.principal for r in self.rows}),
            "tables": len({r.table for r in self.rows}),
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "since": self.since,
            "until": self.until,
            "totals": self.totals,
            "usage": [json.loads(json.dumps(asdict(r))) for r in self.rows],
        }


def summarize(days: Iterable[UsageDay], span: DayRange) -> UsageSummary:
    """Per (principal, table): reads summed, the earliest first use, the latest last use, every
    engine and the number of days with a read, over the items within ``span`` (items outside it
    are left out, so a caller may hand more than it asked for). Sorted by principal, then table."""
    groups: dict[tuple[str, str], list[UsageDay]] = {}
    seen: set[tuple[str, str, str]] = set()
    for item in days:
        if not span.since <= item.day <= span.until:
            continue
        if (item.principal, item.table, item.day) in seen:  # the same item read twice
            continue
        seen.add((item.principal, item.table, item.day))
        groups.setdefault((item.principal, item.table), []).append(item)
    rows = [
        UsageRow(
            principal=principal,
            table=table,
            consumer_account=items[0].consumer_account,
            reads=sum(i.reads for i in items),
            first_use=min(i.first_use for i in items),
            last_use=max(i.last_use for i in items),
            engines=tuple(sorted({e for i in items for e in i.engines})),
            days_used=len({i.day for i in items}),
        )
        for (principal, table), items in sorted(groups.items())
    ]
    return UsageSummary(span.since, span.until, tuple(rows))


def consumers(days: Iterable[UsageDay]) -> tuple[str, ...]:
    """The distinct principals that read, sorted."""
    return tuple(sorted({item.principal for item in days}))


def latest_by_table(days: Iterable[UsageDay]) -> dict[str, str]:
    """table -> the latest last use among ``days`` (e.g. every principal of an account)."""
    latest: dict[str, str] = {}
    for item in days:
        latest[item.table] = max(item.last_use, latest.get(item.table, item.last_use))
    return latest


def last_use(used: Mapping[str, str], tables: Iterable[str]) -> str:
    """The latest of ``used`` (table -> last use) over ``tables``; :data:`NEVER` when none."""
    found = [used[t] for t in tables if t in used]
    return max(found) if found else NEVER
